//! Counters under FreeBSD names (`struct ip6stat`, `ipstat`, `icmp6stat`,
//! `icmpstat`, `arpstat`, `udpstat`, `tcpstat`) for `netstat -s`, plus the
//! per-type ICMP in/out histograms.

macro_rules! counters {
    ($( $variant:ident = $section:literal, $name:literal, $doc:literal; )*) => {
        /// A counter.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Counter { $( #[doc = $doc] $variant, )* }

        /// (section, FreeBSD name, netstat -s text) per counter, in enum order.
        pub const COUNTERS: &[(Counter, &str, &str, &str)] = &[ $( (Counter::$variant, $section, $name, $doc), )* ];

        /// How many counters there are.
        const N_COUNTERS: usize = [$( Counter::$variant, )*].len();
    };
}

counters! {
    IpsTotal = "ip", "ips_total", "total packets received";
    IpsBadsum = "ip", "ips_badsum", "bad header checksums";
    IpsTooshort = "ip", "ips_tooshort", "with data size < data length";
    IpsToosmall = "ip", "ips_toosmall", "with size smaller than minimum";
    IpsBadhlen = "ip", "ips_badhlen", "with header length < data size";
    IpsBadlen = "ip", "ips_badlen", "with data length < header length";
    IpsBadoptions = "ip", "ips_badoptions", "with bad options";
    IpsBadvers = "ip", "ips_badvers", "with incorrect version number";
    IpsBadaddr = "ip", "ips_badaddr", "with bad source or destination address";
    IpsFragments = "ip", "ips_fragments", "fragments received";
    IpsFragdropped = "ip", "ips_fragdropped", "fragments dropped (dup or out of space)";
    IpsFragtimeout = "ip", "ips_fragtimeout", "fragments dropped after timeout";
    IpsFragoverflow = "ip", "ips_fragoverflow", "fragments that exceeded limit";
    IpsReassembled = "ip", "ips_reassembled", "packets reassembled ok";
    IpsDelivered = "ip", "ips_delivered", "packets for this host";
    IpsNoproto = "ip", "ips_noproto", "packets for unknown/unsupported protocol";
    IpsForward = "ip", "ips_forward", "packets forwarded";
    IpsCantforward = "ip", "ips_cantforward", "packets not forwardable";
    IpsNoroute = "ip", "ips_noroute", "output packets discarded due to no route";
    IpsRedirectsent = "ip", "ips_redirectsent", "redirects sent";
    IpsLocalout = "ip", "ips_localout", "packets sent from this host";
    IpsOdropped = "ip", "ips_odropped", "output packets dropped due to no bufs, etc.";
    IpsFragmented = "ip", "ips_fragmented", "output datagrams fragmented";
    IpsOfragments = "ip", "ips_ofragments", "fragments created";
    IpsCantfrag = "ip", "ips_cantfrag", "datagrams that can't be fragmented";
    IpsTimeexceeded = "ip", "ips_timeexceeded", "packets whose TTL expired in transit";
    Ip6sTotal = "ip6", "ip6s_total", "total packets received";
    Ip6sTooshort = "ip6", "ip6s_tooshort", "with size smaller than minimum";
    Ip6sToosmall = "ip6", "ip6s_toosmall", "with data size < data length";
    Ip6sBadvers = "ip6", "ip6s_badvers", "with incorrect version number";
    Ip6sBadoptions = "ip6", "ip6s_badoptions", "with bad options";
    Ip6sBadscope = "ip6", "ip6s_badscope", "packets that violated scope rules";
    Ip6sToomanyhdr = "ip6", "ip6s_toomanyhdr", "packets with too many extension headers";
    Ip6sFragments = "ip6", "ip6s_fragments", "fragments received";
    Ip6sFragdropped = "ip6", "ip6s_fragdropped", "fragments dropped (dup or out of space)";
    Ip6sFragtimeout = "ip6", "ip6s_fragtimeout", "fragments dropped after timeout";
    Ip6sFragoverflow = "ip6", "ip6s_fragoverflow", "fragments that exceeded limit";
    Ip6sAtomicfrags = "ip6", "ip6s_atomicfrags", "atomic fragments received";
    Ip6sFragndp = "ip6", "ip6s_fragndp", "fragmented neighbor discovery messages dropped";
    Ip6sReassembled = "ip6", "ip6s_reassembled", "packets reassembled ok";
    Ip6sDelivered = "ip6", "ip6s_delivered", "packets for this host";
    Ip6sNoproto = "ip6", "ip6s_noproto", "packets for unknown/unsupported protocol";
    Ip6sForward = "ip6", "ip6s_forward", "packets forwarded";
    Ip6sCantforward = "ip6", "ip6s_cantforward", "packets not forwardable";
    Ip6sNoroute = "ip6", "ip6s_noroute", "output packets discarded due to no route";
    Ip6sRedirectsent = "ip6", "ip6s_redirectsent", "redirects sent";
    Ip6sLocalout = "ip6", "ip6s_localout", "packets sent from this host";
    Ip6sOdropped = "ip6", "ip6s_odropped", "output packets dropped due to no bufs, etc.";
    Ip6sFragmented = "ip6", "ip6s_fragmented", "output datagrams fragmented";
    Ip6sOfragments = "ip6", "ip6s_ofragments", "fragments created";
    Ip6sCantfrag = "ip6", "ip6s_cantfrag", "datagrams that can't be fragmented";
    Ip6sToobig = "ip6", "ip6s_toobig", "packets too big for the outgoing link";
    Ip6sTimeexceeded = "ip6", "ip6s_timeexceeded", "packets whose hop limit expired in transit";
    Icp6sError = "icmp6", "icp6s_error", "calls to icmp6_error";
    Icp6sCanterror = "icmp6", "icp6s_canterror", "errors not generated in response to an icmp6 message";
    Icp6sToofreq = "icmp6", "icp6s_toofreq", "errors not generated because of rate limitation";
    Icp6sBadcode = "icmp6", "icp6s_badcode", "messages with bad code fields";
    Icp6sTooshort = "icmp6", "icp6s_tooshort", "messages < minimum length";
    Icp6sChecksum = "icmp6", "icp6s_checksum", "bad checksums";
    Icp6sBadlen = "icmp6", "icp6s_badlen", "messages with bad length";
    Icp6sReflect = "icmp6", "icp6s_reflect", "message responses generated";
    Icp6sBadns = "icmp6", "icp6s_badns", "bad neighbor solicitation messages";
    Icp6sBadna = "icmp6", "icp6s_badna", "bad neighbor advertisement messages";
    Icp6sBadrs = "icmp6", "icp6s_badrs", "bad router solicitation messages";
    Icp6sBadra = "icmp6", "icp6s_badra", "bad router advertisement messages";
    Icp6sBadredirect = "icmp6", "icp6s_badredirect", "bad redirect messages";
    IcpsError = "icmp", "icps_error", "calls to icmp_error";
    IcpsOldicmp = "icmp", "icps_oldicmp", "errors not generated in response to an icmp message";
    IcpsToofreq = "icmp", "icps_toofreq", "errors not generated because of rate limitation";
    IcpsBadcode = "icmp", "icps_badcode", "messages with bad code fields";
    IcpsTooshort = "icmp", "icps_tooshort", "messages < minimum length";
    IcpsChecksum = "icmp", "icps_checksum", "bad checksums";
    IcpsReflect = "icmp", "icps_reflect", "message responses generated";
    IcpsBmcastecho = "icmp", "icps_bmcastecho", "multicast echo requests ignored";
    UdpsHdrops = "udp", "udps_hdrops", "with incomplete header";
    UdpsBadsum = "udp", "udps_badsum", "with bad checksum";
    UdpsNoport = "udp", "udps_noport", "dropped due to no socket";
    UdpsFullsock = "udp", "udps_fullsock", "dropped due to full socket buffers";
    UdpsDelivered = "udp", "udps_delivered", "delivered";
    RipsIpackets = "rip", "rips_ipackets", "total input packets (IPv4 raw sockets)";
    RipsFullsock = "rip", "rips_fullsock", "not delivered, input socket full";
    RipsOpackets = "rip", "rips_opackets", "total output packets";
    Rip6sIpackets = "rip6", "rip6s_ipackets", "total input packets";
    Rip6sBadsum = "rip6", "rip6s_badsum", "of above, checksum error";
    Rip6sFullsock = "rip6", "rip6s_fullsock", "not delivered, input socket full";
    Rip6sOpackets = "rip6", "rip6s_opackets", "total output packets";
    TcpsListendrop = "tcp", "tcps_listendrop", "listen queue overflows";
    TcpsScZonefail = "tcp", "tcps_sc_zonefail", "syncache entries refused: queue full (zone failures)";
    TcpsScSendcookie = "tcp", "tcps_sc_sendcookie", "cookies sent";
    TcpsScRecvcookie = "tcp", "tcps_sc_recvcookie", "cookies received";
    TcpsScFailcookie = "tcp", "tcps_sc_failcookie", "cookies that failed validation";
    TcpsSndstale = "tcp", "tcps_sndstale", "queued segments dropped: their connection was gone before transmission";
    ArpsRxrequests = "arp", "arps_rxrequests", "ARP requests received";
    ArpsRxreplies = "arp", "arps_rxreplies", "ARP replies received";
    ArpsTxrequests = "arp", "arps_txrequests", "ARP requests sent";
    ArpsTxreplies = "arp", "arps_txreplies", "ARP replies sent";
    ArpsDropped = "arp", "arps_dropped", "packets dropped due to no ARP reply or full hold queue";
    ArpsTimeouts = "arp", "arps_timeouts", "ARP entries timed out";
    ArpsBadframe = "arp", "arps_badframe", "malformed ARP packets";
    Nd6sDropped = "nd6", "nd6s_dropped", "packets dropped from a full neighbour hold queue";
    Nd6sFailed = "nd6", "nd6s_failed", "neighbour resolutions that failed";
    Nd6sDupdetected = "nd6", "nd6s_dupdetected", "duplicate addresses detected";
    IfsBadframe = "link", "ifs_badframe", "malformed link-layer frames";
    IfsUnknownproto = "link", "ifs_unknownproto", "frames of an unknown EtherType";
    IfsNotforus = "link", "ifs_notforus", "frames for another MAC address";
    IfsTxqdrop = "link", "ifs_txqdrop", "frames dropped from a full transmit queue";
}

/// Every counter, and the ICMP type histograms.
#[derive(Debug, Clone)]
pub struct Stats {
    /// One slot per counter: an array, so a count is one add (no bounds
    /// check, no pointer chase) on the forwarding path.
    values: [u64; N_COUNTERS],
    /// ICMPv4 messages received, by type.
    pub icmp_inhist: [u64; 256],
    /// ICMPv4 messages sent, by type.
    pub icmp_outhist: [u64; 256],
    /// ICMPv6 messages received, by type.
    pub icmp6_inhist: [u64; 256],
    /// ICMPv6 messages sent, by type.
    pub icmp6_outhist: [u64; 256],
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            values: [0; N_COUNTERS],
            icmp_inhist: [0; 256],
            icmp_outhist: [0; 256],
            icmp6_inhist: [0; 256],
            icmp6_outhist: [0; 256],
        }
    }
}

impl Stats {
    /// All zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one.
    #[inline]
    pub fn inc(&mut self, c: Counter) {
        self.values[c as usize] += 1;
    }

    /// Adds `n`.
    #[inline]
    pub fn add(&mut self, c: Counter, n: u64) {
        self.values[c as usize] += n;
    }

    /// The value.
    pub fn get(&self, c: Counter) -> u64 {
        self.values[c as usize]
    }

    /// A counter by its FreeBSD name.
    pub fn by_name(&self, name: &str) -> Option<u64> {
        COUNTERS.iter().find(|(_, _, n, _)| *n == name).map(|(c, ..)| self.get(*c))
    }

    /// Every counter: (section, name, text, value), in definition order.
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &'static str, &'static str, u64)> + '_ {
        COUNTERS.iter().map(|(c, s, n, d)| (*s, *n, *d, self.get(*c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_order() {
        for (i, (c, ..)) in COUNTERS.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        let mut s = Stats::new();
        s.inc(Counter::Ip6sBadscope);
        assert_eq!(s.by_name("ip6s_badscope"), Some(1));
    }
}
