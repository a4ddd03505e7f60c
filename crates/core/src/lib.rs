//! via6-core: the stack itself — a deterministic state machine with no I/O and
//! no wall clock. See ARCHITECTURE.md for the module map.
#![forbid(unsafe_code)]

pub mod addr;
mod arp;
pub mod buf;
mod burst;
mod closed;
pub mod echo;
pub mod errno;
mod fastpath;
mod flowlabel;
mod frag;
mod harden;
pub mod icmp;
mod icmpv4;
mod icmpv6;
pub mod iface;
pub mod ipv4;
pub mod ipv6;
mod link;
mod nd;
pub mod neigh;
pub mod output;
pub mod rng;
pub mod route;
pub mod socket;
pub mod srcsel;
pub mod stack;
pub mod stats;
pub mod sysctl;
pub mod tcp;
#[cfg(test)]
mod test_router;
pub mod time;

pub use addr::{GatewayAddr, IfIndex, ZonedIpv6};
pub use errno::{Errno, StackError, StackResult};
pub use stack::{InterfaceConfig, Stack, TxFrame};
pub use time::Instant;
