//! Fuzz the link-layer parsers: Ethernet (+802.1Q) and ARP.
//! Every input either fails with a typed error or round-trips through its Repr.
#![no_main]
use libfuzzer_sys::fuzz_target;
use via6_wire::ethernet::{EthernetFrame, EthernetRepr};

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = EthernetFrame::new_checked(data) {
        let repr = EthernetRepr::parse(&frame).expect("a checked frame parses");
        let mut out = vec![0u8; repr.header_len()];
        repr.emit(&mut out).expect("buffer sized by header_len");
        assert_eq!(&out[..], &data[..repr.header_len()]);
    }
});
