//! Receiving frames in bursts, as VPP and DPDK do: the destinations of every
//! frame in the burst that may be forwarded go through ONE batched FIB
//! lookup (RFC 1812 §5.2.4.3 longest match; RFC 8200 §4 for IPv6) down to
//! the next-hop ids the FIB holds, so the LPM walks (random reads in tables
//! larger than the caches) overlap their memory reads across the burst
//! instead of stalling each frame; then
//! each frame takes exactly the per-frame path of [`Stack::receive`], whose
//! forwarding step reads the batched next hop instead of walking the FIB.
//!
//! The batched result is a pure cache: it is used only for the same
//! destination and while the route table's generation is unchanged (an
//! earlier frame of the burst — an RA, a redirect — may change routes, and
//! every change of a route or of the next-hop table bumps the generation),
//! so a burst behaves exactly as feeding its frames one by one.

use crate::addr::IfIndex;
use crate::iface::LinkKind;
use crate::route::{Adjacency, NextHopId};
use crate::stack::Stack;
use crate::time::Instant;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use via6_wire::ethernet::ethertype;

/// Frames handled per batched lookup.
pub const BURST: usize = 32;

/// One frame's batched forwarding lookup: the next hop of the best route.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FibHint {
    dst: HintDst,
    nh: Option<NextHopId>,
    generation: u64,
}

/// The destination a [`FibHint`] was looked up for.
#[derive(Debug, Clone, Copy)]
enum HintDst {
    V4(u32),
    V6(u128),
}

/// Where the IP packet starts in a frame on this link, and its destination
/// if it is IPv4 or IPv6 (no validation: IP input does that; a wrong guess
/// only costs a lookup, never a different result).
#[inline]
fn peek_dst(kind: LinkKind, frame: &[u8]) -> Option<IpAddr> {
    let ip = match kind {
        LinkKind::Ethernet(_) => match frame.get(12..14).map(|t| u16::from_be_bytes([t[0], t[1]])) {
            Some(ethertype::IPV4 | ethertype::IPV6) => frame.get(14..)?,
            _ => return None,
        },
        LinkKind::Ip => frame,
        LinkKind::Loopback => return None,
    };
    match ip.first()? >> 4 {
        4 => <[u8; 4]>::try_from(ip.get(16..20)?).ok().map(|d| IpAddr::V4(Ipv4Addr::from(d))),
        6 => <[u8; 16]>::try_from(ip.get(24..40)?).ok().map(|d| IpAddr::V6(Ipv6Addr::from(d))),
        _ => None,
    }
}

impl Stack {
    /// Hands several received frames from one interface to the stack: the
    /// same result, frame for frame and counter for counter, as calling
    /// [`Stack::receive`] on each in order, with one batched FIB lookup per
    /// `BURST` (32) frames.
    pub fn receive_burst<F: AsRef<[u8]>>(&mut self, ifindex: IfIndex, frames: &[F], now: Instant) {
        let Some(kind) = self.interface(ifindex).map(|i| i.kind) else {
            for f in frames {
                self.receive(ifindex, f.as_ref(), now);
            }
            return;
        };
        let (fwd4, fwd6) = (self.forwarding(true), self.forwarding(false));
        for chunk in frames.chunks(BURST) {
            // Stage 1: the destinations that may be forwarded (per frame:
            // 0 none, 4 or 6, in the order of `a4`/`a6`).
            let mut fam = [0u8; BURST];
            let (mut a4, mut a6) = ([0u32; BURST], [0u128; BURST]);
            let (mut n4, mut n6) = (0, 0);
            for (t, f) in fam.iter_mut().zip(chunk) {
                match peek_dst(kind, f.as_ref()) {
                    Some(IpAddr::V4(a)) if fwd4 && !a.is_multicast() && !a.is_broadcast() => {
                        a4[n4] = a.to_bits();
                        n4 += 1;
                        *t = 4;
                    }
                    Some(IpAddr::V6(a)) if fwd6 && !a.is_multicast() => {
                        a6[n6] = a.to_bits();
                        n6 += 1;
                        *t = 6;
                    }
                    _ => {}
                }
            }
            // Stage 2: one batched lookup per family, down to the next hop.
            let (mut r4, mut r6) = ([None; BURST], [None; BURST]);
            self.routes.forward_lookup_batch_v4(&a4[..n4], &mut r4[..n4]);
            self.routes.forward_lookup_batch_v6(&a6[..n6], &mut r6[..n6]);
            // Stage 3: the per-frame path, reading the batched result.
            let generation = self.routes.generation();
            let (mut i4, mut i6) = (0, 0);
            for (t, f) in fam.iter().zip(chunk) {
                let hint = match *t {
                    4 => {
                        i4 += 1;
                        Some(FibHint { dst: HintDst::V4(a4[i4 - 1]), nh: r4[i4 - 1], generation })
                    }
                    6 => {
                        i6 += 1;
                        Some(FibHint { dst: HintDst::V6(a6[i6 - 1]), nh: r6[i6 - 1], generation })
                    }
                    _ => None,
                };
                let f = f.as_ref();
                if let Some(h) = &hint {
                    if self.burst_fast(ifindex, f, now, h) {
                        continue;
                    }
                }
                self.burst_fib = hint;
                self.receive(ifindex, f, now);
            }
            self.burst_fib = None;
        }
    }

    /// [`Stack::receive`] for a frame the fast path forwards, with the
    /// burst's hint handed over directly: the same steps as `receive` and
    /// `link_input` up to the fast path (an up Ethernet interface, an
    /// untagged IPv4/IPv6 frame to its own MAC, RFC 894), then
    /// [`Stack::fast_forward`]. `false` when nothing was done: the frame
    /// then takes `receive` (whose fast path declines again, as nothing
    /// changed in between), so the outcome is `receive`'s either way.
    #[inline(always)]
    fn burst_fast(&mut self, ifindex: IfIndex, frame: &[u8], now: Instant, hint: &FibHint) -> bool {
        let Some(iface) = self.interface(ifindex) else { return false };
        let LinkKind::Ethernet(mac) = iface.kind else { return false };
        if !iface.up {
            return false;
        }
        let Some(h) = frame.get(..14) else { return false };
        let et = u16::from_be_bytes([h[12], h[13]]);
        if h[..6] != mac.0 || (et != ethertype::IPV4 && et != ethertype::IPV6) {
            return false;
        }
        self.last_now = now;
        if !self.fast_forward_hinted(ifindex, &frame[14..], Some(hint)) {
            return false;
        }
        if !self.looped.is_empty() {
            self.drain_looped(now);
        }
        true
    }

    /// The fast path's lookup: `hint` (the burst's next hop, handed over
    /// directly) when it is for `dst` and still current, else
    /// [`Stack::fwd_lookup_v4`]. Four small near-copies on purpose (this and
    /// `fwd_lookup_*`, per family): one shared helper took the burst path
    /// from 549.2 to 552.3–556.3 instructions a packet (callgrind, session 6;
    /// +6–8 in session 5).
    #[inline(always)]
    pub(crate) fn fast_lookup_v4(
        &self,
        dst: Ipv4Addr,
        hint: Option<&FibHint>,
    ) -> Option<(NextHopId, &Adjacency)> {
        match hint {
            Some(&FibHint { dst: HintDst::V4(d), nh, generation })
                if d == dst.to_bits() && generation == self.routes.generation() =>
            {
                self.routes.nexthop_entry(nh?)
            }
            _ => self.fwd_lookup_v4(dst),
        }
    }

    /// [`Stack::fast_lookup_v4`] for IPv6.
    #[inline(always)]
    pub(crate) fn fast_lookup_v6(
        &self,
        dst: &Ipv6Addr,
        hint: Option<&FibHint>,
    ) -> Option<(NextHopId, &Adjacency)> {
        match hint {
            Some(&FibHint { dst: HintDst::V6(d), nh, generation })
                if d == dst.to_bits() && generation == self.routes.generation() =>
            {
                self.routes.nexthop_entry(nh?)
            }
            _ => self.fwd_lookup_v6(dst),
        }
    }

    /// The IPv4 forwarding lookup: the burst's batched result for `dst`
    /// when it is still valid, else [`crate::route::RouteTable::forward_lookup_v4`].
    #[inline]
    pub(crate) fn fwd_lookup_v4(&self, dst: Ipv4Addr) -> Option<(NextHopId, &Adjacency)> {
        match self.burst_fib {
            Some(FibHint { dst: HintDst::V4(d), nh, generation })
                if d == dst.to_bits() && generation == self.routes.generation() =>
            {
                self.routes.nexthop_entry(nh?)
            }
            _ => self.routes.forward_lookup_v4(dst),
        }
    }

    /// [`Stack::fwd_lookup_v4`] for IPv6.
    #[inline]
    pub(crate) fn fwd_lookup_v6(&self, dst: &Ipv6Addr) -> Option<(NextHopId, &Adjacency)> {
        match self.burst_fib {
            Some(FibHint { dst: HintDst::V6(d), nh, generation })
                if d == dst.to_bits() && generation == self.routes.generation() =>
            {
                self.routes.nexthop_entry(nh?)
            }
            _ => self.routes.forward_lookup_v6(dst),
        }
    }
}

#[cfg(test)]
#[path = "burst_tests.rs"]
mod tests;
