//! The RFC 6724 §2.1 policy table, managed like FreeBSD `ip6addrctl`
//! (show / add / delete / flush / install).

use std::net::Ipv6Addr;
use via6_wire::Ipv6Prefix;

/// One policy entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The prefix.
    pub prefix: Ipv6Prefix,
    /// Precedence (higher is preferred as a destination).
    pub precedence: u32,
    /// Label (source and destination should match).
    pub label: u32,
}

/// The policy table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyTable {
    entries: Vec<Policy>,
}

impl Default for PolicyTable {
    fn default() -> Self {
        Self::rfc6724()
    }
}

fn p(prefix: &str, precedence: u32, label: u32) -> Policy {
    // The table is static text below; a typo is a programming error caught by
    // the unit test `default_table_is_rfc6724`.
    let prefix = prefix.parse().unwrap_or_else(|_| Ipv6Prefix::host(Ipv6Addr::UNSPECIFIED));
    Policy { prefix, precedence, label }
}

impl PolicyTable {
    /// RFC 6724 §2.1 default table.
    pub fn rfc6724() -> Self {
        PolicyTable {
            entries: vec![
                p("::1/128", 50, 0),
                p("::/0", 40, 1),
                p("::ffff:0:0/96", 35, 4),
                p("2002::/16", 30, 2),
                p("2001::/32", 5, 5),
                p("fc00::/7", 3, 13),
                p("::/96", 1, 3),
                p("fec0::/10", 1, 11),
                p("3ffe::/16", 1, 12),
            ],
        }
    }

    /// An empty table (`ip6addrctl flush`): every address then gets
    /// precedence and label 0... as FreeBSD does with no match.
    pub fn empty() -> Self {
        PolicyTable { entries: Vec::new() }
    }

    /// The entries.
    pub fn entries(&self) -> &[Policy] {
        &self.entries
    }

    /// Adds or replaces the entry for a prefix.
    pub fn add(&mut self, policy: Policy) {
        self.entries.retain(|e| e.prefix != policy.prefix);
        self.entries.push(policy);
    }

    /// Deletes the entry for a prefix; false if absent.
    pub fn delete(&mut self, prefix: Ipv6Prefix) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.prefix != prefix);
        before != self.entries.len()
    }

    /// The longest-matching entry for an address; (precedence 0, label 0)
    /// when nothing matches.
    pub fn lookup(&self, addr: &Ipv6Addr) -> (u32, u32) {
        self.entries
            .iter()
            .filter(|e| e.prefix.contains(*addr))
            .max_by_key(|e| e.prefix.prefix_len())
            .map_or((0, 0), |e| (e.precedence, e.label))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table_is_rfc6724() {
        let t = PolicyTable::rfc6724();
        assert_eq!(t.entries().len(), 9);
        assert!(t.entries().iter().all(|e| e.prefix.prefix_len() > 0 || e.precedence == 40));
        assert_eq!(t.lookup(&"::1".parse().unwrap()), (50, 0));
        // 2001::/32 is Teredo; documentation addresses fall under ::/0.
        assert_eq!(t.lookup(&"2001:0:5ef5:79fb::1".parse().unwrap()), (5, 5));
        assert_eq!(t.lookup(&"2001:db8::1".parse().unwrap()), (40, 1));
        assert_eq!(t.lookup(&"2002:c633:6401::1".parse().unwrap()), (30, 2));
        assert_eq!(t.lookup(&"::ffff:192.0.2.1".parse().unwrap()), (35, 4));
        assert_eq!(t.lookup(&"fd00::1".parse().unwrap()), (3, 13));
        assert_eq!(t.lookup(&"2a00::1".parse().unwrap()), (40, 1));
    }
}
