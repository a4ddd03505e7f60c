//! TCP bulk throughput in memory (issue 10, item 3): two via6 stacks vs two
//! smoltcp 0.14 interfaces, one run, the same harness.
//!
//!     cargo bench -p via6-lab --bench tcp_bulk -- [--runs N] [--mb MB]
//!
//! Each pair is joined by the lab's own `Link` (MTU 1500, 20 µs one-way
//! delay, no rate limit) and `Scheduler`, on a virtual clock. Both sides of
//! both pairs are driven by one loop: deliver the frames due now, poll a
//! host that received something, was touched by its application or whose
//! deadline passed, put what it sent on the link, let the applications
//! write (sender, 64 KiB chunks of one fixed buffer) and read (receiver,
//! counting bytes), poll again the hosts they touched, and jump the clock to
//! the next event. The sender closes after `MB` MiB; the figure is the
//! on-CPU time (`/proc/thread-self/schedstat`, read after a yield) of the whole loop, both hosts
//! and the link, for the bytes the receiver read up to end of stream; the
//! median of N runs, via6 and smoltcp runs interleaved.
//!
//! Both stacks: CUBIC, 512 KiB send and receive buffers (via6's defaults,
//! `TcpConfig::default()` in `crates/core/src/tcp/mod.rs`), checksums
//! computed and verified (smoltcp's default `ChecksumCapabilities`; via6
//! always), Ethernet framing with ARP/NDP, each stack's other defaults
//! (delayed ACK: via6 40 ms with quick-ack, smoltcp 10 ms; via6 also
//! negotiates SACK and timestamps, smoltcp does not send them).

#[path = "../../core/benches/common/clock.rs"]
mod clock;
#[path = "../tests/common/smol.rs"]
mod smol;

use clock::cpu_time;

use core::time::Duration;
use smol::SmolPeer;
use smoltcp::iface::SocketHandle as SmolHandle;
use smoltcp::socket::tcp;
use std::net::SocketAddr;
use via6_core::socket::{wildcard, Family, Proto, SocketHandle};
use via6_core::tcp::TcpConfig;
use via6_core::time::Instant;
use via6_core::{Errno, IfIndex, Stack};
use via6_lab::link::{Endpoint, Link, LinkParams, Side};
use via6_lab::sched::Scheduler;
use via6_lab::topology::Topology;

/// One end of a pair as the harness sees it.
trait Host {
    /// Hands `frame` to the host; buffers of frames it has read go back to
    /// `spare` for the link to reuse.
    fn deliver(&mut self, frame: Vec<u8>, now: Instant, spare: &mut Vec<Vec<u8>>);
    fn poll(&mut self, now: Instant) -> Option<Instant>;
    /// Hands each frame to send to `out`, as pieces to send back to back.
    fn transmit(&mut self, out: &mut dyn FnMut(&[&[u8]]));
    /// Writes what the socket takes of `data`.
    fn send(&mut self, data: &[u8], now: Instant) -> usize;
    /// Closes the write side.
    fn finish(&mut self, now: Instant);
    /// Reads into `buf`: `None` at end of stream.
    fn recv(&mut self, buf: &mut [u8], now: Instant) -> Option<usize>;
}

struct Via6 {
    stack: Stack,
    ifindex: IfIndex,
    listener: Option<SocketHandle>,
    conn: Option<SocketHandle>,
}

impl Host for Via6 {
    fn deliver(&mut self, frame: Vec<u8>, now: Instant, spare: &mut Vec<Vec<u8>>) {
        self.stack.receive(self.ifindex, &frame, now);
        spare.push(frame);
    }
    fn poll(&mut self, now: Instant) -> Option<Instant> {
        self.stack.poll(now)
    }
    fn transmit(&mut self, out: &mut dyn FnMut(&[&[u8]])) {
        // A TCP payload lent from the send ring comes as a piece of its own.
        self.stack.transmit_with(|_, parts| out(parts));
    }
    fn send(&mut self, data: &[u8], now: Instant) -> usize {
        let Some(c) = self.conn else { return 0 };
        if !self.stack.tcp_state(c).is_some_and(|s| s.is_synchronized()) {
            return 0;
        }
        match self.stack.tcp_send(c, data, now) {
            Ok(k) => k,
            Err(e) if e.errno == Errno::EWOULDBLOCK => 0,
            Err(e) => panic!("via6 send: {e}"),
        }
    }
    fn finish(&mut self, now: Instant) {
        if let Some(c) = self.conn {
            self.stack.tcp_shutdown(c, std::net::Shutdown::Write, now).expect("shutdown");
        }
    }
    fn recv(&mut self, buf: &mut [u8], now: Instant) -> Option<usize> {
        if self.conn.is_none() {
            self.conn = self.listener.and_then(|l| self.stack.tcp_accept(l));
        }
        let Some(c) = self.conn else { return Some(0) };
        match self.stack.tcp_recv(c, buf, now) {
            Ok(0) => None,
            Ok(n) => Some(n),
            Err(e) if e.errno == Errno::EWOULDBLOCK => Some(0),
            Err(e) => panic!("via6 recv: {e}"),
        }
    }
}

struct Smol {
    peer: SmolPeer,
    sock: SmolHandle,
}

impl Host for Smol {
    fn deliver(&mut self, frame: Vec<u8>, _: Instant, spare: &mut Vec<Vec<u8>>) {
        self.peer.dev.rx.push_back(frame);
        self.peer.dev.take_spent(spare);
    }
    fn poll(&mut self, now: Instant) -> Option<Instant> {
        self.peer.poll(now)
    }
    fn transmit(&mut self, out: &mut dyn FnMut(&[&[u8]])) {
        while let Some(f) = self.peer.dev.tx.pop_front() {
            out(&[&f]);
            self.peer.dev.recycle(f);
        }
    }
    fn send(&mut self, data: &[u8], _: Instant) -> usize {
        let s = self.peer.tcp(self.sock);
        if !s.can_send() {
            return 0;
        }
        s.send_slice(data).expect("smoltcp send")
    }
    fn finish(&mut self, _: Instant) {
        self.peer.tcp(self.sock).close();
    }
    fn recv(&mut self, buf: &mut [u8], _: Instant) -> Option<usize> {
        let s = self.peer.tcp(self.sock);
        if matches!(s.state(), tcp::State::Listen | tcp::State::SynReceived) {
            return Some(0);
        }
        match s.recv_slice(buf) {
            Ok(n) => Some(n),
            Err(tcp::RecvError::Finished) => None,
            Err(e) => panic!("smoltcp recv: {e}"),
        }
    }
}

const PAIR: &str = r#"
[[node]]
name = "a"
[node.sysctl]
"net.inet6.ip6.dad_count" = 0
[[node.interface]]
name = "eth0"
kind = "lab"
addresses = ["192.0.2.1/24", "2001:db8::1/64"]
[[node]]
name = "b"
[node.sysctl]
"net.inet6.ip6.dad_count" = 0
[[node.interface]]
name = "eth0"
kind = "lab"
addresses = ["192.0.2.2/24", "2001:db8::2/64"]
"#;

const T0: Instant = Instant::from_secs(0);

fn via6_pair(v6: bool) -> (Via6, Via6) {
    let topo = Topology::parse(PAIR).expect("topology");
    let mut hosts = topo.nodes.iter().enumerate().map(|(i, spec)| {
        let b = via6_lab::build_stack(spec, 0x5eed + i as u64, T0).expect("node");
        Via6 { stack: b.stack, ifindex: b.ifindex[0], listener: None, conn: None }
    });
    let (mut a, mut b) = (hosts.next().expect("a"), hosts.next().expect("b"));
    let (family, dst): (Family, SocketAddr) = if v6 {
        (Family::Inet6, "[2001:db8::2]:5001".parse().unwrap())
    } else {
        (Family::Inet, "192.0.2.2:5001".parse().unwrap())
    };
    let l = b.stack.socket(family, Proto::Tcp);
    b.stack.bind(l, wildcard(family, 5001)).expect("bind");
    b.stack.tcp_listen(l, 4).expect("listen");
    b.listener = Some(l);
    let c = a.stack.socket(family, Proto::Tcp);
    a.stack.tcp_connect(c, dst, T0).expect("connect");
    a.conn = Some(c);
    (a, b)
}

fn smol_pair(v6: bool) -> (Smol, Smol) {
    let cfg = TcpConfig::default();
    let addrs = |last: &str| {
        [format!("192.0.2.{last}/24").parse().unwrap(), format!("2001:db8::{last}/64").parse().unwrap()]
    };
    let mut a = SmolPeer::new([2, 0, 0, 0, 0xa, 1], 1500, &addrs("1"), 1, T0);
    let mut b = SmolPeer::new([2, 0, 0, 0, 0xb, 2], 1500, &addrs("2"), 2, T0);
    let (sa, sb) = (a.tcp_socket(cfg.rcvbuf, cfg.sndbuf), b.tcp_socket(cfg.rcvbuf, cfg.sndbuf));
    b.tcp(sb).listen(5001).expect("listen");
    let dst: SocketAddr =
        if v6 { "[2001:db8::2]:5001".parse().unwrap() } else { "192.0.2.2:5001".parse().unwrap() };
    a.connect(sa, dst, 40000);
    (Smol { peer: a, sock: sa }, Smol { peer: b, sock: sb })
}

/// What one transfer measured.
#[derive(Debug, Clone, Copy)]
struct Run {
    cpu: Duration,
    virt: Duration,
    frames: u64,
    lost: u64,
}

/// Moves `bytes` from `tx` to `rx` over a fresh link; panics if the
/// stream does not complete within 600 s of virtual time.
fn transfer(tx: &mut dyn Host, rx: &mut dyn Host, bytes: u64, params: &LinkParams) -> Run {
    let link = Link::new(
        "bench",
        Endpoint { node: 0, ifindex: 1 },
        Endpoint { node: 1, ifindex: 1 },
        params.clone(),
    );
    let mut wire = Wire { link, sched: Scheduler::new(), spare: Vec::new() };
    let chunk: Vec<u8> = (0..64 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let mut buf = vec![0u8; 256 * 1024];
    let (mut sent, mut got, mut fin) = (0u64, 0u64, false);
    let mut now = T0;
    let mut deadline: [Option<Instant>; 2] = [None, None];
    let mut touched = [true, true];
    let limit = now + Duration::from_secs(600);
    let cpu0 = cpu_time();
    loop {
        assert!(now < limit, "transfer stalled at {got} of {bytes} bytes");
        while let Some((_, (to, data))) = wire.sched.pop_due(now) {
            match to {
                Side::A => tx.deliver(data, now, &mut wire.spare),
                Side::B => rx.deliver(data, now, &mut wire.spare),
            }
            touched[to as usize] = true;
        }
        service(tx, rx, &mut wire, &mut deadline, &mut touched, now);
        // Applications.
        while sent < bytes {
            let n = (bytes - sent).min(chunk.len() as u64) as usize;
            let k = tx.send(&chunk[..n], now);
            if k == 0 {
                break;
            }
            sent += k as u64;
            touched[0] = true;
        }
        if sent == bytes && !fin {
            tx.finish(now);
            fin = true;
            touched[0] = true;
        }
        let mut eof = false;
        loop {
            match rx.recv(&mut buf, now) {
                Some(0) => break,
                Some(n) => {
                    got += n as u64;
                    touched[1] = true;
                }
                None => {
                    eof = true;
                    break;
                }
            }
        }
        if eof {
            break;
        }
        service(tx, rx, &mut wire, &mut deadline, &mut touched, now);
        let next = deadline.iter().fold(wire.sched.next_time(), |a, d| via6_core::time::earliest(a, *d));
        now = next.map_or(now + Duration::from_millis(1), |n| n.max(now + Duration::from_nanos(1)));
    }
    let cpu = cpu_time() - cpu0;
    assert_eq!(got, bytes, "short stream");
    Run { cpu, virt: now - T0, frames: wire.link.stats.sent, lost: wire.link.stats.lost }
}

/// The link between the pair: the link itself, the frames in flight, and
/// the buffers of delivered frames it reuses for the next copies.
struct Wire {
    link: Link,
    sched: Scheduler<(Side, Vec<u8>)>,
    spare: Vec<Vec<u8>>,
}

/// Polls the hosts that need it and puts their frames on the link.
fn service(
    tx: &mut dyn Host,
    rx: &mut dyn Host,
    wire: &mut Wire,
    deadline: &mut [Option<Instant>; 2],
    touched: &mut [bool; 2],
    now: Instant,
) {
    service_one(tx, Side::A, wire, deadline, touched, now);
    service_one(rx, Side::B, wire, deadline, touched, now);
}

fn service_one(
    h: &mut dyn Host,
    side: Side,
    wire: &mut Wire,
    deadline: &mut [Option<Instant>; 2],
    touched: &mut [bool; 2],
    now: Instant,
) {
    let i = side as usize;
    if touched[i] || deadline[i].is_some_and(|d| d <= now) {
        touched[i] = false;
        deadline[i] = h.poll(now);
    }
    let Wire { link, sched, spare } = wire;
    h.transmit(&mut |f| {
        link.send_reusing(side, f, now, spare, |x| sched.push(x.at, (x.to, x.data)));
    });
}

fn arg(name: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok())
}

fn via6_run(v6: bool, bytes: u64, p: &LinkParams) -> Run {
    let (mut a, mut b) = via6_pair(v6);
    transfer(&mut a, &mut b, bytes, p)
}

fn smol_run(v6: bool, bytes: u64, p: &LinkParams) -> Run {
    let (mut a, mut b) = smol_pair(v6);
    transfer(&mut a, &mut b, bytes, p)
}

fn median(mut v: Vec<Run>) -> Run {
    v.sort_by_key(|r| r.cpu);
    v[v.len() / 2]
}

fn gbit(bytes: u64, d: Duration) -> f64 {
    bytes as f64 * 8.0 / d.as_secs_f64() / 1e9
}

fn main() {
    let runs = arg("--runs").unwrap_or(5).max(1) as usize;
    let mb = arg("--mb").unwrap_or(128).max(1);
    let bytes = mb << 20;
    // For profiling: only one stack's pairs.
    let via6_only = std::env::args().any(|a| a == "--via6-only");
    let smoltcp_only = !via6_only && std::env::args().any(|a| a == "--smoltcp-only");
    let clean = LinkParams { mtu: 1500, delay: Duration::from_micros(20), seed: 7, ..LinkParams::default() };
    let lossy = LinkParams { loss: 0.01, ..clean.clone() };
    let cases: [(&str, bool, &LinkParams, u64); 3] = [
        ("IPv4, clean", false, &clean, bytes),
        ("IPv6, clean", true, &clean, bytes),
        ("IPv4, 1% loss", false, &lossy, bytes / 4),
    ];
    println!(
        "TCP bulk, one way, in memory: MTU 1500, 20 us one-way delay, CUBIC, 512 KiB buffers, checksums on"
    );
    println!("on-CPU time of the whole loop (both hosts + link), median of {runs} runs, via6 and smoltcp interleaved");
    println!();
    println!("| case | MiB | via6 Gbit/s (on-CPU) | smoltcp Gbit/s (on-CPU) | via6 / smoltcp | via6 frames | smoltcp frames | virtual Gbit/s via6 / smoltcp |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    // For profiling: only the case numbered N (1 to 3) with `--case N`.
    let only_case = arg("--case");
    for (k, (name, v6, p, n)) in cases.into_iter().enumerate() {
        if only_case.is_some_and(|c| c != k as u64 + 1) {
            continue;
        }
        let (mut rv, mut rs) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            if !smoltcp_only {
                rv.push(via6_run(v6, n, p));
            }
            if !via6_only {
                rs.push(smol_run(v6, n, p));
            }
        }
        let (v, s) = ((!rv.is_empty()).then(|| median(rv)), (!rs.is_empty()).then(|| median(rs)));
        let speed = |r: Option<Run>| r.map_or("-".to_string(), |r| format!("{:.2}", gbit(n, r.cpu)));
        let frames =
            |r: Option<Run>| r.map_or("-".to_string(), |r| format!("{} ({} lost)", r.frames, r.lost));
        let (ratio, virt) = match (v, s) {
            (Some(v), Some(s)) => (
                format!("{:.2}x", gbit(n, v.cpu) / gbit(n, s.cpu)),
                format!("{:.1} / {:.1}", gbit(n, v.virt), gbit(n, s.virt)),
            ),
            _ => ("-".to_string(), "-".to_string()),
        };
        println!(
            "| {name} | {} | {} | {} | {ratio} | {} | {} | {virt} |",
            n >> 20,
            speed(v),
            speed(s),
            frames(v),
            frames(s)
        );
    }
}
