//! Issue 6: an independent TCP peer. smoltcp 0.14 sits on a lab link as a
//! foreign endpoint (`Lab::attach_foreign`) and exchanges 10 MB each way
//! with a via6 node, over IPv4 and IPv6, byte-exact (FNV-1a of the stream on
//! both ends), clean and at 1% loss; throughput is in virtual time.
//!
//! Two shapes:
//! - `plain`: via6 192.0.2.1/24 + 2001:db8::1/64, smoltcp 192.0.2.2/24 +
//!   2001:db8::2/64 on one link.
//! - `v4-via-v6`: via6 has no IPv4 subnet on the link, only its own
//!   203.0.113.1/32, and reaches smoltcp's 203.0.113.2 through
//!   `0.0.0.0/0 via fe80::2%eth0` (RFC 8950 next hop, resolved with NDP;
//!   smoltcp takes the IPv4 frames sent to its MAC). smoltcp cannot route
//!   IPv4 through an IPv6 next hop and learns neighbours only from ARP/NDP,
//!   so its replies go on-link to 203.0.113.1, which it resolves with ARP
//!   (via6 answers: the /32 is on eth0). IPv6 runs between the link-local
//!   addresses fe80::1 and fe80::2 (smoltcp holds two addresses at most).

#[path = "common/smol.rs"]
mod smol;

use core::time::Duration;
use smol::SmolPeer;
use smoltcp::socket::tcp;
use smoltcp::wire::IpCidr;
use std::net::{IpAddr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV6};
use via6_core::socket::{wildcard, Family, Proto};
use via6_core::tcp::TcpConfig;
use via6_core::Errno;
use via6_lab::link::LinkParams;
use via6_lab::verbs::{pattern_byte, StreamHash};
use via6_lab::{ForeignPort, Lab};

const MB10: u64 = 10 << 20;
const SMOL_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x5e, 0x00, 0x02];
const LIMIT: Duration = Duration::from_secs(600);

const PLAIN: &str = r#"
[[node]]
name = "v6"
[[node.interface]]
name = "eth0"
kind = "lab"
addresses = ["192.0.2.1/24", "2001:db8::1/64"]
"#;

const V4_VIA_V6: &str = r#"
[[node]]
name = "v6"
[[node.interface]]
name = "eth0"
kind = "lab"
addresses = ["203.0.113.1/32", "fe80::1/64"]
[[node.route]]
dest = "0.0.0.0/0"
via = "fe80::2%eth0"
"#;

/// A via6 node `v6` and a smoltcp peer on one lab link.
struct Rig {
    lab: Lab,
    port: ForeignPort,
    peer: SmolPeer,
}

impl Rig {
    fn new(topo: &str, smol_addrs: &[IpCidr], loss: f64) -> Rig {
        let seed = std::env::var("VIA6_LAB_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1u64);
        let mut lab = Lab::from_toml(topo, seed).expect("topology");
        let params = LinkParams { loss, seed: seed ^ 0x5eed, ..LinkParams::default() };
        let port = lab.attach_foreign("v6:eth0", params).expect("attach");
        // VIA6_SMOLTCP_PCAP=FILE captures the link (the last test to start wins).
        if let Some(path) = std::env::var_os("VIA6_SMOLTCP_PCAP") {
            let f = std::fs::File::create(path).expect("pcap file");
            let link = lab.foreign_link(port).expect("link");
            lab.set_pcap_writer(link, Box::new(std::io::BufWriter::new(f))).expect("pcap");
        }
        let peer = SmolPeer::new(SMOL_MAC, 1500, smol_addrs, seed, lab.now());
        let mut rig = Rig { lab, port, peer };
        // DAD on via6's addresses.
        let t = rig.lab.now() + Duration::from_secs(3);
        while rig.lab.now() < t {
            rig.step();
        }
        rig
    }

    /// Hands arrived frames to smoltcp, polls it, puts what it sent on the
    /// link, then runs the lab until smoltcp's deadline, the next frame for
    /// it, or 1 ms (the applications' tick), whichever comes first.
    fn step(&mut self) {
        while let Some(f) = self.lab.foreign_recv(self.port) {
            self.peer.dev.rx.push_back(f);
        }
        let now = self.lab.now();
        let next = self.peer.poll(now);
        while let Some(f) = self.peer.dev.tx.pop_front() {
            assert!(self.lab.foreign_send(self.port, &f));
            self.peer.dev.recycle(f);
        }
        let mut t = now + Duration::from_millis(1);
        if let Some(n) = next {
            t = t.min(n.max(now + Duration::from_micros(1)));
        }
        self.lab.run_until_foreign(t);
    }

    fn via6(&mut self) -> &mut via6_core::Stack {
        self.lab.node_mut("v6").expect("node v6")
    }

    fn eth0(&self) -> u32 {
        self.lab.nodes()[0].ifindex[0].0
    }
}

#[derive(Debug)]
struct Outcome {
    bytes: u64,
    received: u64,
    sent_hash: u64,
    received_hash: u64,
    elapsed: Duration,
}

impl Outcome {
    fn check(&self, what: &str) {
        let s = self.elapsed.as_secs_f64();
        eprintln!(
            "{what}: {} of {} bytes in {s:.3} s virtual, {:.1} Mbit/s, hash {:016x} {}",
            self.received,
            self.bytes,
            self.received as f64 * 8.0 / s / 1e6,
            self.received_hash,
            if self.sent_hash == self.received_hash { "match" } else { "MISMATCH" }
        );
        assert_eq!(self.received, self.bytes, "{what}: {self:?}");
        assert_eq!(self.sent_hash, self.received_hash, "{what}: {self:?}");
    }
}

fn fill(chunk: &mut [u8], offset: u64) {
    for (i, b) in chunk.iter_mut().enumerate() {
        *b = pattern_byte(offset + i as u64);
    }
}

/// smoltcp connects to a via6 listener at `dst` and sends `bytes`, then
/// closes; via6 reads to end of stream.
fn smol_to_via6(rig: &mut Rig, dst: SocketAddr, bytes: u64) -> Outcome {
    let family = if dst.is_ipv4() { Family::Inet } else { Family::Inet6 };
    let cfg = TcpConfig::default();
    let v6 = rig.via6();
    let l = v6.socket(family, Proto::Tcp);
    v6.bind(l, wildcard(family, dst.port())).expect("bind");
    v6.tcp_listen(l, 4).expect("listen");
    let s = rig.peer.tcp_socket(cfg.rcvbuf, cfg.sndbuf);
    rig.peer.connect(s, dst, 40000);
    let start = rig.lab.now();
    let (mut sent, mut closed, mut eof) = (0u64, false, false);
    let (mut sh, mut rh) = (StreamHash::default(), StreamHash::default());
    let mut received = 0u64;
    let mut conn = None;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut buf = vec![0u8; 256 * 1024];
    while !eof {
        assert!(rig.lab.now() < start + LIMIT, "timed out: {received} of {bytes} bytes");
        rig.step();
        let sock = rig.peer.tcp(s);
        while sent < bytes && sock.can_send() {
            let n = (bytes - sent).min(chunk.len() as u64) as usize;
            fill(&mut chunk[..n], sent);
            let k = sock.send_slice(&chunk[..n]).expect("smoltcp send");
            if k == 0 {
                break;
            }
            sh.update(&chunk[..k]);
            sent += k as u64;
        }
        if sent == bytes && !closed {
            sock.close();
            closed = true;
        }
        let now = rig.lab.now();
        let v6 = rig.via6();
        if conn.is_none() {
            conn = v6.tcp_accept(l);
        }
        if let Some(h) = conn {
            loop {
                match v6.tcp_recv(h, &mut buf, now) {
                    Ok(0) => {
                        eof = true;
                        v6.close(h);
                        break;
                    }
                    Ok(n) => {
                        rh.update(&buf[..n]);
                        received += n as u64;
                    }
                    Err(e) if e.errno == Errno::EWOULDBLOCK => break,
                    Err(e) => panic!("via6 recv: {e}"),
                }
            }
        }
    }
    let elapsed = rig.lab.now() - start;
    rig.via6().close(l);
    Outcome { bytes, received, sent_hash: sh.0, received_hash: rh.0, elapsed }
}

/// via6 connects to a smoltcp listener at `dst` and sends `bytes`, then
/// shuts down its write side; smoltcp reads to end of stream.
fn via6_to_smol(rig: &mut Rig, dst: SocketAddr, bytes: u64) -> Outcome {
    let family = if dst.is_ipv4() { Family::Inet } else { Family::Inet6 };
    let cfg = TcpConfig::default();
    let s = rig.peer.tcp_socket(cfg.rcvbuf, cfg.sndbuf);
    rig.peer.tcp(s).listen(dst.port()).expect("smoltcp listen");
    let start = rig.lab.now();
    let v6 = rig.via6();
    let c = v6.socket(family, Proto::Tcp);
    v6.tcp_connect(c, dst, start).expect("connect");
    let (mut sent, mut shut, mut eof) = (0u64, false, false);
    let (mut sh, mut rh) = (StreamHash::default(), StreamHash::default());
    let mut received = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut buf = vec![0u8; 256 * 1024];
    while !eof {
        assert!(rig.lab.now() < start + LIMIT, "timed out: {received} of {bytes} bytes");
        rig.step();
        let now = rig.lab.now();
        let v6 = rig.via6();
        if let Some(e) = v6.tcp_error(c) {
            panic!("via6 connection failed: {e:?} ({})", e.text());
        }
        if v6.tcp_state(c).is_some_and(|st| st.is_synchronized()) {
            while sent < bytes {
                let n = (bytes - sent).min(chunk.len() as u64) as usize;
                fill(&mut chunk[..n], sent);
                match v6.tcp_send(c, &chunk[..n], now) {
                    Ok(k) => {
                        sh.update(&chunk[..k]);
                        sent += k as u64;
                    }
                    Err(e) if e.errno == Errno::EWOULDBLOCK => break,
                    Err(e) => panic!("via6 send: {e}"),
                }
            }
            if sent == bytes && !shut {
                v6.tcp_shutdown(c, Shutdown::Write, now).expect("shutdown");
                shut = true;
            }
        }
        let sock = rig.peer.tcp(s);
        while !matches!(sock.state(), tcp::State::Listen | tcp::State::SynReceived) {
            match sock.recv_slice(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    rh.update(&buf[..n]);
                    received += n as u64;
                }
                Err(tcp::RecvError::Finished) => {
                    eof = true;
                    sock.close();
                    break;
                }
                Err(e) => panic!("smoltcp recv: {e}"),
            }
        }
    }
    let elapsed = rig.lab.now() - start;
    eprintln!("via6 sender: {:?}", rig.via6().tcp_info(c));
    rig.via6().close(c);
    Outcome { bytes, received, sent_hash: sh.0, received_hash: rh.0, elapsed }
}

fn both_ways(rig: &mut Rig, via6_addr: SocketAddr, smol_addr: SocketAddr, what: &str) {
    smol_to_via6(rig, via6_addr, MB10).check(&format!("{what}: smoltcp -> via6"));
    via6_to_smol(rig, smol_addr, MB10).check(&format!("{what}: via6 -> smoltcp"));
    let link = rig.lab.foreign_link(rig.port).expect("link");
    eprintln!("{what}: link {:?}", rig.lab.links()[link].stats);
}

fn plain(loss: f64) -> Rig {
    Rig::new(PLAIN, &["192.0.2.2/24".parse().unwrap(), "2001:db8::2/64".parse().unwrap()], loss)
}

fn via(loss: f64) -> Rig {
    Rig::new(V4_VIA_V6, &["203.0.113.2/24".parse().unwrap(), "fe80::2/64".parse().unwrap()], loss)
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn link_local(rig: &Rig, last: u16, port: u16) -> SocketAddr {
    let ip = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, last);
    SocketAddr::V6(SocketAddrV6::new(ip, port, 0, rig.eth0()))
}

/// RFC 9293 §3.10 with a different implementation on the other end: 10 MB
/// each way over IPv4 on a plain IPv4 link.
#[test]
fn smoltcp_10mb_each_way_ipv4() {
    let mut rig = plain(0.0);
    both_ways(&mut rig, sa("192.0.2.1:5001"), sa("192.0.2.2:5002"), "IPv4 clean");
}

/// The same over IPv6 (global addresses, NDP).
#[test]
fn smoltcp_10mb_each_way_ipv6() {
    let mut rig = plain(0.0);
    both_ways(&mut rig, sa("[2001:db8::1]:5001"), sa("[2001:db8::2]:5002"), "IPv6 clean");
}

/// RFC 8950 shape: via6 reaches smoltcp's IPv4 address through an IPv4
/// default route whose next hop is smoltcp's IPv6 link-local address.
#[test]
fn smoltcp_10mb_each_way_ipv4_via_ipv6_next_hop() {
    let mut rig = via(0.0);
    let r = rig.via6().routes().lookup(IpAddr::V4("203.0.113.2".parse().unwrap()));
    assert!(r.is_some(), "no route to smoltcp");
    both_ways(&mut rig, sa("203.0.113.1:5001"), sa("203.0.113.2:5002"), "IPv4 via fe80::2");
}

/// IPv6 between link-local addresses (RFC 4007 zones on the via6 side).
#[test]
fn smoltcp_10mb_each_way_ipv6_link_local() {
    let mut rig = via(0.0);
    let (to_v6, to_smol) = (link_local(&rig, 1, 5001), link_local(&rig, 2, 5002));
    both_ways(&mut rig, to_v6, to_smol, "IPv6 link-local clean");
}

/// RFC 6298 / RFC 5681 against another stack's recovery: 1% loss both ways
/// on the link, IPv4; the streams still arrive byte-exact.
#[test]
fn smoltcp_10mb_each_way_ipv4_1pct_loss() {
    let mut rig = plain(0.01);
    both_ways(&mut rig, sa("192.0.2.1:5001"), sa("192.0.2.2:5002"), "IPv4 1% loss");
}

/// 1% loss, IPv6.
#[test]
fn smoltcp_10mb_each_way_ipv6_1pct_loss() {
    let mut rig = plain(0.01);
    both_ways(&mut rig, sa("[2001:db8::1]:5001"), sa("[2001:db8::2]:5002"), "IPv6 1% loss");
}

/// 1% loss, IPv4 through the IPv6 next hop.
#[test]
fn smoltcp_10mb_each_way_ipv4_via_ipv6_next_hop_1pct_loss() {
    let mut rig = via(0.01);
    both_ways(&mut rig, sa("203.0.113.1:5001"), sa("203.0.113.2:5002"), "IPv4 via fe80::2, 1% loss");
}

/// The foreign port is a link end like the others: a node interface that a
/// link already holds is refused, and frames to the port are captured.
#[test]
fn foreign_port_refuses_linked_interface_and_is_captured() {
    let mut lab = Lab::from_toml(PLAIN, 1).unwrap();
    lab.enable_capture();
    let port = lab.attach_foreign("v6:eth0", LinkParams::default()).unwrap();
    let e = lab.attach_foreign("v6:eth0", LinkParams::default()).unwrap_err();
    assert!(e.to_string().contains("already linked"), "{e}");
    assert!(lab.attach_foreign("v6:eth9", LinkParams::default()).is_err());
    assert!(lab.attach_foreign("nosuch:eth0", LinkParams::default()).is_err());
    // DAD and router solicitations reach the port.
    let t = lab.now() + Duration::from_secs(2);
    let reached = lab.run_until_foreign(t);
    assert!(reached < t, "no frame reached the port");
    let link = lab.foreign_link(port).unwrap();
    let mut n = 0;
    while lab.foreign_recv(port).is_some() {
        n += 1;
    }
    assert!(n > 0);
    assert_eq!(lab.captured(link).len(), n);
    assert!(lab.foreign_recv(port).is_none());
}
