//! Foreign endpoints: a link end that is not a via6 `Stack` but frames the
//! caller carries to and from another implementation (smoltcp in the tests,
//! a packet generator, a fuzzer).
//!
//! [`Lab::attach_foreign`] joins a node interface that no link holds yet to
//! a new link whose other end is a [`ForeignPort`]. Frames the node sends go
//! through the link's impairments (MTU, delay, loss, ...), are captured like
//! any other delivery, and wait in the port's queue for
//! [`Lab::foreign_recv`]; [`Lab::foreign_send`] puts a frame on the link from
//! the port's side at the current virtual time. The foreign side is driven
//! by the caller on the lab's virtual clock: [`Lab::run_until_foreign`] stops
//! as soon as a frame waits at a port, so the caller answers at the time the
//! frame arrived and the run stays deterministic.

use crate::config::ConfigError;
use crate::lab::Lab;
use crate::link::{Endpoint, Link, LinkParams, Side};
use std::collections::VecDeque;
use via6_core::time::Instant;

/// [`Endpoint::node`] of a foreign end; its `ifindex` is the port number.
pub const FOREIGN_NODE: usize = usize::MAX;

/// A foreign end of a link, returned by [`Lab::attach_foreign`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ForeignPort(pub(crate) u32);

impl ForeignPort {
    /// The port's number (its [`Endpoint::ifindex`]).
    pub fn index(self) -> u32 {
        self.0
    }
}

/// One port: its link end and the frames delivered to it, not yet taken.
#[derive(Debug)]
struct Port {
    link: usize,
    side: Side,
    rx: VecDeque<Vec<u8>>,
}

/// Every foreign port of a lab.
#[derive(Debug, Default)]
pub(crate) struct ForeignPorts {
    ports: Vec<Port>,
    pending: usize,
}

impl ForeignPorts {
    /// Queues a frame the link delivered to port `port`.
    pub(crate) fn deliver(&mut self, port: u32, data: Vec<u8>) {
        if let Some(p) = self.ports.get_mut(port as usize) {
            p.rx.push_back(data);
            self.pending += 1;
        }
    }

    /// Whether any port holds a frame.
    pub(crate) fn has_pending(&self) -> bool {
        self.pending > 0
    }

    /// The display name of port `port`'s end.
    pub(crate) fn name(port: u32) -> String {
        format!("foreign{port}")
    }
}

impl Lab {
    /// Attaches a foreign endpoint to node interface `end` (`NODE:IFNAME`),
    /// which no link may hold yet, over a new link with `params` (its `a`
    /// end is the node, `b` the port). The link is named
    /// `NODE:IFNAME-foreignN` for [`Lab::link_params_mut`], and can be
    /// captured like the others (`Lab::set_pcap_writer` with its index,
    /// [`Lab::foreign_link`]).
    pub fn attach_foreign(&mut self, end: &str, params: LinkParams) -> Result<ForeignPort, ConfigError> {
        let bad = |why: String| ConfigError::new("foreign end", why);
        let (node_name, ifname) =
            end.split_once(':').ok_or_else(|| bad(format!("`{end}` is not NODE:INTERFACE")))?;
        let node = self
            .nodes
            .iter()
            .position(|n| n.name == node_name)
            .ok_or_else(|| bad(format!("no node `{node_name}`")))?;
        let ifindex = self.nodes[node]
            .ifindex
            .iter()
            .copied()
            .find(|&i| self.nodes[node].stack.interface(i).is_some_and(|f| f.name == ifname))
            .ok_or_else(|| bad(format!("node `{node_name}` has no lab interface `{ifname}`")))?;
        if self.ends.contains_key(&(node, ifindex.0)) {
            return Err(bad(format!("`{end}` is already linked")));
        }
        let port = u32::try_from(self.foreign.ports.len()).map_err(|_| bad("too many ports".into()))?;
        let link = self.links.len();
        let a = Endpoint { node, ifindex: ifindex.0 };
        let b = Endpoint { node: FOREIGN_NODE, ifindex: port };
        let name = format!("{end}-{}", ForeignPorts::name(port));
        self.links.push(Link::new(&name, a, b, params));
        self.pcaps.push(None);
        if let Some(c) = self.capture.as_mut() {
            c.push(Vec::new());
        }
        self.ends.insert((node, ifindex.0), (link, Side::A));
        self.foreign.ports.push(Port { link, side: Side::B, rx: VecDeque::new() });
        self.nodes[node].dirty = true;
        Ok(ForeignPort(port))
    }

    /// The index of `port`'s link in [`Lab::links`].
    pub fn foreign_link(&self, port: ForeignPort) -> Option<usize> {
        self.foreign.ports.get(port.0 as usize).map(|p| p.link)
    }

    /// The oldest frame delivered to `port` and not yet taken.
    pub fn foreign_recv(&mut self, port: ForeignPort) -> Option<Vec<u8>> {
        let f = self.foreign.ports.get_mut(port.0 as usize)?.rx.pop_front()?;
        self.foreign.pending -= 1;
        Some(f)
    }

    /// Sends `frame` from `port` onto its link at the current virtual time
    /// (the link's impairments apply). False if there is no such port.
    pub fn foreign_send(&mut self, port: ForeignPort, frame: &[u8]) -> bool {
        let Some(p) = self.foreign.ports.get(port.0 as usize) else { return false };
        let (link, side) = (p.link, p.side);
        self.inject(link, side, frame)
    }

    /// Runs like [`Lab::run_until`], but returns as soon as a frame waits at
    /// a foreign port (at the virtual time it arrived), so the caller can
    /// drive the foreign endpoint. Returns the time reached.
    pub fn run_until_foreign(&mut self, t: Instant) -> Instant {
        self.run_until_or(t, |lab| lab.foreign.has_pending());
        self.now()
    }
}
