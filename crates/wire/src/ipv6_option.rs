//! IPv6 options: the type-length-value entries carried by the Hop-by-Hop and
//! Destination Options headers (RFC 8200 §4.2).
//!
//! [`Ipv6OptionIter`] walks an options region and yields each option with its
//! offset (so the core can point an ICMPv6 Parameter Problem at it);
//! [`emit_options`] writes a list of options, honouring each option's
//! alignment and padding the region to an 8-octet multiple.

use crate::error::{Error, Result};
use crate::field::{read_u16, read_u32, write_u16, write_u32};

/// Option type numbers (IANA "Destination Options and Hop-by-Hop Options").
pub mod option_type {
    /// Pad1: a single octet of padding (RFC 8200 §4.2).
    pub const PAD1: u8 = 0x00;
    /// PadN: two or more octets of padding (RFC 8200 §4.2).
    pub const PADN: u8 = 0x01;
    /// Router Alert (RFC 2711 §2.1).
    pub const ROUTER_ALERT: u8 = 0x05;
    /// Jumbo Payload (RFC 2675 §2).
    pub const JUMBO_PAYLOAD: u8 = 0xc2;
}

/// What a node must do with an option whose type it does not recognise: the
/// two high-order bits of the option type (RFC 8200 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionAction {
    /// `00`: skip over this option and continue processing the header.
    Skip,
    /// `01`: discard the packet.
    Discard,
    /// `10`: discard the packet and send an ICMPv6 Parameter Problem, code 2,
    /// whatever the destination address.
    DiscardAndReport,
    /// `11`: discard the packet and send an ICMPv6 Parameter Problem, code 2,
    /// only if the destination address was not multicast.
    DiscardAndReportUnlessMulticast,
}

impl OptionAction {
    /// The action encoded in the top two bits of `option_type`.
    pub fn from_type(option_type: u8) -> Self {
        match option_type >> 6 {
            0 => OptionAction::Skip,
            1 => OptionAction::Discard,
            2 => OptionAction::DiscardAndReport,
            _ => OptionAction::DiscardAndReportUnlessMulticast,
        }
    }
}

/// Whether the third-highest bit of `option_type` says the option data may
/// change en route (RFC 8200 §4.2; relevant to AH, RFC 4302 §3.3.3.1.2.2).
pub fn may_change_en_route(option_type: u8) -> bool {
    option_type & 0x20 != 0
}

/// One option of a Hop-by-Hop or Destination Options header (RFC 8200 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv6Option<'a> {
    /// Pad1: one octet, no length field.
    Pad1,
    /// PadN with its data octets (which RFC 8200 §4.2 says are zero; the
    /// parser keeps them as sent and leaves the check to the core).
    PadN(&'a [u8]),
    /// Router Alert with its 16-bit value (RFC 2711 §2.1; 0 = MLD).
    RouterAlert(u16),
    /// Jumbo Payload with the 32-bit length (RFC 2675 §2).
    JumboPayload(u32),
    /// Any other option type, with its data.
    Unknown {
        /// The option type octet.
        option_type: u8,
        /// The option data.
        data: &'a [u8],
    },
}

impl<'a> Ipv6Option<'a> {
    /// The option type octet.
    pub fn option_type(&self) -> u8 {
        match self {
            Ipv6Option::Pad1 => option_type::PAD1,
            Ipv6Option::PadN(_) => option_type::PADN,
            Ipv6Option::RouterAlert(_) => option_type::ROUTER_ALERT,
            Ipv6Option::JumboPayload(_) => option_type::JUMBO_PAYLOAD,
            Ipv6Option::Unknown { option_type, .. } => *option_type,
        }
    }

    /// The unrecognised-option action of this option's type (RFC 8200 §4.2).
    pub fn action(&self) -> OptionAction {
        OptionAction::from_type(self.option_type())
    }

    /// Whether this option's data may change en route (RFC 8200 §4.2).
    pub fn may_change(&self) -> bool {
        may_change_en_route(self.option_type())
    }

    /// The Opt Data Len this option emits with (none for Pad1).
    fn data_len(&self) -> usize {
        match self {
            Ipv6Option::Pad1 => 0,
            Ipv6Option::PadN(d) | Ipv6Option::Unknown { data: d, .. } => d.len(),
            Ipv6Option::RouterAlert(_) => 2,
            Ipv6Option::JumboPayload(_) => 4,
        }
    }

    /// The octets this option occupies on the wire.
    pub fn buffer_len(&self) -> usize {
        match self {
            Ipv6Option::Pad1 => 1,
            _ => 2 + self.data_len(),
        }
    }

    /// The alignment requirement `xn+y` as `(x, y)`, counted from the start
    /// of the extension header (RFC 8200 §4.2, Appendix A): Router Alert
    /// `2n+0` (RFC 2711 §2.1), Jumbo Payload `4n+2` (RFC 2675 §2).
    pub fn alignment(&self) -> (usize, usize) {
        match self {
            Ipv6Option::RouterAlert(_) => (2, 0),
            Ipv6Option::JumboPayload(_) => (4, 2),
            _ => (1, 0),
        }
    }

    /// Writes the option at the start of `buf`; returns its length.
    /// `BadOption("length")` if the data exceeds 255 octets,
    /// `BadOption("type")` for an `Unknown` carrying a type this module parses
    /// into another variant (it would not read back the same).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if self.data_len() > 255 {
            return Err(Error::BadOption("length"));
        }
        if let Ipv6Option::Unknown { option_type: t, .. } = self {
            if matches!(
                *t,
                option_type::PAD1
                    | option_type::PADN
                    | option_type::ROUTER_ALERT
                    | option_type::JUMBO_PAYLOAD
            ) {
                return Err(Error::BadOption("type"));
            }
        }
        let len = self.buffer_len();
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        buf[0] = self.option_type();
        if let Ipv6Option::Pad1 = self {
            return Ok(1);
        }
        buf[1] = self.data_len() as u8;
        match self {
            Ipv6Option::PadN(d) | Ipv6Option::Unknown { data: d, .. } => buf[2..len].copy_from_slice(d),
            Ipv6Option::RouterAlert(v) => write_u16(buf, 2, *v),
            Ipv6Option::JumboPayload(v) => write_u32(buf, 2, *v),
            Ipv6Option::Pad1 => {}
        }
        Ok(len)
    }
}

/// An iterator over the options of a region (RFC 8200 §4.2), yielding
/// `(offset, option)` where `offset` is the option type octet's position
/// counted from the base given to [`new`](Self::new) (2 + the header's own
/// offset gives the Parameter Problem pointer). After an error it yields
/// nothing more.
#[derive(Debug, Clone)]
pub struct Ipv6OptionIter<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
    done: bool,
}

impl<'a> Ipv6OptionIter<'a> {
    /// Iterates over `data`, reporting offsets as `base + position`.
    pub fn new(data: &'a [u8], base: usize) -> Self {
        Ipv6OptionIter { data, pos: 0, base, done: false }
    }

    fn parse_one(&mut self) -> Result<Ipv6Option<'a>> {
        let rest = &self.data[self.pos..];
        if rest[0] == option_type::PAD1 {
            self.pos += 1;
            return Ok(Ipv6Option::Pad1);
        }
        if rest.len() < 2 {
            return Err(Error::BadOption("length"));
        }
        let len = usize::from(rest[1]);
        let data = rest.get(2..2 + len).ok_or(Error::BadOption("length"))?;
        let option = match rest[0] {
            option_type::PADN => Ipv6Option::PadN(data),
            option_type::ROUTER_ALERT if len == 2 => Ipv6Option::RouterAlert(read_u16(data, 0)),
            option_type::ROUTER_ALERT => return Err(Error::BadOption("router alert")),
            option_type::JUMBO_PAYLOAD if len == 4 => Ipv6Option::JumboPayload(read_u32(data, 0)),
            option_type::JUMBO_PAYLOAD => return Err(Error::BadOption("jumbo payload")),
            t => Ipv6Option::Unknown { option_type: t, data },
        };
        self.pos += 2 + len;
        Ok(option)
    }
}

impl<'a> Iterator for Ipv6OptionIter<'a> {
    type Item = Result<(usize, Ipv6Option<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let at = self.base + self.pos;
        match self.parse_one() {
            Ok(option) => Some(Ok((at, option))),
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Checks that every option in `data` is well formed (see [`Ipv6OptionIter`]).
pub fn validate_options(data: &[u8]) -> Result<()> {
    for item in Ipv6OptionIter::new(data, 0) {
        item?;
    }
    Ok(())
}

fn pad_len(at: usize, (x, y): (usize, usize)) -> usize {
    (y + x - at % x) % x
}

fn emit_padding(buf: &mut [u8], n: usize) -> Result<()> {
    match n {
        0 => Ok(()),
        1 => Ipv6Option::Pad1.emit(buf).map(|_| ()),
        _ => {
            let zeros = [0u8; 8];
            Ipv6Option::PadN(&zeros[..n - 2]).emit(buf).map(|_| ())
        }
    }
}

/// The length of the options region [`emit_options`] writes: options plus
/// alignment padding, such that 2 + the region is a multiple of 8.
pub fn options_len(options: &[Ipv6Option<'_>]) -> usize {
    let mut at = 2;
    for o in options {
        at += pad_len(at, o.alignment()) + o.buffer_len();
    }
    at += pad_len(at, (8, 0));
    at - 2
}

/// Writes `options` as the options region of a Hop-by-Hop or Destination
/// Options header (i.e. at header offset 2), inserting Pad1/PadN before each
/// option to meet its alignment and after the last to reach an 8-octet
/// multiple (RFC 8200 §4.2, Appendix A). Returns the region's length.
pub fn emit_options(options: &[Ipv6Option<'_>], buf: &mut [u8]) -> Result<usize> {
    let len = options_len(options);
    if buf.len() < len {
        return Err(Error::BufferTooSmall);
    }
    let mut at = 2;
    for o in options {
        let pad = pad_len(at, o.alignment());
        emit_padding(&mut buf[at - 2..], pad)?;
        at += pad;
        at += o.emit(&mut buf[at - 2..])?;
    }
    emit_padding(&mut buf[at - 2..], pad_len(at, (8, 0)))?;
    Ok(len)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn action_bits() {
        assert_eq!(OptionAction::from_type(0x1e), OptionAction::Skip);
        assert_eq!(OptionAction::from_type(0x5e), OptionAction::Discard);
        assert_eq!(OptionAction::from_type(0x9e), OptionAction::DiscardAndReport);
        assert_eq!(OptionAction::from_type(0xde), OptionAction::DiscardAndReportUnlessMulticast);
        assert_eq!(Ipv6Option::JumboPayload(0).action(), OptionAction::DiscardAndReportUnlessMulticast);
        assert!(!Ipv6Option::RouterAlert(0).may_change());
        assert!(may_change_en_route(0x3e));
    }

    #[test]
    fn known_options() {
        // MLD's Hop-by-Hop options (RFC 2711 §2.1 + PadN): RA(0), PadN(0).
        let region = [0x05, 0x02, 0x00, 0x00, 0x01, 0x00];
        let got: Vec<_> = Ipv6OptionIter::new(&region, 2).map(|r| r.unwrap()).collect();
        assert_eq!(got, vec![(2, Ipv6Option::RouterAlert(0)), (6, Ipv6Option::PadN(&[]))]);
        let region = [0x00, 0xc2, 0x04, 0x00, 0x01, 0x00, 0x00, 0x3e, 0x01, 0xaa];
        let got: Vec<_> = Ipv6OptionIter::new(&region, 0).map(|r| r.unwrap()).collect();
        assert_eq!(
            got,
            vec![
                (0, Ipv6Option::Pad1),
                (1, Ipv6Option::JumboPayload(0x10000)),
                (7, Ipv6Option::Unknown { option_type: 0x3e, data: &[0xaa] })
            ]
        );
    }

    #[test]
    fn option_length_past_region_is_bad_option() {
        let mut it = Ipv6OptionIter::new(&[0x1e, 0x04, 0, 0], 0);
        assert_eq!(it.next(), Some(Err(Error::BadOption("length"))));
        assert_eq!(it.next(), None);
        // A type octet alone, with no length octet.
        assert_eq!(validate_options(&[0x01, 0x00, 0x1e]), Err(Error::BadOption("length")));
    }

    #[test]
    fn router_alert_length_zero_is_bad_option() {
        assert_eq!(validate_options(&[0x05, 0x00, 0x01, 0x00]), Err(Error::BadOption("router alert")));
    }

    #[test]
    fn jumbo_length_three_is_bad_option() {
        assert_eq!(validate_options(&[0xc2, 0x03, 0, 0, 0, 0]), Err(Error::BadOption("jumbo payload")));
    }

    #[test]
    fn emitter_aligns_and_pads() {
        // Jumbo at 4n+2 needs no pad at offset 2; region 6 octets -> header 8.
        let mut buf = [0xffu8; 16];
        assert_eq!(emit_options(&[Ipv6Option::JumboPayload(70000)], &mut buf), Ok(6));
        assert_eq!(&buf[..6], &[0xc2, 0x04, 0x00, 0x01, 0x11, 0x70]);
        // Router Alert at 2n: offset 2; then PadN(0) to reach 8.
        let mut buf = [0xffu8; 6];
        assert_eq!(emit_options(&[Ipv6Option::RouterAlert(0)], &mut buf), Ok(6));
        assert_eq!(buf, [0x05, 0x02, 0x00, 0x00, 0x01, 0x00]);
        // Pad1 then Jumbo: Jumbo at 3 must move to 6 (pad 3) -> 1+3+6 = 10, 2+10 -> 16.
        let opts = [Ipv6Option::Pad1, Ipv6Option::JumboPayload(1)];
        assert_eq!(options_len(&opts), 14);
        let mut buf = [0xffu8; 14];
        emit_options(&opts, &mut buf).unwrap();
        assert_eq!(&buf[..4], &[0x00, 0x01, 0x01, 0x00]);
        assert_eq!(buf[4], 0xc2);
        assert_eq!(emit_options(&opts, &mut [0u8; 13]), Err(Error::BufferTooSmall));
        assert_eq!(options_len(&[]), 6);
    }

    #[test]
    fn emit_rejects_oversize_and_ambiguous() {
        let big = [0u8; 256];
        assert_eq!(Ipv6Option::PadN(&big).emit(&mut [0u8; 300]), Err(Error::BadOption("length")));
        let u = Ipv6Option::Unknown { option_type: 5, data: &[0, 0] };
        assert_eq!(u.emit(&mut [0u8; 8]), Err(Error::BadOption("type")));
    }

    pub(crate) fn arb_option() -> impl Strategy<Value = Ipv6Option<'static>> {
        prop_oneof![
            Just(Ipv6Option::Pad1),
            (0usize..8).prop_map(|n| Ipv6Option::PadN(&[0u8; 8][..n])),
            any::<u16>().prop_map(Ipv6Option::RouterAlert),
            any::<u32>().prop_map(Ipv6Option::JumboPayload),
            (any::<u8>().prop_filter("unknown", |t| ![0, 1, 5, 0xc2].contains(t)), 0usize..12)
                .prop_map(|(t, n)| Ipv6Option::Unknown { option_type: t, data: &[0x5au8; 12][..n] }),
        ]
    }

    proptest! {
        #[test]
        fn options_round_trip(opts in proptest::collection::vec(arb_option(), 0..6)) {
            let mut buf = vec![0u8; options_len(&opts)];
            let n = emit_options(&opts, &mut buf).unwrap();
            prop_assert_eq!(n, buf.len());
            prop_assert_eq!((n + 2) % 8, 0);
            let parsed: Vec<_> = Ipv6OptionIter::new(&buf, 2).map(|r| r.unwrap()).collect();
            // Every emitted option reads back, in order, at its alignment.
            let mut it = parsed.iter();
            for o in &opts {
                let found = it.find(|(_, p)| p == o);
                prop_assert!(found.is_some());
                if let Some((at, _)) = found {
                    let (x, y) = o.alignment();
                    prop_assert_eq!(at % x, y);
                }
            }
            // Whatever follows is padding.
            prop_assert!(it.all(|(_, p)| matches!(p, Ipv6Option::Pad1 | Ipv6Option::PadN(_))));
        }

        #[test]
        fn bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let parsed: Result<Vec<_>> = Ipv6OptionIter::new(&bytes, 0).collect();
            if let Ok(parsed) = parsed {
                let mut out = vec![0u8; bytes.len()];
                let mut at = 0;
                for (off, o) in parsed {
                    prop_assert_eq!(off, at);
                    at += o.emit(&mut out[at..]).unwrap();
                }
                prop_assert_eq!(out, bytes);
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            for (_, o) in Ipv6OptionIter::new(&bytes, 2).take(64).flatten() {
                let _ = (o.action(), o.may_change(), o.buffer_len(), o.alignment());
            }
        }
    }
}
