//! Issue 5, redirects (RFC 1812 §5.2.7.2, RFC 792; RFC 4861 §8.2): h1, r1
//! and r2 share one Ethernet segment. Lab links are point-to-point, so this
//! test drives the stacks (built from a topology file by the lab's
//! `build_stack`) over a small in-test hub on the same virtual clock.

use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use via6_core::echo::{EchoEvent, EchoRequest};
use via6_core::{IfIndex, Instant, Stack};
use via6_lab::{build_stack, Topology};
use via6_wire::icmpv6::Icmpv6Repr;
use via6_wire::ndisc::NdiscRepr;
use via6_wire::{EthernetFrame, Icmpv6Packet, Ipv4Packet, Ipv6Packet, MacAddr};

const TOPOLOGY: &str = r#"
[[node]]
name = "h1"
[[node.interface]]
name = "eth0"
kind = "lab"
addresses = ["192.0.2.2/24", "2001:db8:a::2/64", "fe80::2/64"]
[[node.route]]
dest = "0.0.0.0/0"
via = "192.0.2.1"
[[node.route]]
dest = "::/0"
via = "fe80::1%eth0"

[[node]]
name = "r1"
[node.sysctl]
"net.inet.ip.forwarding" = 1
"net.inet6.ip6.forwarding" = 1
"net.inet6.ip6.rtadv" = 0
[[node.interface]]
name = "eth0"
kind = "lab"
addresses = ["192.0.2.1/24", "2001:db8:a::1/64", "fe80::1/64"]
# Better reached through r2, on the same link.
[[node.route]]
dest = "203.0.113.9/32"
via = "192.0.2.3"
[[node.route]]
dest = "2001:db8:9::9/128"
via = "fe80::3%eth0"
# v4-via-v6: an IPv4 route whose next hop is r2's IPv6 link-local.
[[node.route]]
dest = "203.0.113.10/32"
via = "fe80::3%eth0"
# An IPv6 route through r2's global address.
[[node.route]]
dest = "2001:db8:9::10/128"
via = "2001:db8:a::3"

[[node]]
name = "r2"
[node.sysctl]
"net.inet.ip.forwarding" = 1
"net.inet6.ip6.forwarding" = 1
"net.inet6.ip6.rtadv" = 0
[[node.interface]]
name = "lo0"
kind = "loopback"
addresses = ["203.0.113.9/32", "203.0.113.10/32", "2001:db8:9::9/128", "2001:db8:9::10/128"]
[[node.interface]]
name = "eth0"
kind = "lab"
addresses = ["192.0.2.3/24", "2001:db8:a::3/64", "fe80::3/64"]
"#;

const H1: usize = 0;
const R1: usize = 1;
const R2: usize = 2;

/// Three stacks on one hub: every frame reaches every other station.
struct Segment {
    stacks: Vec<Stack>,
    eth0: Vec<IfIndex>,
    now: Instant,
    /// (sender, frame) of everything sent on the segment.
    wire: Vec<(usize, Vec<u8>)>,
}

impl Segment {
    fn new() -> Segment {
        let topo = Topology::parse(TOPOLOGY).expect("topology");
        let mut stacks = Vec::new();
        let mut eth0 = Vec::new();
        for (i, spec) in topo.nodes.iter().enumerate() {
            let b = build_stack(spec, 11 + i as u64, Instant::ZERO).expect("node");
            let pos = spec.interfaces.iter().position(|x| x.name == "eth0").expect("eth0");
            eth0.push(b.ifindex[pos]);
            stacks.push(b.stack);
        }
        let mut s = Segment { stacks, eth0, now: Instant::ZERO, wire: Vec::new() };
        s.run(Duration::from_secs(3)); // DAD
        s
    }

    fn run(&mut self, d: Duration) {
        let end = self.now + d;
        while self.now < end {
            for st in &mut self.stacks {
                st.poll(self.now);
            }
            loop {
                let mut moved = false;
                for n in 0..self.stacks.len() {
                    while let Some(f) = self.stacks[n].transmit() {
                        moved = true;
                        let data = f.data().to_vec();
                        let on_segment = f.ifindex == self.eth0[n];
                        self.stacks[n].recycle(f);
                        if !on_segment {
                            continue;
                        }
                        for m in 0..self.stacks.len() {
                            if m != n {
                                let i = self.eth0[m];
                                self.stacks[m].receive(i, &data, self.now);
                            }
                        }
                        self.wire.push((n, data));
                    }
                }
                if !moved {
                    break;
                }
            }
            self.now += Duration::from_millis(1);
        }
    }

    fn ping(&mut self, dst: &str, seq: u16) -> Vec<EchoEvent> {
        let ident = 0x3030;
        let now = self.now;
        let h1 = &mut self.stacks[H1];
        h1.echo_bind(ident);
        let req = EchoRequest {
            dst: dst.parse().unwrap(),
            zone: None,
            src: None,
            ident,
            seq,
            payload_len: 32,
            ttl: None,
            dont_frag: false,
        };
        h1.echo_send(&req, now).unwrap();
        self.run(Duration::from_millis(300));
        let h1 = &mut self.stacks[H1];
        let mut evs = Vec::new();
        while let Some(e) = h1.echo_recv(ident) {
            evs.push(e);
        }
        h1.echo_unbind(ident);
        evs
    }

    fn mac(&self, n: usize) -> MacAddr {
        match self.stacks[n].interface(self.eth0[n]).unwrap().kind {
            via6_core::iface::LinkKind::Ethernet(m) => m,
            k => panic!("{k:?}"),
        }
    }

    /// IP packets `from` sent since `since`: (destination MAC, IP bytes).
    fn sent_by(&self, from: usize, since: usize) -> Vec<(MacAddr, Vec<u8>)> {
        self.wire[since..]
            .iter()
            .filter(|(n, _)| *n == from)
            .filter_map(|(_, d)| {
                let e = EthernetFrame::new_checked(&d[..]).ok()?;
                matches!(e.ethertype(), 0x0800 | 0x86dd).then(|| (e.dst(), e.payload().to_vec()))
            })
            .collect()
    }

    fn counter(&self, n: usize, name: &str) -> u64 {
        self.stacks[n].stats().by_name(name).unwrap()
    }
}

fn icmp4(ip: &[u8]) -> Option<(Ipv4Packet<&[u8]>, &[u8])> {
    let p = Ipv4Packet::new_checked(ip).ok()?;
    (p.protocol() == 1).then(|| (p.clone(), &ip[p.header_len()..usize::from(p.total_len())]))
}

fn redirects6(pkts: &[(MacAddr, Vec<u8>)]) -> Vec<(Ipv6Addr, Ipv6Addr, u8, Ipv6Addr, Ipv6Addr)> {
    pkts.iter()
        .filter_map(|(_, ip)| {
            let p = Ipv6Packet::new_checked(&ip[..]).ok()?;
            if p.next_header() != 58 {
                return None;
            }
            let icmp = Icmpv6Packet::new_checked(p.payload()).ok()?;
            match Icmpv6Repr::parse(&icmp, p.src(), p.dst()).ok()? {
                Icmpv6Repr::Ndisc(NdiscRepr::Redirect { target, dest, .. }) => {
                    Some((p.src(), p.dst(), p.hop_limit(), target, dest))
                }
                _ => None,
            }
        })
        .collect()
}

/// RFC 1812 §5.2.7.2 / RFC 792: a datagram that leaves by the interface it
/// came in on, from a source on that subnet, towards a next hop with an
/// IPv4 address, earns the sender a host redirect (5/1) naming that next
/// hop, from r1's address on the link — and is still forwarded.
#[test]
fn ipv4_redirect_names_the_better_ipv4_next_hop() {
    let mut seg = Segment::new();
    let since = seg.wire.len();
    let evs = seg.ping("203.0.113.9", 1);
    assert!(
        matches!(evs[..], [EchoEvent::Reply { from, .. }] if from == "203.0.113.9".parse::<IpAddr>().unwrap()),
        "{evs:?}"
    );
    let sent = seg.sent_by(R1, since);
    let redirects: Vec<_> = sent.iter().filter_map(|(_, ip)| icmp4(ip)).filter(|(_, m)| m[0] == 5).collect();
    assert_eq!(redirects.len(), 1, "{sent:?}");
    let (p, m) = &redirects[0];
    assert_eq!(m[1], 1, "host redirect");
    assert_eq!(via6_wire::checksum::checksum(m), 0);
    assert_eq!(Ipv4Addr::new(m[4], m[5], m[6], m[7]), Ipv4Addr::new(192, 0, 2, 3), "gateway field");
    assert_eq!((p.src(), p.dst()), (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)));
    // The quoted datagram is h1's request (as received: TTL 64).
    let b = &m[8..];
    let q = (Ipv4Addr::new(b[12], b[13], b[14], b[15]), Ipv4Addr::new(b[16], b[17], b[18], b[19]), b[8]);
    assert_eq!(q, (Ipv4Addr::new(192, 0, 2, 2), Ipv4Addr::new(203, 0, 113, 9), 64));
    // ... and the datagram itself went on to r2.
    let r2mac = seg.mac(R2);
    assert!(sent
        .iter()
        .any(|(d, ip)| *d == r2mac && icmp4(ip).is_some_and(|(p, m)| m[0] == 8 && p.ttl() == 63)));
    assert_eq!(seg.counter(R1, "ips_redirectsent"), 1);
    assert_eq!(seg.counter(R1, "ips_forward"), 1);
}

/// RFC 4861 §8.2 / §4.5: for a destination better reached through r2, r1
/// sends a Redirect (137) from its link-local address with hop limit 255,
/// Target = r2's link-local address, Destination = the packet's destination.
#[test]
fn ipv6_redirect_targets_the_better_routers_link_local() {
    let mut seg = Segment::new();
    let since = seg.wire.len();
    let evs = seg.ping("2001:db8:9::9", 1);
    assert!(matches!(evs[..], [EchoEvent::Reply { .. }]), "{evs:?}");
    let r = redirects6(&seg.sent_by(R1, since));
    assert_eq!(r.len(), 1, "{r:?}");
    let (src, dst, hlim, target, dest) = r[0];
    assert!(src.is_unicast_link_local(), "RFC 4861 §4.5: source is r1's link-local, got {src}");
    let r1_ll: Vec<IpAddr> =
        seg.stacks[R1].interface(seg.eth0[R1]).unwrap().addrs.iter().map(|a| a.addr).collect();
    assert!(r1_ll.contains(&IpAddr::V6(src)));
    assert_eq!(dst, "2001:db8:a::2".parse::<Ipv6Addr>().unwrap());
    assert_eq!(hlim, 255);
    assert_eq!(target, "fe80::3".parse::<Ipv6Addr>().unwrap());
    assert_eq!(dest, "2001:db8:9::9".parse::<Ipv6Addr>().unwrap());
    assert_eq!(seg.counter(R1, "ip6s_redirectsent"), 1);
}

/// RFC 4861 §4.5: "the Target Address MUST be the router's link-local
/// address". A route through r2's *global* address gives r1 no link-local
/// to name, so it must not send a redirect naming the global address
/// (FreeBSD's icmp6_redirect_output refuses likewise); the packet is still
/// forwarded.
#[test]
fn ipv6_redirect_never_names_a_global_router_address() {
    let mut seg = Segment::new();
    let since = seg.wire.len();
    let evs = seg.ping("2001:db8:9::10", 1);
    assert!(matches!(evs[..], [EchoEvent::Reply { .. }]), "{evs:?}");
    for (_, _, _, target, dest) in redirects6(&seg.sent_by(R1, since)) {
        assert!(
            target.is_unicast_link_local() || target == dest,
            "redirect target {target} is neither link-local nor the destination"
        );
    }
}

/// RFC 792's redirect carries a 32-bit gateway: for an IPv4 route whose next
/// hop is r2's IPv6 link-local (v4-via-v6) r1 sends no ICMPv4 redirect, yet
/// forwards the datagram (resolving the gateway with NDP).
#[test]
fn no_ipv4_redirect_for_an_ipv6_next_hop() {
    let mut seg = Segment::new();
    let since = seg.wire.len();
    let evs = seg.ping("203.0.113.10", 1);
    assert!(
        matches!(evs[..], [EchoEvent::Reply { from, .. }] if from == "203.0.113.10".parse::<IpAddr>().unwrap()),
        "{evs:?}"
    );
    let sent = seg.sent_by(R1, since);
    assert!(sent.iter().all(|(_, ip)| icmp4(ip).is_none_or(|(_, m)| m[0] != 5)), "ICMPv4 redirect sent");
    assert_eq!(seg.counter(R1, "ips_redirectsent"), 0);
    assert_eq!(seg.counter(R1, "ips_forward"), 1);
    let r2mac = seg.mac(R2);
    assert!(sent.iter().any(|(d, ip)| *d == r2mac && icmp4(ip).is_some_and(|(_, m)| m[0] == 8)));
}
