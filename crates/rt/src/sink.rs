//! The daemon's TCP sink service (`sink [-4|-6|-dual] PORT`, `sink-stats
//! PORT`): a listener on the stack that accepts every connection and reads
//! and discards what it receives, remembering who sent how many bytes — so
//! ordinary programs (nc, curl, iperf-like clients) can connect to a via6
//! listener.

use std::fmt::Write as _;
use via6_core::socket::{Family, Proto, SocketHandle};
use via6_core::{Errno, Instant, Stack};

struct Conn {
    handle: SocketHandle,
    peer: String,
    bytes: u64,
}

struct Sink {
    family: Family,
    port: u16,
    listener: SocketHandle,
    open: Vec<Conn>,
    closed: Vec<(String, u64)>,
}

/// Every sink of the daemon.
#[derive(Default)]
pub struct Sinks {
    sinks: Vec<Sink>,
}

impl Sinks {
    /// `sink [-4|-6|-dual] PORT`: listens (AF_INET6 with V6ONLY off by
    /// default, so IPv4 arrives as `::ffff:a.b.c.d`).
    pub fn start(&mut self, stack: &mut Stack, args: &[String]) -> Result<String, String> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (family, v6only, port) = match args[..] {
            ["-4", p] => (Family::Inet, false, p),
            ["-6", p] => (Family::Inet6, true, p),
            ["-dual", p] | [p] => (Family::Inet6, false, p),
            _ => return Err("usage: sink [-4|-6|-dual] PORT".into()),
        };
        let port: u16 = port.parse().map_err(|_| format!("sink: `{port}` is not a port"))?;
        let h = stack.socket(family, Proto::Tcp);
        let r = (|| {
            if family == Family::Inet6 {
                stack.set_v6only(h, v6only)?;
            }
            stack.bind(h, via6_core::socket::wildcard(family, port))?;
            stack.tcp_listen(h, 128)?;
            stack.local_addr(h)
        })();
        match r {
            Ok(local) => {
                self.sinks.push(Sink { family, port, listener: h, open: Vec::new(), closed: Vec::new() });
                Ok(format!("sink listening on {local}\n"))
            }
            Err(e) => {
                stack.close(h);
                Err(format!("sink: {e}"))
            }
        }
    }

    /// `sink-stats PORT`: connections seen, with their peers and bytes.
    pub fn stats(&self, args: &[String]) -> Result<String, String> {
        let port: u16 = args.first().and_then(|p| p.parse().ok()).ok_or("usage: sink-stats PORT")?;
        let mut out = String::new();
        for s in self.sinks.iter().filter(|s| s.port == port) {
            for (peer, bytes) in &s.closed {
                let _ = writeln!(out, "closed {peer} {bytes} bytes");
            }
            for c in &s.open {
                let _ = writeln!(out, "open {} {} bytes", c.peer, c.bytes);
            }
        }
        if out.is_empty() {
            out.push_str("no connections\n");
        }
        Ok(out)
    }

    /// Accepts and drains; returns whether anything happened.
    pub fn service(&mut self, stack: &mut Stack, now: Instant) -> bool {
        let mut busy = false;
        let mut buf = [0u8; 16384];
        for s in &mut self.sinks {
            while let Some(h) = stack.tcp_accept(s.listener) {
                // Peers in the listener's family, as getpeername(2) shows
                // them: IPv4 on an AF_INET6 socket is `::ffff:a.b.c.d`.
                let peer = stack.tcp_peer(h).map_or("?".into(), |(ip, port)| match (s.family, ip) {
                    (Family::Inet6, std::net::IpAddr::V4(v4)) => format!("[{}]:{port}", v4.to_ipv6_mapped()),
                    _ => format!("[{ip}]:{port}"),
                });
                s.open.push(Conn { handle: h, peer, bytes: 0 });
                busy = true;
            }
            let mut i = 0;
            while i < s.open.len() {
                let c = &mut s.open[i];
                let mut finished = false;
                loop {
                    match stack.tcp_recv(c.handle, &mut buf, now) {
                        Ok(0) => {
                            finished = true;
                            break;
                        }
                        Ok(n) => {
                            c.bytes += n as u64;
                            busy = true;
                        }
                        Err(e) if e.errno == Errno::EWOULDBLOCK => break,
                        Err(_) => {
                            finished = true;
                            break;
                        }
                    }
                }
                if finished {
                    let c = s.open.swap_remove(i);
                    stack.tcp_close(c.handle, now);
                    s.closed.push((c.peer, c.bytes));
                    if s.closed.len() > 256 {
                        s.closed.remove(0);
                    }
                } else {
                    i += 1;
                }
            }
        }
        busy
    }
}
