//! SYN cookies (RFC 4987 §3.6) on the seed topology: a flood of spoofed SYNs
//! fills h2's listener queue; a real connection from h1 (IPv4 via IPv6 next
//! hops) still completes through a cookie and carries data byte-exact. With
//! `net.inet.tcp.syncookies=0` the same client gets nowhere while the queue
//! is full; with `syncookies_only=1` every connection is a cookie one.

use core::time::Duration;
use std::net::{Ipv4Addr, SocketAddr};
use via6_core::socket::{Family, Proto, SocketHandle};
use via6_core::tcp::State;
use via6_core::Errno;
use via6_lab::link::Side;
use via6_lab::{derive_mac, Lab};

const H2_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const BACKLOG: usize = 4;
const FLOOD: u8 = 40;

fn lab() -> Lab {
    let mut lab = Lab::from_toml(via6_lab::scenario::builtin("seed").unwrap(), 21).unwrap();
    lab.run_for(Duration::from_secs(3));
    lab
}

/// An Ethernet frame r1 could have forwarded to h2: a SYN from a spoofed
/// IPv4 source to h2:80, MSS 1460.
fn syn(src: Ipv4Addr, sport: u16, seq: u32) -> Vec<u8> {
    let mut tcp = Vec::new();
    tcp.extend_from_slice(&sport.to_be_bytes());
    tcp.extend_from_slice(&80u16.to_be_bytes());
    tcp.extend_from_slice(&seq.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0, 6 << 4, 0x02, 0xff, 0xff, 0, 0, 0, 0, 2, 4, 0x05, 0xb4]);
    let mut c = via6_wire::checksum::pseudo_header_v4(src, H2_V4, 6, tcp.len() as u16);
    c.add_bytes(&tcp);
    tcp[16..18].copy_from_slice(&c.finish().to_be_bytes());
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 63, 6, 0, 0];
    ip[2..4].copy_from_slice(&((20 + tcp.len()) as u16).to_be_bytes());
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&H2_V4.octets());
    let sum = via6_wire::checksum::checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    let mut f = derive_mac("h2", "eth0").0.to_vec();
    f.extend_from_slice(&derive_mac("r1", "eth1").0);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&tcp);
    f
}

fn link_r1_h2(lab: &Lab) -> usize {
    lab.links().iter().position(|l| l.name.contains("r1:eth1")).expect("r1-h2 link")
}

fn listen(lab: &mut Lab) -> SocketHandle {
    let s = lab.node_mut("h2").unwrap();
    let l = s.socket(Family::Inet, Proto::Tcp);
    s.bind(l, "0.0.0.0:80".parse().unwrap()).unwrap();
    s.tcp_listen(l, BACKLOG).unwrap();
    l
}

fn flood(lab: &mut Lab) {
    let link = link_r1_h2(lab);
    for i in 0..FLOOD {
        let f = syn(Ipv4Addr::new(198, 18, 0, i + 1), 40000 + u16::from(i), 0x1000_0000 * u32::from(i % 16));
        assert!(lab.inject(link, Side::A, &f));
    }
    lab.run_for(Duration::from_millis(20));
}

fn stat(lab: &Lab, name: &str) -> u64 {
    lab.node("h2").unwrap().stats().by_name(name).unwrap()
}

fn connect(lab: &mut Lab) -> SocketHandle {
    let now = lab.now();
    let s = lab.node_mut("h1").unwrap();
    let c = s.socket(Family::Inet, Proto::Tcp);
    s.tcp_connect(c, SocketAddr::new(H2_V4.into(), 80), now).unwrap();
    c
}

/// Sends `data` from h1's `c` and reads it all at h2's `a`.
fn transfer(lab: &mut Lab, c: SocketHandle, a: SocketHandle, data: &[u8]) -> Vec<u8> {
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    for _ in 0..10_000 {
        let now = lab.now();
        if sent < data.len() {
            match lab.node_mut("h1").unwrap().tcp_send(c, &data[sent..], now) {
                Ok(n) => sent += n,
                Err(e) => assert_eq!(e.errno, Errno::EWOULDBLOCK),
            }
        }
        lab.run_for(Duration::from_millis(5));
        let now = lab.now();
        loop {
            match lab.node_mut("h2").unwrap().tcp_recv(a, &mut buf, now) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => {
                    assert_eq!(e.errno, Errno::EWOULDBLOCK);
                    break;
                }
            }
        }
        if got.len() >= data.len() {
            break;
        }
    }
    got
}

#[test]
fn flood_fills_the_queue_and_a_real_client_completes_through_a_cookie() {
    let mut lab = lab();
    let l = listen(&mut lab);
    flood(&mut lab);
    assert_eq!(
        stat(&lab, "tcps_sc_zonefail"),
        u64::from(FLOOD) - BACKLOG as u64,
        "queue full after {BACKLOG}"
    );
    assert_eq!(stat(&lab, "tcps_sc_sendcookie"), u64::from(FLOOD) - BACKLOG as u64);
    assert_eq!(lab.node("h2").unwrap().tcp_connections(), BACKLOG, "only the queued SYNs hold state");
    let c = connect(&mut lab);
    lab.run_for(Duration::from_millis(100));
    assert_eq!(lab.node("h1").unwrap().tcp_state(c), Some(State::Established));
    assert_eq!(stat(&lab, "tcps_sc_sendcookie"), u64::from(FLOOD) - BACKLOG as u64 + 1);
    assert_eq!(stat(&lab, "tcps_sc_recvcookie"), 1);
    assert_eq!(stat(&lab, "tcps_sc_failcookie"), 0);
    let a = lab.node_mut("h2").unwrap().tcp_accept(l).expect("the cookie connection is accepted");
    assert_eq!(lab.node("h2").unwrap().tcp_state(a), Some(State::Established));
    let data: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let got = transfer(&mut lab, c, a, &data);
    assert_eq!(got.len(), data.len());
    assert!(got == data, "bytes differ");
    // The way back works too.
    let now = lab.now();
    lab.node_mut("h2").unwrap().tcp_send(a, b"thanks", now).unwrap();
    lab.run_for(Duration::from_millis(50));
    let now = lab.now();
    let mut buf = [0u8; 16];
    let n = lab.node_mut("h1").unwrap().tcp_recv(c, &mut buf, now).unwrap();
    assert_eq!(&buf[..n], b"thanks");
}

#[test]
fn without_syncookies_the_client_is_dropped_while_the_queue_is_full() {
    let mut lab = lab();
    lab.node_mut("h2").unwrap().set_sysctl("net.inet.tcp.syncookies", 0).unwrap();
    let l = listen(&mut lab);
    flood(&mut lab);
    let c = connect(&mut lab);
    lab.run_for(Duration::from_secs(2));
    assert_eq!(lab.node("h1").unwrap().tcp_state(c), Some(State::SynSent));
    assert!(lab.node_mut("h2").unwrap().tcp_accept(l).is_none());
    assert_eq!(stat(&lab, "tcps_sc_sendcookie"), 0);
    assert!(
        stat(&lab, "tcps_listendrop") > u64::from(FLOOD) - BACKLOG as u64,
        "the client's SYNs dropped too"
    );
    assert_eq!(stat(&lab, "tcps_sc_zonefail"), stat(&lab, "tcps_listendrop"));
}

#[test]
fn syncookies_only_keeps_no_embryonic_state() {
    let mut lab = lab();
    lab.node_mut("h2").unwrap().set_sysctl("net.inet.tcp.syncookies_only", 1).unwrap();
    let l = listen(&mut lab);
    flood(&mut lab);
    assert_eq!(lab.node("h2").unwrap().tcp_connections(), 0);
    assert_eq!(stat(&lab, "tcps_sc_sendcookie"), u64::from(FLOOD));
    let c = connect(&mut lab);
    lab.run_for(Duration::from_millis(100));
    assert_eq!(lab.node("h1").unwrap().tcp_state(c), Some(State::Established));
    let a = lab.node_mut("h2").unwrap().tcp_accept(l).expect("accepted");
    assert_eq!(transfer(&mut lab, c, a, b"cookie only"), b"cookie only");
    assert_eq!(stat(&lab, "tcps_sc_recvcookie"), 1);
}
