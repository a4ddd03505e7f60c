//! The TCP socket calls: listen, accept, connect, send, recv, shutdown,
//! close, options and state. Errors are errno-like: ECONNREFUSED after a RST
//! answered our SYN, ECONNRESET after a RST, ETIMEDOUT after the retry limit,
//! EWOULDBLOCK when a call would block.

use super::{Proto, SocketHandle};
use crate::errno::{bad, Errno, StackResult};
use crate::stack::Stack;
use crate::tcp::{Listen, State, TcbCounters, TcpConfig};
use crate::time::Instant;
use core::time::Duration;
use std::net::{IpAddr, Shutdown, SocketAddr};

/// A snapshot of a connection (`TCP_INFO`-like).
#[derive(Debug, Clone, PartialEq)]
pub struct TcpInfo {
    /// The state.
    pub state: State,
    /// The send MSS.
    pub mss: u32,
    /// cwnd in bytes.
    pub cwnd: u32,
    /// ssthresh in bytes.
    pub ssthresh: u32,
    /// SRTT, once measured.
    pub srtt: Option<Duration>,
    /// The current RTO.
    pub rto: Duration,
    /// The peer's window in bytes (scaled).
    pub snd_wnd: u32,
    /// Our shift / the peer's shift (RFC 7323).
    pub wscale: (u8, u8),
    /// Timestamps in use.
    pub timestamps: bool,
    /// SACK in use.
    pub sack: bool,
    /// Bytes queued to send (unacknowledged included).
    pub send_queued: usize,
    /// Bytes waiting to be read.
    pub recv_queued: usize,
    /// Counters.
    pub counters: TcbCounters,
}

impl Stack {
    /// The TCP tunables.
    pub fn tcp_config(&self) -> &TcpConfig {
        &self.sockets.tcp.config
    }

    /// The TCP tunables, to change them (new connections use them).
    pub fn tcp_config_mut(&mut self) -> &mut TcpConfig {
        &mut self.sockets.tcp.config
    }

    fn tcp_sock(&self, h: SocketHandle) -> StackResult<&super::Socket> {
        let s = self.sockets.get(h).ok_or_else(|| bad(Errno::EINVAL, "no such socket"))?;
        if s.proto != Proto::Tcp {
            return Err(bad(Errno::EINVAL, "not a TCP socket"));
        }
        Ok(s)
    }

    /// listen(2): binds an unbound socket to a wildcard ephemeral port
    /// first, as BSD does.
    pub fn tcp_listen(&mut self, h: SocketHandle, backlog: usize) -> StackResult<()> {
        let s = self.tcp_sock(h)?;
        if s.tcb.is_some() {
            return Err(bad(Errno::EINVAL, "socket is connected"));
        }
        if s.local.is_none() {
            let family = s.family;
            self.bind(h, super::calls::wildcard(family, 0))?;
        }
        if let Some(s) = self.sockets.get_mut(h) {
            match s.listen.as_mut() {
                Some(l) => l.backlog = backlog,
                None => s.listen = Some(Listen { backlog, ..Default::default() }),
            }
        }
        Ok(())
    }

    /// accept(2): the next established connection, if any.
    pub fn tcp_accept(&mut self, h: SocketHandle) -> Option<SocketHandle> {
        let c = self.sockets.get_mut(h)?.listen.as_mut()?.ready.pop_front()?;
        if let Some(s) = self.sockets.get_mut(c) {
            s.parent = None;
        }
        Some(c)
    }

    /// connect(2), non-blocking: binds (source selection, ephemeral port),
    /// sends the SYN and returns; [`Stack::tcp_state`] shows ESTABLISHED or
    /// the socket's error ECONNREFUSED / ETIMEDOUT.
    pub fn tcp_connect(&mut self, h: SocketHandle, sa: SocketAddr, now: Instant) -> StackResult<()> {
        self.last_now = now;
        let s = self.tcp_sock(h)?;
        if s.tcb.is_some() {
            return Err(bad(Errno::EISCONN, "socket is already connected"));
        }
        if s.listen.is_some() {
            return Err(bad(Errno::EINVAL, "socket is listening"));
        }
        let (family, v6only) = (s.family, s.v6only);
        let (rip, zone) = self.check_sockaddr(family, v6only, sa)?;
        self.connect(h, sa)?;
        let l = self.sockets.get(h).and_then(|s| s.local).ok_or_else(|| bad(Errno::EINVAL, "not bound"))?;
        let lip = match super::bind::unmap(l.addr) {
            a if a.is_unspecified() => self.source_for(h, rip, zone)?,
            a => a,
        };
        let key = (lip, l.port, rip, sa.port());
        if self.sockets.tcp.conns.contains_key(&key) {
            self.sockets.set_remote(h, None);
            return Err(bad(Errno::EADDRINUSE, format!("a connection {lip}:{} -> {sa} exists", l.port)));
        }
        let mut tcb = self.new_tcb((lip, l.port), (rip, sa.port()), zone, now);
        if let Some(s) = self.sockets.get_mut(h) {
            tcb.nodelay = s.tcp_opts.nodelay;
            tcb.keepalive = s.tcp_opts.keepalive;
            tcb.connect(now);
            s.tcb = Some(Box::new(tcb));
        }
        self.sockets.tcp.conn_insert(key, h);
        self.tcp_after(h, now);
        self.drain_looped(now);
        Ok(())
    }

    fn with_tcb<R>(
        &mut self,
        h: SocketHandle,
        f: impl FnOnce(&mut crate::tcp::tcb::Tcb) -> Result<R, Errno>,
    ) -> StackResult<R> {
        self.tcp_sock(h)?;
        let t = self.tcb_mut(h).ok_or_else(|| bad(Errno::ENOTCONN, "socket is not connected"))?;
        let r = f(t);
        if let Some(t) = self.tcb_mut(h) {
            if let Some(e) = t.error {
                if let Some(s) = self.sockets.get_mut(h) {
                    if s.error.is_none() {
                        s.error = Some(e);
                    }
                }
            }
        }
        r.map_err(|e| bad(e, e.text()))
    }

    /// send(2): queues what fits in the bounded send buffer; EWOULDBLOCK
    /// when it is full.
    pub fn tcp_send(&mut self, h: SocketHandle, data: &[u8], now: Instant) -> StackResult<usize> {
        self.last_now = now;
        let r = self.with_tcb(h, |t| t.send(data, now));
        self.tcp_after(h, now);
        self.drain_looped(now);
        r
    }

    /// recv(2): `Ok(0)` at end of stream, EWOULDBLOCK when nothing is there.
    pub fn tcp_recv(&mut self, h: SocketHandle, buf: &mut [u8], now: Instant) -> StackResult<usize> {
        self.last_now = now;
        let r = self.with_tcb(h, |t| t.recv(buf, now));
        self.tcp_after(h, now);
        self.drain_looped(now);
        r
    }

    /// shutdown(2).
    pub fn tcp_shutdown(&mut self, h: SocketHandle, how: Shutdown, now: Instant) -> StackResult<()> {
        self.last_now = now;
        let r = self.with_tcb(h, |t| {
            if matches!(how, Shutdown::Read | Shutdown::Both) {
                t.shutdown_read();
            }
            if matches!(how, Shutdown::Write | Shutdown::Both) {
                t.shutdown_write(now);
            }
            Ok(())
        });
        self.tcp_after(h, now);
        self.drain_looped(now);
        r
    }

    /// close(2) on a TCP socket: a listener resets its unaccepted
    /// connections; a connection closes gracefully (or aborts when unread
    /// data would be lost) and lives on, handle-less, until CLOSED.
    pub fn tcp_close(&mut self, h: SocketHandle, now: Instant) {
        self.last_now = now;
        if self.sockets.get(h).is_some_and(|s| s.listen.is_some()) {
            let children: Vec<SocketHandle> = self
                .sockets
                .iter()
                .filter(|(_, s)| s.parent.is_some_and(|(p, _)| p == h))
                .map(|(c, _)| c)
                .collect();
            for c in children {
                if let Some(t) = self.tcb_mut(c) {
                    t.orphan = true;
                    t.abort(now);
                }
                self.tcp_after(c, now);
                self.sockets.remove(c);
            }
            self.sockets.remove(h);
            return;
        }
        match self.tcb_mut(h) {
            Some(t) => {
                t.close(now);
                self.tcp_after(h, now);
                self.drain_looped(now);
            }
            None => {
                self.sockets.remove(h);
            }
        }
    }

    /// The connection state (LISTEN for a listener, CLOSED before connect).
    pub fn tcp_state(&self, h: SocketHandle) -> Option<State> {
        let s = self.sockets.get(h)?;
        if s.proto != Proto::Tcp {
            return None;
        }
        if s.listen.is_some() {
            return Some(State::Listen);
        }
        Some(s.tcb.as_ref().map_or(State::Closed, |t| t.state()))
    }

    /// The connection's error (ECONNREFUSED, ECONNRESET, ETIMEDOUT), kept.
    pub fn tcp_error(&self, h: SocketHandle) -> Option<Errno> {
        self.tcb(h)?.error
    }

    /// TCP_NODELAY: disables Nagle (RFC 9293 §3.7.4).
    pub fn tcp_set_nodelay(&mut self, h: SocketHandle, on: bool) -> StackResult<()> {
        self.tcp_sock(h)?;
        let now = self.last_now;
        if let Some(s) = self.sockets.get_mut(h) {
            s.tcp_opts.nodelay = on;
        }
        if let Some(t) = self.tcb_mut(h) {
            t.nodelay = on;
            t.output(now);
            self.tcp_after(h, now);
        }
        Ok(())
    }

    /// SO_KEEPALIVE (RFC 9293 §3.8.4).
    pub fn tcp_set_keepalive(&mut self, h: SocketHandle, on: bool) -> StackResult<()> {
        self.tcp_sock(h)?;
        let now = self.last_now;
        if let Some(s) = self.sockets.get_mut(h) {
            s.tcp_opts.keepalive = on;
        }
        if let Some(t) = self.tcb_mut(h) {
            t.keepalive = on;
            self.tcp_after(h, now);
        }
        Ok(())
    }

    /// A connection's snapshot.
    pub fn tcp_info(&self, h: SocketHandle) -> Option<TcpInfo> {
        let t = self.tcb(h)?;
        Some(TcpInfo {
            state: t.state,
            mss: t.mss,
            cwnd: t.cc.cwnd,
            ssthresh: t.cc.ssthresh,
            srtt: t.rto.srtt(),
            rto: t.rto.timeout(),
            snd_wnd: t.snd_wnd,
            wscale: (t.rcv_wscale, t.snd_wscale),
            timestamps: t.ts_ok,
            sack: t.sack_ok,
            send_queued: t.sndbuf.len(),
            recv_queued: t.rcvbuf.len(),
            counters: t.counters,
        })
    }

    /// The peer (getpeername).
    pub fn tcp_peer(&self, h: SocketHandle) -> Option<(IpAddr, u16)> {
        self.tcb(h).map(|t| t.remote)
    }

    /// Sockets lingering after close (FIN-WAIT, TIME-WAIT) or not yet
    /// accepted, and live connections: how many TCBs exist.
    pub fn tcp_connections(&self) -> usize {
        self.sockets.tcp.conns.len()
    }
}
