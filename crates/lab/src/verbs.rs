//! The `--run` step verbs: every control verb of [`crate::control`] on the
//! named node, plus the verbs that need the lab's clock — `ping`,
//! `traceroute`, `udp-listen` / `udp-send` / `udp-recv`, `ifconfig IF mtu N`,
//! and the TCP verbs `sink PORT` / `transfer ADDR:PORT BYTES` (DESIGN §6).

use crate::lab::Lab;
use crate::scenario::{Runner, Step, StepError};
use core::time::Duration;
use std::fmt::Write as _;
use std::net::IpAddr;
use via6_core::socket::{Family, Proto};
use via6_core::Stack;

fn node<'a>(lab: &'a mut Lab, step: &Step) -> Result<&'a mut Stack, StepError> {
    let name = step.require_node()?;
    lab.node_mut(name).ok_or_else(|| StepError(format!("no node `{name}`")))
}

fn err(msg: impl Into<String>) -> StepError {
    StepError(msg.into())
}

/// Runs a probe (`ping`, `traceroute`) on the lab's clock.
fn run_probe(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let name = step.require_node()?.to_string();
    let stack = node(lab, step)?;
    let mut p = crate::probe::start(stack, &step.verb, &step.args)
        .ok_or_else(|| err("not a probe verb"))?
        .map_err(err)?;
    loop {
        let now = lab.now();
        let stack = lab.node_mut(&name).ok_or_else(|| err("node vanished"))?;
        if p.step(stack, now).is_none() {
            break;
        }
        lab.run_for(Duration::from_millis(1));
    }
    let stack = lab.node_mut(&name).ok_or_else(|| err("node vanished"))?;
    Ok(p.finish(stack))
}

/// The text FreeBSD's ping prints for an ICMP error.
pub use crate::probe::icmp_text;

/// `udp-send`: the control verb sends; the lab then runs 100 ms so the
/// answer (or an ICMP error) arrives before the next step.
fn udp_send(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let stack = node(lab, step)?;
    let out = crate::control::run(stack, "udp-send", &step.args).map_err(|e| err(e.0))?;
    lab.run_for(Duration::from_millis(100));
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
    runner.register("udp-send", udp_send);
    for verb in ["ping", "ping6", "traceroute", "traceroute6"] {
        runner.register(verb, run_probe);
    }
    runner.register("sink", sink);
    runner.register("transfer", transfer);
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
    "h2 sink 5001",
    "h1 transfer 203.0.113.2:5001 10M",
    "h2 netstat -an",
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
    let sa = crate::control::parse_sockaddr(node(lab, step)?, dst).map_err(|e| err(e.0))?;
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
