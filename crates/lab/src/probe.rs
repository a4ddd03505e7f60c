//! `ping` and `traceroute` as clock-free state machines over a `Stack`'s echo
//! sockets: the lab drives them on its virtual clock, the daemon on the real
//! one, and both print what FreeBSD's ping(8) and Linux's traceroute print.

use core::time::Duration;
use std::fmt::Write as _;
use std::net::IpAddr;
use via6_core::echo::{EchoEvent, EchoRequest};
use via6_core::{IfIndex, Instant, Stack};

/// The text FreeBSD's ping prints for an ICMP error.
pub fn icmp_text(v6: bool, t: u8, code: u8, mtu: Option<u32>) -> String {
    match (v6, t, code) {
        (false, 11, 0) => "Time to live exceeded".into(),
        (false, 3, 4) => format!("Frag needed and DF set (MTU {})", mtu.unwrap_or(0)),
        (false, 3, 0) => "Destination Net Unreachable".into(),
        (false, 3, 1) => "Destination Host Unreachable".into(),
        (false, 3, 3) => "Destination Port Unreachable".into(),
        (true, 3, 0) => "Time to live exceeded".into(),
        (true, 2, _) => format!("Packet too big mtu = {}", mtu.unwrap_or(0)),
        (true, 1, 0) => "No Route to Destination".into(),
        (true, 1, 2) => "Beyond Scope of Source Address".into(),
        (true, 1, 3) => "Destination Host Unreachable".into(),
        (true, 1, 4) => "Destination Port Unreachable".into(),
        (_, t, c) => format!("ICMP type {t} code {c}"),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A probe run: call `step` whenever time passes or packets arrive until it
/// returns `None`, then take the text with `finish`.
pub trait Probe {
    /// Advances; returns when to be called again, or `None` when done.
    fn step(&mut self, stack: &mut Stack, now: Instant) -> Option<Instant>;
    /// The output; releases the echo identifier.
    fn finish(self: Box<Self>, stack: &mut Stack) -> String;
}

fn parse_target(stack: &Stack, s: &str) -> Result<(IpAddr, Option<IfIndex>), String> {
    crate::control::parse_dst(stack, s).map_err(|e| e.0)
}

fn bind_ident(stack: &mut Stack, base: u16) -> Result<u16, String> {
    (0..256u16)
        .map(|i| base.wrapping_add(i))
        .find(|id| stack.echo_bind(*id))
        .ok_or_else(|| "no free echo identifier".into())
}

/// `ping [-c N] [-s SIZE] [-m TTL] [-D] [-i SECONDS] DST`.
pub struct Ping {
    req: EchoRequest,
    dst_text: String,
    count: u16,
    interval: Duration,
    sent: u16,
    received: u16,
    errors: u16,
    next_send: Option<Instant>,
    last_sent: Instant,
    sent_at: Vec<Instant>,
    out: String,
}

impl Ping {
    /// Parses the arguments and binds an echo identifier.
    pub fn new(stack: &mut Stack, args: &[String]) -> Result<Ping, String> {
        let (mut count, mut size, mut df, mut ttl, mut dst, mut interval) =
            (3u16, 56usize, false, None, None, 1.0f64);
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut num = |what: &str| -> Result<f64, String> {
                it.next().and_then(|v| v.parse().ok()).ok_or_else(|| format!("ping: {what} takes a number"))
            };
            match a.as_str() {
                "-c" => count = num("-c")?.clamp(1.0, 10000.0) as u16,
                "-s" => size = num("-s")?.clamp(0.0, 65000.0) as usize,
                "-m" | "-t" => ttl = Some(num("-m")?.clamp(1.0, 255.0) as u8),
                "-i" => interval = num("-i")?.clamp(0.001, 60.0),
                "-D" => df = true,
                s if !s.starts_with('-') => dst = Some(s.to_string()),
                s => return Err(format!("ping: unknown option `{s}`")),
            }
        }
        let dst_text = dst.ok_or("usage: ping [-c N] [-s SIZE] [-m TTL] [-D] [-i SECONDS] DST")?;
        let (dst, zone) = parse_target(stack, &dst_text)?;
        let ident = bind_ident(stack, 0x7600)?;
        let out = if dst.is_ipv6() {
            format!("PING6({}=40+8+{} bytes) --> {}\n", size + 48, size, dst_text)
        } else {
            format!("PING {dst_text} ({dst}): {size} data bytes\n")
        };
        let req = EchoRequest { dst, zone, src: None, ident, seq: 0, payload_len: size, ttl, dont_frag: df };
        Ok(Ping {
            req,
            dst_text,
            count,
            interval: Duration::from_secs_f64(interval),
            sent: 0,
            received: 0,
            errors: 0,
            next_send: None,
            last_sent: Instant::ZERO,
            sent_at: Vec::new(),
            out,
        })
    }
}

impl Probe for Ping {
    fn step(&mut self, stack: &mut Stack, now: Instant) -> Option<Instant> {
        while let Some(ev) = stack.echo_recv(self.req.ident) {
            match ev {
                EchoEvent::Reply { from, seq, ttl, len, at } => {
                    self.received += 1;
                    let rtt = self.sent_at.get(usize::from(seq)).map_or(0.0, |s| ms(at - *s));
                    let what = if from.is_ipv6() { "hlim" } else { "ttl" };
                    let _ = writeln!(
                        self.out,
                        "{} bytes from {from}: icmp_seq={seq} {what}={ttl} time={rtt:.3} ms",
                        len + 8
                    );
                }
                EchoEvent::Error { from, icmp_type, code, mtu, .. } => {
                    self.errors += 1;
                    let size = self.req.payload_len + 8 + if from.is_ipv6() { 40 } else { 20 };
                    let _ = writeln!(
                        self.out,
                        "{size} bytes from {from}: {}",
                        icmp_text(from.is_ipv6(), icmp_type, code, mtu)
                    );
                }
            }
        }
        if self.sent < self.count && self.next_send.is_none_or(|t| now >= t) {
            self.req.seq = self.sent;
            if let Err(e) = stack.echo_send(&self.req, now) {
                let _ = writeln!(self.out, "ping: sendto: {}", e.reason);
                self.errors += 1;
            }
            self.sent_at.push(now);
            self.sent += 1;
            self.last_sent = now;
            self.next_send = Some(now + self.interval);
        }
        let answered = self.received + self.errors >= self.count;
        let waited =
            self.sent == self.count && now >= self.last_sent + Duration::from_secs(1).max(self.interval);
        if self.sent == self.count && (answered || waited) {
            return None;
        }
        if self.sent < self.count {
            self.next_send
        } else {
            Some(self.last_sent + Duration::from_secs(1).max(self.interval))
        }
    }

    fn finish(mut self: Box<Self>, stack: &mut Stack) -> String {
        stack.echo_unbind(self.req.ident);
        let loss = 100.0 * f64::from(self.count - self.received.min(self.count)) / f64::from(self.count);
        let _ = write!(
            self.out,
            "\n--- {} ping statistics ---\n{} packets transmitted, {} packets received, ",
            self.dst_text, self.sent, self.received
        );
        if self.errors > 0 {
            let _ = write!(self.out, "+{} errors, ", self.errors);
        }
        let _ = writeln!(self.out, "{loss:.1}% packet loss");
        self.out
    }
}

/// `traceroute [-m MAX] [-q N] [-w SECONDS] DST` with ICMP echo probes
/// (traceroute -I), printing the RFC 5837 interface a router named.
pub struct Trace {
    req: EchoRequest,
    max: u8,
    per_hop: u8,
    wait: Duration,
    probe: u8,
    sent_at: Option<Instant>,
    last_from: Option<IpAddr>,
    reached: bool,
    done: bool,
    out: String,
}

impl Trace {
    /// Parses the arguments and binds an echo identifier.
    pub fn new(stack: &mut Stack, args: &[String]) -> Result<Trace, String> {
        let (mut max, mut per_hop, mut wait, mut dst) = (30u8, 3u8, 2.0f64, None);
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut num = |what: &str| -> Result<f64, String> {
                it.next()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("traceroute: {what} takes a number"))
            };
            match a.as_str() {
                "-m" => max = num("-m")?.clamp(1.0, 255.0) as u8,
                "-q" => per_hop = num("-q")?.clamp(1.0, 10.0) as u8,
                "-w" => wait = num("-w")?.clamp(0.01, 60.0),
                "-n" | "-I" | "-e" => {}
                s if !s.starts_with('-') => dst = Some(s.to_string()),
                s => return Err(format!("traceroute: unknown option `{s}`")),
            }
        }
        let dst_text = dst.ok_or("usage: traceroute [-m MAX] [-q N] [-w SECONDS] DST")?;
        let (dst, zone) = parse_target(stack, &dst_text)?;
        let ident = bind_ident(stack, 0x7a00)?;
        let out = format!("traceroute to {dst_text} ({dst}), {max} hops max, 60 byte packets\n");
        let req = EchoRequest {
            dst,
            zone,
            src: None,
            ident,
            seq: 0,
            payload_len: 32,
            ttl: Some(1),
            dont_frag: false,
        };
        Ok(Trace {
            req,
            max,
            per_hop,
            wait: Duration::from_secs_f64(wait),
            probe: 0,
            sent_at: None,
            last_from: None,
            reached: false,
            done: false,
            out,
        })
    }

    fn next_probe(&mut self) {
        self.probe += 1;
        self.sent_at = None;
        if self.probe == self.per_hop {
            self.out.push('\n');
            let ttl = self.req.ttl.unwrap_or(1);
            if self.reached || ttl >= self.max {
                self.done = true;
            } else {
                self.req.ttl = Some(ttl + 1);
                self.probe = 0;
                self.last_from = None;
            }
        }
    }
}

impl Probe for Trace {
    fn step(&mut self, stack: &mut Stack, now: Instant) -> Option<Instant> {
        loop {
            if self.done {
                return None;
            }
            let Some(sent) = self.sent_at else {
                if self.probe == 0 {
                    let _ = write!(self.out, "{:>2} ", self.req.ttl.unwrap_or(1));
                }
                self.req.seq = self.req.seq.wrapping_add(1);
                if let Err(e) = stack.echo_send(&self.req, now) {
                    let _ = writeln!(self.out, "traceroute: sendto: {}", e.reason);
                    self.done = true;
                    return None;
                }
                self.sent_at = Some(now);
                continue;
            };
            let mut answered = false;
            while let Some(ev) = stack.echo_recv(self.req.ident) {
                let (from, at, seq, extra) = match &ev {
                    EchoEvent::Reply { from, at, seq, .. } => (*from, *at, *seq, String::new()),
                    EchoEvent::Error { from, at, seq, ifname, ifindex, .. } => {
                        let extra = match (ifname, ifindex) {
                            (Some(n), Some(i)) => format!(" <INC:{i},\"{n}\">"),
                            _ => String::new(),
                        };
                        (*from, *at, *seq, extra)
                    }
                };
                if seq != self.req.seq {
                    continue; // a late answer to an earlier probe
                }
                if matches!(ev, EchoEvent::Reply { .. }) {
                    self.reached = true;
                }
                if self.last_from != Some(from) {
                    let _ = write!(self.out, " {from}{extra}");
                    self.last_from = Some(from);
                }
                let _ = write!(self.out, "  {:.3} ms", ms(at - sent));
                answered = true;
            }
            if answered {
                self.next_probe();
                continue;
            }
            if now >= sent + self.wait {
                self.out.push_str(" *");
                self.next_probe();
                continue;
            }
            return Some(sent + self.wait);
        }
    }

    fn finish(self: Box<Self>, stack: &mut Stack) -> String {
        stack.echo_unbind(self.req.ident);
        self.out
    }
}

/// Starts `ping`/`ping6`/`traceroute`/`traceroute6`; `None` for other verbs.
pub fn start(
    stack: &mut Stack,
    verb: &str,
    args: &[String],
) -> Option<Result<Box<dyn Probe + Send>, String>> {
    match verb {
        "ping" | "ping6" => Some(Ping::new(stack, args).map(|p| Box::new(p) as Box<dyn Probe + Send>)),
        "traceroute" | "traceroute6" => {
            Some(Trace::new(stack, args).map(|t| Box::new(t) as Box<dyn Probe + Send>))
        }
        _ => None,
    }
}
