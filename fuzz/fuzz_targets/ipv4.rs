//! Fuzz the IPv4-family parsers: ARP (Ethernet/IPv4), the IPv4 header and the
//! IPv4 options iterator. Every input either fails with a typed error or
//! round-trips through its Repr; nothing panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use via6_wire::arp::{ArpPacket, ArpRepr};
use via6_wire::ipv4::{Ipv4Packet, Ipv4Repr};
use via6_wire::ipv4_option::{Ipv4OptionIter, MAX_OPTIONS_LEN};

fn arp(data: &[u8]) {
    if let Ok(packet) = ArpPacket::new_checked(data) {
        let repr = ArpRepr::parse(&packet).expect("a checked ARP packet parses");
        let mut out = vec![0u8; repr.buffer_len()];
        repr.emit(&mut out).expect("buffer sized by buffer_len");
        assert_eq!(&out[..], &data[..repr.buffer_len()]);
        let again = ArpPacket::new_checked(&out[..]).expect("emitted ARP is valid");
        assert_eq!(ArpRepr::parse(&again), Ok(repr));
    }
}

fn ipv4(data: &[u8]) {
    // Random input almost never carries a valid checksum: fix it on a copy so
    // the repr path (options, emit) is reached, and also try the input as is.
    let mut fixed = data.to_vec();
    if let Ok(mut packet) = Ipv4Packet::new_checked(&mut fixed[..]) {
        packet.fill_checksum();
    }
    for bytes in [data, &fixed[..]] {
        let Ok(packet) = Ipv4Packet::new_checked(bytes) else { continue };
        let _ = (packet.payload(), packet.option_iter().count(), packet.verify_checksum());
        let Ok(repr) = Ipv4Repr::parse(&packet) else { continue };
        let mut out = vec![0u8; repr.buffer_len()];
        let n = repr.emit(&mut out).expect("a parsed repr emits");
        out[n..].copy_from_slice(packet.payload());
        let again = Ipv4Packet::new_checked(&out[..]).expect("emitted IPv4 is valid");
        assert_eq!(Ipv4Repr::parse(&again), Ok(repr));
        assert_eq!(again.payload(), packet.payload());
    }
}

fn options(data: &[u8]) {
    // Every option that parses re-emits to the same bytes.
    let area = &data[..data.len().min(MAX_OPTIONS_LEN)];
    let mut at = 0;
    for option in Ipv4OptionIter::new(area) {
        let Ok(option) = option else { break };
        let mut out = [0u8; MAX_OPTIONS_LEN];
        let n = option.emit(&mut out).expect("a parsed option emits");
        assert_eq!(&out[..n], &area[at..at + n]);
        at += n;
    }
}

fuzz_target!(|data: &[u8]| {
    arp(data);
    ipv4(data);
    options(data);
});
