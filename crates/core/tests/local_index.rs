//! The local-address index stays in step with `add_address` and
//! `remove_address` (`Stack::is_local_address` consults it first).

mod harden_common;
use harden_common::*;
use std::net::IpAddr;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn add_remove_readd_both_families() {
    let mut n = node();
    for a in ["10.0.0.1", "10.1.0.1", "192.0.2.1", "2001:db8:a::1", "2001:db8::1", "fe80::1"] {
        assert!(n.s.is_local_address(ip(a)), "{a} is configured");
    }
    for a in ["10.0.0.2", "10.0.0.255", "2001:db8:a::2", "198.51.100.1"] {
        assert!(!n.s.is_local_address(ip(a)), "{a} is not an address of ours");
    }
    n.s.remove_address(n.e0, ip("10.0.0.1")).unwrap();
    n.s.remove_address(n.e0, ip("2001:db8:a::1")).unwrap();
    assert!(!n.s.is_local_address(ip("10.0.0.1")));
    assert!(!n.s.is_local_address(ip("2001:db8:a::1")));
    assert!(n.s.is_local_address(ip("10.1.0.1")), "others stay");
    assert!(n.s.is_local_address(ip("2001:db8:b::1")), "others stay");
    assert_eq!(n.s.local_ifindex(ip("10.1.0.1")), Some(n.e1));
    n.s.add_address(n.e1, ip("10.0.0.1"), 24, T0).unwrap();
    n.s.add_address(n.e1, ip("2001:db8:a::1"), 64, T0).unwrap();
    assert_eq!(n.s.local_ifindex(ip("10.0.0.1")), Some(n.e1), "re-added on another interface");
    assert_eq!(n.s.local_ifindex(ip("2001:db8:a::1")), Some(n.e1));
}
