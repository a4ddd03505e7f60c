//! Routes and next hops: the heart of v4-via-v6.
//!
//! A [`NextHop`] is family-independent: an IPv4 route may point at an IPv6
//! gateway (RFC 8950, RFC 9229). The neighbour protocol follows the gateway's
//! family; the frame's EtherType follows the packet's. A route's `src` hint is
//! typed by the *destination's* family: there is no untyped "interface address
//! of the route" anywhere (the FreeBSD bug in the seed report).

mod lpm;
mod nexthop;
mod table;

pub use lpm::{Lpm, PrefixKey};
pub use nexthop::{Adjacency, NextHopId, NextHopTable};
pub use table::{RouteError, RouteId, RouteTable};

use crate::addr::{GatewayAddr, IfIndex};
use core::fmt;
use std::net::IpAddr;
use via6_wire::IpPrefix;

/// Where a route sends packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NextHop {
    /// The destination is on the link of `ifindex` (a connected route).
    OnLink,
    /// Via a gateway of either family.
    Gateway(GatewayAddr),
    /// Refuse with an ICMP unreachable (FreeBSD `-reject`, flag R).
    Reject,
    /// Drop silently (FreeBSD `-blackhole`, flag B).
    Blackhole,
}

/// Who installed a route (iproute2 `proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteProto {
    /// A connected route that follows an address ("kernel").
    Kernel,
    /// Configured by a user or config file ("static").
    Static,
    /// Learnt from a router advertisement ("ra").
    Ra,
}

impl RouteProto {
    /// The iproute2 name.
    pub fn name(&self) -> &'static str {
        match self {
            RouteProto::Kernel => "kernel",
            RouteProto::Static => "static",
            RouteProto::Ra => "ra",
        }
    }
}

/// A route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Destination prefix.
    pub dest: IpPrefix,
    /// Next hop.
    pub nexthop: NextHop,
    /// Egress interface (required except for reject/blackhole routes).
    pub ifindex: Option<IfIndex>,
    /// Preferred source, of the destination's family (Linux `src`).
    pub src: Option<IpAddr>,
    /// Lower wins among routes for the same prefix.
    pub metric: u32,
    /// Installer.
    pub proto: RouteProto,
    /// The path MTU of this route (0: the interface's MTU).
    pub mtu: u32,
    /// When an RA-learnt route expires.
    pub expires: Option<crate::time::Instant>,
}

impl Route {
    /// FreeBSD `netstat -rn` flags: U (up), G (gateway), H (host), S
    /// (static), R (reject), B (blackhole).
    pub fn flags(&self) -> String {
        let mut f = String::from("U");
        if matches!(self.nexthop, NextHop::Gateway(_)) {
            f.push('G');
        }
        let host = match self.dest {
            IpPrefix::V4(p) => p.prefix_len() == 32,
            IpPrefix::V6(p) => p.prefix_len() == 128,
        };
        if host {
            f.push('H');
        }
        if self.proto == RouteProto::Static {
            f.push('S');
        }
        if self.nexthop == NextHop::Reject {
            f.push('R');
        }
        if self.nexthop == NextHop::Blackhole {
            f.push('B');
        }
        f
    }
}

impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextHop::OnLink => f.write_str("link"),
            NextHop::Gateway(GatewayAddr::V4(a)) => write!(f, "{a}"),
            NextHop::Gateway(GatewayAddr::V6(z)) => write!(f, "{}", z.addr),
            NextHop::Reject => f.write_str("reject"),
            NextHop::Blackhole => f.write_str("blackhole"),
        }
    }
}
