//! RFC 6437 and inet6(4) `net.inet6.ip6.auto_flowlabel` (on by default):
//! the IPv6 packets of one TCP connection carry one nonzero flow label per
//! direction, from the SYN on; routers forward it unchanged; with the knob
//! off a node sends its segments unlabelled.

use core::time::Duration;
use std::collections::BTreeSet;
use via6_lab::lab::Lab;
use via6_lab::link::Side;
use via6_lab::verbs::run_transfer;

const TCP: u8 = 6;

fn seed_lab(auto_flowlabel_h1: i64) -> Lab {
    let mut lab = Lab::from_toml(via6_lab::scenario::builtin("seed").unwrap(), 11).unwrap();
    lab.node_mut("h1").unwrap().set_sysctl("net.inet6.ip6.auto_flowlabel", auto_flowlabel_h1).unwrap();
    lab.enable_capture();
    lab.run_for(Duration::from_secs(3));
    let mut r = via6_lab::Runner::new();
    via6_lab::verbs::register(&mut r);
    r.run_text(&mut lab, "h2 sink 5001").unwrap();
    let t = run_transfer(
        &mut lab,
        "h1",
        "[2001:db8:2::1]:5001".parse().unwrap(),
        200_000,
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(t.ok(), "{t:?}");
    lab
}

/// The flow labels of the IPv6 TCP frames delivered on `link` towards `to`.
fn tcp_labels(lab: &Lab, link: &str, to: Side) -> (BTreeSet<u32>, usize) {
    let i = lab.links().iter().position(|l| l.name == link).expect("link");
    let mut labels = BTreeSet::new();
    let mut n = 0;
    for c in lab.captured(i).iter().filter(|c| c.to == to) {
        let d = &c.data;
        // Ethernet, IPv6 (EtherType 0x86dd), next header TCP.
        if d.len() < 54 || d[12..14] != [0x86, 0xdd] || d[20] != TCP {
            continue;
        }
        labels.insert(u32::from_be_bytes([d[14], d[15], d[16], d[17]]) & 0xf_ffff);
        n += 1;
    }
    (labels, n)
}

#[test]
fn rfc6437_one_label_per_direction_forwarded_unchanged() {
    let lab = seed_lab(1);
    let (out_h1, n1) = tcp_labels(&lab, "h1:eth0-r1:eth0", Side::B);
    let (out_r1, n2) = tcp_labels(&lab, "r1:eth1-h2:eth0", Side::B);
    let (back, n3) = tcp_labels(&lab, "h1:eth0-r1:eth0", Side::A);
    assert!(n1 > 100 && n2 > 100 && n3 > 10, "{n1} {n2} {n3}");
    assert_eq!(out_h1.len(), 1, "h1's segments: {out_h1:x?}");
    assert!(!out_h1.contains(&0), "h1's segments unlabelled");
    assert_eq!(out_h1, out_r1, "r1 changed the label while forwarding");
    assert_eq!(back.len(), 1, "h2's segments: {back:x?}");
    assert!(!back.contains(&0), "h2's segments unlabelled");
    assert_ne!(back, out_h1, "both directions drew the same label");
}

#[test]
fn auto_flowlabel_off_sends_unlabelled_segments() {
    let lab = seed_lab(0);
    let (out_h1, n) = tcp_labels(&lab, "h1:eth0-r1:eth0", Side::B);
    assert!(n > 100, "{n}");
    assert_eq!(out_h1, BTreeSet::from([0]), "h1 labelled with auto_flowlabel=0");
    // h2 keeps the default.
    let (back, _) = tcp_labels(&lab, "h1:eth0-r1:eth0", Side::A);
    assert!(!back.contains(&0) && back.len() == 1, "{back:x?}");
}

/// A connected UDP socket's datagrams to its peer are one flow (one label);
/// a datagram from an unconnected socket is unlabelled.
#[test]
fn connected_udp_is_labelled_unconnected_is_not() {
    use via6_core::socket::{Family, Proto};
    let mut lab = Lab::from_toml(via6_lab::scenario::builtin("seed").unwrap(), 11).unwrap();
    lab.enable_capture();
    lab.run_for(Duration::from_secs(3));
    let peer: std::net::SocketAddr = "[2001:db8:2::1]:9".parse().unwrap();
    let now = lab.now();
    let st = lab.node_mut("h1").unwrap();
    let c = st.socket(Family::Inet6, Proto::Udp);
    st.connect(c, peer).unwrap();
    let u = st.socket(Family::Inet6, Proto::Udp);
    for _ in 0..3 {
        st.udp_send_to(c, b"connected", None, None, now).unwrap();
    }
    st.udp_send_to(u, b"unconnected", Some(peer), None, now).unwrap();
    lab.run_for(Duration::from_millis(100));
    let i = lab.links().iter().position(|l| l.name == "h1:eth0-r1:eth0").expect("link");
    let labels: Vec<(u32, usize)> = lab
        .captured(i)
        .iter()
        .filter(|c| {
            c.to == Side::B && c.data.len() > 54 && c.data[12..14] == [0x86, 0xdd] && c.data[20] == 17
        })
        .map(|c| {
            let d = &c.data;
            (u32::from_be_bytes([d[14], d[15], d[16], d[17]]) & 0xf_ffff, d.len() - 62)
        })
        .collect();
    let connected: BTreeSet<u32> = labels.iter().filter(|l| l.1 == 9).map(|l| l.0).collect();
    let unconnected: BTreeSet<u32> = labels.iter().filter(|l| l.1 == 11).map(|l| l.0).collect();
    assert_eq!(labels.len(), 4, "{labels:x?}");
    assert!(connected.len() == 1 && !connected.contains(&0), "{labels:x?}");
    assert_eq!(unconnected, BTreeSet::from([0]), "{labels:x?}");
}
