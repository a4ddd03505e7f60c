//! Raw sockets: `socket(family, Proto::Raw(protocol))` for ICMP, ICMPv6 and
//! any other protocol number, with FreeBSD's `rip_input` / `rip6_input`
//! semantics (raw_ip.c, raw_ip6.c) and RFC 3542 §3 for IPv6:
//!
//! - every matching raw socket gets a copy of each datagram for this node of
//!   its protocol (protocol 0 matches all); TCP and UDP are never copied;
//!   ICMP and ICMPv6 are copied (all types, errors and echo requests the stack
//!   also answers) besides the stack's own processing; a protocol the stack
//!   does not handle goes only to raw sockets, and when none takes it the
//!   stack answers as before (ICMP protocol unreachable / ICMPv6 Parameter
//!   Problem code 1);
//! - a bound socket only sees datagrams to its address, a connected one only
//!   datagrams from its peer;
//! - IPv4 raw sockets receive the IP header; IPv6 raw sockets the payload
//!   after the extension headers (RFC 3542 §3);
//! - ICMPv6 sockets filter by type before queuing (RFC 3542 §3.2); the
//!   ICMPv6 checksum is always verified and computed by the stack (RFC 3542
//!   §3.1), other IPv6 protocols may ask for it with `IPV6_CHECKSUM`;
//! - output: the caller gives the payload and the stack builds the IP header
//!   (source by the socket's bound address, a per-send source or source
//!   selection; TTL / hop limit from the socket or the defaults); IPv4 with
//!   `IP_HDRINCL` takes the caller's header (FreeBSD rip_output rules);
//! - each socket's receive queue is bounded (`net.inet.raw.recvspace`, 9216
//!   bytes, changeable with SO_RCVBUF); a datagram that does not fit is
//!   dropped and counted (`rips_fullsock` / `rip6s_fullsock`).

use super::bind::unmap;
use super::{Datagram, Family, LocalAddr, Proto, SocketHandle};
use crate::addr::{self, IfIndex};
use crate::errno::{bad, Errno, StackResult};
use crate::stack::Stack;
use crate::stats::Counter;
use crate::sysctl::Knob;
use crate::time::Instant;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};
use via6_wire::checksum;
use via6_wire::ip::protocol;

/// FreeBSD `net.inet.raw.recvspace`: the default receive buffer of a raw
/// socket.
pub const RAW_RCVBUF: usize = 9216;

/// The ICMPv6 type filter of RFC 3542 §3.2 (`struct icmp6_filter`): one bit
/// per type, set when the type passes. A new socket passes every type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmp6Filter {
    pass: [u32; 8],
}

impl Default for Icmp6Filter {
    fn default() -> Self {
        Self::pass_all()
    }
}

impl Icmp6Filter {
    /// ICMP6_FILTER_SETPASSALL.
    pub const fn pass_all() -> Self {
        Icmp6Filter { pass: [u32::MAX; 8] }
    }

    /// ICMP6_FILTER_SETBLOCKALL.
    pub const fn block_all() -> Self {
        Icmp6Filter { pass: [0; 8] }
    }

    /// ICMP6_FILTER_SETPASS.
    pub fn set_pass(&mut self, icmp_type: u8) -> &mut Self {
        self.pass[usize::from(icmp_type >> 5)] |= 1 << (icmp_type & 31);
        self
    }

    /// ICMP6_FILTER_SETBLOCK.
    pub fn set_block(&mut self, icmp_type: u8) -> &mut Self {
        self.pass[usize::from(icmp_type >> 5)] &= !(1 << (icmp_type & 31));
        self
    }

    /// ICMP6_FILTER_WILLPASS.
    pub fn will_pass(&self, icmp_type: u8) -> bool {
        self.pass[usize::from(icmp_type >> 5)] & (1 << (icmp_type & 31)) != 0
    }

    /// ICMP6_FILTER_WILLBLOCK.
    pub fn will_block(&self, icmp_type: u8) -> bool {
        !self.will_pass(icmp_type)
    }
}

/// A raw socket's own state.
#[derive(Debug, Clone)]
pub struct RawState {
    /// The protocol (IPv4 protocol / IPv6 next header); 0 receives every
    /// protocol the node does not keep to itself (TCP, UDP).
    pub protocol: u8,
    /// ICMP6_FILTER (ICMPv6 sockets only).
    pub icmp6_filter: Icmp6Filter,
    /// IPV6_CHECKSUM: offset of the checksum field in the payload, `None`
    /// for off (RFC 3542 §3.1).
    pub checksum: Option<usize>,
    /// IP_TTL / IPV6_UNICAST_HOPS; the stack default when `None`.
    pub hop_limit: Option<u8>,
    /// IP_HDRINCL (IPv4): the caller supplies the IP header.
    pub hdrincl: bool,
    /// Datagrams dropped because the receive queue was full.
    pub drops: u64,
}

impl RawState {
    /// A new socket's state.
    pub(crate) fn new(protocol: u8) -> Self {
        RawState {
            protocol,
            icmp6_filter: Icmp6Filter::pass_all(),
            checksum: None,
            hop_limit: None,
            hdrincl: false,
            drops: 0,
        }
    }
}

/// Whether the upper-layer checksum of `data` (protocol `proto`, between
/// `src` and `dst`) is right: the one's-complement sum over the
/// pseudo-header and the data is all ones (RFC 1071, RFC 8200 §8.1).
fn checksum_ok(src: IpAddr, dst: IpAddr, proto: u8, data: &[u8]) -> bool {
    match (src, dst) {
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut c = checksum::pseudo_header_v6(s, d, proto, data.len() as u32);
            c.add_bytes(data);
            c.sum() == 0xffff
        }
        // ICMPv4 has no pseudo-header (RFC 792).
        _ => checksum::verifies(data),
    }
}

/// Writes the IPv6 upper-layer checksum of `data` at `offset` (RFC 8200
/// §8.1; RFC 3542 §3.1).
fn fill_checksum_v6(src: IpAddr, dst: IpAddr, proto: u8, data: &mut [u8], offset: usize) -> StackResult<()> {
    let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) else {
        return Err(bad(Errno::EAFNOSUPPORT, "IPV6_CHECKSUM needs IPv6 addresses"));
    };
    let Some(field) = data.get_mut(offset..offset + 2) else {
        return Err(bad(
            Errno::EINVAL,
            format!("the payload is too short for a checksum at offset {offset}"),
        ));
    };
    field.copy_from_slice(&[0, 0]);
    let mut c = checksum::pseudo_header_v6(s, d, proto, data.len() as u32);
    c.add_bytes(data);
    data[offset..offset + 2].copy_from_slice(&c.finish().to_be_bytes());
    Ok(())
}

impl Stack {
    fn raw_state(&self, h: SocketHandle) -> StackResult<(Family, &RawState)> {
        let s = self.sockets.get(h).ok_or_else(|| bad(Errno::EINVAL, "no such socket"))?;
        let st = s.raw.as_deref().ok_or_else(|| bad(Errno::EINVAL, "not a raw socket"))?;
        Ok((s.family, st))
    }

    fn raw_state_mut(&mut self, h: SocketHandle) -> StackResult<(Family, &mut RawState)> {
        let s = self.sockets.get_mut(h).ok_or_else(|| bad(Errno::EINVAL, "no such socket"))?;
        let family = s.family;
        let st = s.raw.as_deref_mut().ok_or_else(|| bad(Errno::EINVAL, "not a raw socket"))?;
        Ok((family, st))
    }

    /// bind(2) on a raw socket: fixes the local address datagrams must be
    /// sent to (and the default source); no ports, no conflicts (rip_bind).
    pub(crate) fn raw_bind(&mut self, h: SocketHandle, sa: SocketAddr) -> StackResult<()> {
        let s = self.sockets.get(h).ok_or_else(|| bad(Errno::EINVAL, "no such socket"))?;
        if s.local.is_some() {
            return Err(bad(Errno::EINVAL, "socket is already bound"));
        }
        // An AF_INET6 raw socket never carries IPv4 (rip6 has no mapped form).
        let (ip, zone) = self.check_sockaddr(s.family, true, sa)?;
        self.require_local(ip, zone)?;
        if let Some(s) = self.sockets.get_mut(h) {
            s.local = Some(LocalAddr { addr: ip, zone, port: 0 });
        }
        Ok(())
    }

    /// connect(2) on a raw socket: fixes the peer; only its datagrams are
    /// received, and sends without an address go to it (rip_connect).
    pub(crate) fn raw_connect(&mut self, h: SocketHandle, sa: SocketAddr) -> StackResult<()> {
        let s = self.sockets.get(h).ok_or_else(|| bad(Errno::EINVAL, "no such socket"))?;
        let (ip, _) = self.check_sockaddr(s.family, true, sa)?;
        if ip.is_unspecified() {
            return Err(bad(Errno::EADDRNOTAVAIL, format!("cannot connect to {ip}")));
        }
        if let Some(s) = self.sockets.get_mut(h) {
            s.remote = Some(sa);
        }
        Ok(())
    }

    /// ICMP6_FILTER (RFC 3542 §3.2); only on an ICMPv6 raw socket.
    pub fn set_icmp6_filter(&mut self, h: SocketHandle, filter: Icmp6Filter) -> StackResult<()> {
        let (family, st) = self.raw_state_mut(h)?;
        if family != Family::Inet6 || st.protocol != protocol::ICMPV6 {
            return Err(bad(Errno::EINVAL, "ICMP6_FILTER applies to AF_INET6 raw sockets of protocol 58"));
        }
        st.icmp6_filter = filter;
        Ok(())
    }

    /// The socket's ICMP6_FILTER.
    pub fn icmp6_filter(&self, h: SocketHandle) -> StackResult<Icmp6Filter> {
        Ok(self.raw_state(h)?.1.icmp6_filter)
    }

    /// IPV6_CHECKSUM (RFC 3542 §3.1): the stack computes the checksum at
    /// `offset` on output and verifies it on input; -1 turns it off. Refused
    /// on ICMPv6 sockets (their checksum is always handled) and for an odd
    /// offset (as FreeBSD and Linux).
    pub fn set_ipv6_checksum(&mut self, h: SocketHandle, offset: i32) -> StackResult<()> {
        let (family, st) = self.raw_state_mut(h)?;
        if family != Family::Inet6 {
            return Err(bad(Errno::EINVAL, "IPV6_CHECKSUM applies to AF_INET6 raw sockets"));
        }
        if st.protocol == protocol::ICMPV6 {
            return Err(bad(Errno::EINVAL, "the ICMPv6 checksum is always computed (RFC 3542 §3.1)"));
        }
        st.checksum = match offset {
            -1 => None,
            o if o >= 0 && o % 2 == 0 => Some(o as usize),
            o => return Err(bad(Errno::EINVAL, format!("IPV6_CHECKSUM offset {o} is not -1 or even"))),
        };
        Ok(())
    }

    /// IP_TTL / IPV6_UNICAST_HOPS for a raw socket; `None` restores the
    /// default (`net.inet.ip.ttl` / `net.inet6.ip6.hlim`).
    pub fn set_raw_hop_limit(&mut self, h: SocketHandle, hops: Option<u8>) -> StackResult<()> {
        if hops == Some(0) {
            return Err(bad(Errno::EINVAL, "a hop limit of 0 is not sendable"));
        }
        self.raw_state_mut(h)?.1.hop_limit = hops;
        Ok(())
    }

    /// IP_HDRINCL (AF_INET raw sockets): `raw_send_to` then takes a whole
    /// IPv4 datagram.
    pub fn set_hdrincl(&mut self, h: SocketHandle, on: bool) -> StackResult<()> {
        let (family, st) = self.raw_state_mut(h)?;
        if family != Family::Inet {
            return Err(bad(Errno::EINVAL, "IP_HDRINCL applies to AF_INET raw sockets"));
        }
        st.hdrincl = on;
        Ok(())
    }

    /// Datagrams this raw socket dropped because its queue was full.
    pub fn raw_drops(&self, h: SocketHandle) -> StackResult<u64> {
        Ok(self.raw_state(h)?.1.drops)
    }

    /// sendto(2) on a raw socket: `data` is the payload after the IP header
    /// (the whole datagram with IP_HDRINCL); `dst` may be `None` on a
    /// connected socket; `src` forces a local source like IP_PKTINFO /
    /// IPV6_PKTINFO. Returns the bytes sent.
    pub fn raw_send_to(
        &mut self,
        h: SocketHandle,
        data: &[u8],
        dst: Option<SocketAddr>,
        src: Option<IpAddr>,
        now: Instant,
    ) -> StackResult<usize> {
        self.last_now = now;
        let s = self.sockets.get(h).ok_or_else(|| bad(Errno::EINVAL, "no such socket"))?;
        let st = s.raw.as_deref().ok_or_else(|| bad(Errno::EINVAL, "not a raw socket"))?;
        let (family, proto, checksum_at, hops, hdrincl) =
            (s.family, st.protocol, st.checksum, st.hop_limit, st.hdrincl);
        if hdrincl {
            return self.raw_send_hdrincl(data, now);
        }
        let dst = match (dst, s.remote) {
            (Some(d), _) => d,
            (None, Some(r)) => r,
            (None, None) => return Err(bad(Errno::ENOTCONN, "no destination and not connected")),
        };
        let (dip, zone) = self.check_sockaddr(family, true, dst)?;
        let sip = match src {
            Some(a) => {
                let a = unmap(a);
                if a.is_ipv4() != dip.is_ipv4() || !self.is_local_address(a) {
                    return Err(bad(
                        Errno::EADDRNOTAVAIL,
                        format!("{a} is not a local address of the family"),
                    ));
                }
                a
            }
            None => self.source_for(h, dip, zone)?,
        };
        let (lookup, sip) = self.originate(dip, zone, Some(sip))?;
        match (sip, dip) {
            (IpAddr::V4(s4), IpAddr::V4(d4)) => {
                let ttl = hops.unwrap_or(self.sysctl.get(Knob::InetTtl) as u8);
                let p = crate::ipv4::Ipv4Send { src: s4, dst: d4, protocol: proto, ttl, dont_frag: false };
                self.ipv4_send(&lookup, p, data, now)?;
                self.stats.inc(Counter::RipsOpackets);
            }
            (IpAddr::V6(s6), IpAddr::V6(d6)) => {
                let mut payload = data.to_vec();
                // RFC 3542 §3.1: the ICMPv6 checksum is always computed.
                let at = if proto == protocol::ICMPV6 { Some(2) } else { checksum_at };
                if let Some(off) = at {
                    fill_checksum_v6(sip, dip, proto, &mut payload, off)?;
                }
                let k = if d6.is_multicast() { Knob::Ip6DefMcastHlim } else { Knob::Ip6Hlim };
                let hop_limit = hops.unwrap_or(self.sysctl.get(k) as u8);
                let p =
                    crate::ipv6::Ipv6Send { src: s6, dst: d6, next_header: proto, hop_limit, flow_label: 0 };
                self.ipv6_send(&lookup, p, &payload, now)?;
                self.stats.inc(Counter::Rip6sOpackets);
            }
            _ => return Err(bad(Errno::EAFNOSUPPORT, "source and destination families differ")),
        }
        self.drain_looped(now);
        Ok(data.len())
    }

    /// IP_HDRINCL output (FreeBSD rip_output): the caller's header is kept,
    /// except that a zero source is filled by source selection, a zero
    /// identification by the stack's generator (RFC 7739), and the header
    /// checksum is always computed. The total length must match what was
    /// given; a source must be local; the packet is routed on its
    /// destination.
    fn raw_send_hdrincl(&mut self, data: &[u8], now: Instant) -> StackResult<usize> {
        let hlen = data.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
        if data.len() < 20 || data[0] >> 4 != 4 || hlen < 20 || hlen > data.len() {
            return Err(bad(Errno::EINVAL, "IP_HDRINCL needs a whole IPv4 header"));
        }
        if usize::from(u16::from_be_bytes([data[2], data[3]])) != data.len() {
            return Err(bad(Errno::EINVAL, "the header's total length differs from the datagram's"));
        }
        let src = Ipv4Addr::new(data[12], data[13], data[14], data[15]);
        let dst = Ipv4Addr::new(data[16], data[17], data[18], data[19]);
        if !src.is_unspecified() && !self.is_local_address(IpAddr::V4(src)) {
            return Err(bad(Errno::EADDRNOTAVAIL, format!("{src} is not a local address")));
        }
        let want = (!src.is_unspecified()).then_some(IpAddr::V4(src));
        let (lookup, sip) = self.originate(IpAddr::V4(dst), None, want)?;
        let df = data[6] & 0x40 != 0;
        if data.len() > lookup.mtu as usize && df {
            return Err(bad(
                Errno::EMSGSIZE,
                format!("{} bytes with DF exceed the MTU {}", data.len(), lookup.mtu),
            ));
        }
        let mut buf = self.pool.get(data.len());
        let b = buf.bytes_mut();
        b.copy_from_slice(data);
        if let IpAddr::V4(s) = sip {
            b[12..16].copy_from_slice(&s.octets());
        }
        if b[4..6] == [0, 0] {
            let id = self.ipv4_ident_for(sip, IpAddr::V4(dst), data[9]);
            buf.bytes_mut()[4..6].copy_from_slice(&id.to_be_bytes());
        }
        let b = buf.bytes_mut();
        b[10..12].copy_from_slice(&[0, 0]);
        let c = checksum::checksum(&b[..hlen]);
        b[10..12].copy_from_slice(&c.to_be_bytes());
        self.stats.inc(Counter::IpsLocalout);
        self.stats.inc(Counter::RipsOpackets);
        if data.len() > lookup.mtu as usize {
            self.fragment_v4_and_send(buf, &lookup, now);
        } else {
            self.link_output(lookup.ifindex, lookup.neighbour, buf, now);
        }
        self.drain_looped(now);
        Ok(data.len())
    }

    /// recvfrom(2) on a raw socket: the next datagram (with its IPv4 header
    /// on AF_INET, the payload on AF_INET6), or EWOULDBLOCK.
    pub fn raw_recv_from(&mut self, h: SocketHandle) -> StackResult<Datagram> {
        let s = self.sockets.get_mut(h).ok_or_else(|| bad(Errno::EINVAL, "no such socket"))?;
        if s.raw.is_none() {
            return Err(bad(Errno::EINVAL, "not a raw socket"));
        }
        let d = s.rx.pop_front().ok_or_else(|| bad(Errno::EWOULDBLOCK, "no datagram queued"))?;
        s.rx_bytes -= d.data.len();
        Ok(d)
    }

    /// Local delivery hands every datagram for this node here (after
    /// reassembly; `offset` is where the upper-layer protocol `proto`
    /// starts). Copies it to each matching raw socket and returns whether
    /// any socket matched (rip_input / rip6_input).
    pub(crate) fn raw_input(&mut self, ifindex: IfIndex, packet: &[u8], proto: u8, offset: usize) -> bool {
        // FreeBSD hands neither TCP nor UDP to raw sockets.
        if self.sockets.raw.is_empty() || proto == protocol::TCP || proto == protocol::UDP {
            return false;
        }
        let Some((src, dst)) = crate::closed::ip_pair(packet) else { return false };
        let v6 = src.is_ipv6();
        let Some(upper) = packet.get(offset..) else { return false };
        let data = if v6 { upper } else { packet };
        // ICMP: a bad checksum is dropped by the stack before any socket
        // sees it (FreeBSD icmp_input; RFC 3542 §3.1 for ICMPv6).
        let icmp = proto == if v6 { protocol::ICMPV6 } else { protocol::ICMP };
        if icmp && !checksum_ok(src, dst, proto, upper) {
            return false;
        }
        let icmp_type = upper.first().copied().unwrap_or(0);
        self.stats.inc(if v6 { Counter::Rip6sIpackets } else { Counter::RipsIpackets });
        let mut taken = false;
        for i in 0..self.sockets.raw.len() {
            let h = self.sockets.raw[i];
            let Some(s) = self.sockets.get_mut(h) else { continue };
            let Some(st) = s.raw.as_deref_mut() else { continue };
            if (s.family == Family::Inet6) != v6 || (st.protocol != 0 && st.protocol != proto) {
                continue;
            }
            if let Some(l) = s.local {
                if (!l.is_wildcard() && unmap(l.addr) != dst) || l.zone.is_some_and(|z| z != ifindex) {
                    continue;
                }
            }
            if s.remote.is_some_and(|r| unmap(r.ip()) != src) {
                continue;
            }
            // RFC 3542 §3.2: the filter is applied before queuing.
            if v6 && icmp && st.protocol == protocol::ICMPV6 && st.icmp6_filter.will_block(icmp_type) {
                continue;
            }
            if let Some(off) = st.checksum.filter(|_| v6 && !icmp) {
                if upper.len() < off + 2 || !checksum_ok(src, dst, proto, upper) {
                    self.stats.inc(Counter::Rip6sBadsum);
                    continue;
                }
            }
            taken = true;
            if s.rx_bytes + data.len() > s.rx_limit {
                st.drops += 1;
                self.stats.inc(if v6 { Counter::Rip6sFullsock } else { Counter::RipsFullsock });
                continue;
            }
            let from = match src {
                IpAddr::V6(a) => {
                    let scope = if addr::needs_zone(&a) { ifindex.0 } else { 0 };
                    SocketAddr::V6(SocketAddrV6::new(a, 0, 0, scope))
                }
                a => SocketAddr::new(a, 0),
            };
            s.rx_bytes += data.len();
            s.rx.push_back(Datagram { data: data.to_vec(), from, to: dst, ifindex });
        }
        taken
    }
}

/// Whether `proto` names a raw socket.
pub(crate) fn raw_protocol(proto: Proto) -> Option<u8> {
    match proto {
        Proto::Raw(p) => Some(p),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iface::LinkKind;
    use crate::InterfaceConfig;

    fn node() -> Stack {
        let mut s = Stack::new("n", 3);
        s.set_sysctl("net.inet6.ip6.dad_count", 0).unwrap();
        let lo = s
            .add_interface(
                InterfaceConfig { name: "lo0".into(), kind: LinkKind::Loopback, mtu: None },
                Instant::ZERO,
            )
            .unwrap();
        s.add_address(lo, "198.51.100.1".parse().unwrap(), 32, Instant::ZERO).unwrap();
        s.add_address(lo, "2001:db8::1".parse().unwrap(), 128, Instant::ZERO).unwrap();
        s.poll(Instant::from_secs(1));
        s
    }

    const T: Instant = Instant::from_secs(2);

    /// RFC 3542 §3.2: the macros' semantics, pass-all by default.
    #[test]
    fn rfc3542_3_2_filter_macros() {
        let mut f = Icmp6Filter::default();
        assert!((0..=255).all(|t| f.will_pass(t)));
        f.set_block(135);
        assert!(f.will_block(135) && f.will_pass(136) && f.will_pass(134));
        let mut b = Icmp6Filter::block_all();
        assert!((0..=255).all(|t| b.will_block(t)));
        b.set_pass(129).set_pass(255).set_pass(0);
        assert!(b.will_pass(129) && b.will_pass(255) && b.will_pass(0) && b.will_block(128));
    }

    /// A protocol-253 datagram to ourselves reaches the raw socket with its
    /// IPv4 header; an IPv6 one with the payload only (RFC 3542 §3).
    #[test]
    fn loopback_protocol_253_both_families() {
        let mut s = node();
        let r4 = s.socket(Family::Inet, Proto::Raw(253));
        let r6 = s.socket(Family::Inet6, Proto::Raw(253));
        let d4: SocketAddr = "198.51.100.1:0".parse().unwrap();
        let d6: SocketAddr = "[2001:db8::1]:0".parse().unwrap();
        assert_eq!(s.raw_send_to(r4, b"hello", Some(d4), None, T).unwrap(), 5);
        assert_eq!(s.raw_send_to(r6, b"world", Some(d6), None, T).unwrap(), 5);
        let g4 = s.raw_recv_from(r4).unwrap();
        assert_eq!(g4.data.len(), 25);
        assert_eq!(g4.data[9], 253);
        assert_eq!(&g4.data[20..], b"hello");
        assert_eq!(g4.from, d4);
        let g6 = s.raw_recv_from(r6).unwrap();
        assert_eq!(g6.data, b"world");
        assert_eq!(s.raw_recv_from(r4).unwrap_err().errno, Errno::EWOULDBLOCK);
        assert_eq!(s.raw_recv_from(r6).unwrap_err().errno, Errno::EWOULDBLOCK);
    }

    /// Binding and connecting restrict what is received (rip_input).
    #[test]
    fn bound_and_connected_match() {
        let mut s = node();
        let bound_other = s.socket(Family::Inet6, Proto::Raw(253));
        let e = s.raw_bind(bound_other, "[::]:0".parse().unwrap());
        assert!(e.is_ok());
        let conn = s.socket(Family::Inet6, Proto::Raw(253));
        s.connect(conn, "[2001:db8::99]:0".parse().unwrap()).unwrap();
        let bad_bind = s.socket(Family::Inet6, Proto::Raw(253));
        assert_eq!(
            s.bind(bad_bind, "[2001:db8::99]:0".parse().unwrap()).unwrap_err().errno,
            Errno::EADDRNOTAVAIL
        );
        let other_proto = s.socket(Family::Inet6, Proto::Raw(254));
        s.raw_send_to(bound_other, b"x", Some("[2001:db8::1]:0".parse().unwrap()), None, T).unwrap();
        assert!(s.raw_recv_from(bound_other).is_ok());
        assert_eq!(s.raw_recv_from(conn).unwrap_err().errno, Errno::EWOULDBLOCK);
        assert_eq!(s.raw_recv_from(other_proto).unwrap_err().errno, Errno::EWOULDBLOCK);
    }

    /// RFC 3542 §3.1: IPV6_CHECKSUM is refused on ICMPv6 sockets and for odd
    /// offsets; with it on, output carries a checksum that verifies, and
    /// input without one that verifies is dropped and counted.
    #[test]
    fn rfc3542_3_1_ipv6_checksum() {
        let mut s = node();
        let icmp = s.socket(Family::Inet6, Proto::Raw(58));
        assert_eq!(s.set_ipv6_checksum(icmp, 2).unwrap_err().errno, Errno::EINVAL);
        let a = s.socket(Family::Inet6, Proto::Raw(253));
        assert_eq!(s.set_ipv6_checksum(a, 3).unwrap_err().errno, Errno::EINVAL);
        s.set_ipv6_checksum(a, 2).unwrap();
        let plain = s.socket(Family::Inet6, Proto::Raw(253));
        let d: SocketAddr = "[2001:db8::1]:0".parse().unwrap();
        // Too short for the field.
        assert_eq!(s.raw_send_to(a, b"ab", Some(d), None, T).unwrap_err().errno, Errno::EINVAL);
        s.raw_send_to(a, b"ab\0\0payload", Some(d), None, T).unwrap();
        let got = s.raw_recv_from(a).unwrap();
        let me: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(checksum_ok(me, me, 253, &got.data));
        assert_ne!(&got.data[2..4], b"\0\0");
        assert_eq!(s.raw_recv_from(plain).unwrap().data, got.data);
        // A wrong checksum: the plain socket gets it, the checking one not.
        s.raw_send_to(plain, b"ab\x12\x34payload", Some(d), None, T).unwrap();
        assert!(s.raw_recv_from(plain).is_ok());
        assert_eq!(s.raw_recv_from(a).unwrap_err().errno, Errno::EWOULDBLOCK);
        assert_eq!(s.stats().by_name("rip6s_badsum"), Some(1));
    }

    /// The ICMPv6 filter drops before queuing; echo requests the stack
    /// answers are also copied.
    #[test]
    fn icmp6_filter_and_echo_copy() {
        let mut s = node();
        let all = s.socket(Family::Inet6, Proto::Raw(58));
        let replies = s.socket(Family::Inet6, Proto::Raw(58));
        let mut f = Icmp6Filter::block_all();
        f.set_pass(129);
        s.set_icmp6_filter(replies, f).unwrap();
        assert_eq!(s.icmp6_filter(replies).unwrap(), f);
        let d: SocketAddr = "[2001:db8::1]:0".parse().unwrap();
        // Echo request, ident 7 seq 1; the checksum is the stack's job.
        s.raw_send_to(all, &[128, 0, 0, 0, 0, 7, 0, 1, 0xaa], Some(d), None, T).unwrap();
        let req = s.raw_recv_from(all).unwrap();
        assert_eq!(req.data[0], 128);
        let rep = s.raw_recv_from(all).unwrap();
        assert_eq!(rep.data[0], 129);
        assert_eq!(s.raw_recv_from(replies).unwrap().data[0], 129);
        assert_eq!(s.raw_recv_from(replies).unwrap_err().errno, Errno::EWOULDBLOCK);
    }

    /// An unknown protocol with no raw socket still gets protocol
    /// unreachable; with one, none is sent.
    #[test]
    fn protocol_unreachable_only_without_a_raw_socket() {
        let mut s = node();
        let icmp = s.socket(Family::Inet, Proto::Raw(1));
        // The sender writes its own header (protocol 252) from a socket of
        // another protocol, so it is no receiver of 252 itself.
        let sender = s.socket(Family::Inet, Proto::Raw(255));
        s.set_hdrincl(sender, true).unwrap();
        s.set_sysctl("net.inet.icmp.icmplim", 0).unwrap();
        let mut pkt = vec![0x45, 0, 0, 23, 0, 0, 0, 0, 64, 252, 0, 0, 0, 0, 0, 0, 198, 51, 100, 1];
        pkt.extend_from_slice(b"abc");
        s.raw_send_to(sender, &pkt, None, None, T).unwrap();
        let err = s.raw_recv_from(icmp).unwrap();
        let hl = usize::from(err.data[0] & 15) * 4;
        assert_eq!((err.data[hl], err.data[hl + 1]), (3, 2));
        assert_eq!(s.stats().by_name("ips_noproto"), Some(1));
        let taker = s.socket(Family::Inet, Proto::Raw(252));
        s.raw_send_to(sender, &pkt, None, None, T).unwrap();
        assert!(s.raw_recv_from(taker).is_ok());
        assert_eq!(s.raw_recv_from(icmp).unwrap_err().errno, Errno::EWOULDBLOCK);
        assert_eq!(s.stats().by_name("ips_noproto"), Some(1));
    }

    /// IP_HDRINCL: the caller's header is used, the source and ident filled
    /// when zero, the checksum computed; a wrong length is refused.
    #[test]
    fn hdrincl() {
        let mut s = node();
        let rx = s.socket(Family::Inet, Proto::Raw(253));
        let tx = s.socket(Family::Inet, Proto::Raw(253));
        let six = s.socket(Family::Inet6, Proto::Raw(253));
        assert_eq!(s.set_hdrincl(six, true).unwrap_err().errno, Errno::EINVAL);
        s.set_hdrincl(tx, true).unwrap();
        let mut pkt = vec![0x45, 0, 0, 24, 0, 0, 0, 0, 9, 253, 0, 0, 0, 0, 0, 0, 198, 51, 100, 1];
        pkt.extend_from_slice(b"abcd");
        s.raw_send_to(tx, &pkt, None, None, T).unwrap();
        let got = s.raw_recv_from(rx).unwrap();
        assert_eq!(got.data[8], 9, "TTL kept");
        assert_eq!(&got.data[12..16], &[198, 51, 100, 1], "source filled");
        assert!(checksum::verifies(&got.data[..20]));
        assert_eq!(&got.data[20..], b"abcd");
        pkt[3] = 30;
        assert_eq!(s.raw_send_to(tx, &pkt, None, None, T).unwrap_err().errno, Errno::EINVAL);
    }

    /// A full queue drops and counts.
    #[test]
    fn queue_bound() {
        let mut s = node();
        let rx = s.socket(Family::Inet, Proto::Raw(253));
        s.set_rcvbuf(rx, 1024).unwrap();
        let d: SocketAddr = "198.51.100.1:0".parse().unwrap();
        for _ in 0..20 {
            s.raw_send_to(rx, &[0u8; 80], Some(d), None, T).unwrap();
        }
        assert_eq!(s.raw_drops(rx).unwrap(), 10);
        assert_eq!(s.stats().by_name("rips_fullsock"), Some(10));
        let mut n = 0;
        while s.raw_recv_from(rx).is_ok() {
            n += 1;
        }
        assert_eq!(n, 10);
    }
}
