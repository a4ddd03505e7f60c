//! Neighbor Discovery options (RFC 4861 §4.6) and their common extensions:
//! Nonce (RFC 3971 §5.3.2), Route Information (RFC 4191 §2.3), RDNSS and DNSSL
//! (RFC 8106 §5.1, §5.2).
//!
//! Options are type, length in units of 8 octets (including type and length),
//! and data. [`NdiscOptions`] iterates over an options area without allocating;
//! [`check_options`] validates a whole area once.

use crate::error::{Error, Result};
use crate::ethernet::MacAddr;
use crate::field::{array, read_u32, write_u32};
use std::net::Ipv6Addr;

/// ND option types (IANA "IPv6 Neighbor Discovery Option Formats").
pub mod opt_type {
    /// Source Link-Layer Address (RFC 4861 §4.6.1).
    pub const SOURCE_LL_ADDR: u8 = 1;
    /// Target Link-Layer Address (RFC 4861 §4.6.1).
    pub const TARGET_LL_ADDR: u8 = 2;
    /// Prefix Information (RFC 4861 §4.6.2).
    pub const PREFIX_INFO: u8 = 3;
    /// Redirected Header (RFC 4861 §4.6.3).
    pub const REDIRECTED_HEADER: u8 = 4;
    /// MTU (RFC 4861 §4.6.4).
    pub const MTU: u8 = 5;
    /// Nonce (RFC 3971 §5.3.2).
    pub const NONCE: u8 = 14;
    /// Route Information (RFC 4191 §2.3).
    pub const ROUTE_INFO: u8 = 24;
    /// Recursive DNS Server (RFC 8106 §5.1).
    pub const RDNSS: u8 = 25;
    /// DNS Search List (RFC 8106 §5.2).
    pub const DNSSL: u8 = 31;
}

/// A router preference (RFC 4191 §2.1): 01 high, 00 medium, 11 low, 10 reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RoutePreference {
    /// 01.
    High,
    /// 00.
    #[default]
    Medium,
    /// 11.
    Low,
    /// 10: receivers treat it as Medium (RFC 4191 §2.2) or ignore the route
    /// (§2.3); kept so a parsed message re-emits unchanged.
    Reserved,
}

impl RoutePreference {
    /// From the two preference bits.
    pub fn from_bits(bits: u8) -> Self {
        match bits & 3 {
            0 => Self::Medium,
            1 => Self::High,
            3 => Self::Low,
            _ => Self::Reserved,
        }
    }

    /// The two preference bits.
    pub fn bits(&self) -> u8 {
        match self {
            Self::Medium => 0,
            Self::High => 1,
            Self::Reserved => 2,
            Self::Low => 3,
        }
    }
}

/// One ND option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NdiscOption<'a> {
    /// Source link-layer address (RFC 4861 §4.6.1): the octets after the
    /// 2-octet header, including any padding.
    SourceLinkLayerAddr(&'a [u8]),
    /// Target link-layer address (RFC 4861 §4.6.1).
    TargetLinkLayerAddr(&'a [u8]),
    /// Prefix Information (RFC 4861 §4.6.2; length must be 4).
    PrefixInformation {
        /// Prefix length (0..=128).
        prefix_len: u8,
        /// L: on-link flag.
        on_link: bool,
        /// A: autonomous address-configuration flag.
        autonomous: bool,
        /// Valid lifetime in seconds (all ones = infinity).
        valid_lifetime: u32,
        /// Preferred lifetime in seconds.
        preferred_lifetime: u32,
        /// The prefix.
        prefix: Ipv6Addr,
    },
    /// Redirected Header (RFC 4861 §4.6.3): the IP packet after the 6
    /// reserved octets, including padding.
    RedirectedHeader(&'a [u8]),
    /// MTU (RFC 4861 §4.6.4; length must be 1).
    Mtu(u32),
    /// Nonce (RFC 3971 §5.3.2): raw octets after the header.
    Nonce(&'a [u8]),
    /// Route Information (RFC 4191 §2.3).
    RouteInformation {
        /// Prefix length (0..=128).
        prefix_len: u8,
        /// Route preference.
        preference: RoutePreference,
        /// Route lifetime in seconds.
        lifetime: u32,
        /// The prefix octets: 0, 8 or 16 of them per the length field (1, 2, 3).
        prefix: &'a [u8],
    },
    /// Recursive DNS Server (RFC 8106 §5.1).
    Rdnss {
        /// Lifetime in seconds.
        lifetime: u32,
        /// The addresses, 16 octets each (see [`rdnss_addrs`]).
        addresses: &'a [u8],
    },
    /// DNS Search List (RFC 8106 §5.2): raw octets after the header.
    Dnssl(&'a [u8]),
    /// Any other option type.
    Unknown {
        /// Option type.
        opt_type: u8,
        /// The octets after the 2-octet header.
        data: &'a [u8],
    },
}

/// Iterates over RDNSS addresses.
pub fn rdnss_addrs(addresses: &[u8]) -> impl Iterator<Item = Ipv6Addr> + '_ {
    addresses.chunks_exact(16).filter_map(|c| array::<16>(c, 0)).map(Ipv6Addr::from)
}

/// A link-layer address option's data as a MAC, when it holds exactly 6
/// octets (Ethernet, RFC 2464 §6).
pub fn ll_addr_mac(data: &[u8]) -> Option<MacAddr> {
    (data.len() == 6).then(|| array::<6>(data, 0).map(MacAddr)).flatten()
}

impl<'a> NdiscOption<'a> {
    /// Parses one option from the start of `buf`; returns it and its length.
    /// A zero length is `BadOption("length")` (RFC 4861 §4.6: such a packet
    /// MUST be discarded); running past `buf` is `BadOption("overflow")`; a
    /// type-specific length that is wrong is `BadOption("<option> length")`.
    pub fn parse(buf: &'a [u8]) -> Result<(Self, usize)> {
        if buf.len() < 2 {
            return Err(Error::BadOption("overflow"));
        }
        let len = usize::from(buf[1]) * 8;
        if len == 0 {
            return Err(Error::BadOption("length"));
        }
        let opt = buf.get(..len).ok_or(Error::BadOption("overflow"))?;
        let data = &opt[2..];
        let parsed = match buf[0] {
            opt_type::SOURCE_LL_ADDR => NdiscOption::SourceLinkLayerAddr(data),
            opt_type::TARGET_LL_ADDR => NdiscOption::TargetLinkLayerAddr(data),
            opt_type::PREFIX_INFO => {
                if len != 32 {
                    return Err(Error::BadOption("prefix information length"));
                }
                NdiscOption::PrefixInformation {
                    prefix_len: opt[2],
                    on_link: opt[3] & 0x80 != 0,
                    autonomous: opt[3] & 0x40 != 0,
                    valid_lifetime: read_u32(opt, 4),
                    preferred_lifetime: read_u32(opt, 8),
                    prefix: Ipv6Addr::from(array::<16>(opt, 16).ok_or(Error::Truncated)?),
                }
            }
            opt_type::REDIRECTED_HEADER => NdiscOption::RedirectedHeader(&opt[8..]),
            opt_type::MTU => {
                if len != 8 {
                    return Err(Error::BadOption("mtu length"));
                }
                NdiscOption::Mtu(read_u32(opt, 4))
            }
            opt_type::NONCE => NdiscOption::Nonce(data),
            opt_type::ROUTE_INFO => {
                // RFC 4191 §2.3: length 1, 2 or 3; the prefix must fit.
                let prefix_len = opt[2];
                let need = match prefix_len {
                    0 => 1,
                    1..=64 => 2,
                    65..=128 => 3,
                    _ => return Err(Error::BadOption("route information prefix length")),
                };
                if len > 24 || len / 8 < need {
                    return Err(Error::BadOption("route information length"));
                }
                NdiscOption::RouteInformation {
                    prefix_len,
                    preference: RoutePreference::from_bits(opt[3] >> 3),
                    lifetime: read_u32(opt, 4),
                    prefix: &opt[8..],
                }
            }
            opt_type::RDNSS => {
                // RFC 8106 §5.1: length 3 + 2n, at least one address.
                if len < 24 || (len / 8).is_multiple_of(2) {
                    return Err(Error::BadOption("rdnss length"));
                }
                NdiscOption::Rdnss { lifetime: read_u32(opt, 4), addresses: &opt[8..] }
            }
            opt_type::DNSSL => NdiscOption::Dnssl(data),
            t => NdiscOption::Unknown { opt_type: t, data },
        };
        Ok((parsed, len))
    }

    /// The option type.
    pub fn opt_type(&self) -> u8 {
        match self {
            NdiscOption::SourceLinkLayerAddr(_) => opt_type::SOURCE_LL_ADDR,
            NdiscOption::TargetLinkLayerAddr(_) => opt_type::TARGET_LL_ADDR,
            NdiscOption::PrefixInformation { .. } => opt_type::PREFIX_INFO,
            NdiscOption::RedirectedHeader(_) => opt_type::REDIRECTED_HEADER,
            NdiscOption::Mtu(_) => opt_type::MTU,
            NdiscOption::Nonce(_) => opt_type::NONCE,
            NdiscOption::RouteInformation { .. } => opt_type::ROUTE_INFO,
            NdiscOption::Rdnss { .. } => opt_type::RDNSS,
            NdiscOption::Dnssl(_) => opt_type::DNSSL,
            NdiscOption::Unknown { opt_type, .. } => *opt_type,
        }
    }

    /// The link-layer address as a MAC, for a 6-octet SLLA/TLLA option.
    pub fn mac(&self) -> Option<MacAddr> {
        match self {
            NdiscOption::SourceLinkLayerAddr(d) | NdiscOption::TargetLinkLayerAddr(d) => ll_addr_mac(d),
            _ => None,
        }
    }

    /// The unpadded length: header plus fixed fields plus variable data.
    fn raw_len(&self) -> usize {
        match self {
            NdiscOption::SourceLinkLayerAddr(d)
            | NdiscOption::TargetLinkLayerAddr(d)
            | NdiscOption::Nonce(d)
            | NdiscOption::Dnssl(d)
            | NdiscOption::Unknown { data: d, .. } => 2 + d.len(),
            NdiscOption::PrefixInformation { .. } => 32,
            NdiscOption::RedirectedHeader(d) => 8 + d.len(),
            NdiscOption::Mtu(_) => 8,
            NdiscOption::RouteInformation { prefix, .. } => 8 + prefix.len(),
            NdiscOption::Rdnss { addresses, .. } => 8 + addresses.len(),
        }
    }

    /// The emitted length: `raw_len` rounded up to a multiple of 8.
    pub fn buffer_len(&self) -> usize {
        self.raw_len().div_ceil(8) * 8
    }

    /// Writes the option, zero-padding to a multiple of 8 octets. Over 2040
    /// octets is `BadOption("length")`; a Route Information prefix that is not
    /// 0, 8 or 16 octets, or RDNSS addresses not a non-empty multiple of 16,
    /// are `BadOption` too.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        let units = u8::try_from(len / 8).map_err(|_| Error::BadOption("length"))?;
        match self {
            NdiscOption::RouteInformation { prefix, .. } if ![0, 8, 16].contains(&prefix.len()) => {
                return Err(Error::BadOption("route information length"))
            }
            NdiscOption::Rdnss { addresses, .. }
                if addresses.is_empty() || !addresses.len().is_multiple_of(16) =>
            {
                return Err(Error::BadOption("rdnss length"))
            }
            _ => {}
        }
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        let buf = &mut buf[..len];
        buf.fill(0);
        buf[0] = self.opt_type();
        buf[1] = units;
        match *self {
            NdiscOption::SourceLinkLayerAddr(d)
            | NdiscOption::TargetLinkLayerAddr(d)
            | NdiscOption::Nonce(d)
            | NdiscOption::Dnssl(d)
            | NdiscOption::Unknown { data: d, .. } => buf[2..2 + d.len()].copy_from_slice(d),
            NdiscOption::PrefixInformation {
                prefix_len,
                on_link,
                autonomous,
                valid_lifetime,
                preferred_lifetime,
                prefix,
            } => {
                buf[2] = prefix_len;
                buf[3] = (u8::from(on_link) << 7) | (u8::from(autonomous) << 6);
                write_u32(buf, 4, valid_lifetime);
                write_u32(buf, 8, preferred_lifetime);
                buf[16..32].copy_from_slice(&prefix.octets());
            }
            NdiscOption::RedirectedHeader(d) => buf[8..8 + d.len()].copy_from_slice(d),
            NdiscOption::Mtu(m) => write_u32(buf, 4, m),
            NdiscOption::RouteInformation { prefix_len, preference, lifetime, prefix } => {
                buf[2] = prefix_len;
                buf[3] = preference.bits() << 3;
                write_u32(buf, 4, lifetime);
                buf[8..8 + prefix.len()].copy_from_slice(prefix);
            }
            NdiscOption::Rdnss { lifetime, addresses } => {
                write_u32(buf, 4, lifetime);
                buf[8..8 + addresses.len()].copy_from_slice(addresses);
            }
        }
        Ok(len)
    }
}

/// A non-allocating iterator over an options area. After an error it yields
/// nothing more.
#[derive(Debug, Clone)]
pub struct NdiscOptions<'a> {
    rest: &'a [u8],
}

impl<'a> NdiscOptions<'a> {
    /// Iterates over `area` (the octets after a message's fixed part).
    pub fn new(area: &'a [u8]) -> Self {
        NdiscOptions { rest: area }
    }
}

impl<'a> Iterator for NdiscOptions<'a> {
    type Item = Result<NdiscOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match NdiscOption::parse(self.rest) {
            Ok((opt, len)) => {
                self.rest = &self.rest[len..];
                Some(Ok(opt))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Validates every option of an area (RFC 4861 §4.6).
pub fn check_options(area: &[u8]) -> Result<()> {
    NdiscOptions::new(area).try_for_each(|o| o.map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_slla_and_prefix() {
        let slla = [1, 1, 0x02, 0, 0, 0, 0, 0x01];
        let (o, n) = NdiscOption::parse(&slla).unwrap();
        assert_eq!(n, 8);
        assert_eq!(o.mac(), Some(MacAddr([2, 0, 0, 0, 0, 1])));
        // RFC 4861 §4.6.2: 2001:db8::/64, L and A set, 30 days / 7 days.
        let mut pi = vec![3, 4, 64, 0xc0, 0, 0x27, 0x8d, 0, 0, 0x09, 0x3a, 0x80, 0, 0, 0, 0];
        pi.extend_from_slice(&"2001:db8::".parse::<Ipv6Addr>().unwrap().octets());
        let (o, _) = NdiscOption::parse(&pi).unwrap();
        assert_eq!(
            o,
            NdiscOption::PrefixInformation {
                prefix_len: 64,
                on_link: true,
                autonomous: true,
                valid_lifetime: 2_592_000,
                preferred_lifetime: 604_800,
                prefix: "2001:db8::".parse().unwrap()
            }
        );
        let mut out = [0u8; 32];
        o.emit(&mut out).unwrap();
        assert_eq!(&out[..], &pi[..]);
        let area: Vec<u8> = slla.iter().chain(pi.iter()).copied().collect();
        assert_eq!(NdiscOptions::new(&area).count(), 2);
        assert!(check_options(&area).is_ok());
    }

    #[test]
    fn rdnss_and_route_info() {
        let a: Ipv6Addr = "2001:db8::53".parse().unwrap();
        let o = NdiscOption::Rdnss { lifetime: 600, addresses: &a.octets() };
        let mut out = [0u8; 24];
        assert_eq!(o.emit(&mut out).unwrap(), 24);
        assert_eq!(&out[..8], &[25, 3, 0, 0, 0, 0, 2, 0x58]);
        let (p, _) = NdiscOption::parse(&out).unwrap();
        match p {
            NdiscOption::Rdnss { addresses, .. } => {
                assert_eq!(rdnss_addrs(addresses).collect::<Vec<_>>(), vec![a])
            }
            other => panic!("{other:?}"),
        }
        let ri = [24, 2, 48, 0x08, 0, 0, 0, 60, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0];
        let (p, _) = NdiscOption::parse(&ri).unwrap();
        assert_eq!(
            p,
            NdiscOption::RouteInformation {
                prefix_len: 48,
                preference: RoutePreference::High,
                lifetime: 60,
                prefix: &ri[8..]
            }
        );
    }

    #[test]
    fn zero_length_option_is_bad_option() {
        assert_eq!(NdiscOption::parse(&[1, 0, 0, 0, 0, 0, 0, 0]).unwrap_err(), Error::BadOption("length"));
    }

    #[test]
    fn option_past_buffer_is_bad_option() {
        assert_eq!(NdiscOption::parse(&[1, 2, 0, 0, 0, 0, 0, 0]).unwrap_err(), Error::BadOption("overflow"));
        assert_eq!(NdiscOption::parse(&[1]).unwrap_err(), Error::BadOption("overflow"));
        assert_eq!(check_options(&[1, 1, 0, 0, 0, 0, 0, 0, 5]).unwrap_err(), Error::BadOption("overflow"));
    }

    #[test]
    fn wrong_fixed_lengths_are_bad_option() {
        assert_eq!(
            NdiscOption::parse(&[5, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap_err(),
            Error::BadOption("mtu length")
        );
        assert_eq!(
            NdiscOption::parse(&[3, 1, 0, 0, 0, 0, 0, 0]).unwrap_err(),
            Error::BadOption("prefix information length")
        );
        assert_eq!(
            NdiscOption::parse(&[24, 1, 64, 0, 0, 0, 0, 0]).unwrap_err(),
            Error::BadOption("route information length")
        );
        assert_eq!(
            NdiscOption::parse(&[24, 1, 129, 0, 0, 0, 0, 0]).unwrap_err(),
            Error::BadOption("route information prefix length")
        );
        assert_eq!(
            NdiscOption::parse(&[25, 1, 0, 0, 0, 0, 0, 0]).unwrap_err(),
            Error::BadOption("rdnss length")
        );
        let bad = NdiscOption::RouteInformation {
            prefix_len: 0,
            preference: RoutePreference::Low,
            lifetime: 0,
            prefix: &[0; 4],
        };
        assert_eq!(bad.emit(&mut [0u8; 16]).unwrap_err(), Error::BadOption("route information length"));
    }

    fn make<'a>(k: u8, data: &'a [u8], a: u32, b: u32, c: u8, d: u8) -> NdiscOption<'a> {
        // `data` is a multiple of 8 octets long.
        let six = if data.len() >= 6 { &data[..data.len() - 2] } else { &data[..0] };
        match k {
            0 => NdiscOption::SourceLinkLayerAddr(if data.len() >= 8 {
                &data[..data.len() - 2]
            } else {
                &[0; 6]
            }),
            1 => NdiscOption::TargetLinkLayerAddr(if data.len() >= 8 {
                &data[..data.len() - 2]
            } else {
                &[0; 6]
            }),
            2 => NdiscOption::PrefixInformation {
                prefix_len: c,
                on_link: d & 1 != 0,
                autonomous: d & 2 != 0,
                valid_lifetime: a,
                preferred_lifetime: b,
                prefix: Ipv6Addr::from(u128::from(a) << 64 | u128::from(b)),
            },
            3 => NdiscOption::RedirectedHeader(data),
            4 => NdiscOption::Mtu(a),
            5 => NdiscOption::Nonce(if six.is_empty() { &[1, 2, 3, 4, 5, 6] } else { six }),
            6 => {
                let n = usize::from(c % 3) * 8;
                let n = n.min(data.len() / 8 * 8);
                let prefix_len = match n {
                    0 => 0,
                    8 => 1 + d % 64,
                    _ => 65 + d % 64,
                };
                NdiscOption::RouteInformation {
                    prefix_len,
                    preference: RoutePreference::from_bits(d >> 6),
                    lifetime: a,
                    prefix: &data[..n],
                }
            }
            7 if data.len() >= 16 => {
                NdiscOption::Rdnss { lifetime: a, addresses: &data[..data.len() / 16 * 16] }
            }
            8 if !six.is_empty() => NdiscOption::Dnssl(six),
            _ => NdiscOption::Unknown {
                opt_type: [0, 6, 7, 200, 255][usize::from(c % 5)],
                data: if six.is_empty() { &[9; 6] } else { six },
            },
        }
    }

    proptest! {
        #[test]
        fn option_round_trip(k in 0u8..10, blocks in proptest::collection::vec(any::<u8>(), 0..5), a in any::<u32>(), b in any::<u32>(), c in any::<u8>(), d in any::<u8>()) {
            let data: Vec<u8> = blocks.iter().flat_map(|&x| [x; 8]).collect();
            let opt = make(k, &data, a, b, c, d);
            let mut buf = vec![0u8; opt.buffer_len()];
            let n = opt.emit(&mut buf).unwrap();
            prop_assert_eq!(n, buf.len());
            let (back, m) = NdiscOption::parse(&buf).unwrap();
            prop_assert_eq!(m, n);
            prop_assert_eq!(back, opt);
        }

        #[test]
        fn bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let mut at = 0;
            while at < bytes.len() {
                let Ok((opt, n)) = NdiscOption::parse(&bytes[at..]) else { break };
                let mut out = vec![0u8; opt.buffer_len()];
                prop_assert_eq!(opt.emit(&mut out).unwrap(), n);
                prop_assert_eq!(NdiscOption::parse(&out).unwrap(), (opt, n));
                // Options without reserved fields re-emit octet for octet.
                if matches!(opt, NdiscOption::SourceLinkLayerAddr(_) | NdiscOption::TargetLinkLayerAddr(_)
                    | NdiscOption::Nonce(_) | NdiscOption::Dnssl(_) | NdiscOption::Unknown { .. }) {
                    prop_assert_eq!(&out[..], &bytes[at..at + n]);
                }
                at += n;
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = check_options(&bytes);
            for o in NdiscOptions::new(&bytes).flatten() {
                let _ = (o.opt_type(), o.mac(), o.buffer_len());
                if let NdiscOption::Rdnss { addresses, .. } = o {
                    let _ = rdnss_addrs(addresses).count();
                }
            }
        }
    }
}
