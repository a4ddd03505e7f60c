//! TCP connection life cycles on the seed topology (h1 → r1 → h2, IPv4 via
//! IPv6 next hops): refused connects, resets, half-close, simultaneous
//! open, TIME-WAIT, and a path MTU drop in mid-transfer.

use core::time::Duration;
use std::net::{Shutdown, SocketAddr};
use via6_core::socket::{Family, Proto, SocketHandle};
use via6_core::tcp::State;
use via6_core::Errno;
use via6_lab::lab::Lab;
use via6_lab::verbs::run_transfer_with;

const H2_V4: &str = "203.0.113.2";
const H1_V4: &str = "198.51.100.1";

fn lab() -> Lab {
    let mut lab = Lab::from_toml(via6_lab::scenario::builtin("seed").unwrap(), 11).unwrap();
    lab.run_for(Duration::from_secs(3));
    lab
}

fn listen(lab: &mut Lab, node: &str, sa: &str) -> SocketHandle {
    let s = lab.node_mut(node).unwrap();
    let sa: SocketAddr = sa.parse().unwrap();
    let l = s.socket(if sa.is_ipv4() { Family::Inet } else { Family::Inet6 }, Proto::Tcp);
    s.bind(l, sa).unwrap();
    s.tcp_listen(l, 16).unwrap();
    l
}

fn connect(lab: &mut Lab, node: &str, sa: &str) -> SocketHandle {
    let now = lab.now();
    let s = lab.node_mut(node).unwrap();
    let sa: SocketAddr = sa.parse().unwrap();
    let c = s.socket(if sa.is_ipv4() { Family::Inet } else { Family::Inet6 }, Proto::Tcp);
    s.tcp_connect(c, sa, now).unwrap();
    c
}

fn state(lab: &Lab, node: &str, h: SocketHandle) -> Option<State> {
    lab.node(node).unwrap().tcp_state(h)
}

fn send(lab: &mut Lab, node: &str, h: SocketHandle, data: &[u8]) -> usize {
    let now = lab.now();
    lab.node_mut(node).unwrap().tcp_send(h, data, now).unwrap()
}

fn recv_all(lab: &mut Lab, node: &str, h: SocketHandle) -> (Vec<u8>, bool) {
    let now = lab.now();
    let s = lab.node_mut(node).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.tcp_recv(h, &mut buf, now) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.errno == Errno::EWOULDBLOCK => return (out, false),
            Err(e) => panic!("recv: {e}"),
        }
    }
}

fn established_pair(lab: &mut Lab) -> (SocketHandle, SocketHandle) {
    let l = listen(lab, "h2", "0.0.0.0:80");
    let c = connect(lab, "h1", &format!("{H2_V4}:80"));
    lab.run_for(Duration::from_millis(50));
    let a = lab.node_mut("h2").unwrap().tcp_accept(l).expect("accepted");
    assert_eq!(state(lab, "h1", c), Some(State::Established));
    assert_eq!(state(lab, "h2", a), Some(State::Established));
    (c, a)
}

/// RFC 9293 §3.10.7.1 and §3.10.7.3: a SYN to a port nobody listens on is
/// answered with RST+ACK, which makes the connect fail with ECONNREFUSED.
#[test]
fn rst_to_closed_port_gives_econnrefused() {
    let mut lab = lab();
    let c = connect(&mut lab, "h1", &format!("{H2_V4}:9"));
    lab.run_for(Duration::from_millis(50));
    assert_eq!(state(&lab, "h1", c), Some(State::Closed));
    assert_eq!(lab.node("h1").unwrap().tcp_error(c), Some(Errno::ECONNREFUSED));
    let now = lab.now();
    let e = lab.node_mut("h1").unwrap().tcp_send(c, b"x", now).unwrap_err();
    assert_eq!(e.errno, Errno::ECONNREFUSED);
}

/// The same over IPv6.
#[test]
fn rst_to_closed_port_gives_econnrefused_v6() {
    let mut lab = lab();
    let c = connect(&mut lab, "h1", "[2001:db8:2::1]:9");
    lab.run_for(Duration::from_millis(50));
    assert_eq!(lab.node("h1").unwrap().tcp_error(c), Some(Errno::ECONNREFUSED));
}

/// RFC 9293 §3.6 half-close: after the client's FIN the server reads end of
/// stream, sits in CLOSE-WAIT and can still send; the client, in
/// FIN-WAIT-2, receives it, then the server's FIN (TIME-WAIT).
#[test]
fn half_close_lets_the_peer_keep_sending() {
    let mut lab = lab();
    let (c, a) = established_pair(&mut lab);
    send(&mut lab, "h1", c, b"request");
    let now = lab.now();
    lab.node_mut("h1").unwrap().tcp_shutdown(c, Shutdown::Write, now).unwrap();
    lab.run_for(Duration::from_millis(50));
    assert_eq!(recv_all(&mut lab, "h2", a), (b"request".to_vec(), true));
    assert_eq!(state(&lab, "h2", a), Some(State::CloseWait));
    assert_eq!(state(&lab, "h1", c), Some(State::FinWait2));
    send(&mut lab, "h2", a, b"response after half-close");
    lab.run_for(Duration::from_millis(50));
    assert_eq!(recv_all(&mut lab, "h1", c), (b"response after half-close".to_vec(), false));
    let now = lab.now();
    lab.node_mut("h2").unwrap().tcp_shutdown(a, Shutdown::Write, now).unwrap();
    lab.run_for(Duration::from_millis(50));
    assert_eq!(recv_all(&mut lab, "h1", c), (Vec::new(), true));
    assert_eq!(state(&lab, "h1", c), Some(State::TimeWait));
    assert_eq!(state(&lab, "h2", a), Some(State::Closed));
    assert_eq!(lab.node("h2").unwrap().tcp_error(a), None);
}

/// RFC 9293 §3.10.7.4 (TIME-WAIT): the active closer waits 2 MSL, then the
/// connection is gone.
#[test]
fn time_wait_lasts_two_msl() {
    let mut lab = lab();
    lab.node_mut("h1").unwrap().tcp_config_mut().msl = Duration::from_secs(1);
    let (c, a) = established_pair(&mut lab);
    let now = lab.now();
    lab.node_mut("h1").unwrap().tcp_shutdown(c, Shutdown::Write, now).unwrap();
    lab.run_for(Duration::from_millis(20));
    let now = lab.now();
    lab.node_mut("h2").unwrap().tcp_shutdown(a, Shutdown::Write, now).unwrap();
    lab.run_for(Duration::from_millis(20));
    assert_eq!(state(&lab, "h1", c), Some(State::TimeWait));
    lab.run_for(Duration::from_millis(1900));
    assert_eq!(state(&lab, "h1", c), Some(State::TimeWait), "still within 2 MSL");
    lab.run_for(Duration::from_millis(100));
    assert_eq!(state(&lab, "h1", c), Some(State::Closed));
    assert_eq!(lab.node("h1").unwrap().tcp_connections(), 0);
}

/// RFC 9293 §3.5 Figure 8, simultaneous open: two SYNs cross, each side
/// goes SYN-SENT → SYN-RECEIVED → ESTABLISHED, and data flows both ways.
#[test]
fn simultaneous_open_establishes_both_ends() {
    let mut lab = lab();
    let now = lab.now();
    let h1 = lab.node_mut("h1").unwrap();
    let a = h1.socket(Family::Inet, Proto::Tcp);
    h1.bind(a, format!("{H1_V4}:4000").parse().unwrap()).unwrap();
    h1.tcp_connect(a, format!("{H2_V4}:5000").parse().unwrap(), now).unwrap();
    let h2 = lab.node_mut("h2").unwrap();
    let b = h2.socket(Family::Inet, Proto::Tcp);
    h2.bind(b, format!("{H2_V4}:5000").parse().unwrap()).unwrap();
    h2.tcp_connect(b, format!("{H1_V4}:4000").parse().unwrap(), now).unwrap();
    lab.run_for(Duration::from_millis(100));
    assert_eq!(state(&lab, "h1", a), Some(State::Established));
    assert_eq!(state(&lab, "h2", b), Some(State::Established));
    send(&mut lab, "h1", a, b"from h1");
    send(&mut lab, "h2", b, b"from h2");
    lab.run_for(Duration::from_millis(100));
    assert_eq!(recv_all(&mut lab, "h2", b).0, b"from h1");
    assert_eq!(recv_all(&mut lab, "h1", a).0, b"from h2");
}

/// RFC 9293 §3.6 simultaneous close: both FINs cross; both ends pass
/// CLOSING into TIME-WAIT.
#[test]
fn simultaneous_close_ends_in_time_wait_on_both_sides() {
    let mut lab = lab();
    let (c, a) = established_pair(&mut lab);
    let now = lab.now();
    lab.node_mut("h1").unwrap().tcp_shutdown(c, Shutdown::Write, now).unwrap();
    lab.node_mut("h2").unwrap().tcp_shutdown(a, Shutdown::Write, now).unwrap();
    lab.run_for(Duration::from_millis(50));
    assert_eq!(state(&lab, "h1", c), Some(State::TimeWait));
    assert_eq!(state(&lab, "h2", a), Some(State::TimeWait));
}

/// RFC 9293 §3.10.7.4 (RST in a synchronized state): closing a socket with
/// unread data aborts it (RFC 2525 §2.17), and the peer's next call fails
/// with ECONNRESET.
#[test]
fn abort_with_unread_data_resets_the_peer() {
    let mut lab = lab();
    let (c, a) = established_pair(&mut lab);
    send(&mut lab, "h1", c, b"never read");
    lab.run_for(Duration::from_millis(50));
    lab.node_mut("h2").unwrap().close(a);
    lab.run_for(Duration::from_millis(50));
    assert_eq!(state(&lab, "h1", c), Some(State::Closed));
    assert_eq!(lab.node("h1").unwrap().tcp_error(c), Some(Errno::ECONNRESET));
    let mut buf = [0u8; 8];
    let now = lab.now();
    assert_eq!(lab.node_mut("h1").unwrap().tcp_recv(c, &mut buf, now).unwrap_err().errno, Errno::ECONNRESET);
}

/// RFC 9293 §3.8.4 / RFC 1122 §4.2.3.6: with SO_KEEPALIVE an idle
/// connection to a vanished peer times out with ETIMEDOUT.
#[test]
fn keepalive_detects_a_dead_peer() {
    let mut lab = lab();
    {
        let cfg = lab.node_mut("h1").unwrap().tcp_config_mut();
        cfg.keep_idle = Duration::from_secs(10);
        cfg.keep_intvl = Duration::from_secs(1);
        cfg.keep_cnt = 3;
    }
    let (c, _a) = established_pair(&mut lab);
    lab.node_mut("h1").unwrap().tcp_set_keepalive(c, true).unwrap();
    // Probes answered: still up well past the idle time.
    lab.run_for(Duration::from_secs(30));
    assert_eq!(state(&lab, "h1", c), Some(State::Established));
    // The path dies: three unanswered probes later, ETIMEDOUT.
    lab.link_params_mut("r1:eth1-h2:eth0").unwrap().loss = 1.0;
    lab.run_for(Duration::from_secs(20));
    assert_eq!(state(&lab, "h1", c), Some(State::Closed));
    assert_eq!(lab.node("h1").unwrap().tcp_error(c), Some(Errno::ETIMEDOUT));
}

/// RFC 6298 §5 with the retry limit: data to a peer that vanished ends in
/// ETIMEDOUT.
#[test]
fn retransmissions_give_up_with_etimedout() {
    let mut lab = lab();
    lab.node_mut("h1").unwrap().tcp_config_mut().max_retries = 4;
    let (c, _a) = established_pair(&mut lab);
    lab.link_params_mut("r1:eth1-h2:eth0").unwrap().loss = 1.0;
    send(&mut lab, "h1", c, b"lost");
    lab.run_for(Duration::from_secs(30));
    assert_eq!(lab.node("h1").unwrap().tcp_error(c), Some(Errno::ETIMEDOUT));
}

fn pmtu_drop(dst: &str) {
    let mut lab = lab();
    let mut r = via6_lab::Runner::new();
    via6_lab::verbs::register(&mut r);
    r.run_text(&mut lab, "h2 sink 5001").unwrap();
    let mut dropped = false;
    let rep = run_transfer_with(
        &mut lab,
        "h1",
        dst.parse().unwrap(),
        4 << 20,
        Duration::from_secs(120),
        |lab, elapsed| {
            if !dropped && elapsed >= Duration::from_millis(20) {
                dropped = true;
                let r1 = lab.node_mut("r1").unwrap();
                let eth1 = r1.ifindex("eth1").unwrap();
                r1.set_mtu(eth1, 1280).unwrap();
                lab.link_params_mut("r1:eth1-h2:eth0").unwrap().mtu = 1280;
            }
        },
    )
    .unwrap();
    assert!(dropped);
    assert!(rep.ok(), "{rep:?}");
    let lowered = lab.node("r1").unwrap().stats().get(via6_core::stats::Counter::IpsCantfrag)
        + lab.node("r1").unwrap().stats().icmp6_outhist[2];
    assert!(lowered > 0, "r1 sent no fragmentation-needed / packet-too-big");
    eprintln!("{dst}: {:.1} Mbit/s with a PMTU drop", rep.mbit_per_s());
}

/// RFC 1191 §6.3: r1's eth1 MTU drops from 1500 to 1280 mid-transfer; r1's
/// fragmentation-needed messages (from 192.0.0.8) lower the connection's
/// MSS and the stream completes byte-exact.
#[test]
fn pmtu_drop_mid_connection_recovers_v4_via_v6() {
    pmtu_drop(&format!("{H2_V4}:5001"));
}

/// RFC 8201 §4-§5: the same with IPv6 Packet Too Big.
#[test]
fn pmtu_drop_mid_connection_recovers_v6() {
    pmtu_drop("[2001:db8:2::1]:5001");
}
