//! One neighbour cache for ARP (IPv4 neighbours) and NDP (IPv6 neighbours),
//! with the reachability states of RFC 4861 §7.3.2 for both.
//!
//! The cache is keyed by (interface, neighbour address). The *neighbour's*
//! family picks the protocol (ARP or NDP); what waits in an entry's queue may be
//! a packet of either family (an IPv4 packet waiting on an IPv6 gateway). The
//! cache is a pure state machine: it returns actions, the stack sends packets.

use crate::addr::IfIndex;
use crate::time::Instant;
use core::time::Duration;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use via6_wire::MacAddr;

/// Reachability state (RFC 4861 §7.3.2), plus `Permanent` for static entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NudState {
    /// Resolution in progress; packets are held.
    Incomplete,
    /// Recently confirmed reachable.
    Reachable,
    /// Not confirmed recently; used as is until traffic is sent.
    Stale,
    /// Traffic was sent while stale; waiting for upper-layer confirmation.
    Delay,
    /// Sending unicast probes.
    Probe,
    /// Configured, never expires.
    Permanent,
}

impl NudState {
    /// The name `ndp -a` and `ip neigh` print.
    pub fn name(&self) -> &'static str {
        match self {
            NudState::Incomplete => "INCOMPLETE",
            NudState::Reachable => "REACHABLE",
            NudState::Stale => "STALE",
            NudState::Delay => "DELAY",
            NudState::Probe => "PROBE",
            NudState::Permanent => "PERMANENT",
        }
    }
}

/// A neighbour's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NeighKey {
    /// The link.
    pub ifindex: IfIndex,
    /// The neighbour's address (v4: ARP, v6: NDP).
    pub addr: IpAddr,
}

/// Two hasher writes instead of the derived four (the key is hashed on
/// every forwarded packet); equal keys hash equally, as `Eq` requires.
impl std::hash::Hash for NeighKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (family, bits) = match self.addr {
            IpAddr::V4(a) => (0u64, u128::from(a.to_bits())),
            IpAddr::V6(a) => (1u64 << 32, a.to_bits()),
        };
        state.write_u128(bits);
        state.write_u64(family | u64::from(self.ifindex.0));
    }
}

/// A cache entry.
#[derive(Debug, Clone)]
pub struct Neighbour<P> {
    /// State.
    pub state: NudState,
    /// Link-layer address, once known.
    pub lladdr: Option<MacAddr>,
    /// The IsRouter flag (RFC 4861 §7.2.5).
    pub is_router: bool,
    /// Solicitations sent in the current INCOMPLETE or PROBE phase.
    pub probes: u32,
    /// When the current state's timer fires.
    pub deadline: Option<Instant>,
    /// Packets awaiting resolution, oldest first.
    pub queue: VecDeque<P>,
}

/// Timers and limits for one resolution (from sysctls and the interface's
/// ND variables).
#[derive(Debug, Clone, Copy)]
pub struct NudParams {
    /// RetransTimer.
    pub retrans: Duration,
    /// ReachableTime (already randomised).
    pub reachable: Duration,
    /// DELAY_FIRST_PROBE_TIME.
    pub delay: Duration,
    /// MAX_MULTICAST_SOLICIT (broadcast ARP requests for IPv4).
    pub max_multicast: u32,
    /// MAX_UNICAST_SOLICIT.
    pub max_unicast: u32,
    /// Packets held per entry.
    pub max_queue: usize,
}

/// What the stack must do for the cache.
#[derive(Debug)]
pub enum NeighAction<P> {
    /// Send a solicitation (ARP request / NS) for `key`; to `unicast` when
    /// probing a known address, else multicast/broadcast.
    Solicit {
        /// The neighbour.
        key: NeighKey,
        /// Unicast destination when probing.
        unicast: Option<MacAddr>,
    },
    /// Resolution failed: answer the held packets' sources with ICMP
    /// unreachable (RFC 4861 §7.2.2, RFC 1812 §4.3.3.1).
    Failed {
        /// The neighbour.
        key: NeighKey,
        /// Held packets.
        held: Vec<P>,
    },
}

/// What `resolve` decided for an outgoing packet.
#[derive(Debug)]
pub enum Resolution<P> {
    /// Send now to this MAC.
    Ready(MacAddr, P),
    /// Held in the entry's queue; if the queue was full, the oldest packet was
    /// pushed out and is returned for counting.
    Held {
        /// A packet pushed out of a full queue.
        dropped: Option<P>,
        /// Whether a solicitation must be sent now.
        solicit: bool,
    },
}

/// Where an entry lives in the cache's slab: a hint the forwarding path
/// keeps per next hop so that a resolved gateway sends without hashing its
/// key. A hint is only ever trusted after the slot's key is compared, so a
/// stale hint (entry removed, slot reused) simply misses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NeighSlot(pub u32);

/// The cache: entries in a slab (stable slots while they live) and a map
/// from key to slot.
#[derive(Debug, Clone)]
pub struct NeighCache<P> {
    slots: Vec<Option<(NeighKey, Neighbour<P>)>>,
    index: HashMap<NeighKey, u32>,
    free: Vec<u32>,
}

impl<P> Default for NeighCache<P> {
    fn default() -> Self {
        NeighCache { slots: Vec::new(), index: HashMap::new(), free: Vec::new() }
    }
}

impl<P> NeighCache<P> {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// An entry.
    pub fn get(&self, key: &NeighKey) -> Option<&Neighbour<P>> {
        let i = *self.index.get(key)?;
        self.slots.get(i as usize)?.as_ref().map(|(_, n)| n)
    }

    fn get_mut(&mut self, key: &NeighKey) -> Option<&mut Neighbour<P>> {
        let i = *self.index.get(key)?;
        self.slots.get_mut(i as usize)?.as_mut().map(|(_, n)| n)
    }

    /// The entry for `key`, created with `make` if absent.
    fn get_or_insert(&mut self, key: NeighKey, make: impl FnOnce() -> Neighbour<P>) -> &mut Neighbour<P> {
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => self.alloc(key),
        };
        // A fresh slot is empty and is filled here; an indexed one is occupied.
        &mut self.slots[i as usize].get_or_insert_with(|| (key, make())).1
    }

    /// Reserves an empty slot for `key` and indexes it.
    fn alloc(&mut self, key: NeighKey) -> u32 {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(key, i);
        i
    }

    fn take(&mut self, key: &NeighKey) -> Option<Neighbour<P>> {
        let i = self.index.remove(key)?;
        let (_, n) = self.slots.get_mut(i as usize)?.take()?;
        self.free.push(i);
        Some(n)
    }

    /// Every entry, in key order.
    pub fn entries(&self) -> Vec<(NeighKey, &Neighbour<P>)> {
        let mut v: Vec<_> = self.slots.iter().flatten().map(|(k, n)| (*k, n)).collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    /// Packets held across all entries (for memory bounds).
    pub fn held(&self) -> usize {
        self.slots.iter().flatten().map(|(_, n)| n.queue.len()).sum()
    }

    /// The slot of `key`'s entry, to be kept as a hint for
    /// [`NeighCache::ready_at`].
    pub fn slot(&self, key: &NeighKey) -> Option<NeighSlot> {
        self.index.get(key).map(|&i| NeighSlot(i))
    }

    /// [`NeighCache::ready`] through a slot hint, without hashing: `None`
    /// when the slot no longer holds `key` or the entry needs the full path.
    #[inline(always)]
    pub fn ready_at(&self, slot: NeighSlot, key: &NeighKey) -> Option<MacAddr> {
        let (k, e) = self.slots.get(slot.0 as usize)?.as_ref()?;
        if k != key {
            return None;
        }
        Self::sends(e)
    }

    #[inline(always)]
    fn sends(e: &Neighbour<P>) -> Option<MacAddr> {
        match e.state {
            NudState::Reachable | NudState::Delay | NudState::Probe | NudState::Permanent => e.lladdr,
            NudState::Incomplete | NudState::Stale => None,
        }
    }

    /// The fast path of [`NeighCache::resolve`]: the link-layer address of
    /// an entry that sends without a state change (REACHABLE, DELAY, PROBE,
    /// PERMANENT — RFC 4861 §7.3.3); `None` means take the full path.
    #[inline]
    pub fn ready(&self, key: &NeighKey) -> Option<MacAddr> {
        Self::sends(self.get(key)?)
    }

    /// Finds the link-layer address for an outgoing packet, or holds it
    /// (RFC 4861 §7.2.2, §7.3.3: sending to a STALE entry moves it to DELAY).
    pub fn resolve(&mut self, key: NeighKey, pkt: P, now: Instant, p: &NudParams) -> Resolution<P> {
        let e = self.get_or_insert(key, || Neighbour {
            state: NudState::Incomplete,
            lladdr: None,
            is_router: false,
            probes: 0,
            deadline: None,
            queue: VecDeque::new(),
        });
        match (e.state, e.lladdr) {
            (NudState::Stale, Some(mac)) => {
                e.state = NudState::Delay;
                e.deadline = Some(now + p.delay);
                Resolution::Ready(mac, pkt)
            }
            (NudState::Reachable | NudState::Delay | NudState::Probe | NudState::Permanent, Some(mac)) => {
                Resolution::Ready(mac, pkt)
            }
            _ => {
                e.state = NudState::Incomplete;
                let dropped = if e.queue.len() >= p.max_queue.max(1) { e.queue.pop_front() } else { None };
                e.queue.push_back(pkt);
                let solicit = e.probes == 0;
                if solicit {
                    e.probes = 1;
                    e.deadline = Some(now + p.retrans);
                }
                Resolution::Held { dropped, solicit }
            }
        }
    }

    /// A solicited or unsolicited advertisement (NA, ARP reply) arrived
    /// (RFC 4861 §7.2.5). Returns the held packets with the MAC to send them to.
    #[allow(clippy::too_many_arguments)]
    pub fn advertised(
        &mut self,
        key: NeighKey,
        lladdr: Option<MacAddr>,
        solicited: bool,
        override_: bool,
        is_router: Option<bool>,
        now: Instant,
        p: &NudParams,
    ) -> Option<(MacAddr, Vec<P>)> {
        let e = self.get_mut(&key)?;
        if e.state == NudState::Permanent {
            return None;
        }
        if let Some(r) = is_router {
            e.is_router = r;
        }
        if e.state == NudState::Incomplete {
            let mac = lladdr?;
            e.lladdr = Some(mac);
            e.probes = 0;
            if solicited {
                e.state = NudState::Reachable;
                e.deadline = Some(now + p.reachable);
            } else {
                e.state = NudState::Stale;
                e.deadline = None;
            }
            return Some((mac, e.queue.drain(..).collect()));
        }
        let changed = lladdr.is_some_and(|m| Some(m) != e.lladdr);
        if !override_ && changed {
            // §7.2.5: a non-override advertisement with a different address
            // only marks a REACHABLE entry STALE.
            if e.state == NudState::Reachable {
                e.state = NudState::Stale;
                e.deadline = None;
            }
            return None;
        }
        if changed {
            e.lladdr = lladdr;
        }
        if solicited {
            e.state = NudState::Reachable;
            e.probes = 0;
            e.deadline = Some(now + p.reachable);
        } else if changed {
            e.state = NudState::Stale;
            e.deadline = None;
        }
        None
    }

    /// A packet from the neighbour carried its link-layer address (an NS's
    /// source link-layer option, an RS, an ARP request) (RFC 4861 §7.2.3):
    /// create or update the entry as STALE. Returns held packets if it was
    /// INCOMPLETE.
    pub fn learned(&mut self, key: NeighKey, mac: MacAddr) -> Option<(MacAddr, Vec<P>)> {
        let e = self.get_or_insert(key, || Neighbour {
            state: NudState::Stale,
            lladdr: Some(mac),
            is_router: false,
            probes: 0,
            deadline: None,
            queue: VecDeque::new(),
        });
        if e.state == NudState::Permanent {
            return None;
        }
        if e.lladdr != Some(mac) || e.state == NudState::Incomplete {
            let was_incomplete = e.state == NudState::Incomplete;
            e.lladdr = Some(mac);
            e.state = NudState::Stale;
            e.deadline = None;
            e.probes = 0;
            if was_incomplete {
                return Some((mac, e.queue.drain(..).collect()));
            }
        }
        None
    }

    /// Upper-layer reachability confirmation (RFC 4861 §7.3.1: e.g. TCP
    /// progress).
    pub fn confirm(&mut self, key: NeighKey, now: Instant, p: &NudParams) {
        if let Some(e) = self.get_mut(&key) {
            if e.lladdr.is_some() && e.state != NudState::Permanent {
                e.state = NudState::Reachable;
                e.probes = 0;
                e.deadline = Some(now + p.reachable);
            }
        }
    }

    /// Installs a permanent entry.
    pub fn set_permanent(&mut self, key: NeighKey, mac: MacAddr) {
        let n = Neighbour {
            state: NudState::Permanent,
            lladdr: Some(mac),
            is_router: false,
            probes: 0,
            deadline: None,
            queue: VecDeque::new(),
        };
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => self.alloc(key),
        };
        self.slots[i as usize] = Some((key, n));
    }

    /// Removes an entry; returns its held packets.
    pub fn remove(&mut self, key: &NeighKey) -> Option<Neighbour<P>> {
        self.take(key)
    }

    /// Removes every entry of an interface.
    pub fn flush_interface(&mut self, ifindex: IfIndex) {
        let keys: Vec<NeighKey> = self.index.keys().filter(|k| k.ifindex == ifindex).copied().collect();
        for k in keys {
            self.take(&k);
        }
    }

    /// Runs the timers (RFC 4861 §7.3.3). `params` gives the timers for a key.
    pub fn poll(&mut self, now: Instant, params: impl Fn(&NeighKey) -> NudParams) -> Vec<NeighAction<P>> {
        let mut actions = Vec::new();
        let mut dead = Vec::new();
        for (key, e) in self.slots.iter_mut().flatten() {
            let Some(deadline) = e.deadline else { continue };
            if deadline > now {
                continue;
            }
            let p = params(key);
            match e.state {
                NudState::Incomplete => {
                    if e.probes < p.max_multicast {
                        e.probes += 1;
                        e.deadline = Some(now + p.retrans);
                        actions.push(NeighAction::Solicit { key: *key, unicast: None });
                    } else {
                        dead.push((*key, true));
                    }
                }
                NudState::Reachable => {
                    e.state = NudState::Stale;
                    e.deadline = None;
                }
                NudState::Delay => {
                    e.state = NudState::Probe;
                    e.probes = 1;
                    e.deadline = Some(now + p.retrans);
                    actions.push(NeighAction::Solicit { key: *key, unicast: e.lladdr });
                }
                NudState::Probe => {
                    if e.probes < p.max_unicast {
                        e.probes += 1;
                        e.deadline = Some(now + p.retrans);
                        actions.push(NeighAction::Solicit { key: *key, unicast: e.lladdr });
                    } else {
                        dead.push((*key, false));
                    }
                }
                NudState::Stale | NudState::Permanent => e.deadline = None,
            }
        }
        dead.sort_by_key(|(k, _)| *k);
        for (key, failed) in dead {
            if let Some(e) = self.take(&key) {
                if failed || !e.queue.is_empty() {
                    actions.push(NeighAction::Failed { key, held: e.queue.into_iter().collect() });
                }
            }
        }
        actions.sort_by_key(|a| match a {
            NeighAction::Solicit { key, .. } | NeighAction::Failed { key, .. } => *key,
        });
        actions
    }

    /// The earliest timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.slots.iter().flatten().filter_map(|(_, e)| e.deadline).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> NudParams {
        NudParams {
            retrans: Duration::from_secs(1),
            reachable: Duration::from_secs(30),
            delay: Duration::from_secs(5),
            max_multicast: 3,
            max_unicast: 3,
            max_queue: 2,
        }
    }

    fn key() -> NeighKey {
        NeighKey { ifindex: IfIndex(2), addr: "fe80::1".parse().unwrap() }
    }

    const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

    #[test]
    fn incomplete_queues_bounded_then_resolves() {
        let mut c = NeighCache::<u32>::new();
        let p = params();
        let t0 = Instant::ZERO;
        assert!(matches!(c.resolve(key(), 1, t0, &p), Resolution::Held { dropped: None, solicit: true }));
        assert!(matches!(c.resolve(key(), 2, t0, &p), Resolution::Held { dropped: None, solicit: false }));
        // The bound: the oldest is pushed out.
        assert!(matches!(c.resolve(key(), 3, t0, &p), Resolution::Held { dropped: Some(1), .. }));
        assert_eq!(c.held(), 2);
        let (mac, held) = c.advertised(key(), Some(MAC), true, true, Some(true), t0, &p).unwrap();
        assert_eq!((mac, held), (MAC, vec![2, 3]));
        assert_eq!(c.get(&key()).unwrap().state, NudState::Reachable);
        assert!(matches!(c.resolve(key(), 4, t0, &p), Resolution::Ready(MAC, 4)));
    }

    #[test]
    fn incomplete_retransmits_then_fails_with_held_packets() {
        let mut c = NeighCache::<u32>::new();
        let p = params();
        c.resolve(key(), 7, Instant::ZERO, &p);
        let mut solicits = 1;
        let mut failed = None;
        for s in 1..=5 {
            for a in c.poll(Instant::from_secs(s), |_| p) {
                match a {
                    NeighAction::Solicit { unicast: None, .. } => solicits += 1,
                    NeighAction::Failed { held, .. } => failed = Some((s, held)),
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        assert_eq!(solicits, 3, "MAX_MULTICAST_SOLICIT");
        assert_eq!(failed, Some((3, vec![7])));
        assert!(c.get(&key()).is_none());
    }

    #[test]
    fn stale_delay_probe_reachable() {
        let mut c = NeighCache::<u32>::new();
        let p = params();
        assert!(c.learned(key(), MAC).is_none());
        assert_eq!(c.get(&key()).unwrap().state, NudState::Stale);
        assert!(matches!(c.resolve(key(), 1, Instant::ZERO, &p), Resolution::Ready(MAC, 1)));
        assert_eq!(c.get(&key()).unwrap().state, NudState::Delay);
        let acts = c.poll(Instant::from_secs(5), |_| p);
        assert!(matches!(acts[..], [NeighAction::Solicit { unicast: Some(MAC), .. }]));
        assert_eq!(c.get(&key()).unwrap().state, NudState::Probe);
        c.advertised(key(), Some(MAC), true, false, None, Instant::from_secs(6), &p);
        assert_eq!(c.get(&key()).unwrap().state, NudState::Reachable);
        c.poll(Instant::from_secs(36), |_| p);
        assert_eq!(c.get(&key()).unwrap().state, NudState::Stale);
    }

    #[test]
    fn ready_only_when_no_state_change_is_due() {
        let mut c = NeighCache::<u32>::new();
        let p = params();
        assert_eq!(c.ready(&key()), None);
        c.resolve(key(), 1, Instant::ZERO, &p);
        assert_eq!(c.ready(&key()), None, "INCOMPLETE");
        c.advertised(key(), Some(MAC), false, true, None, Instant::ZERO, &p);
        assert_eq!(c.ready(&key()), None, "STALE must go through resolve (to DELAY)");
        assert!(matches!(c.resolve(key(), 2, Instant::ZERO, &p), Resolution::Ready(MAC, 2)));
        assert_eq!(c.ready(&key()), Some(MAC), "DELAY");
        let v4 = NeighKey { ifindex: IfIndex(2), addr: "10.0.0.1".parse().unwrap() };
        c.set_permanent(v4, MAC);
        assert_eq!(c.ready(&v4), Some(MAC));
    }

    #[test]
    fn probe_failure_removes_entry() {
        let mut c = NeighCache::<u32>::new();
        let p = params();
        c.learned(key(), MAC);
        c.resolve(key(), 1, Instant::ZERO, &p);
        for t in 5..10 {
            c.poll(Instant::from_secs(t), |_| p);
        }
        assert!(c.get(&key()).is_none());
    }

    #[test]
    fn non_override_with_new_address_only_stales() {
        let mut c = NeighCache::<u32>::new();
        let p = params();
        c.learned(key(), MAC);
        c.confirm(key(), Instant::ZERO, &p);
        c.advertised(key(), Some(MacAddr([2, 0, 0, 0, 0, 9])), false, false, None, Instant::ZERO, &p);
        let e = c.get(&key()).unwrap();
        assert_eq!((e.state, e.lladdr), (NudState::Stale, Some(MAC)));
    }

    #[test]
    fn slot_hint_is_checked_by_key_and_survives_reuse() {
        let mut c = NeighCache::<u32>::new();
        let p = params();
        let other = NeighKey { ifindex: IfIndex(3), addr: "10.0.0.9".parse().unwrap() };
        assert_eq!(c.slot(&key()), None);
        c.learned(key(), MAC);
        let s = c.slot(&key()).unwrap();
        assert_eq!(c.ready_at(s, &key()), None, "STALE takes the full path");
        c.confirm(key(), Instant::ZERO, &p);
        assert_eq!(c.ready_at(s, &key()), Some(MAC));
        assert_eq!(c.ready_at(NeighSlot(s.0 + 7), &key()), None, "out of range");
        // The entry goes, another neighbour takes its slot: the old hint misses.
        assert!(c.remove(&key()).is_some());
        c.set_permanent(other, MacAddr([2, 0, 0, 0, 0, 7]));
        assert_eq!(c.slot(&other), Some(s), "freed slot reused");
        assert_eq!(c.ready_at(s, &key()), None, "hint for a removed key misses");
        assert_eq!(c.ready_at(s, &other), Some(MacAddr([2, 0, 0, 0, 0, 7])));
        // Re-learnt elsewhere: a new slot, found again by key.
        c.learned(key(), MAC);
        c.confirm(key(), Instant::ZERO, &p);
        let s2 = c.slot(&key()).unwrap();
        assert_ne!(s2, s);
        assert_eq!(c.ready_at(s2, &key()), Some(MAC));
        c.flush_interface(IfIndex(3));
        assert_eq!(c.ready_at(s, &other), None, "flushed");
        assert_eq!(c.entries().len(), 1);
    }
}
