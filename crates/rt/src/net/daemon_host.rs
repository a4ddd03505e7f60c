//! The daemon as a socket host, and [`Node`]: a node from a config run
//! in-process (devices, control socket, the daemon's main loop on its own
//! thread with a current-thread tokio runtime) for programs that embed via6.
//!
//! The `Stack` lives behind a mutex shared by the main loop and API users;
//! the loop locks it once per iteration, wakes the waiters whose sockets
//! became ready, and selects on a `Notify` that [`StackHost::kick`] fires.

use super::host::{Host, Registry, StackHost};
use crate::clock::Clock;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::{JoinHandle, ThreadId};
use via6_core::{Instant, Stack};
use via6_lab::config::NodeSpec;

/// The daemon's shared state.
pub struct DaemonHost {
    stack: Mutex<Stack>,
    pub(crate) clock: Clock,
    registry: Registry,
    pub(crate) kick: tokio::sync::Notify,
    pub(crate) shutdown: tokio::sync::Notify,
    stopped: AtomicBool,
    driver: OnceLock<ThreadId>,
}

impl DaemonHost {
    pub(crate) fn new(stack: Stack, clock: Clock) -> DaemonHost {
        DaemonHost {
            stack: Mutex::new(stack),
            clock,
            registry: Registry::default(),
            kick: tokio::sync::Notify::new(),
            shutdown: tokio::sync::Notify::new(),
            stopped: AtomicBool::new(false),
            driver: OnceLock::new(),
        }
    }

    /// The stack, locked (the main loop; poisoning is survived: the stack
    /// has no invariants a panicking API user could half-update from here).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Stack> {
        self.stack.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set_driver(&self) {
        let _ = self.driver.set(std::thread::current().id());
    }

    pub(crate) fn wake_ready(&self, stack: &Stack) {
        self.registry.wake_ready(stack);
    }

    /// The loop ended: later calls fail, waiters wake to see it.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.registry.wake_all();
    }
}

impl StackHost for DaemonHost {
    fn with_stack(&self, f: &mut dyn FnMut(&mut Stack, Instant)) -> io::Result<()> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(super::host::stopped());
        }
        let mut g = self.lock();
        let now = self.clock.now();
        f(&mut g, now);
        Ok(())
    }

    fn kick(&self) {
        self.kick.notify_one();
    }

    fn registry(&self) -> &Registry {
        &self.registry
    }

    fn is_driver_thread(&self) -> bool {
        self.driver.get() == Some(&std::thread::current().id())
    }
}

/// How to run an embedded node.
#[derive(Debug, Clone, Default)]
pub struct NodeOptions {
    /// Where to write one pcapng file per interface.
    pub pcap: Option<PathBuf>,
    /// A control socket (so `via6 -N PATH ...` works against the embedded
    /// node); none by default.
    pub control: Option<PathBuf>,
}

/// A node running in this process.
pub struct Node {
    host: Host,
    daemon: Arc<DaemonHost>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl AsRef<Host> for Node {
    fn as_ref(&self) -> &Host {
        &self.host
    }
}

impl Node {
    /// Builds the node of `spec`, opens its devices and starts the daemon
    /// loop on a new thread; returns once the node is up.
    pub fn start(spec: NodeSpec, opts: NodeOptions) -> io::Result<Node> {
        let (tx, rx) = std::sync::mpsc::channel::<Result<Arc<DaemonHost>, String>>();
        let thread = std::thread::Builder::new().name(format!("via6-{}", spec.name)).spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return Err(e.to_string());
                }
            };
            let cfg = crate::daemon::LoopConfig { pcap: opts.pcap, control: opts.control, signals: false };
            let r = rt.block_on(crate::daemon::run_loop(spec, cfg, Some(tx.clone())));
            if let Err(e) = &r {
                let _ = tx.send(Err(e.clone()));
            }
            r
        })?;
        match rx.recv() {
            Ok(Ok(daemon)) => Ok(Node { host: Host::new(daemon.clone()), daemon, thread: Some(thread) }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(io::Error::other(e))
            }
            Err(_) => {
                let _ = thread.join();
                Err(io::Error::other("the node's thread ended before it came up"))
            }
        }
    }

    /// The socket host of this node.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// Stops the node (devices closed, waiters woken with an error).
    pub fn shutdown(mut self) -> io::Result<()> {
        self.halt().map_err(io::Error::other)
    }

    fn halt(&mut self) -> Result<(), String> {
        self.daemon.shutdown.notify_one();
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| "the node's thread panicked".to_string())?,
            None => Ok(()),
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}
