//! Forwarding in memory, no I/O: packets/s through `Stack::receive` of an
//! Ethernet frame on a router holding the full RIPE RIS tables, through
//! parse, validation, TTL/hop limit, LPM, the (pre-resolved) neighbour and
//! the rewrite, draining `transmit()` and recycling every frame.
//!
//!     cargo bench -p via6-core --bench forward -- [--runs N] [--packets N] [--size 64|1514] [--quick]
//!
//! `--packets N`: destinations per case (default 2^18). `--quick`: every
//! 16th prefix of each table, 4096 packets, one timed pass per case (three
//! passes each in all, so every case weighs the same) — for
//! `valgrind --tool=callgrind --toggle-collect='*forward::pass*'`, which
//! counts instructions whatever the machine's load.
//!
//! Each case runs twice: frame by frame through `Stack::receive`, and in
//! bursts of 32 through `Stack::receive_burst` (one batched FIB lookup per
//! burst). Under callgrind, `forward::pass` and `forward::pass_burst` are
//! the two entries (`--toggle-collect='*forward::pass*'` counts both).
//!
//! A counting global allocator reports allocations per forwarded packet
//! (the forwarding path must allocate nothing once warm).
//!
//! Cases: IPv4 via an IPv4 gateway, IPv4 via an IPv6 (link-local) gateway,
//! IPv6; 64- and 1500-byte frames... IP packets of 64 - 14 and 1500 bytes.

mod common;

use common::{median, next_hop, runs, Rng};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;
use via6_core::addr::{GatewayAddr, ZonedIpv6};
use via6_core::iface::LinkKind;
use via6_core::route::{NextHop, Route};
use via6_core::{IfIndex, Instant, InterfaceConfig, Stack};
use via6_wire::{IpPrefix, MacAddr};

#[global_allocator]
static GLOBAL: via6_alloc_count::Counting = via6_alloc_count::Counting;

fn allocs() -> u64 {
    via6_alloc_count::allocations()
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn arg(name: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok())
}

/// IPv4 gateways 10.1.0.10.. on eth1, IPv6 gateways fe80::1:i on eth2.
const GW: u32 = (common::NEXT_HOPS / 2) as u32;
const ROUTER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

fn eth(s: &mut Stack, name: &str, mac: u8) -> IfIndex {
    let cfg = InterfaceConfig {
        name: name.into(),
        kind: LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, mac])),
        mtu: None,
    };
    s.add_interface(cfg, Instant::ZERO).expect("interface")
}

fn gw4(i: u32) -> Ipv4Addr {
    Ipv4Addr::from_bits(0x0a01_000a + i)
}

fn gw6(i: u32) -> Ipv6Addr {
    Ipv6Addr::from_bits((0xfe80u128 << 112) | (1 << 16) | u128::from(i))
}

struct Lab {
    r: Stack,
    /// Neighbours on eth1 (IPv4 gateways) and eth2 (IPv6 gateways).
    n1: Stack,
    n2: Stack,
    e1: IfIndex,
    e2: IfIndex,
    now: Instant,
}

impl Lab {
    fn exchange(&mut self) {
        loop {
            let mut moved = false;
            while let Some(f) = self.r.transmit() {
                moved = true;
                let d = f.data().to_vec();
                let to = f.ifindex;
                self.r.recycle(f);
                if to == self.e1 {
                    self.n1.receive(IfIndex(1), &d, self.now);
                } else if to == self.e2 {
                    self.n2.receive(IfIndex(1), &d, self.now);
                }
            }
            for (n, back) in [(&mut self.n1, self.e1), (&mut self.n2, self.e2)] {
                while let Some(f) = n.transmit() {
                    moved = true;
                    let d = f.data().to_vec();
                    n.recycle(f);
                    self.r.receive(back, &d, self.now);
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn run_ms(&mut self, ms: u64) {
        for _ in 0..ms / 10 {
            self.r.poll(self.now);
            self.n1.poll(self.now);
            self.n2.poll(self.now);
            self.exchange();
            self.now += Duration::from_millis(10);
        }
    }
}

fn router(v4: &[(u32, u8)], v6: &[(u128, u8)]) -> (Lab, Duration) {
    let t0 = Instant::ZERO;
    let mut r = Stack::new("r", 1);
    for (k, v) in [("net.inet.ip.forwarding", 1), ("net.inet6.ip6.forwarding", 1), ("net.inet6.ip6.rtadv", 0)]
    {
        r.set_sysctl(k, v).expect("sysctl");
    }
    let e0 = eth(&mut r, "eth0", 1);
    let e1 = eth(&mut r, "eth1", 2);
    let e2 = eth(&mut r, "eth2", 3);
    assert_eq!(e0, IfIndex(1));
    r.add_address(e0, "192.0.2.1".parse().expect("addr"), 24, t0).expect("addr");
    r.add_address(e1, "10.1.0.1".parse().expect("addr"), 16, t0).expect("addr");
    r.add_address(e2, "fe80::1".parse().expect("addr"), 64, t0).expect("addr");
    let mut n1 = Stack::new("n1", 2);
    let a = eth(&mut n1, "eth0", 0x10);
    for i in 0..GW {
        n1.add_address(a, IpAddr::V4(gw4(i)), 16, t0).expect("gw4");
    }
    let mut n2 = Stack::new("n2", 3);
    let b = eth(&mut n2, "eth0", 0x20);
    for i in 0..GW {
        n2.add_address(b, IpAddr::V6(gw6(i)), 64, t0).expect("gw6");
    }
    let nh = |h: u32| -> (NextHop, IfIndex) {
        if h.is_multiple_of(2) {
            (NextHop::Gateway(GatewayAddr::V4(gw4(h / 2))), e1)
        } else {
            (NextHop::Gateway(GatewayAddr::V6(ZonedIpv6 { addr: gw6(h / 2), zone: Some(e2) })), e2)
        }
    };
    let mut lab = Lab { r, n1, n2, e1, e2, now: t0 };
    lab.run_ms(3000); // DAD, before the table: `poll` is O(routes).
    let r = &mut lab.r;
    let t = common::time(|| {
        for &(k, l) in v4 {
            let (g, i) = nh(next_hop(u128::from(k), l));
            let p = IpPrefix::new(IpAddr::V4(Ipv4Addr::from_bits(k)), l).expect("prefix");
            r.add_route(Route::new(p, g, Some(i))).expect("route");
        }
        for &(k, l) in v6 {
            let (g, i) = nh(next_hop(k, l) | 1);
            let p = IpPrefix::new(IpAddr::V6(Ipv6Addr::from_bits(k)), l).expect("prefix");
            r.add_route(Route::new(p, g, Some(i))).expect("route");
        }
    });
    (lab, t)
}

/// An Ethernet frame of `size` bytes (IP packet of `size - 14`) carrying UDP
/// to `dst`; returns the frame and the offset of the destination address.
fn frame(dst: IpAddr, size: usize) -> Vec<u8> {
    let mut f = vec![0u8; size];
    f[0..6].copy_from_slice(&ROUTER_MAC);
    f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 0x99]);
    let ip_len = size - 14;
    match dst {
        IpAddr::V4(d) => {
            f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
            let h = &mut f[14..34];
            h[0] = 0x45;
            h[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
            h[8] = 64;
            h[9] = 17;
            h[12..16].copy_from_slice(&[198, 51, 100, 7]);
            h[16..20].copy_from_slice(&d.octets());
            let c = via6_wire::checksum::checksum(h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            f[34..36].copy_from_slice(&1234u16.to_be_bytes());
            f[36..38].copy_from_slice(&5678u16.to_be_bytes());
            f[38..40].copy_from_slice(&((ip_len - 20) as u16).to_be_bytes());
        }
        IpAddr::V6(d) => {
            f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
            let h = &mut f[14..54];
            h[0] = 0x60;
            h[4..6].copy_from_slice(&((ip_len - 40) as u16).to_be_bytes());
            h[6] = 17;
            h[7] = 64;
            h[8..24].copy_from_slice(&"2001:db8:99::7".parse::<Ipv6Addr>().expect("addr").octets());
            h[24..40].copy_from_slice(&d.octets());
            f[54..56].copy_from_slice(&1234u16.to_be_bytes());
            f[56..58].copy_from_slice(&5678u16.to_be_bytes());
            f[58..60].copy_from_slice(&((ip_len - 40) as u16).to_be_bytes());
        }
    }
    f
}

/// Writes `dst` into the frame (with the IPv4 header checksum).
#[inline]
fn set_dst(f: &mut [u8], dst: &Dst) {
    match dst {
        Dst::V4(d, c) => {
            f[30..34].copy_from_slice(d);
            f[24..26].copy_from_slice(c);
        }
        Dst::V6(d) => f[38..54].copy_from_slice(d),
    }
}

enum Dst {
    V4([u8; 4], [u8; 2]),
    V6([u8; 16]),
}

fn dsts(size: usize, addrs: &[IpAddr]) -> Vec<Dst> {
    addrs
        .iter()
        .map(|a| match a {
            IpAddr::V4(d) => {
                let f = frame(*a, size);
                Dst::V4(d.octets(), [f[24], f[25]])
            }
            IpAddr::V6(d) => Dst::V6(d.octets()),
        })
        .collect()
}

/// Sends every destination once through the router; returns frames sent.
#[inline(never)]
fn pass(lab: &mut Lab, f: &mut [u8], ds: &[Dst]) -> u64 {
    let mut sent = 0;
    for d in ds {
        set_dst(f, d);
        lab.r.receive(IfIndex(1), black_box(f), lab.now);
        while let Some(t) = lab.r.transmit() {
            sent += 1;
            lab.r.recycle(t);
        }
    }
    sent
}

/// [`pass`] through `Stack::receive_burst`: 32 frames per call, each
/// burst's transmitted frames drained after it.
#[inline(never)]
fn pass_burst(lab: &mut Lab, fs: &mut [Vec<u8>], ds: &[Dst]) -> u64 {
    let mut sent = 0;
    for chunk in ds.chunks(fs.len()) {
        for (f, d) in fs.iter_mut().zip(chunk) {
            set_dst(f, d);
        }
        lab.r.receive_burst(IfIndex(1), black_box(&fs[..chunk.len()]), lab.now);
        while let Some(t) = lab.r.transmit() {
            sent += 1;
            lab.r.recycle(t);
        }
    }
    sent
}

/// One pass of a case, by entry point.
fn run(lab: &mut Lab, f: &mut [u8], fs: &mut [Vec<u8>], ds: &[Dst], burst: bool) -> u64 {
    if burst {
        pass_burst(lab, fs, ds)
    } else {
        pass(lab, f, ds)
    }
}

// One wrapper per case, so that callgrind's inclusive cost of each gives
// the instructions per packet of that case alone.
#[inline(never)]
fn case_v4_via_v4(lab: &mut Lab, f: &mut [u8], fs: &mut [Vec<u8>], ds: &[Dst], burst: bool) -> u64 {
    black_box(1_u8); // keeps the linker from folding the three into one
    run(lab, f, fs, ds, burst)
}

#[inline(never)]
fn case_v4_via_v6(lab: &mut Lab, f: &mut [u8], fs: &mut [Vec<u8>], ds: &[Dst], burst: bool) -> u64 {
    black_box(2_u8); // keeps the linker from folding the three into one
    run(lab, f, fs, ds, burst)
}

#[inline(never)]
fn case_v6(lab: &mut Lab, f: &mut [u8], fs: &mut [Vec<u8>], ds: &[Dst], burst: bool) -> u64 {
    black_box(3_u8); // keeps the linker from folding the three into one
    run(lab, f, fs, ds, burst)
}

fn main() {
    let quick = flag("--quick");
    let runs = if quick { 1 } else { runs() };
    let (mut v4, mut v6) = (common::table_v4(), common::table_v6());
    if quick {
        v4 = v4.into_iter().step_by(16).collect();
        v6 = v6.into_iter().step_by(16).collect();
    }
    let (mut lab, install) = router(&v4, &v6);
    println!(
        "\nRouter with {} IPv4 and {} IPv6 routes installed through `Stack::add_route` in {:.2} s \
         ({:.2} M routes/s).\n",
        v4.len(),
        v6.len(),
        install.as_secs_f64(),
        (v4.len() + v6.len()) as f64 / install.as_secs_f64() / 1e6
    );

    // In-table destinations, split by the family of the route's gateway.
    let mut r = Rng::new(0xf0f0_1234);
    let (mut via4, mut via6, mut six) = (Vec::new(), Vec::new(), Vec::new());
    let n_default = if quick { 1 << 12 } else { 1 << 18 };
    let n = arg("--packets").unwrap_or(n_default).max(1);
    while via4.len() < n || via6.len() < n {
        let (k, l) = v4[(r.next() % v4.len() as u64) as usize];
        let a = k | (r.next() as u32 & !u32::MAX.checked_shl(32 - u32::from(l)).unwrap_or(0));
        let a = IpAddr::V4(Ipv4Addr::from_bits(a));
        match lab.r.routes().lookup(a).map(|(_, rt)| rt.nexthop) {
            Some(NextHop::Gateway(GatewayAddr::V4(_))) if via4.len() < n => via4.push(a),
            Some(NextHop::Gateway(GatewayAddr::V6(_))) if via6.len() < n => via6.push(a),
            _ => {}
        }
    }
    while six.len() < n {
        let (k, l) = v6[(r.next() % v6.len() as u64) as usize];
        let a = k | (r.u128() & !u128::MAX.checked_shl(128 - u32::from(l)).unwrap_or(0));
        six.push(IpAddr::V6(Ipv6Addr::from_bits(a)));
    }
    // Resolve every gateway once: one packet per next hop, then let the
    // neighbours answer ARP / NS.
    for size in [64usize] {
        for set in [&via4, &via6, &six] {
            let mut f = frame(set[0], size);
            for d in dsts(size, &set[..set.len().min(20_000)]) {
                set_dst(&mut f, &d);
                lab.r.receive(IfIndex(1), &f, lab.now);
                lab.exchange();
            }
        }
    }
    lab.exchange();
    let now = lab.now;
    let poll = median(3, || {
        black_box(lab.r.poll(now));
    });
    println!(
        "One `Stack::poll` with the full table: {:.1} ms (it scans every route for expiries).\n",
        poll.as_secs_f64() * 1e3
    );

    println!(
        "| case | frame | entry | M packets/s (median of {runs}) | ns/packet | vs IPv4 via IPv4 | allocations/packet |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|");
    // `--size N`: only frames of N bytes (e.g. the 64-byte cases alone under callgrind).
    let sizes: Vec<usize> = match arg("--size") {
        Some(n) => vec![n.clamp(64, 1514)],
        None => vec![64, 1514],
    };
    for size in sizes {
        for burst in [false, true] {
            let mut base = 0.0;
            for (name, set) in
                [("IPv4 via IPv4", &via4), ("IPv4 via IPv6 (v4-via-v6)", &via6), ("IPv6", &six)]
            {
                let ds = dsts(size, set);
                let mut f = frame(set[0], size);
                let mut fs = vec![frame(set[0], size); 32];
                let case = match name {
                    "IPv4 via IPv4" => case_v4_via_v4,
                    "IPv6" => case_v6,
                    _ => case_v4_via_v6,
                };
                let mut run = |lab: &mut Lab| case(lab, &mut f, &mut fs, &ds, burst);
                // Every packet must leave at once (neighbours resolved).
                let sent = run(&mut lab);
                assert_eq!(sent, ds.len() as u64, "{name}: {sent} of {} forwarded", ds.len());
                // Allocations over a second, warm pass.
                let a0 = allocs();
                black_box(run(&mut lab));
                let per_packet = (allocs() - a0) as f64 / ds.len() as f64;
                // `--quick` times exactly one pass, so an instruction profile
                // weighs every case equally (median repeats a pass until 200 ms
                // have gone by, which under valgrind depends on speed).
                let d = if quick {
                    let s = std::time::Instant::now();
                    black_box(run(&mut lab));
                    s.elapsed()
                } else {
                    median(runs, || {
                        black_box(run(&mut lab));
                    })
                };
                let mpps = ds.len() as f64 / d.as_secs_f64() / 1e6;
                if base == 0.0 {
                    base = mpps;
                }
                let entry = if burst { "burst of 32" } else { "per frame" };
                println!(
                    "| {name} | {size} B | {entry} | {mpps:.2} | {:.0} | {:.2} | {per_packet:.3} |",
                    d.as_secs_f64() * 1e9 / ds.len() as f64,
                    mpps / base
                );
            }
        }
    }
}
