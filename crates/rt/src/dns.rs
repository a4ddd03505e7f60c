//! A stub resolver's DNS messages (RFC 1035 §4): A/AAAA queries and the
//! addresses in a response. Names are only skipped, never expanded, so a
//! compression pointer cannot loop; every read is bounds-checked. Used by the SOCKS5 front end to resolve domain
//! names through the stack when `[dns] servers` is configured.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// RR type A (RFC 1035 §3.2.2).
pub const TYPE_A: u16 = 1;
/// RR type AAAA (RFC 3596 §2.1).
pub const TYPE_AAAA: u16 = 28;

/// Why a name or message was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsError(pub String);

/// Builds a recursive query for `name` of `qtype` with identifier `id`.
pub fn query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, DnsError> {
    let mut m = Vec::with_capacity(32 + name.len());
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; QDCOUNT 1
    let name = name.trim_end_matches('.');
    if name.is_empty() || name.len() > 253 {
        return Err(DnsError(format!("`{name}` is not a domain name")));
    }
    for label in name.split('.') {
        if label.is_empty()
            || label.len() > 63
            || !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(DnsError(format!("`{name}` has an invalid label `{label}`")));
        }
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes()); // IN
    Ok(m)
}

/// Skips a (possibly compressed) name at `at`; returns the offset after it.
fn skip_name(m: &[u8], mut at: usize) -> Result<usize, DnsError> {
    for _ in 0..128 {
        let len = *m.get(at).ok_or_else(|| DnsError("name runs off the message".into()))?;
        match len {
            0 => return Ok(at + 1),
            l if l & 0xc0 == 0xc0 => return Ok(at + 2),
            l if l & 0xc0 == 0 => at += 1 + usize::from(l),
            _ => return Err(DnsError("bad label type".into())),
        }
    }
    Err(DnsError("name too long".into()))
}

fn u16_at(m: &[u8], at: usize) -> Result<u16, DnsError> {
    Ok(u16::from_be_bytes([
        *m.get(at).ok_or_else(|| DnsError("truncated".into()))?,
        *m.get(at + 1).ok_or_else(|| DnsError("truncated".into()))?,
    ]))
}

/// The A/AAAA addresses in a response to query `id`; an error for another
/// id, a non-response, or RCODE ≠ 0 (NXDOMAIN and friends).
pub fn answers(m: &[u8], id: u16) -> Result<Vec<IpAddr>, DnsError> {
    if m.len() < 12 || u16_at(m, 0)? != id {
        return Err(DnsError("not a response to our query".into()));
    }
    let flags = u16_at(m, 2)?;
    if flags & 0x8000 == 0 {
        return Err(DnsError("not a response".into()));
    }
    let rcode = flags & 0x000f;
    if rcode != 0 {
        return Err(DnsError(format!("server answered RCODE {rcode}")));
    }
    let (qd, an) = (u16_at(m, 4)?, u16_at(m, 6)?);
    let mut at = 12;
    for _ in 0..qd {
        at = skip_name(m, at)? + 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        at = skip_name(m, at)?;
        let (t, class, rdlen) = (u16_at(m, at)?, u16_at(m, at + 2)?, usize::from(u16_at(m, at + 8)?));
        let rdata =
            m.get(at + 10..at + 10 + rdlen).ok_or_else(|| DnsError("record runs off the message".into()))?;
        match (t, class, rdlen) {
            (TYPE_A, 1, 4) => out.push(IpAddr::V4(Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]))),
            (TYPE_AAAA, 1, 16) => {
                let mut o = [0u8; 16];
                o.copy_from_slice(rdata);
                out.push(IpAddr::V6(Ipv6Addr::from(o)));
            }
            _ => {}
        }
        at += 10 + rdlen;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(id: u16, rcode: u16, answers: &[(u16, &[u8])]) -> Vec<u8> {
        let mut m = query(id, "h2.example", TYPE_AAAA).unwrap();
        m[2] = 0x81;
        m[3] = 0x80 | rcode as u8;
        m[6..8].copy_from_slice(&(answers.len() as u16).to_be_bytes());
        for (t, rdata) in answers {
            m.extend_from_slice(&[0xc0, 12]); // pointer to the question name
            m.extend_from_slice(&t.to_be_bytes());
            m.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            m.extend_from_slice(rdata);
        }
        m
    }

    #[test]
    fn query_wire_form() {
        let q = query(0x1234, "h2.example.", TYPE_A).unwrap();
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&q[12..], b"\x02h2\x07example\x00\x00\x01\x00\x01");
        assert!(query(1, "bad..name", TYPE_A).is_err());
        assert!(query(1, "", TYPE_A).is_err());
        assert!(query(1, &"a".repeat(64), TYPE_A).is_err());
    }

    #[test]
    fn answers_follow_pointers() {
        let v6: Ipv6Addr = "2001:db8:2::1".parse().unwrap();
        let m = response(7, 0, &[(TYPE_AAAA, &v6.octets()), (TYPE_A, &[203, 0, 113, 2]), (5, b"\x00")]);
        assert_eq!(answers(&m, 7).unwrap(), vec![IpAddr::V6(v6), IpAddr::V4(Ipv4Addr::new(203, 0, 113, 2))]);
        assert!(answers(&m, 8).is_err());
        assert!(answers(&response(7, 3, &[]), 7).unwrap_err().0.contains("RCODE 3"));
        let mut cut = m.clone();
        cut.truncate(cut.len() - 3);
        assert!(answers(&cut, 7).is_err());
        // A self-referencing pointer in a record with no room for its fields
        // is refused, not followed.
        let mut lp = response(7, 0, &[]);
        lp[6..8].copy_from_slice(&1u16.to_be_bytes());
        lp.extend_from_slice(&[0xc0, (lp.len()) as u8]);
        assert!(answers(&lp, 7).is_err());
    }
}
