//! `Ipv4Repr`: the fields of an IPv4 header (RFC 791 §3.1), parsed from a
//! checked [`Ipv4Packet`] and emitted into a caller's buffer.

use super::{flag, offset, Ipv4Packet};
use crate::checksum;
use crate::error::{Error, Result};
use crate::field::{write_u16, write_u32};
use crate::ipv4_option::{Ipv4OptionIter, MAX_OPTIONS_LEN};
use std::net::Ipv4Addr;

/// The fields of an IPv4 header. Options are kept as raw (validated) bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr<'a> {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Protocol of the payload (see [`crate::ip::protocol`]).
    pub protocol: u8,
    /// Payload length: Total Length minus the header length.
    pub payload_len: usize,
    /// Time to Live.
    pub ttl: u8,
    /// DSCP, 6 bits (RFC 2474 §3).
    pub dscp: u8,
    /// ECN, 2 bits (RFC 3168 §5).
    pub ecn: u8,
    /// Identification (RFC 6864).
    pub ident: u16,
    /// Don't Fragment.
    pub dont_frag: bool,
    /// More Fragments.
    pub more_frags: bool,
    /// Fragment offset in bytes, a multiple of 8.
    pub frag_offset: u16,
    /// Raw options area: a multiple of 4 bytes, at most 40 (RFC 791 §3.1).
    pub options: &'a [u8],
}

impl<'a> Ipv4Repr<'a> {
    /// Reads a checked packet: verifies the header checksum (`BadChecksum`)
    /// and the options (`BadOption`, see [`Ipv4OptionIter`]). The reserved
    /// flag bit is ignored (RFC 1122 §1.2.2, be liberal) and emitted as zero.
    pub fn parse<T: AsRef<[u8]>>(packet: &'a Ipv4Packet<T>) -> Result<Self> {
        if !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let options = packet.options();
        Ipv4OptionIter::validate(options)?;
        Ok(Ipv4Repr {
            src: packet.src(),
            dst: packet.dst(),
            protocol: packet.protocol(),
            payload_len: usize::from(packet.total_len()).saturating_sub(packet.header_len()),
            ttl: packet.ttl(),
            dscp: packet.dscp(),
            ecn: packet.ecn(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
            options,
        })
    }

    /// The header length this repr emits: 20 plus the options.
    pub fn header_len(&self) -> usize {
        offset::HEADER + self.options.len()
    }

    /// Header plus payload: the Total Length this repr emits.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Writes the header (options and checksum included) into the start of
    /// `buf`; returns the header length. The caller writes the payload after it.
    ///
    /// Errors: `BadLength("options")` unless the options are a multiple of 4
    /// and at most 40 bytes; `BadOption` if they do not parse;
    /// `BadLength("total_length")` if header plus payload exceed 65535;
    /// `BadField("dscp" | "ecn" | "frag_offset")` for out-of-range values;
    /// `BufferTooSmall` if `buf` is shorter than the header.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if self.options.len() & 3 != 0 || self.options.len() > MAX_OPTIONS_LEN {
            return Err(Error::BadLength("options"));
        }
        Ipv4OptionIter::validate(self.options)?;
        let total = u16::try_from(self.buffer_len()).map_err(|_| Error::BadLength("total_length"))?;
        if self.dscp > 0x3f {
            return Err(Error::BadField("dscp"));
        }
        if self.ecn > 0x03 {
            return Err(Error::BadField("ecn"));
        }
        if self.frag_offset & 7 != 0 {
            return Err(Error::BadField("frag_offset"));
        }
        let h = self.header_len();
        if buf.len() < h {
            return Err(Error::BufferTooSmall);
        }
        let buf = &mut buf[..h];
        // `h <= 60`, so IHL fits its 4 bits.
        buf[offset::VER_IHL] = 0x40 | (h / 4) as u8;
        buf[offset::DSCP_ECN] = (self.dscp << 2) | self.ecn;
        write_u16(buf, offset::LENGTH, total);
        write_u16(buf, offset::IDENT, self.ident);
        let mut w = self.frag_offset / 8;
        if self.dont_frag {
            w |= flag::DF;
        }
        if self.more_frags {
            w |= flag::MF;
        }
        write_u16(buf, offset::FLAGS_FRAG, w);
        buf[offset::TTL] = self.ttl;
        buf[offset::PROTOCOL] = self.protocol;
        write_u16(buf, offset::CHECKSUM, 0);
        write_u32(buf, offset::SRC, self.src.to_bits());
        write_u32(buf, offset::DST, self.dst.to_bits());
        buf[offset::HEADER..].copy_from_slice(self.options);
        // A header is whole 32-bit words (IHL): the word sum, not the
        // byte loop.
        let c = !checksum::header_words_sum(buf);
        write_u16(buf, offset::CHECKSUM, c);
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipv4::tests::{classic, with_options};
    use proptest::prelude::*;

    #[test]
    fn bad_checksum_is_refused_by_repr() {
        let mut b = classic();
        b[11] ^= 1;
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert!(!p.verify_checksum());
        assert_eq!(Ipv4Repr::parse(&p), Err(Error::BadChecksum));
    }

    #[test]
    fn bad_option_is_refused_by_repr() {
        let mut b = with_options();
        b[21] = 0; // RR length 0
        let mut p = Ipv4Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum();
        assert_eq!(Ipv4Repr::parse(&p), Err(Error::BadOption("length")));
        p.options_mut()[1] = 40; // RR running past the area
        p.fill_checksum();
        assert_eq!(Ipv4Repr::parse(&p), Err(Error::BadOption("length")));
    }

    fn base_repr(options: &[u8]) -> Ipv4Repr<'_> {
        Ipv4Repr {
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(192, 0, 2, 2),
            protocol: 17,
            payload_len: 0,
            ttl: 64,
            dscp: 0,
            ecn: 0,
            ident: 0,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            options,
        }
    }

    #[test]
    fn emit_errors() {
        let mut buf = [0u8; 64];
        assert_eq!(base_repr(&[1, 1, 1]).emit(&mut buf), Err(Error::BadLength("options")));
        assert_eq!(base_repr(&[1; 44]).emit(&mut buf), Err(Error::BadLength("options")));
        assert_eq!(base_repr(&[148, 3, 0, 0]).emit(&mut buf), Err(Error::BadOption("length")));
        assert_eq!(
            Ipv4Repr { payload_len: 65516, ..base_repr(&[]) }.emit(&mut buf),
            Err(Error::BadLength("total_length"))
        );
        assert_eq!(Ipv4Repr { dscp: 64, ..base_repr(&[]) }.emit(&mut buf), Err(Error::BadField("dscp")));
        assert_eq!(Ipv4Repr { ecn: 4, ..base_repr(&[]) }.emit(&mut buf), Err(Error::BadField("ecn")));
        assert_eq!(
            Ipv4Repr { frag_offset: 4, ..base_repr(&[]) }.emit(&mut buf),
            Err(Error::BadField("frag_offset"))
        );
        assert_eq!(base_repr(&[]).emit(&mut buf[..19]), Err(Error::BufferTooSmall));
        assert_eq!(Ipv4Repr { payload_len: 65515, ..base_repr(&[]) }.emit(&mut buf), Ok(20));
    }

    prop_compose! {
        fn arb_repr_parts()(
            src in any::<u32>(), dst in any::<u32>(), protocol in any::<u8>(), payload_len in 0usize..64,
            ttl in any::<u8>(), dscp in 0u8..64, ecn in 0u8..4, ident in any::<u16>(), dont_frag in any::<bool>(),
            more_frags in any::<bool>(), frag_units in 0u16..0x2000, nops in 0usize..11,
        ) -> (Ipv4Repr<'static>, usize) {
            let repr = Ipv4Repr {
                src: Ipv4Addr::from(src), dst: Ipv4Addr::from(dst), protocol, payload_len, ttl, dscp, ecn, ident,
                dont_frag, more_frags, frag_offset: frag_units * 8, options: &[],
            };
            (repr, nops * 4)
        }
    }

    /// Option areas the parser accepts: NOPs, or RR + RA from the vector above.
    const OPTION_AREAS: [&[u8]; 3] =
        [&[1; 40], &[148, 4, 0, 0], &[7, 11, 8, 192, 0, 2, 1, 0, 0, 0, 0, 148, 4, 0, 0, 0]];

    proptest! {
        #[test]
        fn repr_round_trip((repr, nops) in arb_repr_parts(), area in 0usize..3, payload in any::<u8>()) {
            let options = if area == 0 { &OPTION_AREAS[0][..nops] } else { OPTION_AREAS[area] };
            let repr = Ipv4Repr { options, ..repr };
            let mut buf = vec![payload; repr.buffer_len()];
            prop_assert_eq!(repr.emit(&mut buf), Ok(repr.header_len()));
            let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Ipv4Repr::parse(&p).unwrap(), repr);
            prop_assert_eq!(p.payload().len(), repr.payload_len);
        }

        #[test]
        fn bytes_round_trip(mut bytes in proptest::collection::vec(any::<u8>(), 20..100), ihl in 5u8..16) {
            // Steer random bytes towards valid headers; the checksum is filled in.
            bytes[0] = 0x40 | ihl;
            let len = bytes.len() as u16;
            bytes[2..4].copy_from_slice(&len.to_be_bytes());
            let Ok(mut p) = Ipv4Packet::new_checked(&mut bytes[..]) else { return Ok(()) };
            p.fill_checksum();
            let bytes = p.into_inner().to_vec();
            let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
            if let Ok(repr) = Ipv4Repr::parse(&p) {
                let mut out = vec![0u8; repr.header_len()];
                repr.emit(&mut out).unwrap();
                // The reserved flag is not carried by the repr (emitted as 0),
                // and the checksum then differs; compare with both masked out.
                let mut expect = bytes[..repr.header_len()].to_vec();
                expect[6] &= 0x7f;
                expect[10..12].fill(0);
                let c = checksum::checksum(&expect);
                expect[10..12].copy_from_slice(&c.to_be_bytes());
                prop_assert_eq!(out, expect);
            }
        }
    }
}
