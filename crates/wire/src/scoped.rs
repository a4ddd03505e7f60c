//! Scoped IPv6 address text forms: `fe80::1%tap0` and `fe80::1%3` (RFC 4007 §11).
//!
//! The zone is kept as text here; the core resolves a name to its interface
//! index. The KAME "embedded" form (index in bytes 2–3) is never produced or
//! accepted.

use core::fmt;
use core::str::FromStr;
use std::net::Ipv6Addr;

/// The zone part of a scoped address, as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Zone {
    /// A numeric zone (`%3`): an interface index (RFC 4007 §11.2).
    Index(u32),
    /// A named zone (`%tap0`): an interface name.
    Name(String),
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Index(i) => write!(f, "{i}"),
            Zone::Name(n) => f.write_str(n),
        }
    }
}

/// An IPv6 address with an optional zone, as written by a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScopedIpv6 {
    /// The address, never in KAME embedded form.
    pub addr: Ipv6Addr,
    /// The zone, if one was written.
    pub zone: Option<Zone>,
}

/// Why a scoped address did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopedParseError {
    /// The address part is not an IPv6 address.
    BadAddress(String),
    /// The zone after `%` is empty or holds characters an interface name cannot.
    BadZone(String),
}

impl fmt::Display for ScopedParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopedParseError::BadAddress(s) => write!(f, "`{s}` is not an IPv6 address"),
            ScopedParseError::BadZone(s) => write!(f, "`{s}` is not a zone (interface name or index)"),
        }
    }
}

impl std::error::Error for ScopedParseError {}

/// Whether `s` can name an interface: 1–15 bytes (IFNAMSIZ − 1) of
/// alphanumerics, `_`, `-`, `.`.
pub fn is_valid_ifname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

impl FromStr for ScopedIpv6 {
    type Err = ScopedParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, z) = match s.split_once('%') {
            Some((a, z)) => (a, Some(z)),
            None => (s, None),
        };
        let addr: Ipv6Addr = a.parse().map_err(|_| ScopedParseError::BadAddress(a.to_string()))?;
        let zone = match z {
            None => None,
            Some(z) if !z.is_empty() && z.bytes().all(|b| b.is_ascii_digit()) => {
                Some(Zone::Index(z.parse().map_err(|_| ScopedParseError::BadZone(z.to_string()))?))
            }
            Some(z) if is_valid_ifname(z) => Some(Zone::Name(z.to_string())),
            Some(z) => return Err(ScopedParseError::BadZone(z.to_string())),
        };
        Ok(ScopedIpv6 { addr, zone })
    }
}

impl fmt::Display for ScopedIpv6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.zone {
            Some(z) => write!(f, "{}%{}", self.addr, z),
            None => write!(f, "{}", self.addr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_and_numeric_zones() {
        let s: ScopedIpv6 = "fe80::1%tap0".parse().unwrap();
        assert_eq!(s.zone, Some(Zone::Name("tap0".into())));
        assert_eq!(s.to_string(), "fe80::1%tap0");
        let s: ScopedIpv6 = "fe80::1%3".parse().unwrap();
        assert_eq!(s.zone, Some(Zone::Index(3)));
        let s: ScopedIpv6 = "2001:db8::1".parse().unwrap();
        assert_eq!(s.zone, None);
    }

    #[test]
    fn refusals() {
        assert!(matches!("fe80::1%".parse::<ScopedIpv6>(), Err(ScopedParseError::BadZone(_))));
        assert!(matches!("fe80::1%a b".parse::<ScopedIpv6>(), Err(ScopedParseError::BadZone(_))));
        assert!(matches!("fe80::1%99999999999".parse::<ScopedIpv6>(), Err(ScopedParseError::BadZone(_))));
        assert!(matches!("fe80::g%eth0".parse::<ScopedIpv6>(), Err(ScopedParseError::BadAddress(_))));
        assert!(matches!(
            "fe80::1%averyveryverylongname".parse::<ScopedIpv6>(),
            Err(ScopedParseError::BadZone(_))
        ));
    }
}
