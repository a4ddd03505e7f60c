//! `via6`: the command-line front end.
//!
//! - `via6 lab [SCENARIO | --topology FILE] [--run 'NODE VERB ...']... [--pcap DIR]`
//! - `via6 -c FILE VERB ARGS...`: a control verb (`route`, `netstat`,
//!   `ifconfig`, `ndp`, `arp`, `sysctl`, `ip`, `ip6addrctl`) on an offline node
//!   built from a config file — "what would this config do?".
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use via6_lab::lab::Lab;
use via6_lab::scenario::{self, Runner};
use via6_lab::{control, verbs};

/// Large blocks (a full table's FIB arrays) on transparent huge pages: fewer
/// TLB misses per lookup (see via6-hugealloc and BENCHMARKS.md).
#[global_allocator]
static ALLOC: via6_hugealloc::HugePageAlloc = via6_hugealloc::HugePageAlloc;

#[derive(Parser)]
#[command(
    name = "via6",
    version,
    about = "A userspace dual-stack network stack that gets IPv4 via IPv6 next hops right"
)]
struct Cli {
    /// Run control verbs on an offline node built from this config file.
    #[arg(short = 'c', long = "config", global = true)]
    config: Option<PathBuf>,
    /// Run control verbs on a running daemon (by node name or socket path).
    #[arg(short = 'N', long = "node", global = true)]
    node: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a lab topology on the virtual clock (default: the built-in `seed` scenario).
    Lab {
        /// A built-in scenario name.
        scenario: Option<String>,
        /// A topology file instead of a built-in scenario.
        #[arg(long)]
        topology: Option<PathBuf>,
        /// A step `NODE VERB ARGS...`; repeatable; replaces the scenario's default steps.
        #[arg(long = "run")]
        run: Vec<String>,
        /// Write one pcapng file per link into DIR.
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// The scenario seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Bring the node of `-c FILE` up on its TAP/TUN devices and serve its control socket.
    Up {
        /// Write one pcapng file per interface into DIR.
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// The control socket (default /run/via6/NAME.sock).
        #[arg(long)]
        control: Option<PathBuf>,
    },
    /// A control verb: route, netstat, ifconfig, ndp, arp, sysctl, ip, ip6addrctl (and ping with -N).
    #[command(external_subcommand)]
    Verb(Vec<String>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Lab { scenario, topology, run, pcap, seed } => lab(scenario, topology, run, pcap, seed),
        Command::Up { pcap, control } => up(cli.config, pcap, control),
        Command::Verb(words) => verb(cli.config, cli.node, words),
    };
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("via6: {e}");
            ExitCode::from(2)
        }
    }
}

fn verb(config: Option<PathBuf>, node: Option<String>, words: Vec<String>) -> Result<String, String> {
    let (verb, args) = words.split_first().ok_or("no verb given")?;
    let daemon_only =
        ["ping", "ping6", "traceroute", "traceroute6", "sink", "sink-stats"].contains(&verb.as_str());
    if !control::VERBS.contains(&verb.as_str()) && !daemon_only {
        return Err(format!("unknown command `{verb}` (known: lab, {})", control::VERBS.join(", ")));
    }
    match (config, node) {
        (Some(_), None) if daemon_only => {
            Err(format!("`{verb}` sends packets: it needs a running node (-N NODE)"))
        }
        (Some(path), None) => {
            let mut stack = offline_node(&path)?;
            control::run(&mut stack, verb, args).map_err(|e| e.to_string())
        }
        (None, Some(n)) => {
            let socket = if n.contains('/') { PathBuf::from(&n) } else { via6_rt::default_control_path(&n) };
            via6_rt::client::request(&socket, &words)
        }
        (Some(_), Some(_)) => Err("give either -c FILE or -N NODE, not both".into()),
        (None, None) => {
            Err(format!("`{verb}` needs a node: -c FILE (offline, from a config) or -N NODE (a daemon)"))
        }
    }
}

fn up(config: Option<PathBuf>, pcap: Option<PathBuf>, control: Option<PathBuf>) -> Result<String, String> {
    let path = config.ok_or("`up` needs -c FILE")?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cfg =
        via6_lab::config::NodeConfig::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec = cfg.validate().map_err(|e| format!("{}: {e}", path.display()))?;
    let control = control.unwrap_or_else(|| via6_rt::default_control_path(&spec.name));
    via6_rt::daemon::run_blocking(spec, via6_rt::daemon::Options { pcap, control })?;
    Ok(String::new())
}

/// Builds the node of a config file in-process, devices not attached, and
/// lets duplicate address detection finish on the virtual clock.
fn offline_node(path: &PathBuf) -> Result<via6_core::Stack, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cfg =
        via6_lab::config::NodeConfig::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec = cfg.validate().map_err(|e| format!("{}: {e}", path.display()))?;
    let built = via6_lab::node::build_stack(&spec, 1, via6_core::Instant::ZERO)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut stack = built.stack;
    for s in 0..=5 {
        stack.poll(via6_core::Instant::from_secs(s));
        while let Some(f) = stack.transmit() {
            stack.recycle(f);
        }
    }
    Ok(stack)
}

fn lab(
    scenario: Option<String>,
    topology: Option<PathBuf>,
    run: Vec<String>,
    pcap: Option<PathBuf>,
    seed: u64,
) -> Result<String, String> {
    let (text, default_steps) = match (&topology, scenario.as_deref()) {
        (Some(path), _) => {
            (std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?, Vec::new())
        }
        (None, name) => {
            let name = name.unwrap_or("seed");
            let text = scenario::builtin(name).ok_or_else(|| {
                format!("no built-in scenario `{name}` (have: {})", scenario::builtin_names().join(", "))
            })?;
            let steps = if name == "seed" {
                verbs::SEED_STEPS.iter().map(|s| s.to_string()).collect()
            } else {
                Vec::new()
            };
            (text.to_string(), steps)
        }
    };
    let mut lab = Lab::from_toml(&text, seed).map_err(|e| e.to_string())?;
    if let Some(dir) = &pcap {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        lab.set_pcap_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // Let DAD and neighbour discovery settle.
    lab.run_for(core::time::Duration::from_secs(3));
    let mut runner = Runner::new();
    verbs::register(&mut runner);
    let steps = if run.is_empty() { default_steps } else { run };
    let mut failed = None;
    for step in &steps {
        println!("### {step}");
        match runner.run_text(&mut lab, step) {
            Ok(out) => println!("{out}"),
            Err(e) => {
                println!("error: {e}\n");
                failed.get_or_insert_with(|| format!("step `{step}` failed: {e}"));
            }
        }
    }
    lab.flush_pcaps().map_err(|e| e.to_string())?;
    match failed {
        Some(e) => Err(e),
        None => Ok(String::new()),
    }
}
