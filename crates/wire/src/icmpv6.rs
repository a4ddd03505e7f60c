//! ICMP for IPv6 (RFC 4443) with RFC 4884 multi-part extensions, Neighbor
//! Discovery ([`crate::ndisc`]) and MLD ([`crate::mld`]). The checksum covers
//! the IPv6 pseudo-header (RFC 4443 §2.3, RFC 8200 §8.1).

use crate::checksum::pseudo_header_v6;
use crate::error::{Error, Result};
use crate::field::{read_u16, read_u32, write_u16, write_u32};
use crate::icmp_ext::{emit_multipart, multipart_layout, split_multipart};
use crate::ip::protocol;
use crate::mld::{self, MldRepr};
use crate::ndisc::{self, NdiscRepr};
use std::net::Ipv6Addr;

/// ICMPv6 error and informational types (RFC 4443 §2.1).
pub mod msg_type {
    /// Destination Unreachable (RFC 4443 §3.1).
    pub const DST_UNREACHABLE: u8 = 1;
    /// Packet Too Big (RFC 4443 §3.2).
    pub const PACKET_TOO_BIG: u8 = 2;
    /// Time Exceeded (RFC 4443 §3.3).
    pub const TIME_EXCEEDED: u8 = 3;
    /// Parameter Problem (RFC 4443 §3.4).
    pub const PARAM_PROBLEM: u8 = 4;
    /// Echo Request (RFC 4443 §4.1).
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo Reply (RFC 4443 §4.2).
    pub const ECHO_REPLY: u8 = 129;
}

/// The fixed header length.
pub const HEADER_LEN: usize = 8;

/// Octets in the RFC 4884 length unit for ICMPv6 (64-bit words, §4.2).
const LEN_UNIT: usize = 8;

crate::icmp_header::icmp_header_view!(
    Icmpv6Packet,
    "A checked view of an ICMPv6 message (at least the 8-octet header)."
);

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// The RFC 4884 length field (octet 4) in 64-bit words.
    pub fn ext_length(&self) -> u8 {
        self.buffer.as_ref()[4]
    }

    /// Whether the checksum over the pseudo-header and message verifies.
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        let b = self.buffer.as_ref();
        match u32::try_from(b.len()) {
            Ok(len) => pseudo_header_v6(src, dst, protocol::ICMPV6, len).add_bytes(b).sum() == 0xffff,
            Err(_) => false,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    /// Computes and stores the checksum (RFC 4443 §2.3).
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let b = self.buffer.as_ref();
        let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
        let c = pseudo_header_v6(src, dst, protocol::ICMPV6, len).add_bytes(b).finish();
        self.set_checksum(c);
    }
}

/// Destination Unreachable codes (RFC 4443 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv6DstUnreachable {
    /// 0: no route to destination.
    NoRoute,
    /// 1: communication administratively prohibited.
    AdminProhibited,
    /// 2: beyond scope of source address.
    BeyondScope,
    /// 3: address unreachable.
    AddrUnreachable,
    /// 4: port unreachable.
    PortUnreachable,
    /// 5: source address failed ingress/egress policy.
    SrcAddrFailedPolicy,
    /// 6: reject route to destination.
    RejectRoute,
    /// Any other code.
    Other(u8),
}

impl Icmpv6DstUnreachable {
    /// The typed code.
    pub fn from_code(code: u8) -> Self {
        use Icmpv6DstUnreachable::*;
        match code {
            0 => NoRoute,
            1 => AdminProhibited,
            2 => BeyondScope,
            3 => AddrUnreachable,
            4 => PortUnreachable,
            5 => SrcAddrFailedPolicy,
            6 => RejectRoute,
            c => Other(c),
        }
    }

    /// The code octet.
    pub fn code(&self) -> u8 {
        use Icmpv6DstUnreachable::*;
        match *self {
            NoRoute => 0,
            AdminProhibited => 1,
            BeyondScope => 2,
            AddrUnreachable => 3,
            PortUnreachable => 4,
            SrcAddrFailedPolicy => 5,
            RejectRoute => 6,
            Other(c) => c,
        }
    }
}

/// Time Exceeded codes (RFC 4443 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv6TimeExceeded {
    /// 0: hop limit exceeded in transit.
    HopLimitExceeded,
    /// 1: fragment reassembly time exceeded.
    FragReassembly,
    /// Any other code.
    Other(u8),
}

impl Icmpv6TimeExceeded {
    /// The typed code.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => Self::HopLimitExceeded,
            1 => Self::FragReassembly,
            c => Self::Other(c),
        }
    }

    /// The code octet.
    pub fn code(&self) -> u8 {
        match *self {
            Self::HopLimitExceeded => 0,
            Self::FragReassembly => 1,
            Self::Other(c) => c,
        }
    }
}

/// Parameter Problem codes (RFC 4443 §3.4, RFC 7112 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv6ParamProblem {
    /// 0: erroneous header field encountered.
    ErroneousHeaderField,
    /// 1: unrecognized Next Header type.
    UnrecognizedNextHeader,
    /// 2: unrecognized IPv6 option.
    UnrecognizedOption,
    /// 3: IPv6 first fragment has incomplete header chain (RFC 7112).
    IncompleteHeaderChain,
    /// Any other code.
    Other(u8),
}

impl Icmpv6ParamProblem {
    /// The typed code.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => Self::ErroneousHeaderField,
            1 => Self::UnrecognizedNextHeader,
            2 => Self::UnrecognizedOption,
            3 => Self::IncompleteHeaderChain,
            c => Self::Other(c),
        }
    }

    /// The code octet.
    pub fn code(&self) -> u8 {
        match *self {
            Self::ErroneousHeaderField => 0,
            Self::UnrecognizedNextHeader => 1,
            Self::UnrecognizedOption => 2,
            Self::IncompleteHeaderChain => 3,
            Self::Other(c) => c,
        }
    }
}

/// The fields of an ICMPv6 message. Error messages borrow the invoking packet
/// ("as much of invoking packet as possible", RFC 4443 §3) and, with RFC 4884,
/// the raw extension structure (parse it with
/// [`crate::icmp_ext::IcmpExtension`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv6Repr<'a> {
    /// Echo Request (type 128, code 0; RFC 4443 §4.1).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Echo Reply (type 129, code 0; RFC 4443 §4.2).
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Destination Unreachable (type 1; RFC 4443 §3.1, RFC 4884 §4.2).
    DstUnreachable {
        /// The code.
        reason: Icmpv6DstUnreachable,
        /// The original datagram field (with its RFC 4884 padding).
        invoking: &'a [u8],
        /// The raw RFC 4884 extension structure.
        extensions: Option<&'a [u8]>,
    },
    /// Packet Too Big (type 2; RFC 4443 §3.2). The code is ignored on receipt
    /// and sent as 0.
    PacketTooBig {
        /// The MTU of the next-hop link.
        mtu: u32,
        /// The invoking packet.
        invoking: &'a [u8],
    },
    /// Time Exceeded (type 3; RFC 4443 §3.3, RFC 4884 §4.2).
    TimeExceeded {
        /// The code.
        reason: Icmpv6TimeExceeded,
        /// The original datagram field.
        invoking: &'a [u8],
        /// The raw RFC 4884 extension structure.
        extensions: Option<&'a [u8]>,
    },
    /// Parameter Problem (type 4; RFC 4443 §3.4).
    ParamProblem {
        /// The code.
        reason: Icmpv6ParamProblem,
        /// Octet offset of the error within the invoking packet.
        pointer: u32,
        /// The invoking packet.
        invoking: &'a [u8],
    },
    /// Neighbor Discovery (types 133..=137 with code 0; RFC 4861 §4).
    Ndisc(NdiscRepr<'a>),
    /// MLD (types 130, 131, 132, 143, any code; RFC 2710, RFC 3810).
    Mld(MldRepr<'a>),
    /// Any other message (and echo / ND with a non-zero code).
    Other {
        /// Type.
        msg_type: u8,
        /// Code.
        code: u8,
        /// Octets 4..8.
        rest: u32,
        /// Everything after the header.
        data: &'a [u8],
    },
}

impl<'a> Icmpv6Repr<'a> {
    /// Parses a checked message whose checksum verifies against the pseudo
    /// header of `src`/`dst` (else `BadChecksum`). An RFC 4884 length under
    /// 128 octets or past the end is `BadLength("length")`; ND and MLD errors
    /// come from [`NdiscRepr::parse`] and [`MldRepr::parse`].
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Icmpv6Packet<&'a T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<Self> {
        if !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        let msg = packet.buffer.as_ref();
        let body = &msg[HEADER_LEN..];
        let code = packet.msg_code();
        Ok(match (packet.msg_type(), code) {
            (msg_type::ECHO_REQUEST, 0) => Icmpv6Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data: body,
            },
            (msg_type::ECHO_REPLY, 0) => {
                Icmpv6Repr::EchoReply { ident: packet.echo_ident(), seq_no: packet.echo_seq_no(), data: body }
            }
            (msg_type::DST_UNREACHABLE, _) => {
                let (invoking, extensions) = split_multipart(body, packet.ext_length(), LEN_UNIT)?;
                Icmpv6Repr::DstUnreachable {
                    reason: Icmpv6DstUnreachable::from_code(code),
                    invoking,
                    extensions,
                }
            }
            (msg_type::PACKET_TOO_BIG, _) => {
                Icmpv6Repr::PacketTooBig { mtu: packet.rest_of_header(), invoking: body }
            }
            (msg_type::TIME_EXCEEDED, _) => {
                let (invoking, extensions) = split_multipart(body, packet.ext_length(), LEN_UNIT)?;
                Icmpv6Repr::TimeExceeded { reason: Icmpv6TimeExceeded::from_code(code), invoking, extensions }
            }
            (msg_type::PARAM_PROBLEM, _) => Icmpv6Repr::ParamProblem {
                reason: Icmpv6ParamProblem::from_code(code),
                pointer: packet.rest_of_header(),
                invoking: body,
            },
            (ndisc::msg_type::ROUTER_SOLICIT..=ndisc::msg_type::REDIRECT, 0) => {
                Icmpv6Repr::Ndisc(NdiscRepr::parse(msg)?)
            }
            (
                mld::msg_type::QUERY
                | mld::msg_type::REPORT_V1
                | mld::msg_type::DONE
                | mld::msg_type::REPORT_V2,
                _,
            ) => Icmpv6Repr::Mld(MldRepr::parse(msg)?),
            (t, c) => Icmpv6Repr::Other { msg_type: t, code: c, rest: packet.rest_of_header(), data: body },
        })
    }

    /// (total length, RFC 4884 length field).
    fn layout(&self) -> Result<(usize, u8)> {
        Ok(match *self {
            Icmpv6Repr::EchoRequest { data, .. }
            | Icmpv6Repr::EchoReply { data, .. }
            | Icmpv6Repr::Other { data, .. }
            | Icmpv6Repr::PacketTooBig { invoking: data, .. }
            | Icmpv6Repr::ParamProblem { invoking: data, .. } => (HEADER_LEN + data.len(), 0),
            Icmpv6Repr::DstUnreachable { invoking, extensions, .. }
            | Icmpv6Repr::TimeExceeded { invoking, extensions, .. } => {
                let (padded, words) = multipart_layout(invoking, extensions, LEN_UNIT)?;
                (HEADER_LEN + padded + extensions.map_or(0, <[u8]>::len), words)
            }
            Icmpv6Repr::Ndisc(n) => (n.buffer_len(), 0),
            Icmpv6Repr::Mld(m) => (m.buffer_len(), 0),
        })
    }

    /// The total message length [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        self.layout().map_or(0, |(n, _)| n)
    }

    /// The header length (always 8).
    pub fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the message (padding the original datagram field per RFC 4884
    /// §4.2 when extensions are present: a multiple of 8, at least 128
    /// octets, at most 2040) and fills the checksum over the pseudo-header.
    pub fn emit(&self, src: Ipv6Addr, dst: Ipv6Addr, buf: &mut [u8]) -> Result<usize> {
        let (len, words) = self.layout()?;
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        let msg_len = u32::try_from(len).map_err(|_| Error::BadLength("message length"))?;
        let buf = &mut buf[..len];
        match *self {
            Icmpv6Repr::Ndisc(n) => {
                n.emit(buf)?;
            }
            Icmpv6Repr::Mld(m) => {
                m.emit(buf)?;
            }
            _ => {
                let (t, c, rest) = match *self {
                    Icmpv6Repr::EchoRequest { ident, seq_no, .. } => {
                        (msg_type::ECHO_REQUEST, 0, (u32::from(ident) << 16) | u32::from(seq_no))
                    }
                    Icmpv6Repr::EchoReply { ident, seq_no, .. } => {
                        (msg_type::ECHO_REPLY, 0, (u32::from(ident) << 16) | u32::from(seq_no))
                    }
                    Icmpv6Repr::DstUnreachable { reason, .. } => {
                        (msg_type::DST_UNREACHABLE, reason.code(), u32::from(words) << 24)
                    }
                    Icmpv6Repr::PacketTooBig { mtu, .. } => (msg_type::PACKET_TOO_BIG, 0, mtu),
                    Icmpv6Repr::TimeExceeded { reason, .. } => {
                        (msg_type::TIME_EXCEEDED, reason.code(), u32::from(words) << 24)
                    }
                    Icmpv6Repr::ParamProblem { reason, pointer, .. } => {
                        (msg_type::PARAM_PROBLEM, reason.code(), pointer)
                    }
                    Icmpv6Repr::Other { msg_type, code, rest, .. } => (msg_type, code, rest),
                    Icmpv6Repr::Ndisc(_) | Icmpv6Repr::Mld(_) => (0, 0, 0),
                };
                buf[0] = t;
                buf[1] = c;
                write_u32(buf, 4, rest);
                match *self {
                    Icmpv6Repr::DstUnreachable { invoking, extensions, .. }
                    | Icmpv6Repr::TimeExceeded { invoking, extensions, .. } => {
                        let padded = len - HEADER_LEN - extensions.map_or(0, <[u8]>::len);
                        emit_multipart(&mut buf[HEADER_LEN..], invoking, extensions, padded);
                    }
                    Icmpv6Repr::EchoRequest { data, .. }
                    | Icmpv6Repr::EchoReply { data, .. }
                    | Icmpv6Repr::Other { data, .. }
                    | Icmpv6Repr::PacketTooBig { invoking: data, .. }
                    | Icmpv6Repr::ParamProblem { invoking: data, .. } => {
                        buf[HEADER_LEN..].copy_from_slice(data)
                    }
                    Icmpv6Repr::Ndisc(_) | Icmpv6Repr::Mld(_) => {}
                }
            }
        }
        write_u16(buf, 2, 0);
        let c = pseudo_header_v6(src, dst, protocol::ICMPV6, msg_len).add_bytes(buf).finish();
        write_u16(buf, 2, c);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ndisc::RaFlags;
    use proptest::prelude::*;

    const SRC: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    const DST: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);

    fn fix(mut v: Vec<u8>) -> Vec<u8> {
        let mut p = Icmpv6Packet::new_checked(&mut v[..]).unwrap();
        p.fill_checksum(SRC, DST);
        v
    }

    #[test]
    fn known_echo_request() {
        // fe80::1 -> fe80::2, echo request id 0x1234 seq 1, data "abcd";
        // checksum worked by hand: pseudo-header 0xfd4a + message 0x56fc = 0x5447.
        let v = vec![128, 0, 0xab, 0xb8, 0x12, 0x34, 0, 1, b'a', b'b', b'c', b'd'];
        assert_eq!(fix(v.clone()), v);
        let p = Icmpv6Packet::new_checked(&v[..]).unwrap();
        assert!(p.verify_checksum(SRC, DST));
        assert!(!p.verify_checksum(DST, DST));
        assert_eq!((p.msg_type(), p.msg_code(), p.echo_ident(), p.echo_seq_no()), (128, 0, 0x1234, 1));
        let r = Icmpv6Repr::parse(&p, SRC, DST).unwrap();
        assert_eq!(r, Icmpv6Repr::EchoRequest { ident: 0x1234, seq_no: 1, data: b"abcd" });
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(SRC, DST, &mut out).unwrap();
        assert_eq!(out, v);
        assert_eq!(r.emit(SRC, DST, &mut [0u8; 4]).unwrap_err(), Error::BufferTooSmall);
    }

    #[test]
    fn setters() {
        let mut v = [0u8; 12];
        let mut p = Icmpv6Packet::new_checked(&mut v[..]).unwrap();
        p.set_msg_type(2);
        p.set_msg_code(0);
        p.set_rest_of_header(1280);
        p.payload_mut()[0] = 0x60;
        p.fill_checksum(SRC, DST);
        assert!(p.verify_checksum(SRC, DST));
        let r = Icmpv6Repr::parse(&Icmpv6Packet::new_checked(&v[..]).unwrap(), SRC, DST).unwrap();
        assert_eq!(r, Icmpv6Repr::PacketTooBig { mtu: 1280, invoking: &[0x60, 0, 0, 0] });
    }

    #[test]
    fn dispatches_ndisc_and_mld() {
        let ra = fix(vec![134, 0, 0, 0, 64, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 0]);
        let p = Icmpv6Packet::new_checked(&ra[..]).unwrap();
        assert!(matches!(
            Icmpv6Repr::parse(&p, SRC, DST).unwrap(),
            Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert { router_lifetime: 30, .. })
        ));
        let mut bad = ra.clone();
        bad[1] = 1;
        let bad = fix(bad);
        let p = Icmpv6Packet::new_checked(&bad[..]).unwrap();
        assert!(matches!(
            Icmpv6Repr::parse(&p, SRC, DST).unwrap(),
            Icmpv6Repr::Other { msg_type: 134, code: 1, .. }
        ));
        let done = fix([[132u8, 0, 0, 0, 0, 0, 0, 0].as_slice(), &[0xff; 16]].concat());
        let p = Icmpv6Packet::new_checked(&done[..]).unwrap();
        assert_eq!(
            Icmpv6Repr::parse(&p, SRC, DST).unwrap(),
            Icmpv6Repr::Mld(MldRepr::Done { mcast_addr: Ipv6Addr::from([0xff; 16]) })
        );
    }

    #[test]
    fn short_header_is_truncated() {
        assert_eq!(Icmpv6Packet::new_checked(&[128u8; 7][..]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn bad_checksum_is_bad_checksum() {
        let mut v = fix(vec![129, 0, 0, 0, 0, 1, 0, 2]);
        v[7] ^= 0x10;
        let p = Icmpv6Packet::new_checked(&v[..]).unwrap();
        assert_eq!(Icmpv6Repr::parse(&p, SRC, DST).unwrap_err(), Error::BadChecksum);
    }

    #[test]
    fn lying_rfc4884_length_is_bad_length() {
        let mut v = vec![1, 4, 0, 0, 20, 0, 0, 0];
        v.extend_from_slice(&[0x60; 48]);
        let v = fix(v);
        let p = Icmpv6Packet::new_checked(&v[..]).unwrap();
        assert_eq!(Icmpv6Repr::parse(&p, SRC, DST).unwrap_err(), Error::BadLength("length"));
    }

    #[test]
    fn truncated_ndisc_is_truncated() {
        let v = fix(vec![135, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0x80]);
        let p = Icmpv6Packet::new_checked(&v[..]).unwrap();
        assert_eq!(Icmpv6Repr::parse(&p, SRC, DST).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn time_exceeded_with_extensions() {
        let ext = [0x20, 0, 0xdf, 0xff];
        let r = Icmpv6Repr::TimeExceeded {
            reason: Icmpv6TimeExceeded::HopLimitExceeded,
            invoking: &[0x60; 130],
            extensions: Some(&ext),
        };
        let mut out = vec![0u8; r.buffer_len()];
        assert_eq!(r.emit(SRC, DST, &mut out).unwrap(), 8 + 136 + 4);
        assert_eq!(out[4], 17);
        let p = Icmpv6Packet::new_checked(&out[..]).unwrap();
        match Icmpv6Repr::parse(&p, SRC, DST).unwrap() {
            Icmpv6Repr::TimeExceeded { invoking, extensions, .. } => {
                assert_eq!(invoking.len(), 136);
                assert_eq!(extensions, Some(&ext[..]));
            }
            other => panic!("{other:?}"),
        }
    }

    fn arb_multipart() -> impl Strategy<Value = (Vec<u8>, Option<Vec<u8>>)> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(|v| (v, None)),
            ((16usize..20), proptest::collection::vec(any::<u8>(), 0..24)).prop_flat_map(|(w, e)| {
                proptest::collection::vec(any::<u8>(), w * 8).prop_map(move |v| (v, Some(e.clone())))
            }),
        ]
    }

    proptest! {
        #[test]
        fn repr_round_trip(kind in 0u8..10, a in any::<u8>(), w in any::<u32>(), (inv, ext) in arb_multipart(), t in any::<[u8; 16]>()) {
            let opts = [1u8, 1, 2, 0, 0, 0, 0, 1];
            let repr = match kind {
                0 => Icmpv6Repr::EchoRequest { ident: (w >> 16) as u16, seq_no: w as u16, data: &inv },
                1 => Icmpv6Repr::EchoReply { ident: (w >> 16) as u16, seq_no: w as u16, data: &inv },
                2 => Icmpv6Repr::DstUnreachable { reason: Icmpv6DstUnreachable::from_code(a), invoking: &inv, extensions: ext.as_deref() },
                3 => Icmpv6Repr::PacketTooBig { mtu: w, invoking: &inv },
                4 => Icmpv6Repr::TimeExceeded { reason: Icmpv6TimeExceeded::from_code(a), invoking: &inv, extensions: ext.as_deref() },
                5 => Icmpv6Repr::ParamProblem { reason: Icmpv6ParamProblem::from_code(a), pointer: w, invoking: &inv },
                6 => Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit { target: t.into(), options: &opts }),
                7 => Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert { hop_limit: a, flags: RaFlags::default(), router_lifetime: w as u16, reachable_time: w, retrans_time: !w, options: &opts }),
                8 => Icmpv6Repr::Mld(MldRepr::Report { mcast_addr: t.into() }),
                _ => Icmpv6Repr::Other { msg_type: [5, 100, 127, 139, 200, 255][usize::from(a % 6)], code: a, rest: w, data: &inv },
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(SRC, DST, &mut buf).unwrap();
            let p = Icmpv6Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Icmpv6Repr::parse(&p, SRC, DST).unwrap(), repr);
        }

        #[test]
        fn bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 8..200), t in prop_oneof![Just(None), (1u8..5).prop_map(Some), (128u8..138).prop_map(Some), Just(Some(143))]) {
            let mut bytes = bytes;
            if let Some(t) = t {
                bytes[0] = t;
                if t >= 133 { bytes[1] = 0; }
            }
            let bytes = fix(bytes);
            let p = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
            if let Ok(repr) = Icmpv6Repr::parse(&p, SRC, DST) {
                let mut out = vec![0u8; repr.buffer_len()];
                repr.emit(SRC, DST, &mut out).unwrap();
                prop_assert!(out.len() <= bytes.len());
                prop_assert_eq!(out[0], bytes[0]);
                // Reserved octets, and the code of PTB and MLD (ignored on
                // receipt, RFC 4443 §3.2, RFC 2710 §3), are not carried.
                prop_assert_eq!(&out[8..], &bytes[8..out.len()]);
                let q = Icmpv6Packet::new_checked(&out[..]).unwrap();
                prop_assert_eq!(Icmpv6Repr::parse(&q, SRC, DST).unwrap(), repr);
                if matches!(repr, Icmpv6Repr::EchoRequest { .. } | Icmpv6Repr::EchoReply { .. } | Icmpv6Repr::Other { .. } | Icmpv6Repr::ParamProblem { .. }) {
                    prop_assert_eq!(out, bytes);
                }
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), fix_sum in any::<bool>()) {
            let bytes = if fix_sum && bytes.len() >= 8 { fix(bytes) } else { bytes };
            if let Ok(p) = Icmpv6Packet::new_checked(&bytes[..]) {
                let _ = (p.msg_type(), p.msg_code(), p.checksum(), p.rest_of_header(), p.echo_ident(),
                    p.echo_seq_no(), p.ext_length(), p.payload(), p.verify_checksum(SRC, DST));
                let _ = Icmpv6Repr::parse(&p, SRC, DST);
            }
        }
    }
}
