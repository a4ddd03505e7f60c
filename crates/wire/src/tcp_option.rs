//! TCP options (RFC 9293 §3.1, §3.2): End of Option List, No-Operation, MSS,
//! Window Scale and Timestamps (RFC 7323), SACK-Permitted and SACK (RFC 2018),
//! and unknown kinds, which are kept so that a header re-emits byte-exact.
//!
//! - [`TcpOption::parse`] reads one option, [`TcpOptionsIter`] walks a region
//!   without allocating, [`emit_options`] writes a list padded to 4 bytes;
//! - [`TcpOptions`] is the validated option region of one header, as the
//!   [`crate::tcp::TcpRepr`] carries it: borrowed when parsed, inline (40
//!   bytes, `Copy`) when built, so building a segment never allocates.

use crate::error::{Error, Result};
use crate::field::{read_u16, read_u32, write_u16, write_u32};
use core::fmt;
use core::hash::{Hash, Hasher};

/// TCP option kinds (IANA "TCP Option Kind Numbers").
pub mod kind {
    /// End of Option List (RFC 9293 §3.2), one byte.
    pub const END_OF_LIST: u8 = 0;
    /// No-Operation (RFC 9293 §3.2), one byte.
    pub const NOP: u8 = 1;
    /// Maximum Segment Size (RFC 9293 §3.2), length 4.
    pub const MSS: u8 = 2;
    /// Window Scale (RFC 7323 §2.2), length 3.
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK-Permitted (RFC 2018 §2), length 2.
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK (RFC 2018 §3), length 2 + 8n.
    pub const SACK: u8 = 5;
    /// Timestamps (RFC 7323 §3.2), length 10.
    pub const TIMESTAMPS: u8 = 8;
}

/// The largest option region: data offset 15 words minus the 20-byte fixed
/// header (RFC 9293 §3.1).
pub const MAX_OPTIONS_LEN: usize = 40;

/// The largest window shift a receiver uses; a larger received value is
/// clamped to 14 by the receiver (RFC 7323 §2.3). The parser keeps the raw value.
pub const MAX_WINDOW_SHIFT: u8 = 14;

/// The most SACK blocks one option can carry in 40 bytes (RFC 2018 §3).
pub const MAX_SACK_BLOCKS: usize = 4;

/// One SACK block: the left edge and the right edge (first sequence number
/// after the block) of a received range (RFC 2018 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SackBlock {
    /// Left edge: the first sequence number of the block.
    pub left: u32,
    /// Right edge: the sequence number just after the block.
    pub right: u32,
}

/// A fixed-capacity list of 1 to [`MAX_SACK_BLOCKS`] SACK blocks (RFC 2018 §3),
/// so that a SACK option is parsed and built without allocation.
#[derive(Clone, Copy, Default)]
pub struct SackBlocks {
    blocks: [SackBlock; MAX_SACK_BLOCKS],
    len: u8,
}

impl SackBlocks {
    /// An empty list.
    pub const fn new() -> Self {
        SackBlocks { blocks: [SackBlock { left: 0, right: 0 }; MAX_SACK_BLOCKS], len: 0 }
    }

    /// A list holding `blocks`; more than four is `BadOption("sack")`.
    pub fn from_slice(blocks: &[SackBlock]) -> Result<Self> {
        let mut out = SackBlocks::new();
        for b in blocks {
            out.push(*b)?;
        }
        Ok(out)
    }

    /// Appends a block; a fifth one is `BadOption("sack")`.
    pub fn push(&mut self, block: SackBlock) -> Result<()> {
        let slot = self.blocks.get_mut(usize::from(self.len)).ok_or(Error::BadOption("sack"))?;
        *slot = block;
        self.len += 1;
        Ok(())
    }

    /// The blocks, in wire order.
    pub fn as_slice(&self) -> &[SackBlock] {
        &self.blocks[..usize::from(self.len)]
    }

    /// The number of blocks.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the list holds no block.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl PartialEq for SackBlocks {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SackBlocks {}

impl Hash for SackBlocks {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for SackBlocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// One TCP option (RFC 9293 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpOption<'a> {
    /// End of Option List (kind 0): the bytes after it are padding.
    EndOfList,
    /// No-Operation (kind 1), used to align the next option.
    Nop,
    /// Maximum Segment Size (kind 2, RFC 9293 §3.7.1), sent only with SYN.
    Mss(u16),
    /// Window Scale shift count (kind 3, RFC 7323 §2.2), raw: values above
    /// [`MAX_WINDOW_SHIFT`] are kept here and clamped by the receiver.
    WindowScale(u8),
    /// SACK-Permitted (kind 4, RFC 2018 §2).
    SackPermitted,
    /// SACK blocks (kind 5, RFC 2018 §3), 1 to 4.
    Sack(SackBlocks),
    /// Timestamps (kind 8, RFC 7323 §3.2).
    Timestamps {
        /// TSval: the sender's timestamp clock.
        tsval: u32,
        /// TSecr: the echoed TSval (meaningful with ACK).
        tsecr: u32,
    },
    /// Any other kind, with its data (the bytes after kind and length), kept so
    /// that it re-emits byte-exact (RFC 9293 §3.1 MUST-5: ignored, not refused).
    Unknown {
        /// The option kind.
        kind: u8,
        /// The option data, `length - 2` bytes.
        data: &'a [u8],
    },
}

impl<'a> TcpOption<'a> {
    /// Reads the option at the start of `buf`; returns it and its length.
    ///
    /// A missing length byte, a length below 2 or past `buf` is
    /// `BadOption("length")` (RFC 9293 §3.1 MUST-7); a known kind with a wrong
    /// length is `BadOption` naming it ("mss", "window_scale", "sack_permitted",
    /// "sack", "timestamps"). An empty `buf` is `Truncated`.
    pub fn parse(buf: &'a [u8]) -> Result<(TcpOption<'a>, usize)> {
        let kind = *buf.first().ok_or(Error::Truncated)?;
        match kind {
            kind::END_OF_LIST => return Ok((TcpOption::EndOfList, 1)),
            kind::NOP => return Ok((TcpOption::Nop, 1)),
            _ => {}
        }
        let len = usize::from(*buf.get(1).ok_or(Error::BadOption("length"))?);
        if len < 2 || len > buf.len() {
            return Err(Error::BadOption("length"));
        }
        let fixed =
            |want: usize, name: &'static str| if len == want { Ok(()) } else { Err(Error::BadOption(name)) };
        let option = match kind {
            kind::MSS => {
                fixed(4, "mss")?;
                TcpOption::Mss(read_u16(buf, 2))
            }
            kind::WINDOW_SCALE => {
                fixed(3, "window_scale")?;
                TcpOption::WindowScale(buf[2])
            }
            kind::SACK_PERMITTED => {
                fixed(2, "sack_permitted")?;
                TcpOption::SackPermitted
            }
            kind::SACK => {
                if len < 10 || (len - 2) & 7 != 0 {
                    return Err(Error::BadOption("sack"));
                }
                let mut blocks = SackBlocks::new();
                for at in (2..len).step_by(8) {
                    blocks.push(SackBlock { left: read_u32(buf, at), right: read_u32(buf, at + 4) })?;
                }
                TcpOption::Sack(blocks)
            }
            kind::TIMESTAMPS => {
                fixed(10, "timestamps")?;
                TcpOption::Timestamps { tsval: read_u32(buf, 2), tsecr: read_u32(buf, 6) }
            }
            _ => TcpOption::Unknown { kind, data: &buf[2..len] },
        };
        Ok((option, len))
    }

    /// The number of bytes this option emits, or why it cannot be emitted: an
    /// empty SACK list is `BadOption("sack")`; an `Unknown` with kind 0 or 1 is
    /// `BadOption("kind")`, with more than 38 data bytes `BadOption("length")`.
    pub fn checked_len(&self) -> Result<usize> {
        Ok(match self {
            TcpOption::EndOfList | TcpOption::Nop => 1,
            TcpOption::Mss(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack(b) if b.is_empty() => return Err(Error::BadOption("sack")),
            TcpOption::Sack(b) => 2 + 8 * b.len(),
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Unknown { kind, .. } if *kind <= kind::NOP => return Err(Error::BadOption("kind")),
            TcpOption::Unknown { data, .. } if data.len() > MAX_OPTIONS_LEN - 2 => {
                return Err(Error::BadOption("length"))
            }
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        })
    }

    /// Writes the option at the start of `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.checked_len()?;
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        // Every length fits a byte: checked_len() is at most 40.
        let len_byte = len as u8;
        match self {
            TcpOption::EndOfList => buf[0] = kind::END_OF_LIST,
            TcpOption::Nop => buf[0] = kind::NOP,
            TcpOption::Mss(mss) => {
                buf[..2].copy_from_slice(&[kind::MSS, len_byte]);
                write_u16(buf, 2, *mss);
            }
            TcpOption::WindowScale(shift) => {
                buf[..3].copy_from_slice(&[kind::WINDOW_SCALE, len_byte, *shift])
            }
            TcpOption::SackPermitted => buf[..2].copy_from_slice(&[kind::SACK_PERMITTED, len_byte]),
            TcpOption::Sack(blocks) => {
                buf[..2].copy_from_slice(&[kind::SACK, len_byte]);
                for (i, b) in blocks.as_slice().iter().enumerate() {
                    write_u32(buf, 2 + 8 * i, b.left);
                    write_u32(buf, 6 + 8 * i, b.right);
                }
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                buf[..2].copy_from_slice(&[kind::TIMESTAMPS, len_byte]);
                write_u32(buf, 2, *tsval);
                write_u32(buf, 6, *tsecr);
            }
            TcpOption::Unknown { kind, data } => {
                buf[..2].copy_from_slice(&[*kind, len_byte]);
                buf[2..len].copy_from_slice(data);
            }
        }
        Ok(len)
    }
}

/// A non-allocating iterator over an option region (RFC 9293 §3.1). It
/// yields `EndOfList` and then stops (the rest is padding); after an error it
/// yields the error once and stops.
#[derive(Debug, Clone)]
pub struct TcpOptionsIter<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptionsIter<'a> {
    /// Iterates over the options in `region`.
    pub fn new(region: &'a [u8]) -> Self {
        TcpOptionsIter { rest: region }
    }
}

impl<'a> Iterator for TcpOptionsIter<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match TcpOption::parse(self.rest) {
            Ok((TcpOption::EndOfList, _)) => {
                self.rest = &[];
                Some(Ok(TcpOption::EndOfList))
            }
            Ok((option, len)) => {
                self.rest = &self.rest[len..];
                Some(Ok(option))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Writes `options` in order and pads with End of Option List (zero bytes)
/// to a multiple of 4 (RFC 9293 §3.1: "the padding is composed of zeros").
/// More than 40 bytes is `BadLength("options")`; returns the padded length.
pub fn emit_options(options: &[TcpOption<'_>], buf: &mut [u8]) -> Result<usize> {
    let mut len = 0;
    for o in options {
        len += o.checked_len()?;
    }
    if len > MAX_OPTIONS_LEN {
        return Err(Error::BadLength("options"));
    }
    let padded = (len + 3) & !3;
    if buf.len() < padded {
        return Err(Error::BufferTooSmall);
    }
    let mut at = 0;
    for o in options {
        at += o.emit(&mut buf[at..])?;
    }
    buf[at..padded].fill(kind::END_OF_LIST);
    Ok(padded)
}

#[path = "tcp_option_ack.rs"]
mod ack;

#[derive(Clone, Copy)]
enum Storage<'a> {
    Borrowed(&'a [u8]),
    Inline { buf: [u8; MAX_OPTIONS_LEN], len: u8 },
}

/// The validated option region of one TCP header: a multiple of 4 bytes, at
/// most 40, every option well-formed up to End of Option List (the bytes after
/// it are kept verbatim as padding). Equality is byte equality, so
/// `emit(parse(bytes)) == bytes` holds for every header that parses.
#[derive(Clone, Copy)]
pub struct TcpOptions<'a> {
    storage: Storage<'a>,
    /// Where the first option of each kind the stack reads starts, found by
    /// the one validating walk, so that no accessor walks the region again.
    at: Found,
}

/// Offsets (plus one; zero: absent) of the first MSS, Window Scale, SACK and
/// Timestamps options in a validated region, and whether SACK-Permitted is
/// present. Five bytes: the region is at most 40 bytes long.
#[derive(Clone, Copy, Default)]
struct Found {
    mss: u8,
    window_scale: u8,
    sack: u8,
    timestamps: u8,
    sack_permitted: bool,
}

impl Found {
    const NONE: Found = Found { mss: 0, window_scale: 0, sack: 0, timestamps: 0, sack_permitted: false };

    /// Validates `region` (every option as [`TcpOption::parse`] requires, up
    /// to End of Option List) in one walk, noting where the options are.
    fn walk(region: &[u8]) -> Result<Found> {
        let mut found = Found::NONE;
        let mut at = 0;
        while at < region.len() {
            let (option, len) = TcpOption::parse(&region[at..])?;
            // at < 40: the region is at most 40 bytes (checked by the caller).
            let mark = at as u8 + 1;
            let first = |slot: &mut u8| {
                if *slot == 0 {
                    *slot = mark;
                }
            };
            match option {
                TcpOption::EndOfList => break,
                TcpOption::Mss(_) => first(&mut found.mss),
                TcpOption::WindowScale(_) => first(&mut found.window_scale),
                TcpOption::Sack(_) => first(&mut found.sack),
                TcpOption::Timestamps { .. } => first(&mut found.timestamps),
                TcpOption::SackPermitted => found.sack_permitted = true,
                TcpOption::Nop | TcpOption::Unknown { .. } => {}
            }
            at += len;
        }
        Ok(found)
    }
}

impl<'a> TcpOptions<'a> {
    /// No options.
    pub const EMPTY: TcpOptions<'static> = TcpOptions { storage: Storage::Borrowed(&[]), at: Found::NONE };

    /// Validates an option region as found in a header: length a multiple of 4
    /// and at most 40 (`BadLength("options")`), each option as
    /// [`TcpOption::parse`] requires. One walk validates the region and
    /// notes where the options the accessors return are, so reading MSS,
    /// window scale, SACK or timestamps afterwards walks nothing. Inline:
    /// returned across a call, the value was read back in other widths
    /// than it was written (a store-forwarding stall on every segment).
    #[inline]
    pub fn parse(region: &'a [u8]) -> Result<Self> {
        if region.len() > MAX_OPTIONS_LEN || region.len() & 3 != 0 {
            return Err(Error::BadLength("options"));
        }
        // The blocks of almost every segment after the handshake (RFC 7323
        // Appendix A: NOP, NOP, Timestamps; RFC 2018 §3: NOP, NOP, SACK,
        // with or after it) are recognised without the walk, which would
        // note the same options (`ack::shape`).
        if let Some(at) = ack::shape(region) {
            return Ok(TcpOptions { storage: Storage::Borrowed(region), at });
        }
        let at = Found::walk(region)?;
        Ok(TcpOptions { storage: Storage::Borrowed(region), at })
    }

    /// Builds a region from `options` without allocating, padded as
    /// [`emit_options`] does. The result is validated like a parsed region, so
    /// an `Unknown` that spells a known kind with a wrong length is refused.
    pub fn from_options(options: &[TcpOption<'_>]) -> Result<TcpOptions<'static>> {
        let mut buf = [0u8; MAX_OPTIONS_LEN];
        let len = emit_options(options, &mut buf)?;
        let at = TcpOptions::parse(&buf[..len])?.at;
        // len <= 40 (emit_options checked it).
        Ok(TcpOptions { storage: Storage::Inline { buf, len: len as u8 }, at })
    }

    /// NOP, NOP, Timestamps (RFC 7323 §3.2, the layout of RFC 7323
    /// Appendix A): the option block of most data segments, written
    /// directly instead of through [`TcpOptions::from_options`]. Equal to
    /// `from_options(&[Nop, Nop, Timestamps { tsval, tsecr }])`.
    pub fn timestamps_only(tsval: u32, tsecr: u32) -> TcpOptions<'static> {
        let mut buf = [0u8; MAX_OPTIONS_LEN];
        buf[0] = kind::NOP;
        buf[1] = kind::NOP;
        buf[2] = kind::TIMESTAMPS;
        buf[3] = 10;
        write_u32(&mut buf, 4, tsval);
        write_u32(&mut buf, 8, tsecr);
        // The Timestamps option starts at offset 2 (mark: offset plus one).
        TcpOptions { storage: Storage::Inline { buf, len: 12 }, at: Found { timestamps: 3, ..Found::NONE } }
    }

    /// The region's bytes, padding included.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.storage {
            Storage::Borrowed(b) => b,
            Storage::Inline { buf, len } => &buf[..usize::from(*len)],
        }
    }

    /// The region's length in bytes (a multiple of 4).
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether there are no options.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The options in wire order (validated, so no errors).
    pub fn iter(&self) -> impl Iterator<Item = TcpOption<'_>> + '_ {
        TcpOptionsIter::new(self.as_bytes()).map_while(|o| o.ok())
    }

    /// The option found at `mark` (offset plus one; zero: none), re-read
    /// from the validated region.
    fn option_at(&self, mark: u8) -> Option<TcpOption<'_>> {
        let at = usize::from(mark.checked_sub(1)?);
        TcpOption::parse(self.as_bytes().get(at..)?).ok().map(|(o, _)| o)
    }

    /// The MSS (RFC 9293 §3.7.1), from the first MSS option.
    pub fn mss(&self) -> Option<u16> {
        if let Some(TcpOption::Mss(v)) = self.option_at(self.at.mss) {
            Some(v)
        } else {
            None
        }
    }

    /// The raw window shift (RFC 7323 §2.2); the receiver clamps it to
    /// [`MAX_WINDOW_SHIFT`].
    pub fn window_scale(&self) -> Option<u8> {
        if let Some(TcpOption::WindowScale(v)) = self.option_at(self.at.window_scale) {
            Some(v)
        } else {
            None
        }
    }

    /// Whether SACK-Permitted is present (RFC 2018 §2).
    pub fn sack_permitted(&self) -> bool {
        self.at.sack_permitted
    }

    /// The SACK blocks of the first SACK option (RFC 2018 §3).
    #[inline]
    pub fn sack(&self) -> Option<SackBlocks> {
        // The region was validated: at the mark is a SACK option of length
        // 2 + 8n; read its blocks in place.
        let at = usize::from(self.at.sack.checked_sub(1)?);
        ack::read_sack(self.as_bytes().get(at..)?)
    }

    /// `(TSval, TSecr)` of the first Timestamps option (RFC 7323 §3.2).
    #[inline]
    pub fn timestamps(&self) -> Option<(u32, u32)> {
        // The region was validated: at the mark is a Timestamps option of
        // length 10; read its two fields in place.
        let at = usize::from(self.at.timestamps.checked_sub(1)?);
        match self.as_bytes().get(at..at + 10)? {
            o @ [kind::TIMESTAMPS, 10, ..] => Some((read_u32(o, 2), read_u32(o, 6))),
            _ => None,
        }
    }

    /// Copies the region into the start of `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let bytes = self.as_bytes();
        buf.get_mut(..bytes.len()).ok_or(Error::BufferTooSmall)?.copy_from_slice(bytes);
        Ok(bytes.len())
    }
}

impl Default for TcpOptions<'_> {
    fn default() -> Self {
        TcpOptions::EMPTY
    }
}

impl PartialEq for TcpOptions<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for TcpOptions<'_> {}

impl Hash for TcpOptions<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl fmt::Debug for TcpOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The options of a Linux SYN: MSS 1460, SACK-Permitted, Timestamps, NOP,
    /// Window Scale 7.
    const LINUX_SYN: [u8; 20] = [
        0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x9a, 0x1b, 0x2c, 0x3d, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x03, 0x03, 0x07,
    ];

    #[test]
    fn linux_syn_options() {
        let opts = TcpOptions::parse(&LINUX_SYN).unwrap();
        let items: Vec<_> = opts.iter().collect();
        assert_eq!(
            items,
            [
                TcpOption::Mss(1460),
                TcpOption::SackPermitted,
                TcpOption::Timestamps { tsval: 0x9a1b_2c3d, tsecr: 0 },
                TcpOption::Nop,
                TcpOption::WindowScale(7),
            ]
        );
        assert_eq!(opts.mss(), Some(1460));
        assert_eq!(opts.window_scale(), Some(7));
        assert!(opts.sack_permitted());
        assert_eq!(opts.timestamps(), Some((0x9a1b_2c3d, 0)));
        assert_eq!(opts.sack(), None);
        let built = TcpOptions::from_options(&items).unwrap();
        assert_eq!(built.as_bytes(), &LINUX_SYN);
        assert_eq!(built, opts);
    }

    #[test]
    fn sack_blocks_and_padding() {
        // NOP NOP SACK(2 blocks), as Linux sends on an ACK.
        let blocks =
            SackBlocks::from_slice(&[SackBlock { left: 1, right: 2 }, SackBlock { left: 3, right: 4 }])
                .unwrap();
        let opts =
            TcpOptions::from_options(&[TcpOption::Nop, TcpOption::Nop, TcpOption::Sack(blocks)]).unwrap();
        assert_eq!(opts.len(), 20);
        assert_eq!(&opts.as_bytes()[..4], &[1, 1, 5, 18]);
        assert_eq!(opts.sack(), Some(blocks));
        // A lone Window Scale is padded with one EOL byte.
        let ws = TcpOptions::from_options(&[TcpOption::WindowScale(14)]).unwrap();
        assert_eq!(ws.as_bytes(), &[3, 3, 14, 0]);
        assert_eq!(ws.iter().collect::<Vec<_>>(), [TcpOption::WindowScale(14), TcpOption::EndOfList]);
    }

    #[test]
    fn unknown_option_kept() {
        let region = [0xfd, 0x06, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x00];
        let opts = TcpOptions::parse(&region).unwrap();
        let first = opts.iter().next().unwrap();
        assert_eq!(first, TcpOption::Unknown { kind: 0xfd, data: &[0xde, 0xad, 0xbe, 0xef] });
        let mut out = [0u8; 8];
        assert_eq!(opts.emit(&mut out).unwrap(), 8);
        assert_eq!(out, region);
    }

    #[test]
    fn bytes_after_eol_are_padding() {
        let region = [0x00, 0xff, 0x02, 0x01];
        let opts = TcpOptions::parse(&region).unwrap();
        assert_eq!(opts.iter().collect::<Vec<_>>(), [TcpOption::EndOfList]);
        assert_eq!(opts.as_bytes(), &region);
    }

    #[test]
    fn option_length_zero_is_bad_option() {
        assert_eq!(TcpOption::parse(&[0xfd, 0x00, 0, 0]).unwrap_err(), Error::BadOption("length"));
    }

    #[test]
    fn option_length_one_is_bad_option() {
        assert_eq!(TcpOption::parse(&[0x02, 0x01, 0, 0]).unwrap_err(), Error::BadOption("length"));
    }

    #[test]
    fn option_length_past_region_is_bad_option() {
        assert_eq!(TcpOptions::parse(&[1, 1, 8, 10]).unwrap_err(), Error::BadOption("length"));
        assert_eq!(TcpOptions::parse(&[1, 1, 1, 0xfd]).unwrap_err(), Error::BadOption("length"));
    }

    #[test]
    fn known_kind_with_wrong_length_is_bad_option() {
        assert_eq!(TcpOption::parse(&[2, 6, 0, 0, 0, 0]).unwrap_err(), Error::BadOption("mss"));
        assert_eq!(TcpOption::parse(&[3, 4, 0, 0]).unwrap_err(), Error::BadOption("window_scale"));
        assert_eq!(TcpOption::parse(&[4, 3, 0]).unwrap_err(), Error::BadOption("sack_permitted"));
        assert_eq!(TcpOption::parse(&[8, 8, 0, 0, 0, 0, 0, 0]).unwrap_err(), Error::BadOption("timestamps"));
        assert_eq!(TcpOption::parse(&[5, 2]).unwrap_err(), Error::BadOption("sack"));
        assert_eq!(
            TcpOption::parse(&[5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap_err(),
            Error::BadOption("sack")
        );
    }

    #[test]
    fn region_not_word_aligned_is_bad_length() {
        assert_eq!(TcpOptions::parse(&[1, 1, 1]).unwrap_err(), Error::BadLength("options"));
        assert_eq!(TcpOptions::parse(&[1; 44]).unwrap_err(), Error::BadLength("options"));
    }

    #[test]
    fn emit_errors() {
        let too_many = [TcpOption::Timestamps { tsval: 0, tsecr: 0 }; 5];
        assert_eq!(TcpOptions::from_options(&too_many).unwrap_err(), Error::BadLength("options"));
        assert_eq!(
            TcpOptions::from_options(&[TcpOption::Sack(SackBlocks::new())]).unwrap_err(),
            Error::BadOption("sack")
        );
        assert_eq!(
            TcpOptions::from_options(&[TcpOption::Unknown { kind: 1, data: &[] }]).unwrap_err(),
            Error::BadOption("kind")
        );
        // An "unknown" that spells a malformed MSS is refused by validation.
        assert_eq!(
            TcpOptions::from_options(&[TcpOption::Unknown { kind: 2, data: &[1] }]).unwrap_err(),
            Error::BadOption("mss")
        );
        let mut small = [0u8; 3];
        assert_eq!(emit_options(&[TcpOption::Mss(1)], &mut small).unwrap_err(), Error::BufferTooSmall);
        let mut five = SackBlocks::from_slice(&[SackBlock::default(); 4]).unwrap();
        assert_eq!(five.push(SackBlock::default()).unwrap_err(), Error::BadOption("sack"));
    }

    fn arb_option() -> impl Strategy<Value = TcpOption<'static>> {
        static DATA: [u8; 38] = [0xa5; 38];
        prop_oneof![
            Just(TcpOption::Nop),
            any::<u16>().prop_map(TcpOption::Mss),
            any::<u8>().prop_map(TcpOption::WindowScale),
            Just(TcpOption::SackPermitted),
            proptest::collection::vec(any::<(u32, u32)>(), 1..=4).prop_map(|v| {
                let blocks: Vec<_> = v.into_iter().map(|(left, right)| SackBlock { left, right }).collect();
                TcpOption::Sack(SackBlocks::from_slice(&blocks).unwrap())
            }),
            any::<(u32, u32)>().prop_map(|(tsval, tsecr)| TcpOption::Timestamps { tsval, tsecr }),
            (9u8..=255, 0usize..=8).prop_map(|(kind, n)| TcpOption::Unknown { kind, data: &DATA[..n] }),
        ]
    }

    /// The accessors as a walk over the items would answer (the first
    /// option of each kind; SACK-Permitted anywhere before End of List).
    fn check_accessors(opts: &TcpOptions<'_>) -> std::result::Result<(), TestCaseError> {
        let items: Vec<_> = opts.iter().collect();
        let mss = items.iter().find_map(|o| if let TcpOption::Mss(v) = o { Some(*v) } else { None });
        let ws = items.iter().find_map(|o| if let TcpOption::WindowScale(v) = o { Some(*v) } else { None });
        let sack = items.iter().find_map(|o| if let TcpOption::Sack(b) = o { Some(*b) } else { None });
        let ts = items.iter().find_map(|o| match o {
            TcpOption::Timestamps { tsval, tsecr } => Some((*tsval, *tsecr)),
            _ => None,
        });
        prop_assert_eq!(opts.mss(), mss);
        prop_assert_eq!(opts.window_scale(), ws);
        prop_assert_eq!(opts.sack(), sack);
        prop_assert_eq!(opts.timestamps(), ts);
        prop_assert_eq!(opts.sack_permitted(), items.contains(&TcpOption::SackPermitted));
        Ok(())
    }

    proptest! {
        /// The directly written timestamps block is what `from_options`
        /// builds, accessors included.
        #[test]
        fn timestamps_only_matches_from_options(tsval in any::<u32>(), tsecr in any::<u32>()) {
            let direct = TcpOptions::timestamps_only(tsval, tsecr);
            let built = TcpOptions::from_options(&[TcpOption::Nop, TcpOption::Nop, TcpOption::Timestamps { tsval, tsecr }]).unwrap();
            prop_assert_eq!(direct, built);
            check_accessors(&direct)?;
            prop_assert_eq!(direct.timestamps(), Some((tsval, tsecr)));
            // Parsing the block takes the shortcut; it notes what the walk
            // notes.
            let parsed = TcpOptions::parse(direct.as_bytes()).unwrap();
            check_accessors(&parsed)?;
            let walked = Found::walk(direct.as_bytes()).unwrap();
            let f = parsed.at;
            prop_assert_eq!((f.mss, f.window_scale, f.sack, f.timestamps, f.sack_permitted),
                (walked.mss, walked.window_scale, walked.sack, walked.timestamps, walked.sack_permitted));
        }

        /// The one-walk accessors agree with a walk over the items, for
        /// built regions (any option mix, repeated kinds included) and for
        /// arbitrary bytes that parse.
        #[test]
        fn one_walk_accessors_match_items(list in proptest::collection::vec(arb_option(), 0..6), bytes in proptest::collection::vec(any::<u8>(), 40), words in 0usize..=10) {
            if let Ok(opts) = TcpOptions::from_options(&list) {
                check_accessors(&opts)?;
                check_accessors(&TcpOptions::parse(opts.as_bytes()).unwrap())?;
            }
            if let Ok(opts) = TcpOptions::parse(&bytes[..words * 4]) {
                check_accessors(&opts)?;
            }
        }

        #[test]
        fn options_round_trip(list in proptest::collection::vec(arb_option(), 0..6)) {
            match TcpOptions::from_options(&list) {
                Ok(opts) => {
                    let parsed: Vec<_> = opts.iter().collect();
                    prop_assert!(parsed.len() >= list.len());
                    prop_assert_eq!(&parsed[..list.len()], &list[..]);
                    // Only padding follows.
                    prop_assert!(parsed[list.len()..].iter().all(|o| *o == TcpOption::EndOfList));
                    prop_assert_eq!(TcpOptions::parse(opts.as_bytes()).unwrap(), opts);
                }
                Err(e) => prop_assert_eq!(e, Error::BadLength("options")),
            }
        }

        #[test]
        fn region_bytes_round_trip(words in 0usize..=10, bytes in proptest::collection::vec(any::<u8>(), 40)) {
            let region = &bytes[..words * 4];
            if let Ok(opts) = TcpOptions::parse(region) {
                let mut out = [0u8; 40];
                let n = opts.emit(&mut out).unwrap();
                prop_assert_eq!(&out[..n], region);
                // Re-building from the items gives the same bytes up to EOL.
                let items: Vec<_> = opts.iter().collect();
                let rebuilt = TcpOptions::from_options(&items).unwrap();
                let upto = items.iter().map(|o| o.checked_len().unwrap()).sum::<usize>();
                prop_assert_eq!(&rebuilt.as_bytes()[..upto], &region[..upto]);
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
            for o in TcpOptionsIter::new(&bytes).flatten() {
                let mut out = [0u8; 48];
                if let Ok(n) = o.emit(&mut out) {
                    prop_assert_eq!(TcpOption::parse(&out[..n]).unwrap(), (o, n));
                }
            }
            if let Ok(opts) = TcpOptions::parse(&bytes) {
                let _ = (opts.mss(), opts.window_scale(), opts.sack_permitted(), opts.sack(), opts.timestamps());
            }
        }
    }
}
