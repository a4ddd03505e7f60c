//! The RIB (every route, with metrics) and the FIB (best route per prefix in an
//! LPM structure) for both families, kept in step on every change.

use super::lpm::{Lpm, PrefixKey};
use super::nexthop::{Adjacency, NextHopId, NextHopTable};
use super::{NextHop, Route};
use std::collections::BTreeMap;
use std::net::IpAddr;
use via6_wire::{IpPrefix, Ipv4Prefix, Ipv6Prefix};

/// A route's slot in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteId(pub u32);

/// Bits of a FIB value that hold the next-hop id; the bits above hold the
/// matched prefix's length, so a lookup that needs the route finds it in
/// the RIB by (prefix, length) while forwarding reads the id alone.
const NH_BITS: u32 = 22;
/// Next-hop ids the FIB can hold (4 194 304: far above the routes of two
/// full tables, and an id is reused once free).
const NH_LIMIT: u32 = 1 << NH_BITS;

/// The FIB value of a prefix of length `len` whose best route leaves by
/// next hop `nh` (`nh` below [`NH_LIMIT`], at most 128 bits: below
/// `Lpm::MAX_VALUE`).
fn fib_value(nh: NextHopId, len: u8) -> u32 {
    u32::from(len) << NH_BITS | nh.0
}

/// The next hop of a FIB value.
#[inline(always)]
fn fib_nexthop(v: u32) -> NextHopId {
    NextHopId(v & (NH_LIMIT - 1))
}

/// The matched prefix length of a FIB value.
#[inline]
fn fib_len(v: u32) -> u8 {
    (v >> NH_BITS) as u8
}

/// Destinations per batched FIB lookup ([`crate::burst::BURST`]).
const BATCH: usize = crate::burst::BURST;

/// Routes of both families.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    slots: Vec<Option<Route>>,
    /// Each slot's shared next hop (held in the FIB for the best route of
    /// each prefix, released with the route).
    nh: Vec<NextHopId>,
    nexthops: NextHopTable,
    free: Vec<u32>,
    /// RIB: every route per prefix, best (lowest metric) first.
    by_prefix: BTreeMap<IpPrefix, Vec<RouteId>>,
    fib4: Lpm<u32>,
    fib6: Lpm<u128>,
    /// Bumped on every change (for `route monitor` and caches).
    generation: u64,
    /// Routes that may carry an expiry (RA-learnt): timers look only here,
    /// never across a full Internet table.
    expiring: std::collections::BTreeSet<RouteId>,
}

/// Why a route could not be added or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    /// The same route is already in the table.
    Exists,
    /// No such route.
    NotFound,
    /// The route would need a next hop beyond the FIB's ids (more than
    /// 4 194 304 distinct next hops in use).
    TooManyNextHops,
}

impl RouteTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route; refuses an identical one (same prefix, next hop,
    /// interface and metric).
    pub fn add(&mut self, route: Route) -> Result<RouteId, RouteError> {
        let ids = self.by_prefix.entry(route.dest).or_default();
        let slots = &self.slots;
        if ids.iter().any(|id| {
            slots[id.0 as usize].as_ref().is_some_and(|r| {
                r.nexthop == route.nexthop && r.ifindex == route.ifindex && r.metric == route.metric
            })
        }) {
            return Err(RouteError::Exists);
        }
        let nh = self.nexthops.acquire(Adjacency::of(&route));
        if nh.0 >= NH_LIMIT {
            self.nexthops.release(nh);
            return Err(RouteError::TooManyNextHops);
        }
        let id = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(route.clone());
                self.nh[i as usize] = nh;
                RouteId(i)
            }
            None => {
                self.slots.push(Some(route.clone()));
                self.nh.push(nh);
                RouteId((self.slots.len() - 1) as u32)
            }
        };
        if route.expires.is_some() {
            self.expiring.insert(id);
        }
        let ids = self.by_prefix.entry(route.dest).or_default();
        ids.push(id);
        let slots = &self.slots;
        ids.sort_by_key(|i| slots[i.0 as usize].as_ref().map_or(u32::MAX, |r| r.metric));
        self.refresh_fib(route.dest);
        Ok(id)
    }

    /// Removes the first route for `dest` matching `pred`.
    pub fn remove_where(
        &mut self,
        dest: IpPrefix,
        pred: impl Fn(&Route) -> bool,
    ) -> Result<Route, RouteError> {
        let ids = self.by_prefix.get_mut(&dest).ok_or(RouteError::NotFound)?;
        let pos = ids
            .iter()
            .position(|id| self.slots[id.0 as usize].as_ref().is_some_and(&pred))
            .ok_or(RouteError::NotFound)?;
        let id = ids.remove(pos);
        if ids.is_empty() {
            self.by_prefix.remove(&dest);
        }
        let route = self.slots[id.0 as usize].take().ok_or(RouteError::NotFound)?;
        self.nexthops.release(self.nh[id.0 as usize]);
        self.expiring.remove(&id);
        self.free.push(id.0);
        self.refresh_fib(dest);
        Ok(route)
    }

    /// Removes every route matching `pred`; returns them.
    pub fn retain(&mut self, keep: impl Fn(&Route) -> bool) -> Vec<Route> {
        let doomed: Vec<(IpPrefix, Route)> =
            self.iter().filter(|(_, r)| !keep(r)).map(|(_, r)| (r.dest, r.clone())).collect();
        let mut removed = Vec::new();
        for (dest, r) in doomed {
            if let Ok(x) = self.remove_where(dest, |c| *c == r) {
                removed.push(x);
            }
        }
        removed
    }

    /// The earliest expiry of any route (RA-learnt routes carry one).
    pub fn next_expiry(&self) -> Option<crate::time::Instant> {
        self.expiring.iter().filter_map(|id| self.get(*id)?.expires).min()
    }

    /// Removes the routes whose expiry is at or before `now`; returns them.
    pub fn expire(&mut self, now: crate::time::Instant) -> Vec<Route> {
        let doomed: Vec<Route> = self
            .expiring
            .iter()
            .filter_map(|id| self.get(*id))
            .filter(|r| r.expires.is_some_and(|t| t <= now))
            .cloned()
            .collect();
        let mut removed = Vec::new();
        for r in doomed {
            if let Ok(x) = self.remove_where(r.dest, |c| *c == r) {
                removed.push(x);
            }
        }
        removed
    }

    /// The best route for `addr` by longest prefix, then lowest metric.
    ///
    /// The FIB gives the matched prefix's length with its next hop; the
    /// route is the first (best) of that prefix's routes in the RIB.
    #[inline]
    pub fn lookup(&self, addr: IpAddr) -> Option<(RouteId, &Route)> {
        let prefix = match addr {
            IpAddr::V4(a) => {
                let len = fib_len(self.fib4.lookup(a.to_bits())?);
                IpPrefix::V4(Ipv4Prefix::new_truncating(a, len).ok()?)
            }
            IpAddr::V6(a) => {
                let len = fib_len(self.fib6.lookup(a.to_bits())?);
                IpPrefix::V6(Ipv6Prefix::new_truncating(a, len).ok()?)
            }
        };
        let id = *self.by_prefix.get(&prefix)?.first()?;
        self.slots.get(id.0 as usize)?.as_ref().map(|r| (id, r))
    }

    /// The forwarding lookup (RFC 1812 §5.2.4.3): the shared next hop of
    /// the best route for `addr`, without reading the route itself.
    #[inline]
    pub fn forward_lookup(&self, addr: IpAddr) -> Option<(NextHopId, &Adjacency)> {
        let id = match addr {
            IpAddr::V4(a) => self.fib4.lookup(a.to_bits()),
            IpAddr::V6(a) => self.fib6.lookup(a.to_bits()),
        };
        self.forward_entry(id)
    }

    /// [`RouteTable::forward_lookup`] for an IPv4 destination.
    #[inline]
    pub fn forward_lookup_v4(&self, addr: std::net::Ipv4Addr) -> Option<(NextHopId, &Adjacency)> {
        self.forward_entry(self.fib4.lookup(addr.to_bits()))
    }

    /// [`RouteTable::forward_lookup`] for an IPv6 destination.
    #[inline]
    pub fn forward_lookup_v6(&self, addr: &std::net::Ipv6Addr) -> Option<(NextHopId, &Adjacency)> {
        self.forward_entry(self.fib6.lookup(addr.to_bits()))
    }

    /// [`RouteTable::forward_lookup`] for a burst of IPv4 destinations at
    /// once (RFC 1812 §5.2.4.3): `out[i]` is the next hop of the best route
    /// for `addrs[i]`, to be read with [`RouteTable::nexthop_entry`]. The
    /// LPM walks every destination first (its reads overlap); its values
    /// are the next-hop ids (no read of the route or a per-route array).
    #[inline]
    pub fn forward_lookup_batch_v4(&self, addrs: &[u32], out: &mut [Option<NextHopId>]) {
        self.forward_lookup_batch(&self.fib4, addrs, out);
    }

    /// [`RouteTable::forward_lookup_batch_v4`] for IPv6 destinations.
    #[inline]
    pub fn forward_lookup_batch_v6(&self, addrs: &[u128], out: &mut [Option<NextHopId>]) {
        self.forward_lookup_batch(&self.fib6, addrs, out);
    }

    /// Both families' batched lookup: the LPM for a chunk, then its values'
    /// next-hop ids.
    #[inline(always)]
    fn forward_lookup_batch<K: PrefixKey>(&self, fib: &Lpm<K>, addrs: &[K], out: &mut [Option<NextHopId>]) {
        let mut ids = [None; BATCH];
        for (a, o) in addrs.chunks(BATCH).zip(out.chunks_mut(BATCH)) {
            let ids = &mut ids[..a.len()];
            fib.lookup_batch(a, ids);
            self.nexthops_of(ids, o);
        }
    }

    /// The next-hop ids of a burst of FIB values.
    #[inline(always)]
    fn nexthops_of(&self, fib: &[Option<u32>], out: &mut [Option<NextHopId>]) {
        for (f, o) in fib.iter().zip(out.iter_mut()) {
            *o = f.map(fib_nexthop);
        }
    }

    /// The rest of [`RouteTable::forward_lookup`] for a FIB value: its
    /// shared next hop and adjacency.
    #[inline]
    pub fn forward_entry(&self, fib: Option<u32>) -> Option<(NextHopId, &Adjacency)> {
        self.nexthop_entry(fib_nexthop(fib?))
    }

    /// A next hop found by a batched lookup, with its adjacency.
    #[inline]
    pub fn nexthop_entry(&self, nh: NextHopId) -> Option<(NextHopId, &Adjacency)> {
        self.nexthops.get(nh).map(|a| (nh, a))
    }

    /// The shared next-hop table.
    pub fn nexthops(&self) -> &NextHopTable {
        &self.nexthops
    }

    /// Records where a next hop's neighbour entry lives (a forwarding hint).
    #[inline]
    pub fn set_neigh_hint(&mut self, id: NextHopId, slot: u32) {
        self.nexthops.set_neigh_hint(id, slot);
    }

    /// A route by id.
    pub fn get(&self, id: RouteId) -> Option<&Route> {
        self.slots.get(id.0 as usize)?.as_ref()
    }

    /// Changes a route in place (e.g. to refresh an RA lifetime) and
    /// re-derives its shared next hop. A changed prefix or metric is put
    /// back: those change its place in the RIB (remove and add instead).
    pub fn modify(&mut self, id: RouteId, f: impl FnOnce(&mut Route)) -> Option<&Route> {
        let r = self.slots.get_mut(id.0 as usize)?.as_mut()?;
        let before = r.clone();
        let (dest, metric) = (r.dest, r.metric);
        f(r);
        r.dest = dest;
        r.metric = metric;
        let adj = Adjacency::of(r);
        if r.expires.is_some() {
            self.expiring.insert(id);
        }
        let old = self.nh[id.0 as usize];
        if self.nexthops.get(old) != Some(&adj) {
            let nh = self.nexthops.acquire(adj);
            if nh.0 >= NH_LIMIT {
                // No FIB id for the new next hop: the route stays as it was.
                self.nexthops.release(nh);
                self.slots[id.0 as usize] = Some(before);
                return None;
            }
            self.nh[id.0 as usize] = nh;
            self.nexthops.release(old);
        }
        // The FIB holds the best route's next hop: refresh it.
        self.refresh_fib(dest);
        self.slots.get(id.0 as usize)?.as_ref()
    }

    /// Every route, ordered by prefix then metric.
    pub fn iter(&self) -> impl Iterator<Item = (RouteId, &Route)> {
        self.by_prefix
            .values()
            .flatten()
            .filter_map(|id| self.slots[id.0 as usize].as_ref().map(|r| (*id, r)))
    }

    /// Routes of exactly `dest`, best first.
    pub fn routes_for(&self, dest: IpPrefix) -> impl Iterator<Item = (RouteId, &Route)> {
        self.by_prefix
            .get(&dest)
            .into_iter()
            .flatten()
            .filter_map(|id| self.slots[id.0 as usize].as_ref().map(|r| (*id, r)))
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Whether there are no routes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Changes so far.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn refresh_fib(&mut self, dest: IpPrefix) {
        self.generation += 1;
        let best = self.by_prefix.get(&dest).and_then(|ids| ids.first());
        let value = best.map(|id| fib_value(self.nh[id.0 as usize], dest.prefix_len()));
        match (dest, value) {
            (IpPrefix::V4(p), Some(v)) => self.fib4.insert(p.addr().to_bits(), p.prefix_len(), v),
            (IpPrefix::V4(p), None) => {
                self.fib4.remove(p.addr().to_bits(), p.prefix_len());
            }
            (IpPrefix::V6(p), Some(v)) => self.fib6.insert(p.addr().to_bits(), p.prefix_len(), v),
            (IpPrefix::V6(p), None) => {
                self.fib6.remove(p.addr().to_bits(), p.prefix_len());
            }
        }
    }
}

impl Route {
    /// A static route via `nexthop` out of `ifindex`.
    pub fn new(dest: IpPrefix, nexthop: NextHop, ifindex: Option<crate::addr::IfIndex>) -> Self {
        Route {
            dest,
            nexthop,
            ifindex,
            src: None,
            metric: 0,
            proto: super::RouteProto::Static,
            mtu: 0,
            expires: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{GatewayAddr, IfIndex, ZonedIpv6};

    fn v4_via_v6() -> Route {
        Route::new(
            "0.0.0.0/0".parse().unwrap(),
            NextHop::Gateway(GatewayAddr::V6(ZonedIpv6 {
                addr: "fe80::1".parse().unwrap(),
                zone: Some(IfIndex(2)),
            })),
            Some(IfIndex(2)),
        )
    }

    #[test]
    fn ipv4_route_with_ipv6_gateway_is_first_class() {
        let mut t = RouteTable::new();
        t.add(v4_via_v6()).unwrap();
        let (_, r) = t.lookup("203.0.113.2".parse().unwrap()).unwrap();
        assert!(matches!(r.nexthop, NextHop::Gateway(GatewayAddr::V6(_))));
        assert_eq!(r.flags(), "UGS");
        assert_eq!(t.add(v4_via_v6()), Err(RouteError::Exists));
    }

    #[test]
    fn forwarding_reads_shared_next_hops() {
        let mut t = RouteTable::new();
        let a = t.add(v4_via_v6()).unwrap();
        let mut host = v4_via_v6();
        host.dest = "203.0.113.0/24".parse().unwrap();
        let b = t.add(host).unwrap();
        let (n1, adj) = t.forward_lookup("198.51.100.1".parse().unwrap()).unwrap();
        assert_eq!(*adj, Adjacency::of(t.get(a).unwrap()));
        let (n2, _) = t.forward_lookup("203.0.113.9".parse().unwrap()).unwrap();
        assert_eq!((n1, t.nexthops().len()), (n2, 1), "one shared next hop");
        t.modify(b, |r| r.mtu = 1280).unwrap();
        let (n3, adj) = t.forward_lookup("203.0.113.9".parse().unwrap()).unwrap();
        assert_ne!(n3, n1);
        assert_eq!((adj.mtu, t.nexthops().len()), (1280, 2));
        t.remove_where("203.0.113.0/24".parse().unwrap(), |_| true).unwrap();
        assert_eq!(t.nexthops().len(), 1);
        assert_eq!(t.forward_lookup("203.0.113.9".parse().unwrap()).unwrap().0, n1);
        t.retain(|_| false);
        assert!(t.nexthops().is_empty());
        assert!(t.forward_lookup("203.0.113.9".parse().unwrap()).is_none());
    }

    /// The batched forwarding lookup (more than one batch's worth, both
    /// families, hits and misses) equals the one-at-a-time lookup.
    /// The FIB holds next-hop ids and matched lengths, not routes: the
    /// route a lookup returns is the best (lowest metric) of the longest
    /// matching prefix's routes, through every change of that set
    /// (RFC 1812 §5.2.4.3), and forwarding follows the best route's next hop.
    #[test]
    fn lookup_finds_the_best_route_of_the_longest_prefix() {
        let mut t = RouteTable::new();
        let on = |dest: &str, i: u32, metric: u32| {
            let mut r = Route::new(dest.parse().unwrap(), NextHop::OnLink, Some(IfIndex(i)));
            r.metric = metric;
            r
        };
        let dst: IpAddr = "10.1.2.3".parse().unwrap();
        t.add(on("10.0.0.0/8", 1, 0)).unwrap();
        let worse = t.add(on("10.1.0.0/16", 2, 20)).unwrap();
        let best = t.add(on("10.1.0.0/16", 3, 10)).unwrap();
        let v6 = t.add(on("2001:db8::/32", 4, 0)).unwrap();
        assert_eq!(t.lookup(dst).map(|(id, _)| id), Some(best));
        assert_eq!(t.forward_lookup(dst).unwrap().1.ifindex, Some(IfIndex(3)));
        assert_eq!(t.lookup("2001:db8::1".parse().unwrap()).map(|(id, _)| id), Some(v6));
        t.remove_where("10.1.0.0/16".parse().unwrap(), |r| r.metric == 10).unwrap();
        assert_eq!(t.lookup(dst).map(|(id, _)| id), Some(worse));
        assert_eq!(t.forward_lookup(dst).unwrap().1.ifindex, Some(IfIndex(2)));
        t.modify(worse, |r| r.ifindex = Some(IfIndex(5))).unwrap();
        assert_eq!(t.forward_lookup(dst).unwrap().1.ifindex, Some(IfIndex(5)));
        t.remove_where("10.1.0.0/16".parse().unwrap(), |_| true).unwrap();
        let (_, r) = t.lookup(dst).unwrap();
        assert_eq!((r.dest.prefix_len(), r.ifindex), (8, Some(IfIndex(1))));
        assert!(t.lookup("192.0.2.1".parse().unwrap()).is_none());
    }

    #[test]
    fn batched_lookup_equals_one_by_one() {
        let mut t = RouteTable::new();
        t.add(Route::new("10.0.0.0/8".parse().unwrap(), NextHop::OnLink, Some(IfIndex(1)))).unwrap();
        let mut r = v4_via_v6();
        r.dest = "10.1.0.0/16".parse().unwrap();
        t.add(r).unwrap();
        t.add(Route::new("10.1.2.0/24".parse().unwrap(), NextHop::Blackhole, None)).unwrap();
        t.add(Route::new("2001:db8::/32".parse().unwrap(), NextHop::OnLink, Some(IfIndex(3)))).unwrap();
        t.add(Route::new("2001:db8:1::/48".parse().unwrap(), NextHop::Reject, None)).unwrap();
        // Every seventh address is outside every route.
        let a4: Vec<u32> = (0..100u32)
            .map(|i| (0x0a + u32::from(i % 7 == 0)) << 24 | (i % 4) << 16 | (i % 5) << 8 | i)
            .collect();
        let a6: Vec<u128> =
            (0..100u128).map(|i| (0x2001_0db8 + u128::from(i % 7 == 0)) << 96 | (i % 3) << 80 | i).collect();
        let mut o4 = vec![Some(NextHopId(99)); a4.len()];
        let mut o6 = vec![Some(NextHopId(99)); a6.len()];
        t.forward_lookup_batch_v4(&a4, &mut o4);
        t.forward_lookup_batch_v6(&a6, &mut o6);
        for (a, o) in a4.iter().zip(&o4) {
            let one = t.forward_lookup(IpAddr::V4((*a).into())).map(|(i, _)| i);
            assert_eq!(*o, one, "{a:#x}");
        }
        for (a, o) in a6.iter().zip(&o6) {
            let one = t.forward_lookup(IpAddr::V6((*a).into())).map(|(i, _)| i);
            assert_eq!(*o, one, "{a:#x}");
        }
        assert!(o4.iter().any(Option::is_none) && o6.iter().any(Option::is_none));
        assert!(o4.iter().flatten().collect::<std::collections::HashSet<_>>().len() == 3);
    }

    #[test]
    fn only_expiring_routes_are_timed() {
        let mut t = RouteTable::new();
        let mut ra = Route::new("::/0".parse().unwrap(), NextHop::OnLink, Some(IfIndex(1)));
        ra.expires = Some(crate::time::Instant::from_secs(10));
        t.add(ra).unwrap();
        t.add(Route::new("2001:db8::/32".parse().unwrap(), NextHop::OnLink, Some(IfIndex(1)))).unwrap();
        assert_eq!(t.next_expiry(), Some(crate::time::Instant::from_secs(10)));
        assert!(t.expire(crate::time::Instant::from_secs(9)).is_empty());
        assert_eq!(t.expire(crate::time::Instant::from_secs(10)).len(), 1);
        assert_eq!((t.len(), t.next_expiry()), (1, None));
    }

    #[test]
    fn lowest_metric_then_fallback_on_delete() {
        let mut t = RouteTable::new();
        let mut a = Route::new("10.0.0.0/8".parse().unwrap(), NextHop::OnLink, Some(IfIndex(1)));
        a.metric = 10;
        let mut b = a.clone();
        b.metric = 5;
        b.ifindex = Some(IfIndex(2));
        t.add(a).unwrap();
        t.add(b.clone()).unwrap();
        assert_eq!(t.lookup("10.1.1.1".parse().unwrap()).unwrap().1.ifindex, Some(IfIndex(2)));
        t.remove_where(b.dest, |r| r.metric == 5).unwrap();
        assert_eq!(t.lookup("10.1.1.1".parse().unwrap()).unwrap().1.ifindex, Some(IfIndex(1)));
        assert_eq!(t.len(), 1);
        t.retain(|_| false);
        assert!(t.lookup("10.1.1.1".parse().unwrap()).is_none());
        assert!(t.is_empty());
    }
}
