//! Built-in scenarios (topology files shipped in the binary) and the `--run`
//! step runner (DESIGN §6).
//!
//! A step is `NODE VERB ARGS...` (or `VERB ARGS...` for verbs that need no
//! node, such as `wait`). Verbs are handlers registered by name on a
//! [`Runner`]; the runner only knows `wait SECONDS` itself, and the owners of
//! other features (ping, route get, netstat, sink, transfer, ...) register
//! theirs with [`Runner::register`].

use core::time::Duration;
use std::collections::BTreeMap;
use std::fmt;
use via6_core::time::Instant;

/// The seed report's topology: h1 — r1 (no IPv4) — h2, IPv4 via IPv6 next hops.
pub const SEED: &str = include_str!("../scenarios/seed.toml");

const BUILTINS: &[(&str, &str)] = &[
    ("seed", SEED),
    ("lan", include_str!("../scenarios/lan.toml")),
    ("slaac", include_str!("../scenarios/slaac.toml")),
];

/// The topology text of a built-in scenario.
pub fn builtin(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The names of the built-in scenarios.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(n, _)| *n).collect()
}

/// Why a step failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError(pub String);

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StepError {}

/// What the runner needs from the world it drives (the [`Lab`](crate::lab::Lab)
/// in practice; a fake in tests).
pub trait StepTarget {
    /// Whether `name` is a node.
    fn has_node(&self, name: &str) -> bool;
    /// The node names, for messages.
    fn node_names(&self) -> Vec<String>;
    /// Runs the world for `d` of virtual time.
    fn advance(&mut self, d: Duration);
    /// The current virtual time.
    fn now(&self) -> Instant;
}

/// One parsed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The step as written.
    pub text: String,
    /// The node it runs on, if it names one.
    pub node: Option<String>,
    /// The verb.
    pub verb: String,
    /// The arguments after the verb.
    pub args: Vec<String>,
}

impl Step {
    /// The node, or an error saying the verb needs one.
    pub fn require_node(&self) -> Result<&str, StepError> {
        self.node.as_deref().ok_or_else(|| {
            StepError(format!(
                "{:?}: `{}` runs on a node: write NODE {} ...",
                self.text, self.verb, self.verb
            ))
        })
    }
}

/// Splits a step into words: whitespace separates, single or double quotes
/// group (no escapes inside single quotes; `\` escapes in double quotes).
pub fn split_words(text: &str) -> Result<Vec<String>, StepError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(StepError(format!("{text:?}: unterminated ' quote"))),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => cur.push(c),
                            None => return Err(StepError(format!("{text:?}: unterminated \" quote"))),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(StepError(format!("{text:?}: unterminated \" quote"))),
                    }
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// A verb handler. Closures `FnMut(&mut T, &Step) -> Result<String, StepError>`
/// are handlers; the returned text is the step's output.
pub trait Verb<T> {
    /// Runs the step.
    fn run(&mut self, target: &mut T, step: &Step) -> Result<String, StepError>;
}

impl<T, F> Verb<T> for F
where
    F: FnMut(&mut T, &Step) -> Result<String, StepError>,
{
    fn run(&mut self, target: &mut T, step: &Step) -> Result<String, StepError> {
        self(target, step)
    }
}

/// Parses a duration: `2`, `0.5`, `2s`, `500ms`, `10us`.
pub fn parse_duration(s: &str) -> Result<Duration, StepError> {
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.parse().map_err(|_| {
        StepError(format!("{s:?} is not a duration: use seconds such as 2, 0.5, 2s or 500ms"))
    })?;
    let secs = v * scale;
    if !secs.is_finite() || !(0.0..=1e7).contains(&secs) {
        return Err(StepError(format!("{s:?} is out of range: use 0 to 10000000 seconds")));
    }
    Ok(Duration::from_nanos((secs * 1e9).round() as u64))
}

fn wait<T: StepTarget>(target: &mut T, step: &Step) -> Result<String, StepError> {
    let [arg] = step.args.as_slice() else {
        return Err(StepError(format!("{:?}: usage: wait SECONDS", step.text)));
    };
    let d = parse_duration(arg)?;
    target.advance(d);
    Ok(String::new())
}

/// Runs steps against a target, dispatching verbs to registered handlers.
pub struct Runner<T> {
    verbs: BTreeMap<String, Box<dyn Verb<T>>>,
}

impl<T: StepTarget + 'static> Default for Runner<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: StepTarget + 'static> Runner<T> {
    /// A runner that knows `wait SECONDS`.
    pub fn new() -> Self {
        let mut r = Runner { verbs: BTreeMap::new() };
        r.register("wait", wait::<T>);
        r
    }

    /// Registers (or replaces) the handler of `verb`.
    pub fn register(&mut self, verb: &str, handler: impl Verb<T> + 'static) {
        self.verbs.insert(verb.to_string(), Box::new(handler));
    }

    /// The registered verbs, in name order.
    pub fn verbs(&self) -> Vec<&str> {
        self.verbs.keys().map(String::as_str).collect()
    }

    /// Parses `text` against `target`'s node names and the known verbs.
    pub fn parse(&self, target: &T, text: &str) -> Result<Step, StepError> {
        let words = split_words(text)?;
        let Some(first) = words.first() else {
            return Err(StepError("empty step: write NODE VERB ARGS...".into()));
        };
        let (node, rest) = if target.has_node(first) {
            (Some(first.clone()), &words[1..])
        } else if self.verbs.contains_key(first) {
            (None, &words[..])
        } else {
            return Err(StepError(format!(
                "{text:?}: {first:?} is neither a node (nodes: {}) nor a verb that needs none",
                target.node_names().join(", ")
            )));
        };
        let Some(verb) = rest.first() else {
            return Err(StepError(format!(
                "{text:?}: a verb must follow the node (known: {})",
                self.verbs().join(", ")
            )));
        };
        Ok(Step { text: text.to_string(), node, verb: verb.clone(), args: rest[1..].to_vec() })
    }

    /// Runs a parsed step.
    pub fn run(&mut self, target: &mut T, step: &Step) -> Result<String, StepError> {
        let known = self.verbs().join(", ");
        let handler = self.verbs.get_mut(&step.verb).ok_or_else(|| {
            StepError(format!("{:?}: unknown verb {:?} (known: {known})", step.text, step.verb))
        })?;
        handler.run(target, step)
    }

    /// Parses and runs one step.
    pub fn run_text(&mut self, target: &mut T, text: &str) -> Result<String, StepError> {
        let step = self.parse(target, text)?;
        self.run(target, &step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Topology;

    struct Fake {
        now: Instant,
        nodes: Vec<String>,
        log: Vec<String>,
    }

    impl StepTarget for Fake {
        fn has_node(&self, name: &str) -> bool {
            self.nodes.iter().any(|n| n == name)
        }
        fn node_names(&self) -> Vec<String> {
            self.nodes.clone()
        }
        fn advance(&mut self, d: Duration) {
            self.now += d;
        }
        fn now(&self) -> Instant {
            self.now
        }
    }

    fn fake() -> Fake {
        Fake { now: Instant::ZERO, nodes: vec!["h1".into(), "r1".into()], log: Vec::new() }
    }

    #[test]
    fn seed_scenario_is_a_valid_topology() {
        assert_eq!(builtin_names(), ["seed", "lan", "slaac"]);
        let t = Topology::parse(builtin("seed").unwrap()).unwrap();
        let names: Vec<_> = t.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["h1", "r1", "h2"]);
        let r1 = &t.nodes[1];
        assert!(r1.interfaces.iter().all(|i| i.addresses.iter().all(|(a, _)| a.is_ipv6())), "r1 has no IPv4");
        assert_eq!(r1.routes.len(), 4);
        assert_eq!(t.links.len(), 2);
        assert!(builtin("nope").is_none());
    }

    #[test]
    fn words() {
        assert_eq!(
            split_words("  h1  ping -c 3 '203.0.113.2' ").unwrap(),
            ["h1", "ping", "-c", "3", "203.0.113.2"]
        );
        assert_eq!(split_words(r#"h1 say "a \"b\" c" ''"#).unwrap(), ["h1", "say", "a \"b\" c", ""]);
        assert!(split_words("h1 'x").is_err());
    }

    #[test]
    fn wait_advances_the_clock() {
        let mut f = fake();
        let mut r = Runner::new();
        assert_eq!(r.run_text(&mut f, "wait 2").unwrap(), "");
        r.run_text(&mut f, "h1 wait 500ms").unwrap();
        assert_eq!(f.now, Instant::from_millis(2500));
        assert!(r.run_text(&mut f, "wait").unwrap_err().0.contains("usage: wait SECONDS"));
        assert!(r.run_text(&mut f, "wait -1").is_err());
        assert!(r.run_text(&mut f, "wait soon").unwrap_err().0.contains("is not a duration"));
    }

    #[test]
    fn unknown_verbs_and_nodes() {
        let mut f = fake();
        let mut r = Runner::new();
        let e = r.run_text(&mut f, "h1 ping 203.0.113.2").unwrap_err();
        assert_eq!(e.0, "\"h1 ping 203.0.113.2\": unknown verb \"ping\" (known: wait)");
        let e = r.run_text(&mut f, "h9 ping x").unwrap_err();
        assert!(e.0.contains("\"h9\" is neither a node (nodes: h1, r1)"), "{e}");
        assert!(r.run_text(&mut f, "").is_err());
        assert!(r.run_text(&mut f, "h1").unwrap_err().0.contains("a verb must follow"));
    }

    #[test]
    fn registered_verbs_run() {
        let mut f = fake();
        let mut r: Runner<Fake> = Runner::new();
        r.register("ping", |t: &mut Fake, s: &Step| {
            let node = s.require_node()?;
            t.log.push(format!("{node} pings {}", s.args.join(" ")));
            Ok("3 packets transmitted".to_string())
        });
        assert_eq!(r.verbs(), ["ping", "wait"]);
        assert_eq!(r.run_text(&mut f, "r1 ping -c 3 h2").unwrap(), "3 packets transmitted");
        assert_eq!(f.log, ["r1 pings -c 3 h2"]);
        // `ping` is a verb, so a node-less step parses, and the handler refuses it.
        assert!(r.run_text(&mut f, "ping x").unwrap_err().0.contains("runs on a node"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("0.25s").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("10us").unwrap(), Duration::from_micros(10));
        assert!(parse_duration("inf").is_err());
        assert!(parse_duration("NaN").is_err());
    }
}
