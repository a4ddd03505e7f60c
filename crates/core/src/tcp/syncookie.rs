//! SYN cookies (RFC 4987 §3.6): when a listener's queue of embryonic
//! connections is full (or `net.inet.tcp.syncookies_only` is set), a SYN is
//! answered with a SYN-ACK whose ISN encodes what the connection needs, and
//! no state is kept; the ACK that returns it recreates the connection in
//! ESTABLISHED.
//!
//! The cookie (our ISN) is laid out like FreeBSD's tcp_syncache.c one, with a
//! time counter instead of odd/even secrets:
//!
//! ```text
//!  31                          9 8   7 6   4 3   1  0
//! | MAC (23 bits)               | ctr | MSS | WS  |SACK|
//! ```
//!
//! - MAC: SipHash-2-4 under the node secret of the 4-tuple, the peer's ISN,
//!   the full time counter and the low 9 bits, truncated to 23 bits;
//! - ctr: the low two bits of the counter (one tick per 64 s), so the check
//!   knows which counter to recompute; a cookie is good for at most
//!   [`MAX_AGE`] ticks after the one it was made in;
//! - MSS: an index into [`MSS_TABLE`] (the peer's MSS rounded down);
//! - WS: an index into [`WSCALE_TABLE`] (the peer's shift rounded down, or
//!   none: rounding down only understates the peer's window);
//! - SACK: the peer offered SACK-Permitted.
//!
//! Timestamps are not in the cookie: as in FreeBSD, an ACK that carries the
//! option proves the SYN offered it (we only answer with it then), and our
//! timestamp offset is a keyed hash of the 4-tuple, so the clock the peer
//! saw in the SYN-ACK continues without a jump.

use super::tcb::{default_mss, Tcb};
use super::State;
use crate::addr::{self, IfIndex};
use crate::socket::SocketHandle;
use crate::stack::Stack;
use crate::stats::Counter;
use crate::time::Instant;
use core::hash::Hasher;
use siphasher::sip::SipHasher24;
use std::net::IpAddr;
use via6_wire::tcp::TcpRepr;

/// The peer MSS values a cookie can carry (index = 3 bits).
pub const MSS_TABLE: [u16; 8] = [256, 536, 1220, 1380, 1440, 1452, 1460, 8960];

/// The peer window-scale shifts a cookie can carry; index 0 is "no window
/// scaling".
pub const WSCALE_TABLE: [Option<u8>; 8] =
    [None, Some(0), Some(1), Some(2), Some(3), Some(5), Some(7), Some(9)];

/// Milliseconds per counter tick.
pub const TICK_MS: u64 = 64_000;

/// The oldest counter a cookie may have been made in, in ticks before now
/// (Linux's MAX_SYNCOOKIE_AGE).
pub const MAX_AGE: u64 = 2;

/// What a cookie carries besides its MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieData {
    /// The peer's MSS, rounded down to [`MSS_TABLE`].
    pub mss: u16,
    /// The peer's window-scale shift, rounded down to [`WSCALE_TABLE`].
    pub wscale: Option<u8>,
    /// The peer offered SACK.
    pub sack: bool,
}

/// The largest table MSS not above `mss` (index 0 below the smallest).
pub fn mss_index(mss: u16) -> usize {
    MSS_TABLE.iter().rposition(|&m| m <= mss).unwrap_or(0)
}

/// The largest table shift not above `ws`; 0 for no window scaling.
pub fn wscale_index(ws: Option<u8>) -> usize {
    match ws {
        None => 0,
        Some(s) => WSCALE_TABLE.iter().rposition(|&t| t.is_some_and(|t| t <= s)).unwrap_or(1),
    }
}

fn counter(now: Instant) -> u64 {
    now.as_millis() / TICK_MS
}

fn hash_tuple(h: &mut SipHasher24, local: (IpAddr, u16), remote: (IpAddr, u16)) {
    for (ip, port) in [local, remote] {
        match ip {
            IpAddr::V4(a) => h.write(&a.octets()),
            IpAddr::V6(a) => h.write(&a.octets()),
        }
        h.write(&port.to_be_bytes());
    }
}

fn mac(secret: &[u8; 16], local: (IpAddr, u16), remote: (IpAddr, u16), irs: u32, ctr: u64, low: u32) -> u32 {
    let mut h = SipHasher24::new_with_key(secret);
    h.write(b"tcp-syncookie");
    hash_tuple(&mut h, local, remote);
    h.write(&irs.to_be_bytes());
    h.write(&ctr.to_be_bytes());
    h.write(&low.to_be_bytes());
    (h.finish() as u32) >> 9
}

/// The cookie for a SYN from `remote` (initial sequence `irs`) to `local`.
pub fn encode(
    secret: &[u8; 16],
    local: (IpAddr, u16),
    remote: (IpAddr, u16),
    irs: u32,
    now: Instant,
    data: CookieData,
) -> u32 {
    let ctr = counter(now);
    let low = ((ctr & 3) as u32) << 7
        | (mss_index(data.mss) as u32) << 4
        | (wscale_index(data.wscale) as u32) << 1
        | u32::from(data.sack);
    mac(secret, local, remote, irs, ctr, low) << 9 | low
}

/// Checks a returned cookie (`iss` = SEG.ACK - 1, `irs` = SEG.SEQ - 1):
/// what it carries when it was made by this node for this 4-tuple and ISN
/// no more than [`MAX_AGE`] ticks ago.
pub fn decode(
    secret: &[u8; 16],
    local: (IpAddr, u16),
    remote: (IpAddr, u16),
    irs: u32,
    iss: u32,
    now: Instant,
) -> Option<CookieData> {
    let low = iss & 0x1ff;
    let now_ctr = counter(now);
    let age = (now_ctr.wrapping_sub(u64::from(low >> 7))) & 3;
    if age > MAX_AGE || age > now_ctr {
        return None;
    }
    if mac(secret, local, remote, irs, now_ctr - age, low) != iss >> 9 {
        return None;
    }
    Some(CookieData {
        mss: MSS_TABLE[((low >> 4) & 7) as usize],
        wscale: WSCALE_TABLE[((low >> 1) & 7) as usize],
        sack: low & 1 == 1,
    })
}

/// The timestamp offset of a cookie connection: fixed per 4-tuple, so the
/// SYN-ACK and the connection made later share one clock (RFC 7323 §5.4).
pub fn ts_offset(secret: &[u8; 16], local: (IpAddr, u16), remote: (IpAddr, u16)) -> u32 {
    let mut h = SipHasher24::new_with_key(secret);
    h.write(b"tcp-syncookie-ts");
    hash_tuple(&mut h, local, remote);
    h.finish() as u32
}

impl Tcb {
    /// Rebuilds a passive connection from a valid cookie: SYN-RECEIVED with
    /// our SYN-ACK sent, the peer's options as the cookie and the ACK tell;
    /// the ACK itself is then processed as usual and completes it.
    pub(crate) fn restore_from_cookie(&mut self, seg: &TcpRepr<'_>, irs: u32, data: CookieData) {
        self.passive = true;
        self.irs = irs;
        self.rcv_nxt = irs.wrapping_add(1);
        let tsval = seg.options.timestamps().map(|(tsval, _)| tsval);
        self.adopt_peer_options(u32::from(data.mss), data.wscale, data.sack, tsval);
        self.state = State::SynReceived;
        self.snd_una = self.iss;
        self.snd_nxt = self.iss.wrapping_add(1);
        self.snd_max = self.snd_nxt;
        // The SYN-ACK advertised an unscaled window (RFC 7323 §2.2).
        self.rcv_adv = self.rcv_nxt.wrapping_add(self.advertisable().min(65535));
    }
}

impl Stack {
    /// Answers a SYN (from `src` to our `dst`) with a cookie SYN-ACK and
    /// keeps nothing. The SYN-ACK is what a new passive TCB would send, with
    /// the cookie as its ISN.
    pub(crate) fn tcp_send_cookie(
        &mut self,
        ifindex: IfIndex,
        src: IpAddr,
        dst: IpAddr,
        seg: &TcpRepr<'_>,
        now: Instant,
    ) {
        let (local, remote) = ((dst, seg.dst_port), (src, seg.src_port));
        let zone = addr::zone_of(dst, ifindex);
        let cfg = &self.sockets.tcp.config;
        let data = CookieData {
            mss: seg.options.mss().unwrap_or(default_mss(src.is_ipv6()) as u16),
            wscale: seg.options.window_scale().filter(|_| cfg.window_scaling).map(|s| s.min(14)),
            sack: cfg.sack && seg.options.sack_permitted(),
        };
        let iss = encode(&self.secret, local, remote, seg.seq, now, data);
        let ts = ts_offset(&self.secret, local, remote);
        let mtu = self.tcp_path_mtu(src, zone);
        let mut tcb = Tcb::new(&self.sockets.tcp.config, local, remote, zone, iss, mtu, ts, now);
        tcb.accept_syn(seg, now);
        for out in std::mem::take(&mut tcb.out) {
            let _ = self.tcp_emit(local, remote, zone, &out, now);
        }
        self.stats.inc(Counter::TcpsScSendcookie);
    }

    /// An ACK for listener `lh`: if it returns a valid cookie, the
    /// connection is made (ESTABLISHED by the ACK itself, data included) and
    /// queued for accept; true when the segment was taken (also when a
    /// full accept queue drops it), false for a reset.
    pub(crate) fn tcp_cookie_ack(
        &mut self,
        lh: SocketHandle,
        ifindex: IfIndex,
        src: IpAddr,
        dst: IpAddr,
        seg: &TcpRepr<'_>,
        now: Instant,
    ) -> bool {
        if !self.sysctl.on(crate::sysctl::Knob::TcpSyncookies) {
            return false;
        }
        let Some(ack) = seg.ack else { return false };
        let (local, remote) = ((dst, seg.dst_port), (src, seg.src_port));
        let (iss, irs) = (ack.wrapping_sub(1), seg.seq.wrapping_sub(1));
        let Some(data) = decode(&self.secret, local, remote, irs, iss, now) else {
            self.stats.inc(Counter::TcpsScFailcookie);
            return false;
        };
        self.stats.inc(Counter::TcpsScRecvcookie);
        let Some(l) = self.sockets.get(lh).and_then(|s| s.listen.as_ref()) else { return false };
        if l.ready.len() >= l.backlog.max(1) {
            // Linux drops here and lets the peer retransmit.
            self.sockets.tcp.listen_drops += 1;
            self.stats.inc(Counter::TcpsListendrop);
            return true;
        }
        let zone = addr::zone_of(dst, ifindex);
        let ts = ts_offset(&self.secret, local, remote);
        let mtu = self.tcp_path_mtu(src, zone);
        let mut tcb = Tcb::new(&self.sockets.tcp.config, local, remote, zone, iss, mtu, ts, now);
        tcb.restore_from_cookie(seg, irs, data);
        let h = self.tcp_adopt_child(lh, tcb);
        if let Some(t) = self.tcb_mut(h) {
            t.on_segment(seg, now);
        }
        self.tcp_after(h, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const K: [u8; 16] = [7; 16];
    const L: (IpAddr, u16) = (IpAddr::V4(Ipv4Addr::new(203, 0, 113, 2)), 80);
    const R: (IpAddr, u16) = (IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)), 49152);
    const D: CookieData = CookieData { mss: 1460, wscale: Some(7), sack: true };

    #[test]
    fn round_trip() {
        let t = Instant::from_secs(1000);
        for (mss, ws, sack) in
            [(1460, Some(7), true), (536, None, false), (8960, Some(0), true), (1220, Some(3), false)]
        {
            let d = CookieData { mss, wscale: ws, sack };
            let c = encode(&K, L, R, 12345, t, d);
            assert_eq!(decode(&K, L, R, 12345, c, t), Some(d));
        }
    }

    #[test]
    fn wrong_key_tuple_isn_or_bits_rejected() {
        let t = Instant::from_secs(1000);
        let c = encode(&K, L, R, 99, t, D);
        assert_eq!(decode(&[8; 16], L, R, 99, c, t), None);
        assert_eq!(decode(&K, L, (R.0, R.1 + 1), 99, c, t), None);
        assert_eq!(decode(&K, (IpAddr::V4(Ipv4Addr::new(203, 0, 113, 3)), 80), R, 99, c, t), None);
        assert_eq!(decode(&K, L, R, 100, c, t), None);
        // Tampered data bits (a bigger MSS) fail the MAC.
        assert_eq!(decode(&K, L, R, 99, c ^ 0x10, t), None);
        assert_eq!(decode(&K, L, R, 99, c.wrapping_add(1 << 9), t), None);
    }

    /// Valid for the tick it was made in and up to MAX_AGE ticks later, not
    /// after (and not from the future).
    #[test]
    fn age() {
        let t = Instant::from_millis(10 * TICK_MS + 5);
        let c = encode(&K, L, R, 1, t, D);
        for ticks in 0..=MAX_AGE {
            let later = Instant::from_millis(t.as_millis() + ticks * TICK_MS);
            assert_eq!(decode(&K, L, R, 1, c, later), Some(D), "{ticks} ticks");
        }
        let too_late = Instant::from_millis(t.as_millis() + (MAX_AGE + 1) * TICK_MS);
        assert_eq!(decode(&K, L, R, 1, c, too_late), None);
        let much_later = Instant::from_millis(t.as_millis() + 4 * TICK_MS);
        assert_eq!(decode(&K, L, R, 1, c, much_later), None);
        let earlier = Instant::from_millis(t.as_millis() - TICK_MS);
        assert_eq!(decode(&K, L, R, 1, c, earlier), None);
    }

    #[test]
    fn mss_and_wscale_indices_round_down() {
        assert_eq!(mss_index(100), 0);
        assert_eq!(mss_index(536), 1);
        assert_eq!(mss_index(1219), 1);
        assert_eq!(mss_index(1440), 4);
        assert_eq!(mss_index(1459), 5);
        assert_eq!(mss_index(9000), 7);
        assert_eq!(MSS_TABLE[mss_index(1460)], 1460);
        assert_eq!(wscale_index(None), 0);
        assert_eq!(WSCALE_TABLE[wscale_index(Some(4))], Some(3));
        assert_eq!(WSCALE_TABLE[wscale_index(Some(14))], Some(9));
        assert_eq!(WSCALE_TABLE[wscale_index(Some(0))], Some(0));
        let d = CookieData { mss: 1400, wscale: Some(6), sack: false };
        let t = Instant::from_secs(5);
        let got = decode(&K, L, R, 3, encode(&K, L, R, 3, t, d), t).unwrap();
        assert_eq!(got, CookieData { mss: 1380, wscale: Some(5), sack: false });
    }

    #[test]
    fn ts_offset_is_per_tuple() {
        assert_eq!(ts_offset(&K, L, R), ts_offset(&K, L, R));
        assert_ne!(ts_offset(&K, L, R), ts_offset(&K, R, L));
    }
}
