//! The `--run` step verbs: every control verb of [`crate::control`] on the
//! named node, plus the verbs that need the lab's clock — `ping`,
//! `traceroute`, `udp-listen` / `udp-send` / `udp-recv`, `ifconfig IF mtu N`.

use crate::lab::Lab;
use crate::scenario::{Runner, Step, StepError};
use core::time::Duration;
use std::fmt::Write as _;
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

/// `udp-send`: the control verb sends; the lab then runs 100 ms so the
/// answer (or an ICMP error) arrives before the next step.
fn udp_send(lab: &mut Lab, step: &Step) -> Result<String, StepError> {
    let stack = node(lab, step)?;
    let out = crate::control::run(stack, "udp-send", &step.args).map_err(|e| err(e.0))?;
    lab.run_for(Duration::from_millis(100));
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
    runner.register("udp-send", udp_send);
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
