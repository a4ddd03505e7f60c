//! RFC 9293 §3.1 / §3.10.7.4: a data segment whose checksum fails is
//! dropped whole, also on the receive path that verifies an in-order
//! payload while copying it into the receive buffer (`RecvBuf::stage`):
//! none of its bytes reach the application, its ACK is not processed, and
//! the retransmitted good copy is delivered byte for byte.

use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use via6_core::iface::LinkKind;
use via6_core::socket::{Family, Proto, SocketHandle};
use via6_core::{IfIndex, Instant, InterfaceConfig, Stack};
use via6_wire::MacAddr;

fn eth(s: &mut Stack, mac: u8) -> IfIndex {
    let cfg = InterfaceConfig {
        name: "eth0".into(),
        kind: LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, mac])),
        mtu: None,
    };
    s.add_interface(cfg, Instant::ZERO).expect("interface")
}

/// Moves frames both ways until quiet; `tamper` may rewrite each frame
/// from the client and returns whether it did.
fn exchange(
    s: &mut Stack,
    c: &mut Stack,
    now: Instant,
    tamper: &mut dyn FnMut(&mut Vec<u8>) -> bool,
) -> usize {
    let mut tampered = 0;
    loop {
        let mut moved = false;
        while let Some(f) = c.transmit() {
            moved = true;
            let mut bytes = f.data().to_vec();
            c.recycle(f);
            if tamper(&mut bytes) {
                tampered += 1;
            }
            s.receive(IfIndex(1), &bytes, now);
        }
        while let Some(f) = s.transmit() {
            moved = true;
            c.receive(IfIndex(1), f.data(), now);
            s.recycle(f);
        }
        if !moved {
            return tampered;
        }
    }
}

fn run(v6: bool) {
    let (saddr, caddr, plen): (IpAddr, IpAddr, u8) = if v6 {
        (
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)),
            64,
        )
    } else {
        (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 24)
    };
    let fam = if v6 { Family::Inet6 } else { Family::Inet };
    let mut now = Instant::ZERO;
    let mut s = Stack::new("server", 1);
    let e = eth(&mut s, 1);
    s.add_address(e, saddr, plen, now).expect("addr");
    let mut c = Stack::new("client", 2);
    let e = eth(&mut c, 2);
    c.add_address(e, caddr, plen, now).expect("addr");
    let step =
        |s: &mut Stack, c: &mut Stack, now: &mut Instant, tamper: &mut dyn FnMut(&mut Vec<u8>) -> bool| {
            s.poll(*now);
            c.poll(*now);
            let n = exchange(s, c, *now, tamper);
            *now += Duration::from_millis(10);
            n
        };
    // Duplicate address detection (IPv6) first, then the handshake.
    for _ in 0..300 {
        step(&mut s, &mut c, &mut now, &mut |_| false);
    }
    let l = s.socket(fam, Proto::Tcp);
    s.bind(l, SocketAddr::new(saddr, 80)).expect("bind");
    s.tcp_listen(l, 4).expect("listen");
    let h = c.socket(fam, Proto::Tcp);
    c.tcp_connect(h, SocketAddr::new(saddr, 80), now).expect("connect");
    for _ in 0..100 {
        step(&mut s, &mut c, &mut now, &mut |_| false);
    }
    let a: SocketHandle = s.tcp_accept(l).expect("accepted");

    // One in-order data segment, its payload corrupted in flight (the
    // last byte of the frame: payload, not header).
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
    c.tcp_send(h, &data, now).expect("send");
    let mut corrupt = |f: &mut Vec<u8>| {
        if f.len() > 900 {
            if let Some(last) = f.last_mut() {
                *last ^= 0x5a;
                return true;
            }
        }
        false
    };
    assert_eq!(step(&mut s, &mut c, &mut now, &mut corrupt), 1, "the data segment was corrupted once");
    let mut buf = vec![0u8; 4096];
    let got = s.tcp_recv(a, &mut buf, now).unwrap_or(0);
    assert_eq!(got, 0, "no byte of a segment with a bad checksum is delivered");

    // The sender's retransmission timer resends the good segment.
    let mut received = Vec::new();
    for _ in 0..400 {
        step(&mut s, &mut c, &mut now, &mut |_| false);
        while let Ok(n) = s.tcp_recv(a, &mut buf, now) {
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
        if received.len() >= data.len() {
            break;
        }
    }
    assert_eq!(received, data, "the retransmitted segment is delivered exactly");
}

#[test]
fn rfc9293_3_1_bad_checksum_in_order_data_dropped_v4() {
    run(false);
}

#[test]
fn rfc9293_3_1_bad_checksum_in_order_data_dropped_v6() {
    run(true);
}
