//! A pcapng writer (draft-ietf-opsawg-pcapng): one Section Header Block,
//! Interface Description Blocks, Enhanced Packet Blocks. Little-endian,
//! timestamps in microseconds (the default `if_tsresol`), so no `if_tsresol`
//! option is written.

use std::io::{self, Write};
use via6_core::time::Instant;

/// LINKTYPE_ETHERNET: frames start with an Ethernet header.
pub const LINKTYPE_ETHERNET: u16 = 1;
/// LINKTYPE_RAW: packets start with an IPv4 or IPv6 header.
pub const LINKTYPE_RAW: u16 = 101;

const BT_SHB: u32 = 0x0A0D_0D0A;
const BT_IDB: u32 = 0x0000_0001;
const BT_EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const OPT_ENDOFOPT: u16 = 0;
const OPT_SHB_USERAPPL: u16 = 4;
const OPT_IF_NAME: u16 = 2;
/// The snapshot length we announce: we always write whole frames.
pub const SNAPLEN: u32 = 262_144;

/// Writes a pcapng stream to any `Write`.
pub struct PcapngWriter<W: Write> {
    out: W,
    interfaces: u32,
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

/// Appends one option (code, length, value padded to 32 bits).
fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&(value.len().min(u16::MAX as usize) as u16).to_le_bytes());
    body.extend_from_slice(&value[..value.len().min(u16::MAX as usize)]);
    body.resize(body.len() + pad4(body.len()), 0);
}

fn push_end_of_options(body: &mut Vec<u8>) {
    body.extend_from_slice(&OPT_ENDOFOPT.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
}

impl<W: Write> PcapngWriter<W> {
    /// Starts a section (writes the Section Header Block).
    pub fn new(out: W) -> io::Result<Self> {
        let mut w = PcapngWriter { out, interfaces: 0 };
        let mut body = Vec::with_capacity(32);
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes()); // major
        body.extend_from_slice(&0u16.to_le_bytes()); // minor
        body.extend_from_slice(&u64::MAX.to_le_bytes()); // section length: unknown
        push_option(&mut body, OPT_SHB_USERAPPL, b"via6-lab");
        push_end_of_options(&mut body);
        w.block(BT_SHB, &body)?;
        Ok(w)
    }

    fn block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        debug_assert_eq!(body.len() % 4, 0);
        let total = u32::try_from(body.len() + 12)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pcapng block too large"))?;
        self.out.write_all(&block_type.to_le_bytes())?;
        self.out.write_all(&total.to_le_bytes())?;
        self.out.write_all(body)?;
        self.out.write_all(&total.to_le_bytes())
    }

    /// Describes an interface; returns its id for [`write_packet`](Self::write_packet).
    pub fn add_interface(&mut self, linktype: u16, name: &str) -> io::Result<u32> {
        let mut body = Vec::with_capacity(16 + name.len());
        body.extend_from_slice(&linktype.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes()); // reserved
        body.extend_from_slice(&SNAPLEN.to_le_bytes());
        if !name.is_empty() {
            push_option(&mut body, OPT_IF_NAME, name.as_bytes());
        }
        push_end_of_options(&mut body);
        self.block(BT_IDB, &body)?;
        let id = self.interfaces;
        self.interfaces += 1;
        Ok(id)
    }

    /// Writes one packet seen on interface `iface` at `at`.
    pub fn write_packet(&mut self, iface: u32, at: Instant, data: &[u8]) -> io::Result<()> {
        self.write_packet_dir(iface, at, data, None)
    }

    /// Writes one packet with its direction in the `epb_flags` option
    /// (pcapng §4.3.1: bits 0–1, 01 inbound, 10 outbound): `Some(true)` for
    /// received, `Some(false)` for sent.
    pub fn write_packet_dir(
        &mut self,
        iface: u32,
        at: Instant,
        data: &[u8],
        inbound: Option<bool>,
    ) -> io::Result<()> {
        if iface >= self.interfaces {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("pcapng: no interface {iface}")));
        }
        let len = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pcapng: packet too large"))?;
        let us = at.as_nanos() / 1000;
        let mut body = Vec::with_capacity(20 + data.len() + 3);
        body.extend_from_slice(&iface.to_le_bytes());
        body.extend_from_slice(&((us >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(us as u32).to_le_bytes());
        body.extend_from_slice(&len.to_le_bytes()); // captured
        body.extend_from_slice(&len.to_le_bytes()); // original
        body.extend_from_slice(data);
        body.resize(body.len() + pad4(data.len()), 0);
        if let Some(inbound) = inbound {
            // epb_flags (code 2, length 4), then opt_endofopt.
            body.extend_from_slice(&2u16.to_le_bytes());
            body.extend_from_slice(&4u16.to_le_bytes());
            body.extend_from_slice(&(if inbound { 1u32 } else { 2u32 }).to_le_bytes());
            body.extend_from_slice(&[0, 0, 0, 0]);
        }
        self.block(BT_EPB, &body)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_bytes_of_a_small_file() {
        let mut w = PcapngWriter::new(Vec::new()).unwrap();
        let id = w.add_interface(LINKTYPE_ETHERNET, "h1:eth0-r1:eth0").unwrap();
        assert_eq!(id, 0);
        w.write_packet(
            0,
            Instant::from_nanos(0x1_0000_0002_u64 * 1000 + 999),
            &[0xaa, 0xbb, 0xcc, 0xdd, 0xee],
        )
        .unwrap();
        assert!(w.write_packet(1, Instant::ZERO, &[]).is_err());
        let got = w.into_inner();
        #[rustfmt::skip]
        let want: Vec<u8> = [
            // SHB: type, len 44, magic, 1.0, section length -1
            &[0x0a, 0x0d, 0x0d, 0x0a, 44, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0][..],
            &[0xff; 8],
            // shb_userappl "via6-lab", end of options, len
            &[4, 0, 8, 0], b"via6-lab", &[0, 0, 0, 0], &[44, 0, 0, 0],
            // IDB: type 1, len 44, linktype 1, reserved, snaplen 262144
            &[1, 0, 0, 0, 44, 0, 0, 0, 1, 0, 0, 0, 0x00, 0x00, 0x04, 0x00],
            // if_name (15 bytes + 1 pad), end of options, len
            &[2, 0, 15, 0], b"h1:eth0-r1:eth0", &[0], &[0, 0, 0, 0], &[44, 0, 0, 0],
            // EPB: type 6, len 40, iface 0, ts high 1, ts low 2, caplen 5, len 5
            &[6, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0],
            &[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0, 0], &[40, 0, 0, 0],
        ]
        .concat();
        assert_eq!(got, want);
    }

    /// A minimal valid Ethernet + IPv6 + ICMPv6 echo request frame.
    fn ipv6_echo_frame() -> Vec<u8> {
        let src: [u8; 16] = "fe80::2".parse::<std::net::Ipv6Addr>().unwrap().octets();
        let dst: [u8; 16] = "fe80::1".parse::<std::net::Ipv6Addr>().unwrap().octets();
        let mut icmp = vec![128, 0, 0, 0, 0x12, 0x34, 0, 1, b'h', b'i'];
        // ICMPv6 checksum over the pseudo-header (RFC 8200 §8.1).
        let mut sum: u32 = 0;
        let mut add = |b: &[u8]| {
            for c in b.chunks(2) {
                sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
            }
        };
        add(&src);
        add(&dst);
        add(&(icmp.len() as u32).to_be_bytes());
        add(&[0, 0, 0, 58]);
        add(&icmp);
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        let ck = !(sum as u16);
        icmp[2..4].copy_from_slice(&ck.to_be_bytes());
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x86, 0xdd];
        f.extend_from_slice(&[0x60, 0, 0, 0]);
        f.extend_from_slice(&(icmp.len() as u16).to_be_bytes());
        f.extend_from_slice(&[58, 64]);
        f.extend_from_slice(&src);
        f.extend_from_slice(&dst);
        f.extend_from_slice(&icmp);
        f
    }

    /// Needs `tshark`; skipped (with a note) when it is not installed.
    #[test]
    fn tshark_reads_it() {
        let found =
            std::process::Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success());
        if !found {
            eprintln!("tshark not installed: skipping tshark_reads_it");
            return;
        }
        let mut w = PcapngWriter::new(Vec::new()).unwrap();
        w.add_interface(LINKTYPE_ETHERNET, "h1:eth0-r1:eth0").unwrap();
        w.write_packet(0, Instant::from_millis(1), &ipv6_echo_frame()).unwrap();
        w.write_packet(0, Instant::from_millis(2), &ipv6_echo_frame()).unwrap();
        let dir = std::env::temp_dir().join(format!("via6-lab-pcapng-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.pcapng");
        std::fs::write(&path, w.into_inner()).unwrap();
        let out = std::process::Command::new("tshark").arg("-r").arg(&path).arg("-V").output().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{text}");
        assert!(!text.to_lowercase().contains("malformed"), "{text}");
        assert!(text.contains("Echo (ping) request"), "{text}");
        assert!(text.contains("h1:eth0-r1:eth0"), "{text}");
        assert!(text.contains("[Good]") || text.contains("correct"), "checksum: {text}");
    }
}
