//! Issue 4's seed case: h1 has IPv4 only on lo0 (198.51.100.1/32) and
//! `0.0.0.0/0 via fe80::1%eth0`; a UDP exchange to h2's 203.0.113.2 must
//! arrive with source 198.51.100.1 — where FreeBSD fails with EHOSTUNREACH.

use core::time::Duration;
use std::net::IpAddr;
use via6_core::socket::{Family, Proto};
use via6_lab::lab::Lab;

#[test]
fn udp_from_a_v4_via_v6_host_carries_the_loopback_source() {
    for seed in [1, 2, 3] {
        let mut lab = Lab::from_toml(via6_lab::scenario::builtin("seed").unwrap(), seed).unwrap();
        lab.run_for(Duration::from_secs(3));
        let h2 = lab.node_mut("h2").unwrap();
        let srv = h2.socket(Family::Inet, Proto::Udp);
        h2.bind(srv, "0.0.0.0:7".parse().unwrap()).unwrap();
        let now = lab.now();
        let h1 = lab.node_mut("h1").unwrap();
        let c = h1.socket(Family::Inet, Proto::Udp);
        h1.connect(c, "203.0.113.2:7".parse().unwrap()).unwrap();
        assert_eq!(h1.local_addr(c).unwrap().ip(), "198.51.100.1".parse::<IpAddr>().unwrap(), "seed {seed}");
        h1.udp_send_to(c, b"hello", None, None, now).unwrap();
        lab.run_for(Duration::from_millis(100));
        let d = lab.node_mut("h2").unwrap().udp_recv_from(srv).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(d.data, b"hello");
        assert_eq!(d.from.ip(), "198.51.100.1".parse::<IpAddr>().unwrap(), "seed {seed}");
    }
}

#[test]
fn udp_to_a_closed_port_reports_econnrefused_through_the_router() {
    let mut lab = Lab::from_toml(via6_lab::scenario::builtin("seed").unwrap(), 1).unwrap();
    lab.run_for(Duration::from_secs(3));
    let now = lab.now();
    let h1 = lab.node_mut("h1").unwrap();
    let c = h1.socket(Family::Inet, Proto::Udp);
    h1.connect(c, "203.0.113.2:9".parse().unwrap()).unwrap();
    h1.udp_send_to(c, b"x", None, None, now).unwrap();
    lab.run_for(Duration::from_millis(100));
    let err = lab.node_mut("h1").unwrap().udp_recv_from(c).unwrap_err();
    assert_eq!(err.errno, via6_core::Errno::ECONNREFUSED);
}
