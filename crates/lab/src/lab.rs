//! The lab: nodes (stacks) joined by links, run on a virtual clock.
//!
//! The loop: drain every node's outgoing frames into its links (impairments
//! decide what arrives, when), deliver due frames with `Stack::receive`, run
//! `Stack::poll` on nodes whose deadline is due (or that were just touched),
//! and jump the clock to the next event. Everything is ordered — nodes by
//! index, events by (time, sequence) — so a seed fixes the whole run.

use crate::clock::Clock;
use crate::config::ConfigError;
use crate::foreign::{ForeignPorts, FOREIGN_NODE};
use crate::link::{Endpoint, Framing, Link, LinkParams, Side};
use crate::node::{build_stack, fnv1a};
use crate::pcapng::{PcapngWriter, LINKTYPE_ETHERNET, LINKTYPE_RAW};
use crate::scenario::StepTarget;
use crate::sched::Scheduler;
use crate::topology::Topology;
use core::time::Duration;
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;
use via6_core::rng::Rng;
use via6_core::time::Instant;
use via6_core::{IfIndex, Stack};

/// A node of the lab.
pub struct LabNode {
    /// Its name.
    pub name: String,
    /// Its stack.
    pub stack: Stack,
    /// Ifindex of each configured interface, by position.
    pub ifindex: Vec<IfIndex>,
    next_poll: Option<Instant>,
    pub(crate) dirty: bool,
    /// Consecutive polls that asked to be polled again at once.
    stale: u32,
}

/// A frame recorded on a link when capture is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// When it was delivered.
    pub at: Instant,
    /// The end it was delivered to.
    pub to: Side,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// Lab-wide counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabStats {
    /// Frames sent on an interface no link is attached to.
    pub unlinked: u64,
    /// Frames delivered to nodes.
    pub delivered: u64,
    /// Capture writes that failed (the run goes on).
    pub pcap_errors: u64,
}

struct Delivery {
    link: usize,
    to: Side,
    data: Vec<u8>,
}

/// How long after `now` a node that asks to be polled "now" again is polled
/// (doubling while it keeps asking): keeps a deadline that never moves from
/// stalling virtual time.
const MIN_POLL_STEP: Duration = Duration::from_micros(1);

/// How many spent frame buffers the lab keeps for reuse.
const SPARE_FRAMES: usize = 256;

/// The in-process network lab.
pub struct Lab {
    pub(crate) clock: Clock,
    pub(crate) nodes: Vec<LabNode>,
    pub(crate) links: Vec<Link>,
    /// (node, ifindex) -> (link, side)
    pub(crate) ends: HashMap<(usize, u32), (usize, Side)>,
    sched: Scheduler<Delivery>,
    pub(crate) pcaps: Vec<Option<PcapngWriter<Box<dyn Write + Send>>>>,
    pub(crate) capture: Option<Vec<Vec<Captured>>>,
    stats: LabStats,
    /// Buffers of delivered frames, reused for the next frames sent.
    spare: Vec<Vec<u8>>,
    /// Link ends driven by the caller (see `foreign`).
    pub(crate) foreign: ForeignPorts,
}

/// A seed for `what` derived from the lab's seed, stable when other nodes or
/// links are added.
fn derive_seed(seed: u64, what: &[&str]) -> u64 {
    Rng::new(seed ^ fnv1a(what)).next_u64()
}

impl Lab {
    /// Builds every node and link of a checked topology. Nodes are seeded
    /// from `seed` and their names; links from their `seed` or, when absent,
    /// from `seed` and their name.
    pub fn from_topology(topo: &Topology, seed: u64) -> Result<Lab, ConfigError> {
        let now = Instant::ZERO;
        let mut nodes = Vec::with_capacity(topo.nodes.len());
        for spec in &topo.nodes {
            let b = build_stack(spec, derive_seed(seed, &["node", &spec.name]), now)
                .map_err(|e| e.within(&format!("node {:?}", spec.name)))?;
            nodes.push(LabNode {
                name: spec.name.clone(),
                stack: b.stack,
                ifindex: b.ifindex,
                next_poll: None,
                dirty: true,
                stale: 0,
            });
        }
        let mut links = Vec::with_capacity(topo.links.len());
        let mut ends = HashMap::new();
        for (i, l) in topo.links.iter().enumerate() {
            let name = l.name();
            let ep = |e: crate::topology::LinkEnd| {
                let ifindex =
                    nodes.get(e.node).and_then(|n: &LabNode| n.ifindex.get(e.iface)).ok_or_else(|| {
                        ConfigError::new(format!("link[{i}]"), format!("end {e:?} names no node interface"))
                    })?;
                Ok::<_, ConfigError>(Endpoint { node: e.node, ifindex: ifindex.0 })
            };
            let (a, b) = (ep(l.a)?, ep(l.b)?);
            let params = LinkParams {
                mtu: l.mtu,
                delay: l.delay,
                loss: l.loss,
                dup: l.dup,
                reorder: l.reorder,
                corrupt: l.corrupt,
                seed: l.seed.unwrap_or_else(|| derive_seed(seed, &["link", &name])),
                framing: Framing::Ethernet,
            };
            ends.insert((a.node, a.ifindex), (i, Side::A));
            ends.insert((b.node, b.ifindex), (i, Side::B));
            links.push(Link::new(&name, a, b, params));
        }
        let n = links.len();
        Ok(Lab {
            clock: Clock::new(),
            nodes,
            links,
            ends,
            sched: Scheduler::new(),
            pcaps: (0..n).map(|_| None).collect(),
            capture: None,
            stats: LabStats::default(),
            spare: Vec::new(),
            foreign: ForeignPorts::default(),
        })
    }

    /// Parses, checks and builds a topology from TOML text.
    pub fn from_toml(text: &str, seed: u64) -> Result<Lab, ConfigError> {
        Lab::from_topology(&Topology::parse(text)?, seed)
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The nodes, in topology order.
    pub fn nodes(&self) -> &[LabNode] {
        &self.nodes
    }

    /// A node's stack by name.
    pub fn node(&self, name: &str) -> Option<&Stack> {
        self.nodes.iter().find(|n| n.name == name).map(|n| &n.stack)
    }

    /// A node's stack by name, to drive it (sockets, routes, ...). The node is
    /// polled and its output collected on the next run.
    pub fn node_mut(&mut self, name: &str) -> Option<&mut Stack> {
        let n = self.nodes.iter_mut().find(|n| n.name == name)?;
        n.dirty = true;
        Some(&mut n.stack)
    }

    /// The links, in topology order.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// A link by name (`h1:eth0-r1:eth0`).
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    /// A link's parameters, to change impairments mid-run (MTU, loss, ...).
    pub fn link_params_mut(&mut self, name: &str) -> Option<&mut LinkParams> {
        self.links.iter_mut().find(|l| l.name == name).map(|l| &mut l.params)
    }

    /// Lab-wide counters.
    pub fn stats(&self) -> LabStats {
        self.stats
    }

    /// Keeps every delivered frame in memory (see [`captured`](Self::captured)).
    pub fn enable_capture(&mut self) {
        if self.capture.is_none() {
            self.capture = Some(vec![Vec::new(); self.links.len()]);
        }
    }

    /// The frames delivered on link `link` since capture was enabled.
    pub fn captured(&self, link: usize) -> &[Captured] {
        self.capture.as_ref().and_then(|c| c.get(link)).map_or(&[], Vec::as_slice)
    }

    /// Captures link `link` to a pcapng stream (one interface per link,
    /// named after it; each frame written once, when delivered).
    pub fn set_pcap_writer(&mut self, link: usize, out: Box<dyn Write + Send>) -> io::Result<()> {
        let l = self
            .links
            .get(link)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("no link {link}")))?;
        let linktype = match l.params.framing {
            Framing::Ethernet => LINKTYPE_ETHERNET,
            Framing::Ip => LINKTYPE_RAW,
        };
        let mut w = PcapngWriter::new(out)?;
        w.add_interface(linktype, &l.name)?;
        self.pcaps[link] = Some(w);
        Ok(())
    }

    /// Captures every link to `DIR/<a>--<b>.pcapng` (':' replaced by '_').
    pub fn set_pcap_dir(&mut self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for i in 0..self.links.len() {
            let l = &self.links[i];
            let file =
                format!("{}--{}.pcapng", endpoint_name(&self.nodes, l.a), endpoint_name(&self.nodes, l.b))
                    .replace(':', "_");
            let f = std::fs::File::create(dir.join(file))?;
            self.set_pcap_writer(i, Box::new(io::BufWriter::new(f)))?;
        }
        Ok(())
    }

    /// Flushes every capture.
    pub fn flush_pcaps(&mut self) -> io::Result<()> {
        for w in self.pcaps.iter_mut().flatten() {
            w.flush()?;
        }
        Ok(())
    }

    /// Puts `data` on link `link` as if the node at `from` had sent it now
    /// (impairments apply): for crafted packets.
    pub fn inject(&mut self, link: usize, from: Side, data: &[u8]) -> bool {
        let now = self.now();
        let Some(l) = self.links.get_mut(link) else { return false };
        for f in l.send(from, data, now) {
            self.sched.push(f.at, Delivery { link, to: f.to, data: f.data });
        }
        true
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let t = self.now() + d;
        self.run_until(t);
    }

    /// Runs until virtual time `t` (everything due at `t` included).
    pub fn run_until(&mut self, t: Instant) {
        self.run_until_or(t, |_| false);
    }

    /// Runs until virtual time `t`, or until `stop` holds after the lab has
    /// settled (then at the time reached, and true is returned).
    pub(crate) fn run_until_or(&mut self, t: Instant, stop: impl Fn(&Lab) -> bool) -> bool {
        loop {
            self.settle();
            if stop(self) {
                return true;
            }
            match self.next_event() {
                Some(n) if n <= t => {
                    self.clock.advance_to(n);
                    self.process_due();
                }
                _ => break,
            }
        }
        self.clock.advance_to(t);
        self.settle();
        false
    }

    /// Runs until nothing is in flight and no node has a timer due before
    /// `limit`, or until `limit`. Returns the time reached.
    pub fn run_until_idle(&mut self, limit: Instant) -> Instant {
        loop {
            self.settle();
            if self.sched.is_empty() {
                break;
            }
            match self.next_event() {
                Some(n) if n <= limit => {
                    self.clock.advance_to(n);
                    self.process_due();
                }
                _ => break,
            }
        }
        self.now()
    }

    /// Frames on the links, not yet delivered.
    pub fn in_flight(&self) -> usize {
        self.sched.len()
    }

    /// When the next thing happens: a frame delivery or a node's timer.
    pub fn next_event(&self) -> Option<Instant> {
        self.nodes.iter().fold(self.sched.next_time(), |acc, n| via6_core::time::earliest(acc, n.next_poll))
    }

    /// Polls touched nodes and moves every queued frame onto its link.
    pub(crate) fn settle(&mut self) {
        let now = self.now();
        for i in 0..self.nodes.len() {
            let n = &mut self.nodes[i];
            if n.dirty || n.next_poll.is_some_and(|d| d <= now) {
                n.dirty = false;
                n.next_poll = match n.stack.poll(now) {
                    Some(d) if d <= now => {
                        n.stale = (n.stale + 1).min(20);
                        Some(now + MIN_POLL_STEP * (1 << n.stale))
                    }
                    d => {
                        n.stale = 0;
                        d
                    }
                };
            }
            self.drain(i);
        }
    }

    fn drain(&mut self, node: usize) {
        let now = self.now();
        let (ends, links, sched, spare, stats) =
            (&self.ends, &mut self.links, &mut self.sched, &mut self.spare, &mut self.stats);
        // Frames as the stack lends them (headers, then a TCP payload still
        // in its send ring): the link copies them once, as a NIC would.
        self.nodes[node].stack.transmit_with(|ifindex, parts| {
            let Some(&(link, side)) = ends.get(&(node, ifindex.0)) else {
                stats.unlinked += 1;
                return;
            };
            links[link].send_reusing(side, parts, now, spare, |f| {
                sched.push(f.at, Delivery { link, to: f.to, data: f.data });
            });
        });
    }

    pub(crate) fn process_due(&mut self) {
        let now = self.now();
        while let Some((_, d)) = self.sched.pop_due(now) {
            let link = &mut self.links[d.link];
            link.count_delivered();
            let ep = link.end(d.to);
            if let Some(w) = self.pcaps[d.link].as_mut() {
                if w.write_packet(0, now, &d.data).is_err() {
                    self.stats.pcap_errors += 1;
                }
            }
            self.stats.delivered += 1;
            if ep.node == FOREIGN_NODE {
                if let Some(c) = self.capture.as_mut() {
                    c[d.link].push(Captured { at: now, to: d.to, data: d.data.clone() });
                }
                self.foreign.deliver(ep.ifindex, d.data);
                continue;
            }
            let node = &mut self.nodes[ep.node];
            node.stack.receive(IfIndex(ep.ifindex), &d.data, now);
            node.dirty = true;
            if let Some(c) = self.capture.as_mut() {
                c[d.link].push(Captured { at: now, to: d.to, data: d.data });
            } else if self.spare.len() < SPARE_FRAMES {
                self.spare.push(d.data);
            }
            // Replies go out now, in delivery order.
            self.drain(ep.node);
        }
    }
}

fn endpoint_name(nodes: &[LabNode], e: Endpoint) -> String {
    if e.node == FOREIGN_NODE {
        return ForeignPorts::name(e.ifindex);
    }
    let n = &nodes[e.node];
    let ifname =
        n.stack.interface(IfIndex(e.ifindex)).map_or_else(|| e.ifindex.to_string(), |i| i.name.clone());
    format!("{}:{}", n.name, ifname)
}

impl StepTarget for Lab {
    fn has_node(&self, name: &str) -> bool {
        self.node(name).is_some()
    }
    fn node_names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }
    fn advance(&mut self, d: Duration) {
        self.run_for(d);
    }
    fn now(&self) -> Instant {
        Lab::now(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{builtin, Runner};
    use std::sync::{Arc, Mutex};

    fn seed_lab(seed: u64) -> Lab {
        Lab::from_toml(builtin("seed").unwrap(), seed).unwrap()
    }

    #[test]
    fn builds_the_seed_scenario() {
        let lab = seed_lab(1);
        assert_eq!(lab.nodes().len(), 3);
        assert_eq!(lab.links().len(), 2);
        assert_eq!(lab.links()[0].name, "h1:eth0-r1:eth0");
        let r1 = lab.node("r1").unwrap();
        assert_eq!(r1.sysctl().get(via6_core::sysctl::Knob::InetForwarding), 1);
        assert!(lab.node("h9").is_none());
    }

    #[test]
    fn time_advances_and_nodes_talk() {
        let mut lab = seed_lab(1);
        lab.enable_capture();
        lab.run_for(Duration::from_secs(3));
        assert_eq!(lab.now(), Instant::from_secs(3));
        // DAD, router solicitations, ...: something crossed each link.
        for (i, l) in lab.links().iter().enumerate() {
            assert!(l.stats.sent > 0, "{}: {:?}", l.name, l.stats);
            assert_eq!(l.stats.delivered as usize, lab.captured(i).len());
        }
    }

    #[test]
    fn deterministic_for_a_seed() {
        let run = |seed| {
            let mut lab = seed_lab(seed);
            lab.enable_capture();
            lab.run_for(Duration::from_secs(5));
            (0..lab.links().len()).map(|i| lab.captured(i).to_vec()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn pcap_gets_delivered_frames() {
        let mut lab = seed_lab(1);
        let buf = Shared::default();
        lab.set_pcap_writer(0, Box::new(buf.clone())).unwrap();
        lab.run_for(Duration::from_secs(2));
        let bytes = buf.0.lock().unwrap();
        assert_eq!(&bytes[..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
        let epbs = count_epbs(&bytes);
        assert_eq!(epbs as u64, lab.links()[0].stats.delivered);
    }

    fn count_epbs(b: &[u8]) -> usize {
        let mut off = 0;
        let mut n = 0;
        while off + 8 <= b.len() {
            let t = u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]]);
            let len = u32::from_le_bytes([b[off + 4], b[off + 5], b[off + 6], b[off + 7]]) as usize;
            if t == 6 {
                n += 1;
            }
            off += len.max(12);
        }
        n
    }

    #[test]
    fn pcap_dir_names_files_after_links() {
        let dir = std::env::temp_dir().join(format!("via6-lab-pcapdir-{}", std::process::id()));
        let mut lab = seed_lab(1);
        lab.set_pcap_dir(&dir).unwrap();
        lab.run_for(Duration::from_secs(1));
        lab.flush_pcaps().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(names, ["h1_eth0--r1_eth0.pcapng", "r1_eth1--h2_eth0.pcapng"]);
    }

    #[test]
    fn total_loss_delivers_nothing() {
        let text = builtin("seed").unwrap().replacen("delay_ms = 1\n", "delay_ms = 1\nloss = 1.0\n", 1);
        let mut lab = Lab::from_toml(&text, 1).unwrap();
        lab.run_for(Duration::from_secs(3));
        let l = &lab.links()[0];
        assert!(l.stats.sent > 0);
        assert_eq!((l.stats.delivered, l.stats.lost), (0, l.stats.sent));
    }

    #[test]
    fn injected_frames_are_delayed_counted_and_captured() {
        let mut lab = seed_lab(1);
        lab.enable_capture();
        lab.run_for(Duration::from_millis(10));
        let frame = [0x02u8; 60];
        assert!(lab.inject(1, Side::B, &frame));
        assert!(!lab.inject(9, Side::B, &frame));
        let before = lab.links()[1].stats;
        lab.run_for(Duration::from_micros(999));
        assert_eq!(lab.links()[1].stats.delivered, before.delivered);
        lab.run_for(Duration::from_micros(1));
        let l = &lab.links()[1];
        assert_eq!(l.stats.delivered, before.delivered + 1);
        let last = lab.captured(1).last().unwrap();
        assert_eq!((last.at, last.to, last.data.as_slice()), (Instant::from_millis(11), Side::A, &frame[..]));
        // Too big for the link: dropped and counted.
        assert!(lab.inject(1, Side::A, &[0u8; 1515]));
        assert_eq!(lab.links()[1].stats.too_big, 1);
    }

    fn ping(lab: &mut Lab, from: &str, dst: &str, seq: u16) -> Option<via6_core::echo::EchoEvent> {
        let now = lab.now();
        let st = lab.node_mut(from).unwrap();
        st.echo_bind(7);
        let req = via6_core::echo::EchoRequest {
            dst: dst.parse().unwrap(),
            zone: None,
            src: None,
            ident: 7,
            seq,
            payload_len: 56,
            ttl: None,
            dont_frag: false,
        };
        st.echo_send(&req, now).unwrap();
        lab.run_for(Duration::from_millis(100));
        lab.node_mut(from).unwrap().echo_recv(7)
    }

    /// The seed report end to end: IPv4 across a router with only IPv6 next
    /// hops, both ways, and the router's ICMPv4 errors from 192.0.0.8.
    #[test]
    fn seed_path_end_to_end() {
        use via6_core::echo::EchoEvent;
        let mut lab = seed_lab(1);
        lab.enable_capture();
        lab.run_for(Duration::from_secs(3));
        for (seq, dst) in [(1, "203.0.113.2"), (2, "2001:db8:2::1")] {
            match ping(&mut lab, "h1", dst, seq) {
                Some(EchoEvent::Reply { from, seq: s, .. }) => {
                    assert_eq!((from.to_string(), s), (dst.to_string(), seq))
                }
                other => panic!("ping {dst}: {other:?}"),
            }
        }
        match ping(&mut lab, "h1", "203.0.113.99", 3) {
            Some(EchoEvent::Error { from, .. }) => assert_eq!(from.to_string(), "192.0.0.8"),
            other => panic!("ping 203.0.113.99: {other:?}"),
        }
        // IPv4 frames crossed the r1-h2 link (EtherType 0x0800).
        assert!(lab.captured(1).iter().any(|c| c.data.get(12..14) == Some(&[0x08, 0x00][..])));
    }

    #[test]
    fn impaired_runs_are_byte_identical() {
        let text = builtin("seed")
            .unwrap()
            .replace("delay_ms = 1\n", "delay_ms = 1\nloss = 0.2\ndup = 0.1\nreorder = 0.3\n");
        let run = |seed| {
            let mut lab = Lab::from_toml(&text, seed).unwrap();
            let buf = Shared::default();
            lab.set_pcap_writer(1, Box::new(buf.clone())).unwrap();
            lab.run_for(Duration::from_secs(3));
            for seq in 0..20 {
                ping(&mut lab, "h1", "203.0.113.2", seq);
            }
            let bytes = buf.0.lock().unwrap().clone();
            (bytes, lab.links()[1].stats)
        };
        let (a, sa) = run(3);
        let (b, sb) = run(3);
        assert_eq!(sa, sb);
        assert_eq!(a, b);
        assert!(sa.lost > 0 && sa.duplicated > 0 && sa.reordered > 0, "{sa:?}");
    }

    #[test]
    fn runner_wait_drives_the_lab() {
        let mut lab = seed_lab(1);
        let mut r: Runner<Lab> = Runner::new();
        r.run_text(&mut lab, "wait 1.5").unwrap();
        r.run_text(&mut lab, "h1 wait 500ms").unwrap();
        assert_eq!(lab.now(), Instant::from_secs(2));
        assert!(r.run_text(&mut lab, "h1 ping 203.0.113.2").unwrap_err().0.contains("unknown verb"));
    }
}
