//! The `--run` step verbs: every control verb of [`crate::control`] on the
//! named node, plus the verbs that need the lab's clock — `ping`,
//! `traceroute`, `udp-listen` / `udp-send` / `udp-recv`, `ifconfig IF mtu N`,
//! and the TCP verbs `sink PORT` / `transfer ADDR:PORT BYTES` (DESIGN §6).

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
    runner.register("sink", sink);
    runner.register("transfer", transfer);
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

/// Byte `i` of the deterministic stream `transfer` sends.
pub fn pattern_byte(i: u64) -> u8 {
    (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8 ^ (i as u8)
}

/// FNV-1a (64-bit), the stream hash both ends compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamHash(pub u64);

impl Default for StreamHash {
    fn default() -> Self {
        StreamHash(0xcbf2_9ce4_8422_2325)
    }
}

impl StreamHash {
    /// Folds in bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// What a `transfer` measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferReport {
    /// Bytes offered.
    pub bytes: u64,
    /// Bytes the sink read before end of stream.
    pub received: u64,
    /// Hash of what was sent.
    pub sent_hash: u64,
    /// Hash of what the sink read.
    pub received_hash: u64,
    /// Virtual time from connect to the sink's end of stream.
    pub elapsed: Duration,
    /// The error that ended the transfer, if any.
    pub error: Option<String>,
}

impl TransferReport {
    /// Byte-exact and complete.
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.received == self.bytes && self.sent_hash == self.received_hash
    }

    /// Goodput in Mbit/s of virtual time.
    pub fn mbit_per_s(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s == 0.0 {
            return 0.0;
        }
        self.received as f64 * 8.0 / s / 1e6
    }
}

/// The node that owns `ip` and the listener on `port` there.
fn find_sink(lab: &Lab, ip: IpAddr, port: u16) -> Option<(String, via6_core::socket::SocketHandle)> {
    for n in lab.nodes() {
        if !n.stack.is_local_address(ip) {
            continue;
        }
        let h = n.stack.sockets().iter().find_map(|(h, s)| {
            (s.proto == Proto::Tcp
                && s.local.is_some_and(|l| l.port == port)
                && n.stack.tcp_state(h) == Some(via6_core::tcp::State::Listen))
            .then_some(h)
        })?;
        return Some((n.name.clone(), h));
    }
    None
}

/// Connects from `client` to `dst` (a sink must listen there), sends `bytes`
/// deterministic bytes, shuts down, and runs the lab until the sink reads end
/// of stream or `limit` of virtual time passes.
pub fn run_transfer(
    lab: &mut Lab,
    client: &str,
    dst: std::net::SocketAddr,
    bytes: u64,
    limit: Duration,
) -> Result<TransferReport, String> {
    run_transfer_with(lab, client, dst, bytes, limit, |_, _| {})
}

/// [`run_transfer`], calling `tick(lab, elapsed)` every virtual millisecond
/// (to change the network mid-transfer).
pub fn run_transfer_with(
    lab: &mut Lab,
    client: &str,
    dst: std::net::SocketAddr,
    bytes: u64,
    limit: Duration,
    mut tick: impl FnMut(&mut Lab, Duration),
) -> Result<TransferReport, String> {
    let (server, listener) = find_sink(lab, dst.ip(), dst.port())
        .ok_or_else(|| format!("no sink listens on {dst} (run `NODE sink {}` first)", dst.port()))?;
    let start = lab.now();
    let family = if dst.is_ipv4() { Family::Inet } else { Family::Inet6 };
    let stack = lab.node_mut(client).ok_or_else(|| format!("no node `{client}`"))?;
    let c = stack.socket(family, Proto::Tcp);
    stack.tcp_connect(c, dst, start).map_err(|e| format!("connect: {e}"))?;
    let mut rep = TransferReport {
        bytes,
        received: 0,
        sent_hash: 0,
        received_hash: 0,
        elapsed: Duration::ZERO,
        error: None,
    };
    let (mut sent, mut shut) = (0u64, false);
    let (mut sh, mut rh) = (StreamHash::default(), StreamHash::default());
    let mut conn = None;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut buf = vec![0u8; 256 * 1024];
    let mut eof = false;
    while !eof && lab.now() < start + limit {
        lab.run_for(Duration::from_millis(1));
        let elapsed = lab.now() - start;
        tick(lab, elapsed);
        let now = lab.now();
        let stack = lab.node_mut(client).ok_or("client vanished")?;
        if let Some(e) = stack.tcp_error(c) {
            rep.error = Some(format!("client: {e:?} ({})", e.text()));
            break;
        }
        if stack.tcp_state(c).is_some_and(|s| s.is_synchronized()) {
            while sent < bytes {
                let n = (bytes - sent).min(chunk.len() as u64) as usize;
                for (i, b) in chunk[..n].iter_mut().enumerate() {
                    *b = pattern_byte(sent + i as u64);
                }
                match stack.tcp_send(c, &chunk[..n], now) {
                    Ok(k) => {
                        sh.update(&chunk[..k]);
                        sent += k as u64;
                    }
                    Err(e) if e.errno == via6_core::Errno::EWOULDBLOCK => break,
                    Err(e) => return Err(format!("send: {e}")),
                }
            }
            if sent == bytes && !shut {
                stack
                    .tcp_shutdown(c, std::net::Shutdown::Write, now)
                    .map_err(|e| format!("shutdown: {e}"))?;
                shut = true;
            }
        }
        let srv = lab.node_mut(&server).ok_or("server vanished")?;
        if conn.is_none() {
            conn = srv.tcp_accept(listener);
        }
        if let Some(h) = conn {
            loop {
                match srv.tcp_recv(h, &mut buf, now) {
                    Ok(0) => {
                        eof = true;
                        srv.close(h);
                        break;
                    }
                    Ok(n) => {
                        rh.update(&buf[..n]);
                        rep.received += n as u64;
                    }
                    Err(e) if e.errno == via6_core::Errno::EWOULDBLOCK => break,
                    Err(e) => {
                        rep.error = Some(format!("sink: {e}"));
                        eof = true;
                        break;
                    }
                }
            }
        }
    }
    rep.elapsed = lab.now() - start;
    rep.sent_hash = sh.0;
    rep.received_hash = rh.0;
    if let Some(stack) = lab.node_mut(client) {
        stack.close(c);
    }
    if !eof && rep.error.is_none() {
        rep.error = Some(format!("timed out after {:?} with {} of {bytes} bytes", limit, rep.received));
    }
    Ok(rep)
}

/// `sink PORT`: a TCP listener on every address of both families (an
/// AF_INET6 socket with V6ONLY off) that `transfer` drains and hashes.
fn sink(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let [port] = &step.args[..] else { return Err(err("usage: sink PORT")) };
    let port: u16 = port.parse().map_err(|_| err(format!("`{port}` is not a port")))?;
    let stack = node(lab, step)?;
    let h = stack.socket(Family::Inet6, Proto::Tcp);
    stack.set_v6only(h, false).map_err(|e| err(e.to_string()))?;
    stack.bind(h, via6_core::socket::wildcard(Family::Inet6, port)).map_err(|e| err(format!("bind: {e}")))?;
    stack.tcp_listen(h, 128).map_err(|e| err(format!("listen: {e}")))?;
    Ok(format!("sink listening on {}\n", stack.local_addr(h).map_err(|e| err(e.to_string()))?))
}

/// `transfer ADDR:PORT BYTES`: sends deterministic bytes to a sink; reports
/// bytes, hash match, virtual time and throughput.
fn transfer(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let [dst, bytes] = &step.args[..] else { return Err(err("usage: transfer ADDR:PORT BYTES")) };
    let bytes: u64 = parse_bytes(bytes).ok_or_else(|| err(format!("`{bytes}` is not a byte count")))?;
    let name = step.require_node()?.to_string();
    let sa = sockaddr(node(lab, step)?, dst)?;
    let r = run_transfer(lab, &name, sa, bytes, Duration::from_secs(3600)).map_err(err)?;
    let mut out = format!(
        "{} bytes to {sa} in {:.3} s: {:.1} Mbit/s, hash {:016x} {}\n",
        r.received,
        r.elapsed.as_secs_f64(),
        r.mbit_per_s(),
        r.received_hash,
        if r.sent_hash == r.received_hash && r.received == r.bytes { "match" } else { "MISMATCH" }
    );
    if let Some(e) = r.error {
        let _ = writeln!(out, "error: {e}");
    }
    Ok(out)
}

/// `10M`, `100M`, `64K`, `1G` or plain bytes.
fn parse_bytes(s: &str) -> Option<u64> {
    let (num, mult) = match s.as_bytes().last()? {
        b'K' | b'k' => (&s[..s.len() - 1], 1u64 << 10),
        b'M' | b'm' => (&s[..s.len() - 1], 1 << 20),
        b'G' | b'g' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}
