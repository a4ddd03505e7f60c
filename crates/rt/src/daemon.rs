//! `via6 up`: the node of a config file on real TAP/TUN devices, driven by a
//! real clock, with a control socket. One tokio current-thread runtime: an
//! accept task for the control socket and the main loop that drives the
//! `Stack` and reads and writes the devices itself (no reader tasks, no
//! channel, no buffer per frame). The stack sits behind a mutex in a
//! [`DaemonHost`] so the socket APIs of [`crate::net`] can use it from other
//! threads; the core itself stays single-threaded (one caller at a time).

use crate::clock::Clock;
use crate::device::{self, DeviceKind};
use crate::net::daemon_host::DaemonHost;
use std::cell::Cell;
use std::collections::HashMap;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;
use tokio::sync::{mpsc, oneshot};
use tun_rs::AsyncDevice;
use via6_core::{IfIndex, Instant, Stack, TxFrame};
use via6_lab::config::{InterfaceKind, NodeSpec};
use via6_lab::pcapng::{PcapngWriter, LINKTYPE_ETHERNET, LINKTYPE_RAW};
use via6_lab::probe::Probe;

/// How to run the daemon.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to write one pcapng file per interface.
    pub pcap: Option<PathBuf>,
    /// The control socket path.
    pub control: PathBuf,
}

type Reply = oneshot::Sender<Result<String, String>>;

struct Capture {
    writer: PcapngWriter<BufWriter<std::fs::File>>,
    id: u32,
    /// Written since the last flush.
    dirty: bool,
}

/// How the main loop runs: `via6 up` (signals, a control socket) or an
/// embedded [`crate::Node`] (no signals, control socket optional).
pub(crate) struct LoopConfig {
    pub(crate) pcap: Option<PathBuf>,
    pub(crate) control: Option<PathBuf>,
    pub(crate) signals: bool,
}

/// Runs the node until SIGINT or SIGTERM.
pub async fn run(spec: NodeSpec, opts: Options) -> Result<(), String> {
    run_loop(spec, LoopConfig { pcap: opts.pcap, control: Some(opts.control), signals: true }, None).await
}

type Started = std::sync::mpsc::Sender<Result<Arc<DaemonHost>, String>>;

/// The main loop. The `Stack` lives in a [`DaemonHost`] shared with socket
/// API users: each iteration locks it once (every frame the devices hold, as
/// one batch; then poll, services, output, route events, waking ready API
/// waiters), then sends the frames and waits for a readable device, a
/// control request, a kick from an API call or a timer.
pub(crate) async fn run_loop(
    spec: NodeSpec,
    cfg: LoopConfig,
    started: Option<Started>,
) -> Result<(), String> {
    let clock = Clock::new();
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    let built = via6_lab::node::build_stack(&spec, seed, clock.now()).map_err(|e| e.to_string())?;
    let host = Arc::new(DaemonHost::new(built.stack, clock));
    host.set_driver();
    let mut ports: Vec<Port> = Vec::new();
    let mut captures: HashMap<IfIndex, Capture> = HashMap::new();
    for (i, iface) in spec.interfaces.iter().enumerate() {
        let kind = match iface.kind {
            InterfaceKind::Tap => DeviceKind::Tap,
            InterfaceKind::Tun => DeviceKind::Tun,
            InterfaceKind::Loopback => continue,
            InterfaceKind::Lab => {
                return Err(format!("interface {}: kind \"lab\" exists only in lab topologies", iface.name))
            }
        };
        let ifindex = built.ifindex[i];
        let name = iface.device.clone().unwrap_or_else(|| iface.name.clone());
        let dev = Arc::new(
            device::open(&name, kind).map_err(|e| format!("interface {}: device {name}: {e}", iface.name))?,
        );
        if let Some(dir) = &cfg.pcap {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let path = dir.join(format!("{}-{}.pcapng", spec.name, iface.name));
            let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut writer = PcapngWriter::new(BufWriter::new(file)).map_err(|e| e.to_string())?;
            let lt = if kind == DeviceKind::Tap { LINKTYPE_ETHERNET } else { LINKTYPE_RAW };
            let id = writer.add_interface(lt, &iface.name).map_err(|e| e.to_string())?;
            captures.insert(ifindex, Capture { writer, id, dirty: false });
        }
        ports.push(Port { ifindex, dev, backoff: Cell::new(None), tx_errors: Cell::new((0, None)) });
    }
    let (ctl_tx, mut ctl_rx) = mpsc::channel::<(Vec<String>, Reply)>(64);
    let (mon_tx, mut mon_rx) = mpsc::channel::<mpsc::Sender<String>>(16);
    if let Some(control) = &cfg.control {
        let listener = bind_control(control)?;
        tokio::spawn(accept_loop(listener, ctl_tx, mon_tx));
    }
    let mut monitors: Vec<mpsc::Sender<String>> = Vec::new();
    // The route table as the monitors last saw it: taken only while a
    // monitor listens (a snapshot and its diff cost O(routes)).
    let mut routes_seen: (u64, Option<Vec<(String, String)>>) = (host.lock().routes().generation(), None);
    match &cfg.control {
        Some(c) => crate::log_line!("via6: node {} up; control socket {}", spec.name, c.display()),
        None => crate::log_line!("via6: node {} up", spec.name),
    }
    let mut sigterm = if cfg.signals {
        Some(
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let mut probes: Vec<(Box<dyn Probe + Send>, Reply)> = Vec::new();
    let mut sinks = crate::sink::Sinks::default();
    let mut relay = crate::socks_server::Relay::default();
    for d in &spec.dns {
        relay.resolvers.push(match d {
            via6_lab::config::HostAddr::V4(a) => std::net::SocketAddr::new((*a).into(), 53),
            via6_lab::config::HostAddr::V6 { addr, iface } => {
                std::net::SocketAddr::V6(std::net::SocketAddrV6::new(
                    *addr,
                    53,
                    0,
                    iface.and_then(|i| built.ifindex.get(i)).map_or(0, |x| x.0),
                ))
            }
        });
    }
    let socks_wake = Arc::new(tokio::sync::Notify::new());
    let (socks_tx, mut socks_rx) = mpsc::channel::<crate::socks_server::Open>(64);
    if let Some(addr) = spec.socks {
        let l =
            tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("[socks] listen {addr}: {e}"))?;
        crate::log_line!("via6: SOCKS5 on {addr}");
        tokio::spawn(crate::socks_server::serve(l, socks_tx, socks_wake.clone(), !spec.dns.is_empty()));
    }
    if let Some(s) = started {
        let _ = s.send(Ok(host.clone()));
    }
    let mut frames = Vec::new();
    // One receive buffer for every device: `Stack::receive_burst` copies
    // what it keeps, so a frame needs no allocation of its own; twice RX_BUF
    // so that a burst of frames fits.
    let mut rx_buf = vec![0u8; 2 * RX_BUF];
    loop {
        let now = clock.now();
        let wake = {
            let mut guard = host.lock();
            let stack = &mut *guard;
            // Everything the devices hold goes in as one batch before the
            // stack is polled, so its timers and output see the batch whole.
            let backoff = drain(&ports, stack, &mut rx_buf, &mut captures, now);
            let mut next = stack.poll(now);
            sinks.service(stack, now);
            relay.service(stack, now);
            if !relay.is_empty() {
                // Sessions may be waiting on window space or timers: look again soon.
                next = via6_core::time::earliest(next, Some(now + Duration::from_millis(10)));
            }
            let mut i = 0;
            while i < probes.len() {
                match probes[i].0.step(stack, now) {
                    Some(t) => {
                        next = via6_core::time::earliest(next, Some(t));
                        i += 1;
                    }
                    None => {
                        let (p, reply) = probes.swap_remove(i);
                        let _ = reply.send(Ok(p.finish(stack)));
                    }
                }
            }
            while let Some(frame) = stack.transmit() {
                frames.push(frame);
            }
            if stack.routes().generation() != routes_seen.0 {
                let generation = stack.routes().generation();
                monitors.retain(|m| !m.is_closed());
                if monitors.is_empty() {
                    routes_seen = (generation, None);
                } else {
                    let now_routes = via6_lab::control::route_snapshot(stack);
                    if let Some(before) = &routes_seen.1 {
                        let changes = via6_lab::control::route_changes(before, &now_routes);
                        monitors.retain(|m| changes.iter().all(|c| m.try_send(c.clone()).is_ok()));
                    }
                    routes_seen = (generation, Some(now_routes));
                }
            }
            for l in stack.take_logs() {
                crate::log_line!("via6: {}: {}", spec.name, l.text);
            }
            host.wake_ready(stack);
            let wake = next.map_or(clock.to_std(now) + Duration::from_secs(1), |t| {
                clock.to_std(t).max(std::time::Instant::now())
            });
            backoff.map_or(wake, |b| b.min(wake))
        };
        if !frames.is_empty() {
            // A device that never becomes writable must not keep the node
            // from shutting down.
            tokio::select! {
                _ = flush(&mut frames, &ports, &mut captures, &clock) => {}
                _ = host.shutdown.notified() => break,
            }
            let mut stack = host.lock();
            for f in frames.drain(..) {
                stack.recycle(f);
            }
        }
        // Keep the captures readable while the daemon runs.
        for c in captures.values_mut().filter(|c| c.dirty) {
            let _ = c.writer.flush();
            c.dirty = false;
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c(), if cfg.signals => break,
            _ = async { match sigterm.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => break,
            _ = host.shutdown.notified() => break,
            _ = host.kick.notified() => {}
            // Frames are read at the top of the next iteration.
            _ = readable(&ports) => {}
            Some(m) = mon_rx.recv() => {
                if routes_seen.1.is_none() {
                    let stack = host.lock();
                    routes_seen = (stack.routes().generation(), Some(via6_lab::control::route_snapshot(&stack)));
                }
                monitors.push(m);
            }
            Some(o) = socks_rx.recv() => relay.open(&mut host.lock(), o, clock.now()),
            _ = socks_wake.notified() => {}
            Some((words, reply)) = ctl_rx.recv() => {
                let mut stack = host.lock();
                match words.first().map(String::as_str) {
                    Some("sink") => {
                        let _ = reply.send(sinks.start(&mut stack, &words[1..]));
                    }
                    Some("sink-stats") => {
                        let _ = reply.send(sinks.stats(&words[1..]));
                    }
                    _ => {
                        if let Some(p) = handle(&mut stack, words, reply) {
                            probes.push(p);
                        }
                    }
                }
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {}
        }
    }
    host.stop();
    for c in captures.values_mut() {
        let _ = c.writer.flush();
    }
    if let Some(c) = &cfg.control {
        let _ = std::fs::remove_file(c);
    }
    crate::log_line!("via6: node {} down", spec.name);
    Ok(())
}

/// The largest frame read from a device (a TUN/TAP read never returns more
/// than one frame): the largest MTU the kernel allows on them (65 535 less
/// the Ethernet header) plus the header and a VLAN tag, with room to spare.
const RX_BUF: usize = 65536 + 64;

/// At most this many frames are read from one device per iteration: the
/// stack's output (ACKs, window updates) must not wait behind an endless
/// stream of input.
const RX_BATCH: usize = 256;
/// Frames per `Stack::receive_burst` call.
const RX_BURST: usize = 32;

/// How long a device whose read failed is left alone before it is tried again.
const RX_BACKOFF: Duration = Duration::from_millis(100);

/// How long the control socket and the SOCKS front end wait after a
/// failed accept (out of descriptors, it fails again at once).
pub(crate) const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Control connections open at once; one more is told so and closed.
const MAX_CONTROL_CONNECTIONS: usize = 64;

/// Device write errors are logged at most once per this interval per
/// device (with the count of the ones not logged).
const TX_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(1);

/// A device frames are read from without waiting (a TUN/TAP device; a
/// scripted one in the tests).
trait TryRecv {
    /// One frame into `buf`, or `WouldBlock` when none is waiting.
    fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<usize>;
}

impl TryRecv for AsyncDevice {
    fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        AsyncDevice::try_recv(self, buf)
    }
}

/// An open device of the node.
struct Port<D = AsyncDevice> {
    ifindex: IfIndex,
    dev: Arc<D>,
    /// Reads failed: not read (nor waited on) until then.
    backoff: Cell<Option<std::time::Instant>>,
    /// Write errors not logged yet, and when one was last logged.
    tx_errors: Cell<(u64, Option<std::time::Instant>)>,
}

impl<D> Port<D> {
    /// Logs a write error, at most once per [`TX_ERROR_LOG_INTERVAL`]
    /// (a device failing every write must not flood stderr, one line a
    /// frame, nor block the loop on a slow stderr).
    fn tx_error(&self, e: &std::io::Error) {
        let (missed, last) = self.tx_errors.get();
        let now = std::time::Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < TX_ERROR_LOG_INTERVAL) {
            self.tx_errors.set((missed + 1, last));
            return;
        }
        if missed > 0 {
            crate::log_line!(
                "via6: device write on interface {}: {e} ({missed} more not logged)",
                self.ifindex
            );
        } else {
            crate::log_line!("via6: device write on interface {}: {e}", self.ifindex);
        }
        self.tx_errors.set((0, Some(now)));
    }
}

/// Reads what every device holds now (at most [`RX_BATCH`] frames each) into
/// the stack, without waiting; returns the earliest end of a read backoff.
fn drain<D: TryRecv>(
    ports: &[Port<D>],
    stack: &mut Stack,
    buf: &mut [u8],
    captures: &mut HashMap<IfIndex, Capture>,
    now: Instant,
) -> Option<std::time::Instant> {
    let mut earliest: Option<std::time::Instant> = None;
    for p in ports {
        if let Some(until) = p.backoff.get() {
            if std::time::Instant::now() < until {
                earliest = Some(earliest.map_or(until, |e| e.min(until)));
                continue;
            }
            p.backoff.set(None);
        }
        // Frames are packed one after another into `buf` and handed over in
        // bursts (`Stack::receive_burst`: one batched route lookup each); a
        // read always gets at least RX_BUF bytes, so nothing is truncated.
        let mut spans = [(0usize, 0usize); RX_BURST];
        let (mut off, mut k) = (0, 0);
        for _ in 0..RX_BATCH {
            if k == RX_BURST || buf.len() - off < RX_BUF {
                receive_burst(stack, p.ifindex, buf, &spans[..k], now);
                (off, k) = (0, 0);
            }
            match p.dev.try_recv(&mut buf[off..]) {
                Ok(n) => {
                    capture(captures, p.ifindex, now, &buf[off..off + n], true);
                    spans[k] = (off, n);
                    k += 1;
                    off += n;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    crate::log_line!("via6: device read on interface {}: {e}", p.ifindex);
                    let until = std::time::Instant::now() + RX_BACKOFF;
                    p.backoff.set(Some(until));
                    earliest = Some(earliest.map_or(until, |e| e.min(until)));
                    break;
                }
            }
        }
        receive_burst(stack, p.ifindex, buf, &spans[..k], now);
    }
    earliest
}

/// Hands the frames at `spans` (offset, length) of `buf` to the stack as one
/// burst.
fn receive_burst(stack: &mut Stack, ifindex: IfIndex, buf: &[u8], spans: &[(usize, usize)], now: Instant) {
    let mut frames: [&[u8]; RX_BURST] = [&[]; RX_BURST];
    for (f, &(o, n)) in frames.iter_mut().zip(spans) {
        *f = &buf[o..o + n];
    }
    stack.receive_burst(ifindex, &frames[..spans.len()], now);
}

/// Resolves when any device not in backoff is readable (or reports an error,
/// which puts it in backoff: the next [`drain`] skips it for a while).
fn readable(ports: &[Port]) -> impl std::future::Future<Output = ()> + '_ {
    std::future::poll_fn(move |cx| {
        for p in ports.iter().filter(|p| p.backoff.get().is_none()) {
            match p.dev.poll_readable(cx) {
                Poll::Ready(Ok(())) => return Poll::Ready(()),
                Poll::Ready(Err(e)) => {
                    crate::log_line!("via6: device on interface {}: {e}", p.ifindex);
                    p.backoff.set(Some(std::time::Instant::now() + RX_BACKOFF));
                    return Poll::Ready(());
                }
                Poll::Pending => {}
            }
        }
        Poll::Pending
    })
}

fn capture(
    captures: &mut HashMap<IfIndex, Capture>,
    ifindex: IfIndex,
    at: Instant,
    data: &[u8],
    inbound: bool,
) {
    if captures.is_empty() {
        return;
    }
    if let Some(c) = captures.get_mut(&ifindex) {
        let _ = c.writer.write_packet_dir(c.id, at, data, Some(inbound));
        c.dirty = true;
    }
}

async fn flush(
    frames: &mut [TxFrame],
    ports: &[Port],
    captures: &mut HashMap<IfIndex, Capture>,
    clock: &Clock,
) {
    for frame in frames.iter() {
        if let Some(port) = ports.iter().find(|p| p.ifindex == frame.ifindex) {
            if !captures.is_empty() {
                capture(captures, frame.ifindex, clock.now(), frame.data(), false);
            }
            if let Err(e) = port.dev.send(frame.data()).await {
                port.tx_error(&e);
            }
        }
    }
}

fn bind_control(path: &PathBuf) -> Result<UnixListener, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(format!("{}: another daemon is listening there", path.display()));
        }
        std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    UnixListener::bind(path).map_err(|e| format!("{}: {e}", path.display()))
}

async fn accept_loop(
    listener: UnixListener,
    ctl: mpsc::Sender<(Vec<String>, Reply)>,
    mon: mpsc::Sender<mpsc::Sender<String>>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONTROL_CONNECTIONS));
    loop {
        let conn = match listener.accept().await {
            Ok((conn, _)) => conn,
            Err(_) => {
                // Out of descriptors (EMFILE/ENFILE): the connection stays
                // queued and accept fails again at once; wait instead of
                // spinning the runtime's one thread.
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        // Bounded: idle clients cannot hold every descriptor of the
        // process (the devices, the SOCKS front end need theirs).
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            let (_, mut wr) = conn.into_split();
            let busy = Err(format!("too many control connections (at most {MAX_CONTROL_CONNECTIONS})"));
            let mut out = crate::control::reply(&busy);
            out.push('\n');
            // Best effort, never waiting on a client that does not read.
            let _ = tokio::time::timeout(ACCEPT_BACKOFF, wr.write_all(out.as_bytes())).await;
            continue;
        };
        let ctl = ctl.clone();
        let mon = mon.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let (rd, mut wr) = conn.into_split();
            let mut reader = BufReader::new(rd);
            loop {
                // Bounded: a line longer than MAX_REQUEST is refused, and the
                // connection closed, without buffering more of it.
                let mut bytes = Vec::new();
                let limit = crate::control::MAX_REQUEST as u64 + 1;
                match (&mut reader).take(limit).read_until(b'\n', &mut bytes).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let overlong = bytes.last() != Some(&b'\n') && bytes.len() as u64 >= limit;
                let line = String::from_utf8_lossy(&bytes).into_owned();
                if line.trim().is_empty() {
                    continue;
                }
                let not_utf8 = std::str::from_utf8(&bytes).is_err();
                let result = if overlong {
                    Err(format!("request longer than {} bytes", crate::control::MAX_REQUEST))
                } else if not_utf8 {
                    Err("request is not UTF-8".to_string())
                } else {
                    match crate::control::parse_request(line.trim_end()) {
                        Err(e) => Err(e),
                        Ok(words) if words == ["route", "monitor"] => {
                            // Stream route changes until the client goes away.
                            let (tx, mut rx) = mpsc::channel::<String>(256);
                            if mon.send(tx).await.is_err() {
                                return;
                            }
                            while let Some(event) = rx.recv().await {
                                let mut out = crate::control::event(&event);
                                out.push('\n');
                                if wr.write_all(out.as_bytes()).await.is_err() {
                                    return;
                                }
                            }
                            return;
                        }
                        Ok(words) => {
                            let (tx, rx) = oneshot::channel();
                            if ctl.send((words, tx)).await.is_err() {
                                return;
                            }
                            rx.await.unwrap_or_else(|_| Err("the daemon is shutting down".into()))
                        }
                    }
                };
                let mut out = crate::control::reply(&result);
                out.push('\n');
                if wr.write_all(out.as_bytes()).await.is_err() || overlong {
                    return;
                }
            }
        });
    }
}

/// Runs a control request against the stack; `ping` and `traceroute` become
/// probes driven by the main loop, answered when they finish.
fn handle(stack: &mut Stack, words: Vec<String>, reply: Reply) -> Option<(Box<dyn Probe + Send>, Reply)> {
    let (verb, args) = words.split_first()?;
    match via6_lab::probe::start(stack, verb, args) {
        Some(Ok(p)) => return Some((p, reply)),
        Some(Err(e)) => {
            let _ = reply.send(Err(e));
            return None;
        }
        None => {}
    }
    let result = via6_lab::control::run(stack, verb, args).map_err(|e| e.to_string());
    let _ = reply.send(result);
    None
}

/// Runs the daemon on a current-thread tokio runtime until a signal.
pub fn run_blocking(spec: NodeSpec, opts: Options) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(run(spec, opts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::io;
    use std::sync::Mutex;

    /// A device that hands out scripted reads, then `WouldBlock`.
    struct Script(Mutex<VecDeque<io::Result<Vec<u8>>>>);

    impl TryRecv for Script {
        fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.lock().expect("script").pop_front() {
                None => Err(io::ErrorKind::WouldBlock.into()),
                Some(Err(e)) => Err(e),
                Some(Ok(f)) => {
                    buf[..f.len()].copy_from_slice(&f);
                    Ok(f.len())
                }
            }
        }
    }

    fn stack() -> (Stack, IfIndex, Clock) {
        let text = "[node]\nname = \"t\"\n[[interface]]\nname = \"tap0\"\nkind = \"tap\"\n\
                    mac = \"02:00:00:00:00:01\"\naddresses = [\"10.77.0.2/24\"]\n";
        let spec = via6_lab::config::NodeConfig::from_toml(text).and_then(|c| c.validate()).expect("config");
        let clock = Clock::new();
        let built = via6_lab::node::build_stack(&spec, 1, clock.now()).expect("stack");
        (built.stack, built.ifindex[0], clock)
    }

    /// An ARP request (RFC 826) from 10.77.0.1 for 10.77.0.2, padded to 60 bytes.
    fn arp_request() -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[2, 0, 0, 0, 0, 2, 0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]);
        f.extend_from_slice(&[2, 0, 0, 0, 0, 2, 10, 77, 0, 1, 0, 0, 0, 0, 0, 0, 10, 77, 0, 2]);
        f.resize(60, 0);
        f
    }

    /// ARP replies the stack queued.
    fn arp_replies(stack: &mut Stack) -> usize {
        let mut n = 0;
        while let Some(f) = stack.transmit() {
            let d = f.data();
            if d.len() >= 22 && d[12..14] == [0x08, 0x06] && d[20..22] == [0, 2] {
                n += 1;
            }
            stack.recycle(f);
        }
        n
    }

    fn port(ifindex: IfIndex, reads: Vec<io::Result<Vec<u8>>>) -> Port<Script> {
        Port {
            ifindex,
            dev: Arc::new(Script(Mutex::new(reads.into()))),
            backoff: Cell::new(None),
            tx_errors: Cell::new((0, None)),
        }
    }

    #[test]
    fn drain_reads_at_most_a_batch_per_device_and_the_rest_next_time() {
        let (mut stack, ifindex, clock) = stack();
        let ports = [port(ifindex, (0..RX_BATCH + 10).map(|_| Ok(arp_request())).collect())];
        let mut buf = vec![0u8; RX_BUF];
        let mut captures = HashMap::new();
        assert_eq!(drain(&ports, &mut stack, &mut buf, &mut captures, clock.now()), None);
        assert_eq!(arp_replies(&mut stack), RX_BATCH);
        assert_eq!(ports[0].dev.0.lock().expect("script").len(), 10);
        assert_eq!(drain(&ports, &mut stack, &mut buf, &mut captures, clock.now()), None);
        assert_eq!(arp_replies(&mut stack), 10);
        assert!(ports[0].dev.0.lock().expect("script").is_empty());
    }

    #[test]
    fn drain_packs_bursts_into_the_daemons_buffer_and_loses_no_frame() {
        // The daemon's 2 × RX_BUF buffer: frames go over in bursts of
        // RX_BURST packed one after another; every one is answered, in order.
        let (mut stack, ifindex, clock) = stack();
        let ports = [port(ifindex, (0..RX_BATCH + 10).map(|_| Ok(arp_request())).collect())];
        let mut buf = vec![0u8; 2 * RX_BUF];
        let mut captures = HashMap::new();
        assert_eq!(drain(&ports, &mut stack, &mut buf, &mut captures, clock.now()), None);
        assert_eq!(arp_replies(&mut stack), RX_BATCH);
        assert_eq!(drain(&ports, &mut stack, &mut buf, &mut captures, clock.now()), None);
        assert_eq!(arp_replies(&mut stack), 10);
        assert!(ports[0].dev.0.lock().expect("script").is_empty());
    }

    #[test]
    fn a_failing_device_is_left_alone_for_a_while_and_others_still_read() {
        let (mut stack, ifindex, clock) = stack();
        let failing = vec![
            Ok(arp_request()),
            Err(io::Error::from(io::ErrorKind::Interrupted)),
            Ok(arp_request()),
            Err(io::Error::other("device gone")),
            Ok(arp_request()),
        ];
        let ports = [port(ifindex, failing), port(ifindex, vec![Ok(arp_request())])];
        let mut buf = vec![0u8; RX_BUF];
        let mut captures = HashMap::new();
        let before = std::time::Instant::now();
        let until = drain(&ports, &mut stack, &mut buf, &mut captures, clock.now()).expect("a backoff");
        assert!(until >= before + RX_BACKOFF);
        assert_eq!(ports[0].backoff.get(), Some(until));
        // Two from the failing device (EINTR is retried), one from the other.
        assert_eq!(arp_replies(&mut stack), 3);
        // Still in backoff: its last frame waits; the deadline is reported again.
        assert_eq!(drain(&ports, &mut stack, &mut buf, &mut captures, clock.now()), Some(until));
        assert_eq!(arp_replies(&mut stack), 0);
        // Backoff over: read again.
        ports[0].backoff.set(Some(std::time::Instant::now()));
        assert_eq!(drain(&ports, &mut stack, &mut buf, &mut captures, clock.now()), None);
        assert_eq!(arp_replies(&mut stack), 1);
        assert_eq!(ports[0].backoff.get(), None);
    }
}

#[cfg(test)]
mod tx_error_tests {
    use super::*;

    #[test]
    fn write_errors_are_logged_at_most_once_an_interval_with_the_count() {
        let p = Port {
            ifindex: IfIndex(1),
            dev: Arc::new(()),
            backoff: Cell::new(None),
            tx_errors: Cell::new((0, None)),
        };
        let e = std::io::Error::other("device gone");
        p.tx_error(&e);
        let (missed, first) = p.tx_errors.get();
        assert_eq!(missed, 0);
        let first = first.expect("the first error is logged");
        for _ in 0..1000 {
            p.tx_error(&e);
        }
        assert_eq!(p.tx_errors.get(), (1000, Some(first)));
        // An interval later the next one is logged, with the count.
        p.tx_errors.set((1000, Some(first - TX_ERROR_LOG_INTERVAL)));
        p.tx_error(&e);
        let (missed, last) = p.tx_errors.get();
        assert_eq!(missed, 0);
        assert!(last.is_some_and(|t| t > first));
    }
}
