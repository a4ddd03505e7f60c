//! Bad configuration is refused with a message naming the field and the value
//! (issue 3, "Must show"; DESIGN §6): unknown keys, a `src` of the wrong
//! family, a link-local gateway without a zone, an unknown interface, a bad
//! address. Checked through `Lab::from_toml`, the path users take.

mod common;

use common::seed;
use via6_lab::Lab;

/// A valid two-node topology; `{H1}` and `{LINK}` are spliced with extra
/// lines for h1's eth0 interface table end and the link table.
const BASE: &str = r#"
[[node]]
name = "h1"
[[node.interface]]
name = "lo0"
kind = "loopback"
addresses = ["198.51.100.1/32", "2001:db8:1::1/128"]
[[node.interface]]
name = "eth0"
kind = "lab"
addresses = ["fe80::2/64"]
{IFACE}
{H1}

[[node]]
name = "r1"
[[node.interface]]
name = "eth0"
kind = "lab"

[[link]]
a = "h1:eth0"
b = "r1:eth0"
{LINK}
"#;

fn topo(iface: &str, h1: &str, link: &str) -> String {
    BASE.replace("{IFACE}", iface).replace("{H1}", h1).replace("{LINK}", link)
}

fn route(lines: &str) -> String {
    topo("", &format!("[[node.route]]\n{lines}"), "")
}

/// The refusal's text, panicking (with the seed) if the topology was accepted.
fn refusal(text: &str) -> String {
    match Lab::from_toml(text, seed()) {
        Ok(_) => panic!("[lab seed {}] accepted:\n{text}", seed()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_base_topology_is_accepted() {
    let t = route("dest = \"0.0.0.0/0\"\nvia = \"fe80::1%eth0\"\nsrc = \"198.51.100.1\"");
    if let Err(e) = Lab::from_toml(&t, seed()) {
        panic!("[lab seed {}] refused: {e}", seed());
    }
}

/// DESIGN §6 and serde `deny_unknown_fields`: a misspelt key is an error
/// naming its path, never silently ignored.
#[test]
fn unknown_keys_are_refused_naming_the_key() {
    let cases = [
        (topo("colour = \"blue\"", "", ""), &["node[0].interface[1].colour", "unknown field `colour`"][..]),
        (
            topo("", "", "").replacen("name = \"h1\"\n", "name = \"h1\"\nrole = \"host\"\n", 1),
            &["node[0].role", "unknown field `role`"],
        ),
        (
            route("dest = \"::/0\"\nvia = \"fe80::1%eth0\"\ngw = \"x\""),
            &["node[0].route[0].gw", "unknown field `gw`"],
        ),
        (topo("", "", "jitter_ms = 3"), &["link[0].jitter_ms", "unknown field `jitter_ms`"]),
        (format!("{}\n[[nodes]]\nname = \"x\"\n", topo("", "", "")), &["nodes", "unknown field `nodes`"]),
        (
            topo("", "[node.sysctl]\n\"net.inet6.ip6.nonsense\" = 1", ""),
            &["node \"h1\": sysctl.\"net.inet6.ip6.nonsense\"", "net.inet6.ip6.nonsense"],
        ),
    ];
    check(&cases);
}

/// DESIGN §3: a route's `src` is typed by the destination's family — the
/// untyped "interface address of the route" is exactly the FreeBSD bug.
#[test]
fn route_src_of_the_wrong_family_is_refused() {
    let cases = [
        (
            route("dest = \"0.0.0.0/0\"\nvia = \"fe80::1%eth0\"\nsrc = \"2001:db8:1::1\""),
            &["node \"h1\": route[0].src: 2001:db8:1::1 is not of the destination's family (IPv4)"][..],
        ),
        (
            route("dest = \"::/0\"\nvia = \"fe80::1%eth0\"\nsrc = \"198.51.100.1\""),
            &["node \"h1\": route[0].src: 198.51.100.1 is not of the destination's family (IPv6)"],
        ),
        (
            route("dest = \"0.0.0.0/0\"\nvia = \"fe80::1%eth0\"\nsrc = \"192.0.2.9\""),
            &["route[0].src", "192.0.2.9 is not an address of node \"h1\""],
        ),
    ];
    check(&cases);
}

/// RFC 4007 §6 / §11: a link-local gateway means nothing without its link.
#[test]
fn link_local_gateway_without_zone_is_refused() {
    let cases = [
        (
            route("dest = \"0.0.0.0/0\"\nvia = \"fe80::1\""),
            &["node \"h1\": route[0].via: \"fe80::1\" is link-local and needs a zone, e.g. \"fe80::1%eth0\""]
                [..],
        ),
        (
            route("dest = \"::/0\"\nvia = \"fe80::1\""),
            &["route[0].via", "\"fe80::1\" is link-local and needs a zone"],
        ),
    ];
    check(&cases);
}

/// A zone, `dev` or link end naming an interface the node does not have.
#[test]
fn unknown_interfaces_are_refused_naming_them() {
    let cases = [
        (
            route("dest = \"0.0.0.0/0\"\nvia = \"fe80::1%eth9\""),
            &[
                "route[0].via",
                "zone %eth9 in \"fe80::1%eth9\" is not an interface of node \"h1\"",
                "lo0, eth0",
            ][..],
        ),
        (
            route("dest = \"::/0\"\ndev = \"eth7\""),
            &["route[0].dev", "\"eth7\" is not an interface of node \"h1\""],
        ),
        (
            topo("", "", "").replace("a = \"h1:eth0\"", "a = \"h1:eth5\""),
            &["link[0].a", "interface \"eth5\"", "node \"h1\""],
        ),
        (
            topo("", "", "").replace("b = \"r1:eth0\"", "b = \"r9:eth0\""),
            &["link[0].b", "node \"r9\" is not defined"],
        ),
        (
            route("dest = \"::/0\"\nvia = \"fe80::1%lo0\"\ndev = \"eth0\""),
            &["route[0].via", "differs from dev \"eth0\""],
        ),
    ];
    check(&cases);
}

/// Addresses that do not parse or cannot be what they are used as.
#[test]
fn bad_addresses_are_refused_naming_field_and_value() {
    let cases = [
        (
            topo("", "", "").replace("[\"fe80::2/64\"]", "[\"2001:db8::zz/64\"]"),
            &["node \"h1\": interface[1].addresses[0]", "\"2001:db8::zz\""][..],
        ),
        (
            topo("", "", "").replace("[\"fe80::2/64\"]", "[\"2001:db8::1\"]"),
            &["interface[1].addresses[0]", "\"2001:db8::1\" needs a prefix length"],
        ),
        (
            topo("", "", "").replace("[\"fe80::2/64\"]", "[\"ff02::1/64\"]"),
            &["interface[1].addresses[0]", "ff02::1 cannot be an interface address"],
        ),
        (
            route("dest = \"0.0.0.0/0\"\nvia = \"10.0.0.300\""),
            &["route[0].via", "\"10.0.0.300\" is not an IPv4 or IPv6 address"],
        ),
        (route("dest = \"10.0.0.0/33\"\nvia = \"fe80::1%eth0\""), &["route[0].dest", "\"10.0.0.0/33\""]),
        (
            route("dest = \"10.0.0.1/8\"\nvia = \"fe80::1%eth0\""),
            &["route[0].dest", "did you mean \"10.0.0.0/8\"?"],
        ),
        (
            route("dest = \"::/0\"\nvia = \"192.0.2.1\""),
            &["route[0].via", "192.0.2.1 is an IPv4 gateway", "::/0"],
        ),
        (route("dest = \"::/0\"\nvia = \"ff02::2%eth0\""), &["route[0].via", "ff02::2 cannot be a gateway"]),
        (
            topo("mac = \"03:00:00:00:00:01\"", "", ""),
            &["interface[1].mac", "\"03:00:00:00:00:01\" is not a unicast MAC"],
        ),
    ];
    check(&cases);
}

fn check(cases: &[(String, &[&str])]) {
    for (text, wants) in cases {
        let msg = refusal(text);
        for w in *wants {
            assert!(msg.contains(w), "[lab seed {}] refusal {msg:?} does not contain {w:?}", seed());
        }
    }
}
