//! RFC 8200 §4 extension-header processing at a destination and at a router.

#[path = "harden_common.rs"]
mod common;
use common::*;

fn dest_opts_echo(opt: &[u8], dst: std::net::Ipv6Addr) -> Vec<u8> {
    let echo = echo6(peer6(), dst, 8);
    let mut p = opts_header(58, opt);
    p.extend_from_slice(&echo);
    v6(peer6(), dst, 60, &p)
}

/// RFC 8200 §4.1: Hop-by-Hop only right after the IPv6 header; elsewhere it
/// is an unrecognised Next Header: parameter problem code 1 pointing at the
/// field that named it.
#[test]
fn hop_by_hop_not_first_is_param_problem_code_1() {
    let mut n = node();
    let mut p = opts_header(0, &[]);
    p.extend_from_slice(&opts_header(58, &[]));
    p.extend_from_slice(&echo6(peer6(), us6(), 8));
    rx0(&mut n, &v6(peer6(), us6(), 60, &p), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![(4, 1, 40)]);
}

/// RFC 8200 §4: an unrecognised Next Header → parameter problem code 1 with
/// the pointer at the Next Header field naming it (fixed header, or the
/// last extension header).
#[test]
fn unknown_next_header_is_param_problem_code_1_with_pointer() {
    let mut n = node();
    rx0(&mut n, &v6(peer6(), us6(), 253, &[0; 16]), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![(4, 1, 6)]);
    let mut p = opts_header(253, &[]);
    p.extend_from_slice(&[0; 16]);
    rx0(&mut n, &v6(peer6(), us6(), 60, &p), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![(4, 1, 40)]);
    assert_eq!(count(&n.s, "ip6s_noproto"), 2);
}

/// RFC 8200 §4.2: the two high bits of an unknown option's type decide:
/// 00 skip, 01 discard, 10 discard + parameter problem code 2 (even to a
/// multicast destination), 11 discard + code 2 unless multicast.
#[test]
fn option_action_bits_skip_discard_report_unless_multicast() {
    let mut n = node();
    let pointer = 42; // the option right after the two header octets
                      // 00: skipped, the echo is answered.
    rx0(&mut n, &dest_opts_echo(&[0x1e, 2, 0, 0], us6()), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![(129, 0, 0x1234_0001)]);
    // 01: silently discarded.
    let before = count(&n.s, "ip6s_badoptions");
    rx0(&mut n, &dest_opts_echo(&[0x5e, 2, 0, 0], us6()), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![]);
    assert_eq!(count(&n.s, "ip6s_badoptions"), before + 1);
    // 10: reported, to unicast and to multicast.
    rx0(&mut n, &dest_opts_echo(&[0x9e, 2, 0, 0], us6()), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![(4, 2, pointer)]);
    rx0(&mut n, &dest_opts_echo(&[0x9e, 2, 0, 0], a6("ff02::1")), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![(4, 2, pointer)]);
    // 11: reported to unicast only.
    rx0(&mut n, &dest_opts_echo(&[0xde, 2, 0, 0], us6()), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![(4, 2, pointer)]);
    rx0(&mut n, &dest_opts_echo(&[0xde, 2, 0, 0], a6("ff02::1")), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![]);
}

/// inet6(4) `ip6.hdrnestlimit`: more extension headers than the limit are
/// dropped and counted in ip6s_toomanyhdr; at the limit they are accepted.
#[test]
fn hdrnestlimit_drops_deeper_chains() {
    let mut n = node();
    n.s.set_sysctl("net.inet6.ip6.hdrnestlimit", 3).unwrap();
    let chain = |k: usize| {
        let mut p = Vec::new();
        for i in 0..k {
            p.extend_from_slice(&opts_header(if i + 1 == k { 58 } else { 60 }, &[]));
        }
        p.extend_from_slice(&echo6(peer6(), us6(), 8));
        v6(peer6(), us6(), 60, &p)
    };
    rx0(&mut n, &chain(3), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)).len(), 1, "three headers are fine");
    rx0(&mut n, &chain(4), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![]);
    assert_eq!(count(&n.s, "ip6s_toomanyhdr"), 1);
}

fn rh0(nh: u8, segments_left: u8) -> Vec<u8> {
    let mut h = vec![nh, 2, 0, segments_left, 0, 0, 0, 0];
    h.extend_from_slice(&a6("2001:db8:b::99").octets());
    h
}

/// RFC 5095 §3: a Type 0 Routing header with segments left is processed as
/// an unrecognised routing type (RFC 8200 §4.4): parameter problem code 0
/// pointing at the Routing Type field; with none left it is ignored.
#[test]
fn routing_type_0_refused() {
    let mut n = node();
    let mut p = rh0(58, 1);
    p.extend_from_slice(&echo6(peer6(), us6(), 8));
    rx0(&mut n, &v6(peer6(), us6(), 43, &p), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![(4, 0, 42)]);
    let mut p = rh0(58, 0);
    p.extend_from_slice(&echo6(peer6(), us6(), 8));
    rx0(&mut n, &v6(peer6(), us6(), 43, &p), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![(129, 0, 0x1234_0001)]);
}

/// RFC 7045 §2.2 / RFC 9098 / RFC 8200 §4: a router forwards packets whose
/// chain holds headers it does not know or does not process (unknown next
/// header, Destination Options with an unknown "report" option, a Routing
/// header not addressed to it); it does not drop them.
#[test]
fn router_forwards_unknown_extension_headers() {
    let mut n = node();
    n.s.set_sysctl("net.inet6.ip6.forwarding", 1).unwrap();
    let far = a6("2001:db8:b::99");
    let mut dopt = opts_header(58, &[0x9e, 2, 0, 0]);
    dopt.extend_from_slice(&echo6(peer6(), far, 8));
    let mut rh = rh0(58, 1);
    rh.extend_from_slice(&echo6(peer6(), far, 8));
    let mut hbh = opts_header(253, &[0x1e, 2, 0, 0]);
    hbh.extend_from_slice(&[0; 8]);
    let pkts = [
        v6(peer6(), far, 253, &[0; 16]),
        v6(peer6(), far, 60, &dopt),
        v6(peer6(), far, 43, &rh),
        v6(peer6(), far, 0, &hbh),
    ];
    for p in &pkts {
        rx0(&mut n, p, T0);
    }
    let out = drain(&mut n.s);
    assert_eq!(icmp6_sent(&out), vec![], "no errors");
    let fwd: Vec<_> = out.iter().filter(|(i, p)| *i == n.e1 && p[24..40] == far.octets()).collect();
    assert_eq!(fwd.len(), pkts.len());
    assert_eq!(count(&n.s, "ip6s_forward"), pkts.len() as u64);
}
