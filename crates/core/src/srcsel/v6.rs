//! IPv6 source selection: RFC 6724 §4 candidate set and §5 rules, each rule a
//! function comparing two candidates, applied in order to a running best (as
//! FreeBSD `in6_selectsrc` does).

use super::policy::PolicyTable;
use super::{Decision, NoSource, Rule, Verdict};
use crate::addr::{ipv6_scope, IfIndex, Scope};
use crate::iface::{IfAddr, Interface};
use core::cmp::Ordering;
use std::net::{IpAddr, Ipv6Addr};

/// Options from sysctls.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `ip6.use_deprecated`: deprecated addresses stay candidates.
    pub use_deprecated: bool,
    /// `ip6.prefer_tempaddr`: rule 7 prefers temporary addresses.
    pub prefer_temporary: bool,
    /// `ip6.prefer_nexthop_source`: apply rule 5.5.
    pub rule_5_5: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { use_deprecated: true, prefer_temporary: false, rule_5_5: false }
    }
}

/// A candidate source.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The address.
    pub addr: Ipv6Addr,
    /// Its interface.
    pub ifindex: IfIndex,
    /// Its entry (flags, prefix length).
    pub entry: &'a IfAddr,
}

/// What the route says.
#[derive(Debug, Clone, Copy)]
pub struct RouteView {
    /// The route's `src` hint.
    pub src: Option<Ipv6Addr>,
    /// The egress interface.
    pub ifindex: IfIndex,
    /// The next hop, for rule 5.5.
    pub next_hop: Option<Ipv6Addr>,
}

/// The length of the common prefix of two addresses (RFC 6724 §2.2).
pub fn common_prefix_len(a: &Ipv6Addr, b: &Ipv6Addr) -> u8 {
    (a.to_bits() ^ b.to_bits()).leading_zeros() as u8
}

/// RFC 6724 §4: the candidate set. For a destination of link-local or
/// smaller scope only the outgoing interface's addresses; otherwise all, but
/// never a link-local address of another link (its zone differs from the
/// destination's). Tentative, duplicated, anycast and detached addresses are
/// never candidates; deprecated ones only with `use_deprecated`.
pub fn candidates<'a>(
    ifaces: &'a [Interface],
    dst: &Ipv6Addr,
    egress: IfIndex,
    opts: &Options,
) -> (Vec<Candidate<'a>>, Vec<Verdict>) {
    let dst_scope = ipv6_scope(dst);
    let mut out = Vec::new();
    let mut refused = Vec::new();
    for iface in ifaces {
        for e in &iface.addrs {
            let IpAddr::V6(a) = e.addr else { continue };
            let refuse =
                |why: &str| Verdict { addr: e.addr, ifindex: iface.index, lost: Some(why.to_string()) };
            let scope = ipv6_scope(&a);
            if e.flags.tentative {
                refused.push(refuse("tentative (DAD in progress)"));
            } else if e.flags.duplicated {
                refused.push(refuse("duplicated (DAD failed)"));
            } else if e.flags.anycast {
                refused.push(refuse("anycast"));
            } else if e.flags.detached {
                refused.push(refuse("detached"));
            } else if e.flags.deprecated && !opts.use_deprecated {
                refused.push(refuse("deprecated and net.inet6.ip6.use_deprecated=0"));
            } else if iface.index != egress && (dst_scope <= Scope::LinkLocal || scope <= Scope::LinkLocal) {
                refused.push(refuse("scoped to another link than the outgoing interface"));
            } else {
                out.push(Candidate { addr: a, ifindex: iface.index, entry: e });
            }
        }
    }
    (out, refused)
}

/// A pairwise rule: `Greater` when the first candidate is preferred.
pub type RuleFn = fn(&Candidate<'_>, &Candidate<'_>, &Ctx<'_>) -> Ordering;

/// Context shared by the rules.
pub struct Ctx<'a> {
    /// The destination.
    pub dst: Ipv6Addr,
    /// The route.
    pub route: RouteView,
    /// The policy table.
    pub policy: &'a PolicyTable,
    /// Options.
    pub opts: Options,
    /// For rule 5.5: whether a candidate's prefix was advertised by the next hop.
    pub advertised_by_next_hop: &'a dyn Fn(&Candidate<'_>) -> bool,
}

/// RFC 6724 §5 rule 1: prefer same address — if SA = D, prefer SA.
/// `Greater` means `a` is preferred (for every rule below).
pub fn rule1_same_address(a: &Candidate<'_>, b: &Candidate<'_>, c: &Ctx<'_>) -> Ordering {
    (a.addr == c.dst).cmp(&(b.addr == c.dst))
}

/// RFC 6724 §5 rule 2: prefer appropriate scope — if Scope(SA) < Scope(SB),
/// prefer SB when Scope(SA) < Scope(D), else SA; and symmetrically. The
/// smallest scope that still reaches the destination wins.
pub fn rule2_scope(a: &Candidate<'_>, b: &Candidate<'_>, c: &Ctx<'_>) -> Ordering {
    let (sa, sb, sd) = (ipv6_scope(&a.addr), ipv6_scope(&b.addr), ipv6_scope(&c.dst));
    match sa.cmp(&sb) {
        Ordering::Less if sa < sd => Ordering::Less,
        Ordering::Less => Ordering::Greater,
        Ordering::Greater if sb < sd => Ordering::Greater,
        Ordering::Greater => Ordering::Less,
        Ordering::Equal => Ordering::Equal,
    }
}

/// RFC 6724 §5 rule 3: avoid deprecated addresses (RFC 4862 §5.5.4).
pub fn rule3_deprecated(a: &Candidate<'_>, b: &Candidate<'_>, _: &Ctx<'_>) -> Ordering {
    (!a.entry.flags.deprecated).cmp(&!b.entry.flags.deprecated)
}

/// RFC 6724 §5 rule 4: prefer home addresses (RFC 6275). Without Mobile
/// IPv6 only the `home` flag set by hand distinguishes them; every other
/// address counts as a care-of address.
pub fn rule4_home(a: &Candidate<'_>, b: &Candidate<'_>, _: &Ctx<'_>) -> Ordering {
    a.entry.flags.home.cmp(&b.entry.flags.home)
}

/// RFC 6724 §5 rule 5: prefer outgoing interface.
pub fn rule5_outgoing_interface(a: &Candidate<'_>, b: &Candidate<'_>, c: &Ctx<'_>) -> Ordering {
    (a.ifindex == c.route.ifindex).cmp(&(b.ifindex == c.route.ifindex))
}

/// RFC 6724 §5 rule 5.5: prefer addresses in a prefix advertised by the next
/// hop (only with `ip6.prefer_nexthop_source`; the RFC makes it optional).
pub fn rule5_5_next_hop_prefix(a: &Candidate<'_>, b: &Candidate<'_>, c: &Ctx<'_>) -> Ordering {
    if !c.opts.rule_5_5 {
        return Ordering::Equal;
    }
    (c.advertised_by_next_hop)(a).cmp(&(c.advertised_by_next_hop)(b))
}

/// RFC 6724 §5 rule 6: prefer matching label — Label(SA) = Label(D) and
/// Label(SB) <> Label(D): prefer SA (labels from the §2.1 policy table).
pub fn rule6_label(a: &Candidate<'_>, b: &Candidate<'_>, c: &Ctx<'_>) -> Ordering {
    let ld = c.policy.label(&c.dst);
    (c.policy.label(&a.addr) == ld).cmp(&(c.policy.label(&b.addr) == ld))
}

/// RFC 6724 §5 rule 7: prefer temporary addresses (RFC 8981) when
/// `prefer_tempaddr`; public ones otherwise (the RFC requires the preference
/// to be reversible; FreeBSD's default `prefer_tempaddr=0` prefers public).
pub fn rule7_temporary(a: &Candidate<'_>, b: &Candidate<'_>, c: &Ctx<'_>) -> Ordering {
    let o = a.entry.flags.temporary.cmp(&b.entry.flags.temporary);
    if c.opts.prefer_temporary {
        o
    } else {
        o.reverse()
    }
}

/// FreeBSD's `prefer_source` address flag (`in6_selectsrc` "rule 10", applied
/// after RFC 6724 rule 7 and before rule 8).
pub fn rule_prefer_source(a: &Candidate<'_>, b: &Candidate<'_>, _: &Ctx<'_>) -> Ordering {
    a.entry.flags.prefer_source.cmp(&b.entry.flags.prefer_source)
}

/// RFC 6724 §5 rule 8: use longest matching prefix — CommonPrefixLen(SA, D)
/// counted only up to the source's prefix length (RFC 6724 §2.2).
pub fn rule8_longest_match(a: &Candidate<'_>, b: &Candidate<'_>, c: &Ctx<'_>) -> Ordering {
    let la = common_prefix_len(&a.addr, &c.dst).min(a.entry.prefix_len);
    let lb = common_prefix_len(&b.addr, &c.dst).min(b.entry.prefix_len);
    la.cmp(&lb)
}

/// The rules in order.
pub const RULES: &[(Rule, RuleFn)] = &[
    (Rule::Rfc6724SameAddress, rule1_same_address),
    (Rule::Rfc6724Scope, rule2_scope),
    (Rule::Rfc6724Deprecated, rule3_deprecated),
    (Rule::Rfc6724HomeAddress, rule4_home),
    (Rule::Rfc6724OutgoingInterface, rule5_outgoing_interface),
    (Rule::Rfc6724NextHopPrefix, rule5_5_next_hop_prefix),
    (Rule::Rfc6724Label, rule6_label),
    (Rule::Rfc6724Temporary, rule7_temporary),
    (Rule::PreferSource, rule_prefer_source),
    (Rule::Rfc6724LongestMatch, rule8_longest_match),
];

/// Compares two candidates rule by rule; `(Greater, rule)` if `a` wins.
pub fn compare(a: &Candidate<'_>, b: &Candidate<'_>, ctx: &Ctx<'_>) -> (Ordering, Rule) {
    for (rule, f) in RULES {
        let o = f(a, b, ctx);
        if o != Ordering::Equal {
            return (o, *rule);
        }
    }
    (Ordering::Equal, Rule::StableOrder)
}

/// The best candidate under [`compare`], the first in order among equals.
fn best_of<'a>(cands: &[Candidate<'a>], ctx: &Ctx<'_>) -> Option<Candidate<'a>> {
    let mut it = cands.iter();
    let mut best = *it.next()?;
    for c in it {
        if compare(c, &best, ctx).0 == Ordering::Greater {
            best = *c;
        }
    }
    Some(best)
}

/// Selects the source for `dst` (RFC 6724 §5), or the route's `src` when it
/// is a usable address. The rule reported is the one that separated the
/// winner from the runner-up (the best of the others); every loser's verdict
/// names the rule that made the winner beat it.
pub fn select(ifaces: &[Interface], ctx: &Ctx<'_>) -> Result<Decision<Ipv6Addr>, NoSource> {
    let (cands, mut refused) = candidates(ifaces, &ctx.dst, ctx.route.ifindex, &ctx.opts);
    if let Some(src) = ctx.route.src {
        if let Some(c) = cands.iter().find(|c| c.addr == src) {
            let mut all: Vec<Verdict> = cands
                .iter()
                .map(|o| Verdict {
                    addr: IpAddr::V6(o.addr),
                    ifindex: o.ifindex,
                    lost: (o.addr != src).then(|| format!("not preferred: the route's src hint chose {src}")),
                })
                .collect();
            all.append(&mut refused);
            return Ok(Decision { addr: c.addr, rule: Rule::RouteSrc, verdicts: all });
        }
    }
    let Some(best) = best_of(&cands, ctx) else {
        let reason = if refused.is_empty() {
            format!("no IPv6 source address usable towards {}: the node has no IPv6 address", ctx.dst)
        } else {
            format!(
                "no IPv6 source address usable towards {}: every IPv6 address of the node was refused",
                ctx.dst
            )
        };
        return Err(NoSource { reason, verdicts: refused });
    };
    let others: Vec<Candidate<'_>> =
        cands.iter().filter(|c| !(c.addr == best.addr && c.ifindex == best.ifindex)).copied().collect();
    let rule = match best_of(&others, ctx) {
        None => Rule::OnlyCandidate,
        Some(runner_up) => compare(&best, &runner_up, ctx).1,
    };
    let mut all = vec![Verdict { addr: IpAddr::V6(best.addr), ifindex: best.ifindex, lost: None }];
    for l in &others {
        let (_, by) = compare(&best, l, ctx);
        all.push(Verdict {
            addr: IpAddr::V6(l.addr),
            ifindex: l.ifindex,
            lost: Some(format!("lost to {} by {by}", best.addr)),
        });
    }
    all.append(&mut refused);
    Ok(Decision { addr: best.addr, rule, verdicts: all })
}
