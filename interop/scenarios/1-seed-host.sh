# Scenario 1 — the seed host: IPv4 only on lo0, `0.0.0.0/0 via fe80::1%tap0`.
# Linux routes the host's /32 `via inet6` the host's link-local.
scenario seed-host
netns L L
tap T h
SOCKS_PORT=$((20000 + ID % 20000))
node h1 "
[node]
name = \"h1\"
[socks]
listen = \"127.0.0.1:$SOCKS_PORT\"
[dns]
servers = [\"192.0.2.1\"]
[[interface]]
name = \"lo0\"
kind = \"loopback\"
addresses = [\"198.51.100.1/32\", \"2001:db8:1::1/128\"]
[[interface]]
name = \"tap0\"
kind = \"tap\"
device = \"$T\"
addresses = [\"fe80::2/64\"]
[[route]]
dest = \"0.0.0.0/0\"
via = \"fe80::1%tap0\"
[[route]]
dest = \"::/0\"
via = \"fe80::1%tap0\"
"
give "$T" "$L"
linux_defaults "$L"
in_ns "$L" ip addr add fe80::1/64 dev "$T"
in_ns "$L" ip addr add 192.0.2.1/32 dev lo
in_ns "$L" ip -6 addr add 2001:db8:9::1/128 dev lo
in_ns "$L" ip route add 198.51.100.1/32 via inet6 fe80::2 dev "$T"
in_ns "$L" ip -6 route add 2001:db8:1::1/128 via fe80::2 dev "$T"
sleep 1.5

check "Linux pings via6 over IPv6 link-local (fe80::2%tap)" in_ns "$L" ping -6 -c 2 -W 2 "fe80::2%$T"
check "Linux pings via6's lo0 IPv4 address over a v4-via-v6 route" in_ns "$L" ping -c 2 -W 2 198.51.100.1
check "Linux pings via6's lo0 IPv6 address" in_ns "$L" ping -6 -c 2 -W 2 2001:db8:1::1
expect "via6 route get picks lo0's 198.51.100.1 by the loopback rule" '"source":"198.51.100.1","source_rule":"loopback"' \
    v h1 route get --json 192.0.2.1
expect "via6 pings Linux over IPv4 via its IPv6 next hop" '2 packets received' v h1 ping -c 2 192.0.2.1
expect "the echo request on the wire has source 198.51.100.1 and EtherType IPv4" '^198\.51\.100\.1[[:space:]]+0x0800' \
    bash -c "sleep 0.2; tshark -r '$DIR/pcap/h1-tap0.pcapng' -Y 'icmp.type == 8 && ip.dst == 192.0.2.1' -T fields -e ip.src -e eth.type 2>/dev/null"
expect "via6 pings Linux over IPv6" '2 packets received' v h1 ping -c 2 2001:db8:9::1
expect "via6 traceroute reaches Linux at hop 1" '^ 1  192\.0\.2\.1 ' v h1 traceroute -q 1 192.0.2.1
expect "via6 learnt Linux's link-local gateway by NDP" 'fe80::1%tap0 +[0-9a-f:]{17}' v h1 ndp -an
v h1 sink 7000 >/dev/null
check "Linux opens a TCP connection to a via6 listener over IPv4 via v4-via-v6 and sends 1 MiB" in_ns "$L" /usr/bin/python3 -c "
import socket
s = socket.create_connection(('198.51.100.1', 7000), timeout=10)
s.sendall(bytes(range(256)) * 4096)
s.shutdown(socket.SHUT_WR)
assert s.recv(1) == b''
s.close()"
expect "via6's listener got all 1048576 bytes from Linux's 192.0.2.1 (as ::ffff:192.0.2.1)" 'closed \[::ffff:192\.0\.2\.1\]:[0-9]+ 1048576 bytes' \
    bash -c "sleep 0.5; '$VIA6' -N '$DIR/h1.sock' sink-stats 7000"
in_ns "$L" /usr/bin/python3 -m http.server 8000 --bind :: --directory "$DIR" > "$DIR/http.log" 2>&1 &
HTTP=$!
sleep 1
echo "hello from Linux" > "$DIR/index.txt"
expect "curl through via6's SOCKS5 port fetches a page from Linux (v4-via-v6)" '^hello from Linux$' \
    curl -sS --max-time 10 --socks5 "127.0.0.1:$SOCKS_PORT" http://192.0.2.1:8000/index.txt
expect "the HTTP server logs via6's lo0 address 198.51.100.1 as the client" '^(::ffff:)?198\.51\.100\.1 .*"GET /index.txt' \
    bash -c "sleep 0.3; cat '$DIR/http.log'"
in_ns "$L" /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/../dns_responder.py" 192.0.2.1 web.example 192.0.2.1 2001:db8:9::1 30 &
DNS=$!
sleep 0.5
expect "curl --socks5-hostname: via6 resolves the name through the stack and fetches it" '^hello from Linux$' \
    curl -sS --max-time 10 --socks5-hostname "127.0.0.1:$SOCKS_PORT" http://web.example:8000/index.txt
expect "RFC 6724 ordering picked the IPv6 answer (the server saw 2001:db8:1::1)" '^2001:db8:1::1 .*"GET /index.txt' \
    bash -c "sleep 0.3; cat '$DIR/http.log'"
expect "an unknown name gets SOCKS reply 4 (host unreachable)" '\(4\)|[Hh]ost unreachable' \
    curl -sS --max-time 10 --socks5-hostname "127.0.0.1:$SOCKS_PORT" http://nope.example:8000/
kill "$DNS" 2>/dev/null
in_ns "$L" /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('192.0.2.1', 9999)); s.settimeout(10)
d, a = s.recvfrom(2048); s.sendto(b'echo:' + d, a); open('$DIR/udp-peer.txt', 'w').write(a[0])" &
ECHO=$!
sleep 0.5
expect "SOCKS5 UDP ASSOCIATE: a datagram goes through the stack and the reply comes back" '^echo:ping-over-socks$' \
    /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/../socks_udp.py" "$SOCKS_PORT" 192.0.2.1 9999 ping-over-socks
wait "$ECHO" 2>/dev/null
expect "the UDP echo server saw via6's lo0 address" '^198\.51\.100\.1$' cat "$DIR/udp-peer.txt"
kill "$HTTP" 2>/dev/null
expect "a malformed control request gets an error reply" 'unknown verb|unknown command' v h1 frobnicate
check "the daemon is still up after it" v h1 netstat -rn
end_scenario
