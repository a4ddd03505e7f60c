//! UDP datagrams (RFC 768) over IPv4 and IPv6 (RFC 8200 §8.1).
//!
//! [`UdpPacket`] is the checked view; [`UdpRepr`] holds the ports, and the
//! payload is taken from the view (`packet.payload()`), as in smoltcp. The
//! checksum functions take `std::net::IpAddr` pairs so one function serves
//! both families; the pseudo-header is the family's (RFC 768 / RFC 8200 §8.1).
//!
//! Not enforced here (policy for the core): port 0, and RFC 2675 jumbograms
//! (length field 0), which this view refuses as `BadLength("length")`.

use crate::checksum::{pseudo_header_v4, pseudo_header_v6, Checksum};
use crate::error::{Error, Result};
use crate::field::{read_u16, write_u16};
use crate::ip::protocol;
use std::net::IpAddr;

mod offset {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const LENGTH: usize = 4;
    pub const CHECKSUM: usize = 6;
}

/// The UDP header length (RFC 768).
pub const HEADER_LEN: usize = 8;

/// The pseudo-header sum for `protocol` between `src` and `dst` (RFC 768 and
/// RFC 9293 §3.1 for IPv4, RFC 8200 §8.1 for IPv6). Mixed families are
/// `BadField("address family")`; an IPv4 length above 65535 is
/// `BadLength("length")`.
#[inline]
pub(crate) fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: u8, length: usize) -> Result<Checksum> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let len = u16::try_from(length).map_err(|_| Error::BadLength("length"))?;
            Ok(pseudo_header_v4(s, d, protocol, len))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let len = u32::try_from(length).map_err(|_| Error::BadLength("length"))?;
            Ok(pseudo_header_v6(s, d, protocol, len))
        }
        _ => Err(Error::BadField("address family")),
    }
}

/// A checked view of a UDP datagram. Bytes after the length the header
/// declares (e.g. Ethernet padding) are not part of the datagram.
#[derive(Debug, Clone)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps `buffer`: at least 8 bytes (`Truncated`), a length field of at
    /// least 8 (`BadLength("length")`) and at most the buffer (`Truncated`)
    /// (RFC 768 "Length").
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = usize::from(read_u16(b, offset::LENGTH));
        if len < HEADER_LEN {
            return Err(Error::BadLength("length"));
        }
        if len > b.len() {
            return Err(Error::Truncated);
        }
        Ok(UdpPacket { buffer })
    }

    /// The source port; 0 means "none" (RFC 768).
    pub fn src_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), offset::SRC_PORT)
    }

    /// The destination port (RFC 768).
    pub fn dst_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), offset::DST_PORT)
    }

    /// The length field: header plus payload, at least 8 (RFC 768).
    pub fn length(&self) -> u16 {
        read_u16(self.buffer.as_ref(), offset::LENGTH)
    }

    /// The checksum field; 0 means "not computed" over IPv4 (RFC 768).
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), offset::CHECKSUM)
    }

    /// The datagram: header and payload, without trailing bytes.
    pub fn datagram(&self) -> &[u8] {
        &self.buffer.as_ref()[..usize::from(self.length())]
    }

    /// The payload, up to the declared length.
    pub fn payload(&self) -> &[u8] {
        &self.datagram()[HEADER_LEN..]
    }

    /// Checks the checksum with the pseudo-header of `src`/`dst`.
    ///
    /// Over IPv4 a zero checksum means none was computed and is accepted
    /// (RFC 768). Over IPv6 it is refused as `BadChecksum` (RFC 8200 §8.1:
    /// "IPv6 receivers must discard UDP packets containing a zero checksum";
    /// the RFC 6935/6936 tunnel exception is not applied here). Mixed families
    /// are `BadField("address family")`.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> Result<()> {
        let data = self.datagram();
        let mut sum = pseudo_header(src, dst, protocol::UDP, data.len())?;
        if self.checksum() == 0 {
            return if src.is_ipv4() { Ok(()) } else { Err(Error::BadChecksum) };
        }
        if sum.add_bytes(data).sum() == 0xffff {
            Ok(())
        } else {
            Err(Error::BadChecksum)
        }
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, port: u16) {
        write_u16(self.buffer.as_mut(), offset::SRC_PORT, port);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, port: u16) {
        write_u16(self.buffer.as_mut(), offset::DST_PORT, port);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, checksum: u16) {
        write_u16(self.buffer.as_mut(), offset::CHECKSUM, checksum);
    }

    /// The payload, mutably, up to the declared length.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = usize::from(self.length());
        &mut self.buffer.as_mut()[HEADER_LEN..len]
    }

    /// Computes and stores the checksum over the pseudo-header of
    /// `src`/`dst`, header and payload. A computed 0 is sent as `0xffff`
    /// (RFC 768; RFC 8200 §8.1), as 0 would mean "none".
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) -> Result<()> {
        let mut sum = pseudo_header(src, dst, protocol::UDP, usize::from(self.length()))?;
        self.set_checksum(0);
        let c = sum.add_bytes(self.datagram()).finish();
        self.set_checksum(if c == 0 { 0xffff } else { c });
        Ok(())
    }
}

/// The header fields of a UDP datagram; the payload is taken from the view
/// when parsing and given by length (or bytes) when emitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    /// Source port (RFC 768).
    pub src_port: u16,
    /// Destination port (RFC 768).
    pub dst_port: u16,
}

impl UdpRepr {
    /// Reads the ports of a checked datagram. The checksum is not verified
    /// here: call [`UdpPacket::verify_checksum`] with the IP addresses.
    pub fn parse<T: AsRef<[u8]>>(packet: &UdpPacket<T>) -> Result<Self> {
        Ok(UdpRepr { src_port: packet.src_port(), dst_port: packet.dst_port() })
    }

    /// The header length, 8.
    pub fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// The datagram length for a payload of `payload_len` bytes.
    pub fn buffer_len(&self, payload_len: usize) -> usize {
        HEADER_LEN + payload_len
    }

    /// Writes the header of a datagram carrying `payload_len` bytes into the
    /// start of `buf`, with a zero checksum (fill it with
    /// [`UdpPacket::fill_checksum`] once the payload is in place). `buf` must
    /// hold the whole datagram; a datagram above 65535 bytes is
    /// `BadLength("length")`. Returns the header length.
    pub fn emit(&self, buf: &mut [u8], payload_len: usize) -> Result<usize> {
        let total = self.buffer_len(payload_len);
        let length = u16::try_from(total).map_err(|_| Error::BadLength("length"))?;
        if buf.len() < total {
            return Err(Error::BufferTooSmall);
        }
        write_u16(buf, offset::SRC_PORT, self.src_port);
        write_u16(buf, offset::DST_PORT, self.dst_port);
        write_u16(buf, offset::LENGTH, length);
        write_u16(buf, offset::CHECKSUM, 0);
        Ok(HEADER_LEN)
    }

    /// Writes header, `payload` and the checksum for `src`/`dst`; returns
    /// the datagram length.
    pub fn emit_with_payload(
        &self,
        src: IpAddr,
        dst: IpAddr,
        payload: &[u8],
        buf: &mut [u8],
    ) -> Result<usize> {
        let total = self.buffer_len(payload.len());
        self.emit(buf, payload.len())?;
        buf[HEADER_LEN..total].copy_from_slice(payload);
        UdpPacket::new_checked(&mut buf[..total])?.fill_checksum(src, dst)?;
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const V4_SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1));
    const V4_DST: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 0, 199));
    const V6_SRC: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
    const V6_DST: IpAddr = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2));

    /// 192.168.0.1:1234 -> 192.168.0.199:53 "hello", checksum computed by an
    /// independent reference (Python, RFC 1071 sum) plus two trailing bytes of
    /// link padding.
    const V4_DGRAM: [u8; 15] =
        [0x04, 0xd2, 0x00, 0x35, 0x00, 0x0d, 0x34, 0xe2, b'h', b'e', b'l', b'l', b'o', 0, 0];

    #[test]
    fn known_ipv4_datagram() {
        let p = UdpPacket::new_checked(&V4_DGRAM[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.length(), p.checksum()), (1234, 53, 13, 0x34e2));
        assert_eq!(p.payload(), b"hello");
        assert_eq!(p.verify_checksum(V4_SRC, V4_DST), Ok(()));
        assert_eq!(p.verify_checksum(V4_DST, V4_DST), Err(Error::BadChecksum));
        assert_eq!(UdpRepr::parse(&p).unwrap(), UdpRepr { src_port: 1234, dst_port: 53 });
        let mut out = [0u8; 13];
        let repr = UdpRepr { src_port: 1234, dst_port: 53 };
        assert_eq!(repr.emit_with_payload(V4_SRC, V4_DST, b"hello", &mut out).unwrap(), 13);
        assert_eq!(&out[..], &V4_DGRAM[..13]);
    }

    #[test]
    fn known_ipv6_datagram() {
        // fe80::1:546 -> ff02::1:2:547 "hello" (DHCPv6 ports), checksum 0xba35.
        let mut out = [0u8; 13];
        let repr = UdpRepr { src_port: 546, dst_port: 547 };
        repr.emit_with_payload(V6_SRC, V6_DST, b"hello", &mut out).unwrap();
        let p = UdpPacket::new_checked(&out[..]).unwrap();
        assert_eq!(p.checksum(), 0xba35);
        assert_eq!(p.verify_checksum(V6_SRC, V6_DST), Ok(()));
    }

    #[test]
    fn zero_checksum_accepted_over_ipv4_refused_over_ipv6() {
        let mut d = V4_DGRAM;
        d[6..8].fill(0);
        let p = UdpPacket::new_checked(&d[..]).unwrap();
        assert_eq!(p.verify_checksum(V4_SRC, V4_DST), Ok(()));
        assert_eq!(p.verify_checksum(V6_SRC, V6_DST), Err(Error::BadChecksum));
        assert_eq!(p.verify_checksum(V4_SRC, V6_DST), Err(Error::BadField("address family")));
    }

    #[test]
    fn computed_zero_is_sent_as_ffff() {
        // Choose the source port so that the sum is 0xffff (checksum 0).
        let mut d = [0u8; 8];
        let repr = UdpRepr { src_port: 0, dst_port: 0 };
        repr.emit(&mut d, 0).unwrap();
        let base = pseudo_header(V4_SRC, V4_DST, protocol::UDP, 8).unwrap().add_bytes(&d).sum();
        // Setting src_port = !base makes the total sum 0xffff.
        write_u16(&mut d, 0, !base);
        let mut p = UdpPacket::new_checked(&mut d[..]).unwrap();
        p.fill_checksum(V4_SRC, V4_DST).unwrap();
        assert_eq!(p.checksum(), 0xffff);
        assert_eq!(p.verify_checksum(V4_SRC, V4_DST), Ok(()));
    }

    #[test]
    fn setters() {
        let mut d = V4_DGRAM;
        let mut p = UdpPacket::new_checked(&mut d[..]).unwrap();
        p.set_src_port(7);
        p.set_dst_port(9);
        p.payload_mut().copy_from_slice(b"HELLO");
        p.fill_checksum(V4_SRC, V4_DST).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.payload()), (7, 9, &b"HELLO"[..]));
        assert_eq!(p.verify_checksum(V4_SRC, V4_DST), Ok(()));
        p.set_checksum(1);
        assert_eq!(p.checksum(), 1);
    }

    #[test]
    fn buffer_below_header_is_truncated() {
        assert_eq!(UdpPacket::new_checked(&V4_DGRAM[..7]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn length_below_eight_is_bad_length() {
        let mut d = V4_DGRAM;
        d[4..6].copy_from_slice(&7u16.to_be_bytes());
        assert_eq!(UdpPacket::new_checked(&d[..]).unwrap_err(), Error::BadLength("length"));
        d[4..6].fill(0);
        assert_eq!(UdpPacket::new_checked(&d[..]).unwrap_err(), Error::BadLength("length"));
    }

    #[test]
    fn length_past_buffer_is_truncated() {
        assert_eq!(UdpPacket::new_checked(&V4_DGRAM[..12]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn emit_errors() {
        let repr = UdpRepr { src_port: 1, dst_port: 2 };
        assert_eq!(repr.emit(&mut [0u8; 10], 3).unwrap_err(), Error::BufferTooSmall);
        assert_eq!(repr.emit(&mut [0u8; 8], 65528).unwrap_err(), Error::BadLength("length"));
    }

    fn arb_addrs() -> impl Strategy<Value = (IpAddr, IpAddr)> {
        prop_oneof![
            any::<(u32, u32)>().prop_map(|(a, b)| (IpAddr::V4(a.into()), IpAddr::V4(b.into()))),
            any::<(u128, u128)>().prop_map(|(a, b)| (IpAddr::V6(a.into()), IpAddr::V6(b.into()))),
        ]
    }

    proptest! {
        #[test]
        fn repr_round_trip(src_port in any::<u16>(), dst_port in any::<u16>(),
                           payload in proptest::collection::vec(any::<u8>(), 0..64), (src, dst) in arb_addrs()) {
            let repr = UdpRepr { src_port, dst_port };
            let mut buf = vec![0u8; repr.buffer_len(payload.len())];
            repr.emit_with_payload(src, dst, &payload, &mut buf).unwrap();
            let p = UdpPacket::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(UdpRepr::parse(&p).unwrap(), repr);
            prop_assert_eq!(p.payload(), &payload[..]);
            prop_assert_eq!(p.verify_checksum(src, dst), Ok(()));
            prop_assert_ne!(p.checksum(), 0);
        }

        #[test]
        fn bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 8..40)) {
            if let Ok(p) = UdpPacket::new_checked(&bytes[..]) {
                let repr = UdpRepr::parse(&p).unwrap();
                let mut out = bytes.clone();
                repr.emit(&mut out, p.payload().len()).unwrap();
                // The repr covers ports and length; the checksum is the view's.
                prop_assert_eq!(&out[..6], &bytes[..6]);
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40), (src, dst) in arb_addrs()) {
            if let Ok(p) = UdpPacket::new_checked(&bytes[..]) {
                let _ = (p.src_port(), p.dst_port(), p.length(), p.checksum(), p.payload(), p.datagram());
                let _ = p.verify_checksum(src, dst);
                let _ = UdpRepr::parse(&p).unwrap();
            }
        }
    }
}
