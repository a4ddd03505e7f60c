//! Memory per idle TCP connection at 100 000 connections (issue 10, item 4),
//! in memory, no I/O: two `Stack`s (server 10.0.0.1, client 10.0.1.1-8 on
//! one Ethernet segment, frames handed across by this harness on a virtual
//! clock), 100 000 connections to one listener (client sockets bound to eight
//! addresses, the ephemeral range 49152-65535 per address), all ESTABLISHED
//! and idle for 5 s of virtual time (delayed ACKs sent, no data queued).
//!
//! Heap bytes are counted by this binary's global allocator (live bytes =
//! allocated − freed, as requested by callers). A side's bytes are what
//! dropping its `Stack` frees; per connection = (bytes with N connections −
//! bytes of the same pair with none) / N. A second pass makes every
//! connection carry 1 KiB each way first (then idle), to show what buffers a
//! connection keeps once it has been used.
//!
//!     cargo bench -p via6-lab --bench tcp_memory [-- --conns N]

use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use via6_core::iface::LinkKind;
use via6_core::socket::{Family, Proto, SocketHandle};
use via6_core::tcp::State;
use via6_core::{IfIndex, Instant, InterfaceConfig, Stack};
use via6_wire::MacAddr;

#[global_allocator]
static ALLOC: via6_alloc_count::Counting = via6_alloc_count::Counting;

fn live() -> usize {
    via6_alloc_count::live_bytes()
}

const CLIENT_ADDRS: u8 = 8;

struct Pair {
    server: Option<Stack>,
    client: Option<Stack>,
    listener: SocketHandle,
    now: Instant,
}

fn eth(s: &mut Stack, mac: u8) -> IfIndex {
    let cfg = InterfaceConfig {
        name: "eth0".into(),
        kind: LinkKind::Ethernet(MacAddr([2, 0, 0, 0, 0, mac])),
        mtu: None,
    };
    s.add_interface(cfg, Instant::ZERO).expect("interface")
}

impl Pair {
    fn new(backlog: usize) -> Pair {
        let t0 = Instant::ZERO;
        let mut server = Stack::new("server", 1);
        let e = eth(&mut server, 1);
        server.add_address(e, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 16, t0).expect("addr");
        let mut client = Stack::new("client", 2);
        let e = eth(&mut client, 2);
        for k in 1..=CLIENT_ADDRS {
            client.add_address(e, IpAddr::V4(Ipv4Addr::new(10, 0, 1, k)), 16, t0).expect("addr");
        }
        let listener = server.socket(Family::Inet, Proto::Tcp);
        server.bind(listener, "0.0.0.0:80".parse().expect("sa")).expect("bind");
        server.tcp_listen(listener, backlog).expect("listen");
        let mut p = Pair { server: Some(server), client: Some(client), listener, now: t0 };
        p.run_ms(1000);
        p
    }

    fn sides(&mut self) -> (&mut Stack, &mut Stack) {
        (self.server.as_mut().expect("server"), self.client.as_mut().expect("client"))
    }

    /// Hands every queued frame to the other side until both are quiet.
    fn exchange(&mut self) {
        let now = self.now;
        let (s, c) = self.sides();
        loop {
            let mut moved = false;
            while let Some(f) = s.transmit() {
                moved = true;
                c.receive(IfIndex(1), f.data(), now);
                s.recycle(f);
            }
            while let Some(f) = c.transmit() {
                moved = true;
                s.receive(IfIndex(1), f.data(), now);
                c.recycle(f);
            }
            if !moved {
                return;
            }
        }
    }

    fn run_ms(&mut self, ms: u64) {
        for _ in 0..ms.div_ceil(10) {
            let now = self.now;
            let (s, c) = self.sides();
            s.poll(now);
            c.poll(now);
            self.exchange();
            self.now += Duration::from_millis(10);
        }
    }

    /// Opens `n` connections; returns (client, server) handles.
    fn connect(&mut self, n: usize) -> (Vec<SocketHandle>, Vec<SocketHandle>) {
        let mut clients = Vec::with_capacity(n);
        let mut accepted = Vec::with_capacity(n);
        let per_addr = n.div_ceil(CLIENT_ADDRS as usize);
        while clients.len() < n {
            let now = self.now;
            let (_, c) = self.sides();
            for _ in 0..500.min(n - clients.len()) {
                let k = (clients.len() / per_addr) as u8 + 1;
                let h = c.socket(Family::Inet, Proto::Tcp);
                c.bind(h, SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 1, k)), 0)).expect("bind");
                c.tcp_connect(h, "10.0.0.1:80".parse().expect("sa"), now).expect("connect");
                clients.push(h);
            }
            self.run_ms(10);
            let l = self.listener;
            let (s, _) = self.sides();
            while let Some(a) = s.tcp_accept(l) {
                accepted.push(a);
            }
        }
        self.run_ms(3000);
        let l = self.listener;
        let (s, _) = self.sides();
        while let Some(a) = s.tcp_accept(l) {
            accepted.push(a);
        }
        (clients, accepted)
    }

    /// Every connection sends 1 KiB each way, and both sides read it.
    fn exchange_data(&mut self, clients: &[SocketHandle], accepted: &[SocketHandle]) {
        let data = [0x5au8; 1024];
        let mut buf = [0u8; 2048];
        for chunk in 0..clients.len().div_ceil(500) {
            let r = chunk * 500..((chunk + 1) * 500).min(clients.len());
            let now = self.now;
            let (s, c) = self.sides();
            for i in r.clone() {
                c.tcp_send(clients[i], &data, now).expect("send");
                s.tcp_send(accepted[i], &data, now).expect("send");
            }
            self.run_ms(50);
            let now = self.now;
            let (s, c) = self.sides();
            for i in r {
                while s.tcp_recv(accepted[i], &mut buf, now).is_ok_and(|n| n > 0) {}
                while c.tcp_recv(clients[i], &mut buf, now).is_ok_and(|n| n > 0) {}
            }
        }
        self.run_ms(3000);
    }

    /// Drops the client, then the server: the bytes each one held.
    fn drop_sides(mut self) -> (usize, usize) {
        let a = live();
        drop(self.client.take());
        let b = live();
        drop(self.server.take());
        let c = live();
        (a - b, b - c)
    }
}

fn measure(n: usize, with_data: bool) -> (f64, f64, f64) {
    let (c0, s0) = Pair::new(n).drop_sides();
    let t = std::time::Instant::now();
    let mut p = Pair::new(n);
    let (clients, accepted) = p.connect(n);
    println!("opened {n} connections in {:.2} s of wall time", t.elapsed().as_secs_f64());
    assert_eq!(accepted.len(), n, "every connection accepted");
    if with_data {
        p.exchange_data(&clients, &accepted);
    }
    p.run_ms(5000);
    {
        let (s, c) = p.sides();
        assert!(clients.iter().all(|&h| c.tcp_state(h) == Some(State::Established)), "clients established");
        assert!(accepted.iter().all(|&h| s.tcp_state(h) == Some(State::Established)), "server established");
        assert_eq!(c.tcp_connections(), n);
        assert_eq!(s.tcp_connections(), n);
    }
    let secs = t.elapsed().as_secs_f64();
    drop((clients, accepted));
    let (c1, s1) = p.drop_sides();
    let per = |with: usize, without: usize| (with as f64 - without as f64) / n as f64;
    (per(s1, s0), per(c1, c0), secs)
}

fn main() {
    let mut n = 100_000usize;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--conns") {
        n = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(n);
    }
    let cfg = via6_core::tcp::TcpConfig::default();
    println!(
        "TCP memory per idle connection, {n} connections (via6 TcpConfig::default(): sndbuf {} B, rcvbuf {} B)",
        cfg.sndbuf, cfg.rcvbuf
    );
    println!();
    println!("| case | server B/conn | client B/conn | wall s |");
    println!("|---|---:|---:|---:|");
    for (name, data) in
        [("established, no data ever", false), ("established, after 1 KiB each way, read", true)]
    {
        let (s, c, secs) = measure(n, data);
        println!("| {name} | {s:.0} | {c:.0} | {secs:.1} |");
    }
}
