//! The `--run` step verbs: every control verb of [`crate::control`] on the
//! named node, plus the verbs that need the lab's clock — `ping`,
//! `traceroute`, `udp-listen` / `udp-send` / `udp-recv`, `ifconfig IF mtu N`.

use crate::lab::Lab;
use crate::scenario::{Runner, Step, StepError};
use core::time::Duration;
use std::fmt::Write as _;
use std::net::IpAddr;
use via6_core::socket::{Family, Proto};
use via6_core::Stack;

fn node<'a>(lab: &'a mut Lab, step: &Step) -> Result<&'a mut Stack, StepError> {
    let name = step.require_node()?;
    lab.node_mut(name).ok_or_else(|| StepError(format!("no node `{name}`")))
}

fn err(msg: impl Into<String>) -> StepError {
    StepError(msg.into())
}

/// Runs a probe (`ping`, `traceroute`) on the lab's clock.
fn run_probe(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let name = step.require_node()?.to_string();
    let stack = node(lab, step)?;
    let mut p = crate::probe::start(stack, &step.verb, &step.args)
        .ok_or_else(|| err("not a probe verb"))?
        .map_err(err)?;
    loop {
        let now = lab.now();
        let stack = lab.node_mut(&name).ok_or_else(|| err("node vanished"))?;
        if p.step(stack, now).is_none() {
            break;
        }
        lab.run_for(Duration::from_millis(1));
    }
    let stack = lab.node_mut(&name).ok_or_else(|| err("node vanished"))?;
    Ok(p.finish(stack))
}

/// The text FreeBSD's ping prints for an ICMP error.
pub use crate::probe::icmp_text;

fn sockaddr(stack: &Stack, s: &str) -> Result<std::net::SocketAddr, StepError> {
    // ADDR:PORT, [V6ADDR%ZONE]:PORT
    let (host, port) = s.rsplit_once(':').ok_or_else(|| err(format!("`{s}` is not ADDR:PORT")))?;
    let port: u16 = port.parse().map_err(|_| err(format!("`{port}` is not a port")))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let (ip, zone) = crate::control::parse_dst(stack, host).map_err(|e| err(e.0))?;
    Ok(match ip {
        IpAddr::V6(v6) => {
            std::net::SocketAddr::V6(std::net::SocketAddrV6::new(v6, port, 0, zone.map_or(0, |z| z.0)))
        }
        v4 => std::net::SocketAddr::new(v4, port),
    })
}

/// `udp-listen [-4|-6|-dual] PORT`: a wildcard UDP socket (AF_INET by default;
/// `-6` AF_INET6 with V6ONLY, `-dual` AF_INET6 without).
fn udp_listen(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let stack = node(lab, step)?;
    let (family, v6only, port) = match step.args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["-6", p] => (Family::Inet6, true, p),
        ["-dual", p] => (Family::Inet6, false, p),
        ["-4", p] | [p] => (Family::Inet, false, p),
        _ => return Err(err("usage: udp-listen [-4|-6|-dual] PORT")),
    };
    let port: u16 = port.parse().map_err(|_| err(format!("`{port}` is not a port")))?;
    let h = stack.socket(family, Proto::Udp);
    if family == Family::Inet6 {
        stack.set_v6only(h, v6only).map_err(|e| err(e.to_string()))?;
    }
    stack.bind(h, via6_core::socket::wildcard(family, port)).map_err(|e| err(format!("bind: {e}")))?;
    Ok(format!("listening on {}\n", stack.local_addr(h).map_err(|e| err(e.to_string()))?))
}

/// `udp-send DST:PORT TEXT`: connect a new AF_INET/AF_INET6 socket, send, and
/// let the lab run 100 ms.
fn udp_send(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let [dst, text] = &step.args[..] else { return Err(err("usage: udp-send DST:PORT TEXT")) };
    let now = lab.now();
    let stack = node(lab, step)?;
    let sa = sockaddr(stack, dst)?;
    let family = if sa.is_ipv4() { Family::Inet } else { Family::Inet6 };
    let h = stack.socket(family, Proto::Udp);
    stack.connect(h, sa).map_err(|e| err(format!("connect: {e}")))?;
    let local = stack.local_addr(h).map_err(|e| err(e.to_string()))?;
    let n = stack.udp_send_to(h, text.as_bytes(), None, None, now).map_err(|e| err(format!("send: {e}")))?;
    lab.run_for(Duration::from_millis(100));
    let mut out = format!("sent {n} bytes from {local} to {sa}\n");
    if let Some(stack) = lab.node_mut(step.require_node()?) {
        if let Some(e) = stack.take_error(h) {
            let _ = writeln!(out, "error: {e:?} ({})", e.text());
        }
        stack.close(h);
    }
    Ok(out)
}

/// `udp-recv PORT`: print what the UDP socket bound to PORT received.
fn udp_recv(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let [port] = &step.args[..] else { return Err(err("usage: udp-recv PORT")) };
    let port: u16 = port.parse().map_err(|_| err(format!("`{port}` is not a port")))?;
    let stack = node(lab, step)?;
    let handles: Vec<_> = stack
        .sockets()
        .iter()
        .filter(|(_, s)| s.proto == Proto::Udp && s.local.is_some_and(|l| l.port == port))
        .map(|(h, _)| h)
        .collect();
    if handles.is_empty() {
        return Err(err(format!("no UDP socket bound to port {port}")));
    }
    let mut out = String::new();
    for h in handles {
        while let Ok(d) = stack.udp_recv_from(h) {
            let _ = writeln!(out, "from {} to {}: {:?}", d.from, d.to, String::from_utf8_lossy(&d.data));
        }
    }
    if out.is_empty() {
        out.push_str("nothing received\n");
    }
    Ok(out)
}

/// Registers every verb on a runner.
pub fn register(runner: &mut Runner<Lab>) {
    for verb in crate::control::VERBS {
        runner.register(verb, move |lab: &mut Lab, step: &Step| {
            let stack = node(lab, step)?;
            crate::control::run(stack, &step.verb, &step.args).map_err(|e| err(e.0))
        });
    }
    runner.register("udp-listen", udp_listen);
    runner.register("udp-send", udp_send);
    runner.register("udp-recv", udp_recv);
    for verb in ["ping", "ping6", "traceroute", "traceroute6"] {
        runner.register(verb, run_probe);
    }
    runner.register("sysctl", |lab: &mut Lab, step: &Step| {
        let stack = node(lab, step)?;
        let mut out = String::new();
        for a in &step.args {
            match a.split_once('=') {
                Some((n, v)) => {
                    let v: i64 = v.parse().map_err(|_| err(format!("sysctl: `{v}` is not an integer")))?;
                    let old = stack.set_sysctl(n, v).map_err(|e| err(format!("sysctl: {e}")))?;
                    let _ = writeln!(out, "{n}: {old} -> {v}");
                }
                None => {
                    for (spec, v) in stack.sysctl().list(Some(a)) {
                        let _ = writeln!(out, "{}: {v}", spec.name);
                    }
                }
            }
        }
        Ok(out)
    });
}

/// The steps `via6 lab seed` runs when none are given.
pub const SEED_STEPS: &[&str] = &[
    "h1 netstat -rn",
    "r1 netstat -rn",
    "h1 route get --explain 203.0.113.2",
    "h2 udp-listen 7",
    "h1 udp-send 203.0.113.2:7 hello-from-h1",
    "h2 udp-recv 7",
    "h1 ping -c 3 203.0.113.2",
    "h1 ping6 -c 3 2001:db8:2::1",
    "h1 traceroute 203.0.113.2",
    "h1 traceroute6 2001:db8:2::1",
    "r1 sysctl net.inet.icmp.ext_ifinfo=1",
    "h1 traceroute 203.0.113.2",
    "r1 sysctl net.inet.icmp.ext_ifinfo=0",
    "r1 ifconfig eth1 mtu 1280",
    "h1 ping -c 1 -D -s 1400 203.0.113.2",
    "h1 ping6 -c 1 -s 1400 2001:db8:2::1",
];
