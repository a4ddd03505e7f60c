//! Fuzz the IPv6 parsers: the fixed header, the extension header chain, and
//! each extension header (options, routing, fragment, AH) on its own.
//! Every input either fails with a typed error or round-trips through its Repr.
#![no_main]
use libfuzzer_sys::fuzz_target;
use via6_wire::ipv6::{Ipv6Packet, Ipv6Repr};
use via6_wire::ipv6_chain::{ChainEntry, Ipv6ExtChain};
use via6_wire::ipv6_ext::{IpAuthHeader, IpAuthRepr, Ipv6OptionsHeader, Ipv6OptionsRepr};
use via6_wire::ipv6_fragment::{Ipv6FragmentHeader, Ipv6FragmentRepr};
use via6_wire::ipv6_routing::{Ipv6RoutingHeader, Ipv6RoutingRepr, RoutingData};

fn options(data: &[u8]) {
    if let Ok(h) = Ipv6OptionsHeader::new_checked(data) {
        for item in h.options() {
            if let Ok((_, o)) = item {
                let _ = (o.action(), o.may_change());
            }
        }
        if let Ok(repr) = Ipv6OptionsRepr::parse(&h) {
            let mut out = vec![0u8; repr.header_len()];
            repr.emit(&mut out).expect("a parsed options header emits");
            assert_eq!(&out[..], &data[..h.header_len()]);
        }
    }
}

fn routing(data: &[u8]) {
    if let Ok(h) = Ipv6RoutingHeader::new_checked(data) {
        if let Ok(repr) = Ipv6RoutingRepr::parse(&h) {
            let mut out = vec![0u8; repr.header_len()];
            repr.emit(&mut out).expect("a parsed routing header emits");
            let mut expect = data[..h.header_len()].to_vec();
            if matches!(repr.data, RoutingData::Type0 { .. } | RoutingData::Type2 { .. }) {
                expect[4..8].fill(0); // Reserved
            }
            assert_eq!(out, expect);
            let again = Ipv6RoutingHeader::new_checked(&out[..]).expect("emitted header is valid");
            assert_eq!(Ipv6RoutingRepr::parse(&again).expect("re-parses"), repr);
        }
    }
}

fn fragment(data: &[u8]) {
    if let Ok(h) = Ipv6FragmentHeader::new_checked(data) {
        let repr = Ipv6FragmentRepr::parse(&h).expect("a checked fragment header parses");
        let mut out = [0u8; 8];
        repr.emit(&mut out).expect("a parsed fragment header emits");
        let again = Ipv6FragmentHeader::new_checked(&out[..]).expect("emitted header is valid");
        assert_eq!(Ipv6FragmentRepr::parse(&again).expect("re-parses"), repr);
        assert_eq!(repr.is_atomic(), h.is_atomic());
    }
}

fn auth(data: &[u8]) {
    if let Ok(h) = IpAuthHeader::new_checked(data) {
        let repr = IpAuthRepr::parse(&h).expect("a checked AH parses");
        let mut out = vec![0u8; repr.header_len()];
        repr.emit(&mut out).expect("a parsed AH emits");
        let again = IpAuthHeader::new_checked(&out[..]).expect("emitted AH is valid");
        assert_eq!(IpAuthRepr::parse(&again).expect("re-parses"), repr);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Ipv6Packet::new_checked(data) {
        let repr = Ipv6Repr::parse(&p).expect("a checked packet parses");
        let mut out = vec![0u8; repr.header_len()];
        repr.emit(&mut out).expect("buffer sized by header_len");
        assert_eq!(&out[..], &data[..40]);
        assert!(p.total_len() <= data.len());
        let mut steps = 0;
        for entry in Ipv6ExtChain::from_packet(&p) {
            steps += 1;
            assert!(steps <= data.len() / 8 + 2, "the walk terminates");
            match entry {
                Ok(ChainEntry::Ext(h)) => {
                    assert!(h.offset + h.len() <= p.total_len());
                    if let Some(opts) = h.options() {
                        let _ = opts.count();
                    }
                }
                Ok(ChainEntry::Upper(u)) => assert_eq!(u.offset + u.payload.len(), p.total_len()),
                Err(_) => {}
            }
        }
    }
    options(data);
    routing(data);
    fragment(data);
    auth(data);
});
