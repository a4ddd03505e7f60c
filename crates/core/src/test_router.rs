//! Test support: a router with three Ethernet legs and the two gateway
//! hosts behind it, moved frame by frame on one virtual instant — the
//! topology the burst and fast-path tests compare paths on.
//!
//! eth0 192.0.2.1/24 + 2001:db8:1::1/64 (input), eth1 10.1.0.1/16 to the
//! IPv4 host 10.1.0.10 (`n[0]`), eth2 (link-local fe80::1) to the IPv6 host
//! fe80::2 (`n[1]`): the v4-via-v6 gateway (RFC 8950).

use crate::addr::IfIndex;
use crate::iface::LinkKind;
use crate::stack::{InterfaceConfig, Stack};
use crate::time::Instant;
use core::time::Duration;
use via6_wire::MacAddr;

/// The router's interface MAC on eth0 (where test frames arrive).
pub(crate) const R_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
/// The sender's MAC on eth0.
pub(crate) const IN_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0x99];

/// Adds an Ethernet interface with MAC 02:00:00:00:00:`mac`.
pub(crate) fn eth(s: &mut Stack, name: &str, mac: u8) -> IfIndex {
    let cfg = InterfaceConfig {
        name: name.into(),
        kind: LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, mac])),
        mtu: None,
    };
    s.add_interface(cfg, Instant::ZERO).unwrap()
}

/// Every frame `s` has queued, with its interface.
pub(crate) fn drain(s: &mut Stack) -> Vec<(IfIndex, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(f) = s.transmit() {
        out.push((f.ifindex, f.data().to_vec()));
        s.recycle(f);
    }
    out
}

/// Moves frames between the router and its two gateways until quiet.
pub(crate) fn exchange(r: &mut Stack, n: &mut [Stack; 2], now: Instant) {
    loop {
        let mut moved = false;
        for (i, d) in drain(r) {
            moved = true;
            if i.0 == 2 || i.0 == 3 {
                n[i.0 as usize - 2].receive(IfIndex(1), &d, now);
            }
        }
        for (k, back) in [(0, IfIndex(2)), (1, IfIndex(3))] {
            for (_, d) in drain(&mut n[k]) {
                moved = true;
                r.receive(back, &d, now);
            }
        }
        if !moved {
            return;
        }
    }
}

/// The router (forwarding on, RAs off) with its three legs addressed,
/// `extra` applied to it, and the two gateway hosts; three seconds of
/// polling and exchanging (DAD done). Returns the router, the hosts, the
/// time reached and the router's interfaces eth0..eth2.
pub(crate) fn three_legs(extra: impl FnOnce(&mut Stack)) -> (Stack, [Stack; 2], Instant, [IfIndex; 3]) {
    let t0 = Instant::ZERO;
    let mut r = Stack::new("r", 7);
    for (k, v) in [("net.inet.ip.forwarding", 1), ("net.inet6.ip6.forwarding", 1), ("net.inet6.ip6.rtadv", 0)]
    {
        r.set_sysctl(k, v).unwrap();
    }
    let (e0, e1, e2) = (eth(&mut r, "eth0", 1), eth(&mut r, "eth1", 2), eth(&mut r, "eth2", 3));
    r.add_address(e0, "192.0.2.1".parse().unwrap(), 24, t0).unwrap();
    r.add_address(e0, "2001:db8:1::1".parse().unwrap(), 64, t0).unwrap();
    r.add_address(e1, "10.1.0.1".parse().unwrap(), 16, t0).unwrap();
    r.add_address(e2, "fe80::1".parse().unwrap(), 64, t0).unwrap();
    extra(&mut r);
    let mut n = [Stack::new("n1", 8), Stack::new("n2", 9)];
    let a = eth(&mut n[0], "eth0", 0x10);
    n[0].add_address(a, "10.1.0.10".parse().unwrap(), 16, t0).unwrap();
    let b = eth(&mut n[1], "eth0", 0x20);
    n[1].add_address(b, "fe80::2".parse().unwrap(), 64, t0).unwrap();
    let mut now = t0;
    for _ in 0..300 {
        r.poll(now);
        n[0].poll(now);
        n[1].poll(now);
        exchange(&mut r, &mut n, now);
        now += Duration::from_millis(10);
    }
    (r, n, now, [e0, e1, e2])
}
