//! via6-rt: the real world. A monotonic clock, TAP/TUN devices (through
//! tun-rs), the daemon's event loop on tokio (edges only), pcapng captures,
//! the control socket (line-delimited JSON) with its client, and the socket
//! APIs for embedders ([`net`]: blocking `std::net`-shaped and tokio-shaped,
//! on a daemon [`Node`] or a lab node).
//!
//! This crate has no `unsafe` of its own: the device ioctls live in tun-rs.
#![forbid(unsafe_code)]

pub mod client;
pub mod clock;
pub mod control;
pub mod daemon;
pub mod device;
pub mod dns;
pub mod net;
pub mod sink;
pub mod socks;
pub mod socks_server;

pub use net::daemon_host::{Node, NodeOptions};

/// Writes one line to standard error, ignoring failure: `eprintln!` panics
/// when stderr is a closed pipe (`via6 up ... 2>&1 | head -1`), and a log
/// line must never stop the daemon.
#[macro_export]
macro_rules! log_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// The default control socket of a node: `/run/via6/NAME.sock`.
pub fn default_control_path(node: &str) -> std::path::PathBuf {
    std::path::Path::new("/run/via6").join(format!("{node}.sock"))
}
