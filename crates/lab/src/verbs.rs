//! The `--run` step verbs: every control verb of [`crate::control`] on the
//! named node, plus the verbs that need the lab's clock — `ping`,
//! `traceroute`, `udp-listen` / `udp-send` / `udp-recv`, `ifconfig IF mtu N`.

use crate::lab::Lab;
use crate::scenario::{Runner, Step, StepError};
use core::time::Duration;
use std::fmt::Write as _;
use std::net::IpAddr;
use via6_core::echo::{EchoEvent, EchoRequest};
use via6_core::socket::{Family, Proto};
use via6_core::Stack;

fn node<'a>(lab: &'a mut Lab, step: &Step) -> Result<&'a mut Stack, StepError> {
    let name = step.require_node()?;
    lab.node_mut(name).ok_or_else(|| StepError(format!("no node `{name}`")))
}

fn err(msg: impl Into<String>) -> StepError {
    StepError(msg.into())
}

struct PingOpts {
    count: u16,
    size: usize,
    df: bool,
    ttl: Option<u8>,
    dst: String,
}

fn ping_opts(args: &[String]) -> Result<PingOpts, StepError> {
    let mut o = PingOpts { count: 3, size: 56, df: false, ttl: None, dst: String::new() };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val =
            |name: &str| it.next().ok_or_else(|| err(format!("ping: option {name} needs a value"))).cloned();
        match a.as_str() {
            "-c" => o.count = val("-c")?.parse().map_err(|_| err("ping: -c takes a count"))?,
            "-s" => o.size = val("-s")?.parse().map_err(|_| err("ping: -s takes a size"))?,
            "-m" | "-t" => o.ttl = Some(val("-m")?.parse().map_err(|_| err("ping: -m takes a TTL"))?),
            "-D" => o.df = true,
            s if !s.starts_with('-') => o.dst = s.to_string(),
            s => return Err(err(format!("ping: unknown option `{s}`"))),
        }
    }
    if o.dst.is_empty() {
        return Err(err("usage: ping [-c N] [-s SIZE] [-m TTL] [-D] DST"));
    }
    Ok(o)
}

/// Sends one echo and runs the lab until an answer or `wait` passes.
fn probe(lab: &mut Lab, name: &str, req: &EchoRequest, wait: Duration) -> Result<Option<EchoEvent>, String> {
    let sent_at = lab.now();
    let stack = lab.node_mut(name).ok_or("no node")?;
    stack.echo_send(req, sent_at).map_err(|e| e.reason.to_string())?;
    let end = sent_at + wait;
    while lab.now() < end {
        lab.run_for(Duration::from_millis(1));
        if let Some(ev) = lab.node_mut(name).and_then(|s| s.echo_recv(req.ident)) {
            return Ok(Some(ev));
        }
    }
    Ok(None)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `ping [-c N] [-s SIZE] [-m TTL] [-D] DST` as FreeBSD's ping(8) prints it.
pub fn ping(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let o = ping_opts(&step.args)?;
    let name = step.require_node()?.to_string();
    let stack = node(lab, step)?;
    let (dst, zone) = crate::control::parse_dst(stack, &o.dst).map_err(|e| err(e.0))?;
    let ident = 0x7600;
    stack.echo_bind(ident);
    let v6 = dst.is_ipv6();
    let mut out = if v6 {
        format!("PING6({}=40+8+{} bytes) --> {}\n", o.size + 48, o.size, o.dst)
    } else {
        format!("PING {} ({}): {} data bytes\n", o.dst, dst, o.size)
    };
    let (mut received, mut errors) = (0, 0);
    for seq in 0..o.count {
        let sent_at = lab.now();
        let req = EchoRequest {
            dst,
            zone,
            src: None,
            ident,
            seq,
            payload_len: o.size,
            ttl: o.ttl,
            dont_frag: o.df,
        };
        match probe(lab, &name, &req, Duration::from_secs(1)) {
            Err(e) => {
                let _ = writeln!(out, "ping: sendto: {e}");
                errors += 1;
            }
            Ok(Some(EchoEvent::Reply { from, seq, ttl, len, at })) => {
                received += 1;
                let what = if v6 { "hlim" } else { "ttl" };
                let _ = writeln!(
                    out,
                    "{} bytes from {from}: icmp_seq={seq} {what}={ttl} time={:.3} ms",
                    len + 8,
                    ms(at - sent_at)
                );
            }
            Ok(Some(EchoEvent::Error { from, icmp_type, code, mtu, .. })) => {
                errors += 1;
                let _ = writeln!(out, "{} from {from}: {}", 36 + o.size, icmp_text(v6, icmp_type, code, mtu));
            }
            Ok(None) => {
                let _ = writeln!(out, "Request timeout for icmp_seq {seq}");
            }
        }
        lab.run_for(Duration::from_millis(10));
    }
    let loss = 100.0 * f64::from(o.count - received) / f64::from(o.count.max(1));
    let _ = write!(
        out,
        "\n--- {} ping statistics ---\n{} packets transmitted, {} packets received, ",
        o.dst, o.count, received
    );
    if errors > 0 {
        let _ = write!(out, "+{errors} errors, ");
    }
    let _ = writeln!(out, "{loss:.1}% packet loss");
    if let Some(s) = lab.node_mut(&name) {
        s.echo_unbind(ident);
    }
    Ok(out)
}

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

/// `traceroute [-m MAX] DST` with ICMP echo probes (traceroute -I), three
/// per hop, printing the RFC 5837 interface name when the router sent one.
pub fn traceroute(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let mut max = 30u8;
    let mut dst_s = None;
    let mut it = step.args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-m" => {
                max = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| err("traceroute: -m takes a number"))?
            }
            "-n" | "-I" | "-e" => {}
            s if !s.starts_with('-') => dst_s = Some(s.to_string()),
            s => return Err(err(format!("traceroute: unknown option `{s}`"))),
        }
    }
    let dst_s = dst_s.ok_or_else(|| err("usage: traceroute [-m MAX] DST"))?;
    let name = step.require_node()?.to_string();
    let stack = node(lab, step)?;
    let (dst, zone) = crate::control::parse_dst(stack, &dst_s).map_err(|e| err(e.0))?;
    let ident = 0x7601;
    stack.echo_bind(ident);
    let mut out = format!("traceroute to {dst_s} ({dst}), {max} hops max, 60 byte packets\n");
    let mut seq = 0u16;
    'hops: for ttl in 1..=max {
        let _ = write!(out, "{ttl:>2} ");
        let mut last_from = None;
        let mut reached = false;
        for _ in 0..3 {
            seq += 1;
            let sent_at = lab.now();
            let req = EchoRequest {
                dst,
                zone,
                src: None,
                ident,
                seq,
                payload_len: 32,
                ttl: Some(ttl),
                dont_frag: false,
            };
            match probe(lab, &name, &req, Duration::from_secs(2)) {
                Err(e) => {
                    let _ = writeln!(out, "traceroute: sendto: {e}");
                    break 'hops;
                }
                Ok(None) => out.push_str(" *"),
                Ok(Some(ev)) => {
                    let (from, at, extra) = match &ev {
                        EchoEvent::Reply { from, at, .. } => {
                            reached = true;
                            (*from, *at, String::new())
                        }
                        EchoEvent::Error { from, at, ifname, ifindex, .. } => {
                            let extra = match (ifname, ifindex) {
                                (Some(n), Some(i)) => format!(" <INC:{i},\"{n}\">"),
                                _ => String::new(),
                            };
                            (*from, *at, extra)
                        }
                    };
                    if last_from != Some(from) {
                        let _ = write!(out, " {from}{extra}");
                        last_from = Some(from);
                    }
                    let _ = write!(out, "  {:.3} ms", ms(at - sent_at));
                }
            }
        }
        out.push('\n');
        if reached {
            break;
        }
    }
    if let Some(s) = lab.node_mut(&name) {
        s.echo_unbind(ident);
    }
    Ok(out)
}

fn sockaddr(stack: &Stack, s: &str) -> Result<std::net::SocketAddr, StepError> {
    // ADDR:PORT, [V6ADDR%ZONE]:PORT
    let (host, port) = s.rsplit_once(':').ok_or_else(|| err(format!("`{s}` is not ADDR:PORT")))?;
    let port: u16 = port.parse().map_err(|_| err(format!("`{port}` is not a port")))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let (ip, zone) = crate::control::parse_dst(stack, host).map_err(|e| err(e.0))?;
    Ok(match ip {
        IpAddr::V6(v6) => {
            std::net::SocketAddr::V6(std::net::SocketAddrV6::new(v6, port, 0, zone.map_or(0, |z| z.0)))
        }
        v4 => std::net::SocketAddr::new(v4, port),
    })
}

/// `udp-listen [-4|-6|-dual] PORT`: a wildcard UDP socket (AF_INET by default;
/// `-6` AF_INET6 with V6ONLY, `-dual` AF_INET6 without).
fn udp_listen(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let stack = node(lab, step)?;
    let (family, v6only, port) = match step.args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["-6", p] => (Family::Inet6, true, p),
        ["-dual", p] => (Family::Inet6, false, p),
        ["-4", p] | [p] => (Family::Inet, false, p),
        _ => return Err(err("usage: udp-listen [-4|-6|-dual] PORT")),
    };
    let port: u16 = port.parse().map_err(|_| err(format!("`{port}` is not a port")))?;
    let h = stack.socket(family, Proto::Udp);
    if family == Family::Inet6 {
        stack.set_v6only(h, v6only).map_err(|e| err(e.to_string()))?;
    }
    stack.bind(h, via6_core::socket::wildcard(family, port)).map_err(|e| err(format!("bind: {e}")))?;
    Ok(format!("listening on {}\n", stack.local_addr(h).map_err(|e| err(e.to_string()))?))
}

/// `udp-send DST:PORT TEXT`: connect a new AF_INET/AF_INET6 socket, send, and
/// let the lab run 100 ms.
fn udp_send(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let [dst, text] = &step.args[..] else { return Err(err("usage: udp-send DST:PORT TEXT")) };
    let now = lab.now();
    let stack = node(lab, step)?;
    let sa = sockaddr(stack, dst)?;
    let family = if sa.is_ipv4() { Family::Inet } else { Family::Inet6 };
    let h = stack.socket(family, Proto::Udp);
    stack.connect(h, sa).map_err(|e| err(format!("connect: {e}")))?;
    let local = stack.local_addr(h).map_err(|e| err(e.to_string()))?;
    let n = stack.udp_send_to(h, text.as_bytes(), None, None, now).map_err(|e| err(format!("send: {e}")))?;
    lab.run_for(Duration::from_millis(100));
    let mut out = format!("sent {n} bytes from {local} to {sa}\n");
    if let Some(stack) = lab.node_mut(step.require_node()?) {
        if let Some(e) = stack.take_error(h) {
            let _ = writeln!(out, "error: {e:?} ({})", e.text());
        }
        stack.close(h);
    }
    Ok(out)
}

/// `udp-recv PORT`: print what the UDP socket bound to PORT received.
fn udp_recv(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let [port] = &step.args[..] else { return Err(err("usage: udp-recv PORT")) };
    let port: u16 = port.parse().map_err(|_| err(format!("`{port}` is not a port")))?;
    let stack = node(lab, step)?;
    let handles: Vec<_> = stack
        .sockets()
        .iter()
        .filter(|(_, s)| s.proto == Proto::Udp && s.local.is_some_and(|l| l.port == port))
        .map(|(h, _)| h)
        .collect();
    if handles.is_empty() {
        return Err(err(format!("no UDP socket bound to port {port}")));
    }
    let mut out = String::new();
    for h in handles {
        while let Ok(d) = stack.udp_recv_from(h) {
            let _ = writeln!(out, "from {} to {}: {:?}", d.from, d.to, String::from_utf8_lossy(&d.data));
        }
    }
    if out.is_empty() {
        out.push_str("nothing received\n");
    }
    Ok(out)
}

/// Registers every verb on a runner.
pub fn register(runner: &mut Runner<Lab>) {
    for verb in crate::control::VERBS {
        runner.register(verb, move |lab: &mut Lab, step: &Step| {
            let stack = node(lab, step)?;
            crate::control::run(stack, &step.verb, &step.args).map_err(|e| err(e.0))
        });
    }
    runner.register("udp-listen", udp_listen);
    runner.register("udp-send", udp_send);
    runner.register("udp-recv", udp_recv);
    runner.register("ping", ping);
    runner.register("ping6", ping);
    runner.register("traceroute", traceroute);
    runner.register("traceroute6", traceroute);
    runner.register("sysctl", |lab: &mut Lab, step: &Step| {
        let stack = node(lab, step)?;
        let mut out = String::new();
        for a in &step.args {
            match a.split_once('=') {
                Some((n, v)) => {
                    let v: i64 = v.parse().map_err(|_| err(format!("sysctl: `{v}` is not an integer")))?;
                    let old = stack.set_sysctl(n, v).map_err(|e| err(format!("sysctl: {e}")))?;
                    let _ = writeln!(out, "{n}: {old} -> {v}");
                }
                None => {
                    for (spec, v) in stack.sysctl().list(Some(a)) {
                        let _ = writeln!(out, "{}: {v}", spec.name);
                    }
                }
            }
        }
        Ok(out)
    });
}

/// The steps `via6 lab seed` runs when none are given.
pub const SEED_STEPS: &[&str] = &[
    "h1 netstat -rn",
    "r1 netstat -rn",
    "h1 route get --explain 203.0.113.2",
    "h2 udp-listen 7",
    "h1 udp-send 203.0.113.2:7 hello-from-h1",
    "h2 udp-recv 7",
    "h1 ping -c 3 203.0.113.2",
    "h1 ping6 -c 3 2001:db8:2::1",
    "h1 traceroute 203.0.113.2",
    "h1 traceroute6 2001:db8:2::1",
    "r1 sysctl net.inet.icmp.ext_ifinfo=1",
    "h1 traceroute 203.0.113.2",
    "r1 sysctl net.inet.icmp.ext_ifinfo=0",
    "r1 ifconfig eth1 mtu 1280",
    "h1 ping -c 1 -D -s 1400 203.0.113.2",
    "h1 ping6 -c 1 -s 1400 2001:db8:2::1",
];
