//! Bind rules (FreeBSD `in_pcbbind` / `in6_pcbbind`, inet6(4)): which address
//! space a bind claims, when two binds conflict, and which local addresses a
//! socket accepts.

use super::Family;
use crate::addr::ipv4_mapped;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address space a bound socket claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Every IPv4 address (`0.0.0.0` on AF_INET).
    AllV4,
    /// One IPv4 address (AF_INET specific, or AF_INET6 bound to a mapped
    /// address with V6ONLY off).
    V4(Ipv4Addr),
    /// Every IPv6 address, and — weakly, without conflicting with AF_INET
    /// binds — every IPv4 address when `dual` (V6ONLY off).
    AllV6 {
        /// V6ONLY off.
        dual: bool,
    },
    /// One IPv6 address.
    V6(Ipv6Addr),
}

impl Coverage {
    /// The coverage of a bind.
    pub fn of(family: Family, v6only: bool, addr: IpAddr) -> Coverage {
        match (family, addr) {
            (Family::Inet, IpAddr::V4(a)) if a.is_unspecified() => Coverage::AllV4,
            (Family::Inet, IpAddr::V4(a)) => Coverage::V4(a),
            (_, IpAddr::V6(a)) if a.is_unspecified() => Coverage::AllV6 { dual: !v6only },
            (_, IpAddr::V6(a)) => match ipv4_mapped(&a) {
                Some(v4) if v4.is_unspecified() => Coverage::AllV4,
                Some(v4) => Coverage::V4(v4),
                None => Coverage::V6(a),
            },
            (Family::Inet6, IpAddr::V4(a)) => Coverage::V4(a),
        }
    }

    fn is_wildcard(&self) -> bool {
        matches!(self, Coverage::AllV4 | Coverage::AllV6 { .. })
    }
}

/// Whether two binds on one port overlap, and whether the overlap is between
/// a wildcard and a specific address (which SO_REUSEADDR permits).
/// An AF_INET6 dual wildcard's IPv4 coverage never overlaps an AF_INET bind:
/// inet6(4) lets them coexist, IPv4 going to the AF_INET socket.
pub fn overlaps(a: Coverage, b: Coverage) -> Option<bool> {
    use Coverage::*;
    let wild_vs_specific = a.is_wildcard() != b.is_wildcard();
    let hit = match (a, b) {
        (AllV4, AllV4) | (AllV4, V4(_)) | (V4(_), AllV4) => true,
        (V4(x), V4(y)) => x == y,
        (AllV6 { .. }, AllV6 { .. }) | (AllV6 { .. }, V6(_)) | (V6(_), AllV6 { .. }) => true,
        (V6(x), V6(y)) => x == y,
        // A dual wildcard claims IPv4 weakly; a specific mapped bind is an
        // IPv4 bind and may coexist with it only under SO_REUSEADDR.
        (AllV6 { dual: true }, V4(_)) | (V4(_), AllV6 { dual: true }) => true,
        _ => false,
    };
    hit.then_some(wild_vs_specific)
}

/// Whether a socket bound to `local` accepts a packet to `dst`; the score
/// orders candidates (2 specific, 1 wildcard of the packet's family, 0 dual
/// AF_INET6 wildcard taking IPv4).
pub fn accepts(family: Family, v6only: bool, local: IpAddr, dst: IpAddr) -> Option<u8> {
    match (Coverage::of(family, v6only, local), dst) {
        (Coverage::AllV4, IpAddr::V4(_)) => Some(1),
        (Coverage::V4(a), IpAddr::V4(d)) if a == d => Some(2),
        (Coverage::AllV6 { .. }, IpAddr::V6(_)) => Some(1),
        (Coverage::AllV6 { dual: true }, IpAddr::V4(_)) => Some(0),
        (Coverage::V6(a), IpAddr::V6(d)) if a == d => Some(2),
        _ => None,
    }
}

/// Address equality across the mapped form.
pub fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    unmap(a) == unmap(b)
}

/// `::ffff:a.b.c.d` → `a.b.c.d`; other addresses unchanged.
pub fn unmap(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => ipv4_mapped(&v6).map_or(a, IpAddr::V4),
        v4 => v4,
    }
}

/// `a.b.c.d` → `::ffff:a.b.c.d` for delivery to an AF_INET6 socket.
pub fn map_for(family: Family, a: IpAddr) -> IpAddr {
    match (family, a) {
        (Family::Inet6, IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
        _ => a,
    }
}
