//! `via6`: the command-line front end. Today: `via6 lab` runs a topology on
//! the virtual clock and executes `--run` steps on its nodes.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use via6_lab::lab::Lab;
use via6_lab::scenario::{self, Runner};
use via6_lab::verbs;

#[derive(Parser)]
#[command(
    name = "via6",
    version,
    about = "A userspace dual-stack network stack that gets IPv4 via IPv6 next hops right"
)]
struct Cli {
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Lab { scenario, topology, run, pcap, seed } => {
            match lab(scenario, topology, run, pcap, seed) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("via6: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

fn lab(
    scenario: Option<String>,
    topology: Option<PathBuf>,
    run: Vec<String>,
    pcap: Option<PathBuf>,
    seed: u64,
) -> Result<(), String> {
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
        None => Ok(()),
    }
}
