//! Builds a `via6_core::Stack` from a checked node config: sysctls first
//! (they shape interface creation, e.g. `auto_linklocal`), then interfaces with
//! their addresses, then routes. Shared by the lab and the daemon.

use crate::config::{ConfigError, HostAddr, InterfaceKind, NodeSpec};
use via6_core::iface::LinkKind;
use via6_core::route::{NextHop, Route};
use via6_core::time::Instant;
use via6_core::{GatewayAddr, IfIndex, Stack, ZonedIpv6};
use via6_wire::MacAddr;

/// FNV-1a, 64 bits: a stable hash for names (not secret).
pub(crate) fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The MAC of an interface without a configured one: locally administered,
/// unicast (first octet 0x02), the rest from a hash of the node and interface
/// names, so it is the same in every run.
pub fn derive_mac(node: &str, iface: &str) -> MacAddr {
    let h = fnv1a(&[node, iface]).to_be_bytes();
    MacAddr([0x02, h[0], h[1], h[2], h[3], h[4]])
}

/// A stack built from a config, and the ifindex of each configured interface
/// (by position in [`NodeSpec::interfaces`]).
pub struct BuiltNode {
    /// The stack.
    pub stack: Stack,
    /// `ifindex[i]` is the index of `spec.interfaces[i]`.
    pub ifindex: Vec<IfIndex>,
}

/// Builds the stack of `spec`, seeded with `seed`, at `now`. `tap` and `tun`
/// interfaces become Ethernet and IP links (the daemon attaches them to
/// devices); the lab refuses them earlier, when it checks the topology.
pub fn build_stack(spec: &NodeSpec, seed: u64, now: Instant) -> Result<BuiltNode, ConfigError> {
    let mut stack = Stack::new(&spec.name, seed);
    for (name, value) in &spec.sysctl {
        stack.set_sysctl(name, *value).map_err(|e| {
            ConfigError::new(
                format!("sysctl.{name:?}"),
                format!("{e} (`via6 sysctl` lists the names and ranges)"),
            )
        })?;
    }
    let mut ifindex = Vec::with_capacity(spec.interfaces.len());
    for (i, ic) in spec.interfaces.iter().enumerate() {
        let kind = match ic.kind {
            InterfaceKind::Loopback => LinkKind::Loopback,
            InterfaceKind::Lab | InterfaceKind::Tap => {
                LinkKind::Ethernet(ic.mac.unwrap_or_else(|| derive_mac(&spec.name, &ic.name)))
            }
            InterfaceKind::Tun => LinkKind::Ip,
        };
        let cfg = via6_core::InterfaceConfig { name: ic.name.clone(), kind, mtu: ic.mtu };
        let idx = stack
            .add_interface(cfg, now)
            .map_err(|e| ConfigError::new(format!("interface[{i}]"), format!("{:?}: {e}", ic.name)))?;
        for (j, (addr, len)) in ic.addresses.iter().enumerate() {
            // The automatic link-local may coincide with a configured one.
            if stack.interface(idx).is_some_and(|x| x.addrs.iter().any(|a| a.addr == *addr)) {
                continue;
            }
            stack.add_address(idx, *addr, *len, now).map_err(|e| {
                ConfigError::new(format!("interface[{i}].addresses[{j}]"), format!("{addr}/{len}: {e}"))
            })?;
        }
        ifindex.push(idx);
    }
    for (i, r) in spec.routes.iter().enumerate() {
        let pos = |p: usize| {
            ifindex.get(p).copied().ok_or_else(|| {
                ConfigError::new(format!("route[{i}]"), format!("interface position {p} is out of range"))
            })
        };
        let nexthop = match r.via {
            None => NextHop::OnLink,
            Some(HostAddr::V4(a)) => NextHop::Gateway(GatewayAddr::V4(a)),
            Some(HostAddr::V6 { addr, iface }) => {
                let zone = match iface {
                    Some(p) if via6_core::addr::needs_zone(&addr) => Some(pos(p)?),
                    _ => None,
                };
                NextHop::Gateway(GatewayAddr::V6(ZonedIpv6 { addr, zone }))
            }
        };
        let dev = r.dev.or(match r.via {
            Some(HostAddr::V6 { iface, .. }) => iface,
            _ => None,
        });
        let dev = dev.map(pos).transpose()?;
        let mut route = Route::new(r.dest, nexthop, dev);
        route.src = r.src;
        if let Some(m) = r.metric {
            route.metric = m;
        }
        stack
            .add_route(route)
            .map_err(|e| ConfigError::new(format!("route[{i}]"), format!("{}: {e}", r.dest)))?;
    }
    Ok(BuiltNode { stack, ifindex })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NodeConfig;
    use std::net::IpAddr;

    fn spec(text: &str) -> NodeSpec {
        NodeConfig::from_toml(text).unwrap().validate().unwrap()
    }

    #[test]
    fn macs_are_stable_local_unicast() {
        let m = derive_mac("h1", "eth0");
        assert_eq!(m, derive_mac("h1", "eth0"));
        assert_ne!(m, derive_mac("h1", "eth1"));
        assert_ne!(derive_mac("h1e", "th0"), derive_mac("h1", "eth0"));
        assert_eq!(m.0[0], 0x02);
        assert!(m.is_unicast() && m.is_local());
    }

    #[test]
    fn builds_interfaces_addresses_routes() {
        let s = spec(
            r#"
[node]
name = "r1"
[sysctl]
"net.inet.ip.forwarding" = 1
[[interface]]
name = "lo0"
kind = "loopback"
addresses = ["203.0.113.1/32"]
[[interface]]
name = "eth0"
kind = "lab"
mac = "02:00:00:00:00:01"
addresses = ["fe80::1/64", "2001:db8::1/64"]
[[route]]
dest = "0.0.0.0/0"
via = "fe80::2%eth0"
src = "203.0.113.1"
"#,
        );
        let b = build_stack(&s, 1, Instant::ZERO).unwrap();
        assert_eq!(b.ifindex, [IfIndex(1), IfIndex(2)]);
        assert_eq!(b.stack.name(), "r1");
        let eth0 = b.stack.interface(IfIndex(2)).unwrap();
        assert_eq!(eth0.kind, LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, 1])));
        assert!(eth0.addrs.iter().any(|a| a.addr == "2001:db8::1".parse::<IpAddr>().unwrap()));
        let r = b
            .stack
            .routes()
            .iter()
            .map(|(_, r)| r.clone())
            .find(|r| r.dest.to_string() == "0.0.0.0/0")
            .unwrap();
        assert_eq!(
            r.nexthop,
            NextHop::Gateway(GatewayAddr::V6(ZonedIpv6 {
                addr: "fe80::2".parse().unwrap(),
                zone: Some(IfIndex(2))
            }))
        );
        assert_eq!(r.ifindex, Some(IfIndex(2)));
        assert_eq!(r.src, Some("203.0.113.1".parse().unwrap()));
    }

    #[test]
    fn unknown_sysctl_is_a_config_error() {
        let s = spec("[node]\nname = \"n\"\n[sysctl]\n\"net.inet6.ip6.nonsense\" = 1\n");
        let e = build_stack(&s, 1, Instant::ZERO).err().unwrap();
        assert_eq!(e.path, "sysctl.\"net.inet6.ip6.nonsense\"");
    }
}
