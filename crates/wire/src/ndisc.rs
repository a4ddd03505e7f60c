//! Neighbor Discovery messages (RFC 4861 §4.1-§4.5), carried in ICMPv6
//! (see [`crate::icmpv6::Icmpv6Repr::Ndisc`]). The options area is kept raw
//! and validated once at parse; iterate it with [`NdiscRepr::options_iter`].

use crate::error::{Error, Result};
use crate::field::{array, read_u16, read_u32, write_u16, write_u32};
use crate::ndisc_option::{check_options, NdiscOptions, RoutePreference};
use std::net::Ipv6Addr;

/// ND ICMPv6 types (RFC 4861 §4).
pub mod msg_type {
    /// Router Solicitation (RFC 4861 §4.1).
    pub const ROUTER_SOLICIT: u8 = 133;
    /// Router Advertisement (RFC 4861 §4.2).
    pub const ROUTER_ADVERT: u8 = 134;
    /// Neighbor Solicitation (RFC 4861 §4.3).
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    /// Neighbor Advertisement (RFC 4861 §4.4).
    pub const NEIGHBOR_ADVERT: u8 = 136;
    /// Redirect (RFC 4861 §4.5).
    pub const REDIRECT: u8 = 137;
}

/// Router Advertisement flags (RFC 4861 §4.2, RFC 3775 §7.1 H, RFC 4191 §2.2 Prf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RaFlags {
    /// M: managed address configuration.
    pub managed: bool,
    /// O: other configuration.
    pub other: bool,
    /// H: home agent (RFC 6275 §7.1).
    pub home_agent: bool,
    /// Default router preference (RFC 4191 §2.2).
    pub preference: RoutePreference,
}

impl RaFlags {
    fn from_octet(b: u8) -> Self {
        RaFlags {
            managed: b & 0x80 != 0,
            other: b & 0x40 != 0,
            home_agent: b & 0x20 != 0,
            preference: RoutePreference::from_bits(b >> 3),
        }
    }

    fn octet(&self) -> u8 {
        (u8::from(self.managed) << 7)
            | (u8::from(self.other) << 6)
            | (u8::from(self.home_agent) << 5)
            | (self.preference.bits() << 3)
    }
}

/// Neighbor Advertisement flags (RFC 4861 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NaFlags {
    /// R: the sender is a router.
    pub router: bool,
    /// S: sent in response to a solicitation.
    pub solicited: bool,
    /// O: override an existing cache entry.
    pub override_: bool,
}

/// The fields of an ND message; `options` is the validated raw options area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NdiscRepr<'a> {
    /// Router Solicitation (RFC 4861 §4.1).
    RouterSolicit {
        /// Options (e.g. source link-layer address).
        options: &'a [u8],
    },
    /// Router Advertisement (RFC 4861 §4.2).
    RouterAdvert {
        /// Cur Hop Limit (0 = unspecified).
        hop_limit: u8,
        /// M, O, H and Prf.
        flags: RaFlags,
        /// Router lifetime in seconds (0 = not a default router).
        router_lifetime: u16,
        /// Reachable time in milliseconds (0 = unspecified).
        reachable_time: u32,
        /// Retrans timer in milliseconds (0 = unspecified).
        retrans_time: u32,
        /// Options.
        options: &'a [u8],
    },
    /// Neighbor Solicitation (RFC 4861 §4.3).
    NeighborSolicit {
        /// Target address.
        target: Ipv6Addr,
        /// Options.
        options: &'a [u8],
    },
    /// Neighbor Advertisement (RFC 4861 §4.4).
    NeighborAdvert {
        /// R, S, O.
        flags: NaFlags,
        /// Target address.
        target: Ipv6Addr,
        /// Options.
        options: &'a [u8],
    },
    /// Redirect (RFC 4861 §4.5).
    Redirect {
        /// A better first hop.
        target: Ipv6Addr,
        /// The destination being redirected.
        dest: Ipv6Addr,
        /// Options.
        options: &'a [u8],
    },
}

/// Fixed part length (ICMPv6 header included) per type.
fn fixed_len(t: u8) -> usize {
    match t {
        msg_type::ROUTER_SOLICIT => 8,
        msg_type::ROUTER_ADVERT => 16,
        msg_type::NEIGHBOR_SOLICIT | msg_type::NEIGHBOR_ADVERT => 24,
        _ => 40,
    }
}

fn addr(msg: &[u8], at: usize) -> Result<Ipv6Addr> {
    array::<16>(msg, at).map(Ipv6Addr::from).ok_or(Error::Truncated)
}

impl<'a> NdiscRepr<'a> {
    /// Parses a whole ND message (`msg` starts at the ICMPv6 type; the caller
    /// checked the type is 133..=137 and the code 0). Shorter than the fixed
    /// part is `Truncated` (RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1); an option of length 0
    /// or running past the end is `BadOption`.
    ///
    /// Not enforced here (the core's policy, RFC 4861 §6.1/§7.1/§8.1): hop
    /// limit 255, unspecified-source rules, multicast-target rules.
    pub fn parse(msg: &'a [u8]) -> Result<Self> {
        let t = *msg.first().ok_or(Error::Truncated)?;
        if !(msg_type::ROUTER_SOLICIT..=msg_type::REDIRECT).contains(&t) {
            return Err(Error::BadField("type"));
        }
        let fixed = fixed_len(t);
        if msg.len() < fixed {
            return Err(Error::Truncated);
        }
        let options = &msg[fixed..];
        check_options(options)?;
        Ok(match t {
            msg_type::ROUTER_SOLICIT => NdiscRepr::RouterSolicit { options },
            msg_type::ROUTER_ADVERT => NdiscRepr::RouterAdvert {
                hop_limit: msg[4],
                flags: RaFlags::from_octet(msg[5]),
                router_lifetime: read_u16(msg, 6),
                reachable_time: read_u32(msg, 8),
                retrans_time: read_u32(msg, 12),
                options,
            },
            msg_type::NEIGHBOR_SOLICIT => NdiscRepr::NeighborSolicit { target: addr(msg, 8)?, options },
            msg_type::NEIGHBOR_ADVERT => NdiscRepr::NeighborAdvert {
                flags: NaFlags {
                    router: msg[4] & 0x80 != 0,
                    solicited: msg[4] & 0x40 != 0,
                    override_: msg[4] & 0x20 != 0,
                },
                target: addr(msg, 8)?,
                options,
            },
            _ => NdiscRepr::Redirect { target: addr(msg, 8)?, dest: addr(msg, 24)?, options },
        })
    }

    /// The ICMPv6 type.
    pub fn msg_type(&self) -> u8 {
        match self {
            NdiscRepr::RouterSolicit { .. } => msg_type::ROUTER_SOLICIT,
            NdiscRepr::RouterAdvert { .. } => msg_type::ROUTER_ADVERT,
            NdiscRepr::NeighborSolicit { .. } => msg_type::NEIGHBOR_SOLICIT,
            NdiscRepr::NeighborAdvert { .. } => msg_type::NEIGHBOR_ADVERT,
            NdiscRepr::Redirect { .. } => msg_type::REDIRECT,
        }
    }

    /// The raw options area.
    pub fn options(&self) -> &'a [u8] {
        match *self {
            NdiscRepr::RouterSolicit { options }
            | NdiscRepr::RouterAdvert { options, .. }
            | NdiscRepr::NeighborSolicit { options, .. }
            | NdiscRepr::NeighborAdvert { options, .. }
            | NdiscRepr::Redirect { options, .. } => options,
        }
    }

    /// Iterates over the options.
    pub fn options_iter(&self) -> NdiscOptions<'a> {
        NdiscOptions::new(self.options())
    }

    /// The whole message length, ICMPv6 header included.
    pub fn buffer_len(&self) -> usize {
        fixed_len(self.msg_type()) + self.options().len()
    }

    /// Writes the whole message except the checksum (left zero), code 0,
    /// reserved fields zero. Options must be a multiple of 8 octets
    /// (`BadOption("length")`).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        if !self.options().len().is_multiple_of(8) {
            return Err(Error::BadOption("length"));
        }
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        let fixed = fixed_len(self.msg_type());
        let buf = &mut buf[..len];
        buf[..fixed].fill(0);
        buf[0] = self.msg_type();
        match *self {
            NdiscRepr::RouterSolicit { .. } => {}
            NdiscRepr::RouterAdvert {
                hop_limit,
                flags,
                router_lifetime,
                reachable_time,
                retrans_time,
                ..
            } => {
                buf[4] = hop_limit;
                buf[5] = flags.octet();
                write_u16(buf, 6, router_lifetime);
                write_u32(buf, 8, reachable_time);
                write_u32(buf, 12, retrans_time);
            }
            NdiscRepr::NeighborSolicit { target, .. } => buf[8..24].copy_from_slice(&target.octets()),
            NdiscRepr::NeighborAdvert { flags, target, .. } => {
                buf[4] = (u8::from(flags.router) << 7)
                    | (u8::from(flags.solicited) << 6)
                    | (u8::from(flags.override_) << 5);
                buf[8..24].copy_from_slice(&target.octets());
            }
            NdiscRepr::Redirect { target, dest, .. } => {
                buf[8..24].copy_from_slice(&target.octets());
                buf[24..40].copy_from_slice(&dest.octets());
            }
        }
        buf[fixed..].copy_from_slice(self.options());
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ndisc_option::NdiscOption;
    use proptest::prelude::*;

    /// A Neighbor Solicitation for fe80::1 with SLLA 02:00:00:00:00:02
    /// (checksum left zero: the ICMPv6 layer fills it).
    fn ns() -> Vec<u8> {
        let mut v = vec![135, 0, 0, 0, 0, 0, 0, 0];
        v.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().unwrap().octets());
        v.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 2]);
        v
    }

    #[test]
    fn known_neighbor_solicit() {
        let v = ns();
        let r = NdiscRepr::parse(&v).unwrap();
        assert_eq!(r, NdiscRepr::NeighborSolicit { target: "fe80::1".parse().unwrap(), options: &v[24..] });
        let opts: Vec<_> = r.options_iter().collect::<Result<_>>().unwrap();
        assert_eq!(opts, vec![NdiscOption::SourceLinkLayerAddr(&[2, 0, 0, 0, 0, 2])]);
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut out).unwrap();
        assert_eq!(out, v);
    }

    #[test]
    fn known_router_advert() {
        // Hop limit 64, M=0 O=1, Prf high, lifetime 1800 s, no timers.
        let v = [134, 0, 0, 0, 64, 0x48, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
        let r = NdiscRepr::parse(&v).unwrap();
        assert_eq!(
            r,
            NdiscRepr::RouterAdvert {
                hop_limit: 64,
                flags: RaFlags {
                    managed: false,
                    other: true,
                    home_agent: false,
                    preference: RoutePreference::High
                },
                router_lifetime: 1800,
                reachable_time: 0,
                retrans_time: 0,
                options: &[]
            }
        );
    }

    #[test]
    fn short_fixed_part_is_truncated() {
        assert_eq!(NdiscRepr::parse(&ns()[..23]).unwrap_err(), Error::Truncated);
        assert_eq!(NdiscRepr::parse(&[134, 0, 0, 0, 64, 0, 0, 0]).unwrap_err(), Error::Truncated);
        assert_eq!(NdiscRepr::parse(&[137; 39]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn zero_length_option_is_bad_option() {
        let mut v = ns();
        v[25] = 0;
        assert_eq!(NdiscRepr::parse(&v).unwrap_err(), Error::BadOption("length"));
    }

    #[test]
    fn option_running_off_the_end_is_bad_option() {
        let mut v = ns();
        v[25] = 2;
        assert_eq!(NdiscRepr::parse(&v).unwrap_err(), Error::BadOption("overflow"));
        let mut v = ns();
        v.push(1);
        assert_eq!(NdiscRepr::parse(&v).unwrap_err(), Error::BadOption("overflow"));
    }

    /// type, target, dest, hop limit / flags, flags, lifetime, timers.
    pub(crate) type Fields = (u8, [u8; 16], [u8; 16], u8, u8, u16, u32, u32);

    pub(crate) fn arb_fields() -> impl Strategy<Value = Fields> {
        (
            133u8..138,
            any::<[u8; 16]>(),
            any::<[u8; 16]>(),
            any::<u8>(),
            any::<u8>(),
            any::<u16>(),
            any::<u32>(),
            any::<u32>(),
        )
    }

    pub(crate) fn build(f: Fields, options: &[u8]) -> NdiscRepr<'_> {
        let (t, a, b, c, d, lt, x, y) = f;
        match t {
            133 => NdiscRepr::RouterSolicit { options },
            134 => NdiscRepr::RouterAdvert {
                hop_limit: c,
                flags: RaFlags::from_octet(d),
                router_lifetime: lt,
                reachable_time: x,
                retrans_time: y,
                options,
            },
            135 => NdiscRepr::NeighborSolicit { target: a.into(), options },
            136 => NdiscRepr::NeighborAdvert {
                flags: NaFlags { router: d & 1 != 0, solicited: d & 2 != 0, override_: d & 4 != 0 },
                target: a.into(),
                options,
            },
            _ => NdiscRepr::Redirect { target: a.into(), dest: b.into(), options },
        }
    }

    /// A valid options area: an SLLA, an MTU and an unknown option.
    pub(crate) fn sample_options(n: u8) -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..n % 4 {
            v.extend_from_slice(&[[1, 2, 5, 99][usize::from(i)], 1, i, 2, 3, 4, 5, 6]);
        }
        v
    }

    proptest! {
        #[test]
        fn repr_round_trip(f in arb_fields(), n in 0u8..4) {
            let opts = sample_options(n);
            let repr = build(f, &opts);
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut buf).unwrap();
            prop_assert_eq!(NdiscRepr::parse(&buf).unwrap(), repr);
        }

        #[test]
        fn bytes_round_trip(t in 133u8..138, mut bytes in proptest::collection::vec(any::<u8>(), 8..80)) {
            bytes[0] = t;
            bytes[1] = 0;
            bytes[2] = 0;
            bytes[3] = 0;
            if let Ok(repr) = NdiscRepr::parse(&bytes) {
                let mut out = vec![0u8; repr.buffer_len()];
                repr.emit(&mut out).unwrap();
                prop_assert_eq!(out.len(), bytes.len());
                // Reserved octets/bits are not carried; everything from the
                // addresses on is exact.
                let fixed = fixed_len(t);
                prop_assert_eq!(&out[8.min(fixed)..], &bytes[8.min(fixed)..]);
                prop_assert_eq!(NdiscRepr::parse(&out).unwrap(), repr);
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(r) = NdiscRepr::parse(&bytes) {
                let _ = (r.msg_type(), r.buffer_len(), r.options_iter().count());
            }
        }
    }
}
