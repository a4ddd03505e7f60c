//! A connection caches its output decision (`crates/core/src/tcp/emit.rs`)
//! and must drop it when the routing table changes: a blackhole route
//! installed mid-transfer stops the segments, deleting it lets the
//! retransmissions through and the stream completes intact.

use core::time::Duration;
use std::net::SocketAddr;
use via6_core::route::{NextHop, Route};
use via6_core::socket::{Family, Proto};
use via6_core::Errno;
use via6_lab::lab::Lab;
use via6_wire::IpPrefix;

const H2_V4: &str = "203.0.113.2";

fn recv_all(lab: &mut Lab, h: via6_core::socket::SocketHandle, out: &mut Vec<u8>) {
    let now = lab.now();
    let s = lab.node_mut("h2").unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.tcp_recv(h, &mut buf, now) {
            Ok(0) => return,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.errno == Errno::EWOULDBLOCK => return,
            Err(e) => panic!("recv: {e}"),
        }
    }
}

#[test]
fn route_change_invalidates_the_connection_route_cache() {
    let mut lab = Lab::from_toml(via6_lab::scenario::builtin("seed").unwrap(), 11).unwrap();
    lab.run_for(Duration::from_secs(3));
    let sa: SocketAddr = format!("{H2_V4}:80").parse().unwrap();
    let s2 = lab.node_mut("h2").unwrap();
    let l = s2.socket(Family::Inet, Proto::Tcp);
    s2.bind(l, "0.0.0.0:80".parse().unwrap()).unwrap();
    s2.tcp_listen(l, 4).unwrap();
    let now = lab.now();
    let s1 = lab.node_mut("h1").unwrap();
    let c = s1.socket(Family::Inet, Proto::Tcp);
    s1.tcp_connect(c, sa, now).unwrap();
    lab.run_for(Duration::from_millis(50));
    let a = lab.node_mut("h2").unwrap().tcp_accept(l).expect("accepted");

    let mut got = Vec::new();
    let now = lab.now();
    assert_eq!(lab.node_mut("h1").unwrap().tcp_send(c, b"before ", now).unwrap(), 7);
    lab.run_for(Duration::from_millis(50));
    recv_all(&mut lab, a, &mut got);
    assert_eq!(got, b"before ");

    // A more specific blackhole route: the cached decision must not be used.
    let dest: IpPrefix = format!("{H2_V4}/32").parse().unwrap();
    let s1 = lab.node_mut("h1").unwrap();
    s1.add_route(Route::new(dest, NextHop::Blackhole, None)).unwrap();
    let now = lab.now();
    assert_eq!(lab.node_mut("h1").unwrap().tcp_send(c, b"during ", now).unwrap(), 7);
    lab.run_for(Duration::from_millis(100));
    recv_all(&mut lab, a, &mut got);
    assert_eq!(got, b"before ", "nothing passes a blackhole route");

    lab.node_mut("h1").unwrap().delete_route(dest, None).unwrap();
    lab.run_for(Duration::from_secs(5));
    recv_all(&mut lab, a, &mut got);
    assert_eq!(got, b"before during ", "the retransmission takes the restored route");
}
