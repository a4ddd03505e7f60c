//! The output decision shared by locally originated packets, forwarded
//! packets and `route get`: which route, which interface, which on-link
//! neighbour (of either family), which MTU, and which source.

use crate::addr::{self, GatewayAddr, IfIndex};
use crate::errno::{Errno, StackError, StackResult};
use crate::route::{Adjacency, NextHop, NextHopId, Route, RouteId, RouteProto};
use crate::srcsel::{self, Decision};
use crate::stack::Stack;
use crate::sysctl::Knob;
use std::net::IpAddr;
use via6_wire::IpPrefix;

/// Where a packet to some destination goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteLookup {
    /// The FIB entry used (`None` for a synthesised scoped or local route).
    pub route_id: Option<RouteId>,
    /// The route (for a zoned link-local destination, a synthesised on-link
    /// route on the zone's interface).
    pub route: Route,
    /// The egress interface.
    pub ifindex: IfIndex,
    /// The on-link neighbour to resolve: the gateway (any family) or the
    /// destination itself.
    pub neighbour: IpAddr,
    /// The MTU towards the destination.
    pub mtu: u32,
    /// The destination is one of our addresses: delivered through loopback.
    pub local: bool,
}

/// Where a forwarded packet goes, read from the route's shared next hop
/// (the forwarding path never reads or copies the route itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Forward {
    /// The egress interface.
    pub ifindex: IfIndex,
    /// The on-link neighbour: the gateway (any family) or the destination.
    pub neighbour: IpAddr,
    /// The MTU towards the destination.
    pub mtu: u32,
    /// The shared next hop when it is a gateway (whose neighbour entry the
    /// next-hop table caches a slot hint for).
    pub gateway_nh: Option<NextHopId>,
}

/// A `route get` answer: the lookup and the source decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteGet {
    /// The lookup.
    pub lookup: RouteLookup,
    /// The source decision, or why there is none.
    pub source: Result<Decision<IpAddr>, srcsel::NoSource>,
}

fn widen<A: Into<IpAddr>>(d: Decision<A>) -> Decision<IpAddr> {
    Decision { addr: d.addr.into(), rule: d.rule, verdicts: d.verdicts }
}

impl Stack {
    /// Looks up the route for `dst` (with `zone` for scoped IPv6
    /// destinations): longest prefix, lowest metric (RFC 1812 §5.2.4.3).
    pub fn route_lookup(&self, dst: IpAddr, zone: Option<IfIndex>) -> StackResult<RouteLookup> {
        if let Some(ifindex) = self.local_ifindex(dst) {
            let lo = self.ifaces.iter().find(|i| i.is_loopback()).map_or(ifindex, |i| i.index);
            let mtu = self.interface(lo).map_or(16384, |i| i.mtu);
            let mut route = Route::new(host_prefix(dst), NextHop::OnLink, Some(lo));
            route.proto = RouteProto::Kernel;
            return Ok(RouteLookup { route_id: None, route, ifindex: lo, neighbour: dst, mtu, local: true });
        }
        if let IpAddr::V6(d6) = dst {
            if addr::needs_zone(&d6) {
                let zone = zone.ok_or_else(|| {
                    StackError::new(
                        Errno::EINVAL,
                        format!("{d6} is link-scoped and needs a zone (%interface)"),
                    )
                })?;
                let iface = self.interface(zone).ok_or_else(|| crate::stack::no_iface(zone))?;
                let mut route = Route::new(host_prefix(dst), NextHop::OnLink, Some(zone));
                route.proto = RouteProto::Kernel;
                return Ok(RouteLookup {
                    route_id: None,
                    route,
                    ifindex: zone,
                    neighbour: dst,
                    mtu: iface.mtu6(),
                    local: false,
                });
            }
        }
        let (id, route) = self
            .routes
            .lookup(dst)
            .ok_or_else(|| StackError::new(Errno::ENETUNREACH, format!("no route to {dst}")))?;
        match route.nexthop {
            NextHop::Reject => {
                return Err(StackError::new(
                    Errno::EHOSTUNREACH,
                    format!("route {} is a reject route", route.dest),
                ))
            }
            NextHop::Blackhole => {
                return Err(StackError::new(
                    Errno::EHOSTUNREACH,
                    format!("route {} is a blackhole route", route.dest),
                ))
            }
            _ => {}
        }
        self.lookup_via(id, route, dst)
    }

    /// The output decision over a route already found in the FIB (the
    /// forwarding path looks the destination up once, not twice).
    pub(crate) fn lookup_via(&self, id: RouteId, route: &Route, dst: IpAddr) -> StackResult<RouteLookup> {
        let ifindex =
            route.ifindex.ok_or_else(|| StackError::new(Errno::ENETUNREACH, "route has no interface"))?;
        let iface = self.interface(ifindex).ok_or_else(|| crate::stack::no_iface(ifindex))?;
        if !iface.up {
            return Err(StackError::new(Errno::ENETDOWN, format!("interface {} is down", iface.name)));
        }
        let neighbour = match route.nexthop {
            NextHop::Gateway(g) => g.ip(),
            _ => dst,
        };
        let link_mtu = if dst.is_ipv4() { iface.mtu } else { iface.mtu6() };
        let mtu = if route.mtu != 0 { route.mtu.min(link_mtu) } else { link_mtu };
        Ok(RouteLookup { route_id: Some(id), route: route.clone(), ifindex, neighbour, mtu, local: false })
    }

    /// The forwarding decision over a shared next hop (same rules as
    /// [`Stack::lookup_via`]); `None` when its interface is gone or down.
    #[inline]
    pub(crate) fn forward_via(&self, id: NextHopId, adj: &Adjacency, dst: IpAddr) -> Option<Forward> {
        let ifindex = adj.ifindex?;
        let iface = self.interface(ifindex)?;
        if !iface.up {
            return None;
        }
        let (neighbour, gateway_nh) = match adj.nexthop {
            NextHop::Gateway(g) => (g.ip(), Some(id)),
            _ => (dst, None),
        };
        let link_mtu = if dst.is_ipv4() { iface.mtu } else { iface.mtu6() };
        let mtu = if adj.mtu != 0 { adj.mtu.min(link_mtu) } else { link_mtu };
        Some(Forward { ifindex, neighbour, mtu, gateway_nh })
    }

    /// Chooses the source for a locally originated packet to `dst` over
    /// `lookup` (DESIGN §3).
    pub fn select_source(
        &self,
        dst: IpAddr,
        lookup: &RouteLookup,
    ) -> Result<Decision<IpAddr>, srcsel::NoSource> {
        if lookup.local && dst.is_ipv4() {
            let verdicts = vec![srcsel::Verdict { addr: dst, ifindex: lookup.ifindex, lost: None }];
            return Ok(Decision { addr: dst, rule: srcsel::Rule::LocalDestination, verdicts });
        }
        match dst {
            IpAddr::V4(d) => {
                let view = self.route_view_v4(lookup);
                srcsel::v4::select_originated(&self.ifaces, &view, d).map(widen)
            }
            IpAddr::V6(d) => {
                let route = srcsel::v6::RouteView {
                    src: match lookup.route.src {
                        Some(IpAddr::V6(s)) => Some(s),
                        _ => None,
                    },
                    ifindex: lookup.ifindex,
                    next_hop: match lookup.neighbour {
                        IpAddr::V6(n) => Some(n),
                        _ => None,
                    },
                };
                // RFC 6724 §5 rule 5.5: the candidate's prefix was advertised
                // by the next hop, on the egress link (SLAAC records the
                // advertising routers in `IfAddr::advertised_by`).
                let advertised = |c: &srcsel::v6::Candidate<'_>| {
                    c.ifindex == route.ifindex
                        && route.next_hop.is_some_and(|n| c.entry.advertised_by.contains(&n))
                };
                let ctx = srcsel::v6::Ctx {
                    dst: d,
                    route,
                    policy: &self.policy,
                    opts: self.srcsel_v6_options(),
                    advertised_by_next_hop: &advertised,
                };
                srcsel::v6::select(&self.ifaces, &ctx).map(widen)
            }
        }
    }

    pub(crate) fn srcsel_v6_options(&self) -> srcsel::v6::Options {
        srcsel::v6::Options {
            use_deprecated: self.sysctl.on(Knob::Ip6UseDeprecated),
            prefer_temporary: self.sysctl.on(Knob::Ip6PreferTempaddr),
            rule_5_5: self.sysctl.on(Knob::Ip6PreferNexthopSource),
        }
    }

    pub(crate) fn route_view_v4(&self, lookup: &RouteLookup) -> srcsel::v4::RouteView {
        srcsel::v4::RouteView {
            src: match lookup.route.src {
                Some(IpAddr::V4(s)) => Some(s),
                _ => None,
            },
            ifindex: lookup.ifindex,
            gateway_v4: match lookup.route.nexthop {
                NextHop::Gateway(GatewayAddr::V4(g)) => Some(g),
                _ => None,
            },
        }
    }

    /// `route get DST`: the route, next hop, interface, and the chosen source
    /// with the rule that decided.
    pub fn route_get(&self, dst: IpAddr, zone: Option<IfIndex>) -> StackResult<RouteGet> {
        let lookup = self.route_lookup(dst, zone)?;
        let source = self.select_source(dst, &lookup);
        Ok(RouteGet { lookup, source })
    }

    /// Route + source for an originated packet; the errno a socket call
    /// would return when there is none.
    pub(crate) fn originate(
        &self,
        dst: IpAddr,
        zone: Option<IfIndex>,
        src: Option<IpAddr>,
    ) -> StackResult<(RouteLookup, IpAddr)> {
        let lookup = self.route_lookup(dst, zone)?;
        let src = match src {
            Some(s) => {
                if !self.is_local_address(s) {
                    return Err(StackError::new(Errno::EADDRNOTAVAIL, format!("{s} is not a local address")));
                }
                s
            }
            None => {
                self.select_source(dst, &lookup)
                    .map_err(|e| StackError::new(Errno::EADDRNOTAVAIL, e.reason))?
                    .addr
            }
        };
        Ok((lookup, src))
    }
}

fn host_prefix(a: IpAddr) -> IpPrefix {
    match a {
        IpAddr::V4(v4) => IpPrefix::V4(via6_wire::Ipv4Prefix::host(v4)),
        IpAddr::V6(v6) => IpPrefix::V6(via6_wire::Ipv6Prefix::host(v6)),
    }
}
