# Scenario 5 — hostile input: scapy sends malformed and abusive packets at a
# via6 host; it stays up, counts the drops, and still answers ping.
scenario hostile
netns L L
tap T x
node h "
[node]
name = \"h\"
[[interface]]
name = \"lo0\"
kind = \"loopback\"
addresses = [\"198.51.100.1/32\"]
[[interface]]
name = \"tap0\"
kind = \"tap\"
device = \"$T\"
mac = \"02:00:00:00:00:33\"
addresses = [\"192.0.2.2/24\", \"2001:db8:6::2/64\"]
"
give "$T" "$L"
linux_defaults "$L"
in_ns "$L" ip addr add 192.0.2.1/24 dev "$T"
in_ns "$L" ip -6 addr add 2001:db8:6::1/64 dev "$T"
sleep 1.5
in_ns "$L" ping -c 1 -W 2 192.0.2.2 >/dev/null
in_ns "$L" ping -6 -c 1 -W 2 2001:db8:6::2 >/dev/null
SCAPY=/usr/bin/python3
check "scapy sent the hostile batch" in_ns "$L" "$SCAPY" "$(dirname "${BASH_SOURCE[0]}")/../hostile.py" "$T" 02:00:00:00:00:33
sleep 0.5
check "via6 still answers IPv4 ping" in_ns "$L" ping -c 2 -W 2 192.0.2.2
check "via6 still answers IPv6 ping" in_ns "$L" ping -6 -c 2 -W 2 2001:db8:6::2
S=$(v h netstat -s --json)
for c in ips_badsum ips_badhlen ips_tooshort ip6s_badscope ip6s_toomanyhdr ip6s_fragdropped ips_fragdropped ip6s_tooshort; do
    expect "netstat -s counted $c" "\"$c\":[1-9]" echo "$S"
done
# SYN cookies (RFC 4987 §3.6): a spoofed SYN flood fills the listener's
# queue (backlog 128); a Linux connection still completes through a cookie.
v h sink 7000 >/dev/null
check "scapy floods via6's listener with 600 spoofed SYNs" in_ns "$L" "$SCAPY" -c "
from scapy.all import Ether, IP, TCP, sendp
f = [Ether(dst='02:00:00:00:00:33') / IP(src='192.0.2.%d' % (100 + i % 150), dst='192.0.2.2')
     / TCP(sport=20000 + i, dport=7000, flags='S', seq=i * 7919) for i in range(600)]
sendp(f, iface='$T', verbose=False)"
check "Linux connects to the flooded listener and sends 64 KiB" in_ns "$L" /usr/bin/python3 -c "
import socket
s = socket.create_connection(('192.0.2.2', 7000), timeout=10)
s.sendall(bytes(range(256)) * 256)
s.shutdown(socket.SHUT_WR)
assert s.recv(1) == b''
s.close()"
expect "via6's listener got all 65536 bytes from Linux" 'closed \[::ffff:192\.0\.2\.1\]:[0-9]+ 65536 bytes' \
    bash -c "sleep 0.5; '$VIA6' -N '$DIR/h.sock' sink-stats 7000"
S=$(v h netstat -s --json)
for c in tcps_sc_zonefail tcps_sc_sendcookie tcps_sc_recvcookie; do
    expect "netstat -s counted $c" "\"$c\":[1-9]" echo "$S"
done
end_scenario
