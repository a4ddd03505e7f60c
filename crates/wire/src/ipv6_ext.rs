//! IPv6 extension headers with a type-length-value body: Hop-by-Hop Options
//! (RFC 8200 §4.3) and Destination Options (RFC 8200 §4.6), which share one
//! format; and the IP Authentication Header (RFC 4302 §2), parsed as an
//! opaque length-bearing header so that a chain can be walked past it.

use crate::error::{Error, Result};
use crate::field::{read_u32, write_u32};
use crate::ipv6_option::{emit_options, options_len, validate_options, Ipv6Option, Ipv6OptionIter};

/// The smallest extension header: 8 octets (RFC 8200 §4.3).
pub const MIN_EXT_LEN: usize = 8;

/// The length of a header whose Hdr Ext Len counts 8-octet units not
/// including the first 8 (RFC 8200 §4.3, §4.4, §4.6).
pub(crate) fn ext_len(hdr_ext_len: u8) -> usize {
    (usize::from(hdr_ext_len) + 1) * 8
}

/// A checked view of a Hop-by-Hop Options or Destination Options header
/// (RFC 8200 §4.3, §4.6): Next Header, Hdr Ext Len, options. The buffer may
/// extend past the header; the view covers `header_len()` octets.
#[derive(Debug, Clone)]
pub struct Ipv6OptionsHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6OptionsHeader<T> {
    /// Wraps `buffer`, checking it holds the 8 octets of the smallest header
    /// and the `(Hdr Ext Len + 1) * 8` octets declared (`Truncated`). Options
    /// are not checked here; [`options`](Self::options) reports them.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < MIN_EXT_LEN || b.len() < ext_len(b[1]) {
            return Err(Error::Truncated);
        }
        Ok(Ipv6OptionsHeader { buffer })
    }

    /// The Next Header field (RFC 8200 §4.3).
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// The Hdr Ext Len field: 8-octet units, not counting the first 8.
    pub fn hdr_ext_len(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// The header's length in octets: `(Hdr Ext Len + 1) * 8`.
    pub fn header_len(&self) -> usize {
        ext_len(self.hdr_ext_len())
    }

    /// The raw options region (header octets 2 to the end).
    pub fn options_bytes(&self) -> &[u8] {
        &self.buffer.as_ref()[2..self.header_len()]
    }

    /// The options, with offsets counted from the start of this header.
    pub fn options(&self) -> Ipv6OptionIter<'_> {
        Ipv6OptionIter::new(self.options_bytes(), 2)
    }

    /// The octets after this header.
    pub fn rest(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6OptionsHeader<T> {
    /// Sets the Next Header field.
    pub fn set_next_header(&mut self, nh: u8) {
        self.buffer.as_mut()[0] = nh;
    }

    /// The options region, mutably (e.g. to rewrite a may-change option).
    pub fn options_bytes_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[2..end]
    }
}

/// The fields of a Hop-by-Hop or Destination Options header (RFC 8200 §4.3,
/// §4.6). `options` is the raw, validated options region, emitted verbatim;
/// build one from typed options with [`emit_options_header`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6OptionsRepr<'a> {
    /// Next Header.
    pub next_header: u8,
    /// The options region; `2 + options.len()` is a multiple of 8, at most 2048.
    pub options: &'a [u8],
}

impl<'a> Ipv6OptionsRepr<'a> {
    /// Reads a checked header, validating every option
    /// (`BadOption("length")` etc., see [`Ipv6OptionIter`]).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(header: &Ipv6OptionsHeader<&'a T>) -> Result<Self> {
        let whole: &'a T = header.buffer;
        let options = &whole.as_ref()[2..header.header_len()];
        validate_options(options)?;
        Ok(Ipv6OptionsRepr { next_header: header.next_header(), options })
    }

    /// The typed options.
    pub fn iter(&self) -> Ipv6OptionIter<'a> {
        Ipv6OptionIter::new(self.options, 2)
    }

    /// The header length this repr emits.
    pub fn header_len(&self) -> usize {
        2 + self.options.len()
    }

    /// Writes the header; `BadLength("options")` if `2 + options.len()` is
    /// not a multiple of 8 or exceeds 2048 (Hdr Ext Len is one octet).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.header_len();
        if !len.is_multiple_of(8) || len > ext_len(u8::MAX) {
            return Err(Error::BadLength("options"));
        }
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        buf[0] = self.next_header;
        buf[1] = (len / 8 - 1) as u8;
        buf[2..len].copy_from_slice(self.options);
        Ok(len)
    }
}

/// The length of the header [`emit_options_header`] writes for `options`.
pub fn options_header_len(options: &[Ipv6Option<'_>]) -> usize {
    2 + options_len(options)
}

/// Writes a Hop-by-Hop or Destination Options header holding `options`,
/// aligned and padded (RFC 8200 §4.2); returns its length.
/// `BadLength("options")` if it would exceed 2048 octets.
pub fn emit_options_header(next_header: u8, options: &[Ipv6Option<'_>], buf: &mut [u8]) -> Result<usize> {
    let len = options_header_len(options);
    if len > ext_len(u8::MAX) {
        return Err(Error::BadLength("options"));
    }
    if buf.len() < len {
        return Err(Error::BufferTooSmall);
    }
    emit_options(options, &mut buf[2..len])?;
    buf[0] = next_header;
    buf[1] = (len / 8 - 1) as u8;
    Ok(len)
}

/// Fixed part of the Authentication Header: Next Header, Payload Len,
/// Reserved, SPI, Sequence Number (RFC 4302 §2).
pub const AH_MIN_LEN: usize = 12;

/// A checked view of an IP Authentication Header (RFC 4302 §2). Its Payload
/// Len counts 4-octet units minus 2, unlike the other extension headers.
#[derive(Debug, Clone)]
pub struct IpAuthHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IpAuthHeader<T> {
    /// Wraps `buffer`: `Truncated` below 12 octets or below the declared
    /// length; `BadLength("payload len")` for a Payload Len of 0 (a header of
    /// 8 octets cannot hold the SPI and Sequence Number).
    ///
    /// Not enforced: the IPv6 rule that the length be a multiple of 8
    /// (RFC 4302 §2.2) — policy for the core.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < AH_MIN_LEN {
            return Err(Error::Truncated);
        }
        if b[1] == 0 {
            return Err(Error::BadLength("payload len"));
        }
        if b.len() < (usize::from(b[1]) + 2) * 4 {
            return Err(Error::Truncated);
        }
        Ok(IpAuthHeader { buffer })
    }

    /// The Next Header field (RFC 4302 §2.1).
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// The Payload Len field: header length in 4-octet units minus 2
    /// (RFC 4302 §2.2).
    pub fn payload_len(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// The header's length in octets: `(Payload Len + 2) * 4`.
    pub fn header_len(&self) -> usize {
        (usize::from(self.payload_len()) + 2) * 4
    }

    /// The Security Parameters Index (RFC 4302 §2.4).
    pub fn spi(&self) -> u32 {
        read_u32(self.buffer.as_ref(), 4)
    }

    /// The Sequence Number (RFC 4302 §2.5).
    pub fn sequence_number(&self) -> u32 {
        read_u32(self.buffer.as_ref(), 8)
    }

    /// The Integrity Check Value, opaque (RFC 4302 §2.6).
    pub fn icv(&self) -> &[u8] {
        &self.buffer.as_ref()[AH_MIN_LEN..self.header_len()]
    }

    /// The octets after this header.
    pub fn rest(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

/// The fields of an Authentication Header (RFC 4302 §2); Reserved is
/// emitted as zero (RFC 4302 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpAuthRepr<'a> {
    /// Next Header.
    pub next_header: u8,
    /// Security Parameters Index.
    pub spi: u32,
    /// Sequence Number.
    pub sequence_number: u32,
    /// Integrity Check Value; a multiple of 4 octets, at most 1016.
    pub icv: &'a [u8],
}

impl<'a> IpAuthRepr<'a> {
    /// Reads a checked header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(header: &IpAuthHeader<&'a T>) -> Result<Self> {
        let whole: &'a T = header.buffer;
        Ok(IpAuthRepr {
            next_header: header.next_header(),
            spi: header.spi(),
            sequence_number: header.sequence_number(),
            icv: &whole.as_ref()[AH_MIN_LEN..header.header_len()],
        })
    }

    /// The header length this repr emits.
    pub fn header_len(&self) -> usize {
        AH_MIN_LEN + self.icv.len()
    }

    /// Writes the header; `BadLength("icv")` if the ICV is not a multiple of 4
    /// octets or too long for the one-octet Payload Len.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.header_len();
        if !len.is_multiple_of(4) || len / 4 - 2 > usize::from(u8::MAX) {
            return Err(Error::BadLength("icv"));
        }
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        buf[0] = self.next_header;
        buf[1] = (len / 4 - 2) as u8;
        buf[2] = 0;
        buf[3] = 0;
        write_u32(buf, 4, self.spi);
        write_u32(buf, 8, self.sequence_number);
        buf[AH_MIN_LEN..len].copy_from_slice(self.icv);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::protocol;
    use proptest::prelude::*;

    /// MLDv2 report's Hop-by-Hop header: next ICMPv6, len 0, Router Alert 0,
    /// PadN(0) (RFC 3810 §5, RFC 2711).
    const MLD_HBH: [u8; 8] = [0x3a, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00];

    #[test]
    fn known_hop_by_hop() {
        let h = Ipv6OptionsHeader::new_checked(&MLD_HBH[..]).unwrap();
        assert_eq!(h.next_header(), protocol::ICMPV6);
        assert_eq!(h.hdr_ext_len(), 0);
        assert_eq!(h.header_len(), 8);
        let opts: Vec<_> = h.options().map(|o| o.unwrap()).collect();
        assert_eq!(opts, vec![(2, Ipv6Option::RouterAlert(0)), (6, Ipv6Option::PadN(&[]))]);
        let repr = Ipv6OptionsRepr::parse(&h).unwrap();
        let mut out = [0u8; 8];
        assert_eq!(repr.emit(&mut out), Ok(8));
        assert_eq!(out, MLD_HBH);
        let mut out2 = [0u8; 8];
        assert_eq!(emit_options_header(protocol::ICMPV6, &[Ipv6Option::RouterAlert(0)], &mut out2), Ok(8));
        assert_eq!(out2, MLD_HBH);
    }

    #[test]
    fn setters() {
        let mut buf = MLD_HBH;
        let mut h = Ipv6OptionsHeader::new_checked(&mut buf[..]).unwrap();
        h.set_next_header(protocol::UDP);
        h.options_bytes_mut()[2] = 0x80;
        assert_eq!(h.next_header(), protocol::UDP);
        assert_eq!(h.options().next(), Some(Ok((2, Ipv6Option::RouterAlert(0x8000)))));
    }

    #[test]
    fn short_options_header_is_truncated() {
        assert_eq!(Ipv6OptionsHeader::new_checked(&MLD_HBH[..7]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn options_hdr_ext_len_past_buffer_is_truncated() {
        let mut buf = MLD_HBH;
        buf[1] = 1;
        assert_eq!(Ipv6OptionsHeader::new_checked(&buf[..]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn option_running_past_header_is_bad_option() {
        // PadN claims 6 data octets but only 4 remain in the header.
        let buf = [0x3a, 0x00, 0x01, 0x06, 0, 0, 0, 0, 0xee, 0xee];
        let h = Ipv6OptionsHeader::new_checked(&buf[..]).unwrap();
        assert_eq!(Ipv6OptionsRepr::parse(&h), Err(Error::BadOption("length")));
    }

    #[test]
    fn unaligned_options_repr_is_bad_length() {
        let r = Ipv6OptionsRepr { next_header: 59, options: &[0, 0, 0] };
        assert_eq!(r.emit(&mut [0u8; 8]), Err(Error::BadLength("options")));
        let big = [0u8; 2054];
        let r = Ipv6OptionsRepr { next_header: 59, options: &big };
        assert_eq!(r.emit(&mut [0u8; 3000]), Err(Error::BadLength("options")));
        let pads = [Ipv6Option::PadN(&[0u8; 200]); 11];
        assert_eq!(emit_options_header(59, &pads, &mut [0u8; 3000]), Err(Error::BadLength("options")));
        assert_eq!(r.emit(&mut [0u8; 8]), Err(Error::BadLength("options")));
    }

    /// AH with a 96-bit ICV (HMAC-SHA1-96, RFC 2404): Payload Len 4, 24 octets.
    const AH: [u8; 24] = [
        0x06, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2a, // TCP, SPI 256, seq 42
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ];

    #[test]
    fn known_auth_header() {
        let h = IpAuthHeader::new_checked(&AH[..]).unwrap();
        assert_eq!(h.next_header(), protocol::TCP);
        assert_eq!(h.payload_len(), 4);
        assert_eq!(h.header_len(), 24);
        assert_eq!(h.spi(), 256);
        assert_eq!(h.sequence_number(), 42);
        assert_eq!(h.icv(), &AH[12..]);
        assert!(h.rest().is_empty());
        let repr = IpAuthRepr::parse(&h).unwrap();
        let mut out = [0xffu8; 24];
        assert_eq!(repr.emit(&mut out), Ok(24));
        assert_eq!(out, AH);
    }

    #[test]
    fn ah_payload_len_zero_is_bad_length() {
        let mut buf = AH;
        buf[1] = 0;
        assert_eq!(IpAuthHeader::new_checked(&buf[..]).unwrap_err(), Error::BadLength("payload len"));
    }

    #[test]
    fn ah_truncated() {
        assert_eq!(IpAuthHeader::new_checked(&AH[..11]).unwrap_err(), Error::Truncated);
        assert_eq!(IpAuthHeader::new_checked(&AH[..23]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn ah_odd_icv_is_bad_length() {
        let r = IpAuthRepr { next_header: 6, spi: 1, sequence_number: 1, icv: &[1, 2, 3] };
        assert_eq!(r.emit(&mut [0u8; 16]), Err(Error::BadLength("icv")));
        let big = [0u8; 1020];
        let r = IpAuthRepr { icv: &big, ..r };
        assert_eq!(r.emit(&mut [0u8; 1100]), Err(Error::BadLength("icv")));
        let r = IpAuthRepr { icv: &[], ..r };
        assert_eq!(r.emit(&mut [0u8; 11]), Err(Error::BufferTooSmall));
    }

    proptest! {
        #[test]
        fn options_repr_round_trip(
            nh in any::<u8>(),
            opts in proptest::collection::vec(crate::ipv6_option::tests::arb_option(), 0..5),
        ) {
            let mut buf = vec![0u8; options_header_len(&opts)];
            let n = emit_options_header(nh, &opts, &mut buf).unwrap();
            let h = Ipv6OptionsHeader::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(h.header_len(), n);
            let repr = Ipv6OptionsRepr::parse(&h).unwrap();
            prop_assert_eq!(repr.next_header, nh);
            let mut out = vec![0u8; n];
            repr.emit(&mut out).unwrap();
            prop_assert_eq!(out, buf.clone());
        }

        #[test]
        fn auth_repr_round_trip(nh in any::<u8>(), spi in any::<u32>(), seq in any::<u32>(), words in 0usize..8) {
            let icv: Vec<u8> = (0..words * 4).map(|i| i as u8).collect();
            let repr = IpAuthRepr { next_header: nh, spi, sequence_number: seq, icv: &icv };
            let mut buf = vec![0u8; repr.header_len()];
            repr.emit(&mut buf).unwrap();
            let h = IpAuthHeader::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(IpAuthRepr::parse(&h).unwrap(), repr);
        }

        #[test]
        fn bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 8..48)) {
            if let Ok(h) = Ipv6OptionsHeader::new_checked(&bytes[..]) {
                if let Ok(repr) = Ipv6OptionsRepr::parse(&h) {
                    let mut out = vec![0u8; repr.header_len()];
                    repr.emit(&mut out).unwrap();
                    prop_assert_eq!(&out[..], &bytes[..h.header_len()]);
                }
            }
            if let Ok(h) = IpAuthHeader::new_checked(&bytes[..]) {
                let repr = IpAuthRepr::parse(&h).unwrap();
                let mut out = vec![0u8; repr.header_len()];
                repr.emit(&mut out).unwrap();
                let mut expect = bytes[..h.header_len()].to_vec();
                expect[2] = 0; // Reserved is not part of the repr
                expect[3] = 0;
                prop_assert_eq!(out, expect);
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
            if let Ok(h) = Ipv6OptionsHeader::new_checked(&bytes[..]) {
                let _ = (h.next_header(), h.hdr_ext_len(), h.header_len(), h.rest());
                let _ = h.options().count();
                let _ = Ipv6OptionsRepr::parse(&h);
            }
            if let Ok(h) = IpAuthHeader::new_checked(&bytes[..]) {
                let _ = (h.next_header(), h.payload_len(), h.spi(), h.sequence_number(), h.icv(), h.rest());
                let _ = IpAuthRepr::parse(&h).unwrap();
            }
        }
    }
}
