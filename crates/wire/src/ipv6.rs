//! The IPv6 fixed header (RFC 8200 §3).
//!
//! [`Ipv6Packet`] is a checked view over a whole packet (fixed header plus
//! payload); [`Ipv6Repr`] holds the header fields. Extension headers are read
//! by the views in `ipv6_ext`, `ipv6_routing`, `ipv6_fragment` and walked by
//! [`crate::ipv6_chain::Ipv6ExtChain`].
//!
//! IPv6 has no header checksum (RFC 8200 §3), so setters need no fix-up.

use crate::error::{Error, Result};
use crate::field::{read_u16, read_u32, write_u16, write_u32};
use crate::ip::protocol;
use std::net::Ipv6Addr;

/// Length of the IPv6 fixed header (RFC 8200 §3).
pub const HEADER_LEN: usize = 40;

mod offset {
    pub const VER_TC_FL: usize = 0;
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
}

/// Byte offset of the Next Header field in the fixed header (RFC 8200 §3);
/// the ICMPv6 Parameter Problem pointer for an unrecognised first header.
pub const NEXT_HEADER_OFFSET: usize = offset::NEXT_HEADER;

/// Largest Flow Label value (20 bits, RFC 8200 §3 and §6).
pub const FLOW_LABEL_MAX: u32 = 0x000f_ffff;

#[inline]
fn addr_at(b: &[u8], at: usize) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[at..at + 16]);
    Ipv6Addr::from(o)
}

/// A checked view of an IPv6 packet: the 40-byte fixed header and the payload
/// that its Payload Length declares (RFC 8200 §3).
///
/// Bytes after `40 + payload_len` (link-layer padding) are not part of
/// [`payload`](Self::payload). A Payload Length of 0 with a Hop-by-Hop
/// Options header first is a Jumbogram (RFC 2675 §3): the view accepts it
/// structurally and its payload is then the rest of the buffer; the real
/// length is in the Jumbo Payload option, which the core checks.
#[derive(Debug, Clone)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps `buffer`, checking that it holds the fixed header (`Truncated`),
    /// that the version is 6 (`BadVersion`), and that it holds the payload the
    /// Payload Length declares (`Truncated`), RFC 8200 §3.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[0] >> 4 != 6 {
            return Err(Error::BadVersion);
        }
        let payload_len = usize::from(read_u16(b, offset::PAYLOAD_LEN));
        if HEADER_LEN + payload_len > b.len() {
            return Err(Error::Truncated);
        }
        Ok(Ipv6Packet { buffer })
    }

    /// The version field: always 6 in a checked view (RFC 8200 §3).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// The Traffic Class (DSCP and ECN, RFC 8200 §7, RFC 2474, RFC 3168).
    pub fn traffic_class(&self) -> u8 {
        let b = self.buffer.as_ref();
        (b[0] << 4) | (b[1] >> 4)
    }

    /// The 20-bit Flow Label (RFC 8200 §6, RFC 6437).
    pub fn flow_label(&self) -> u32 {
        read_u32(self.buffer.as_ref(), offset::VER_TC_FL) & FLOW_LABEL_MAX
    }

    /// The Payload Length field: octets after the fixed header, extension
    /// headers included (RFC 8200 §3). 0 in a Jumbogram (RFC 2675).
    pub fn payload_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), offset::PAYLOAD_LEN)
    }

    /// The Next Header field: the first extension header or the upper-layer
    /// protocol (RFC 8200 §3, `ip::protocol`).
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[offset::NEXT_HEADER]
    }

    /// The Hop Limit (RFC 8200 §3).
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[offset::HOP_LIMIT]
    }

    /// The Source Address (RFC 8200 §3).
    pub fn src(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), offset::SRC)
    }

    /// The Destination Address (RFC 8200 §3); with a Routing header, not
    /// necessarily the final one.
    pub fn dst(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), offset::DST)
    }

    /// Whether this is a Jumbogram candidate: Payload Length 0 and a
    /// Hop-by-Hop Options header first (RFC 2675 §3).
    pub fn is_jumbo(&self) -> bool {
        self.payload_len() == 0 && self.next_header() == protocol::HOPOPT
    }

    /// The fixed header length: 40.
    pub fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// The packet's length: 40 plus the payload (the rest of the buffer for a
    /// Jumbogram). Trailing bytes are excluded.
    pub fn total_len(&self) -> usize {
        HEADER_LEN + self.payload().len()
    }

    /// The payload: the Payload Length octets after the fixed header, or the
    /// whole rest of the buffer when [`is_jumbo`](Self::is_jumbo).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        if self.is_jumbo() {
            &b[HEADER_LEN..]
        } else {
            &b[HEADER_LEN..HEADER_LEN + usize::from(self.payload_len())]
        }
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// Sets the Traffic Class (RFC 8200 §7).
    pub fn set_traffic_class(&mut self, tc: u8) {
        let b = self.buffer.as_mut();
        b[0] = 0x60 | (tc >> 4);
        b[1] = (tc << 4) | (b[1] & 0x0f);
    }

    /// Sets the Flow Label; bits above the low 20 are ignored (RFC 8200 §6).
    pub fn set_flow_label(&mut self, label: u32) {
        let b = self.buffer.as_mut();
        let word = read_u32(b, offset::VER_TC_FL);
        write_u32(b, offset::VER_TC_FL, (word & !FLOW_LABEL_MAX) | (label & FLOW_LABEL_MAX));
    }

    /// Sets the Payload Length; `Truncated` if the buffer does not hold that
    /// many octets after the fixed header (so the view stays valid).
    pub fn set_payload_len(&mut self, len: u16) -> Result<()> {
        if HEADER_LEN + usize::from(len) > self.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        write_u16(self.buffer.as_mut(), offset::PAYLOAD_LEN, len);
        Ok(())
    }

    /// Sets the Next Header field (RFC 8200 §3).
    pub fn set_next_header(&mut self, nh: u8) {
        self.buffer.as_mut()[offset::NEXT_HEADER] = nh;
    }

    /// Sets the Hop Limit; forwarding decrements it (RFC 8200 §3). No checksum
    /// to update.
    pub fn set_hop_limit(&mut self, hop_limit: u8) {
        self.buffer.as_mut()[offset::HOP_LIMIT] = hop_limit;
    }

    /// Sets the Source Address.
    pub fn set_src(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[offset::SRC..offset::SRC + 16].copy_from_slice(&addr.octets());
    }

    /// Sets the Destination Address.
    pub fn set_dst(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[offset::DST..offset::DST + 16].copy_from_slice(&addr.octets());
    }

    /// The payload, mutably (same extent as [`payload`](Self::payload)).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = if self.is_jumbo() {
            self.buffer.as_ref().len()
        } else {
            HEADER_LEN + usize::from(self.payload_len())
        };
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// The fields of an IPv6 fixed header (RFC 8200 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    /// Source Address.
    pub src: Ipv6Addr,
    /// Destination Address.
    pub dst: Ipv6Addr,
    /// Next Header: first extension header or upper-layer protocol.
    pub next_header: u8,
    /// Payload Length as on the wire (0 for a Jumbogram, RFC 2675).
    pub payload_len: u16,
    /// Hop Limit.
    pub hop_limit: u8,
    /// Traffic Class (RFC 8200 §7).
    pub traffic_class: u8,
    /// Flow Label, at most [`FLOW_LABEL_MAX`] (RFC 8200 §6).
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Reads the header fields of a checked packet.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv6Packet<T>) -> Result<Self> {
        Ok(Ipv6Repr {
            src: packet.src(),
            dst: packet.dst(),
            next_header: packet.next_header(),
            payload_len: packet.payload_len(),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        })
    }

    /// The fixed header length: 40.
    pub fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// The whole packet's length: 40 + `payload_len`.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + usize::from(self.payload_len)
    }

    /// Writes the fixed header into the start of `buf`; returns 40.
    /// `BadField("flow_label")` if the label exceeds 20 bits.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if self.flow_label > FLOW_LABEL_MAX {
            return Err(Error::BadField("flow_label"));
        }
        if buf.len() < HEADER_LEN {
            return Err(Error::BufferTooSmall);
        }
        let word = (6u32 << 28) | (u32::from(self.traffic_class) << 20) | self.flow_label;
        write_u32(buf, offset::VER_TC_FL, word);
        write_u16(buf, offset::PAYLOAD_LEN, self.payload_len);
        buf[offset::NEXT_HEADER] = self.next_header;
        buf[offset::HOP_LIMIT] = self.hop_limit;
        buf[offset::SRC..offset::SRC + 16].copy_from_slice(&self.src.octets());
        buf[offset::DST..offset::DST + 16].copy_from_slice(&self.dst.octets());
        Ok(HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An ICMPv6 echo request fe80::1 -> ff02::1, TC 0xb8, flow 0x12345,
    /// written out by hand from RFC 8200 §3.
    const PACKET: [u8; 48] = [
        0x6b, 0x81, 0x23, 0x45, 0x00, 0x08, 0x3a, 0x40, // ver/tc/fl, len 8, ICMPv6, hl 64
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // src fe80::1
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // dst ff02::1
        0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, // echo request
    ];

    #[test]
    fn known_packet_fields() {
        let p = Ipv6Packet::new_checked(&PACKET[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xb8);
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.payload_len(), 8);
        assert_eq!(p.next_header(), protocol::ICMPV6);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.src(), "fe80::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.dst(), "ff02::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.payload(), &PACKET[40..]);
        assert_eq!(p.total_len(), 48);
        assert!(!p.is_jumbo());
        let repr = Ipv6Repr::parse(&p).unwrap();
        let mut out = [0u8; 40];
        assert_eq!(repr.emit(&mut out).unwrap(), 40);
        assert_eq!(&out[..], &PACKET[..40]);
    }

    #[test]
    fn setters() {
        let mut buf = PACKET;
        let mut p = Ipv6Packet::new_checked(&mut buf[..]).unwrap();
        p.set_hop_limit(63);
        p.set_traffic_class(0x02);
        p.set_flow_label(0xfffff);
        p.set_next_header(protocol::UDP);
        p.set_src("2001:db8::1".parse().unwrap());
        p.set_dst("2001:db8::2".parse().unwrap());
        assert_eq!(p.set_payload_len(9), Err(Error::Truncated));
        p.set_payload_len(4).unwrap();
        p.payload_mut()[0] = 0xaa;
        assert_eq!(p.hop_limit(), 63);
        assert_eq!(p.traffic_class(), 0x02);
        assert_eq!(p.flow_label(), 0xfffff);
        assert_eq!(p.version(), 6);
        assert_eq!(p.next_header(), protocol::UDP);
        assert_eq!(p.src(), "2001:db8::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.dst(), "2001:db8::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.payload(), &[0xaa, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn short_buffer_is_truncated() {
        assert_eq!(Ipv6Packet::new_checked(&PACKET[..39]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn version_four_is_bad_version() {
        let mut buf = PACKET;
        buf[0] = 0x45;
        assert_eq!(Ipv6Packet::new_checked(&buf[..]).unwrap_err(), Error::BadVersion);
    }

    #[test]
    fn payload_len_past_buffer_is_truncated() {
        assert_eq!(Ipv6Packet::new_checked(&PACKET[..47]).unwrap_err(), Error::Truncated);
        let mut buf = PACKET;
        buf[4] = 0xff;
        assert_eq!(Ipv6Packet::new_checked(&buf[..]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn trailing_bytes_are_excluded() {
        let mut buf = [0u8; 60];
        buf[..48].copy_from_slice(&PACKET);
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.payload().len(), 8);
        assert_eq!(p.total_len(), 48);
    }

    #[test]
    fn jumbo_payload_is_rest_of_buffer() {
        let mut buf = [0u8; 64];
        buf[..40].copy_from_slice(&PACKET[..40]);
        buf[4] = 0;
        buf[5] = 0;
        buf[6] = protocol::HOPOPT;
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert!(p.is_jumbo());
        assert_eq!(p.payload().len(), 24);
        // Payload Length 0 without Hop-by-Hop: an empty payload.
        buf[6] = protocol::IPV6_NONXT;
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert!(!p.is_jumbo());
        assert!(p.payload().is_empty());
    }

    #[test]
    fn wide_flow_label_is_bad_field() {
        let repr = Ipv6Repr {
            src: Ipv6Addr::LOCALHOST,
            dst: Ipv6Addr::LOCALHOST,
            next_header: 17,
            payload_len: 0,
            hop_limit: 1,
            traffic_class: 0,
            flow_label: 0x10_0000,
        };
        assert_eq!(repr.emit(&mut [0u8; 40]), Err(Error::BadField("flow_label")));
        let repr = Ipv6Repr { flow_label: 0, ..repr };
        assert_eq!(repr.emit(&mut [0u8; 39]), Err(Error::BufferTooSmall));
    }

    pub(crate) fn arb_repr() -> impl Strategy<Value = Ipv6Repr> {
        (
            any::<[u8; 16]>(),
            any::<[u8; 16]>(),
            any::<u8>(),
            any::<u16>(),
            any::<u8>(),
            any::<u8>(),
            0..=FLOW_LABEL_MAX,
        )
            .prop_map(|(s, d, nh, pl, hl, tc, fl)| Ipv6Repr {
                src: s.into(),
                dst: d.into(),
                next_header: nh,
                payload_len: pl,
                hop_limit: hl,
                traffic_class: tc,
                flow_label: fl,
            })
    }

    proptest! {
        #[test]
        fn repr_round_trip(repr in arb_repr()) {
            let mut buf = vec![0u8; repr.buffer_len()];
            prop_assert_eq!(repr.emit(&mut buf).unwrap(), 40);
            let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Ipv6Repr::parse(&p).unwrap(), repr);
            if !p.is_jumbo() {
                prop_assert_eq!(p.payload().len(), usize::from(repr.payload_len));
            }
        }

        #[test]
        fn bytes_round_trip(mut bytes in proptest::collection::vec(any::<u8>(), 40..120)) {
            bytes[0] = 0x60 | (bytes[0] & 0x0f);
            bytes[4] = 0;
            if let Ok(p) = Ipv6Packet::new_checked(&bytes[..]) {
                let repr = Ipv6Repr::parse(&p).unwrap();
                let mut out = bytes.clone();
                repr.emit(&mut out).unwrap();
                prop_assert_eq!(out, bytes);
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Ok(p) = Ipv6Packet::new_checked(&bytes[..]) {
                let _ = (p.version(), p.traffic_class(), p.flow_label(), p.payload_len());
                let _ = (p.next_header(), p.hop_limit(), p.src(), p.dst(), p.is_jumbo());
                prop_assert!(p.total_len() <= bytes.len());
                let _ = Ipv6Repr::parse(&p).unwrap();
            }
        }
    }
}
