#!/usr/bin/python3
"""Hostile input for the interop suite: malformed and abusive frames sent at a
via6 host on IFACE (MAC). Only to the addresses of the suite's own namespace."""
import sys
from scapy.all import (Ether, IP, IPv6, ICMP, ICMPv6EchoRequest, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrRouting, Raw, sendp, raw)

iface, mac = sys.argv[1], sys.argv[2]
src4, dst4 = "192.0.2.1", "192.0.2.2"
src6, dst6 = "2001:db8:6::1", "2001:db8:6::2"
eth4 = Ether(dst=mac, type=0x0800)
eth6 = Ether(dst=mac, type=0x86dd)
frames = []
good4 = raw(IP(src=src4, dst=dst4) / ICMP() / Raw(b"x" * 32))
frames.append(eth4 / Raw(good4[:12]))                                   # truncated header
bad_ihl = bytearray(good4); bad_ihl[0] = 0x44                            # IHL 4 < 5
frames.append(eth4 / Raw(bytes(bad_ihl)))
bad_sum = bytearray(good4); bad_sum[10] ^= 0xff                          # bad header checksum
frames.append(eth4 / Raw(bytes(bad_sum)))
lying = bytearray(good4); lying[2:4] = (4000).to_bytes(2, "big")         # total length past the buffer
frames.append(eth4 / Raw(bytes(lying)))
good6 = raw(IPv6(src=src6, dst=dst6) / ICMPv6EchoRequest(data=b"y" * 16))
lying6 = bytearray(good6); lying6[4:6] = (3000).to_bytes(2, "big")       # payload length lies
frames.append(eth6 / Raw(bytes(lying6)))
frames.append(eth6 / Raw(good6[:20]))                                    # truncated fixed header
frames.append(eth6 / IPv6(src="::ffff:192.0.2.1", dst=dst6) / ICMPv6EchoRequest())   # v4-mapped source
frames.append(eth6 / IPv6(src=src6, dst="::ffff:192.0.2.2") / ICMPv6EchoRequest())   # v4-mapped destination
chain = IPv6ExtHdrDestOpt()
for _ in range(40):
    chain = chain / IPv6ExtHdrDestOpt()
frames.append(eth6 / IPv6(src=src6, dst=dst6) / chain / ICMPv6EchoRequest())        # long chain
frames.append(eth6 / IPv6(src=src6, dst=dst6) / IPv6ExtHdrRouting(type=0, addresses=["2001:db8::1"], segleft=1) / ICMPv6EchoRequest())
payload = raw(ICMPv6EchoRequest(data=b"z" * 64))
# Overlapping IPv6 fragments (RFC 5722): the whole datagram must be dropped.
frames.append(eth6 / IPv6(src=src6, dst=dst6) / IPv6ExtHdrFragment(id=7, offset=0, m=1, nh=58) / Raw(payload[:48]))
frames.append(eth6 / IPv6(src=src6, dst=dst6) / IPv6ExtHdrFragment(id=7, offset=2, m=0, nh=58) / Raw(payload[16:]))
# Overlapping IPv4 fragments.
p4 = raw(ICMP() / Raw(b"w" * 64))
frames.append(eth4 / IP(src=src4, dst=dst4, id=99, flags="MF", frag=0, proto=1) / Raw(p4[:48]))
frames.append(eth4 / IP(src=src4, dst=dst4, id=99, flags=0, frag=2, proto=1) / Raw(p4[16:]))
frames.append(Ether(dst=mac, type=0x0806) / Raw(b"\x00\x01\x08\x00"))  # truncated ARP
frames.append(Raw(b"\x02"))                                            # runt frame
sendp(frames, iface=iface, verbose=False)
print(f"sent {len(frames)} hostile frames")
