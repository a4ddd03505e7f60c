//! Fuzz the whole receive path: a router with a loopback and two Ethernet
//! links (IPv4 routes over IPv6 next hops, small limits) fed an arbitrary
//! sequence of frames and time steps. After every step nothing has panicked
//! and the memory held (reassembly, neighbour hold queues, transmit queue)
//! is under the configured limits.
//!
//! The input is a little program of records:
//!   op (1 byte): bits 0-1 interface (0 eth0, 1 eth1, 2 lo0, 3 eth0 again),
//!                bit 2 wrap the bytes in an Ethernet header addressed to us
//!                (EtherType from the IP version nibble), bit 3 fix the IPv4
//!                header checksum, bit 4 only advance time (no frame);
//!   dt (1 byte): time passes by dt² × 10 ms (up to ~11 minutes) before it;
//!   len (2 bytes, big-endian, capped by what is left), then len bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use via6_core::addr::{GatewayAddr, ZonedIpv6};
use via6_core::iface::LinkKind;
use via6_core::route::{NextHop, Route};
use via6_core::{IfIndex, Instant, InterfaceConfig, Stack};
use via6_wire::MacAddr;

const MAXFRAGS: i64 = 64;
const MAXFRAGPACKETS: i64 = 16;
const MAXFRAGSPERPACKET: i64 = 16;
const BUCKETSIZE: i64 = 4;
const ND_QUEUE: i64 = 4;
const TX_LIMIT: usize = 256;

fn ll(s: &str, ifindex: IfIndex) -> NextHop {
    NextHop::Gateway(GatewayAddr::V6(ZonedIpv6 { addr: s.parse().unwrap(), zone: Some(ifindex) }))
}

fn router() -> (Stack, [IfIndex; 3]) {
    let t0 = Instant::ZERO;
    let mut s = Stack::new("r1", 7);
    for (k, v) in [
        ("net.inet.ip.forwarding", 1),
        ("net.inet6.ip6.forwarding", 1),
        ("net.inet6.ip6.rtadv", 0),
        ("net.inet6.ip6.dad_count", 0),
        ("net.inet6.ip6.maxfrags", MAXFRAGS),
        ("net.inet6.ip6.maxfragpackets", MAXFRAGPACKETS),
        ("net.inet6.ip6.maxfragsperpacket", MAXFRAGSPERPACKET),
        ("net.inet6.ip6.maxfragbucketsize", BUCKETSIZE),
        ("net.inet.ip.maxfrags", MAXFRAGS),
        ("net.inet.ip.maxfragpackets", MAXFRAGPACKETS),
        ("net.inet.ip.maxfragsperpacket", MAXFRAGSPERPACKET),
        ("net.inet.ip.maxfragbucketsize", BUCKETSIZE),
        ("net.inet6.icmp6.nd6_maxqueuelen", ND_QUEUE),
        ("net.link.ether.inet.maxhold", ND_QUEUE),
        ("net.inet6.icmp6.errppslimit", -1),
        ("net.inet.icmp.icmplim", -1),
    ] {
        let _ = s.set_sysctl(k, v);
    }
    s.set_tx_limit(TX_LIMIT);
    let lo = s.add_interface(InterfaceConfig { name: "lo0".into(), kind: LinkKind::Loopback, mtu: None }, t0).unwrap();
    let mut eth = |name: &str, mac: u8, mtu: u32| {
        let cfg = InterfaceConfig {
            name: name.into(),
            kind: LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, mac])),
            mtu: Some(mtu),
        };
        s.add_interface(cfg, t0).unwrap()
    };
    let e0 = eth("eth0", 0x21, 1500);
    let e1 = eth("eth1", 0x22, 1280);
    s.add_address(lo, "192.0.2.1".parse().unwrap(), 32, t0).unwrap();
    s.add_address(lo, "2001:db8::1".parse().unwrap(), 128, t0).unwrap();
    s.add_address(e0, "fe80::1".parse().unwrap(), 64, t0).unwrap();
    s.add_address(e1, "fe80::1".parse().unwrap(), 64, t0).unwrap();
    s.add_address(e0, "2001:db8:a::1".parse().unwrap(), 64, t0).unwrap();
    s.add_address(e1, "10.1.0.1".parse().unwrap(), 24, t0).unwrap();
    s.add_route(Route::new("198.51.100.0/24".parse().unwrap(), ll("fe80::2", e0), Some(e0))).unwrap();
    s.add_route(Route::new("203.0.113.0/24".parse().unwrap(), ll("fe80::2", e1), Some(e1))).unwrap();
    s.add_route(Route::new("2001:db8:1::/48".parse().unwrap(), ll("fe80::2", e0), Some(e0))).unwrap();
    s.add_route(Route::new("2001:db8:2::/48".parse().unwrap(), ll("fe80::2", e1), Some(e1))).unwrap();
    s.add_route(Route::new("0.0.0.0/0".parse().unwrap(), ll("fe80::3", e1), Some(e1))).unwrap();
    let _ = s.poll(t0);
    (s, [e0, e1, lo])
}

fn fix_v4_checksum(b: &mut [u8]) {
    if b.len() < 20 || b[0] >> 4 != 4 {
        return;
    }
    let hl = usize::from(b[0] & 0x0f) * 4;
    if hl < 20 || hl > b.len() {
        return;
    }
    b[10] = 0;
    b[11] = 0;
    let c = via6_wire::checksum::checksum(&b[..hl]);
    b[10..12].copy_from_slice(&c.to_be_bytes());
}

fn check(s: &Stack) {
    let (bytes, frags) = s.reassembly_held();
    // Both families share the store; each family may hold its own limit.
    assert!(frags as i64 <= 2 * MAXFRAGS, "fragments held {frags}");
    assert!(bytes <= 2 * MAXFRAGS as usize * 65535, "bytes held {bytes}");
    assert!(s.reassembly_queues() as i64 <= 2 * MAXFRAGPACKETS, "queues {}", s.reassembly_queues());
    let entries = s.neighbours().entries().len();
    assert!(s.neighbours().held() <= entries * ND_QUEUE as usize, "neighbour held {}", s.neighbours().held());
    assert!(s.tx_queued() <= TX_LIMIT, "tx {}", s.tx_queued());
}

fuzz_target!(|data: &[u8]| {
    let (mut s, ifs) = router();
    let mut now = Instant::ZERO;
    let mut rest = data;
    let mut steps = 0;
    while rest.len() >= 4 && steps < 256 {
        steps += 1;
        let (op, dt) = (rest[0], u64::from(rest[1]));
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]])).min(rest.len() - 4);
        let body = &rest[4..4 + len];
        rest = &rest[4 + len..];
        now += core::time::Duration::from_millis(dt * dt * 10);
        if op & 0x10 == 0 {
            let ifindex = ifs[usize::from(op & 3) % 3];
            let mut frame = Vec::with_capacity(len + 14);
            if op & 4 != 0 && ifindex != ifs[2] {
                let mac = [2, 0, 0, 0, 0, if ifindex == ifs[0] { 0x21 } else { 0x22 }];
                frame.extend_from_slice(&mac);
                frame.extend_from_slice(&[2, 0, 0, 0, 0, 0x99]);
                let et: u16 = if body.first().is_some_and(|b| b >> 4 == 6) { 0x86dd } else { 0x0800 };
                frame.extend_from_slice(&et.to_be_bytes());
            }
            let at = frame.len();
            frame.extend_from_slice(body);
            if op & 8 != 0 {
                fix_v4_checksum(&mut frame[at..]);
            }
            s.receive(ifindex, &frame, now);
        }
        let _ = s.poll(now);
        // The driver drains the queue as a real one would, sometimes late.
        if op & 0x20 == 0 {
            while let Some(f) = s.transmit() {
                s.recycle(f);
            }
        }
        check(&s);
    }
});
