//! `net.inet.ip.sourceroute` (FreeBSD `ip_dooptions` with its defaults,
//! RFC 7126 §4.3/§4.4): IPv4 packets carrying Loose or Strict Source and
//! Record Route options are refused with an ICMP source-route-failed error
//! (or dropped by a host they ask to forward onwards); with the knob on
//! they go by their destination as any packet does.

use crate::stats::Counter;
use crate::test_router::{drain, three_legs, IN_MAC, R_MAC};
use std::net::Ipv4Addr;
use via6_wire::ipv4_option::kind;

/// An Ethernet frame to the router's eth0 from 192.0.2.99 to `dst`, UDP,
/// with a source route option of `kind` naming `hops` with its pointer at
/// `ptr` (4: the first address).
fn source_routed(dst: Ipv4Addr, opt: u8, hops: &[Ipv4Addr], ptr: u8) -> Vec<u8> {
    let mut options = vec![opt, 3 + 4 * hops.len() as u8, ptr];
    for h in hops {
        options.extend_from_slice(&h.octets());
    }
    while options.len() % 4 != 0 {
        options.push(kind::END_OF_LIST);
    }
    let ihl = 5 + options.len() / 4;
    let udp = [0x30, 0x39, 0x00, 0x09, 0, 12, 0, 0, b'h', b'i', b'!', b'!'];
    let total = ihl * 4 + udp.len();
    let mut ip = vec![0x40 | ihl as u8, 0, 0, 0, 0x12, 0x34, 0, 0, 64, 17, 0, 0];
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip.extend_from_slice(&[192, 0, 2, 99]);
    ip.extend_from_slice(&dst.octets());
    ip.extend_from_slice(&options);
    let c = !via6_wire::checksum::ones_sum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut f = R_MAC.to_vec();
    f.extend_from_slice(&IN_MAC);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&udp);
    f
}

fn addr(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// (packets the router forwarded, ICMP errors it generated,
/// `ips_badoptions`, `ips_cantforward`) after one frame.
fn outcome(knob: i64, forwarding: i64, frame: &[u8]) -> (u64, u64, u64, u64) {
    let (mut r, _, now, [e0, _, _]) = three_legs(|r| {
        r.set_sysctl("net.inet.ip.sourceroute", knob).unwrap();
    });
    r.set_sysctl("net.inet.ip.forwarding", forwarding).unwrap();
    let counters = [Counter::IpsForward, Counter::IcpsError, Counter::IpsBadoptions, Counter::IpsCantforward];
    let before = counters.map(|c| r.stats().get(c));
    r.receive(e0, frame, now);
    drain(&mut r);
    let after = counters.map(|c| r.stats().get(c));
    (after[0] - before[0], after[1] - before[1], after[2] - before[2], after[3] - before[3])
}

#[test]
fn a_router_refuses_source_routes_by_default_and_forwards_them_when_allowed() {
    for opt in [kind::LSRR, kind::SSRR] {
        let f = source_routed(addr("10.1.0.10"), opt, &[addr("10.1.0.77")], 4);
        assert_eq!(outcome(0, 1, &f), (0, 1, 1, 0), "option {opt}: refused with ICMP code 5");
        assert_eq!(outcome(1, 1, &f).0, 1, "option {opt}: sourceroute=1 forwards by destination");
    }
}

#[test]
fn a_packet_for_us_is_refused_whether_or_not_its_route_is_done() {
    // Route done (pointer past the last address): refused with ICMP
    // (FreeBSD's accept_sourceroute=0).
    let done = source_routed(addr("192.0.2.1"), kind::LSRR, &[addr("10.1.0.77")], 8);
    assert_eq!(outcome(0, 1, &done), (0, 1, 1, 0));
    assert_eq!(outcome(0, 0, &done), (0, 1, 1, 0));
    // More hops to go: a router answers, a host drops silently.
    let more = source_routed(addr("192.0.2.1"), kind::LSRR, &[addr("10.1.0.77")], 4);
    assert_eq!(outcome(0, 1, &more), (0, 1, 1, 0));
    assert_eq!(outcome(0, 0, &more), (0, 0, 0, 1));
}

#[test]
fn other_options_are_not_source_routes() {
    // Record Route (type 7) with the same shape goes through.
    let f = source_routed(addr("10.1.0.10"), 7, &[addr("0.0.0.0")], 4);
    assert_eq!(outcome(0, 1, &f), (1, 0, 0, 0));
}
