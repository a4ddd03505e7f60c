//! A via6 node embedded in a program: the node of a config file (TAP/TUN
//! devices attached) runs in-process via `Node::start`, and the program
//! talks through it with the blocking and tokio socket APIs.
//!
//!     embed CONFIG STEP...
//!       tcp ADDR BYTES    blocking TcpStream: send BYTES, read the echo, compare hashes
//!       accept PORT       tokio TcpListener on 0.0.0.0:PORT: read to EOF, answer "hash=<fnv64>"
//!       udp ADDR          UdpSocket: send a datagram, wait for the echo
//!       wait-file PATH    wait (up to 30 s) until PATH exists, then 1.5 s for DAD
//!
//! Prints one line per step; exits 1 on the first failure. `EMBED_PCAP=DIR`
//! writes a pcapng per interface.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use via6_rt::net::blocking::{TcpStream, UdpSocket};
use via6_rt::{Node, NodeOptions};

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i as u32).wrapping_mul(2654435761).rotate_left(7) as u8).collect()
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

fn addr(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|e| format!("{s}: {e}"))
}

fn tcp(node: &Node, to: SocketAddr, bytes: usize) -> Result<String, String> {
    let s =
        TcpStream::connect_timeout(node, to, Duration::from_secs(10)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let data = pattern(bytes);
    let want = fnv(&data);
    let w = s.try_clone().map_err(|e| e.to_string())?;
    let writer = std::thread::spawn(move || -> Result<(), String> {
        (&w).write_all(&data).map_err(|e| format!("write: {e}"))?;
        w.shutdown(std::net::Shutdown::Write).map_err(|e| format!("shutdown: {e}"))
    });
    let mut got = Vec::new();
    (&s).read_to_end(&mut got).map_err(|e| format!("read: {e}"))?;
    writer.join().map_err(|_| "writer panicked".to_string())??;
    let local = s.local_addr().map_err(|e| e.to_string())?;
    if got.len() != bytes || fnv(&got) != want {
        return Err(format!("tcp {to}: sent {bytes}, echo {} bytes, hash mismatch", got.len()));
    }
    Ok(format!("tcp {to} from {local}: sent {bytes} received {} hash {want:016x} ok", got.len()))
}

fn accept(node: &Node, port: u16) -> Result<String, String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let l = via6_rt::net::tokio::TcpListener::bind(node, SocketAddr::from(([0, 0, 0, 0], port)))
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let (mut s, peer) = tokio::time::timeout(Duration::from_secs(20), l.accept())
            .await
            .map_err(|_| "no connection within 20 s".to_string())?
            .map_err(|e| format!("accept: {e}"))?;
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.map_err(|e| format!("read: {e}"))?;
        let h = fnv(&got);
        s.write_all(format!("hash={h:016x}\n").as_bytes()).await.map_err(|e| format!("write: {e}"))?;
        s.shutdown().await.map_err(|e| format!("shutdown: {e}"))?;
        // Let the FIN go out before the listener closes.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(format!("accepted {peer}: {} bytes hash {h:016x}", got.len()))
    })
}

fn udp(node: &Node, to: SocketAddr) -> Result<String, String> {
    let wild = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
    let u = UdpSocket::bind(node, addr(wild)?).map_err(|e| format!("bind: {e}"))?;
    u.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    u.send_to(b"via6-embed", to).map_err(|e| format!("send_to: {e}"))?;
    let mut buf = [0u8; 1500];
    let (n, from) = u.recv_from(&mut buf).map_err(|e| format!("recv_from: {e}"))?;
    Ok(format!("udp {to}: reply {:?} from {from}", String::from_utf8_lossy(&buf[..n])))
}

fn wait_file(path: &str) -> Result<String, String> {
    let t0 = std::time::Instant::now();
    while !std::path::Path::new(path).exists() {
        if t0.elapsed() > Duration::from_secs(30) {
            return Err(format!("{path} did not appear within 30 s"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    Ok(format!("{path} exists"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("embed: {e}");
        std::process::exit(1);
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (config, mut steps) = args.split_first().ok_or("usage: embed CONFIG STEP...")?;
    let text = std::fs::read_to_string(config).map_err(|e| format!("{config}: {e}"))?;
    let spec = via6_lab::config::NodeConfig::from_toml(&text)
        .and_then(|c| c.validate())
        .map_err(|e| format!("{config}: {e}"))?;
    let opts = NodeOptions { pcap: std::env::var_os("EMBED_PCAP").map(Into::into), control: None };
    let node = Node::start(spec, opts).map_err(|e| format!("start: {e}"))?;
    // Duplicate address detection on the links (RFC 4862 §5.4) first.
    std::thread::sleep(Duration::from_millis(1500));
    while let Some((step, rest)) = steps.split_first() {
        let (line, used) = match (step.as_str(), rest) {
            ("tcp", [a, n, ..]) => {
                (tcp(&node, addr(a)?, n.parse().map_err(|_| format!("{n}: not a count"))?), 2)
            }
            ("accept", [p, ..]) => (accept(&node, p.parse().map_err(|_| format!("{p}: not a port"))?), 1),
            ("udp", [a, ..]) => (udp(&node, addr(a)?), 1),
            ("wait-file", [p, ..]) => (wait_file(p), 1),
            _ => return Err(format!("bad step {step:?}")),
        };
        println!("{}", line?);
        steps = &rest[used..];
    }
    node.shutdown().map_err(|e| e.to_string())
}
