//! Fuzz the transport parsers: UDP, TCP and TCP options.
//! Every input either fails with a typed error or round-trips through its Repr.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use via6_wire::tcp::{TcpPacket, TcpRepr};
use via6_wire::tcp_option::{TcpOption, TcpOptions, TcpOptionsIter};
use via6_wire::udp::{UdpPacket, UdpRepr};

const V4: (IpAddr, IpAddr) = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
const V6: (IpAddr, IpAddr) = (IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::UNSPECIFIED));

fn udp(data: &[u8]) {
    let Ok(p) = UdpPacket::new_checked(data) else { return };
    let repr = UdpRepr::parse(&p).expect("a checked datagram parses");
    for (src, dst) in [V4, V6] {
        let _ = p.verify_checksum(src, dst);
        let mut out = vec![0u8; repr.buffer_len(p.payload().len())];
        let n = repr.emit_with_payload(src, dst, p.payload(), &mut out).expect("sized by buffer_len");
        assert_eq!(n, usize::from(p.length()));
        assert_eq!(&out[..6], &data[..6]);
        let q = UdpPacket::new_checked(&out[..]).expect("emitted datagram is valid");
        assert_eq!(UdpRepr::parse(&q).expect("parses"), repr);
        assert_eq!(q.payload(), p.payload());
        assert_eq!(q.verify_checksum(src, dst), Ok(()));
    }
}

fn tcp(data: &[u8]) {
    let Ok(p) = TcpPacket::new_checked(data) else { return };
    let _ = p.options_iter().count();
    let _ = (p.verify_checksum(V4.0, V4.1), p.verify_checksum(V6.0, V6.1));
    let Ok(repr) = TcpRepr::parse(&p) else { return };
    let mut out = vec![0u8; repr.buffer_len()];
    assert_eq!(repr.emit(&mut out).expect("sized by buffer_len"), data.len());
    let mut expected = data.to_vec();
    expected[16..18].fill(0);
    if repr.ack.is_none() {
        expected[8..12].fill(0);
    }
    assert_eq!(out, expected);
    let q = TcpPacket::new_checked(&out[..]).expect("emitted segment is valid");
    assert_eq!(TcpRepr::parse(&q).expect("parses"), repr);
    for (src, dst) in [V4, V6] {
        if src.is_ipv4() && out.len() > usize::from(u16::MAX) {
            continue;
        }
        repr.emit_with_checksum(src, dst, &mut out).expect("sized by buffer_len");
        assert_eq!(TcpPacket::new_checked(&out[..]).expect("valid").verify_checksum(src, dst), Ok(()));
    }
}

fn options(data: &[u8]) {
    let items: Vec<TcpOption<'_>> = TcpOptionsIter::new(data).map_while(Result::ok).collect();
    for o in &items {
        let mut out = [0u8; 64];
        if let Ok(n) = o.emit(&mut out) {
            assert_eq!(TcpOption::parse(&out[..n]).expect("emitted option parses"), (*o, n));
        }
    }
    if let Ok(opts) = TcpOptions::parse(data) {
        let mut out = [0u8; 40];
        let n = opts.emit(&mut out).expect("at most 40 bytes");
        assert_eq!(&out[..n], data);
        let rebuilt = TcpOptions::from_options(&items).expect("a valid region rebuilds");
        let upto: usize = items.iter().map(|o| o.checked_len().expect("parsed options emit")).sum();
        assert_eq!(&rebuilt.as_bytes()[..upto], &data[..upto]);
        let _ = (opts.mss(), opts.window_scale(), opts.sack_permitted(), opts.sack(), opts.timestamps());
    }
}

fuzz_target!(|data: &[u8]| {
    udp(data);
    tcp(data);
    options(data);
});
