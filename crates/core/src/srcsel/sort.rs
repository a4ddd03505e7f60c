//! RFC 6724 §6 destination address selection, for resolvers: order a list of
//! destinations (IPv6, IPv4 as `a.b.c.d` or `::ffff:a.b.c.d`) by the ten
//! pairwise rules, each its own function below, over what the stack knows
//! about each destination — the source it would choose, whether it is
//! reachable at all, whether the path is encapsulated.
//!
//! [`sort_destinations`] is pure (the caller supplies the facts);
//! [`Stack::sort_destinations`](crate::Stack::sort_destinations) gathers the
//! facts from the stack's routes and source selection.

use super::policy::PolicyTable;
use crate::addr::{ipv4_mapped, ipv4_scope, ipv6_scope, IfIndex, Scope};
use crate::stack::Stack;
use core::cmp::Ordering;
use core::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// The source the stack would use towards a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceFacts {
    /// The address (IPv4 may be given in either form).
    pub addr: IpAddr,
    /// The prefix length of its subnet, in its own family (`/24` for IPv4):
    /// CommonPrefixLen counts only up to it (RFC 6724 §2.2, rule 9, which is
    /// applied to IPv6 pairs only).
    pub prefix_len: u8,
    /// The address is deprecated (RFC 4862 §5.5.4).
    pub deprecated: bool,
    /// The address is a home address (RFC 6275).
    pub home: bool,
}

impl SourceFacts {
    /// A preferred, non-home source.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Self {
        SourceFacts { addr, prefix_len, deprecated: false, home: false }
    }
}

/// What the stack knows about one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DestFacts {
    /// Source(D), or `None` when it is undefined (no usable source).
    pub source: Option<SourceFacts>,
    /// The destination is known to be unreachable (no route, a reject or
    /// blackhole route, a down interface).
    pub unreachable: bool,
    /// The path to it is encapsulated (a tunnel); via6 has none, and a
    /// v4-via-v6 next hop is native forwarding, not encapsulation.
    pub encapsulated: bool,
}

/// The RFC 6724 §6 rule that ordered two destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DestRule {
    /// Rule 1: avoid unusable destinations.
    Unusable,
    /// Rule 2: prefer matching scope.
    MatchingScope,
    /// Rule 3: avoid deprecated addresses.
    Deprecated,
    /// Rule 4: prefer home addresses.
    HomeAddress,
    /// Rule 5: prefer matching label.
    MatchingLabel,
    /// Rule 6: prefer higher precedence.
    Precedence,
    /// Rule 7: prefer native transport.
    NativeTransport,
    /// Rule 8: prefer smaller scope.
    SmallerScope,
    /// Rule 9: use longest matching prefix.
    LongestMatch,
    /// Rule 10: otherwise, leave the order unchanged.
    Unchanged,
}

impl fmt::Display for DestRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DestRule::Unusable => "RFC 6724 §6 rule 1 (avoid unusable destinations)",
            DestRule::MatchingScope => "RFC 6724 §6 rule 2 (prefer matching scope)",
            DestRule::Deprecated => "RFC 6724 §6 rule 3 (avoid deprecated addresses)",
            DestRule::HomeAddress => "RFC 6724 §6 rule 4 (prefer home addresses)",
            DestRule::MatchingLabel => "RFC 6724 §6 rule 5 (prefer matching label)",
            DestRule::Precedence => "RFC 6724 §6 rule 6 (prefer higher precedence)",
            DestRule::NativeTransport => "RFC 6724 §6 rule 7 (prefer native transport)",
            DestRule::SmallerScope => "RFC 6724 §6 rule 8 (prefer smaller scope)",
            DestRule::LongestMatch => "RFC 6724 §6 rule 9 (longest matching prefix)",
            DestRule::Unchanged => "RFC 6724 §6 rule 10 (order unchanged)",
        })
    }
}

/// One destination in the sorted list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sorted {
    /// The destination, in the form the caller gave.
    pub dst: IpAddr,
    /// What was known about it.
    pub facts: DestFacts,
    /// The rule that placed it before the next destination (`None` for the
    /// last).
    pub before_next: Option<DestRule>,
}

/// A destination under comparison: the address as IPv6 (IPv4 v4-mapped, RFC
/// 6724 §2.1 "IPv4 addresses MUST be represented as IPv4-mapped") with its
/// facts.
#[derive(Debug, Clone, Copy)]
pub struct Dest {
    /// The address, IPv4 as `::ffff:a.b.c.d`.
    pub addr: Ipv6Addr,
    /// The facts.
    pub facts: DestFacts,
}

impl Dest {
    /// From either form.
    pub fn new(addr: IpAddr, facts: DestFacts) -> Self {
        Dest { addr: as_v6(addr), facts }
    }

    fn source(&self) -> Option<Ipv6Addr> {
        self.facts.source.map(|s| as_v6(s.addr))
    }
}

/// An address as IPv6, IPv4 v4-mapped (RFC 6724 §2.1).
pub fn as_v6(a: IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// The RFC 6724 §3.1/§3.2 scope of an address given as IPv6 (v4-mapped
/// addresses take their IPv4 scope).
fn scope(a: &Ipv6Addr) -> Scope {
    match ipv4_mapped(a) {
        Some(v4) => ipv4_scope(&v4),
        None => ipv6_scope(a),
    }
}

fn is_v4(a: &Ipv6Addr) -> bool {
    ipv4_mapped(a).is_some()
}

/// A pairwise rule: `Greater` when the first destination is preferred.
pub type DestRuleFn = fn(&Dest, &Dest, &PolicyTable) -> Ordering;

/// RFC 6724 §6 rule 1: avoid unusable destinations — if DB is known to be
/// unreachable or Source(DB) is undefined, prefer DA (and symmetrically).
pub fn rule1_unusable(a: &Dest, b: &Dest, _: &PolicyTable) -> Ordering {
    let usable = |d: &Dest| !d.facts.unreachable && d.facts.source.is_some();
    usable(a).cmp(&usable(b))
}

/// RFC 6724 §6 rule 2: prefer matching scope — Scope(DA) = Scope(Source(DA))
/// and Scope(DB) <> Scope(Source(DB)): prefer DA.
pub fn rule2_matching_scope(a: &Dest, b: &Dest, _: &PolicyTable) -> Ordering {
    let matching = |d: &Dest| d.source().is_some_and(|s| scope(&s) == scope(&d.addr));
    matching(a).cmp(&matching(b))
}

/// RFC 6724 §6 rule 3: avoid deprecated addresses — Source(DA) deprecated
/// and Source(DB) not: prefer DB.
pub fn rule3_deprecated(a: &Dest, b: &Dest, _: &PolicyTable) -> Ordering {
    let fresh = |d: &Dest| d.facts.source.is_some_and(|s| !s.deprecated);
    fresh(a).cmp(&fresh(b))
}

/// RFC 6724 §6 rule 4: prefer home addresses — Source(DA) a home address and
/// Source(DB) not: prefer DA.
pub fn rule4_home(a: &Dest, b: &Dest, _: &PolicyTable) -> Ordering {
    let home = |d: &Dest| d.facts.source.is_some_and(|s| s.home);
    home(a).cmp(&home(b))
}

/// RFC 6724 §6 rule 5: prefer matching label — Label(Source(DA)) = Label(DA)
/// and Label(Source(DB)) <> Label(DB): prefer DA.
pub fn rule5_matching_label(a: &Dest, b: &Dest, p: &PolicyTable) -> Ordering {
    let matching = |d: &Dest| d.source().is_some_and(|s| p.label(&s) == p.label(&d.addr));
    matching(a).cmp(&matching(b))
}

/// RFC 6724 §6 rule 6: prefer higher precedence (the §2.1 policy table).
pub fn rule6_precedence(a: &Dest, b: &Dest, p: &PolicyTable) -> Ordering {
    p.precedence(&a.addr).cmp(&p.precedence(&b.addr))
}

/// RFC 6724 §6 rule 7: prefer native transport — DA reached through an
/// encapsulating transition mechanism and DB not: prefer DB.
pub fn rule7_native(a: &Dest, b: &Dest, _: &PolicyTable) -> Ordering {
    (!a.facts.encapsulated).cmp(&!b.facts.encapsulated)
}

/// RFC 6724 §6 rule 8: prefer smaller scope.
pub fn rule8_smaller_scope(a: &Dest, b: &Dest, _: &PolicyTable) -> Ordering {
    scope(&b.addr).cmp(&scope(&a.addr))
}

/// RFC 6724 §6 rule 9: use longest matching prefix — CommonPrefixLen(
/// Source(DA), DA) counted up to the source's prefix length (§2.2). Applied
/// to IPv6 pairs only: the RFC lets an implementation supersede this rule,
/// and on IPv4 it orders by the accident of numbering (Go's resolver limits
/// it to IPv6 for that reason).
pub fn rule9_longest_match(a: &Dest, b: &Dest, _: &PolicyTable) -> Ordering {
    if is_v4(&a.addr) || is_v4(&b.addr) {
        return Ordering::Equal;
    }
    let cpl = |d: &Dest| {
        d.facts.source.map(|s| super::v6::common_prefix_len(&as_v6(s.addr), &d.addr).min(s.prefix_len))
    };
    match (cpl(a), cpl(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => Ordering::Equal,
    }
}

/// The rules in order; rule 10 is the stability of the sort.
pub const DEST_RULES: &[(DestRule, DestRuleFn)] = &[
    (DestRule::Unusable, rule1_unusable),
    (DestRule::MatchingScope, rule2_matching_scope),
    (DestRule::Deprecated, rule3_deprecated),
    (DestRule::HomeAddress, rule4_home),
    (DestRule::MatchingLabel, rule5_matching_label),
    (DestRule::Precedence, rule6_precedence),
    (DestRule::NativeTransport, rule7_native),
    (DestRule::SmallerScope, rule8_smaller_scope),
    (DestRule::LongestMatch, rule9_longest_match),
];

/// Compares two destinations rule by rule: `(Greater, rule)` when `a` is
/// preferred; `(Equal, Unchanged)` when no rule separates them (rule 10).
pub fn compare_destinations(a: &Dest, b: &Dest, policy: &PolicyTable) -> (Ordering, DestRule) {
    for (rule, f) in DEST_RULES {
        let o = f(a, b, policy);
        if o != Ordering::Equal {
            return (o, *rule);
        }
    }
    (Ordering::Equal, DestRule::Unchanged)
}

/// Sorts destinations by RFC 6724 §6; `facts` says what the stack knows about
/// each. Stable: destinations no rule separates keep their order (rule 10).
pub fn sort_destinations<F>(dsts: &[IpAddr], policy: &PolicyTable, mut facts: F) -> Vec<Sorted>
where
    F: FnMut(&IpAddr) -> DestFacts,
{
    sort_with_facts(dsts.iter().map(|d| (*d, facts(d))).collect(), policy)
}

/// [`sort_destinations`] over destinations paired with their facts. An
/// insertion sort: the pairwise rules need not form a total order across
/// families (rule 9 skips IPv4), which `slice::sort_by` may reject.
pub fn sort_with_facts(dsts: Vec<(IpAddr, DestFacts)>, policy: &PolicyTable) -> Vec<Sorted> {
    let mut v: Vec<(IpAddr, Dest)> = dsts.into_iter().map(|(d, f)| (d, Dest::new(d, f))).collect();
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && compare_destinations(&v[j].1, &v[j - 1].1, policy).0 == Ordering::Greater {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
    let rules: Vec<Option<DestRule>> = (0..v.len())
        .map(|i| v.get(i + 1).map(|next| compare_destinations(&v[i].1, &next.1, policy).1))
        .collect();
    v.into_iter()
        .zip(rules)
        .map(|((dst, d), before_next)| Sorted { dst, facts: d.facts, before_next })
        .collect()
}

impl Stack {
    /// What the stack knows about a destination for RFC 6724 §6: the source
    /// it would choose (with that address's prefix length and flags), and
    /// whether it is unreachable (no route, reject/blackhole, interface
    /// down). IPv4 may be given v4-mapped; `zone` is for link-local IPv6.
    pub fn destination_facts(&self, dst: IpAddr, zone: Option<IfIndex>) -> DestFacts {
        let dst = unmap(dst);
        let Ok(lookup) = self.route_lookup(dst, zone) else {
            return DestFacts { source: None, unreachable: true, encapsulated: false };
        };
        let source = self.select_source(dst, &lookup).ok().map(|d| {
            let entry = self.ifaces.iter().flat_map(|i| i.addrs.iter()).find(|a| a.addr == d.addr);
            let max = if d.addr.is_ipv4() { 32 } else { 128 };
            SourceFacts {
                addr: d.addr,
                prefix_len: entry.map_or(max, |e| e.prefix_len),
                deprecated: entry.is_some_and(|e| e.flags.deprecated),
                home: entry.is_some_and(|e| e.flags.home),
            }
        });
        DestFacts { source, unreachable: false, encapsulated: false }
    }

    /// RFC 6724 §6 over this stack's routes, sources and policy table (see
    /// [`sort_destinations`]). Each destination may carry a zone.
    pub fn sort_destinations(&self, dsts: &[(IpAddr, Option<IfIndex>)]) -> Vec<Sorted> {
        let facts = dsts.iter().map(|(d, zone)| (*d, self.destination_facts(*d, *zone))).collect();
        sort_with_facts(facts, &self.policy)
    }
}

/// IPv4 as `Ipv4Addr` when the address is v4-mapped.
pub fn unmap(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => ipv4_mapped(&v6).map_or(a, IpAddr::V4),
        v4 => v4,
    }
}
