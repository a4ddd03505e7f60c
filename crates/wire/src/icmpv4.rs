//! ICMP for IPv4 (RFC 792, RFC 1122 §3.2.2, RFC 1191 §4, RFC 1812 §4.3) with
//! RFC 4884 multi-part extensions (see [`crate::icmp_ext`]).

use crate::checksum;
use crate::error::{Error, Result};
use crate::field::{read_u16, read_u32, write_u16, write_u32};
use crate::icmp_ext::{emit_multipart, multipart_layout, split_multipart};
use std::net::Ipv4Addr;

/// ICMPv4 message types (IANA "ICMP Type Numbers").
pub mod msg_type {
    /// Echo Reply (RFC 792).
    pub const ECHO_REPLY: u8 = 0;
    /// Destination Unreachable (RFC 792).
    pub const DST_UNREACHABLE: u8 = 3;
    /// Redirect (RFC 792).
    pub const REDIRECT: u8 = 5;
    /// Echo Request (RFC 792).
    pub const ECHO_REQUEST: u8 = 8;
    /// Time Exceeded (RFC 792).
    pub const TIME_EXCEEDED: u8 = 11;
    /// Parameter Problem (RFC 792).
    pub const PARAM_PROBLEM: u8 = 12;
}

/// Octets in the RFC 4884 length unit for ICMPv4 (32-bit words, §4.1).
const LEN_UNIT: usize = 4;

/// The fixed header: type, code, checksum, 4 octets of rest-of-header.
pub const HEADER_LEN: usize = 8;

crate::icmp_header::icmp_header_view!(
    Icmpv4Packet,
    "A checked view of an ICMPv4 message (at least the 8-octet header)."
);

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// The RFC 4884 length field (octet 5) in 32-bit words.
    pub fn ext_length(&self) -> u8 {
        self.buffer.as_ref()[5]
    }

    /// Next-hop MTU of a Fragmentation Needed message (RFC 1191 §4, octets 6..8).
    pub fn next_hop_mtu(&self) -> u16 {
        read_u16(self.buffer.as_ref(), 6)
    }

    /// Whether the checksum over the whole message verifies (RFC 792).
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    /// Computes and stores the checksum over the whole message.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }
}

/// Destination Unreachable codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv4DstUnreachable {
    /// 0: net unreachable.
    NetUnreachable,
    /// 1: host unreachable.
    HostUnreachable,
    /// 2: protocol unreachable.
    ProtoUnreachable,
    /// 3: port unreachable.
    PortUnreachable,
    /// 4: fragmentation needed and DF set, with the next-hop MTU (RFC 1191 §4).
    FragNeeded {
        /// Next-hop MTU (0 from pre-RFC 1191 routers).
        next_hop_mtu: u16,
    },
    /// 5: source route failed.
    SrcRouteFailed,
    /// 6: destination network unknown.
    DstNetUnknown,
    /// 7: destination host unknown.
    DstHostUnknown,
    /// 8: source host isolated.
    SrcHostIsolated,
    /// 9: network administratively prohibited.
    NetProhibited,
    /// 10: host administratively prohibited.
    HostProhibited,
    /// 11: network unreachable for TOS.
    NetUnreachableTos,
    /// 12: host unreachable for TOS.
    HostUnreachableTos,
    /// 13: communication administratively prohibited (RFC 1812).
    CommProhibited,
    /// 14: host precedence violation (RFC 1812).
    HostPrecedenceViolation,
    /// 15: precedence cutoff in effect (RFC 1812).
    PrecedenceCutoff,
    /// Any other (unassigned) code.
    Other(u8),
}

impl Icmpv4DstUnreachable {
    /// The typed code for `code`; `next_hop_mtu` is used for code 4.
    pub fn from_code(code: u8, next_hop_mtu: u16) -> Self {
        use Icmpv4DstUnreachable::*;
        match code {
            0 => NetUnreachable,
            1 => HostUnreachable,
            2 => ProtoUnreachable,
            3 => PortUnreachable,
            4 => FragNeeded { next_hop_mtu },
            5 => SrcRouteFailed,
            6 => DstNetUnknown,
            7 => DstHostUnknown,
            8 => SrcHostIsolated,
            9 => NetProhibited,
            10 => HostProhibited,
            11 => NetUnreachableTos,
            12 => HostUnreachableTos,
            13 => CommProhibited,
            14 => HostPrecedenceViolation,
            15 => PrecedenceCutoff,
            c => Other(c),
        }
    }

    /// The code octet.
    pub fn code(&self) -> u8 {
        use Icmpv4DstUnreachable::*;
        match *self {
            NetUnreachable => 0,
            HostUnreachable => 1,
            ProtoUnreachable => 2,
            PortUnreachable => 3,
            FragNeeded { .. } => 4,
            SrcRouteFailed => 5,
            DstNetUnknown => 6,
            DstHostUnknown => 7,
            SrcHostIsolated => 8,
            NetProhibited => 9,
            HostProhibited => 10,
            NetUnreachableTos => 11,
            HostUnreachableTos => 12,
            CommProhibited => 13,
            HostPrecedenceViolation => 14,
            PrecedenceCutoff => 15,
            Other(c) => c,
        }
    }
}

/// Time Exceeded codes (RFC 792).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv4TimeExceeded {
    /// 0: time to live exceeded in transit.
    TtlExpired,
    /// 1: fragment reassembly time exceeded.
    FragReassembly,
    /// Any other code.
    Other(u8),
}

impl Icmpv4TimeExceeded {
    /// The typed code.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => Self::TtlExpired,
            1 => Self::FragReassembly,
            c => Self::Other(c),
        }
    }

    /// The code octet.
    pub fn code(&self) -> u8 {
        match *self {
            Self::TtlExpired => 0,
            Self::FragReassembly => 1,
            Self::Other(c) => c,
        }
    }
}

/// The fields of an ICMPv4 message. Error messages borrow the invoking
/// datagram (IP header + leading data, RFC 792; as much as fits, RFC 1812
/// §4.3.2.3) and, with RFC 4884, the raw extension structure (parse it with
/// [`crate::icmp_ext::IcmpExtension`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv4Repr<'a> {
    /// Echo Request (type 8, code 0; RFC 792).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Echo Reply (type 0, code 0; RFC 792).
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Destination Unreachable (type 3; RFC 792, RFC 1191 §4, RFC 4884 §4.1).
    DstUnreachable {
        /// The code (with the next-hop MTU for code 4).
        reason: Icmpv4DstUnreachable,
        /// The original datagram field (with its RFC 4884 padding when
        /// extensions are present).
        invoking: &'a [u8],
        /// The raw RFC 4884 extension structure.
        extensions: Option<&'a [u8]>,
    },
    /// Time Exceeded (type 11; RFC 792, RFC 4884 §4.1).
    TimeExceeded {
        /// The code.
        reason: Icmpv4TimeExceeded,
        /// The original datagram field.
        invoking: &'a [u8],
        /// The raw RFC 4884 extension structure.
        extensions: Option<&'a [u8]>,
    },
    /// Parameter Problem (type 12; RFC 792; code 1 RFC 1108, code 2 IANA; RFC 4884 §4.1).
    ParamProblem {
        /// Code: 0 pointer indicates the error, 1 missing required option, 2 bad length.
        code: u8,
        /// Octet offset of the error in the invoking datagram.
        pointer: u8,
        /// The original datagram field.
        invoking: &'a [u8],
        /// The raw RFC 4884 extension structure.
        extensions: Option<&'a [u8]>,
    },
    /// Redirect (type 5; RFC 792, RFC 1122 §3.2.2.2).
    Redirect {
        /// Code: 0 network, 1 host, 2 TOS and network, 3 TOS and host.
        code: u8,
        /// The gateway to use.
        gateway: Ipv4Addr,
        /// The invoking datagram.
        invoking: &'a [u8],
    },
    /// Any other message, and echo with a non-zero code.
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

impl<'a> Icmpv4Repr<'a> {
    /// Parses a checked message; a bad checksum is `BadChecksum`, an RFC 4884
    /// length under 128 octets or past the end is `BadLength("length")`.
    ///
    /// Unused header octets are ignored on receipt (RFC 1122 §3.2.2).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv4Packet<&'a T>) -> Result<Self> {
        if !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let body = &packet.buffer.as_ref()[HEADER_LEN..];
        let code = packet.msg_code();
        Ok(match (packet.msg_type(), code) {
            (msg_type::ECHO_REQUEST, 0) => Icmpv4Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data: body,
            },
            (msg_type::ECHO_REPLY, 0) => {
                Icmpv4Repr::EchoReply { ident: packet.echo_ident(), seq_no: packet.echo_seq_no(), data: body }
            }
            (msg_type::DST_UNREACHABLE, _) => {
                let (invoking, extensions) = split_multipart(body, packet.ext_length(), LEN_UNIT)?;
                let reason = Icmpv4DstUnreachable::from_code(code, packet.next_hop_mtu());
                Icmpv4Repr::DstUnreachable { reason, invoking, extensions }
            }
            (msg_type::TIME_EXCEEDED, _) => {
                let (invoking, extensions) = split_multipart(body, packet.ext_length(), LEN_UNIT)?;
                Icmpv4Repr::TimeExceeded { reason: Icmpv4TimeExceeded::from_code(code), invoking, extensions }
            }
            (msg_type::PARAM_PROBLEM, _) => {
                let (invoking, extensions) = split_multipart(body, packet.ext_length(), LEN_UNIT)?;
                let pointer = packet.buffer.as_ref()[4];
                Icmpv4Repr::ParamProblem { code, pointer, invoking, extensions }
            }
            (msg_type::REDIRECT, _) => Icmpv4Repr::Redirect {
                code,
                gateway: Ipv4Addr::from(packet.rest_of_header()),
                invoking: body,
            },
            (t, c) => Icmpv4Repr::Other { msg_type: t, code: c, rest: packet.rest_of_header(), data: body },
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

    /// (total length, RFC 4884 length field).
    fn layout(&self) -> Result<(usize, u8)> {
        Ok(match *self {
            Icmpv4Repr::EchoRequest { data, .. }
            | Icmpv4Repr::EchoReply { data, .. }
            | Icmpv4Repr::Other { data, .. }
            | Icmpv4Repr::Redirect { invoking: data, .. } => (HEADER_LEN + data.len(), 0),
            Icmpv4Repr::DstUnreachable { invoking, extensions, .. }
            | Icmpv4Repr::TimeExceeded { invoking, extensions, .. }
            | Icmpv4Repr::ParamProblem { invoking, extensions, .. } => {
                let (padded, words) = multipart_layout(invoking, extensions, LEN_UNIT)?;
                (HEADER_LEN + padded + extensions.map_or(0, <[u8]>::len), words)
            }
        })
    }

    /// Writes the message, pads the original datagram field per RFC 4884 §4.1
    /// when extensions are present (at least 128 octets, a multiple of 4;
    /// over 1020 octets is `BadLength("length")`) and fills the checksum.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let (len, words) = self.layout()?;
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        let buf = &mut buf[..len];
        let (t, c, rest) = match *self {
            Icmpv4Repr::EchoRequest { ident, seq_no, .. } => {
                (msg_type::ECHO_REQUEST, 0, (u32::from(ident) << 16) | u32::from(seq_no))
            }
            Icmpv4Repr::EchoReply { ident, seq_no, .. } => {
                (msg_type::ECHO_REPLY, 0, (u32::from(ident) << 16) | u32::from(seq_no))
            }
            Icmpv4Repr::DstUnreachable { reason, .. } => {
                let mtu = match reason {
                    Icmpv4DstUnreachable::FragNeeded { next_hop_mtu } => next_hop_mtu,
                    _ => 0,
                };
                (msg_type::DST_UNREACHABLE, reason.code(), (u32::from(words) << 16) | u32::from(mtu))
            }
            Icmpv4Repr::TimeExceeded { reason, .. } => {
                (msg_type::TIME_EXCEEDED, reason.code(), u32::from(words) << 16)
            }
            Icmpv4Repr::ParamProblem { code, pointer, .. } => {
                (msg_type::PARAM_PROBLEM, code, (u32::from(pointer) << 24) | (u32::from(words) << 16))
            }
            Icmpv4Repr::Redirect { code, gateway, .. } => (msg_type::REDIRECT, code, u32::from(gateway)),
            Icmpv4Repr::Other { msg_type, code, rest, .. } => (msg_type, code, rest),
        };
        buf[0] = t;
        buf[1] = c;
        write_u16(buf, 2, 0);
        write_u32(buf, 4, rest);
        match *self {
            Icmpv4Repr::EchoRequest { data, .. }
            | Icmpv4Repr::EchoReply { data, .. }
            | Icmpv4Repr::Other { data, .. }
            | Icmpv4Repr::Redirect { invoking: data, .. } => buf[HEADER_LEN..].copy_from_slice(data),
            Icmpv4Repr::DstUnreachable { invoking, extensions, .. }
            | Icmpv4Repr::TimeExceeded { invoking, extensions, .. }
            | Icmpv4Repr::ParamProblem { invoking, extensions, .. } => {
                let padded = len - HEADER_LEN - extensions.map_or(0, <[u8]>::len);
                emit_multipart(&mut buf[HEADER_LEN..], invoking, extensions, padded);
            }
        }
        let c = checksum::checksum(buf);
        write_u16(buf, 2, c);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `ping 192.0.2.1`: echo request id 0x1234 seq 1, data "abcd".
    const ECHO: [u8; 12] = [8, 0, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, b'a', b'b', b'c', b'd'];

    fn fix(mut v: Vec<u8>) -> Vec<u8> {
        v[2] = 0;
        v[3] = 0;
        let c = checksum::checksum(&v);
        v[2..4].copy_from_slice(&c.to_be_bytes());
        v
    }

    #[test]
    fn known_echo_request() {
        assert_eq!(fix(ECHO.to_vec()), ECHO.to_vec());
        let p = Icmpv4Packet::new_checked(&ECHO[..]).unwrap();
        assert_eq!((p.msg_type(), p.msg_code(), p.checksum()), (8, 0, 0x2104));
        assert_eq!((p.echo_ident(), p.echo_seq_no()), (0x1234, 1));
        assert!(p.verify_checksum());
        let r = Icmpv4Repr::parse(&p).unwrap();
        assert_eq!(r, Icmpv4Repr::EchoRequest { ident: 0x1234, seq_no: 1, data: b"abcd" });
        let mut out = [0u8; 12];
        assert_eq!(r.emit(&mut out).unwrap(), 12);
        assert_eq!(out, ECHO);
        assert_eq!(r.emit(&mut [0u8; 11]).unwrap_err(), Error::BufferTooSmall);
    }

    #[test]
    fn setters_and_fill_checksum() {
        let mut b = ECHO;
        let mut p = Icmpv4Packet::new_checked(&mut b[..]).unwrap();
        p.set_msg_type(msg_type::ECHO_REPLY);
        p.set_echo_ident(7);
        p.set_echo_seq_no(9);
        p.set_msg_code(0);
        p.payload_mut()[0] = b'z';
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
        p.set_rest_of_header(0x0102_0304);
        assert_eq!(p.rest_of_header(), 0x0102_0304);
    }

    #[test]
    fn frag_needed_known_bytes() {
        // RFC 1191 §4: type 3 code 4, unused, next-hop MTU 1400, then the header.
        let mut v = vec![3, 4, 0, 0, 0, 0, 0x05, 0x78];
        v.extend_from_slice(&[0x45; 28]);
        let v = fix(v);
        let p = Icmpv4Packet::new_checked(&v[..]).unwrap();
        let r = Icmpv4Repr::parse(&p).unwrap();
        assert_eq!(
            r,
            Icmpv4Repr::DstUnreachable {
                reason: Icmpv4DstUnreachable::FragNeeded { next_hop_mtu: 1400 },
                invoking: &[0x45; 28],
                extensions: None
            }
        );
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut out).unwrap();
        assert_eq!(out, v);
    }

    #[test]
    fn time_exceeded_with_extensions() {
        // RFC 4884 §4.1: length 32 words = 128 octets, then the structure.
        let ext = [0x20, 0, 0xdf, 0xff];
        let r = Icmpv4Repr::TimeExceeded {
            reason: Icmpv4TimeExceeded::TtlExpired,
            invoking: &[0x45; 40],
            extensions: Some(&ext),
        };
        let mut out = vec![0u8; r.buffer_len()];
        assert_eq!(r.emit(&mut out).unwrap(), 8 + 128 + 4);
        assert_eq!(out[5], 32);
        assert!(out[48..136].iter().all(|&b| b == 0));
        let p = Icmpv4Packet::new_checked(&out[..]).unwrap();
        match Icmpv4Repr::parse(&p).unwrap() {
            Icmpv4Repr::TimeExceeded { invoking, extensions, .. } => {
                assert_eq!(invoking.len(), 128);
                assert_eq!(extensions, Some(&ext[..]));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn short_header_is_truncated() {
        assert_eq!(Icmpv4Packet::new_checked(&ECHO[..7]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn bad_checksum_is_bad_checksum() {
        let mut b = ECHO;
        b[9] ^= 1;
        let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Icmpv4Repr::parse(&p).unwrap_err(), Error::BadChecksum);
    }

    #[test]
    fn lying_rfc4884_length_is_bad_length() {
        // Length 40 words (160 octets) but only 28 octets follow.
        let mut v = vec![11, 0, 0, 0, 0, 40, 0, 0];
        v.extend_from_slice(&[0; 28]);
        let v = fix(v);
        let p = Icmpv4Packet::new_checked(&v[..]).unwrap();
        assert_eq!(Icmpv4Repr::parse(&p).unwrap_err(), Error::BadLength("length"));
        // Length below 128 octets.
        let mut v = vec![12, 0, 0, 0, 0, 8, 0, 0];
        v.extend_from_slice(&[0; 40]);
        let v = fix(v);
        let p = Icmpv4Packet::new_checked(&v[..]).unwrap();
        assert_eq!(Icmpv4Repr::parse(&p).unwrap_err(), Error::BadLength("length"));
    }

    fn arb_multipart() -> impl Strategy<Value = (Vec<u8>, Option<Vec<u8>>)> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(|v| (v, None)),
            ((32usize..40), proptest::collection::vec(any::<u8>(), 0..24)).prop_flat_map(|(w, e)| {
                proptest::collection::vec(any::<u8>(), w * 4).prop_map(move |v| (v, Some(e.clone())))
            }),
        ]
    }

    fn build<'a>(kind: u8, a: u8, b: u8, w: u32, inv: &'a [u8], ext: Option<&'a [u8]>) -> Icmpv4Repr<'a> {
        match kind % 7 {
            0 => Icmpv4Repr::EchoRequest { ident: (w >> 16) as u16, seq_no: w as u16, data: inv },
            1 => Icmpv4Repr::EchoReply { ident: (w >> 16) as u16, seq_no: w as u16, data: inv },
            2 => Icmpv4Repr::DstUnreachable {
                reason: Icmpv4DstUnreachable::from_code(a, if a == 4 { w as u16 } else { 0 }),
                invoking: inv,
                extensions: ext,
            },
            3 => Icmpv4Repr::TimeExceeded {
                reason: Icmpv4TimeExceeded::from_code(a),
                invoking: inv,
                extensions: ext,
            },
            4 => Icmpv4Repr::ParamProblem { code: a, pointer: b, invoking: inv, extensions: ext },
            5 => Icmpv4Repr::Redirect { code: a, gateway: Ipv4Addr::from(w), invoking: inv },
            _ => {
                let t = [13, 14, 15, 16, 40, 42, 43, 255][usize::from(b % 8)];
                Icmpv4Repr::Other { msg_type: t, code: a, rest: w, data: inv }
            }
        }
    }

    proptest! {
        #[test]
        fn repr_round_trip(kind in any::<u8>(), a in any::<u8>(), b in any::<u8>(), w in any::<u32>(), (inv, ext) in arb_multipart()) {
            let repr = build(kind, a, b, w, &inv, ext.as_deref());
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut buf).unwrap();
            let p = Icmpv4Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Icmpv4Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 8..200)) {
            let bytes = fix(bytes);
            let p = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
            if let Ok(repr) = Icmpv4Repr::parse(&p) {
                let mut out = vec![0u8; repr.buffer_len()];
                repr.emit(&mut out).unwrap();
                prop_assert_eq!(out.len(), bytes.len());
                // Type, code and body are exact; unused header octets are not
                // carried by the repr (RFC 1122 §3.2.2: ignored on receipt).
                prop_assert_eq!(&out[..2], &bytes[..2]);
                prop_assert_eq!(&out[8..], &bytes[8..]);
                let q = Icmpv4Packet::new_checked(&out[..]).unwrap();
                prop_assert_eq!(Icmpv4Repr::parse(&q).unwrap(), repr);
                if matches!(repr, Icmpv4Repr::EchoRequest { .. } | Icmpv4Repr::EchoReply { .. } | Icmpv4Repr::Other { .. } | Icmpv4Repr::Redirect { .. }) {
                    prop_assert_eq!(out, bytes);
                }
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), fix_sum in any::<bool>()) {
            let bytes = if fix_sum && bytes.len() >= 8 { fix(bytes) } else { bytes };
            if let Ok(p) = Icmpv4Packet::new_checked(&bytes[..]) {
                let _ = (p.msg_type(), p.msg_code(), p.checksum(), p.rest_of_header(), p.echo_ident(),
                    p.echo_seq_no(), p.ext_length(), p.next_hop_mtu(), p.payload(), p.verify_checksum());
                let _ = Icmpv4Repr::parse(&p);
            }
        }
    }
}
