//! ARP for IPv4 neighbours on Ethernet (RFC 826), sharing the neighbour cache
//! and its reachability states with NDP.

use crate::addr::IfIndex;
use crate::neigh::NeighKey;
use crate::stack::Stack;
use crate::stats::Counter;
use crate::time::Instant;
use std::net::{IpAddr, Ipv4Addr};
use via6_wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use via6_wire::ethernet::ethertype;
use via6_wire::MacAddr;

impl Stack {
    /// RFC 826 "Packet Reception": merge the sender into the cache if we
    /// have an entry or are the target; answer requests for our addresses.
    pub(crate) fn arp_input(&mut self, ifindex: IfIndex, payload: &[u8], now: Instant) {
        let repr = match ArpPacket::new_checked(payload).and_then(|p| ArpRepr::parse(&p)) {
            Ok(r) => r,
            Err(_) => {
                self.stats.inc(Counter::ArpsBadframe);
                return;
            }
        };
        let Some(mac) = self.interface(ifindex).and_then(|i| i.mac()) else { return };
        let target_is_ours = self
            .interface(ifindex)
            .is_some_and(|i| i.usable_addrs().any(|a| a.addr == IpAddr::V4(repr.target_ip)));
        let sender = repr.sender_ip;
        if repr.sender_mac.is_multicast() || sender.is_multicast() || sender.is_broadcast() {
            self.stats.inc(Counter::ArpsBadframe);
            return;
        }
        if !sender.is_unspecified() {
            let key = NeighKey { ifindex, addr: IpAddr::V4(sender) };
            let params = self.nud_params(&key);
            let released = if self.neigh.get(&key).is_some() {
                let is_reply = repr.operation == ArpOperation::Reply;
                // A reply to our request confirms reachability like a
                // solicited NA; a request only tells us the address.
                if is_reply {
                    self.neigh.advertised(key, Some(repr.sender_mac), true, true, None, now, &params)
                } else {
                    self.neigh.learned(key, repr.sender_mac)
                }
            } else if target_is_ours {
                self.neigh.learned(key, repr.sender_mac)
            } else {
                None
            };
            if let Some((dst, held)) = released {
                for pkt in held {
                    self.ethernet_send(ifindex, dst, pkt);
                }
            }
        }
        match repr.operation {
            ArpOperation::Request => {
                self.stats.inc(Counter::ArpsRxrequests);
                if target_is_ours {
                    let reply = ArpRepr {
                        operation: ArpOperation::Reply,
                        sender_mac: mac,
                        sender_ip: repr.target_ip,
                        target_mac: repr.sender_mac,
                        target_ip: repr.sender_ip,
                    };
                    self.send_arp(ifindex, repr.sender_mac, &reply);
                    self.stats.inc(Counter::ArpsTxreplies);
                }
            }
            ArpOperation::Reply => self.stats.inc(Counter::ArpsRxreplies),
            _ => {}
        }
    }

    /// Broadcasts (or unicasts, when probing) a request for `target`. The
    /// sender address is one of ours on the link; on a link with no IPv4
    /// address it is 0.0.0.0, as in an RFC 5227 probe.
    pub(crate) fn send_arp_request(&mut self, ifindex: IfIndex, target: Ipv4Addr, unicast: Option<MacAddr>) {
        let Some(iface) = self.interface(ifindex) else { return };
        let Some(mac) = iface.mac() else { return };
        let sender_ip = iface
            .usable_addrs()
            .filter_map(|a| match a.addr {
                IpAddr::V4(v4) => Some((a.subnet_contains(IpAddr::V4(target)), v4)),
                _ => None,
            })
            .max_by_key(|(same_subnet, _)| *same_subnet)
            .map(|(_, a)| a)
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        let req = ArpRepr {
            operation: ArpOperation::Request,
            sender_mac: mac,
            sender_ip,
            target_mac: MacAddr::ZERO,
            target_ip: target,
        };
        self.send_arp(ifindex, unicast.unwrap_or(MacAddr::BROADCAST), &req);
        self.stats.inc(Counter::ArpsTxrequests);
    }

    fn send_arp(&mut self, ifindex: IfIndex, dst: MacAddr, repr: &ArpRepr) {
        let Some(src) = self.interface(ifindex).and_then(|i| i.mac()) else { return };
        let mut buf = self.pool.get(repr.buffer_len());
        if repr.emit(buf.bytes_mut()).is_err() {
            self.pool.put(buf);
            return;
        }
        self.frame_and_send(ifindex, src, dst, ethertype::ARP, buf);
    }
}
