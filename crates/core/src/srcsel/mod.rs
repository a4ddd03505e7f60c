//! Source address selection: pure functions over the interface table, one rule
//! at a time (in the manner of FreeBSD `in6_src.c`), each decision returning
//! the address *and* the rule that decided, plus why every other candidate
//! lost — so `route get --explain` can print it.
//!
//! - [`v4::select_originated`]: IPv4, locally originated (DESIGN §3).
//! - [`v4::select_icmp_error`]: the source of an ICMPv4 error, ending in
//!   192.0.0.8 (RFC 7600 R-22, draft-ietf-intarea-v4-via-v6 §4).
//! - [`v6::select`]: IPv6, RFC 6724 §5 rules 1–8 with the §2.1 policy table.
//! - [`sort::sort_destinations`]: RFC 6724 §6 destination ordering (rules
//!   1–10) for resolvers, over the sources the stack would choose.
//! - [`policy`]: the §2.1 policy table with `ip6addrctl` semantics.

pub mod policy;
pub mod sort;
pub mod v4;
pub mod v6;

use crate::addr::IfIndex;
use core::fmt;
use std::net::IpAddr;

/// The rule that picked a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The socket was bound / the caller gave a source.
    Bound,
    /// The route's `src` hint (Linux `src`, DESIGN §3 IPv4 rule 1).
    RouteSrc,
    /// The destination is one of our own addresses: it is also the source
    /// (traffic to ourselves over loopback, as FreeBSD and Linux do).
    LocalDestination,
    /// ICMP error: the address the offending packet was sent to (DESIGN §3
    /// ICMPv4 rule 1; RFC 1812 §4.3.2.4).
    OffendingDestination,
    /// IPv4: an address on the egress interface whose subnet holds the next
    /// hop or destination (rule 2a).
    EgressSameSubnet,
    /// IPv4: another address on the egress interface (rule 2b).
    Egress,
    /// IPv4: an address on a loopback interface, the router-id (rule 3).
    Loopback,
    /// IPv4: any other global address of the node (rule 4).
    AnyGlobal,
    /// IPv4 ICMP error: the dummy address 192.0.0.8 (RFC 7600 R-22).
    Dummy,
    /// IPv6: the only candidate left.
    OnlyCandidate,
    /// RFC 6724 §5 rule 1: prefer same address.
    Rfc6724SameAddress,
    /// RFC 6724 §5 rule 2: prefer appropriate scope.
    Rfc6724Scope,
    /// RFC 6724 §5 rule 3: avoid deprecated addresses.
    Rfc6724Deprecated,
    /// RFC 6724 §5 rule 4: prefer home addresses.
    Rfc6724HomeAddress,
    /// RFC 6724 §5 rule 5: prefer the outgoing interface.
    Rfc6724OutgoingInterface,
    /// RFC 6724 §5 rule 5.5: prefer addresses in a prefix advertised by the
    /// next hop.
    Rfc6724NextHopPrefix,
    /// RFC 6724 §5 rule 6: prefer matching label.
    Rfc6724Label,
    /// RFC 6724 §5 rule 7: prefer temporary (or public) addresses.
    Rfc6724Temporary,
    /// FreeBSD `prefer_source` flag.
    PreferSource,
    /// RFC 6724 §5 rule 8: use longest matching prefix.
    Rfc6724LongestMatch,
    /// No rule separates the candidates: the first in stable order.
    StableOrder,
}

impl Rule {
    /// A short machine name (JSON `source_rule`).
    pub fn id(&self) -> &'static str {
        match self {
            Rule::Bound => "bound",
            Rule::RouteSrc => "route-src",
            Rule::LocalDestination => "local-destination",
            Rule::OffendingDestination => "offending-destination",
            Rule::EgressSameSubnet => "egress-same-subnet",
            Rule::Egress => "egress-interface",
            Rule::Loopback => "loopback",
            Rule::AnyGlobal => "any-global",
            Rule::Dummy => "dummy-192.0.0.8",
            Rule::OnlyCandidate => "only-candidate",
            Rule::Rfc6724SameAddress => "rfc6724-rule1-same-address",
            Rule::Rfc6724Scope => "rfc6724-rule2-scope",
            Rule::Rfc6724Deprecated => "rfc6724-rule3-deprecated",
            Rule::Rfc6724HomeAddress => "rfc6724-rule4-home-address",
            Rule::Rfc6724OutgoingInterface => "rfc6724-rule5-outgoing-interface",
            Rule::Rfc6724NextHopPrefix => "rfc6724-rule5.5-next-hop-prefix",
            Rule::Rfc6724Label => "rfc6724-rule6-label",
            Rule::Rfc6724Temporary => "rfc6724-rule7-temporary",
            Rule::PreferSource => "prefer-source",
            Rule::Rfc6724LongestMatch => "rfc6724-rule8-longest-match",
            Rule::StableOrder => "stable-order",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Rule::Bound => "the socket's bound address",
            Rule::RouteSrc => "the route's src hint",
            Rule::LocalDestination => "the destination itself (a local address)",
            Rule::OffendingDestination => "the address the offending packet was sent to",
            Rule::EgressSameSubnet => "an address of the egress interface in the next hop's subnet",
            Rule::Egress => "an address of the egress interface",
            Rule::Loopback => "a loopback address (router-id)",
            Rule::AnyGlobal => "another global address of the node",
            Rule::Dummy => "the IPv4 dummy address (RFC 7600): the node has no usable IPv4 address",
            Rule::OnlyCandidate => "the only candidate",
            Rule::Rfc6724SameAddress => "RFC 6724 rule 1 (same address)",
            Rule::Rfc6724Scope => "RFC 6724 rule 2 (appropriate scope)",
            Rule::Rfc6724Deprecated => "RFC 6724 rule 3 (avoid deprecated)",
            Rule::Rfc6724HomeAddress => "RFC 6724 rule 4 (home address)",
            Rule::Rfc6724OutgoingInterface => "RFC 6724 rule 5 (outgoing interface)",
            Rule::Rfc6724NextHopPrefix => "RFC 6724 rule 5.5 (prefix of the next hop)",
            Rule::Rfc6724Label => "RFC 6724 rule 6 (matching label)",
            Rule::Rfc6724Temporary => "RFC 6724 rule 7 (temporary addresses)",
            Rule::PreferSource => "the prefer_source flag",
            Rule::Rfc6724LongestMatch => "RFC 6724 rule 8 (longest matching prefix)",
            Rule::StableOrder => "stable order (no rule separates them)",
        };
        f.write_str(s)
    }
}

/// One candidate's fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The candidate.
    pub addr: IpAddr,
    /// Its interface.
    pub ifindex: IfIndex,
    /// `None` for the winner; otherwise why it lost.
    pub lost: Option<String>,
}

/// A source decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<A> {
    /// The chosen source.
    pub addr: A,
    /// The rule that decided.
    pub rule: Rule,
    /// Every candidate considered and its fate.
    pub verdicts: Vec<Verdict>,
}

/// No source exists: why, for the EADDRNOTAVAIL message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoSource {
    /// The sentence.
    pub reason: String,
    /// Every candidate considered and why it was refused.
    pub verdicts: Vec<Verdict>,
}
