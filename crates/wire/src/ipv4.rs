//! IPv4 headers (RFC 791 §3.1, RFC 1122 §3.2.1, RFC 6864 for the
//! Identification field): a checked view with the router's fast-path setters
//! (incremental checksum update, RFC 1624) and a borrowing `Ipv4Repr`.
//!
//! The view reports structure; policy (martian addresses, TTL expiry,
//! fragment reassembly, which options a router honours) belongs to the core.

use crate::checksum::{self, update_u16, update_u32};
use crate::error::{Error, Result};
use crate::field::{read_u16, read_u32, write_u16, write_u32};
use crate::ipv4_option::Ipv4OptionIter;
use std::net::Ipv4Addr;

mod repr;
pub use repr::Ipv4Repr;

mod offset {
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLAGS_FRAG: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
    /// The fixed header, without options.
    pub const HEADER: usize = 20;
}

/// [`Ipv4Packet::decrement_ttl`] on the bytes of a header already validated
/// (the forwarding paths, which checked it on input): TTL − 1 with the
/// RFC 1624 eqn. 3 incremental checksum over the TTL/protocol word (RFC 1812
/// §5.3.1). Returns the new TTL; `None`, with nothing changed, if TTL is 0
/// or `header` is shorter than the checksum field.
#[inline]
pub fn decrement_ttl_in_place(header: &mut [u8]) -> Option<u8> {
    let b = header.get_mut(offset::TTL..offset::CHECKSUM + 2)?;
    let old = u16::from_be_bytes([b[0], b[1]]);
    if old < 0x0100 {
        return None;
    }
    let new = old - 0x0100;
    let c = update_u16(u16::from_be_bytes([b[2], b[3]]), old, new);
    b[0..2].copy_from_slice(&new.to_be_bytes());
    b[2..4].copy_from_slice(&c.to_be_bytes());
    Some(b[0])
}

/// Flag bits of the 16-bit flags/fragment-offset word (RFC 791 §3.1).
mod flag {
    /// Bit 0: reserved, must be zero.
    pub const RESERVED: u16 = 0x8000;
    /// Bit 1: Don't Fragment.
    pub const DF: u16 = 0x4000;
    /// Bit 2: More Fragments.
    pub const MF: u16 = 0x2000;
    /// The 13-bit fragment offset, in units of 8 octets.
    pub const OFFSET: u16 = 0x1fff;
}

/// The length of an IPv4 header without options (RFC 791 §3.1).
pub const HEADER_LEN: usize = offset::HEADER;

/// A checked view of an IPv4 packet.
///
/// `new_checked` proves that the whole header (with options) and the whole
/// datagram as declared by Total Length are inside the buffer; bytes past
/// Total Length (e.g. Ethernet padding) are allowed and ignored.
#[derive(Debug, Clone)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps `buffer`, validating (in this order): at least 20 bytes
    /// (`Truncated`), version 4 (`BadVersion`), IHL >= 5 (`BadLength("ihl")`),
    /// the header inside the buffer (`Truncated`), Total Length >= header length
    /// (`BadLength("total_length")`) and Total Length inside the buffer
    /// (`Truncated`). RFC 791 §3.1, RFC 1122 §3.2.1.1-2.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < offset::HEADER {
            return Err(Error::Truncated);
        }
        if b[offset::VER_IHL] >> 4 != 4 {
            return Err(Error::BadVersion);
        }
        let header_len = usize::from(b[offset::VER_IHL] & 0x0f) * 4;
        if header_len < offset::HEADER {
            return Err(Error::BadLength("ihl"));
        }
        if header_len > b.len() {
            return Err(Error::Truncated);
        }
        let total_len = usize::from(read_u16(b, offset::LENGTH));
        if total_len < header_len {
            return Err(Error::BadLength("total_length"));
        }
        if total_len > b.len() {
            return Err(Error::Truncated);
        }
        Ok(Ipv4Packet { buffer })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The version field: always 4 in a checked view (RFC 791 §3.1).
    pub fn version(&self) -> u8 {
        self.bytes()[offset::VER_IHL] >> 4
    }

    /// The header length in bytes: IHL * 4, 20..=60 (RFC 791 §3.1).
    pub fn header_len(&self) -> usize {
        usize::from(self.bytes()[offset::VER_IHL] & 0x0f) * 4
    }

    /// The Differentiated Services code point, 6 bits (RFC 2474 §3).
    pub fn dscp(&self) -> u8 {
        self.bytes()[offset::DSCP_ECN] >> 2
    }

    /// The ECN field, 2 bits (RFC 3168 §5).
    pub fn ecn(&self) -> u8 {
        self.bytes()[offset::DSCP_ECN] & 0x03
    }

    /// Total Length: header plus data, in bytes (RFC 791 §3.1).
    pub fn total_len(&self) -> u16 {
        read_u16(self.bytes(), offset::LENGTH)
    }

    /// Identification (RFC 791 §3.1; RFC 6864: meaningful only for fragments).
    pub fn ident(&self) -> u16 {
        read_u16(self.bytes(), offset::IDENT)
    }

    /// The reserved flag bit (RFC 791 §3.1 "Bit 0: reserved, must be zero").
    /// Reported, not enforced.
    pub fn reserved_flag(&self) -> bool {
        read_u16(self.bytes(), offset::FLAGS_FRAG) & flag::RESERVED != 0
    }

    /// The Don't Fragment flag (RFC 791 §3.1).
    pub fn dont_frag(&self) -> bool {
        read_u16(self.bytes(), offset::FLAGS_FRAG) & flag::DF != 0
    }

    /// The More Fragments flag (RFC 791 §3.1).
    pub fn more_frags(&self) -> bool {
        read_u16(self.bytes(), offset::FLAGS_FRAG) & flag::MF != 0
    }

    /// The fragment offset in bytes (the field counts 8-octet units, RFC 791 §3.1).
    pub fn frag_offset(&self) -> u16 {
        (read_u16(self.bytes(), offset::FLAGS_FRAG) & flag::OFFSET) * 8
    }

    /// Whether this datagram is a fragment (MF set or a non-zero offset).
    pub fn is_fragment(&self) -> bool {
        read_u16(self.bytes(), offset::FLAGS_FRAG) & (flag::MF | flag::OFFSET) != 0
    }

    /// Time to Live (RFC 791 §3.1).
    pub fn ttl(&self) -> u8 {
        self.bytes()[offset::TTL]
    }

    /// The protocol of the payload (see [`crate::ip::protocol`]).
    pub fn protocol(&self) -> u8 {
        self.bytes()[offset::PROTOCOL]
    }

    /// The header checksum field (RFC 791 §3.1).
    pub fn checksum(&self) -> u16 {
        read_u16(self.bytes(), offset::CHECKSUM)
    }

    /// The source address.
    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_u32(self.bytes(), offset::SRC))
    }

    /// The destination address.
    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_u32(self.bytes(), offset::DST))
    }

    /// The raw options area (octets 20 to the header end), possibly empty.
    pub fn options(&self) -> &[u8] {
        &self.bytes()[offset::HEADER..self.header_len()]
    }

    /// An iterator over the options (see [`Ipv4OptionIter`]).
    pub fn option_iter(&self) -> Ipv4OptionIter<'_> {
        Ipv4OptionIter::new(self.options())
    }

    /// The header bytes, options included.
    pub fn header(&self) -> &[u8] {
        &self.bytes()[..self.header_len()]
    }

    /// The payload: from the header end to Total Length (trailing link-layer
    /// padding excluded).
    pub fn payload(&self) -> &[u8] {
        let b = self.bytes();
        // Both bounds were proven by `new_checked` and kept by `set_total_len`;
        // the clamps only keep this total.
        let end = usize::from(self.total_len()).min(b.len());
        let start = self.header_len().min(end);
        &b[start..end]
    }

    /// Whether the header checksum verifies (RFC 791 §3.1, RFC 1071).
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(self.header())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Sets the source address (checksum not touched; see [`Self::rewrite_src`]).
    pub fn set_src(&mut self, addr: Ipv4Addr) {
        write_u32(self.bytes_mut(), offset::SRC, addr.to_bits());
    }

    /// Sets the destination address (checksum not touched; see [`Self::rewrite_dst`]).
    pub fn set_dst(&mut self, addr: Ipv4Addr) {
        write_u32(self.bytes_mut(), offset::DST, addr.to_bits());
    }

    /// Sets the source address and updates the header checksum incrementally
    /// (RFC 1624 eqn. 3), e.g. for NAT.
    pub fn rewrite_src(&mut self, addr: Ipv4Addr) {
        let old = self.src().to_bits();
        self.set_src(addr);
        self.update_checksum_u32(old, addr.to_bits());
    }

    /// Sets the destination address and updates the header checksum
    /// incrementally (RFC 1624 eqn. 3).
    pub fn rewrite_dst(&mut self, addr: Ipv4Addr) {
        let old = self.dst().to_bits();
        self.set_dst(addr);
        self.update_checksum_u32(old, addr.to_bits());
    }

    fn update_checksum_u32(&mut self, old: u32, new: u32) {
        let c = update_u32(self.checksum(), old, new);
        write_u16(self.bytes_mut(), offset::CHECKSUM, c);
    }

    /// Sets Time to Live (checksum not touched).
    pub fn set_ttl(&mut self, ttl: u8) {
        self.bytes_mut()[offset::TTL] = ttl;
    }

    /// The router's fast path (RFC 1812 §5.3.1): decrements TTL by one and
    /// updates the checksum incrementally (RFC 1624 eqn. 3) over the
    /// TTL/protocol word. Returns the new TTL; `BadField("ttl")` if TTL is
    /// already 0 (nothing is changed then).
    pub fn decrement_ttl(&mut self) -> Result<u8> {
        decrement_ttl_in_place(self.bytes_mut()).ok_or(Error::BadField("ttl"))
    }

    /// Sets the Identification field (checksum not touched).
    pub fn set_ident(&mut self, ident: u16) {
        write_u16(self.bytes_mut(), offset::IDENT, ident);
    }

    /// Sets the protocol field (checksum not touched).
    pub fn set_protocol(&mut self, protocol: u8) {
        self.bytes_mut()[offset::PROTOCOL] = protocol;
    }

    /// Sets the DSCP (6 bits, RFC 2474 §3); `BadField("dscp")` above 63.
    pub fn set_dscp(&mut self, dscp: u8) -> Result<()> {
        if dscp > 0x3f {
            return Err(Error::BadField("dscp"));
        }
        let b = self.bytes_mut();
        b[offset::DSCP_ECN] = (dscp << 2) | (b[offset::DSCP_ECN] & 0x03);
        Ok(())
    }

    /// Sets the ECN field (2 bits, RFC 3168 §5); `BadField("ecn")` above 3.
    pub fn set_ecn(&mut self, ecn: u8) -> Result<()> {
        if ecn > 0x03 {
            return Err(Error::BadField("ecn"));
        }
        let b = self.bytes_mut();
        b[offset::DSCP_ECN] = (b[offset::DSCP_ECN] & 0xfc) | ecn;
        Ok(())
    }

    /// Sets Total Length (checksum not touched). It must cover the header and
    /// fit the buffer (`BadLength("total_length")`), so the view stays valid.
    pub fn set_total_len(&mut self, len: u16) -> Result<()> {
        let l = usize::from(len);
        if l < self.header_len() || l > self.bytes().len() {
            return Err(Error::BadLength("total_length"));
        }
        write_u16(self.bytes_mut(), offset::LENGTH, len);
        Ok(())
    }

    /// Sets the Don't Fragment flag (checksum not touched).
    pub fn set_dont_frag(&mut self, value: bool) {
        self.set_flag(flag::DF, value);
    }

    /// Sets the More Fragments flag (checksum not touched).
    pub fn set_more_frags(&mut self, value: bool) {
        self.set_flag(flag::MF, value);
    }

    fn set_flag(&mut self, bit: u16, value: bool) {
        let w = read_u16(self.bytes(), offset::FLAGS_FRAG);
        let w = if value { w | bit } else { w & !bit };
        write_u16(self.bytes_mut(), offset::FLAGS_FRAG, w);
    }

    /// Sets the fragment offset in bytes (checksum not touched); it must be a
    /// multiple of 8 (RFC 791 §3.1), else `BadField("frag_offset")`.
    pub fn set_frag_offset(&mut self, bytes: u16) -> Result<()> {
        if bytes & 7 != 0 {
            return Err(Error::BadField("frag_offset"));
        }
        let w = read_u16(self.bytes(), offset::FLAGS_FRAG);
        write_u16(self.bytes_mut(), offset::FLAGS_FRAG, (w & !flag::OFFSET) | (bytes / 8));
        Ok(())
    }

    /// Recomputes the header checksum over the header and options.
    pub fn fill_checksum(&mut self) {
        let h = self.header_len();
        let b = self.bytes_mut();
        write_u16(b, offset::CHECKSUM, 0);
        let c = checksum::checksum(&b[..h]);
        write_u16(b, offset::CHECKSUM, c);
    }

    /// The options area, mutably (e.g. to stamp a Record Route slot).
    pub fn options_mut(&mut self) -> &mut [u8] {
        let h = self.header_len();
        &mut self.bytes_mut()[offset::HEADER..h]
    }

    /// The payload (to Total Length), mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = self.bytes().len();
        let end = usize::from(self.total_len()).min(len);
        let start = self.header_len().min(end);
        &mut self.bytes_mut()[start..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipv4_option::Ipv4Option;
    use proptest::prelude::*;

    /// The classic UDP datagram header whose checksum is 0xb861, followed by
    /// its 95-byte payload.
    pub(super) fn classic() -> Vec<u8> {
        let mut p = vec![
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
            0xc0, 0xa8, 0x00, 0xc7,
        ];
        p.resize(0x73, 0x5a);
        p
    }

    /// An IGMP-style header with Record Route + Router Alert options (IHL 9).
    const WITH_OPTIONS: [u8; 36] = [
        0x49, 0x00, 0x00, 44, 0x00, 0x00, 0x40, 0x00, 1, 2, 0xbe, 0x57, 192, 0, 2, 1, 224, 0, 0,
        22, // fixed
        7, 11, 8, 192, 0, 2, 1, 0, 0, 0, 0, // Record Route, one address recorded
        148, 4, 0, 0, // Router Alert
        0, // End of Option List
    ];

    pub(super) fn with_options() -> Vec<u8> {
        let mut p = WITH_OPTIONS.to_vec();
        p.extend_from_slice(&[0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0]);
        p
    }

    #[test]
    fn classic_header_fields() {
        let bytes = classic();
        let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!((p.dscp(), p.ecn()), (0, 0));
        assert_eq!(p.total_len(), 0x73);
        assert_eq!(p.ident(), 0);
        assert!(p.dont_frag() && !p.more_frags() && !p.reserved_flag() && !p.is_fragment());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), crate::ip::protocol::UDP);
        assert_eq!(p.checksum(), 0xb861);
        assert_eq!(p.src(), Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(p.dst(), Ipv4Addr::new(192, 168, 0, 199));
        assert!(p.options().is_empty());
        assert_eq!(p.payload().len(), 95);
        assert!(p.verify_checksum());
        let repr = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(repr.payload_len, 95);
        let mut out = [0u8; 20];
        assert_eq!(repr.emit(&mut out), Ok(20));
        assert_eq!(out[..], bytes[..20]);
    }

    #[test]
    fn header_with_record_route_and_router_alert() {
        let bytes = with_options();
        let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.header_len(), 36);
        assert!(p.verify_checksum());
        assert_eq!(p.options(), &WITH_OPTIONS[20..]);
        let opts: Vec<_> = p.option_iter().collect::<Result<_>>().unwrap();
        assert_eq!(
            opts,
            vec![
                Ipv4Option::RecordRoute { pointer: 8, data: &[192, 0, 2, 1, 0, 0, 0, 0] },
                Ipv4Option::RouterAlert { value: 0 },
                Ipv4Option::EndOfList,
            ]
        );
        assert_eq!(p.payload(), &[0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0]);
        let repr = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(repr.options, &WITH_OPTIONS[20..]);
        assert_eq!((repr.ttl, repr.protocol, repr.payload_len), (1, 2, 8));
        let mut out = [0u8; 36];
        assert_eq!(repr.emit(&mut out), Ok(36));
        assert_eq!(out, WITH_OPTIONS);
    }

    #[test]
    fn trailing_padding_is_excluded_from_payload() {
        let mut bytes = with_options();
        bytes.resize(60, 0);
        let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.payload().len(), 8);
    }

    #[test]
    fn setters() {
        let mut bytes = classic();
        let mut p = Ipv4Packet::new_checked(&mut bytes[..]).unwrap();
        p.set_src(Ipv4Addr::new(10, 0, 0, 1));
        p.set_dst(Ipv4Addr::new(10, 0, 0, 2));
        p.set_ttl(9);
        p.set_ident(0x1234);
        p.set_protocol(6);
        p.set_dscp(46).unwrap();
        p.set_ecn(3).unwrap();
        p.set_dont_frag(false);
        p.set_more_frags(true);
        p.set_frag_offset(1480).unwrap();
        p.set_total_len(100).unwrap();
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!((p.src(), p.dst()), (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!((p.ttl(), p.ident(), p.protocol(), p.dscp(), p.ecn()), (9, 0x1234, 6, 46, 3));
        assert!(!p.dont_frag() && p.more_frags() && p.is_fragment());
        assert_eq!(p.frag_offset(), 1480);
        assert_eq!(p.payload().len(), 80);
        assert_eq!(p.payload_mut().len(), 80);
        assert_eq!(p.set_frag_offset(1481), Err(Error::BadField("frag_offset")));
        assert_eq!(p.set_dscp(64), Err(Error::BadField("dscp")));
        assert_eq!(p.set_ecn(4), Err(Error::BadField("ecn")));
        assert_eq!(p.set_total_len(19), Err(Error::BadLength("total_length")));
        assert_eq!(p.set_total_len(0x74), Err(Error::BadLength("total_length")));
        assert_eq!(p.total_len(), 100);
    }

    #[test]
    fn decrement_ttl_updates_checksum_incrementally() {
        let mut bytes = classic();
        let mut p = Ipv4Packet::new_checked(&mut bytes[..]).unwrap();
        assert_eq!(p.decrement_ttl(), Ok(63));
        assert!(p.verify_checksum());
        assert_eq!(p.checksum(), 0xb961);
        p.set_ttl(0);
        p.fill_checksum();
        assert_eq!(p.decrement_ttl(), Err(Error::BadField("ttl")));
        assert_eq!(p.ttl(), 0);
    }

    #[test]
    fn rewrite_addresses_updates_checksum() {
        let mut bytes = with_options();
        let mut p = Ipv4Packet::new_checked(&mut bytes[..]).unwrap();
        p.rewrite_src(Ipv4Addr::new(203, 0, 113, 7));
        assert!(p.verify_checksum());
        p.rewrite_dst(Ipv4Addr::new(198, 51, 100, 255));
        assert!(p.verify_checksum());
        let c = p.checksum();
        p.fill_checksum();
        assert_eq!(p.checksum(), c);
    }

    #[test]
    fn short_buffer_is_truncated() {
        assert_eq!(Ipv4Packet::new_checked(&classic()[..19]).unwrap_err(), Error::Truncated);
        assert_eq!(Ipv4Packet::new_checked(&[][..]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn version_six_is_bad_version() {
        let mut b = classic();
        b[0] = 0x65;
        assert_eq!(Ipv4Packet::new_checked(&b[..]).unwrap_err(), Error::BadVersion);
    }

    #[test]
    fn ihl_below_five_is_bad_length() {
        let mut b = classic();
        b[0] = 0x44;
        assert_eq!(Ipv4Packet::new_checked(&b[..]).unwrap_err(), Error::BadLength("ihl"));
    }

    #[test]
    fn header_past_buffer_is_truncated() {
        let mut b = classic();
        b[0] = 0x4f;
        assert_eq!(Ipv4Packet::new_checked(&b[..59]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn total_length_below_header_is_bad_length() {
        let mut b = with_options();
        b[3] = 35;
        assert_eq!(Ipv4Packet::new_checked(&b[..]).unwrap_err(), Error::BadLength("total_length"));
    }

    #[test]
    fn total_length_past_buffer_is_truncated() {
        let b = classic();
        assert_eq!(Ipv4Packet::new_checked(&b[..0x72]).unwrap_err(), Error::Truncated);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            if let Ok(p) = Ipv4Packet::new_checked(&bytes[..]) {
                let _ = (p.version(), p.header_len(), p.dscp(), p.ecn(), p.total_len(), p.ident());
                let _ = (p.reserved_flag(), p.dont_frag(), p.more_frags(), p.frag_offset(), p.is_fragment());
                let _ = (p.ttl(), p.protocol(), p.checksum(), p.src(), p.dst(), p.verify_checksum());
                let _ = (p.options(), p.header(), p.payload(), p.option_iter().count());
                let _ = Ipv4Repr::parse(&p);
            }
        }
    }
}
