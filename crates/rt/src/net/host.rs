//! The narrow host abstraction every socket API sits on: "give me the stack
//! and its current time under the lock" and "I changed the stack, drive it
//! now", plus the waker registry the driver checks after every iteration
//! that touched the stack. One readiness implementation serves both APIs:
//! tokio tasks register their task waker, blocking calls a thread-parking
//! waker (see `block_on`).

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use via6_core::socket::SocketHandle;
use via6_core::{Instant, Stack};

/// Something that owns a running `Stack`: the daemon's main loop or the lab
/// driver.
pub trait StackHost: Send + Sync {
    /// Runs `f` on the stack with the host's current time, under the host's
    /// lock. Fails when the host has stopped.
    fn with_stack(&self, f: &mut dyn FnMut(&mut Stack, Instant)) -> io::Result<()>;
    /// The stack changed (output queued, timers moved): drive it now.
    fn kick(&self);
    /// The wakers waiting on this stack's sockets.
    fn registry(&self) -> &Registry;
    /// Whether the calling thread is the one that drives the stack (a
    /// blocking call there would deadlock).
    fn is_driver_thread(&self) -> bool;
}

/// A cheap, clonable handle on a host: what sockets are made on.
#[derive(Clone)]
pub struct Host(pub(crate) Arc<dyn StackHost>);

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Host")
    }
}

impl AsRef<Host> for Host {
    fn as_ref(&self) -> &Host {
        self
    }
}

impl Host {
    /// Wraps a host.
    pub fn new(h: Arc<dyn StackHost>) -> Host {
        Host(h)
    }

    /// Runs `f` on the stack (under the host's lock) and returns its result;
    /// kick the host afterwards if `f` queued output.
    pub fn with_stack<R>(&self, f: impl FnOnce(&mut Stack, Instant) -> R) -> io::Result<R> {
        let mut f = Some(f);
        let mut out = None;
        self.0.with_stack(&mut |s, now| {
            if let Some(f) = f.take() {
                out = Some(f(s, now));
            }
        })?;
        out.ok_or_else(stopped)
    }

    /// Drives the stack now.
    pub fn kick(&self) {
        self.0.kick();
    }

    pub(crate) fn registry(&self) -> &Registry {
        self.0.registry()
    }

    pub(crate) fn is_driver_thread(&self) -> bool {
        self.0.is_driver_thread()
    }
}

/// The error of a call on a host that has stopped.
pub(crate) fn stopped() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the via6 stack's host has stopped")
}

/// Which way a waiter waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// recv / accept.
    Read,
    /// send / connect.
    Write,
}

#[derive(Default)]
struct Interest {
    read: Vec<Waker>,
    write: Vec<Waker>,
}

/// Wakers per socket handle and direction. Lock order: the host's stack
/// lock, then this registry's lock (registration happens inside
/// `with_stack`, so a driver that checks readiness after an iteration never
/// misses a waiter).
#[derive(Default)]
pub struct Registry {
    map: Mutex<HashMap<SocketHandle, Interest>>,
}

impl Registry {
    /// Waits for `dir` on `h`.
    pub fn register(&self, h: SocketHandle, dir: Dir, waker: &Waker) {
        let Ok(mut m) = self.map.lock() else { return };
        let i = m.entry(h).or_default();
        let v = match dir {
            Dir::Read => &mut i.read,
            Dir::Write => &mut i.write,
        };
        if !v.iter().any(|w| w.will_wake(waker)) {
            v.push(waker.clone());
        }
    }

    /// Whether anyone waits.
    pub fn is_empty(&self) -> bool {
        self.map.lock().map_or(true, |m| m.is_empty())
    }

    /// Wakes the waiters whose socket became ready (or vanished). O(1) per
    /// waiting handle ([`Stack::socket_ready`]).
    pub fn wake_ready(&self, stack: &Stack) {
        let mut due = Vec::new();
        if let Ok(mut m) = self.map.lock() {
            m.retain(|h, i| {
                match stack.socket_ready(*h) {
                    None => {
                        due.append(&mut i.read);
                        due.append(&mut i.write);
                    }
                    Some(r) => {
                        if r.readable {
                            due.append(&mut i.read);
                        }
                        if r.writable {
                            due.append(&mut i.write);
                        }
                    }
                }
                !(i.read.is_empty() && i.write.is_empty())
            });
        }
        for w in due {
            w.wake();
        }
    }

    /// Wakes every waiter of `h` and forgets it (the socket closed).
    pub fn forget(&self, h: SocketHandle) {
        let i = self.map.lock().ok().and_then(|mut m| m.remove(&h));
        if let Some(i) = i {
            i.read.into_iter().chain(i.write).for_each(Waker::wake);
        }
    }

    /// Wakes everyone (the host stopped).
    pub fn wake_all(&self) {
        let all: Vec<Interest> =
            self.map.lock().map(|mut m| m.drain().map(|(_, i)| i).collect()).unwrap_or_default();
        for i in all {
            i.read.into_iter().chain(i.write).for_each(Waker::wake);
        }
    }
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a poll function to completion on this thread, parking between
/// polls, until `deadline` (then `WouldBlock`, as std's SO_RCVTIMEO does on
/// Unix). Refuses to run on the host's driver thread, where it would
/// deadlock.
pub(crate) fn block_on<R>(
    host: &Host,
    deadline: Option<std::time::Instant>,
    mut f: impl FnMut(&mut Context<'_>) -> Poll<io::Result<R>>,
) -> io::Result<R> {
    if host.is_driver_thread() {
        return Err(io::Error::other(
            "a blocking via6 socket call on the thread that drives the stack would deadlock; use the tokio API there",
        ));
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(r) = f(&mut cx) {
            return r;
        }
        match deadline {
            None => std::thread::park(),
            Some(d) => {
                let now = std::time::Instant::now();
                if now >= d {
                    return Err(io::Error::new(
                        io::ErrorKind::WouldBlock,
                        "timed out (Resource temporarily unavailable)",
                    ));
                }
                std::thread::park_timeout(d - now);
            }
        }
    }
}
