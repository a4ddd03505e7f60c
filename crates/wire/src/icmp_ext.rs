//! ICMP multi-part messages (RFC 4884) and the Interface Information Object
//! (RFC 5837), shared by ICMPv4 and ICMPv6.
//!
//! An ICMP error that carries extensions has a non-zero "length" field giving
//! the size of the (zero-padded, at least 128 octets) original datagram field;
//! the ICMP Extension Structure follows it (RFC 4884 §4, §5). The structure is
//! a 4-octet header (version 2, reserved, checksum) and objects, each with a
//! 4-octet header (length, class-num, c-type) (RFC 4884 §7, §8).

use crate::checksum;
use crate::error::{Error, Result};
use crate::field::{array, read_u16, write_u16, write_u32};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The minimum size of the original datagram field when extensions follow
/// (RFC 4884 §4.1 for ICMPv4, §4.2 for ICMPv6).
pub const MIN_ORIGINAL_DATAGRAM: usize = 128;

/// The extension structure version (RFC 4884 §7).
pub const EXT_VERSION: u8 = 2;

/// Class-num of the Interface Information Object (RFC 5837 §4).
pub const CLASS_INTERFACE_INFO: u8 = 2;

/// Splits the body after the 8-octet ICMP header into the original datagram
/// field and the raw extension structure, from the RFC 4884 length field
/// (`length_field` units of `unit` octets: 4 for ICMPv4, 8 for ICMPv6).
///
/// A zero length means no extensions (RFC 4884 §4.1, §4.2). A non-zero length
/// below 128 octets or past the end of the message is `BadLength("length")`
/// (RFC 4884 §4.1: the field "MUST contain at least 128 octets").
pub(crate) fn split_multipart(body: &[u8], length_field: u8, unit: usize) -> Result<(&[u8], Option<&[u8]>)> {
    if length_field == 0 {
        return Ok((body, None));
    }
    let len = usize::from(length_field) * unit;
    if len < MIN_ORIGINAL_DATAGRAM || len > body.len() {
        return Err(Error::BadLength("length"));
    }
    Ok((&body[..len], Some(&body[len..])))
}

/// The padded size of the original datagram field and the length field value
/// for a multi-part message (RFC 4884 §4.1/§4.2: zero-padded to a multiple of
/// `unit`, at least 128 octets); `(invoking.len(), 0)` without extensions.
pub(crate) fn multipart_layout(
    invoking: &[u8],
    extensions: Option<&[u8]>,
    unit: usize,
) -> Result<(usize, u8)> {
    if extensions.is_none() {
        return Ok((invoking.len(), 0));
    }
    let padded = invoking.len().max(MIN_ORIGINAL_DATAGRAM).div_ceil(unit) * unit;
    let words = u8::try_from(padded / unit).map_err(|_| Error::BadLength("length"))?;
    Ok((padded, words))
}

/// Writes `invoking` zero-padded to `padded` octets then the extensions into
/// `buf` (which is at least `padded + extensions.len()` long).
pub(crate) fn emit_multipart(buf: &mut [u8], invoking: &[u8], extensions: Option<&[u8]>, padded: usize) {
    buf[..invoking.len()].copy_from_slice(invoking);
    buf[invoking.len()..padded].fill(0);
    if let Some(ext) = extensions {
        buf[padded..padded + ext.len()].copy_from_slice(ext);
    }
}

/// One object of an extension structure (RFC 4884 §8): class-num, c-type and
/// the payload after the 4-octet object header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IcmpExtObject<'a> {
    /// Class-num (RFC 4884 §8; 2 = Interface Information, RFC 5837).
    pub class_num: u8,
    /// C-Type (class-specific sub-type).
    pub c_type: u8,
    /// The object payload.
    pub payload: &'a [u8],
}

impl IcmpExtObject<'_> {
    /// Header (4) plus payload.
    pub fn buffer_len(&self) -> usize {
        4 + self.payload.len()
    }

    /// Writes the object; the 16-bit length must hold `buffer_len()`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        let len16 = u16::try_from(len).map_err(|_| Error::BadLength("object length"))?;
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        write_u16(buf, 0, len16);
        buf[2] = self.class_num;
        buf[3] = self.c_type;
        buf[4..len].copy_from_slice(self.payload);
        Ok(len)
    }
}

/// A checked view of an ICMP Extension Structure (RFC 4884 §7): `new_checked`
/// checks the version and that every object header lies within the buffer.
#[derive(Debug, Clone)]
pub struct IcmpExtension<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IcmpExtension<T> {
    /// Wraps and validates `buffer`: at least 4 octets, version 2 (else
    /// `BadVersion`), each object length >= 4 and within the buffer (else
    /// `BadLength("object length")`).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < 4 {
            return Err(Error::Truncated);
        }
        if b[0] >> 4 != EXT_VERSION {
            return Err(Error::BadVersion);
        }
        let mut rest = &b[4..];
        while !rest.is_empty() {
            if rest.len() < 4 {
                return Err(Error::Truncated);
            }
            let len = usize::from(read_u16(rest, 0));
            if len < 4 || len > rest.len() {
                return Err(Error::BadLength("object length"));
            }
            rest = &rest[len..];
        }
        Ok(IcmpExtension { buffer })
    }

    /// The version (high 4 bits of the first octet; always 2 here).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// The checksum field (RFC 4884 §7; zero means none was sent).
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), 2)
    }

    /// Whether the checksum is absent (zero) or verifies (RFC 4884 §7).
    pub fn verify_checksum(&self) -> bool {
        self.checksum() == 0 || checksum::verifies(self.buffer.as_ref())
    }

    /// The objects, in order.
    pub fn objects(&self) -> IcmpExtObjects<'_> {
        IcmpExtObjects { rest: &self.buffer.as_ref()[4..] }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> IcmpExtension<T> {
    /// Recomputes the checksum over the whole structure (RFC 4884 §7).
    pub fn fill_checksum(&mut self) {
        let b = self.buffer.as_mut();
        write_u16(b, 2, 0);
        let c = checksum::checksum(b);
        write_u16(b, 2, c);
    }
}

/// Iterator over the objects of a checked extension structure.
#[derive(Debug, Clone)]
pub struct IcmpExtObjects<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for IcmpExtObjects<'a> {
    type Item = IcmpExtObject<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let len = usize::from(u16::from_be_bytes(array::<2>(self.rest, 0)?));
        let obj = self.rest.get(..len).filter(|_| len >= 4)?;
        self.rest = &self.rest[len..];
        Some(IcmpExtObject { class_num: obj[2], c_type: obj[3], payload: &obj[4..] })
    }
}

/// Writes an extension structure (version 2, checksum, then `objects`) into
/// `buf`; returns its length (RFC 4884 §7).
pub fn emit_extension(objects: &[IcmpExtObject<'_>], buf: &mut [u8]) -> Result<usize> {
    let len = extension_len(objects);
    if buf.len() < len {
        return Err(Error::BufferTooSmall);
    }
    buf[0] = EXT_VERSION << 4;
    buf[1] = 0;
    write_u16(buf, 2, 0);
    let mut at = 4;
    for o in objects {
        at += o.emit(&mut buf[at..])?;
    }
    let c = checksum::checksum(&buf[..len]);
    write_u16(buf, 2, c);
    Ok(len)
}

/// The length [`emit_extension`] writes.
pub fn extension_len(objects: &[IcmpExtObject<'_>]) -> usize {
    4 + objects.iter().map(IcmpExtObject::buffer_len).sum::<usize>()
}

/// The interface role of an Interface Information Object (RFC 5837 §4.1,
/// c-type bits 0-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InterfaceRole {
    /// 0: the IP interface on which the datagram arrived.
    Incoming,
    /// 1: the sub-IP component of the incoming interface.
    SubIp,
    /// 2: the IP interface through which the datagram would be forwarded.
    Outgoing,
    /// 3: the IP next hop to which the datagram would be forwarded.
    NextHop,
}

mod ctype {
    pub const IFINDEX: u8 = 0x08;
    pub const IPADDR: u8 = 0x04;
    pub const NAME: u8 = 0x02;
    pub const MTU: u8 = 0x01;
}

/// The Interface Information Object (RFC 5837 §4): role and the optional
/// sub-objects in their fixed order ifIndex, IP address, name, MTU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InterfaceInfo<'a> {
    /// Interface role (c-type bits 0-1).
    pub role: InterfaceRole,
    /// ifIndex (RFC 5837 §4.1, 32 bits).
    pub if_index: Option<u32>,
    /// IP address sub-object (RFC 5837 §4.2: AFI 1 = IPv4, 2 = IPv6).
    pub addr: Option<IpAddr>,
    /// Interface name sub-object bytes after its length octet, including any
    /// NUL padding (RFC 5837 §4.3: UTF-8, total length a multiple of 4, <= 64).
    pub name: Option<&'a [u8]>,
    /// MTU (RFC 5837 §4.1, 32 bits).
    pub mtu: Option<u32>,
}

impl<'a> InterfaceInfo<'a> {
    /// Parses an object of class 2; other classes are `BadField("class-num")`.
    /// Sub-objects past the payload are `Truncated`; left-over octets, a name
    /// length not a multiple of 4 or above 64 are `BadLength`; an unknown AFI
    /// is `BadField("afi")`.
    pub fn parse(obj: &IcmpExtObject<'a>) -> Result<Self> {
        if obj.class_num != CLASS_INTERFACE_INFO {
            return Err(Error::BadField("class-num"));
        }
        let c = obj.c_type;
        let role = match c >> 6 {
            0 => InterfaceRole::Incoming,
            1 => InterfaceRole::SubIp,
            2 => InterfaceRole::Outgoing,
            _ => InterfaceRole::NextHop,
        };
        let mut p = obj.payload;
        let take_u32 = |p: &mut &'a [u8]| -> Result<u32> {
            let v = u32::from_be_bytes(array::<4>(p, 0).ok_or(Error::Truncated)?);
            *p = &p[4..];
            Ok(v)
        };
        let if_index = if c & ctype::IFINDEX != 0 { Some(take_u32(&mut p)?) } else { None };
        let addr = if c & ctype::IPADDR != 0 {
            if p.len() < 4 {
                return Err(Error::Truncated);
            }
            let afi = read_u16(p, 0);
            let (addr, n) = match afi {
                1 => (IpAddr::V4(Ipv4Addr::from(array::<4>(p, 4).ok_or(Error::Truncated)?)), 8),
                2 => (IpAddr::V6(Ipv6Addr::from(array::<16>(p, 4).ok_or(Error::Truncated)?)), 20),
                _ => return Err(Error::BadField("afi")),
            };
            p = &p[n..];
            Some(addr)
        } else {
            None
        };
        let name = if c & ctype::NAME != 0 {
            let len = usize::from(*p.first().ok_or(Error::Truncated)?);
            if len == 0 || !len.is_multiple_of(4) || len > 64 {
                return Err(Error::BadLength("name length"));
            }
            let n = p.get(1..len).ok_or(Error::Truncated)?;
            p = &p[len..];
            Some(n)
        } else {
            None
        };
        let mtu = if c & ctype::MTU != 0 { Some(take_u32(&mut p)?) } else { None };
        if !p.is_empty() {
            return Err(Error::BadLength("interface information"));
        }
        Ok(InterfaceInfo { role, if_index, addr, name, mtu })
    }

    /// The name with trailing NUL padding removed, if it is valid UTF-8.
    pub fn name_str(&self) -> Option<&'a str> {
        let n = self.name?;
        let end = n.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        core::str::from_utf8(&n[..end]).ok()
    }

    /// The c-type octet: role and the four presence flags (RFC 5837 §4.1).
    pub fn c_type(&self) -> u8 {
        let role = match self.role {
            InterfaceRole::Incoming => 0,
            InterfaceRole::SubIp => 1,
            InterfaceRole::Outgoing => 2,
            InterfaceRole::NextHop => 3,
        };
        (role << 6)
            | if self.if_index.is_some() { ctype::IFINDEX } else { 0 }
            | if self.addr.is_some() { ctype::IPADDR } else { 0 }
            | if self.name.is_some() { ctype::NAME } else { 0 }
            | if self.mtu.is_some() { ctype::MTU } else { 0 }
    }

    fn name_len(&self) -> Option<usize> {
        self.name.map(|n| (n.len() + 1).div_ceil(4) * 4)
    }

    /// The whole object's length, header included.
    pub fn buffer_len(&self) -> usize {
        4 + self.if_index.map_or(0, |_| 4)
            + self.addr.map_or(0, |a| if a.is_ipv4() { 8 } else { 20 })
            + self.name_len().unwrap_or(0)
            + self.mtu.map_or(0, |_| 4)
    }

    /// Writes the whole object (header and sub-objects), padding the name with
    /// NULs to a multiple of 4; a name over 63 octets is `BadLength("name length")`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if self.name_len().is_some_and(|l| l > 64) {
            return Err(Error::BadLength("name length"));
        }
        let len = self.buffer_len();
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        write_u16(buf, 0, len as u16);
        buf[2] = CLASS_INTERFACE_INFO;
        buf[3] = self.c_type();
        let mut at = 4;
        if let Some(i) = self.if_index {
            write_u32(buf, at, i);
            at += 4;
        }
        match self.addr {
            Some(IpAddr::V4(a)) => {
                write_u32(buf, at, 1 << 16);
                buf[at + 4..at + 8].copy_from_slice(&a.octets());
                at += 8;
            }
            Some(IpAddr::V6(a)) => {
                write_u32(buf, at, 2 << 16);
                buf[at + 4..at + 20].copy_from_slice(&a.octets());
                at += 20;
            }
            None => {}
        }
        if let (Some(n), Some(l)) = (self.name, self.name_len()) {
            buf[at] = l as u8;
            buf[at + 1..at + 1 + n.len()].copy_from_slice(n);
            buf[at + 1 + n.len()..at + l].fill(0);
            at += l;
        }
        if let Some(m) = self.mtu {
            write_u32(buf, at, m);
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 5837 §4 style object: incoming interface, ifIndex 5, IPv4
    /// 192.0.2.1, name "eth0", MTU 1500, in a version-2 structure.
    fn sample() -> Vec<u8> {
        let mut v = vec![0x20, 0, 0, 0];
        v.extend_from_slice(&[0, 28, 2, 0x0f]);
        v.extend_from_slice(&[0, 0, 0, 5]);
        v.extend_from_slice(&[0, 1, 0, 0, 192, 0, 2, 1]);
        v.extend_from_slice(&[8, b'e', b't', b'h', b'0', 0, 0, 0]);
        v.extend_from_slice(&[0, 0, 5, 0xdc]);
        let c = checksum::checksum(&v);
        v[2..4].copy_from_slice(&c.to_be_bytes());
        v
    }

    #[test]
    fn known_interface_object() {
        let bytes = sample();
        let ext = IcmpExtension::new_checked(&bytes[..]).unwrap();
        assert_eq!(ext.version(), 2);
        assert!(ext.verify_checksum());
        let objs: Vec<_> = ext.objects().collect();
        assert_eq!(objs.len(), 1);
        let info = InterfaceInfo::parse(&objs[0]).unwrap();
        assert_eq!(info.role, InterfaceRole::Incoming);
        assert_eq!(info.if_index, Some(5));
        assert_eq!(info.addr, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))));
        assert_eq!(info.name_str(), Some("eth0"));
        assert_eq!(info.mtu, Some(1500));
        let mut out = vec![0u8; info.buffer_len()];
        info.emit(&mut out).unwrap();
        assert_eq!(&out[..], &bytes[4..]);
        let mut again = vec![0u8; 64];
        let obj = IcmpExtObject { class_num: 2, c_type: 0x0f, payload: &bytes[8..] };
        let n = emit_extension(&[obj], &mut again).unwrap();
        assert_eq!(&again[..n], &bytes[..]);
    }

    #[test]
    fn checksum_zero_means_absent_and_fill() {
        let mut bytes = sample();
        bytes[2] = 0;
        bytes[3] = 0;
        let mut ext = IcmpExtension::new_checked(&mut bytes[..]).unwrap();
        assert!(ext.verify_checksum());
        ext.fill_checksum();
        assert!(ext.verify_checksum());
        assert_eq!(bytes, sample());
        bytes[11] ^= 1;
        assert!(!IcmpExtension::new_checked(&bytes[..]).unwrap().verify_checksum());
    }

    #[test]
    fn version_one_is_bad_version() {
        let mut bytes = sample();
        bytes[0] = 0x10;
        assert_eq!(IcmpExtension::new_checked(&bytes[..]).unwrap_err(), Error::BadVersion);
    }

    #[test]
    fn structure_shorter_than_header_is_truncated() {
        assert_eq!(IcmpExtension::new_checked(&[0x20, 0, 0][..]).unwrap_err(), Error::Truncated);
        assert_eq!(IcmpExtension::new_checked(&[0x20, 0, 0, 0, 0, 4][..]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn object_length_below_four_or_past_end_is_bad_length() {
        let zero = [0x20, 0, 0, 0, 0, 0, 2, 0];
        assert_eq!(IcmpExtension::new_checked(&zero[..]).unwrap_err(), Error::BadLength("object length"));
        let over = [0x20, 0, 0, 0, 0, 12, 2, 0];
        assert_eq!(IcmpExtension::new_checked(&over[..]).unwrap_err(), Error::BadLength("object length"));
    }

    #[test]
    fn interface_sub_object_errors() {
        let obj = |c_type, payload| IcmpExtObject { class_num: 2, c_type, payload };
        assert_eq!(InterfaceInfo::parse(&obj(0x08, &[0, 0, 1])).unwrap_err(), Error::Truncated);
        assert_eq!(
            InterfaceInfo::parse(&obj(0x04, &[0, 3, 0, 0, 1, 2, 3, 4])).unwrap_err(),
            Error::BadField("afi")
        );
        assert_eq!(
            InterfaceInfo::parse(&obj(0x02, &[5, 1, 2, 3, 4])).unwrap_err(),
            Error::BadLength("name length")
        );
        assert_eq!(InterfaceInfo::parse(&obj(0x02, &[8, 1, 2, 3])).unwrap_err(), Error::Truncated);
        assert_eq!(
            InterfaceInfo::parse(&obj(0x01, &[0, 0, 5, 0xdc, 0])).unwrap_err(),
            Error::BadLength("interface information")
        );
        let other = IcmpExtObject { class_num: 1, c_type: 1, payload: &[] };
        assert_eq!(InterfaceInfo::parse(&other).unwrap_err(), Error::BadField("class-num"));
        let long = InterfaceInfo {
            role: InterfaceRole::Outgoing,
            if_index: None,
            addr: None,
            name: Some(&[b'a'; 64]),
            mtu: None,
        };
        assert_eq!(long.emit(&mut [0u8; 128]).unwrap_err(), Error::BadLength("name length"));
    }

    #[test]
    fn multipart_split_rules() {
        let body = [0u8; 200];
        assert_eq!(split_multipart(&body, 0, 4).unwrap(), (&body[..], None));
        assert_eq!(split_multipart(&body, 31, 4).unwrap_err(), Error::BadLength("length"));
        assert_eq!(split_multipart(&body, 51, 4).unwrap_err(), Error::BadLength("length"));
        let (o, e) = split_multipart(&body, 32, 4).unwrap();
        assert_eq!((o.len(), e.map(<[u8]>::len)), (128, Some(72)));
        assert_eq!(multipart_layout(&[0; 10], Some(&[]), 8).unwrap(), (128, 16));
        assert_eq!(multipart_layout(&[0; 130], Some(&[]), 8).unwrap(), (136, 17));
        assert_eq!(multipart_layout(&[0; 2000], Some(&[]), 4).unwrap_err(), Error::BadLength("length"));
    }

    /// role, ifIndex, address, name, MTU.
    type InfoFields = (u8, Option<u32>, Option<IpAddr>, Option<Vec<u8>>, Option<u32>);

    fn arb_info() -> impl Strategy<Value = InfoFields> {
        (
            0u8..4,
            proptest::option::of(any::<u32>()),
            proptest::option::of(prop_oneof![
                any::<[u8; 4]>().prop_map(|a| IpAddr::V4(a.into())),
                any::<[u8; 16]>().prop_map(|a| IpAddr::V6(a.into()))
            ]),
            proptest::option::of(
                (0usize..16).prop_flat_map(|k| proptest::collection::vec(any::<u8>(), 4 * k + 3)),
            ),
            proptest::option::of(any::<u32>()),
        )
    }

    proptest! {
        #[test]
        fn interface_info_round_trip((role, if_index, addr, name, mtu) in arb_info()) {
            let role = [InterfaceRole::Incoming, InterfaceRole::SubIp, InterfaceRole::Outgoing, InterfaceRole::NextHop][usize::from(role)];
            let info = InterfaceInfo { role, if_index, addr, name: name.as_deref(), mtu };
            let mut obj = vec![0u8; info.buffer_len()];
            info.emit(&mut obj).unwrap();
            let mut ext = vec![0u8; 4 + obj.len()];
            let o = IcmpExtObject { class_num: obj[2], c_type: obj[3], payload: &obj[4..] };
            emit_extension(&[o], &mut ext).unwrap();
            let view = IcmpExtension::new_checked(&ext[..]).unwrap();
            prop_assert!(view.verify_checksum());
            let first = view.objects().next().unwrap();
            prop_assert_eq!(InterfaceInfo::parse(&first).unwrap(), info);
        }

        #[test]
        fn bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 4..120)) {
            let mut bytes = bytes;
            bytes[0] = 0x20;
            bytes[1] = 0;
            if let Ok(view) = IcmpExtension::new_checked(&bytes[..]) {
                let objs: Vec<_> = view.objects().collect();
                let mut out = vec![0u8; extension_len(&objs)];
                emit_extension(&objs, &mut out).unwrap();
                prop_assert_eq!(&out[4..], &bytes[4..]);
                for o in &objs {
                    if let Ok(info) = InterfaceInfo::parse(o) {
                        let mut b = vec![0u8; info.buffer_len()];
                        info.emit(&mut b).unwrap();
                        prop_assert_eq!(&b[4..], o.payload);
                    }
                }
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120), c_type in any::<u8>()) {
            if let Ok(view) = IcmpExtension::new_checked(&bytes[..]) {
                let _ = (view.version(), view.checksum(), view.verify_checksum());
                for o in view.objects() {
                    let _ = InterfaceInfo::parse(&o).map(|i| i.name_str());
                }
            }
            let _ = InterfaceInfo::parse(&IcmpExtObject { class_num: 2, c_type, payload: &bytes });
            let _ = split_multipart(&bytes, c_type, 4);
        }
    }
}
