//! Raw sockets on the seed topology (h1 — r1 — h2, IPv4 routed via IPv6
//! next hops): ICMP echo over v4-via-v6 with the IPv4 header delivered, the
//! ICMPv6 type filter (RFC 3542 §3.2) against NDP, protocol 253 in both
//! families (and the errors when nobody listens), IPV6_CHECKSUM (RFC 3542
//! §3.1), queue overflow, and no TCP/UDP copies.

use core::time::Duration;
use std::net::{IpAddr, SocketAddr};
use via6_core::socket::raw::Icmp6Filter;
use via6_core::socket::{Datagram, Family, Proto, SocketHandle};
use via6_core::Errno;
use via6_lab::Lab;
use via6_wire::icmpv4::Icmpv4Repr;

const H1_V4: &str = "198.51.100.1";
const H2_V4: &str = "203.0.113.2";
const H1_V6: &str = "2001:db8:1::1";
const H2_V6: &str = "2001:db8:2::1";

fn lab(warm: bool) -> Lab {
    let mut lab = Lab::from_toml(via6_lab::scenario::builtin("seed").unwrap(), 5).unwrap();
    if warm {
        lab.run_for(Duration::from_secs(3));
    }
    lab
}

fn sa(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), 0)
}

fn send(lab: &mut Lab, node: &str, h: SocketHandle, data: &[u8], dst: &str) {
    let now = lab.now();
    lab.node_mut(node).unwrap().raw_send_to(h, data, Some(sa(dst)), None, now).unwrap();
}

fn drain(lab: &mut Lab, node: &str, h: SocketHandle) -> Vec<Datagram> {
    let s = lab.node_mut(node).unwrap();
    let mut v = Vec::new();
    loop {
        match s.raw_recv_from(h) {
            Ok(d) => v.push(d),
            Err(e) => {
                assert_eq!(e.errno, Errno::EWOULDBLOCK);
                return v;
            }
        }
    }
}

fn stat(lab: &Lab, node: &str, name: &str) -> u64 {
    lab.node(node).unwrap().stats().by_name(name).unwrap()
}

/// A raw ICMP socket on h1 pings h2 across r1 (which has no IPv4 address)
/// and reads the echo reply with its IPv4 header, as BSD raw sockets do.
#[test]
fn raw_icmp_echo_over_v4_via_v6_with_ip_header() {
    let mut lab = lab(true);
    let h = lab.node_mut("h1").unwrap().socket(Family::Inet, Proto::Raw(1));
    let req = Icmpv4Repr::EchoRequest { ident: 0x4242, seq_no: 7, data: b"via6 raw ping" };
    let mut msg = vec![0u8; req.buffer_len()];
    req.emit(&mut msg).unwrap();
    send(&mut lab, "h1", h, &msg, H2_V4);
    lab.run_for(Duration::from_millis(100));
    let got = drain(&mut lab, "h1", h);
    let reply = got
        .iter()
        .find(|d| d.data.get(20) == Some(&0))
        .unwrap_or_else(|| panic!("no echo reply among {got:?}"));
    let d = &reply.data;
    assert_eq!(d[0] >> 4, 4, "IPv4 header included");
    assert_eq!(d[9], 1, "protocol ICMP");
    assert_eq!(&d[12..16], &H2_V4.parse::<std::net::Ipv4Addr>().unwrap().octets());
    assert_eq!(&d[16..20], &H1_V4.parse::<std::net::Ipv4Addr>().unwrap().octets());
    assert_eq!(usize::from(u16::from_be_bytes([d[2], d[3]])), d.len());
    assert_eq!(&d[24..28], &[0x42, 0x42, 0, 7], "ident and sequence");
    assert_eq!(&d[28..], b"via6 raw ping");
    assert_eq!(reply.from, sa(H2_V4));
    assert_eq!(reply.to, H1_V4.parse::<IpAddr>().unwrap());
    assert!(via6_wire::checksum::verifies(&d[20..]));
}

/// RFC 3542 §3.2: an ICMPv6 socket passing only echo replies never sees
/// NDP, while a pass-all socket sees the NS/NA exchanged for the same ping.
#[test]
fn icmp6_filter_hides_ndp_pass_all_sees_it() {
    let mut lab = lab(false);
    let s = lab.node_mut("h1").unwrap();
    let all = s.socket(Family::Inet6, Proto::Raw(58));
    let replies = s.socket(Family::Inet6, Proto::Raw(58));
    let mut f = Icmp6Filter::block_all();
    f.set_pass(129);
    s.set_icmp6_filter(replies, f).unwrap();
    lab.run_for(Duration::from_secs(3)); // DAD
                                         // Echo request; the stack computes the checksum (RFC 3542 §3.1).
    for seq in 1..=3u8 {
        send(&mut lab, "h1", all, &[128, 0, 0, 0, 0x12, 0x34, 0, seq, 1, 2, 3], H2_V6);
        lab.run_for(Duration::from_secs(4));
    }
    let seen_all: Vec<u8> = drain(&mut lab, "h1", all).iter().map(|d| d.data[0]).collect();
    let seen_replies: Vec<u8> = drain(&mut lab, "h1", replies).iter().map(|d| d.data[0]).collect();
    assert_eq!(seen_replies, vec![129, 129, 129], "only the echo replies");
    assert_eq!(seen_all.iter().filter(|&&t| t == 129).count(), 3, "{seen_all:?}");
    assert!(seen_all.contains(&136), "pass-all saw no NA: {seen_all:?}");
    assert!(seen_all.contains(&135), "pass-all saw no NS: {seen_all:?}");
}

/// Protocol 253 between raw sockets on h1 and h2, over IPv4 (header
/// included, routed via IPv6 next hops) and IPv6 (payload only).
#[test]
fn protocol_253_between_raw_sockets_both_families() {
    let mut lab = lab(true);
    let (a4, a6) = {
        let s = lab.node_mut("h1").unwrap();
        (s.socket(Family::Inet, Proto::Raw(253)), s.socket(Family::Inet6, Proto::Raw(253)))
    };
    let (b4, b6) = {
        let s = lab.node_mut("h2").unwrap();
        (s.socket(Family::Inet, Proto::Raw(253)), s.socket(Family::Inet6, Proto::Raw(253)))
    };
    send(&mut lab, "h1", a4, b"ping-253-v4", H2_V4);
    send(&mut lab, "h1", a6, b"ping-253-v6", H2_V6);
    lab.run_for(Duration::from_millis(100));
    let g4 = drain(&mut lab, "h2", b4);
    assert_eq!(g4.len(), 1);
    assert_eq!((g4[0].data[0] >> 4, g4[0].data[9]), (4, 253));
    assert_eq!(&g4[0].data[20..], b"ping-253-v4");
    assert_eq!(g4[0].from, sa(H1_V4));
    let g6 = drain(&mut lab, "h2", b6);
    assert_eq!(g6.len(), 1);
    assert_eq!(g6[0].data, b"ping-253-v6");
    assert_eq!(g6[0].from, sa(H1_V6));
    // And back.
    send(&mut lab, "h2", b4, b"pong-v4", H1_V4);
    send(&mut lab, "h2", b6, b"pong-v6", H1_V6);
    lab.run_for(Duration::from_millis(100));
    let r4 = drain(&mut lab, "h1", a4);
    assert_eq!(r4.len(), 1);
    assert_eq!(&r4[0].data[20..], b"pong-v4");
    assert_eq!(
        drain(&mut lab, "h1", a6).iter().map(|d| d.data.clone()).collect::<Vec<_>>(),
        vec![b"pong-v6".to_vec()]
    );
    assert_eq!(stat(&lab, "h2", "ips_noproto"), 0);
    assert_eq!(stat(&lab, "h2", "ip6s_noproto"), 0);
}

/// With no raw socket for protocol 253 on h2, h2 still answers ICMP
/// protocol unreachable (IPv4) and Parameter Problem code 1 pointer 6
/// (IPv6, RFC 8200 §4); h1's raw ICMP sockets see both.
#[test]
fn protocol_253_without_a_socket_gets_the_errors() {
    let mut lab = lab(true);
    let s = lab.node_mut("h1").unwrap();
    let (a4, a6) = (s.socket(Family::Inet, Proto::Raw(253)), s.socket(Family::Inet6, Proto::Raw(253)));
    let (i4, i6) = (s.socket(Family::Inet, Proto::Raw(1)), s.socket(Family::Inet6, Proto::Raw(58)));
    send(&mut lab, "h1", a4, b"anyone?", H2_V4);
    send(&mut lab, "h1", a6, b"anyone?", H2_V6);
    lab.run_for(Duration::from_millis(100));
    let e4 = drain(&mut lab, "h1", i4);
    let un = e4.iter().find(|d| d.data[20] == 3).unwrap_or_else(|| panic!("no unreachable: {e4:?}"));
    assert_eq!(un.data[21], 2, "protocol unreachable");
    assert_eq!(un.from, sa(H2_V4));
    assert_eq!(un.data[28 + 9], 253, "quotes the datagram");
    let e6 = drain(&mut lab, "h1", i6);
    let pp = e6.iter().find(|d| d.data[0] == 4).unwrap_or_else(|| panic!("no parameter problem: {e6:?}"));
    assert_eq!(pp.data[1], 1, "unrecognised next header");
    assert_eq!(&pp.data[4..8], &[0, 0, 0, 6], "pointer at the Next Header field");
    assert_eq!(pp.from, sa(H2_V6));
    assert_eq!(stat(&lab, "h2", "ips_noproto"), 1);
    assert_eq!(stat(&lab, "h2", "ip6s_noproto"), 1);
}

/// RFC 3542 §3.1: IPV6_CHECKSUM at offset 2 is computed on output (h2
/// checks it) and a wrong checksum is dropped on input (counted), while a
/// socket without the option still gets the datagram.
#[test]
fn ipv6_checksum_offset_2() {
    let mut lab = lab(true);
    let a = lab.node_mut("h1").unwrap().socket(Family::Inet6, Proto::Raw(253));
    lab.node_mut("h1").unwrap().set_ipv6_checksum(a, 2).unwrap();
    let plain_tx = lab.node_mut("h1").unwrap().socket(Family::Inet6, Proto::Raw(253));
    let s = lab.node_mut("h2").unwrap();
    let checking = s.socket(Family::Inet6, Proto::Raw(253));
    s.set_ipv6_checksum(checking, 2).unwrap();
    let plain = s.socket(Family::Inet6, Proto::Raw(253));
    send(&mut lab, "h1", a, b"\xab\xcd\0\0checked payload", H2_V6);
    lab.run_for(Duration::from_millis(100));
    let got = drain(&mut lab, "h2", checking);
    assert_eq!(got.len(), 1);
    let d = &got[0].data;
    assert_eq!(&d[4..], b"checked payload");
    let mut c = via6_wire::checksum::pseudo_header_v6(
        H1_V6.parse().unwrap(),
        H2_V6.parse().unwrap(),
        253,
        d.len() as u32,
    );
    c.add_bytes(d);
    assert_eq!(c.sum(), 0xffff, "checksum at offset 2 verifies");
    assert_eq!(drain(&mut lab, "h2", plain).len(), 1);
    // Wrong checksum from a socket without the option.
    send(&mut lab, "h1", plain_tx, b"\xab\xcd\x12\x34checked payload", H2_V6);
    lab.run_for(Duration::from_millis(100));
    assert!(drain(&mut lab, "h2", checking).is_empty(), "bad checksum delivered");
    assert_eq!(drain(&mut lab, "h2", plain).len(), 1);
    assert_eq!(stat(&lab, "h2", "rip6s_badsum"), 1);
}

/// A raw socket's queue is bounded: what does not fit is dropped and
/// counted, what fits is delivered intact.
#[test]
fn queue_overflow_is_counted() {
    let mut lab = lab(true);
    let a = lab.node_mut("h1").unwrap().socket(Family::Inet, Proto::Raw(253));
    let b = lab.node_mut("h2").unwrap().socket(Family::Inet, Proto::Raw(253));
    lab.node_mut("h2").unwrap().set_rcvbuf(b, 2048).unwrap();
    for i in 0..50u8 {
        send(&mut lab, "h1", a, &[i; 180], H2_V4);
        lab.run_for(Duration::from_millis(5));
    }
    assert_eq!(stat(&lab, "h2", "rips_ipackets"), 50, "all arrived");
    lab.run_for(Duration::from_millis(200));
    let got = drain(&mut lab, "h2", b);
    assert_eq!(got.len(), 2048 / 200);
    for (i, d) in got.iter().enumerate() {
        assert_eq!(d.data[20..], [i as u8; 180]);
    }
    let dropped = lab.node("h2").unwrap().raw_drops(b).unwrap();
    assert_eq!(dropped, 50 - got.len() as u64);
    assert_eq!(stat(&lab, "h2", "rips_fullsock"), dropped);
}

/// FreeBSD never hands TCP or UDP to raw sockets.
#[test]
fn no_tcp_or_udp_copies() {
    let mut lab = lab(true);
    let s = lab.node_mut("h2").unwrap();
    let raws: Vec<SocketHandle> =
        [(Family::Inet, 6), (Family::Inet, 17), (Family::Inet6, 6), (Family::Inet6, 17)]
            .into_iter()
            .map(|(f, p)| s.socket(f, Proto::Raw(p)))
            .collect();
    let u = s.socket(Family::Inet, Proto::Udp);
    s.bind(u, "0.0.0.0:5000".parse().unwrap()).unwrap();
    let l = s.socket(Family::Inet, Proto::Tcp);
    s.bind(l, "0.0.0.0:80".parse().unwrap()).unwrap();
    s.tcp_listen(l, 4).unwrap();
    let now = lab.now();
    let h1 = lab.node_mut("h1").unwrap();
    let c = h1.socket(Family::Inet, Proto::Udp);
    h1.udp_send_to(c, b"udp", Some(format!("{H2_V4}:5000").parse().unwrap()), None, now).unwrap();
    h1.udp_send_to(c, b"closed", Some(format!("{H2_V4}:5001").parse().unwrap()), None, now).unwrap();
    let t = h1.socket(Family::Inet, Proto::Tcp);
    h1.tcp_connect(t, format!("{H2_V4}:80").parse().unwrap(), now).unwrap();
    lab.run_for(Duration::from_millis(200));
    assert!(lab.node_mut("h2").unwrap().tcp_accept(l).is_some());
    assert_eq!(lab.node_mut("h2").unwrap().udp_recv_from(u).unwrap().data, b"udp");
    for h in raws {
        assert!(drain(&mut lab, "h2", h).is_empty());
    }
}
