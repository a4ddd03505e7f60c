//! Lab topologies (DESIGN §6): `[[node]]` tables, each a node config
//! ([`NodeConfig`]), and `[[link]]` tables joining two lab interfaces:
//!
//! ```toml
//! [[link]]
//! a = "h1:eth0"
//! b = "r1:eth0"
//! mtu = 1500
//! delay_ms = 1
//! loss = 0.0      # also dup, reorder, corrupt: probabilities in [0, 1]
//! seed = 1        # optional; derived from the lab's seed when absent
//! ```

use crate::config::{ConfigError, InterfaceKind, NodeConfig, NodeSpec};
use core::time::Duration;
use serde::Deserialize;
use std::path::Path;

/// `[[link]]` as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    /// One end, `NODE:INTERFACE`.
    pub a: String,
    /// The other end, `NODE:INTERFACE`.
    pub b: String,
    /// MTU (default 1500).
    #[serde(default)]
    pub mtu: Option<u32>,
    /// One-way delay in milliseconds, fractions allowed (default 1).
    #[serde(default)]
    pub delay_ms: Option<f64>,
    /// Loss probability.
    #[serde(default)]
    pub loss: Option<f64>,
    /// Duplication probability.
    #[serde(default)]
    pub dup: Option<f64>,
    /// Reordering probability (extra random delay).
    #[serde(default)]
    pub reorder: Option<f64>,
    /// Corruption probability (one byte flipped).
    #[serde(default)]
    pub corrupt: Option<f64>,
    /// The link's RNG seed.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// A topology file as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologyFile {
    /// The nodes.
    #[serde(default, rename = "node")]
    pub nodes: Vec<NodeConfig>,
    /// The links.
    #[serde(default, rename = "link")]
    pub links: Vec<LinkConfig>,
}

/// One end of a checked link: node and interface by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkEnd {
    /// Position of the node in [`Topology::nodes`].
    pub node: usize,
    /// Position of the interface in that node's interfaces (ifindex − 1).
    pub iface: usize,
}

/// A checked link.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSpec {
    /// `a` as written, e.g. `h1:eth0`.
    pub a_name: String,
    /// `b` as written.
    pub b_name: String,
    /// The `a` end.
    pub a: LinkEnd,
    /// The `b` end.
    pub b: LinkEnd,
    /// MTU.
    pub mtu: u32,
    /// One-way delay.
    pub delay: Duration,
    /// Loss probability.
    pub loss: f64,
    /// Duplication probability.
    pub dup: f64,
    /// Reordering probability.
    pub reorder: f64,
    /// Corruption probability.
    pub corrupt: f64,
    /// Seed, if given.
    pub seed: Option<u64>,
}

impl LinkSpec {
    /// The link's display name, `h1:eth0-r1:eth0` (pcapng `if_name`).
    pub fn name(&self) -> String {
        format!("{}-{}", self.a_name, self.b_name)
    }

    /// The capture file name, `h1_eth0--r1_eth0.pcapng`.
    pub fn pcap_file_name(&self) -> String {
        format!("{}--{}.pcapng", self.a_name, self.b_name).replace(':', "_")
    }
}

/// A checked topology.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    /// The nodes, in file order.
    pub nodes: Vec<NodeSpec>,
    /// The links, in file order.
    pub links: Vec<LinkSpec>,
}

impl Topology {
    /// Parses and checks a topology.
    pub fn parse(text: &str) -> Result<Topology, ConfigError> {
        let file: TopologyFile = toml::from_str(text).map_err(|e| ConfigError::from_toml(text, &e))?;
        file.validate()
    }

    /// Reads, parses and checks a topology file.
    pub fn load(path: &Path) -> Result<Topology, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(path.display().to_string(), format!("cannot read topology: {e}"))
        })?;
        Topology::parse(&text).map_err(|e| e.within(&path.display().to_string()))
    }

    /// A node's position by name.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }
}

fn prob(v: Option<f64>, path: String) -> Result<f64, ConfigError> {
    let p = v.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&p) {
        return Err(ConfigError::new(
            path,
            format!("{p} is not a probability: use a number from 0.0 to 1.0"),
        ));
    }
    Ok(p)
}

impl TopologyFile {
    /// Checks nodes and links.
    pub fn validate(&self) -> Result<Topology, ConfigError> {
        let mut nodes: Vec<NodeSpec> = Vec::with_capacity(self.nodes.len());
        for (i, n) in self.nodes.iter().enumerate() {
            let prefix = if n.name.is_empty() { format!("node[{i}]") } else { format!("node {:?}", n.name) };
            if let Some(j) = self.nodes[..i].iter().position(|o| o.name == n.name) {
                return Err(ConfigError::new(
                    format!("node[{i}].name"),
                    format!("{:?} is already the name of node[{j}]; node names must be unique", n.name),
                ));
            }
            let spec = n.validate().map_err(|e| e.within(&prefix))?;
            for (k, ic) in spec.interfaces.iter().enumerate() {
                if matches!(ic.kind, InterfaceKind::Tap | InterfaceKind::Tun) {
                    return Err(ConfigError::new(
                        format!("{prefix}: interface[{k}].kind"),
                        format!(
                            "{:?} needs a host device, which a lab does not have; use kind = \"lab\"",
                            ic.kind.to_string()
                        ),
                    ));
                }
            }
            nodes.push(spec);
        }
        let mut used: Vec<(LinkEnd, usize)> = Vec::new();
        let mut links = Vec::with_capacity(self.links.len());
        for (i, l) in self.links.iter().enumerate() {
            let a = resolve_end(&nodes, &l.a, &format!("link[{i}].a"))?;
            let b = resolve_end(&nodes, &l.b, &format!("link[{i}].b"))?;
            for (end, field, text) in [(a, "a", &l.a), (b, "b", &l.b)] {
                if let Some((_, j)) = used.iter().find(|(e, _)| *e == end) {
                    return Err(ConfigError::new(
                        format!("link[{i}].{field}"),
                        format!(
                            "{text:?} is already an end of link[{j}]; an interface joins at most one link"
                        ),
                    ));
                }
                used.push((end, i));
            }
            let mtu = l.mtu.unwrap_or(1500);
            if !(68..=65535).contains(&mtu) {
                return Err(ConfigError::new(
                    format!("link[{i}].mtu"),
                    format!("{mtu} is out of range: use 68..=65535"),
                ));
            }
            let delay_ms = l.delay_ms.unwrap_or(1.0);
            if !(0.0..=3_600_000.0).contains(&delay_ms) {
                return Err(ConfigError::new(
                    format!("link[{i}].delay_ms"),
                    format!("{delay_ms} is out of range: use 0 to 3600000 milliseconds"),
                ));
            }
            links.push(LinkSpec {
                a_name: l.a.clone(),
                b_name: l.b.clone(),
                a,
                b,
                mtu,
                delay: Duration::from_nanos((delay_ms * 1e6).round() as u64),
                loss: prob(l.loss, format!("link[{i}].loss"))?,
                dup: prob(l.dup, format!("link[{i}].dup"))?,
                reorder: prob(l.reorder, format!("link[{i}].reorder"))?,
                corrupt: prob(l.corrupt, format!("link[{i}].corrupt"))?,
                seed: l.seed,
            });
        }
        Ok(Topology { nodes, links })
    }
}

fn resolve_end(nodes: &[NodeSpec], text: &str, path: &str) -> Result<LinkEnd, ConfigError> {
    let Some((n, ifname)) = text.split_once(':') else {
        return Err(ConfigError::new(path, format!("{text:?} is not NODE:INTERFACE, e.g. \"h1:eth0\"")));
    };
    let node = nodes.iter().position(|x| x.name == n).ok_or_else(|| {
        let names: Vec<&str> = nodes.iter().map(|x| x.name.as_str()).collect();
        ConfigError::new(path, format!("node {n:?} is not defined; nodes: {}", names.join(", ")))
    })?;
    let spec = &nodes[node];
    let iface = spec.interfaces.iter().position(|x| x.name == ifname).ok_or_else(|| {
        ConfigError::new("", format!("interface {ifname:?} in {path} is not defined on node {n:?}"))
    })?;
    let kind = spec.interfaces[iface].kind;
    if kind != InterfaceKind::Lab {
        return Err(ConfigError::new(
            path,
            format!("{text:?} is a {kind} interface; only kind = \"lab\" interfaces can be linked"),
        ));
    }
    Ok(LinkEnd { node, iface })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"
[[node]]
name = "h1"
[[node.interface]]
name = "eth0"
kind = "lab"

[[node]]
name = "r1"
[node.sysctl]
"net.inet6.ip6.forwarding" = 1
[[node.interface]]
name = "eth0"
kind = "lab"
[[node.interface]]
name = "eth1"
kind = "lab"
[[node.route]]
dest = "0.0.0.0/0"
via = "fe80::2%eth0"

[[link]]
a = "h1:eth0"
b = "r1:eth0"
mtu = 1280
delay_ms = 2.5
loss = 0
seed = 9
"#;

    fn err(extra: &str) -> String {
        Topology::parse(&format!("{TWO}{extra}")).unwrap_err().to_string()
    }

    #[test]
    fn parses() {
        let t = Topology::parse(TWO).unwrap();
        assert_eq!(t.nodes.len(), 2);
        assert_eq!(t.node_index("r1"), Some(1));
        assert_eq!(t.nodes[1].sysctl, vec![("net.inet6.ip6.forwarding".to_string(), 1)]);
        let l = &t.links[0];
        assert_eq!((l.a, l.b), (LinkEnd { node: 0, iface: 0 }, LinkEnd { node: 1, iface: 0 }));
        assert_eq!((l.mtu, l.delay, l.loss, l.seed), (1280, Duration::from_micros(2500), 0.0, Some(9)));
        assert_eq!(l.name(), "h1:eth0-r1:eth0");
        assert_eq!(l.pcap_file_name(), "h1_eth0--r1_eth0.pcapng");
    }

    #[test]
    fn link_refusals() {
        assert_eq!(
            err("[[link]]\na = \"r1:eth1\"\nb = \"r1:eth9\"\n"),
            "interface \"eth9\" in link[1].b is not defined on node \"r1\""
        );
        assert!(err("[[link]]\na = \"r1:eth1\"\nb = \"h1:eth0\"\n")
            .starts_with("link[1].b: \"h1:eth0\" is already an end of link[0]"));
        assert!(err("[[link]]\na = \"r2:eth1\"\nb = \"r1:eth1\"\n")
            .starts_with("link[1].a: node \"r2\" is not defined"));
        assert!(err("[[link]]\na = \"r1\"\nb = \"r1:eth1\"\n").contains("is not NODE:INTERFACE"));
        assert!(err("[[link]]\na = \"r1:eth1\"\nb = \"h1:eth0\"\nloss = 1.5\n").contains("link[1].b"));
        assert!(Topology::parse(&TWO.replace("loss = 0", "loss = 1.5"))
            .unwrap_err()
            .to_string()
            .starts_with("link[0].loss: 1.5"));
        assert!(Topology::parse(&TWO.replace("mtu = 1280", "mtu = 10"))
            .unwrap_err()
            .to_string()
            .starts_with("link[0].mtu"));
        let e = Topology::parse(&TWO.replace("seed = 9", "sed = 9")).unwrap_err();
        assert_eq!(e.path, "link[0].sed");
    }

    #[test]
    fn node_refusals() {
        assert!(err("[[node]]\nname = \"h1\"\n")
            .starts_with("node[2].name: \"h1\" is already the name of node[0]"));
        assert_eq!(
            err("[[node]]\nname = \"t\"\n[[node.interface]]\nname = \"tap0\"\nkind = \"tap\"\n"),
            "node \"t\": interface[0].kind: \"tap\" needs a host device, which a lab does not have; use kind = \"lab\""
        );
        assert_eq!(
            Topology::parse(&TWO.replace("fe80::2%eth0", "fe80::2")).unwrap_err().to_string(),
            "node \"r1\": route[0].via: \"fe80::2\" is link-local and needs a zone, e.g. \"fe80::2%eth0\""
        );
        let e = Topology::parse(
            &TWO.replace("kind = \"lab\"\n\n[[node]]", "kind = \"lab\"\nspeed = 10\n\n[[node]]"),
        )
        .unwrap_err();
        assert_eq!(e.path, "node[0].interface[0].speed");
        assert!(e.message.contains("unknown field `speed`"));
        assert!(err("[[node]]\nname = \"l\"\n[[node.interface]]\nname = \"lo0\"\nkind = \"loopback\"\n[[link]]\na = \"l:lo0\"\nb = \"r1:eth1\"\n")
            .contains("only kind = \"lab\" interfaces can be linked"));
    }

    #[test]
    fn load_reports_io_errors() {
        let e = Topology::load(Path::new("/nonexistent/via6/topo.toml")).unwrap_err();
        assert!(e.to_string().contains("cannot read topology"), "{e}");
    }
}
