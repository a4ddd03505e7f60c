//! via6-lab: the simulated world. Whole topologies of via6 stacks run in one
//! process on a virtual clock, joined by links with MTU, delay, loss,
//! duplication, reordering and corruption; every link can be captured to
//! pcapng. Deterministic from a seed: same seed, same run, same bytes.
//!
//! No I/O except writing pcap files and reading topology files; no wall clock.
#![forbid(unsafe_code)]

pub mod clock;
pub mod config;
pub mod control;
pub mod foreign;
pub mod json;
pub mod lab;
pub mod link;
pub mod node;
pub mod pcapng;
pub mod probe;
pub mod scenario;
pub mod sched;
pub mod topology;
pub mod verbs;

pub use clock::Clock;
pub use config::{ConfigError, NodeConfig, NodeSpec};
pub use foreign::ForeignPort;
pub use lab::{Lab, LabNode, LabStats};
pub use link::{Endpoint, Link, LinkParams, LinkStats, Side};
pub use node::{build_stack, derive_mac, BuiltNode};
pub use pcapng::PcapngWriter;
pub use scenario::{Runner, Step, StepError, StepTarget};
pub use sched::Scheduler;
pub use topology::{LinkSpec, Topology};
