//! Differential tests of the ARP and IPv4 parsers against etherparse 0.21.
//!
//! Documented differences (excluded exactly where they apply):
//! - etherparse never verifies the IPv4 header checksum and never looks inside
//!   the options area; `Ipv4Repr::parse` refuses a bad checksum
//!   (`BadChecksum`) and malformed options (`BadOption`, RFC 791 §3.1). The
//!   view (`Ipv4Packet::new_checked`) checks neither, so verdicts are compared
//!   on the view, and the repr verdict is compared only where the checksum
//!   verifies and the options iterate cleanly.
//! - `etherparse::Ipv4Slice` also parses an Authentication Header when the
//!   protocol is 51 (AH); that is a separate format for us, so the slice
//!   verdict is compared only for protocol != 51 (the header verdict always).
//! - etherparse drops the reserved flag bit (RFC 791 "must be zero"); so does
//!   `Ipv4Repr` (the view reports it), so header bytes are compared with it
//!   cleared.
//! - etherparse parses ARP for any hardware/protocol address lengths; we parse
//!   only Ethernet/IPv4 (RFC 826 with ar$hrd=1, ar$pro=0x0800), which equals
//!   etherparse's `ArpPacket::try_eth_ipv4` verdict, the one compared.

use etherparse::{
    err::ipv4::{HeaderError, HeaderSliceError, SliceError},
    ArpPacketSlice, IpDscp, IpEcn, IpFragOffset, IpNumber, Ipv4Header, Ipv4HeaderSlice, Ipv4Slice, LenSource,
};
use proptest::prelude::*;
use std::net::Ipv4Addr;
use via6_wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use via6_wire::ipv4::{Ipv4Packet, Ipv4Repr};
use via6_wire::ipv4_option::Ipv4OptionIter;
use via6_wire::{Error, MacAddr};

const AH: u8 = 51;

/// Option areas our emitter accepts: NOPs, Router Alert, RR + RA + EOL, a
/// Timestamp, and an unknown option (LSRR) padded with EOL.
const OPTION_AREAS: [&[u8]; 5] = [
    &[],
    &[148, 4, 0, 0],
    &[7, 11, 8, 192, 0, 2, 1, 0, 0, 0, 0, 148, 4, 0, 0, 0],
    &[68, 12, 5, 0x01, 0, 0, 0, 0, 0, 0, 0, 0],
    &[131, 7, 4, 192, 0, 2, 1, 0],
];

prop_compose! {
    fn arb_repr()(
        src in any::<u32>(), dst in any::<u32>(), protocol in any::<u8>(), payload_len in 0usize..48,
        ttl in any::<u8>(), dscp in 0u8..64, ecn in 0u8..4, ident in any::<u16>(), dont_frag in any::<bool>(),
        more_frags in any::<bool>(), frag_units in 0u16..0x2000, area in 0usize..OPTION_AREAS.len(),
    ) -> Ipv4Repr<'static> {
        Ipv4Repr {
            src: Ipv4Addr::from(src), dst: Ipv4Addr::from(dst), protocol, payload_len, ttl, dscp, ecn, ident,
            dont_frag, more_frags, frag_offset: frag_units * 8, options: OPTION_AREAS[area],
        }
    }
}

/// Emits `repr` followed by a payload of `fill` bytes.
fn packet(repr: &Ipv4Repr<'_>, fill: u8) -> Vec<u8> {
    let mut buf = vec![fill; repr.buffer_len()];
    repr.emit(&mut buf).unwrap();
    buf
}

/// The etherparse header with the same fields as `repr`, checksum filled in.
fn their_header(repr: &Ipv4Repr<'_>) -> Ipv4Header {
    let mut h = Ipv4Header {
        dscp: IpDscp::try_new(repr.dscp).unwrap(),
        ecn: IpEcn::try_new(repr.ecn).unwrap(),
        total_len: repr.buffer_len() as u16,
        identification: repr.ident,
        dont_fragment: repr.dont_frag,
        more_fragments: repr.more_frags,
        fragment_offset: IpFragOffset::try_new(repr.frag_offset / 8).unwrap(),
        time_to_live: repr.ttl,
        protocol: IpNumber(repr.protocol),
        header_checksum: 0,
        source: repr.src.octets(),
        destination: repr.dst.octets(),
        options: repr.options.try_into().unwrap(),
    };
    h.header_checksum = h.calc_header_checksum();
    h
}

/// Compares the view and (where etherparse's rules apply) the repr verdicts
/// and fields of both libraries on `bytes`.
fn compare_ipv4(bytes: &[u8]) -> Result<(), TestCaseError> {
    let ours = Ipv4Packet::new_checked(bytes);
    let header = Ipv4HeaderSlice::from_slice(bytes);
    // The header-level checks (length, version, IHL, header inside the buffer)
    // come first in both, in the same order, and map one to one.
    match (&ours, &header) {
        (Err(Error::Truncated), Err(HeaderSliceError::Len(l))) => {
            prop_assert_eq!(l.len_source, LenSource::Slice)
        }
        (Err(Error::BadVersion), Err(HeaderSliceError::Content(HeaderError::UnexpectedVersion { .. }))) => {}
        (
            Err(Error::BadLength("ihl")),
            Err(HeaderSliceError::Content(HeaderError::HeaderLengthSmallerThanHeader { .. })),
        ) => {}
        (_, Ok(_)) => {}
        (o, t) => prop_assert!(false, "header verdicts differ: ours {:?} theirs {:?}", o, t),
    }
    let Ok(h) = header else { return Ok(()) };
    if h.protocol().0 != AH {
        let slice = Ipv4Slice::from_slice(bytes);
        match (&ours, &slice) {
            (Ok(p), Ok(s)) => prop_assert_eq!(p.payload(), s.payload().payload),
            (Err(Error::Truncated), Err(SliceError::Len(l))) => {
                prop_assert_eq!(l.len_source, LenSource::Slice)
            }
            (Err(Error::BadLength("total_length")), Err(SliceError::Len(l))) => {
                prop_assert_eq!(l.len_source, LenSource::Ipv4HeaderTotalLen)
            }
            (o, t) => {
                prop_assert!(false, "slice verdicts differ: ours {:?} theirs {:?}", o.as_ref().err(), t)
            }
        }
    }
    let Ok(p) = ours else { return Ok(()) };
    prop_assert_eq!(p.header_len(), h.slice().len());
    prop_assert_eq!(p.dscp(), h.dcp().value());
    prop_assert_eq!(p.ecn(), h.ecn().value());
    prop_assert_eq!(p.total_len(), h.total_len());
    prop_assert_eq!(p.ident(), h.identification());
    prop_assert_eq!(p.dont_frag(), h.dont_fragment());
    prop_assert_eq!(p.more_frags(), h.more_fragments());
    prop_assert_eq!(p.frag_offset(), h.fragments_offset().byte_offset());
    prop_assert_eq!(p.is_fragment(), h.is_fragmenting_payload());
    prop_assert_eq!(p.ttl(), h.ttl());
    prop_assert_eq!(p.protocol(), h.protocol().0);
    prop_assert_eq!(p.checksum(), h.header_checksum());
    prop_assert_eq!(p.src(), h.source_addr());
    prop_assert_eq!(p.dst(), h.destination_addr());
    prop_assert_eq!(p.options(), h.options());

    // Repr: etherparse checks neither checksum nor options (see top); where
    // both pass, the repr must parse and re-emit etherparse's bytes.
    let clean = p.verify_checksum() && Ipv4OptionIter::validate(p.options()).is_ok();
    let repr = Ipv4Repr::parse(&p);
    prop_assert_eq!(repr.is_ok(), clean);
    if let Ok(repr) = repr {
        let mut ours_bytes = vec![0u8; repr.header_len()];
        repr.emit(&mut ours_bytes).unwrap();
        // Both drop the reserved flag; the checksum is recomputed on both sides.
        let mut theirs = h.to_header();
        theirs.header_checksum = theirs.calc_header_checksum();
        let their_bytes = theirs.to_bytes().to_vec();
        prop_assert_eq!(ours_bytes, their_bytes);
    }
    Ok(())
}

/// Compares the ARP verdicts and fields of both libraries on `bytes`.
fn compare_arp(bytes: &[u8]) -> Result<(), TestCaseError> {
    let ours = ArpPacket::new_checked(bytes);
    let theirs = ArpPacketSlice::from_slice(bytes).ok().and_then(|s| s.to_packet().try_eth_ipv4().ok());
    prop_assert_eq!(ours.is_ok(), theirs.is_some(), "verdicts differ: ours {:?}", ours.as_ref().err());
    if let (Ok(p), Some(t)) = (ours, theirs) {
        let repr = ArpRepr::parse(&p).unwrap();
        prop_assert_eq!(u16::from(repr.operation), t.operation.0);
        prop_assert_eq!(repr.sender_mac, MacAddr(t.sender_mac));
        prop_assert_eq!(repr.sender_ip, t.sender_ipv4_addr());
        prop_assert_eq!(repr.target_mac, MacAddr(t.target_mac));
        prop_assert_eq!(repr.target_ip, t.target_ipv4_addr());
        let mut out = [0u8; 28];
        repr.emit(&mut out).unwrap();
        prop_assert_eq!(out, t.to_bytes());
    }
    Ok(())
}

fn arb_arp() -> impl Strategy<Value = ArpRepr> {
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

#[test]
fn classic_header_agrees() {
    let mut bytes = vec![
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0,
        0xa8, 0x00, 0xc7,
    ];
    bytes.resize(0x73, 0);
    let (h, _) = Ipv4Header::from_slice(&bytes).unwrap();
    assert_eq!(h.calc_header_checksum(), 0xb861);
    compare_ipv4(&bytes).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn emitted_ipv4_agrees(repr in arb_repr(), fill in any::<u8>(), pad in 0usize..8) {
        let mut bytes = packet(&repr, fill);
        let theirs = their_header(&repr).to_bytes();
        prop_assert_eq!(&bytes[..repr.header_len()], &theirs[..]);
        bytes.extend(std::iter::repeat_n(0, pad));
        compare_ipv4(&bytes)?;
        let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(Ipv4Repr::parse(&p).unwrap(), repr);
    }

    #[test]
    fn mutated_ipv4_agrees(repr in arb_repr(), at in any::<prop::sample::Index>(), byte in any::<u8>(),
                           cut in any::<prop::sample::Index>(), fix_checksum in any::<bool>()) {
        let mut bytes = packet(&repr, 0x5a);
        let at = at.index(bytes.len());
        bytes[at] = byte;
        if fix_checksum {
            if let Ok(mut p) = Ipv4Packet::new_checked(&mut bytes[..]) {
                p.fill_checksum();
            }
        }
        compare_ipv4(&bytes)?;
        let cut = cut.index(bytes.len() + 1);
        compare_ipv4(&bytes[..cut])?;
    }

    #[test]
    fn random_ipv4_agrees(mut bytes in proptest::collection::vec(any::<u8>(), 0..80), steer in any::<bool>()) {
        if steer && !bytes.is_empty() {
            bytes[0] = 0x40 | (bytes[0] & 0x0f);
        }
        compare_ipv4(&bytes)?;
    }

    #[test]
    fn emitted_arp_agrees(repr in arb_arp(), pad in 0usize..18) {
        let mut bytes = vec![0u8; 28 + pad];
        repr.emit(&mut bytes).unwrap();
        compare_arp(&bytes)?;
    }

    #[test]
    fn mutated_arp_agrees(repr in arb_arp(), at in 0usize..8, byte in any::<u8>(), cut in 0usize..29) {
        let mut bytes = [0u8; 28];
        repr.emit(&mut bytes).unwrap();
        bytes[at] = byte;
        compare_arp(&bytes)?;
        compare_arp(&bytes[..cut])?;
    }

    #[test]
    fn random_arp_agrees(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        compare_arp(&bytes)?;
    }
}
