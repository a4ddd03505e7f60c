//! RFC 6724 §6 `sort_destinations` beyond the §10.2 examples: the rules that
//! need what the stack knows (rule 1 reachability and Source(D), rule 7
//! encapsulation), stability (rule 10), and the facts a `Stack` supplies.

use std::net::IpAddr;
use via6_core::addr::{GatewayAddr, ZonedIpv6};
use via6_core::iface::LinkKind;
use via6_core::route::{NextHop, Route};
use via6_core::srcsel::policy::PolicyTable;
use via6_core::srcsel::sort::{sort_destinations, DestFacts, DestRule, SourceFacts};
use via6_core::{Instant, InterfaceConfig, Stack};
use via6_wire::MacAddr;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn usable(src: &str) -> DestFacts {
    let len = if ip(src).is_ipv4() { 24 } else { 64 };
    DestFacts { source: Some(SourceFacts::new(ip(src), len)), unreachable: false, encapsulated: false }
}

fn order(dsts: &[&str], facts: impl Fn(&str) -> DestFacts) -> (Vec<String>, Vec<Option<DestRule>>) {
    let addrs: Vec<IpAddr> = dsts.iter().map(|d| ip(d)).collect();
    let out = sort_destinations(&addrs, &PolicyTable::rfc6724(), |d| facts(&d.to_string()));
    (out.iter().map(|s| s.dst.to_string()).collect(), out.iter().map(|s| s.before_next).collect())
}

/// RFC 6724 §6 rule 1: a destination known to be unreachable, or one with no
/// source (Source(D) undefined), sorts after a usable one — even one rule 6
/// would have preferred.
#[test]
fn rfc6724_rule1_avoids_unusable_destinations() {
    let (got, rules) = order(&["2001:db8:1::1", "192.0.2.1"], |d| {
        if d == "2001:db8:1::1" {
            DestFacts { unreachable: true, ..usable("2001:db8:1::2") }
        } else {
            usable("192.0.2.2")
        }
    });
    assert_eq!(got, ["192.0.2.1", "2001:db8:1::1"]);
    assert_eq!(rules[0], Some(DestRule::Unusable));
    let (got, rules) = order(&["2001:db8:1::1", "192.0.2.1"], |d| {
        if d == "2001:db8:1::1" {
            DestFacts::default()
        } else {
            usable("192.0.2.2")
        }
    });
    assert_eq!(got, ["192.0.2.1", "2001:db8:1::1"]);
    assert_eq!(rules[0], Some(DestRule::Unusable));
}

/// RFC 6724 §6 rule 7: prefer native transport over an encapsulating one.
#[test]
fn rfc6724_rule7_prefers_native_transport() {
    let (got, rules) = order(&["2001:db8:1::1", "2001:db8:2::1"], |d| {
        let mut f = usable(if d == "2001:db8:1::1" { "2001:db8:1::2" } else { "2001:db8:2::2" });
        f.encapsulated = d == "2001:db8:1::1";
        f
    });
    assert_eq!(got, ["2001:db8:2::1", "2001:db8:1::1"]);
    assert_eq!(rules[0], Some(DestRule::NativeTransport));
}

/// RFC 6724 §6 rule 10: destinations no rule separates keep their input
/// order, while the others move around them.
#[test]
fn rfc6724_rule10_sort_is_stable() {
    let dsts = ["192.0.2.1", "2001:db8:1::1", "192.0.2.2", "2001:db8:1::2", "192.0.2.3"];
    let (got, rules) =
        order(&dsts, |d| if d.contains(':') { usable("2001:db8:1::99") } else { usable("192.0.2.99") });
    assert_eq!(got, ["2001:db8:1::1", "2001:db8:1::2", "192.0.2.1", "192.0.2.2", "192.0.2.3"]);
    assert_eq!(
        rules,
        [
            Some(DestRule::Unchanged),
            Some(DestRule::Precedence),
            Some(DestRule::Unchanged),
            Some(DestRule::Unchanged),
            None
        ]
    );
    // Rule 9 is IPv6-only: IPv4 pairs with different prefix matches keep
    // their order.
    let (got, _) = order(&["10.55.0.1", "10.0.0.1"], |d| {
        usable(if d == "10.55.0.1" { "10.99.0.2" } else { "10.0.0.2" })
    });
    assert_eq!(got, ["10.55.0.1", "10.0.0.1"]);
}

/// The stack's facts for RFC 6724 §6: a destination without a route is
/// unreachable (rule 1); an IPv4 destination on a node with no IPv4 source
/// has Source(D) undefined (rule 1); an IPv4 destination given v4-mapped is
/// looked up as IPv4.
#[test]
fn stack_destination_facts_feed_rule1() {
    let t0 = Instant::ZERO;
    let mut s = Stack::new("h", 1);
    s.set_sysctl("net.inet6.ip6.dad_count", 0).unwrap();
    let kind = LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, 1]));
    let e0 = s.add_interface(InterfaceConfig { name: "eth0".into(), kind, mtu: None }, t0).unwrap();
    s.add_address(e0, "2001:db8:1::2".parse().unwrap(), 64, t0).unwrap();
    let gw =
        NextHop::Gateway(GatewayAddr::V6(ZonedIpv6 { addr: "fe80::1".parse().unwrap(), zone: Some(e0) }));
    s.add_route(Route::new("2001:db8::/32".parse().unwrap(), gw, Some(e0))).unwrap();
    s.add_route(Route::new("0.0.0.0/0".parse().unwrap(), gw, Some(e0))).unwrap();

    let f = s.destination_facts(ip("2a00::1"), None);
    assert!(f.unreachable, "no route to 2a00::/16");
    let f = s.destination_facts(ip("::ffff:203.0.113.2"), None);
    assert!(!f.unreachable && f.source.is_none(), "routed, but no IPv4 source: {f:?}");
    let f = s.destination_facts(ip("2001:db8:5::1"), None);
    assert_eq!(f.source.map(|x| (x.addr, x.prefix_len)), Some((ip("2001:db8:1::2"), 64)));

    let dsts = [(ip("2a00::1"), None), (ip("::ffff:203.0.113.2"), None), (ip("2001:db8:5::1"), None)];
    let out = s.sort_destinations(&dsts);
    let got: Vec<String> = out.iter().map(|d| d.dst.to_string()).collect();
    assert_eq!(got, ["2001:db8:5::1", "2a00::1", "::ffff:203.0.113.2"]);
    assert_eq!(out[0].before_next, Some(DestRule::Unusable));
    // Both unusable: the later rules still order them (rule 6, precedence 40
    // over 35), as RFC 6724 §6 applies every rule in turn.
    assert_eq!(out[1].before_next, Some(DestRule::Precedence));
}
