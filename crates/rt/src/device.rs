//! TAP (Ethernet frames) and TUN (bare IP packets) devices. The daemon opens
//! an existing persistent device by name, or creates it; it never changes the
//! kernel side's state — that side belongs to the host (or a namespace).

use std::io;
use tun_rs::{AsyncDevice, DeviceBuilder, Layer};

/// Which kind of device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// TAP: Ethernet frames.
    Tap,
    /// TUN: IP packets.
    Tun,
}

/// Opens (or creates) the host device `name`.
pub fn open(name: &str, kind: DeviceKind) -> io::Result<AsyncDevice> {
    let layer = match kind {
        DeviceKind::Tap => Layer::L2,
        DeviceKind::Tun => Layer::L3,
    };
    DeviceBuilder::new().name(name).layer(layer).inherit_enable_state().build_async()
}
