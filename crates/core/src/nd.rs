//! Neighbor Discovery (RFC 4861), duplicate address detection and SLAAC
//! (RFC 4862): NS/NA, RS/RA, redirects, link-local formation (EUI-64 or RFC
//! 7217 stable identifiers), and router advertisements when forwarding.

use crate::addr::{self, IfIndex, ZonedIpv6};
use crate::iface::{IfAddr, LinkKind};
use crate::neigh::NeighKey;
use crate::output::RouteLookup;
use crate::route::{NextHop, Route, RouteProto};
use crate::stack::Stack;
use crate::stats::Counter;
use crate::sysctl::Knob;
use crate::time::Instant;
use core::hash::Hasher;
use core::time::Duration;
use siphasher::sip::SipHasher24;
use std::net::{IpAddr, Ipv6Addr};
use via6_wire::icmpv6::Icmpv6Repr;
use via6_wire::ndisc::{NaFlags, NdiscRepr, RaFlags};
use via6_wire::ndisc_option::{NdiscOption, NdiscOptions};
use via6_wire::{IpPrefix, Ipv6Prefix, MacAddr};

/// RFC 4861 §10: MAX_RTR_SOLICITATIONS, RTR_SOLICITATION_INTERVAL.
const MAX_RTR_SOLICITATIONS: u32 = 3;
const RTR_SOLICITATION_INTERVAL: Duration = Duration::from_secs(4);
/// RFC 4862 §5.5.3(e): the two-hour rule.
const TWO_HOURS: u32 = 7200;

impl Stack {
    /// A link-local address for an interface: RFC 7217 stable identifier
    /// when `ip6.use_stableaddr` (or the link has no MAC), else modified
    /// EUI-64 (RFC 4291 appendix A).
    pub(crate) fn make_link_local(&self, ifindex: IfIndex) -> Ipv6Addr {
        let fe80 = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0);
        match self.interface(ifindex).and_then(|i| i.mac()) {
            Some(mac) if !self.sysctl.on(Knob::Ip6UseStableaddr) => {
                addr::link_local_from_iid(addr::eui64_iid(mac.0))
            }
            _ => self.stable_address(ifindex, fe80, 0),
        }
    }

    /// RFC 7217 §5: IID = F(Prefix, Net_Iface, Network_ID, DAD_Counter,
    /// secret_key), with SipHash-2-4 as F.
    pub(crate) fn stable_address(&self, ifindex: IfIndex, prefix: Ipv6Addr, dad_counter: u8) -> Ipv6Addr {
        let mut h = SipHasher24::new_with_key(&self.secret);
        h.write(&prefix.octets()[..8]);
        if let Some(i) = self.interface(ifindex) {
            h.write(i.name.as_bytes());
        }
        h.write_u8(dad_counter);
        let mut iid = h.finish().to_be_bytes();
        // RFC 7217 §5: avoid the reserved IIDs (RFC 5453); clear the u/g bits
        // for tidiness.
        iid[0] &= !0x03;
        let mut o = prefix.octets();
        o[8..].copy_from_slice(&iid);
        Ipv6Addr::from(o)
    }

    /// Starts router solicitation on a host interface that accepts RAs
    /// (RFC 4861 §6.3.7).
    pub(crate) fn start_router_solicitation(&mut self, ifindex: IfIndex, now: Instant) {
        let forwarding = self.forwarding(false);
        let delay = Duration::from_millis(self.rng.below(1000));
        let Some(i) = self.iface_mut(ifindex) else { return };
        if i.nd.accept_rtadv && !forwarding && i.kind != LinkKind::Loopback {
            i.rs_left = MAX_RTR_SOLICITATIONS;
            i.rs_next = Some(now + delay);
        }
    }

    /// When the next unsolicited router advertisement is due.
    pub(crate) fn router_adv_deadline(&self) -> Option<Instant> {
        if !self.forwarding(false) || !self.sysctl.on(Knob::Ip6Rtadv) {
            return None;
        }
        self.ra_next.iter().map(|(_, t)| *t).min()
    }

    /// Runs DAD, router solicitation, address lifetimes, RA-learnt route
    /// expiry and router advertisements.
    ///
    /// An interface is borrowed mutably only when one of its addresses has
    /// something due: a mutable borrow bumps `Stack::iface_gen`, which
    /// invalidates what was derived from the interfaces (TCP's in-place
    /// input memo), and a poll with nothing due must leave that alone.
    pub(crate) fn nd_timers(&mut self, now: Instant) {
        for k in 0..self.ifaces.len() {
            let Some(iface) = self.ifaces.get(k) else { break };
            let (ifindex, retrans_ms) = (iface.index, iface.nd_vars.retrans_ms);
            let addr_due = iface.addrs.iter().any(|a| {
                a.dad.as_ref().is_some_and(|d| d.next_at <= now)
                    || a.valid_until.is_some_and(|t| t <= now)
                    || (!a.flags.deprecated && a.preferred_until.is_some_and(|t| t <= now))
            });
            // DAD (RFC 4862 §5.4.2): probes spaced RetransTimer; success once
            // the last probe's timer runs out with no conflict.
            let mut probes = Vec::new();
            if let Some(i) = addr_due.then(|| self.iface_mut(ifindex)).flatten() {
                for a in &mut i.addrs {
                    let Some(d) = a.dad.as_mut() else { continue };
                    if d.next_at > now {
                        continue;
                    }
                    if d.probes_left > 0 {
                        d.probes_left -= 1;
                        d.next_at = now + Duration::from_millis(u64::from(retrans_ms));
                        if let IpAddr::V6(t) = a.addr {
                            probes.push((t, d.nonce));
                        }
                    } else {
                        a.dad = None;
                        a.flags.tentative = false;
                    }
                }
                // Lifetimes (RFC 4862 §5.5.4).
                i.addrs.retain(|a| a.valid_until.is_none_or(|t| t > now));
                for a in &mut i.addrs {
                    if a.preferred_until.is_some_and(|t| t <= now) {
                        a.flags.deprecated = true;
                    }
                }
            }
            for (target, nonce) in probes {
                self.send_dad_ns(ifindex, target, nonce);
            }
            // Router solicitation.
            let due =
                self.interface(ifindex).is_some_and(|i| i.rs_left > 0 && i.rs_next.is_some_and(|t| t <= now));
            if due {
                self.send_rs(ifindex, now);
                if let Some(i) = self.iface_mut(ifindex) {
                    i.rs_left -= 1;
                    i.rs_next = (i.rs_left > 0).then_some(now + RTR_SOLICITATION_INTERVAL);
                }
            }
        }
        // RA-learnt routes expire.
        self.routes.expire(now);
        self.router_adv_timers(now);
    }

    fn send_dad_ns(&mut self, ifindex: IfIndex, target: Ipv6Addr, nonce: [u8; 6]) {
        let mut opts = [0u8; 8];
        let nonce_opt = NdiscOption::Nonce(&nonce);
        let n = nonce_opt.emit(&mut opts).unwrap_or(0);
        let repr = Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit { target, options: &opts[..n] });
        self.send_nd(ifindex, Ipv6Addr::UNSPECIFIED, addr::solicited_node(&target), &repr, Instant::ZERO);
    }

    /// Sends an NS for `target` (RFC 4861 §7.2.2): multicast to the
    /// solicited-node group, or unicast when probing a known neighbour.
    pub(crate) fn send_ns(
        &mut self,
        ifindex: IfIndex,
        target: Ipv6Addr,
        unicast: Option<MacAddr>,
        _dad: bool,
        now: Instant,
    ) {
        let Some(iface) = self.interface(ifindex) else { return };
        let Some(src) = iface.link_local6().or_else(|| {
            iface.usable_addrs().find_map(|a| match a.addr {
                IpAddr::V6(v6) => Some(v6),
                _ => None,
            })
        }) else {
            return;
        };
        let mac = iface.mac();
        let mut opts = [0u8; 8];
        let n = mac.map_or(0, |m| NdiscOption::SourceLinkLayerAddr(&m.0).emit(&mut opts).unwrap_or(0));
        let repr = Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit { target, options: &opts[..n] });
        let dst = if unicast.is_some() { target } else { addr::solicited_node(&target) };
        self.send_nd(ifindex, src, dst, &repr, now);
    }

    fn send_rs(&mut self, ifindex: IfIndex, now: Instant) {
        let Some(iface) = self.interface(ifindex) else { return };
        let src = iface.link_local6().unwrap_or(Ipv6Addr::UNSPECIFIED);
        let mut opts = [0u8; 8];
        // RFC 4861 §4.1: no SLLA option when the source is unspecified.
        let n = match (iface.mac(), src.is_unspecified()) {
            (Some(m), false) => NdiscOption::SourceLinkLayerAddr(&m.0).emit(&mut opts).unwrap_or(0),
            _ => 0,
        };
        let repr = Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit { options: &opts[..n] });
        self.send_nd(ifindex, src, addr::ALL_ROUTERS, &repr, now);
    }

    /// Sends an ND message with hop limit 255 (RFC 4861 §6.1.1, §7.1.1).
    fn send_nd(
        &mut self,
        ifindex: IfIndex,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        repr: &Icmpv6Repr<'_>,
        now: Instant,
    ) {
        let Some(iface) = self.interface(ifindex) else { return };
        let mut route = Route::new(IpPrefix::V6(Ipv6Prefix::host(dst)), NextHop::OnLink, Some(ifindex));
        route.proto = RouteProto::Kernel;
        let lookup = RouteLookup {
            route_id: None,
            route,
            ifindex,
            neighbour: IpAddr::V6(dst),
            mtu: iface.mtu6(),
            local: false,
        };
        self.send_icmpv6_via(&lookup, src, dst, repr, Some(255), now);
    }

    /// ND input (RFC 4861 §6.1, §7.1: hop limit must be 255).
    pub(crate) fn nd_input(
        &mut self,
        ifindex: IfIndex,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hlim: u8,
        nd: &NdiscRepr<'_>,
        now: Instant,
    ) {
        if hlim != 255 || NdiscOptions::new(nd.options()).any(|o| o.is_err()) {
            self.stats.inc(match nd {
                NdiscRepr::NeighborSolicit { .. } => Counter::Icp6sBadns,
                NdiscRepr::NeighborAdvert { .. } => Counter::Icp6sBadna,
                NdiscRepr::RouterSolicit { .. } => Counter::Icp6sBadrs,
                NdiscRepr::RouterAdvert { .. } => Counter::Icp6sBadra,
                NdiscRepr::Redirect { .. } => Counter::Icp6sBadredirect,
            });
            return;
        }
        let lladdr = |kind_src: bool| {
            NdiscOptions::new(nd.options()).flatten().find_map(|o| match (o, kind_src) {
                (NdiscOption::SourceLinkLayerAddr(b), true)
                | (NdiscOption::TargetLinkLayerAddr(b), false) => via6_wire::ndisc_option::ll_addr_mac(b),
                _ => None,
            })
        };
        match *nd {
            NdiscRepr::NeighborSolicit { target, .. } => {
                self.ns_input(ifindex, src, dst, target, lladdr(true), nd, now)
            }
            NdiscRepr::NeighborAdvert { flags, target, .. } => {
                self.na_input(ifindex, target, flags, lladdr(false), now)
            }
            NdiscRepr::RouterSolicit { .. } => {
                if let (Some(mac), false) = (lladdr(true), src.is_unspecified()) {
                    self.neigh_learned(ifindex, IpAddr::V6(src), mac);
                }
                if self.forwarding(false) && self.sysctl.on(Knob::Ip6Rtadv) {
                    self.send_ra(ifindex, now);
                }
            }
            NdiscRepr::RouterAdvert { .. } => self.ra_input(ifindex, src, nd, lladdr(true), now),
            NdiscRepr::Redirect { target, dest, .. } => {
                self.redirect_input(ifindex, src, target, dest, lladdr(false), now)
            }
        }
    }

    fn neigh_learned(&mut self, ifindex: IfIndex, addr: IpAddr, mac: MacAddr) {
        if let Some((mac, held)) = self.neigh.learned(NeighKey { ifindex, addr }, mac) {
            for pkt in held {
                self.ethernet_send(ifindex, mac, pkt);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn ns_input(
        &mut self,
        ifindex: IfIndex,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        target: Ipv6Addr,
        slla: Option<MacAddr>,
        nd: &NdiscRepr<'_>,
        now: Instant,
    ) {
        let Some(iface) = self.interface(ifindex) else { return };
        let Some(entry) = iface.find_addr(IpAddr::V6(target)).cloned() else { return };
        let my_mac = iface.mac();
        if src.is_unspecified() {
            // A DAD probe (RFC 4862 §5.4.3). Our own looped-back probe carries
            // our nonce (RFC 7527 §4.2).
            let nonce = NdiscOptions::new(nd.options()).flatten().find_map(|o| match o {
                NdiscOption::Nonce(n) => Some(n.to_vec()),
                _ => None,
            });
            if entry.flags.tentative {
                let ours = entry.dad.is_some_and(|d| nonce.as_deref() == Some(&d.nonce[..]));
                if !ours {
                    self.dad_failed(ifindex, target, now);
                }
            } else if entry.is_usable() {
                // Defend: NA to all-nodes, not solicited (RFC 4861 §7.2.4).
                self.send_na(ifindex, target, addr::ALL_NODES, false, my_mac, now);
            }
            return;
        }
        if !entry.is_usable() {
            return;
        }
        if let Some(mac) = slla {
            self.neigh_learned(ifindex, IpAddr::V6(src), mac);
        }
        let _ = dst;
        self.send_na(ifindex, target, src, true, my_mac, now);
    }

    fn send_na(
        &mut self,
        ifindex: IfIndex,
        target: Ipv6Addr,
        dst: Ipv6Addr,
        solicited: bool,
        mac: Option<MacAddr>,
        now: Instant,
    ) {
        let mut opts = [0u8; 8];
        let n = mac.map_or(0, |m| NdiscOption::TargetLinkLayerAddr(&m.0).emit(&mut opts).unwrap_or(0));
        let flags = NaFlags { router: self.forwarding(false), solicited, override_: true };
        let repr = Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert { flags, target, options: &opts[..n] });
        self.send_nd(ifindex, target, dst, &repr, now);
    }

    fn na_input(
        &mut self,
        ifindex: IfIndex,
        target: Ipv6Addr,
        flags: NaFlags,
        tlla: Option<MacAddr>,
        now: Instant,
    ) {
        // Ours: an NA for a tentative address is a duplicate (RFC 4862
        // §5.4.4). A duplicated address is not ours any more: its owner's
        // NA is an ordinary neighbour advertisement.
        let ours = self.interface(ifindex).and_then(|i| i.find_addr(IpAddr::V6(target))).map(|a| a.flags);
        if let Some(flags) = ours {
            if flags.tentative {
                self.dad_failed(ifindex, target, now);
            }
            if !flags.duplicated {
                return;
            }
        }
        let key = NeighKey { ifindex, addr: IpAddr::V6(target) };
        let params = self.nud_params(&key);
        if let Some((mac, held)) = self.neigh.advertised(
            key,
            tlla,
            flags.solicited,
            flags.override_,
            Some(flags.router),
            now,
            &params,
        ) {
            for pkt in held {
                self.ethernet_send(ifindex, mac, pkt);
            }
        }
    }

    /// RFC 4862 §5.4.5: the address is a duplicate; never use it. A
    /// duplicated EUI-64 link-local disables IPv6 on the interface.
    fn dad_failed(&mut self, ifindex: IfIndex, target: Ipv6Addr, now: Instant) {
        self.stats.inc(Counter::Nd6sDupdetected);
        let Some(i) = self.iface_mut(ifindex) else { return };
        let name = i.name.clone();
        let mut disable = false;
        // Hardware-derived: the link-local's IID is the MAC's modified EUI-64.
        let hw_iid = i.mac().map(|m| addr::eui64_iid(m.0));
        for a in &mut i.addrs {
            if a.addr == IpAddr::V6(target) {
                a.flags.tentative = false;
                a.flags.duplicated = true;
                a.dad = None;
                disable = addr::is_ipv6_link_local(&target)
                    && hw_iid.is_some_and(|iid| target.octets()[8..] == iid);
            }
        }
        if disable {
            i.nd.ifdisabled = true;
        }
        self.log(now, format!("{name}: DAD detected duplicate IPv6 address {target}"));
    }

    /// RA processing on a host (RFC 4861 §6.3.4, RFC 4862 §5.5.3).
    fn ra_input(
        &mut self,
        ifindex: IfIndex,
        src: Ipv6Addr,
        nd: &NdiscRepr<'_>,
        slla: Option<MacAddr>,
        now: Instant,
    ) {
        let NdiscRepr::RouterAdvert {
            hop_limit, router_lifetime, reachable_time, retrans_time, options, ..
        } = *nd
        else {
            return;
        };
        let Some(iface) = self.interface(ifindex) else { return };
        if !iface.nd.accept_rtadv || self.forwarding(false) {
            return;
        }
        if !addr::is_ipv6_link_local(&src) {
            self.stats.inc(Counter::Icp6sBadra);
            return;
        }
        let no_radr = iface.nd.no_radr;
        if let Some(mac) = slla {
            self.neigh_learned(ifindex, IpAddr::V6(src), mac);
        }
        if let Some(i) = self.iface_mut(ifindex) {
            if hop_limit != 0 {
                i.nd_vars.cur_hop_limit = hop_limit;
            }
            if reachable_time != 0 && reachable_time != i.nd_vars.base_reachable_ms {
                i.nd_vars.base_reachable_ms = reachable_time.min(3_600_000);
            }
            if retrans_time != 0 {
                i.nd_vars.retrans_ms = retrans_time;
            }
        }
        if reachable_time != 0 {
            self.randomize_reachable(ifindex);
        }
        // Default router list (RFC 4861 §6.3.4): a ::/0 route with the
        // router lifetime.
        let gw = NextHop::Gateway(crate::GatewayAddr::V6(ZonedIpv6 { addr: src, zone: Some(ifindex) }));
        let default: IpPrefix = IpPrefix::V6(
            Ipv6Prefix::new_truncating(Ipv6Addr::UNSPECIFIED, 0)
                .unwrap_or(Ipv6Prefix::host(Ipv6Addr::UNSPECIFIED)),
        );
        let _ = self.routes.remove_where(default, |r| r.proto == RouteProto::Ra && r.nexthop == gw);
        if router_lifetime != 0 && !no_radr {
            let mut r = Route::new(default, gw, Some(ifindex));
            r.proto = RouteProto::Ra;
            r.metric = 1024;
            r.expires = Some(now + Duration::from_secs(u64::from(router_lifetime)));
            let _ = self.routes.add(r);
        }
        for opt in NdiscOptions::new(options).flatten() {
            match opt {
                NdiscOption::Mtu(mtu) => {
                    if let Some(i) = self.iface_mut(ifindex) {
                        if mtu >= 1280 && mtu <= i.mtu {
                            i.nd_vars.link_mtu = mtu;
                        }
                    }
                }
                NdiscOption::PrefixInformation {
                    prefix_len,
                    on_link,
                    autonomous,
                    valid_lifetime,
                    preferred_lifetime,
                    prefix,
                } => {
                    self.prefix_info(
                        ifindex,
                        src,
                        prefix,
                        prefix_len,
                        on_link,
                        autonomous,
                        valid_lifetime,
                        preferred_lifetime,
                        now,
                    );
                }
                _ => {}
            }
        }
    }

    /// A Prefix Information option from `router`: on-link prefix (RFC 4861
    /// §6.3.4) and SLAAC (RFC 4862 §5.5.3). The SLAAC address remembers which
    /// router advertised its prefix, for RFC 6724 §5 rule 5.5.
    #[allow(clippy::too_many_arguments)]
    fn prefix_info(
        &mut self,
        ifindex: IfIndex,
        router: Ipv6Addr,
        prefix: Ipv6Addr,
        len: u8,
        on_link: bool,
        autonomous: bool,
        valid: u32,
        preferred: u32,
        now: Instant,
    ) {
        if addr::is_ipv6_link_local(&prefix) || preferred > valid {
            return;
        }
        let Ok(p) = Ipv6Prefix::new_truncating(prefix, len) else { return };
        let expiry = |secs: u32| (secs != u32::MAX).then(|| now + Duration::from_secs(u64::from(secs)));
        if on_link {
            let dest = IpPrefix::V6(p);
            let _ =
                self.routes.remove_where(dest, |r| r.proto == RouteProto::Ra && r.ifindex == Some(ifindex));
            if valid != 0 {
                let mut r = Route::new(dest, NextHop::OnLink, Some(ifindex));
                r.proto = RouteProto::Ra;
                r.expires = expiry(valid);
                let _ = self.routes.add(r);
            }
        }
        if !autonomous || len != 64 {
            return;
        }
        let existing = self.interface(ifindex).and_then(|i| {
            i.addrs.iter().position(|a| a.flags.autoconf && matches!(a.addr, IpAddr::V6(v) if p.contains(v)))
        });
        match existing {
            Some(pos) => {
                // RFC 4862 §5.5.3(e): the two-hour rule.
                let Some(i) = self.iface_mut(ifindex) else { return };
                let a = &mut i.addrs[pos];
                let remaining = a.valid_until.map_or(u64::MAX, |t| t.saturating_since(now).as_secs());
                if valid > TWO_HOURS || u64::from(valid) > remaining {
                    a.valid_until = expiry(valid);
                } else if remaining > u64::from(TWO_HOURS) {
                    a.valid_until = expiry(TWO_HOURS);
                }
                a.preferred_until = expiry(preferred);
                a.flags.deprecated = preferred == 0;
                a.note_advertiser(router);
            }
            None if valid != 0 => {
                let use_stable = self.sysctl.on(Knob::Ip6UseStableaddr);
                let addr = match self.interface(ifindex).and_then(|i| i.mac()) {
                    Some(mac) if !use_stable => {
                        let mut o = p.addr().octets();
                        o[8..].copy_from_slice(&addr::eui64_iid(mac.0));
                        Ipv6Addr::from(o)
                    }
                    _ => self.stable_address(ifindex, p.addr(), 0),
                };
                if self.add_address(ifindex, IpAddr::V6(addr), 64, now).is_ok() {
                    if let Some(i) = self.iface_mut(ifindex) {
                        if let Some(a) = i.addrs.iter_mut().find(|a| a.addr == IpAddr::V6(addr)) {
                            a.flags.autoconf = true;
                            a.valid_until = expiry(valid);
                            a.preferred_until = expiry(preferred);
                            a.note_advertiser(router);
                        }
                    }
                }
            }
            None => {}
        }
    }

    /// RFC 4861 §8.3: a host accepts a redirect from its current first hop
    /// and installs a host route via the target.
    fn redirect_input(
        &mut self,
        ifindex: IfIndex,
        src: Ipv6Addr,
        target: Ipv6Addr,
        dest: Ipv6Addr,
        tlla: Option<MacAddr>,
        _now: Instant,
    ) {
        if self.forwarding(false)
            || !self.sysctl.on(Knob::Icmp6RedirAccept)
            || !addr::is_ipv6_link_local(&src)
        {
            self.stats.inc(Counter::Icp6sBadredirect);
            return;
        }
        let current = self.routes.lookup(IpAddr::V6(dest)).map(|(_, r)| r.nexthop);
        let from_first_hop =
            matches!(current, Some(NextHop::Gateway(crate::GatewayAddr::V6(z))) if z.addr == src);
        if !from_first_hop {
            self.stats.inc(Counter::Icp6sBadredirect);
            return;
        }
        if let Some(mac) = tlla {
            self.neigh_learned(ifindex, IpAddr::V6(target), mac);
        }
        let host = IpPrefix::V6(Ipv6Prefix::host(dest));
        let nh = if target == dest {
            NextHop::OnLink
        } else {
            NextHop::Gateway(crate::GatewayAddr::V6(ZonedIpv6 { addr: target, zone: Some(ifindex) }))
        };
        let _ = self.routes.remove_where(host, |r| r.proto == RouteProto::Ra);
        let mut r = Route::new(host, nh, Some(ifindex));
        r.proto = RouteProto::Ra;
        let _ = self.routes.add(r);
    }

    /// Sends an ICMPv6 redirect to the source of `offending` (RFC 4861 §8.2).
    pub(crate) fn send_redirect(
        &mut self,
        ifindex: IfIndex,
        offending: &[u8],
        target: Ipv6Addr,
        dest: Ipv6Addr,
        now: Instant,
    ) {
        let Ok(ip) = via6_wire::Ipv6Packet::new_checked(offending) else { return };
        let to = ip.src();
        let Some(src) = self.interface(ifindex).and_then(|i| i.link_local6()) else { return };
        // Redirected Header option: as much of the packet as fits in 1280.
        let take = offending.len().min(1280 - 40 - 40 - 8 - 8) & !7;
        let mut opts = vec![0u8; take + 8 + 8];
        let mut n = 0;
        if let Some(mac) =
            self.neigh.get(&NeighKey { ifindex, addr: IpAddr::V6(target) }).and_then(|e| e.lladdr)
        {
            n += NdiscOption::TargetLinkLayerAddr(&mac.0).emit(&mut opts[n..]).unwrap_or(0);
        }
        n += NdiscOption::RedirectedHeader(&offending[..take]).emit(&mut opts[n..]).unwrap_or(0);
        let repr = Icmpv6Repr::Ndisc(NdiscRepr::Redirect { target, dest, options: &opts[..n] });
        let zone = addr::needs_zone(&to).then_some(ifindex);
        if let Ok(lookup) = self.route_lookup(IpAddr::V6(to), zone) {
            self.send_icmpv6_via(&lookup, src, to, &repr, Some(255), now);
        }
    }

    /// Unsolicited RAs when forwarding (RFC 4861 §6.2.4), every
    /// `ip6.rtadv_interval` seconds, jittered.
    fn router_adv_timers(&mut self, now: Instant) {
        if !self.forwarding(false) || !self.sysctl.on(Knob::Ip6Rtadv) {
            self.ra_next.clear();
            return;
        }
        let ifs: Vec<IfIndex> = self
            .ifaces
            .iter()
            .filter(|i| i.kind != LinkKind::Loopback && i.link_local6().is_some())
            .map(|i| i.index)
            .collect();
        for ifindex in ifs {
            let due = match self.ra_next.iter().find(|(i, _)| *i == ifindex) {
                None => true,
                Some((_, t)) => *t <= now,
            };
            if !due {
                continue;
            }
            self.send_ra(ifindex, now);
            let interval = self.sysctl.get(Knob::Ip6RtadvInterval) as u64 * 1000;
            let jitter = self.rng.below(interval / 4 + 1);
            let next = now + Duration::from_millis(interval * 3 / 4 + jitter);
            self.ra_next.retain(|(i, _)| *i != ifindex);
            self.ra_next.push((ifindex, next));
        }
    }

    /// Sends a router advertisement on `ifindex` to all-nodes: router
    /// lifetime, MTU, SLLA, and a prefix per global subnet of the link.
    pub(crate) fn send_ra(&mut self, ifindex: IfIndex, now: Instant) {
        let Some(iface) = self.interface(ifindex) else { return };
        let Some(src) = iface.link_local6() else { return };
        let mut opts = vec![0u8; 8 + 8 + 32 * 8];
        let mut n = 0;
        if let Some(mac) = iface.mac() {
            n += NdiscOption::SourceLinkLayerAddr(&mac.0).emit(&mut opts[n..]).unwrap_or(0);
        }
        n += NdiscOption::Mtu(iface.mtu6()).emit(&mut opts[n..]).unwrap_or(0);
        let prefixes: Vec<(Ipv6Addr, u8)> = iface
            .usable_addrs()
            .filter_map(|a: &IfAddr| match a.addr {
                IpAddr::V6(v) if !addr::is_ipv6_link_local(&v) && !v.is_loopback() && a.prefix_len < 128 => {
                    Ipv6Prefix::new_truncating(v, a.prefix_len).ok().map(|p| (p.addr(), a.prefix_len))
                }
                _ => None,
            })
            .take(32)
            .collect();
        for (prefix, prefix_len) in prefixes {
            let o = NdiscOption::PrefixInformation {
                prefix_len,
                on_link: true,
                autonomous: prefix_len == 64,
                valid_lifetime: 2_592_000,
                preferred_lifetime: 604_800,
                prefix,
            };
            n += o.emit(&mut opts[n..]).unwrap_or(0);
        }
        let repr = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
            hop_limit: self.sysctl.get(Knob::Ip6Hlim) as u8,
            flags: RaFlags::default(),
            router_lifetime: self.sysctl.get(Knob::Ip6RtadvLifetime) as u16,
            reachable_time: 0,
            retrans_time: 0,
            options: &opts[..n],
        });
        self.send_nd(ifindex, src, addr::ALL_NODES, &repr, now);
    }
}
