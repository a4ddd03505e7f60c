//! TCP across the v4-via-v6 seed topology (h1 → r1 → h2, every next hop an
//! IPv6 link-local address): byte-exact transfers with loss, reordering and
//! duplication, throughput reported in virtual time.

use core::time::Duration;
use via6_lab::lab::Lab;
use via6_lab::verbs::run_transfer;

fn seed_lab(seed: u64) -> Lab {
    let mut lab = Lab::from_toml(via6_lab::scenario::builtin("seed").unwrap(), seed).unwrap();
    lab.run_for(Duration::from_secs(3));
    lab.run_text_sink("h2", 5001);
    lab
}

trait SinkExt {
    fn run_text_sink(&mut self, node: &str, port: u16);
}

impl SinkExt for Lab {
    fn run_text_sink(&mut self, node: &str, port: u16) {
        let mut r = via6_lab::Runner::new();
        via6_lab::verbs::register(&mut r);
        r.run_text(self, &format!("{node} sink {port}")).unwrap();
    }
}

fn impair(lab: &mut Lab, loss: f64) {
    for name in ["h1:eth0-r1:eth0", "r1:eth1-h2:eth0"] {
        let p = lab.link_params_mut(name).unwrap_or_else(|| panic!("no link {name}"));
        p.loss = loss;
        p.reorder = if loss > 0.0 { 0.01 } else { 0.0 };
        p.dup = if loss > 0.0 { 0.01 } else { 0.0 };
    }
}

fn transfer(loss: f64, dst: &str, bytes: u64) {
    let mut lab = seed_lab(7);
    impair(&mut lab, loss);
    let r = run_transfer(&mut lab, "h1", dst.parse().unwrap(), bytes, Duration::from_secs(3600)).unwrap();
    eprintln!(
        "{} bytes to {dst} at {:.0}% loss: {:.3} s virtual, {:.1} Mbit/s",
        r.received,
        loss * 100.0,
        r.elapsed.as_secs_f64(),
        r.mbit_per_s()
    );
    assert!(r.ok(), "{r:?}");
}

/// RFC 9293 §3.10: a 10 MB transfer over IPv4 via IPv6 next hops arrives
/// byte-exact (hash) on a clean path.
#[test]
fn tcp_10mb_v4_via_v6_clean() {
    transfer(0.0, "203.0.113.2:5001", 10 << 20);
}

/// The same over IPv6.
#[test]
fn tcp_10mb_v6_clean() {
    transfer(0.0, "[2001:db8:2::1]:5001", 10 << 20);
}

/// RFC 6298 / RFC 5681 / RFC 6582: 1% loss with reordering and duplication
/// on both links; the stream still arrives byte-exact.
#[test]
fn tcp_10mb_v4_via_v6_1pct_loss_reorder_dup() {
    transfer(0.01, "203.0.113.2:5001", 10 << 20);
}

/// 5% loss with reordering and duplication.
#[test]
fn tcp_10mb_v4_via_v6_5pct_loss_reorder_dup() {
    transfer(0.05, "203.0.113.2:5001", 10 << 20);
}

/// Issue 6's 100 MB transfers: clean.
#[test]
fn tcp_100mb_v4_via_v6_clean() {
    transfer(0.0, "203.0.113.2:5001", 100 << 20);
}

/// 100 MB at 1% loss with reordering and duplication.
#[test]
fn tcp_100mb_v4_via_v6_1pct_loss_reorder_dup() {
    transfer(0.01, "203.0.113.2:5001", 100 << 20);
}

/// 100 MB at 5% loss with reordering and duplication.
#[test]
fn tcp_100mb_v4_via_v6_5pct_loss_reorder_dup() {
    transfer(0.05, "203.0.113.2:5001", 100 << 20);
}

/// 100 MB over IPv6 at 1% loss with reordering and duplication.
#[test]
fn tcp_100mb_v6_1pct_loss_reorder_dup() {
    transfer(0.01, "[2001:db8:2::1]:5001", 100 << 20);
}

/// DESIGN §6: the `sink PORT` and `transfer ADDR:PORT BYTES` verbs report
/// bytes, hash match, time and throughput; a transfer to a port with no
/// sink is an error naming it.
#[test]
fn sink_and_transfer_verbs_report_hash_and_throughput() {
    let mut lab = Lab::from_toml(via6_lab::scenario::builtin("seed").unwrap(), 1).unwrap();
    lab.run_for(Duration::from_secs(3));
    let mut r = via6_lab::Runner::new();
    via6_lab::verbs::register(&mut r);
    assert!(r.run_text(&mut lab, "h2 sink 5001").unwrap().contains("[::]:5001"));
    let out = r.run_text(&mut lab, "h1 transfer 203.0.113.2:5001 1M").unwrap();
    assert!(out.starts_with("1048576 bytes to 203.0.113.2:5001 in "), "{out}");
    assert!(out.contains("Mbit/s") && out.contains(" match"), "{out}");
    let e = r.run_text(&mut lab, "h1 transfer 203.0.113.2:5002 1M").unwrap_err();
    assert!(e.0.contains("no sink listens on 203.0.113.2:5002"), "{e:?}");
}
