//! The option blocks of non-SYN segments, written and recognised directly.
//!
//! Almost every segment after the handshake carries one of four layouts
//! (RFC 7323 Appendix A and RFC 2018 §3 as every major stack sends them):
//!
//! - NOP, NOP, Timestamps (12 bytes);
//! - NOP, NOP, Timestamps, NOP, NOP, SACK with 1–3 blocks (24, 32, 40 bytes;
//!   RFC 2018 §3: at most 3 blocks fit beside the Timestamps option);
//! - NOP, NOP, SACK with 1–4 blocks (12, 20, 28, 36 bytes), without timestamps.
//!
//! [`TcpOptions::ack_block`] writes them straight into the inline storage
//! (no option list, no emit-then-validate round trip), and [`shape`] lets
//! [`TcpOptions::parse`] note where their options start without the general
//! walk. Both are proved equal to the general path by the proptests below.

use super::{kind, Found, SackBlock, SackBlocks, Storage, TcpOptions, MAX_OPTIONS_LEN};
use crate::error::{Error, Result};
use crate::field::{read_u32, write_u32};

/// Where a SACK option's blocks start within it (after kind and length).
const SACK_HEAD: usize = 2;
/// The bytes of one SACK block (RFC 2018 §3: two 32-bit edges).
const SACK_BLOCK_LEN: usize = 8;

/// The options found in `region` when it has one of the module's layouts
/// exactly (every length byte consistent, nothing after the last option),
/// else `None` and the caller walks. A match is exactly what
/// `Found::walk` notes for those bytes: each layout's options are well-formed
/// by the checks here (Timestamps length 10, SACK length 2 + 8n with n ≥ 1,
/// ending at the region's end).
#[inline]
pub(super) fn shape(region: &[u8]) -> Option<Found> {
    match region {
        [kind::NOP, kind::NOP, kind::TIMESTAMPS, 10, ts @ ..] => match ts {
            [_, _, _, _, _, _, _, _] => Some(Found { timestamps: 3, ..Found::NONE }),
            [_, _, _, _, _, _, _, _, kind::NOP, kind::NOP, kind::SACK, len, blocks @ ..] => {
                sack_fits(*len, blocks.len()).then_some(Found { timestamps: 3, sack: 15, ..Found::NONE })
            }
            _ => None,
        },
        [kind::NOP, kind::NOP, kind::SACK, len, blocks @ ..] => {
            sack_fits(*len, blocks.len()).then_some(Found { sack: 3, ..Found::NONE })
        }
        _ => None,
    }
}

/// Whether a SACK option of length byte `len` holds `body` bytes of blocks
/// exactly, at least one (RFC 2018 §3: length 2 + 8n).
#[inline]
fn sack_fits(len: u8, body: usize) -> bool {
    body != 0 && body.is_multiple_of(SACK_BLOCK_LEN) && usize::from(len) == SACK_HEAD + body
}

/// The SACK blocks of a validated SACK option at the start of `option`
/// (kind, length 2 + 8n, blocks), read in place.
#[inline]
pub(super) fn read_sack(option: &[u8]) -> Option<SackBlocks> {
    if *option.first()? != kind::SACK {
        return None;
    }
    let len = usize::from(*option.get(1)?);
    let body = option.get(SACK_HEAD..len)?;
    let mut blocks = SackBlocks::new();
    for b in body.chunks_exact(SACK_BLOCK_LEN) {
        blocks.push(SackBlock { left: read_u32(b, 0), right: read_u32(b, 4) }).ok()?;
    }
    (!blocks.is_empty()).then_some(blocks)
}

impl TcpOptions<'static> {
    /// The option block of a non-SYN segment: NOP, NOP, Timestamps
    /// `(TSval, TSecr)` when `timestamps` is given (RFC 7323 §3.2), then NOP,
    /// NOP, SACK with `sack`'s blocks when there are any (RFC 2018 §3),
    /// written directly into the inline storage. Equal, bytes and accessors,
    /// to `from_options` of that list; more blocks than fit in 40 bytes is
    /// `BadLength("options")`, as there.
    pub fn ack_block(timestamps: Option<(u32, u32)>, sack: &[SackBlock]) -> Result<TcpOptions<'static>> {
        let mut buf = [0u8; MAX_OPTIONS_LEN];
        let mut at = Found::NONE;
        let mut len = 0;
        if let Some((tsval, tsecr)) = timestamps {
            buf[..4].copy_from_slice(&[kind::NOP, kind::NOP, kind::TIMESTAMPS, 10]);
            write_u32(&mut buf, 4, tsval);
            write_u32(&mut buf, 8, tsecr);
            at.timestamps = 3;
            len = 12;
        }
        if !sack.is_empty() {
            let opt_len = SACK_HEAD + SACK_BLOCK_LEN * sack.len();
            let end = len + 2 + opt_len;
            if end > MAX_OPTIONS_LEN {
                return Err(Error::BadLength("options"));
            }
            // opt_len <= 38 here (end <= 40).
            buf[len..len + 4].copy_from_slice(&[kind::NOP, kind::NOP, kind::SACK, opt_len as u8]);
            let mut w = len + 4;
            for b in sack {
                write_u32(&mut buf, w, b.left);
                write_u32(&mut buf, w + 4, b.right);
                w += SACK_BLOCK_LEN;
            }
            // The SACK option starts after the two NOPs (mark: offset plus one).
            at.sack = len as u8 + 3;
            len = end;
        }
        // Every layout is a multiple of 4 bytes long: no padding.
        Ok(TcpOptions { storage: Storage::Inline { buf, len: len as u8 }, at })
    }
}

#[cfg(test)]
mod tests {
    use super::super::TcpOption;
    use super::*;
    use proptest::prelude::*;

    fn same_found(a: Found, b: Found) -> bool {
        (a.mss, a.window_scale, a.sack, a.timestamps, a.sack_permitted)
            == (b.mss, b.window_scale, b.sack, b.timestamps, b.sack_permitted)
    }

    #[test]
    fn linux_ack_with_two_blocks() {
        // As Linux sends it: NOP NOP TS NOP NOP SACK(2).
        let blocks = [SackBlock { left: 100, right: 200 }, SackBlock { left: 300, right: 400 }];
        let o = TcpOptions::ack_block(Some((7, 9)), &blocks).unwrap();
        assert_eq!(o.len(), 32);
        assert_eq!(&o.as_bytes()[..4], &[1, 1, 8, 10]);
        assert_eq!(&o.as_bytes()[12..16], &[1, 1, 5, 18]);
        assert_eq!(o.timestamps(), Some((7, 9)));
        assert_eq!(o.sack().unwrap().as_slice(), &blocks);
        assert!(shape(o.as_bytes()).is_some());
    }

    #[test]
    fn too_many_blocks_is_bad_length() {
        let blocks = [SackBlock::default(); 4];
        assert_eq!(TcpOptions::ack_block(Some((1, 2)), &blocks).unwrap_err(), Error::BadLength("options"));
        assert_eq!(
            TcpOptions::ack_block(None, &[SackBlock::default(); 5]).unwrap_err(),
            Error::BadLength("options")
        );
        assert!(TcpOptions::ack_block(None, &blocks).is_ok());
    }

    #[test]
    fn near_layouts_take_the_walk() {
        // A SACK length that runs past the region, one that stops short of
        // it (trailing bytes), and a non-multiple of 8: not the shape.
        let mut r = [1u8, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(shape(&r).is_some());
        r[15] = 18;
        assert!(shape(&r).is_none());
        assert!(TcpOptions::parse(&r).is_err());
        r[15] = 6;
        assert!(shape(&r).is_none());
        assert!(TcpOptions::parse(&r).is_err());
        let r2 = [1u8, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
        assert!(shape(&r2).is_none());
        let o = TcpOptions::parse(&r2).unwrap();
        assert_eq!(o.sack().unwrap().len(), 1);
    }

    fn arb_blocks(max: usize) -> impl Strategy<Value = Vec<SackBlock>> {
        proptest::collection::vec(any::<(u32, u32)>(), 0..=max)
            .prop_map(|v| v.into_iter().map(|(left, right)| SackBlock { left, right }).collect())
    }

    proptest! {
        /// The direct writer is `from_options` of the same list: bytes,
        /// accessors and the noted offsets; parsing it takes the shape and
        /// notes what the general walk notes.
        #[test]
        fn ack_block_matches_from_options(ts in proptest::option::of(any::<(u32, u32)>()), blocks in arb_blocks(5)) {
            let mut list = Vec::new();
            if let Some((tsval, tsecr)) = ts {
                list.extend([TcpOption::Nop, TcpOption::Nop, TcpOption::Timestamps { tsval, tsecr }]);
            }
            if !blocks.is_empty() {
                let b = SackBlocks::from_slice(&blocks);
                match b {
                    Ok(b) => list.extend([TcpOption::Nop, TcpOption::Nop, TcpOption::Sack(b)]),
                    // Five blocks: no option list holds them either.
                    Err(_) => {
                        prop_assert!(TcpOptions::ack_block(ts, &blocks).is_err());
                        return Ok(());
                    }
                }
            }
            let direct = TcpOptions::ack_block(ts, &blocks);
            let general = TcpOptions::from_options(&list);
            match (direct, general) {
                (Ok(d), Ok(g)) => {
                    prop_assert_eq!(d, g);
                    prop_assert!(same_found(d.at, g.at));
                    prop_assert_eq!(d.timestamps(), g.timestamps());
                    prop_assert_eq!(d.sack(), g.sack());
                    let walked = Found::walk(d.as_bytes()).unwrap();
                    prop_assert!(same_found(d.at, walked));
                    if !d.is_empty() {
                        let s = shape(d.as_bytes());
                        prop_assert!(s.is_some_and(|s| same_found(s, walked)));
                    }
                }
                (Err(d), Err(g)) => prop_assert_eq!(d, g),
                (d, g) => prop_assert!(false, "direct {:?} general {:?}", d, g),
            }
        }

        /// On any bytes, a recognised shape is exactly what the walk finds,
        /// and the in-place SACK reader returns what the option parser does.
        #[test]
        fn shape_agrees_with_the_walk(words in 0usize..=10, mut bytes in proptest::collection::vec(any::<u8>(), 40), layout in 0u8..4, len in any::<u8>()) {
            // Bias the bytes towards the layouts (random bytes rarely hit them).
            match layout {
                0 => bytes[..4].copy_from_slice(&[1, 1, 8, 10]),
                1 => { bytes[..4].copy_from_slice(&[1, 1, 8, 10]); bytes[12..15].copy_from_slice(&[1, 1, 5]); bytes[15] = len % 48; }
                2 => { bytes[..3].copy_from_slice(&[1, 1, 5]); bytes[3] = len % 48; }
                _ => {}
            }
            let region = &bytes[..words * 4];
            if let Some(s) = shape(region) {
                let walked = Found::walk(region);
                prop_assert!(walked.is_ok());
                prop_assert!(same_found(s, walked.unwrap()));
                let o = TcpOptions::parse(region).unwrap();
                let general = o.iter().find_map(|x| if let TcpOption::Sack(b) = x { Some(b) } else { None });
                prop_assert_eq!(o.sack(), general);
            }
        }
    }
}
