//! The stack side of TCP: demultiplexing arriving segments to connections
//! (an exact 4-tuple index) or listeners (the socket table's inet6(4)
//! rules), SYN handling for listeners with a bounded backlog (SYN cookies
//! when full: `syncookie`), emission over
//! IPv4 (DF set, RFC 1191) or IPv6, ICMP errors (RFC 5927 checks, RFC 1191 /
//! RFC 8201 path MTU, RFC 1122 §4.2.3.9 soft and hard errors), the timer
//! queue and the RFC 5961 §7 challenge-ACK limit.

use super::emit::{EmitError, Ring};
use super::tcb::Tcb;
use super::{seq, State};
use crate::addr::{self, IfIndex};
use crate::errno::Errno;
use crate::socket::{LocalAddr, Proto, Socket, SocketHandle};
use crate::stack::Stack;
use crate::stats::Counter;
use crate::sysctl::Knob;
use crate::time::Instant;
use std::cmp::Reverse;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use via6_wire::tcp::{TcpFlags, TcpPacket, TcpRepr};

impl Stack {
    /// A TCP segment for us (IPv4 and IPv6 local delivery call this).
    /// `packet` is the IP packet (truncated to its length), `offset` where
    /// the TCP header starts in it.
    pub(crate) fn tcp_input(&mut self, ifindex: IfIndex, packet: &[u8], offset: usize, now: Instant) {
        let Some((src, dst)) = crate::closed::ip_pair(packet) else { return };
        self.tcp_input_from(ifindex, &src, &dst, packet, offset, now);
    }

    /// [`Stack::tcp_input`] with the packet's addresses already read from
    /// its validated IP header (the in-place input path has them).
    pub(crate) fn tcp_input_from(
        &mut self,
        ifindex: IfIndex,
        src: &IpAddr,
        dst: &IpAddr,
        packet: &[u8],
        offset: usize,
        now: Instant,
    ) {
        let Some(bytes) = packet.get(offset..) else { return };
        let Ok(pkt) = TcpPacket::new_checked(bytes) else { return };
        // RFC 9293 §3.1: the checksum covers the pseudo-header, the header
        // and the payload. The header part is summed here; the payload is
        // summed either while an in-order payload is copied into its
        // connection's receive buffer (`Tcb::stage_payload`) or, for every
        // other segment, in a separate pass before anything acts on it.
        let Ok(mut sum) = pkt.header_sum(src, dst) else { return };
        let Ok(repr) = TcpRepr::parse(&pkt) else { return };
        // RFC 1122 §4.2.3.10: no connection involves broadcast or multicast.
        let bad_addr = |a: &IpAddr| match a {
            IpAddr::V4(v) => v.is_broadcast() || v.is_multicast() || v.is_unspecified(),
            IpAddr::V6(v) => v.is_multicast() || v.is_unspecified(),
        };
        if bad_addr(src) || bad_addr(dst) || repr.src_port == 0 || repr.dst_port == 0 {
            return;
        }
        let conn = self.sockets.tcp.conn_by(dst, repr.dst_port, src, repr.src_port);
        let staged = conn.and_then(|h| self.tcb_mut(h)).and_then(|t| t.stage_payload(&repr));
        let good = match staged {
            Some(payload_sum) => sum.add_sum(payload_sum, repr.payload.len()).sum() == 0xffff,
            None => sum.add_bytes(repr.payload).sum() == 0xffff,
        };
        if !good {
            // A bad checksum: dropped, as before, and nothing staged stays.
            if let Some(t) = conn.and_then(|h| self.tcb_mut(h)) {
                t.rcvbuf.unstage();
            }
            return;
        }
        if let Some(h) = conn {
            if let Some(t) = self.tcb_mut(h) {
                t.on_segment(&repr, now);
                t.rcvbuf.unstage();
                if t.ack_owed && !t.ack_listed {
                    t.ack_listed = true;
                    let shared = &mut self.sockets.tcp;
                    shared.acks_owed.push(h);
                    shared.acks_owed_since.get_or_insert(now);
                }
            }
            self.tcp_after(h, now);
            return;
        }
        let (src, dst) = (*src, *dst);
        match self.sockets.demux(Proto::Tcp, dst, repr.dst_port, src, repr.src_port, ifindex) {
            Some(h) if self.sockets.get(h).is_some_and(|s| s.listen.is_some()) => {
                self.tcp_listen_input(h, ifindex, src, dst, &repr, now);
            }
            _ => self.tcp_closed_port(ifindex, src, dst, &repr, now),
        }
    }

    /// Gives connection `h` its serial (`Tcb::serial`) and returns it.
    fn tcp_serial(&mut self, h: SocketHandle) -> u64 {
        self.sockets.tcp.serials += 1;
        let s = self.sockets.tcp.serials;
        if let Some(t) = self.tcb_mut(h) {
            t.serial = s;
        }
        s
    }

    pub(crate) fn tcb_mut(&mut self, h: SocketHandle) -> Option<&mut Tcb> {
        self.sockets.get_mut(h)?.tcb.as_deref_mut()
    }

    pub(crate) fn tcb(&self, h: SocketHandle) -> Option<&Tcb> {
        self.sockets.get(h)?.tcb.as_deref()
    }

    /// The MTU towards `remote` (for the SYN's MSS).
    pub(crate) fn tcp_path_mtu(&self, remote: IpAddr, zone: Option<IfIndex>) -> u32 {
        self.route_lookup(remote, zone).map_or(if remote.is_ipv6() { 1280 } else { 576 }, |l| l.mtu)
    }

    /// A new TCB with the stack's ISN (RFC 6528) and a timestamp offset.
    pub(crate) fn new_tcb(
        &mut self,
        local: (IpAddr, u16),
        remote: (IpAddr, u16),
        zone: Option<IfIndex>,
        now: Instant,
    ) -> Tcb {
        let iss = super::isn::isn(&self.secret, local, remote, now);
        let ts_offset = self.rng.next_u32();
        let mtu = self.tcp_path_mtu(remote.0, zone);
        Tcb::new(&self.sockets.tcp.config, local, remote, zone, iss, mtu, ts_offset, now)
    }

    /// RFC 9293 §3.10.7.2: a segment for a listener.
    fn tcp_listen_input(
        &mut self,
        lh: SocketHandle,
        ifindex: IfIndex,
        src: IpAddr,
        dst: IpAddr,
        seg: &TcpRepr<'_>,
        now: Instant,
    ) {
        if seg.flags.contains(TcpFlags::RST) {
            return;
        }
        if seg.ack.is_some() {
            // A returning SYN cookie (RFC 4987 §3.6), else a reset.
            if seg.flags.contains(TcpFlags::SYN) || !self.tcp_cookie_ack(lh, ifindex, src, dst, seg, now) {
                self.tcp_closed_port(ifindex, src, dst, seg, now);
            }
            return;
        }
        if !seg.flags.contains(TcpFlags::SYN) {
            return;
        }
        let Some(ls) = self.sockets.get(lh) else { return };
        let Some(l) = ls.listen.as_ref() else { return };
        let backlog = l.backlog.max(1);
        if l.ready.len() >= backlog {
            // The accept queue is full: nothing to offer even a cookie for.
            self.sockets.tcp.listen_drops += 1;
            self.stats.inc(Counter::TcpsListendrop);
            return;
        }
        let cookies = self.sysctl.on(Knob::TcpSyncookies);
        if cookies && self.sysctl.on(Knob::TcpSyncookiesOnly) {
            self.tcp_send_cookie(ifindex, src, dst, seg, now);
            return;
        }
        if l.embryonic + l.ready.len() >= backlog {
            // The SYN queue is full: a cookie when allowed, else drop the
            // SYN and let the peer retry.
            self.stats.inc(Counter::TcpsScZonefail);
            if cookies {
                self.tcp_send_cookie(ifindex, src, dst, seg, now);
            } else {
                self.sockets.tcp.listen_drops += 1;
                self.stats.inc(Counter::TcpsListendrop);
            }
            return;
        }
        let zone = addr::zone_of(dst, ifindex);
        let mut tcb = self.new_tcb((dst, seg.dst_port), (src, seg.src_port), zone, now);
        tcb.accept_syn(seg, now);
        let h = self.tcp_adopt_child(lh, tcb);
        self.tcp_after(h, now);
    }

    /// Makes a passive connection's socket, counted as embryonic on its
    /// listener `lh` until it is established.
    pub(crate) fn tcp_adopt_child(&mut self, lh: SocketHandle, mut tcb: Tcb) -> SocketHandle {
        let (family, v6only, opts) =
            self.sockets.get(lh).map_or((crate::socket::Family::Inet6, true, Default::default()), |s| {
                (s.family, s.v6only, s.tcp_opts)
            });
        tcb.nodelay = opts.nodelay;
        tcb.keepalive = opts.keepalive;
        let ((dst, lport), (src, rport), zone) = (tcb.local, tcb.remote, tcb.zone);
        let remote = match crate::socket::map_for(family, src) {
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, rport, 0, zone.map_or(0, |z| z.0))),
            v4 => SocketAddr::new(v4, rport),
        };
        let child = Socket {
            family,
            proto: Proto::Tcp,
            local: Some(LocalAddr { addr: crate::socket::map_for(family, dst), zone, port: lport }),
            remote: Some(remote),
            v6only,
            reuseaddr: false,
            reuseport: false,
            error: None,
            rx: VecDeque::new(),
            rx_bytes: 0,
            rx_limit: crate::socket::DEFAULT_RCVBUF,
            tcb: Some(Box::new(tcb)),
            listen: None,
            parent: Some((lh, false)),
            tcp_opts: opts,
            raw: None,
        };
        let h = self.sockets.insert(child);
        self.sockets.tcp.conn_insert((dst, lport, src, rport), h);
        if let Some(l) = self.sockets.get_mut(lh).and_then(|s| s.listen.as_mut()) {
            l.embryonic += 1;
        }
        h
    }

    /// After any event on a connection: emit its segments, tell its
    /// listener, free it when CLOSED and orphaned, queue its timer.
    pub(crate) fn tcp_after(&mut self, h: SocketHandle, now: Instant) {
        for _ in 0..4 {
            let Some(t) = self.tcb_mut(h) else { return };
            if t.out.is_empty() {
                break;
            }
            let mut segs = std::mem::take(&mut t.out);
            let (local, remote, zone, serial) = (t.local, t.remote, t.zone, t.serial);
            let mut cache = std::mem::take(&mut t.emit);
            // The send buffer is lent to the emitter (a pointer swap) so
            // data segments are built straight from it.
            let sndbuf = std::mem::take(&mut t.sndbuf);
            let ring = Ring { buf: &sndbuf, seq: t.buf_seq };
            let mut shrink = None;
            // The headers of this run's first framed data segment, patched
            // for the ones after it (`template.rs`); not with the general
            // path forced (`Stack::no_fast_path`, the tests' reference).
            let mut tpl: Option<super::template::Template> = None;
            let lent_before = self.lent.len();
            let fast = self.fast_paths_on();
            let templates = fast && (segs.len() > 1 || segs.first().is_some_and(|s| s.pieces() > 1));
            // Data segments the fast writers queue keep their payload in
            // the send ring until the driver takes them (`lend.rs`).
            let lend = match (fast, serial) {
                (false, _) => None,
                (true, 0) => Some((h, self.tcp_serial(h))),
                (true, s) => Some((h, s)),
            };
            for seg in &segs {
                if seg.challenge && !self.challenge_allowed(now) {
                    continue;
                }
                // Whether `seg` fits the template, once there is one (the
                // same for every segment of a run).
                let mut fits = None;
                // A run (`OutSeg::seg_size`) goes out as its segments.
                for i in 0..seg.pieces() {
                    if let Some(t) = &tpl {
                        if *fits.get_or_insert_with(|| t.fits(seg))
                            && self.tcp_emit_templated(t, seg.piece_at(i), ring, &mut cache.ip_id, lend)
                        {
                            continue;
                        }
                    }
                    let cut;
                    let seg = if seg.seg_size == 0 {
                        seg
                    } else {
                        cut = seg.piece(i);
                        &cut
                    };
                    // A pure ACK, or data no template is wanted from (the
                    // run's only segment, or one after the template), is
                    // written directly (`direct.rs`).
                    let capture = templates && tpl.is_none();
                    if fast
                        && self.tcp_emit_direct(
                            local,
                            remote,
                            zone,
                            seg,
                            (ring, &mut cache, lend),
                            !capture,
                            now,
                        )
                    {
                        continue;
                    }
                    let capture = capture.then_some(&mut tpl);
                    if let Err(EmitError::TooBig(mtu)) =
                        self.tcp_emit_id(local, remote, zone, seg, Some((ring, &mut cache)), capture, now)
                    {
                        shrink = Some(mtu);
                    }
                }
            }
            // Frames queued by this run that lend from its send ring.
            let lent = self.lent.len() != lent_before;
            if let Some(t) = self.tcb_mut(h) {
                t.sndbuf = sndbuf;
                t.emit = cache;
                t.recycle_out(&mut segs);
                // Queued frames lend its bytes (`lend.rs`) until taken.
                if lent && t.sndbuf.pin() {
                    self.sockets.tcp.pinned.push(h);
                }
            }
            let Some(mtu) = shrink else { break };
            if let Some(t) = self.tcb_mut(h) {
                if !t.set_path_mtu(mtu, now) {
                    t.out.clear();
                }
            }
        }
        let Some(s) = self.sockets.get_mut(h) else { return };
        let parent = s.parent;
        let Some(t) = s.tcb.as_deref_mut() else { return };
        let state = t.state;
        let established = std::mem::take(&mut t.just_established);
        if let Some(d) = t.deadline() {
            if t.timer_queued.is_none_or(|q| d < q) {
                t.timer_queued = Some(d);
                self.sockets.tcp.timers.push(Reverse((d, h.0)));
            }
        }
        // The common case: an open connection that did not just open.
        if !established && state != State::Closed {
            return;
        }
        let Some(t) = self.tcb(h) else { return };
        let (orphan, key) = (t.orphan, (t.local.0, t.local.1, t.remote.0, t.remote.1));
        if established {
            if let Some((lh, false)) = parent {
                if let Some(s) = self.sockets.get_mut(h) {
                    s.parent = Some((lh, true));
                }
                if let Some(l) = self.sockets.get_mut(lh).and_then(|s| s.listen.as_mut()) {
                    l.embryonic = l.embryonic.saturating_sub(1);
                    l.ready.push_back(h);
                }
            }
        }
        if state == State::Closed {
            if self.sockets.tcp.conns.get(&key) == Some(&h) {
                self.sockets.tcp.conn_remove(&key);
            }
            let embryonic = matches!(parent, Some((_, false)));
            if let (true, Some((lh, _))) = (embryonic, parent) {
                if let Some(l) = self.sockets.get_mut(lh).and_then(|s| s.listen.as_mut()) {
                    l.embryonic = l.embryonic.saturating_sub(1);
                }
            }
            if orphan || embryonic {
                self.sockets.remove(h);
            }
        }
    }

    /// RFC 5961 §7: at most `challenge_ack_limit` challenge ACKs a second.
    fn challenge_allowed(&mut self, now: Instant) -> bool {
        let sec = now.as_millis() / 1000;
        let limit = self.sockets.tcp.config.challenge_ack_limit;
        let w = &mut self.sockets.tcp.challenge_window;
        if w.0 != sec {
            *w = (sec, 0);
        }
        if w.1 >= limit {
            return false;
        }
        w.1 += 1;
        true
    }

    /// The end of a receive burst: every connection that owes an ACK for
    /// in-order data sends one now (`Tcb::ack_decision`).
    pub(crate) fn tcp_flush_acks(&mut self, now: Instant) {
        self.sockets.tcp.acks_owed_since = None;
        let owed = std::mem::take(&mut self.sockets.tcp.acks_owed);
        for &h in &owed {
            let Some(t) = self.tcb_mut(h) else { continue };
            t.ack_listed = false;
            if t.ack_owed {
                t.end_of_burst(now);
                self.tcp_after(h, now);
            }
        }
        // Keep the list's allocation for the next burst.
        let mut owed = owed;
        owed.clear();
        if self.sockets.tcp.acks_owed.is_empty() {
            self.sockets.tcp.acks_owed = owed;
        }
    }

    /// Runs the TCP timers due at `now`, after the ACKs the last receive
    /// burst owes (`poll` is the driver's end-of-burst call).
    pub(crate) fn tcp_timers(&mut self, now: Instant) {
        self.tcp_flush_acks(now);
        while let Some(&Reverse((at, id))) = self.sockets.tcp.timers.peek() {
            if at > now {
                break;
            }
            self.sockets.tcp.timers.pop();
            let h = SocketHandle(id);
            let Some(t) = self.tcb_mut(h) else { continue };
            if t.timer_queued != Some(at) {
                continue;
            }
            t.timer_queued = None;
            t.poll(now);
            self.tcp_after(h, now);
        }
    }

    /// The earliest TCP timer (possibly early: stale entries only cause a
    /// spurious poll).
    pub(crate) fn tcp_deadline(&self) -> Option<Instant> {
        let t = self.sockets.tcp.timers.peek().map(|Reverse((at, _))| *at);
        crate::time::earliest(t, self.sockets.tcp.acks_owed_since)
    }

    /// An ICMP or ICMPv6 error quoting a TCP segment we sent.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tcp_icmp_error(
        &mut self,
        quoted_src: IpAddr,
        quoted_dst: IpAddr,
        tcp_header: &[u8],
        v6: bool,
        icmp_type: u8,
        code: u8,
        mtu: Option<u32>,
        now: Instant,
    ) {
        if tcp_header.len() < 8 {
            return;
        }
        let sport = u16::from_be_bytes([tcp_header[0], tcp_header[1]]);
        let dport = u16::from_be_bytes([tcp_header[2], tcp_header[3]]);
        let sq = u32::from_be_bytes([tcp_header[4], tcp_header[5], tcp_header[6], tcp_header[7]]);
        let Some(&h) = self.sockets.tcp.conns.get(&(quoted_src, sport, quoted_dst, dport)) else { return };
        let Some(t) = self.tcb_mut(h) else { return };
        // RFC 5927 §4.1: only errors quoting a sequence number in flight.
        if !seq::in_range(t.snd_una, sq, t.snd_max.wrapping_add(1)) {
            return;
        }
        if let Some(m) = mtu {
            // RFC 1191 §7: no next-hop MTU means the old-style message; use
            // the next lower plateau of our own packets' size.
            let m = if m < 68 { 576 } else { m };
            t.set_path_mtu(m, now);
        } else if let Some(errno) = crate::socket::errno_for(v6, icmp_type, code) {
            // RFC 1122 §4.2.3.9: port/protocol unreachable is a hard error
            // while connecting; the others are soft.
            let hard = errno == Errno::ECONNREFUSED || (!v6 && icmp_type == 3 && code == 2);
            if hard && t.state == State::SynSent {
                t.enter_closed(Some(Errno::ECONNREFUSED));
            } else {
                t.soft_error = Some(errno);
            }
        }
        self.tcp_after(h, now);
    }
}
