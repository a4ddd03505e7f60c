//! Initial sequence numbers per RFC 6528 §3: `ISN = M + F(localip,
//! localport, remoteip, remoteport, secretkey)`, `M` a 4-microsecond timer and
//! `F` SipHash-2-4 keyed with the stack's secret.

use crate::time::Instant;
use core::hash::Hasher;
use siphasher::sip::SipHasher24;
use std::net::IpAddr;

/// The ISN for a connection at `now`.
pub fn isn(secret: &[u8; 16], local: (IpAddr, u16), remote: (IpAddr, u16), now: Instant) -> u32 {
    let mut h = SipHasher24::new_with_key(secret);
    h.write(b"tcp-isn");
    for (ip, port) in [local, remote] {
        match ip {
            IpAddr::V4(a) => h.write(&a.octets()),
            IpAddr::V6(a) => h.write(&a.octets()),
        }
        h.write(&port.to_be_bytes());
    }
    let m = (now.as_nanos() / 4000) as u32;
    m.wrapping_add(h.finish() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const A: (IpAddr, u16) = (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 49152);
    const B: (IpAddr, u16) = (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)), 80);

    /// RFC 6528 §3: the ISN depends on the connection id and the secret, and
    /// advances with the 4 µs clock M.
    #[test]
    fn rfc6528_3_keyed_per_connection_and_clocked() {
        let k1 = [1u8; 16];
        let k2 = [2u8; 16];
        let t = Instant::from_millis(1000);
        assert_ne!(isn(&k1, A, B, t), isn(&k2, A, B, t));
        assert_ne!(isn(&k1, A, B, t), isn(&k1, B, A, t));
        let later = Instant::from_nanos(t.as_nanos() + 4000 * 250);
        assert_eq!(isn(&k1, A, B, later), isn(&k1, A, B, t).wrapping_add(250));
    }
}
