//! via6-core: the stack itself — a deterministic state machine with no I/O and
//! no wall clock. See ARCHITECTURE.md for the module map.
#![forbid(unsafe_code)]

pub mod addr;
pub mod buf;
pub mod echo;
pub mod errno;
pub mod icmp;
pub mod iface;
pub mod neigh;
pub mod rng;
pub mod route;
pub mod stack;
pub mod stats;
pub mod sysctl;
pub mod time;

pub use addr::{GatewayAddr, IfIndex, ZonedIpv6};
pub use errno::{Errno, StackError, StackResult};
pub use stack::{InterfaceConfig, Stack, TxFrame};
pub use time::Instant;
