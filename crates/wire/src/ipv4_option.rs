//! IPv4 options (RFC 791 §3.1 "Options", RFC 2113 Router Alert): a
//! non-allocating iterator over the options area of a header and an emitter
//! that writes a list of options padded to a multiple of 4 bytes.
//!
//! The iterator reports structure only: it checks that every option fits the
//! area and that the options it knows have their fixed shape. Policy (e.g.
//! whether a router honours source routes) belongs to the core.

use crate::error::{Error, Result};
use crate::field::{read_u16, write_u16};

/// Option type octets (IANA "IP Option Numbers"; copied flag, class and number
/// folded into one byte as on the wire, RFC 791 §3.1).
pub mod kind {
    /// End of Option List (RFC 791 §3.1), a single zero octet.
    pub const END_OF_LIST: u8 = 0;
    /// No Operation (RFC 791 §3.1), a single octet used for alignment.
    pub const NO_OPERATION: u8 = 1;
    /// Record Route (RFC 791 §3.1).
    pub const RECORD_ROUTE: u8 = 7;
    /// Internet Timestamp (RFC 791 §3.1).
    pub const TIMESTAMP: u8 = 68;
    /// Loose Source and Record Route (RFC 791 §3.1); yielded as `Unknown`.
    pub const LSRR: u8 = 131;
    /// Strict Source and Record Route (RFC 791 §3.1); yielded as `Unknown`.
    pub const SSRR: u8 = 137;
    /// Router Alert (RFC 2113 §2.1).
    pub const ROUTER_ALERT: u8 = 148;
}

/// The largest options area: 15 * 4 - 20 bytes (RFC 791 §3.1, IHL is 4 bits).
pub const MAX_OPTIONS_LEN: usize = 40;

/// One IPv4 option, borrowing its data from the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv4Option<'a> {
    /// End of Option List (type 0, RFC 791 §3.1). The iterator stops after it;
    /// the bytes that follow are padding and are not inspected.
    EndOfList,
    /// No Operation (type 1, RFC 791 §3.1).
    NoOperation,
    /// Record Route (type 7, RFC 791 §3.1).
    RecordRoute {
        /// Octet offset (from the option start) of the next free slot; at least 4.
        pointer: u8,
        /// The route data: the recorded addresses and the free slots.
        data: &'a [u8],
    },
    /// Internet Timestamp (type 68, RFC 791 §3.1).
    Timestamp {
        /// Octet offset (from the option start) of the next free slot; at least 5.
        pointer: u8,
        /// Overflow counter (high 4 bits of the fourth octet).
        overflow: u8,
        /// Flag (low 4 bits of the fourth octet): 0 timestamps only, 1 with
        /// addresses, 3 prespecified addresses.
        flag: u8,
        /// The timestamp (and address) slots.
        data: &'a [u8],
    },
    /// Router Alert (type 148, RFC 2113 §2.1), always 4 octets long.
    RouterAlert {
        /// 0 means "router shall examine packet"; other values are reserved.
        value: u16,
    },
    /// Any other option in type-length-value form (RFC 791 §3.1 case (b)).
    Unknown {
        /// The option type octet.
        kind: u8,
        /// The option data after the type and length octets.
        data: &'a [u8],
    },
}

impl Ipv4Option<'_> {
    /// The option type octet (RFC 791 §3.1).
    pub fn kind(&self) -> u8 {
        match self {
            Ipv4Option::EndOfList => kind::END_OF_LIST,
            Ipv4Option::NoOperation => kind::NO_OPERATION,
            Ipv4Option::RecordRoute { .. } => kind::RECORD_ROUTE,
            Ipv4Option::Timestamp { .. } => kind::TIMESTAMP,
            Ipv4Option::RouterAlert { .. } => kind::ROUTER_ALERT,
            Ipv4Option::Unknown { kind, .. } => *kind,
        }
    }

    /// The number of octets this option occupies on the wire.
    pub fn buffer_len(&self) -> usize {
        match self {
            Ipv4Option::EndOfList | Ipv4Option::NoOperation => 1,
            Ipv4Option::RecordRoute { data, .. } => 3 + data.len(),
            Ipv4Option::Timestamp { data, .. } => 4 + data.len(),
            Ipv4Option::RouterAlert { .. } => 4,
            Ipv4Option::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Writes the option at the start of `buf`; returns its length.
    ///
    /// Errors: `BufferTooSmall`; `BadOption("length")` if the option would be
    /// longer than the 40-octet options area; `BadOption("pointer")` for a
    /// Record Route pointer below 4 or a Timestamp pointer below 5;
    /// `BadOption("flag")` / `BadOption("overflow")` for values over 4 bits.
    /// An `Unknown` option whose kind is one the parser knows is written as
    /// given and parses back as that known option.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        if len > MAX_OPTIONS_LEN {
            return Err(Error::BadOption("length"));
        }
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        // `len <= 40`, so the length octet cannot overflow.
        let len_octet = len as u8;
        buf[0] = self.kind();
        match *self {
            Ipv4Option::EndOfList | Ipv4Option::NoOperation => {}
            Ipv4Option::RecordRoute { pointer, data } => {
                if pointer < 4 {
                    return Err(Error::BadOption("pointer"));
                }
                buf[1] = len_octet;
                buf[2] = pointer;
                buf[3..len].copy_from_slice(data);
            }
            Ipv4Option::Timestamp { pointer, overflow, flag, data } => {
                if pointer < 5 {
                    return Err(Error::BadOption("pointer"));
                }
                if overflow > 0x0f {
                    return Err(Error::BadOption("overflow"));
                }
                if flag > 0x0f {
                    return Err(Error::BadOption("flag"));
                }
                buf[1] = len_octet;
                buf[2] = pointer;
                buf[3] = (overflow << 4) | flag;
                buf[4..len].copy_from_slice(data);
            }
            Ipv4Option::RouterAlert { value } => {
                buf[1] = len_octet;
                write_u16(buf, 2, value);
            }
            Ipv4Option::Unknown { data, .. } => {
                buf[1] = len_octet;
                buf[2..len].copy_from_slice(data);
            }
        }
        Ok(len)
    }
}

/// Iterator over the options area of an IPv4 header (the bytes between octet
/// 20 and the IHL end). Yields `Err` once and then stops on a malformed
/// option; stops after `EndOfList`. Never allocates, never panics.
#[derive(Debug, Clone)]
pub struct Ipv4OptionIter<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Ipv4OptionIter<'a> {
    /// Iterates over `area`, the raw options bytes of a header.
    pub fn new(area: &'a [u8]) -> Self {
        Ipv4OptionIter { rest: area, done: false }
    }

    /// Checks that every option in `area` is well formed.
    pub fn validate(area: &'a [u8]) -> Result<()> {
        Self::new(area).try_for_each(|o| o.map(|_| ()))
    }

    fn next_option(&mut self) -> Result<Ipv4Option<'a>> {
        let rest = self.rest;
        let kind = rest[0];
        match kind {
            kind::END_OF_LIST => {
                self.done = true;
                return Ok(Ipv4Option::EndOfList);
            }
            kind::NO_OPERATION => {
                self.rest = &rest[1..];
                return Ok(Ipv4Option::NoOperation);
            }
            _ => {}
        }
        // RFC 791 §3.1 case (b): type, length (counting type and length), data.
        let len = usize::from(*rest.get(1).ok_or(Error::BadOption("length"))?);
        if len < 2 || len > rest.len() {
            return Err(Error::BadOption("length"));
        }
        let option = &rest[..len];
        let parsed = match kind {
            kind::RECORD_ROUTE => {
                // RFC 791 §3.1: type, length, pointer, route data.
                let pointer = *option.get(2).ok_or(Error::BadOption("length"))?;
                if pointer < 4 {
                    return Err(Error::BadOption("pointer"));
                }
                Ipv4Option::RecordRoute { pointer, data: &option[3..] }
            }
            kind::TIMESTAMP => {
                // RFC 791 §3.1: type, length, pointer, oflw|flg, data; "the
                // smallest legal value [of the pointer] is 5".
                if len < 4 {
                    return Err(Error::BadOption("length"));
                }
                let pointer = option[2];
                if pointer < 5 {
                    return Err(Error::BadOption("pointer"));
                }
                Ipv4Option::Timestamp {
                    pointer,
                    overflow: option[3] >> 4,
                    flag: option[3] & 0x0f,
                    data: &option[4..],
                }
            }
            kind::ROUTER_ALERT => {
                // RFC 2113 §2.1: length is always 4.
                if len != 4 {
                    return Err(Error::BadOption("length"));
                }
                Ipv4Option::RouterAlert { value: read_u16(option, 2) }
            }
            _ => Ipv4Option::Unknown { kind, data: &option[2..] },
        };
        self.rest = &rest[len..];
        Ok(parsed)
    }
}

impl<'a> Iterator for Ipv4OptionIter<'a> {
    type Item = Result<Ipv4Option<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        let item = self.next_option();
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}

impl core::iter::FusedIterator for Ipv4OptionIter<'_> {}

/// The length of the options area that [`emit_options`] writes for `options`:
/// their total length rounded up to a multiple of 4 (RFC 791 §3.1 "the
/// internet header must be padded with zeros").
pub fn options_buffer_len(options: &[Ipv4Option<'_>]) -> usize {
    let raw: usize = options.iter().map(Ipv4Option::buffer_len).sum();
    raw.div_ceil(4) * 4
}

/// Writes `options` followed by zero padding (End of Option List octets) up to
/// a multiple of 4 into the start of `buf`; returns the padded length.
///
/// Errors: `BadLength("options")` if the padded list exceeds 40 octets;
/// `BufferTooSmall`; any error of [`Ipv4Option::emit`].
pub fn emit_options(options: &[Ipv4Option<'_>], buf: &mut [u8]) -> Result<usize> {
    let total = options_buffer_len(options);
    if total > MAX_OPTIONS_LEN {
        return Err(Error::BadLength("options"));
    }
    if buf.len() < total {
        return Err(Error::BufferTooSmall);
    }
    let mut at = 0;
    for option in options {
        at += option.emit(&mut buf[at..total])?;
    }
    buf[at..total].fill(kind::END_OF_LIST);
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn collect(area: &[u8]) -> Vec<Result<Ipv4Option<'_>>> {
        Ipv4OptionIter::new(area).collect()
    }

    #[test]
    fn record_route_and_router_alert() {
        // RR with room for two addresses, one recorded; then RA; then EOL padding.
        let area = [
            7, 11, 8, 192, 0, 2, 1, 0, 0, 0, 0, // RR, pointer after first address
            148, 4, 0, 0, // Router Alert, value 0
            0, // EOL
        ];
        let opts = collect(&area);
        assert_eq!(
            opts,
            vec![
                Ok(Ipv4Option::RecordRoute { pointer: 8, data: &[192, 0, 2, 1, 0, 0, 0, 0] }),
                Ok(Ipv4Option::RouterAlert { value: 0 }),
                Ok(Ipv4Option::EndOfList),
            ]
        );
        let list = [
            Ipv4Option::RecordRoute { pointer: 8, data: &[192, 0, 2, 1, 0, 0, 0, 0] },
            Ipv4Option::RouterAlert { value: 0 },
        ];
        assert_eq!(options_buffer_len(&list), 16);
        let mut out = [0xaa; 16];
        assert_eq!(emit_options(&list, &mut out), Ok(16));
        assert_eq!(out, area);
    }

    #[test]
    fn timestamp_and_nop() {
        let area = [1, 68, 12, 9, 0x21, 0, 0, 0, 1, 0, 0, 0, 0];
        assert_eq!(
            collect(&area),
            vec![
                Ok(Ipv4Option::NoOperation),
                Ok(Ipv4Option::Timestamp {
                    pointer: 9,
                    overflow: 2,
                    flag: 1,
                    data: &[0, 0, 0, 1, 0, 0, 0, 0]
                }),
            ]
        );
    }

    #[test]
    fn stops_after_end_of_list() {
        // Garbage after EOL is padding and not inspected.
        assert_eq!(collect(&[0, 7, 0, 0xff]), vec![Ok(Ipv4Option::EndOfList)]);
        assert_eq!(collect(&[]), vec![]);
    }

    #[test]
    fn unknown_options_keep_their_data() {
        assert_eq!(
            collect(&[kind::LSRR, 7, 4, 192, 0, 2, 9, 1]),
            vec![
                Ok(Ipv4Option::Unknown { kind: kind::LSRR, data: &[4, 192, 0, 2, 9] }),
                Ok(Ipv4Option::NoOperation)
            ]
        );
    }

    #[test]
    fn option_length_zero_is_bad_option() {
        assert_eq!(collect(&[130, 0, 0, 0]), vec![Err(Error::BadOption("length"))]);
    }

    #[test]
    fn option_length_one_is_bad_option() {
        assert_eq!(collect(&[130, 1, 0, 0]), vec![Err(Error::BadOption("length"))]);
    }

    #[test]
    fn option_length_missing_is_bad_option() {
        assert_eq!(
            collect(&[1, 1, 1, 130]),
            vec![Ok(Ipv4Option::NoOperation); 3]
                .into_iter()
                .chain([Err(Error::BadOption("length"))])
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn option_running_past_the_area_is_bad_option() {
        assert_eq!(collect(&[148, 4, 0]), vec![Err(Error::BadOption("length"))]);
        assert_eq!(collect(&[7, 40, 4, 0]), vec![Err(Error::BadOption("length"))]);
    }

    #[test]
    fn record_route_pointer_below_four_is_bad_option() {
        assert_eq!(collect(&[7, 7, 3, 0, 0, 0, 0, 0]), vec![Err(Error::BadOption("pointer"))]);
    }

    #[test]
    fn record_route_without_pointer_is_bad_option() {
        assert_eq!(collect(&[7, 2, 0, 0]), vec![Err(Error::BadOption("length"))]);
    }

    #[test]
    fn timestamp_pointer_below_five_is_bad_option() {
        assert_eq!(collect(&[68, 8, 4, 0, 0, 0, 0, 0]), vec![Err(Error::BadOption("pointer"))]);
        assert_eq!(collect(&[68, 3, 5, 0]), vec![Err(Error::BadOption("length"))]);
    }

    #[test]
    fn router_alert_length_must_be_four() {
        assert_eq!(collect(&[148, 3, 0, 0]), vec![Err(Error::BadOption("length"))]);
        assert_eq!(collect(&[148, 6, 0, 0, 0, 0, 0, 0]), vec![Err(Error::BadOption("length"))]);
    }

    #[test]
    fn iterator_stops_after_error() {
        let mut it = Ipv4OptionIter::new(&[130, 0, 1, 1]);
        assert!(matches!(it.next(), Some(Err(_))));
        assert_eq!(it.next(), None);
        assert_eq!(Ipv4OptionIter::validate(&[130, 0]), Err(Error::BadOption("length")));
        assert_eq!(Ipv4OptionIter::validate(&[1, 1, 1, 0]), Ok(()));
    }

    #[test]
    fn emit_errors() {
        let big = [0u8; 40];
        let mut buf = [0u8; 64];
        assert_eq!(
            Ipv4Option::Unknown { kind: 130, data: &big }.emit(&mut buf),
            Err(Error::BadOption("length"))
        );
        assert_eq!(
            Ipv4Option::RecordRoute { pointer: 3, data: &[] }.emit(&mut buf),
            Err(Error::BadOption("pointer"))
        );
        let ts = Ipv4Option::Timestamp { pointer: 5, overflow: 16, flag: 0, data: &[] };
        assert_eq!(ts.emit(&mut buf), Err(Error::BadOption("overflow")));
        assert_eq!(Ipv4Option::RouterAlert { value: 0 }.emit(&mut buf[..3]), Err(Error::BufferTooSmall));
        let many = [Ipv4Option::RouterAlert { value: 0 }; 11];
        assert_eq!(emit_options(&many, &mut buf), Err(Error::BadLength("options")));
        assert_eq!(emit_options(&many[..2], &mut buf[..7]), Err(Error::BufferTooSmall));
    }

    /// Owned description of an option, so proptest can generate borrowing ones.
    #[derive(Debug, Clone)]
    enum Gen {
        Nop,
        Rr(u8, Vec<u8>),
        Ts(u8, u8, u8, Vec<u8>),
        Ra(u16),
        Unknown(u8, Vec<u8>),
    }

    impl Gen {
        fn option(&self) -> Ipv4Option<'_> {
            match self {
                Gen::Nop => Ipv4Option::NoOperation,
                Gen::Rr(pointer, data) => Ipv4Option::RecordRoute { pointer: *pointer, data },
                Gen::Ts(pointer, overflow, flag, data) => {
                    Ipv4Option::Timestamp { pointer: *pointer, overflow: *overflow, flag: *flag, data }
                }
                Gen::Ra(value) => Ipv4Option::RouterAlert { value: *value },
                Gen::Unknown(kind, data) => Ipv4Option::Unknown { kind: *kind, data },
            }
        }
    }

    fn arb_gen() -> impl Strategy<Value = Gen> {
        let data = || proptest::collection::vec(any::<u8>(), 0..12);
        prop_oneof![
            Just(Gen::Nop),
            (4u8.., data()).prop_map(|(p, d)| Gen::Rr(p, d)),
            (5u8.., 0u8..16, 0u8..16, data()).prop_map(|(p, o, f, d)| Gen::Ts(p, o, f, d)),
            any::<u16>().prop_map(Gen::Ra),
            (any::<u8>().prop_filter("a kind the parser names", |k| ![0, 1, 7, 68, 148].contains(k)), data())
                .prop_map(|(k, d)| Gen::Unknown(k, d)),
        ]
    }

    proptest! {
        #[test]
        fn list_round_trip(gens in proptest::collection::vec(arb_gen(), 0..4)) {
            let list: Vec<Ipv4Option<'_>> = gens.iter().map(Gen::option).collect();
            let mut buf = [0u8; MAX_OPTIONS_LEN];
            match emit_options(&list, &mut buf) {
                Ok(n) => {
                    prop_assert_eq!(n % 4, 0);
                    let parsed: Vec<_> = Ipv4OptionIter::new(&buf[..n])
                        .map(|o| o.unwrap())
                        .take_while(|o| *o != Ipv4Option::EndOfList)
                        .collect();
                    prop_assert_eq!(parsed, list);
                }
                Err(e) => prop_assert_eq!(e, Error::BadLength("options")),
            }
        }

        #[test]
        fn bytes_round_trip(area in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut out = Vec::new();
            for option in Ipv4OptionIter::new(&area) {
                let Ok(option) = option else { return Ok(()) };
                let mut buf = [0u8; MAX_OPTIONS_LEN];
                let n = option.emit(&mut buf).unwrap();
                out.extend_from_slice(&buf[..n]);
            }
            prop_assert_eq!(&out[..], &area[..out.len()]);
        }

        #[test]
        fn never_panics(area in proptest::collection::vec(any::<u8>(), 0..64)) {
            let n = Ipv4OptionIter::new(&area).count();
            prop_assert!(n <= area.len());
        }
    }
}
