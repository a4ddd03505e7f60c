//! inet6(4) bind/connect semantics as a table: each row gives the sockets
//! already bound, the new call, and the expected result or errno.

use std::net::SocketAddr;
use via6_core::iface::LinkKind;
use via6_core::socket::{Family, Proto};
use via6_core::{Errno, Instant, InterfaceConfig, Stack};
use via6_wire::MacAddr;

fn node(v6only_default: bool) -> Stack {
    let mut s = Stack::new("n", 7);
    s.set_sysctl("net.inet6.ip6.v6only", i64::from(v6only_default)).unwrap();
    s.set_sysctl("net.inet6.ip6.dad_count", 0).unwrap();
    let lo = s
        .add_interface(
            InterfaceConfig { name: "lo0".into(), kind: LinkKind::Loopback, mtu: None },
            Instant::ZERO,
        )
        .unwrap();
    let e = s
        .add_interface(
            InterfaceConfig {
                name: "eth0".into(),
                kind: LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, 1])),
                mtu: None,
            },
            Instant::ZERO,
        )
        .unwrap();
    s.add_address(lo, "198.51.100.1".parse().unwrap(), 32, Instant::ZERO).unwrap();
    s.add_address(e, "192.0.2.1".parse().unwrap(), 24, Instant::ZERO).unwrap();
    s.add_address(e, "2001:db8::1".parse().unwrap(), 64, Instant::ZERO).unwrap();
    s.poll(Instant::from_secs(5));
    s
}

/// One bound socket: family, v6only, reuseaddr, reuseport, address.
type Spec = (Family, bool, bool, bool, &'static str);

fn open(s: &mut Stack, (fam, v6only, ra, rp, addr): Spec) -> Result<(), Errno> {
    let h = s.socket(fam, Proto::Udp);
    if fam == Family::Inet6 {
        s.set_v6only(h, v6only).unwrap();
    }
    s.set_reuseaddr(h, ra).unwrap();
    s.set_reuseport(h, rp).unwrap();
    let sa: SocketAddr = addr.parse().unwrap();
    s.bind(h, sa).map_err(|e| e.errno)
}

/// A table row: name, existing binds, the new bind, the expected result.
type Row = (&'static str, &'static [Spec], Spec, Result<(), Errno>);

const I4: Family = Family::Inet;
const I6: Family = Family::Inet6;

#[test]
fn bind_table() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        ("wildcard v4 alone", &[], (I4, false, false, false, "0.0.0.0:53"), Ok(())),
        ("v4 + v6only v6 wildcards coexist", &[(I4, false, false, false, "0.0.0.0:53")], (I6, true, false, false, "[::]:53"), Ok(())),
        ("v4 + dual v6 wildcards coexist (inet6(4))", &[(I4, false, false, false, "0.0.0.0:53")], (I6, false, false, false, "[::]:53"), Ok(())),
        ("dual v6 then v4 wildcard coexist", &[(I6, false, false, false, "[::]:53")], (I4, false, false, false, "0.0.0.0:53"), Ok(())),
        ("two v4 wildcards", &[(I4, false, false, false, "0.0.0.0:53")], (I4, false, false, false, "0.0.0.0:53"), Err(Errno::EADDRINUSE)),
        ("two v4 wildcards with SO_REUSEPORT", &[(I4, false, false, true, "0.0.0.0:53")], (I4, false, false, true, "0.0.0.0:53"), Ok(())),
        ("REUSEPORT on one side only", &[(I4, false, false, false, "0.0.0.0:53")], (I4, false, false, true, "0.0.0.0:53"), Err(Errno::EADDRINUSE)),
        ("specific after wildcard", &[(I4, false, false, false, "0.0.0.0:53")], (I4, false, false, false, "192.0.2.1:53"), Err(Errno::EADDRINUSE)),
        ("specific after wildcard with SO_REUSEADDR", &[(I4, false, false, false, "0.0.0.0:53")], (I4, false, true, false, "192.0.2.1:53"), Ok(())),
        ("two different specifics", &[(I4, false, false, false, "192.0.2.1:53")], (I4, false, false, false, "198.51.100.1:53"), Ok(())),
        ("same specific twice", &[(I4, false, false, false, "192.0.2.1:53")], (I4, false, true, false, "192.0.2.1:53"), Err(Errno::EADDRINUSE)),
        ("different ports", &[(I4, false, false, false, "0.0.0.0:53")], (I4, false, false, false, "0.0.0.0:54"), Ok(())),
        ("non-local v4 address", &[], (I4, false, false, false, "203.0.113.9:53"), Err(Errno::EADDRNOTAVAIL)),
        ("non-local v6 address", &[], (I6, true, false, false, "[2001:db8::99]:53"), Err(Errno::EADDRNOTAVAIL)),
        ("mapped address on a v6only socket", &[], (I6, true, false, false, "[::ffff:192.0.2.1]:53"), Err(Errno::EINVAL)),
        ("mapped address with v6only off", &[], (I6, false, false, false, "[::ffff:192.0.2.1]:53"), Ok(())),
        ("mapped specific vs v4 specific", &[(I4, false, false, false, "192.0.2.1:53")], (I6, false, false, false, "[::ffff:192.0.2.1]:53"), Err(Errno::EADDRINUSE)),
        ("link-local without scope id", &[], (I6, true, false, false, "[fe80::1]:53"), Err(Errno::EINVAL)),
        ("v6 address on AF_INET", &[], (I4, false, false, false, "[2001:db8::1]:53"), Err(Errno::EAFNOSUPPORT)),
        ("v4 address on AF_INET6", &[], (I6, false, false, false, "192.0.2.1:53"), Err(Errno::EAFNOSUPPORT)),
        ("two v6 wildcards", &[(I6, true, false, false, "[::]:53")], (I6, false, false, false, "[::]:53"), Err(Errno::EADDRINUSE)),
        ("v6 specific after v6 wildcard with REUSEADDR", &[(I6, true, false, false, "[::]:53")], (I6, true, true, false, "[2001:db8::1]:53"), Ok(())),
    ];
    for (name, existing, new, want) in rows {
        for v6only_default in [true, false] {
            let mut s = node(v6only_default);
            for e in *existing {
                open(&mut s, *e).unwrap_or_else(|e| panic!("{name}: setup failed: {e:?}"));
            }
            assert_eq!(open(&mut s, *new), *want, "row `{name}`");
        }
    }
}

#[test]
fn v6only_default_follows_the_sysctl() {
    for (sysctl, want) in [(true, true), (false, false)] {
        let mut s = node(sysctl);
        let h = s.socket(Family::Inet6, Proto::Udp);
        assert_eq!(s.sockets().get(h).unwrap().v6only, want);
    }
}

#[test]
fn ipv4_reaches_a_dual_socket_as_mapped_and_prefers_the_inet_socket() {
    let mut s = node(false);
    let dual = s.socket(Family::Inet6, Proto::Udp);
    s.bind(dual, "[::]:7".parse().unwrap()).unwrap();
    // A datagram from ourselves to ourselves over loopback.
    let c = s.socket(Family::Inet, Proto::Udp);
    s.udp_send_to(c, b"one", Some("192.0.2.1:7".parse().unwrap()), None, Instant::from_secs(6)).unwrap();
    let d = s.udp_recv_from(dual).unwrap();
    assert_eq!(d.data, b"one");
    assert_eq!(d.from.ip(), "::ffff:192.0.2.1".parse::<std::net::IpAddr>().unwrap());
    // Now an AF_INET wildcard on the same port takes IPv4.
    let v4 = s.socket(Family::Inet, Proto::Udp);
    s.bind(v4, "0.0.0.0:7".parse().unwrap()).unwrap();
    s.udp_send_to(c, b"two", Some("192.0.2.1:7".parse().unwrap()), None, Instant::from_secs(6)).unwrap();
    assert_eq!(s.udp_recv_from(v4).unwrap().data, b"two");
    assert_eq!(s.udp_recv_from(dual).unwrap_err().errno, Errno::EWOULDBLOCK);
    // A specific bind beats the wildcard.
    let sp = s.socket(Family::Inet, Proto::Udp);
    s.set_reuseaddr(sp, true).unwrap();
    s.bind(sp, "192.0.2.1:7".parse().unwrap()).unwrap();
    s.udp_send_to(c, b"three", Some("192.0.2.1:7".parse().unwrap()), None, Instant::from_secs(6)).unwrap();
    assert_eq!(s.udp_recv_from(sp).unwrap().data, b"three");
}

#[test]
fn connect_without_a_source_fails_with_eaddrnotavail_naming_the_family() {
    let mut s = Stack::new("n", 1);
    let e = s
        .add_interface(
            InterfaceConfig {
                name: "eth0".into(),
                kind: LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, 1])),
                mtu: None,
            },
            Instant::ZERO,
        )
        .unwrap();
    let gw = via6_core::route::NextHop::Gateway(via6_core::GatewayAddr::V6(via6_core::ZonedIpv6 {
        addr: "fe80::1".parse().unwrap(),
        zone: Some(e),
    }));
    s.add_route(via6_core::route::Route::new("0.0.0.0/0".parse().unwrap(), gw, Some(e))).unwrap();
    let h = s.socket(Family::Inet, Proto::Udp);
    let err = s.connect(h, "203.0.113.2:7".parse().unwrap()).unwrap_err();
    assert_eq!(err.errno, Errno::EADDRNOTAVAIL);
    assert!(err.reason.contains("IPv4"), "{}", err.reason);
}
