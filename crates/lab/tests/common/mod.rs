//! Helpers shared by the lab tests: the lab seed (printed in every assertion
//! message), pings through the echo API, and a small decoder for the frames a
//! capture holds.
#![allow(dead_code)]

use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use via6_core::echo::{EchoEvent, EchoRequest};
use via6_core::iface::IfAddr;
use via6_core::neigh::{NeighKey, NudState};
use via6_core::{IfIndex, Instant, Stack};
use via6_lab::lab::Captured;
use via6_lab::Lab;
use via6_wire::icmpv6::Icmpv6Packet;
use via6_wire::ndisc::NdiscRepr;
use via6_wire::ndisc_option::{NdiscOption, NdiscOptions};
use via6_wire::{EthernetFrame, Ipv6Packet, MacAddr};

/// The lab seed: `VIA6_LAB_SEED` when set (to replay or vary a run), else 1.
pub fn seed() -> u64 {
    std::env::var("VIA6_LAB_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1)
}

/// Builds a lab from topology text with [`seed`], panicking with the seed.
pub fn lab(text: &str) -> Lab {
    let seed = seed();
    Lab::from_toml(text, seed).unwrap_or_else(|e| panic!("[lab seed {seed}] topology refused: {e}"))
}

/// The seed scenario.
pub fn seed_lab() -> Lab {
    lab(via6_lab::scenario::builtin("seed").expect("seed scenario"))
}

/// A node's stack, panicking with the seed.
pub fn node<'a>(lab: &'a Lab, name: &str) -> &'a Stack {
    lab.node(name).unwrap_or_else(|| panic!("[lab seed {}] no node {name}", seed()))
}

/// A node's interface index by name.
pub fn ifx(lab: &Lab, node_name: &str, ifname: &str) -> IfIndex {
    node(lab, node_name)
        .ifindex(ifname)
        .unwrap_or_else(|| panic!("[lab seed {}] no interface {node_name}:{ifname}", seed()))
}

/// A node's interface MAC.
pub fn mac(lab: &Lab, node_name: &str, ifname: &str) -> MacAddr {
    let i = ifx(lab, node_name, ifname);
    node(lab, node_name).interface(i).and_then(|i| i.mac()).expect("an Ethernet interface")
}

/// The position of a link by name.
pub fn link_index(lab: &Lab, name: &str) -> usize {
    lab.links()
        .iter()
        .position(|l| l.name == name)
        .unwrap_or_else(|| panic!("[lab seed {}] no link {name}", seed()))
}

/// An address entry of an interface.
pub fn if_addr(lab: &Lab, node_name: &str, ifname: &str, addr: &str) -> Option<IfAddr> {
    let a: IpAddr = addr.parse().expect("address");
    let i = ifx(lab, node_name, ifname);
    node(lab, node_name).interface(i).and_then(|i| i.find_addr(a)).cloned()
}

/// The NUD state of a neighbour, `None` when there is no entry.
pub fn nud(lab: &Lab, node_name: &str, ifname: &str, addr: &str) -> Option<(NudState, u32)> {
    let key = NeighKey { ifindex: ifx(lab, node_name, ifname), addr: addr.parse().expect("address") };
    node(lab, node_name).neighbours().get(&key).map(|e| (e.state, e.probes))
}

/// A counter by its FreeBSD name.
pub fn counter(lab: &Lab, node_name: &str, name: &str) -> u64 {
    node(lab, node_name)
        .stats()
        .by_name(name)
        .unwrap_or_else(|| panic!("[lab seed {}] no counter {name}", seed()))
}

/// An echo request with defaults.
pub fn echo(dst: &str, ident: u16, seq: u16) -> EchoRequest {
    let (a, _) = dst.split_once('%').unwrap_or((dst, ""));
    EchoRequest {
        dst: a.parse().expect("address"),
        zone: None,
        src: None,
        ident,
        seq,
        payload_len: 56,
        ttl: None,
        dont_frag: false,
    }
}

/// Sends one echo request now (the socket `ident` is bound first).
pub fn send_echo(lab: &mut Lab, from: &str, req: &EchoRequest) {
    let now = lab.now();
    let seed = seed();
    let st = lab.node_mut(from).unwrap_or_else(|| panic!("[lab seed {seed}] no node {from}"));
    st.echo_bind(req.ident);
    st.echo_send(req, now).unwrap_or_else(|e| panic!("[lab seed {seed}] {from}: echo_send: {e:?}"));
}

/// Every event waiting on socket `ident`.
pub fn echo_events(lab: &mut Lab, from: &str, ident: u16) -> Vec<EchoEvent> {
    let st = lab.node_mut(from).expect("node");
    std::iter::from_fn(|| st.echo_recv(ident)).collect()
}

/// Pings once and runs `wait`; returns what came back.
pub fn ping(lab: &mut Lab, from: &str, dst: &str, seq: u16, wait: Duration) -> Vec<EchoEvent> {
    let req = echo(dst, 0x5151, seq);
    send_echo(lab, from, &req);
    lab.run_for(wait);
    echo_events(lab, from, 0x5151)
}

/// Asserts that a ping got exactly one reply from `dst`.
pub fn assert_reply(evs: &[EchoEvent], dst: &str, what: &str) {
    let want: IpAddr = dst.parse().expect("address");
    assert!(
        matches!(evs, [EchoEvent::Reply { from, .. }] if *from == want),
        "[lab seed {}] {what}: expected one echo reply from {dst}, got {evs:?}",
        seed()
    );
}

/// Milliseconds since time zero, for messages.
pub fn ms(t: Instant) -> u128 {
    t.saturating_since(Instant::ZERO).as_millis()
}

/// What a captured frame is, as far as these tests care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub at: Instant,
    pub eth_src: MacAddr,
    pub eth_dst: MacAddr,
    pub ethertype: u16,
    pub v6: Option<(Ipv6Addr, Ipv6Addr, u8)>,
    pub v4: Option<(Ipv4Addr, Ipv4Addr, u8)>,
    /// ICMPv6 type and code when the packet is ICMPv6 (no extension headers).
    pub icmp6: Option<(u8, u8)>,
    /// The ND message's target, for NS and NA.
    pub nd_target: Option<Ipv6Addr>,
    /// Source link-layer address option.
    pub slla: Option<MacAddr>,
    /// Target link-layer address option.
    pub tlla: Option<MacAddr>,
    /// Whether a Nonce option is present.
    pub nonce: bool,
    /// NA flags (router, solicited, override).
    pub na_flags: Option<(bool, bool, bool)>,
}

/// Decodes one captured frame.
pub fn decode(c: &Captured) -> Decoded {
    let eth = EthernetFrame::new_checked(&c.data[..]).expect("an Ethernet frame");
    let mut d = Decoded {
        at: c.at,
        eth_src: eth.src(),
        eth_dst: eth.dst(),
        ethertype: eth.ethertype(),
        v6: None,
        v4: None,
        icmp6: None,
        nd_target: None,
        slla: None,
        tlla: None,
        nonce: false,
        na_flags: None,
    };
    match eth.ethertype() {
        0x86dd => {
            let Ok(ip) = Ipv6Packet::new_checked(eth.payload()) else { return d };
            d.v6 = Some((ip.src(), ip.dst(), ip.next_header()));
            if ip.next_header() != 58 {
                return d;
            }
            let Ok(icmp) = Icmpv6Packet::new_checked(ip.payload()) else { return d };
            d.icmp6 = Some((icmp.msg_type(), icmp.msg_code()));
            if !(133..=137).contains(&icmp.msg_type()) {
                return d;
            }
            let Ok(nd) = NdiscRepr::parse(ip.payload()) else { return d };
            match nd {
                NdiscRepr::NeighborSolicit { target, .. } => d.nd_target = Some(target),
                NdiscRepr::NeighborAdvert { target, flags, .. } => {
                    d.nd_target = Some(target);
                    d.na_flags = Some((flags.router, flags.solicited, flags.override_));
                }
                _ => {}
            }
            for o in NdiscOptions::new(nd.options()).flatten() {
                match o {
                    NdiscOption::SourceLinkLayerAddr(b) => d.slla = via6_wire::ndisc_option::ll_addr_mac(b),
                    NdiscOption::TargetLinkLayerAddr(b) => d.tlla = via6_wire::ndisc_option::ll_addr_mac(b),
                    NdiscOption::Nonce(_) => d.nonce = true,
                    _ => {}
                }
            }
        }
        0x0800 => {
            if let Ok(ip) = via6_wire::Ipv4Packet::new_checked(eth.payload()) {
                d.v4 = Some((ip.src(), ip.dst(), ip.protocol()));
            }
        }
        _ => {}
    }
    d
}

/// Decodes every frame captured on link `link` from index `from` on.
pub fn frames(lab: &Lab, link: usize, from: usize) -> Vec<Decoded> {
    lab.captured(link).iter().skip(from).map(decode).collect()
}

/// Whether `d` is a Neighbor Solicitation for `target`.
pub fn is_ns_for(d: &Decoded, target: Ipv6Addr) -> bool {
    d.icmp6 == Some((135, 0)) && d.nd_target == Some(target)
}

/// The solicited-node multicast group of `a` (RFC 4291 §2.7.1).
pub fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00 | u16::from(o[13]), u16::from_be_bytes([o[14], o[15]]))
}

/// A one-line summary of a frame list, for assertion messages.
pub fn summary(ds: &[Decoded]) -> String {
    ds.iter()
        .map(|d| {
            let what = match (d.icmp6, d.v6, d.v4) {
                (Some((t, c)), Some((s, dst, _)), _) => {
                    format!("icmp6 {t}/{c} {s}->{dst} tgt={:?}", d.nd_target)
                }
                (None, Some((s, dst, nh)), _) => format!("ip6 nh {nh} {s}->{dst}"),
                (_, _, Some((s, dst, p))) => format!("ip4 proto {p} {s}->{dst}"),
                _ => format!("ethertype {:#06x}", d.ethertype),
            };
            format!("  {}ms {:?}->{:?} {what}", ms(d.at), d.eth_src, d.eth_dst)
        })
        .collect::<Vec<_>>()
        .join("\n")
}
