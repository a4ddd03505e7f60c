//! Input-hardening helpers: accessors that let drivers, tests and fuzzers
//! check that memory held by the stack stays under its configured limits,
//! and the keyed hashes that make reassembly buckets and IPv4 identifiers
//! unpredictable (RFC 7739).

use crate::stack::Stack;
use core::hash::Hasher;
use siphasher::sip::SipHasher24;
use std::net::IpAddr;

impl Stack {
    /// Frames waiting in the transmit queue.
    pub fn tx_queued(&self) -> usize {
        self.tx.len()
    }

    /// The transmit queue's limit.
    pub fn tx_limit(&self) -> usize {
        self.tx_limit
    }

    /// Sets the transmit queue's limit (at least 1).
    pub fn set_tx_limit(&mut self, limit: usize) {
        self.tx_limit = limit.max(1);
    }

    /// Datagrams under reassembly (both families).
    pub fn reassembly_queues(&self) -> usize {
        self.frag.packets()
    }

    /// Datagrams under reassembly per family: (IPv4, IPv6).
    pub fn reassembly_queues_by_family(&self) -> (usize, usize) {
        (self.frag.v4.packets(), self.frag.v6.packets())
    }

    /// Fragments held per family: (IPv4, IPv6).
    pub fn reassembly_frags_by_family(&self) -> (usize, usize) {
        (self.frag.v4.frags(), self.frag.v6.frags())
    }

    /// The largest number of datagrams in one reassembly hash bucket:
    /// (IPv4, IPv6).
    pub fn reassembly_fullest_bucket(&self) -> (usize, usize) {
        let m = |t: &crate::frag::Table| t.bucket_sizes().max().unwrap_or(0);
        (m(&self.frag.v4), m(&self.frag.v6))
    }
}

/// A SipHash-2-4 of `parts` under `key` (with a domain label so two uses of
/// one secret never collide).
pub(crate) fn keyed_hash(key: &[u8; 16], domain: &[u8], parts: &[&[u8]]) -> u64 {
    let mut h = SipHasher24::new_with_key(key);
    h.write(domain);
    for p in parts {
        h.write(&(p.len() as u32).to_be_bytes());
        h.write(p);
    }
    h.finish()
}

/// The octets of an address, for hashing.
pub(crate) fn addr_bytes(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

impl Stack {
    /// Adds a permanent neighbour entry (FreeBSD `ndp -s` / `arp -s`).
    pub fn add_static_neighbour(&mut self, ifindex: crate::IfIndex, addr: IpAddr, mac: via6_wire::MacAddr) {
        self.neigh.set_permanent(crate::neigh::NeighKey { ifindex, addr }, mac);
    }
}
