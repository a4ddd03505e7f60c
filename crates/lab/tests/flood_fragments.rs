//! Issue 9: one million random fragments (IPv4 and IPv6, random
//! identifications, offsets, lengths and flags, some overlapping) injected at
//! r1 of the seed topology on the virtual clock. Every 10 000 fragments the
//! memory r1 holds for reassembly is within its limits; fragmented pings
//! (`ping -s 3000`, both families) interleaved with the flood succeed where
//! the limits allow: before each burst always, during a burst always for
//! IPv4 (FreeBSD reuses the oldest queue) and, for IPv6 (FreeBSD refuses a
//! new datagram when the table or its bucket is full), unless r1 counted a
//! limit overflow while the ping was in flight.

use core::time::Duration;
use via6_core::addr::{GatewayAddr, ZonedIpv6};
use via6_core::echo::{EchoEvent, EchoRequest};
use via6_core::route::{NextHop, Route};
use via6_core::Stack;
use via6_lab::{derive_mac, Lab};

const SEED: &str = include_str!("../scenarios/seed.toml");
const TOTAL: usize = 1_000_000;
const BURST: usize = 10_000;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One random fragment for r1 from a source routed back through eth0.
fn fragment(rng: &mut Rng, recent: &mut Vec<u32>, mac: [u8; 6]) -> Vec<u8> {
    let v6 = rng.below(2) == 0;
    // A quarter reuse a recent identification (so offsets collide and
    // overlap), the rest are fresh.
    let id = if !recent.is_empty() && rng.below(4) == 0 {
        recent[rng.below(recent.len() as u64) as usize]
    } else {
        let id = rng.next() as u32;
        if recent.len() < 64 {
            recent.push(id);
        } else {
            recent[rng.below(64) as usize] = id;
        }
        id
    };
    let span = if rng.below(2) == 0 { 8 } else { 8190 };
    let off = (rng.below(span) * 8) as usize;
    let mut len = (1 + rng.below(175) as usize) * 8;
    if rng.below(16) == 0 {
        len += 1 + rng.below(7) as usize; // not a multiple of 8
    }
    let more = rng.below(3) != 0;
    let host = (rng.below(64) + 2) as u8;
    let mut f = mac.to_vec();
    f.extend_from_slice(&[2, 0, 0, 0, 0, 0x77]);
    if v6 {
        f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
        f.extend_from_slice(&((len + 8) as u16).to_be_bytes());
        f.extend_from_slice(&[44, 64]);
        let mut src = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, host];
        src[8] = (id >> 24) as u8;
        f.extend_from_slice(&src);
        f.extend_from_slice(&"2001:db8:ff::1".parse::<std::net::Ipv6Addr>().unwrap().octets());
        f.extend_from_slice(&[if rng.below(2) == 0 { 58 } else { 17 }, 0]);
        f.extend_from_slice(&(off as u16 | u16::from(more)).to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
    } else {
        f.extend_from_slice(&[0x08, 0x00]);
        let mut h = vec![0x45, 0];
        h.extend_from_slice(&((20 + len) as u16).to_be_bytes());
        h.extend_from_slice(&(id as u16).to_be_bytes());
        h.extend_from_slice(&((off / 8) as u16 | if more { 0x2000 } else { 0 }).to_be_bytes());
        h.extend_from_slice(&[64, if rng.below(2) == 0 { 1 } else { 17 }, 0, 0]);
        h.extend_from_slice(&[198, 51, 100, host]);
        h.extend_from_slice(&[192, 0, 2, 1]);
        let c = via6_wire::checksum::checksum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&h);
    }
    let fill = (id as u8) ^ (off as u8);
    f.extend(std::iter::repeat_n(fill, len));
    f
}

fn knob(s: &Stack, name: &str) -> usize {
    let k = via6_core::sysctl::Sysctl::knob(name).unwrap();
    s.sysctl().get(k) as usize
}

/// The memory r1 holds is within its configured limits.
fn check_limits(s: &Stack, at: usize) {
    let (bytes, frags) = s.reassembly_held();
    let (f4, f6) = s.reassembly_frags_by_family();
    let (q4, q6) = s.reassembly_queues_by_family();
    let (b4, b6) = s.reassembly_fullest_bucket();
    assert!(f4 <= knob(s, "net.inet.ip.maxfrags"), "after {at}: {f4} IPv4 fragments");
    assert!(f6 <= knob(s, "net.inet6.ip6.maxfrags"), "after {at}: {f6} IPv6 fragments");
    assert!(q4 <= knob(s, "net.inet.ip.maxfragpackets"), "after {at}: {q4} IPv4 datagrams");
    assert!(q6 <= knob(s, "net.inet6.ip6.maxfragpackets"), "after {at}: {q6} IPv6 datagrams");
    assert!(b4 <= knob(s, "net.inet.ip.maxfragbucketsize"), "after {at}: IPv4 bucket of {b4}");
    assert!(b6 <= knob(s, "net.inet6.ip6.maxfragbucketsize"), "after {at}: IPv6 bucket of {b6}");
    // Each fragment holds at most its data, plus a first fragment's header
    // and quote (a frame is at most 1514 octets here).
    assert!(bytes <= frags * 3 * 1514, "after {at}: {bytes} bytes for {frags} fragments");
    assert!(s.tx_queued() <= s.tx_limit());
}

fn ping(lab: &mut Lab, dst: &str, seq: u16) -> bool {
    let req = EchoRequest {
        dst: dst.parse().unwrap(),
        zone: None,
        src: None,
        ident: 0x5151,
        seq,
        payload_len: 3000,
        ttl: None,
        dont_frag: false,
    };
    let now = lab.now();
    let h1 = lab.node_mut("h1").unwrap();
    h1.echo_send(&req, now).unwrap();
    lab.run_for(Duration::from_millis(100));
    let h1 = lab.node_mut("h1").unwrap();
    let mut ok = false;
    while let Some(e) = h1.echo_recv(0x5151) {
        if let EchoEvent::Reply { seq: s, len, .. } = e {
            ok |= s == seq && len == 3000;
        }
    }
    ok
}

#[test]
fn flood_of_a_million_random_fragments_stays_within_limits_and_pings_pass() {
    let mut lab = Lab::from_toml(SEED, 9).unwrap();
    lab.run_for(Duration::from_secs(3));
    let now = lab.now();
    {
        let r1 = lab.node_mut("r1").unwrap();
        let e0 = r1.ifindex("eth0").unwrap();
        r1.add_address(e0, "2001:db8:ff::1".parse().unwrap(), 128, now).unwrap();
        r1.add_address(e0, "192.0.2.1".parse().unwrap(), 32, now).unwrap();
        let via =
            NextHop::Gateway(GatewayAddr::V6(ZonedIpv6 { addr: "fe80::2".parse().unwrap(), zone: Some(e0) }));
        r1.add_route(Route::new("2001:db8:1::/48".parse().unwrap(), via, Some(e0))).unwrap();
        r1.add_route(Route::new("198.51.100.0/24".parse().unwrap(), via, Some(e0))).unwrap();
    }
    lab.node_mut("h1").unwrap().echo_bind(0x5151);
    lab.run_for(Duration::from_secs(2)); // DAD of r1's new address
    let mac = derive_mac("r1", "eth0").0;
    let e0 = lab.node("r1").unwrap().ifindex("eth0").unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut recent = Vec::new();
    let (mut seq, mut sent) = (0u16, 0usize);
    let (mut v6_mid_ok, mut v6_mid_refused) = (0, 0);
    let overflow6 = |lab: &Lab| lab.node("r1").unwrap().stats().by_name("ip6s_fragoverflow").unwrap();
    while sent < TOTAL {
        // Before the burst: the previous one has timed out; both pass.
        seq += 1;
        assert!(ping(&mut lab, "192.0.2.1", seq), "IPv4 ping before burst at {sent}");
        seq += 1;
        assert!(ping(&mut lab, "2001:db8:ff::1", seq), "IPv6 ping before burst at {sent}");
        for half in 0..2 {
            let now = lab.now();
            let r1 = lab.node_mut("r1").unwrap();
            for _ in 0..BURST / 2 {
                let f = fragment(&mut rng, &mut recent, mac);
                r1.receive(e0, &f, now);
                sent += 1;
            }
            check_limits(r1, sent);
            if half == 0 {
                seq += 1;
                assert!(ping(&mut lab, "192.0.2.1", seq), "IPv4 ping during burst at {sent}");
                let before = overflow6(&lab);
                seq += 1;
                if ping(&mut lab, "2001:db8:ff::1", seq) {
                    v6_mid_ok += 1;
                } else {
                    assert!(overflow6(&lab) > before, "IPv6 ping failed at {sent} without a limit reached");
                    v6_mid_refused += 1;
                }
            }
        }
        check_limits(lab.node("r1").unwrap(), sent);
        // Everything times out (60 s for IPv6).
        lab.run_for(Duration::from_secs(61));
        assert_eq!(lab.node("r1").unwrap().reassembly_held(), (0, 0));
    }
    let r1 = lab.node("r1").unwrap();
    let st = r1.stats();
    let n = |c: &str| st.by_name(c).unwrap();
    // Every fragment reached IP input (those with offset 0 and no MF are
    // whole IPv4 datagrams, not fragments).
    assert!(n("ip6s_total") + n("ips_total") >= TOTAL as u64);
    assert!(n("ip6s_fragoverflow") > 0 && n("ips_fragtimeout") > 0, "the limits were reached");
    assert!(n("ip6s_fragdropped") > 0 && n("ips_fragdropped") > 0);
    eprintln!(
        "IPv6 pings during bursts: {v6_mid_ok} passed, {v6_mid_refused} refused by a limit; counters: ip6s_fragments {} fragdropped {} fragoverflow {} fragtimeout {}; ips_fragments {} fragdropped {} fragtimeout {}",
        n("ip6s_fragments"),
        n("ip6s_fragdropped"),
        n("ip6s_fragoverflow"),
        n("ip6s_fragtimeout"),
        n("ips_fragments"),
        n("ips_fragdropped"),
        n("ips_fragtimeout")
    );
}
