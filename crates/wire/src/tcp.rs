//! TCP segments (RFC 9293 §3.1) over IPv4 and IPv6.
//!
//! [`TcpPacket`] is the checked view, [`TcpRepr`] the parsed header with its
//! options ([`crate::tcp_option::TcpOptions`]) and borrowed payload. Building a
//! segment never allocates: options are inline, SACK lists fixed-capacity.
//!
//! Not enforced here (policy for the core): flag combinations (SYN+FIN, ...),
//! port 0, options only legal with SYN (MSS, WS, SACK-Permitted), the
//! urgent pointer without URG, non-zero reserved bits (kept, RFC 9293 §3.1:
//! "must be zero in generated segments and must be ignored in received
//! segments"). The checksum is checked by [`TcpPacket::verify_checksum`], not by
//! [`TcpRepr::parse`].

use crate::checksum;
use crate::error::{Error, Result};
use crate::field::{read_u16, read_u32, write_u16, write_u32};
use crate::ip::protocol;
use crate::tcp_option::{TcpOptions, TcpOptionsIter};
use crate::udp::pseudo_header;
use core::fmt;
use core::ops::{BitOr, BitOrAssign};
use std::net::IpAddr;

mod offset {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    pub const DATA_OFFSET: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
}

/// The fixed TCP header length, data offset 5 (RFC 9293 §3.1).
pub const HEADER_LEN: usize = 20;
/// The largest TCP header, data offset 15 (RFC 9293 §3.1).
pub const MAX_HEADER_LEN: usize = 60;

/// The 12 bits after the data offset: 4 reserved bits and the 8 control bits
/// (RFC 9293 §3.1). Reserved bits are kept as received so headers re-emit
/// byte-exact.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(u16);

impl TcpFlags {
    /// FIN: no more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x001);
    /// SYN: synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x002);
    /// RST: reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x004);
    /// PSH: push function.
    pub const PSH: TcpFlags = TcpFlags(0x008);
    /// ACK: the acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x010);
    /// URG: the urgent pointer is significant.
    pub const URG: TcpFlags = TcpFlags(0x020);
    /// ECE: ECN-Echo (RFC 3168 §6.1).
    pub const ECE: TcpFlags = TcpFlags(0x040);
    /// CWR: Congestion Window Reduced (RFC 3168 §6.1).
    pub const CWR: TcpFlags = TcpFlags(0x080);
    /// The 4 reserved bits (RFC 9293 §3.1; the lowest was RFC 3540's
    /// historic NS bit).
    pub const RESERVED: TcpFlags = TcpFlags(0xf00);

    /// No flag.
    pub const fn empty() -> Self {
        TcpFlags(0)
    }

    /// From the 12-bit field value (higher bits are dropped).
    pub const fn from_bits(bits: u16) -> Self {
        TcpFlags(bits & 0x0fff)
    }

    /// The 12-bit field value.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: TcpFlags) {
        self.0 |= other.0;
    }

    /// Clears the flags of `other`.
    pub fn remove(&mut self, other: TcpFlags) {
        self.0 &= !other.0;
    }

    /// These flags without those of `other`.
    pub const fn without(self, other: TcpFlags) -> Self {
        TcpFlags(self.0 & !other.0)
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 8] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];
        f.write_str("TcpFlags(")?;
        let mut sep = "";
        for (i, name) in NAMES.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                write!(f, "{sep}{name}")?;
                sep = "|";
            }
        }
        if self.0 & Self::RESERVED.0 != 0 {
            write!(f, "{sep}reserved={:#x}", self.0 >> 8)?;
        }
        f.write_str(")")
    }
}

/// A checked view of a TCP segment: header, options and payload.
#[derive(Debug, Clone)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps `buffer`: at least 20 bytes (`Truncated`), a data offset of at
    /// least 5 (`BadLength("data_offset")`) whose header fits the buffer
    /// (`Truncated`) (RFC 9293 §3.1). Options are checked by
    /// [`TcpRepr::parse`] or [`TcpOptions::parse`].
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = usize::from(b[offset::DATA_OFFSET] >> 4) * 4;
        if header_len < HEADER_LEN {
            return Err(Error::BadLength("data_offset"));
        }
        if header_len > b.len() {
            return Err(Error::Truncated);
        }
        Ok(TcpPacket { buffer })
    }

    /// Source port.
    #[inline]
    pub fn src_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), offset::SRC_PORT)
    }

    /// Destination port.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), offset::DST_PORT)
    }

    /// Sequence number (RFC 9293 §3.1).
    #[inline]
    pub fn seq_number(&self) -> u32 {
        read_u32(self.buffer.as_ref(), offset::SEQ)
    }

    /// Acknowledgment number, significant only with ACK (RFC 9293 §3.1).
    #[inline]
    pub fn ack_number(&self) -> u32 {
        read_u32(self.buffer.as_ref(), offset::ACK)
    }

    /// Data offset in 32-bit words, 5 to 15.
    #[inline]
    pub fn data_offset(&self) -> u8 {
        self.buffer.as_ref()[offset::DATA_OFFSET] >> 4
    }

    /// Header length in bytes, options included.
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }

    /// Reserved bits and control bits.
    #[inline]
    pub fn flags(&self) -> TcpFlags {
        TcpFlags::from_bits(read_u16(self.buffer.as_ref(), offset::DATA_OFFSET))
    }

    /// FIN flag.
    pub fn fin(&self) -> bool {
        self.flags().contains(TcpFlags::FIN)
    }

    /// SYN flag.
    pub fn syn(&self) -> bool {
        self.flags().contains(TcpFlags::SYN)
    }

    /// RST flag.
    pub fn rst(&self) -> bool {
        self.flags().contains(TcpFlags::RST)
    }

    /// PSH flag.
    pub fn psh(&self) -> bool {
        self.flags().contains(TcpFlags::PSH)
    }

    /// ACK flag.
    pub fn ack(&self) -> bool {
        self.flags().contains(TcpFlags::ACK)
    }

    /// URG flag.
    pub fn urg(&self) -> bool {
        self.flags().contains(TcpFlags::URG)
    }

    /// ECE flag (RFC 3168).
    pub fn ece(&self) -> bool {
        self.flags().contains(TcpFlags::ECE)
    }

    /// CWR flag (RFC 3168).
    pub fn cwr(&self) -> bool {
        self.flags().contains(TcpFlags::CWR)
    }

    /// Window, unscaled (RFC 9293 §3.1; scaling is RFC 7323 §2).
    #[inline]
    pub fn window_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), offset::WINDOW)
    }

    /// Checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), offset::CHECKSUM)
    }

    /// Urgent pointer, significant only with URG.
    #[inline]
    pub fn urgent_pointer(&self) -> u16 {
        read_u16(self.buffer.as_ref(), offset::URGENT)
    }

    /// The option region (unvalidated; see [`TcpOptions::parse`]).
    #[inline]
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// A non-allocating iterator over the options.
    pub fn options_iter(&self) -> TcpOptionsIter<'_> {
        TcpOptionsIter::new(self.options())
    }

    /// The payload after the header.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// Checks the checksum over the pseudo-header of `src`/`dst` (RFC 9293
    /// §3.1, RFC 8200 §8.1) and the whole buffer: `BadChecksum` if it does not
    /// verify, `BadField("address family")` for mixed families.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> Result<()> {
        let b = self.buffer.as_ref();
        let mut sum = pseudo_header(src, dst, protocol::TCP, b.len())?;
        if sum.add_bytes(b).sum() == 0xffff {
            Ok(())
        } else {
            Err(Error::BadChecksum)
        }
    }

    /// The running sum over the pseudo-header and the TCP header (options
    /// included), without the payload: a receiver adds the payload's sum
    /// (e.g. from [`checksum::copy_and_sum`] while it copies the payload
    /// out) and the segment verifies if the total is `0xffff` (RFC 9293
    /// §3.1, RFC 1071 §2). The header is a multiple of 4 bytes long, so the
    /// payload starts at an even offset.
    #[inline]
    pub fn header_sum(&self, src: &IpAddr, dst: &IpAddr) -> Result<checksum::Checksum> {
        let b = self.buffer.as_ref();
        let mut sum = pseudo_header(*src, *dst, protocol::TCP, b.len())?;
        let head = b.get(..self.header_len()).ok_or(Error::Truncated)?;
        sum.add_sum(checksum::header_words_sum(head), head.len());
        Ok(sum)
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> TcpPacket<&'a T> {
    #[inline]
    fn options_ref(&self) -> &'a [u8] {
        let b: &'a [u8] = self.buffer.as_ref();
        &b[HEADER_LEN..self.header_len()]
    }

    #[inline]
    fn payload_ref(&self) -> &'a [u8] {
        let b: &'a [u8] = self.buffer.as_ref();
        &b[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, port: u16) {
        write_u16(self.buffer.as_mut(), offset::SRC_PORT, port);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, port: u16) {
        write_u16(self.buffer.as_mut(), offset::DST_PORT, port);
    }

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, seq: u32) {
        write_u32(self.buffer.as_mut(), offset::SEQ, seq);
    }

    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, ack: u32) {
        write_u32(self.buffer.as_mut(), offset::ACK, ack);
    }

    /// Sets reserved and control bits, keeping the data offset.
    pub fn set_flags(&mut self, flags: TcpFlags) {
        let b = self.buffer.as_mut();
        b[offset::DATA_OFFSET] = (b[offset::DATA_OFFSET] & 0xf0) | (flags.bits() >> 8) as u8;
        b[offset::FLAGS] = flags.bits() as u8;
    }

    /// Sets the window.
    pub fn set_window_len(&mut self, window: u16) {
        write_u16(self.buffer.as_mut(), offset::WINDOW, window);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, checksum: u16) {
        write_u16(self.buffer.as_mut(), offset::CHECKSUM, checksum);
    }

    /// Sets the urgent pointer.
    pub fn set_urgent_pointer(&mut self, urgent: u16) {
        write_u16(self.buffer.as_mut(), offset::URGENT, urgent);
    }

    /// The option region, mutably.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let h = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..h]
    }

    /// The payload, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let h = self.header_len();
        &mut self.buffer.as_mut()[h..]
    }

    /// Computes and stores the checksum over the pseudo-header of `src`/`dst`
    /// and the whole buffer (RFC 9293 §3.1).
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) -> Result<()> {
        let mut sum = pseudo_header(src, dst, protocol::TCP, self.buffer.as_ref().len())?;
        self.set_checksum(0);
        let c = sum.add_bytes(self.buffer.as_ref()).finish();
        self.set_checksum(c);
        Ok(())
    }
}

/// A parsed TCP header with its options and payload (RFC 9293 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpRepr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number: `Some` iff the ACK flag is set. When parsing a
    /// segment without ACK the (ignored) field value is dropped.
    pub ack: Option<u32>,
    /// Reserved and control bits except ACK, which `ack` carries.
    pub flags: TcpFlags,
    /// Window, unscaled.
    pub window: u16,
    /// Urgent pointer, kept as received even without URG.
    pub urgent: u16,
    /// The option region.
    pub options: TcpOptions<'a>,
    /// The payload.
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    /// Parses a checked segment, validating its options
    /// ([`TcpOptions::parse`]). The checksum is not verified here.
    #[inline(always)]
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &TcpPacket<&'a T>) -> Result<Self> {
        let flags = packet.flags();
        Ok(TcpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq: packet.seq_number(),
            ack: flags.contains(TcpFlags::ACK).then(|| packet.ack_number()),
            flags: flags.without(TcpFlags::ACK),
            window: packet.window_len(),
            urgent: packet.urgent_pointer(),
            options: TcpOptions::parse(packet.options_ref())?,
            payload: packet.payload_ref(),
        })
    }

    /// Header length, options included.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// Segment length in bytes: header and payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// SEG.LEN in sequence space: payload plus one for SYN and one for FIN
    /// (RFC 9293 §3.4).
    pub fn segment_len(&self) -> usize {
        self.payload.len()
            + usize::from(self.flags.contains(TcpFlags::SYN))
            + usize::from(self.flags.contains(TcpFlags::FIN))
    }

    /// Writes header, options and payload into the start of `buf` with a zero
    /// checksum (see [`TcpPacket::fill_checksum`]); returns the segment length.
    /// `flags` holding ACK while `ack` is `None` is `BadField("ack")`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if self.ack.is_none() && self.flags.contains(TcpFlags::ACK) {
            return Err(Error::BadField("ack"));
        }
        let header_len = self.header_len();
        let len = self.buffer_len();
        let buf = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let mut flags = self.flags;
        if self.ack.is_some() {
            flags.insert(TcpFlags::ACK);
        }
        write_u16(buf, offset::SRC_PORT, self.src_port);
        write_u16(buf, offset::DST_PORT, self.dst_port);
        write_u32(buf, offset::SEQ, self.seq);
        write_u32(buf, offset::ACK, self.ack.unwrap_or(0));
        // header_len <= 60: options are at most 40 bytes, so the offset fits 4 bits.
        write_u16(buf, offset::DATA_OFFSET, ((header_len as u16 / 4) << 12) | flags.bits());
        write_u16(buf, offset::WINDOW, self.window);
        write_u16(buf, offset::CHECKSUM, 0);
        write_u16(buf, offset::URGENT, self.urgent);
        self.options.emit(&mut buf[HEADER_LEN..header_len])?;
        buf[header_len..].copy_from_slice(self.payload);
        Ok(len)
    }

    /// [`TcpRepr::emit`] with the checksum filled for `src`/`dst` (RFC 9293
    /// §3.1). The payload is summed while it is copied
    /// ([`checksum::copy_and_sum`]): one pass over it, not two.
    pub fn emit_with_checksum(&self, src: IpAddr, dst: IpAddr, buf: &mut [u8]) -> Result<usize> {
        self.emit_with_checksum_split(src, dst, &[], buf)
    }

    /// [`TcpRepr::emit_with_checksum`] for a payload in two pieces:
    /// `self.payload` followed by `more` (a ring buffer's two slices, so a
    /// sender copies straight from its send buffer into the frame). Each
    /// piece is summed while it is copied; a second piece at an odd offset
    /// has its sum byte-swapped (RFC 1071 §2(B)). Returns the segment length.
    pub fn emit_with_checksum_split(
        &self,
        src: IpAddr,
        dst: IpAddr,
        more: &[u8],
        buf: &mut [u8],
    ) -> Result<usize> {
        let header_len = self.header_len();
        let len = self.buffer_len() + more.len();
        let buf = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let (head, body) = buf.split_at_mut(header_len);
        // The header alone (no payload) with a zero checksum field.
        TcpRepr { payload: &[], ..*self }.emit(head)?;
        let (first, second) = body.split_at_mut(self.payload.len());
        let first_sum = checksum::copy_and_sum(first, self.payload).ok_or(Error::BufferTooSmall)?;
        let second_sum = if more.is_empty() {
            0
        } else {
            checksum::copy_and_sum(second, more).ok_or(Error::BufferTooSmall)?
        };
        let mut sum = pseudo_header(src, dst, protocol::TCP, len)?;
        // The header is a multiple of 4 bytes long: the payload starts at an
        // even offset.
        let c =
            sum.add_bytes(head).add_sum(first_sum, first.len()).add_sum(second_sum, second.len()).finish();
        write_u16(head, offset::CHECKSUM, c);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp_option::{SackBlock, SackBlocks, TcpOption};
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const V4_SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const V4_DST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    const V6_SRC: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    const V6_DST: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));

    /// A Linux SYN 10.0.0.1:45678 -> 10.0.0.2:80, ISN 0x12345678, window 64240,
    /// options MSS 1460, SACK-Permitted, TS (0x9a1b2c3d, 0), NOP, WS 7. The
    /// checksum 0x5749 was computed by an independent reference (Python, RFC
    /// 1071 sum over the RFC 9293 §3.1 pseudo-header).
    const SYN: [u8; 40] = [
        0xb2, 0x6e, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x57,
        0x49, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x9a, 0x1b, 0x2c, 0x3d, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
    ];

    #[test]
    fn linux_syn_fields() {
        let p = TcpPacket::new_checked(&SYN[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.seq_number(), p.ack_number()), (45678, 80, 0x1234_5678, 0));
        assert_eq!((p.data_offset(), p.header_len(), p.window_len(), p.urgent_pointer()), (10, 40, 64240, 0));
        assert!(p.syn() && !p.ack() && !p.fin() && !p.rst() && !p.psh() && !p.urg() && !p.ece() && !p.cwr());
        assert_eq!(p.flags(), TcpFlags::SYN);
        assert_eq!(p.checksum(), 0x5749);
        assert_eq!(p.options(), &SYN[20..]);
        assert_eq!(p.options_iter().count(), 5);
        assert!(p.payload().is_empty());
        assert_eq!(p.verify_checksum(V4_SRC, V4_DST), Ok(()));
        assert_eq!(p.verify_checksum(V4_DST, V4_SRC), Ok(()), "the sum is symmetric in src/dst");
        assert_eq!(
            p.verify_checksum(V4_SRC, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3))),
            Err(Error::BadChecksum)
        );
        assert_eq!(p.verify_checksum(V4_SRC, V6_DST), Err(Error::BadField("address family")));

        let repr = TcpRepr::parse(&p).unwrap();
        assert_eq!(repr.ack, None);
        assert_eq!(repr.flags, TcpFlags::SYN);
        assert_eq!(repr.options.mss(), Some(1460));
        assert_eq!(repr.options.window_scale(), Some(7));
        assert!(repr.options.sack_permitted());
        assert_eq!(repr.options.timestamps(), Some((0x9a1b_2c3d, 0)));
        assert_eq!(repr.segment_len(), 1);
        let mut out = [0u8; 40];
        assert_eq!(repr.emit_with_checksum(V4_SRC, V4_DST, &mut out).unwrap(), 40);
        assert_eq!(out, SYN);
    }

    #[test]
    fn linux_syn_built_without_allocation() {
        let options = TcpOptions::from_options(&[
            TcpOption::Mss(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps { tsval: 0x9a1b_2c3d, tsecr: 0 },
            TcpOption::Nop,
            TcpOption::WindowScale(7),
        ])
        .unwrap();
        let repr = TcpRepr {
            src_port: 45678,
            dst_port: 80,
            seq: 0x1234_5678,
            ack: None,
            flags: TcpFlags::SYN,
            window: 64240,
            urgent: 0,
            options,
            payload: &[],
        };
        let mut out = [0u8; 40];
        repr.emit_with_checksum(V4_SRC, V4_DST, &mut out).unwrap();
        assert_eq!(out, SYN);
        // Over IPv6 (2001:db8::1 -> 2001:db8::2) the reference gives 0x0fd7.
        repr.emit_with_checksum(V6_SRC, V6_DST, &mut out).unwrap();
        let p = TcpPacket::new_checked(&out[..]).unwrap();
        assert_eq!(p.checksum(), 0x0fd7);
        assert_eq!(p.verify_checksum(V6_SRC, V6_DST), Ok(()));
    }

    #[test]
    fn data_segment_with_sack() {
        let blocks = SackBlocks::from_slice(&[SackBlock { left: 100, right: 200 }]).unwrap();
        let repr = TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq: 10,
            ack: Some(99),
            flags: TcpFlags::PSH | TcpFlags::FIN,
            window: 512,
            urgent: 0,
            options: TcpOptions::from_options(&[TcpOption::Nop, TcpOption::Nop, TcpOption::Sack(blocks)])
                .unwrap(),
            payload: b"data",
        };
        assert_eq!((repr.header_len(), repr.buffer_len(), repr.segment_len()), (32, 36, 5));
        let mut out = [0u8; 36];
        repr.emit_with_checksum(V6_SRC, V6_DST, &mut out).unwrap();
        let p = TcpPacket::new_checked(&out[..]).unwrap();
        assert_eq!(p.flags(), TcpFlags::PSH | TcpFlags::FIN | TcpFlags::ACK);
        assert_eq!(p.payload(), b"data");
        assert_eq!(p.verify_checksum(V6_SRC, V6_DST), Ok(()));
        let parsed = TcpRepr::parse(&p).unwrap();
        assert_eq!(parsed, repr);
        assert_eq!(parsed.options.sack(), Some(blocks));
    }

    #[test]
    fn setters_keep_data_offset_and_reserved_bits() {
        let mut s = SYN;
        let mut p = TcpPacket::new_checked(&mut s[..]).unwrap();
        p.set_src_port(1);
        p.set_dst_port(2);
        p.set_seq_number(3);
        p.set_ack_number(4);
        p.set_flags(
            TcpFlags::SYN | TcpFlags::ACK | TcpFlags::ECE | TcpFlags::CWR | TcpFlags::from_bits(0x100),
        );
        p.set_window_len(5);
        p.set_urgent_pointer(6);
        p.options_mut()[0] = 1;
        p.fill_checksum(V4_SRC, V4_DST).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.seq_number(), p.ack_number()), (1, 2, 3, 4));
        assert_eq!((p.data_offset(), p.window_len(), p.urgent_pointer()), (10, 5, 6));
        assert!(p.syn() && p.ack() && p.ece() && p.cwr());
        assert_eq!(p.flags().bits() & TcpFlags::RESERVED.bits(), 0x100);
        assert_eq!(p.verify_checksum(V4_SRC, V4_DST), Ok(()));
        assert!(p.payload_mut().is_empty());
        p.set_checksum(0);
        assert_eq!(p.checksum(), 0);
        assert_eq!(format!("{:?}", p.flags()), "TcpFlags(SYN|ACK|ECE|CWR|reserved=0x1)");
    }

    #[test]
    fn buffer_below_header_is_truncated() {
        assert_eq!(TcpPacket::new_checked(&SYN[..19]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn data_offset_below_five_is_bad_length() {
        let mut s = SYN;
        s[12] = 0x40;
        assert_eq!(TcpPacket::new_checked(&s[..]).unwrap_err(), Error::BadLength("data_offset"));
    }

    #[test]
    fn data_offset_past_buffer_is_truncated() {
        assert_eq!(TcpPacket::new_checked(&SYN[..39]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn bad_option_fails_repr_parse() {
        let mut s = SYN;
        s[21] = 0; // MSS length 0
        let p = TcpPacket::new_checked(&s[..]).unwrap();
        assert_eq!(TcpRepr::parse(&p).unwrap_err(), Error::BadOption("length"));
        s[21] = 30; // MSS running past the header
        let p = TcpPacket::new_checked(&s[..]).unwrap();
        assert_eq!(TcpRepr::parse(&p).unwrap_err(), Error::BadOption("length"));
    }

    #[test]
    fn emit_errors() {
        let p = TcpPacket::new_checked(&SYN[..]).unwrap();
        let mut repr = TcpRepr::parse(&p).unwrap();
        assert_eq!(repr.emit(&mut [0u8; 39]).unwrap_err(), Error::BufferTooSmall);
        repr.flags.insert(TcpFlags::ACK);
        assert_eq!(repr.emit(&mut [0u8; 40]).unwrap_err(), Error::BadField("ack"));
        repr.flags.remove(TcpFlags::ACK);
        assert_eq!(
            repr.emit_with_checksum(V4_SRC, V6_DST, &mut [0u8; 40]).unwrap_err(),
            Error::BadField("address family")
        );
    }

    fn arb_options() -> impl Strategy<Value = TcpOptions<'static>> {
        prop_oneof![
            Just(TcpOptions::EMPTY),
            (any::<u16>(), any::<u8>(), any::<(u32, u32)>()).prop_map(|(mss, ws, (tsval, tsecr))| {
                TcpOptions::from_options(&[
                    TcpOption::Mss(mss),
                    TcpOption::SackPermitted,
                    TcpOption::Timestamps { tsval, tsecr },
                    TcpOption::Nop,
                    TcpOption::WindowScale(ws),
                ])
                .unwrap()
            }),
            (any::<(u32, u32)>(), 1usize..=3).prop_map(|((left, right), n)| {
                let blocks = SackBlocks::from_slice(&vec![SackBlock { left, right }; n]).unwrap();
                TcpOptions::from_options(&[TcpOption::Nop, TcpOption::Nop, TcpOption::Sack(blocks)]).unwrap()
            }),
        ]
    }

    fn arb_repr(payload: &[u8]) -> impl Strategy<Value = TcpRepr<'_>> {
        (any::<(u16, u16, u32)>(), any::<Option<u32>>(), any::<u16>(), any::<(u16, u16)>(), arb_options())
            .prop_map(move |((src_port, dst_port, seq), ack, flags, (window, urgent), options)| TcpRepr {
                src_port,
                dst_port,
                seq,
                ack,
                flags: TcpFlags::from_bits(flags).without(TcpFlags::ACK),
                window,
                urgent,
                options,
                payload,
            })
    }

    const PAYLOAD: [u8; 13] = *b"GET / HTTP/1.";

    proptest! {
        #[test]
        fn repr_round_trip(repr in arb_repr(&PAYLOAD), v6 in any::<bool>()) {
            let (src, dst) = if v6 { (V6_SRC, V6_DST) } else { (V4_SRC, V4_DST) };
            let mut buf = vec![0u8; repr.buffer_len()];
            prop_assert_eq!(repr.emit_with_checksum(src, dst, &mut buf).unwrap(), buf.len());
            let p = TcpPacket::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(p.verify_checksum(src, dst), Ok(()));
            // The header sum plus the payload's sum verifies too.
            let mut total = p.header_sum(&src, &dst).unwrap();
            prop_assert_eq!(total.add_bytes(p.payload()).sum(), 0xffff);
            prop_assert_eq!(TcpRepr::parse(&p).unwrap(), repr);
        }

        /// The fused copy-and-sum emit writes exactly what `emit` followed by
        /// `fill_checksum` writes, for any payload length and alignment.
        #[test]
        fn fused_emit_matches_emit_then_fill(repr in arb_repr(&PAYLOAD), payload in proptest::collection::vec(any::<u8>(), 0..1600), v6 in any::<bool>()) {
            let repr = TcpRepr { payload: &payload, ..repr };
            let (src, dst) = if v6 { (V6_SRC, V6_DST) } else { (V4_SRC, V4_DST) };
            let mut fused = vec![0u8; repr.buffer_len() + 3];
            let mut plain = fused.clone();
            prop_assert_eq!(repr.emit_with_checksum(src, dst, &mut fused[1..]).unwrap(), repr.buffer_len());
            let n = repr.emit(&mut plain[1..]).unwrap();
            TcpPacket::new_checked(&mut plain[1..1 + n]).unwrap().fill_checksum(src, dst).unwrap();
            prop_assert_eq!(fused, plain);
        }

        /// A payload emitted in two pieces (any split point, odd or even)
        /// gives the same bytes as the whole payload emitted at once.
        #[test]
        fn split_emit_matches_whole(repr in arb_repr(&PAYLOAD), payload in proptest::collection::vec(any::<u8>(), 0..1600), cut in any::<usize>(), v6 in any::<bool>()) {
            let cut = if payload.is_empty() { 0 } else { cut % (payload.len() + 1) };
            let (src, dst) = if v6 { (V6_SRC, V6_DST) } else { (V4_SRC, V4_DST) };
            let whole = TcpRepr { payload: &payload, ..repr };
            let mut a = vec![0u8; whole.buffer_len()];
            whole.emit_with_checksum(src, dst, &mut a).unwrap();
            let first = TcpRepr { payload: &payload[..cut], ..repr };
            let mut b = vec![0u8; whole.buffer_len()];
            prop_assert_eq!(first.emit_with_checksum_split(src, dst, &payload[cut..], &mut b).unwrap(), a.len());
            prop_assert_eq!(a, b);
        }

        #[test]
        fn bytes_round_trip(mut bytes in proptest::collection::vec(any::<u8>(), 20..72), offset in 5u8..=15) {
            bytes[12] = (offset << 4) | (bytes[12] & 0x0f);
            if let Ok(p) = TcpPacket::new_checked(&bytes[..]) {
                if let Ok(repr) = TcpRepr::parse(&p) {
                    let mut out = vec![0u8; bytes.len()];
                    prop_assert_eq!(repr.emit(&mut out).unwrap(), bytes.len());
                    // The repr covers all but the checksum and, without ACK,
                    // the ignored acknowledgment number.
                    let mut expected = bytes.clone();
                    expected[16..18].fill(0);
                    if repr.ack.is_none() {
                        expected[8..12].fill(0);
                    }
                    prop_assert_eq!(out, expected);
                }
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..72), v6 in any::<bool>()) {
            if let Ok(p) = TcpPacket::new_checked(&bytes[..]) {
                let _ = (p.src_port(), p.dst_port(), p.seq_number(), p.ack_number(), p.data_offset(), p.header_len());
                let _ = (p.flags(), p.fin(), p.syn(), p.rst(), p.psh(), p.ack(), p.urg(), p.ece(), p.cwr());
                let _ = (p.window_len(), p.checksum(), p.urgent_pointer(), p.options(), p.payload());
                let _ = p.options_iter().count();
                let (src, dst) = if v6 { (V6_SRC, V6_DST) } else { (V4_SRC, V4_DST) };
                let _ = p.verify_checksum(src, dst);
                if let Ok(repr) = TcpRepr::parse(&p) {
                    let _ = (repr.header_len(), repr.buffer_len(), repr.segment_len());
                }
            }
        }
    }
}
