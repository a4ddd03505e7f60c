//! The shared next-hop (adjacency) table: what the forwarding path reads
//! after the FIB lookup. Routes with the same next hop, interface and MTU
//! share one entry (a full Internet table has a few hundred), so forwarding
//! reads a small, cache-resident record instead of the route itself
//! (RFC 1812 §5.2.4.3 only needs the next hop and the interface).

use super::{NextHop, Route};
use crate::addr::IfIndex;
use std::collections::HashMap;

/// An index into the [`NextHopTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NextHopId(pub u32);

/// What forwarding needs from a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Adjacency {
    /// The next hop (either family; reject and blackhole included).
    pub nexthop: NextHop,
    /// The egress interface.
    pub ifindex: Option<IfIndex>,
    /// The route's MTU (0: the interface's).
    pub mtu: u32,
}

impl Adjacency {
    /// The adjacency of a route.
    pub fn of(r: &Route) -> Self {
        Adjacency { nexthop: r.nexthop, ifindex: r.ifindex, mtu: r.mtu }
    }
}

/// Reference-counted, deduplicated adjacencies.
#[derive(Debug, Clone, Default)]
pub struct NextHopTable {
    entries: Vec<Adjacency>,
    refs: Vec<u32>,
    /// Per entry: where the gateway's neighbour entry was last found
    /// (a [`crate::neigh::NeighSlot`] hint, checked by key before use).
    neigh_hints: Vec<u32>,
    index: HashMap<Adjacency, u32>,
    free: Vec<u32>,
}

impl NextHopTable {
    /// Takes a reference to the entry for `a`, creating it if needed.
    pub fn acquire(&mut self, a: Adjacency) -> NextHopId {
        if let Some(&i) = self.index.get(&a) {
            self.refs[i as usize] += 1;
            return NextHopId(i);
        }
        let i = match self.free.pop() {
            Some(i) => {
                self.entries[i as usize] = a;
                self.refs[i as usize] = 1;
                self.neigh_hints[i as usize] = 0;
                i
            }
            None => {
                self.entries.push(a);
                self.refs.push(1);
                self.neigh_hints.push(0);
                (self.entries.len() - 1) as u32
            }
        };
        self.index.insert(a, i);
        NextHopId(i)
    }

    /// Drops a reference; the entry is freed with its last one.
    pub fn release(&mut self, id: NextHopId) {
        let Some(r) = self.refs.get_mut(id.0 as usize) else { return };
        if *r == 0 {
            return;
        }
        *r -= 1;
        if *r == 0 {
            self.index.remove(&self.entries[id.0 as usize]);
            self.free.push(id.0);
        }
    }

    /// An entry.
    #[inline]
    pub fn get(&self, id: NextHopId) -> Option<&Adjacency> {
        self.entries.get(id.0 as usize)
    }

    /// The neighbour-slot hint of an entry (0 when never set; always
    /// verified against the neighbour's key by the reader).
    #[inline]
    pub fn neigh_hint(&self, id: NextHopId) -> u32 {
        self.neigh_hints.get(id.0 as usize).copied().unwrap_or(0)
    }

    /// Records where the entry's neighbour was found.
    #[inline]
    pub fn set_neigh_hint(&mut self, id: NextHopId, slot: u32) {
        if let Some(h) = self.neigh_hints.get_mut(id.0 as usize) {
            *h = slot;
        }
    }

    /// Entries in use.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no entry is in use.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_counted_and_reused() {
        let mut t = NextHopTable::default();
        let a = Adjacency { nexthop: NextHop::OnLink, ifindex: Some(IfIndex(1)), mtu: 0 };
        let b = Adjacency { nexthop: NextHop::Blackhole, ifindex: None, mtu: 0 };
        let x = t.acquire(a);
        assert_eq!(t.acquire(a), x);
        let y = t.acquire(b);
        assert_ne!(x, y);
        assert_eq!(t.len(), 2);
        t.release(x);
        assert_eq!(t.get(x), Some(&a));
        t.release(x);
        assert_eq!(t.len(), 1);
        let c = Adjacency { mtu: 1400, ..a };
        assert_eq!(t.acquire(c), x, "a freed id is reused");
        assert_eq!(t.get(x), Some(&c));
    }
}
