//! Fragmentation on output: unpredictable identifications (RFC 7739) and the
//! IPv4 option copy flag (RFC 791 §3.1).

#[path = "harden_common.rs"]
mod common;
use common::*;
use via6_core::echo::EchoRequest;

fn ping(n: &mut Node, dst: &str, size: usize) -> Vec<Vec<u8>> {
    let req = EchoRequest {
        dst: dst.parse().unwrap(),
        zone: None,
        src: None,
        ident: 7,
        seq: 1,
        payload_len: size,
        ttl: None,
        dont_frag: false,
    };
    n.s.echo_send(&req, T0).unwrap();
    drain(&mut n.s).into_iter().map(|(_, p)| p).collect()
}

fn v4_ids(n: &mut Node, dst: &str, k: usize) -> Vec<u16> {
    (0..k).map(|_| ping(n, dst, 2000)).map(|f| u16::from_be_bytes([f[0][4], f[0][5]])).collect()
}

/// RFC 7739 §5.3: IPv4 identifications are a keyed hash of (src, dst) plus
/// a counter: toward one destination they advance by small steps (no early
/// reuse), toward another they start somewhere unrelated, and another node
/// (another secret) picks others.
#[test]
fn ipv4_fragment_ids_are_unpredictable() {
    let mut n = node();
    let a = v4_ids(&mut n, "10.0.0.99", 20);
    for w in a.windows(2) {
        let d = w[1].wrapping_sub(w[0]);
        assert!((1..=8).contains(&d), "{a:?}");
    }
    let b = v4_ids(&mut n, "10.1.0.99", 20);
    let close = |x: u16, y: u16| x.wrapping_sub(y).min(y.wrapping_sub(x)) < 200;
    assert!(!close(a[19], b[0]), "{a:?} {b:?}");
    let mut other = node();
    other.s = rebuild(43);
    let c = v4_ids(&mut other, "10.0.0.99", 1);
    assert!(!close(a[0], c[0]), "{a:?} {c:?}");
}

/// The node's eth0 side alone, with another secret.
fn rebuild(seed: u64) -> via6_core::Stack {
    use via6_core::iface::LinkKind;
    use via6_core::InterfaceConfig;
    let mut s = via6_core::Stack::new("n", seed);
    s.set_sysctl("net.inet6.ip6.dad_count", 0).unwrap();
    let _ = s.add_interface(InterfaceConfig { name: "lo0".into(), kind: LinkKind::Loopback, mtu: None }, T0);
    let e0 = s
        .add_interface(InterfaceConfig { name: "eth0".into(), kind: LinkKind::Ethernet(MAC0), mtu: None }, T0)
        .unwrap();
    s.add_address(e0, addr("10.0.0.1"), 24, T0).unwrap();
    s.add_static_neighbour(e0, addr("10.0.0.99"), PEER);
    s
}

/// RFC 7739 §5 (RFC 8200 §4.5): IPv6 identifications come from the RNG:
/// consecutive ones are not sequential.
#[test]
fn ipv6_fragment_ids_are_unpredictable() {
    let mut n = node();
    let ids: Vec<u32> = (0..10)
        .map(|_| ping(&mut n, "2001:db8:a::99", 2000))
        .map(|f| u32::from_be_bytes([f[0][44], f[0][45], f[0][46], f[0][47]]))
        .collect();
    let sequential = ids.windows(2).filter(|w| w[1].wrapping_sub(w[0]) < 1000).count();
    assert!(sequential <= 1, "{ids:?}");
}

/// RFC 791 §3.1 / RFC 1812 §5.2.6: when a router fragments, the first
/// fragment keeps every option and the later ones only those whose copied
/// flag is set.
#[test]
fn ipv4_option_copy_flag_on_fragmentation() {
    let mut n = node();
    n.s.set_sysctl("net.inet.ip.forwarding", 1).unwrap();
    let e1 = n.e1;
    n.s.set_mtu(e1, 576).unwrap();
    // NOP (not copied), Security-like option 130 (copied, 4 octets), EOL pad.
    let opts = [1, 130, 4, 0xaa, 0, 0, 0, 0];
    let p = v4(a4("10.0.0.99"), a4("10.1.0.99"), 17, 77, 0, false, &opts, &[5; 1200]);
    rx0(&mut n, &p, T0);
    let out: Vec<_> = drain(&mut n.s).into_iter().filter(|(i, _)| *i == e1).map(|(_, p)| p).collect();
    assert!(out.len() >= 3, "{}", out.len());
    assert_eq!(&out[0][20..28], &opts, "the first fragment keeps all");
    let mut total = 0;
    for (k, f) in out.iter().enumerate() {
        let hl = usize::from(f[0] & 15) * 4;
        assert!(f.len() <= 576);
        assert_eq!(fold(ones(&f[..hl], 0)), 0, "header checksum");
        if k > 0 {
            assert_eq!(&f[20..hl], &[130, 4, 0xaa, 0], "only the copied option");
        }
        let off = usize::from(u16::from_be_bytes([f[6], f[7]]) & 0x1fff) * 8;
        assert_eq!(off, total);
        total += f.len() - hl;
    }
    assert_eq!(total, 1200);
}
