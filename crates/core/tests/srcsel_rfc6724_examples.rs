//! RFC 6724 §10.1 (source address selection) and §10.2 (destination address
//! selection) examples, as tables. Each row checks the chosen address *and*
//! the rule the RFC names for it.

use std::net::{IpAddr, Ipv6Addr};
use via6_core::iface::{IfAddr, Interface, LinkKind, NdFlags, NdVars};
use via6_core::srcsel::policy::PolicyTable;
use via6_core::srcsel::sort::{sort_destinations, DestFacts, DestRule, SourceFacts};
use via6_core::srcsel::v6::{self, Candidate, Ctx, Options, RouteView};
use via6_core::srcsel::Rule;
use via6_core::IfIndex;
use via6_wire::MacAddr;

const EGRESS: IfIndex = IfIndex(1);

/// "2001:db8::1 deprecated temporary home" → an address entry with flags; a
/// /64 unless the word `/N` says otherwise.
fn entry(spec: &str) -> IfAddr {
    let mut words = spec.split_whitespace();
    let addr: IpAddr = words.next().unwrap().parse().unwrap();
    let mut e = IfAddr::permanent(addr, if addr.is_ipv4() { 16 } else { 64 });
    for w in words {
        match w {
            "deprecated" => e.flags.deprecated = true,
            "temporary" => e.flags.temporary = true,
            "home" => e.flags.home = true,
            "tentative" => e.flags.tentative = true,
            "duplicated" => e.flags.duplicated = true,
            "anycast" => e.flags.anycast = true,
            "detached" => e.flags.detached = true,
            "prefer_source" => e.flags.prefer_source = true,
            w if w.starts_with('/') => e.prefix_len = w[1..].parse().unwrap(),
            other => panic!("unknown flag {other}"),
        }
    }
    e
}

fn ethernet(index: u32, name: &str, addrs: &[&str]) -> Interface {
    Interface {
        index: IfIndex(index),
        name: name.into(),
        kind: LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, index as u8])),
        mtu: 1500,
        up: true,
        nd: NdFlags {
            perform_nud: true,
            accept_rtadv: false,
            auto_linklocal: true,
            ifdisabled: false,
            no_radr: false,
        },
        nd_vars: NdVars::default(),
        addrs: addrs.iter().map(|s| entry(s)).collect(),
        groups6: Vec::new(),
        rs_left: 0,
        rs_next: None,
    }
}

fn select(ifaces: &[Interface], dst: &str, opts: Options) -> via6_core::srcsel::Decision<Ipv6Addr> {
    let no = |_: &Candidate<'_>| false;
    let policy = PolicyTable::rfc6724();
    let ctx = Ctx {
        dst: dst.parse().unwrap(),
        route: RouteView { src: None, ifindex: EGRESS, next_hop: None },
        policy: &policy,
        opts,
        advertised_by_next_hop: &no,
    };
    v6::select(ifaces, &ctx).unwrap()
}

/// RFC 6724 §10.1: the eight source address selection examples. The RFC's
/// rule 7 default (prefer temporary) is used, as in the RFC.
#[test]
fn rfc6724_section_10_1_source_selection_examples() {
    let rfc = Options { use_deprecated: true, prefer_temporary: true, rule_5_5: false };
    #[rustfmt::skip]
    let table: &[(&str, &[&str], &str, Rule)] = &[
        ("2001:db8:1::1", &["2001:db8:3::1", "fe80::1"], "2001:db8:3::1", Rule::Rfc6724Scope),
        ("ff05::1", &["2001:db8:3::1", "fe80::1"], "2001:db8:3::1", Rule::Rfc6724Scope),
        ("2001:db8:1::1", &["2001:db8:1::1 deprecated", "2001:db8:2::1"], "2001:db8:1::1", Rule::Rfc6724SameAddress),
        ("fe80::1", &["fe80::2 deprecated", "2001:db8:1::1"], "fe80::2", Rule::Rfc6724Scope),
        ("2001:db8:1::1", &["2001:db8:1::2", "2001:db8:3::2"], "2001:db8:1::2", Rule::Rfc6724LongestMatch),
        ("2001:db8:1::1", &["2001:db8:1::2", "2001:db8:3::2 home"], "2001:db8:3::2", Rule::Rfc6724HomeAddress),
        ("2002:c633:6401::1", &["2002:c633:6401::d5e3:7953:13eb:22e8 temporary", "2001:db8:1::2"],
            "2002:c633:6401::d5e3:7953:13eb:22e8", Rule::Rfc6724Label),
        ("2001:db8:1::d5e3:0:0:1", &["2001:db8:1::2", "2001:db8:1::d5e3:7953:13eb:22e8 temporary"],
            "2001:db8:1::d5e3:7953:13eb:22e8", Rule::Rfc6724Temporary),
    ];
    for (dst, cands, want, rule) in table {
        // Both candidate orders: the answer must not depend on it.
        for rev in [false, true] {
            let mut c: Vec<&str> = cands.to_vec();
            if rev {
                c.reverse();
            }
            let ifaces = [ethernet(1, "eth0", &c)];
            let d = select(&ifaces, dst, rfc);
            assert_eq!(d.addr, want.parse::<Ipv6Addr>().unwrap(), "dst {dst} candidates {c:?}");
            assert_eq!(d.rule, *rule, "dst {dst} candidates {c:?}");
        }
    }
}

fn src(spec: &str) -> SourceFacts {
    let e = entry(spec);
    SourceFacts { addr: e.addr, prefix_len: e.prefix_len, deprecated: e.flags.deprecated, home: e.flags.home }
}

/// RFC 6724 §10.2: the nine destination address selection examples. Each row:
/// the candidate sources, the destinations with Source(D) as the RFC states
/// it, the expected order and the rule the RFC names. For IPv6 destinations
/// the row's source is also checked against our own §5 source selection over
/// the row's candidates, so the two algorithms agree with the RFC together.
#[test]
fn rfc6724_section_10_2_destination_ordering_examples() {
    type Row<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a [&'a str], DestRule);
    #[rustfmt::skip]
    let table: &[Row<'_>] = &[
        (&["2001:db8:1::2", "fe80::1", "169.254.13.78"],
         &[("2001:db8:1::1", "2001:db8:1::2"), ("198.51.100.121", "169.254.13.78")],
         &["2001:db8:1::1", "198.51.100.121"], DestRule::MatchingScope),
        (&["fe80::1", "198.51.100.117"],
         &[("2001:db8:1::1", "fe80::1"), ("198.51.100.121", "198.51.100.117")],
         &["198.51.100.121", "2001:db8:1::1"], DestRule::MatchingScope),
        (&["2001:db8:1::2", "fe80::1", "10.1.2.4"],
         &[("2001:db8:1::1", "2001:db8:1::2"), ("10.1.2.3", "10.1.2.4")],
         &["2001:db8:1::1", "10.1.2.3"], DestRule::Precedence),
        (&["2001:db8:1::2", "fe80::2"],
         &[("2001:db8:1::1", "2001:db8:1::2"), ("fe80::1", "fe80::2")],
         &["fe80::1", "2001:db8:1::1"], DestRule::SmallerScope),
        (&["2001:db8:1::2", "2001:db8:3::1 home", "fe80::2"],
         &[("2001:db8:1::1", "2001:db8:3::1 home"), ("fe80::1", "fe80::2")],
         &["2001:db8:1::1", "fe80::1"], DestRule::HomeAddress),
        (&["2001:db8:1::2", "fe80::2 deprecated"],
         &[("2001:db8:1::1", "2001:db8:1::2"), ("fe80::1", "fe80::2 deprecated")],
         &["2001:db8:1::1", "fe80::1"], DestRule::Deprecated),
        (&["2001:db8:1::2", "2001:db8:3f44::2", "fe80::2"],
         &[("2001:db8:1::1", "2001:db8:1::2"), ("2001:db8:3ffe::1", "2001:db8:3f44::2")],
         &["2001:db8:1::1", "2001:db8:3ffe::1"], DestRule::LongestMatch),
        (&["2002:c633:6401::2", "fe80::2"],
         &[("2002:c633:6401::1", "2002:c633:6401::2"), ("2001:db8:1::1", "2002:c633:6401::2")],
         &["2002:c633:6401::1", "2001:db8:1::1"], DestRule::MatchingLabel),
        (&["2002:c633:6401::2", "2001:db8:1::2", "fe80::2"],
         &[("2002:c633:6401::1", "2002:c633:6401::2"), ("2001:db8:1::1", "2001:db8:1::2")],
         &["2001:db8:1::1", "2002:c633:6401::1"], DestRule::Precedence),
    ];
    let policy = PolicyTable::rfc6724();
    let rfc = Options { use_deprecated: true, prefer_temporary: true, rule_5_5: false };
    for (cands, dsts, want, rule) in table {
        let ifaces = [ethernet(1, "eth0", cands)];
        for (d, s) in *dsts {
            if let Ok(d6) = d.parse::<Ipv6Addr>() {
                let chosen = select(&ifaces, &d6.to_string(), rfc).addr;
                assert_eq!(IpAddr::V6(chosen), src(s).addr, "our Source({d}) among {cands:?}");
            }
        }
        // Both input orders: the RFC's order must come out of either.
        for rev in [false, true] {
            let mut input: Vec<(&str, &str)> = dsts.to_vec();
            if rev {
                input.reverse();
            }
            let addrs: Vec<IpAddr> = input.iter().map(|(d, _)| d.parse().unwrap()).collect();
            let facts = |d: &IpAddr| {
                let s = input.iter().find(|(x, _)| x.parse::<IpAddr>().unwrap() == *d).unwrap().1;
                DestFacts { source: Some(src(s)), unreachable: false, encapsulated: false }
            };
            let out = sort_destinations(&addrs, &policy, facts);
            let got: Vec<String> = out.iter().map(|s| s.dst.to_string()).collect();
            assert_eq!(got, *want, "candidates {cands:?} input {input:?}");
            assert_eq!(out[0].before_next, Some(*rule), "candidates {cands:?} input {input:?}");
            assert_eq!(out[1].before_next, None);
        }
    }
}

/// RFC 6724 §6 and §2.1: IPv4 destinations may be given v4-mapped; they are
/// ordered the same and keep the caller's form.
#[test]
fn rfc6724_section_6_v4_mapped_destinations_sort_like_ipv4() {
    let policy = PolicyTable::rfc6724();
    let dsts: Vec<IpAddr> = vec!["::ffff:10.1.2.3".parse().unwrap(), "2001:db8:1::1".parse().unwrap()];
    let facts = |d: &IpAddr| {
        let s = if d.to_string().contains("10.1.2.3") { "10.1.2.4" } else { "2001:db8:1::2" };
        DestFacts { source: Some(src(s)), unreachable: false, encapsulated: false }
    };
    let out = sort_destinations(&dsts, &policy, facts);
    assert_eq!(out[0].dst, "2001:db8:1::1".parse::<IpAddr>().unwrap());
    assert_eq!(out[1].dst, "::ffff:10.1.2.3".parse::<IpAddr>().unwrap());
    assert_eq!(out[0].before_next, Some(DestRule::Precedence));
}
