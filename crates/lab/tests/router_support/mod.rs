//! Shared helpers of the router tests (issue 5): the seed topology and its
//! variants, echo probes, frame decoding with `via6_wire`, crafted frames.
#![allow(dead_code)]

use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use via6_core::echo::{EchoEvent, EchoRequest};
use via6_lab::{derive_mac, Lab, Side};
use via6_wire::ethernet::ethertype;
use via6_wire::icmpv4::Icmpv4Repr;
use via6_wire::icmpv6::Icmpv6Repr;
use via6_wire::ip::protocol;
use via6_wire::{EthernetFrame, EthernetRepr, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, MacAddr};

/// The seed topology as shipped.
pub const SEED: &str = include_str!("../../scenarios/seed.toml");

/// Link 0 joins h1:eth0 (side A) and r1:eth0 (side B).
pub const H1_R1: usize = 0;
/// Link 1 joins r1:eth1 (side A) and h2:eth0 (side B).
pub const R1_H2: usize = 1;

const R1_HEADER: &str =
    "name = \"r1\"\n[node.sysctl]\n\"net.inet.ip.forwarding\" = 1\n\"net.inet6.ip6.forwarding\" = 1\n";

/// The seed topology with extra r1 sysctls (`"name" = value` lines).
pub fn seed_with_sysctls(lines: &[&str]) -> String {
    let mut extra = String::from(R1_HEADER);
    for l in lines {
        extra.push_str(l);
        extra.push('\n');
    }
    assert!(SEED.contains(R1_HEADER), "r1 header not found in seed.toml");
    SEED.replacen(R1_HEADER, &extra, 1)
}

/// Adds a loopback `lo0` with `192.0.2.1/32` to r1 (after its sysctls, so
/// it is ifindex 1 and eth0/eth1 move to 2/3).
pub fn with_r1_loopback(text: &str) -> String {
    let lo = "[[node.interface]]\nname = \"lo0\"\nkind = \"loopback\"\naddresses = [\"192.0.2.1/32\"]\n";
    let r1 = text.find("name = \"r1\"").expect("r1 in topology");
    let at = r1 + text[r1..].find("[[node.interface]]").expect("r1 interfaces");
    format!("{}{lo}{}", &text[..at], &text[at..])
}

/// Gives r1's eth1 (towards h2) an interface MTU of `mtu`; the link stays
/// at 1500, as does h2's eth0.
pub fn with_r1_eth1_mtu(text: &str, mtu: u32) -> String {
    let anchor = "name = \"eth1\"\nkind = \"lab\"\n";
    assert_eq!(text.matches(anchor).count(), 1);
    text.replacen(anchor, &format!("name = \"eth1\"\nkind = \"lab\"\nmtu = {mtu}\n"), 1)
}

/// Builds the lab, turns capture on and lets DAD finish.
pub fn start(text: &str) -> Lab {
    let mut lab = Lab::from_toml(text, 1).expect("topology");
    lab.enable_capture();
    lab.run_for(Duration::from_secs(3));
    lab
}

/// One echo probe; returns what came back within `wait`.
#[allow(clippy::too_many_arguments)]
pub fn probe(
    lab: &mut Lab,
    from: &str,
    dst: &str,
    ttl: Option<u8>,
    payload_len: usize,
    df: bool,
    seq: u16,
    wait: Duration,
) -> Vec<EchoEvent> {
    let ident = 0x5005;
    let now = lab.now();
    let st = lab.node_mut(from).expect("node");
    st.echo_bind(ident);
    let req = EchoRequest {
        dst: dst.parse().expect("address"),
        zone: None,
        src: None,
        ident,
        seq,
        payload_len,
        ttl,
        dont_frag: df,
    };
    st.echo_send(&req, now).expect("echo_send");
    lab.run_for(wait);
    let st = lab.node_mut(from).expect("node");
    let mut evs = Vec::new();
    while let Some(e) = st.echo_recv(ident) {
        evs.push(e);
    }
    st.echo_unbind(ident);
    evs
}

/// A probe that waits 200 ms.
pub fn ping(lab: &mut Lab, from: &str, dst: &str, ttl: Option<u8>, seq: u16) -> Vec<EchoEvent> {
    probe(lab, from, dst, ttl, 56, false, seq, Duration::from_millis(200))
}

/// A decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Direction on the link.
    pub to: Side,
    /// EtherType.
    pub ethertype: u16,
    /// Destination MAC.
    pub dst_mac: MacAddr,
    /// The IP packet (or ARP) after the Ethernet header.
    pub ip: Vec<u8>,
}

impl Frame {
    pub fn v4(&self) -> Option<Ipv4Packet<&[u8]>> {
        (self.ethertype == ethertype::IPV4).then(|| Ipv4Packet::new_checked(&self.ip[..]).ok()).flatten()
    }
    pub fn v6(&self) -> Option<Ipv6Packet<&[u8]>> {
        (self.ethertype == ethertype::IPV6).then(|| Ipv6Packet::new_checked(&self.ip[..]).ok()).flatten()
    }
    /// (type, code, whole ICMPv4 message) when this is ICMPv4 (first fragment).
    pub fn icmp4(&self) -> Option<(u8, u8, &[u8])> {
        let p = self.v4()?;
        if p.protocol() != protocol::ICMP || p.frag_offset() != 0 {
            return None;
        }
        let hl = p.header_len();
        let msg = &self.ip[hl..usize::from(p.total_len())];
        Some((*msg.first()?, *msg.get(1)?, msg))
    }
    /// (type, code, whole ICMPv6 message) when the IPv6 header is directly
    /// followed by ICMPv6.
    pub fn icmp6(&self) -> Option<(u8, u8, &[u8])> {
        let p = self.v6()?;
        if p.next_header() != protocol::ICMPV6 {
            return None;
        }
        let msg = &self.ip[40..p.total_len()];
        Some((*msg.first()?, *msg.get(1)?, msg))
    }
}

/// Frames captured on `link` from index `since` on.
pub fn frames(lab: &Lab, link: usize, since: usize) -> Vec<Frame> {
    lab.captured(link)[since.min(lab.captured(link).len())..]
        .iter()
        .filter_map(|c| {
            let eth = EthernetFrame::new_checked(&c.data[..]).ok()?;
            Some(Frame {
                to: c.to,
                ethertype: eth.ethertype(),
                dst_mac: eth.dst(),
                ip: eth.payload().to_vec(),
            })
        })
        .collect()
}

/// The capture position of `link` now.
pub fn mark(lab: &Lab, link: usize) -> usize {
    lab.captured(link).len()
}

/// ICMPv4 error messages (types 3, 4, 5, 11, 12) in `fs`.
pub fn icmp4_errors(fs: &[Frame]) -> Vec<Frame> {
    fs.iter().filter(|f| f.icmp4().is_some_and(|(t, ..)| matches!(t, 3 | 4 | 5 | 11 | 12))).cloned().collect()
}

/// ICMPv6 error messages (types 1–4) in `fs`.
pub fn icmp6_errors(fs: &[Frame]) -> Vec<Frame> {
    fs.iter().filter(|f| f.icmp6().is_some_and(|(t, ..)| t < 128)).cloned().collect()
}

/// MAC of a node's interface in the lab (derived from the names).
pub fn mac(node: &str, iface: &str) -> MacAddr {
    derive_mac(node, iface)
}

/// An Ethernet frame carrying `ip` from h1 to r1's eth0 (or to `dst_mac`).
pub fn eth_frame(src: MacAddr, dst: MacAddr, ip: &[u8]) -> Vec<u8> {
    let et = if ip[0] >> 4 == 4 { ethertype::IPV4 } else { ethertype::IPV6 };
    let repr = EthernetRepr { dst, src, vlan: None, ethertype: et };
    let mut f = vec![0u8; 14 + ip.len()];
    repr.emit(&mut f).expect("ethernet");
    f[14..].copy_from_slice(ip);
    f
}

/// Parameters of a crafted IPv4 packet.
#[derive(Debug, Clone, Copy)]
pub struct V4 {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub protocol: u8,
    pub frag_offset: u16,
    pub more_frags: bool,
    pub ident: u16,
}

impl V4 {
    pub fn new(src: &str, dst: &str, ttl: u8, protocol: u8) -> V4 {
        V4 {
            src: src.parse().expect("v4"),
            dst: dst.parse().expect("v4"),
            ttl,
            protocol,
            frag_offset: 0,
            more_frags: false,
            ident: 0x1234,
        }
    }

    /// The packet with `payload`.
    pub fn build(&self, payload: &[u8]) -> Vec<u8> {
        let repr = Ipv4Repr {
            src: self.src,
            dst: self.dst,
            protocol: self.protocol,
            payload_len: payload.len(),
            ttl: self.ttl,
            dscp: 0,
            ecn: 0,
            ident: self.ident,
            dont_frag: false,
            more_frags: self.more_frags,
            frag_offset: self.frag_offset,
            options: &[],
        };
        let mut b = vec![0u8; repr.buffer_len()];
        let h = repr.emit(&mut b).expect("ipv4");
        b[h..].copy_from_slice(payload);
        b
    }
}

/// An ICMPv4 echo request message.
pub fn icmp4_echo(ident: u16, seq: u16, len: usize) -> Vec<u8> {
    let data = vec![0xa5u8; len];
    let r = Icmpv4Repr::EchoRequest { ident, seq_no: seq, data: &data };
    let mut m = vec![0u8; r.buffer_len()];
    r.emit(&mut m).expect("icmp");
    m
}

/// An ICMPv4 message of any type/code with a correct checksum.
pub fn icmp4_raw(t: u8, code: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![t, code, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(body);
    let c = via6_wire::checksum::checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// An IPv6 packet: fixed header plus `payload` (which starts with
/// `next_header`'s header).
pub fn v6_packet(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, next_header: u8, payload: &[u8]) -> Vec<u8> {
    let repr = Ipv6Repr {
        src,
        dst,
        next_header,
        payload_len: payload.len() as u16,
        hop_limit,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut b).expect("ipv6");
    b[40..].copy_from_slice(payload);
    b
}

/// An ICMPv6 message with a correct checksum.
pub fn icmp6_msg(src: Ipv6Addr, dst: Ipv6Addr, repr: &Icmpv6Repr<'_>) -> Vec<u8> {
    let mut m = vec![0u8; repr.buffer_len()];
    repr.emit(src, dst, &mut m).expect("icmpv6");
    m
}

/// An IPv6 ICMPv6 echo request packet.
pub fn v6_echo(src: &str, dst: &str, hop_limit: u8, len: usize) -> Vec<u8> {
    let (s, d): (Ipv6Addr, Ipv6Addr) = (src.parse().expect("v6"), dst.parse().expect("v6"));
    let data = vec![0x5au8; len];
    let m = icmp6_msg(s, d, &Icmpv6Repr::EchoRequest { ident: 9, seq_no: 1, data: &data });
    v6_packet(s, d, hop_limit, protocol::ICMPV6, &m)
}

/// Injects an IP packet on link 0 from h1 towards r1's eth0 MAC.
pub fn inject_from_h1(lab: &mut Lab, ip: &[u8]) {
    let f = eth_frame(mac("h1", "eth0"), mac("r1", "eth0"), ip);
    assert!(lab.inject(H1_R1, Side::A, &f));
}

/// A counter of a node by its FreeBSD name.
pub fn counter(lab: &Lab, node: &str, name: &str) -> u64 {
    lab.node(node).expect("node").stats().by_name(name).unwrap_or_else(|| panic!("no counter {name}"))
}

/// Every counter of a node, by name.
pub fn counters(lab: &Lab, node: &str) -> std::collections::BTreeMap<&'static str, u64> {
    lab.node(node).expect("node").stats().all().map(|(_, n, _, v)| (n, v)).collect()
}

/// Which counters changed between two snapshots, with their deltas.
pub fn delta(
    before: &std::collections::BTreeMap<&'static str, u64>,
    after: &std::collections::BTreeMap<&'static str, u64>,
) -> std::collections::BTreeMap<&'static str, u64> {
    after.iter().filter(|(k, v)| before.get(*k) != Some(v)).map(|(k, v)| (*k, v - before[k])).collect()
}

/// r1's IPv6 addresses on interface `ifname`.
pub fn addrs6_of(lab: &Lab, node: &str, ifname: &str) -> Vec<Ipv6Addr> {
    let st = lab.node(node).expect("node");
    let i = st.interface(st.ifindex(ifname).expect("iface")).expect("iface");
    i.addrs
        .iter()
        .filter_map(|a| match a.addr {
            IpAddr::V6(v) => Some(v),
            IpAddr::V4(_) => None,
        })
        .collect()
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}
