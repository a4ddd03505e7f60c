//! smoltcp 0.14 as an independent peer: a `phy::Device` over two frame
//! queues (filled and drained by the caller, e.g. from a lab
//! [`ForeignPort`](via6_lab::ForeignPort)), an `Interface` with the given
//! addresses, and TCP sockets with CUBIC. smoltcp's clock is the lab's
//! virtual clock (microseconds since `Instant::ZERO`).
#![allow(dead_code)]

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::socket::tcp;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr};
use std::collections::VecDeque;
use via6_core::time::Instant;

/// smoltcp's time for a virtual instant.
pub fn smol_now(now: Instant) -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_micros((now.as_nanos() / 1000) as i64)
}

/// The virtual instant of a smoltcp time (never before `ZERO`).
pub fn from_smol(t: smoltcp::time::Instant) -> Instant {
    Instant::from_nanos(u64::try_from(t.total_micros()).unwrap_or(0).saturating_mul(1000))
}

/// A device whose received frames are queued by the caller and whose sent
/// frames are collected for the caller; sent buffers are reused once the
/// caller gives them back ([`QueueDevice::recycle`]), and received buffers
/// once smoltcp has read them are kept for the caller
/// ([`QueueDevice::take_spent`]).
#[derive(Debug, Default)]
pub struct QueueDevice {
    /// Frames waiting to be received.
    pub rx: VecDeque<Vec<u8>>,
    /// Frames sent, oldest first.
    pub tx: VecDeque<Vec<u8>>,
    free: Vec<Vec<u8>>,
    spent: Vec<Vec<u8>>,
    /// IP MTU.
    pub mtu: usize,
}

impl QueueDevice {
    /// A device for an Ethernet link with IP MTU `mtu`.
    pub fn new(mtu: usize) -> Self {
        QueueDevice { mtu, ..Default::default() }
    }

    /// Gives a sent frame's buffer back for reuse.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        self.free.push(buf);
    }

    /// Moves the buffers of received frames smoltcp has read into `to`.
    pub fn take_spent(&mut self, to: &mut Vec<Vec<u8>>) {
        to.append(&mut self.spent);
    }
}

/// How many read frame buffers a [`QueueDevice`] keeps for its caller.
const SPENT_FRAMES: usize = 256;

/// A received frame.
pub struct Rx<'a> {
    frame: Vec<u8>,
    spent: &'a mut Vec<Vec<u8>>,
}

/// Room for one sent frame.
pub struct Tx<'a> {
    tx: &'a mut VecDeque<Vec<u8>>,
    free: &'a mut Vec<Vec<u8>>,
}

impl RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let r = f(&self.frame);
        if self.spent.len() < SPENT_FRAMES {
            self.spent.push(self.frame);
        }
        r
    }
}

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = self.free.pop().unwrap_or_default();
        // smoltcp writes every byte of the frame: no need to zero a reused
        // buffer first.
        if buf.len() < len {
            buf.resize(len, 0);
        } else {
            buf.truncate(len);
        }
        let r = f(&mut buf);
        self.tx.push_back(buf);
        r
    }
}

impl Device for QueueDevice {
    type RxToken<'a> = Rx<'a>;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _: smoltcp::time::Instant) -> Option<(Rx<'_>, Tx<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((Rx { frame, spent: &mut self.spent }, Tx { tx: &mut self.tx, free: &mut self.free }))
    }

    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<Tx<'_>> {
        Some(Tx { tx: &mut self.tx, free: &mut self.free })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        // smoltcp counts the Ethernet header in the MTU of an Ethernet device.
        caps.max_transmission_unit = self.mtu + 14;
        // ChecksumCapabilities::default(): compute and verify every checksum.
        caps
    }
}

/// A smoltcp host: interface, sockets and device.
pub struct SmolPeer {
    /// The interface.
    pub iface: Interface,
    /// Its sockets.
    pub sockets: SocketSet<'static>,
    /// Its device.
    pub dev: QueueDevice,
}

impl SmolPeer {
    /// A host with MAC `mac`, IP MTU `mtu` and addresses `addrs` (at most two:
    /// smoltcp's default `IFACE_MAX_ADDR_COUNT`).
    pub fn new(mac: [u8; 6], mtu: usize, addrs: &[IpCidr], seed: u64, now: Instant) -> Self {
        let mut dev = QueueDevice::new(mtu);
        let mut cfg = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
        cfg.random_seed = seed;
        let mut iface = Interface::new(cfg, &mut dev, smol_now(now));
        iface.update_ip_addrs(|a| {
            for c in addrs {
                a.push(*c).expect("at most IFACE_MAX_ADDR_COUNT addresses");
            }
        });
        SmolPeer { iface, sockets: SocketSet::new(Vec::new()), dev }
    }

    /// A TCP socket with `rx`/`tx` byte buffers and CUBIC.
    pub fn tcp_socket(&mut self, rx: usize, tx: usize) -> SocketHandle {
        let mut s =
            tcp::Socket::new(tcp::SocketBuffer::new(vec![0; rx]), tcp::SocketBuffer::new(vec![0; tx]));
        s.set_congestion_control(tcp::CongestionControl::Cubic);
        self.sockets.add(s)
    }

    /// A TCP socket by handle.
    pub fn tcp(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(h)
    }

    /// Connects socket `h` to `remote` from local port `port`.
    pub fn connect(&mut self, h: SocketHandle, remote: std::net::SocketAddr, port: u16) {
        let s = self.sockets.get_mut::<tcp::Socket>(h);
        s.connect(self.iface.context(), (smoltcp::wire::IpAddress::from(remote.ip()), remote.port()), port)
            .expect("smoltcp connect");
    }

    /// Processes queued frames and timers at `now`; returns when smoltcp
    /// wants to be polled next.
    pub fn poll(&mut self, now: Instant) -> Option<Instant> {
        let t = smol_now(now);
        self.iface.poll(t, &mut self.dev, &mut self.sockets);
        self.iface.poll_at(t, &self.sockets).map(from_smol)
    }
}
