//! SOCKS5 (RFC 1928) message codec: the greeting, requests (CONNECT, UDP
//! ASSOCIATE), replies, the UDP request header, and how stack errors map to
//! reply codes. Incremental: a parser returns `Ok(None)` until it has enough
//! bytes, and how many bytes it consumed once it does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use via6_core::Errno;

/// RFC 1928 §3: the protocol version.
pub const VERSION: u8 = 5;
/// §3: NO AUTHENTICATION REQUIRED.
pub const METHOD_NO_AUTH: u8 = 0x00;
/// §3: NO ACCEPTABLE METHODS.
pub const METHOD_NONE: u8 = 0xff;

/// §4: the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// CONNECT (1).
    Connect,
    /// BIND (2): not supported, answered with reply 7.
    Bind,
    /// UDP ASSOCIATE (3).
    UdpAssociate,
}

/// §4/§5: a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An address (ATYP 1 or 4).
    Addr(SocketAddr),
    /// A domain name (ATYP 3) and port.
    Domain(String, u16),
}

/// §6: reply codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Reply {
    /// 0: succeeded.
    Succeeded = 0,
    /// 1: general SOCKS server failure.
    GeneralFailure = 1,
    /// 2: connection not allowed by ruleset.
    NotAllowed = 2,
    /// 3: network unreachable.
    NetworkUnreachable = 3,
    /// 4: host unreachable.
    HostUnreachable = 4,
    /// 5: connection refused.
    ConnectionRefused = 5,
    /// 6: TTL expired.
    TtlExpired = 6,
    /// 7: command not supported.
    CommandNotSupported = 7,
    /// 8: address type not supported (also: a domain name with no resolver).
    AddressTypeNotSupported = 8,
}

/// A protocol violation by the client; the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocksError(pub String);

impl std::fmt::Display for SocksError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SOCKS5: {}", self.0)
    }
}

/// The reply code for a stack error (a missing source address is a network
/// problem: "network unreachable").
pub fn reply_for(errno: Errno) -> Reply {
    match errno {
        Errno::ENETUNREACH | Errno::EADDRNOTAVAIL | Errno::ENETDOWN => Reply::NetworkUnreachable,
        Errno::EHOSTUNREACH | Errno::ETIMEDOUT => Reply::HostUnreachable,
        Errno::ECONNREFUSED | Errno::ECONNRESET => Reply::ConnectionRefused,
        Errno::EACCES => Reply::NotAllowed,
        Errno::EAFNOSUPPORT => Reply::AddressTypeNotSupported,
        _ => Reply::GeneralFailure,
    }
}

/// §3: parses the greeting; returns whether NO AUTH is offered.
pub fn parse_greeting(buf: &[u8]) -> Result<Option<(bool, usize)>, SocksError> {
    let Some(&ver) = buf.first() else { return Ok(None) };
    if ver != VERSION {
        return Err(SocksError(format!("version {ver}, not 5")));
    }
    let Some(&n) = buf.get(1) else { return Ok(None) };
    let end = 2 + usize::from(n);
    let Some(methods) = buf.get(2..end) else { return Ok(None) };
    Ok(Some((methods.contains(&METHOD_NO_AUTH), end)))
}

/// Parses an address (ATYP, DST.ADDR, DST.PORT) at the start of `buf`.
fn parse_target(buf: &[u8]) -> Result<Option<(Target, usize)>, SocksError> {
    let Some(&atyp) = buf.first() else { return Ok(None) };
    let (target, len) = match atyp {
        1 => {
            let Some(b) = buf.get(1..7) else { return Ok(None) };
            let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
            (Target::Addr(SocketAddr::new(IpAddr::V4(ip), u16::from_be_bytes([b[4], b[5]]))), 7)
        }
        4 => {
            let Some(b) = buf.get(1..19) else { return Ok(None) };
            let mut o = [0u8; 16];
            o.copy_from_slice(&b[..16]);
            (
                Target::Addr(SocketAddr::new(
                    IpAddr::V6(Ipv6Addr::from(o)),
                    u16::from_be_bytes([b[16], b[17]]),
                )),
                19,
            )
        }
        3 => {
            let Some(&n) = buf.get(1) else { return Ok(None) };
            let n = usize::from(n);
            let Some(b) = buf.get(2..2 + n + 2) else { return Ok(None) };
            if n == 0 {
                return Err(SocksError("empty domain name".into()));
            }
            let name =
                std::str::from_utf8(&b[..n]).map_err(|_| SocksError("domain name is not UTF-8".into()))?;
            (Target::Domain(name.to_string(), u16::from_be_bytes([b[n], b[n + 1]])), 2 + n + 2)
        }
        other => return Err(SocksError(format!("address type {other}"))),
    };
    Ok(Some((target, len)))
}

/// §4: parses a request.
pub fn parse_request(buf: &[u8]) -> Result<Option<(Command, Target, usize)>, SocksError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    if buf[0] != VERSION {
        return Err(SocksError(format!("version {}, not 5", buf[0])));
    }
    let cmd = match buf[1] {
        1 => Command::Connect,
        2 => Command::Bind,
        3 => Command::UdpAssociate,
        c => return Err(SocksError(format!("command {c}"))),
    };
    Ok(parse_target(&buf[3..])?.map(|(t, n)| (cmd, t, 3 + n)))
}

fn put_addr(out: &mut Vec<u8>, a: SocketAddr) {
    match a.ip() {
        IpAddr::V4(v4) => {
            out.push(1);
            out.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => {
                out.push(1);
                out.extend_from_slice(&v4.octets());
            }
            None => {
                out.push(4);
                out.extend_from_slice(&v6.octets());
            }
        },
    }
    out.extend_from_slice(&a.port().to_be_bytes());
}

/// §6: a reply with the bound address.
pub fn reply(code: Reply, bound: SocketAddr) -> Vec<u8> {
    let mut out = vec![VERSION, code as u8, 0];
    put_addr(&mut out, bound);
    out
}

/// §7: parses the UDP request header; returns (fragment, target, header length).
pub fn parse_udp_header(buf: &[u8]) -> Result<(u8, Target, usize), SocksError> {
    if buf.len() < 4 || buf[0] != 0 || buf[1] != 0 {
        return Err(SocksError("bad UDP request header".into()));
    }
    let (t, n) = parse_target(&buf[3..])?.ok_or_else(|| SocksError("truncated UDP request header".into()))?;
    Ok((buf[2], t, 3 + n))
}

/// §7: the UDP header for a datagram from `from`.
pub fn udp_header(from: SocketAddr) -> Vec<u8> {
    let mut out = vec![0, 0, 0];
    put_addr(&mut out, from);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting() {
        assert_eq!(parse_greeting(&[5]), Ok(None));
        assert_eq!(parse_greeting(&[5, 2, 2]), Ok(None));
        assert_eq!(parse_greeting(&[5, 2, 2, 0, 9]), Ok(Some((true, 4))));
        assert_eq!(parse_greeting(&[5, 1, 2]), Ok(Some((false, 3))));
        assert!(parse_greeting(&[4, 1, 0]).is_err());
    }

    #[test]
    fn requests_of_every_address_type() {
        let v4 = [5, 1, 0, 1, 192, 0, 2, 1, 0, 80];
        assert_eq!(parse_request(&v4[..9]), Ok(None));
        assert_eq!(
            parse_request(&v4),
            Ok(Some((Command::Connect, Target::Addr("192.0.2.1:80".parse().unwrap()), 10)))
        );
        let mut v6 = vec![5, 3, 0, 4];
        v6.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        v6.extend_from_slice(&[0x1f, 0x90]);
        assert_eq!(
            parse_request(&v6),
            Ok(Some((Command::UdpAssociate, Target::Addr("[2001:db8::1]:8080".parse().unwrap()), 22)))
        );
        let dom = [&[5u8, 1, 0, 3, 11][..], b"example.org", &[0, 80]].concat();
        assert_eq!(
            parse_request(&dom),
            Ok(Some((Command::Connect, Target::Domain("example.org".into(), 80), dom.len())))
        );
        assert!(parse_request(&[5, 9, 0, 1, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(parse_request(&[5, 1, 0, 7, 0]).is_err());
        assert!(parse_request(&[5, 1, 0, 3, 0, 0, 80]).is_err());
    }

    #[test]
    fn replies_and_udp_headers() {
        assert_eq!(
            reply(Reply::Succeeded, "192.0.2.1:1080".parse().unwrap()),
            [5, 0, 0, 1, 192, 0, 2, 1, 4, 56]
        );
        assert_eq!(
            reply(Reply::NetworkUnreachable, "[::ffff:192.0.2.1]:1".parse().unwrap())[..4],
            [5, 3, 0, 1]
        );
        let h = udp_header("[2001:db8::2]:53".parse().unwrap());
        let (frag, t, n) = parse_udp_header(&[h.clone(), b"payload".to_vec()].concat()).unwrap();
        assert_eq!((frag, t, n), (0, Target::Addr("[2001:db8::2]:53".parse().unwrap()), h.len()));
        assert!(parse_udp_header(&[1, 0, 0, 1]).is_err());
    }

    #[test]
    fn errno_to_reply() {
        assert_eq!(reply_for(Errno::EADDRNOTAVAIL), Reply::NetworkUnreachable);
        assert_eq!(reply_for(Errno::ECONNREFUSED), Reply::ConnectionRefused);
        assert_eq!(reply_for(Errno::EHOSTUNREACH), Reply::HostUnreachable);
        assert_eq!(reply_for(Errno::EINVAL), Reply::GeneralFailure);
    }
}
