//! The smoltcp side of `scripts/bench-tap.sh`: smoltcp 0.14 on a TAP device
//! running a TCP sink like the via6 daemon's (`via6 sink PORT`): every
//! connection is accepted, read and discarded until the peer's FIN, then
//! closed. For each closed connection it prints `closed PEER BYTES bytes`.
//!
//!     smoltcp_tap_sink TAP ADDR/LEN PORT [POOL]
//!
//! smoltcp has no listen backlog: one socket serves one connection, so the
//! sink keeps POOL (default 64) sockets listening on PORT and re-arms each one
//! once its connection is closed. Buffers are via6's defaults
//! (`TcpConfig::default()`: 512 KiB receive, 512 KiB send), congestion
//! control CUBIC (RFC 9438), smoltcp's other defaults (delayed ACK 10 ms,
//! Nagle on, window scaling from the buffer size, timestamps off).
//!
//! The process runs until it is killed (SIGTERM/SIGINT).

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{wait as phy_wait, Device, Medium, TunTapInterface};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, IpCidr};
use std::io::Write;
use std::os::unix::io::AsRawFd;

/// via6's default send and receive buffer (`TcpConfig::default()`).
const BUF: usize = 512 * 1024;

struct Slot {
    handle: SocketHandle,
    bytes: u64,
    peer: Option<String>,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("smoltcp_tap_sink: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 || args.len() > 5 {
        return Err("usage: smoltcp_tap_sink TAP ADDR/LEN PORT [POOL]".into());
    }
    let cidr: IpCidr = args[2].parse().map_err(|_| format!("`{}` is not ADDR/LEN", args[2]))?;
    let port: u16 = args[3].parse().map_err(|_| format!("`{}` is not a port", args[3]))?;
    let pool: usize = match args.get(4) {
        Some(p) => p.parse().map_err(|_| format!("`{p}` is not a pool size"))?,
        None => 64,
    };
    let mut device =
        TunTapInterface::new(&args[1], Medium::Ethernet).map_err(|e| format!("{}: {e}", args[1]))?;
    let fd = device.as_raw_fd();
    let mut config = Config::new(EthernetAddress([0x02, 0x00, 0x00, 0x5e, 0x00, 0x01]).into());
    config.random_seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    let mut iface = Interface::new(config, &mut device, Instant::now());
    iface.update_ip_addrs(|a| {
        let _ = a.push(cidr);
    });
    let mut sockets = SocketSet::new(vec![]);
    let mut slots = Vec::with_capacity(pool);
    for _ in 0..pool {
        let mut s =
            tcp::Socket::new(tcp::SocketBuffer::new(vec![0; BUF]), tcp::SocketBuffer::new(vec![0; BUF]));
        s.set_congestion_control(tcp::CongestionControl::Cubic);
        s.listen(port).map_err(|e| format!("listen {port}: {e}"))?;
        slots.push(Slot { handle: sockets.add(s), bytes: 0, peer: None });
    }
    let mtu = device.capabilities().max_transmission_unit;
    eprintln!("smoltcp_tap_sink: {cidr} on {} (MTU {mtu}), port {port}, {pool} listening sockets", args[1]);
    let stdout = std::io::stdout();
    loop {
        let now = Instant::now();
        iface.poll(now, &mut device, &mut sockets);
        for slot in &mut slots {
            let s = sockets.get_mut::<tcp::Socket>(slot.handle);
            if slot.peer.is_none() {
                if let Some(ep) = s.remote_endpoint() {
                    slot.peer = Some(ep.to_string());
                }
            }
            while s.can_recv() {
                match s.recv(|b| (b.len(), b.len())) {
                    Ok(n) => slot.bytes += n as u64,
                    Err(_) => break,
                }
            }
            // The peer's FIN with everything read: close our side.
            if s.state() == tcp::State::CloseWait && !s.can_recv() {
                s.close();
            }
            if matches!(s.state(), tcp::State::Closed | tcp::State::TimeWait) && slot.peer.is_some() {
                if let Some(peer) = slot.peer.take() {
                    let _ = writeln!(stdout.lock(), "closed {peer} {} bytes", slot.bytes);
                }
                slot.bytes = 0;
                s.abort();
            }
            if !s.is_open() {
                s.listen(port).map_err(|e| format!("listen {port}: {e}"))?;
            }
        }
        let wait = match iface.poll_delay(now, &sockets) {
            Some(d) => d.min(Duration::from_millis(100)),
            None => Duration::from_millis(100),
        };
        if wait > Duration::ZERO {
            phy_wait(fd, Some(wait)).map_err(|e| format!("wait: {e}"))?;
        }
    }
}
