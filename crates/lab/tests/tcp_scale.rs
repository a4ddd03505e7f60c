//! Scale: 10,000 concurrent TCP connections between two nodes of the seed
//! topology (IPv4 via IPv6 next hops), all established at once, each
//! carrying its own bytes.

use core::time::Duration;
use std::collections::HashSet;
use via6_core::socket::{Family, Proto};
use via6_core::tcp::State;
use via6_lab::lab::Lab;

/// RFC 9293 §3.10.7.2 / RFC 6056: 10,000 connections to one listener, each
/// from its own ephemeral port, are ESTABLISHED at the same time and
/// demultiplexed to the right socket.
#[test]
fn ten_thousand_concurrent_connections() {
    const N: usize = 10_000;
    let mut lab = Lab::from_toml(via6_lab::scenario::builtin("seed").unwrap(), 3).unwrap();
    lab.run_for(Duration::from_secs(3));
    let h2 = lab.node_mut("h2").unwrap();
    let l = h2.socket(Family::Inet, Proto::Tcp);
    h2.bind(l, "0.0.0.0:80".parse().unwrap()).unwrap();
    h2.tcp_listen(l, N).unwrap();
    let mut clients = Vec::with_capacity(N);
    let mut accepted = Vec::with_capacity(N);
    while clients.len() < N {
        let now = lab.now();
        let h1 = lab.node_mut("h1").unwrap();
        for _ in 0..500.min(N - clients.len()) {
            let c = h1.socket(Family::Inet, Proto::Tcp);
            h1.tcp_connect(c, "203.0.113.2:80".parse().unwrap(), now).unwrap();
            clients.push(c);
        }
        lab.run_for(Duration::from_millis(10));
        let h2 = lab.node_mut("h2").unwrap();
        while let Some(a) = h2.tcp_accept(l) {
            accepted.push(a);
        }
    }
    lab.run_for(Duration::from_secs(2));
    let h2 = lab.node_mut("h2").unwrap();
    while let Some(a) = h2.tcp_accept(l) {
        accepted.push(a);
    }
    assert_eq!(accepted.len(), N);
    let h1 = lab.node("h1").unwrap();
    assert!(clients.iter().all(|&c| h1.tcp_state(c) == Some(State::Established)));
    assert_eq!(h1.tcp_connections(), N);
    assert_eq!(lab.node("h2").unwrap().tcp_connections(), N);
    // Each connection carries its own number.
    let now = lab.now();
    let h1 = lab.node_mut("h1").unwrap();
    for (i, &c) in clients.iter().enumerate() {
        h1.tcp_send(c, &(i as u32).to_be_bytes(), now).unwrap();
    }
    // 10,000 segments at once overflow the transmit queue (4096 frames):
    // the lost ones come back after their RTO.
    lab.run_for(Duration::from_secs(3));
    let now = lab.now();
    let h2 = lab.node_mut("h2").unwrap();
    let mut seen = HashSet::new();
    for &a in &accepted {
        let mut b = [0u8; 8];
        assert_eq!(h2.tcp_recv(a, &mut b, now).unwrap(), 4);
        seen.insert(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        assert_eq!(h2.tcp_state(a), Some(State::Established));
    }
    assert_eq!(seen.len(), N);
}
