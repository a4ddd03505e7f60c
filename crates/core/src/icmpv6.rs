//! ICMPv6 (RFC 4443): echo, input of errors, ND/MLD dispatch, and error
//! origination with the rules of RFC 4443 §2.4 and the source rules of
//! DESIGN §3.

use crate::addr::{self, IfIndex};
use crate::buf::PacketBuf;
use crate::echo::EchoEvent;
use crate::icmp::Icmp6Error;
use crate::ipv6::Ipv6Send;

use crate::stack::Stack;
use crate::stats::Counter;
use crate::sysctl::Knob;
use crate::time::Instant;
use std::net::{IpAddr, Ipv6Addr};
use via6_wire::icmpv6::{
    Icmpv6DstUnreachable, Icmpv6Packet, Icmpv6ParamProblem, Icmpv6Repr, Icmpv6TimeExceeded,
};
use via6_wire::ip::protocol;
use via6_wire::Ipv6Packet;

/// RFC 4443 §2.4(c): an error is as large as fits in the minimum MTU.
const MIN_MTU: usize = 1280;

impl Stack {
    pub(crate) fn icmpv6_input(&mut self, ifindex: IfIndex, buf: &PacketBuf, offset: usize, now: Instant) {
        let Ok(ip) = Ipv6Packet::new_checked(buf.bytes()) else { return };
        let (src, dst, hlim) = (ip.src(), ip.dst(), ip.hop_limit());
        let Some(msg) = buf.bytes().get(offset..) else { return };
        let pkt = match Icmpv6Packet::new_checked(msg) {
            Ok(p) => p,
            Err(_) => {
                self.stats.inc(Counter::Icp6sTooshort);
                return;
            }
        };
        let repr = match Icmpv6Repr::parse(&pkt, src, dst) {
            Ok(r) => r,
            Err(via6_wire::Error::BadChecksum) => {
                self.stats.inc(Counter::Icp6sChecksum);
                return;
            }
            Err(_) => {
                self.stats.inc(Counter::Icp6sBadlen);
                return;
            }
        };
        self.stats.icmp6_inhist[usize::from(pkt.msg_type())] += 1;
        match repr {
            Icmpv6Repr::EchoRequest { ident, seq_no, data } => {
                // Answer unicast and multicast requests (RFC 4443 §4.2); from
                // the address asked when it is ours, else by RFC 6724.
                let from = if dst.is_multicast() { None } else { Some(dst) };
                let reply = Icmpv6Repr::EchoReply { ident, seq_no, data };
                self.stats.inc(Counter::Icp6sReflect);
                self.send_icmpv6(from, src, Some(ifindex), &reply, now);
            }
            Icmpv6Repr::EchoReply { ident, seq_no, data } => {
                let ev = EchoEvent::Reply {
                    from: IpAddr::V6(src),
                    seq: seq_no,
                    ttl: hlim,
                    len: data.len(),
                    at: now,
                };
                self.echo.deliver(ident, ev);
            }
            Icmpv6Repr::DstUnreachable { invoking, extensions, .. }
            | Icmpv6Repr::TimeExceeded { invoking, extensions, .. } => {
                self.icmpv6_error_input(src, pkt.msg_type(), pkt.msg_code(), invoking, extensions, None, now);
            }
            Icmpv6Repr::PacketTooBig { mtu, invoking } => {
                self.icmpv6_error_input(src, pkt.msg_type(), pkt.msg_code(), invoking, None, Some(mtu), now);
            }
            Icmpv6Repr::ParamProblem { invoking, .. } => {
                self.icmpv6_error_input(src, pkt.msg_type(), pkt.msg_code(), invoking, None, None, now);
            }
            Icmpv6Repr::Ndisc(nd) => self.nd_input(ifindex, src, dst, hlim, &nd, now),
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn icmpv6_error_input(
        &mut self,
        from: Ipv6Addr,
        icmp_type: u8,
        code: u8,
        invoking: &[u8],
        extensions: Option<&[u8]>,
        mtu: Option<u32>,
        now: Instant,
    ) {
        // The quoted packet is cut short: read the fixed header by hand.
        if invoking.len() < 48 || invoking[0] >> 4 != 6 {
            return;
        }
        let q = &invoking[40..];
        if invoking[6] == protocol::UDP {
            let mut a = [0u8; 16];
            a.copy_from_slice(&invoking[8..24]);
            let qsrc = IpAddr::V6(Ipv6Addr::from(a));
            a.copy_from_slice(&invoking[24..40]);
            let qdst = IpAddr::V6(Ipv6Addr::from(a));
            if let Some(errno) = crate::socket::errno_for(true, icmp_type, code) {
                self.udp_icmp_error(qsrc, qdst, q, errno);
            }
            return;
        }
        if invoking[6] == protocol::TCP {
            let qsrc = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&invoking[8..24]).unwrap_or([0; 16])));
            let qdst = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&invoking[24..40]).unwrap_or([0; 16])));
            self.tcp_icmp_error(qsrc, qdst, q, true, icmp_type, code, mtu, now);
            return;
        }
        if invoking[6] != protocol::ICMPV6 {
            return;
        }
        if q[0] != 128 {
            return;
        }
        let ident = u16::from_be_bytes([q[4], q[5]]);
        let seq = u16::from_be_bytes([q[6], q[7]]);
        let (ifname, ifindex) = crate::icmpv4::interface_info(extensions);
        let ev =
            EchoEvent::Error { from: IpAddr::V6(from), seq, icmp_type, code, mtu, ifname, ifindex, at: now };
        self.echo.deliver(ident, ev);
    }

    /// Sends an ICMPv6 message; `src` is chosen by RFC 6724 when `None`.
    pub(crate) fn send_icmpv6(
        &mut self,
        src: Option<Ipv6Addr>,
        dst: Ipv6Addr,
        zone: Option<IfIndex>,
        repr: &Icmpv6Repr<'_>,
        now: Instant,
    ) -> bool {
        let zone = if addr::needs_zone(&dst) { zone } else { None };
        let Ok((lookup, src)) = self.originate(IpAddr::V6(dst), zone, src.map(IpAddr::V6)) else {
            return false;
        };
        let IpAddr::V6(src) = src else { return false };
        self.send_icmpv6_via(&lookup, src, dst, repr, None, now)
    }

    /// Sends an ICMPv6 message over a known route; `hop_limit` defaults to
    /// `ip6.hlim`.
    pub(crate) fn send_icmpv6_via(
        &mut self,
        lookup: &crate::output::RouteLookup,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        repr: &Icmpv6Repr<'_>,
        hop_limit: Option<u8>,
        now: Instant,
    ) -> bool {
        let mut msg = vec![0u8; repr.buffer_len()];
        if repr.emit(src, dst, &mut msg).is_err() {
            return false;
        }
        let hop_limit = hop_limit.unwrap_or(self.sysctl.get(Knob::Ip6Hlim) as u8);
        let p = Ipv6Send { src, dst, next_header: protocol::ICMPV6, hop_limit, flow_label: 0 };
        if self.ipv6_send(lookup, p, &msg, now).is_ok() {
            self.stats.icmp6_outhist[usize::from(msg[0])] += 1;
            true
        } else {
            false
        }
    }

    /// Originates an ICMPv6 error about `offending`, obeying RFC 4443 §2.4.
    pub(crate) fn icmp6_error(&mut self, in_if: IfIndex, offending: &[u8], err: Icmp6Error, now: Instant) {
        self.stats.inc(Counter::Icp6sError);
        let Ok(ip) = Ipv6Packet::new_checked(offending) else { return };
        let (src, dst) = (ip.src(), ip.dst());
        // §2.4(e): never about an ICMPv6 error or a redirect; never to a
        // multicast destination except Packet Too Big and the option case of
        // Parameter Problem; never to an unspecified or multicast source.
        let mut chain = via6_wire::Ipv6ExtChain::from_packet(&ip);
        let upper = chain.find_map(|e| match e {
            Ok(via6_wire::ChainEntry::Upper(u)) => Some(u),
            _ => None,
        });
        if let Some(u) = upper {
            if u.protocol == protocol::ICMPV6 && !u.fragment_data {
                let t = u.payload.first().copied().unwrap_or(0);
                if t < 128 || t == 137 {
                    self.stats.inc(Counter::Icp6sCanterror);
                    return;
                }
            }
        }
        let multicast_ok =
            matches!(err, Icmp6Error::PacketTooBig(_) | Icmp6Error::ParamProblem { code: 2, .. });
        if (dst.is_multicast() && !multicast_ok) || src.is_unspecified() || src.is_multicast() {
            return;
        }
        if !self.icmp_limit6.allow(now, self.sysctl.get(Knob::Icmp6ErrPpsLimit)) {
            self.stats.inc(Counter::Icp6sToofreq);
            return;
        }
        let zone = addr::needs_zone(&src).then_some(in_if);
        let Ok(back) = self.route_lookup(IpAddr::V6(src), zone) else { return };
        let Some(source) = self.icmp6_error_source(&back, &src, &dst) else { return };
        let ext = match err {
            Icmp6Error::Unreachable(_) | Icmp6Error::HopLimitExceeded
                if self.sysctl.on(Knob::Icmp6ExtIfinfo) =>
            {
                self.ifinfo_extension(in_if, false)
            }
            _ => None,
        };
        // With extensions the quoted packet is zero-padded to a multiple of
        // 8 octets (RFC 4884 §4.2): cut it to a multiple of 8 so the padding
        // cannot push the error past the minimum MTU.
        let room = match &ext {
            Some(e) => (MIN_MTU - 40 - 8 - e.len()) & !7,
            None => MIN_MTU - 40 - 8,
        };
        let invoking = &offending[..offending.len().min(room)];
        let extensions = ext.as_deref();
        let repr = match err {
            Icmp6Error::Unreachable(code) => Icmpv6Repr::DstUnreachable {
                reason: Icmpv6DstUnreachable::from_code(code),
                invoking,
                extensions,
            },
            Icmp6Error::PacketTooBig(mtu) => Icmpv6Repr::PacketTooBig { mtu, invoking },
            Icmp6Error::HopLimitExceeded | Icmp6Error::ReassemblyTimeout => Icmpv6Repr::TimeExceeded {
                reason: Icmpv6TimeExceeded::from_code(err.type_code().1),
                invoking,
                extensions,
            },
            Icmp6Error::ParamProblem { code, pointer } => {
                Icmpv6Repr::ParamProblem { reason: Icmpv6ParamProblem::from_code(code), pointer, invoking }
            }
        };
        self.send_icmpv6_via(&back, source, src, &repr, None, now);
    }

    /// DESIGN §3, ICMPv6 errors: the return route's `src`; else the address
    /// the offending packet was sent to when it is ours and unicast; else RFC
    /// 6724 towards the offending source (a link-local source gets a
    /// link-local answer on that link).
    fn icmp6_error_source(
        &self,
        back: &crate::output::RouteLookup,
        offending_src: &Ipv6Addr,
        offending_dst: &Ipv6Addr,
    ) -> Option<Ipv6Addr> {
        if let Some(IpAddr::V6(s)) = back.route.src {
            if self.is_local_address(IpAddr::V6(s)) {
                return Some(s);
            }
        }
        if !offending_dst.is_multicast() && self.is_local_address(IpAddr::V6(*offending_dst)) {
            return Some(*offending_dst);
        }
        match self.select_source(IpAddr::V6(*offending_src), back).ok()?.addr {
            IpAddr::V6(a) => Some(a),
            IpAddr::V4(_) => None,
        }
    }
}
