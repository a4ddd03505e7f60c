//! The query and configuration verbs of DESIGN §6 on one node's `Stack`,
//! printed the way FreeBSD (and iproute2, for `ip`) print them, or as JSON.
//! Shared by the lab's `--run` steps, the offline `via6 -c FILE` mode and the
//! daemon's control socket.

use crate::json::Json;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::IpAddr;
use via6_core::neigh::NudState;
use via6_core::route::{NextHop, Route, RouteProto};
use via6_core::{GatewayAddr, IfIndex, Stack, ZonedIpv6};
use via6_wire::{IpPrefix, Ipv4Prefix, Ipv6Prefix};

/// A verb's failure: the message names the offending argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlError(pub String);

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ControlError {}

fn err(msg: impl Into<String>) -> ControlError {
    ControlError(msg.into())
}

type Out = Result<String, ControlError>;

/// The verbs `run` understands.
pub const VERBS: &[&str] = &[
    "route",
    "netstat",
    "ifconfig",
    "ndp",
    "arp",
    "sysctl",
    "ip",
    "ip6addrctl",
    "udp-listen",
    "udp-send",
    "udp-recv",
    "close",
];

/// Runs one verb with its arguments. `--json` anywhere asks for JSON.
pub fn run(stack: &mut Stack, verb: &str, args: &[String]) -> Out {
    let json = args.iter().any(|a| a == "--json");
    let args: Vec<&str> = args.iter().map(String::as_str).filter(|a| *a != "--json").collect();
    match verb {
        "route" => route(stack, &args, json),
        "netstat" => netstat(stack, &args, json),
        "ifconfig" if args.len() >= 3 => ifconfig_set(stack, &args),
        "ifconfig" => Ok(ifconfig(stack, args.first().copied(), json)?),
        "ndp" => Ok(ndp(stack, json)),
        "arp" => Ok(arp(stack, json)),
        "sysctl" => sysctl(stack, &args, json),
        "ip" => ip(stack, &args, json),
        "ip6addrctl" => ip6addrctl(stack, &args),
        "udp-listen" => udp_listen(stack, &args),
        "udp-send" => udp_send(stack, &args),
        "udp-recv" => udp_recv(stack, &args),
        "close" => {
            let h = args.first().and_then(|h| h.parse().ok()).ok_or_else(|| err("usage: close SOCKET"))?;
            stack.close(via6_core::socket::SocketHandle(h));
            Ok(String::new())
        }
        _ => Err(err(format!("unknown verb `{verb}` (known: {})", VERBS.join(", ")))),
    }
}

/// Parses `ADDR` or `ADDR%ZONE` (zone: interface name or index).
pub fn parse_dst(stack: &Stack, s: &str) -> Result<(IpAddr, Option<IfIndex>), ControlError> {
    match s.split_once('%') {
        Some((a, z)) => {
            let a: IpAddr = a.parse().map_err(|_| err(format!("`{s}` is not an address")))?;
            let zone = stack
                .ifindex(z)
                .or_else(|| z.parse().ok().map(IfIndex).filter(|i| stack.interface(*i).is_some()))
                .ok_or_else(|| err(format!("zone `{z}` in `{s}` names no interface")))?;
            Ok((a, Some(zone)))
        }
        None => Ok((s.parse().map_err(|_| err(format!("`{s}` is not an address")))?, None)),
    }
}

fn ifname(stack: &Stack, i: Option<IfIndex>) -> String {
    i.and_then(|i| stack.interface(i)).map_or("-".to_string(), |i| i.name.clone())
}

/// A gateway as FreeBSD prints it (`fe80::1%eth0`, `link#eth0`).
pub fn gateway_text(stack: &Stack, nh: &NextHop, ifname: &str) -> String {
    match nh {
        NextHop::OnLink => format!("link#{ifname}"),
        NextHop::Gateway(GatewayAddr::V4(a)) => a.to_string(),
        NextHop::Gateway(GatewayAddr::V6(z)) => match z.zone.and_then(|i| stack.interface(i)) {
            Some(i) if via6_core::addr::needs_zone(&z.addr) => format!("{}%{}", z.addr, i.name),
            _ => z.addr.to_string(),
        },
        NextHop::Reject => "reject".into(),
        NextHop::Blackhole => "blackhole".into(),
    }
}

fn gateway_json(nh: &NextHop) -> Json {
    match nh {
        NextHop::Gateway(g) => Json::obj([("family", Json::s(g.family())), ("host", Json::s(g.ip()))]),
        _ => Json::Null,
    }
}

fn route_json(stack: &Stack, r: &Route) -> Json {
    Json::obj([
        ("dst", Json::s(if r.dest.prefix_len() == 0 { "default".to_string() } else { r.dest.to_string() })),
        ("via", gateway_json(&r.nexthop)),
        ("dev", Json::s(ifname(stack, r.ifindex))),
        (
            "type",
            Json::s(match r.nexthop {
                NextHop::Reject => "unreachable",
                NextHop::Blackhole => "blackhole",
                _ => "unicast",
            }),
        ),
        ("prefsrc", Json::opt(r.src)),
        ("metric", Json::Num(i64::from(r.metric))),
        ("protocol", Json::s(r.proto.name())),
        ("flags", Json::s(r.flags())),
    ])
}

// ---------------------------------------------------------------- route

fn route(stack: &mut Stack, args: &[&str], json: bool) -> Out {
    match args.first().copied() {
        Some("get") => {
            let explain = args.contains(&"--explain") || args.contains(&"-v");
            let dst = args[1..]
                .iter()
                .find(|a| !a.starts_with('-'))
                .ok_or_else(|| err("usage: route get [--explain] DST"))?;
            let (dst, zone) = parse_dst(stack, dst)?;
            route_get(stack, dst, zone, explain, json)
        }
        Some("add") | Some("change") => route_add(stack, &args[1..]),
        Some("delete") | Some("del") => route_delete(stack, &args[1..]),
        Some("flush") => {
            let family = if args.contains(&"-inet6") {
                Some(false)
            } else if args.contains(&"-inet") {
                Some(true)
            } else {
                None
            };
            let n = stack.flush_routes(family);
            Ok(format!("{n} routes flushed\n"))
        }
        _ => Err(err("usage: route add|delete|get|flush ...")),
    }
}

/// `route get`: FreeBSD's `route -n get` block plus `source:` lines; with
/// `explain`, every candidate and why it lost.
pub fn route_get(stack: &Stack, dst: IpAddr, zone: Option<IfIndex>, explain: bool, json: bool) -> Out {
    let rg =
        stack.route_get(dst, zone).map_err(|e| err(format!("route has not been found: {}", e.reason)))?;
    let l = &rg.lookup;
    let ifn = ifname(stack, Some(l.ifindex));
    if json {
        let (source, rule, reason, verdicts) = match &rg.source {
            Ok(d) => (Json::s(d.addr), Json::s(d.rule.id()), Json::s(d.rule), &d.verdicts),
            Err(e) => (Json::Null, Json::Null, Json::s(&e.reason), &e.verdicts),
        };
        let candidates = Json::Arr(
            verdicts
                .iter()
                .map(|v| {
                    Json::obj([
                        ("address", Json::s(v.addr)),
                        ("interface", Json::s(ifname(stack, Some(v.ifindex)))),
                        ("chosen", Json::Bool(v.lost.is_none())),
                        ("reason", Json::opt(v.lost.as_ref())),
                    ])
                })
                .collect(),
        );
        let mut obj = vec![
            ("destination".to_string(), Json::s(dst)),
            ("route".to_string(), Json::s(l.route.dest)),
            ("gateway".to_string(), gateway_json(&l.route.nexthop)),
            ("interface".to_string(), Json::s(&ifn)),
            ("flags".to_string(), Json::s(l.route.flags())),
            ("mtu".to_string(), Json::Num(i64::from(l.mtu))),
            ("source".to_string(), source),
            ("source_rule".to_string(), rule),
            ("source_reason".to_string(), reason),
        ];
        if explain {
            obj.push(("candidates".to_string(), candidates));
        }
        return Ok(Json::Obj(obj).render() + "\n");
    }
    let mut out = String::new();
    let _ = writeln!(out, "   route to: {dst}");
    let _ = writeln!(out, "destination: {}", l.route.dest.addr());
    let _ = writeln!(out, "       mask: {}", mask_text(&l.route.dest));
    if let NextHop::Gateway(_) = l.route.nexthop {
        let _ = writeln!(out, "    gateway: {}", gateway_text(stack, &l.route.nexthop, &ifn));
    }
    let _ = writeln!(out, "        fib: 0");
    let _ = writeln!(out, "  interface: {ifn}");
    let _ = writeln!(out, "      flags: <{}>", flag_words(&l.route.flags()));
    let _ = writeln!(out, " recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire");
    let _ = writeln!(out, "       0         0         0         0      {:<10} 1         0", l.mtu);
    match &rg.source {
        Ok(d) => {
            let _ = writeln!(out, "     source: {}", d.addr);
            let _ = writeln!(out, "source rule: {} ({})", d.rule.id(), d.rule);
            if explain {
                let _ = writeln!(out, " candidates:");
                for v in &d.verdicts {
                    let fate = v.lost.as_deref().unwrap_or("CHOSEN");
                    let _ =
                        writeln!(out, "    {:<28} {:<6} {}", v.addr, ifname(stack, Some(v.ifindex)), fate);
                }
            }
        }
        Err(e) => {
            let _ = writeln!(out, "     source: none (EADDRNOTAVAIL: {})", e.reason);
            if explain {
                for v in &e.verdicts {
                    let _ = writeln!(out, "    {:<28} {}", v.addr, v.lost.as_deref().unwrap_or(""));
                }
            }
        }
    }
    Ok(out)
}

fn mask_text(p: &IpPrefix) -> String {
    match p {
        IpPrefix::V4(p) => p.netmask().to_string(),
        IpPrefix::V6(p) => p.netmask().to_string(),
    }
}

fn flag_words(flags: &str) -> String {
    flags
        .chars()
        .filter_map(|c| match c {
            'U' => Some("UP"),
            'G' => Some("GATEWAY"),
            'H' => Some("HOST"),
            'S' => Some("STATIC"),
            'R' => Some("REJECT"),
            'B' => Some("BLACKHOLE"),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses a destination as FreeBSD `route` does: `default`, `P/LEN`, a bare
/// address (host), or `-net ADDR -netmask MASK` is not supported.
fn parse_dest(s: &str, inet6: bool) -> Result<IpPrefix, ControlError> {
    if s == "default" {
        return Ok(if inet6 {
            IpPrefix::V6(
                Ipv6Prefix::new_truncating(std::net::Ipv6Addr::UNSPECIFIED, 0)
                    .map_err(|e| err(e.to_string()))?,
            )
        } else {
            IpPrefix::V4(
                Ipv4Prefix::new_truncating(std::net::Ipv4Addr::UNSPECIFIED, 0)
                    .map_err(|e| err(e.to_string()))?,
            )
        });
    }
    s.parse::<IpPrefix>().map_err(|e| err(format!("destination `{s}`: {e}")))
}

/// A gateway: IPv4, or IPv6 with `%zone` for link-local.
fn parse_gateway(stack: &Stack, s: &str) -> Result<(NextHop, Option<IfIndex>), ControlError> {
    let (ip, zone) = parse_dst(stack, s)?;
    match ip {
        IpAddr::V4(a) => Ok((NextHop::Gateway(GatewayAddr::V4(a)), None)),
        IpAddr::V6(a) => {
            if via6_core::addr::needs_zone(&a) && zone.is_none() {
                return Err(err(format!("gateway `{s}` is link-local and needs a zone, e.g. {a}%tap0")));
            }
            Ok((NextHop::Gateway(GatewayAddr::V6(ZonedIpv6 { addr: a, zone })), zone))
        }
    }
}

/// `route add [-net|-host] [-inet|-inet6] DEST [-inet6] GATEWAY | -interface IF
/// | -reject | -blackhole [-mtu N] [-src ADDR]` (FreeBSD syntax; `-src` is
/// via6's spelling of Linux's `src`).
fn route_add(stack: &mut Stack, args: &[&str]) -> Out {
    let mut inet6_dest = false;
    let mut positional = Vec::new();
    let mut nexthop = None;
    let mut ifindex = None;
    let mut mtu = 0;
    let mut src = None;
    let mut it = args.iter().copied().peekable();
    while let Some(a) = it.next() {
        match a {
            "-net" | "-host" | "-inet" | "-static" => {}
            "-inet6" => inet6_dest |= positional.is_empty(),
            "-reject" => nexthop = Some(NextHop::Reject),
            "-blackhole" => nexthop = Some(NextHop::Blackhole),
            "-interface" | "-iface" | "-ifp" => {
                let name = it.next().ok_or_else(|| err("route: -interface needs an interface name"))?;
                ifindex = Some(
                    stack
                        .ifindex(name)
                        .ok_or_else(|| err(format!("route: interface `{name}` does not exist")))?,
                );
                nexthop.get_or_insert(NextHop::OnLink);
            }
            "-mtu" => {
                mtu =
                    it.next().and_then(|v| v.parse().ok()).ok_or_else(|| err("route: -mtu needs a number"))?
            }
            "-src" => {
                let v = it.next().ok_or_else(|| err("route: -src needs an address"))?;
                src = Some(
                    v.parse::<IpAddr>().map_err(|_| err(format!("route: -src `{v}` is not an address")))?,
                );
            }
            s if s.starts_with('-') => return Err(err(format!("route: unknown option `{s}`"))),
            s => positional.push(s),
        }
    }
    let dest =
        parse_dest(positional.first().ok_or_else(|| err("usage: route add DEST GATEWAY"))?, inet6_dest)?;
    if let Some(g) = positional.get(1) {
        let (nh, zone) = parse_gateway(stack, g)?;
        nexthop = Some(nh);
        ifindex = ifindex.or(zone);
    }
    let nexthop =
        nexthop.ok_or_else(|| err("route: a gateway, -interface, -reject or -blackhole is needed"))?;
    let mut r = Route::new(dest, nexthop, ifindex);
    r.mtu = mtu;
    r.src = src;
    stack.add_route(r).map_err(|e| err(format!("route: writing to routing socket: {}", e.reason)))?;
    Ok(format!(
        "add {} {}: gateway {}\n",
        if dest.prefix_len() == if dest.is_ipv4() { 32 } else { 128 } { "host" } else { "net" },
        dest,
        positional.get(1).copied().unwrap_or(match nexthop {
            NextHop::Reject => "reject",
            NextHop::Blackhole => "blackhole",
            _ => "link",
        })
    ))
}

fn route_delete(stack: &mut Stack, args: &[&str]) -> Out {
    let inet6 = args.first() == Some(&"-inet6");
    let pos: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with('-')).collect();
    let dest = parse_dest(pos.first().ok_or_else(|| err("usage: route delete DEST [GATEWAY]"))?, inet6)?;
    let nh = match pos.get(1) {
        Some(g) => Some(parse_gateway(stack, g)?.0),
        None => None,
    };
    stack
        .delete_route(dest, nh)
        .map_err(|e| err(format!("route: writing to routing socket: {}", e.reason)))?;
    Ok(format!("delete {dest}\n"))
}

// ---------------------------------------------------------------- netstat

fn netstat(stack: &Stack, args: &[&str], json: bool) -> Out {
    let flags: String = args
        .iter()
        .filter(|a| a.starts_with('-') && **a != "-f")
        .map(|a| a.trim_start_matches('-'))
        .collect();
    let family = args.iter().position(|a| *a == "-f").and_then(|i| args.get(i + 1)).copied();
    if flags.contains('r') {
        return Ok(netstat_rn(stack, family, json));
    }
    if flags.contains('s') {
        return Ok(netstat_s(stack, json));
    }
    if flags.contains('a') {
        return Ok(netstat_an(stack, json));
    }
    Err(err("usage: netstat -rn [-f inet|inet6] | -s | -an"))
}

/// Every route as (destination gateway netif, flags), for `route monitor`'s
/// diffs.
pub fn route_snapshot(stack: &Stack) -> Vec<(String, String)> {
    stack
        .routes()
        .iter()
        .map(|(_, r)| {
            let ifn = ifname(stack, r.ifindex);
            (format!("{} {} {}", r.dest, gateway_text(stack, &r.nexthop, &ifn), ifn), r.flags())
        })
        .collect()
}

/// The `route monitor` messages between two snapshots (FreeBSD's RTM_ADD /
/// RTM_DELETE, condensed to two lines each).
///
/// Linear in the two snapshots (hash sets), not quadratic: a node with
/// many routes gets an RA every few seconds, and each one changes the
/// route table.
pub fn route_changes(before: &[(String, String)], after: &[(String, String)]) -> Vec<String> {
    let (was, is): (HashSet<_>, HashSet<_>) = (before.iter().collect(), after.iter().collect());
    let mut out = Vec::new();
    for (r, f) in before.iter().filter(|x| !is.contains(x)) {
        out.push(format!("RTM_DELETE: Delete Route: flags:<{}>\n {r}", flag_words(f)));
    }
    for (r, f) in after.iter().filter(|x| !was.contains(x)) {
        out.push(format!("RTM_ADD: Add Route: flags:<{}>\n {r}", flag_words(f)));
    }
    out
}

/// `netstat -rn`: per-family tables in FreeBSD's columns.
pub fn netstat_rn(stack: &Stack, family: Option<&str>, json: bool) -> String {
    let fams: Vec<(&str, bool)> = [("Internet", true), ("Internet6", false)]
        .into_iter()
        .filter(|(_, v4)| family.is_none_or(|f| (f == "inet") == *v4))
        .collect();
    if json {
        let routes = stack
            .routes()
            .iter()
            .filter(|(_, r)| fams.iter().any(|(_, v4)| r.dest.is_ipv4() == *v4))
            .map(|(_, r)| route_json(stack, r))
            .collect();
        return Json::Arr(routes).render() + "\n";
    }
    let mut out = String::from("Routing tables\n");
    for (title, v4) in fams {
        let _ = write!(
            out,
            "\n{title}:\n{:<32} {:<28} {:<6} {:<8} Expire\n",
            "Destination", "Gateway", "Flags", "Netif"
        );
        for (_, r) in stack.routes().iter().filter(|(_, r)| r.dest.is_ipv4() == v4) {
            let ifn = ifname(stack, r.ifindex);
            let dest = if r.dest.prefix_len() == 0 { "default".to_string() } else { r.dest.to_string() };
            let expire = r
                .expires
                .map_or(String::new(), |t| t.saturating_since(stack_now(stack)).as_secs().to_string());
            let _ = writeln!(
                out,
                "{:<32} {:<28} {:<6} {:<8} {}",
                dest,
                gateway_text(stack, &r.nexthop, &ifn),
                r.flags(),
                ifn,
                expire
            );
        }
    }
    out
}

fn stack_now(stack: &Stack) -> via6_core::Instant {
    stack.now()
}

/// `netstat -s`: non-zero counters by section, FreeBSD wording.
pub fn netstat_s(stack: &Stack, json: bool) -> String {
    if json {
        let mut sections: Vec<(String, Json)> = Vec::new();
        for (sec, name, _text, v) in stack.stats().all() {
            if let Some((_, Json::Obj(o))) = sections.iter_mut().find(|(s, _)| s == sec) {
                o.push((name.to_string(), Json::Num(v as i64)));
            } else {
                sections.push((sec.to_string(), Json::Obj(vec![(name.to_string(), Json::Num(v as i64))])));
            }
        }
        return Json::Obj(sections).render() + "\n";
    }
    let mut out = String::new();
    let mut section = "";
    for (sec, _name, text, v) in stack.stats().all() {
        if v == 0 {
            continue;
        }
        if sec != section {
            let _ = writeln!(out, "{sec}:");
            section = sec;
        }
        let _ = writeln!(out, "\t{v} {text}");
    }
    out
}

fn netstat_an(stack: &Stack, json: bool) -> String {
    let rows: Vec<(String, String, String)> = stack
        .sockets()
        .iter()
        .map(|(_, s)| {
            let proto = match (s.proto, s.family) {
                (via6_core::socket::Proto::Udp, via6_core::socket::Family::Inet) => "udp4",
                (via6_core::socket::Proto::Udp, via6_core::socket::Family::Inet6) if !s.v6only => "udp46",
                (via6_core::socket::Proto::Udp, _) => "udp6",
                (via6_core::socket::Proto::Tcp, via6_core::socket::Family::Inet) => "tcp4",
                (via6_core::socket::Proto::Tcp, _) => "tcp6",
                (via6_core::socket::Proto::Raw(_), via6_core::socket::Family::Inet) => "raw4",
                (via6_core::socket::Proto::Raw(_), _) => "raw6",
            };
            let local = s.local.map_or("*.*".to_string(), |l| {
                format!("{}.{}", if l.is_wildcard() { "*".to_string() } else { l.addr.to_string() }, l.port)
            });
            let remote = s.remote.map_or("*.*".to_string(), |r| format!("{}.{}", r.ip(), r.port()));
            (proto.to_string(), local, remote)
        })
        .collect();
    if json {
        return Json::Arr(
            rows.into_iter()
                .map(|(p, l, r)| {
                    Json::obj([("proto", Json::s(p)), ("local", Json::s(l)), ("foreign", Json::s(r))])
                })
                .collect(),
        )
        .render()
            + "\n";
    }
    let mut out = String::from("Active Internet connections (including servers)\n");
    let _ = writeln!(
        out,
        "{:<6} {:>6} {:>6} {:<40} {:<40} (state)",
        "Proto", "Recv-Q", "Send-Q", "Local Address", "Foreign Address"
    );
    for (p, l, r) in rows {
        let _ = writeln!(out, "{:<6} {:>6} {:>6} {:<40} {:<40}", p, 0, 0, l, r);
    }
    out
}

// ---------------------------------------------------------------- ifconfig, ndp, arp

fn ifconfig(stack: &Stack, name: Option<&str>, json: bool) -> Out {
    let ifaces: Vec<_> = stack.interfaces().iter().filter(|i| name.is_none_or(|n| i.name == n)).collect();
    if let (Some(n), true) = (name, ifaces.is_empty()) {
        return Err(err(format!("ifconfig: interface {n} does not exist")));
    }
    if json {
        let arr = ifaces
            .iter()
            .map(|i| {
                Json::obj([
                    ("ifname", Json::s(&i.name)),
                    ("ifindex", Json::Num(i64::from(i.index.0))),
                    ("mtu", Json::Num(i64::from(i.mtu))),
                    ("ether", Json::opt(i.mac())),
                    (
                        "addr_info",
                        Json::Arr(
                            i.addrs
                                .iter()
                                .map(|a| {
                                    Json::obj([
                                        ("family", Json::s(if a.addr.is_ipv4() { "inet" } else { "inet6" })),
                                        ("local", Json::s(a.addr)),
                                        ("prefixlen", Json::Num(i64::from(a.prefix_len))),
                                        (
                                            "flags",
                                            Json::Arr(a.flags.words().into_iter().map(Json::s).collect()),
                                        ),
                                    ])
                                })
                                .collect(),
                        ),
                    ),
                    ("nd6_options", Json::Arr(i.nd.words().into_iter().map(Json::s).collect())),
                ])
            })
            .collect();
        return Ok(Json::Arr(arr).render() + "\n");
    }
    let mut out = String::new();
    for i in ifaces {
        let flags = if i.is_loopback() {
            "8049<UP,LOOPBACK,RUNNING,MULTICAST>"
        } else {
            "8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST>"
        };
        let _ = writeln!(out, "{}: flags={flags} metric 0 mtu {}", i.name, i.mtu);
        if let Some(m) = i.mac() {
            let _ = writeln!(out, "\tether {m}");
        }
        for a in &i.addrs {
            match a.addr {
                IpAddr::V4(v4) => {
                    let mask = Ipv4Prefix::mask_bits(a.prefix_len);
                    let _ = write!(out, "\tinet {v4} netmask {mask:#010x}");
                    if a.prefix_len < 31 && !i.is_loopback() {
                        let _ = write!(out, " broadcast {}", std::net::Ipv4Addr::from(v4.to_bits() | !mask));
                    }
                }
                IpAddr::V6(v6) => {
                    let zone =
                        if via6_core::addr::needs_zone(&v6) { format!("%{}", i.name) } else { String::new() };
                    let _ = write!(out, "\tinet6 {v6}{zone} prefixlen {}", a.prefix_len);
                    if !zone.is_empty() {
                        let _ = write!(out, " scopeid {:#x}", i.index.0);
                    }
                }
            }
            for w in a.flags.words() {
                let _ = write!(out, " {w}");
            }
            out.push('\n');
        }
        let nd = i.nd.words();
        let bits = [i.nd.perform_nud, i.nd.accept_rtadv, false, false, false, i.nd.auto_linklocal];
        let mask: u32 = bits.iter().enumerate().map(|(b, on)| u32::from(*on) << b).sum::<u32>()
            | (u32::from(i.nd.ifdisabled) << 3);
        let _ = writeln!(out, "\tnd6 options={mask:x}<{}>", nd.join(","));
    }
    Ok(out)
}

/// `ifconfig IF inet|inet6 ADDR[/LEN] [alias|-alias|delete]`, `ifconfig IF mtu N`.
fn ifconfig_set(stack: &mut Stack, args: &[&str]) -> Out {
    let now = stack.now();
    let ifindex = stack
        .ifindex(args[0])
        .ok_or_else(|| err(format!("ifconfig: interface {} does not exist", args[0])))?;
    match args[1..] {
        ["mtu", mtu] => {
            let mtu: u32 = mtu.parse().map_err(|_| err(format!("ifconfig: mtu `{mtu}` is not a number")))?;
            stack.set_mtu(ifindex, mtu).map_err(|e| err(format!("ifconfig: {}", e.reason)))?;
            Ok(String::new())
        }
        [fam @ ("inet" | "inet6"), addr, ref rest @ ..] => {
            let (a, len) = match addr.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (addr, None),
            };
            let ip: IpAddr = a.parse().map_err(|_| err(format!("ifconfig: `{a}` is not an address")))?;
            if ip.is_ipv4() != (fam == "inet") {
                return Err(err(format!("ifconfig: {ip} is not an {fam} address")));
            }
            let default = if ip.is_ipv4() { 32 } else { 64 };
            let len: u8 = match len {
                Some(l) => {
                    l.parse().map_err(|_| err(format!("ifconfig: prefix length `{l}` is not a number")))?
                }
                None => default,
            };
            match rest {
                [] | ["alias"] => stack.add_address(ifindex, ip, len, now),
                ["-alias"] | ["delete"] => stack.remove_address(ifindex, ip),
                other => return Err(err(format!("ifconfig: unknown argument `{}`", other.join(" ")))),
            }
            .map_err(|e| err(format!("ifconfig: {}", e.reason)))?;
            Ok(String::new())
        }
        _ => Err(err("usage: ifconfig IF [inet|inet6 ADDR[/LEN] [alias|-alias] | mtu N]")),
    }
}

fn state_letter(s: NudState) -> &'static str {
    match s {
        NudState::Incomplete => "I",
        NudState::Reachable => "R",
        NudState::Stale => "S",
        NudState::Delay => "D",
        NudState::Probe => "P",
        NudState::Permanent => "R",
    }
}

fn ndp(stack: &Stack, json: bool) -> String {
    neighbours(stack, false, json)
}

fn arp(stack: &Stack, json: bool) -> String {
    neighbours(stack, true, json)
}

fn neighbours(stack: &Stack, v4: bool, json: bool) -> String {
    let now = stack.now();
    let entries: Vec<_> =
        stack.neighbours().entries().into_iter().filter(|(k, _)| k.addr.is_ipv4() == v4).collect();
    if json {
        return Json::Arr(
            entries
                .iter()
                .map(|(k, n)| {
                    Json::obj([
                        ("dst", Json::s(k.addr)),
                        ("dev", Json::s(ifname(stack, Some(k.ifindex)))),
                        ("lladdr", Json::opt(n.lladdr)),
                        ("state", Json::Arr(vec![Json::s(n.state.name())])),
                        ("router", Json::Bool(n.is_router)),
                    ])
                })
                .collect(),
        )
        .render()
            + "\n";
    }
    let mut out = String::new();
    if !v4 {
        let _ = writeln!(
            out,
            "{:<36} {:<18} {:<6} {:<9} S Flags",
            "Neighbor", "Linklayer Address", "Netif", "Expire"
        );
    }
    for (k, n) in entries {
        let ifn = ifname(stack, Some(k.ifindex));
        let ll = n.lladdr.map_or("(incomplete)".to_string(), |m| m.to_string());
        let expire = match (n.state, n.deadline) {
            (NudState::Permanent, _) => "permanent".to_string(),
            (_, Some(d)) => format!("{}s", d.saturating_since(now).as_secs()),
            (_, None) => "expired".to_string(),
        };
        if v4 {
            let _ = writeln!(out, "? ({}) at {} on {} expires in {} [ethernet]", k.addr, ll, ifn, expire);
        } else {
            let addr = match k.addr {
                IpAddr::V6(a) if via6_core::addr::needs_zone(&a) => format!("{a}%{ifn}"),
                a => a.to_string(),
            };
            let flags = if n.is_router { "R" } else { "" };
            let _ = writeln!(
                out,
                "{:<36} {:<18} {:<6} {:<9} {} {}",
                addr,
                ll,
                ifn,
                expire,
                state_letter(n.state),
                flags
            );
        }
    }
    out
}

// ---------------------------------------------------------------- sysctl

fn sysctl(stack: &mut Stack, args: &[&str], json: bool) -> Out {
    let mut out = String::new();
    let mut pairs = Vec::new();
    let names: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with('-')).collect();
    let all = names.is_empty();
    for a in names.iter().copied().chain(all.then_some("net")) {
        match a.split_once('=') {
            Some((n, v)) => {
                let v: i64 = v.parse().map_err(|_| err(format!("sysctl: {n}: `{v}` is not an integer")))?;
                let old = stack.set_sysctl(n, v).map_err(|e| err(format!("sysctl: {e}")))?;
                let _ = writeln!(out, "{n}: {old} -> {v}");
                pairs.push((n.to_string(), Json::Num(v)));
            }
            None => {
                let list = stack.sysctl().list(Some(a));
                if list.is_empty() {
                    return Err(err(format!("sysctl: unknown oid '{a}'")));
                }
                for (spec, v) in list {
                    let _ = writeln!(out, "{}: {v}", spec.name);
                    pairs.push((spec.name.to_string(), Json::Num(v)));
                }
            }
        }
    }
    Ok(if json { Json::Obj(pairs).render() + "\n" } else { out })
}

// ---------------------------------------------------------------- ip (iproute2 aliases)

fn ip(stack: &mut Stack, args: &[&str], json: bool) -> Out {
    let mut family = None;
    let mut rest = args;
    while let Some(f) = rest.first() {
        match *f {
            "-4" => family = Some(true),
            "-6" => family = Some(false),
            "-j" | "-json" => {}
            _ => break,
        }
        rest = &rest[1..];
    }
    let json = json || args.contains(&"-j");
    match rest {
        ["route" | "r", "get", tail @ ..] => ip_route_get(stack, tail, json),
        ["route" | "r", "add", tail @ ..] => ip_route_add(stack, tail),
        ["route" | "r", "del" | "delete", tail @ ..] => {
            let dest = tail.first().ok_or_else(|| err("usage: ip route del PREFIX"))?;
            let dest = parse_dest(dest, family == Some(false))?;
            stack.delete_route(dest, None).map_err(|e| err(format!("RTNETLINK answers: {}", e.reason)))?;
            Ok(String::new())
        }
        ["route" | "r"] | ["route" | "r", "show" | "list"] => {
            let routes: Vec<&Route> = stack
                .routes()
                .iter()
                .map(|(_, r)| r)
                .filter(|r| family.is_none_or(|v4| r.dest.is_ipv4() == v4))
                .collect();
            if json {
                return Ok(Json::Arr(routes.iter().map(|r| route_json(stack, r)).collect()).render() + "\n");
            }
            let mut out = String::new();
            for r in routes {
                let _ = writeln!(out, "{}", ip_route_line(stack, r));
            }
            Ok(out)
        }
        ["neigh" | "neighbor" | "n"] | ["neigh" | "neighbor" | "n", "show"] => {
            let mut out = String::new();
            for (k, n) in stack.neighbours().entries() {
                if family.is_some_and(|v4| k.addr.is_ipv4() != v4) {
                    continue;
                }
                let ll = n.lladdr.map_or(String::new(), |m| format!(" lladdr {m}"));
                let router = if n.is_router { " router" } else { "" };
                let _ = writeln!(
                    out,
                    "{} dev {}{}{} {}",
                    k.addr,
                    ifname(stack, Some(k.ifindex)),
                    ll,
                    router,
                    n.state.name()
                );
            }
            Ok(if json { neighbours(stack, family == Some(true), true) } else { out })
        }
        ["addr" | "address" | "a"] | ["addr" | "address" | "a", "show"] => ifconfig(stack, None, json),
        _ => Err(err("usage: ip [-4|-6] route get|add|del|show ... | neigh | addr")),
    }
}

fn ip_route_line(stack: &Stack, r: &Route) -> String {
    let dest = if r.dest.prefix_len() == 0 { "default".to_string() } else { r.dest.to_string() };
    let mut s = match r.nexthop {
        NextHop::Reject => format!("unreachable {dest}"),
        NextHop::Blackhole => format!("blackhole {dest}"),
        NextHop::Gateway(GatewayAddr::V4(g)) => format!("{dest} via {g}"),
        NextHop::Gateway(GatewayAddr::V6(z)) if r.dest.is_ipv4() => format!("{dest} via inet6 {}", z.addr),
        NextHop::Gateway(GatewayAddr::V6(z)) => format!("{dest} via {}", z.addr),
        NextHop::OnLink => dest,
    };
    if r.ifindex.is_some() {
        let _ = write!(s, " dev {}", ifname(stack, r.ifindex));
    }
    let _ = write!(s, " proto {}", r.proto.name());
    if r.proto == RouteProto::Kernel {
        s.push_str(" scope link");
    }
    if let Some(src) = r.src {
        let _ = write!(s, " src {src}");
    }
    if r.metric != 0 {
        let _ = write!(s, " metric {}", r.metric);
    }
    s
}

/// `ip route get DST [from SRC] [iif IF]`.
fn ip_route_get(stack: &Stack, args: &[&str], json: bool) -> Out {
    let dst_s = args.first().ok_or_else(|| err("usage: ip route get DST [from SRC] [iif IF]"))?;
    let (dst, zone) = parse_dst(stack, dst_s)?;
    let mut from = None;
    let mut iif = None;
    let mut it = args[1..].iter();
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| err(format!("ip route get: `{k}` needs a value")))?;
        match *k {
            "from" => {
                from = Some(
                    v.parse::<IpAddr>()
                        .map_err(|_| err(format!("ip route get: from `{v}` is not an address")))?,
                )
            }
            "iif" => {
                iif = Some(
                    stack
                        .ifindex(v)
                        .ok_or_else(|| err(format!("ip route get: iif `{v}`: no such device")))?,
                )
            }
            "oif" | "dev" => {}
            _ => return Err(err(format!("ip route get: unknown keyword `{k}`"))),
        }
    }
    let rg = stack.route_get(dst, zone).map_err(|e| err(format!("RTNETLINK answers: {}", e.errno.text())))?;
    let l = &rg.lookup;
    if iif.is_some()
        && !stack.sysctl().on(if dst.is_ipv4() {
            via6_core::sysctl::Knob::InetForwarding
        } else {
            via6_core::sysctl::Knob::Ip6Forwarding
        })
    {
        return Err(err("RTNETLINK answers: Network is unreachable (forwarding is off)"));
    }
    let src = match (from, iif) {
        (Some(f), _) => Some(f),
        (None, Some(_)) => None,
        (None, None) => rg.source.as_ref().ok().map(|d| d.addr),
    };
    if iif.is_none() {
        if let Some(f) = from {
            if !stack.is_local_address(f) {
                return Err(err(format!("RTNETLINK answers: {f}: Cannot assign requested address")));
            }
        }
    }
    if json {
        return Ok(Json::Arr(vec![Json::obj([
            ("dst", Json::s(dst)),
            ("from", Json::opt(from)),
            ("via", gateway_json(&l.route.nexthop)),
            ("dev", Json::s(ifname(stack, Some(l.ifindex)))),
            ("iif", Json::opt(iif.map(|i| ifname(stack, Some(i))))),
            ("prefsrc", Json::opt(src)),
            ("source_rule", Json::opt(rg.source.as_ref().ok().map(|d| d.rule.id()))),
            ("mtu", Json::Num(i64::from(l.mtu))),
        ])])
        .render()
            + "\n");
    }
    let mut s = dst.to_string();
    if let Some(f) = from {
        let _ = write!(s, " from {f}");
    }
    match l.route.nexthop {
        NextHop::Gateway(GatewayAddr::V6(z)) if dst.is_ipv4() => {
            let _ = write!(s, " via inet6 {}", z.addr);
        }
        NextHop::Gateway(g) => {
            let _ = write!(s, " via {}", g.ip());
        }
        _ => {}
    }
    let _ = write!(s, " dev {}", ifname(stack, Some(l.ifindex)));
    if let (Some(src), None) = (src, from) {
        let _ = write!(s, " src {src}");
    }
    if let Some(i) = iif {
        let _ = write!(s, " iif {}", ifname(stack, Some(i)));
    }
    match &rg.source {
        Err(e) if from.is_none() && iif.is_none() => {
            let _ = write!(s, "\n    (no source: {})", e.reason);
        }
        _ => {}
    }
    Ok(s + "\n    cache\n")
}

/// `ip route add PREFIX via [inet6] GW dev IF [src SRC] [metric N] [mtu N]`,
/// and `unreachable|blackhole PREFIX`.
fn ip_route_add(stack: &mut Stack, args: &[&str]) -> Out {
    let (kind, args) = match args.first() {
        Some(&"unreachable") | Some(&"prohibit") => (Some(NextHop::Reject), &args[1..]),
        Some(&"blackhole") => (Some(NextHop::Blackhole), &args[1..]),
        _ => (None, args),
    };
    let dest_s =
        args.first().ok_or_else(|| err("usage: ip route add PREFIX via [inet6] GW dev IF [src SRC]"))?;
    let mut via = None;
    let mut dev = None;
    let mut src = None;
    let mut metric = 0;
    let mut mtu = 0;
    let mut it = args[1..].iter().copied();
    while let Some(k) = it.next() {
        let mut val = || it.next().ok_or_else(|| err(format!("ip route add: `{k}` needs a value")));
        match k {
            "via" => {
                let mut v = val()?;
                if v == "inet6" || v == "inet" {
                    v = it.next().ok_or_else(|| err("ip route add: via inet6 needs an address"))?;
                }
                via = Some(v);
            }
            "dev" => {
                let d = val()?;
                dev = Some(
                    stack
                        .ifindex(d)
                        .ok_or_else(|| err(format!("ip route add: dev `{d}`: Cannot find device")))?,
                );
            }
            "src" => {
                let v = val()?;
                src = Some(
                    v.parse::<IpAddr>()
                        .map_err(|_| err(format!("ip route add: src `{v}` is not an address")))?,
                );
            }
            "metric" | "preference" => {
                let v = val()?;
                metric = v.parse().map_err(|_| err(format!("ip route add: metric `{v}` is not a number")))?;
            }
            "mtu" => {
                let v = val()?;
                mtu = v.parse().map_err(|_| err(format!("ip route add: mtu `{v}` is not a number")))?;
            }
            "proto" | "scope" | "table" => {
                val()?;
            }
            _ => return Err(err(format!("ip route add: unknown keyword `{k}`"))),
        }
    }
    let dest = parse_dest(dest_s, dest_s.contains(':'))?;
    let nexthop = match (kind, via) {
        (Some(k), _) => k,
        (None, Some(v)) => {
            let with_zone = match (v.contains('%'), dev) {
                (false, Some(d)) if v.contains(':') => format!("{v}%{}", ifname(stack, Some(d))),
                _ => v.to_string(),
            };
            parse_gateway(stack, &with_zone)?.0
        }
        (None, None) if dev.is_some() => NextHop::OnLink,
        (None, None) => return Err(err("ip route add: need `via GW` or `dev IF`")),
    };
    let mut r = Route::new(dest, nexthop, dev);
    r.src = src;
    r.metric = metric;
    r.mtu = mtu;
    stack.add_route(r).map_err(|e| err(format!("RTNETLINK answers: {}", e.reason)))?;
    Ok(String::new())
}

// ---------------------------------------------------------------- ip6addrctl

fn ip6addrctl(stack: &mut Stack, args: &[&str]) -> Out {
    use via6_core::srcsel::policy::{format_policy_table, Policy};
    let parse_prefix =
        |p: &str| p.parse::<Ipv6Prefix>().map_err(|e| err(format!("ip6addrctl: prefix `{p}`: {e}")));
    match args {
        [] | ["show"] => Ok(format_policy_table(stack.policy())),
        ["add", prefix, prec, label] => {
            let prefix = parse_prefix(prefix)?;
            let precedence =
                prec.parse().map_err(|_| err(format!("ip6addrctl: precedence `{prec}` is not a number")))?;
            let label =
                label.parse().map_err(|_| err(format!("ip6addrctl: label `{label}` is not a number")))?;
            stack
                .policy_mut()
                .add(Policy { prefix, precedence, label })
                .map_err(|e| err(format!("ip6addrctl: {e}")))?;
            Ok(String::new())
        }
        ["delete", prefix] => {
            let prefix = parse_prefix(prefix)?;
            stack.policy_mut().delete(prefix).map_err(|e| err(format!("ip6addrctl: {e}")))?;
            Ok(String::new())
        }
        ["flush"] => {
            stack.policy_mut().flush();
            Ok(String::new())
        }
        ["install"] | ["install", "default"] => {
            stack.policy_mut().install_defaults();
            Ok(String::new())
        }
        ["install", file] => {
            let text = std::fs::read_to_string(file).map_err(|e| err(format!("ip6addrctl: {file}: {e}")))?;
            let n = stack.policy_mut().install(&text).map_err(|e| err(format!("ip6addrctl: {file}: {e}")))?;
            Ok(format!("{n} policies installed\n"))
        }
        _ => Err(err(
            "usage: ip6addrctl [show | add PREFIX PREC LABEL | delete PREFIX | flush | install [FILE]]",
        )),
    }
}

// ---------------------------------------------------------------- UDP sockets

/// `ADDR:PORT`, `[V6ADDR]:PORT`, `[V6ADDR%ZONE]:PORT`.
pub fn parse_sockaddr(stack: &Stack, s: &str) -> Result<std::net::SocketAddr, ControlError> {
    let (host, port) = s.rsplit_once(':').ok_or_else(|| err(format!("`{s}` is not ADDR:PORT")))?;
    let port: u16 = port.parse().map_err(|_| err(format!("`{port}` is not a port")))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let (ip, zone) = parse_dst(stack, host)?;
    Ok(match ip {
        IpAddr::V6(v6) => {
            std::net::SocketAddr::V6(std::net::SocketAddrV6::new(v6, port, 0, zone.map_or(0, |z| z.0)))
        }
        v4 => std::net::SocketAddr::new(v4, port),
    })
}

/// `udp-listen [-4|-6|-dual] [ADDR] PORT`: a bound UDP socket (AF_INET by
/// default; `-6` AF_INET6 with V6ONLY, `-dual` AF_INET6 without).
fn udp_listen(stack: &mut Stack, args: &[&str]) -> Out {
    use via6_core::socket::{Family, Proto};
    let (family, v6only, rest) = match args {
        ["-6", rest @ ..] => (Family::Inet6, true, rest),
        ["-dual", rest @ ..] => (Family::Inet6, false, rest),
        ["-4", rest @ ..] | rest => (Family::Inet, false, rest),
    };
    let sa = match rest {
        [port] => {
            let port: u16 = port.parse().map_err(|_| err(format!("udp-listen: `{port}` is not a port")))?;
            via6_core::socket::wildcard(family, port)
        }
        [addr, port] => parse_sockaddr(
            stack,
            &format!("[{}]:{port}", addr.trim_start_matches('[').trim_end_matches(']')),
        )?,
        _ => return Err(err("usage: udp-listen [-4|-6|-dual] [ADDR] PORT")),
    };
    let h = stack.socket(family, Proto::Udp);
    let setup = (|| {
        if family == Family::Inet6 {
            stack.set_v6only(h, v6only)?;
        }
        stack.bind(h, sa)
    })();
    if let Err(e) = setup {
        stack.close(h);
        return Err(err(format!("udp-listen: bind {sa}: {e}")));
    }
    let local = stack.local_addr(h).map_err(|e| err(e.to_string()))?;
    Ok(format!("socket {} listening on {local}\n", h.0))
}

/// `udp-send DST:PORT TEXT`: a new connected UDP socket sends TEXT; prints
/// the source it used.
fn udp_send(stack: &mut Stack, args: &[&str]) -> Out {
    use via6_core::socket::{Family, Proto};
    let [dst, text] = args else { return Err(err("usage: udp-send DST:PORT TEXT")) };
    let sa = parse_sockaddr(stack, dst)?;
    let family = if sa.is_ipv4() { Family::Inet } else { Family::Inet6 };
    let h = stack.socket(family, Proto::Udp);
    let now = stack.now();
    let sent = (|| {
        stack.connect(h, sa)?;
        let local = stack.local_addr(h)?;
        let n = stack.udp_send_to(h, text.as_bytes(), None, None, now)?;
        Ok::<_, via6_core::StackError>((local, n))
    })();
    match sent {
        Ok((local, n)) => Ok(format!("sent {n} bytes from {local} to {sa} (socket {})\n", h.0)),
        Err(e) => {
            stack.close(h);
            Err(err(format!("udp-send: {e}")))
        }
    }
}

/// `udp-recv PORT`: what the UDP sockets bound to PORT received, and any
/// pending socket error.
fn udp_recv(stack: &mut Stack, args: &[&str]) -> Out {
    use via6_core::socket::Proto;
    let [port] = args else { return Err(err("usage: udp-recv PORT")) };
    let port: u16 = port.parse().map_err(|_| err(format!("udp-recv: `{port}` is not a port")))?;
    let handles: Vec<_> = stack
        .sockets()
        .iter()
        .filter(|(_, s)| s.proto == Proto::Udp && s.local.is_some_and(|l| l.port == port))
        .map(|(h, _)| h)
        .collect();
    if handles.is_empty() {
        return Err(err(format!("udp-recv: no UDP socket bound to port {port}")));
    }
    let mut out = String::new();
    for h in handles {
        loop {
            match stack.udp_recv_from(h) {
                Ok(d) => {
                    let _ =
                        writeln!(out, "from {} to {}: {:?}", d.from, d.to, String::from_utf8_lossy(&d.data));
                }
                Err(e) if e.errno == via6_core::Errno::EWOULDBLOCK => break,
                Err(e) => {
                    let _ = writeln!(out, "error: {:?} ({})", e.errno, e.errno.text());
                }
            }
        }
    }
    if out.is_empty() {
        out.push_str("nothing received\n");
    }
    Ok(out)
}

#[cfg(test)]
mod route_change_tests {
    use super::route_changes;

    fn routes(names: &[&str]) -> Vec<(String, String)> {
        names.iter().map(|n| (format!("{n} 192.0.2.1 eth0"), "UGS".to_string())).collect()
    }

    #[test]
    fn deletions_then_additions_in_snapshot_order() {
        let before = routes(&["10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"]);
        let after = routes(&["10.3.0.0/16", "10.9.0.0/16", "10.0.0.0/8", "10.8.0.0/16"]);
        let c = route_changes(&before, &after);
        assert_eq!(c.len(), 4, "{c:?}");
        assert!(c[0].starts_with("RTM_DELETE") && c[0].contains("10.1.0.0/16"), "{c:?}");
        assert!(c[1].starts_with("RTM_DELETE") && c[1].contains("10.2.0.0/16"), "{c:?}");
        assert!(c[2].starts_with("RTM_ADD") && c[2].contains("10.9.0.0/16"), "{c:?}");
        assert!(c[3].starts_with("RTM_ADD") && c[3].contains("10.8.0.0/16"), "{c:?}");
        assert!(route_changes(&after, &after).is_empty());
        // A flag change is a delete and an add of the same route.
        let mut flagged = after.clone();
        flagged[0].1 = "US".to_string();
        assert_eq!(route_changes(&after, &flagged).len(), 2);
    }
}
