//! The index of bound UDP and TCP sockets by local port, so that the bind
//! conflict check, the ephemeral port search (RFC 6056 §3.3.2) and the
//! demultiplexing of arriving segments (RFC 9293 §3.9.2 "SEGMENT ARRIVES",
//! RFC 768) look only at the sockets on one port instead of the whole table.
//!
//! Two ordered sets, both ending in the socket's handle so that a range
//! yields candidates lowest handle first (the order the table scan had):
//! - `open`: sockets bound to a port without a peer (listeners, unconnected
//!   UDP sockets, bound TCP sockets before connect);
//! - `connected`: sockets with a peer, keyed by (local port, peer address
//!   (IPv4-mapped addresses unmapped), peer port), so a datagram finds the
//!   socket connected to its sender without walking, say, the 100 000
//!   accepted children that share a listener's port.
//!
//! Raw sockets have no ports and are not indexed. The table keeps the index
//! in step: every change of a socket's `local` or `remote` goes through
//! [`super::SocketTable::set_local`] / [`super::SocketTable::set_remote`], and
//! insert/remove add and drop the entry.

use super::bind::unmap;
use super::{Proto, Socket, SocketHandle};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The transports with ports: UDP and TCP (a raw socket has none).
fn transport(p: Proto) -> Option<u8> {
    match p {
        Proto::Udp => Some(0),
        Proto::Tcp => Some(1),
        Proto::Raw(_) => None,
    }
}

/// Whether sockets of `proto` are indexed (UDP and TCP).
pub(crate) fn indexed(p: Proto) -> bool {
    transport(p).is_some()
}

type OpenKey = (u8, u16, SocketHandle);
type ConnKey = (u8, u16, IpAddr, u16, SocketHandle);

enum Key {
    Open(OpenKey),
    Connected(ConnKey),
}

/// The entry a socket has in the index, if any (bound, UDP or TCP).
fn key(h: SocketHandle, s: &Socket) -> Option<Key> {
    let t = transport(s.proto)?;
    let l = s.local?;
    Some(match s.remote {
        None => Key::Open((t, l.port, h)),
        Some(r) => Key::Connected((t, l.port, unmap(r.ip()), r.port(), h)),
    })
}

const IP_MIN: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
const IP_MAX: IpAddr =
    IpAddr::V6(Ipv6Addr::new(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff));
const H_MIN: SocketHandle = SocketHandle(0);
const H_MAX: SocketHandle = SocketHandle(u32::MAX);

/// Bound UDP/TCP sockets by (transport, local port).
#[derive(Debug, Default)]
pub(crate) struct PortIndex {
    open: BTreeSet<OpenKey>,
    connected: BTreeSet<ConnKey>,
}

impl PortIndex {
    /// Indexes socket `h` as it is now (nothing for an unbound or raw one).
    pub(crate) fn add(&mut self, h: SocketHandle, s: &Socket) {
        match key(h, s) {
            Some(Key::Open(k)) => {
                self.open.insert(k);
            }
            Some(Key::Connected(k)) => {
                self.connected.insert(k);
            }
            None => {}
        }
    }

    /// Drops socket `h`'s entry, as it was indexed from `s`.
    pub(crate) fn remove(&mut self, h: SocketHandle, s: &Socket) {
        match key(h, s) {
            Some(Key::Open(k)) => {
                self.open.remove(&k);
            }
            Some(Key::Connected(k)) => {
                self.connected.remove(&k);
            }
            None => {}
        }
    }

    /// Sockets of `proto` bound to `port` without a peer, lowest handle first.
    pub(crate) fn open(&self, proto: Proto, port: u16) -> impl Iterator<Item = SocketHandle> + '_ {
        transport(proto)
            .into_iter()
            .flat_map(move |t| self.open.range((t, port, H_MIN)..=(t, port, H_MAX)).map(|k| k.2))
    }

    /// Sockets of `proto` bound to `port` and connected to `peer`:`peer_port`
    /// (`peer` compared unmapped), lowest handle first.
    pub(crate) fn peers(
        &self,
        proto: Proto,
        port: u16,
        peer: IpAddr,
        peer_port: u16,
    ) -> impl Iterator<Item = SocketHandle> + '_ {
        let peer = unmap(peer);
        transport(proto).into_iter().flat_map(move |t| {
            self.connected
                .range((t, port, peer, peer_port, H_MIN)..=(t, port, peer, peer_port, H_MAX))
                .map(|k| k.4)
        })
    }

    /// Every socket of `proto` bound to `port`, with or without a peer.
    pub(crate) fn on_port(&self, proto: Proto, port: u16) -> impl Iterator<Item = SocketHandle> + '_ {
        let connected = transport(proto).into_iter().flat_map(move |t| {
            self.connected
                .range((t, port, IP_MIN, 0, H_MIN)..=(t, port, IP_MAX, u16::MAX, H_MAX))
                .map(|k| k.4)
        });
        self.open(proto, port).chain(connected)
    }

    /// Whether the index holds exactly the bound UDP/TCP sockets of `table`
    /// (a check for tests).
    #[cfg(test)]
    pub(crate) fn matches<'a>(&self, table: impl Iterator<Item = (SocketHandle, &'a Socket)>) -> bool {
        let mut rebuilt = PortIndex::default();
        for (h, s) in table {
            rebuilt.add(h, s);
        }
        rebuilt.open == self.open && rebuilt.connected == self.connected
    }
}

#[cfg(test)]
mod tests {
    use super::super::bind::{self, overlaps};
    use super::super::{Family, Proto, SocketHandle, EPHEMERAL};
    use crate::iface::LinkKind;
    use crate::{Errno, IfIndex, Instant, InterfaceConfig, Stack};
    use std::collections::HashSet;
    use std::net::{IpAddr, SocketAddr};
    use via6_wire::MacAddr;

    fn node() -> Stack {
        let mut s = Stack::new("n", 11);
        s.set_sysctl("net.inet6.ip6.dad_count", 0).unwrap();
        let cfg = InterfaceConfig {
            name: "eth0".into(),
            kind: LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, 1])),
            mtu: None,
        };
        let e = s.add_interface(cfg, Instant::ZERO).unwrap();
        for a in ["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"] {
            let len = if a.contains(':') { 64 } else { 24 };
            s.add_address(e, a.parse().unwrap(), len, Instant::ZERO).unwrap();
        }
        s.poll(Instant::from_secs(5));
        s
    }

    /// 20 000 UDP sockets, 10 000 on each of two addresses, take distinct
    /// ephemeral ports per address; a conflicting explicit bind is still
    /// refused, and the index matches the table throughout.
    #[test]
    fn twenty_thousand_ephemeral_udp_binds() {
        let mut s = node();
        let mut seen = HashSet::new();
        for a in ["192.0.2.1", "192.0.2.2"] {
            for _ in 0..10_000 {
                let h = s.socket(Family::Inet, Proto::Udp);
                s.bind(h, SocketAddr::new(a.parse().unwrap(), 0)).unwrap();
                let l = s.local_addr(h).unwrap();
                assert!(EPHEMERAL.contains(&l.port()), "{l} is outside the ephemeral range");
                assert!(seen.insert(l), "{l} handed out twice");
            }
        }
        assert_eq!(seen.len(), 20_000);
        assert!(s.sockets.index_consistent());
        let taken = *seen.iter().next().unwrap();
        // The same address and port: EADDRINUSE, with or without SO_REUSEADDR.
        for reuse in [false, true] {
            let h = s.socket(Family::Inet, Proto::Udp);
            s.set_reuseaddr(h, reuse).unwrap();
            assert_eq!(s.bind(h, taken).map_err(|e| e.errno), Err(Errno::EADDRINUSE));
        }
        // The wildcard on that port conflicts with the specific binds.
        let h = s.socket(Family::Inet, Proto::Udp);
        let wild = SocketAddr::new("0.0.0.0".parse().unwrap(), taken.port());
        assert_eq!(s.bind(h, wild).map_err(|e| e.errno), Err(Errno::EADDRINUSE));
        // A dual AF_INET6 wildcard claims the specific IPv4 binds too (only
        // SO_REUSEADDR lets it in); a V6ONLY one does not touch them.
        let v6_wild = SocketAddr::new("::".parse().unwrap(), taken.port());
        let h6 = s.socket(Family::Inet6, Proto::Udp);
        s.set_v6only(h6, false).unwrap();
        assert_eq!(s.bind(h6, v6_wild).map_err(|e| e.errno), Err(Errno::EADDRINUSE));
        let h6 = s.socket(Family::Inet6, Proto::Udp);
        s.set_v6only(h6, true).unwrap();
        s.bind(h6, v6_wild).unwrap();
        // TCP ports are a separate space.
        let t = s.socket(Family::Inet, Proto::Tcp);
        s.bind(t, taken).unwrap();
        assert!(s.sockets.index_consistent());
    }

    /// Every port of the range, then no more: EADDRNOTAVAIL; closing one
    /// frees exactly that port for the next search.
    #[test]
    fn ephemeral_range_exhausts_and_refills() {
        let mut s = node();
        let span = usize::from(EPHEMERAL.end() - EPHEMERAL.start()) + 1;
        let mut ports = HashSet::new();
        let mut handles = Vec::new();
        for _ in 0..span {
            let h = s.socket(Family::Inet, Proto::Udp);
            s.bind(h, "0.0.0.0:0".parse().unwrap()).unwrap();
            assert!(ports.insert(s.local_addr(h).unwrap().port()));
            handles.push(h);
        }
        let h = s.socket(Family::Inet, Proto::Udp);
        assert_eq!(s.bind(h, "0.0.0.0:0".parse().unwrap()).map_err(|e| e.errno), Err(Errno::EADDRNOTAVAIL));
        let victim = handles[1234];
        let port = s.local_addr(victim).unwrap().port();
        s.close(victim);
        s.bind(h, "0.0.0.0:0".parse().unwrap()).unwrap();
        assert_eq!(s.local_addr(h).unwrap().port(), port);
        assert!(s.sockets.index_consistent());
    }

    /// The table scan the index replaced: the reference for the model test.
    fn reference_demux(
        s: &Stack,
        proto: Proto,
        dst: IpAddr,
        dport: u16,
        src: IpAddr,
        sport: u16,
        ifindex: IfIndex,
    ) -> Option<SocketHandle> {
        let mut best: Option<(u8, SocketHandle)> = None;
        for (h, o) in s.sockets.iter() {
            let Some(l) = o.local else { continue };
            if o.proto != proto || l.port != dport || l.zone.is_some_and(|z| z != ifindex) {
                continue;
            }
            let Some(a) = bind::accepts(o.family, o.v6only, l.addr, dst) else { continue };
            let score = match o.remote {
                Some(r) if bind::same_ip(r.ip(), src) && r.port() == sport => 3,
                Some(_) => continue,
                None => a,
            };
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, h));
            }
        }
        best.map(|(_, h)| h)
    }

    /// Whether the old whole-table conflict check would refuse `h`'s bind.
    fn reference_conflict(s: &Stack, h: SocketHandle, addr: IpAddr, port: u16) -> bool {
        let me = s.sockets.get(h).unwrap();
        let mine = bind::Coverage::of(me.family, me.v6only, addr);
        s.sockets.iter().any(|(oh, o)| {
            let (Some(ol), Some(oc)) = (o.local, o.coverage()) else { return false };
            oh != h
                && o.proto == me.proto
                && ol.port == port
                && match overlaps(mine, oc) {
                    None => false,
                    Some(_) if me.reuseport && o.reuseport => false,
                    Some(true) if me.reuseaddr => false,
                    Some(_) => true,
                }
        })
    }

    /// Random sockets (both families, V6ONLY, reuse flags, wildcard,
    /// specific and mapped binds, connected UDP, closes): every bind gets
    /// the old scan's verdict, and every datagram the old scan's socket.
    #[test]
    fn index_agrees_with_the_table_scan() {
        let mut s = node();
        let mut rng = crate::rng::Rng::new(42);
        let addrs = [
            "0.0.0.0",
            "192.0.2.1",
            "192.0.2.2",
            "::",
            "2001:db8::1",
            "2001:db8::2",
            "::ffff:192.0.2.1",
            "::ffff:0.0.0.0",
        ];
        let peers = ["192.0.2.9:7", "192.0.2.9:8", "[2001:db8::9]:7"];
        let ports = [7u16, 8, 9];
        let mut open: Vec<SocketHandle> = Vec::new();
        let (mut binds, mut refused, mut found) = (0, 0, 0);
        for round in 0..3000 {
            let pick = |rng: &mut crate::rng::Rng, n: usize| rng.below(n as u64) as usize;
            if !open.is_empty() && pick(&mut rng, 4) == 0 {
                let h = open.swap_remove(pick(&mut rng, open.len()));
                s.close(h);
            } else {
                let fam = if pick(&mut rng, 2) == 0 { Family::Inet } else { Family::Inet6 };
                let proto = if pick(&mut rng, 4) == 0 { Proto::Tcp } else { Proto::Udp };
                let h = s.socket(fam, proto);
                if fam == Family::Inet6 {
                    s.set_v6only(h, pick(&mut rng, 2) == 0).unwrap();
                }
                s.set_reuseaddr(h, pick(&mut rng, 3) == 0).unwrap();
                s.set_reuseport(h, pick(&mut rng, 5) == 0).unwrap();
                let a: IpAddr = addrs[pick(&mut rng, addrs.len())].parse().unwrap();
                let port = ports[pick(&mut rng, ports.len())];
                let sa = SocketAddr::new(a, port);
                let legal = s.check_sockaddr(fam, s.sockets.get(h).unwrap().v6only, sa).is_ok();
                let expect_refused = legal && reference_conflict(&s, h, a, port);
                match s.bind(h, sa) {
                    Ok(()) => {
                        assert!(!expect_refused, "round {round}: bind {sa} allowed, the scan refused it");
                        binds += 1;
                        if proto == Proto::Udp && pick(&mut rng, 3) == 0 {
                            let p: SocketAddr = peers[pick(&mut rng, peers.len())].parse().unwrap();
                            let p = match (fam, p) {
                                (Family::Inet6, SocketAddr::V4(v4)) => {
                                    SocketAddr::new(IpAddr::V6(v4.ip().to_ipv6_mapped()), v4.port())
                                }
                                _ => p,
                            };
                            let _ = s.connect(h, p);
                        }
                        open.push(h);
                    }
                    Err(e) if e.errno == Errno::EADDRINUSE => {
                        assert!(expect_refused, "round {round}: bind {sa} refused, the scan allowed it");
                        refused += 1;
                        s.close(h);
                    }
                    Err(_) => s.close(h),
                }
            }
            assert!(s.sockets.index_consistent(), "round {round}: index out of step");
            for dst in ["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"] {
                let dst: IpAddr = dst.parse().unwrap();
                for &dport in &ports {
                    for peer in peers {
                        let p: SocketAddr = peer.parse().unwrap();
                        if p.is_ipv4() != dst.is_ipv4() {
                            continue;
                        }
                        for proto in [Proto::Udp, Proto::Tcp] {
                            let args = (proto, dst, dport, p.ip(), p.port(), IfIndex(1));
                            let want = reference_demux(&s, args.0, args.1, args.2, args.3, args.4, args.5);
                            let got = s.sockets.demux(args.0, args.1, args.2, args.3, args.4, args.5);
                            assert_eq!(got, want, "round {round}: demux {args:?}");
                            found += usize::from(got.is_some());
                        }
                    }
                }
            }
        }
        // The model exercised both outcomes.
        assert!(binds > 100 && refused > 100 && found > 1000, "{binds} {refused} {found}");
    }
}
