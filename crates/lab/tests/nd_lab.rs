//! Neighbour discovery on the virtual clock (issue 3, "Must show"): NDP
//! resolution of a link-local gateway of an IPv4 route, NUD with the RFC 4861
//! timers, resolution failure, the hold-queue bound, DAD and SLAAC. Every
//! assertion message carries the lab seed (`VIA6_LAB_SEED` replays a run).

mod common;

use common::*;
use core::time::Duration;
use std::net::{IpAddr, Ipv6Addr};
use via6_core::echo::EchoEvent;
use via6_core::neigh::{NeighKey, NudState};
use via6_core::Instant;
use via6_wire::MacAddr;

const SECOND: Duration = Duration::from_secs(1);

/// One millisecond before `t`.
fn ms_before(t: Instant) -> Instant {
    Instant::ZERO + (t.saturating_since(Instant::ZERO) - Duration::from_millis(1))
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().expect("IPv6 address")
}

/// RFC 8950 (IPv4 over an IPv6 next hop), DESIGN §3 and RFC 4861 §7.2.2: an
/// IPv4 route whose gateway is `fe80::1%eth0` resolves the gateway with NDP —
/// an NS to the solicited-node group carrying our SLLA, the NA — and then the
/// IPv4 packet leaves with EtherType 0x0800 to the router's MAC. No ARP.
#[test]
fn ndp_resolves_link_local_gateway_of_ipv4_route() {
    let seed = seed();
    let mut lab = seed_lab();
    lab.enable_capture();
    lab.run_for(3 * SECOND);
    assert_eq!(nud(&lab, "h1", "eth0", "fe80::1"), None, "[lab seed {seed}] h1 knew r1 before any traffic");
    let l0 = link_index(&lab, "h1:eth0-r1:eth0");
    let mark = lab.captured(l0).len();
    let evs = ping(&mut lab, "h1", "203.0.113.2", 1, Duration::from_millis(200));
    assert_reply(&evs, "203.0.113.2", "IPv4 ping across the v4-via-v6 hop");

    let (h1mac, r1mac) = (mac(&lab, "h1", "eth0"), mac(&lab, "r1", "eth0"));
    let fs = frames(&lab, l0, mark);
    let all = summary(&fs);
    let ns = fs
        .iter()
        .position(|d| is_ns_for(d, v6("fe80::1")))
        .unwrap_or_else(|| panic!("[lab seed {seed}] no NS for fe80::1:\n{all}"));
    let d = &fs[ns];
    let group = solicited_node(v6("fe80::1"));
    assert_eq!(
        d.v6.map(|v| v.1),
        Some(group),
        "[lab seed {seed}] NS not to the solicited-node group:\n{all}"
    );
    assert_eq!(d.eth_dst, MacAddr::ipv6_multicast(group), "[lab seed {seed}] NS Ethernet dst:\n{all}");
    assert_eq!(
        (d.eth_src, d.slla),
        (h1mac, Some(h1mac)),
        "[lab seed {seed}] NS must carry h1's SLLA:\n{all}"
    );
    let na = fs
        .iter()
        .position(|d| d.icmp6 == Some((136, 0)) && d.nd_target == Some(v6("fe80::1")))
        .unwrap_or_else(|| panic!("[lab seed {seed}] no NA for fe80::1:\n{all}"));
    let a = &fs[na];
    assert!(na > ns && a.at > d.at, "[lab seed {seed}] NA before NS:\n{all}");
    assert_eq!((a.eth_src, a.eth_dst, a.tlla), (r1mac, h1mac, Some(r1mac)), "[lab seed {seed}] NA:\n{all}");
    assert_eq!(a.na_flags.map(|f| f.1), Some(true), "[lab seed {seed}] NA not solicited:\n{all}");
    let ip4 = fs
        .iter()
        .position(|d| d.ethertype == 0x0800 && d.eth_src == h1mac)
        .unwrap_or_else(|| panic!("[lab seed {seed}] no IPv4 frame from h1:\n{all}"));
    assert!(ip4 > na, "[lab seed {seed}] IPv4 left before the NA came:\n{all}");
    let f = &fs[ip4];
    assert_eq!(f.eth_dst, r1mac, "[lab seed {seed}] IPv4 frame not to r1's MAC:\n{all}");
    assert_eq!(
        f.v4.map(|v| (v.0.to_string(), v.1.to_string())),
        Some(("198.51.100.1".into(), "203.0.113.2".into())),
        "[lab seed {seed}]:\n{all}"
    );
    assert!(fs.iter().all(|d| d.ethertype != 0x0806), "[lab seed {seed}] ARP on a v4-via-v6 link:\n{all}");
    let key = NeighKey { ifindex: ifx(&lab, "h1", "eth0"), addr: "fe80::1".parse().unwrap() };
    let e = node(&lab, "h1").neighbours().get(&key).cloned();
    assert!(
        matches!(&e, Some(n) if n.state == NudState::Reachable && n.lladdr == Some(r1mac)),
        "[lab seed {seed}] h1's entry for fe80::1: {e:?}"
    );
}

/// The seed topology with h2 deaf to NDP for `fe80::2` (its address is
/// removed), after DAD, with capture on.
fn seed_with_silent_h2() -> via6_lab::Lab {
    let mut lab = seed_lab();
    lab.run_for(3 * SECOND);
    let e = ifx(&lab, "h2", "eth0");
    lab.node_mut("h2").unwrap().remove_address(e, "fe80::2".parse().unwrap()).unwrap();
    lab.enable_capture();
    lab
}

/// RFC 4861 §7.2.2 (ICMPv6 address unreachable) and RFC 1812 §4.3.3.1 /
/// RFC 792 (ICMPv4 host unreachable): when MAX_MULTICAST_SOLICIT (3) NSs
/// RetransTimer (1 s) apart go unanswered, every held packet's source hears
/// about it in the *packet's* family — an IPv4 packet waiting on an IPv6
/// neighbour gets ICMPv4 host unreachable.
#[test]
fn unanswered_neighbour_sends_host_and_address_unreachable() {
    let seed = seed();
    let mut lab = seed_with_silent_h2();
    let t0 = lab.now();
    send_echo(&mut lab, "h1", &echo("203.0.113.2", 41, 1));
    send_echo(&mut lab, "h1", &echo("2001:db8:2::1", 61, 1));
    lab.run_for(Duration::from_millis(2900));
    let early = (echo_events(&mut lab, "h1", 41), echo_events(&mut lab, "h1", 61));
    assert_eq!(early, (vec![], vec![]), "[lab seed {seed}] answered before resolution failed");
    let held = node(&lab, "r1").neighbours().held();
    assert_eq!(held, 2, "[lab seed {seed}] r1 should hold one IPv4 and one IPv6 packet");
    lab.run_for(Duration::from_millis(200));

    let e4 = echo_events(&mut lab, "h1", 41);
    assert!(
        matches!(&e4[..], [EchoEvent::Error { icmp_type: 3, code: 1, from, at, .. }]
            if *from == "192.0.0.8".parse::<IpAddr>().unwrap() && *at >= t0 + 3 * SECOND),
        "[lab seed {seed}] IPv4: expected ICMPv4 host unreachable from 192.0.0.8 after 3 s, got {e4:?}"
    );
    let e6 = echo_events(&mut lab, "h1", 61);
    assert!(
        matches!(&e6[..], [EchoEvent::Error { icmp_type: 1, code: 3, at, .. }] if *at >= t0 + 3 * SECOND),
        "[lab seed {seed}] IPv6: expected ICMPv6 address unreachable after 3 s, got {e6:?}"
    );

    let l1 = link_index(&lab, "r1:eth1-h2:eth0");
    let fs = frames(&lab, l1, 0);
    let all = summary(&fs);
    let ns: Vec<_> = fs.iter().filter(|d| is_ns_for(d, v6("fe80::2"))).collect();
    assert_eq!(ns.len(), 3, "[lab seed {seed}] MAX_MULTICAST_SOLICIT NSs:\n{all}");
    let group = solicited_node(v6("fe80::2"));
    for d in &ns {
        assert_eq!(
            (d.v6.map(|v| v.1), d.eth_dst),
            (Some(group), MacAddr::ipv6_multicast(group)),
            "[lab seed {seed}] resolution NS must be multicast:\n{all}"
        );
    }
    for w in ns.windows(2) {
        assert_eq!(w[1].at - w[0].at, SECOND, "[lab seed {seed}] NSs not RetransTimer apart:\n{all}");
    }
    assert_eq!(counter(&lab, "r1", "nd6s_failed"), 1, "[lab seed {seed}] nd6s_failed");
    assert_eq!(nud(&lab, "r1", "eth1", "fe80::2"), None, "[lab seed {seed}] failed entry not removed");
    assert_eq!(node(&lab, "r1").neighbours().held(), 0, "[lab seed {seed}] held after failure");
}

/// inet6(4) `nd6_maxqueuelen` (16) / RFC 4861 §7.2.2 ("SHOULD retain a small
/// queue"): a neighbour's hold queue keeps the newest 16 packets; the oldest
/// are dropped and counted in `nd6s_dropped`, and memory stays bounded.
#[test]
fn neighbour_queue_holds_nd6_maxqueuelen_dropping_oldest() {
    let seed = seed();
    let mut lab = seed_with_silent_h2();
    // Resolve h1 <-> r1 first, so only r1 holds.
    let mut warm = echo("fe80::1", 7, 0);
    warm.zone = Some(ifx(&lab, "h1", "eth0"));
    send_echo(&mut lab, "h1", &warm);
    lab.run_for(Duration::from_millis(50));
    let maxq = node(&lab, "r1").sysctl().get(via6_core::sysctl::Knob::Icmp6Nd6MaxQueueLen) as usize;
    assert_eq!(maxq, 16, "[lab seed {seed}] nd6_maxqueuelen default");

    for seq in 0..20 {
        send_echo(&mut lab, "h1", &echo("203.0.113.2", 42, seq));
    }
    lab.run_for(Duration::from_millis(20));
    let key = NeighKey { ifindex: ifx(&lab, "r1", "eth1"), addr: "fe80::2".parse().unwrap() };
    let q = node(&lab, "r1").neighbours().get(&key).map(|e| (e.state, e.queue.len()));
    assert_eq!(q, Some((NudState::Incomplete, 16)), "[lab seed {seed}] r1's entry for fe80::2%eth1");
    assert_eq!(node(&lab, "r1").neighbours().held(), 16, "[lab seed {seed}] held()");
    assert_eq!(counter(&lab, "r1", "nd6s_dropped"), 4, "[lab seed {seed}] nd6s_dropped");

    lab.run_for(4 * SECOND);
    let seqs: Vec<u16> = echo_events(&mut lab, "h1", 42)
        .iter()
        .map(|e| match e {
            EchoEvent::Error { icmp_type: 3, code: 1, seq, .. } => *seq,
            other => panic!("[lab seed {seed}] unexpected {other:?}"),
        })
        .collect();
    assert_eq!(seqs, (4..20).collect::<Vec<_>>(), "[lab seed {seed}] the oldest 4 must be the dropped ones");

    // A flood keeps the bound.
    for seq in 0..1000 {
        send_echo(&mut lab, "h1", &echo("203.0.113.2", 43, seq));
    }
    lab.run_for(Duration::from_millis(20));
    assert_eq!(node(&lab, "r1").neighbours().held(), 16, "[lab seed {seed}] held() after a flood");
    assert_eq!(counter(&lab, "r1", "nd6s_dropped"), 4 + 984, "[lab seed {seed}] nd6s_dropped after a flood");
    lab.run_for(4 * SECOND);
    assert_eq!(node(&lab, "r1").neighbours().held(), 0, "[lab seed {seed}] held() after failure");
}

const LAN: &str = include_str!("../scenarios/lan.toml");

/// RFC 4861 §7.3.3 with the §10 constants: a confirmed entry is REACHABLE for
/// ReachableTime (uniform in [0.5, 1.5) × 30 s), then STALE; sending to it
/// moves it to DELAY; DELAY_FIRST_PROBE_TIME (5 s) later it is PROBE and a
/// *unicast* NS goes out; the solicited NA makes it REACHABLE again. With the
/// peer gone, MAX_UNICAST_SOLICIT (3) probes RetransTimer (1 s) apart, then the
/// entry is removed.
#[test]
fn nud_stale_delay_probe_then_reachable_or_removed() {
    let seed = seed();
    let mut lab = lab(LAN);
    lab.enable_capture();
    lab.run_for(3 * SECOND);
    let b_addr = "2001:db8:a::2";
    let (amac, bmac) = (mac(&lab, "a", "eth0"), mac(&lab, "b", "eth0"));
    let key = NeighKey { ifindex: ifx(&lab, "a", "eth0"), addr: b_addr.parse().unwrap() };
    let entry =
        |lab: &via6_lab::Lab| node(lab, "a").neighbours().get(&key).map(|e| (e.state, e.probes, e.deadline));

    // Traffic: resolution confirms the entry (solicited NA).
    assert_reply(&ping(&mut lab, "a", b_addr, 1, Duration::from_millis(100)), b_addr, "first ping");
    let fs = frames(&lab, 0, 0);
    let na_at = fs
        .iter()
        .find(|d| d.icmp6 == Some((136, 0)) && d.nd_target == Some(v6(b_addr)) && d.eth_src == bmac)
        .map(|d| d.at)
        .unwrap_or_else(|| panic!("[lab seed {seed}] no NA from b:\n{}", summary(&fs)));
    let reachable = Duration::from_millis(u64::from(
        node(&lab, "a").interface(key.ifindex).expect("a:eth0").nd_vars.reachable_ms,
    ));
    assert!(
        (Duration::from_secs(15)..=Duration::from_secs(45)).contains(&reachable),
        "[lab seed {seed}] ReachableTime {reachable:?} outside [0.5, 1.5] x 30 s"
    );
    assert_eq!(
        entry(&lab),
        Some((NudState::Reachable, 0, Some(na_at + reachable))),
        "[lab seed {seed}] after the NA at {}ms",
        ms(na_at)
    );

    // REACHABLE -> STALE exactly when ReachableTime runs out.
    lab.run_until(ms_before(na_at + reachable));
    assert_eq!(
        entry(&lab).map(|e| e.0),
        Some(NudState::Reachable),
        "[lab seed {seed}] just before ReachableTime"
    );
    lab.run_until(na_at + reachable);
    assert_eq!(entry(&lab).map(|e| e.0), Some(NudState::Stale), "[lab seed {seed}] at ReachableTime");
    lab.run_for(10 * SECOND);
    assert_eq!(entry(&lab).map(|e| e.0), Some(NudState::Stale), "[lab seed {seed}] STALE has no timer");

    // Sending moves STALE -> DELAY; 5 s later PROBE with a unicast NS.
    let mark = lab.captured(0).len();
    let t_send = lab.now();
    send_echo(&mut lab, "a", &echo(b_addr, 0x5151, 2));
    assert_eq!(
        entry(&lab).map(|e| e.0),
        Some(NudState::Delay),
        "[lab seed {seed}] after sending to a STALE entry"
    );
    lab.run_until(ms_before(t_send + 5 * SECOND));
    assert_eq!(
        entry(&lab).map(|e| e.0),
        Some(NudState::Delay),
        "[lab seed {seed}] an echo reply is no reachability confirmation"
    );
    lab.run_until(t_send + 5 * SECOND);
    assert_eq!(
        entry(&lab).map(|e| (e.0, e.1)),
        Some((NudState::Probe, 1)),
        "[lab seed {seed}] after DELAY_FIRST_PROBE_TIME"
    );
    lab.run_for(Duration::from_millis(10));
    let fs = frames(&lab, 0, mark);
    let all = summary(&fs);
    let probes: Vec<_> = fs.iter().filter(|d| d.eth_src == amac && is_ns_for(d, v6(b_addr))).collect();
    assert_eq!(probes.len(), 1, "[lab seed {seed}] one probe:\n{all}");
    let p = probes[0];
    assert_eq!(
        (p.eth_dst, p.v6.map(|v| v.1), p.at),
        (bmac, Some(v6(b_addr)), t_send + 5 * SECOND + Duration::from_millis(1)),
        "[lab seed {seed}] the probe must be a unicast NS sent at DELAY + 5 s:\n{all}"
    );
    let (state, probes_n, deadline) = entry(&lab).expect("entry");
    assert_eq!(
        (state, probes_n),
        (NudState::Reachable, 0),
        "[lab seed {seed}] the probe's NA confirms:\n{all}"
    );
    let reachable = Duration::from_millis(u64::from(
        node(&lab, "a").interface(key.ifindex).expect("a:eth0").nd_vars.reachable_ms,
    ));

    // The peer goes away: every frame on the link is lost from now on.
    let stale_at = deadline.expect("REACHABLE has a timer");
    assert!(stale_at <= lab.now() + reachable, "[lab seed {seed}] deadline beyond ReachableTime");
    lab.run_until(stale_at + SECOND);
    assert_eq!(entry(&lab).map(|e| e.0), Some(NudState::Stale), "[lab seed {seed}] STALE again");
    lab.link_params_mut("a:eth0-b:eth0").expect("link").loss = 1.0;
    let lost = |lab: &via6_lab::Lab| lab.links()[0].stats.lost;
    let t_gone = lab.now();
    let lost0 = lost(&lab);
    send_echo(&mut lab, "a", &echo(b_addr, 0x5151, 3));
    assert_eq!(entry(&lab).map(|e| e.0), Some(NudState::Delay), "[lab seed {seed}] DELAY (peer gone)");
    lab.run_until(ms_before(t_gone + 5 * SECOND));
    assert_eq!(lost(&lab) - lost0, 1, "[lab seed {seed}] only the echo request was sent during DELAY");
    let mut seen = Vec::new();
    for k in 0..3u32 {
        let t = t_gone + 5 * SECOND + SECOND * k;
        lab.run_until(ms_before(t));
        let before = lost(&lab);
        lab.run_until(t);
        seen.push((ms(t), entry(&lab).map(|e| (e.0, e.1)), lost(&lab) - before));
    }
    let want: Vec<_> = (0..3u32)
        .map(|k| (ms(t_gone + 5 * SECOND + SECOND * k), Some((NudState::Probe, k + 1)), 1))
        .collect();
    assert_eq!(
        seen, want,
        "[lab seed {seed}] (time ms, state, NS sent) for MAX_UNICAST_SOLICIT probes 1 s apart"
    );
    lab.run_until(ms_before(t_gone + 8 * SECOND));
    assert!(entry(&lab).is_some(), "[lab seed {seed}] removed before the last RetransTimer ran out");
    let before = lost(&lab);
    lab.run_until(t_gone + 8 * SECOND);
    assert_eq!(entry(&lab), None, "[lab seed {seed}] entry not removed after the third unanswered probe");
    assert_eq!(lost(&lab), before, "[lab seed {seed}] a fourth probe was sent");
}

/// Adds an address to a node's interface now.
fn add_addr(lab: &mut via6_lab::Lab, n: &str, ifname: &str, addr: &str, len: u8) {
    let seed = seed();
    let (i, now) = (ifx(lab, n, ifname), lab.now());
    lab.node_mut(n)
        .expect("node")
        .add_address(i, addr.parse().unwrap(), len, now)
        .unwrap_or_else(|e| panic!("[lab seed {seed}] {n}: add {addr}: {e:?}"));
}

/// RFC 4862 §5.4.2, §5.4.3: a new address is tentative for dad_count ×
/// RetransTimer, probed with NSs from `::` to its solicited-node group that
/// carry no SLLA (and, RFC 7527, a nonce); then it is usable.
#[test]
fn dad_success_keeps_address_tentative_for_dad_count_retrans_timers() {
    let seed = seed();
    for (dad_count, addr) in [(1u32, "2001:db8:a::10"), (3, "2001:db8:a::30")] {
        let mut lab = lab(LAN);
        lab.run_for(3 * SECOND);
        lab.node_mut("a").unwrap().set_sysctl("net.inet6.ip6.dad_count", i64::from(dad_count)).unwrap();
        lab.enable_capture();
        let t0 = lab.now();
        add_addr(&mut lab, "a", "eth0", addr, 64);
        let flags = |lab: &via6_lab::Lab| {
            if_addr(lab, "a", "eth0", addr).map(|a| (a.flags.tentative, a.flags.duplicated))
        };
        assert_eq!(flags(&lab), Some((true, false)), "[lab seed {seed}] dad_count {dad_count}: new address");
        lab.run_until(ms_before(t0 + SECOND * dad_count));
        assert_eq!(
            flags(&lab),
            Some((true, false)),
            "[lab seed {seed}] dad_count {dad_count}: just before the end"
        );
        assert!(
            !node(&lab, "a").is_local_address(addr.parse().unwrap()),
            "[lab seed {seed}] dad_count {dad_count}: a tentative address is not usable"
        );
        lab.run_until(t0 + SECOND * dad_count);
        assert_eq!(flags(&lab), Some((false, false)), "[lab seed {seed}] dad_count {dad_count}: after DAD");
        lab.run_for(SECOND);
        let fs = frames(&lab, 0, 0);
        let all = summary(&fs);
        let ns: Vec<_> = fs.iter().filter(|d| is_ns_for(d, v6(addr))).collect();
        assert_eq!(ns.len() as u32, dad_count, "[lab seed {seed}] DAD probes:\n{all}");
        let group = solicited_node(v6(addr));
        for (k, d) in ns.iter().enumerate() {
            assert_eq!(
                (d.v6.map(|v| (v.0, v.1)), d.slla, d.nonce, d.at),
                (
                    Some((Ipv6Addr::UNSPECIFIED, group)),
                    None,
                    true,
                    t0 + SECOND * k as u32 + Duration::from_millis(1)
                ),
                "[lab seed {seed}] DAD probe {k}:\n{all}"
            );
        }
        assert_reply(
            &ping(&mut lab, "b", addr, 1, Duration::from_millis(100)),
            addr,
            "ping to the new address",
        );
    }
}

/// RFC 4862 §5.4.4, §5.4.5: a node that configures an address already in use
/// on the link hears the owner's defending NA, marks the address
/// `duplicated`, counts `nd6s_dupdetected`, and never uses it — not as a
/// source, not to answer NSs. A manually configured duplicate link-local
/// does not disable IPv6 on the interface (only a hardware-derived one does).
#[test]
fn dad_conflict_marks_the_later_address_duplicated() {
    let seed = seed();
    let mut lab = lab(LAN);
    lab.run_for(3 * SECOND);
    add_addr(&mut lab, "a", "eth0", "fe80::1", 64);
    lab.run_for(2 * SECOND);
    lab.enable_capture();
    let t0 = lab.now();
    add_addr(&mut lab, "b", "eth0", "2001:db8:a::1", 64);
    add_addr(&mut lab, "b", "eth0", "fe80::1", 64);
    lab.run_for(3 * SECOND);

    let fs = frames(&lab, 0, 0);
    let all = summary(&fs);
    let amac = mac(&lab, "a", "eth0");
    for dup in ["2001:db8:a::1", "fe80::1"] {
        let b = if_addr(&lab, "b", "eth0", dup).map(|a| a.flags);
        assert!(
            matches!(b, Some(f) if f.duplicated && !f.tentative),
            "[lab seed {seed}] b's {dup}: {b:?}\n{all}"
        );
        let a = if_addr(&lab, "a", "eth0", dup).map(|a| a.flags);
        assert!(matches!(a, Some(f) if !f.duplicated && !f.tentative), "[lab seed {seed}] a's {dup}: {a:?}");
        // a defended with an unsolicited NA to all-nodes.
        let defended = fs.iter().any(|d| {
            d.icmp6 == Some((136, 0))
                && d.nd_target == Some(v6(dup))
                && d.eth_src == amac
                && d.v6.map(|v| v.1) == Some(v6("ff02::1"))
                && d.na_flags.is_some_and(|f| !f.1)
                && d.at > t0
        });
        assert!(defended, "[lab seed {seed}] no defending NA for {dup}:\n{all}");
    }
    assert_eq!(counter(&lab, "b", "nd6s_dupdetected"), 2, "[lab seed {seed}] b's nd6s_dupdetected");
    assert_eq!(counter(&lab, "a", "nd6s_dupdetected"), 0, "[lab seed {seed}] a's nd6s_dupdetected");
    let bif = node(&lab, "b").interface(ifx(&lab, "b", "eth0")).expect("b:eth0").nd;
    assert!(!bif.ifdisabled, "[lab seed {seed}] a duplicate fe80::1 (not EUI-64) disabled b:eth0: {bif:?}");

    // Never a source.
    let rg = node(&lab, "b").route_get("2001:db8:a::99".parse().unwrap(), None).expect("route");
    let src = rg.source.as_ref().map(|d| d.addr).ok();
    assert!(
        src.is_some_and(|s| s != "2001:db8:a::1".parse::<IpAddr>().unwrap()),
        "[lab seed {seed}] b's source for 2001:db8:a::99: {:?}",
        rg.source
    );
    let mut req = echo("2001:db8:a::99", 9, 1);
    req.src = Some("2001:db8:a::1".parse().unwrap());
    let now = lab.now();
    let e = lab.node_mut("b").unwrap().echo_send(&req, now).expect_err("a duplicated source was accepted");
    assert_eq!(e.errno, via6_core::Errno::EADDRNOTAVAIL, "[lab seed {seed}] {e:?}");
    // The owner keeps working: a ping from b reaches a, not b itself.
    assert_reply(
        &ping(&mut lab, "b", "2001:db8:a::1", 1, Duration::from_millis(100)),
        "2001:db8:a::1",
        "b -> a",
    );
}

/// RFC 4862 §5.4.5: two nodes with the same MAC form the same EUI-64
/// link-local and probe at the same time; each hears the other's probe (a
/// different nonce, RFC 7527), both mark it duplicated, and IP operation on
/// the interface is disabled (IFDISABLED) because the identifier is
/// hardware-derived.
#[test]
fn dad_simultaneous_eui64_link_local_duplicate_disables_interface() {
    let seed = seed();
    let text = LAN.replace("kind = \"lab\"\n", "kind = \"lab\"\nmac = \"02:00:5e:00:00:01\"\n");
    let mut lab = lab(&text);
    lab.run_for(3 * SECOND);
    // Modified EUI-64 of 02:00:5e:00:00:01 (RFC 4291 appendix A: u/l bit inverted).
    let ll = "fe80::5eff:fe00:1".to_string();
    for n in ["a", "b"] {
        let f = if_addr(&lab, n, "eth0", &ll).map(|a| a.flags);
        assert!(matches!(f, Some(f) if f.duplicated), "[lab seed {seed}] {n}'s {ll}: {f:?}");
        assert_eq!(counter(&lab, n, "nd6s_dupdetected"), 1, "[lab seed {seed}] {n}'s nd6s_dupdetected");
        let nd = node(&lab, n).interface(ifx(&lab, n, "eth0")).expect("eth0").nd;
        assert!(nd.ifdisabled, "[lab seed {seed}] {n}: EUI-64 duplicate must set IFDISABLED: {nd:?}");
    }
}

const SLAAC: &str = include_str!("../scenarios/slaac.toml");

/// The modified EUI-64 address `prefix::IID(mac)` (RFC 4291 appendix A).
fn eui64(prefix: &str, m: MacAddr) -> Ipv6Addr {
    let mut o = v6(prefix).octets();
    o[8..].copy_from_slice(&[m.0[0] ^ 2, m.0[1], m.0[2], 0xff, 0xfe, m.0[3], m.0[4], m.0[5]]);
    Ipv6Addr::from(o)
}

/// RFC 4862 §5.5.3 and RFC 4861 §6.3.4: a host with `accept_rtadv` hears the
/// router's RA, forms `2001:db8:5::EUI-64` (flag `autoconf`, lifetimes from
/// the Prefix Information option), installs `::/0` via the router's
/// link-local, and reaches an address behind the router from it.
#[test]
fn slaac_forms_eui64_address_and_default_route_from_ra() {
    let seed = seed();
    let mut lab = lab(SLAAC);
    lab.enable_capture();
    lab.run_for(10 * SECOND);
    let (hmac, rmac) = (mac(&lab, "h", "eth0"), mac(&lab, "r", "eth0"));
    let want = eui64("2001:db8:5::", hmac);
    let fs = frames(&lab, 0, 0);
    let all = summary(&fs);
    let first_ra = fs
        .iter()
        .find(|d| d.icmp6 == Some((134, 0)) && d.eth_src == rmac)
        .unwrap_or_else(|| panic!("[lab seed {seed}] no RA from r:\n{all}"));
    assert_eq!(first_ra.v6.map(|v| v.1), Some(v6("ff02::1")), "[lab seed {seed}] RA to all-nodes:\n{all}");
    let a = if_addr(&lab, "h", "eth0", &want.to_string());
    let a = a.unwrap_or_else(|| {
        panic!(
            "[lab seed {seed}] h has no {want}; addresses: {:?}\n{all}",
            node(&lab, "h").interface(ifx(&lab, "h", "eth0")).map(|i| &i.addrs)
        )
    });
    assert!(
        a.prefix_len == 64 && a.flags.autoconf && !a.flags.tentative && !a.flags.duplicated,
        "[lab seed {seed}] SLAAC address {a:?}"
    );
    let (vu, pu) = (a.valid_until.expect("finite valid lifetime"), a.preferred_until.expect("preferred"));
    assert_eq!(vu - pu, Duration::from_secs(2_592_000 - 604_800), "[lab seed {seed}] lifetimes of {a:?}");

    // ::/0 via the router's link-local, on eth0.
    let r_ll = eui64("fe80::", rmac);
    let rg = node(&lab, "h").route_get("2001:db8:99::1".parse().unwrap(), None);
    let rg = rg.unwrap_or_else(|e| panic!("[lab seed {seed}] h has no route to 2001:db8:99::1: {e:?}"));
    assert_eq!(
        (rg.lookup.route.dest.to_string(), rg.lookup.neighbour, rg.lookup.ifindex),
        ("::/0".to_string(), IpAddr::V6(r_ll), ifx(&lab, "h", "eth0")),
        "[lab seed {seed}] h's default route"
    );
    assert_eq!(rg.source.map(|d| d.addr).ok(), Some(IpAddr::V6(want)), "[lab seed {seed}] h's source");
    assert_reply(
        &ping(&mut lab, "h", "2001:db8:99::1", 1, Duration::from_millis(100)),
        "2001:db8:99::1",
        "h -> address behind r",
    );
}

/// A Router Advertisement from `src`/`mac` with one Prefix Information option,
/// as an Ethernet frame to all-nodes.
fn crafted_ra(src: Ipv6Addr, mac: MacAddr, prefix: &str, valid: u32, preferred: u32) -> Vec<u8> {
    use via6_wire::icmpv6::Icmpv6Repr;
    use via6_wire::ndisc::{NdiscRepr, RaFlags};
    use via6_wire::ndisc_option::NdiscOption;
    use via6_wire::{EthernetRepr, Ipv6Repr};
    let mut opts = [0u8; 32];
    let n = NdiscOption::PrefixInformation {
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        valid_lifetime: valid,
        preferred_lifetime: preferred,
        prefix: v6(prefix),
    }
    .emit(&mut opts)
    .expect("prefix option");
    let icmp = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
        hop_limit: 64,
        flags: RaFlags::default(),
        router_lifetime: 1800,
        reachable_time: 0,
        retrans_time: 0,
        options: &opts[..n],
    });
    let dst = v6("ff02::1");
    let ip = Ipv6Repr {
        src,
        dst,
        next_header: 58,
        payload_len: icmp.buffer_len() as u16,
        hop_limit: 255,
        traffic_class: 0,
        flow_label: 0,
    };
    let eth = EthernetRepr { dst: MacAddr::ipv6_multicast(dst), src: mac, vlan: None, ethertype: 0x86dd };
    let mut buf = vec![0u8; 14 + ip.buffer_len()];
    eth.emit(&mut buf).expect("ethernet");
    ip.emit(&mut buf[14..]).expect("ipv6");
    icmp.emit(src, dst, &mut buf[54..]).expect("icmpv6");
    buf
}

/// RFC 4862 §5.5.3(e), the two-hour rule: an RA may shorten an autoconfigured
/// address's valid lifetime to no less than two hours (unless it raises it or
/// exceeds two hours); a remaining lifetime of two hours or less is not
/// shortened at all. The preferred lifetime is always reset.
#[test]
fn slaac_two_hour_rule_limits_valid_lifetime_cuts() {
    let seed = seed();
    let mut lab = lab(SLAAC);
    lab.run_for(20 * SECOND);
    let (hmac, rmac) = (mac(&lab, "h", "eth0"), mac(&lab, "r", "eth0"));
    let addr = eui64("2001:db8:5::", hmac).to_string();
    let r_ll = eui64("fe80::", rmac);
    assert!(if_addr(&lab, "h", "eth0", &addr).is_some(), "[lab seed {seed}] no SLAAC address {addr}");
    let life = |lab: &via6_lab::Lab| {
        let a = if_addr(lab, "h", "eth0", &addr).expect("SLAAC address");
        (a.valid_until, a.preferred_until)
    };
    let secs = |s: u64| Duration::from_secs(s);
    // (advertised valid, advertised preferred, expected valid lifetime from now;
    //  None: unchanged)
    let steps: [(u32, u32, Option<u64>, &str); 5] = [
        (600, 300, Some(7200), "30 days left, 10 min advertised: cut to two hours"),
        (60, 30, None, "two hours left, 1 min advertised: ignored"),
        (10_800, 3_600, Some(10_800), "more than two hours advertised: taken"),
        (60, 30, Some(7200), "3 hours left, 1 min advertised: cut to two hours"),
        (9_000, 60, Some(9_000), "longer than what is left: taken"),
    ];
    for (valid, preferred, want, what) in steps {
        let (before, _) = life(&lab);
        let ra = crafted_ra(r_ll, rmac, "2001:db8:5::", valid, preferred);
        assert!(lab.inject(0, via6_lab::Side::A, &ra), "[lab seed {seed}] inject");
        let rx = lab.now() + Duration::from_millis(1);
        lab.run_for(Duration::from_millis(10));
        let (vu, pu) = life(&lab);
        let want_vu = match want {
            Some(s) => Some(rx + secs(s)),
            None => before,
        };
        assert_eq!(
            (vu, pu),
            (want_vu, Some(rx + secs(u64::from(preferred)))),
            "[lab seed {seed}] {what} (RA valid {valid} preferred {preferred})"
        );
        lab.run_for(SECOND);
    }
}
