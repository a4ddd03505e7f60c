//! ARP for Ethernet and IPv4 (RFC 826): a checked view and `ArpRepr`.
//!
//! Only the Ethernet/IPv4 form (hardware type 1, protocol 0x0800, address
//! lengths 6 and 4) is parsed; anything else is refused with `BadField` naming
//! the field. Trailing bytes (Ethernet padding to 60 octets) are allowed.

use crate::error::{Error, Result};
use crate::ethernet::{ethertype, MacAddr};
use crate::field::{array, read_u16, read_u32, write_u16, write_u32};
use std::net::Ipv4Addr;

mod offset {
    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: usize = 6;
    pub const SHA: usize = 8;
    pub const SPA: usize = 14;
    pub const THA: usize = 18;
    pub const TPA: usize = 24;
    /// The fixed part before the addresses.
    pub const FIXED: usize = 8;
    /// The whole Ethernet/IPv4 packet.
    pub const PACKET: usize = 28;
}

/// `ar$hrd` for Ethernet (RFC 826; IANA "Hardware Types").
pub const HARDWARE_ETHERNET: u16 = 1;

/// The length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = offset::PACKET;

/// The ARP opcode `ar$op` (RFC 826; IANA "Operation Codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpOperation {
    /// `ares_op$REQUEST` (1).
    Request,
    /// `ares_op$REPLY` (2).
    Reply,
    /// Any other opcode (e.g. RARP 3/4, InARP 8/9). `Other(1)` and `Other(2)`
    /// emit as 1 and 2 and parse back as `Request` / `Reply`.
    Other(u16),
}

impl From<u16> for ArpOperation {
    fn from(op: u16) -> Self {
        match op {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            other => ArpOperation::Other(other),
        }
    }
}

impl From<ArpOperation> for u16 {
    fn from(op: ArpOperation) -> u16 {
        match op {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
            ArpOperation::Other(other) => other,
        }
    }
}

/// A checked view of an Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps `buffer`, checking in order: 8 fixed octets (`Truncated`),
    /// hardware type 1 (`BadField("hardware_type")`), protocol type 0x0800
    /// (`BadField("protocol_type")`), hardware length 6
    /// (`BadField("hardware_len")`), protocol length 4
    /// (`BadField("protocol_len")`), then 28 octets (`Truncated`). RFC 826.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < offset::FIXED {
            return Err(Error::Truncated);
        }
        if read_u16(b, offset::HTYPE) != HARDWARE_ETHERNET {
            return Err(Error::BadField("hardware_type"));
        }
        if read_u16(b, offset::PTYPE) != ethertype::IPV4 {
            return Err(Error::BadField("protocol_type"));
        }
        if b[offset::HLEN] != 6 {
            return Err(Error::BadField("hardware_len"));
        }
        if b[offset::PLEN] != 4 {
            return Err(Error::BadField("protocol_len"));
        }
        if b.len() < offset::PACKET {
            return Err(Error::Truncated);
        }
        Ok(ArpPacket { buffer })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn mac_at(&self, at: usize) -> MacAddr {
        // In bounds: `new_checked` proved 28 octets.
        array(self.bytes(), at).map_or(MacAddr::ZERO, MacAddr)
    }

    /// `ar$hrd`: always 1 (Ethernet) in a checked view.
    pub fn hardware_type(&self) -> u16 {
        read_u16(self.bytes(), offset::HTYPE)
    }

    /// `ar$pro`: always 0x0800 (IPv4) in a checked view.
    pub fn protocol_type(&self) -> u16 {
        read_u16(self.bytes(), offset::PTYPE)
    }

    /// `ar$hln`: always 6 in a checked view.
    pub fn hardware_len(&self) -> u8 {
        self.bytes()[offset::HLEN]
    }

    /// `ar$pln`: always 4 in a checked view.
    pub fn protocol_len(&self) -> u8 {
        self.bytes()[offset::PLEN]
    }

    /// `ar$op`, the opcode.
    pub fn operation(&self) -> ArpOperation {
        ArpOperation::from(read_u16(self.bytes(), offset::OPER))
    }

    /// `ar$sha`, the sender hardware address.
    pub fn sender_mac(&self) -> MacAddr {
        self.mac_at(offset::SHA)
    }

    /// `ar$spa`, the sender protocol address.
    pub fn sender_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_u32(self.bytes(), offset::SPA))
    }

    /// `ar$tha`, the target hardware address (ignored in requests).
    pub fn target_mac(&self) -> MacAddr {
        self.mac_at(offset::THA)
    }

    /// `ar$tpa`, the target protocol address.
    pub fn target_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_u32(self.bytes(), offset::TPA))
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    /// Sets `ar$op`.
    pub fn set_operation(&mut self, op: ArpOperation) {
        write_u16(self.buffer.as_mut(), offset::OPER, op.into());
    }

    /// Sets `ar$sha`.
    pub fn set_sender_mac(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[offset::SHA..offset::SHA + 6].copy_from_slice(&mac.0);
    }

    /// Sets `ar$spa`.
    pub fn set_sender_ip(&mut self, ip: Ipv4Addr) {
        write_u32(self.buffer.as_mut(), offset::SPA, ip.to_bits());
    }

    /// Sets `ar$tha`.
    pub fn set_target_mac(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[offset::THA..offset::THA + 6].copy_from_slice(&mac.0);
    }

    /// Sets `ar$tpa`.
    pub fn set_target_ip(&mut self, ip: Ipv4Addr) {
        write_u32(self.buffer.as_mut(), offset::TPA, ip.to_bits());
    }
}

/// The fields of an Ethernet/IPv4 ARP packet (RFC 826 "Packet format").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    /// The opcode.
    pub operation: ArpOperation,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address.
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    /// Reads a checked packet.
    pub fn parse<T: AsRef<[u8]>>(packet: &ArpPacket<T>) -> Result<Self> {
        Ok(ArpRepr {
            operation: packet.operation(),
            sender_mac: packet.sender_mac(),
            sender_ip: packet.sender_ip(),
            target_mac: packet.target_mac(),
            target_ip: packet.target_ip(),
        })
    }

    /// The length this repr emits: 28.
    pub fn buffer_len(&self) -> usize {
        offset::PACKET
    }

    /// Writes the packet into the start of `buf`; returns 28.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if buf.len() < offset::PACKET {
            return Err(Error::BufferTooSmall);
        }
        write_u16(buf, offset::HTYPE, HARDWARE_ETHERNET);
        write_u16(buf, offset::PTYPE, ethertype::IPV4);
        buf[offset::HLEN] = 6;
        buf[offset::PLEN] = 4;
        write_u16(buf, offset::OPER, self.operation.into());
        buf[offset::SHA..offset::SHA + 6].copy_from_slice(&self.sender_mac.0);
        write_u32(buf, offset::SPA, self.sender_ip.to_bits());
        buf[offset::THA..offset::THA + 6].copy_from_slice(&self.target_mac.0);
        write_u32(buf, offset::TPA, self.target_ip.to_bits());
        Ok(offset::PACKET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A who-has 192.168.1.1 tell 192.168.1.100 request, as captured.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // Ethernet, IPv4, 6, 4, request
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 192, 168, 1, 100, // sender
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192, 168, 1, 1, // target
    ];

    #[test]
    fn request_fields() {
        let p = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(
            (p.hardware_type(), p.protocol_type(), p.hardware_len(), p.protocol_len()),
            (1, 0x0800, 6, 4)
        );
        let repr = ArpRepr::parse(&p).unwrap();
        assert_eq!(
            repr,
            ArpRepr {
                operation: ArpOperation::Request,
                sender_mac: MacAddr([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]),
                sender_ip: Ipv4Addr::new(192, 168, 1, 100),
                target_mac: MacAddr::ZERO,
                target_ip: Ipv4Addr::new(192, 168, 1, 1),
            }
        );
        let mut out = [0u8; 28];
        assert_eq!(repr.emit(&mut out), Ok(28));
        assert_eq!(out, REQUEST);
    }

    #[test]
    fn setters_make_a_reply() {
        let mut b = REQUEST;
        let mut p = ArpPacket::new_checked(&mut b[..]).unwrap();
        let mine = MacAddr([0x02, 0, 0, 0, 0, 1]);
        let (asker_mac, asker_ip, wanted) = (p.sender_mac(), p.sender_ip(), p.target_ip());
        p.set_operation(ArpOperation::Reply);
        p.set_sender_mac(mine);
        p.set_sender_ip(wanted);
        p.set_target_mac(asker_mac);
        p.set_target_ip(asker_ip);
        assert_eq!(p.operation(), ArpOperation::Reply);
        assert_eq!((p.sender_mac(), p.sender_ip()), (mine, wanted));
        assert_eq!((p.target_mac(), p.target_ip()), (asker_mac, asker_ip));
        assert_eq!(b[7], 2);
    }

    #[test]
    fn padded_frame_payload_is_accepted() {
        let mut b = REQUEST.to_vec();
        b.resize(46, 0);
        assert!(ArpPacket::new_checked(&b[..]).is_ok());
    }

    #[test]
    fn short_packets_are_truncated() {
        assert_eq!(ArpPacket::new_checked(&REQUEST[..7]).unwrap_err(), Error::Truncated);
        assert_eq!(ArpPacket::new_checked(&REQUEST[..27]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn wrong_hardware_type_is_bad_field() {
        let mut b = REQUEST;
        b[1] = 6; // IEEE 802
        assert_eq!(ArpPacket::new_checked(&b[..]).unwrap_err(), Error::BadField("hardware_type"));
    }

    #[test]
    fn wrong_protocol_type_is_bad_field() {
        let mut b = REQUEST;
        b[2..4].copy_from_slice(&ethertype::IPV6.to_be_bytes());
        assert_eq!(ArpPacket::new_checked(&b[..]).unwrap_err(), Error::BadField("protocol_type"));
    }

    #[test]
    fn wrong_address_lengths_are_bad_field() {
        let mut b = REQUEST;
        b[4] = 8;
        assert_eq!(ArpPacket::new_checked(&b[..]).unwrap_err(), Error::BadField("hardware_len"));
        let mut b = REQUEST;
        b[5] = 16;
        assert_eq!(ArpPacket::new_checked(&b[..]).unwrap_err(), Error::BadField("protocol_len"));
    }

    #[test]
    fn emit_into_short_buffer() {
        let p = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        let repr = ArpRepr::parse(&p).unwrap();
        assert_eq!(repr.emit(&mut [0u8; 27]), Err(Error::BufferTooSmall));
        assert_eq!(repr.buffer_len(), PACKET_LEN);
    }

    fn arb_repr() -> impl Strategy<Value = ArpRepr> {
        (any::<u16>(), any::<[u8; 6]>(), any::<u32>(), any::<[u8; 6]>(), any::<u32>()).prop_map(
            |(op, sm, si, tm, ti)| ArpRepr {
                operation: ArpOperation::from(op),
                sender_mac: MacAddr(sm),
                sender_ip: Ipv4Addr::from(si),
                target_mac: MacAddr(tm),
                target_ip: Ipv4Addr::from(ti),
            },
        )
    }

    proptest! {
        #[test]
        fn repr_round_trip(repr in arb_repr()) {
            let mut buf = [0u8; 28];
            repr.emit(&mut buf).unwrap();
            let p = ArpPacket::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(ArpRepr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn bytes_round_trip(tail in proptest::collection::vec(any::<u8>(), 22..40)) {
            let mut bytes = vec![0, 1, 8, 0, 6, 4, tail[0], tail[1]];
            bytes.extend_from_slice(&tail[2..]);
            let p = ArpPacket::new_checked(&bytes[..]).unwrap();
            let repr = ArpRepr::parse(&p).unwrap();
            let mut out = [0u8; 28];
            repr.emit(&mut out).unwrap();
            prop_assert_eq!(&out[..], &bytes[..28]);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(p) = ArpPacket::new_checked(&bytes[..]) {
                let _ = (p.hardware_type(), p.protocol_type(), p.hardware_len(), p.protocol_len(), p.operation());
                let _ = (p.sender_mac(), p.sender_ip(), p.target_mac(), p.target_ip());
                prop_assert!(ArpRepr::parse(&p).is_ok());
            }
        }
    }
}
