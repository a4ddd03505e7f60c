//! Shared helpers of the `harden_*` tests: a node with a loopback and two
//! Ethernet links, packet builders, and a reader of what the node sent.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use via6_core::iface::LinkKind;
use via6_core::route::{NextHop, Route};
use via6_core::{IfIndex, Instant, InterfaceConfig, Stack};
use via6_wire::MacAddr;

pub const MAC0: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
pub const MAC1: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
pub const PEER: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);
pub const T0: Instant = Instant::ZERO;

pub fn a6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}
pub fn a4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub struct Node {
    pub s: Stack,
    pub e0: IfIndex,
    pub e1: IfIndex,
    pub lo: IfIndex,
}

/// lo0: 192.0.2.1, 2001:db8::1; eth0: fe80::1, 2001:db8:a::1/64,
/// 10.0.0.1/24 (peer ::99 / .99 known); eth1: fe80::2, 2001:db8:b::1/64,
/// 10.1.0.1/24 (peer known). DAD off.
pub fn node() -> Node {
    let mut s = Stack::new("n", 42);
    s.set_sysctl("net.inet6.ip6.dad_count", 0).unwrap();
    s.set_sysctl("net.inet6.ip6.rtadv", 0).unwrap();
    s.set_sysctl("net.inet6.icmp6.errppslimit", -1).unwrap();
    s.set_sysctl("net.inet.icmp.icmplim", -1).unwrap();
    let lo = s
        .add_interface(InterfaceConfig { name: "lo0".into(), kind: LinkKind::Loopback, mtu: None }, T0)
        .unwrap();
    let e0 = s
        .add_interface(InterfaceConfig { name: "eth0".into(), kind: LinkKind::Ethernet(MAC0), mtu: None }, T0)
        .unwrap();
    let e1 = s
        .add_interface(InterfaceConfig { name: "eth1".into(), kind: LinkKind::Ethernet(MAC1), mtu: None }, T0)
        .unwrap();
    s.add_address(lo, "192.0.2.1".parse().unwrap(), 32, T0).unwrap();
    s.add_address(lo, "2001:db8::1".parse().unwrap(), 128, T0).unwrap();
    s.add_address(e0, "fe80::1".parse().unwrap(), 64, T0).unwrap();
    s.add_address(e0, "2001:db8:a::1".parse().unwrap(), 64, T0).unwrap();
    s.add_address(e0, "10.0.0.1".parse().unwrap(), 24, T0).unwrap();
    s.add_address(e1, "fe80::2".parse().unwrap(), 64, T0).unwrap();
    s.add_address(e1, "2001:db8:b::1".parse().unwrap(), 64, T0).unwrap();
    s.add_address(e1, "10.1.0.1".parse().unwrap(), 24, T0).unwrap();
    for (i, a) in [
        (e0, "fe80::99"),
        (e0, "2001:db8:a::99"),
        (e0, "10.0.0.99"),
        (e1, "fe80::99"),
        (e1, "2001:db8:b::99"),
        (e1, "10.1.0.99"),
    ] {
        s.add_static_neighbour(i, a.parse().unwrap(), PEER);
    }
    let _ = s.poll(T0);
    drain(&mut s);
    Node { s, e0, e1, lo }
}

pub fn route(s: &mut Stack, dest: &str, ifindex: IfIndex) {
    s.add_route(Route::new(dest.parse().unwrap(), NextHop::OnLink, Some(ifindex))).unwrap();
}

pub fn ones(data: &[u8], mut sum: u32) -> u32 {
    for c in data.chunks(2) {
        sum += u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0));
    }
    sum
}
pub fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ICMPv6 message with its checksum for (src, dst).
pub fn icmp6(src: Ipv6Addr, dst: Ipv6Addr, ty: u8, code: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, code, 0, 0];
    m.extend_from_slice(body);
    let mut sum = ones(&src.octets(), 0);
    sum = ones(&dst.octets(), sum);
    sum += m.len() as u32 + 58;
    sum = ones(&m, sum);
    let c = fold(sum);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// An echo request of `n` payload bytes.
pub fn echo6(src: Ipv6Addr, dst: Ipv6Addr, n: usize) -> Vec<u8> {
    let mut body = vec![0x12, 0x34, 0, 1];
    body.extend((0..n).map(|i| i as u8));
    icmp6(src, dst, 128, 0, &body)
}

pub fn echo4(n: usize) -> Vec<u8> {
    let mut m = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1];
    m.extend((0..n).map(|i| i as u8));
    let c = fold(ones(&m, 0));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// An IPv6 packet: the fixed header (next header `nh`) and `payload`.
pub fn v6(src: Ipv6Addr, dst: Ipv6Addr, nh: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[nh, 64]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

/// A Fragment header (offset in bytes) followed by `data`.
pub fn frag(nh: u8, off: usize, more: bool, id: u32, data: &[u8]) -> Vec<u8> {
    let mut f = vec![nh, 0];
    f.extend_from_slice(&(off as u16 | u16::from(more)).to_be_bytes());
    f.extend_from_slice(&id.to_be_bytes());
    f.extend_from_slice(data);
    f
}

/// A Hop-by-Hop or Destination Options header holding `opts` (padded).
pub fn opts_header(nh: u8, opts: &[u8]) -> Vec<u8> {
    let mut h = vec![nh, 0];
    h.extend_from_slice(opts);
    while h.len() % 8 != 0 {
        let pad = 8 - h.len() % 8;
        if pad == 1 {
            h.push(0);
        } else {
            h.push(1);
            h.push((pad - 2) as u8);
            h.extend(std::iter::repeat_n(0, pad - 2));
        }
    }
    h[1] = (h.len() / 8 - 1) as u8;
    h
}

/// An IPv4 packet (offset in bytes), with `opts` (a multiple of 4 long).
#[allow(clippy::too_many_arguments)]
pub fn v4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    id: u16,
    off: usize,
    more: bool,
    opts: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let hl = 20 + opts.len();
    let mut p = vec![0x40 | (hl / 4) as u8, 0];
    p.extend_from_slice(&((hl + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&((off / 8) as u16 | if more { 0x2000 } else { 0 }).to_be_bytes());
    p.extend_from_slice(&[64, proto, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(opts);
    let c = fold(ones(&p, 0));
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An Ethernet frame to `dst` carrying an IP packet.
pub fn eth(dst: MacAddr, ip: &[u8]) -> Vec<u8> {
    let mut f = dst.0.to_vec();
    f.extend_from_slice(&PEER.0);
    f.extend_from_slice(if ip[0] >> 4 == 6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
    f.extend_from_slice(ip);
    f
}

/// Receives an IP packet on eth0 (or `ifindex`) addressed to its MAC.
pub fn rx(n: &mut Node, ifindex: IfIndex, ip: &[u8], now: Instant) {
    let mac = if ifindex == n.e1 { MAC1 } else { MAC0 };
    n.s.receive(ifindex, &eth(mac, ip), now);
}

/// Receives an IP packet on eth0.
pub fn rx0(n: &mut Node, ip: &[u8], now: Instant) {
    let i = n.e0;
    rx(n, i, ip, now);
}

/// Receives an IP packet on eth1.
pub fn rx1(n: &mut Node, ip: &[u8], now: Instant) {
    let i = n.e1;
    rx(n, i, ip, now);
}

/// The IP packets the node sent: (ifindex, packet bytes).
pub fn drain(s: &mut Stack) -> Vec<(IfIndex, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(f) = s.transmit() {
        let d = f.data().to_vec();
        out.push((f.ifindex, d[14..].to_vec()));
        s.recycle(f);
    }
    out
}

/// (type, code, 4-byte word after the checksum) of every ICMPv6 message
/// sent, skipping NDP/MLD.
pub fn icmp6_sent(out: &[(IfIndex, Vec<u8>)]) -> Vec<(u8, u8, u32)> {
    out.iter()
        .filter(|(_, p)| p[0] >> 4 == 6 && p[6] == 58 && p.len() >= 48)
        .map(|(_, p)| (p[40], p[41], u32::from_be_bytes([p[44], p[45], p[46], p[47]])))
        .filter(|(t, _, _)| !(130..=143).contains(t))
        .collect()
}

/// (type, code) of every ICMPv4 message sent.
pub fn icmp4_sent(out: &[(IfIndex, Vec<u8>)]) -> Vec<(u8, u8)> {
    out.iter()
        .filter(|(_, p)| p[0] >> 4 == 4 && p[9] == 1)
        .map(|(_, p)| {
            let hl = usize::from(p[0] & 15) * 4;
            (p[hl], p[hl + 1])
        })
        .collect()
}

pub fn count(s: &Stack, name: &str) -> u64 {
    s.stats().by_name(name).unwrap_or_else(|| panic!("no counter {name}"))
}

pub fn peer6() -> Ipv6Addr {
    a6("2001:db8:a::99")
}
pub fn us6() -> Ipv6Addr {
    a6("2001:db8::1")
}
pub fn addr(s: &str) -> IpAddr {
    s.parse().unwrap()
}
