//! Address vocabulary: interface indices, zoned IPv6 addresses (never the KAME
//! embedded form), scope classification (RFC 4291 §2.4/§2.7, RFC 4007), and the
//! special IPv4 ranges source selection must avoid.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An interface index; 1-based like the kernel's (0 means "none").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfIndex(pub u32);

impl fmt::Display for IfIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An IPv6 address with the interface that scopes it, when it is scoped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ZonedIpv6 {
    /// The address as on the wire.
    pub addr: Ipv6Addr,
    /// The zone (interface) for link-local and interface-local addresses.
    pub zone: Option<IfIndex>,
}

/// An address of either family, zoned when it is an IPv6 scoped address.
/// This is what a route's gateway is: an IPv4 route may hold an IPv6 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayAddr {
    /// An IPv4 gateway (resolved with ARP).
    V4(Ipv4Addr),
    /// An IPv6 gateway (resolved with NDP), zoned if link-local.
    V6(ZonedIpv6),
}

impl GatewayAddr {
    /// The bare address.
    pub fn ip(&self) -> IpAddr {
        match self {
            GatewayAddr::V4(a) => IpAddr::V4(*a),
            GatewayAddr::V6(z) => IpAddr::V6(z.addr),
        }
    }

    /// The family name as iproute2's JSON prints it.
    pub fn family(&self) -> &'static str {
        match self {
            GatewayAddr::V4(_) => "inet",
            GatewayAddr::V6(_) => "inet6",
        }
    }
}

/// IPv6 address scopes (RFC 4007 §4, RFC 4291 §2.7 multicast scope values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Interface-local (multicast scope 1, and the loopback address).
    InterfaceLocal = 1,
    /// Link-local (fe80::/10, multicast scope 2).
    LinkLocal = 2,
    /// Admin-local (multicast scope 4).
    AdminLocal = 4,
    /// Site-local (deprecated fec0::/10, multicast scope 5).
    SiteLocal = 5,
    /// Organization-local (multicast scope 8).
    OrgLocal = 8,
    /// Global.
    Global = 14,
}

/// The scope of an IPv6 address, as RFC 6724 §3.1 defines it for rule 2 and 8:
/// unicast link-local and loopback are link-local scope, IPv4-mapped addresses
/// take the scope of the IPv4 address (RFC 6724 §3.2).
pub fn ipv6_scope(a: &Ipv6Addr) -> Scope {
    let s = a.segments();
    if a.is_multicast() {
        return match s[0] & 0x000f {
            1 => Scope::InterfaceLocal,
            2 => Scope::LinkLocal,
            4 => Scope::AdminLocal,
            5 => Scope::SiteLocal,
            8 => Scope::OrgLocal,
            _ => Scope::Global,
        };
    }
    if a.is_loopback() || is_ipv6_link_local(a) {
        return Scope::LinkLocal;
    }
    if s[0] & 0xffc0 == 0xfec0 {
        return Scope::SiteLocal;
    }
    if let Some(v4) = ipv4_mapped(a) {
        return ipv4_scope(&v4);
    }
    Scope::Global
}

/// The scope of an IPv4 address for RFC 6724 purposes (§3.2): 127/8 and
/// 169.254/16 are link-local, everything else global.
pub fn ipv4_scope(a: &Ipv4Addr) -> Scope {
    if a.is_loopback() || a.is_link_local() {
        Scope::LinkLocal
    } else {
        Scope::Global
    }
}

/// fe80::/10 (RFC 4291 §2.5.6).
pub fn is_ipv6_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// Whether an IPv6 address needs a zone to be unambiguous: unicast link-local,
/// and interface- or link-local multicast (RFC 4007 §6).
pub fn needs_zone(a: &Ipv6Addr) -> bool {
    is_ipv6_link_local(a)
        || (a.is_multicast() && matches!(ipv6_scope(a), Scope::InterfaceLocal | Scope::LinkLocal))
}

/// The zone an address seen on interface `ifindex` carries: that interface
/// when the address needs one (RFC 4007 §6), none otherwise.
pub fn zone_of(a: IpAddr, ifindex: IfIndex) -> Option<IfIndex> {
    match a {
        IpAddr::V6(v6) if needs_zone(&v6) => Some(ifindex),
        _ => None,
    }
}

/// `::ffff:a.b.c.d` → `a.b.c.d` (RFC 4291 §2.5.5.2).
pub fn ipv4_mapped(a: &Ipv6Addr) -> Option<Ipv4Addr> {
    let o = a.octets();
    (o[..10] == [0; 10] && o[10] == 0xff && o[11] == 0xff).then(|| Ipv4Addr::new(o[12], o[13], o[14], o[15]))
}

/// `::a.b.c.d`, the deprecated IPv4-compatible form (RFC 4291 §2.5.5.1), other
/// than `::` and `::1`.
pub fn is_ipv4_compatible(a: &Ipv6Addr) -> bool {
    let o = a.octets();
    o[..12] == [0; 12] && !a.is_unspecified() && !a.is_loopback()
}

/// The solicited-node multicast group `ff02::1:ffXX:XXXX` of an address
/// (RFC 4291 §2.7.1).
pub fn solicited_node(a: &Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00 | u16::from(o[13]), u16::from_be_bytes([o[14], o[15]]))
}

/// All-nodes multicast `ff02::1`.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// All-routers multicast `ff02::2`.
pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
/// All-MLDv2-capable-routers `ff02::16` (RFC 3810 §5.2.14).
pub const ALL_MLDV2_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);

/// The IPv4 "dummy" address 192.0.0.8 (RFC 7600 §4 R-22; IANA special-purpose
/// registry): the source of ICMPv4 errors from a node with no IPv4 address
/// (draft-ietf-intarea-v4-via-v6 §4).
pub const IPV4_DUMMY: Ipv4Addr = Ipv4Addr::new(192, 0, 0, 8);

/// Whether an IPv4 address may be a source towards `dst` (DESIGN §3 IPv4 rule
/// 4): never 127/8 unless the destination is loopback, never 169.254/16 unless
/// the destination is link-local too, never unspecified/multicast/broadcast.
pub fn ipv4_source_usable_for(src: &Ipv4Addr, dst: &Ipv4Addr) -> bool {
    if src.is_unspecified() || src.is_multicast() || src.is_broadcast() {
        return false;
    }
    if src.is_loopback() {
        return dst.is_loopback();
    }
    if src.is_link_local() {
        return dst.is_link_local();
    }
    true
}

/// A link-local address from a 64-bit interface identifier (RFC 4291 §2.5.6).
pub fn link_local_from_iid(iid: [u8; 8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o[0] = 0xfe;
    o[1] = 0x80;
    o[8..].copy_from_slice(&iid);
    Ipv6Addr::from(o)
}

/// The modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A).
pub fn eui64_iid(mac: [u8; 6]) -> [u8; 8] {
    [mac[0] ^ 0x02, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(ipv6_scope(&"fe80::1".parse().unwrap()), Scope::LinkLocal);
        assert_eq!(ipv6_scope(&"::1".parse().unwrap()), Scope::LinkLocal);
        assert_eq!(ipv6_scope(&"ff05::2".parse().unwrap()), Scope::SiteLocal);
        assert_eq!(ipv6_scope(&"2001:db8::1".parse().unwrap()), Scope::Global);
        assert_eq!(ipv6_scope(&"::ffff:169.254.1.1".parse().unwrap()), Scope::LinkLocal);
        assert!(needs_zone(&"ff02::1".parse().unwrap()));
        assert!(!needs_zone(&"ff0e::1".parse().unwrap()));
    }

    #[test]
    fn special_forms() {
        assert_eq!(ipv4_mapped(&"::ffff:192.0.2.1".parse().unwrap()), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert!(is_ipv4_compatible(&"::192.0.2.1".parse().unwrap()));
        assert!(!is_ipv4_compatible(&"::1".parse().unwrap()));
        assert_eq!(
            solicited_node(&"2001:db8::12:3456".parse().unwrap()),
            "ff02::1:ff12:3456".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            link_local_from_iid(eui64_iid([0x02, 0, 0, 0, 0, 1])),
            "fe80::ff:fe00:1".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn ipv4_source_rules() {
        let lo = Ipv4Addr::LOCALHOST;
        let g: Ipv4Addr = "203.0.113.2".parse().unwrap();
        assert!(!ipv4_source_usable_for(&lo, &g));
        assert!(ipv4_source_usable_for(&lo, &lo));
        assert!(!ipv4_source_usable_for(&"169.254.1.1".parse().unwrap(), &g));
        assert!(ipv4_source_usable_for(&"198.51.100.1".parse().unwrap(), &g));
    }
}
