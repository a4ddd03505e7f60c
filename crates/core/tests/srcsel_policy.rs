//! The RFC 6724 §2.1 policy table with FreeBSD `ip6addrctl(8)` semantics:
//! show / add / delete / flush / install, and its effect on selection.

use std::net::IpAddr;
use via6_core::iface::LinkKind;
use via6_core::route::{NextHop, Route};
use via6_core::srcsel::policy::{format_policy_table, Policy, PolicyError, PolicyTable};
use via6_core::srcsel::sort::DestRule;
use via6_core::srcsel::Rule;
use via6_core::{Instant, InterfaceConfig, Stack};
use via6_wire::MacAddr;

fn pol(prefix: &str, precedence: u32, label: u32) -> Policy {
    Policy { prefix: prefix.parse().unwrap(), precedence, label }
}

/// `ip6addrctl show` prints FreeBSD's layout (`%-30s %5s %5s %8s` header,
/// `%-30s %5d %5d %8llu` rows) with the RFC 6724 §2.1 defaults in order.
#[test]
fn ip6addrctl_show_prints_rfc6724_defaults_in_freebsd_format() {
    let t = PolicyTable::rfc6724();
    let want = "\
Prefix                          Prec Label      Use
::1/128                           50     0        0
::/0                              40     1        0
::ffff:0.0.0.0/96                 35     4        0
2002::/16                         30     2        0
2001::/32                          5     5        0
fc00::/7                           3    13        0
::/96                              1     3        0
fec0::/10                          1    11        0
3ffe::/16                          1    12        0
";
    assert_eq!(format_policy_table(&t), want);
}

/// The `Use` column counts lookups that matched the entry, as FreeBSD's
/// `in6_addrpolicy.use` does.
#[test]
fn ip6addrctl_show_counts_uses() {
    let t = PolicyTable::rfc6724();
    t.lookup(&"2001:db8::1".parse().unwrap());
    t.lookup(&"2001:db8::2".parse().unwrap());
    t.lookup(&"::1".parse().unwrap());
    let text = format_policy_table(&t);
    let line = |p: &str| text.lines().find(|l| l.starts_with(p)).unwrap().to_string();
    assert!(line("::/0 ").ends_with("       2"), "{text}");
    assert!(line("::1/128").ends_with("       1"), "{text}");
    assert!(line("2002::/16").ends_with("       0"), "{text}");
}

/// `ip6addrctl add` refuses an existing prefix (EEXIST) and appends a new
/// one, which then wins by longest match; `delete` removes it and refuses an
/// absent prefix (ESRCH).
#[test]
fn ip6addrctl_add_and_delete() {
    let mut t = PolicyTable::rfc6724();
    assert_eq!(t.add(pol("::/0", 1, 1)), Err(PolicyError::Exists("::/0".parse().unwrap())));
    t.add(pol("2001:db8::/32", 45, 20)).unwrap();
    assert_eq!(t.lookup(&"2001:db8::1".parse().unwrap()), (45, 20));
    assert!(format_policy_table(&t).lines().last().unwrap().starts_with("2001:db8::/32"));
    assert_eq!(t.delete("2001:db8::/32".parse().unwrap()), Ok(pol("2001:db8::/32", 45, 20)));
    assert_eq!(t.lookup(&"2001:db8::1".parse().unwrap()), (40, 1));
    assert_eq!(
        t.delete("2001:db8::/32".parse().unwrap()),
        Err(PolicyError::NotFound("2001:db8::/32".parse().unwrap()))
    );
}

/// `ip6addrctl flush` empties the table: every address then has precedence
/// and label 0, and `show` prints nothing. `install` of the defaults (the
/// RFC 6724 §2.1 table) restores it.
#[test]
fn ip6addrctl_flush_then_install_defaults() {
    let mut t = PolicyTable::rfc6724();
    assert_eq!(t.flush(), 9);
    assert_eq!(t.lookup(&"::1".parse().unwrap()), (0, 0));
    assert_eq!(format_policy_table(&t), "");
    t.install_defaults();
    assert_eq!(t, PolicyTable::rfc6724());
    // Defaults after a local change, too.
    t.add(pol("fd00::/8", 45, 14)).unwrap();
    t.install_defaults();
    assert_eq!(t.entries(), PolicyTable::rfc6724().entries());
}

/// `ip6addrctl install FILE`: `PREFIX/LEN PREC LABEL` lines with `#`
/// comments; all or nothing — a bad line or a duplicate leaves the table as
/// it was.
#[test]
fn ip6addrctl_install_file_is_all_or_nothing() {
    let mut t = PolicyTable::empty();
    let file =
        "# prefer IPv4 over IPv6 (RFC 6724 §10.3)\n::1/128 50 0\n::/0 40 1\n\n::ffff:0:0/96 100 4 # v4\n";
    assert_eq!(t.install(file), Ok(3));
    assert_eq!(t.lookup(&"::ffff:192.0.2.1".parse().unwrap()), (100, 4));
    let before = t.clone();
    assert!(matches!(t.install("fd00::/8 3 13\nbogus line\n"), Err(PolicyError::Parse { line: 2, .. })));
    assert_eq!(t, before);
    assert_eq!(t.install("fd00::/8 3 13\n::/0 1 1\n"), Err(PolicyError::Exists("::/0".parse().unwrap())));
    assert_eq!(t, before);
}

/// The stack's table drives source selection (RFC 6724 §5 rule 6): giving a
/// destination prefix the ULA label makes the ULA source preferred.
#[test]
fn policy_table_changes_rule6_source_choice() {
    let t0 = Instant::ZERO;
    let mut s = Stack::new("h", 1);
    s.set_sysctl("net.inet6.ip6.dad_count", 0).unwrap();
    let kind = LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, 1]));
    let e0 = s.add_interface(InterfaceConfig { name: "eth0".into(), kind, mtu: None }, t0).unwrap();
    s.add_address(e0, "fd00:1::1".parse().unwrap(), 64, t0).unwrap();
    s.add_address(e0, "2001:db8:1::1".parse().unwrap(), 64, t0).unwrap();
    s.add_route(Route::new("::/0".parse().unwrap(), NextHop::OnLink, Some(e0))).unwrap();
    let dst: IpAddr = "2a00::1".parse().unwrap();
    let d = s.route_get(dst, None).unwrap().source.unwrap();
    assert_eq!((d.addr.to_string(), d.rule), ("2001:db8:1::1".into(), Rule::Rfc6724Label));
    s.policy_mut().add(pol("2a00::/16", 40, 13)).unwrap();
    let d = s.route_get(dst, None).unwrap().source.unwrap();
    assert_eq!((d.addr.to_string(), d.rule), ("fd00:1::1".into(), Rule::Rfc6724Label));
}

/// The table drives destination ordering (RFC 6724 §6 rule 6): with the
/// defaults IPv6 (precedence 40) sorts before IPv4 (35); after
/// RFC 6724 §10.3's "prefer IPv4" change, IPv4 first; after a flush no rule
/// separates them and the input order stays (rule 10).
#[test]
fn policy_table_changes_destination_order() {
    let t0 = Instant::ZERO;
    let mut s = Stack::new("h", 1);
    s.set_sysctl("net.inet6.ip6.dad_count", 0).unwrap();
    let kind = LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, 1]));
    let e0 = s.add_interface(InterfaceConfig { name: "eth0".into(), kind, mtu: None }, t0).unwrap();
    s.add_address(e0, "2001:db8:1::2".parse().unwrap(), 64, t0).unwrap();
    s.add_address(e0, "10.1.2.4".parse().unwrap(), 24, t0).unwrap();
    let dsts = [("10.1.2.3".parse().unwrap(), None), ("2001:db8:1::1".parse().unwrap(), None)];
    let order = |s: &Stack| -> (Vec<String>, Option<DestRule>) {
        let out = s.sort_destinations(&dsts);
        (out.iter().map(|d| d.dst.to_string()).collect(), out[0].before_next)
    };
    assert_eq!(order(&s), (vec!["2001:db8:1::1".into(), "10.1.2.3".into()], Some(DestRule::Precedence)));
    s.policy_mut().delete("::ffff:0:0/96".parse().unwrap()).unwrap();
    s.policy_mut().add(pol("::ffff:0:0/96", 100, 4)).unwrap();
    assert_eq!(order(&s), (vec!["10.1.2.3".into(), "2001:db8:1::1".into()], Some(DestRule::Precedence)));
    s.policy_mut().flush();
    assert_eq!(order(&s), (vec!["10.1.2.3".into(), "2001:db8:1::1".into()], Some(DestRule::Unchanged)));
}
