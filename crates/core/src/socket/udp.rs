//! UDP (RFC 768) over the socket table: send, receive, demultiplexing of
//! arriving datagrams, and ICMP errors turned into socket errors (ECONNREFUSED,
//! EHOSTUNREACH, EMSGSIZE) for connected sockets (RFC 1122 §4.1.3.3).

use super::bind::{map_for, unmap};
use super::{Proto, SocketHandle};
use crate::addr::{self, IfIndex};
use crate::buf::PacketBuf;
use crate::errno::{Errno, StackError, StackResult};
use crate::icmp::{Icmp4Error, Icmp6Error};
use crate::stack::Stack;
use crate::stats::Counter;
use crate::sysctl::Knob;
use crate::time::Instant;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use via6_wire::ip::protocol;
use via6_wire::udp::{UdpPacket, UdpRepr};

/// A received datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The payload.
    pub data: Vec<u8>,
    /// The sender, in the socket's family (mapped for IPv4 on AF_INET6).
    pub from: SocketAddr,
    /// The address it was sent to (IP_RECVDSTADDR / IPV6_PKTINFO).
    pub to: IpAddr,
    /// Arrival interface.
    pub ifindex: IfIndex,
}

impl Stack {
    /// sendto(2) on a UDP socket; `dst` may be `None` on a connected socket;
    /// `src` forces the source like IP_PKTINFO / IPV6_PKTINFO (it must be
    /// local). Returns the bytes sent.
    pub fn udp_send_to(
        &mut self,
        h: SocketHandle,
        data: &[u8],
        dst: Option<SocketAddr>,
        src: Option<IpAddr>,
        now: Instant,
    ) -> StackResult<usize> {
        self.last_now = now;
        let s = self.sockets.get(h).ok_or_else(|| StackError::new(Errno::EINVAL, "no such socket"))?;
        if s.proto != Proto::Udp {
            return Err(StackError::new(Errno::EINVAL, "not a UDP socket"));
        }
        let (family, v6only, connected) = (s.family, s.v6only, s.remote);
        let dst = match (dst, s.remote) {
            (Some(d), _) => d,
            (None, Some(r)) => r,
            (None, None) => return Err(StackError::new(Errno::ENOTCONN, "no destination and not connected")),
        };
        let (dip, zone) = self.check_sockaddr(family, v6only, dst)?;
        if s.local.is_none() {
            self.bind(h, super::calls::wildcard(family, 0))?;
        }
        let sport = self.sockets.get(h).and_then(|s| s.local).map_or(0, |l| l.port);
        let sip = match src {
            Some(a) => {
                let a = unmap(a);
                if !self.is_local_address(a) {
                    return Err(StackError::new(Errno::EADDRNOTAVAIL, format!("{a} is not a local address")));
                }
                a
            }
            None => self.source_for(h, dip, zone)?,
        };
        let (lookup, sip) = self.originate(dip, zone, Some(sip))?;
        let mut seg = vec![0u8; 8 + data.len()];
        let repr = UdpRepr { src_port: sport, dst_port: dst.port() };
        repr.emit_with_payload(sip, dip, data, &mut seg)
            .map_err(|e| StackError::new(Errno::EMSGSIZE, e.to_string()))?;
        match (sip, dip) {
            (IpAddr::V4(s4), IpAddr::V4(d4)) => {
                let ttl = self.sysctl.get(Knob::InetTtl) as u8;
                let p = crate::ipv4::Ipv4Send {
                    src: s4,
                    dst: d4,
                    protocol: protocol::UDP,
                    ttl,
                    dont_frag: false,
                };
                self.ipv4_send(&lookup, p, &seg, now)?;
            }
            (IpAddr::V6(s6), IpAddr::V6(d6)) => {
                let k = if d6.is_multicast() { Knob::Ip6DefMcastHlim } else { Knob::Ip6Hlim };
                let hop_limit = self.sysctl.get(k) as u8;
                // RFC 6437: a connected socket's datagrams to its peer are
                // one flow and carry its label (inet6(4) auto_flowlabel).
                let flow_label = if connected == Some(dst) {
                    self.flow_label(protocol::UDP, (s6, sport), (d6, dst.port()))
                } else {
                    0
                };
                let p = crate::ipv6::Ipv6Send {
                    src: s6,
                    dst: d6,
                    next_header: protocol::UDP,
                    hop_limit,
                    flow_label,
                };
                self.ipv6_send(&lookup, p, &seg, now)?;
            }
            _ => return Err(StackError::new(Errno::EAFNOSUPPORT, "source and destination families differ")),
        }
        self.drain_looped(now);
        Ok(data.len())
    }

    /// recvfrom(2): the next datagram, or EWOULDBLOCK; a pending ICMP error
    /// is returned first.
    pub fn udp_recv_from(&mut self, h: SocketHandle) -> StackResult<Datagram> {
        let s = self.sockets.get_mut(h).ok_or_else(|| StackError::new(Errno::EINVAL, "no such socket"))?;
        if let Some(e) = s.error.take() {
            return Err(StackError::new(e, "ICMP error from the peer's path"));
        }
        let d = s.rx.pop_front().ok_or_else(|| StackError::new(Errno::EWOULDBLOCK, "no datagram queued"))?;
        s.rx_bytes -= d.data.len();
        Ok(d)
    }

    /// Demultiplexes an arriving UDP datagram; answers port unreachable when
    /// no socket wants it (never for broadcast or multicast).
    pub(crate) fn udp_input(&mut self, ifindex: IfIndex, buf: &PacketBuf, offset: usize, now: Instant) {
        let Some((src, dst)) = crate::closed::ip_pair(buf.bytes()) else { return };
        let Some(seg) = buf.bytes().get(offset..) else { return };
        let Ok(udp) = UdpPacket::new_checked(seg) else {
            self.stats.inc(Counter::UdpsHdrops);
            return;
        };
        if udp.verify_checksum(src, dst).is_err() {
            self.stats.inc(Counter::UdpsBadsum);
            return;
        }
        let (sport, dport) = (udp.src_port(), udp.dst_port());
        match self.sockets.demux(Proto::Udp, dst, dport, src, sport, ifindex) {
            Some(h) => {
                let Some(s) = self.sockets.get_mut(h) else { return };
                let data = udp.payload();
                if s.rx_bytes + data.len() > s.rx_limit {
                    self.stats.inc(Counter::UdpsFullsock);
                    return;
                }
                let from_ip = map_for(s.family, src);
                let from = match from_ip {
                    IpAddr::V6(v6) => {
                        let scope = if addr::needs_zone(&v6) { ifindex.0 } else { 0 };
                        SocketAddr::V6(SocketAddrV6::new(v6, sport, 0, scope))
                    }
                    v4 => SocketAddr::new(v4, sport),
                };
                s.rx_bytes += data.len();
                s.rx.push_back(Datagram { data: data.to_vec(), from, to: map_for(s.family, dst), ifindex });
                self.stats.inc(Counter::UdpsDelivered);
            }
            None => {
                let multicast = match dst {
                    IpAddr::V4(d) => d.is_multicast() || d.is_broadcast(),
                    IpAddr::V6(d) => d.is_multicast(),
                };
                self.stats.inc(Counter::UdpsNoport);
                if multicast {
                    return;
                }
                match dst {
                    IpAddr::V4(_) => self.icmp4_error(ifindex, buf.bytes(), Icmp4Error::PortUnreachable, now),
                    IpAddr::V6(_) => self.icmp6_error(ifindex, buf.bytes(), Icmp6Error::Unreachable(4), now),
                }
            }
        }
    }

    /// An ICMP error quoting a UDP datagram we sent: a connected socket to that
    /// peer gets the matching errno (RFC 1122 §4.1.3.3).
    pub(crate) fn udp_icmp_error(
        &mut self,
        quoted_src: IpAddr,
        quoted_dst: IpAddr,
        udp_header: &[u8],
        errno: Errno,
    ) {
        if udp_header.len() < 4 {
            return;
        }
        let sport = u16::from_be_bytes([udp_header[0], udp_header[1]]);
        let dport = u16::from_be_bytes([udp_header[2], udp_header[3]]);
        // Only sockets connected to the quoted destination can match (the
        // port index finds them without walking the table).
        let handles: Vec<SocketHandle> = self
            .sockets
            .connected_to(Proto::Udp, sport, quoted_dst, dport)
            .filter(|(_, s)| {
                s.proto == Proto::Udp
                    && s.local
                        .is_some_and(|l| l.port == sport && (l.is_wildcard() || unmap(l.addr) == quoted_src))
                    && s.remote.is_some_and(|r| unmap(r.ip()) == quoted_dst && r.port() == dport)
            })
            .map(|(h, _)| h)
            .collect();
        for h in handles {
            if let Some(s) = self.sockets.get_mut(h) {
                s.error = Some(errno);
            }
        }
    }
}

/// The errno an ICMP error means for a transport socket.
pub(crate) fn errno_for(v6: bool, icmp_type: u8, code: u8) -> Option<Errno> {
    match (v6, icmp_type, code) {
        (false, 3, 2 | 3) | (true, 1, 4) => Some(Errno::ECONNREFUSED),
        (false, 3, 4) | (true, 2, _) => Some(Errno::EMSGSIZE),
        (false, 3, _) | (true, 1, _) => Some(Errno::EHOSTUNREACH),
        _ => None,
    }
}
