//! Issue 5, the errors a router owes and the ones it must not send: rate
//! limits, no error about an error, scope rules, unreachables, counters.

mod router_support;

use core::time::Duration;
use router_support::*;
use std::net::{IpAddr, Ipv6Addr};
use via6_core::echo::{EchoEvent, EchoRequest};
use via6_core::route::{NextHop, Route};
use via6_lab::{Lab, Side};
use via6_wire::icmpv6::{Icmpv6DstUnreachable, Icmpv6Repr, Icmpv6TimeExceeded};
use via6_wire::ip::protocol;
use via6_wire::MacAddr;

const WAIT: Duration = Duration::from_millis(200);

/// Sends `n` TTL-1 probes from h1 to `dst`, 1 ms apart (all within one
/// virtual second), and returns the errors h1 got.
fn burst(lab: &mut Lab, dst: &str, n: u16) -> usize {
    let ident = 0x7777;
    lab.node_mut("h1").unwrap().echo_bind(ident);
    for seq in 0..n {
        let now = lab.now();
        let req = EchoRequest {
            dst: dst.parse().unwrap(),
            zone: None,
            src: None,
            ident,
            seq,
            payload_len: 16,
            ttl: Some(1),
            dont_frag: false,
        };
        lab.node_mut("h1").unwrap().echo_send(&req, now).unwrap();
        lab.run_for(Duration::from_millis(1));
    }
    lab.run_for(WAIT);
    let st = lab.node_mut("h1").unwrap();
    let mut errors = 0;
    while let Some(e) = st.echo_recv(ident) {
        assert!(matches!(e, EchoEvent::Error { icmp_type: 11 | 3, .. }), "{e:?}");
        errors += 1;
    }
    st.echo_unbind(ident);
    errors
}

fn warm_up(lab: &mut Lab) {
    for (s, d) in [(100, "203.0.113.2"), (101, "2001:db8:2::1")] {
        assert!(matches!(ping(lab, "h1", d, None, s)[..], [EchoEvent::Reply { .. }]));
    }
}

/// icmp(4) `net.inet.icmp.icmplim`: at most 200 ICMPv4 errors per second;
/// the rest are counted as `icps_toofreq` and not sent.
#[test]
fn icmplim_caps_icmpv4_errors_per_second() {
    let mut lab = start(SEED);
    warm_up(&mut lab);
    let m = mark(&lab, H1_R1);
    let got = burst(&mut lab, "203.0.113.2", 500);
    assert_eq!(got, 200);
    assert_eq!(icmp4_errors(&frames(&lab, H1_R1, m)).len(), 200);
    assert_eq!(counter(&lab, "r1", "icps_toofreq"), 300);
    assert_eq!(counter(&lab, "r1", "ips_timeexceeded"), 500);
    assert_eq!(lab.node("r1").unwrap().stats().icmp_outhist[11], 200);
    // A new second, a new budget.
    lab.run_for(Duration::from_secs(1));
    assert_eq!(burst(&mut lab, "203.0.113.2", 10), 10);
}

/// icmp6(4) `net.inet6.icmp6.errppslimit`: at most 100 ICMPv6 errors per
/// second, the rest counted as `icp6s_toofreq` (RFC 4443 §2.4(f)).
#[test]
fn errppslimit_caps_icmpv6_errors_per_second() {
    let mut lab = start(SEED);
    warm_up(&mut lab);
    let m = mark(&lab, H1_R1);
    let got = burst(&mut lab, "2001:db8:2::1", 500);
    assert_eq!(got, 100);
    assert_eq!(icmp6_errors(&frames(&lab, H1_R1, m)).len(), 100);
    assert_eq!(counter(&lab, "r1", "icp6s_toofreq"), 400);
    assert_eq!(counter(&lab, "r1", "ip6s_timeexceeded"), 500);
    assert_eq!(lab.node("r1").unwrap().stats().icmp6_outhist[3], 100);
}

/// A limit of 0 means unlimited (icmp(4): "0 disables"; DESIGN §5).
#[test]
fn rate_limit_zero_means_unlimited() {
    let text = seed_with_sysctls(&["\"net.inet.icmp.icmplim\" = 0", "\"net.inet6.icmp6.errppslimit\" = 0"]);
    let mut lab = start(&text);
    warm_up(&mut lab);
    assert_eq!(burst(&mut lab, "203.0.113.2", 500), 500);
    assert_eq!(burst(&mut lab, "2001:db8:2::1", 500), 500);
    assert_eq!(counter(&lab, "r1", "icps_toofreq"), 0);
    assert_eq!(counter(&lab, "r1", "icp6s_toofreq"), 0);
}

/// Injects `ip` from h1 (to r1's eth0 MAC, or `dst_mac`) and returns the
/// ICMP errors r1 sent back on h1's link.
fn errors_for(lab: &mut Lab, ip: &[u8], dst_mac: Option<MacAddr>) -> Vec<Frame> {
    let m = mark(lab, H1_R1);
    let f = eth_frame(mac("h1", "eth0"), dst_mac.unwrap_or(mac("r1", "eth0")), ip);
    assert!(lab.inject(H1_R1, Side::A, &f));
    lab.run_for(WAIT);
    let fs: Vec<Frame> = frames(lab, H1_R1, m).into_iter().filter(|f| f.to == Side::A).collect();
    let mut e = icmp4_errors(&fs);
    e.extend(icmp6_errors(&fs));
    e
}

/// IPv4 frames r1 forwarded to h2 since `m`.
fn forwarded_v4(lab: &Lab, m: usize) -> usize {
    frames(lab, R1_H2, m).iter().filter(|f| f.to == Side::B && f.v4().is_some()).count()
}

/// RFC 1812 §4.3.2.7 / RFC 1122 §3.2.2: no ICMPv4 error about an ICMPv4
/// error (counted as `icps_oldicmp`); an echo request in the same spot does
/// get its time exceeded.
#[test]
fn no_icmpv4_error_about_an_icmpv4_error() {
    let mut lab = start(SEED);
    let hdr = V4::new("198.51.100.1", "203.0.113.2", 1, protocol::ICMP);
    let quoted = V4::new("203.0.113.2", "198.51.100.1", 60, protocol::UDP).build(&[0u8; 8]);
    let echo = hdr.build(&icmp4_echo(1, 1, 32));
    assert_eq!(errors_for(&mut lab, &echo, None).len(), 1, "control: an echo request gets an error");
    for t in [3u8, 4, 5, 11, 12] {
        let before = counter(&lab, "r1", "icps_oldicmp");
        let pkt = hdr.build(&icmp4_raw(t, 1, &[&[0u8; 4][..], &quoted].concat()));
        assert_eq!(errors_for(&mut lab, &pkt, None), vec![], "type {t}");
        assert_eq!(counter(&lab, "r1", "icps_oldicmp"), before + 1, "type {t}");
    }
}

/// RFC 4443 §2.4(e.1): no ICMPv6 error about an ICMPv6 error (types < 128)
/// or a redirect (counted as `icp6s_canterror`).
#[test]
fn no_icmpv6_error_about_an_icmpv6_error() {
    let mut lab = start(SEED);
    let (s, d): (Ipv6Addr, Ipv6Addr) = ("2001:db8:1::1".parse().unwrap(), "2001:db8:2::1".parse().unwrap());
    let echo = v6_echo("2001:db8:1::1", "2001:db8:2::1", 1, 32);
    assert_eq!(errors_for(&mut lab, &echo, None).len(), 1, "control: an echo request gets an error");
    let inner = v6_echo("2001:db8:2::1", "2001:db8:1::1", 60, 8);
    let msgs = [
        icmp6_msg(
            s,
            d,
            &Icmpv6Repr::DstUnreachable {
                reason: Icmpv6DstUnreachable::from_code(4),
                invoking: &inner,
                extensions: None,
            },
        ),
        icmp6_msg(s, d, &Icmpv6Repr::PacketTooBig { mtu: 1280, invoking: &inner }),
        icmp6_msg(
            s,
            d,
            &Icmpv6Repr::TimeExceeded {
                reason: Icmpv6TimeExceeded::from_code(0),
                invoking: &inner,
                extensions: None,
            },
        ),
        icmp6_msg(s, d, &Icmpv6Repr::Other { msg_type: 4, code: 0, rest: 6, data: &inner }),
        icmp6_msg(s, d, &Icmpv6Repr::Other { msg_type: 137, code: 0, rest: 0, data: &[0u8; 32] }),
    ];
    for m in msgs {
        let before = counter(&lab, "r1", "icp6s_canterror");
        let pkt = v6_packet(s, d, 1, protocol::ICMPV6, &m);
        assert_eq!(errors_for(&mut lab, &pkt, None), vec![], "type {}", m[0]);
        assert_eq!(counter(&lab, "r1", "icp6s_canterror"), before + 1, "type {}", m[0]);
    }
}

/// RFC 1812 §4.3.2.7: no ICMPv4 error about a non-initial fragment, a
/// datagram to a multicast or broadcast address, or one whose source is not
/// a unique host (0.0.0.0).
#[test]
fn no_icmpv4_error_about_fragments_multicast_broadcast_or_unspecified_source() {
    let mut lab = start(SEED);
    let udp = [0u8; 16];
    let mut frag = V4::new("198.51.100.1", "203.0.113.2", 1, protocol::UDP);
    frag.frag_offset = 1480;
    assert_eq!(errors_for(&mut lab, &frag.build(&udp), None), vec![], "non-first fragment");
    let mut first = frag;
    first.frag_offset = 0;
    first.more_frags = true;
    assert_eq!(errors_for(&mut lab, &first.build(&udp), None).len(), 1, "control: first fragment");
    for (src, dst) in
        [("198.51.100.1", "233.252.0.1"), ("198.51.100.1", "255.255.255.255"), ("0.0.0.0", "203.0.113.2")]
    {
        // UDP to a closed port 9 as well: no port unreachable either.
        let mut u = [0u8; 16];
        u[2..4].copy_from_slice(&9u16.to_be_bytes());
        u[4..6].copy_from_slice(&16u16.to_be_bytes());
        let p = V4::new(src, dst, 1, protocol::UDP).build(&u);
        assert_eq!(errors_for(&mut lab, &p, None), vec![], "{src} -> {dst}");
    }
}

/// RFC 1812 §4.3.2.7 ("a datagram sent as a link-layer broadcast") and
/// §5.3.4 (a router MUST NOT forward a unicast datagram received as a
/// link-layer broadcast); RFC 4443 §2.4(e.3) and RFC 1122 §3.3.6 likewise
/// for link-layer multicast: no error, and nothing forwarded.
#[test]
fn link_layer_broadcast_is_never_forwarded_nor_answered() {
    let mut lab = start(SEED);
    let all_nodes = MacAddr::ipv6_multicast("ff02::1".parse().unwrap());
    for ttl in [1u8, 64] {
        let m1 = mark(&lab, R1_H2);
        let p = V4::new("198.51.100.1", "203.0.113.2", ttl, protocol::ICMP).build(&icmp4_echo(1, 1, 16));
        assert_eq!(errors_for(&mut lab, &p, Some(MacAddr::BROADCAST)), vec![], "v4 ttl {ttl}");
        assert_eq!(forwarded_v4(&lab, m1), 0, "v4 ttl {ttl} forwarded");
        let p6 = v6_echo("2001:db8:1::1", "2001:db8:2::1", ttl, 16);
        assert_eq!(errors_for(&mut lab, &p6, Some(all_nodes)), vec![], "v6 hlim {ttl}");
        let fwd6 = frames(&lab, R1_H2, m1)
            .iter()
            .filter(|f| f.to == Side::B && f.icmp6().is_some_and(|(t, ..)| t == 128))
            .count();
        assert_eq!(fwd6, 0, "v6 hlim {ttl} forwarded");
    }
    // Control: the same datagrams to r1's own MAC are forwarded.
    let m1 = mark(&lab, R1_H2);
    let p = V4::new("198.51.100.1", "203.0.113.2", 64, protocol::ICMP).build(&icmp4_echo(1, 1, 16));
    errors_for(&mut lab, &p, None);
    assert_eq!(forwarded_v4(&lab, m1), 1);
}

/// RFC 4443 §2.4(e.2/e.3): no ICMPv6 error to a multicast destination (other
/// than Packet Too Big / parameter problem code 2) or from an unspecified
/// source; neither is forwarded.
#[test]
fn no_icmpv6_error_about_multicast_or_unspecified_source() {
    let mut lab = start(SEED);
    for (s, d) in [("2001:db8:1::1", "ff0e::1"), ("::", "2001:db8:2::1")] {
        let p = v6_echo(s, d, 1, 16);
        assert_eq!(errors_for(&mut lab, &p, None), vec![], "{s} -> {d}");
    }
}

/// RFC 4007 §9 / RFC 4443 §3.1 code 2: a packet with a link-local source is
/// not forwarded off its link; r1 answers "beyond scope of source address",
/// counts `ip6s_badscope` and `ip6s_cantforward`, and logs (at most once per
/// `ip6.log_interval`). A link-local destination is never forwarded either.
#[test]
fn link_local_never_leaves_its_link() {
    let mut lab = start(SEED);
    lab.node_mut("r1").unwrap().take_logs();
    let m1 = mark(&lab, R1_H2);
    let p = v6_echo("fe80::2", "2001:db8:2::1", 64, 16);
    let errs = errors_for(&mut lab, &p, None);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let (t, c, _) = errs[0].icmp6().unwrap();
    assert_eq!((t, c), (1, 2));
    let e = errs[0].v6().unwrap();
    assert_eq!(e.dst(), "fe80::2".parse::<Ipv6Addr>().unwrap());
    assert!(addrs6_of(&lab, "r1", "eth0").contains(&e.src()), "from r1's eth0 link-local: {}", e.src());
    assert_eq!(counter(&lab, "r1", "ip6s_badscope"), 1);
    assert_eq!(counter(&lab, "r1", "ip6s_cantforward"), 1);
    let logs = lab.node_mut("r1").unwrap().take_logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(logs[0].text.contains("fe80::2") && logs[0].text.contains("2001:db8:2::1"), "{logs:?}");
    // Within log_interval (5 s): counted, answered, not logged again.
    errors_for(&mut lab, &p, None);
    assert_eq!(counter(&lab, "r1", "ip6s_badscope"), 2);
    assert!(lab.node_mut("r1").unwrap().take_logs().is_empty());
    // A link-local destination that is not r1's: never forwarded.
    let p = v6_echo("2001:db8:1::1", "fe80::99", 64, 16);
    assert_eq!(errors_for(&mut lab, &p, None), vec![]);
    assert_eq!(counter(&lab, "r1", "ip6s_cantforward"), 3);
    // After the interval the next one is logged again.
    lab.run_for(Duration::from_secs(5));
    let p = v6_echo("fe80::2", "2001:db8:2::1", 64, 16);
    errors_for(&mut lab, &p, None);
    assert_eq!(lab.node_mut("r1").unwrap().take_logs().len(), 1);
    // Nothing with a link-local address crossed to h2.
    for f in frames(&lab, R1_H2, m1).iter().filter(|f| f.to == Side::B) {
        if let Some(p) = f.v6() {
            assert!(f.icmp6().is_none_or(|(t, ..)| t != 128), "forwarded {} -> {}", p.src(), p.dst());
        }
    }
}

/// RFC 3927 §7: an IPv4 datagram with a 169.254/16 source (or destination)
/// is not forwarded (`ips_cantforward`).
#[test]
fn ipv4_link_local_is_not_forwarded() {
    let mut lab = start(SEED);
    let before = counter(&lab, "r1", "ips_cantforward");
    let m1 = mark(&lab, R1_H2);
    let p = V4::new("169.254.7.7", "203.0.113.2", 64, protocol::ICMP).build(&icmp4_echo(1, 1, 16));
    errors_for(&mut lab, &p, None);
    let p = V4::new("198.51.100.1", "169.254.7.7", 64, protocol::ICMP).build(&icmp4_echo(1, 1, 16));
    errors_for(&mut lab, &p, None);
    assert_eq!(forwarded_v4(&lab, m1), 0);
    assert_eq!(counter(&lab, "r1", "ips_cantforward"), before + 2);
}

fn single_error(evs: &[EchoEvent]) -> (IpAddr, u8, u8) {
    match evs {
        [EchoEvent::Error { from, icmp_type, code, .. }] => (*from, *icmp_type, *code),
        other => panic!("expected one error: {other:?}"),
    }
}

/// RFC 1812 §5.2.7.1 / RFC 4443 §3.1: no route → net unreachable (3/0) from
/// 192.0.0.8, no route to destination (1/0) from r1's eth0 link-local;
/// `ips_noroute` / `ip6s_noroute` counted.
#[test]
fn no_route_gives_net_unreachable() {
    let mut lab = start(SEED);
    let (f, t, c) = single_error(&ping(&mut lab, "h1", "203.0.113.99", None, 1));
    assert_eq!((f, t, c), (ip("192.0.0.8"), 3, 0));
    let (f, t, c) = single_error(&ping(&mut lab, "h1", "2001:db8:99::1", None, 2));
    assert_eq!((t, c), (1, 0));
    let IpAddr::V6(f6) = f else { panic!() };
    assert!(addrs6_of(&lab, "r1", "eth0").contains(&f6), "{f6}");
    assert_eq!(counter(&lab, "r1", "ips_noroute"), 1);
    assert_eq!(counter(&lab, "r1", "ip6s_noroute"), 1);
}

/// Reject routes: host unreachable (3/1) for IPv4, administratively
/// prohibited (1/1) for IPv6; blackhole routes drop silently.
#[test]
fn reject_and_blackhole_routes() {
    let mut lab = start(SEED);
    let r1 = lab.node_mut("r1").unwrap();
    r1.add_route(Route::new("203.0.113.64/26".parse().unwrap(), NextHop::Reject, None)).unwrap();
    r1.add_route(Route::new("2001:db8:64::/48".parse().unwrap(), NextHop::Reject, None)).unwrap();
    r1.add_route(Route::new("203.0.113.128/26".parse().unwrap(), NextHop::Blackhole, None)).unwrap();
    r1.add_route(Route::new("2001:db8:128::/48".parse().unwrap(), NextHop::Blackhole, None)).unwrap();
    assert_eq!(single_error(&ping(&mut lab, "h1", "203.0.113.65", None, 1)), (ip("192.0.0.8"), 3, 1));
    let (_, t, c) = single_error(&ping(&mut lab, "h1", "2001:db8:64::1", None, 2));
    assert_eq!((t, c), (1, 1));
    let m = mark(&lab, H1_R1);
    assert_eq!(ping(&mut lab, "h1", "203.0.113.129", None, 3), vec![]);
    assert_eq!(ping(&mut lab, "h1", "2001:db8:128::1", None, 4), vec![]);
    let fs = frames(&lab, H1_R1, m);
    assert_eq!((icmp4_errors(&fs).len(), icmp6_errors(&fs).len()), (0, 0));
}

/// RFC 1812 §4.3.3.1 / RFC 4861 §7.2.2: when the next hop never answers,
/// the held packets get host unreachable (3/1) / address unreachable (1/3),
/// and with `ext_ifinfo` the RFC 5837 object names the interface the packet
/// *arrived* on (eth0), not the one resolution failed on.
#[test]
fn neighbour_failure_gives_host_or_address_unreachable() {
    let text = seed_with_sysctls(&["\"net.inet.icmp.ext_ifinfo\" = 1", "\"net.inet6.icmp6.ext_ifinfo\" = 1"]);
    let mut lab = start(&text);
    let r1 = lab.node_mut("r1").unwrap();
    let eth1 = r1.ifindex("eth1").unwrap();
    let eth0 = r1.ifindex("eth0").unwrap();
    let gw = NextHop::Gateway(via6_core::GatewayAddr::V6(via6_core::ZonedIpv6 {
        addr: "fe80::99".parse().unwrap(),
        zone: Some(eth1),
    }));
    r1.add_route(Route::new("203.0.113.50/32".parse().unwrap(), gw, Some(eth1))).unwrap();
    r1.add_route(Route::new("2001:db8:50::/48".parse().unwrap(), gw, Some(eth1))).unwrap();
    let w = Duration::from_secs(6);
    let evs = probe(&mut lab, "h1", "203.0.113.50", None, 16, false, 1, w);
    match &evs[..] {
        [EchoEvent::Error { from, icmp_type: 3, code: 1, ifname, ifindex, .. }] => {
            assert_eq!(*from, ip("192.0.0.8"));
            assert_eq!((ifname.as_deref(), *ifindex), (Some("eth0"), Some(eth0.0)));
        }
        other => panic!("{other:?}"),
    }
    let evs = probe(&mut lab, "h1", "2001:db8:50::1", None, 16, false, 2, w);
    match &evs[..] {
        [EchoEvent::Error { from: IpAddr::V6(from), icmp_type: 1, code: 3, ifname, ifindex, .. }] => {
            assert!(addrs6_of(&lab, "r1", "eth0").contains(from), "{from}");
            assert_eq!((ifname.as_deref(), *ifindex), (Some("eth0"), Some(eth0.0)));
        }
        other => panic!("{other:?}"),
    }
}

/// netstat -s: a known mix of traffic moves exactly the forwarding counters
/// and the ICMP output histograms.
#[test]
fn counters_match_the_traffic() {
    let mut lab = start(&with_r1_eth1_mtu(SEED, 1280));
    let before = counters(&lab, "r1");
    let hist4 = lab.node("r1").unwrap().stats().icmp_outhist;
    let hist6 = lab.node("r1").unwrap().stats().icmp6_outhist;
    for s in 0..3 {
        ping(&mut lab, "h1", "203.0.113.2", None, s);
    }
    for s in 3..5 {
        ping(&mut lab, "h1", "2001:db8:2::1", None, s);
    }
    ping(&mut lab, "h1", "203.0.113.2", Some(1), 5);
    ping(&mut lab, "h1", "2001:db8:2::1", Some(1), 6);
    ping(&mut lab, "h1", "203.0.113.99", None, 7);
    ping(&mut lab, "h1", "2001:db8:99::1", None, 8);
    probe(&mut lab, "h1", "203.0.113.2", None, 1400, true, 9, WAIT);
    probe(&mut lab, "h1", "2001:db8:2::1", None, 1400, false, 10, WAIT);
    let d = delta(&before, &counters(&lab, "r1"));
    let get = |k: &str| d.get(k).copied().unwrap_or(0);
    assert_eq!(get("ips_forward"), 6, "{d:?}");
    assert_eq!(get("ip6s_forward"), 4, "{d:?}");
    assert_eq!(get("ips_timeexceeded"), 1, "{d:?}");
    assert_eq!(get("ip6s_timeexceeded"), 1, "{d:?}");
    assert_eq!(get("ips_noroute"), 1, "{d:?}");
    assert_eq!(get("ip6s_noroute"), 1, "{d:?}");
    assert_eq!(get("ips_cantforward"), 1, "{d:?}");
    assert_eq!(get("ips_cantfrag"), 1, "{d:?}");
    assert_eq!(get("ip6s_toobig"), 1, "{d:?}");
    assert_eq!(get("icps_error"), 3, "{d:?}");
    assert_eq!(get("icp6s_error"), 3, "{d:?}");
    let st = lab.node("r1").unwrap().stats();
    assert_eq!(st.icmp_outhist[11] - hist4[11], 1);
    assert_eq!(st.icmp_outhist[3] - hist4[3], 2);
    assert_eq!(st.icmp6_outhist[3] - hist6[3], 1);
    assert_eq!(st.icmp6_outhist[1] - hist6[1], 1);
    assert_eq!(st.icmp6_outhist[2] - hist6[2], 1);
    for t in [0usize, 8] {
        assert_eq!(st.icmp_outhist[t], hist4[t], "r1 originated no echo type {t}");
    }
}
