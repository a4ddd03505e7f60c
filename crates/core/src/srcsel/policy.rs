//! The RFC 6724 §2.1 policy table, managed like FreeBSD `ip6addrctl(8)`:
//! `show` ([`format_policy_table`]), `add` (fails if the prefix is present),
//! `delete` (fails if absent), `flush` (empties the table: every address then
//! has precedence 0 and label 0), `install` (a configuration file's entries)
//! and [`PolicyTable::install_defaults`] (back to the RFC 6724 §2.1 table).
//!
//! Like FreeBSD's `in6_addrpolicy.use`, each entry counts how often a lookup
//! matched it; `show` prints the count in the `Use` column.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};
use std::net::Ipv6Addr;
use via6_wire::Ipv6Prefix;

/// One policy entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The prefix.
    pub prefix: Ipv6Prefix,
    /// Precedence (higher is preferred as a destination, RFC 6724 §6 rule 6).
    pub precedence: u32,
    /// Label (sources and destinations should match, RFC 6724 §5 rule 6 and
    /// §6 rule 5).
    pub label: u32,
}

/// Why an `ip6addrctl` operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// `add`: an entry for the prefix exists (FreeBSD: EEXIST).
    Exists(Ipv6Prefix),
    /// `delete`: no entry for the prefix (FreeBSD: ESRCH).
    NotFound(Ipv6Prefix),
    /// `install`: a line of the configuration file is malformed.
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Exists(p) => write!(f, "a policy for {p} already exists"),
            PolicyError::NotFound(p) => write!(f, "no policy for {p}"),
            PolicyError::Parse { line, reason } => write!(f, "line {line}: {reason}"),
        }
    }
}

impl std::error::Error for PolicyError {}

/// The policy table: entries in insertion order (as `ip6addrctl show` lists
/// them), each with its use counter.
#[derive(Debug)]
pub struct PolicyTable {
    entries: Vec<Policy>,
    uses: Vec<AtomicU64>,
}

impl Clone for PolicyTable {
    fn clone(&self) -> Self {
        PolicyTable {
            entries: self.entries.clone(),
            uses: self.uses.iter().map(|u| AtomicU64::new(u.load(Ordering::Relaxed))).collect(),
        }
    }
}

/// Two tables are equal when their entries are (use counters are statistics).
impl PartialEq for PolicyTable {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Eq for PolicyTable {}

impl Default for PolicyTable {
    fn default() -> Self {
        Self::rfc6724()
    }
}

/// The RFC 6724 §2.1 default policy table, in the RFC's order.
pub fn rfc6724_defaults() -> Vec<Policy> {
    const TABLE: [(Ipv6Addr, u8, u32, u32); 9] = [
        (Ipv6Addr::LOCALHOST, 128, 50, 0),
        (Ipv6Addr::UNSPECIFIED, 0, 40, 1),
        (Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96, 35, 4),
        (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16, 30, 2),
        (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, 5, 5),
        (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, 3, 13),
        (Ipv6Addr::UNSPECIFIED, 96, 1, 3),
        (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, 1, 11),
        (Ipv6Addr::new(0x3ffe, 0, 0, 0, 0, 0, 0, 0), 16, 1, 12),
    ];
    TABLE
        .iter()
        .filter_map(|&(a, len, precedence, label)| {
            Ipv6Prefix::new_truncating(a, len).ok().map(|prefix| Policy { prefix, precedence, label })
        })
        .collect()
}

impl PolicyTable {
    /// RFC 6724 §2.1 default table.
    pub fn rfc6724() -> Self {
        let mut t = Self::empty();
        t.install_defaults();
        t
    }

    /// An empty table (after `ip6addrctl flush`).
    pub fn empty() -> Self {
        PolicyTable { entries: Vec::new(), uses: Vec::new() }
    }

    /// The entries, in insertion order.
    pub fn entries(&self) -> &[Policy] {
        &self.entries
    }

    /// How often each entry matched a lookup, aligned with [`Self::entries`].
    pub fn uses(&self) -> Vec<u64> {
        self.uses.iter().map(|u| u.load(Ordering::Relaxed)).collect()
    }

    /// `ip6addrctl add PREFIX PREC LABEL`: fails if the prefix has an entry
    /// (FreeBSD returns EEXIST; delete it first to change it).
    pub fn add(&mut self, policy: Policy) -> Result<(), PolicyError> {
        if self.entries.iter().any(|e| e.prefix == policy.prefix) {
            return Err(PolicyError::Exists(policy.prefix));
        }
        self.entries.push(policy);
        self.uses.push(AtomicU64::new(0));
        Ok(())
    }

    /// `ip6addrctl delete PREFIX`: fails if there is no entry for it.
    pub fn delete(&mut self, prefix: Ipv6Prefix) -> Result<Policy, PolicyError> {
        let pos =
            self.entries.iter().position(|e| e.prefix == prefix).ok_or(PolicyError::NotFound(prefix))?;
        self.uses.remove(pos);
        Ok(self.entries.remove(pos))
    }

    /// `ip6addrctl flush`: removes every entry; returns how many there were.
    pub fn flush(&mut self) -> usize {
        let n = self.entries.len();
        self.entries.clear();
        self.uses.clear();
        n
    }

    /// Restores the RFC 6724 §2.1 default table (flush, then the defaults).
    pub fn install_defaults(&mut self) {
        self.flush();
        for p in rfc6724_defaults() {
            self.entries.push(p);
            self.uses.push(AtomicU64::new(0));
        }
    }

    /// `ip6addrctl install FILE`: adds every entry of a configuration file
    /// (`PREFIX/LEN PRECEDENCE LABEL` per line, `#` comments). All or
    /// nothing: on any error the table is unchanged.
    pub fn install(&mut self, text: &str) -> Result<usize, PolicyError> {
        let parsed = parse_policy_file(text)?;
        let mut next = self.clone();
        for p in &parsed {
            next.add(*p)?;
        }
        *self = next;
        Ok(parsed.len())
    }

    fn find(&self, addr: &Ipv6Addr) -> Option<usize> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.prefix.contains(*addr))
            .max_by_key(|(_, e)| e.prefix.prefix_len())
            .map(|(i, _)| i)
    }

    /// The longest-matching entry's (precedence, label) for an address;
    /// (0, 0) when nothing matches (an empty table, FreeBSD's
    /// `defaultaddrpolicy`). Counts the use of the matched entry.
    pub fn lookup(&self, addr: &Ipv6Addr) -> (u32, u32) {
        match self.find(addr) {
            Some(i) => {
                if let Some(u) = self.uses.get(i) {
                    u.fetch_add(1, Ordering::Relaxed);
                }
                (self.entries[i].precedence, self.entries[i].label)
            }
            None => (0, 0),
        }
    }

    /// Label of an address.
    pub fn label(&self, addr: &Ipv6Addr) -> u32 {
        self.lookup(addr).1
    }

    /// Precedence of an address.
    pub fn precedence(&self, addr: &Ipv6Addr) -> u32 {
        self.lookup(addr).0
    }
}

/// Parses an `ip6addrctl install` configuration file: one
/// `PREFIX/LEN PRECEDENCE LABEL` per line, blank lines and `#` comments
/// ignored.
pub fn parse_policy_file(text: &str) -> Result<Vec<Policy>, PolicyError> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let err = |reason: String| PolicyError::Parse { line: n + 1, reason };
        let f: Vec<&str> = line.split_whitespace().collect();
        let [prefix, prec, label] = f[..] else {
            return Err(err(format!("expected `PREFIX/LEN PRECEDENCE LABEL`, got `{line}`")));
        };
        let prefix: Ipv6Prefix = prefix.parse().map_err(|_| err(format!("bad IPv6 prefix `{prefix}`")))?;
        let precedence = prec.parse().map_err(|_| err(format!("bad precedence `{prec}`")))?;
        let label = label.parse().map_err(|_| err(format!("bad label `{label}`")))?;
        out.push(Policy { prefix, precedence, label });
    }
    Ok(out)
}

/// `ip6addrctl show`, in FreeBSD's format: a `Prefix Prec Label Use` header
/// (`%-30s %5s %5s %8s`), then one line per entry (`%-30s %5d %5d %8llu`,
/// the prefix as `getnameinfo` prints it, e.g. `::ffff:0.0.0.0/96`). An
/// empty table prints nothing, as FreeBSD does.
pub fn format_policy_table(table: &PolicyTable) -> String {
    let mut s = String::new();
    let uses = table.uses();
    for (i, e) in table.entries().iter().enumerate() {
        if i == 0 {
            s.push_str(&format!("{:<30} {:>5} {:>5} {:>8}\n", "Prefix", "Prec", "Label", "Use"));
        }
        let prefix = format!("{}/{}", e.prefix.addr(), e.prefix.prefix_len());
        let used = uses.get(i).copied().unwrap_or(0);
        s.push_str(&format!("{prefix:<30} {:>5} {:>5} {used:>8}\n", e.precedence, e.label));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table_is_rfc6724() {
        let t = PolicyTable::rfc6724();
        assert_eq!(t.entries().len(), 9);
        assert_eq!(t.lookup(&"::1".parse().unwrap()), (50, 0));
        // 2001::/32 is Teredo; documentation addresses fall under ::/0.
        assert_eq!(t.lookup(&"2001:0:5ef5:79fb::1".parse().unwrap()), (5, 5));
        assert_eq!(t.lookup(&"2001:db8::1".parse().unwrap()), (40, 1));
        assert_eq!(t.lookup(&"2002:c633:6401::1".parse().unwrap()), (30, 2));
        assert_eq!(t.lookup(&"::ffff:192.0.2.1".parse().unwrap()), (35, 4));
        assert_eq!(t.lookup(&"fd00::1".parse().unwrap()), (3, 13));
        assert_eq!(t.lookup(&"::192.0.2.1".parse().unwrap()), (1, 3));
        assert_eq!(t.lookup(&"fec0::1".parse().unwrap()), (1, 11));
        assert_eq!(t.lookup(&"3ffe::1".parse().unwrap()), (1, 12));
        assert_eq!(t.lookup(&"2a00::1".parse().unwrap()), (40, 1));
    }
}
