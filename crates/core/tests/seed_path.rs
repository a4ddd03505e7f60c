//! The seed topology driven by a minimal in-test wire: h1 (IPv4 only on lo0)
//! — r1 (no IPv4 address at all) — h2 (IPv4 only on lo0); the links carry
//! only IPv6 link-local addresses and IPv4 routes point at IPv6 next hops.

use std::net::IpAddr;
use via6_core::addr::{GatewayAddr, ZonedIpv6};
use via6_core::echo::{EchoEvent, EchoRequest};
use via6_core::iface::LinkKind;
use via6_core::route::{NextHop, Route};
use via6_core::{IfIndex, Instant, InterfaceConfig, Stack};
use via6_wire::MacAddr;

struct Net {
    nodes: Vec<Stack>,
    /// (node, ifindex) <-> (node, ifindex)
    links: Vec<((usize, IfIndex), (usize, IfIndex))>,
    now: Instant,
}

impl Net {
    fn step(&mut self) -> bool {
        let mut moved = false;
        for n in 0..self.nodes.len() {
            while let Some(f) = self.nodes[n].transmit() {
                moved = true;
                let data = f.data().to_vec();
                let from = (n, f.ifindex);
                self.nodes[n].recycle(f);
                for (a, b) in &self.links {
                    let to = if *a == from {
                        *b
                    } else if *b == from {
                        *a
                    } else {
                        continue;
                    };
                    self.nodes[to.0].receive(to.1, &data, self.now);
                }
            }
        }
        moved
    }

    fn run_ms(&mut self, ms: u64) {
        let end = self.now + core::time::Duration::from_millis(ms);
        while self.now < end {
            for n in &mut self.nodes {
                n.poll(self.now);
            }
            while self.step() {}
            self.now += core::time::Duration::from_millis(10);
        }
    }
}

fn ll(s: &str, ifindex: IfIndex) -> NextHop {
    NextHop::Gateway(GatewayAddr::V6(ZonedIpv6 { addr: s.parse().unwrap(), zone: Some(ifindex) }))
}

fn eth(stack: &mut Stack, name: &str, mac: u8) -> IfIndex {
    let cfg = InterfaceConfig {
        name: name.into(),
        kind: LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, mac])),
        mtu: None,
    };
    stack.add_interface(cfg, Instant::ZERO).unwrap()
}

fn lo(stack: &mut Stack) -> IfIndex {
    let cfg = InterfaceConfig { name: "lo0".into(), kind: LinkKind::Loopback, mtu: None };
    stack.add_interface(cfg, Instant::ZERO).unwrap()
}

fn seed() -> Net {
    let t0 = Instant::ZERO;
    let mut h1 = Stack::new("h1", 1);
    let h1lo = lo(&mut h1);
    let h1e = eth(&mut h1, "eth0", 0x11);
    h1.add_address(h1lo, "198.51.100.1".parse().unwrap(), 32, t0).unwrap();
    h1.add_address(h1lo, "2001:db8:1::1".parse().unwrap(), 128, t0).unwrap();
    h1.add_address(h1e, "fe80::2".parse().unwrap(), 64, t0).unwrap();
    h1.add_route(Route::new("0.0.0.0/0".parse().unwrap(), ll("fe80::1", h1e), Some(h1e))).unwrap();
    h1.add_route(Route::new("::/0".parse().unwrap(), ll("fe80::1", h1e), Some(h1e))).unwrap();

    let mut r1 = Stack::new("r1", 2);
    r1.set_sysctl("net.inet.ip.forwarding", 1).unwrap();
    r1.set_sysctl("net.inet6.ip6.forwarding", 1).unwrap();
    r1.set_sysctl("net.inet6.ip6.rtadv", 0).unwrap();
    let _ = lo(&mut r1);
    let r0 = eth(&mut r1, "eth0", 0x21);
    let r1e = eth(&mut r1, "eth1", 0x22);
    r1.add_address(r0, "fe80::1".parse().unwrap(), 64, t0).unwrap();
    r1.add_address(r1e, "fe80::1".parse().unwrap(), 64, t0).unwrap();
    r1.add_route(Route::new("198.51.100.1/32".parse().unwrap(), ll("fe80::2", r0), Some(r0))).unwrap();
    r1.add_route(Route::new("203.0.113.2/32".parse().unwrap(), ll("fe80::2", r1e), Some(r1e))).unwrap();
    r1.add_route(Route::new("2001:db8:1::1/128".parse().unwrap(), ll("fe80::2", r0), Some(r0))).unwrap();
    r1.add_route(Route::new("2001:db8:2::1/128".parse().unwrap(), ll("fe80::2", r1e), Some(r1e))).unwrap();

    let mut h2 = Stack::new("h2", 3);
    let h2lo = lo(&mut h2);
    let h2e = eth(&mut h2, "eth0", 0x31);
    h2.add_address(h2lo, "203.0.113.2".parse().unwrap(), 32, t0).unwrap();
    h2.add_address(h2lo, "2001:db8:2::1".parse().unwrap(), 128, t0).unwrap();
    h2.add_address(h2e, "fe80::2".parse().unwrap(), 64, t0).unwrap();
    h2.add_route(Route::new("0.0.0.0/0".parse().unwrap(), ll("fe80::1", h2e), Some(h2e))).unwrap();
    h2.add_route(Route::new("::/0".parse().unwrap(), ll("fe80::1", h2e), Some(h2e))).unwrap();

    let mut net =
        Net { nodes: vec![h1, r1, h2], links: vec![((0, h1e), (1, r0)), ((1, r1e), (2, h2e))], now: t0 };
    net.run_ms(3000); // DAD completes.
    net
}

fn ping(net: &mut Net, from: usize, dst: &str, ttl: Option<u8>, size: usize, df: bool) -> Vec<EchoEvent> {
    let ident = 0x4242;
    net.nodes[from].echo_bind(ident);
    let req = EchoRequest {
        dst: dst.parse().unwrap(),
        zone: None,
        src: None,
        ident,
        seq: 1,
        payload_len: size,
        ttl,
        dont_frag: df,
    };
    net.nodes[from].echo_send(&req, net.now).unwrap();
    net.run_ms(2000);
    let mut evs = Vec::new();
    while let Some(e) = net.nodes[from].echo_recv(ident) {
        evs.push(e);
    }
    net.nodes[from].echo_unbind(ident);
    evs
}

#[test]
fn ipv4_ping_across_a_v4_via_v6_router() {
    let mut net = seed();
    let evs = ping(&mut net, 0, "203.0.113.2", None, 56, false);
    assert!(
        matches!(evs[..], [EchoEvent::Reply { from, ttl: 63, .. }] if from == "203.0.113.2".parse::<IpAddr>().unwrap()),
        "{evs:?}"
    );
}

#[test]
fn ipv6_ping_across_the_router() {
    let mut net = seed();
    let evs = ping(&mut net, 0, "2001:db8:2::1", None, 56, false);
    assert!(matches!(evs[..], [EchoEvent::Reply { ttl: 63, .. }]), "{evs:?}");
}

#[test]
fn router_without_ipv4_answers_ttl_exceeded_from_192_0_0_8() {
    let mut net = seed();
    let evs = ping(&mut net, 0, "203.0.113.2", Some(1), 56, false);
    assert!(
        matches!(evs[..], [EchoEvent::Error { from, icmp_type: 11, code: 0, .. }] if from == "192.0.0.8".parse::<IpAddr>().unwrap()),
        "{evs:?}"
    );
}

#[test]
fn router_with_loopback_ipv4_answers_from_it() {
    let mut net = seed();
    let lo = net.nodes[1].ifindex("lo0").unwrap();
    net.nodes[1].add_address(lo, "192.0.2.1".parse().unwrap(), 32, net.now).unwrap();
    let evs = ping(&mut net, 0, "203.0.113.2", Some(1), 56, false);
    assert!(
        matches!(evs[..], [EchoEvent::Error { from, icmp_type: 11, .. }] if from == "192.0.2.1".parse::<IpAddr>().unwrap()),
        "{evs:?}"
    );
}

#[test]
fn fragmentation_needed_carries_the_next_hop_mtu() {
    let mut net = seed();
    let e1 = net.nodes[1].ifindex("eth1").unwrap();
    net.nodes[1].set_mtu(e1, 1280).unwrap();
    let evs = ping(&mut net, 0, "203.0.113.2", None, 1400, true);
    assert!(matches!(evs[..], [EchoEvent::Error { icmp_type: 3, code: 4, mtu: Some(1280), .. }]), "{evs:?}");
    let evs = ping(&mut net, 0, "2001:db8:2::1", None, 1400, false);
    assert!(matches!(evs[..], [EchoEvent::Error { icmp_type: 2, mtu: Some(1280), .. }]), "{evs:?}");
}

#[test]
fn source_is_borrowed_from_lo0_for_the_v4_via_v6_route() {
    let net = seed();
    let rg = net.nodes[0].route_get("203.0.113.2".parse().unwrap(), None).unwrap();
    let d = rg.source.unwrap();
    assert_eq!(d.addr, "198.51.100.1".parse::<IpAddr>().unwrap());
    assert_eq!(d.rule, via6_core::srcsel::Rule::Loopback);
    assert_eq!(rg.lookup.neighbour, "fe80::1".parse::<IpAddr>().unwrap());
}
