//! Unit tests of the TCB as a pure state machine: two TCBs exchange segments
//! directly, or a test crafts the peer's segments. One test per RFC rule.

use super::emit::Ring;
use super::tcb::{OutSeg, Tcb};
use super::{State, TcpConfig};
use crate::errno::Errno;
use crate::time::Instant;
use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use via6_wire::tcp::{TcpFlags, TcpRepr};
use via6_wire::tcp_option::{TcpOption, TcpOptions};

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
const T0: Instant = Instant::from_millis(1000);

fn cfg() -> TcpConfig {
    TcpConfig { quickack: 0, ..TcpConfig::default() }
}

fn client_with(c: &TcpConfig, mtu: u32) -> Tcb {
    Tcb::new(c, (A, 40000), (B, 80), None, 1000, mtu, 5, T0)
}

fn server_with(c: &TcpConfig) -> Tcb {
    Tcb::new(c, (B, 80), (A, 40000), None, 900_000, 1500, 7, T0)
}

/// The segment `s` as the peer receives it.
pub(super) fn repr(s: &OutSeg) -> TcpRepr<'_> {
    TcpRepr {
        src_port: 1,
        dst_port: 2,
        seq: s.seq,
        ack: s.ack,
        flags: s.flags,
        window: s.window,
        urgent: 0,
        options: s.options,
        payload: &s.payload,
    }
}

/// Copies the send-buffer bytes each queued segment names into its own
/// `payload`, as the emitter does into the frame (`emit::Ring`).
fn fill(t: &mut Tcb) {
    t.split_runs();
    let ring = Ring { buf: &t.sndbuf, seq: t.buf_seq };
    let filled: Vec<Option<Vec<u8>>> = t
        .out
        .iter()
        .map(|s| {
            (s.ring > 0)
                .then(|| ring.payload(s.seq, s.ring).map(|(a, b)| [a, b].concat()).expect("bytes held"))
        })
        .collect();
    for (s, p) in t.out.iter_mut().zip(filled) {
        if let Some(p) = p {
            s.payload = p;
            s.ring = 0;
        }
    }
}

/// Takes the queued segments, their payloads filled.
fn take_out(t: &mut Tcb) -> Vec<OutSeg> {
    fill(t);
    std::mem::take(&mut t.out)
}

/// Delivers everything `from` queued to `to`; returns how many segments.
fn deliver(from: &mut Tcb, to: &mut Tcb, now: Instant) -> usize {
    let segs = take_out(from);
    for s in &segs {
        to.on_segment(&repr(s), now);
    }
    // The stack's `poll` after a receive burst sends the owed ACK.
    to.end_of_burst(now);
    segs.len()
}

fn handshake_with(cc: &TcpConfig, sc: &TcpConfig) -> (Tcb, Tcb) {
    let mut c = client_with(cc, 1500);
    let mut s = server_with(sc);
    c.connect(T0);
    let syn = c.out.remove(0);
    s.accept_syn(&repr(&syn), T0);
    deliver(&mut s, &mut c, T0);
    deliver(&mut c, &mut s, T0);
    (c, s)
}

fn handshake() -> (Tcb, Tcb) {
    handshake_with(&cfg(), &cfg())
}

/// A segment from the server's side with the given fields and timestamps.
fn seg_from(s: &Tcb, seq: u32, flags: TcpFlags, payload: &[u8], ack: Option<u32>) -> OutSeg {
    let opts = if s.ts_ok {
        TcpOptions::from_options(&[TcpOption::Timestamps { tsval: s.ts_now(T0), tsecr: 0 }]).unwrap()
    } else {
        TcpOptions::EMPTY
    };
    OutSeg {
        seq,
        ack,
        flags,
        window: 65535,
        options: opts,
        payload: payload.to_vec(),
        ring: 0,
        challenge: false,
        seg_size: 0,
    }
}

/// RFC 9293 §3.5: the three-way handshake establishes both ends and
/// negotiates RFC 7323 window scaling and timestamps and RFC 2018 SACK.
#[test]
fn rfc9293_3_5_three_way_handshake() {
    let (c, s) = handshake();
    assert_eq!((c.state, s.state), (State::Established, State::Established));
    assert!(c.ts_ok && s.ts_ok && c.sack_ok && s.sack_ok);
    assert_eq!((c.snd_wscale, c.rcv_wscale), (s.rcv_wscale, s.snd_wscale));
    assert!(c.rcv_wscale > 0);
    assert_eq!(c.snd_una, 1001);
    assert_eq!(s.rcv_nxt, 1001);
}

/// RFC 7323 §2.2: window scaling is used only when both SYNs carry the
/// option; otherwise both shifts are zero.
#[test]
fn rfc7323_2_2_window_scale_needs_both_sides() {
    let no_ws = TcpConfig { window_scaling: false, ..cfg() };
    let (c, s) = handshake_with(&cfg(), &no_ws);
    assert_eq!((c.snd_wscale, c.rcv_wscale, s.snd_wscale, s.rcv_wscale), (0, 0, 0, 0));
}

/// RFC 9293 §3.7.1 / RFC 6691: the SYN's MSS is the path MTU minus the
/// fixed IP and TCP headers (40 for IPv4, 60 for IPv6).
#[test]
fn rfc9293_3_7_1_mss_option_from_path_mtu() {
    let mut c = client_with(&cfg(), 1280);
    c.connect(T0);
    assert_eq!(c.out[0].options.mss(), Some(1240));
    let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));
    let mut c6 = Tcb::new(&cfg(), (A, 1), (v6, 2), None, 1, 1500, 0, T0);
    c6.connect(T0);
    assert_eq!(c6.out[0].options.mss(), Some(1440));
}

/// RFC 9293 §3.10.7.3: in SYN-SENT an ACK outside (ISS, SND.NXT] is
/// answered with <SEQ=SEG.ACK><CTL=RST>; an acceptable RST+ACK refuses
/// the connection.
#[test]
fn rfc9293_3_10_7_3_syn_sent_bad_ack_and_reset() {
    let mut c = client_with(&cfg(), 1500);
    c.connect(T0);
    c.out.clear();
    let bad = OutSeg {
        seq: 5,
        ack: Some(77),
        flags: TcpFlags::SYN,
        ..seg_from(&c, 0, TcpFlags::empty(), &[], None)
    };
    c.on_segment(&repr(&bad), T0);
    assert_eq!(c.out.len(), 1);
    assert_eq!((c.out[0].seq, c.out[0].flags), (77, TcpFlags::RST));
    assert_eq!(c.state, State::SynSent);
    let rst = OutSeg { seq: 0, ack: Some(1001), flags: TcpFlags::RST, ..bad };
    c.on_segment(&repr(&rst), T0);
    assert_eq!((c.state, c.error), (State::Closed, Some(Errno::ECONNREFUSED)));
}

/// RFC 5961 §3.2: a RST whose sequence number is in the window but not
/// exactly RCV.NXT draws a challenge ACK and changes nothing; one at
/// RCV.NXT resets; one outside the window is dropped silently.
#[test]
fn rfc5961_3_2_rst_challenge_ack() {
    let (mut c, s) = handshake();
    let rst = seg_from(&s, c.rcv_nxt.wrapping_add(100), TcpFlags::RST, &[], None);
    c.on_segment(&repr(&rst), T0);
    assert_eq!(c.state, State::Established);
    assert_eq!(c.out.len(), 1);
    assert!(c.out[0].challenge && c.out[0].ack == Some(c.rcv_nxt));
    c.out.clear();
    let far = seg_from(&s, c.rcv_nxt.wrapping_add(50_000_000), TcpFlags::RST, &[], None);
    c.on_segment(&repr(&far), T0);
    assert!(c.out.is_empty() && c.state == State::Established);
    let exact = seg_from(&s, c.rcv_nxt, TcpFlags::RST, &[], None);
    c.on_segment(&repr(&exact), T0);
    assert_eq!((c.state, c.error), (State::Closed, Some(Errno::ECONNRESET)));
}

/// RFC 5961 §4.2: a SYN in a synchronized state draws a challenge ACK and
/// never resets the connection.
#[test]
fn rfc5961_4_2_syn_in_established_gets_challenge_ack() {
    let (mut c, s) = handshake();
    let syn = seg_from(&s, c.rcv_nxt, TcpFlags::SYN, &[], None);
    c.on_segment(&repr(&syn), T0);
    assert_eq!(c.state, State::Established);
    assert!(c.out.iter().any(|o| o.challenge));
}

/// RFC 5961 §5.2: an ACK above SND.NXT (SND.MAX here) is challenged and
/// the segment, data included, is dropped.
#[test]
fn rfc5961_5_2_ack_beyond_snd_nxt_dropped() {
    let (mut c, s) = handshake();
    let before = c.rcv_nxt;
    let bogus = seg_from(&s, c.rcv_nxt, TcpFlags::empty(), b"data", Some(c.snd_max.wrapping_add(5000)));
    c.on_segment(&repr(&bogus), T0);
    assert_eq!(c.rcv_nxt, before);
    assert!(c.out.iter().any(|o| o.challenge));
}

/// RFC 7323 §5.3 PAWS: a segment whose TSval is older than TS.Recent is
/// dropped (and ACKed).
#[test]
fn rfc7323_5_3_paws_drops_old_segments() {
    let (mut c, s) = handshake();
    let before = c.rcv_nxt;
    let mut old = seg_from(&s, c.rcv_nxt, TcpFlags::empty(), b"stale", Some(c.snd_nxt));
    old.options =
        TcpOptions::from_options(&[TcpOption::Timestamps { tsval: c.ts_recent.wrapping_sub(10), tsecr: 0 }])
            .unwrap();
    c.on_segment(&repr(&old), T0);
    assert_eq!(c.rcv_nxt, before);
    assert_eq!(c.out.len(), 1, "an ACK answers the dropped segment");
}

/// RFC 9293 §3.8.6.3 / RFC 5681 §4.2: ACK at least every second full
/// segment; a single segment waits for the delayed-ACK timer (< 500 ms).
#[test]
fn rfc9293_3_8_6_3_delayed_ack() {
    let (mut c, mut s) = handshake();
    c.nodelay = true;
    let mss = c.mss as usize - 12;
    c.send(&vec![1u8; mss], T0).unwrap();
    deliver(&mut c, &mut s, T0);
    assert!(s.out.is_empty(), "one segment: ACK delayed");
    let due = s.delack_at.expect("delayed-ACK timer");
    assert!(due - T0 < Duration::from_millis(500));
    c.send(&vec![2u8; mss], T0).unwrap();
    deliver(&mut c, &mut s, T0);
    assert_eq!(s.out.len(), 1, "second full segment: ACK now");
    s.out.clear();
    c.send(&[3u8; 10], T0).unwrap();
    deliver(&mut c, &mut s, T0);
    assert!(s.out.is_empty());
    s.poll(s.delack_at.unwrap());
    assert_eq!(s.out.len(), 1, "the timer sends the ACK");
}

/// Quick-ack at connection start: the first segments are ACKed at once.
#[test]
fn quickack_at_start_acks_every_segment() {
    let q = TcpConfig { quickack: 4, ..cfg() };
    let (mut c, mut s) = handshake_with(&q, &q);
    c.nodelay = true;
    c.send(b"small", T0).unwrap();
    deliver(&mut c, &mut s, T0);
    assert_eq!(s.out.len(), 1);
}

/// RFC 9293 §3.7.4 Nagle: while data is unacknowledged, a small segment
/// waits; with TCP_NODELAY it goes at once.
#[test]
fn rfc9293_3_7_4_nagle_and_nodelay() {
    let (mut c, _s) = handshake();
    c.send(b"first", T0).unwrap();
    assert_eq!(c.out.len(), 1);
    c.send(b"second", T0).unwrap();
    assert_eq!(c.out.len(), 1, "Nagle holds the second small segment");
    c.nodelay = true;
    c.output(T0);
    assert_eq!(c.out.len(), 2);
    fill(&mut c);
    assert_eq!(c.out[1].payload, b"second");
}

/// RFC 9293 §3.8.6.1: a zero window with data queued starts the persist
/// timer, whose expiry sends a one-byte probe; probes back off.
#[test]
fn rfc9293_3_8_6_1_zero_window_probe() {
    let (mut c, s) = handshake();
    let zero = OutSeg { window: 0, ..seg_from(&s, c.rcv_nxt, TcpFlags::empty(), &[], Some(c.snd_nxt)) };
    c.on_segment(&repr(&zero), T0);
    assert_eq!(c.snd_wnd, 0);
    c.out.clear();
    c.send(b"blocked", T0).unwrap();
    assert!(c.out.is_empty());
    let p1 = c.persist_at.expect("persist timer");
    c.poll(p1);
    assert_eq!(c.out.len(), 1);
    fill(&mut c);
    assert_eq!(c.out[0].payload, b"b");
    let p2 = c.persist_at.expect("re-armed");
    assert!(p2 - p1 > p1 - T0, "backed off");
}

/// RFC 5681 §3.2: the third duplicate ACK triggers a fast retransmit of
/// SND.UNA and sets ssthresh = max(FlightSize/2, 2 SMSS).
#[test]
fn rfc5681_3_2_fast_retransmit_on_third_dupack() {
    let reno = TcpConfig { congestion: super::Algorithm::NewReno, sack: false, ..cfg() };
    let (mut c, mut s) = handshake_with(&reno, &reno);
    c.cc.cwnd = 20 * c.mss;
    let data = vec![9u8; 10 * (c.mss as usize - 12)];
    c.send(&data, T0).unwrap();
    let mut segs = take_out(&mut c);
    assert_eq!(segs.len(), 10);
    let first = segs.remove(0);
    for seg in &segs[..4] {
        s.on_segment(&repr(seg), T0);
    }
    assert_eq!(s.out.len(), 4, "out-of-order data is ACKed at once");
    deliver(&mut s, &mut c, T0);
    assert_eq!(c.counters.fast_retransmits, 1);
    fill(&mut c);
    let rx = c.out.iter().find(|o| o.seq == first.seq).expect("retransmitted SND.UNA");
    assert_eq!(rx.payload, first.payload);
    assert_eq!(c.cc.ssthresh, 5 * (c.mss - 12), "half of ten segments' flight");
}

/// A connection whose server received the third of three segments first:
/// the server and the three segments.
fn third_segment_first() -> (Tcb, Vec<OutSeg>) {
    let (mut c, mut s) = handshake();
    c.cc.cwnd = 20 * c.mss;
    c.send(&vec![1u8; 3 * (c.mss as usize - 12)], T0).unwrap();
    let segs = take_out(&mut c);
    s.on_segment(&repr(&segs[2]), T0);
    (s, segs)
}

/// RFC 2018 §4: ACKs of out-of-order data carry SACK blocks naming it.
#[test]
fn rfc2018_4_sack_blocks_report_out_of_order_data() {
    let (s, segs) = third_segment_first();
    let b = s.out[0].options.sack().expect("SACK option");
    assert_eq!(b.as_slice()[0].left, segs[2].seq);
    assert_eq!(b.as_slice()[0].right, segs[2].seq.wrapping_add(segs[2].payload.len() as u32));
}

/// shutdown(SHUT_RD) with data held out of order: the held data is
/// discarded with the rest, so later ACKs carry no SACK blocks (RFC 2018
/// §4 reports only data held; in-order data after SHUT_RD only advances
/// RCV.NXT) and never one past RCV.NXT's data.
#[test]
fn rfc2018_4_no_sack_blocks_after_shut_rd_discards_held_data() {
    let (mut s, segs) = third_segment_first();
    assert!(s.out[0].options.sack().is_some(), "SACK while the run is held");
    s.out.clear();
    s.shutdown_read();
    s.on_segment(&repr(&segs[0]), T0);
    s.end_of_burst(T0);
    if s.out.is_empty() {
        // The lone in-order segment's ACK may be delayed.
        s.poll(s.delack_at.expect("an ACK owed"));
    }
    let ack = s.out.last().expect("an ACK for the in-order data");
    assert_eq!(ack.ack, Some(segs[1].seq), "the in-order segment is acknowledged");
    assert!(ack.options.sack().is_none(), "no SACK block for discarded data: {:?}", ack.options.sack());
}

/// RFC 6298 §5.4-§5.5: on expiry the earliest unacknowledged segment is
/// retransmitted and the timer backs off.
#[test]
fn rfc6298_5_rto_retransmits_and_backs_off() {
    let (mut c, _s) = handshake();
    c.send(b"hello", T0).unwrap();
    let first = c.out.remove(0);
    let t1 = c.rto_at.expect("armed");
    c.poll(t1);
    fill(&mut c);
    assert_eq!(c.out[0].seq, first.seq);
    assert_eq!(c.out[0].payload, b"hello");
    let t2 = c.rto_at.expect("re-armed");
    assert_eq!(t2 - t1, (t1 - T0) * 2);
    assert_eq!(c.cc.cwnd, c.mss, "RFC 5681 §3.1 loss window");
}

/// RFC 9293 §3.6: the active closer goes FIN-WAIT-1 → FIN-WAIT-2 →
/// TIME-WAIT for 2 MSL; the passive one CLOSE-WAIT → LAST-ACK → CLOSED.
#[test]
fn rfc9293_3_6_close_sequence_and_time_wait() {
    let (mut c, mut s) = handshake();
    c.shutdown_write(T0);
    assert_eq!(c.state, State::FinWait1);
    deliver(&mut c, &mut s, T0);
    assert_eq!(s.state, State::CloseWait);
    deliver(&mut s, &mut c, T0);
    assert_eq!(c.state, State::FinWait2);
    s.shutdown_write(T0);
    assert_eq!(s.state, State::LastAck);
    deliver(&mut s, &mut c, T0);
    assert_eq!(c.state, State::TimeWait);
    assert_eq!(c.tw_at, Some(T0 + c.cfg.msl * 2));
    deliver(&mut c, &mut s, T0);
    assert_eq!(s.state, State::Closed);
    c.poll(T0 + c.cfg.msl * 2);
    assert_eq!(c.state, State::Closed);
}

/// RFC 9293 §3.10.7.4: a FIN retransmitted into TIME-WAIT is ACKed again
/// and restarts the 2 MSL timer.
#[test]
fn rfc9293_3_10_7_4_time_wait_reacks_fin() {
    let (mut c, mut s) = handshake();
    c.shutdown_write(T0);
    deliver(&mut c, &mut s, T0);
    deliver(&mut s, &mut c, T0);
    s.shutdown_write(T0);
    let fin = s.out[0].clone();
    deliver(&mut s, &mut c, T0);
    c.out.clear();
    let later = T0 + Duration::from_secs(5);
    c.on_segment(&repr(&fin), later);
    assert_eq!(c.state, State::TimeWait);
    assert_eq!(c.out.len(), 1);
    assert_eq!(c.tw_at, Some(later + c.cfg.msl * 2));
}

/// RFC 1191 §6.3 / RFC 8201 §5.2: a smaller path MTU lowers the MSS and
/// resends the unacknowledged data in segments that fit.
#[test]
fn rfc1191_6_3_pmtu_lowers_mss_and_resends() {
    let (mut c, _s) = handshake();
    c.cc.cwnd = 10 * c.mss;
    c.send(&vec![5u8; 3 * (c.mss as usize - 12)], T0).unwrap();
    c.out.clear();
    assert!(c.set_path_mtu(1280, T0));
    assert_eq!(c.mss, 1240);
    assert!(!c.out.is_empty());
    fill(&mut c);
    assert!(c.out.iter().all(|o| o.payload.len() + o.options.len() <= 1240));
    assert_eq!(c.out[0].seq, c.snd_una);
    assert!(!c.set_path_mtu(1400, T0), "a larger MTU never raises it");
}

/// RFC 9293 §3.10.4 / RFC 2525 §2.17: closing with unread data aborts with
/// a RST instead of a FIN.
#[test]
fn rfc2525_2_17_close_with_unread_data_sends_rst() {
    let (mut c, mut s) = handshake();
    c.send(b"unread", T0).unwrap();
    deliver(&mut c, &mut s, T0);
    s.out.clear();
    assert!(s.close(T0));
    assert_eq!(s.out.len(), 1);
    assert!(s.out[0].flags.contains(TcpFlags::RST));
}

/// RFC 9293 §3.4: an unacceptable segment (old duplicate) is answered with
/// an ACK and its data is not delivered twice.
#[test]
fn rfc9293_3_4_old_duplicate_is_acked_not_delivered() {
    let (mut c, mut s) = handshake();
    c.send(b"once", T0).unwrap();
    fill(&mut c);
    let seg = c.out[0].clone();
    deliver(&mut c, &mut s, T0);
    s.out.clear();
    s.on_segment(&repr(&seg), T0);
    assert_eq!(s.out.len(), 1);
    let mut buf = [0u8; 16];
    assert_eq!(s.recv(&mut buf, T0), Ok(4));
    assert_eq!(s.recv(&mut buf, T0), Err(Errno::EWOULDBLOCK));
}

/// RFC 9293 §3.8.6.2.2: the advertised right edge never moves left, even
/// when the buffer fills.
#[test]
fn rfc9293_3_8_6_2_2_window_never_shrinks() {
    let small = TcpConfig { rcvbuf: 8192, window_scaling: false, ..cfg() };
    let (mut c, mut s) = handshake_with(&cfg(), &small);
    c.nodelay = true;
    let mut edge = s.rcv_adv;
    for _ in 0..6 {
        let _ = c.send(&[0u8; 1000], T0);
        deliver(&mut c, &mut s, T0);
        s.poll(T0 + Duration::from_secs(1));
        assert!(super::seq::ge(s.rcv_adv, edge));
        edge = s.rcv_adv;
        deliver(&mut s, &mut c, T0);
    }
    assert_eq!(s.rcvbuf.len(), 6000);
}

/// RFC 5681 §4.2 with end-of-burst coalescing (`Tcb::ack_decision`): a
/// burst of in-order full segments owes one ACK, sent at the end of the
/// burst; a burst longer than the stretch limit gets an ACK at the limit;
/// out-of-order data is still ACKed at once.
#[test]
fn rfc5681_4_2_one_ack_per_receive_burst() {
    let (mut c, mut s) = handshake();
    c.nodelay = true;
    c.cc.cwnd = 1 << 20;
    let mss = c.mss as usize - 12;
    c.send(&vec![7u8; 10 * mss], T0).unwrap();
    let segs = take_out(&mut c);
    assert_eq!(segs.len(), 10);
    for seg in &segs {
        s.on_segment(&repr(seg), T0);
    }
    assert!(s.out.is_empty(), "in-order data: the ACK waits for the end of the burst");
    assert!(s.ack_owed);
    s.end_of_burst(T0);
    assert_eq!(s.out.len(), 1, "one ACK for the burst");
    assert_eq!(s.out[0].ack, Some(s.rcv_nxt));
    s.out.clear();

    // A burst beyond the stretch limit is ACKed at the limit.
    let limit = s.stretch_limit() as usize;
    let n = limit.div_ceil(mss);
    // Room for the whole burst (the SYN-ACK's unscaled window is smaller).
    c.snd_wnd = 1 << 20;
    c.send(&vec![8u8; (n + 3) * mss], T0).unwrap();
    let segs = take_out(&mut c);
    assert_eq!(segs.len(), n + 3);
    for (i, seg) in segs.iter().enumerate() {
        s.on_segment(&repr(seg), T0);
        let want = usize::from(i + 1 >= n);
        assert_eq!(s.out.len(), want, "segment {}: ACK only at the stretch limit ({n} segments)", i + 1);
    }
    s.end_of_burst(T0);
    assert_eq!(s.out.len(), 2, "and the rest of the burst at its end");

    // Out of order: an immediate (duplicate) ACK, no waiting for the burst.
    let (mut c, mut s) = handshake();
    c.nodelay = true;
    c.cc.cwnd = 1 << 20;
    c.send(&vec![9u8; 3 * mss], T0).unwrap();
    let segs = take_out(&mut c);
    s.on_segment(&repr(&segs[0]), T0);
    s.on_segment(&repr(&segs[2]), T0);
    assert_eq!(s.out.len(), 1, "the gap is reported at once");
    assert!(s.out[0].options.sack().is_some());
}

/// Full segments that may all go at once are queued as one run
/// (`OutSeg::seg_size`, as Linux's GSO hands a driver one large segment),
/// cut into exactly the segments a segment-at-a-time sender makes: whole
/// segments back to back, PSH on the last only, a short tail apart; the
/// run stops short of SND.MAX on a resend and never carries the FIN.
#[test]
fn full_segments_go_as_one_run_of_the_same_segments() {
    let (mut c, _s) = handshake();
    c.cc.cwnd = 1 << 20;
    c.snd_wnd = 1 << 20;
    c.nodelay = true;
    let maxp = (c.mss - 12) as usize;
    let (start, counted) = (c.snd_nxt, c.counters.segs_out);
    c.send(&vec![5u8; 10 * maxp + 100], T0).unwrap();
    assert_eq!(c.out.len(), 2, "one run of ten and the short tail");
    assert_eq!((c.out[0].pieces(), c.out[0].seg_size, c.out[0].ring), (10, maxp as u16, 10 * maxp as u32));
    assert_eq!(c.counters.segs_out, counted + 11, "each segment counted");
    let segs = take_out(&mut c);
    assert_eq!(segs.len(), 11);
    let mut at = start;
    for (i, s) in segs.iter().enumerate() {
        assert_eq!(s.seq, at);
        assert_eq!(s.payload.len(), if i < 10 { maxp } else { 100 });
        assert_eq!(s.flags.contains(TcpFlags::PSH), i == 10, "PSH on the last segment only");
        assert_eq!(s.seg_size, 0);
        at = at.wrapping_add(s.payload.len() as u32);
    }

    // A go-back-N resend (as after an RTO) with new data queued behind
    // SND.MAX: the run ends at SND.MAX.
    c.send(&vec![6u8; 3 * maxp], T0).unwrap();
    let snd_max = c.snd_max;
    c.send(&vec![6u8; 3 * maxp], T0).unwrap();
    c.out.clear();
    c.snd_max = snd_max;
    c.snd_nxt = start;
    c.output(T0);
    let run = &c.out[0];
    assert!(run.pieces() > 1);
    assert!(super::seq::le(run.seq.wrapping_add(run.ring), snd_max), "a resend run stops at SND.MAX");

    // The FIN goes on a segment of its own making after the run.
    let (mut c, _s) = handshake();
    c.cc.cwnd = 0;
    c.send(&vec![7u8; 4 * maxp], T0).unwrap();
    c.shutdown_write(T0);
    assert!(c.out.is_empty(), "no window yet");
    c.cc.cwnd = 1 << 20;
    c.snd_wnd = 1 << 20;
    c.output(T0);
    assert_eq!(c.out.len(), 2);
    assert_eq!((c.out[0].pieces(), c.out[0].flags), (3, TcpFlags::empty()));
    let segs = take_out(&mut c);
    let last = segs.last().expect("segments");
    assert_eq!(segs.len(), 4);
    assert!(last.flags.contains(TcpFlags::FIN) && last.payload.len() == maxp);
}

proptest::proptest! {
    /// A run's pieces cover its bytes exactly, back to back, whole
    /// segments but the last, its control bits on the last only.
    #[test]
    fn run_pieces_cover_the_run(seq in proptest::prelude::any::<u32>(), ring in 1u32..200_000, seg_size in 1u16..2_000, psh in proptest::prelude::any::<bool>()) {
        let flags = if psh { TcpFlags::PSH } else { TcpFlags::empty() };
        let run = OutSeg {
            seq,
            ack: Some(1),
            flags,
            window: 1,
            options: TcpOptions::EMPTY,
            payload: Vec::new(),
            ring,
            challenge: false,
            seg_size,
        };
        let n = run.pieces();
        let mut at = seq;
        for i in 0..n {
            let p = run.piece_at(i);
            let cut = run.piece(i);
            proptest::prop_assert_eq!((cut.seq, cut.ring, cut.flags, cut.seg_size), (p.seq, p.len, p.flags, 0));
            proptest::prop_assert_eq!(p.seq, at);
            let last = i + 1 == n;
            proptest::prop_assert!(p.len > 0 && p.len <= u32::from(seg_size) && (last || p.len == u32::from(seg_size)));
            proptest::prop_assert_eq!(p.flags, if last { flags } else { TcpFlags::empty() });
            at = at.wrapping_add(p.len);
        }
        proptest::prop_assert_eq!(at, seq.wrapping_add(ring));
    }
}
