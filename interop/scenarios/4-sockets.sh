# Scenario 4 — sockets with inet6(4) semantics, Linux clients to via6
# listeners (UDP until TCP exists): V6ONLY off takes IPv4 as ::ffff:a.b.c.d,
# V6ONLY on refuses it, an AF_INET and a dual AF_INET6 wildcard coexist (IPv4
# goes to AF_INET), and a scoped link-local bind receives.
scenario sockets
netns L L
tap T k
SOCKS_PORT=$((40000 + ID % 20000))
node s "
[node]
name = \"s\"
[socks]
listen = \"127.0.0.1:$SOCKS_PORT\"
[[interface]]
name = \"tap0\"
kind = \"tap\"
device = \"$T\"
addresses = [\"192.0.2.2/24\", \"2001:db8:4::2/64\", \"fe80::2/64\"]
"
give "$T" "$L"
linux_defaults "$L"
in_ns "$L" ip addr add 192.0.2.1/24 dev "$T"
in_ns "$L" ip -6 addr add 2001:db8:4::1/64 dev "$T"
sleep 1.5
PY=/usr/bin/python3
send4() { in_ns "$L" "$PY" -c "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('192.0.2.1', int(sys.argv[3]))); s.sendto(sys.argv[2].encode(), ('192.0.2.2', int(sys.argv[1])))" "$@"; }
send6() { in_ns "$L" "$PY" -c "import socket,sys; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.sendto(sys.argv[2].encode(), socket.getaddrinfo(sys.argv[3], int(sys.argv[1]), socket.AF_INET6)[0][4])" "$@"; }

v s udp-listen -dual 5000 >/dev/null
send4 5000 v4-to-dual 40000
expect "IPv4 reaches a dual (V6ONLY off) socket as ::ffff:a.b.c.d" 'from \[::ffff:192\.0\.2\.1\]:40000 .*"v4-to-dual"' bash -c "sleep 0.3; '$VIA6' -N '$DIR/s.sock' udp-recv 5000"
v s udp-listen -6 5001 >/dev/null
send4 5001 v4-to-v6only 40001
send6 5001 v6-to-v6only 2001:db8:4::2
expect "a V6ONLY socket gets IPv6 only" '^from \[2001:db8:4::1\]:[0-9]+ to 2001:db8:4::2: "v6-to-v6only"$' bash -c "sleep 0.3; '$VIA6' -N '$DIR/s.sock' udp-recv 5001"
expect "IPv4 to a V6ONLY-only port is refused (ICMP port unreachable counted)" '"udps_noport":[1-9]' v s netstat -s --json
v s udp-listen -dual 5002 >/dev/null
expect "an AF_INET wildcard binds beside a dual AF_INET6 wildcard" 'listening on 0\.0\.0\.0:5002' v s udp-listen -4 5002
send4 5002 v4-goes-to-inet 40002
expect "IPv4 goes to the AF_INET socket, not the dual one" 'from 192\.0\.2\.1:40002 to 192\.0\.2\.2: "v4-goes-to-inet"' bash -c "sleep 0.3; '$VIA6' -N '$DIR/s.sock' udp-recv 5002"
expect "a second AF_INET wildcard on the port is EADDRINUSE" 'EADDRINUSE' v s udp-listen -4 5002
expect "a link-local bind without a zone is refused" 'needs a scope id' v s udp-listen -6 fe80::2 5003
v s udp-listen -6 fe80::2%tap0 5003 >/dev/null
send6 5003 to-link-local "fe80::2%$T"
expect "a scoped link-local socket receives, the sender shown with its zone" 'from \[fe80::[0-9a-f:]+%1\]:[0-9]+ to fe80::2: "to-link-local"' bash -c "sleep 0.3; '$VIA6' -N '$DIR/s.sock' udp-recv 5003"
in_ns "$L" "$PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('192.0.2.1', 6000)); s.settimeout(5)
d, a = s.recvfrom(100); open('$DIR/linux-got.txt', 'w').write(f'{a[0]} {d.decode()}')" &
RECEIVER=$!
sleep 0.5
v s udp-send 192.0.2.1:6000 hello-linux >/dev/null
wait "$RECEIVER"
expect "Linux receives via6's datagram from via6's address" '^192\.0\.2\.2 hello-linux$' cat "$DIR/linux-got.txt"
v s sink -6 7001 >/dev/null
expect "TCP: IPv4 to a V6ONLY listener is refused with RST" 'refused' in_ns "$L" "$PY" -c "
import socket
try:
    socket.create_connection(('192.0.2.2', 7001), timeout=5); print('connected')
except ConnectionRefusedError: print('refused')"
check "TCP: IPv6 to the V6ONLY listener connects" in_ns "$L" "$PY" -c "
import socket
s = socket.create_connection(('2001:db8:4::2', 7001), timeout=5); s.sendall(b'x' * 1000); s.close()"
expect "TCP: the listener saw the IPv6 peer" 'closed \[2001:db8:4::1\]:[0-9]+ 1000 bytes' bash -c "sleep 0.5; '$VIA6' -N '$DIR/s.sock' sink-stats 7001"
expect "SOCKS: a domain name without [dns] servers is refused with reply 8" '\(8\)|[Aa]ddress type' \
    curl -sS --max-time 10 --socks5-hostname "127.0.0.1:$SOCKS_PORT" http://h2.example/
end_scenario
