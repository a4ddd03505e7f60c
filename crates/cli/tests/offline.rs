//! `via6 -c FILE VERB ...` against the example configs: every output layout
//! is compared with a golden file (regenerate with `UPDATE_GOLDEN=1`), and bad
//! input exits 2 naming the offending field and value.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn via6(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_via6")).args(args).current_dir(root()).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing golden {}", path.display()));
    assert_eq!(actual, want, "output differs from {}", path.display());
}

#[test]
fn golden_layouts() {
    let cases: &[(&str, &[&str])] = &[
        ("route-get-explain.txt", &["route", "get", "--explain", "203.0.113.2"]),
        ("route-get.json", &["route", "get", "--json", "203.0.113.2"]),
        ("route-get-v6.txt", &["route", "get", "2001:db8:2::1"]),
        ("ip-route-get.txt", &["ip", "route", "get", "203.0.113.2"]),
        ("ip-route-get-from.txt", &["ip", "route", "get", "203.0.113.2", "from", "198.51.100.1"]),
        ("ip-route-get.json", &["ip", "-j", "route", "get", "203.0.113.2"]),
        ("ip-route-show.txt", &["ip", "route", "show"]),
        ("netstat-rn.txt", &["netstat", "-rn"]),
        ("netstat-rn.json", &["netstat", "-rn", "--json"]),
        ("ifconfig.txt", &["ifconfig"]),
        ("ifconfig.json", &["ifconfig", "--json"]),
        ("sysctl-ip6.txt", &["sysctl", "net.inet6.ip6"]),
        ("ip6addrctl.txt", &["ip6addrctl", "show"]),
    ];
    for (name, args) in cases {
        let mut full = vec!["-c", "examples/seed-h1.toml"];
        full.extend_from_slice(args);
        let (code, out, err) = via6(&full);
        assert_eq!(code, 0, "{name}: {err}");
        golden(name, &out);
    }
}

#[test]
fn router_without_ipv4_cannot_source_ipv4() {
    let (code, out, err) = via6(&["-c", "examples/seed-r1.toml", "route", "get", "--json", "203.0.113.2"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(r#""source":null"#) && out.contains("no IPv4 source address"), "{out}");
}

#[test]
fn bad_input_exits_2_naming_field_and_value() {
    let dir = std::env::temp_dir().join(format!("via6-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: &[(&str, &str)] = &[
        ("[node]\nname = \"x\"\nspeed = 1\n", "speed"),
        ("[node]\nname = \"x\"\n[[interface]]\nname = \"eth0\"\nkind = \"tap\"\n[[route]]\ndest = \"0.0.0.0/0\"\nvia = \"fe80::1\"\n", "fe80::1"),
        ("[node]\nname = \"x\"\n[[interface]]\nname = \"lo0\"\nkind = \"loopback\"\naddresses = [\"2001:db8::1/128\"]\n[[route]]\ndest = \"0.0.0.0/0\"\nvia = \"192.0.2.1\"\nsrc = \"2001:db8::1\"\n", "src"),
        ("[node]\nname = \"x\"\n[[route]]\ndest = \"0.0.0.0/0\"\nvia = \"fe80::1%eth9\"\n", "eth9"),
        ("[node]\nname = \"x\"\n[[interface]]\nname = \"lo0\"\nkind = \"loopback\"\naddresses = [\"300.1.1.1/32\"]\n", "300.1.1.1"),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let f = dir.join(format!("bad{i}.toml"));
        std::fs::write(&f, text).unwrap();
        let (code, _, err) = via6(&["-c", f.to_str().unwrap(), "netstat", "-rn"]);
        assert_eq!(code, 2, "case {i}: {err}");
        assert!(err.contains(needle), "case {i}: `{err}` does not name `{needle}`");
    }
    let (code, _, err) = via6(&["-c", "examples/seed-h1.toml", "route", "get", "not-an-address"]);
    assert_eq!(code, 2);
    assert!(err.contains("not-an-address"), "{err}");
    let (code, _, err) = via6(&["-c", "examples/seed-h1.toml", "sysctl", "net.inet6.ip6.bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains("net.inet6.ip6.bogus"), "{err}");
    let (code, _, err) =
        via6(&["-c", "examples/seed-h1.toml", "route", "add", "-net", "203.0.113.0/24", "-inet6", "fe80::2"]);
    assert_eq!(code, 2);
    assert!(err.contains("fe80::2") && err.contains("zone"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
