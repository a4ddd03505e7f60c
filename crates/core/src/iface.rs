//! Interfaces and their addresses (FreeBSD `ifnet` + `in_ifaddr`/`in6_ifaddr`).
//!
//! An interface is a loopback, an Ethernet link (TAP: frames with MACs) or an
//! IP link (TUN: bare IP packets). Addresses carry the flags FreeBSD's
//! `ifconfig` prints and their lifetimes (RFC 4862 §5.5.4).

use crate::addr::IfIndex;
use crate::time::Instant;
use std::net::{IpAddr, Ipv6Addr};
use via6_wire::MacAddr;

/// What kind of link an interface is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Loopback: output is delivered back to input.
    Loopback,
    /// Ethernet (TAP): frames with MAC addresses; neighbours resolved with
    /// ARP/NDP.
    Ethernet(MacAddr),
    /// IP (TUN): bare IP packets, point-to-point, no neighbour resolution.
    Ip,
}

impl LinkKind {
    /// Whether neighbours must be resolved to link-layer addresses.
    pub fn resolves_neighbours(&self) -> bool {
        matches!(self, LinkKind::Ethernet(_))
    }
}

/// Address flags, as `ifconfig` prints them (FreeBSD `IN6_IFF_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddrFlags {
    /// DAD is in progress; not yet usable (RFC 4862 §5.4).
    pub tentative: bool,
    /// DAD found a duplicate; never used (RFC 4862 §5.4.5).
    pub duplicated: bool,
    /// The preferred lifetime expired (RFC 4862 §5.5.4).
    pub deprecated: bool,
    /// Formed by SLAAC.
    pub autoconf: bool,
    /// A temporary address (RFC 8981).
    pub temporary: bool,
    /// An anycast address: never a source (RFC 4291 §2.6).
    pub anycast: bool,
    /// Preferred as a source (FreeBSD `prefer_source`).
    pub prefer_source: bool,
    /// The prefix is no longer advertised by any router (FreeBSD `detached`).
    pub detached: bool,
    /// A Mobile IPv6 home address (RFC 6275), preferred by RFC 6724 §5 rule
    /// 4. via6 has no Mobile IPv6: only set by hand (KAME's `home` flag).
    pub home: bool,
}

impl AddrFlags {
    /// The flag words FreeBSD `ifconfig` prints after an address.
    pub fn words(&self) -> Vec<&'static str> {
        let mut w = Vec::new();
        let pairs = [
            (self.tentative, "tentative"),
            (self.duplicated, "duplicated"),
            (self.deprecated, "deprecated"),
            (self.autoconf, "autoconf"),
            (self.temporary, "temporary"),
            (self.anycast, "anycast"),
            (self.prefer_source, "prefer_source"),
            (self.detached, "detached"),
            (self.home, "home"),
        ];
        for (on, word) in pairs {
            if on {
                w.push(word);
            }
        }
        w
    }
}

/// Duplicate address detection progress for a tentative address (RFC 4862 §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DadProgress {
    /// Probes still to send.
    pub probes_left: u32,
    /// When to send the next probe, or to finish.
    pub next_at: Instant,
    /// The nonce of our probes (RFC 7527 §4.1: ignore looped-back NS).
    pub nonce: [u8; 6],
}

/// An address assigned to an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length of the subnet it belongs to.
    pub prefix_len: u8,
    /// Flags.
    pub flags: AddrFlags,
    /// When the address goes away (`None`: infinite).
    pub valid_until: Option<Instant>,
    /// When the address becomes deprecated (`None`: infinite).
    pub preferred_until: Option<Instant>,
    /// DAD state while tentative.
    pub dad: Option<DadProgress>,
    /// For a SLAAC address: the routers (link-local addresses on this
    /// address's link) whose Router Advertisements carried its prefix, most
    /// recent last, at most [`IfAddr::MAX_ADVERTISERS`]. RFC 6724 §5 rule 5.5
    /// prefers a source whose prefix the chosen next hop advertised.
    pub advertised_by: Vec<Ipv6Addr>,
}

impl IfAddr {
    /// A permanent address with no flags.
    pub fn permanent(addr: IpAddr, prefix_len: u8) -> Self {
        IfAddr {
            addr,
            prefix_len,
            flags: AddrFlags::default(),
            valid_until: None,
            preferred_until: None,
            dad: None,
            advertised_by: Vec::new(),
        }
    }

    /// How many advertising routers an address remembers.
    pub const MAX_ADVERTISERS: usize = 8;

    /// Records that `router` advertised this address's prefix (RFC 6724 §5
    /// rule 5.5), keeping the most recent [`IfAddr::MAX_ADVERTISERS`].
    pub fn note_advertiser(&mut self, router: Ipv6Addr) {
        self.advertised_by.retain(|r| *r != router);
        if self.advertised_by.len() >= Self::MAX_ADVERTISERS {
            self.advertised_by.remove(0);
        }
        self.advertised_by.push(router);
    }

    /// Whether the address may be used at all (as a source, or to accept
    /// packets): not tentative, not duplicated (RFC 4862 §5.4).
    pub fn is_usable(&self) -> bool {
        !self.flags.tentative && !self.flags.duplicated
    }

    /// Whether `other` lies in this address's subnet.
    pub fn subnet_contains(&self, other: IpAddr) -> bool {
        match (self.addr, other) {
            (IpAddr::V4(a), IpAddr::V4(o)) => {
                let m = via6_wire::Ipv4Prefix::mask_bits(self.prefix_len);
                a.to_bits() & m == o.to_bits() & m
            }
            (IpAddr::V6(a), IpAddr::V6(o)) => {
                let m = via6_wire::Ipv6Prefix::mask_bits(self.prefix_len);
                a.to_bits() & m == o.to_bits() & m
            }
            _ => false,
        }
    }
}

/// Per-interface ND flags (FreeBSD `ifconfig ... nd6 options=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdFlags {
    /// PERFORMNUD: run neighbour unreachability detection.
    pub perform_nud: bool,
    /// ACCEPT_RTADV: process router advertisements (hosts only).
    pub accept_rtadv: bool,
    /// AUTO_LINKLOCAL: form a link-local address automatically.
    pub auto_linklocal: bool,
    /// IFDISABLED: IPv6 is disabled on this interface (set when the
    /// EUI-64 link-local is duplicated, RFC 4862 §5.4.5).
    pub ifdisabled: bool,
    /// NO_RADR: do not install default routes from RAs.
    pub no_radr: bool,
}

impl NdFlags {
    /// The option words `ifconfig` prints.
    pub fn words(&self) -> Vec<&'static str> {
        let mut w = Vec::new();
        if self.perform_nud {
            w.push("PERFORMNUD");
        }
        if self.accept_rtadv {
            w.push("ACCEPT_RTADV");
        }
        if self.auto_linklocal {
            w.push("AUTO_LINKLOCAL");
        }
        if self.ifdisabled {
            w.push("IFDISABLED");
        }
        if self.no_radr {
            w.push("NO_RADR");
        }
        w
    }
}

/// Per-interface NDP variables (RFC 4861 §6.3.2), updated from RAs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdVars {
    /// BaseReachableTime in milliseconds (default REACHABLE_TIME 30 000).
    pub base_reachable_ms: u32,
    /// ReachableTime: BaseReachableTime × uniform(0.5, 1.5), re-drawn.
    pub reachable_ms: u32,
    /// RetransTimer in milliseconds (default 1 000).
    pub retrans_ms: u32,
    /// CurHopLimit learnt from an RA (0: use `ip6.hlim`).
    pub cur_hop_limit: u8,
    /// LinkMTU learnt from an RA MTU option (0: the interface MTU).
    pub link_mtu: u32,
}

impl Default for NdVars {
    fn default() -> Self {
        NdVars {
            base_reachable_ms: 30_000,
            reachable_ms: 30_000,
            retrans_ms: 1_000,
            cur_hop_limit: 0,
            link_mtu: 0,
        }
    }
}

/// An interface.
#[derive(Debug, Clone)]
pub struct Interface {
    /// Index (1-based).
    pub index: IfIndex,
    /// Name (`lo0`, `tap0`, `eth0`).
    pub name: String,
    /// Link kind.
    pub kind: LinkKind,
    /// Link MTU in bytes.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// ND flags.
    pub nd: NdFlags,
    /// ND variables.
    pub nd_vars: NdVars,
    /// Addresses, in assignment order.
    pub addrs: Vec<IfAddr>,
    /// IPv6 multicast groups joined (all-nodes, solicited-node, ...).
    pub groups6: Vec<Ipv6Addr>,
    /// Router solicitations still to send, and when (RFC 4861 §6.3.7).
    pub rs_left: u32,
    /// When the next router solicitation goes out.
    pub rs_next: Option<crate::time::Instant>,
}

impl Interface {
    /// Whether this is a loopback interface.
    pub fn is_loopback(&self) -> bool {
        self.kind == LinkKind::Loopback
    }

    /// The interface's MAC, for Ethernet links.
    pub fn mac(&self) -> Option<MacAddr> {
        match self.kind {
            LinkKind::Ethernet(m) => Some(m),
            _ => None,
        }
    }

    /// The effective IPv6 link MTU (an RA's MTU option may lower it).
    #[inline]
    pub fn mtu6(&self) -> u32 {
        if self.nd_vars.link_mtu != 0 {
            self.nd_vars.link_mtu.min(self.mtu)
        } else {
            self.mtu
        }
    }

    /// Usable addresses of the interface (neither tentative nor duplicated).
    pub fn usable_addrs(&self) -> impl Iterator<Item = &IfAddr> {
        self.addrs.iter().filter(|a| a.is_usable())
    }

    /// The entry for `addr`, if assigned here.
    pub fn find_addr(&self, addr: IpAddr) -> Option<&IfAddr> {
        self.addrs.iter().find(|a| a.addr == addr)
    }

    /// The first usable IPv6 link-local address.
    pub fn link_local6(&self) -> Option<Ipv6Addr> {
        self.usable_addrs().find_map(|a| match a.addr {
            IpAddr::V6(v6) if crate::addr::is_ipv6_link_local(&v6) => Some(v6),
            _ => None,
        })
    }

    /// Whether the interface listens on IPv6 multicast group `g`; a router
    /// also listens on all-routers `ff02::2` (RFC 4291 §2.7.1).
    pub fn in_group6(&self, g: &Ipv6Addr, router: bool) -> bool {
        self.groups6.contains(g) || (router && *g == crate::addr::ALL_ROUTERS)
    }
}

/// The local-address index: every unicast address configured on any
/// interface (whatever its flags) and, for IPv4 subnets shorter than /31,
/// the directed broadcast (RFC 919 §7, RFC 1812 §5.3.5.2). A sorted array per
/// family, so "is this destination possibly ours?" costs one binary search
/// instead of a walk over every interface's addresses per packet.
///
/// It is a *superset* filter: an address is added when it is configured and
/// the index is rebuilt when one is removed, but flag changes (tentative,
/// duplicated) and lifetime expiry leave it as is. A hit therefore still takes
/// the exact check; a miss proves the destination is not ours.
///
/// In front of the arrays sits a 1024-bit filter (one bit per hashed
/// address, as a one-hash Bloom filter): a forwarded packet's destination
/// almost always finds its bit clear and skips the binary search.
#[derive(Debug, Clone, Default)]
pub struct LocalIndex {
    v4: Vec<u32>,
    v6: Vec<u128>,
    bits: [u64; FILTER_WORDS],
}

/// Words of [`LocalIndex`]'s filter.
const FILTER_WORDS: usize = 16;

/// The filter bit of an address (Fibonacci hashing of its folded bits).
#[inline]
fn filter_bit(folded: u64) -> usize {
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize
}

#[inline]
fn fold_v6(a: u128) -> u64 {
    (a as u64) ^ ((a >> 64) as u64)
}

impl LocalIndex {
    /// Adds an address and, for IPv4, its subnet's directed broadcast.
    pub fn insert(&mut self, addr: IpAddr, prefix_len: u8) {
        match addr {
            IpAddr::V4(a) => {
                self.insert_v4(a.to_bits());
                if prefix_len < 31 {
                    let host = !via6_wire::Ipv4Prefix::mask_bits(prefix_len);
                    self.insert_v4(a.to_bits() | host);
                }
            }
            IpAddr::V6(a) => {
                insert_sorted(&mut self.v6, a.to_bits());
                self.set_bit(filter_bit(fold_v6(a.to_bits())));
            }
        }
    }

    fn insert_v4(&mut self, a: u32) {
        insert_sorted(&mut self.v4, a);
        self.set_bit(filter_bit(u64::from(a)));
    }

    fn set_bit(&mut self, b: usize) {
        self.bits[b / 64] |= 1 << (b % 64);
    }

    #[inline]
    fn bit(&self, b: usize) -> bool {
        self.bits[b / 64] & (1 << (b % 64)) != 0
    }

    /// Rebuilds the index from the interfaces' address lists.
    pub fn rebuild(&mut self, ifaces: &[Interface]) {
        self.v4.clear();
        self.v6.clear();
        self.bits = [0; FILTER_WORDS];
        for a in ifaces.iter().flat_map(|i| i.addrs.iter()) {
            self.insert(a.addr, a.prefix_len);
        }
    }

    /// Whether `dst` may be one of our IPv4 addresses or directed broadcasts.
    /// The filter inline (it rejects almost every forwarded destination),
    /// the search out of line.
    #[inline(always)]
    pub fn may_hold_v4(&self, dst: std::net::Ipv4Addr) -> bool {
        self.bit(filter_bit(u64::from(dst.to_bits()))) && self.holds_v4(dst.to_bits())
    }

    /// Whether `dst` may be one of our IPv6 unicast addresses (the filter
    /// inline, the search out of line).
    #[inline(always)]
    pub fn may_hold_v6(&self, dst: &Ipv6Addr) -> bool {
        self.bit(filter_bit(fold_v6(dst.to_bits()))) && self.holds_v6(dst.to_bits())
    }

    #[inline(never)]
    fn holds_v4(&self, dst: u32) -> bool {
        self.v4.binary_search(&dst).is_ok()
    }

    #[inline(never)]
    fn holds_v6(&self, dst: u128) -> bool {
        self.v6.binary_search(&dst).is_ok()
    }
}

fn insert_sorted<T: Ord>(v: &mut Vec<T>, x: T) {
    if let Err(i) = v.binary_search(&x) {
        v.insert(i, x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_index_holds_addresses_and_directed_broadcasts() {
        let mut x = LocalIndex::default();
        x.insert("10.1.2.3".parse().unwrap(), 16);
        x.insert("192.0.2.1".parse().unwrap(), 31);
        x.insert("2001:db8::1".parse().unwrap(), 64);
        x.insert("10.1.2.3".parse().unwrap(), 16);
        assert!(x.may_hold_v4("10.1.2.3".parse().unwrap()));
        assert!(x.may_hold_v4("10.1.255.255".parse().unwrap()), "directed broadcast of a /16");
        assert!(!x.may_hold_v4("10.1.2.4".parse().unwrap()));
        assert!(x.may_hold_v4("192.0.2.1".parse().unwrap()));
        assert!(!x.may_hold_v4("192.0.2.0".parse().unwrap()), "a /31 has no network or broadcast address");
        assert!(x.may_hold_v6(&"2001:db8::1".parse().unwrap()));
        assert!(!x.may_hold_v6(&"2001:db8::2".parse().unwrap()));
        assert_eq!(x.v4.len(), 3, "no duplicates; a /31 has no broadcast");
        x.rebuild(&[]);
        assert!(!x.may_hold_v4("10.1.2.3".parse().unwrap()));
        assert!(!x.may_hold_v6(&"2001:db8::1".parse().unwrap()));
    }
}
