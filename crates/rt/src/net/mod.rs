//! Socket APIs for programs that embed via6 (DESIGN §4): a blocking
//! `std::net`-shaped API ([`blocking`]) and a tokio one ([`tokio`]), both
//! over a [`Host`] — a running daemon node ([`crate::Node`]) or a node of a
//! lab driven on a background thread ([`lab_host::LabDriver`]).
//!
//! Addresses are `std::net::SocketAddr`; `SocketAddrV6::scope_id` is the
//! zone (the interface index), as in the core. Errors are the core's errno
//! mapped to `io::ErrorKind` (ECONNREFUSED → `ConnectionRefused`,
//! EADDRINUSE → `AddrInUse`, EADDRNOTAVAIL → `AddrNotAvailable`, ETIMEDOUT
//! → `TimedOut`, an expired read timeout → `WouldBlock`).

pub mod blocking;
pub mod daemon_host;
pub mod host;
pub mod lab_host;
mod sock;
pub mod tokio;

pub use host::{Host, Registry, StackHost};
