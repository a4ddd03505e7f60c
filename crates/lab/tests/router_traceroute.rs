//! Issue 5, traceroute: time exceeded / hop limit exceeded from r1 on the
//! seed topology, their sources, and the RFC 4884 / RFC 5837 interface
//! information decoded from the captured frames.

mod router_support;

use core::time::Duration;
use router_support::*;
use std::net::{IpAddr, Ipv6Addr};
use via6_core::echo::EchoEvent;
use via6_lab::{Lab, Side};
use via6_wire::icmp_ext::{IcmpExtension, InterfaceInfo, InterfaceRole, CLASS_INTERFACE_INFO};

fn error_from(evs: &[EchoEvent]) -> (IpAddr, u8, u8) {
    match evs {
        [EchoEvent::Error { from, icmp_type, code, .. }] => (*from, *icmp_type, *code),
        other => panic!("expected exactly one ICMP error, got {other:?}"),
    }
}

fn reply_from(evs: &[EchoEvent]) -> IpAddr {
    match evs {
        [EchoEvent::Reply { from, .. }] => *from,
        other => panic!("expected exactly one reply, got {other:?}"),
    }
}

/// A traceroute h1 → `dst`: the hop-1 error and the hop-2 reply.
fn traceroute(lab: &mut Lab, dst: &str) -> (IpAddr, u8, IpAddr) {
    let (from1, t, _) = error_from(&ping(lab, "h1", dst, Some(1), 1));
    let from2 = reply_from(&ping(lab, "h1", dst, Some(2), 2));
    (from1, t, from2)
}

/// What RFC 4884 puts after the 8-octet ICMP header: the original datagram
/// field (length octet in units of `unit`), which quotes `offending` and is
/// zero-padded, then the extension structure holding one RFC 5837 object.
fn decode_ifinfo(msg: &[u8], length_octet: usize, unit: usize, offending: &[u8]) -> InterfaceInfoOwned {
    let words = usize::from(msg[length_octet]);
    assert_ne!(words, 0, "RFC 4884 §4: a message with extensions has a non-zero length field");
    let field = words * unit;
    assert!(field >= 128, "RFC 4884 §4.1/§4.2: original datagram field of {field} < 128 octets");
    let orig = &msg[8..8 + field];
    let quoted = offending.len().min(field);
    assert_eq!(&orig[..quoted], &offending[..quoted], "the original datagram field quotes the probe");
    if offending.len() < 128 {
        assert_eq!(field, 128, "a short datagram is padded to exactly 128 octets");
        assert!(orig[offending.len()..].iter().all(|&b| b == 0), "RFC 4884: zero padding");
    }
    let ext = IcmpExtension::new_checked(&msg[8 + field..]).expect("RFC 4884 §7 extension structure");
    assert_eq!(ext.version(), 2);
    assert_ne!(ext.checksum(), 0);
    assert!(ext.verify_checksum(), "RFC 4884 §7 checksum");
    let objs: Vec<_> = ext.objects().collect();
    assert_eq!(objs.len(), 1, "{objs:?}");
    assert_eq!(objs[0].class_num, CLASS_INTERFACE_INFO);
    let info = InterfaceInfo::parse(&objs[0]).expect("RFC 5837 object");
    InterfaceInfoOwned {
        role: info.role,
        if_index: info.if_index,
        addr: info.addr,
        name: info.name_str().map(str::to_string),
        mtu: info.mtu,
    }
}

#[derive(Debug)]
struct InterfaceInfoOwned {
    role: InterfaceRole,
    if_index: Option<u32>,
    addr: Option<IpAddr>,
    name: Option<String>,
    mtu: Option<u32>,
}

/// The probe r1 received (link 0 towards r1) and the error r1 sent back.
fn probe_and_error(lab: &Lab, since: usize, icmp6: bool) -> (Vec<u8>, Frame) {
    let fs = frames(lab, H1_R1, since);
    let probe = fs
        .iter()
        .find(|f| {
            f.to == Side::B
                && if icmp6 {
                    f.icmp6().is_some_and(|(t, ..)| t == 128)
                } else {
                    f.icmp4().is_some_and(|(t, ..)| t == 8)
                }
        })
        .expect("the probe on h1's link")
        .ip
        .clone();
    let errs = if icmp6 { icmp6_errors(&fs) } else { icmp4_errors(&fs) };
    assert_eq!(errs.len(), 1, "one error on h1's link: {errs:?}");
    assert_eq!(errs[0].to, Side::A);
    (probe, errs[0].clone())
}

/// RFC 7600 R-22 and draft-ietf-intarea-v4-via-v6 §4: a router with no IPv4
/// address answers a TTL-expired probe from 192.0.0.8; the next hop is h2.
#[test]
fn traceroute_v4_hop1_is_dummy_address_when_router_has_no_ipv4() {
    let mut lab = start(SEED);
    let (hop1, t, hop2) = traceroute(&mut lab, "203.0.113.2");
    assert_eq!((hop1, t, hop2), (ip("192.0.0.8"), 11, ip("203.0.113.2")));
}

/// RFC 1812 §4.3.2.4 / DESIGN §3 rule 4: with an IPv4 address on a loopback
/// (the router-id), hop 1 is that address — not 192.0.0.8, not 127.0.0.1.
#[test]
fn traceroute_v4_hop1_is_loopback_router_id_when_router_has_one() {
    let mut lab = start(&with_r1_loopback(SEED));
    let (hop1, t, hop2) = traceroute(&mut lab, "203.0.113.2");
    assert_eq!((hop1, t, hop2), (ip("192.0.2.1"), 11, ip("203.0.113.2")));
}

/// RFC 5837 §4.1 (incoming interface: ifIndex, name, MTU) inside an RFC 4884
/// §4.1 multi-part time exceeded: length field in 32-bit words, original
/// datagram zero-padded to 128 octets. eth0 has no IPv4 address, so no IP
/// address sub-object (RFC 5837 §4.2 would carry one of the error's family).
#[test]
fn time_exceeded_v4_names_incoming_interface_rfc5837() {
    for with_lo in [false, true] {
        let base = seed_with_sysctls(&["\"net.inet.icmp.ext_ifinfo\" = 1"]);
        let text = if with_lo { with_r1_loopback(&base) } else { base };
        let mut lab = start(&text);
        let m = mark(&lab, H1_R1);
        let evs = ping(&mut lab, "h1", "203.0.113.2", Some(1), 1);
        let r1 = lab.node("r1").unwrap();
        let eth0 = r1.ifindex("eth0").unwrap();
        // The echo socket sees the object too.
        match &evs[..] {
            [EchoEvent::Error { ifname, ifindex, .. }] => {
                assert_eq!((ifname.as_deref(), *ifindex), (Some("eth0"), Some(eth0.0)))
            }
            other => panic!("{other:?}"),
        }
        let (probe, err) = probe_and_error(&lab, m, false);
        let ip4 = err.v4().unwrap();
        assert!(ip4.verify_checksum());
        let (t, c, msg) = err.icmp4().unwrap();
        assert_eq!((t, c), (11, 0));
        assert_eq!(via6_wire::checksum::checksum(msg), 0, "ICMP checksum covers the extensions");
        assert!(probe.len() < 128);
        // RFC 4884 §4.1: ICMPv4 length is octet 5, in 32-bit words.
        assert_eq!(msg[5], 128 / 4);
        let info = decode_ifinfo(msg, 5, 4, &probe);
        assert_eq!(info.role, InterfaceRole::Incoming);
        assert_eq!(info.if_index, Some(eth0.0));
        assert_eq!(info.name.as_deref(), Some("eth0"));
        assert_eq!(info.mtu, Some(1500));
        assert_eq!(info.addr, None, "eth0 has no IPv4 address");
        assert_eq!(
            ip4.src(),
            if with_lo { "192.0.2.1" } else { "192.0.0.8" }.parse::<std::net::Ipv4Addr>().unwrap()
        );
        assert!(usize::from(ip4.total_len()) <= 576, "RFC 1812 §4.3.2.3");
    }
}

/// RFC 4443 §3.3 hop limit exceeded with RFC 4884 §4.2 (length in 64-bit
/// words, octet 4) and RFC 5837. Its source (RFC 4443 §2.2: chosen as for any
/// packet to the offending source; RFC 6724: only link-locals exist, rule 5
/// prefers the outgoing interface) is a link-local address of r1's eth0 —
/// the link the error is sent on — and the frame goes out eth0.
#[test]
fn hop_limit_exceeded_v6_from_eth0_link_local_names_incoming_interface() {
    let text = seed_with_sysctls(&["\"net.inet6.icmp6.ext_ifinfo\" = 1"]);
    let mut lab = start(&text);
    let m = mark(&lab, H1_R1);
    let evs = ping(&mut lab, "h1", "2001:db8:2::1", Some(1), 1);
    let (from, t, code) = error_from(&evs);
    assert_eq!((t, code), (3, 0));
    let IpAddr::V6(from) = from else { panic!("{from}") };
    let eth0_ll = addrs6_of(&lab, "r1", "eth0");
    let eth1_only: Vec<Ipv6Addr> =
        addrs6_of(&lab, "r1", "eth1").into_iter().filter(|a| !eth0_ll.contains(a)).collect();
    assert!(from.is_unicast_link_local(), "{from}");
    assert!(eth0_ll.contains(&from), "{from} is not an address of r1's eth0 {eth0_ll:?}");
    assert!(!eth1_only.contains(&from));

    let (probe, err) = probe_and_error(&lab, m, true);
    let ip6 = err.v6().unwrap();
    assert_eq!(ip6.src(), from);
    assert_eq!(ip6.dst(), "2001:db8:1::1".parse::<Ipv6Addr>().unwrap());
    assert_eq!(err.dst_mac, mac("h1", "eth0"));
    let (_, _, msg) = err.icmp6().unwrap();
    let icmp = via6_wire::Icmpv6Packet::new_checked(msg).unwrap();
    assert!(icmp.verify_checksum(ip6.src(), ip6.dst()));
    assert!(probe.len() < 128);
    assert_eq!(msg[4], 128 / 8, "RFC 4884 §4.2: ICMPv6 length in 64-bit words");
    let r1 = lab.node("r1").unwrap();
    let eth0 = r1.ifindex("eth0").unwrap();
    let info = decode_ifinfo(msg, 4, 8, &probe);
    assert_eq!(info.role, InterfaceRole::Incoming);
    assert_eq!(info.if_index, Some(eth0.0));
    assert_eq!(info.name.as_deref(), Some("eth0"));
    assert_eq!(info.mtu, Some(1500));
    if let Some(IpAddr::V6(a)) = info.addr {
        assert!(eth0_ll.contains(&a), "the IP address sub-object is eth0's: {a}");
    } else {
        assert_eq!(info.addr, None);
    }
}

/// Without `ext_ifinfo` (the default) no extension is appended: the RFC 4884
/// length octets stay zero and the message is the plain RFC 792/4443 one.
#[test]
fn errors_carry_no_extension_by_default() {
    let mut lab = start(SEED);
    let m = mark(&lab, H1_R1);
    ping(&mut lab, "h1", "203.0.113.2", Some(1), 1);
    ping(&mut lab, "h1", "2001:db8:2::1", Some(1), 2);
    let fs = frames(&lab, H1_R1, m);
    let e4 = icmp4_errors(&fs);
    let e6 = icmp6_errors(&fs);
    assert_eq!((e4.len(), e6.len()), (1, 1));
    let (_, _, m4) = e4[0].icmp4().unwrap();
    let (_, _, m6) = e6[0].icmp6().unwrap();
    assert_eq!((m4[5], m6[4]), (0, 0));
    assert_eq!(m4.len(), 8 + 20 + 8 + 56);
    assert_eq!(m6.len(), 8 + 40 + 8 + 56);
}

/// With extensions, big probes still give errors within the limits: 576
/// octets for ICMPv4 (RFC 1812 §4.3.2.3) and the IPv6 minimum MTU of 1280
/// for ICMPv6 (RFC 4443 §2.4(c)), with the RFC 4884 length consistent.
#[test]
fn errors_with_extensions_respect_size_limits() {
    let text = seed_with_sysctls(&["\"net.inet.icmp.ext_ifinfo\" = 1", "\"net.inet6.icmp6.ext_ifinfo\" = 1"]);
    let mut lab = start(&text);
    let m = mark(&lab, H1_R1);
    let w = Duration::from_millis(200);
    probe(&mut lab, "h1", "203.0.113.2", Some(1), 1400 - 28, false, 1, w);
    probe(&mut lab, "h1", "2001:db8:2::1", Some(1), 1400 - 48, false, 2, w);
    let fs = frames(&lab, H1_R1, m);
    let e4 = icmp4_errors(&fs);
    let e6 = icmp6_errors(&fs);
    assert_eq!((e4.len(), e6.len()), (1, 1), "{fs:?}");
    let ip4 = e4[0].v4().unwrap();
    assert!(usize::from(ip4.total_len()) <= 576, "ICMPv4 error of {} octets", ip4.total_len());
    let (_, _, m4) = e4[0].icmp4().unwrap();
    assert!(IcmpExtension::new_checked(&m4[8 + usize::from(m4[5]) * 4..]).is_ok());
    let ip6 = e6[0].v6().unwrap();
    assert!(ip6.total_len() <= 1280, "ICMPv6 error of {} octets exceeds 1280", ip6.total_len());
    let (_, _, m6) = e6[0].icmp6().unwrap();
    assert!(IcmpExtension::new_checked(&m6[8 + usize::from(m6[4]) * 8..]).is_ok());
    let icmp = via6_wire::Icmpv6Packet::new_checked(m6).unwrap();
    assert!(icmp.verify_checksum(ip6.src(), ip6.dst()));
}
