//! Walking an IPv6 extension header chain (RFC 8200 §4).
//!
//! [`Ipv6ExtChain`] starts at the fixed header's Next Header and payload and
//! yields each extension header with its kind, offset in the packet, index in
//! the chain and the offset of the Next Header field that named it, ending
//! with the upper-layer protocol. It enforces structure only (each header
//! fits in the payload); policy — Hop-by-Hop first (RFC 8200 §4.1), header
//! order, repeated headers, nesting limits, the whole chain in the first
//! fragment (RFC 7112) — is the core's, using what the walk reports.
//!
//! Headers walked: Hop-by-Hop (0), Routing (43), Fragment (44), Destination
//! Options (60), AH (51, RFC 4302). ESP (50, RFC 4303) and No Next Header
//! (59, RFC 8200 §4.7) end the chain like an upper layer. So do Mobility
//! (135), HIP (139) and Shim6 (140): they are reported as the upper layer.
//! A Fragment header with a non-zero offset ends the chain too: what follows
//! is fragment data, not headers (RFC 8200 §4.5).
//!
//! The walk terminates: every header consumes at least 8 octets of a finite
//! payload, and the iterator stops after the upper layer or the first error.

use crate::error::{Error, Result};
use crate::ip::protocol;
use crate::ipv6::{Ipv6Packet, HEADER_LEN, NEXT_HEADER_OFFSET};
use crate::ipv6_ext::{IpAuthHeader, Ipv6OptionsHeader};
use crate::ipv6_fragment::{Ipv6FragmentHeader, FRAGMENT_HEADER_LEN};
use crate::ipv6_option::Ipv6OptionIter;
use crate::ipv6_routing::Ipv6RoutingHeader;

/// The kind of an extension header the walker understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtHeaderKind {
    /// Hop-by-Hop Options (RFC 8200 §4.3), protocol 0.
    HopByHop,
    /// Routing (RFC 8200 §4.4), protocol 43.
    Routing,
    /// Fragment (RFC 8200 §4.5), protocol 44.
    Fragment,
    /// Destination Options (RFC 8200 §4.6), protocol 60.
    DestinationOptions,
    /// Authentication Header (RFC 4302), protocol 51.
    Authentication,
}

impl ExtHeaderKind {
    /// The kind a Next Header value names, if the walker walks it.
    pub fn from_protocol(nh: u8) -> Option<Self> {
        match nh {
            protocol::HOPOPT => Some(ExtHeaderKind::HopByHop),
            protocol::IPV6_ROUTE => Some(ExtHeaderKind::Routing),
            protocol::IPV6_FRAG => Some(ExtHeaderKind::Fragment),
            protocol::IPV6_OPTS => Some(ExtHeaderKind::DestinationOptions),
            protocol::AH => Some(ExtHeaderKind::Authentication),
            _ => None,
        }
    }

    /// The Next Header value of this kind.
    pub fn protocol(&self) -> u8 {
        match self {
            ExtHeaderKind::HopByHop => protocol::HOPOPT,
            ExtHeaderKind::Routing => protocol::IPV6_ROUTE,
            ExtHeaderKind::Fragment => protocol::IPV6_FRAG,
            ExtHeaderKind::DestinationOptions => protocol::IPV6_OPTS,
            ExtHeaderKind::Authentication => protocol::AH,
        }
    }
}

/// One extension header found by the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtHeader<'a> {
    /// What it is.
    pub kind: ExtHeaderKind,
    /// Its position in the chain, 0 for the header right after the fixed header.
    pub index: usize,
    /// Its offset in the packet (40 for the first).
    pub offset: usize,
    /// Offset in the packet of the Next Header field that named it (6 for the
    /// first): the Parameter Problem pointer for an unrecognised header.
    pub named_at: usize,
    /// Its own Next Header field.
    pub next_header: u8,
    /// The whole header, `bytes.len()` octets.
    pub bytes: &'a [u8],
}

impl<'a> ExtHeader<'a> {
    /// The header's length in octets.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false: an extension header is at least 8 octets.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// For Hop-by-Hop and Destination Options, its options with offsets in the
    /// packet (ready for a Parameter Problem pointer, RFC 8200 §4.2).
    pub fn options(&self) -> Option<Ipv6OptionIter<'a>> {
        match self.kind {
            ExtHeaderKind::HopByHop | ExtHeaderKind::DestinationOptions => {
                Some(Ipv6OptionIter::new(self.bytes.get(2..)?, self.offset + 2))
            }
            _ => None,
        }
    }

    /// For a Fragment header, the checked view of it.
    pub fn fragment(&self) -> Option<Ipv6FragmentHeader<&'a [u8]>> {
        match self.kind {
            ExtHeaderKind::Fragment => Ipv6FragmentHeader::new_checked(self.bytes).ok(),
            _ => None,
        }
    }

    /// For a Routing header, the checked view of it.
    pub fn routing(&self) -> Option<Ipv6RoutingHeader<&'a [u8]>> {
        match self.kind {
            ExtHeaderKind::Routing => Ipv6RoutingHeader::new_checked(self.bytes).ok(),
            _ => None,
        }
    }
}

/// Where the chain ends: the upper-layer protocol (or ESP, No Next Header,
/// or fragment data) and its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpperLayer<'a> {
    /// The protocol number of what follows the last extension header.
    pub protocol: u8,
    /// Its position in the chain (= number of extension headers before it).
    pub index: usize,
    /// Its offset in the packet.
    pub offset: usize,
    /// Offset of the Next Header field that named it.
    pub named_at: usize,
    /// True when a Fragment header with a non-zero offset ended the walk:
    /// `payload` is fragment data and `protocol` names the first header of
    /// the fragmentable part (RFC 8200 §4.5).
    pub fragment_data: bool,
    /// The octets from `offset` to the end of the payload. For No Next Header
    /// these are to be ignored (RFC 8200 §4.7).
    pub payload: &'a [u8],
}

/// One step of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainEntry<'a> {
    /// An extension header.
    Ext(ExtHeader<'a>),
    /// The end of the chain.
    Upper(UpperLayer<'a>),
}

/// An iterator over an IPv6 header chain. Yields `Ok(ChainEntry::Ext)` for
/// each extension header, then `Ok(ChainEntry::Upper)`, or an `Err` when a
/// header does not fit in the payload (`Truncated`) or an AH has a zero
/// Payload Len (`BadLength("payload len")`); then nothing.
#[derive(Debug, Clone)]
pub struct Ipv6ExtChain<'a> {
    payload: &'a [u8],
    base: usize,
    pos: usize,
    next: u8,
    named_at: usize,
    index: usize,
    fragment_stop: bool,
    done: bool,
}

impl<'a> Ipv6ExtChain<'a> {
    /// Walks `payload` (the octets after a 40-octet fixed header whose Next
    /// Header is `next_header`); offsets are counted from the start of the
    /// packet.
    pub fn new(next_header: u8, payload: &'a [u8]) -> Self {
        Self::with_offsets(next_header, payload, HEADER_LEN, NEXT_HEADER_OFFSET)
    }

    /// Walks a checked packet's payload.
    pub fn from_packet<T: AsRef<[u8]> + ?Sized>(packet: &Ipv6Packet<&'a T>) -> Self {
        let whole: &'a T = packet.clone().into_inner();
        let bytes: &'a [u8] = whole.as_ref();
        let end = packet.total_len();
        Self::new(packet.next_header(), &bytes[HEADER_LEN..end])
    }

    /// Walks `payload` starting at packet offset `base`, the first header
    /// having been named by the field at packet offset `named_at`.
    pub fn with_offsets(next_header: u8, payload: &'a [u8], base: usize, named_at: usize) -> Self {
        Ipv6ExtChain {
            payload,
            base,
            pos: 0,
            next: next_header,
            named_at,
            index: 0,
            fragment_stop: false,
            done: false,
        }
    }

    /// Runs the walk to its end and returns the upper layer.
    pub fn upper_layer(self) -> Result<UpperLayer<'a>> {
        for entry in self {
            if let ChainEntry::Upper(u) = entry? {
                return Ok(u);
            }
        }
        // Unreachable: the walk always ends with Upper or an error.
        Err(Error::Truncated)
    }

    fn upper(&mut self, fragment_data: bool) -> ChainEntry<'a> {
        self.done = true;
        ChainEntry::Upper(UpperLayer {
            protocol: self.next,
            index: self.index,
            offset: self.base + self.pos,
            named_at: self.named_at,
            fragment_data,
            payload: &self.payload[self.pos..],
        })
    }

    fn step(&mut self, kind: ExtHeaderKind) -> Result<ChainEntry<'a>> {
        let rest = &self.payload[self.pos..];
        let (len, next, non_first_fragment) = match kind {
            ExtHeaderKind::HopByHop | ExtHeaderKind::DestinationOptions => {
                let h = Ipv6OptionsHeader::new_checked(rest)?;
                (h.header_len(), h.next_header(), false)
            }
            ExtHeaderKind::Routing => {
                let h = Ipv6RoutingHeader::new_checked(rest)?;
                (h.header_len(), h.next_header(), false)
            }
            ExtHeaderKind::Fragment => {
                let h = Ipv6FragmentHeader::new_checked(rest)?;
                (FRAGMENT_HEADER_LEN, h.next_header(), h.fragment_offset() != 0)
            }
            ExtHeaderKind::Authentication => {
                let h = IpAuthHeader::new_checked(rest)?;
                (h.header_len(), h.next_header(), false)
            }
        };
        let header = ExtHeader {
            kind,
            index: self.index,
            offset: self.base + self.pos,
            named_at: self.named_at,
            next_header: next,
            bytes: &rest[..len],
        };
        self.named_at = header.offset;
        self.pos += len;
        self.next = next;
        self.index += 1;
        if non_first_fragment {
            // The upper layer after this one is reported on the next call.
            self.fragment_stop = true;
        }
        Ok(ChainEntry::Ext(header))
    }
}

impl<'a> Iterator for Ipv6ExtChain<'a> {
    type Item = Result<ChainEntry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.fragment_stop {
            return Some(Ok(self.upper(true)));
        }
        match ExtHeaderKind::from_protocol(self.next) {
            None => Some(Ok(self.upper(false))),
            Some(kind) => {
                let r = self.step(kind);
                if r.is_err() {
                    self.done = true;
                }
                Some(r)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipv6::Ipv6Repr;
    use crate::ipv6_ext::{emit_options_header, IpAuthRepr};
    use crate::ipv6_fragment::Ipv6FragmentRepr;
    use crate::ipv6_option::Ipv6Option;
    use crate::ipv6_routing::{Ipv6AddrList, Ipv6RoutingRepr, RoutingData};
    use proptest::prelude::*;
    use std::net::Ipv6Addr;

    /// Appends one extension header of `kind` whose Next Header is `next`;
    /// `size` varies its length.
    pub(crate) fn push_ext(out: &mut Vec<u8>, kind: ExtHeaderKind, next: u8, size: u8, frag_offset: u16) {
        let start = out.len();
        let mut buf = vec![0u8; 2048];
        let n = match kind {
            ExtHeaderKind::HopByHop | ExtHeaderKind::DestinationOptions => {
                let pad = [0u8; 16];
                let opts = [Ipv6Option::Unknown { option_type: 0x1e, data: &pad[..usize::from(size % 16)] }];
                emit_options_header(next, &opts, &mut buf).unwrap()
            }
            ExtHeaderKind::Routing => {
                let segs = [0x20u8; 48];
                let n = usize::from(size % 3) + 1;
                Ipv6RoutingRepr {
                    next_header: next,
                    segments_left: 0,
                    data: RoutingData::Srh {
                        last_entry: (n - 1) as u8,
                        flags: 0,
                        tag: 0,
                        segments: Ipv6AddrList::new(&segs[..n * 16]).unwrap(),
                        tlvs: &[],
                    },
                }
                .emit(&mut buf)
                .unwrap()
            }
            ExtHeaderKind::Fragment => Ipv6FragmentRepr {
                next_header: next,
                fragment_offset: frag_offset,
                more_fragments: size % 2 == 1,
                identification: u32::from(size),
            }
            .emit(&mut buf)
            .unwrap(),
            ExtHeaderKind::Authentication => {
                let icv = [0xa5u8; 24];
                let words = usize::from(size % 7);
                IpAuthRepr { next_header: next, spi: 1, sequence_number: 2, icv: &icv[..words * 4] }
                    .emit(&mut buf)
                    .unwrap()
            }
        };
        out.extend_from_slice(&buf[..n]);
        assert_eq!(out.len() - start, n);
    }

    /// Builds a packet: fixed header, the given chain, then `upper` with `body`.
    pub(crate) fn build(chain: &[(ExtHeaderKind, u8)], upper: u8, body: &[u8]) -> Vec<u8> {
        let mut payload = Vec::new();
        for (i, (kind, size)) in chain.iter().enumerate() {
            let next = chain.get(i + 1).map_or(upper, |(k, _)| k.protocol());
            push_ext(&mut payload, *kind, next, *size, 0);
        }
        payload.extend_from_slice(body);
        let repr = Ipv6Repr {
            src: Ipv6Addr::LOCALHOST,
            dst: Ipv6Addr::LOCALHOST,
            next_header: chain.first().map_or(upper, |(k, _)| k.protocol()),
            payload_len: payload.len() as u16,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        };
        let mut pkt = vec![0u8; 40];
        repr.emit(&mut pkt).unwrap();
        pkt.extend_from_slice(&payload);
        pkt
    }

    use ExtHeaderKind::*;

    #[test]
    fn walks_a_full_chain() {
        let chain =
            [(HopByHop, 0), (DestinationOptions, 9), (Routing, 1), (Fragment, 0), (Authentication, 3)];
        let pkt = build(&chain, protocol::UDP, &[1, 2, 3, 4, 5, 6, 7, 8]);
        let p = Ipv6Packet::new_checked(&pkt[..]).unwrap();
        let entries: Vec<_> = Ipv6ExtChain::from_packet(&p).map(|e| e.unwrap()).collect();
        assert_eq!(entries.len(), 6);
        let mut expect_offset = 40;
        let mut named_at = 6;
        for (i, e) in entries[..5].iter().enumerate() {
            let ChainEntry::Ext(h) = e else { panic!("expected an extension header") };
            assert_eq!((h.kind, h.index, h.offset, h.named_at), (chain[i].0, i, expect_offset, named_at));
            named_at = h.offset;
            expect_offset += h.len();
        }
        let ChainEntry::Ext(hbh) = entries[0] else { panic!() };
        assert_eq!(hbh.len(), 8);
        let opts: Vec<_> = hbh.options().unwrap().map(|o| o.unwrap().0).collect();
        assert_eq!(opts[0], 42);
        let ChainEntry::Ext(frag) = entries[3] else { panic!() };
        assert!(frag.fragment().unwrap().is_atomic());
        let ChainEntry::Ext(rt) = entries[2] else { panic!() };
        assert_eq!(rt.routing().unwrap().routing_type(), 4);
        let ChainEntry::Upper(u) = entries[5] else { panic!("expected the upper layer") };
        assert_eq!(
            (u.protocol, u.index, u.offset, u.named_at, u.fragment_data),
            (17, 5, expect_offset, named_at, false)
        );
        assert_eq!(u.payload, &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(Ipv6ExtChain::from_packet(&p).upper_layer().unwrap(), u);
    }

    #[test]
    fn no_extension_headers() {
        let pkt = build(&[], protocol::TCP, &[0; 20]);
        let p = Ipv6Packet::new_checked(&pkt[..]).unwrap();
        let u = Ipv6ExtChain::from_packet(&p).upper_layer().unwrap();
        assert_eq!((u.protocol, u.index, u.offset, u.named_at), (6, 0, 40, 6));
    }

    #[test]
    fn esp_and_no_next_header_end_the_chain() {
        for end in [protocol::ESP, protocol::IPV6_NONXT] {
            let pkt = build(&[(DestinationOptions, 0)], end, &[0xff; 16]);
            let p = Ipv6Packet::new_checked(&pkt[..]).unwrap();
            let u = Ipv6ExtChain::from_packet(&p).upper_layer().unwrap();
            assert_eq!((u.protocol, u.offset, u.payload.len()), (end, 48, 16));
        }
    }

    #[test]
    fn non_first_fragment_ends_the_chain() {
        let mut payload = Vec::new();
        push_ext(&mut payload, Fragment, protocol::IPV6_OPTS, 1, 1448);
        payload.extend_from_slice(&[0xff; 8]); // fragment data, not a header
        let mut walk = Ipv6ExtChain::new(protocol::IPV6_FRAG, &payload);
        assert!(matches!(walk.next(), Some(Ok(ChainEntry::Ext(ExtHeader { kind: Fragment, .. })))));
        let Some(Ok(ChainEntry::Upper(u))) = walk.next() else { panic!("expected the end") };
        assert!(u.fragment_data);
        assert_eq!((u.protocol, u.offset, u.payload.len()), (protocol::IPV6_OPTS, 48, 8));
        assert_eq!(walk.next(), None);
    }

    #[test]
    fn header_running_off_payload_is_truncated() {
        let pkt = build(&[(HopByHop, 9)], protocol::UDP, &[]);
        // HBH is 16 octets; cut the payload to 12.
        let mut walk = Ipv6ExtChain::new(protocol::HOPOPT, &pkt[40..52]);
        assert_eq!(walk.next(), Some(Err(Error::Truncated)));
        assert_eq!(walk.next(), None);
        assert_eq!(Ipv6ExtChain::new(protocol::IPV6_FRAG, &[0; 7]).upper_layer(), Err(Error::Truncated));
        assert_eq!(
            Ipv6ExtChain::new(protocol::IPV6_ROUTE, &[0, 1, 0, 0, 0, 0, 0, 0]).upper_layer(),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn chain_ah_zero_payload_len_is_bad_length() {
        let ah = [protocol::UDP, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
        assert_eq!(Ipv6ExtChain::new(protocol::AH, &ah).upper_layer(), Err(Error::BadLength("payload len")));
    }

    #[test]
    fn hop_by_hop_later_is_reported_not_refused() {
        let pkt = build(&[(DestinationOptions, 0), (HopByHop, 0)], protocol::UDP, &[]);
        let p = Ipv6Packet::new_checked(&pkt[..]).unwrap();
        let second = Ipv6ExtChain::from_packet(&p).nth(1).unwrap().unwrap();
        assert!(matches!(
            second,
            ChainEntry::Ext(ExtHeader { kind: HopByHop, index: 1, offset: 48, named_at: 40, .. })
        ));
    }

    fn arb_kind() -> impl Strategy<Value = ExtHeaderKind> {
        prop_oneof![
            Just(HopByHop),
            Just(Routing),
            Just(Fragment),
            Just(DestinationOptions),
            Just(Authentication)
        ]
    }

    proptest! {
        #[test]
        fn walk_matches_built_chain(
            chain in proptest::collection::vec((arb_kind(), any::<u8>()), 0..8),
            upper in prop_oneof![Just(6u8), Just(17), Just(58), Just(50), Just(59)],
            body in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            let pkt = build(&chain, upper, &body);
            let p = Ipv6Packet::new_checked(&pkt[..]).unwrap();
            let entries: Vec<_> = Ipv6ExtChain::from_packet(&p).collect::<Result<_>>().unwrap();
            prop_assert_eq!(entries.len(), chain.len() + 1);
            let mut offset = 40;
            for (e, (kind, _)) in entries.iter().zip(&chain) {
                let ChainEntry::Ext(h) = e else { return Err(TestCaseError::fail("not ext")) };
                prop_assert_eq!(h.kind, *kind);
                prop_assert_eq!(h.offset, offset);
                offset += h.len();
            }
            let Some(ChainEntry::Upper(u)) = entries.last() else { return Err(TestCaseError::fail("no end")) };
            prop_assert_eq!(u.protocol, upper);
            prop_assert_eq!(u.offset, offset);
            prop_assert_eq!(u.payload, &body[..]);
        }

        #[test]
        fn never_panics_and_terminates(nh in any::<u8>(), bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut steps = 0;
            for entry in Ipv6ExtChain::new(nh, &bytes) {
                steps += 1;
                prop_assert!(steps <= bytes.len() / 8 + 2);
                if let Ok(ChainEntry::Ext(h)) = entry {
                    prop_assert!(h.len() >= 8);
                    if let Some(opts) = h.options() {
                        let _ = opts.count();
                    }
                    let _ = (h.fragment(), h.routing());
                }
            }
        }
    }
}
