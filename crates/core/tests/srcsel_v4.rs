//! IPv4 source selection, one test per step of DESIGN.md §3 (originated
//! traffic, then ICMPv4 errors), over real interfaces built by a `Stack`.

use std::net::{IpAddr, Ipv4Addr};
use via6_core::addr::{GatewayAddr, ZonedIpv6};
use via6_core::echo::EchoRequest;
use via6_core::iface::LinkKind;
use via6_core::route::{NextHop, Route};
use via6_core::srcsel::{v4, Rule};
use via6_core::{Errno, IfIndex, Instant, InterfaceConfig, Stack};
use via6_wire::MacAddr;

const T0: Instant = Instant::ZERO;

struct Node {
    s: Stack,
    lo: IfIndex,
    eth0: IfIndex,
    eth1: IfIndex,
}

/// lo0 (127.0.0.1, ::1), eth0 and eth1 with their automatic IPv6 link-local
/// addresses only.
fn node() -> Node {
    let mut s = Stack::new("n", 7);
    let lo = s
        .add_interface(InterfaceConfig { name: "lo0".into(), kind: LinkKind::Loopback, mtu: None }, T0)
        .unwrap();
    let mut eth = |name: &str, m: u8| {
        let kind = LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, m]));
        s.add_interface(InterfaceConfig { name: name.into(), kind, mtu: None }, T0).unwrap()
    };
    let eth0 = eth("eth0", 1);
    let eth1 = eth("eth1", 2);
    Node { s, lo, eth0, eth1 }
}

impl Node {
    fn addr(&mut self, ifindex: IfIndex, a: &str, len: u8) {
        self.s.add_address(ifindex, a.parse().unwrap(), len, T0).unwrap();
    }
    fn route(&mut self, dst: &str, nh: NextHop, ifindex: IfIndex, src: Option<&str>) {
        let mut r = Route::new(dst.parse().unwrap(), nh, Some(ifindex));
        r.src = src.map(|s| s.parse().unwrap());
        self.s.add_route(r).unwrap();
    }
    /// `route get DST`: (source, rule), or the NoSource reason.
    fn get(&self, dst: &str) -> Result<(IpAddr, Rule), String> {
        let rg = self.s.route_get(dst.parse().unwrap(), None).unwrap();
        rg.source.map(|d| (d.addr, d.rule)).map_err(|e| e.reason)
    }
}

fn v4gw(a: &str) -> NextHop {
    NextHop::Gateway(GatewayAddr::V4(a.parse().unwrap()))
}

fn v6gw(a: &str, zone: IfIndex) -> NextHop {
    NextHop::Gateway(GatewayAddr::V6(ZonedIpv6 { addr: a.parse().unwrap(), zone: Some(zone) }))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// DESIGN §3 IPv4 step 1: the route's `src` hint wins over an address of the
/// egress interface and over the loopback.
#[test]
fn ipv4_step1_route_src_hint_wins() {
    let mut n = node();
    let (lo, eth0) = (n.lo, n.eth0);
    n.addr(eth0, "192.0.2.10", 24);
    n.addr(lo, "198.51.100.1", 32);
    n.route("203.0.113.0/24", v4gw("192.0.2.1"), eth0, Some("198.51.100.1"));
    n.route("0.0.0.0/0", v4gw("192.0.2.1"), eth0, None);
    assert_eq!(n.get("203.0.113.9"), Ok((ip("198.51.100.1"), Rule::RouteSrc)));
    // Without the hint the egress address is chosen: the hint decided.
    assert_eq!(n.get("198.18.0.1"), Ok((ip("192.0.2.10"), Rule::EgressSameSubnet)));
}

/// DESIGN §3 / issue 4: a route `src` must be a local address of the
/// destination's family, else the route is refused with a clear error.
#[test]
fn ipv4_route_src_hint_is_validated() {
    let mut n = node();
    let eth0 = n.eth0;
    n.addr(eth0, "192.0.2.10", 24);
    let mut r = Route::new("203.0.113.0/24".parse().unwrap(), v4gw("192.0.2.1"), Some(eth0));
    r.src = Some(ip("192.0.2.99"));
    let e = n.s.add_route(r.clone()).unwrap_err();
    assert_eq!(e.errno, Errno::EADDRNOTAVAIL);
    assert!(e.reason.contains("192.0.2.99") && e.reason.contains("not a local address"), "{}", e.reason);
    r.src = Some(ip("fe80::1"));
    let e = n.s.add_route(r).unwrap_err();
    assert_eq!(e.errno, Errno::EINVAL);
    assert!(e.reason.contains("family"), "{}", e.reason);
}

/// DESIGN §3 IPv4 step 2: an address of the egress interface, the one whose
/// subnet holds the gateway first (not merely the first assigned); without
/// such an address, the first usable one.
#[test]
fn ipv4_step2_egress_address_same_subnet_first() {
    let mut n = node();
    let (lo, eth0, eth1) = (n.lo, n.eth0, n.eth1);
    n.addr(eth0, "10.0.0.1", 24);
    n.addr(eth0, "192.0.2.10", 24);
    n.addr(lo, "198.51.100.1", 32);
    n.addr(eth1, "192.0.2.200", 25); // another interface: never preferred
    n.route("0.0.0.0/0", v4gw("192.0.2.1"), eth0, None);
    n.route("203.0.113.0/24", NextHop::OnLink, eth0, None);
    assert_eq!(n.get("198.18.0.1"), Ok((ip("192.0.2.10"), Rule::EgressSameSubnet)));
    // An on-link destination outside every subnet of eth0: the first address.
    assert_eq!(n.get("203.0.113.5"), Ok((ip("10.0.0.1"), Rule::Egress)));
    // The destination's own subnet decides for an on-link destination.
    assert_eq!(n.get("10.0.0.77"), Ok((ip("10.0.0.1"), Rule::EgressSameSubnet)));
}

/// DESIGN §3 IPv4 step 3 (the seed case): the egress interface has only an
/// IPv6 link-local address (an IPv4 route via an IPv6 next hop); the loopback
/// address is borrowed — before another interface's address.
#[test]
fn ipv4_step3_loopback_borrowed_when_egress_has_only_ipv6_link_local() {
    let mut n = node();
    let (lo, eth0, eth1) = (n.lo, n.eth0, n.eth1);
    n.addr(eth1, "192.0.2.20", 24);
    n.addr(lo, "198.51.100.1", 32);
    n.route("0.0.0.0/0", v6gw("fe80::1", eth0), eth0, None);
    assert!(n.s.interface(eth0).unwrap().addrs.iter().all(|a| a.addr.is_ipv6()));
    assert_eq!(n.get("203.0.113.2"), Ok((ip("198.51.100.1"), Rule::Loopback)));
    let d = n.s.route_get(ip("203.0.113.2"), None).unwrap().source.unwrap();
    let eth1_verdict = d.verdicts.iter().find(|v| v.addr == ip("192.0.2.20")).unwrap();
    assert!(eth1_verdict.lost.is_some(), "{d:?}");
}

/// DESIGN §3 IPv4 step 4: with no loopback address but 127.0.0.1, another
/// interface's global address is used.
#[test]
fn ipv4_step4_another_interfaces_address() {
    let mut n = node();
    let (eth0, eth1) = (n.eth0, n.eth1);
    n.addr(eth1, "192.0.2.20", 24);
    n.route("0.0.0.0/0", v6gw("fe80::1", eth0), eth0, None);
    assert_eq!(n.get("203.0.113.2"), Ok((ip("192.0.2.20"), Rule::AnyGlobal)));
}

/// DESIGN §3 IPv4 step 4: never 127/8 nor 169.254/16 towards a global
/// destination — not from the loopback, not from the egress interface —
/// but 169.254/16 towards a link-local destination.
#[test]
fn ipv4_never_127_or_169_254_towards_a_global_destination() {
    let mut n = node();
    let (lo, eth0, eth1) = (n.lo, n.eth0, n.eth1);
    n.addr(eth0, "169.254.1.1", 16);
    n.addr(eth1, "169.254.7.7", 16);
    n.route("0.0.0.0/0", v6gw("fe80::1", eth0), eth0, None);
    let reason = n.get("203.0.113.2").unwrap_err();
    assert!(reason.contains("IPv4"), "{reason}");
    let rg = n.s.route_get(ip("203.0.113.2"), None).unwrap();
    let verdicts = rg.source.unwrap_err().verdicts;
    for a in ["127.0.0.1", "169.254.1.1", "169.254.7.7"] {
        let v = verdicts.iter().find(|v| v.addr == ip(a)).unwrap_or_else(|| panic!("{a} considered"));
        assert!(v.lost.is_some(), "{a}");
    }
    // A link-local destination on eth0 may use eth0's link-local address.
    assert_eq!(n.get("169.254.9.9"), Ok((ip("169.254.1.1"), Rule::EgressSameSubnet)));
    // With a global loopback address, that one is used, not the egress 169.254.
    n.addr(lo, "198.51.100.1", 32);
    assert_eq!(n.get("203.0.113.2"), Ok((ip("198.51.100.1"), Rule::Loopback)));
}

/// DESIGN §3 IPv4 step 5 / issue 4: a node with no IPv4 address fails with
/// EADDRNOTAVAIL and a message naming IPv4 — `route get` and a send alike.
#[test]
fn ipv4_step5_no_ipv4_address_is_eaddrnotavail() {
    let mut n = node();
    let eth0 = n.eth0;
    n.route("0.0.0.0/0", v6gw("fe80::1", eth0), eth0, None);
    let reason = n.get("203.0.113.2").unwrap_err();
    assert!(reason.contains("IPv4"), "{reason}");
    n.s.echo_bind(7);
    let req = EchoRequest {
        dst: ip("203.0.113.2"),
        zone: None,
        src: None,
        ident: 7,
        seq: 1,
        payload_len: 8,
        ttl: None,
        dont_frag: false,
    };
    let e = n.s.echo_send(&req, T0).unwrap_err();
    assert_eq!(e.errno, Errno::EADDRNOTAVAIL);
    assert!(e.reason.contains("IPv4"), "{}", e.reason);

    // A node with no loopback and no IPv4 at all says so.
    let mut s = Stack::new("bare", 1);
    let kind = LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, 9]));
    let e0 = s.add_interface(InterfaceConfig { name: "eth0".into(), kind, mtu: None }, T0).unwrap();
    s.add_route(Route::new("0.0.0.0/0".parse().unwrap(), v6gw("fe80::1", e0), Some(e0))).unwrap();
    let ns = s.route_get(ip("203.0.113.2"), None).unwrap().source.unwrap_err();
    assert!(ns.reason.contains("no usable IPv4 address"), "{}", ns.reason);
    assert!(ns.verdicts.is_empty());
}

fn back(route_src: Option<&str>, ifindex: IfIndex) -> v4::RouteView {
    v4::RouteView { src: route_src.map(|s| s.parse().unwrap()), ifindex, gateway_v4: None }
}

fn icmp(n: &Node, offending_dst: &str, back: Option<&v4::RouteView>) -> (Ipv4Addr, Rule) {
    let d = v4::select_icmp_error(
        n.s.interfaces(),
        offending_dst.parse().unwrap(),
        back,
        "203.0.113.2".parse().unwrap(),
    );
    (d.addr, d.rule)
}

/// DESIGN §3 ICMPv4 errors, in order: (1) the offending packet's destination
/// when it is ours; (2) the return route's `src`; (3) an address of the
/// interface the error leaves by; (4) the loopback address, then any global
/// address; (5) 192.0.0.8. Each step is checked with every later step's
/// address present, so that it is the earliest step that decides.
#[test]
fn icmpv4_error_source_order() {
    let mut n = node();
    let (lo, eth0, eth1) = (n.lo, n.eth0, n.eth1);
    // (5) nothing but 127.0.0.1: the dummy address.
    assert_eq!(icmp(&n, "198.18.0.1", Some(&back(None, eth0))), (via6_core::addr::IPV4_DUMMY, Rule::Dummy));
    // (4b) another interface's global address.
    n.addr(eth1, "192.0.2.20", 24);
    assert_eq!(
        icmp(&n, "198.18.0.1", Some(&back(None, eth0))),
        ("192.0.2.20".parse().unwrap(), Rule::AnyGlobal)
    );
    // (4a) the loopback address before it.
    n.addr(lo, "198.51.100.1", 32);
    assert_eq!(
        icmp(&n, "198.18.0.1", Some(&back(None, eth0))),
        ("198.51.100.1".parse().unwrap(), Rule::Loopback)
    );
    // No return route at all: still the loopback.
    assert_eq!(icmp(&n, "198.18.0.1", None), ("198.51.100.1".parse().unwrap(), Rule::Loopback));
    // (3) the egress interface's address before the loopback.
    n.addr(eth0, "192.0.2.10", 24);
    assert_eq!(
        icmp(&n, "198.18.0.1", Some(&back(None, eth0))),
        ("192.0.2.10".parse().unwrap(), Rule::Egress)
    );
    // (2) the return route's src before the egress address.
    assert_eq!(
        icmp(&n, "198.18.0.1", Some(&back(Some("198.51.100.1"), eth0))),
        ("198.51.100.1".parse().unwrap(), Rule::RouteSrc)
    );
    // (1) a packet addressed to us: that address, before the route's src.
    assert_eq!(
        icmp(&n, "192.0.2.20", Some(&back(Some("198.51.100.1"), eth0))),
        ("192.0.2.20".parse().unwrap(), Rule::OffendingDestination)
    );
}
