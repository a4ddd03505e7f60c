//! IPv6 source selection (RFC 6724 §4 candidate set, §5 rules), over real
//! interfaces: each test names the rule it checks and asserts the rule the
//! decision reports — the one that separated the winner from the runner-up.

use std::net::{IpAddr, Ipv6Addr};
use via6_core::addr::{GatewayAddr, ZonedIpv6};
use via6_core::iface::{IfAddr, Interface, LinkKind};
use via6_core::route::{NextHop, Route};
use via6_core::srcsel::policy::PolicyTable;
use via6_core::srcsel::v6::{self, Candidate, Ctx, Options, RouteView};
use via6_core::srcsel::{Decision, NoSource, Rule};
use via6_core::{IfIndex, Instant, InterfaceConfig, Stack};
use via6_wire::MacAddr;

const T0: Instant = Instant::ZERO;

/// A stack with lo0, eth0, eth1 (DAD off, no automatic link-local), its
/// interfaces cloned so flags can be set on the entries.
struct Host {
    s: Stack,
    eth0: IfIndex,
    eth1: IfIndex,
}

fn host() -> Host {
    let mut s = Stack::new("h", 3);
    s.set_sysctl("net.inet6.ip6.dad_count", 0).unwrap();
    s.set_sysctl("net.inet6.ip6.auto_linklocal", 0).unwrap();
    s.add_interface(InterfaceConfig { name: "lo0".into(), kind: LinkKind::Loopback, mtu: None }, T0).unwrap();
    let mut eth = |name: &str, m: u8| {
        let kind = LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, m]));
        s.add_interface(InterfaceConfig { name: name.into(), kind, mtu: None }, T0).unwrap()
    };
    let eth0 = eth("eth0", 1);
    let eth1 = eth("eth1", 2);
    Host { s, eth0, eth1 }
}

impl Host {
    /// "ADDR[/LEN] flag flag..." on an interface.
    fn add(&mut self, ifindex: IfIndex, spec: &str) {
        let mut w = spec.split_whitespace();
        let (a, len) = match w.next().unwrap().split_once('/') {
            Some((a, l)) => (a.to_string(), l.parse().unwrap()),
            None => (spec.split_whitespace().next().unwrap().to_string(), 64),
        };
        self.s.add_address(ifindex, a.parse().unwrap(), len, T0).unwrap();
    }

    /// The interfaces with flags set: `flags` maps an address to its words.
    fn ifaces(&self, flags: &[(&str, &str)]) -> Vec<Interface> {
        let mut v = self.s.interfaces().to_vec();
        for (addr, words) in flags {
            let a: IpAddr = addr.parse().unwrap();
            let e: &mut IfAddr = v.iter_mut().flat_map(|i| i.addrs.iter_mut()).find(|e| e.addr == a).unwrap();
            for word in words.split_whitespace() {
                match word {
                    "tentative" => e.flags.tentative = true,
                    "duplicated" => e.flags.duplicated = true,
                    "anycast" => e.flags.anycast = true,
                    "detached" => e.flags.detached = true,
                    "deprecated" => e.flags.deprecated = true,
                    "temporary" => e.flags.temporary = true,
                    "prefer_source" => e.flags.prefer_source = true,
                    other => panic!("{other}"),
                }
            }
        }
        v
    }
}

fn sel(
    ifaces: &[Interface],
    dst: &str,
    egress: IfIndex,
    opts: Options,
) -> Result<Decision<Ipv6Addr>, NoSource> {
    let no = |_: &Candidate<'_>| false;
    let policy = PolicyTable::rfc6724();
    let ctx = Ctx {
        dst: dst.parse().unwrap(),
        route: RouteView { src: None, ifindex: egress, next_hop: None },
        policy: &policy,
        opts,
        advertised_by_next_hop: &no,
    };
    v6::select(ifaces, &ctx)
}

fn freebsd() -> Options {
    Options::default()
}

fn pick(d: &Decision<Ipv6Addr>) -> (String, Rule) {
    (d.addr.to_string(), d.rule)
}

fn lost_reason(d: &Result<Decision<Ipv6Addr>, NoSource>, addr: &str) -> String {
    let verdicts = match d {
        Ok(d) => &d.verdicts,
        Err(e) => &e.verdicts,
    };
    let a: IpAddr = addr.parse().unwrap();
    verdicts.iter().find(|v| v.addr == a).and_then(|v| v.lost.clone()).unwrap_or_default()
}

/// RFC 6724 §4 / RFC 4862 §5.4 / RFC 4291 §2.6: tentative, duplicated,
/// anycast and detached addresses are never candidates; the one usable
/// address is the only candidate, and each refusal says why.
#[test]
fn rfc6724_section4_excludes_tentative_duplicated_anycast_detached() {
    let mut h = host();
    let e0 = h.eth0;
    for a in ["2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3", "2001:db8:1::4", "2001:db8:9::9"] {
        h.add(e0, a);
    }
    let ifaces = h.ifaces(&[
        ("2001:db8:1::1", "tentative"),
        ("2001:db8:1::2", "duplicated"),
        ("2001:db8:1::3", "anycast"),
        ("2001:db8:1::4", "detached"),
    ]);
    let d = sel(&ifaces, "2001:db8:1::99", e0, freebsd());
    assert_eq!(pick(d.as_ref().unwrap()), ("2001:db8:9::9".into(), Rule::OnlyCandidate));
    for (a, why) in [
        ("2001:db8:1::1", "tentative"),
        ("2001:db8:1::2", "duplicated"),
        ("2001:db8:1::3", "anycast"),
        ("2001:db8:1::4", "detached"),
    ] {
        assert!(lost_reason(&d, a).contains(why), "{a}: {}", lost_reason(&d, a));
    }
}

/// RFC 4862 §5.5.4 with `net.inet6.ip6.use_deprecated=0`: a deprecated
/// address is not a candidate; with only deprecated addresses there is no
/// source, and the message names IPv6.
#[test]
fn use_deprecated_0_excludes_deprecated_addresses() {
    let mut h = host();
    let e0 = h.eth0;
    h.add(e0, "2001:db8:1::1");
    let ifaces = h.ifaces(&[("2001:db8:1::1", "deprecated")]);
    let strict = Options { use_deprecated: false, ..freebsd() };
    let e = sel(&ifaces, "2001:db8:2::1", e0, strict).unwrap_err();
    assert!(e.reason.contains("IPv6"), "{}", e.reason);
    assert!(lost_reason(&Err(e), "2001:db8:1::1").contains("use_deprecated=0"));
    // use_deprecated=1: still usable when it is the only one.
    let d = sel(&ifaces, "2001:db8:2::1", e0, freebsd()).unwrap();
    assert_eq!(pick(&d), ("2001:db8:1::1".into(), Rule::OnlyCandidate));
}

/// RFC 6724 §5 rule 3: with `use_deprecated=1` a deprecated address is
/// avoided — even when it matches the destination longer (rule 8).
#[test]
fn rfc6724_rule3_avoids_deprecated_addresses() {
    let mut h = host();
    let e0 = h.eth0;
    h.add(e0, "2001:db8:1::1");
    h.add(e0, "2001:db8:2::1");
    let ifaces = h.ifaces(&[("2001:db8:1::1", "deprecated")]);
    let d = sel(&ifaces, "2001:db8:1::99", e0, freebsd()).unwrap();
    assert_eq!(pick(&d), ("2001:db8:2::1".into(), Rule::Rfc6724Deprecated));
}

/// The reported rule is the one separating the winner from the runner-up,
/// not the strongest rule that eliminated anyone: a link-local loser (rule 2)
/// and a deprecated global loser (rule 3) — rule 3 decided.
#[test]
fn decided_by_is_the_rule_against_the_runner_up() {
    let mut h = host();
    let e0 = h.eth0;
    h.add(e0, "fe80::1");
    h.add(e0, "2001:db8:1::1");
    h.add(e0, "2001:db8:2::1");
    let ifaces = h.ifaces(&[("2001:db8:1::1", "deprecated")]);
    let d = sel(&ifaces, "2001:db8:1::99", e0, freebsd());
    assert_eq!(pick(d.as_ref().unwrap()), ("2001:db8:2::1".into(), Rule::Rfc6724Deprecated));
    assert!(lost_reason(&d, "fe80::1").contains("rule 2"), "{}", lost_reason(&d, "fe80::1"));
    assert!(lost_reason(&d, "2001:db8:1::1").contains("rule 3"), "{}", lost_reason(&d, "2001:db8:1::1"));
}

/// RFC 6724 §5 rule 1: the destination's own address is the source.
#[test]
fn rfc6724_rule1_prefers_same_address() {
    let mut h = host();
    let e0 = h.eth0;
    h.add(e0, "2001:db8:1::1");
    h.add(e0, "2001:db8:1::2");
    let d = sel(&h.ifaces(&[]), "2001:db8:1::2", e0, freebsd()).unwrap();
    assert_eq!(pick(&d), ("2001:db8:1::2".into(), Rule::Rfc6724SameAddress));
}

/// RFC 6724 §5 rule 2, its four cases: a global destination takes a global
/// source over a link-local; a link-local destination a link-local source; a
/// site-scope multicast destination a global source (link-local is too
/// small); a site-local destination the site-local source over the global
/// one (the smallest sufficient scope).
#[test]
fn rfc6724_rule2_prefers_appropriate_scope() {
    let mut h = host();
    let e0 = h.eth0;
    h.add(e0, "fe80::1");
    h.add(e0, "fec0::1");
    h.add(e0, "2001:db8:1::1");
    let i = h.ifaces(&[]);
    // Global destination: global (runner-up fec0:: is too small).
    assert_eq!(
        pick(&sel(&i, "2001:db8:9::1", e0, freebsd()).unwrap()),
        ("2001:db8:1::1".into(), Rule::Rfc6724Scope)
    );
    // Link-local destination.
    assert_eq!(pick(&sel(&i, "fe80::9", e0, freebsd()).unwrap()), ("fe80::1".into(), Rule::Rfc6724Scope));
    // Site-local multicast (ff05::/16): fec0::1 is exactly site scope.
    assert_eq!(pick(&sel(&i, "ff05::1:3", e0, freebsd()).unwrap()), ("fec0::1".into(), Rule::Rfc6724Scope));
    // Organisation-local multicast (ff08::): only the global one reaches.
    assert_eq!(
        pick(&sel(&i, "ff08::1", e0, freebsd()).unwrap()),
        ("2001:db8:1::1".into(), Rule::Rfc6724Scope)
    );
    // Site-local unicast destination: site-local, not global.
    assert_eq!(pick(&sel(&i, "fec0::9", e0, freebsd()).unwrap()), ("fec0::1".into(), Rule::Rfc6724Scope));
}

/// RFC 6724 §5 rule 5: among global addresses of several interfaces, the
/// outgoing interface's.
#[test]
fn rfc6724_rule5_prefers_outgoing_interface() {
    let mut h = host();
    let (e0, e1) = (h.eth0, h.eth1);
    h.add(e0, "2001:db8:1::1");
    h.add(e1, "2001:db8:2::1");
    let i = h.ifaces(&[]);
    // The destination matches eth0's prefix longer, but leaves by eth1.
    let d = sel(&i, "2001:db8:1::99", e1, freebsd()).unwrap();
    assert_eq!(pick(&d), ("2001:db8:2::1".into(), Rule::Rfc6724OutgoingInterface));
}

/// RFC 6724 §5 rule 6 with the §2.1 labels: a ULA (label 13) loses to a
/// global address (label 1) towards a global destination, though both are
/// global scope and the ULA is listed first.
#[test]
fn rfc6724_rule6_prefers_matching_label() {
    let mut h = host();
    let e0 = h.eth0;
    h.add(e0, "fd00:1::1");
    h.add(e0, "2001:db8:1::1");
    let d = sel(&h.ifaces(&[]), "2a00::1", e0, freebsd()).unwrap();
    assert_eq!(pick(&d), ("2001:db8:1::1".into(), Rule::Rfc6724Label));
    let d = sel(&h.ifaces(&[]), "fd00:2::1", e0, freebsd()).unwrap();
    assert_eq!(pick(&d), ("fd00:1::1".into(), Rule::Rfc6724Label));
}

/// RFC 6724 §5 rule 7 under `net.inet6.ip6.prefer_tempaddr`: 0 (FreeBSD's
/// default) prefers the public address, 1 the temporary one (RFC 8981).
#[test]
fn rfc6724_rule7_follows_prefer_tempaddr() {
    let mut h = host();
    let e0 = h.eth0;
    h.add(e0, "2001:db8:1::1");
    h.add(e0, "2001:db8:1:0:d5e3:7953:13eb:22e8");
    let i = h.ifaces(&[("2001:db8:1:0:d5e3:7953:13eb:22e8", "temporary")]);
    let d = sel(&i, "2001:db8:9::1", e0, freebsd()).unwrap();
    assert_eq!(pick(&d), ("2001:db8:1::1".into(), Rule::Rfc6724Temporary));
    let temp = Options { prefer_temporary: true, ..freebsd() };
    let d = sel(&i, "2001:db8:9::1", e0, temp).unwrap();
    assert_eq!(pick(&d), ("2001:db8:1:0:d5e3:7953:13eb:22e8".into(), Rule::Rfc6724Temporary));
}

/// FreeBSD `prefer_source`: applied after rule 7, before rule 8 — it beats a
/// longer match but not a scope or interface preference.
#[test]
fn prefer_source_flag_beats_longest_match_only() {
    let mut h = host();
    let (e0, e1) = (h.eth0, h.eth1);
    h.add(e0, "2001:db8:1::1");
    h.add(e0, "2001:db8:2::1");
    h.add(e1, "2001:db8:3::1");
    let i = h.ifaces(&[("2001:db8:2::1", "prefer_source"), ("2001:db8:3::1", "prefer_source")]);
    let d = sel(&i, "2001:db8:1::99", e0, freebsd()).unwrap();
    assert_eq!(pick(&d), ("2001:db8:2::1".into(), Rule::PreferSource));
    assert!(lost_reason(&Ok(d), "2001:db8:3::1").contains("rule 5"));
}

/// RFC 6724 §5 rule 8 with §2.2's CommonPrefixLen, counted only up to the
/// source's prefix length: a /128 matching 126 bits beats a /64 matching 126
/// bits (capped to 64).
#[test]
fn rfc6724_rule8_longest_matching_prefix_capped_at_prefix_length() {
    let mut h = host();
    let e0 = h.eth0;
    h.add(e0, "2001:db8:1::3/64");
    h.add(e0, "2001:db8:1::2/128");
    let d = sel(&h.ifaces(&[]), "2001:db8:1::1", e0, freebsd()).unwrap();
    assert_eq!(pick(&d), ("2001:db8:1::2".into(), Rule::Rfc6724LongestMatch));
    // Plain longest match across prefixes.
    let mut h = host();
    h.add(e0, "2001:db8:3::1");
    h.add(e0, "2001:db8:1::1");
    let d = sel(&h.ifaces(&[]), "2001:db8:1::99", e0, freebsd()).unwrap();
    assert_eq!(pick(&d), ("2001:db8:1::1".into(), Rule::Rfc6724LongestMatch));
}

/// RFC 6724 §4: for a link-local destination only the outgoing interface's
/// addresses are candidates — another link's link-local and global addresses
/// are refused, whatever the later rules would say.
#[test]
fn rfc6724_section4_link_local_destination_uses_egress_candidates_only() {
    let mut h = host();
    let (e0, e1) = (h.eth0, h.eth1);
    h.add(e0, "fe80::1");
    h.add(e0, "2001:db8:1::1");
    h.add(e1, "fe80::2");
    let i = h.ifaces(&[]);
    let d = sel(&i, "fe80::2:99", e1, freebsd());
    assert_eq!(pick(d.as_ref().unwrap()), ("fe80::2".into(), Rule::OnlyCandidate));
    assert!(lost_reason(&d, "fe80::1").contains("another link"));
    assert!(lost_reason(&d, "2001:db8:1::1").contains("another link"));
    // Through the stack: `route get fe80::2:99%eth1`.
    let rg = h.s.route_get("fe80::2:99".parse().unwrap(), Some(e1)).unwrap();
    assert_eq!(rg.source.unwrap().addr, "fe80::2".parse::<IpAddr>().unwrap());
}

/// The route's `src` hint wins over RFC 6724 (DESIGN §3).
#[test]
fn ipv6_route_src_hint_wins() {
    let mut h = host();
    let (e0, e1) = (h.eth0, h.eth1);
    h.add(e0, "2001:db8:1::1");
    h.add(e1, "2001:db8:2::1");
    let mut r = Route::new("2001:db8:1::/48".parse().unwrap(), NextHop::OnLink, Some(e0));
    r.src = Some("2001:db8:2::1".parse().unwrap());
    h.s.add_route(r).unwrap();
    let d = h.s.route_get("2001:db8:1:5::99".parse().unwrap(), None).unwrap().source.unwrap();
    assert_eq!((d.addr.to_string(), d.rule), ("2001:db8:2::1".into(), Rule::RouteSrc));
}

/// RFC 6724 §5 rule 5.5 (optional, `net.inet6.ip6.prefer_nexthop_source`):
/// the source whose prefix the chosen next hop advertised.
#[test]
fn rfc6724_rule5_5_prefers_prefix_of_next_hop_unit() {
    let mut h = host();
    let e0 = h.eth0;
    h.add(e0, "2001:db8:a:1::5");
    h.add(e0, "2001:db8:b:1::5");
    let mut i = h.ifaces(&[]);
    let r1: Ipv6Addr = "fe80::a".parse().unwrap();
    for e in i.iter_mut().flat_map(|i| i.addrs.iter_mut()) {
        if e.addr == "2001:db8:a:1::5".parse::<IpAddr>().unwrap() {
            e.note_advertiser(r1);
        }
    }
    let advertised = |c: &Candidate<'_>| c.entry.advertised_by.contains(&r1);
    let policy = PolicyTable::rfc6724();
    let mut ctx = Ctx {
        dst: "2001:db8:b:2::1".parse().unwrap(),
        route: RouteView { src: None, ifindex: e0, next_hop: Some(r1) },
        policy: &policy,
        opts: freebsd(),
        advertised_by_next_hop: &advertised,
    };
    assert_eq!(pick(&v6::select(&i, &ctx).unwrap()), ("2001:db8:b:1::5".into(), Rule::Rfc6724LongestMatch));
    ctx.opts.rule_5_5 = true;
    assert_eq!(pick(&v6::select(&i, &ctx).unwrap()), ("2001:db8:a:1::5".into(), Rule::Rfc6724NextHopPrefix));
}

/// Rule 5.5 end to end: two routers on one link each advertise a prefix
/// (RFC 4861 RAs, RFC 4862 SLAAC); the host records who advertised what and,
/// with `prefer_nexthop_source=1`, sources traffic sent via r1 from r1's
/// prefix although r2's prefix matches the destination longer.
#[test]
fn rfc6724_rule5_5_prefers_prefix_advertised_by_next_hop_via_slaac() {
    let mk = |name: &str, seed: u64, mac: u8, router: bool| {
        let mut s = Stack::new(name, seed);
        if router {
            s.set_sysctl("net.inet6.ip6.forwarding", 1).unwrap();
        } else {
            s.set_sysctl("net.inet6.ip6.accept_rtadv", 1).unwrap();
        }
        let kind = LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, mac]));
        let i = s.add_interface(InterfaceConfig { name: "eth0".into(), kind, mtu: None }, T0).unwrap();
        (s, i)
    };
    let (mut r1, r1e) = mk("r1", 1, 0x11, true);
    let (mut r2, r2e) = mk("r2", 2, 0x12, true);
    let (h, he) = mk("h", 3, 0x13, false);
    r1.add_address(r1e, "2001:db8:a:1::1".parse().unwrap(), 64, T0).unwrap();
    r2.add_address(r2e, "2001:db8:b:1::1".parse().unwrap(), 64, T0).unwrap();
    let mut nodes = [(r1, r1e), (r2, r2e), (h, he)];
    let mut now = T0;
    // One shared segment: every frame reaches every other node.
    for _ in 0..600 {
        for (n, _) in nodes.iter_mut() {
            n.poll(now);
        }
        loop {
            let mut frames = Vec::new();
            for (k, (n, _)) in nodes.iter_mut().enumerate() {
                while let Some(f) = n.transmit() {
                    frames.push((k, f.data().to_vec()));
                    n.recycle(f);
                }
            }
            if frames.is_empty() {
                break;
            }
            for (from, data) in frames {
                for (k, (n, i)) in nodes.iter_mut().enumerate() {
                    if k != from {
                        n.receive(*i, &data, now);
                    }
                }
            }
        }
        now += core::time::Duration::from_millis(10);
    }
    let r1_ll = nodes[0].0.interface(r1e).unwrap().link_local6().unwrap();
    let r2_ll = nodes[1].0.interface(r2e).unwrap().link_local6().unwrap();
    let h = &mut nodes[2].0;
    let slaac: Vec<(IpAddr, Vec<Ipv6Addr>)> = h
        .interface(he)
        .unwrap()
        .addrs
        .iter()
        .filter(|a| a.flags.autoconf)
        .map(|a| (a.addr, a.advertised_by.clone()))
        .collect();
    assert_eq!(slaac.len(), 2, "{slaac:?}");
    let from = |p: &str| slaac.iter().find(|(a, _)| a.to_string().starts_with(p)).unwrap().clone();
    let (a_addr, a_by) = from("2001:db8:a:1:");
    let (b_addr, b_by) = from("2001:db8:b:1:");
    assert_eq!(a_by, vec![r1_ll]);
    assert_eq!(b_by, vec![r2_ll]);
    // Traffic to 2001:db8:b:2::/64 goes via r1.
    let gw = NextHop::Gateway(GatewayAddr::V6(ZonedIpv6 { addr: r1_ll, zone: Some(he) }));
    h.add_route(Route::new("2001:db8:b:2::/64".parse().unwrap(), gw, Some(he))).unwrap();
    let dst: IpAddr = "2001:db8:b:2::1".parse().unwrap();
    let d = h.route_get(dst, None).unwrap().source.unwrap();
    assert_eq!((d.addr, d.rule), (b_addr, Rule::Rfc6724LongestMatch), "rule 5.5 off");
    h.set_sysctl("net.inet6.ip6.prefer_nexthop_source", 1).unwrap();
    let d = h.route_get(dst, None).unwrap().source.unwrap();
    assert_eq!((d.addr, d.rule), (a_addr, Rule::Rfc6724NextHopPrefix), "rule 5.5 on");
}
