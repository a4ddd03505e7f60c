//! Ethernet II frames (IEEE 802.3 clause 3.2, RFC 894) with an optional IEEE
//! 802.1Q VLAN tag, and MAC addresses.
//!
//! This file is the model for every format of the wire layer:
//! - a view `EthernetFrame<T: AsRef<[u8]>>` built only by `new_checked`, whose
//!   accessors then never panic;
//! - setters when `T: AsMut<[u8]>`;
//! - a `Repr` that `parse`s from a view and `emit`s into a caller's buffer of
//!   at least `buffer_len()` bytes.

use crate::error::{Error, Result};
use crate::field::{read_u16, write_u16};
use core::fmt;
use core::str::FromStr;

/// A 48-bit IEEE 802 MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// `00:00:00:00:00:00`.
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// Whether the I/G bit is set (multicast or broadcast).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Whether this is the broadcast address.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Whether this is a unicast address.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Whether the U/L bit says locally administered.
    pub fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// The IPv6 multicast MAC `33:33:xx:xx:xx:xx` (RFC 2464 §7).
    pub fn ipv6_multicast(group: std::net::Ipv6Addr) -> MacAddr {
        let o = group.octets();
        MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }

    /// The IPv4 multicast MAC `01:00:5e:` + low 23 bits (RFC 1112 §6.4).
    pub fn ipv4_multicast(group: std::net::Ipv4Addr) -> MacAddr {
        let o = group.octets();
        MacAddr([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

/// Why a MAC address did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacParseError(pub String);

impl fmt::Display for MacParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a MAC address (xx:xx:xx:xx:xx:xx)", self.0)
    }
}

impl std::error::Error for MacParseError {}

impl FromStr for MacAddr {
    type Err = MacParseError;
    /// Six hex octets separated by `:` or `-`.
    fn from_str(s: &str) -> core::result::Result<Self, MacParseError> {
        let err = || MacParseError(s.to_string());
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut out {
            let p = parts.next().ok_or_else(err)?;
            if p.is_empty() || p.len() > 2 {
                return Err(err());
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(out))
    }
}

/// EtherType values (IEEE registry).
pub mod ethertype {
    /// IPv4 (RFC 894).
    pub const IPV4: u16 = 0x0800;
    /// ARP (RFC 826).
    pub const ARP: u16 = 0x0806;
    /// IEEE 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// IPv6 (RFC 2464).
    pub const IPV6: u16 = 0x86dd;
}

mod offset {
    pub const DST: usize = 0;
    pub const SRC: usize = 6;
    pub const TYPE: usize = 12;
    /// Untagged header length.
    pub const HEADER: usize = 14;
    /// Tagged header length: TPID + TCI precede the EtherType.
    pub const TAGGED_HEADER: usize = 18;
}

/// An 802.1Q tag: priority code point, drop eligible indicator, VLAN id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// Priority code point (3 bits).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier (12 bits); 0 means priority-tagged only.
    pub vid: u16,
}

impl VlanTag {
    fn from_tci(tci: u16) -> Self {
        VlanTag { pcp: (tci >> 13) as u8, dei: tci & 0x1000 != 0, vid: tci & 0x0fff }
    }

    fn tci(&self) -> u16 {
        (u16::from(self.pcp & 0x7) << 13) | (u16::from(self.dei) << 12) | (self.vid & 0x0fff)
    }
}

/// A checked view of an Ethernet II frame (FCS not included, as TAP devices
/// deliver it).
#[derive(Debug, Clone)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
    header_len: usize,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps `buffer`, checking it holds the whole header (with the tag if the
    /// first EtherType is 0x8100).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < offset::HEADER {
            return Err(Error::Truncated);
        }
        let header_len = if read_u16(b, offset::TYPE) == ethertype::VLAN {
            if b.len() < offset::TAGGED_HEADER {
                return Err(Error::Truncated);
            }
            offset::TAGGED_HEADER
        } else {
            offset::HEADER
        };
        Ok(EthernetFrame { buffer, header_len })
    }

    /// The destination MAC.
    pub fn dst(&self) -> MacAddr {
        let b = self.buffer.as_ref();
        MacAddr([b[0], b[1], b[2], b[3], b[4], b[5]])
    }

    /// The source MAC.
    pub fn src(&self) -> MacAddr {
        let b = &self.buffer.as_ref()[offset::SRC..];
        MacAddr([b[0], b[1], b[2], b[3], b[4], b[5]])
    }

    /// The 802.1Q tag, if the frame carries one.
    pub fn vlan(&self) -> Option<VlanTag> {
        (self.header_len == offset::TAGGED_HEADER)
            .then(|| VlanTag::from_tci(read_u16(self.buffer.as_ref(), offset::TYPE + 2)))
    }

    /// The EtherType of the payload (after the tag, if any).
    pub fn ethertype(&self) -> u16 {
        read_u16(self.buffer.as_ref(), self.header_len - 2)
    }

    /// The header length: 14, or 18 with a tag.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The payload after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len..]
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination MAC.
    pub fn set_dst(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[offset::DST..offset::DST + 6].copy_from_slice(&mac.0);
    }

    /// Sets the source MAC.
    pub fn set_src(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[offset::SRC..offset::SRC + 6].copy_from_slice(&mac.0);
    }

    /// The payload, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let h = self.header_len;
        &mut self.buffer.as_mut()[h..]
    }
}

/// The fields of an Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    /// Destination MAC.
    pub dst: MacAddr,
    /// Source MAC.
    pub src: MacAddr,
    /// Optional 802.1Q tag.
    pub vlan: Option<VlanTag>,
    /// EtherType of the payload.
    pub ethertype: u16,
}

impl EthernetRepr {
    /// Reads the header fields of a checked frame.
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<Self> {
        Ok(EthernetRepr {
            dst: frame.dst(),
            src: frame.src(),
            vlan: frame.vlan(),
            ethertype: frame.ethertype(),
        })
    }

    /// The header length this repr emits.
    pub fn header_len(&self) -> usize {
        if self.vlan.is_some() {
            offset::TAGGED_HEADER
        } else {
            offset::HEADER
        }
    }

    /// Writes the header into the start of `buf`; returns the header length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.header_len();
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        buf[offset::DST..offset::DST + 6].copy_from_slice(&self.dst.0);
        buf[offset::SRC..offset::SRC + 6].copy_from_slice(&self.src.0);
        if let Some(tag) = self.vlan {
            write_u16(buf, offset::TYPE, ethertype::VLAN);
            write_u16(buf, offset::TYPE + 2, tag.tci());
        }
        write_u16(buf, len - 2, self.ethertype);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mac_text() {
        let m: MacAddr = "02:00:00:00:00:01".parse().unwrap();
        assert_eq!(m.to_string(), "02:00:00:00:00:01");
        assert!(m.is_local() && m.is_unicast());
        assert!("02:00:00:00:00".parse::<MacAddr>().is_err());
        assert!("02:00:00:00:00:01:02".parse::<MacAddr>().is_err());
        assert!("02:00:00:00:00:1g".parse::<MacAddr>().is_err());
        assert_eq!(
            MacAddr::ipv6_multicast("ff02::1:ff00:1".parse().unwrap()).to_string(),
            "33:33:ff:00:00:01"
        );
    }

    #[test]
    fn truncated_frames() {
        assert_eq!(EthernetFrame::new_checked(&[0u8; 13][..]).unwrap_err(), Error::Truncated);
        let mut tagged = [0u8; 17];
        tagged[12..14].copy_from_slice(&ethertype::VLAN.to_be_bytes());
        assert_eq!(EthernetFrame::new_checked(&tagged[..]).unwrap_err(), Error::Truncated);
    }

    fn arb_repr() -> impl Strategy<Value = EthernetRepr> {
        (
            any::<[u8; 6]>(),
            any::<[u8; 6]>(),
            proptest::option::of((0u8..8, any::<bool>(), 0u16..4096)),
            any::<u16>().prop_filter("not a VLAN TPID", |t| *t != ethertype::VLAN),
        )
            .prop_map(|(d, s, v, t)| EthernetRepr {
                dst: MacAddr(d),
                src: MacAddr(s),
                vlan: v.map(|(pcp, dei, vid)| VlanTag { pcp, dei, vid }),
                ethertype: t,
            })
    }

    proptest! {
        #[test]
        fn repr_round_trip(repr in arb_repr(), payload in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut buf = vec![0u8; repr.header_len() + payload.len()];
            let n = repr.emit(&mut buf).unwrap();
            buf[n..].copy_from_slice(&payload);
            let frame = EthernetFrame::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(EthernetRepr::parse(&frame).unwrap(), repr);
            prop_assert_eq!(frame.payload(), &payload[..]);
        }

        #[test]
        fn bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 14..80)) {
            if let Ok(frame) = EthernetFrame::new_checked(&bytes[..]) {
                let repr = EthernetRepr::parse(&frame).unwrap();
                let mut out = bytes.clone();
                repr.emit(&mut out).unwrap();
                prop_assert_eq!(out, bytes);
            }
        }
    }
}
