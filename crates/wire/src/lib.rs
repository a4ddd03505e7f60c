//! via6-wire: packet formats.
//!
//! Every format is a zero-copy checked view over a byte buffer (`*Packet` /
//! `*Frame`, built by `new_checked`, whose accessors never panic) and a `*Repr`
//! that parses from a view and emits into a caller-provided buffer. No I/O, no
//! allocation on the parse path, no dependencies. See `ethernet.rs` for the
//! idiom every file follows.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod checksum;
pub mod error;
pub mod ethernet;
pub(crate) mod field;
pub mod icmp_ext;
pub mod icmpv4;
pub mod icmpv6;
pub mod ip;
pub mod mld;
pub mod ndisc;
pub mod ndisc_option;
pub mod prefix;
pub mod scoped;

pub use error::{Error, Result};
pub use ethernet::{EthernetFrame, EthernetRepr, MacAddr};
pub use icmpv4::{Icmpv4Packet, Icmpv4Repr};
pub use icmpv6::{Icmpv6Packet, Icmpv6Repr};
pub use prefix::{IpPrefix, Ipv4Prefix, Ipv6Prefix};
pub use scoped::{ScopedIpv6, Zone};
