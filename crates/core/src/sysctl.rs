//! Typed tunables under FreeBSD names, with the defaults of the manual pages
//! (inet6(4), inet(4), icmp6(4), icmp(4), arp(4)).
//!
//! Unknown names are an error. Booleans accept 0 or 1; integer limits follow
//! inet6(4): where it says so, 0 disables and -1 means unlimited.

use core::fmt;

macro_rules! knobs {
    ($( $variant:ident = $name:literal, $default:expr, $min:expr, $max:expr, $doc:literal; )*) => {
        /// A tunable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Knob { $( #[doc = $doc] $variant, )* }

        const SPECS: &[Spec] = &[ $( Spec { knob: Knob::$variant, name: $name, default: $default, min: $min, max: $max, doc: $doc }, )* ];
    };
}

/// One tunable's definition.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The tunable.
    pub knob: Knob,
    /// Its sysctl name.
    pub name: &'static str,
    /// Default value.
    pub default: i64,
    /// Smallest accepted value.
    pub min: i64,
    /// Largest accepted value.
    pub max: i64,
    /// What it does.
    pub doc: &'static str,
}

const BOOL: (i64, i64) = (0, 1);

knobs! {
    Ip6Forwarding = "net.inet6.ip6.forwarding", 0, BOOL.0, BOOL.1, "Forward IPv6 packets; act as a router.";
    Ip6Redirect = "net.inet6.ip6.redirect", 1, BOOL.0, BOOL.1, "Send ICMPv6 redirects when forwarding.";
    Ip6Hlim = "net.inet6.ip6.hlim", 64, 1, 255, "Default hop limit of outgoing IPv6 packets.";
    Ip6MaxFrags = "net.inet6.ip6.maxfrags", 8192, -1, 1 << 30, "Fragments held across all reassembly queues (0 disables reassembly, -1 unlimited).";
    Ip6MaxFragPackets = "net.inet6.ip6.maxfragpackets", 1024, -1, 1 << 30, "Datagrams under reassembly (0: accept none, -1 unlimited).";
    Ip6MaxFragBucketSize = "net.inet6.ip6.maxfragbucketsize", 16, 1, 1 << 20, "Reassembly queues per hash bucket.";
    Ip6MaxFragsPerPacket = "net.inet6.ip6.maxfragsperpacket", 64, 1, 1 << 20, "Fragments held for one datagram.";
    Ip6AcceptRtadv = "net.inet6.ip6.accept_rtadv", 0, BOOL.0, BOOL.1, "Default of the per-interface ACCEPT_RTADV flag.";
    Ip6AutoLinklocal = "net.inet6.ip6.auto_linklocal", 1, BOOL.0, BOOL.1, "Default of the per-interface AUTO_LINKLOCAL flag.";
    Ip6UseStableaddr = "net.inet6.ip6.use_stableaddr", 0, BOOL.0, BOOL.1, "Form RFC 7217 stable interface identifiers instead of EUI-64.";
    Ip6LogInterval = "net.inet6.ip6.log_interval", 5, 0, 1 << 30, "Seconds between forwarding-engine log lines.";
    Ip6HdrNestLimit = "net.inet6.ip6.hdrnestlimit", 15, 0, 1 << 16, "Extension headers accepted on input (0: as many as possible).";
    Ip6DadCount = "net.inet6.ip6.dad_count", 1, 0, 16, "DAD probes sent for a new address.";
    Ip6AutoFlowlabel = "net.inet6.ip6.auto_flowlabel", 1, BOOL.0, BOOL.1, "Fill the flow label of connected transport packets.";
    Ip6DefMcastHlim = "net.inet6.ip6.defmcasthlim", 1, 1, 255, "Default hop limit of outgoing IPv6 multicast.";
    Ip6UseDeprecated = "net.inet6.ip6.use_deprecated", 1, BOOL.0, BOOL.1, "Allow deprecated addresses as sources (RFC 4862 §5.5.4).";
    Ip6V6Only = "net.inet6.ip6.v6only", 1, BOOL.0, BOOL.1, "Default of IPV6_V6ONLY on new AF_INET6 sockets.";
    Ip6LogCannotForward = "net.inet6.ip6.log_cannot_forward", 1, BOOL.0, BOOL.1, "Log packets that cannot be forwarded (scope, unspecified source).";
    Ip6SourceAddressValidation = "net.inet6.ip6.source_address_validation", 1, BOOL.0, BOOL.1, "RFC 3704 §3.2 validation for local delivery.";
    Ip6PreferTempaddr = "net.inet6.ip6.prefer_tempaddr", 0, BOOL.0, BOOL.1, "Prefer temporary addresses as sources (RFC 6724 rule 7).";
    Ip6PreferNexthopSource = "net.inet6.ip6.prefer_nexthop_source", 0, BOOL.0, BOOL.1, "Apply RFC 6724 rule 5.5 (prefer addresses in a prefix advertised by the next hop).";
    Ip6RtadvInterval = "net.inet6.ip6.rtadv_interval", 200, 4, 1800, "Seconds between unsolicited router advertisements when forwarding (MaxRtrAdvInterval).";
    Ip6RtadvLifetime = "net.inet6.ip6.rtadv_lifetime", 1800, 0, 9000, "Router lifetime advertised when forwarding (AdvDefaultLifetime).";
    Ip6Rtadv = "net.inet6.ip6.rtadv", 1, BOOL.0, BOOL.1, "Send router advertisements when forwarding.";
    InetForwarding = "net.inet.ip.forwarding", 0, BOOL.0, BOOL.1, "Forward IPv4 packets.";
    InetTtl = "net.inet.ip.ttl", 64, 1, 255, "Default TTL of outgoing IPv4 packets.";
    InetRedirect = "net.inet.ip.redirect", 1, BOOL.0, BOOL.1, "Send ICMP redirects when forwarding.";
    InetMaxFrags = "net.inet.ip.maxfrags", 8192, -1, 1 << 30, "IPv4 fragments held in total (0 disables reassembly, -1 unlimited).";
    InetMaxFragPackets = "net.inet.ip.maxfragpackets", 1024, -1, 1 << 30, "IPv4 datagrams under reassembly.";
    InetMaxFragBucketSize = "net.inet.ip.maxfragbucketsize", 16, 1, 1 << 20, "IPv4 reassembly queues per hash bucket.";
    InetMaxFragsPerPacket = "net.inet.ip.maxfragsperpacket", 16, 1, 1 << 20, "IPv4 fragments held for one datagram.";
    InetSourceRoute = "net.inet.ip.sourceroute", 0, BOOL.0, BOOL.1, "Forward source-routed IPv4 packets.";
    Icmp6ErrPpsLimit = "net.inet6.icmp6.errppslimit", 100, -1, 1 << 30, "ICMPv6 errors per second (0 or -1: unlimited).";
    Icmp6RedirAccept = "net.inet6.icmp6.rediraccept", 1, BOOL.0, BOOL.1, "Accept ICMPv6 redirects (hosts).";
    Icmp6Nd6MaxQueueLen = "net.inet6.icmp6.nd6_maxqueuelen", 16, 1, 4096, "Packets held per neighbour awaiting resolution.";
    Icmp6Nd6MMaxTries = "net.inet6.icmp6.nd6_mmaxtries", 3, 1, 100, "Multicast neighbour solicitations (MAX_MULTICAST_SOLICIT).";
    Icmp6Nd6UMaxTries = "net.inet6.icmp6.nd6_umaxtries", 3, 1, 100, "Unicast neighbour solicitations (MAX_UNICAST_SOLICIT).";
    Icmp6Nd6Delay = "net.inet6.icmp6.nd6_delay", 5, 1, 3600, "Seconds in DELAY before probing (DELAY_FIRST_PROBE_TIME).";
    Icmp6ExtIfinfo = "net.inet6.icmp6.ext_ifinfo", 0, BOOL.0, BOOL.1, "Append RFC 5837 interface information to ICMPv6 errors.";
    IcmpIcmpLim = "net.inet.icmp.icmplim", 200, -1, 1 << 30, "ICMPv4 errors per second (0 or -1: unlimited).";
    IcmpExtIfinfo = "net.inet.icmp.ext_ifinfo", 0, BOOL.0, BOOL.1, "Append RFC 5837 interface information to ICMPv4 errors.";
    TcpSyncookies = "net.inet.tcp.syncookies", 1, BOOL.0, BOOL.1, "Answer SYNs with SYN cookies when a listener's SYN queue is full (RFC 4987 §3.6).";
    TcpSyncookiesOnly = "net.inet.tcp.syncookies_only", 0, BOOL.0, BOOL.1, "Use SYN cookies for every SYN, keeping no embryonic state.";
    ArpMaxHold = "net.link.ether.inet.maxhold", 16, 1, 4096, "Packets held per ARP entry awaiting resolution.";
    ArpMaxTries = "net.link.ether.inet.maxtries", 5, 1, 100, "ARP requests before giving up.";
}

/// Why a sysctl call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SysctlError {
    /// No tunable has that name.
    Unknown(String),
    /// The value is out of range.
    OutOfRange {
        /// The name.
        name: &'static str,
        /// The value given.
        value: i64,
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
}

impl fmt::Display for SysctlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SysctlError::Unknown(n) => write!(f, "unknown oid '{n}'"),
            SysctlError::OutOfRange { name, value, min, max } => {
                write!(f, "{name}: value {value} out of range [{min}, {max}]")
            }
        }
    }
}

impl std::error::Error for SysctlError {}

/// The values of every tunable.
#[derive(Debug, Clone)]
pub struct Sysctl {
    values: Vec<i64>,
}

impl Default for Sysctl {
    fn default() -> Self {
        Sysctl { values: SPECS.iter().map(|s| s.default).collect() }
    }
}

impl Sysctl {
    /// Every tunable at its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of a tunable.
    #[inline]
    pub fn get(&self, knob: Knob) -> i64 {
        self.values[knob as usize]
    }

    /// Whether a boolean tunable is on.
    #[inline]
    pub fn on(&self, knob: Knob) -> bool {
        self.get(knob) != 0
    }

    /// Sets a tunable, checking its range; returns the old value.
    pub fn set(&mut self, knob: Knob, value: i64) -> Result<i64, SysctlError> {
        let spec = &SPECS[knob as usize];
        if value < spec.min || value > spec.max {
            return Err(SysctlError::OutOfRange { name: spec.name, value, min: spec.min, max: spec.max });
        }
        Ok(core::mem::replace(&mut self.values[knob as usize], value))
    }

    /// Looks up a tunable by name.
    pub fn knob(name: &str) -> Result<Knob, SysctlError> {
        SPECS
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.knob)
            .ok_or_else(|| SysctlError::Unknown(name.to_string()))
    }

    /// Sets a tunable by name.
    pub fn set_by_name(&mut self, name: &str, value: i64) -> Result<i64, SysctlError> {
        self.set(Self::knob(name)?, value)
    }

    /// Every tunable with its value, in name order; those under `prefix` only
    /// when given (`net.inet6` lists the subtree, as sysctl(8) does).
    pub fn list(&self, prefix: Option<&str>) -> Vec<(&'static Spec, i64)> {
        let mut v: Vec<_> = SPECS
            .iter()
            .filter(|s| prefix.is_none_or(|p| s.name == p || s.name.starts_with(&format!("{p}."))))
            .map(|s| (s, self.values[s.knob as usize]))
            .collect();
        v.sort_by_key(|(s, _)| s.name);
        v
    }

    /// The spec of a tunable.
    pub fn spec(knob: Knob) -> &'static Spec {
        &SPECS[knob as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_in_enum_order() {
        for (i, s) in SPECS.iter().enumerate() {
            assert_eq!(s.knob as usize, i, "{}", s.name);
            assert!(s.min <= s.default && s.default <= s.max, "{}", s.name);
        }
    }

    #[test]
    fn man_page_defaults() {
        let s = Sysctl::new();
        assert_eq!(s.get(Knob::Ip6Forwarding), 0);
        assert_eq!(s.get(Knob::Ip6Redirect), 1);
        assert_eq!(s.get(Knob::Ip6Hlim), 64);
        assert_eq!(s.get(Knob::Ip6V6Only), 1);
        assert_eq!(s.get(Knob::Ip6DadCount), 1);
        assert_eq!(s.get(Knob::Ip6AutoLinklocal), 1);
        assert_eq!(s.get(Knob::Icmp6ErrPpsLimit), 100);
    }

    #[test]
    fn unknown_and_out_of_range() {
        let mut s = Sysctl::new();
        assert_eq!(
            s.set_by_name("net.inet6.ip6.nonsense", 1),
            Err(SysctlError::Unknown("net.inet6.ip6.nonsense".into()))
        );
        assert!(matches!(s.set_by_name("net.inet6.ip6.forwarding", 2), Err(SysctlError::OutOfRange { .. })));
        assert_eq!(s.set_by_name("net.inet6.ip6.forwarding", 1), Ok(0));
        assert!(s.on(Knob::Ip6Forwarding));
        assert_eq!(s.list(Some("net.inet.ip")).len(), 8);
    }
}
