//! The SOCKS5 front end (RFC 1928 CONNECT): a host TCP listener whose clients
//! (curl --socks5, ssh -o ProxyCommand) get connections originated by the
//! stack. A task per client speaks SOCKS; the daemon's main loop, which owns
//! the `Stack`, opens the stack connection and pumps bytes both ways with
//! bounded channels, so a slow side stalls the other (TCP backpressure on
//! both sockets) instead of buffering without limit.

use crate::socks::{self, Command, Reply, Target};
use std::collections::VecDeque;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Notify};
use via6_core::socket::{Family, Proto, SocketHandle};
use via6_core::tcp::State;
use via6_core::{Errno, Instant, Stack};

/// Chunks in flight per direction per session.
const CHANNEL_CHUNKS: usize = 16;
const CHUNK: usize = 16 * 1024;

/// Where a client wants to go.
pub enum Dest {
    /// An address.
    Addr(SocketAddr),
    /// A name to resolve through the stack, and the port.
    Name(String, u16),
}

/// A UDP ASSOCIATE (RFC 1928 §7): datagrams from the client to send through
/// the stack, and what the stack received to hand back.
pub struct Associate {
    from_client: mpsc::Receiver<(SocketAddr, Vec<u8>)>,
    to_client: mpsc::Sender<(SocketAddr, Vec<u8>)>,
}

/// A TCP CONNECT: where to, and the byte channels of the relay.
pub struct Connect {
    target: Dest,
    from_client: mpsc::Receiver<Vec<u8>>,
    to_client: mpsc::Sender<Vec<u8>>,
}

/// What a client asks the main loop for.
pub enum Request {
    /// CONNECT.
    Connect(Connect),
    /// UDP ASSOCIATE.
    Associate(Associate),
}

/// A client's request and where to send the outcome (the bound address).
pub struct Open {
    request: Request,
    reply: oneshot::Sender<Result<SocketAddr, Errno>>,
}

/// Accepts SOCKS clients on `listener`; each session is handed to the main
/// loop through `open`; `wake` nudges the main loop when client data arrives.
pub async fn serve(listener: TcpListener, open: mpsc::Sender<Open>, wake: Arc<Notify>, have_dns: bool) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(_) => {
                // Out of descriptors (EMFILE/ENFILE): accept fails again at
                // once while the connection stays queued; wait instead of
                // spinning the runtime's one thread (which drives the node).
                tokio::time::sleep(crate::daemon::ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let open = open.clone();
        let wake = wake.clone();
        tokio::spawn(async move {
            if let Err(e) = client(stream, open, wake, have_dns).await {
                crate::log_line!("via6: socks client {peer}: {e}");
            }
        });
    }
}

async fn read_until<T>(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    parse: impl Fn(&[u8]) -> Result<Option<T>, socks::SocksError>,
) -> Result<T, String> {
    loop {
        if let Some(v) = parse(buf).map_err(|e| e.to_string())? {
            return Ok(v);
        }
        if buf.len() > 1024 {
            return Err("SOCKS message too long".into());
        }
        let mut chunk = [0u8; 512];
        let n = s.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("client closed during the handshake".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn client(
    mut s: TcpStream,
    open: mpsc::Sender<Open>,
    wake: Arc<Notify>,
    have_dns: bool,
) -> Result<(), String> {
    let mut buf = Vec::new();
    let (no_auth, used) = read_until(&mut s, &mut buf, socks::parse_greeting).await?;
    buf.drain(..used);
    s.write_all(&[socks::VERSION, if no_auth { socks::METHOD_NO_AUTH } else { socks::METHOD_NONE }])
        .await
        .map_err(|e| e.to_string())?;
    if !no_auth {
        return Err("client offers no acceptable method".into());
    }
    let (cmd, target, used) = read_until(&mut s, &mut buf, socks::parse_request).await?;
    buf.drain(..used);
    let unspecified: SocketAddr = "0.0.0.0:0".parse().map_err(|_| "address")?;
    let fail = |code: Reply| socks::reply(code, unspecified);
    let target = match (cmd, target) {
        (Command::Connect, Target::Addr(a)) => Dest::Addr(a),
        (Command::Connect, Target::Domain(name, port)) if have_dns => Dest::Name(name, port),
        (Command::Connect, Target::Domain(name, _)) => {
            // With no [dns] servers configured, names are refused (RFC 1928
            // reply 8, "address type not supported").
            let _ = s.write_all(&fail(Reply::AddressTypeNotSupported)).await;
            return Err(format!("refused domain name {name}: no [dns] servers configured"));
        }
        (Command::UdpAssociate, _) => return udp_associate(s, open, wake).await,
        (other, _) => {
            let _ = s.write_all(&fail(Reply::CommandNotSupported)).await;
            return Err(format!("command {other:?} not supported"));
        }
    };
    let shown = match &target {
        Dest::Addr(a) => a.to_string(),
        Dest::Name(n, p) => format!("{n}:{p}"),
    };
    let (from_tx, from_rx) = mpsc::channel(CHANNEL_CHUNKS);
    let (to_tx, mut to_rx) = mpsc::channel::<Vec<u8>>(CHANNEL_CHUNKS);
    let (reply_tx, reply_rx) = oneshot::channel();
    let request = Request::Connect(Connect { target, from_client: from_rx, to_client: to_tx });
    open.send(Open { request, reply: reply_tx }).await.map_err(|_| "daemon gone")?;
    wake.notify_one();
    match reply_rx.await.map_err(|_| "daemon gone")? {
        Ok(bound) => s.write_all(&socks::reply(Reply::Succeeded, bound)).await.map_err(|e| e.to_string())?,
        Err(errno) => {
            let _ = s.write_all(&fail(socks::reply_for(errno))).await;
            return Err(format!("connect {shown}: {errno:?} ({})", errno.text()));
        }
    }
    // Relay. Bytes the client sent after its request go first.
    let (mut rd, mut wr) = s.into_split();
    if !buf.is_empty() && from_tx.send(std::mem::take(&mut buf)).await.is_ok() {
        wake.notify_one();
    }
    let upstream = {
        let wake = wake.clone();
        async move {
            let mut chunk = vec![0u8; CHUNK];
            loop {
                match rd.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if from_tx.send(chunk[..n].to_vec()).await.is_err() {
                            break;
                        }
                        wake.notify_one();
                    }
                }
            }
            drop(from_tx);
            wake.notify_one();
        }
    };
    let downstream = async move {
        while let Some(data) = to_rx.recv().await {
            if wr.write_all(&data).await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    };
    tokio::join!(upstream, downstream);
    Ok(())
}

/// A name being resolved: the UDP socket, the query ids, what came back.
struct Resolving {
    udp: SocketHandle,
    port: u16,
    ids: [u16; 2],
    answered: [bool; 2],
    addrs: Vec<std::net::IpAddr>,
    deadline: Instant,
}

struct Session {
    /// A UDP association's stack socket and channels (no TCP then).
    assoc: Option<(SocketHandle, Associate)>,
    resolving: Option<Resolving>,
    handle: SocketHandle,
    reply: Option<oneshot::Sender<Result<SocketAddr, Errno>>>,
    from_client: Option<mpsc::Receiver<Vec<u8>>>,
    to_client: Option<mpsc::Sender<Vec<u8>>>,
    pending: VecDeque<u8>,
    shut_sent: bool,
}

/// The sessions the main loop drives.
#[derive(Default)]
pub struct Relay {
    sessions: Vec<Session>,
    /// The stub resolver's servers (`[dns] servers`), port 53.
    pub resolvers: Vec<SocketAddr>,
    next_id: u16,
}

/// How long a resolution may take.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

fn connect(stack: &mut Stack, target: SocketAddr, now: Instant) -> Result<SocketHandle, Errno> {
    let family = if target.is_ipv4() { Family::Inet } else { Family::Inet6 };
    let h = stack.socket(family, Proto::Tcp);
    match stack.tcp_connect(h, target, now) {
        Ok(()) => Ok(h),
        Err(e) => {
            crate::log_line!("via6: socks connect {target}: {}", e.reason);
            stack.close(h);
            Err(e.errno)
        }
    }
}

impl Relay {
    /// Starts a session: connects, or first resolves the name (AAAA and A
    /// queries through the stack to the first resolver).
    pub fn open(&mut self, stack: &mut Stack, o: Open, now: Instant) {
        let c = match o.request {
            Request::Connect(c) => c,
            Request::Associate(a) => return self.associate(stack, a, o.reply),
        };
        let (handle, resolving) = match c.target {
            Dest::Addr(a) => match connect(stack, a, now) {
                Ok(h) => (h, None),
                Err(errno) => {
                    let _ = o.reply.send(Err(errno));
                    return;
                }
            },
            Dest::Name(name, port) => match self.query(stack, &name, port, now) {
                Ok(r) => (SocketHandle(u32::MAX), Some(r)),
                Err(errno) => {
                    let _ = o.reply.send(Err(errno));
                    return;
                }
            },
        };
        self.sessions.push(Session {
            assoc: None,
            resolving,
            handle,
            reply: Some(o.reply),
            from_client: Some(c.from_client),
            to_client: Some(c.to_client),
            pending: VecDeque::new(),
            shut_sent: false,
        });
    }

    /// A UDP association: one dual AF_INET6 stack socket.
    fn associate(
        &mut self,
        stack: &mut Stack,
        a: Associate,
        reply: oneshot::Sender<Result<SocketAddr, Errno>>,
    ) {
        // A dual AF_INET6 socket carries both families (IPv4 as mapped).
        let h = stack.socket(Family::Inet6, Proto::Udp);
        let ok = stack
            .set_v6only(h, false)
            .and_then(|_| stack.bind(h, via6_core::socket::wildcard(Family::Inet6, 0)));
        if let Err(e) = ok {
            stack.close(h);
            let _ = reply.send(Err(e.errno));
            return;
        }
        let _ = reply.send(Ok(SocketAddr::from(([0, 0, 0, 0], 0))));
        self.sessions.push(Session {
            assoc: Some((h, a)),
            resolving: None,
            handle: h,
            reply: None,
            from_client: None,
            to_client: None,
            pending: VecDeque::new(),
            shut_sent: true,
        });
    }

    fn query(&mut self, stack: &mut Stack, name: &str, port: u16, now: Instant) -> Result<Resolving, Errno> {
        let server = *self.resolvers.first().ok_or(Errno::EADDRNOTAVAIL)?;
        let family = if server.is_ipv4() { Family::Inet } else { Family::Inet6 };
        let udp = stack.socket(family, Proto::Udp);
        let ids = [self.next_id, self.next_id.wrapping_add(1)];
        self.next_id = self.next_id.wrapping_add(2);
        let sent = (|| {
            stack.connect(udp, server).map_err(|e| e.errno)?;
            for (id, qtype) in ids.iter().zip([crate::dns::TYPE_AAAA, crate::dns::TYPE_A]) {
                let q = crate::dns::query(*id, name, qtype).map_err(|_| Errno::EINVAL)?;
                stack.udp_send_to(udp, &q, None, None, now).map_err(|e| e.errno)?;
            }
            Ok(())
        })();
        if let Err(errno) = sent {
            stack.close(udp);
            return Err(errno);
        }
        Ok(Resolving {
            udp,
            port,
            ids,
            answered: [false; 2],
            addrs: Vec::new(),
            deadline: now + RESOLVE_TIMEOUT,
        })
    }

    /// Collects answers; once both are in (or time is up), orders the
    /// addresses by RFC 6724 §6 and connects to the first.
    fn resolve_step(stack: &mut Stack, s: &mut Session, now: Instant) -> Result<bool, Errno> {
        let Some(r) = s.resolving.as_mut() else { return Ok(true) };
        while let Ok(d) = stack.udp_recv_from(r.udp) {
            for (i, id) in r.ids.iter().enumerate() {
                if let Ok(a) = crate::dns::answers(&d.data, *id) {
                    r.answered[i] = true;
                    r.addrs.extend(a);
                } else if d.data.len() >= 2 && u16::from_be_bytes([d.data[0], d.data[1]]) == *id {
                    r.answered[i] = true; // an error answer (NXDOMAIN): no addresses
                }
            }
        }
        if !(r.answered.iter().all(|a| *a) || now >= r.deadline) {
            return Ok(false);
        }
        stack.close(r.udp);
        let candidates: Vec<_> = r.addrs.iter().map(|a| (*a, None)).collect();
        let best =
            stack.sort_destinations(&candidates).into_iter().find(|d| !d.facts.unreachable).map(|d| d.dst);
        let port = r.port;
        s.resolving = None;
        let target = SocketAddr::new(best.ok_or(Errno::EHOSTUNREACH)?, port);
        s.handle = connect(stack, target, now)?;
        Ok(true)
    }

    /// Moves bytes both ways; answers connects; ends finished sessions.
    pub fn service(&mut self, stack: &mut Stack, now: Instant) {
        let mut buf = vec![0u8; CHUNK];
        self.sessions.retain_mut(|s| {
            if let Some((h, a)) = s.assoc.as_mut() {
                return Self::udp_step(stack, *h, a, now);
            }
            match Self::resolve_step(stack, s, now) {
                Ok(true) => {}
                Ok(false) => return true,
                Err(errno) => {
                    if let Some(r) = s.reply.take() {
                        let _ = r.send(Err(errno));
                    }
                    return false;
                }
            }
            let state = stack.tcp_state(s.handle);
            if s.reply.is_some() {
                match state {
                    Some(State::Established | State::CloseWait) => {
                        let bound = stack
                            .local_addr(s.handle)
                            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
                        if let Some(r) = s.reply.take() {
                            let _ = r.send(Ok(bound));
                        }
                    }
                    Some(State::SynSent | State::SynReceived) => return true,
                    _ => {
                        let errno = stack.tcp_error(s.handle).unwrap_or(Errno::ECONNREFUSED);
                        if let Some(r) = s.reply.take() {
                            let _ = r.send(Err(errno));
                        }
                        stack.close(s.handle);
                        return false;
                    }
                }
            }
            // Client → stack.
            while s.pending.len() < CHUNK * 4 {
                match s.from_client.as_mut().map(|rx| rx.try_recv()) {
                    Some(Ok(data)) => s.pending.extend(data),
                    Some(Err(mpsc::error::TryRecvError::Disconnected)) => {
                        s.from_client = None;
                        break;
                    }
                    Some(Err(mpsc::error::TryRecvError::Empty)) | None => break,
                }
            }
            while !s.pending.is_empty() {
                let (a, _) = s.pending.as_slices();
                match stack.tcp_send(s.handle, a, now) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        s.pending.drain(..n);
                    }
                }
            }
            if s.from_client.is_none() && s.pending.is_empty() && !s.shut_sent {
                let _ = stack.tcp_shutdown(s.handle, Shutdown::Write, now);
                s.shut_sent = true;
            }
            // Stack → client, only as fast as the client drains.
            while let Some(tx) = &s.to_client {
                if tx.capacity() == 0 {
                    break;
                }
                match stack.tcp_recv(s.handle, &mut buf, now) {
                    Ok(0) => s.to_client = None,
                    Ok(n) => {
                        let _ = tx.try_send(buf[..n].to_vec());
                    }
                    Err(e) if e.errno == Errno::EWOULDBLOCK => break,
                    Err(_) => s.to_client = None,
                }
            }
            let done = s.to_client.is_none() && s.shut_sent;
            if done {
                stack.tcp_close(s.handle, now);
            }
            !done
        });
    }

    /// Moves an association's datagrams; false once the client is gone.
    fn udp_step(stack: &mut Stack, h: SocketHandle, a: &mut Associate, now: Instant) -> bool {
        loop {
            match a.from_client.try_recv() {
                Ok((dst, data)) => {
                    let dst = match dst {
                        SocketAddr::V4(v4) => {
                            SocketAddr::new(std::net::IpAddr::V6(v4.ip().to_ipv6_mapped()), v4.port())
                        }
                        v6 => v6,
                    };
                    if let Err(e) = stack.udp_send_to(h, &data, Some(dst), None, now) {
                        crate::log_line!("via6: socks udp to {dst}: {}", e.reason);
                    }
                }
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    stack.close(h);
                    return false;
                }
            }
        }
        while a.to_client.capacity() > 0 {
            match stack.udp_recv_from(h) {
                Ok(d) => {
                    let from = match d.from {
                        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
                            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
                            None => SocketAddr::V6(v6),
                        },
                        v4 => v4,
                    };
                    let _ = a.to_client.try_send((from, d.data));
                }
                Err(_) => break,
            }
        }
        true
    }

    /// Whether any session is open.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

/// RFC 1928 §7: binds a host UDP socket for the client, relays its
/// datagrams (stripping and adding the SOCKS UDP header) until the client
/// closes its TCP connection. Fragmented datagrams (FRAG ≠ 0) are dropped.
async fn udp_associate(mut s: TcpStream, open: mpsc::Sender<Open>, wake: Arc<Notify>) -> Result<(), String> {
    let local_ip = s.local_addr().map_err(|e| e.to_string())?.ip();
    let udp = tokio::net::UdpSocket::bind(SocketAddr::new(local_ip, 0)).await.map_err(|e| e.to_string())?;
    let bound = udp.local_addr().map_err(|e| e.to_string())?;
    let (from_tx, from_rx) = mpsc::channel(CHANNEL_CHUNKS * 4);
    let (to_tx, mut to_rx) = mpsc::channel::<(SocketAddr, Vec<u8>)>(CHANNEL_CHUNKS * 4);
    let (reply_tx, reply_rx) = oneshot::channel();
    let request = Request::Associate(Associate { from_client: from_rx, to_client: to_tx });
    open.send(Open { request, reply: reply_tx }).await.map_err(|_| "daemon gone")?;
    wake.notify_one();
    if let Err(errno) = reply_rx.await.map_err(|_| "daemon gone")? {
        let _ = s.write_all(&socks::reply(socks::reply_for(errno), bound)).await;
        return Err(format!("udp associate: {errno:?}"));
    }
    s.write_all(&socks::reply(Reply::Succeeded, bound)).await.map_err(|e| e.to_string())?;
    let mut client: Option<SocketAddr> = None;
    let mut buf = vec![0u8; 65536];
    let mut ctl = [0u8; 64];
    loop {
        tokio::select! {
            r = s.read(&mut ctl) => {
                if matches!(r, Ok(0) | Err(_)) {
                    return Ok(()); // the association ends with the TCP connection
                }
            }
            r = udp.recv_from(&mut buf) => {
                let Ok((n, peer)) = r else { continue };
                client = Some(peer);
                let Ok((frag, t, hlen)) = socks::parse_udp_header(&buf[..n]) else { continue };
                let (0, Target::Addr(dst)) = (frag, t) else { continue };
                if from_tx.send((dst, buf[hlen..n].to_vec())).await.is_err() {
                    return Ok(());
                }
                wake.notify_one();
            }
            Some((from, data)) = to_rx.recv() => {
                if let Some(c) = client {
                    let mut out = socks::udp_header(from);
                    out.extend_from_slice(&data);
                    let _ = udp.send_to(&out, c).await;
                }
            }
        }
    }
}
