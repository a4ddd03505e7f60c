//! The socket APIs of `via6_rt::net` against the lab's seed topology (h1
//! IPv4 only on lo0 — r1 with no IPv4 at all — h2), driven on a background
//! thread: blocking and tokio TCP exchanges of 10 MB each way with hash
//! checks over IPv4-via-IPv6, UDP echo over both families, ECONNREFUSED and
//! read timeouts with std's error kinds.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;
use via6_rt::net::blocking::{TcpListener, TcpStream, UdpSocket};
use via6_rt::net::lab_host::LabDriver;

const SEED: &str = include_str!("../../lab/scenarios/seed.toml");
const BYTES: usize = 10 * 1024 * 1024;

fn lab() -> LabDriver {
    let mut lab = via6_lab::Lab::from_toml(SEED, 1).expect("seed topology");
    // DAD on the links finishes before sockets are used.
    lab.run_for(Duration::from_secs(3));
    LabDriver::start(lab).expect("lab driver")
}

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

/// Deterministic bytes for a direction.
fn pattern(seed: u8, n: usize) -> Vec<u8> {
    (0..n).map(|i| (i as u32).wrapping_mul(2654435761).rotate_left(seed as u32) as u8 ^ seed).collect()
}

/// FNV-1a 64.
fn hash(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

fn read_all(mut s: &TcpStream) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    (&mut s).read_to_end(&mut out)?;
    Ok(out)
}

/// Writes `data`, then half-closes, on its own thread; reads to EOF here.
fn exchange(s: TcpStream, data: Vec<u8>) -> Vec<u8> {
    let w = s.try_clone().expect("clone");
    let writer = std::thread::spawn(move || {
        (&w).write_all(&data).expect("write_all");
        w.shutdown(std::net::Shutdown::Write).expect("shutdown");
    });
    let got = read_all(&s).expect("read");
    writer.join().expect("writer thread");
    got
}

#[test]
fn blocking_tcp_10mb_each_way_over_ipv4_via_ipv6() {
    let lab = lab();
    let h1 = lab.host("h1").unwrap();
    let h2 = lab.host("h2").unwrap();
    let listener = TcpListener::bind(&h2, sa("0.0.0.0:5001")).unwrap();
    assert_eq!(listener.local_addr().unwrap(), sa("0.0.0.0:5001"));
    let server = std::thread::spawn(move || {
        let (s, peer) = listener.accept().expect("accept");
        assert_eq!(peer.ip().to_string(), "198.51.100.1", "h1's lo0 address is the source");
        exchange(s, pattern(2, BYTES))
    });
    let c = TcpStream::connect(&h1, sa("203.0.113.2:5001")).expect("connect");
    assert_eq!(c.peer_addr().unwrap(), sa("203.0.113.2:5001"));
    assert_eq!(c.local_addr().unwrap().ip().to_string(), "198.51.100.1");
    let got_client = exchange(c, pattern(1, BYTES));
    let got_server = server.join().expect("server thread");
    assert_eq!(got_server.len(), BYTES);
    assert_eq!(got_client.len(), BYTES);
    assert_eq!(hash(&got_server), hash(&pattern(1, BYTES)));
    assert_eq!(hash(&got_client), hash(&pattern(2, BYTES)));
}

#[test]
fn blocking_udp_echo_over_v4_and_v6() {
    let lab = lab();
    let h1 = lab.host("h1").unwrap();
    let h2 = lab.host("h2").unwrap();
    for (server_addr, dst) in [("0.0.0.0:7", "203.0.113.2:7"), ("[::]:7", "[2001:db8:2::1]:7")] {
        let echo = UdpSocket::bind(&h2, sa(server_addr)).unwrap();
        let t = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let (n, from) = echo.recv_from(&mut buf).expect("echo recv");
            echo.send_to(&buf[..n], from).expect("echo send");
            from
        });
        let wild = if dst.starts_with('[') { "[::]:0" } else { "0.0.0.0:0" };
        let c = UdpSocket::bind(&h1, sa(wild)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.connect(sa(dst)).unwrap();
        assert_eq!(c.send(b"hello via6").unwrap(), 10);
        let mut buf = [0u8; 64];
        let (n, from) = c.recv_from(&mut buf).expect("reply");
        assert_eq!(&buf[..n], b"hello via6");
        assert_eq!(from, sa(dst));
        let seen = t.join().unwrap();
        let want = if dst.starts_with('[') { "2001:db8:1::1" } else { "198.51.100.1" };
        assert_eq!(seen.ip().to_string(), want);
    }
}

#[test]
fn tokio_tcp_10mb_each_way_and_udp() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use via6_rt::net::tokio as vt;
    let lab = lab();
    let h1 = lab.host("h1").unwrap();
    let h2 = lab.host("h2").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let listener = vt::TcpListener::bind(&h2, sa("[::]:5002")).await.unwrap();
        let server = async {
            let (s, peer) = listener.accept().await.expect("accept");
            assert_eq!(peer.ip().to_string(), "2001:db8:1::1");
            let (mut r, mut w) = tokio::io::split(s);
            let wr = async {
                w.write_all(&pattern(4, BYTES)).await.unwrap();
                w.shutdown().await.unwrap();
            };
            let rd = async {
                let mut v = Vec::new();
                r.read_to_end(&mut v).await.unwrap();
                v
            };
            tokio::join!(wr, rd).1
        };
        let client = async {
            let s = vt::TcpStream::connect(&h1, sa("[2001:db8:2::1]:5002")).await.expect("connect");
            let (mut r, mut w) = tokio::io::split(s);
            let wr = async {
                w.write_all(&pattern(3, BYTES)).await.unwrap();
                w.shutdown().await.unwrap();
            };
            let rd = async {
                let mut v = Vec::new();
                r.read_to_end(&mut v).await.unwrap();
                v
            };
            tokio::join!(wr, rd).1
        };
        let (at_server, at_client) = tokio::join!(server, client);
        assert_eq!(at_server.len(), BYTES);
        assert_eq!(hash(&at_server), hash(&pattern(3, BYTES)));
        assert_eq!(at_client.len(), BYTES);
        assert_eq!(hash(&at_client), hash(&pattern(4, BYTES)));

        // UDP over IPv4 via IPv6 next hops.
        let echo = vt::UdpSocket::bind(&h2, sa("203.0.113.2:9")).await.unwrap();
        let c = vt::UdpSocket::bind(&h1, sa("0.0.0.0:0")).await.unwrap();
        c.send_to(b"ping", sa("203.0.113.2:9")).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = echo.recv_from(&mut buf).await.unwrap();
        echo.send_to(&buf[..n], from).await.unwrap();
        let n = c.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
    });
}

#[test]
fn errors_have_std_kinds() {
    let lab = lab();
    let h1 = lab.host("h1").unwrap();
    let h2 = lab.host("h2").unwrap();
    // Nothing listens on h2:5999: h2 answers RST (RFC 9293 §3.10.7.1).
    let e = TcpStream::connect(&h1, sa("203.0.113.2:5999")).err().expect("refused");
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    let e = TcpStream::connect(&h1, sa("[2001:db8:2::1]:5999")).err().expect("refused");
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    // Binding an address the node does not have, or a port in use.
    let e = TcpListener::bind(&h1, sa("203.0.113.2:80")).err().expect("not local");
    assert_eq!(e.kind(), io::ErrorKind::AddrNotAvailable, "{e}");
    let _l = TcpListener::bind(&h2, sa("0.0.0.0:6000")).unwrap();
    let e = TcpListener::bind(&h2, sa("0.0.0.0:6000")).err().expect("in use");
    assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{e}");
    // A read timeout expires as std's does on Unix.
    let l = TcpListener::bind(&h2, sa("0.0.0.0:6001")).unwrap();
    let c = TcpStream::connect(&h1, sa("203.0.113.2:6001")).unwrap();
    let (_s, _) = l.accept().unwrap();
    c.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let t0 = std::time::Instant::now();
    let mut buf = [0u8; 8];
    let e = (&c).read(&mut buf).expect_err("timeout");
    assert!(matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut), "{e}");
    assert!(t0.elapsed() >= Duration::from_millis(300));
    let u = UdpSocket::bind(&h1, sa("0.0.0.0:0")).unwrap();
    u.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let e = u.recv_from(&mut buf).expect_err("timeout");
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{e}");
    // Zero timeouts are refused, as in std.
    assert_eq!(c.set_read_timeout(Some(Duration::ZERO)).unwrap_err().kind(), io::ErrorKind::InvalidInput);
}

/// The same API on a daemon node embedded with `Node::start` (loopback
/// only: no device, no root): blocking and tokio sockets through the
/// daemon's main loop, and a blocking call refused on the loop's thread.
#[test]
fn daemon_node_loopback() {
    let spec = via6_lab::config::NodeConfig::from_toml(
        "[node]\nname = \"n\"\n[[interface]]\nname = \"lo0\"\nkind = \"loopback\"\naddresses = [\"192.0.2.1/32\", \"2001:db8::1/128\"]\n",
    )
    .and_then(|c| c.validate())
    .expect("config");
    let node = via6_rt::Node::start(spec, via6_rt::NodeOptions::default()).expect("node");
    let l = TcpListener::bind(&node, sa("192.0.2.1:80")).unwrap();
    let t = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        exchange(s, pattern(6, 1 << 20))
    });
    let c = TcpStream::connect(&node, sa("192.0.2.1:80")).unwrap();
    let got = exchange(c, pattern(5, 1 << 20));
    assert_eq!(hash(&got), hash(&pattern(6, 1 << 20)));
    assert_eq!(hash(&t.join().unwrap()), hash(&pattern(5, 1 << 20)));
    let e = TcpStream::connect(&node, sa("[2001:db8::1]:81")).err().expect("refused");
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    node.shutdown().unwrap();
}
