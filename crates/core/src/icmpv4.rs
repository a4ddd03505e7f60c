//! ICMPv4 (RFC 792, RFC 1122 §3.2.2, RFC 1812 §4.3): echo, input of errors,
//! and error origination with the source rules of DESIGN §3 (ending in
//! 192.0.0.8) and optional RFC 5837 interface information.

use crate::addr::IfIndex;
use crate::buf::PacketBuf;
use crate::echo::EchoEvent;
use crate::icmp::Icmp4Error;
use crate::ipv4::Ipv4Send;
use crate::srcsel;
use crate::stack::Stack;
use crate::stats::Counter;
use crate::sysctl::Knob;
use crate::time::Instant;
use std::net::{IpAddr, Ipv4Addr};
use via6_wire::icmp_ext::{emit_extension, IcmpExtObject, IcmpExtension, InterfaceInfo, InterfaceRole};
use via6_wire::icmpv4::{Icmpv4DstUnreachable, Icmpv4Packet, Icmpv4Repr, Icmpv4TimeExceeded};
use via6_wire::ip::protocol;
use via6_wire::Ipv4Packet;

/// RFC 1812 §4.3.2.3: an error datagram never exceeds 576 bytes.
const MAX_ERROR_LEN: usize = 576;

/// Whether an ICMPv4 type is an error message (RFC 1812 §4.3.2.7).
fn is_error_type(t: u8) -> bool {
    matches!(t, 3 | 4 | 5 | 11 | 12)
}

impl Stack {
    pub(crate) fn icmpv4_input(&mut self, _ifindex: IfIndex, buf: &PacketBuf, hlen: usize, now: Instant) {
        let Ok(ip) = Ipv4Packet::new_checked(buf.bytes()) else { return };
        let (src, dst, ttl) = (ip.src(), ip.dst(), ip.ttl());
        let Some(msg) = buf.bytes().get(hlen..) else { return };
        let pkt = match Icmpv4Packet::new_checked(msg) {
            Ok(p) => p,
            Err(_) => {
                self.stats.inc(Counter::IcpsTooshort);
                return;
            }
        };
        let repr = match Icmpv4Repr::parse(&pkt) {
            Ok(r) => r,
            Err(via6_wire::Error::BadChecksum) => {
                self.stats.inc(Counter::IcpsChecksum);
                return;
            }
            Err(_) => {
                self.stats.inc(Counter::IcpsBadcode);
                return;
            }
        };
        self.stats.icmp_inhist[usize::from(pkt.msg_type())] += 1;
        match repr {
            Icmpv4Repr::EchoRequest { ident, seq_no, data } => {
                if dst.is_broadcast() || dst.is_multicast() || !self.is_local_address(IpAddr::V4(dst)) {
                    // FreeBSD net.inet.icmp.bmcastecho=0.
                    self.stats.inc(Counter::IcpsBmcastecho);
                    return;
                }
                let reply = Icmpv4Repr::EchoReply { ident, seq_no, data };
                self.stats.inc(Counter::IcpsReflect);
                self.send_icmpv4(dst, src, &reply, now);
            }
            Icmpv4Repr::EchoReply { ident, seq_no, data } => {
                let ev =
                    EchoEvent::Reply { from: IpAddr::V4(src), seq: seq_no, ttl, len: data.len(), at: now };
                self.echo.deliver(ident, ev);
            }
            Icmpv4Repr::DstUnreachable { invoking, extensions, .. }
            | Icmpv4Repr::TimeExceeded { invoking, extensions, .. }
            | Icmpv4Repr::ParamProblem { invoking, extensions, .. } => {
                let mtu = match repr {
                    Icmpv4Repr::DstUnreachable {
                        reason: Icmpv4DstUnreachable::FragNeeded { next_hop_mtu },
                        ..
                    } => Some(u32::from(next_hop_mtu)),
                    _ => None,
                };
                self.icmpv4_error_input(src, pkt.msg_type(), pkt.msg_code(), invoking, extensions, mtu, now);
            }
            _ => {}
        }
    }

    /// An error quoting one of our packets: hand it to the echo socket (and,
    /// later, the transport) that sent the quoted packet.
    #[allow(clippy::too_many_arguments)]
    fn icmpv4_error_input(
        &mut self,
        from: Ipv4Addr,
        icmp_type: u8,
        code: u8,
        invoking: &[u8],
        extensions: Option<&[u8]>,
        mtu: Option<u32>,
        now: Instant,
    ) {
        // The quoted datagram is cut short, so no checked view: read the
        // fixed header fields by hand.
        if invoking.len() < 20 || invoking[0] >> 4 != 4 {
            return;
        }
        let hlen = usize::from(invoking[0] & 0x0f) * 4;
        let quoted = invoking.get(hlen..).unwrap_or(&[]);
        if invoking[9] == protocol::UDP {
            let qsrc = IpAddr::V4(Ipv4Addr::new(invoking[12], invoking[13], invoking[14], invoking[15]));
            let qdst = IpAddr::V4(Ipv4Addr::new(invoking[16], invoking[17], invoking[18], invoking[19]));
            if let Some(errno) = crate::socket::errno_for(false, icmp_type, code) {
                self.udp_icmp_error(qsrc, qdst, quoted, errno);
            }
            return;
        }
        if invoking[9] == protocol::TCP {
            let qsrc = IpAddr::V4(Ipv4Addr::new(invoking[12], invoking[13], invoking[14], invoking[15]));
            let qdst = IpAddr::V4(Ipv4Addr::new(invoking[16], invoking[17], invoking[18], invoking[19]));
            self.tcp_icmp_error(qsrc, qdst, quoted, false, icmp_type, code, mtu, now);
            return;
        }
        if invoking[9] != protocol::ICMP {
            return;
        }
        if quoted.len() < 8 || quoted[0] != 8 {
            return;
        }
        let ident = u16::from_be_bytes([quoted[4], quoted[5]]);
        let seq = u16::from_be_bytes([quoted[6], quoted[7]]);
        let (ifname, ifindex) = interface_info(extensions);
        let ev =
            EchoEvent::Error { from: IpAddr::V4(from), seq, icmp_type, code, mtu, ifname, ifindex, at: now };
        self.echo.deliver(ident, ev);
    }

    /// Sends an ICMPv4 message from `src` to `dst`.
    pub(crate) fn send_icmpv4(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        repr: &Icmpv4Repr<'_>,
        now: Instant,
    ) -> bool {
        let Ok(lookup) = self.route_lookup(IpAddr::V4(dst), None) else { return false };
        let mut msg = vec![0u8; repr.buffer_len()];
        if repr.emit(&mut msg).is_err() {
            return false;
        }
        let ttl = self.sysctl.get(Knob::InetTtl) as u8;
        let p = Ipv4Send { src, dst, protocol: protocol::ICMP, ttl, dont_frag: false };
        if self.ipv4_send(&lookup, p, &msg, now).is_ok() {
            self.stats.icmp_outhist[usize::from(msg[0])] += 1;
            true
        } else {
            false
        }
    }

    /// Originates an ICMPv4 error about `offending` (an IPv4 packet that
    /// arrived on `in_if`), obeying RFC 1812 §4.3.2.7 and the rate limit.
    pub(crate) fn icmp4_error(&mut self, in_if: IfIndex, offending: &[u8], err: Icmp4Error, now: Instant) {
        self.stats.inc(Counter::IcpsError);
        let Ok(ip) = Ipv4Packet::new_checked(offending) else { return };
        let (src, dst) = (ip.src(), ip.dst());
        // RFC 1812 §4.3.2.7: never about an ICMP error, a non-first fragment,
        // a broadcast or multicast, or a source that is not a unique host.
        if ip.protocol() == protocol::ICMP {
            let t = ip.payload().first().copied().unwrap_or(0);
            if is_error_type(t) {
                self.stats.inc(Counter::IcpsOldicmp);
                return;
            }
        }
        if ip.frag_offset() != 0
            || dst.is_multicast()
            || dst.is_broadcast()
            || src.is_unspecified()
            || src.is_multicast()
            || src.is_broadcast()
            || src.is_loopback() && !self.interface(in_if).is_some_and(|i| i.is_loopback())
            || src.octets()[0] >= 240
        {
            return;
        }
        if !self.icmp_limit4.allow(now, self.sysctl.get(Knob::IcmpIcmpLim)) {
            self.stats.inc(Counter::IcpsToofreq);
            return;
        }
        let Ok(back) = self.route_lookup(IpAddr::V4(src), None) else { return };
        let view = self.route_view_v4(&back);
        let source = srcsel::v4::select_icmp_error(&self.ifaces, dst, Some(&view), src).addr;
        let ext = match err {
            Icmp4Error::TtlExceeded
            | Icmp4Error::NetUnreachable
            | Icmp4Error::HostUnreachable
            | Icmp4Error::FragNeeded(_)
                if self.sysctl.on(Knob::IcmpExtIfinfo) =>
            {
                self.ifinfo_extension(in_if, true)
            }
            _ => None,
        };
        let room = MAX_ERROR_LEN - 20 - 8 - ext.as_ref().map_or(0, Vec::len);
        let invoking = &offending[..offending.len().min(room).min(ip.total_len() as usize)];
        let extensions = ext.as_deref();
        let repr = match err {
            Icmp4Error::NetUnreachable
            | Icmp4Error::HostUnreachable
            | Icmp4Error::ProtoUnreachable
            | Icmp4Error::PortUnreachable
            | Icmp4Error::SourceRouteFailed
            | Icmp4Error::FragNeeded(_) => {
                let mtu = if let Icmp4Error::FragNeeded(m) = err { m.min(65535) as u16 } else { 0 };
                let reason = Icmpv4DstUnreachable::from_code(err.type_code().1, mtu);
                Icmpv4Repr::DstUnreachable { reason, invoking, extensions }
            }
            Icmp4Error::TtlExceeded | Icmp4Error::ReassemblyTimeout => Icmpv4Repr::TimeExceeded {
                reason: Icmpv4TimeExceeded::from_code(err.type_code().1),
                invoking,
                extensions,
            },
            Icmp4Error::ParamProblem(pointer) => {
                Icmpv4Repr::ParamProblem { code: 0, pointer, invoking, extensions }
            }
            Icmp4Error::RedirectHost(gateway) => Icmpv4Repr::Redirect { code: 1, gateway, invoking },
        };
        self.send_icmpv4(source, src, &repr, now);
    }

    /// An RFC 4884 extension structure holding one RFC 5837 Interface
    /// Information Object for the incoming interface: ifIndex, its address of
    /// the family (if any), name and MTU — so a traceroute can tell routers
    /// apart even when they all answer from 192.0.0.8.
    pub(crate) fn ifinfo_extension(&self, in_if: IfIndex, v4: bool) -> Option<Vec<u8>> {
        let iface = self.interface(in_if)?;
        let addr = iface.usable_addrs().map(|a| a.addr).find(|a| a.is_ipv4() == v4 && !a.is_loopback());
        let info = InterfaceInfo {
            role: InterfaceRole::Incoming,
            if_index: Some(in_if.0),
            addr,
            name: Some(iface.name.as_bytes()),
            mtu: Some(iface.mtu),
        };
        let mut obj = vec![0u8; info.buffer_len()];
        info.emit(&mut obj).ok()?;
        let o = IcmpExtObject { class_num: obj[2], c_type: obj[3], payload: &obj[4..] };
        let mut ext = vec![0u8; via6_wire::icmp_ext::extension_len(&[o])];
        emit_extension(&[o], &mut ext).ok()?;
        Some(ext)
    }
}

/// The RFC 5837 interface name and index in an error's extensions, if any.
pub(crate) fn interface_info(extensions: Option<&[u8]>) -> (Option<String>, Option<u32>) {
    let Some(ext) = extensions.and_then(|e| IcmpExtension::new_checked(e).ok()) else { return (None, None) };
    for obj in ext.objects() {
        if let Ok(info) = InterfaceInfo::parse(&obj) {
            return (info.name_str().map(str::to_string), info.if_index);
        }
    }
    (None, None)
}
