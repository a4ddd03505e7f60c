//! The IPv6 Fragment header (RFC 8200 §4.5).

use crate::error::{Error, Result};
use crate::field::{read_u16, read_u32, write_u16, write_u32};

/// The Fragment header's length: always 8 octets (RFC 8200 §4.5).
pub const FRAGMENT_HEADER_LEN: usize = 8;

/// Largest fragment offset in octets: 13 bits of 8-octet units.
pub const FRAGMENT_OFFSET_MAX: u16 = 0xfff8;

/// A checked view of a Fragment header (RFC 8200 §4.5). The buffer may
/// extend past the header.
#[derive(Debug, Clone)]
pub struct Ipv6FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6FragmentHeader<T> {
    /// Wraps `buffer`, checking it holds 8 octets (`Truncated`).
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < FRAGMENT_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Ipv6FragmentHeader { buffer })
    }

    /// The Next Header field: the first header of the fragmentable part.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// The Fragment Offset in octets (the 13-bit field times 8).
    pub fn fragment_offset(&self) -> u16 {
        read_u16(self.buffer.as_ref(), 2) & 0xfff8
    }

    /// The M flag: more fragments follow.
    pub fn more_fragments(&self) -> bool {
        self.buffer.as_ref()[3] & 0x01 != 0
    }

    /// The Identification (RFC 8200 §4.5, RFC 7739).
    pub fn identification(&self) -> u32 {
        read_u32(self.buffer.as_ref(), 4)
    }

    /// Whether this is an atomic fragment: offset 0 and M clear (RFC 6946 §2);
    /// the packet is whole and must be processed without reassembly.
    pub fn is_atomic(&self) -> bool {
        self.fragment_offset() == 0 && !self.more_fragments()
    }

    /// The octets after this header.
    pub fn rest(&self) -> &[u8] {
        &self.buffer.as_ref()[FRAGMENT_HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6FragmentHeader<T> {
    /// Sets the Next Header field.
    pub fn set_next_header(&mut self, nh: u8) {
        self.buffer.as_mut()[0] = nh;
    }

    /// Sets the Fragment Offset in octets; the low three bits are dropped.
    pub fn set_fragment_offset(&mut self, offset: u16) {
        let b = self.buffer.as_mut();
        let word = read_u16(b, 2);
        write_u16(b, 2, (offset & 0xfff8) | (word & 0x0007));
    }

    /// Sets the M flag.
    pub fn set_more_fragments(&mut self, more: bool) {
        let b = self.buffer.as_mut();
        b[3] = (b[3] & !0x01) | u8::from(more);
    }

    /// Sets the Identification.
    pub fn set_identification(&mut self, id: u32) {
        write_u32(self.buffer.as_mut(), 4, id);
    }
}

/// The fields of a Fragment header (RFC 8200 §4.5). The two Reserved fields
/// are ignored on parse and emitted as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6FragmentRepr {
    /// Next Header of the fragmentable part.
    pub next_header: u8,
    /// Fragment Offset in octets; a multiple of 8.
    pub fragment_offset: u16,
    /// M flag.
    pub more_fragments: bool,
    /// Identification.
    pub identification: u32,
}

impl Ipv6FragmentRepr {
    /// Reads a checked header.
    pub fn parse<T: AsRef<[u8]>>(header: &Ipv6FragmentHeader<T>) -> Result<Self> {
        Ok(Ipv6FragmentRepr {
            next_header: header.next_header(),
            fragment_offset: header.fragment_offset(),
            more_fragments: header.more_fragments(),
            identification: header.identification(),
        })
    }

    /// Offset 0 and M clear (RFC 6946).
    pub fn is_atomic(&self) -> bool {
        self.fragment_offset == 0 && !self.more_fragments
    }

    /// The header length: 8.
    pub fn header_len(&self) -> usize {
        FRAGMENT_HEADER_LEN
    }

    /// Writes the header; `BadField("fragment offset")` if the offset is not
    /// a multiple of 8.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if !self.fragment_offset.is_multiple_of(8) {
            return Err(Error::BadField("fragment offset"));
        }
        if buf.len() < FRAGMENT_HEADER_LEN {
            return Err(Error::BufferTooSmall);
        }
        buf[0] = self.next_header;
        buf[1] = 0;
        write_u16(buf, 2, self.fragment_offset | u16::from(self.more_fragments));
        write_u32(buf, 4, self.identification);
        Ok(FRAGMENT_HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Second fragment of a UDP datagram: offset 1448 (181 units), M set, id 0xdeadbeef.
    const FRAG: [u8; 8] = [0x11, 0x00, 0x05, 0xa9, 0xde, 0xad, 0xbe, 0xef];

    #[test]
    fn known_fragment() {
        let f = Ipv6FragmentHeader::new_checked(&FRAG[..]).unwrap();
        assert_eq!(f.next_header(), 17);
        assert_eq!(f.fragment_offset(), 1448);
        assert!(f.more_fragments());
        assert_eq!(f.identification(), 0xdead_beef);
        assert!(!f.is_atomic());
        let r = Ipv6FragmentRepr::parse(&f).unwrap();
        let mut out = [0u8; 8];
        assert_eq!(r.emit(&mut out), Ok(8));
        assert_eq!(out, FRAG);
    }

    #[test]
    fn atomic_fragment() {
        let f = Ipv6FragmentHeader::new_checked(&[0x3a, 0, 0, 0, 0, 0, 0, 1][..]).unwrap();
        assert!(f.is_atomic());
        assert!(Ipv6FragmentRepr::parse(&f).unwrap().is_atomic());
    }

    #[test]
    fn setters() {
        let mut buf = FRAG;
        buf[3] |= 0x06; // reserved bits survive the setters
        let mut f = Ipv6FragmentHeader::new_checked(&mut buf[..]).unwrap();
        f.set_next_header(6);
        f.set_fragment_offset(8);
        f.set_more_fragments(false);
        f.set_identification(7);
        assert_eq!(
            (f.next_header(), f.fragment_offset(), f.more_fragments(), f.identification()),
            (6, 8, false, 7)
        );
        assert_eq!(buf[3], 0x0e);
    }

    #[test]
    fn short_fragment_is_truncated() {
        assert_eq!(Ipv6FragmentHeader::new_checked(&FRAG[..7]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn unaligned_offset_is_bad_field() {
        let r = Ipv6FragmentRepr {
            next_header: 17,
            fragment_offset: 12,
            more_fragments: true,
            identification: 1,
        };
        assert_eq!(r.emit(&mut [0u8; 8]), Err(Error::BadField("fragment offset")));
        let r = Ipv6FragmentRepr { fragment_offset: 16, ..r };
        assert_eq!(r.emit(&mut [0u8; 7]), Err(Error::BufferTooSmall));
    }

    proptest! {
        #[test]
        fn repr_round_trip(nh in any::<u8>(), units in 0u16..8192, m in any::<bool>(), id in any::<u32>()) {
            let r = Ipv6FragmentRepr { next_header: nh, fragment_offset: units * 8, more_fragments: m, identification: id };
            let mut buf = [0u8; 8];
            r.emit(&mut buf).unwrap();
            let f = Ipv6FragmentHeader::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Ipv6FragmentRepr::parse(&f).unwrap(), r);
        }

        #[test]
        fn bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
            if let Ok(f) = Ipv6FragmentHeader::new_checked(&bytes[..]) {
                let _ = (f.rest(), f.is_atomic());
                let r = Ipv6FragmentRepr::parse(&f).unwrap();
                let mut out = [0u8; 8];
                r.emit(&mut out).unwrap();
                let mut expect = [0u8; 8];
                expect.copy_from_slice(&bytes[..8]);
                expect[1] = 0; // Reserved
                expect[3] &= !0x06; // Res
                prop_assert_eq!(out, expect);
            }
        }
    }
}
