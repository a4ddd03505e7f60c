//! `Stack`: the façade. Drivers (the lab, the runtime) add interfaces,
//! addresses and routes, hand it received frames with `receive`, run its timers
//! with `poll`, and drain outgoing frames with `transmit`. It does no I/O and
//! reads no clock: `now` is always an argument.

use crate::addr::{self, GatewayAddr, IfIndex};
use crate::buf::{BufPool, FrameQueue, PacketBuf};
use crate::errno::{Errno, StackError, StackResult};
use crate::iface::{IfAddr, Interface, LinkKind, NdFlags, NdVars};
use crate::neigh::NeighCache;
use crate::rng::Rng;
use crate::route::{NextHop, Route, RouteId, RouteProto, RouteTable};
use crate::stats::{Counter, Stats};
use crate::sysctl::{Knob, Sysctl};
use crate::time::Instant;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use via6_wire::IpPrefix;

/// A frame (Ethernet) or packet (IP link) to send on an interface.
#[derive(Debug)]
pub struct TxFrame {
    /// The interface.
    pub ifindex: IfIndex,
    pub(crate) buf: PacketBuf,
    /// Whether its TCP payload is still in a send ring (`tcp/lend.rs`),
    /// named by the next of the stack's `lent` descriptors; never set on a
    /// frame handed out. (A flag, not the descriptor: a frame stays the
    /// size every forwarded packet moves.)
    pub(crate) lent: bool,
}

impl TxFrame {
    /// The bytes to put on the link.
    pub fn data(&self) -> &[u8] {
        self.buf.bytes()
    }
}

/// How to make an interface.
#[derive(Debug, Clone)]
pub struct InterfaceConfig {
    /// Name, unique in the node.
    pub name: String,
    /// Link kind.
    pub kind: LinkKind,
    /// MTU (defaults: 1500; loopback 16384).
    pub mtu: Option<u32>,
}

/// A line the stack wants logged (e.g. `ip6.log_cannot_forward`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// When.
    pub at: Instant,
    /// What.
    pub text: String,
}

/// The network stack of one node.
pub struct Stack {
    pub(crate) name: String,
    pub(crate) ifaces: Vec<Interface>,
    /// Every configured address (a superset filter for `is_local_address`).
    pub(crate) local_index: crate::iface::LocalIndex,
    pub(crate) routes: RouteTable,
    pub(crate) neigh: NeighCache<PacketBuf>,
    pub(crate) sysctl: Sysctl,
    pub(crate) stats: Stats,
    pub(crate) rng: Rng,
    /// SipHash key for stable IIDs (RFC 7217) and other keyed hashes.
    pub(crate) secret: [u8; 16],
    pub(crate) pool: BufPool,
    pub(crate) tx: FrameQueue<TxFrame>,
    /// The payloads of the frames in `tx` that lend them from a send ring
    /// (`tcp/lend.rs`), in queue order.
    pub(crate) lent: VecDeque<crate::tcp::Lent>,
    pub(crate) tx_limit: usize,
    /// Packets looped back to ourselves, delivered before a call returns.
    pub(crate) looped: VecDeque<(IfIndex, PacketBuf)>,
    pub(crate) echo: crate::echo::EchoTable,
    pub(crate) icmp_limit4: crate::icmp::RateLimit,
    pub(crate) icmp_limit6: crate::icmp::RateLimit,
    pub(crate) logs: VecDeque<LogLine>,
    pub(crate) ip4_ident: u16,
    pub(crate) last_now: Instant,
    pub(crate) policy: crate::srcsel::policy::PolicyTable,
    pub(crate) ra_next: Vec<(IfIndex, Instant)>,
    pub(crate) last_cannot_forward_log: Option<Instant>,
    pub(crate) frag: crate::frag::Reassembly,
    pub(crate) sockets: crate::socket::SocketTable,
    /// The batched FIB result for the frame a burst is handling now.
    pub(crate) burst_fib: Option<crate::burst::FibHint>,
    /// The last IPv6 source found valid (`ip6.source_address_validation`).
    pub(crate) src_valid6: Option<crate::ipv6::SrcValid6>,
    /// Counts every mutable access to an interface (`iface_mut`,
    /// `add_interface`): what an interface-derived memo is checked against.
    pub(crate) iface_gen: u64,
    /// The last packet TCP's in-place input found ours and from a valid
    /// source (`link::InPlaceMemo`).
    pub(crate) in_place_memo: Option<crate::link::InPlaceMemo>,
    /// Tests only: packets whose local delivery the in-place memo answered.
    #[cfg(test)]
    pub(crate) in_place_memo_hits: u64,
    /// Tests only: send everything through the general path, to compare
    /// the forwarding fast path and TCP's in-place input with it.
    #[cfg(test)]
    pub(crate) no_fast_path: bool,
}

impl Stack {
    /// A stack with no interfaces. `seed` makes every random choice
    /// reproducible.
    pub fn new(name: &str, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let secret = rng.key();
        let ip4_ident = rng.next_u32() as u16;
        Stack {
            name: name.to_string(),
            ifaces: Vec::new(),
            local_index: Default::default(),
            routes: RouteTable::new(),
            neigh: NeighCache::new(),
            sysctl: Sysctl::new(),
            stats: Stats::new(),
            rng,
            secret,
            pool: BufPool::new(1024),
            tx: FrameQueue::new(),
            lent: VecDeque::new(),
            tx_limit: 4096,
            looped: VecDeque::new(),
            echo: Default::default(),
            icmp_limit4: Default::default(),
            icmp_limit6: Default::default(),
            logs: VecDeque::new(),
            ip4_ident,
            last_now: Instant::ZERO,
            policy: Default::default(),
            ra_next: Vec::new(),
            last_cannot_forward_log: None,
            frag: Default::default(),
            sockets: Default::default(),
            burst_fib: None,
            src_valid6: None,
            iface_gen: 0,
            in_place_memo: None,
            #[cfg(test)]
            in_place_memo_hits: 0,
            #[cfg(test)]
            no_fast_path: false,
        }
    }

    /// The time of the latest call (for printing expiries).
    pub fn now(&self) -> Instant {
        self.last_now
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tunables.
    pub fn sysctl(&self) -> &Sysctl {
        &self.sysctl
    }

    /// Sets a tunable by name; refuses unknown names and out-of-range values.
    pub fn set_sysctl(&mut self, name: &str, value: i64) -> Result<i64, crate::sysctl::SysctlError> {
        self.sysctl.set_by_name(name, value)
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The interfaces, by index.
    pub fn interfaces(&self) -> &[Interface] {
        &self.ifaces
    }

    /// An interface by index.
    pub fn interface(&self, ifindex: IfIndex) -> Option<&Interface> {
        self.ifaces.get((ifindex.0 as usize).checked_sub(1)?)
    }

    /// Whether the shortcuts beside the general path run: the forwarding
    /// fast path, TCP's in-place input and its header templates. Always,
    /// except in the tests that compare them with the general path
    /// (`no_fast_path`).
    #[inline(always)]
    pub(crate) fn fast_paths_on(&self) -> bool {
        #[cfg(test)]
        return !self.no_fast_path;
        #[cfg(not(test))]
        true
    }

    pub(crate) fn iface_mut(&mut self, ifindex: IfIndex) -> Option<&mut Interface> {
        // Anything may change through it: memos of interface state go stale.
        self.iface_gen = self.iface_gen.wrapping_add(1);
        self.ifaces.get_mut((ifindex.0 as usize).checked_sub(1)?)
    }

    /// An interface's index by name.
    pub fn ifindex(&self, name: &str) -> Option<IfIndex> {
        self.ifaces.iter().find(|i| i.name == name).map(|i| i.index)
    }

    /// The route table.
    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    /// The RFC 6724 policy table (`ip6addrctl`).
    pub fn policy(&self) -> &crate::srcsel::policy::PolicyTable {
        &self.policy
    }

    /// The policy table, to change it.
    pub fn policy_mut(&mut self) -> &mut crate::srcsel::policy::PolicyTable {
        &mut self.policy
    }

    /// Bytes and fragments held by reassembly (for memory-bound checks).
    pub fn reassembly_held(&self) -> (usize, usize) {
        (self.frag.bytes(), self.frag.held)
    }

    /// The neighbour cache.
    pub fn neighbours(&self) -> &NeighCache<PacketBuf> {
        &self.neigh
    }

    /// Log lines the stack produced since the last call.
    pub fn take_logs(&mut self) -> Vec<LogLine> {
        self.logs.drain(..).collect()
    }

    pub(crate) fn log(&mut self, now: Instant, text: String) {
        if self.logs.len() >= 256 {
            self.logs.pop_front();
        }
        self.logs.push_back(LogLine { at: now, text });
    }

    /// Adds an interface. Loopbacks get 127.0.0.1/8 and ::1/128; other links
    /// get a link-local address when `auto_linklocal` is on (RFC 4862 §5.3).
    pub fn add_interface(&mut self, cfg: InterfaceConfig, now: Instant) -> StackResult<IfIndex> {
        if !via6_wire::scoped::is_valid_ifname(&cfg.name) {
            return Err(StackError::new(Errno::EINVAL, format!("invalid interface name `{}`", cfg.name)));
        }
        if self.ifindex(&cfg.name).is_some() {
            return Err(StackError::new(Errno::EEXIST, format!("interface `{}` already exists", cfg.name)));
        }
        let index = IfIndex(self.ifaces.len() as u32 + 1);
        let default_mtu = if cfg.kind == LinkKind::Loopback { 16384 } else { 1500 };
        let mtu = cfg.mtu.unwrap_or(default_mtu);
        if !(68..=65535).contains(&mtu) || (mtu < 1280 && cfg.kind != LinkKind::Loopback && mtu < 68) {
            return Err(StackError::new(Errno::EINVAL, format!("mtu {mtu} out of range [68, 65535]")));
        }
        let accept_rtadv = self.sysctl.on(Knob::Ip6AcceptRtadv);
        let auto_ll = self.sysctl.on(Knob::Ip6AutoLinklocal);
        self.iface_gen = self.iface_gen.wrapping_add(1);
        self.ifaces.push(Interface {
            index,
            name: cfg.name,
            kind: cfg.kind,
            mtu,
            up: true,
            nd: NdFlags {
                perform_nud: true,
                accept_rtadv,
                auto_linklocal: auto_ll,
                ifdisabled: false,
                no_radr: false,
            },
            nd_vars: NdVars::default(),
            addrs: Vec::new(),
            groups6: vec![addr::ALL_NODES],
            rs_left: 0,
            rs_next: None,
        });
        self.randomize_reachable(index);
        if cfg.kind == LinkKind::Loopback {
            self.add_address(index, IpAddr::V4(Ipv4Addr::LOCALHOST), 8, now)?;
            self.add_address(index, IpAddr::V6(Ipv6Addr::LOCALHOST), 128, now)?;
        } else if auto_ll {
            let ll = self.make_link_local(index);
            self.add_address(index, IpAddr::V6(ll), 64, now)?;
        }
        self.start_router_solicitation(index, now);
        Ok(index)
    }

    /// Changes an interface's MTU.
    pub fn set_mtu(&mut self, ifindex: IfIndex, mtu: u32) -> StackResult<()> {
        if !(68..=65535).contains(&mtu) {
            return Err(StackError::new(Errno::EINVAL, format!("mtu {mtu} out of range [68, 65535]")));
        }
        let i = self.iface_mut(ifindex).ok_or_else(|| no_iface(ifindex))?;
        i.mtu = mtu;
        Ok(())
    }

    /// Sets per-interface ND flags.
    pub fn set_nd_flags(&mut self, ifindex: IfIndex, flags: NdFlags, now: Instant) -> StackResult<()> {
        let i = self.iface_mut(ifindex).ok_or_else(|| no_iface(ifindex))?;
        let start_rs = flags.accept_rtadv && !i.nd.accept_rtadv;
        i.nd = flags;
        if start_rs {
            self.start_router_solicitation(ifindex, now);
        }
        Ok(())
    }

    /// Assigns an address. IPv6 addresses on non-loopback links start
    /// tentative and run DAD (RFC 4862 §5.4); a connected route follows the
    /// subnet.
    pub fn add_address(
        &mut self,
        ifindex: IfIndex,
        addr: IpAddr,
        prefix_len: u8,
        now: Instant,
    ) -> StackResult<()> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix_len > max {
            return Err(StackError::new(
                Errno::EINVAL,
                format!("prefix length {prefix_len} too long for {addr}"),
            ));
        }
        bad_unicast(addr)?;
        let dad_count = self.sysctl.get(Knob::Ip6DadCount) as u32;
        let nonce = self.rng.next_u64().to_be_bytes();
        let iface = self.iface_mut(ifindex).ok_or_else(|| no_iface(ifindex))?;
        if iface.find_addr(addr).is_some() {
            return Err(StackError::new(
                Errno::EEXIST,
                format!("{addr} is already assigned to {}", iface.name),
            ));
        }
        let mut entry = IfAddr::permanent(addr, prefix_len);
        if let IpAddr::V6(a6) = addr {
            if iface.kind != LinkKind::Loopback && dad_count > 0 {
                entry.flags.tentative = true;
                entry.dad = Some(crate::iface::DadProgress {
                    probes_left: dad_count,
                    next_at: now,
                    nonce: [nonce[0], nonce[1], nonce[2], nonce[3], nonce[4], nonce[5]],
                });
            }
            let sn = addr::solicited_node(&a6);
            if !iface.groups6.contains(&sn) {
                iface.groups6.push(sn);
            }
        }
        iface.addrs.push(entry);
        self.local_index.insert(addr, prefix_len);
        self.add_connected_route(ifindex, addr, prefix_len);
        Ok(())
    }

    /// Removes an address and its connected route.
    pub fn remove_address(&mut self, ifindex: IfIndex, addr: IpAddr) -> StackResult<()> {
        let iface = self.iface_mut(ifindex).ok_or_else(|| no_iface(ifindex))?;
        let pos = iface
            .addrs
            .iter()
            .position(|a| a.addr == addr)
            .ok_or_else(|| StackError::new(Errno::EADDRNOTAVAIL, format!("{addr} is not assigned")))?;
        let gone = iface.addrs.remove(pos);
        let still_needed = connected_prefix(gone.addr, gone.prefix_len).ok().map(|dest| {
            (dest, iface.addrs.iter().any(|a| connected_prefix(a.addr, a.prefix_len) == Ok(dest)))
        });
        self.local_index.rebuild(&self.ifaces);
        if let Some((dest, still_needed)) = still_needed {
            if !still_needed {
                let _ = self
                    .routes
                    .remove_where(dest, |r| r.proto == RouteProto::Kernel && r.ifindex == Some(ifindex));
            }
        }
        Ok(())
    }

    fn add_connected_route(&mut self, ifindex: IfIndex, addr: IpAddr, prefix_len: u8) {
        let Ok(dest) = connected_prefix(addr, prefix_len) else { return };
        if self.interface(ifindex).is_some_and(Interface::is_loopback) {
            return;
        }
        let mut r = Route::new(dest, NextHop::OnLink, Some(ifindex));
        r.proto = RouteProto::Kernel;
        let _ = self.routes.add(r);
    }

    /// Adds a route after checking it: the interface exists; a link-local
    /// gateway has a zone, which must be the route's interface; `src` is a
    /// local address of the destination's family (DESIGN §3).
    pub fn add_route(&mut self, mut route: Route) -> StackResult<RouteId> {
        if let Some(i) = route.ifindex {
            self.interface(i).ok_or_else(|| no_iface(i))?;
        }
        match route.nexthop {
            NextHop::Gateway(GatewayAddr::V6(z)) if addr::needs_zone(&z.addr) => {
                let zone = z.zone.ok_or_else(|| {
                    StackError::new(
                        Errno::EINVAL,
                        format!("link-local gateway {} needs a zone (%interface)", z.addr),
                    )
                })?;
                self.interface(zone).ok_or_else(|| no_iface(zone))?;
                match route.ifindex {
                    None => route.ifindex = Some(zone),
                    Some(i) if i != zone => {
                        return Err(StackError::new(
                            Errno::EINVAL,
                            format!("gateway zone %{zone} differs from the route's interface {i}"),
                        ))
                    }
                    Some(_) => {}
                }
            }
            NextHop::Gateway(g) if route.ifindex.is_none() => {
                let via = self.routes.lookup(g.ip()).and_then(|(_, r)| r.ifindex).ok_or_else(|| {
                    StackError::new(
                        Errno::ENETUNREACH,
                        format!("gateway {} is not reachable by any route", g.ip()),
                    )
                })?;
                route.ifindex = Some(via);
            }
            NextHop::OnLink if route.ifindex.is_none() => {
                return Err(StackError::new(Errno::EINVAL, "a direct route needs an interface"));
            }
            _ => {}
        }
        if let Some(src) = route.src {
            if src.is_ipv4() != route.dest.is_ipv4() {
                return Err(StackError::new(
                    Errno::EINVAL,
                    format!("src {src} is not of the destination {}'s family", route.dest),
                ));
            }
            if !self.is_local_address(src) {
                return Err(StackError::new(
                    Errno::EADDRNOTAVAIL,
                    format!("src {src} is not a local address"),
                ));
            }
        }
        self.routes.add(route).map_err(|e| match e {
            crate::route::RouteError::TooManyNextHops => {
                StackError::new(Errno::ENOBUFS, "no FIB id left for another next hop (4194304 in use)")
            }
            _ => StackError::new(Errno::EEXIST, "route already in table"),
        })
    }

    /// Deletes the route for `dest`, the one with `nexthop` when given.
    pub fn delete_route(&mut self, dest: IpPrefix, nexthop: Option<NextHop>) -> StackResult<Route> {
        self.routes
            .remove_where(dest, |r| nexthop.is_none_or(|n| n == r.nexthop))
            .map_err(|_| StackError::new(Errno::ESRCH, format!("route {dest} not in table")))
    }

    /// Removes every static route (FreeBSD `route flush`).
    pub fn flush_routes(&mut self, family: Option<bool>) -> usize {
        self.routes
            .retain(|r| r.proto != RouteProto::Static || family.is_some_and(|v4| r.dest.is_ipv4() != v4))
            .len()
    }

    /// Whether `addr` is assigned (and usable) on any interface.
    pub fn is_local_address(&self, addr: IpAddr) -> bool {
        self.local_ifindex(addr).is_some()
    }

    /// The interface holding `addr` as a usable address.
    pub fn local_ifindex(&self, addr: IpAddr) -> Option<IfIndex> {
        let maybe = match addr {
            IpAddr::V4(a) => self.local_index.may_hold_v4(a),
            IpAddr::V6(a) => self.local_index.may_hold_v6(&a),
        };
        if !maybe {
            return None;
        }
        self.ifaces.iter().find(|i| i.usable_addrs().any(|a| a.addr == addr)).map(|i| i.index)
    }

    /// Hands a received frame (Ethernet) or packet (IP link) to the stack.
    /// Malformed input is counted and dropped, never a panic.
    pub fn receive(&mut self, ifindex: IfIndex, frame: &[u8], now: Instant) {
        self.last_now = now;
        self.link_input(ifindex, frame, now);
        if !self.looped.is_empty() {
            self.drain_looped(now);
        }
    }

    /// Runs timers due at `now`; returns when to call again.
    pub fn poll(&mut self, now: Instant) -> Option<Instant> {
        self.last_now = now;
        self.nd_timers(now);
        self.neigh_timers(now);
        self.frag_timers(now);
        self.tcp_timers(now);
        self.drain_looped(now);
        self.next_deadline()
    }

    /// The next frame to send.
    #[inline]
    pub fn transmit(&mut self) -> Option<TxFrame> {
        // Inline only what a frame that lends nothing needs (popped
        // straight into the caller's slot).
        match self.tx.front() {
            Some(f) if !f.lent => self.tx.pop_front(),
            // Empty, with no send ring left pinned (`tcp/lend.rs`).
            None if self.sockets.tcp.pinned.is_empty() => None,
            _ => self.transmit_lent(),
        }
    }

    /// [`Stack::transmit`] past a frame that lends its payload
    /// (`tcp/lend.rs`) or the end of the queue.
    #[cold]
    #[inline(never)]
    fn transmit_lent(&mut self) -> Option<TxFrame> {
        loop {
            let Some(mut f) = self.tx.pop_front() else {
                self.unpin_lent();
                return None;
            };
            if !std::mem::take(&mut f.lent) {
                return Some(f);
            }
            let filled = self.lent.pop_front().is_some_and(|l| self.fill_lent(&mut f, &l));
            self.unpin_lent();
            if filled {
                return Some(f);
            }
            self.stats.inc(Counter::TcpsSndstale);
            self.pool.put(f.buf);
        }
    }

    /// Returns a sent frame's buffer to the pool.
    #[inline]
    pub fn recycle(&mut self, frame: TxFrame) {
        self.pool.put(frame.buf);
    }

    #[inline(always)]
    pub(crate) fn enqueue_tx(&mut self, ifindex: IfIndex, buf: PacketBuf) {
        self.enqueue_tx_lent(ifindex, buf, None);
    }

    /// [`Stack::enqueue_tx`] for a frame whose payload may still be in a
    /// send ring (`tcp/lend.rs`).
    #[inline(always)]
    pub(crate) fn enqueue_tx_lent(
        &mut self,
        ifindex: IfIndex,
        buf: PacketBuf,
        lent: Option<crate::tcp::Lent>,
    ) {
        if self.tx.len() >= self.tx_limit {
            self.stats.inc(Counter::IfsTxqdrop);
            self.pool.put(buf);
            return;
        }
        if let Some(l) = lent {
            self.lent.push_back(l);
        }
        self.tx.push_back(TxFrame { ifindex, buf, lent: lent.is_some() });
    }

    pub(crate) fn drain_looped(&mut self, now: Instant) {
        // Bounded: a packet looped back can loop back others, but never more
        // than the queue held plus what one delivery may add.
        let mut budget = 4 * (self.looped.len() + 16);
        while let Some((ifindex, buf)) = self.looped.pop_front() {
            self.ip_input(ifindex, buf, now);
            budget -= 1;
            if budget == 0 {
                break;
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut d = self.neigh.next_deadline();
        for i in &self.ifaces {
            for a in &i.addrs {
                d = crate::time::earliest(d, a.dad.map(|p| p.next_at));
                d = crate::time::earliest(d, a.valid_until);
                if !a.flags.deprecated {
                    d = crate::time::earliest(d, a.preferred_until);
                }
            }
            d = crate::time::earliest(d, i.rs_next);
        }
        d = crate::time::earliest(d, self.routes.next_expiry());
        d = crate::time::earliest(d, self.router_adv_deadline());
        d = crate::time::earliest(d, self.frag_deadline());
        d = crate::time::earliest(d, self.tcp_deadline());
        if !self.looped.is_empty() {
            d = Some(self.last_now);
        }
        d
    }

    /// Whether forwarding is on for the family of `ip`.
    pub(crate) fn forwarding(&self, v4: bool) -> bool {
        self.sysctl.on(if v4 { Knob::InetForwarding } else { Knob::Ip6Forwarding })
    }

    /// Re-draws ReachableTime (RFC 4861 §6.3.2: uniform in [0.5, 1.5) ×
    /// BaseReachableTime).
    pub(crate) fn randomize_reachable(&mut self, ifindex: IfIndex) {
        let f = 0.5 + self.rng.unit();
        if let Some(i) = self.iface_mut(ifindex) {
            i.nd_vars.reachable_ms = (f64::from(i.nd_vars.base_reachable_ms) * f) as u32;
        }
    }
}

/// The connected route prefix of an address, if it has one (not a host
/// prefix).
fn connected_prefix(addr: IpAddr, prefix_len: u8) -> Result<IpPrefix, ()> {
    let p = match addr {
        IpAddr::V4(a) if prefix_len < 32 => {
            IpPrefix::V4(via6_wire::Ipv4Prefix::new_truncating(a, prefix_len).map_err(|_| ())?)
        }
        IpAddr::V6(a) if prefix_len < 128 => {
            IpPrefix::V6(via6_wire::Ipv6Prefix::new_truncating(a, prefix_len).map_err(|_| ())?)
        }
        _ => return Err(()),
    };
    Ok(p)
}

fn bad_unicast(addr: IpAddr) -> StackResult<()> {
    let bad = match addr {
        IpAddr::V4(a) => a.is_unspecified() || a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_unspecified() || a.is_multicast() || addr::ipv4_mapped(&a).is_some(),
    };
    if bad {
        return Err(StackError::new(Errno::EINVAL, format!("{addr} cannot be an interface address")));
    }
    Ok(())
}

pub(crate) fn no_iface(i: IfIndex) -> StackError {
    StackError::new(Errno::ESRCH, format!("no interface with index {i}"))
}
