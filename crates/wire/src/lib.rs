//! via6-wire: packet formats.
//!
//! Every format is a zero-copy checked view over a byte buffer (`*Packet` /
//! `*Frame`, built by `new_checked`, whose accessors never panic) and a `*Repr`
//! that parses from a view and emits into a caller-provided buffer. No I/O, no
//! allocation on the parse path, no dependencies. See `ethernet.rs` for the
//! idiom every file follows.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod arp;
pub mod checksum;
pub mod error;
pub mod ethernet;
pub(crate) mod field;
pub mod icmp_ext;
mod icmp_header;
pub mod icmpv4;
pub mod icmpv6;
pub mod ip;
pub mod ipv4;
pub mod ipv4_option;
pub mod ipv6;
pub mod ipv6_chain;
pub mod ipv6_ext;
pub mod ipv6_fragment;
pub mod ipv6_option;
pub mod ipv6_routing;
pub mod mld;
pub mod ndisc;
pub mod ndisc_option;
pub mod prefix;
pub mod scoped;
pub mod tcp;
pub mod tcp_option;
pub mod udp;

pub use arp::{ArpOperation, ArpPacket, ArpRepr};
pub use error::{Error, Result};
pub use ethernet::{EthernetFrame, EthernetRepr, MacAddr};
pub use icmpv4::{Icmpv4Packet, Icmpv4Repr};
pub use icmpv6::{Icmpv6Packet, Icmpv6Repr};
pub use ipv4::{Ipv4Packet, Ipv4Repr};
pub use ipv4_option::{Ipv4Option, Ipv4OptionIter};
pub use ipv6::{Ipv6Packet, Ipv6Repr};
pub use ipv6_chain::{ChainEntry, ExtHeader, ExtHeaderKind, Ipv6ExtChain, UpperLayer};
pub use prefix::{IpPrefix, Ipv4Prefix, Ipv6Prefix};
pub use scoped::{ScopedIpv6, Zone};
pub use tcp::{TcpFlags, TcpPacket, TcpRepr};
pub use tcp_option::{TcpOption, TcpOptions};
pub use udp::{UdpPacket, UdpRepr};
