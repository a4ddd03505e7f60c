//! Multicast Listener Discovery: MLDv1 (RFC 2710 §3) and MLDv2 (RFC 3810 §5),
//! carried in ICMPv6 (see [`crate::icmpv6::Icmpv6Repr::Mld`]).
//!
//! Source lists and address records are kept raw (validated once at parse)
//! and iterated with [`mld_sources`] and [`MldRecords`].

use crate::error::{Error, Result};
use crate::field::{array, read_u16, write_u16};
use std::net::Ipv6Addr;

/// MLD ICMPv6 types.
pub mod msg_type {
    /// Multicast Listener Query, v1 and v2 (RFC 2710 §3.6, RFC 3810 §5.1).
    pub const QUERY: u8 = 130;
    /// MLDv1 Multicast Listener Report (RFC 2710 §3.6).
    pub const REPORT_V1: u8 = 131;
    /// MLDv1 Multicast Listener Done (RFC 2710 §3.6).
    pub const DONE: u8 = 132;
    /// MLDv2 Multicast Listener Report (RFC 3810 §5.2).
    pub const REPORT_V2: u8 = 143;
}

/// MLDv1 message length (RFC 2710 §3).
const V1_LEN: usize = 24;
/// MLDv2 query fixed length (RFC 3810 §5.1).
const V2_QUERY_LEN: usize = 28;
/// MLDv2 report fixed length (RFC 3810 §5.2).
const V2_REPORT_LEN: usize = 8;
/// Address record fixed length (RFC 3810 §5.2.4).
const RECORD_LEN: usize = 20;

/// Decodes an MLDv2 Maximum Response Code into milliseconds (RFC 3810 §5.1.3).
pub fn max_resp_code_to_ms(code: u16) -> u32 {
    if code < 0x8000 {
        u32::from(code)
    } else {
        let mant = u32::from(code & 0x0fff);
        let exp = u32::from((code >> 12) & 7);
        (mant | 0x1000) << (exp + 3)
    }
}

/// Decodes a Querier's Query Interval Code into seconds (RFC 3810 §5.1.9).
pub fn qqic_to_secs(qqic: u8) -> u32 {
    if qqic < 0x80 {
        u32::from(qqic)
    } else {
        let mant = u32::from(qqic & 0x0f);
        let exp = u32::from((qqic >> 4) & 7);
        (mant | 0x10) << (exp + 3)
    }
}

/// Iterates over a raw list of 16-octet source addresses.
pub fn mld_sources(raw: &[u8]) -> impl Iterator<Item = Ipv6Addr> + '_ {
    raw.chunks_exact(16).filter_map(|c| array::<16>(c, 0)).map(Ipv6Addr::from)
}

/// One MLDv2 Multicast Address Record (RFC 3810 §5.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MldAddressRecord<'a> {
    /// Record type (RFC 3810 §5.2.12: 1 MODE_IS_INCLUDE .. 6 BLOCK_OLD_SOURCES).
    pub record_type: u8,
    /// The multicast address.
    pub mcast_addr: Ipv6Addr,
    /// Source addresses, 16 octets each (see [`mld_sources`]).
    pub sources: &'a [u8],
    /// Auxiliary data (a multiple of 4 octets).
    pub aux_data: &'a [u8],
}

impl<'a> MldAddressRecord<'a> {
    /// Parses one record from the start of `buf`; returns it and its length.
    pub fn parse(buf: &'a [u8]) -> Result<(Self, usize)> {
        if buf.len() < RECORD_LEN {
            return Err(Error::Truncated);
        }
        let aux = usize::from(buf[1]) * 4;
        let nsrc = usize::from(read_u16(buf, 2)) * 16;
        let len = RECORD_LEN + nsrc + aux;
        if buf.len() < len {
            return Err(Error::Truncated);
        }
        let mcast_addr = array::<16>(buf, 4).map(Ipv6Addr::from).ok_or(Error::Truncated)?;
        let rec = MldAddressRecord {
            record_type: buf[0],
            mcast_addr,
            sources: &buf[RECORD_LEN..RECORD_LEN + nsrc],
            aux_data: &buf[RECORD_LEN + nsrc..len],
        };
        Ok((rec, len))
    }

    /// The record's length.
    pub fn buffer_len(&self) -> usize {
        RECORD_LEN + self.sources.len() + self.aux_data.len()
    }

    /// Writes the record. Sources not a multiple of 16 octets (or more than
    /// 65535), or aux data not a multiple of 4 (or over 1020), are `BadLength`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let nsrc =
            u16::try_from(self.sources.len() / 16).map_err(|_| Error::BadLength("number of sources"))?;
        if !self.sources.len().is_multiple_of(16) {
            return Err(Error::BadLength("number of sources"));
        }
        let aux = u8::try_from(self.aux_data.len() / 4).map_err(|_| Error::BadLength("aux data len"))?;
        if !self.aux_data.len().is_multiple_of(4) {
            return Err(Error::BadLength("aux data len"));
        }
        let len = self.buffer_len();
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        buf[0] = self.record_type;
        buf[1] = aux;
        write_u16(buf, 2, nsrc);
        buf[4..20].copy_from_slice(&self.mcast_addr.octets());
        buf[20..20 + self.sources.len()].copy_from_slice(self.sources);
        buf[20 + self.sources.len()..len].copy_from_slice(self.aux_data);
        Ok(len)
    }
}

/// Iterates over a validated raw record area.
#[derive(Debug, Clone)]
pub struct MldRecords<'a> {
    rest: &'a [u8],
}

impl<'a> MldRecords<'a> {
    /// Iterates over `records` (as in [`MldRepr::ReportV2`]).
    pub fn new(records: &'a [u8]) -> Self {
        MldRecords { rest: records }
    }
}

impl<'a> Iterator for MldRecords<'a> {
    type Item = Result<MldAddressRecord<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match MldAddressRecord::parse(self.rest) {
            Ok((r, n)) => {
                self.rest = &self.rest[n..];
                Some(Ok(r))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// A checked view of an MLD message (the whole ICMPv6 message, RFC 2710 §3,
/// RFC 3810 §5): `new_checked` validates it as [`MldRepr::parse`] does, so
/// the accessors never panic. The ICMPv6 checksum is the
/// [`crate::icmpv6::Icmpv6Packet`]'s business.
#[derive(Debug, Clone)]
pub struct MldPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> MldPacket<T> {
    /// Wraps and validates `buffer` (same errors as [`MldRepr::parse`]).
    pub fn new_checked(buffer: T) -> Result<Self> {
        MldRepr::parse(buffer.as_ref())?;
        Ok(MldPacket { buffer })
    }

    /// The ICMPv6 type (130, 131, 132 or 143).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// Whether this is an MLDv2 query (28 octets or more, RFC 3810 §8.1).
    pub fn is_v2_query(&self) -> bool {
        self.msg_type() == msg_type::QUERY && self.buffer.as_ref().len() >= V2_QUERY_LEN
    }

    /// Maximum Response Delay (v1) / Code (v2 query), octets 4..6; 0 for a
    /// v2 report (reserved).
    pub fn max_resp_code(&self) -> u16 {
        if self.msg_type() == msg_type::REPORT_V2 {
            0
        } else {
            read_u16(self.buffer.as_ref(), 4)
        }
    }

    /// The multicast address field (octets 8..24); unspecified for a v2 report.
    pub fn mcast_addr(&self) -> Ipv6Addr {
        if self.msg_type() == msg_type::REPORT_V2 {
            Ipv6Addr::UNSPECIFIED
        } else {
            addr(self.buffer.as_ref(), 8).unwrap_or(Ipv6Addr::UNSPECIFIED)
        }
    }

    /// The v2 query's S flag, QRV and QQIC (RFC 3810 §5.1.7-§5.1.9).
    pub fn query_v2_fields(&self) -> Option<(bool, u8, u8)> {
        let b = self.buffer.as_ref();
        self.is_v2_query().then(|| (b[24] & 0x08 != 0, b[24] & 7, b[25]))
    }

    /// The v2 query's sources (raw, see [`mld_sources`]), or empty.
    pub fn sources(&self) -> &[u8] {
        match MldRepr::parse(self.buffer.as_ref()) {
            Ok(MldRepr::QueryV2 { sources, .. }) => sources,
            _ => &[],
        }
    }

    /// The v2 report's number of records (octets 6..8), or 0.
    pub fn num_records(&self) -> u16 {
        if self.msg_type() == msg_type::REPORT_V2 {
            read_u16(self.buffer.as_ref(), 6)
        } else {
            0
        }
    }

    /// The v2 report's records (raw, see [`MldRecords`]), or empty.
    pub fn records(&self) -> &[u8] {
        match MldRepr::parse(self.buffer.as_ref()) {
            Ok(MldRepr::ReportV2 { records }) => records,
            _ => &[],
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MldPacket<T> {
    /// Sets the Maximum Response Delay / Code (not for a v2 report).
    pub fn set_max_resp_code(&mut self, v: u16) {
        if self.msg_type() != msg_type::REPORT_V2 {
            write_u16(self.buffer.as_mut(), 4, v);
        }
    }

    /// Sets the multicast address (not for a v2 report).
    pub fn set_mcast_addr(&mut self, a: Ipv6Addr) {
        if self.msg_type() != msg_type::REPORT_V2 {
            self.buffer.as_mut()[8..24].copy_from_slice(&a.octets());
        }
    }
}

/// The fields of an MLD message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MldRepr<'a> {
    /// MLDv1 query (RFC 2710 §3; exactly 24 octets, RFC 3810 §8.1).
    Query {
        /// Maximum response delay in milliseconds.
        max_resp_delay: u16,
        /// Group (unspecified for a general query).
        mcast_addr: Ipv6Addr,
    },
    /// MLDv2 query (RFC 3810 §5.1; 28 octets or more).
    QueryV2 {
        /// Maximum Response Code (decode with [`max_resp_code_to_ms`]).
        max_resp_code: u16,
        /// Group (unspecified for a general query).
        mcast_addr: Ipv6Addr,
        /// S: suppress router-side processing.
        s_flag: bool,
        /// Querier's Robustness Variable (3 bits).
        qrv: u8,
        /// Querier's Query Interval Code (decode with [`qqic_to_secs`]).
        qqic: u8,
        /// Source addresses, 16 octets each.
        sources: &'a [u8],
    },
    /// MLDv1 report (RFC 2710 §3).
    Report {
        /// Group.
        mcast_addr: Ipv6Addr,
    },
    /// MLDv1 done (RFC 2710 §3).
    Done {
        /// Group.
        mcast_addr: Ipv6Addr,
    },
    /// MLDv2 report (RFC 3810 §5.2): the raw records (see [`MldRecords`]).
    ReportV2 {
        /// The records area.
        records: &'a [u8],
    },
}

fn addr(msg: &[u8], at: usize) -> Result<Ipv6Addr> {
    array::<16>(msg, at).map(Ipv6Addr::from).ok_or(Error::Truncated)
}

impl<'a> MldRepr<'a> {
    /// Parses a whole MLD message (`msg` starts at the ICMPv6 type). A query
    /// of 25..=27 octets is `BadLength("query length")` (RFC 3810 §8.1);
    /// sources or records past the end are `Truncated`. Octets after the
    /// declared sources/records and the code are ignored (RFC 2710 §3,
    /// RFC 3810 §5); the link-local source / hop limit 1 / Router Alert
    /// checks are the core's.
    pub fn parse(msg: &'a [u8]) -> Result<Self> {
        let t = *msg.first().ok_or(Error::Truncated)?;
        match t {
            msg_type::QUERY if msg.len() >= V2_QUERY_LEN => {
                let n = usize::from(read_u16(msg, 26)) * 16;
                let sources = msg.get(V2_QUERY_LEN..V2_QUERY_LEN + n).ok_or(Error::Truncated)?;
                Ok(MldRepr::QueryV2 {
                    max_resp_code: read_u16(msg, 4),
                    mcast_addr: addr(msg, 8)?,
                    s_flag: msg[24] & 0x08 != 0,
                    qrv: msg[24] & 0x07,
                    qqic: msg[25],
                    sources,
                })
            }
            msg_type::QUERY if msg.len() > V1_LEN => Err(Error::BadLength("query length")),
            msg_type::QUERY | msg_type::REPORT_V1 | msg_type::DONE => {
                if msg.len() < V1_LEN {
                    return Err(Error::Truncated);
                }
                let mcast_addr = addr(msg, 8)?;
                Ok(match t {
                    msg_type::QUERY => MldRepr::Query { max_resp_delay: read_u16(msg, 4), mcast_addr },
                    msg_type::REPORT_V1 => MldRepr::Report { mcast_addr },
                    _ => MldRepr::Done { mcast_addr },
                })
            }
            msg_type::REPORT_V2 => {
                if msg.len() < V2_REPORT_LEN {
                    return Err(Error::Truncated);
                }
                let count = read_u16(msg, 6);
                let mut at = V2_REPORT_LEN;
                for _ in 0..count {
                    let (_, n) = MldAddressRecord::parse(&msg[at..])?;
                    at += n;
                }
                Ok(MldRepr::ReportV2 { records: &msg[V2_REPORT_LEN..at] })
            }
            _ => Err(Error::BadField("type")),
        }
    }

    /// The ICMPv6 type.
    pub fn msg_type(&self) -> u8 {
        match self {
            MldRepr::Query { .. } | MldRepr::QueryV2 { .. } => msg_type::QUERY,
            MldRepr::Report { .. } => msg_type::REPORT_V1,
            MldRepr::Done { .. } => msg_type::DONE,
            MldRepr::ReportV2 { .. } => msg_type::REPORT_V2,
        }
    }

    /// The whole message length, ICMPv6 header included.
    pub fn buffer_len(&self) -> usize {
        match self {
            MldRepr::Query { .. } | MldRepr::Report { .. } | MldRepr::Done { .. } => V1_LEN,
            MldRepr::QueryV2 { sources, .. } => V2_QUERY_LEN + sources.len(),
            MldRepr::ReportV2 { records } => V2_REPORT_LEN + records.len(),
        }
    }

    /// Writes the whole message except the checksum (left zero); code and
    /// reserved fields zero. A source list not a multiple of 16 octets or
    /// over 65535 entries is `BadLength("number of sources")`; a records area
    /// that does not parse, or over 65535 records, is `BadLength("records")`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        let count = match self {
            MldRepr::QueryV2 { sources, .. } => {
                if !sources.len().is_multiple_of(16) {
                    return Err(Error::BadLength("number of sources"));
                }
                u16::try_from(sources.len() / 16).map_err(|_| Error::BadLength("number of sources"))?
            }
            MldRepr::ReportV2 { records } => {
                let mut n = 0usize;
                for r in MldRecords::new(records) {
                    r.map_err(|_| Error::BadLength("records"))?;
                    n += 1;
                }
                u16::try_from(n).map_err(|_| Error::BadLength("records"))?
            }
            _ => 0,
        };
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        let buf = &mut buf[..len];
        buf[..V2_REPORT_LEN].fill(0);
        buf[0] = self.msg_type();
        match *self {
            MldRepr::Query { max_resp_delay, mcast_addr } => {
                write_u16(buf, 4, max_resp_delay);
                buf[8..24].copy_from_slice(&mcast_addr.octets());
            }
            MldRepr::Report { mcast_addr } | MldRepr::Done { mcast_addr } => {
                buf[8..24].copy_from_slice(&mcast_addr.octets());
            }
            MldRepr::QueryV2 { max_resp_code, mcast_addr, s_flag, qrv, qqic, sources } => {
                write_u16(buf, 4, max_resp_code);
                buf[8..24].copy_from_slice(&mcast_addr.octets());
                buf[24] = (u8::from(s_flag) << 3) | (qrv & 7);
                buf[25] = qqic;
                write_u16(buf, 26, count);
                buf[V2_QUERY_LEN..].copy_from_slice(sources);
            }
            MldRepr::ReportV2 { records } => {
                write_u16(buf, 6, count);
                buf[V2_REPORT_LEN..].copy_from_slice(records);
            }
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_v1_report_and_v2_query() {
        let mut v = vec![131, 0, 0, 0, 0, 0, 0, 0];
        v.extend_from_slice(&"ff02::fb".parse::<Ipv6Addr>().unwrap().octets());
        let r = MldRepr::parse(&v).unwrap();
        assert_eq!(r, MldRepr::Report { mcast_addr: "ff02::fb".parse().unwrap() });
        let mut out = [0u8; 24];
        r.emit(&mut out).unwrap();
        assert_eq!(&out[..], &v[..]);
        // General MLDv2 query: MRC 10000 ms, QRV 2, QQIC 125 s, no sources.
        let q = [[130, 0, 0, 0, 0x27, 0x10, 0, 0].as_slice(), &[0; 16], &[0x02, 125, 0, 0]].concat();
        let r = MldRepr::parse(&q).unwrap();
        assert_eq!(
            r,
            MldRepr::QueryV2 {
                max_resp_code: 10000,
                mcast_addr: Ipv6Addr::UNSPECIFIED,
                s_flag: false,
                qrv: 2,
                qqic: 125,
                sources: &[]
            }
        );
        assert_eq!(max_resp_code_to_ms(10000), 10000);
        assert_eq!(max_resp_code_to_ms(0x8000), 0x1000 << 3);
        assert_eq!(qqic_to_secs(125), 125);
        assert_eq!(qqic_to_secs(0x80), 0x10 << 3);
    }

    #[test]
    fn known_v2_report() {
        let g: Ipv6Addr = "ff05::1:3".parse().unwrap();
        let s: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let rec = MldAddressRecord { record_type: 3, mcast_addr: g, sources: &s.octets(), aux_data: &[] };
        let mut recs = vec![0u8; rec.buffer_len()];
        rec.emit(&mut recs).unwrap();
        let r = MldRepr::ReportV2 { records: &recs };
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut out).unwrap();
        assert_eq!(&out[..8], &[143, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(MldRepr::parse(&out).unwrap(), r);
        let got: Vec<_> = MldRecords::new(&recs).collect::<Result<_>>().unwrap();
        assert_eq!(got, vec![rec]);
        assert_eq!(mld_sources(got[0].sources).collect::<Vec<_>>(), vec![s]);
    }

    #[test]
    fn view_accessors_and_setters() {
        let q = [[130u8, 0, 0, 0, 0x27, 0x10, 0, 0].as_slice(), &[0; 16], &[0x0a, 125, 0, 1], &[0xff; 16]]
            .concat();
        let mut b = q.clone();
        let mut p = MldPacket::new_checked(&mut b[..]).unwrap();
        assert!(p.is_v2_query());
        assert_eq!(p.max_resp_code(), 10000);
        assert_eq!(p.query_v2_fields(), Some((true, 2, 125)));
        assert_eq!(p.sources(), &[0xff; 16]);
        p.set_max_resp_code(5);
        p.set_mcast_addr("ff02::1".parse().unwrap());
        assert_eq!(p.max_resp_code(), 5);
        assert_eq!(p.mcast_addr(), "ff02::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!((p.num_records(), p.records()), (0, &[][..]));
        assert_eq!(MldPacket::new_checked(&q[..27]).unwrap_err(), Error::BadLength("query length"));
    }

    #[test]
    fn short_messages_are_truncated() {
        assert_eq!(MldRepr::parse(&[131; 23]).unwrap_err(), Error::Truncated);
        assert_eq!(MldRepr::parse(&[143, 0, 0, 0, 0, 0, 0]).unwrap_err(), Error::Truncated);
        assert_eq!(MldRepr::parse(&[]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn query_of_odd_length_is_bad_length() {
        assert_eq!(MldRepr::parse(&[130; 26]).unwrap_err(), Error::BadLength("query length"));
    }

    #[test]
    fn lying_source_count_is_truncated() {
        let mut q = vec![130u8; 28];
        q[26] = 0;
        q[27] = 1;
        assert_eq!(MldRepr::parse(&q).unwrap_err(), Error::Truncated);
        // One record declared, none present.
        assert_eq!(MldRepr::parse(&[143, 0, 0, 0, 0, 0, 0, 1]).unwrap_err(), Error::Truncated);
        // A record whose source count runs off the end.
        let mut r = vec![143, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 2];
        r.extend_from_slice(&[0; 16 + 16]);
        assert_eq!(MldRepr::parse(&r).unwrap_err(), Error::Truncated);
    }

    fn arb_record() -> impl Strategy<Value = (u8, [u8; 16], Vec<u8>, Vec<u8>)> {
        (
            any::<u8>(),
            any::<[u8; 16]>(),
            (0usize..3).prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n * 16)),
            (0usize..3).prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n * 4)),
        )
    }

    proptest! {
        #[test]
        fn repr_round_trip(kind in 0u8..5, a in any::<[u8; 16]>(), m in any::<u16>(), f in any::<u8>(), q in any::<u8>(),
                           srcs in (0usize..4).prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n * 16)),
                           recs in proptest::collection::vec(arb_record(), 0..3)) {
            let mut area = Vec::new();
            for (t, g, s, x) in &recs {
                let r = MldAddressRecord { record_type: *t, mcast_addr: (*g).into(), sources: s, aux_data: x };
                let mut b = vec![0u8; r.buffer_len()];
                r.emit(&mut b).unwrap();
                area.extend_from_slice(&b);
            }
            let repr = match kind {
                0 => MldRepr::Query { max_resp_delay: m, mcast_addr: a.into() },
                1 => MldRepr::QueryV2 { max_resp_code: m, mcast_addr: a.into(), s_flag: f & 8 != 0, qrv: f & 7, qqic: q, sources: &srcs },
                2 => MldRepr::Report { mcast_addr: a.into() },
                3 => MldRepr::Done { mcast_addr: a.into() },
                _ => MldRepr::ReportV2 { records: &area },
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut buf).unwrap();
            prop_assert_eq!(MldRepr::parse(&buf).unwrap(), repr);
        }

        #[test]
        fn bytes_round_trip(t in prop_oneof![Just(130u8), Just(131), Just(132), Just(143)], mut bytes in proptest::collection::vec(any::<u8>(), 8..120)) {
            bytes[0] = t;
            if let Ok(repr) = MldRepr::parse(&bytes) {
                let mut out = vec![0u8; repr.buffer_len()];
                repr.emit(&mut out).unwrap();
                // From the group address (or, for v2 reports, the records) on,
                // the covered region is exact; code and reserved octets are not
                // carried (RFC 2710 §3, RFC 3810 §5: ignored on receipt).
                prop_assert_eq!(&out[8..], &bytes[8..out.len()]);
                prop_assert_eq!(MldRepr::parse(&out).unwrap(), repr);
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Ok(p) = MldPacket::new_checked(&bytes[..]) {
                let _ = (p.msg_type(), p.is_v2_query(), p.max_resp_code(), p.mcast_addr(), p.query_v2_fields(),
                    p.sources(), p.num_records(), p.records());
            }
            if let Ok(r) = MldRepr::parse(&bytes) {
                let _ = (r.msg_type(), r.buffer_len());
                if let MldRepr::ReportV2 { records } = r {
                    for rec in MldRecords::new(records).flatten() {
                        let _ = mld_sources(rec.sources).count();
                    }
                }
            }
        }
    }
}
