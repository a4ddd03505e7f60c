//! The IPv6 Routing header (RFC 8200 §4.4) and its types: 0 (deprecated by
//! RFC 5095; parsed so the core can refuse it), 2 (Mobile IPv6, RFC 6275
//! §6.4), 4 (Segment Routing Header, RFC 8754 §2); any other type is exposed
//! as raw type-specific data.
//!
//! The parser reports structure only. Not enforced here (policy for the
//! core): refusing type 0 (RFC 5095 §3), Segments Left = 1 for type 2
//! (RFC 6275 §6.4), Segments Left <= Last Entry + 1 and the SRH TLV contents
//! (RFC 8754 §4.3), and the RFC 8200 §4.4 rule for unknown types.

use crate::error::{Error, Result};
use crate::field::{array, read_u16, write_u16};
use crate::ipv6_ext::{ext_len, MIN_EXT_LEN};
use std::net::Ipv6Addr;

/// Routing Type values (IANA "Routing Types").
pub mod routing_type {
    /// Type 0 source route, deprecated (RFC 5095).
    pub const TYPE0: u8 = 0;
    /// Type 2, Mobile IPv6 home address (RFC 6275 §6.4).
    pub const TYPE2: u8 = 2;
    /// Segment Routing Header (RFC 8754 §2).
    pub const SRH: u8 = 4;
}

/// A checked view of a Routing header's common part (RFC 8200 §4.4). The
/// buffer may extend past the header; the view covers `header_len()` octets.
#[derive(Debug, Clone)]
pub struct Ipv6RoutingHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6RoutingHeader<T> {
    /// Wraps `buffer`, checking it holds 8 octets and the
    /// `(Hdr Ext Len + 1) * 8` declared (`Truncated`).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < MIN_EXT_LEN || b.len() < ext_len(b[1]) {
            return Err(Error::Truncated);
        }
        Ok(Ipv6RoutingHeader { buffer })
    }

    /// The Next Header field.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// The Hdr Ext Len field: 8-octet units, not counting the first 8.
    pub fn hdr_ext_len(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// The header's length in octets.
    pub fn header_len(&self) -> usize {
        ext_len(self.hdr_ext_len())
    }

    /// The Routing Type (header octet 2; the Parameter Problem pointer for
    /// an unrecognised type, RFC 8200 §4.4).
    pub fn routing_type(&self) -> u8 {
        self.buffer.as_ref()[2]
    }

    /// Segments Left: route segments still to visit (RFC 8200 §4.4).
    pub fn segments_left(&self) -> u8 {
        self.buffer.as_ref()[3]
    }

    /// The type-specific data: header octets 4 to the end.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[4..self.header_len()]
    }

    /// The octets after this header.
    pub fn rest(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6RoutingHeader<T> {
    /// Sets the Next Header field.
    pub fn set_next_header(&mut self, nh: u8) {
        self.buffer.as_mut()[0] = nh;
    }

    /// Sets Segments Left (a router processing the header decrements it).
    pub fn set_segments_left(&mut self, left: u8) {
        self.buffer.as_mut()[3] = left;
    }

    /// The type-specific data, mutably (a router swaps addresses in it).
    pub fn data_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[4..end]
    }
}

/// A list of IPv6 addresses stored back to back, 16 octets each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6AddrList<'a>(&'a [u8]);

impl<'a> Ipv6AddrList<'a> {
    /// Wraps `bytes`; `BadLength("address list")` unless a multiple of 16.
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        if !bytes.len().is_multiple_of(16) {
            return Err(Error::BadLength("address list"));
        }
        Ok(Ipv6AddrList(bytes))
    }

    /// The number of addresses.
    pub fn len(&self) -> usize {
        self.0.len() / 16
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `i`th address.
    pub fn get(&self, i: usize) -> Option<Ipv6Addr> {
        array::<16>(self.0, i.checked_mul(16)?).map(Ipv6Addr::from)
    }

    /// The addresses in order.
    pub fn iter(&self) -> impl Iterator<Item = Ipv6Addr> + 'a {
        self.0.chunks_exact(16).filter_map(|c| <[u8; 16]>::try_from(c).ok().map(Ipv6Addr::from))
    }

    /// The raw octets.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

/// The type-specific part of a Routing header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoutingData<'a> {
    /// Type 0 (RFC 2460 §4.4, deprecated by RFC 5095): Reserved (emitted as
    /// zero), then the addresses; Hdr Ext Len is twice their number.
    Type0 {
        /// Address[1..n].
        addresses: Ipv6AddrList<'a>,
    },
    /// Type 2 (RFC 6275 §6.4): Reserved, then exactly one Home Address; Hdr
    /// Ext Len is 2.
    Type2 {
        /// The mobile node's home address.
        home_address: Ipv6Addr,
    },
    /// Segment Routing Header (RFC 8754 §2).
    Srh {
        /// Last Entry: index of the last element of the Segment List.
        last_entry: u8,
        /// Flags (none defined).
        flags: u8,
        /// Tag.
        tag: u16,
        /// Segment List[0..=last_entry], in reverse order of the path.
        segments: Ipv6AddrList<'a>,
        /// The optional TLV region after the segment list, raw.
        tlvs: &'a [u8],
    },
    /// Any other Routing Type, with header octets 4 to the end.
    Unknown {
        /// The Routing Type.
        routing_type: u8,
        /// The type-specific data.
        data: &'a [u8],
    },
}

/// The fields of a Routing header (RFC 8200 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6RoutingRepr<'a> {
    /// Next Header.
    pub next_header: u8,
    /// Segments Left.
    pub segments_left: u8,
    /// The typed body; it determines Routing Type and Hdr Ext Len.
    pub data: RoutingData<'a>,
}

impl<'a> Ipv6RoutingRepr<'a> {
    /// Reads a checked header. `BadLength("hdr ext len")` when the length
    /// cannot hold the type's structure: odd for type 0, not 2 for type 2;
    /// `BadLength("last entry")` when the SRH segment list overruns the
    /// header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(header: &Ipv6RoutingHeader<&'a T>) -> Result<Self> {
        let whole: &'a T = header.buffer;
        let data = &whole.as_ref()[4..header.header_len()];
        let body = match header.routing_type() {
            routing_type::TYPE0 => {
                if !header.hdr_ext_len().is_multiple_of(2) {
                    return Err(Error::BadLength("hdr ext len"));
                }
                RoutingData::Type0 { addresses: Ipv6AddrList::new(&data[4..])? }
            }
            routing_type::TYPE2 => {
                if header.hdr_ext_len() != 2 {
                    return Err(Error::BadLength("hdr ext len"));
                }
                let a: [u8; 16] = data[4..20].try_into().map_err(|_| Error::BadLength("hdr ext len"))?;
                RoutingData::Type2 { home_address: Ipv6Addr::from(a) }
            }
            routing_type::SRH => {
                let last_entry = data[0];
                let end = 4 + (usize::from(last_entry) + 1) * 16;
                let segments = data.get(4..end).ok_or(Error::BadLength("last entry"))?;
                RoutingData::Srh {
                    last_entry,
                    flags: data[1],
                    tag: read_u16(data, 2),
                    segments: Ipv6AddrList::new(segments)?,
                    tlvs: &data[end..],
                }
            }
            t => RoutingData::Unknown { routing_type: t, data },
        };
        Ok(Ipv6RoutingRepr {
            next_header: header.next_header(),
            segments_left: header.segments_left(),
            data: body,
        })
    }

    /// The Routing Type this repr emits.
    pub fn routing_type(&self) -> u8 {
        match self.data {
            RoutingData::Type0 { .. } => routing_type::TYPE0,
            RoutingData::Type2 { .. } => routing_type::TYPE2,
            RoutingData::Srh { .. } => routing_type::SRH,
            RoutingData::Unknown { routing_type, .. } => routing_type,
        }
    }

    /// The header length this repr emits.
    pub fn header_len(&self) -> usize {
        4 + match self.data {
            RoutingData::Type0 { addresses } => 4 + addresses.as_bytes().len(),
            RoutingData::Type2 { .. } => 20,
            RoutingData::Srh { segments, tlvs, .. } => 4 + segments.as_bytes().len() + tlvs.len(),
            RoutingData::Unknown { data, .. } => data.len(),
        }
    }

    /// Writes the header. `BadLength("routing data")` if the length is not a
    /// multiple of 8 or exceeds 2048; `BadField("last entry")` if an SRH's
    /// Last Entry disagrees with its segment count; `BadField("routing
    /// type")` for an `Unknown` with a type this module parses into another
    /// variant.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.header_len();
        if !len.is_multiple_of(8) || len > ext_len(u8::MAX) {
            return Err(Error::BadLength("routing data"));
        }
        match self.data {
            RoutingData::Srh { last_entry, segments, .. }
                if usize::from(last_entry) + 1 != segments.len() =>
            {
                return Err(Error::BadField("last entry"));
            }
            RoutingData::Unknown {
                routing_type: routing_type::TYPE0 | routing_type::TYPE2 | routing_type::SRH,
                ..
            } => {
                return Err(Error::BadField("routing type"));
            }
            _ => {}
        }
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        buf[0] = self.next_header;
        buf[1] = (len / 8 - 1) as u8;
        buf[2] = self.routing_type();
        buf[3] = self.segments_left;
        match self.data {
            RoutingData::Type0 { addresses } => {
                buf[4..8].fill(0);
                buf[8..len].copy_from_slice(addresses.as_bytes());
            }
            RoutingData::Type2 { home_address } => {
                buf[4..8].fill(0);
                buf[8..24].copy_from_slice(&home_address.octets());
            }
            RoutingData::Srh { last_entry, flags, tag, segments, tlvs } => {
                buf[4] = last_entry;
                buf[5] = flags;
                write_u16(buf, 6, tag);
                let end = 8 + segments.as_bytes().len();
                buf[8..end].copy_from_slice(segments.as_bytes());
                buf[end..len].copy_from_slice(tlvs);
            }
            RoutingData::Unknown { data, .. } => buf[4..len].copy_from_slice(data),
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// RFC 6275 §6.4 type 2 header carrying home address 2001:db8::1.
    const TYPE2: [u8; 24] =
        [0x3a, 0x02, 0x02, 0x01, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01];

    #[test]
    fn known_type2() {
        let h = Ipv6RoutingHeader::new_checked(&TYPE2[..]).unwrap();
        assert_eq!((h.next_header(), h.hdr_ext_len(), h.routing_type(), h.segments_left()), (58, 2, 2, 1));
        assert_eq!(h.header_len(), 24);
        assert_eq!(h.data().len(), 20);
        let r = Ipv6RoutingRepr::parse(&h).unwrap();
        assert_eq!(r.data, RoutingData::Type2 { home_address: a("2001:db8::1") });
        let mut out = [0u8; 24];
        assert_eq!(r.emit(&mut out), Ok(24));
        assert_eq!(out, TYPE2);
    }

    #[test]
    fn known_srh() {
        // RFC 8754 §2: two segments, Last Entry 1, Segments Left 1, tag 7, an 8-octet PadN TLV region.
        let mut b = vec![41, 5, 4, 1, 1, 0, 0, 7];
        b.extend_from_slice(&a("2001:db8::2").octets());
        b.extend_from_slice(&a("2001:db8::1").octets());
        b.extend_from_slice(&[4, 6, 0, 0, 0, 0, 0, 0]);
        let h = Ipv6RoutingHeader::new_checked(&b[..]).unwrap();
        assert_eq!(h.header_len(), 48);
        let r = Ipv6RoutingRepr::parse(&h).unwrap();
        let RoutingData::Srh { last_entry, flags, tag, segments, tlvs } = r.data else {
            panic!("not an SRH")
        };
        assert_eq!((last_entry, flags, tag), (1, 0, 7));
        assert_eq!(segments.iter().collect::<Vec<_>>(), vec![a("2001:db8::2"), a("2001:db8::1")]);
        assert_eq!(segments.get(1), Some(a("2001:db8::1")));
        assert_eq!(segments.get(2), None);
        assert_eq!(tlvs, &[4, 6, 0, 0, 0, 0, 0, 0]);
        let mut out = vec![0u8; 48];
        assert_eq!(r.emit(&mut out), Ok(48));
        assert_eq!(out, b);
    }

    #[test]
    fn type0_and_unknown() {
        let mut b = vec![6, 4, 0, 2, 0, 0, 0, 0];
        b.extend_from_slice(&a("2001:db8::a").octets());
        b.extend_from_slice(&a("2001:db8::b").octets());
        let h = Ipv6RoutingHeader::new_checked(&b[..]).unwrap();
        let r = Ipv6RoutingRepr::parse(&h).unwrap();
        let RoutingData::Type0 { addresses } = r.data else { panic!("not type 0") };
        assert_eq!(addresses.len(), 2);
        assert_eq!(r.routing_type(), 0);
        b[2] = 253;
        let h = Ipv6RoutingHeader::new_checked(&b[..]).unwrap();
        let r = Ipv6RoutingRepr::parse(&h).unwrap();
        assert_eq!(r.data, RoutingData::Unknown { routing_type: 253, data: &b[4..] });
    }

    #[test]
    fn setters() {
        let mut buf = TYPE2;
        let mut h = Ipv6RoutingHeader::new_checked(&mut buf[..]).unwrap();
        h.set_next_header(6);
        h.set_segments_left(0);
        h.data_mut()[19] = 2;
        assert_eq!((h.next_header(), h.segments_left()), (6, 0));
        assert_eq!(buf[23], 2);
    }

    #[test]
    fn short_routing_header_is_truncated() {
        assert_eq!(Ipv6RoutingHeader::new_checked(&TYPE2[..7]).unwrap_err(), Error::Truncated);
        assert_eq!(Ipv6RoutingHeader::new_checked(&TYPE2[..23]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn type2_hdr_ext_len_not_two_is_bad_length() {
        let mut b = [0u8; 32];
        b[..24].copy_from_slice(&TYPE2);
        b[1] = 3;
        let h = Ipv6RoutingHeader::new_checked(&b[..]).unwrap();
        assert_eq!(Ipv6RoutingRepr::parse(&h), Err(Error::BadLength("hdr ext len")));
    }

    #[test]
    fn type0_odd_hdr_ext_len_is_bad_length() {
        let b = [6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let h = Ipv6RoutingHeader::new_checked(&b[..]).unwrap();
        assert_eq!(Ipv6RoutingRepr::parse(&h), Err(Error::BadLength("hdr ext len")));
    }

    #[test]
    fn srh_last_entry_past_header_is_bad_length() {
        let mut b = vec![41, 2, 4, 0, 1, 0, 0, 0];
        b.extend_from_slice(&[0u8; 16]);
        let h = Ipv6RoutingHeader::new_checked(&b[..]).unwrap();
        assert_eq!(Ipv6RoutingRepr::parse(&h), Err(Error::BadLength("last entry")));
    }

    #[test]
    fn emit_rejects_inconsistent_reprs() {
        let seg = [0u8; 32];
        let r = Ipv6RoutingRepr {
            next_header: 41,
            segments_left: 0,
            data: RoutingData::Srh {
                last_entry: 0,
                flags: 0,
                tag: 0,
                segments: Ipv6AddrList::new(&seg).unwrap(),
                tlvs: &[],
            },
        };
        assert_eq!(r.emit(&mut [0u8; 40]), Err(Error::BadField("last entry")));
        let r = Ipv6RoutingRepr { data: RoutingData::Unknown { routing_type: 9, data: &[0; 3] }, ..r };
        assert_eq!(r.emit(&mut [0u8; 40]), Err(Error::BadLength("routing data")));
        let r = Ipv6RoutingRepr { data: RoutingData::Unknown { routing_type: 2, data: &[0; 4] }, ..r };
        assert_eq!(r.emit(&mut [0u8; 40]), Err(Error::BadField("routing type")));
        assert_eq!(Ipv6AddrList::new(&[0; 15]), Err(Error::BadLength("address list")));
    }

    fn arb_repr() -> impl Strategy<Value = (u8, u8, u8, u8, u16, Vec<u8>, Vec<u8>)> {
        // (nh, sl, kind, flags, tag, segments, tlvs/data)
        (
            any::<u8>(),
            any::<u8>(),
            0u8..4,
            any::<u8>(),
            any::<u16>(),
            (1usize..5).prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n * 16)),
            (0usize..3).prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n * 8 + 4)),
        )
    }

    proptest! {
        #[test]
        fn repr_round_trip((nh, sl, kind, flags, tag, segs, extra) in arb_repr()) {
            let addrs = Ipv6AddrList::new(&segs).unwrap();
            let evens = Ipv6AddrList::new(&segs[..segs.len() / 32 * 32]).unwrap();
            let data = match kind {
                0 => RoutingData::Type0 { addresses: evens },
                1 => RoutingData::Type2 { home_address: addrs.get(0).unwrap() },
                2 => RoutingData::Srh {
                    last_entry: (addrs.len() - 1) as u8, flags, tag, segments: addrs, tlvs: &extra[4..],
                },
                _ => RoutingData::Unknown { routing_type: 5 + flags % 200, data: &extra },
            };
            let r = Ipv6RoutingRepr { next_header: nh, segments_left: sl, data };
            let mut buf = vec![0u8; r.header_len()];
            if kind == 2 && !r.header_len().is_multiple_of(8) {
                prop_assert_eq!(r.emit(&mut buf), Err(Error::BadLength("routing data")));
            } else {
                prop_assert_eq!(r.emit(&mut buf), Ok(r.header_len()));
                let h = Ipv6RoutingHeader::new_checked(&buf[..]).unwrap();
                prop_assert_eq!(Ipv6RoutingRepr::parse(&h).unwrap(), r);
            }
        }

        #[test]
        fn bytes_round_trip(mut bytes in proptest::collection::vec(any::<u8>(), 8..80), kind in 0u8..5) {
            bytes[1] %= 10;
            bytes[2] = [0, 2, 4, 4, bytes[2]][usize::from(kind)];
            bytes[4] %= 5;
            if let Ok(h) = Ipv6RoutingHeader::new_checked(&bytes[..]) {
                if let Ok(r) = Ipv6RoutingRepr::parse(&h) {
                    let mut out = vec![0u8; r.header_len()];
                    prop_assert_eq!(r.emit(&mut out), Ok(h.header_len()));
                    let mut expect = bytes[..h.header_len()].to_vec();
                    if matches!(r.data, RoutingData::Type0 { .. } | RoutingData::Type2 { .. }) {
                        expect[4..8].fill(0); // Reserved
                    }
                    prop_assert_eq!(out, expect);
                }
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(h) = Ipv6RoutingHeader::new_checked(&bytes[..]) {
                let _ = (h.next_header(), h.hdr_ext_len(), h.routing_type(), h.segments_left(), h.data(), h.rest());
                if let Ok(r) = Ipv6RoutingRepr::parse(&h) {
                    prop_assert_eq!(r.header_len(), h.header_len());
                }
            }
        }
    }
}
