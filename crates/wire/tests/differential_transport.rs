//! Differential tests of UDP, TCP and TCP options against etherparse 0.21.
//!
//! Packets are built by our emit (valid), by etherparse's writer (valid,
//! independent encoder), and drawn at random or mutated; both libraries parse
//! them and must agree on the verdict and on every field.
//!
//! Documented differences, excluded only where they apply:
//! - UDP length field 0: etherparse's `UdpSlice::from_slice` falls back to the
//!   slice length (RFC 2675 jumbogram style); we refuse it as
//!   `BadLength("length")` (RFC 768: the length is at least 8).
//! - Unknown TCP option kinds: etherparse's iterator stops with `UnknownId`;
//!   we keep them as `TcpOption::Unknown` (RFC 9293 §3.1 MUST-5: ignore, not
//!   refuse). Comparison of an option list stops there.
//! - etherparse's `TcpHeader` keeps only one of the four reserved bits (NS)
//!   and re-encodes the others as zero; we keep all four.
//! - etherparse's `TcpSlice` does not validate options; our `TcpRepr::parse`
//!   does, so the repr verdict is compared with the option iterators.

use etherparse::{TcpHeader, TcpOptionElement, TcpOptionReadError, TcpSlice, UdpHeader, UdpSlice};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use via6_wire::tcp::{TcpFlags, TcpPacket, TcpRepr};
use via6_wire::tcp_option::{SackBlock, SackBlocks, TcpOption, TcpOptions, TcpOptionsIter};
use via6_wire::udp::{UdpPacket, UdpRepr};
use via6_wire::Error;

fn arb_addrs() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        any::<(u32, u32)>().prop_map(|(a, b)| (IpAddr::V4(Ipv4Addr::from(a)), IpAddr::V4(Ipv4Addr::from(b)))),
        any::<(u128, u128)>()
            .prop_map(|(a, b)| (IpAddr::V6(Ipv6Addr::from(a)), IpAddr::V6(Ipv6Addr::from(b)))),
    ]
}

// ---------------------------------------------------------------- UDP

fn compare_udp(bytes: &[u8]) -> Result<(), TestCaseError> {
    let ours = UdpPacket::new_checked(bytes);
    let theirs = UdpSlice::from_slice(bytes);
    if bytes.len() >= 8 && bytes[4] == 0 && bytes[5] == 0 {
        // Documented difference: length 0.
        prop_assert_eq!(ours.unwrap_err(), Error::BadLength("length"));
        return Ok(());
    }
    match (ours, theirs) {
        (Ok(p), Ok(s)) => {
            prop_assert_eq!(p.src_port(), s.source_port());
            prop_assert_eq!(p.dst_port(), s.destination_port());
            prop_assert_eq!(p.length(), s.length());
            prop_assert_eq!(p.checksum(), s.checksum());
            prop_assert_eq!(p.payload(), s.payload());
            let repr = UdpRepr::parse(&p).unwrap();
            prop_assert_eq!((repr.src_port, repr.dst_port), (s.source_port(), s.destination_port()));
        }
        (Err(_), Err(_)) => {}
        (o, t) => prop_assert!(false, "verdicts differ: ours {:?} etherparse {:?}", o.err(), t.err()),
    }
    Ok(())
}

fn udp_checksum_etherparse(bytes: &[u8], src: IpAddr, dst: IpAddr) -> u16 {
    let (h, payload) = UdpHeader::from_slice(bytes).unwrap();
    let h = UdpHeader { checksum: 0, ..h };
    let payload = &payload[..usize::from(h.length) - 8];
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => h.calc_checksum_ipv4_raw(s.octets(), d.octets(), payload).unwrap(),
        (IpAddr::V6(s), IpAddr::V6(d)) => h.calc_checksum_ipv6_raw(s.octets(), d.octets(), payload).unwrap(),
        _ => unreachable!(),
    }
}

#[test]
fn udp_etherparse_built_datagram_parses() {
    let src = Ipv4Addr::new(192, 0, 2, 1);
    let dst = Ipv4Addr::new(198, 51, 100, 7);
    let payload = b"differential";
    let h = UdpHeader::without_ipv4_checksum(5353, 53, payload.len()).unwrap();
    let h =
        UdpHeader { checksum: h.calc_checksum_ipv4_raw(src.octets(), dst.octets(), payload).unwrap(), ..h };
    let mut bytes = h.to_bytes().to_vec();
    bytes.extend_from_slice(payload);
    let p = UdpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!((p.src_port(), p.dst_port(), p.payload()), (5353, 53, &payload[..]));
    assert_eq!(p.verify_checksum(src.into(), dst.into()), Ok(()));
}

proptest! {
    #[test]
    fn udp_emitted_agrees((src, dst) in arb_addrs(), ports in any::<(u16, u16)>(),
                          payload in proptest::collection::vec(any::<u8>(), 0..64),
                          trailer in proptest::collection::vec(any::<u8>(), 0..4)) {
        let repr = UdpRepr { src_port: ports.0, dst_port: ports.1 };
        let mut buf = vec![0u8; repr.buffer_len(payload.len())];
        repr.emit_with_payload(src, dst, &payload, &mut buf).unwrap();
        prop_assert_eq!(UdpPacket::new_checked(&buf[..]).unwrap().checksum(), udp_checksum_etherparse(&buf, src, dst));
        buf.extend_from_slice(&trailer);
        compare_udp(&buf)?;
    }

    #[test]
    fn udp_random_agrees(mut bytes in proptest::collection::vec(any::<u8>(), 0..48), len in 0u16..56, set_len in any::<bool>()) {
        if set_len && bytes.len() >= 8 {
            bytes[4..6].copy_from_slice(&len.to_be_bytes());
        }
        compare_udp(&bytes)?;
    }

    #[test]
    fn udp_mutated_agrees((src, dst) in arb_addrs(), payload in proptest::collection::vec(any::<u8>(), 0..32),
                          at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let repr = UdpRepr { src_port: 1, dst_port: 2 };
        let mut buf = vec![0u8; repr.buffer_len(payload.len())];
        repr.emit_with_payload(src, dst, &payload, &mut buf).unwrap();
        let i = at.index(buf.len());
        buf[i] = byte;
        buf.truncate(cut.index(buf.len() + 1));
        compare_udp(&buf)?;
    }
}

// ---------------------------------------------------------------- TCP options

/// Walks both option iterators in lockstep; returns whether ours found an
/// error (so the caller can check `TcpRepr::parse`'s verdict).
fn compare_options(region: &[u8]) -> Result<bool, TestCaseError> {
    let mut ours = TcpOptionsIter::new(region);
    let mut theirs = etherparse::TcpOptionsIterator::from_slice(region);
    loop {
        match (ours.next(), theirs.next()) {
            (None, None) => return Ok(false),
            // etherparse stops at EOL without yielding it.
            (Some(Ok(TcpOption::EndOfList)), None) => return Ok(false),
            (Some(Ok(TcpOption::Unknown { kind, .. })), Some(Err(TcpOptionReadError::UnknownId(k)))) => {
                // Documented difference; our verdict on the rest is checked by
                // the repr tests.
                prop_assert_eq!(kind, k);
                return Ok(ours.any(|o| o.is_err()));
            }
            (Some(Err(_)), Some(Err(_))) => return Ok(true),
            (Some(Ok(o)), Some(Ok(t))) => prop_assert_eq!(to_etherparse(&o), Some(t)),
            (o, t) => {
                prop_assert!(false, "options differ: ours {:?} etherparse {:?} in {:02x?}", o, t, region)
            }
        }
    }
}

fn to_etherparse(o: &TcpOption<'_>) -> Option<TcpOptionElement> {
    Some(match o {
        TcpOption::Nop => TcpOptionElement::Noop,
        TcpOption::Mss(v) => TcpOptionElement::MaximumSegmentSize(*v),
        TcpOption::WindowScale(v) => TcpOptionElement::WindowScale(*v),
        TcpOption::SackPermitted => TcpOptionElement::SelectiveAcknowledgementPermitted,
        TcpOption::Timestamps { tsval, tsecr } => TcpOptionElement::Timestamp(*tsval, *tsecr),
        TcpOption::Sack(blocks) => {
            let b = blocks.as_slice();
            let mut rest = [None; 3];
            for (slot, block) in rest.iter_mut().zip(&b[1..]) {
                *slot = Some((block.left, block.right));
            }
            TcpOptionElement::SelectiveAcknowledgement((b[0].left, b[0].right), rest)
        }
        TcpOption::EndOfList | TcpOption::Unknown { .. } => return None,
    })
}

fn arb_element() -> impl Strategy<Value = TcpOptionElement> {
    prop_oneof![
        Just(TcpOptionElement::Noop),
        any::<u16>().prop_map(TcpOptionElement::MaximumSegmentSize),
        any::<u8>().prop_map(TcpOptionElement::WindowScale),
        Just(TcpOptionElement::SelectiveAcknowledgementPermitted),
        (any::<(u32, u32)>(), proptest::collection::vec(any::<(u32, u32)>(), 0..=2)).prop_map(
            |(first, more)| {
                let mut rest = [None; 3];
                for (slot, b) in rest.iter_mut().zip(more) {
                    *slot = Some(b);
                }
                TcpOptionElement::SelectiveAcknowledgement(first, rest)
            }
        ),
        any::<(u32, u32)>().prop_map(|(a, b)| TcpOptionElement::Timestamp(a, b)),
    ]
}

/// A region of option-like bytes: random kinds biased to the known ones,
/// with plausible and implausible lengths.
fn arb_region() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(vec![0u8]),
        Just(vec![1u8]),
        (
            prop::sample::select(vec![2u8, 3, 4, 5, 8, 30, 254]),
            0u8..42,
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(k, l, data)| {
                let mut v = vec![k, l];
                v.extend_from_slice(&data[..usize::from(l.saturating_sub(2)).min(data.len())]);
                v
            }),
    ];
    (proptest::collection::vec(piece, 0..8), 0usize..=10).prop_map(|(pieces, words)| {
        let mut v: Vec<u8> = pieces.concat();
        v.resize(words * 4, 0);
        v
    })
}

proptest! {
    #[test]
    fn options_random_agree(region in arb_region()) {
        let ours_failed = compare_options(&region)?;
        prop_assert_eq!(TcpOptions::parse(&region).is_err(), ours_failed);
    }

    #[test]
    fn options_etherparse_encoded_parse(elements in proptest::collection::vec(arb_element(), 0..6)) {
        if let Ok(opts) = etherparse::TcpOptions::try_from_elements(&elements) {
            let ours = TcpOptions::parse(opts.as_slice()).unwrap();
            let items: Vec<_> = ours.iter().filter_map(|o| to_etherparse(&o)).collect();
            prop_assert_eq!(items, elements);
        }
    }
}

// ---------------------------------------------------------------- TCP

fn compare_tcp(bytes: &[u8]) -> Result<(), TestCaseError> {
    match (TcpPacket::new_checked(bytes), TcpSlice::from_slice(bytes)) {
        (Ok(p), Ok(s)) => {
            prop_assert_eq!(p.src_port(), s.source_port());
            prop_assert_eq!(p.dst_port(), s.destination_port());
            prop_assert_eq!(p.seq_number(), s.sequence_number());
            prop_assert_eq!(p.ack_number(), s.acknowledgment_number());
            prop_assert_eq!(p.data_offset(), s.data_offset());
            let flags = [p.fin(), p.syn(), p.rst(), p.psh(), p.ack(), p.urg(), p.ece(), p.cwr()];
            prop_assert_eq!(flags, [s.fin(), s.syn(), s.rst(), s.psh(), s.ack(), s.urg(), s.ece(), s.cwr()]);
            // etherparse's NS is the lowest reserved bit (RFC 3540, historic).
            prop_assert_eq!(p.flags().bits() & 0x100 != 0, s.ns());
            prop_assert_eq!(p.window_len(), s.window_size());
            prop_assert_eq!(p.checksum(), s.checksum());
            prop_assert_eq!(p.urgent_pointer(), s.urgent_pointer());
            prop_assert_eq!(p.options(), s.options());
            prop_assert_eq!(p.payload(), s.payload());
            let ours_failed = compare_options(p.options())?;
            match TcpRepr::parse(&p) {
                Ok(repr) => {
                    prop_assert!(!ours_failed);
                    prop_assert_eq!(repr.ack, s.ack().then(|| s.acknowledgment_number()));
                    prop_assert_eq!(repr.payload, s.payload());
                }
                Err(_) => prop_assert!(ours_failed),
            }
        }
        (Err(_), Err(_)) => {}
        (o, t) => prop_assert!(false, "verdicts differ: ours {:?} etherparse {:?}", o.err(), t.err()),
    }
    Ok(())
}

fn tcp_checksum_etherparse(bytes: &[u8], src: IpAddr, dst: IpAddr) -> u16 {
    let s = TcpSlice::from_slice(bytes).unwrap();
    match (src, dst) {
        (IpAddr::V4(a), IpAddr::V4(b)) => s.calc_checksum_ipv4(a.octets(), b.octets()).unwrap(),
        (IpAddr::V6(a), IpAddr::V6(b)) => s.calc_checksum_ipv6(a.octets(), b.octets()).unwrap(),
        _ => unreachable!(),
    }
}

fn arb_tcp_options() -> impl Strategy<Value = TcpOptions<'static>> {
    prop_oneof![
        Just(TcpOptions::EMPTY),
        (any::<u16>(), any::<u8>(), any::<(u32, u32)>()).prop_map(|(mss, ws, (tsval, tsecr))| {
            TcpOptions::from_options(&[
                TcpOption::Mss(mss),
                TcpOption::SackPermitted,
                TcpOption::Timestamps { tsval, tsecr },
                TcpOption::Nop,
                TcpOption::WindowScale(ws),
            ])
            .unwrap()
        }),
        proptest::collection::vec(any::<(u32, u32)>(), 1..=4).prop_map(|b| {
            let blocks: Vec<_> = b.into_iter().map(|(left, right)| SackBlock { left, right }).collect();
            let sack = TcpOption::Sack(SackBlocks::from_slice(&blocks).unwrap());
            TcpOptions::from_options(&[TcpOption::Nop, TcpOption::Nop, sack]).unwrap()
        }),
    ]
}

const PAYLOAD: [u8; 24] = *b"0123456789abcdefghijklmn";

fn arb_tcp_repr() -> impl Strategy<Value = TcpRepr<'static>> {
    (
        any::<(u16, u16, u32)>(),
        any::<Option<u32>>(),
        any::<u16>(),
        any::<(u16, u16)>(),
        arb_tcp_options(),
        0..=24usize,
    )
        .prop_map(|((src_port, dst_port, seq), ack, flags, (window, urgent), options, n)| TcpRepr {
            src_port,
            dst_port,
            seq,
            ack,
            flags: TcpFlags::from_bits(flags).without(TcpFlags::ACK),
            window,
            urgent,
            options,
            payload: &PAYLOAD[..n],
        })
}

#[test]
fn tcp_linux_syn_agrees() {
    let syn: [u8; 40] = [
        0xb2, 0x6e, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x57,
        0x49, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x9a, 0x1b, 0x2c, 0x3d, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
    ];
    let (h, _) = TcpHeader::from_slice(&syn).unwrap();
    assert_eq!(h.calc_checksum_ipv4_raw([10, 0, 0, 1], [10, 0, 0, 2], &[]).unwrap(), 0x5749);
    let elements: Vec<_> = h.options_iterator().map(Result::unwrap).collect();
    assert_eq!(
        elements,
        [
            TcpOptionElement::MaximumSegmentSize(1460),
            TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOptionElement::Timestamp(0x9a1b_2c3d, 0),
            TcpOptionElement::Noop,
            TcpOptionElement::WindowScale(7),
        ]
    );
    compare_tcp(&syn).unwrap();
}

proptest! {
    #[test]
    fn tcp_emitted_agrees(repr in arb_tcp_repr(), (src, dst) in arb_addrs()) {
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit_with_checksum(src, dst, &mut buf).unwrap();
        let p = TcpPacket::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(p.checksum(), tcp_checksum_etherparse(&buf, src, dst));
        compare_tcp(&buf)?;
        // etherparse's header re-encodes to our bytes, except that its
        // TcpHeader keeps only the lowest reserved bit (NS) and writes the
        // three others as zero (RFC 9293 §3.1 says to send zero; we keep
        // received values so a header re-emits byte-exact).
        let (h, rest) = TcpHeader::from_slice(&buf).unwrap();
        let mut expected = buf[..repr.header_len()].to_vec();
        expected[12] &= 0xf1;
        prop_assert_eq!(&h.to_bytes()[..], &expected[..]);
        prop_assert_eq!(rest, repr.payload);
    }

    #[test]
    fn tcp_etherparse_built_parses(ports in any::<(u16, u16)>(), seq in any::<u32>(), ack in any::<u32>(),
                                   flags in any::<[bool; 9]>(), window in any::<u16>(),
                                   elements in proptest::collection::vec(arb_element(), 0..5),
                                   (src, dst) in arb_addrs()) {
        let mut h = TcpHeader::new(ports.0, ports.1, seq, window);
        h.acknowledgment_number = ack;
        [h.fin, h.syn, h.rst, h.psh, h.ack, h.urg, h.ece, h.cwr, h.ns] = flags;
        if h.set_options(&elements).is_err() {
            return Ok(());
        }
        h.checksum = match (src, dst) {
            (IpAddr::V4(a), IpAddr::V4(b)) => h.calc_checksum_ipv4_raw(a.octets(), b.octets(), &PAYLOAD).unwrap(),
            (IpAddr::V6(a), IpAddr::V6(b)) => h.calc_checksum_ipv6_raw(a.octets(), b.octets(), &PAYLOAD).unwrap(),
            _ => unreachable!(),
        };
        let mut bytes = h.to_bytes().to_vec();
        bytes.extend_from_slice(&PAYLOAD);
        let p = TcpPacket::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(p.verify_checksum(src, dst), Ok(()));
        let repr = TcpRepr::parse(&p).unwrap();
        prop_assert_eq!(repr.ack, h.ack.then_some(ack));
        let items: Vec<_> = repr.options.iter().filter_map(|o| to_etherparse(&o)).collect();
        prop_assert_eq!(items, elements);
        compare_tcp(&bytes)?;
    }

    #[test]
    fn tcp_random_agrees(mut bytes in proptest::collection::vec(any::<u8>(), 0..80), offset in 0u8..16, region in arb_region()) {
        if bytes.len() >= 20 {
            bytes[12] = (offset << 4) | (bytes[12] & 0x0f);
            let end = bytes.len().min(20 + region.len());
            bytes[20..end].copy_from_slice(&region[..end - 20]);
        }
        compare_tcp(&bytes)?;
    }

    #[test]
    fn tcp_mutated_agrees(repr in arb_tcp_repr(), at in any::<prop::sample::Index>(), byte in any::<u8>(),
                          cut in any::<prop::sample::Index>()) {
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buf).unwrap();
        let i = at.index(buf.len());
        buf[i] = byte;
        buf.truncate(cut.index(buf.len() + 1));
        compare_tcp(&buf)?;
    }
}
