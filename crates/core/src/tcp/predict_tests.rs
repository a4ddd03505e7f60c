//! Header prediction (`predict.rs`) proven equal to the general path: two
//! identical connections run the same random workload — application
//! writes and reads, segments delivered, lost, duplicated, reordered or
//! altered (window, timestamps, sequence number, flags), receive bursts
//! ended, time advanced — one with the prediction on, one with it off,
//! and after every segment the receiving TCBs (all state, the queued
//! segments included) and the segments in flight must be identical.

use super::predict::{no_prediction, predicted_count};
use super::tcb::{OutSeg, Tcb};
use super::tests::repr;
use super::TcpConfig;
use crate::time::Instant;
use core::time::Duration;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};
use via6_wire::tcp::TcpFlags;
use via6_wire::tcp_option::{TcpOption, TcpOptions};

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
const T0: Instant = Instant::from_millis(1000);

/// One connection: both ends and the segments in flight each way.
struct World {
    /// [client, server].
    t: [Tcb; 2],
    /// Segments in flight from side i, payloads filled.
    flight: [Vec<OutSeg>; 2],
    /// Whether header prediction is on in this world.
    predict: bool,
}

impl World {
    fn new(c: &TcpConfig, mtu: u32, predict: bool) -> World {
        let client = Tcb::new(c, (A, 40000), (B, 80), None, 1000, mtu, 5, T0);
        let server = Tcb::new(c, (B, 80), (A, 40000), None, 4_294_900_000, mtu, 7, T0);
        let mut w = World { t: [client, server], flight: [Vec::new(), Vec::new()], predict };
        w.t[0].connect(T0);
        w.collect();
        let syn = w.flight[0].remove(0);
        w.t[1].accept_syn(&repr(&syn), T0);
        w.collect();
        w
    }

    /// Moves what each TCB queued into its flight list, the payloads
    /// filled from the send buffer (as the emitter does).
    fn collect(&mut self) {
        for i in 0..2 {
            let t = &mut self.t[i];
            t.split_runs();
            let ring = super::emit::Ring { buf: &t.sndbuf, seq: t.buf_seq };
            for mut s in std::mem::take(&mut t.out) {
                if s.ring > 0 {
                    let Some((a, b)) = ring.payload(s.seq, s.ring) else { continue };
                    s.payload = [a, b].concat();
                    s.ring = 0;
                }
                self.flight[i].push(s);
            }
        }
    }

    /// Hands one segment to side `to` as the stack does (staging the
    /// payload, then the segment, then forgetting what was staged).
    fn arrive(&mut self, to: usize, s: &OutSeg, now: Instant) {
        no_prediction(!self.predict);
        let r = repr(s);
        let t = &mut self.t[to];
        let _ = t.stage_payload(&r);
        t.on_segment(&r, now);
        t.rcvbuf.unstage();
        no_prediction(false);
    }
}

/// What happens to one delivered segment.
#[derive(Debug, Clone, Copy)]
enum Fate {
    Deliver,
    Lose,
    Duplicate,
    /// Delivered after the next one.
    Reorder,
    /// The window field changed by the amount.
    Window(u16),
    /// No options at all.
    NoTimestamps,
    /// TSval moved back by the amount (PAWS).
    OldTimestamp(u32),
    /// SEG.SEQ moved by the amount.
    Seq(u32),
    /// SEG.ACK moved by the amount.
    Ack(u32),
    /// These flags added.
    Flags(u16),
    /// A SACK block added.
    Sack(u32, u32),
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        40 => Just(Fate::Deliver),
        3 => Just(Fate::Lose),
        2 => Just(Fate::Duplicate),
        2 => Just(Fate::Reorder),
        2 => any::<u16>().prop_map(Fate::Window),
        1 => Just(Fate::NoTimestamps),
        1 => (1u32..100).prop_map(Fate::OldTimestamp),
        1 => prop_oneof![1u32..3000, Just(u32::MAX), (u32::MAX - 3000)..u32::MAX].prop_map(Fate::Seq),
        1 => prop_oneof![1u32..3000, (u32::MAX - 3000)..=u32::MAX].prop_map(Fate::Ack),
        1 => prop_oneof![Just(0x001u16), Just(0x002), Just(0x004), Just(0x020), Just(0x040), Just(0x100)].prop_map(Fate::Flags),
        1 => (0u32..6000, 1u32..3000).prop_map(|(a, b)| Fate::Sack(a, b)),
    ]
}

fn apply(f: Fate, s: &OutSeg, rcv_ts: u32) -> Option<OutSeg> {
    let mut s = s.clone();
    match f {
        Fate::Deliver | Fate::Duplicate | Fate::Reorder => {}
        Fate::Lose => return None,
        Fate::Window(d) => s.window = s.window.wrapping_add(d),
        Fate::NoTimestamps => s.options = TcpOptions::EMPTY,
        Fate::OldTimestamp(d) => {
            let tsecr = s.options.timestamps().map_or(0, |t| t.1);
            s.options =
                TcpOptions::from_options(&[TcpOption::Timestamps { tsval: rcv_ts.wrapping_sub(d), tsecr }])
                    .ok()?;
        }
        Fate::Seq(d) => s.seq = s.seq.wrapping_add(d),
        Fate::Ack(d) => s.ack = s.ack.map(|a| a.wrapping_add(d)),
        Fate::Flags(b) => s.flags = TcpFlags::from_bits(s.flags.bits() | b),
        Fate::Sack(a, b) => {
            let base = s.ack.unwrap_or(0);
            let mut opts: Vec<TcpOption> = Vec::new();
            if let Some((tsval, tsecr)) = s.options.timestamps() {
                opts.push(TcpOption::Timestamps { tsval, tsecr });
            }
            let block = via6_wire::tcp_option::SackBlock {
                left: base.wrapping_add(a),
                right: base.wrapping_add(a).wrapping_add(b),
            };
            opts.push(TcpOption::Sack(via6_wire::tcp_option::SackBlocks::from_slice(&[block]).ok()?));
            s.options = TcpOptions::from_options(&opts).ok()?;
        }
    }
    Some(s)
}

#[derive(Debug, Clone)]
enum Op {
    /// Side writes this many bytes.
    Send(usize, usize),
    /// The first `fates.len()` segments in flight from side go across.
    Deliver(usize, Vec<Fate>),
    /// Side's receive burst ends (the owed ACK goes).
    EndBurst(usize),
    /// Side's application reads up to this many bytes.
    Recv(usize, usize),
    /// Time passes and both sides run their timers.
    Advance(u64),
    /// Side closes its sending direction.
    Shutdown(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let side = || prop_oneof![3 => Just(0usize), 1 => Just(1usize)];
    prop_oneof![
        4 => (side(), 1usize..20_000).prop_map(|(s, n)| Op::Send(s, n)),
        8 => (side(), proptest::collection::vec(fate(), 1..24)).prop_map(|(s, f)| Op::Deliver(s, f)),
        3 => side().prop_map(Op::EndBurst),
        3 => (side(), 1usize..30_000).prop_map(|(s, n)| Op::Recv(s, n)),
        2 => prop_oneof![Just(1u64), Just(20), Just(250), Just(1500)].prop_map(Op::Advance),
        1 => side().prop_map(Op::Shutdown),
    ]
}

/// Runs `ops` in both worlds, comparing after every step; returns the
/// segments the prediction handled.
fn run(c: &TcpConfig, mtu: u32, ops: &[Op]) -> Result<u64, TestCaseError> {
    let before = predicted_count();
    let mut w = [World::new(c, mtu, true), World::new(c, mtu, false)];
    let mut now = T0;
    // The handshake completes first: SYN-ACK and ACK.
    let mut script =
        vec![Op::Deliver(1, vec![Fate::Deliver]), Op::EndBurst(0), Op::Deliver(0, vec![Fate::Deliver])];
    script.extend_from_slice(ops);
    let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    for (step, o) in script.iter().enumerate() {
        for x in &mut w {
            match o {
                Op::Send(s, n) => {
                    let _ = x.t[*s].send(&data[..*n], now);
                }
                Op::Deliver(from, fates) => {
                    let to = 1 - from;
                    let n = fates.len().min(x.flight[*from].len());
                    let segs: Vec<OutSeg> = x.flight[*from].drain(..n).collect();
                    let mut later: Option<OutSeg> = None;
                    for (s, f) in segs.iter().zip(fates) {
                        let ts = x.t[to].ts_recent;
                        let Some(m) = apply(*f, s, ts) else { continue };
                        if let Fate::Reorder = f {
                            if let Some(l) = later.replace(m) {
                                x.arrive(to, &l, now);
                            }
                            continue;
                        }
                        x.arrive(to, &m, now);
                        if let Fate::Duplicate = f {
                            x.arrive(to, &m, now);
                        }
                        if let Some(l) = later.take() {
                            x.arrive(to, &l, now);
                        }
                    }
                    if let Some(l) = later {
                        x.arrive(to, &l, now);
                    }
                }
                Op::EndBurst(s) => x.t[*s].end_of_burst(now),
                Op::Recv(s, n) => {
                    let mut buf = vec![0u8; *n];
                    let _ = x.t[*s].recv(&mut buf, now);
                }
                Op::Advance(_) => {
                    for t in &mut x.t {
                        t.poll(now);
                    }
                }
                Op::Shutdown(s) => x.t[*s].shutdown_write(now),
            }
            x.collect();
        }
        if let Op::Advance(ms) = o {
            now += Duration::from_millis(*ms);
        }
        let [f, g] = &w;
        for i in 0..2 {
            prop_assert_eq!(
                format!("{:?}", f.t[i]),
                format!("{:?}", g.t[i]),
                "TCB {} after step {}: {:?}",
                i,
                step,
                o
            );
            prop_assert_eq!(
                format!("{:?}", f.flight[i]),
                format!("{:?}", g.flight[i]),
                "in flight from {} after step {}",
                i,
                step
            );
        }
    }
    Ok(predicted_count() - before)
}

fn small_cfg(buf: usize, quickack: u32, ts: bool, sack: bool, ws: bool) -> TcpConfig {
    TcpConfig {
        sndbuf: buf,
        rcvbuf: buf,
        quickack,
        timestamps: ts,
        sack,
        window_scaling: ws,
        ..TcpConfig::default()
    }
}

/// A clean bulk transfer is almost all predicted segments, and ends equal.
#[test]
fn bulk_transfer_is_predicted_and_equal() {
    let mut ops = Vec::new();
    for _ in 0..40 {
        ops.push(Op::Send(0, 16_000));
        ops.push(Op::Deliver(0, vec![Fate::Deliver; 16]));
        ops.push(Op::EndBurst(1));
        ops.push(Op::Recv(1, 30_000));
        ops.push(Op::Deliver(1, vec![Fate::Deliver; 4]));
    }
    for (ts, sack) in [(true, true), (false, false)] {
        let n = run(&small_cfg(128 * 1024, 0, ts, sack, true), 1500, &ops).expect("equal");
        assert!(n > 400, "predicted {n} segments (timestamps {ts})");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Random workloads: the prediction changes nothing.
    #[test]
    fn prediction_equals_general_path(
        ops in proptest::collection::vec(op(), 1..120),
        buf in prop_oneof![Just(4096usize), Just(16_384), Just(70_000), Just(200_000)],
        quickack in 0u32..3,
        ts in any::<bool>(),
        sack in any::<bool>(),
        ws in any::<bool>(),
        mtu in prop_oneof![Just(576u32), Just(1500)],
    ) {
        run(&small_cfg(buf, quickack, ts, sack, ws), mtu, &ops)?;
    }
}
