//! IP prefixes (`192.0.2.0/24`, `2001:db8::/32`) and their text forms.
//!
//! A prefix never has host bits set: [`Ipv4Prefix::new`] refuses them (as
//! iproute2 does), [`Ipv4Prefix::new_truncating`] clears them (as FreeBSD
//! `route` does).

use core::fmt;
use core::str::FromStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a prefix could not be made or parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrefixError {
    /// The length exceeds 32 (IPv4) or 128 (IPv6).
    LengthTooLong(u8),
    /// Bits are set past the prefix length.
    HostBitsSet,
    /// The text is not `ADDRESS/LENGTH` (or a bare address).
    Syntax(String),
}

impl fmt::Display for PrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrefixError::LengthTooLong(l) => write!(f, "prefix length {l} is too long"),
            PrefixError::HostBitsSet => f.write_str("host bits are set past the prefix length"),
            PrefixError::Syntax(s) => write!(f, "`{s}` is not a prefix (ADDRESS/LENGTH)"),
        }
    }
}

impl std::error::Error for PrefixError {}

macro_rules! prefix_type {
    ($name:ident, $addr:ty, $bits:ty, $max:expr, $doc:expr) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            addr: $addr,
            len: u8,
        }

        impl $name {
            /// The longest prefix length of this family.
            pub const MAX_LEN: u8 = $max;

            /// A prefix; refuses host bits past `len`.
            pub fn new(addr: $addr, len: u8) -> Result<Self, PrefixError> {
                let p = Self::new_truncating(addr, len)?;
                if p.addr != addr {
                    return Err(PrefixError::HostBitsSet);
                }
                Ok(p)
            }

            /// A prefix; clears host bits past `len`.
            pub fn new_truncating(addr: $addr, len: u8) -> Result<Self, PrefixError> {
                if len > $max {
                    return Err(PrefixError::LengthTooLong(len));
                }
                let bits = <$bits>::from(addr) & Self::mask_bits(len);
                Ok($name { addr: <$addr>::from(bits), len })
            }

            /// The host route (`/32` or `/128`) of an address.
            pub fn host(addr: $addr) -> Self {
                $name { addr, len: $max }
            }

            /// The network address.
            pub fn addr(&self) -> $addr {
                self.addr
            }

            /// The prefix length.
            pub fn prefix_len(&self) -> u8 {
                self.len
            }

            /// Whether this is the default route (length 0).
            pub fn is_default(&self) -> bool {
                self.len == 0
            }

            /// The netmask as an integer.
            pub fn mask_bits(len: u8) -> $bits {
                if len == 0 {
                    0
                } else {
                    <$bits>::MAX << ($max - len.min($max))
                }
            }

            /// The netmask as an address.
            pub fn netmask(&self) -> $addr {
                <$addr>::from(Self::mask_bits(self.len))
            }

            /// Whether `addr` lies in this prefix.
            pub fn contains(&self, addr: $addr) -> bool {
                <$bits>::from(addr) & Self::mask_bits(self.len) == <$bits>::from(self.addr)
            }

            /// Whether `other` lies wholly inside this prefix.
            pub fn covers(&self, other: &$name) -> bool {
                other.len >= self.len && self.contains(other.addr)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}/{}", self.addr, self.len)
            }
        }

        impl FromStr for $name {
            type Err = PrefixError;
            /// `ADDRESS/LENGTH`; a bare address is the host prefix.
            fn from_str(s: &str) -> Result<Self, PrefixError> {
                let syntax = || PrefixError::Syntax(s.to_string());
                match s.split_once('/') {
                    None => Ok(Self::host(s.parse().map_err(|_| syntax())?)),
                    Some((a, l)) => {
                        let addr = a.parse().map_err(|_| syntax())?;
                        if l.is_empty() || !l.bytes().all(|b| b.is_ascii_digit()) {
                            return Err(syntax());
                        }
                        let len: u8 = l.parse().map_err(|_| syntax())?;
                        Self::new(addr, len)
                    }
                }
            }
        }
    };
}

prefix_type!(Ipv4Prefix, Ipv4Addr, u32, 32, "An IPv4 prefix (RFC 4632).");
prefix_type!(Ipv6Prefix, Ipv6Addr, u128, 128, "An IPv6 prefix (RFC 4291 §2.3).");

/// A prefix of either family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpPrefix {
    /// IPv4.
    V4(Ipv4Prefix),
    /// IPv6.
    V6(Ipv6Prefix),
}

impl IpPrefix {
    /// The network address.
    pub fn addr(&self) -> IpAddr {
        match self {
            IpPrefix::V4(p) => IpAddr::V4(p.addr()),
            IpPrefix::V6(p) => IpAddr::V6(p.addr()),
        }
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        match self {
            IpPrefix::V4(p) => p.prefix_len(),
            IpPrefix::V6(p) => p.prefix_len(),
        }
    }

    /// Whether `addr` (of the same family) lies in this prefix.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (IpPrefix::V4(p), IpAddr::V4(a)) => p.contains(a),
            (IpPrefix::V6(p), IpAddr::V6(a)) => p.contains(a),
            _ => false,
        }
    }

    /// Whether this is an IPv4 prefix.
    pub fn is_ipv4(&self) -> bool {
        matches!(self, IpPrefix::V4(_))
    }

    /// A prefix; refuses host bits past `len`.
    pub fn new(addr: IpAddr, len: u8) -> Result<Self, PrefixError> {
        match addr {
            IpAddr::V4(a) => Ipv4Prefix::new(a, len).map(IpPrefix::V4),
            IpAddr::V6(a) => Ipv6Prefix::new(a, len).map(IpPrefix::V6),
        }
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpPrefix::V4(p) => p.fmt(f),
            IpPrefix::V6(p) => p.fmt(f),
        }
    }
}

impl FromStr for IpPrefix {
    type Err = PrefixError;
    fn from_str(s: &str) -> Result<Self, PrefixError> {
        if s.contains(':') {
            s.parse().map(IpPrefix::V6)
        } else {
            s.parse().map(IpPrefix::V4)
        }
    }
}

impl From<Ipv4Prefix> for IpPrefix {
    fn from(p: Ipv4Prefix) -> Self {
        IpPrefix::V4(p)
    }
}

impl From<Ipv6Prefix> for IpPrefix {
    fn from(p: Ipv6Prefix) -> Self {
        IpPrefix::V6(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_and_print() {
        let p: IpPrefix = "203.0.113.0/24".parse().unwrap();
        assert_eq!(p.to_string(), "203.0.113.0/24");
        let p: IpPrefix = "2001:db8::/32".parse().unwrap();
        assert_eq!(p.to_string(), "2001:db8::/32");
        let p: Ipv4Prefix = "198.51.100.1".parse().unwrap();
        assert_eq!(p.prefix_len(), 32);
        assert_eq!("0.0.0.0/0".parse::<Ipv4Prefix>().unwrap().prefix_len(), 0);
    }

    #[test]
    fn refusals() {
        assert_eq!("10.0.0.1/24".parse::<Ipv4Prefix>(), Err(PrefixError::HostBitsSet));
        assert_eq!("10.0.0.0/33".parse::<Ipv4Prefix>(), Err(PrefixError::LengthTooLong(33)));
        assert!(matches!("10.0.0.0/".parse::<Ipv4Prefix>(), Err(PrefixError::Syntax(_))));
        assert!(matches!("10.0.0.0/+8".parse::<Ipv4Prefix>(), Err(PrefixError::Syntax(_))));
        assert!(matches!("::/129".parse::<Ipv6Prefix>(), Err(PrefixError::LengthTooLong(129))));
        assert!(matches!("fe80::1%eth0/64".parse::<IpPrefix>(), Err(PrefixError::Syntax(_))));
    }

    #[test]
    fn truncating_and_contains() {
        let p = Ipv4Prefix::new_truncating("192.0.2.77".parse().unwrap(), 24).unwrap();
        assert_eq!(p.to_string(), "192.0.2.0/24");
        assert!(p.contains("192.0.2.255".parse().unwrap()));
        assert!(!p.contains("192.0.3.0".parse().unwrap()));
        let d = Ipv6Prefix::new_truncating(Ipv6Addr::UNSPECIFIED, 0).unwrap();
        assert!(d.contains("2001:db8::1".parse().unwrap()));
        assert!(d.covers(&"2001:db8::/32".parse().unwrap()));
    }

    proptest! {
        #[test]
        fn text_round_trip(bits in any::<u128>(), len in 0u8..=128) {
            let p = Ipv6Prefix::new_truncating(Ipv6Addr::from(bits), len).unwrap();
            prop_assert_eq!(p.to_string().parse::<Ipv6Prefix>().unwrap(), p);
            let q = Ipv4Prefix::new_truncating(Ipv4Addr::from(bits as u32), len % 33).unwrap();
            prop_assert_eq!(q.to_string().parse::<Ipv4Prefix>().unwrap(), q);
        }
    }
}
