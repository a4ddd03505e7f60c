//! The lab as a socket host: a `via6_lab::Lab` run by a background thread
//! (the "lab driver"), with sockets on any node by name.
//!
//! Time semantics: virtual time runs as fast as events allow while frames
//! are in flight on the links — it does not wait for a slow API user (a
//! reader that stalls sees its receive window fill, exactly as on a real
//! network). When nothing is in flight the driver parks on a condition
//! variable until an API call kicks it or until the next node timer is due
//! measured in wall-clock time from the moment the lab went quiet, so
//! timers (delayed ACKs, retransmissions, ND) fire at most as fast as real
//! time while the lab is idle, and read timeouts of API users (wall-clock)
//! are meaningful against it. The run is therefore not reproducible
//! bit-for-bit (API calls land at wall-clock-dependent virtual instants);
//! use `Lab` directly for deterministic tests.

use super::host::{Host, Registry, StackHost};
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;
use via6_core::{Instant, Stack};
use via6_lab::Lab;

/// The longest wall-clock park while idle before the driver looks again.
const MAX_IDLE_PARK: Duration = Duration::from_millis(200);

struct State {
    lab: Lab,
    kicked: bool,
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    cv: Condvar,
    registries: Vec<(String, Arc<Registry>)>,
    driver: OnceLock<ThreadId>,
}

impl Shared {
    fn lock(&self) -> io::Result<MutexGuard<'_, State>> {
        self.state.lock().map_err(|_| io::Error::other("the lab driver panicked"))
    }

    fn wake_ready(&self, lab: &Lab) {
        for (name, reg) in &self.registries {
            if !reg.is_empty() {
                if let Some(s) = lab.node(name) {
                    reg.wake_ready(s);
                }
            }
        }
    }
}

/// A lab running on its own thread.
pub struct LabDriver {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct NodeHost {
    shared: Arc<Shared>,
    name: String,
    registry: Arc<Registry>,
}

impl StackHost for NodeHost {
    fn with_stack(&self, f: &mut dyn FnMut(&mut Stack, Instant)) -> io::Result<()> {
        let mut g = self.shared.lock()?;
        if g.stop {
            return Err(super::host::stopped());
        }
        let now = g.lab.now();
        let s = g.lab.node_mut(&self.name).ok_or_else(|| io::Error::other("no such lab node"))?;
        f(s, now);
        Ok(())
    }

    fn kick(&self) {
        if let Ok(mut g) = self.shared.lock() {
            g.kicked = true;
        }
        self.shared.cv.notify_all();
    }

    fn registry(&self) -> &Registry {
        &self.registry
    }

    fn is_driver_thread(&self) -> bool {
        self.shared.driver.get() == Some(&std::thread::current().id())
    }
}

impl LabDriver {
    /// Starts driving `lab` (run it for a while first if its nodes need DAD
    /// to finish before sockets are used).
    pub fn start(lab: Lab) -> io::Result<LabDriver> {
        let registries =
            lab.nodes().iter().map(|n| (n.name.clone(), Arc::new(Registry::default()))).collect();
        let shared = Arc::new(Shared {
            state: Mutex::new(State { lab, kicked: false, stop: false }),
            cv: Condvar::new(),
            registries,
            driver: OnceLock::new(),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new().name("via6-lab-driver".into()).spawn(move || drive(&s))?;
        Ok(LabDriver { shared, thread: Some(thread) })
    }

    /// The socket host of node `name`.
    pub fn host(&self, name: &str) -> io::Result<Host> {
        let registry = self
            .shared
            .registries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no lab node {name:?}")))?;
        Ok(Host::new(Arc::new(NodeHost { shared: self.shared.clone(), name: name.to_string(), registry })))
    }

    /// Runs `f` on the whole lab (links, captures, clock) under the lock.
    pub fn with_lab<R>(&self, f: impl FnOnce(&mut Lab) -> R) -> io::Result<R> {
        let mut g = self.shared.lock()?;
        let r = f(&mut g.lab);
        drop(g);
        self.shared.cv.notify_all();
        Ok(r)
    }

    /// Stops the driver and returns the lab.
    pub fn stop(mut self) -> io::Result<()> {
        self.halt();
        Ok(())
    }

    fn halt(&mut self) {
        if let Ok(mut g) = self.shared.lock() {
            g.stop = true;
        }
        self.shared.cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for (_, r) in &self.shared.registries {
            r.wake_all();
        }
    }
}

impl Drop for LabDriver {
    fn drop(&mut self) {
        self.halt();
    }
}

fn drive(shared: &Shared) {
    let _ = shared.driver.set(std::thread::current().id());
    let Ok(mut g) = shared.state.lock() else { return };
    loop {
        if g.stop {
            break;
        }
        g.kicked = false;
        let now = g.lab.now();
        // What API calls queued, and everything due now.
        g.lab.run_until(now);
        if g.lab.in_flight() > 0 {
            if let Some(t) = g.lab.next_event() {
                g.lab.run_until(t);
            }
            shared.wake_ready(&g.lab);
            // Let woken API users at the stack.
            drop(g);
            std::thread::yield_now();
            g = match shared.state.lock() {
                Ok(g) => g,
                Err(_) => return,
            };
            continue;
        }
        shared.wake_ready(&g.lab);
        if g.kicked {
            continue;
        }
        let now = g.lab.now();
        let target = g.lab.next_event().map_or(now + MAX_IDLE_PARK, |t| t.min(now + MAX_IDLE_PARK));
        let wait = target.saturating_since(now);
        let (g2, res) = match shared.cv.wait_timeout_while(g, wait, |s| !s.kicked && !s.stop) {
            Ok(x) => x,
            Err(_) => return,
        };
        g = g2;
        if res.timed_out() {
            g.lab.run_until(target);
        }
    }
    shared.wake_ready(&g.lab);
}
