//! Node configuration (DESIGN §6): the TOML a daemon reads with
//! `via6 up -c FILE`, and the body of each `[[node]]` table of a lab topology.
//!
//! Two layers: the serde types (`NodeConfig`, `InterfaceConfig`, ...) hold the
//! text as written; [`NodeConfig::validate`] checks it and returns a typed
//! [`NodeSpec`]. Every refusal is a [`ConfigError`] naming the field, the value
//! and how to fix it — never a panic.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use via6_wire::scoped::is_valid_ifname;
use via6_wire::{IpPrefix, MacAddr, ScopedIpv6, Zone};

/// A configuration error: where (`path`, e.g. `node "r1": route[0].via`),
/// what and how to fix it (`message`), and the line when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The offending field, e.g. `route[0].via`; empty for the whole file.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
    /// The 1-based line in the TOML text, when known.
    pub line: Option<usize>,
}

impl ConfigError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { path: path.into(), message: message.into(), line: None }
    }

    /// The same error under `prefix` (e.g. `node "r1"`).
    pub fn within(mut self, prefix: &str) -> Self {
        self.path =
            if self.path.is_empty() { prefix.to_string() } else { format!("{prefix}: {}", self.path) };
        self
    }

    /// Converts a TOML/serde error, finding the path of the offending key
    /// from the error's position in `text`.
    pub fn from_toml(text: &str, err: &toml::de::Error) -> Self {
        let (path, line) = match err.span() {
            Some(span) => (toml_path_at(text, span.start), Some(line_of(text, span.start))),
            None => (String::new(), None),
        };
        ConfigError { path, message: err.message().trim().to_string(), line }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)?;
        } else {
            write!(f, "{}: {}", self.path, self.message)?;
        }
        if let Some(l) = self.line {
            write!(f, " (line {l})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes().iter().take(offset).filter(|&&b| b == b'\n').count() + 1
}

/// The dotted path (`node[1].interface[0].mtu`) of the key at `offset`,
/// reconstructed from the table headers before it. Good for the files people
/// write (headers and `key = value` lines); inline tables get the path of
/// their key.
fn toml_path_at(text: &str, offset: usize) -> String {
    // Latest index of each array of tables, by concrete path without index.
    let mut latest: HashMap<String, usize> = HashMap::new();
    let mut current = String::new();
    let concrete = |latest: &HashMap<String, usize>, name: &str| -> String {
        let mut out = String::new();
        for seg in name.split('.').map(str::trim) {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
            if let Some(i) = latest.get(&out) {
                out = format!("{out}[{i}]");
            }
        }
        out
    };
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let end = start + line.len();
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("[[") {
            let name = rest.split("]]").next().unwrap_or("").trim();
            let (parent, last) = match name.rsplit_once('.') {
                Some((p, l)) => (concrete(&latest, p), l.trim()),
                None => (String::new(), name),
            };
            let key = if parent.is_empty() { last.to_string() } else { format!("{parent}.{last}") };
            let idx = latest.get(&key).map_or(0, |i| i + 1);
            // A new element forgets the indices of its children.
            let child = format!("{key}.");
            latest.retain(|k, _| !k.starts_with(&child));
            latest.insert(key.clone(), idx);
            current = format!("{key}[{idx}]");
        } else if let Some(rest) = t.strip_prefix('[') {
            current = concrete(&latest, rest.split(']').next().unwrap_or("").trim());
        }
        if offset < end {
            if !t.starts_with('[') {
                if let Some((k, _)) = line.split_once('=') {
                    let k = k.trim();
                    return if current.is_empty() { k.to_string() } else { format!("{current}.{k}") };
                }
            }
            return current;
        }
        start = end;
    }
    current
}

/// The kind of an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InterfaceKind {
    /// A lab link end (Ethernet framing), only in lab topologies.
    Lab,
    /// A loopback interface.
    Loopback,
    /// A host TAP device (Ethernet), only for the daemon.
    Tap,
    /// A host TUN device (bare IP), only for the daemon.
    Tun,
}

impl fmt::Display for InterfaceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InterfaceKind::Lab => "lab",
            InterfaceKind::Loopback => "loopback",
            InterfaceKind::Tap => "tap",
            InterfaceKind::Tun => "tun",
        })
    }
}

/// `[[interface]]` as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceConfig {
    /// Name, unique in the node (`eth0`, `lo0`).
    pub name: String,
    /// `lab`, `loopback`, `tap` or `tun`.
    pub kind: InterfaceKind,
    /// Host device to attach to (tap/tun only).
    #[serde(default)]
    pub device: Option<String>,
    /// MAC address (lab/tap only); derived when absent.
    #[serde(default)]
    pub mac: Option<String>,
    /// MTU.
    #[serde(default)]
    pub mtu: Option<u32>,
    /// Addresses as `ADDR/LEN` (host bits allowed: it is an address).
    #[serde(default)]
    pub addresses: Vec<String>,
}

/// `[[route]]` as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Destination prefix (`0.0.0.0/0`, `2001:db8::/32`).
    pub dest: String,
    /// Gateway: IPv4, or IPv6 with a zone when link-local (`fe80::1%eth0`).
    #[serde(default)]
    pub via: Option<String>,
    /// Preferred source, of the destination's family.
    #[serde(default)]
    pub src: Option<String>,
    /// Egress interface (a direct route when `via` is absent).
    #[serde(default)]
    pub dev: Option<String>,
    /// Metric (lower wins).
    #[serde(default)]
    pub metric: Option<u32>,
}

/// `[socks]`: the SOCKS5 front end.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocksConfig {
    /// Host address to listen on, e.g. `127.0.0.1:1080`.
    pub listen: String,
}

/// `[dns]`: the stub resolver.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsConfig {
    /// Servers, reached through the stack.
    #[serde(default)]
    pub servers: Vec<String>,
}

/// One node, as written in a `[[node]]` table of a topology.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The node's name.
    pub name: String,
    /// Tunables by FreeBSD name.
    #[serde(default)]
    pub sysctl: BTreeMap<String, i64>,
    /// Interfaces, in ifindex order.
    #[serde(default, rename = "interface")]
    pub interfaces: Vec<InterfaceConfig>,
    /// Static routes.
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteConfig>,
    /// SOCKS5 front end.
    #[serde(default)]
    pub socks: Option<SocksConfig>,
    /// Stub resolver.
    #[serde(default)]
    pub dns: Option<DnsConfig>,
}

/// `[node]` of a daemon file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeHeader {
    name: String,
}

/// The daemon's file: `[node] name = ...` plus top-level tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeFile {
    node: NodeHeader,
    #[serde(default)]
    sysctl: BTreeMap<String, i64>,
    #[serde(default)]
    interface: Vec<InterfaceConfig>,
    #[serde(default)]
    route: Vec<RouteConfig>,
    #[serde(default)]
    socks: Option<SocksConfig>,
    #[serde(default)]
    dns: Option<DnsConfig>,
}

/// An address with, for IPv6, the interface (by position in the node's
/// interface list) its zone names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostAddr {
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address and its zone, if it has one.
    V6 {
        /// The address.
        addr: Ipv6Addr,
        /// Position of the zone's interface in [`NodeSpec::interfaces`].
        iface: Option<usize>,
    },
}

impl HostAddr {
    /// The address without its zone.
    pub fn ip(&self) -> IpAddr {
        match *self {
            HostAddr::V4(a) => IpAddr::V4(a),
            HostAddr::V6 { addr, .. } => IpAddr::V6(addr),
        }
    }
}

/// A checked interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceSpec {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: InterfaceKind,
    /// Host device (tap/tun).
    pub device: Option<String>,
    /// MAC, when given.
    pub mac: Option<MacAddr>,
    /// MTU, when given.
    pub mtu: Option<u32>,
    /// Addresses and prefix lengths.
    pub addresses: Vec<(IpAddr, u8)>,
}

/// A checked route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// Destination.
    pub dest: IpPrefix,
    /// Gateway; `None` is a direct route on `dev`.
    pub via: Option<HostAddr>,
    /// Source, of the destination's family.
    pub src: Option<IpAddr>,
    /// Egress interface, by position (from `dev` or the gateway's zone).
    pub dev: Option<usize>,
    /// Metric.
    pub metric: Option<u32>,
}

/// A checked node, ready to be built into a stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    /// Name.
    pub name: String,
    /// Tunables, in name order (applied before anything else).
    pub sysctl: Vec<(String, i64)>,
    /// Interfaces, in ifindex order.
    pub interfaces: Vec<InterfaceSpec>,
    /// Routes, in file order.
    pub routes: Vec<RouteSpec>,
    /// SOCKS5 listen address.
    pub socks: Option<SocketAddr>,
    /// DNS servers.
    pub dns: Vec<HostAddr>,
}

/// Whether `s` can name a node: 1–63 bytes of alphanumerics, `_`, `-`, `.`.
pub fn is_valid_node_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Parses an interface address `ADDR/LEN` (host bits allowed).
pub fn parse_if_address(s: &str) -> Result<(IpAddr, u8), String> {
    let Some((a, l)) = s.split_once('/') else {
        return Err(format!("{s:?} needs a prefix length, e.g. \"{s}/64\" or \"{s}/32\""));
    };
    if a.contains('%') {
        return Err(format!("{s:?}: an interface address takes no zone (the interface is its zone)"));
    }
    let addr: IpAddr = a.parse().map_err(|_| format!("{a:?} in {s:?} is not an IPv4 or IPv6 address"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len: u8 = l.parse().map_err(|_| format!("prefix length {l:?} in {s:?} is not a number 0..={max}"))?;
    if len > max {
        return Err(format!("prefix length {len} in {s:?} is longer than {max}"));
    }
    let bad = match addr {
        IpAddr::V4(v) => v.is_unspecified() || v.is_multicast() || v.is_broadcast(),
        IpAddr::V6(v) => v.is_unspecified() || v.is_multicast() || v.to_ipv4_mapped().is_some(),
    };
    if bad {
        return Err(format!(
            "{addr} cannot be an interface address (unspecified, multicast, broadcast or v4-mapped)"
        ));
    }
    Ok((addr, len))
}

fn is_link_local6(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

fn family(p: &IpPrefix) -> &'static str {
    if p.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

impl NodeConfig {
    /// Parses a daemon config file (`[node] name = ...`, `[sysctl]`,
    /// `[[interface]]`, `[[route]]`, `[socks]`, `[dns]`) without validating it.
    pub fn from_toml(text: &str) -> Result<NodeConfig, ConfigError> {
        let f: NodeFile = toml::from_str(text).map_err(|e| ConfigError::from_toml(text, &e))?;
        Ok(NodeConfig {
            name: f.node.name,
            sysctl: f.sysctl,
            interfaces: f.interface,
            routes: f.route,
            socks: f.socks,
            dns: f.dns,
        })
    }

    fn iface_position(&self, name: &str) -> Option<usize> {
        self.interfaces.iter().position(|i| i.name == name)
    }

    /// Resolves a zone to an interface position. Numeric zones are
    /// ifindexes, which follow the interface order (1-based).
    fn resolve_zone(&self, zone: &Zone) -> Option<usize> {
        match zone {
            Zone::Name(n) => self.iface_position(n),
            Zone::Index(i) => {
                let p = (*i as usize).checked_sub(1)?;
                (p < self.interfaces.len()).then_some(p)
            }
        }
    }

    fn parse_host_addr(&self, s: &str, path: &str) -> Result<HostAddr, ConfigError> {
        if let Ok(v4) = s.parse::<Ipv4Addr>() {
            return Ok(HostAddr::V4(v4));
        }
        let scoped: ScopedIpv6 = s
            .parse()
            .map_err(|e| ConfigError::new(path, format!("{s:?} is not an IPv4 or IPv6 address ({e})")))?;
        let iface = match &scoped.zone {
            None => None,
            Some(z) => Some(self.resolve_zone(z).ok_or_else(|| {
                ConfigError::new(
                    path,
                    format!(
                        "zone %{z} in {s:?} is not an interface of node {:?}; interfaces: {}",
                        self.name,
                        self.iface_list()
                    ),
                )
            })?),
        };
        Ok(HostAddr::V6 { addr: scoped.addr, iface })
    }

    fn iface_list(&self) -> String {
        if self.interfaces.is_empty() {
            return "(none)".to_string();
        }
        self.interfaces.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// Checks everything that can be checked without building the stack
    /// (sysctl names are checked when they are applied).
    pub fn validate(&self) -> Result<NodeSpec, ConfigError> {
        if !is_valid_node_name(&self.name) {
            return Err(ConfigError::new(
                "name",
                format!("{:?} is not a node name: use 1-63 letters, digits, '_', '-' or '.'", self.name),
            ));
        }
        let mut interfaces = Vec::with_capacity(self.interfaces.len());
        for (i, ic) in self.interfaces.iter().enumerate() {
            interfaces.push(self.validate_interface(i, ic)?);
        }
        let mut routes = Vec::with_capacity(self.routes.len());
        for (i, rc) in self.routes.iter().enumerate() {
            routes.push(self.validate_route(i, rc, &interfaces)?);
        }
        let socks = match &self.socks {
            None => None,
            Some(s) => Some(s.listen.parse::<SocketAddr>().map_err(|_| {
                ConfigError::new(
                    "socks.listen",
                    format!("{:?} is not ADDRESS:PORT, e.g. \"127.0.0.1:1080\" or \"[::1]:1080\"", s.listen),
                )
            })?),
        };
        let mut dns = Vec::new();
        if let Some(d) = &self.dns {
            for (i, s) in d.servers.iter().enumerate() {
                let path = format!("dns.servers[{i}]");
                let a = self.parse_host_addr(s, &path)?;
                if let HostAddr::V6 { addr, iface: None } = a {
                    if is_link_local6(&addr) {
                        return Err(ConfigError::new(
                            path,
                            format!(
                                "{s:?} is link-local and needs a zone, e.g. \"{s}%{}\"",
                                self.example_iface()
                            ),
                        ));
                    }
                }
                dns.push(a);
            }
        }
        Ok(NodeSpec {
            name: self.name.clone(),
            sysctl: self.sysctl.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            interfaces,
            routes,
            socks,
            dns,
        })
    }

    fn example_iface(&self) -> &str {
        self.interfaces.iter().find(|i| i.kind != InterfaceKind::Loopback).map_or("eth0", |i| i.name.as_str())
    }

    fn validate_interface(&self, i: usize, ic: &InterfaceConfig) -> Result<InterfaceSpec, ConfigError> {
        let p = |f: &str| format!("interface[{i}].{f}");
        if !is_valid_ifname(&ic.name) {
            return Err(ConfigError::new(
                p("name"),
                format!("{:?} is not an interface name: use 1-15 letters, digits, '_', '-' or '.'", ic.name),
            ));
        }
        if self.interfaces[..i].iter().any(|o| o.name == ic.name) {
            return Err(ConfigError::new(
                p("name"),
                format!("{:?} is defined twice on node {:?}", ic.name, self.name),
            ));
        }
        let host_device = matches!(ic.kind, InterfaceKind::Tap | InterfaceKind::Tun);
        if let (Some(d), false) = (&ic.device, host_device) {
            return Err(ConfigError::new(
                p("device"),
                format!(
                    "{d:?}: only tap and tun interfaces attach to a host device; remove it for kind {:?}",
                    ic.kind.to_string()
                ),
            ));
        }
        let mac = match &ic.mac {
            None => None,
            Some(m) => {
                if !matches!(ic.kind, InterfaceKind::Lab | InterfaceKind::Tap) {
                    return Err(ConfigError::new(
                        p("mac"),
                        format!("{m:?}: a {} interface has no MAC address; remove it", ic.kind),
                    ));
                }
                let mac: MacAddr = m.parse().map_err(|e| ConfigError::new(p("mac"), format!("{e}")))?;
                if !mac.is_unicast() || mac == MacAddr::ZERO {
                    return Err(ConfigError::new(
                        p("mac"),
                        format!("{m:?} is not a unicast MAC (the low bit of the first octet must be 0), e.g. \"02:00:00:00:00:01\""),
                    ));
                }
                Some(mac)
            }
        };
        if let Some(mtu) = ic.mtu {
            if !(68..=65535).contains(&mtu) {
                return Err(ConfigError::new(
                    p("mtu"),
                    format!("{mtu} is out of range: use 68..=65535 (1280 or more for IPv6)"),
                ));
            }
        }
        let mut addresses: Vec<(IpAddr, u8)> = Vec::with_capacity(ic.addresses.len());
        for (j, s) in ic.addresses.iter().enumerate() {
            let path = p(&format!("addresses[{j}]"));
            let a = parse_if_address(s).map_err(|m| ConfigError::new(&path, m))?;
            if addresses.iter().any(|(x, _)| *x == a.0) {
                return Err(ConfigError::new(path, format!("{} is listed twice on {:?}", a.0, ic.name)));
            }
            addresses.push(a);
        }
        Ok(InterfaceSpec {
            name: ic.name.clone(),
            kind: ic.kind,
            device: ic.device.clone(),
            mac,
            mtu: ic.mtu,
            addresses,
        })
    }

    fn is_configured_address(&self, ifs: &[InterfaceSpec], a: IpAddr) -> bool {
        let loopback = ifs.iter().any(|i| i.kind == InterfaceKind::Loopback);
        ifs.iter().any(|i| i.addresses.iter().any(|(x, _)| *x == a))
            || (loopback && a.is_loopback())
            || matches!(a, IpAddr::V6(v) if is_link_local6(&v))
    }

    fn validate_route(
        &self,
        i: usize,
        rc: &RouteConfig,
        ifs: &[InterfaceSpec],
    ) -> Result<RouteSpec, ConfigError> {
        let p = |f: &str| format!("route[{i}].{f}");
        let dest: IpPrefix = rc.dest.parse().map_err(|e| {
            let hint = match rc.dest.split_once('/') {
                Some((a, l)) => match (a.parse::<IpAddr>(), l.parse::<u8>()) {
                    (Ok(a), Ok(l)) => match IpPrefix::new(a, l) {
                        Err(via6_wire::prefix::PrefixError::HostBitsSet) => {
                            truncated(a, l).map(|t| format!("; did you mean \"{t}\"?")).unwrap_or_default()
                        }
                        _ => String::new(),
                    },
                    _ => String::new(),
                },
                None => format!("; write a prefix such as \"{}/32\" or \"0.0.0.0/0\"", rc.dest),
            };
            ConfigError::new(p("dest"), format!("{:?}: {e}{hint}", rc.dest))
        })?;
        let mut dev = match &rc.dev {
            None => None,
            Some(d) => Some(self.iface_position(d).ok_or_else(|| {
                ConfigError::new(
                    p("dev"),
                    format!(
                        "{d:?} is not an interface of node {:?}; interfaces: {}",
                        self.name,
                        self.iface_list()
                    ),
                )
            })?),
        };
        let via = match &rc.via {
            None => {
                if dev.is_none() {
                    return Err(ConfigError::new(
                        format!("route[{i}]"),
                        format!("route to {dest} needs `via` (a gateway) or `dev` (a direct route)"),
                    ));
                }
                None
            }
            Some(s) => {
                let path = p("via");
                let mut g = self.parse_host_addr(s, &path)?;
                match &mut g {
                    HostAddr::V4(a) => {
                        if !dest.is_ipv4() {
                            return Err(ConfigError::new(
                                path,
                                format!("{a} is an IPv4 gateway, which cannot carry IPv6 destination {dest}; use an IPv6 gateway"),
                            ));
                        }
                        if a.is_unspecified() || a.is_multicast() || a.is_broadcast() {
                            return Err(ConfigError::new(path, format!("{a} cannot be a gateway")));
                        }
                    }
                    HostAddr::V6 { addr, iface } => {
                        if addr.is_unspecified() || addr.is_multicast() || addr.to_ipv4_mapped().is_some() {
                            return Err(ConfigError::new(path, format!("{addr} cannot be a gateway")));
                        }
                        match (*iface, dev) {
                            (None, Some(d)) => *iface = Some(d),
                            (None, None) if is_link_local6(addr) => {
                                return Err(ConfigError::new(
                                    path,
                                    format!(
                                        "{s:?} is link-local and needs a zone, e.g. \"{s}%{}\"",
                                        self.example_iface()
                                    ),
                                ));
                            }
                            (Some(z), Some(d)) if z != d => {
                                return Err(ConfigError::new(
                                    path,
                                    format!(
                                        "zone of {s:?} ({}) differs from dev {:?}; make them the same interface",
                                        ifs[z].name, ifs[d].name
                                    ),
                                ));
                            }
                            _ => {}
                        }
                        if dev.is_none() && is_link_local6(addr) {
                            dev = *iface;
                        }
                    }
                }
                Some(g)
            }
        };
        let src = match &rc.src {
            None => None,
            Some(s) => {
                let a: IpAddr = s.parse().map_err(|_| {
                    ConfigError::new(
                        p("src"),
                        format!("{s:?} is not an IP address (a source takes no prefix length or zone)"),
                    )
                })?;
                if a.is_ipv4() != dest.is_ipv4() {
                    return Err(ConfigError::new(
                        p("src"),
                        format!("{a} is not of the destination's family ({})", family(&dest)),
                    ));
                }
                if !self.is_configured_address(ifs, a) {
                    return Err(ConfigError::new(
                        p("src"),
                        format!(
                            "{a} is not an address of node {:?}; add it to an interface's addresses",
                            self.name
                        ),
                    ));
                }
                Some(a)
            }
        };
        Ok(RouteSpec { dest, via, src, dev, metric: rc.metric })
    }
}

fn truncated(a: IpAddr, l: u8) -> Option<IpPrefix> {
    Some(match a {
        IpAddr::V4(v) => IpPrefix::V4(via6_wire::Ipv4Prefix::new_truncating(v, l).ok()?),
        IpAddr::V6(v) => IpPrefix::V6(via6_wire::Ipv6Prefix::new_truncating(v, l).ok()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAEMON: &str = r#"
[node]
name = "r1"

[sysctl]
"net.inet.ip.forwarding" = 1
"net.inet6.ip6.forwarding" = 1

[[interface]]
name = "lo0"
kind = "loopback"
addresses = ["203.0.113.1/32", "2001:db8::1/128"]

[[interface]]
name = "tap0"
kind = "tap"
device = "v6tap0"
mac = "02:00:00:00:00:01"
mtu = 1500
addresses = []

[[route]]
dest = "0.0.0.0/0"
via = "fe80::1%tap0"
src = "203.0.113.1"

[socks]
listen = "127.0.0.1:1080"

[dns]
servers = ["2001:db8::53"]
"#;

    fn node(extra: &str) -> Result<NodeSpec, ConfigError> {
        let text = format!(
            "[node]\nname = \"r1\"\n[[interface]]\nname = \"lo0\"\nkind = \"loopback\"\naddresses = [\"192.0.2.1/32\"]\n\
             [[interface]]\nname = \"eth0\"\nkind = \"lab\"\n{extra}"
        );
        NodeConfig::from_toml(&text)?.validate()
    }

    fn err(extra: &str) -> String {
        node(extra).unwrap_err().to_string()
    }

    #[test]
    fn design_example_parses() {
        let spec = NodeConfig::from_toml(DAEMON).unwrap().validate().unwrap();
        assert_eq!(spec.name, "r1");
        assert_eq!(
            spec.sysctl,
            vec![("net.inet.ip.forwarding".into(), 1), ("net.inet6.ip6.forwarding".into(), 1)]
        );
        assert_eq!(
            spec.interfaces[0].addresses,
            vec![("203.0.113.1".parse().unwrap(), 32), ("2001:db8::1".parse().unwrap(), 128)]
        );
        assert_eq!(spec.interfaces[1].mac, Some(MacAddr([2, 0, 0, 0, 0, 1])));
        assert_eq!(spec.interfaces[1].device.as_deref(), Some("v6tap0"));
        let r = &spec.routes[0];
        assert_eq!(r.dest.to_string(), "0.0.0.0/0");
        assert_eq!(r.via, Some(HostAddr::V6 { addr: "fe80::1".parse().unwrap(), iface: Some(1) }));
        assert_eq!(r.dev, Some(1));
        assert_eq!(r.src, Some("203.0.113.1".parse().unwrap()));
        assert_eq!(spec.socks, Some("127.0.0.1:1080".parse().unwrap()));
        assert_eq!(spec.dns, vec![HostAddr::V6 { addr: "2001:db8::53".parse().unwrap(), iface: None }]);
    }

    #[test]
    fn link_local_gateway_needs_zone() {
        assert_eq!(
            err("[[route]]\ndest = \"0.0.0.0/0\"\nvia = \"fe80::1\"\n"),
            "route[0].via: \"fe80::1\" is link-local and needs a zone, e.g. \"fe80::1%eth0\""
        );
        // `dev` supplies the zone.
        let s = node("[[route]]\ndest = \"0.0.0.0/0\"\nvia = \"fe80::1\"\ndev = \"eth0\"\n").unwrap();
        assert_eq!(s.routes[0].via, Some(HostAddr::V6 { addr: "fe80::1".parse().unwrap(), iface: Some(1) }));
        // Numeric zones are ifindexes.
        let s = node("[[route]]\ndest = \"::/0\"\nvia = \"fe80::1%2\"\n").unwrap();
        assert_eq!(s.routes[0].dev, Some(1));
        assert!(err("[[route]]\ndest = \"::/0\"\nvia = \"fe80::1%eth9\"\n")
            .starts_with("route[0].via: zone %eth9 in \"fe80::1%eth9\" is not an interface of node \"r1\""));
        assert!(err("[[route]]\ndest = \"::/0\"\nvia = \"fe80::1%lo0\"\ndev = \"eth0\"\n")
            .contains("differs from dev"));
    }

    #[test]
    fn route_refusals() {
        assert_eq!(
            err("[[route]]\ndest = \"0.0.0.0/0\"\nvia = \"fe80::1%eth0\"\nsrc = \"2001:db8::1\"\n"),
            "route[0].src: 2001:db8::1 is not of the destination's family (IPv4)"
        );
        assert!(err("[[route]]\ndest = \"0.0.0.0/0\"\nvia = \"fe80::1%eth0\"\nsrc = \"192.0.2.9\"\n")
            .contains("192.0.2.9 is not an address of node \"r1\""));
        node("[[route]]\ndest = \"0.0.0.0/0\"\nvia = \"fe80::1%eth0\"\nsrc = \"192.0.2.1\"\n").unwrap();
        assert!(err("[[route]]\ndest = \"192.0.2.1/24\"\ndev = \"eth0\"\n")
            .contains("did you mean \"192.0.2.0/24\"?"));
        assert!(err("[[route]]\ndest = \"::/0\"\nvia = \"192.0.2.1\"\n").contains("IPv4 gateway"));
        assert_eq!(
            err("[[route]]\ndest = \"::/0\"\n"),
            "route[0]: route to ::/0 needs `via` (a gateway) or `dev` (a direct route)"
        );
        assert!(err("[[route]]\ndest = \"::/0\"\ndev = \"eth7\"\n")
            .starts_with("route[0].dev: \"eth7\" is not an interface"));
        assert!(err("[[route]]\ndest = \"::/0\"\nvia = \"bogus\"\n")
            .starts_with("route[0].via: \"bogus\" is not an IPv4"));
    }

    #[test]
    fn interface_refusals() {
        assert!(err("addresses = [\"2001:db8::1\"]\n")
            .contains("interface[1].addresses[0]: \"2001:db8::1\" needs a prefix length"));
        assert!(err("addresses = [\"2001:db8::1/129\"]\n").contains("longer than 128"));
        assert!(err("addresses = [\"224.0.0.1/4\"]\n").contains("cannot be an interface address"));
        assert!(err("mac = \"03:00:00:00:00:01\"\n")
            .contains("interface[1].mac: \"03:00:00:00:00:01\" is not a unicast MAC"));
        assert!(err("mac = \"zz\"\n").contains("interface[1].mac:"));
        assert!(err("mtu = 40\n").contains("interface[1].mtu: 40 is out of range"));
        assert!(err("device = \"tap3\"\n").contains("interface[1].device"));
        assert!(err("[[interface]]\nname = \"eth0\"\nkind = \"lab\"\n")
            .contains("interface[2].name: \"eth0\" is defined twice"));
        assert!(err("[[interface]]\nname = \"a b\"\nkind = \"lab\"\n").contains("is not an interface name"));
    }

    #[test]
    fn unknown_keys_name_their_path() {
        let e = node("colour = \"blue\"\n").unwrap_err();
        assert_eq!(e.path, "interface[1].colour");
        assert!(e.message.contains("unknown field `colour`"), "{e}");
        assert_eq!(e.line, Some(10));
        let e = NodeConfig::from_toml(
            "[node]\nname = \"x\"\n[[route]]\ndest = \"::/0\"\n[[route]]\ndest = \"::/0\"\ngw = \"x\"\n",
        )
        .unwrap_err();
        assert_eq!(e.path, "route[1].gw");
        let e = NodeConfig::from_toml("[node]\nname = \"x\"\n[[interface]]\nname = \"e\"\nkind = \"wifi\"\n")
            .unwrap_err();
        assert_eq!(e.path, "interface[0].kind");
        assert!(e.message.contains("wifi"), "{e}");
        let e = NodeConfig::from_toml("[nodes]\nname = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("nodes"), "{e}");
    }

    #[test]
    fn socks_and_dns() {
        let base = "[node]\nname = \"n\"\n[[interface]]\nname = \"eth0\"\nkind = \"lab\"\n";
        let e = NodeConfig::from_toml(&format!("{base}[socks]\nlisten = \"1080\"\n"))
            .unwrap()
            .validate()
            .unwrap_err();
        assert_eq!(e.path, "socks.listen");
        let e = NodeConfig::from_toml(&format!("{base}[dns]\nservers = [\"fe80::53\"]\n"))
            .unwrap()
            .validate()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "dns.servers[0]: \"fe80::53\" is link-local and needs a zone, e.g. \"fe80::53%eth0\""
        );
        let s =
            NodeConfig::from_toml(&format!("{base}[dns]\nservers = [\"fe80::53%eth0\", \"192.0.2.53\"]\n"))
                .unwrap()
                .validate()
                .unwrap();
        assert_eq!(s.dns[1], HostAddr::V4("192.0.2.53".parse().unwrap()));
    }

    #[test]
    fn path_scanner() {
        let t = "[[node]]\nname = \"a\"\n[[node.interface]]\nname = \"x\"\n[[node]]\nname = \"b\"\n[[node.interface]]\nmtu = 1\n[node.sysctl]\n\"a.b\" = 1\n";
        let at = |needle: &str| toml_path_at(t, t.rfind(needle).unwrap());
        assert_eq!(at("mtu"), "node[1].interface[0].mtu");
        assert_eq!(at("\"a.b\""), "node[1].sysctl.\"a.b\"");
        assert_eq!(at("name = \"b\""), "node[1].name");
        assert_eq!(at("name = \"x\""), "node[0].interface[0].name");
    }
}
