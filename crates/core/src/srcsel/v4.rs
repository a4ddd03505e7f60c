//! IPv4 source selection (DESIGN §3): for originated traffic, and for ICMPv4
//! errors. The FreeBSD failure of the seed report — the source taken only from
//! the egress interface, which on a v4-via-v6 link has none — cannot happen
//! here: rules 3 and 4 borrow an address of another interface, as Linux does.

use super::{Decision, NoSource, Rule, Verdict};
use crate::addr::{ipv4_source_usable_for, IfIndex, IPV4_DUMMY};
use crate::iface::Interface;
use std::net::{IpAddr, Ipv4Addr};

/// What source selection needs to know about the route.
#[derive(Debug, Clone, Copy)]
pub struct RouteView {
    /// The route's `src` hint.
    pub src: Option<Ipv4Addr>,
    /// The egress interface.
    pub ifindex: IfIndex,
    /// The IPv4 next hop, if the gateway is IPv4 (else the destination is used
    /// to pick an egress address in the same subnet).
    pub gateway_v4: Option<Ipv4Addr>,
}

fn v4_addrs(iface: &Interface) -> impl Iterator<Item = (Ipv4Addr, &crate::iface::IfAddr)> {
    iface.usable_addrs().filter_map(|a| match a.addr {
        IpAddr::V4(v4) => Some((v4, a)),
        _ => None,
    })
}

/// Collects the verdicts for every usable IPv4 address of the node.
fn all_candidates(ifaces: &[Interface]) -> Vec<Verdict> {
    ifaces
        .iter()
        .flat_map(|i| {
            v4_addrs(i).map(move |(a, _)| Verdict { addr: IpAddr::V4(a), ifindex: i.index, lost: None })
        })
        .collect()
}

fn finish(addr: Ipv4Addr, rule: Rule, mut verdicts: Vec<Verdict>) -> Decision<Ipv4Addr> {
    for v in &mut verdicts {
        if v.addr != IpAddr::V4(addr) && v.lost.is_none() {
            v.lost = Some(format!("not preferred: {rule} chose {addr}"));
        }
    }
    Decision { addr, rule, verdicts }
}

/// Rule 1: the route's `src`, if it is a usable local address.
pub fn rule_route_src(ifaces: &[Interface], route: &RouteView) -> Option<Ipv4Addr> {
    let src = route.src?;
    ifaces.iter().any(|i| v4_addrs(i).any(|(a, _)| a == src)).then_some(src)
}

/// Rule 2: an address on the egress interface, one whose subnet holds the
/// next hop (or the destination) first.
pub fn rule_egress(ifaces: &[Interface], route: &RouteView, dst: Ipv4Addr) -> Option<(Ipv4Addr, Rule)> {
    let iface = ifaces.iter().find(|i| i.index == route.ifindex)?;
    let target = IpAddr::V4(route.gateway_v4.unwrap_or(dst));
    let usable: Vec<_> = v4_addrs(iface).filter(|(a, _)| ipv4_source_usable_for(a, &dst)).collect();
    if let Some((a, _)) = usable.iter().find(|(_, e)| e.subnet_contains(target)) {
        return Some((*a, Rule::EgressSameSubnet));
    }
    usable.first().map(|(a, _)| (*a, Rule::Egress))
}

/// Rule 3: an address on a loopback interface (the router-id), never 127/8
/// towards a non-loopback destination.
pub fn rule_loopback(ifaces: &[Interface], dst: Ipv4Addr) -> Option<Ipv4Addr> {
    ifaces
        .iter()
        .filter(|i| i.is_loopback())
        .flat_map(v4_addrs)
        .map(|(a, _)| a)
        .find(|a| ipv4_source_usable_for(a, &dst))
}

/// Rule 4: any other global IPv4 address of the node, in interface then
/// assignment order; never 127/8 or 169.254/16 unless the destination is too.
pub fn rule_any_global(ifaces: &[Interface], dst: Ipv4Addr) -> Option<Ipv4Addr> {
    ifaces.iter().flat_map(v4_addrs).map(|(a, _)| a).find(|a| ipv4_source_usable_for(a, &dst))
}

/// Selects the source of a locally originated IPv4 packet to `dst` over
/// `route`. Never switches to another route to find a source.
pub fn select_originated(
    ifaces: &[Interface],
    route: &RouteView,
    dst: Ipv4Addr,
) -> Result<Decision<Ipv4Addr>, NoSource> {
    let mut verdicts = all_candidates(ifaces);
    if let Some(a) = rule_route_src(ifaces, route) {
        return Ok(finish(a, Rule::RouteSrc, verdicts));
    }
    if let Some((a, rule)) = rule_egress(ifaces, route, dst) {
        return Ok(finish(a, rule, verdicts));
    }
    if let Some(a) = rule_loopback(ifaces, dst) {
        return Ok(finish(a, Rule::Loopback, verdicts));
    }
    if let Some(a) = rule_any_global(ifaces, dst) {
        return Ok(finish(a, Rule::AnyGlobal, verdicts));
    }
    for v in &mut verdicts {
        v.lost = Some(format!("{} may not be a source towards {dst} (loopback or link-local range)", v.addr));
    }
    let reason = if verdicts.is_empty() {
        "no IPv4 source address: the node has no usable IPv4 address".to_string()
    } else {
        format!(
            "no IPv4 source address usable towards {dst}: only loopback or link-local IPv4 addresses exist"
        )
    };
    Err(NoSource { reason, verdicts })
}

/// Selects the source of an ICMPv4 error about a packet that was sent to
/// `offending_dst` by `offending_src`; `back` is the route back to the
/// offending source (if any). Never fails: a node with no usable IPv4 address
/// answers from 192.0.0.8 (RFC 7600 R-22; draft-ietf-intarea-v4-via-v6 §4).
pub fn select_icmp_error(
    ifaces: &[Interface],
    offending_dst: Ipv4Addr,
    back: Option<&RouteView>,
    offending_src: Ipv4Addr,
) -> Decision<Ipv4Addr> {
    let verdicts = all_candidates(ifaces);
    // 1. The packet was addressed to us: answer from that address (RFC 1812
    //    §4.3.2.4 allows it; it keeps ping/traceroute to us coherent).
    if ifaces.iter().any(|i| v4_addrs(i).any(|(a, _)| a == offending_dst)) {
        return finish(offending_dst, Rule::OffendingDestination, verdicts);
    }
    if let Some(route) = back {
        // 2. The return route's src.
        if let Some(a) = rule_route_src(ifaces, route) {
            return finish(a, Rule::RouteSrc, verdicts);
        }
        // 3. An address on the interface the error leaves by.
        if let Some((a, rule)) = rule_egress(ifaces, route, offending_src) {
            return finish(a, rule, verdicts);
        }
    }
    // 4. The router-id (loopback), then any other global address.
    if let Some(a) = rule_loopback(ifaces, offending_src) {
        return finish(a, Rule::Loopback, verdicts);
    }
    if let Some(a) = rule_any_global(ifaces, offending_src) {
        return finish(a, Rule::AnyGlobal, verdicts);
    }
    // 5. No usable IPv4 address at all.
    finish(IPV4_DUMMY, Rule::Dummy, verdicts)
}
