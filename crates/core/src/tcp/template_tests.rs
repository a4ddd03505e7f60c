//! Header templates (`template.rs`) against the general emitter: two
//! identical pairs of hosts on one Ethernet, one pair with templates and
//! one without (`Stack::no_fast_path`), run the same transfer — random
//! write and read sizes (so the send ring wraps and a segment's second
//! piece starts at an odd offset), IPv4 and IPv6, MTUs from 1280 to 9000,
//! timestamps and SACK on and off, loss (retransmissions, SACK blocks in
//! the ACKs), a FIN at the end. Every frame either host sends must be the
//! same bytes in both pairs, and so must the counters.

use crate::addr::IfIndex;
use crate::iface::LinkKind;
use crate::socket::{Family, Proto, SocketHandle};
use crate::stack::{InterfaceConfig, Stack};
use crate::test_router::drain;
use crate::time::Instant;
use core::time::Duration;
use proptest::prelude::*;
use std::net::SocketAddr;
use via6_wire::MacAddr;

#[derive(Debug, Clone)]
struct Case {
    v6: bool,
    mtu: u32,
    timestamps: bool,
    sack: bool,
    /// Frames dropped once the connection is accepted: one in `loss` (0:
    /// none), chosen by a fixed hash.
    loss: u32,
    bytes: usize,
    write: usize,
    read: usize,
    bufsize: usize,
}

struct Pair {
    h: [Stack; 2],
    conn: [Option<SocketHandle>; 2],
    listener: SocketHandle,
    now: Instant,
    sent: usize,
    got: usize,
    sum: u64,
    frame_no: u64,
    closed: bool,
}

fn host(name: &str, seed: u64, mac: u8, k: u8, c: &Case, templates: bool) -> Stack {
    let mut s = Stack::new(name, seed);
    s.no_fast_path = !templates;
    let cfg = InterfaceConfig {
        name: "eth0".into(),
        kind: LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, mac])),
        mtu: Some(c.mtu),
    };
    let i = s.add_interface(cfg, Instant::ZERO).unwrap();
    s.add_address(i, format!("192.0.2.{k}").parse().unwrap(), 24, Instant::ZERO).unwrap();
    s.add_address(i, format!("2001:db8::{k}").parse().unwrap(), 64, Instant::ZERO).unwrap();
    let t = s.tcp_config_mut();
    t.timestamps = c.timestamps;
    t.sack = c.sack;
    t.sndbuf = c.bufsize;
    t.rcvbuf = c.bufsize;
    s
}

/// Every queued frame through [`Stack::transmit_with`], its pieces joined.
fn gather(s: &mut Stack) -> Vec<(IfIndex, Vec<u8>)> {
    let mut out = Vec::new();
    s.transmit_with(|i, parts| out.push((i, parts.concat())));
    out
}

impl Pair {
    fn new(c: &Case, templates: bool) -> Pair {
        let h = [host("a", 11, 1, 1, c, templates), host("b", 12, 2, 2, c, templates)];
        let mut p = Pair {
            h,
            conn: [None, None],
            listener: SocketHandle(0),
            now: Instant::ZERO,
            sent: 0,
            got: 0,
            sum: 0,
            frame_no: 0,
            closed: false,
        };
        // Duplicate address detection done before any TCP.
        for _ in 0..300 {
            p.exchange(0);
            p.now += Duration::from_millis(10);
        }
        let family = if c.v6 { Family::Inet6 } else { Family::Inet };
        let l = p.h[1].socket(family, Proto::Tcp);
        let any: SocketAddr = if c.v6 { "[::]:80" } else { "0.0.0.0:80" }.parse().unwrap();
        p.h[1].bind(l, any).unwrap();
        p.h[1].tcp_listen(l, 4).unwrap();
        p.listener = l;
        let s = p.h[0].socket(family, Proto::Tcp);
        let to: SocketAddr = if c.v6 { "[2001:db8::2]:80" } else { "192.0.2.2:80" }.parse().unwrap();
        p.h[0].tcp_connect(s, to, p.now).unwrap();
        p.conn[0] = Some(s);
        p
    }

    /// Polls both hosts and moves their frames (dropping one in `loss`);
    /// returns the frames in the order sent.
    fn exchange(&mut self, loss: u32) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        for k in 0..2 {
            self.h[k].poll(self.now);
        }
        for _ in 0..64 {
            let mut moved = false;
            for k in 0..2 {
                // The fast pair's frames come as the stack lends them
                // (headers, then the payload's pieces in the send ring),
                // joined here as a driver's gather would; the plain pair's
                // are whole frames.
                let frames =
                    if self.h[k].no_fast_path { drain(&mut self.h[k]) } else { gather(&mut self.h[k]) };
                for (_, f) in frames {
                    moved = true;
                    self.frame_no += 1;
                    let n = self.frame_no.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
                    // No loss before the connection is accepted: a lost
                    // ARP or SYN exchange is not what this test is about.
                    let lossy = loss > 0 && self.conn[1].is_some();
                    if !lossy || !n.is_multiple_of(u64::from(loss)) {
                        self.h[1 - k].receive(IfIndex(1), &f, self.now);
                    }
                    all.push(f);
                }
            }
            for k in 0..2 {
                self.h[k].poll(self.now);
            }
            if !moved {
                break;
            }
        }
        all
    }

    /// The applications: the client writes, the server accepts and reads.
    fn apps(&mut self, c: &Case) {
        let now = self.now;
        if let Some(s) = self.conn[0] {
            if self.sent < c.bytes {
                let n = c.write.min(c.bytes - self.sent);
                let data: Vec<u8> = (self.sent..self.sent + n).map(|i| (i * 7 + i / 251) as u8).collect();
                if let Ok(w) = self.h[0].tcp_send(s, &data, now) {
                    self.sent += w;
                }
            } else if !self.closed {
                self.closed = true;
                self.h[0].tcp_close(s, now);
            }
        }
        if self.conn[1].is_none() {
            self.conn[1] = self.h[1].tcp_accept(self.listener);
        }
        if let Some(s) = self.conn[1] {
            let mut buf = vec![0u8; c.read];
            while let Ok(n) = self.h[1].tcp_recv(s, &mut buf, now) {
                if n == 0 {
                    break;
                }
                for &b in &buf[..n] {
                    self.sum = self.sum.wrapping_mul(31).wrapping_add(u64::from(b));
                }
                self.got += n;
            }
        }
    }

    fn next_time(&mut self) {
        let d = [self.h[0].poll(self.now), self.h[1].poll(self.now)].into_iter().flatten().min();
        let step = self.now + Duration::from_millis(1);
        self.now = d.map_or(step, |d| d.max(self.now + Duration::from_micros(100)));
    }
}

/// Runs the case on both pairs (fast paths on and off) in lock step; every
/// frame must match. Returns how many segments the template path framed
/// and how many (pure ACKs, lone data segments) were written directly
/// (`direct.rs`) on the fast side's two hosts.
fn same(c: &Case) -> Result<(u64, u64, u64, u64), TestCaseError> {
    let mut fast = Pair::new(c, true);
    let mut plain = Pair::new(c, false);
    for step in 0..20_000 {
        fast.apps(c);
        plain.apps(c);
        let (f, p) = (fast.exchange(c.loss), plain.exchange(c.loss));
        prop_assert_eq!(f.len(), p.len(), "frame count at step {}", step);
        for (i, (x, y)) in f.iter().zip(&p).enumerate() {
            let at = x.iter().zip(y.iter()).position(|(a, b)| a != b);
            prop_assert!(
                x == y,
                "frame {} of step {} differs at byte {:?} (lengths {}, {}); headers:\n{:02x?}\n{:02x?}",
                i,
                step,
                at,
                x.len(),
                y.len(),
                &x[..x.len().min(80)],
                &y[..y.len().min(80)]
            );
        }
        prop_assert_eq!(fast.got, plain.got);
        if fast.got == c.bytes && fast.closed {
            break;
        }
        fast.next_time();
        plain.next_time();
    }
    prop_assert_eq!(
        fast.got,
        c.bytes,
        "the whole stream arrived by {:?}: {:?} {:?}",
        fast.now,
        fast.conn[0].and_then(|s| fast.h[0].tcp_state(s)),
        fast.conn[1].and_then(|s| fast.h[1].tcp_state(s))
    );
    prop_assert_eq!(fast.sum, plain.sum);
    for k in 0..2 {
        prop_assert_eq!(format!("{:?}", fast.h[k].stats()), format!("{:?}", plain.h[k].stats()));
    }
    prop_assert_eq!(plain.h[0].sockets.tcp.templated, 0);
    prop_assert_eq!(plain.h[0].sockets.tcp.lent, 0);
    prop_assert_eq!(plain.h[0].sockets.tcp.direct + plain.h[1].sockets.tcp.direct, 0);
    let t = &fast.h[0].sockets.tcp;
    Ok((t.templated, t.direct + fast.h[1].sockets.tcp.direct, t.lent, t.chunk_sums))
}

fn case(v6: bool, mtu: u32, loss: u32) -> Case {
    Case {
        v6,
        mtu,
        timestamps: true,
        sack: true,
        loss,
        bytes: 3_000_000,
        write: 65_536,
        read: 262_144,
        bufsize: 524_288,
    }
}

/// A bulk transfer each family, clean and with loss: most data segments
/// take the template, the pure ACKs and lone segments the direct writer,
/// and every frame matches the general path's.
#[test]
fn bulk_frames_match_the_general_path() {
    for v6 in [false, true] {
        for loss in [0, 50] {
            let c = case(v6, 1500, loss);
            let (n, acks, lent, chunk) = same(&c).unwrap();
            // 3 MB is about 2 070 data segments.
            assert!(n > 1000, "{c:?}: only {n} segments from a template");
            // The receiver's ACKs (one per burst, one per out-of-order
            // segment with loss) and the sender's lone data segments are
            // written directly.
            assert!(acks > if loss > 0 { 300 } else { 10 }, "{c:?}: only {acks} segments written directly");
            // Their payloads were lent from the send ring, the sums of
            // nearly all of them taken while the application's bytes were
            // copied in (`sendbuf.rs`).
            assert!(lent > n, "{c:?}: only {lent} payloads lent");
            assert!(chunk * 10 > lent * 9, "{c:?}: only {chunk} of {lent} summed in chunks");
        }
    }
}

fn any_case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        prop_oneof![Just(1280u32), Just(1500), Just(1499), Just(9000)],
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(0u32), Just(7), Just(30), Just(100)],
        1usize..300_000,
        1usize..70_000,
        1usize..100_000,
        prop_oneof![Just(4096usize), Just(65_535), Just(200_000), Just(524_288)],
    )
        .prop_map(|(v6, mtu, timestamps, sack, loss, bytes, write, read, bufsize)| Case {
            v6,
            mtu,
            timestamps,
            sack,
            loss,
            bytes,
            write,
            read,
            bufsize,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random transfers: the template path changes no byte on the wire.
    #[test]
    fn templates_equal_general_path(c in any_case()) {
        same(&c)?;
    }
}

/// A frame whose payload is still lent from a send ring when its
/// connection is aborted is not sent (its connection and ring are gone):
/// it is dropped and counted (`tcps_sndstale`), and the reset goes out.
#[test]
fn lent_payload_of_an_aborted_connection_is_dropped() {
    let c = case(false, 1500, 0);
    let mut p = Pair::new(&c, true);
    let s = p.conn[0].unwrap();
    for _ in 0..50 {
        p.exchange(0);
        p.conn[1] = p.conn[1].or_else(|| p.h[1].tcp_accept(p.listener));
        if p.conn[1].is_some() {
            break;
        }
        p.next_time();
    }
    let b = p.conn[1].expect("accepted");
    // Data the client never reads: closing it aborts the connection
    // (RFC 9293 §3.10.4 via RFC 2525 §2.17).
    p.h[1].tcp_send(b, b"unread", p.now).unwrap();
    p.exchange(0);
    // A run of segments: the second and later ones lend their payload.
    let data = vec![7u8; 8 * 1448];
    assert_eq!(p.h[0].tcp_send(s, &data, p.now).unwrap(), data.len());
    assert!(!p.h[0].lent.is_empty(), "segments queued with lent payloads");
    let lent = p.h[0].lent.len() as u64;
    p.h[0].tcp_close(s, p.now);
    let frames = drain(&mut p.h[0]);
    assert_eq!(p.h[0].stats().get(crate::stats::Counter::TcpsSndstale), lent);
    let rst = frames.last().expect("a reset").1.clone();
    assert_eq!(rst[14 + 20 + 13] & 0x04, 0x04, "the last frame is the reset");
    assert!(p.h[0].sockets.tcp.pinned.is_empty());
}
