# Scenario 6 — via6 embedded in a program: crates/rt/examples/embed.rs starts
# the seed host's node (IPv4 only on lo0, `0.0.0.0/0 via fe80::1%tap0`) with
# `Node::start` and talks to Linux through the blocking and tokio socket APIs.
scenario embed
EMBED=${EMBED:-$ROOT/target/release/examples/embed}
[[ -x $EMBED ]] || missing "no example binary at $EMBED (cargo build --release -p via6-rt --example embed)"
netns L E
tap T e
cat > "$DIR/embed.toml" <<TOML
[node]
name = "e1"
[[interface]]
name = "lo0"
kind = "loopback"
addresses = ["198.51.100.1/32", "2001:db8:1::1/128"]
[[interface]]
name = "tap0"
kind = "tap"
device = "$T"
addresses = ["fe80::2/64"]
[[route]]
dest = "0.0.0.0/0"
via = "fe80::1%tap0"
[[route]]
dest = "::/0"
via = "fe80::1%tap0"
TOML
# The program opens the TAP device before its kernel side moves into the
# namespace (as `via6 up` does in scenario 1), then waits for Linux to be set up.
EMBED_PCAP="$DIR/pcap" timeout 90 "$EMBED" "$DIR/embed.toml" wait-file "$DIR/ready" tcp 192.0.2.1:7001 1000000 tcp "[2001:db8:9::1]:7001" 1000000 accept 7100 udp 192.0.2.1:9999 \
    > "$DIR/embed.out" 2> "$DIR/embed.err" &
EMBEDPID=$!
PIDS+=("$EMBEDPID")
sleep 0.5
give "$T" "$L"
linux_defaults "$L"
in_ns "$L" ip addr add fe80::1/64 dev "$T"
in_ns "$L" ip addr add 192.0.2.1/32 dev lo
in_ns "$L" ip -6 addr add 2001:db8:9::1/128 dev lo
in_ns "$L" ip route add 198.51.100.1/32 via inet6 fe80::2 dev "$T"
in_ns "$L" ip -6 route add 2001:db8:1::1/128 via fe80::2 dev "$T"
# Linux: a TCP echo server (dual-stack, two connections) and a UDP echo server.
in_ns "$L" /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('::', 7001)); s.listen(4); s.settimeout(60)
log = open('$DIR/tcp-peers.txt', 'w')
for _ in range(2):
    c, a = s.accept(); c.settimeout(30)
    log.write(a[0] + '\n'); log.flush()
    while True:
        d = c.recv(65536)
        if not d: break
        c.sendall(d)
    c.shutdown(socket.SHUT_WR); c.close()" > "$DIR/tcp-echo.log" 2>&1 &
TCPECHO=$!
in_ns "$L" /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('192.0.2.1', 9999)); s.settimeout(60)
d, a = s.recvfrom(2048); s.sendto(b'echo:' + d, a); open('$DIR/udp-peer.txt', 'w').write(a[0])" &
UDPECHO=$!
# Linux: a client for the tokio listener, retrying until the node is up.
in_ns "$L" /usr/bin/python3 -c "
import socket, time
data = bytes((i * 2654435761 >> 3) & 0xff for i in range(300000))
h = 0xcbf29ce484222325
for b in data: h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
for _ in range(300):
    try:
        s = socket.create_connection(('198.51.100.1', 7100), timeout=10); break
    except OSError: time.sleep(0.1)
s.sendall(data); s.shutdown(socket.SHUT_WR)
r = b''
while True:
    d = s.recv(4096)
    if not d: break
    r += d
print('want hash=%016x got %s' % (h, r.decode().strip()))
print('MATCH' if r.decode().strip() == 'hash=%016x' % h else 'MISMATCH')" > "$DIR/tokio-client.log" 2>&1 &
CLIENT=$!
sleep 0.5
touch "$DIR/ready"
wait "$EMBEDPID"
EMBED_RC=$?
wait "$CLIENT" 2>/dev/null
wait "$UDPECHO" 2>/dev/null
kill "$TCPECHO" 2>/dev/null
check "the embedding program ran every step (exit 0)" test "$EMBED_RC" -eq 0
[[ $EMBED_RC -eq 0 ]] || fail "embed stderr" "$(cat "$DIR/embed.err" "$DIR/embed.out")"
expect "blocking TcpStream to Linux over IPv4 via an IPv6 next hop: 1 MB echoed, hash matches" \
    '^tcp 192\.0\.2\.1:7001 from 198\.51\.100\.1:[0-9]+: sent 1000000 received 1000000 hash [0-9a-f]{16} ok$' cat "$DIR/embed.out"
expect "blocking TcpStream to Linux over IPv6: 1 MB echoed, hash matches" \
    '^tcp \[2001:db8:9::1\]:7001 from \[2001:db8:1::1\]:[0-9]+: sent 1000000 received 1000000 hash [0-9a-f]{16} ok$' cat "$DIR/embed.out"
expect "Linux saw the connections from via6's lo0 addresses" '^(::ffff:)?198\.51\.100\.1$' cat "$DIR/tcp-peers.txt"
expect "tokio TcpListener accepted Linux's connection (from 192.0.2.1) and read 300000 bytes" \
    '^accepted 192\.0\.2\.1:[0-9]+: 300000 bytes hash' cat "$DIR/embed.out"
expect "Linux got the hash of what it sent back over the tokio stream" '^MATCH$' cat "$DIR/tokio-client.log"
expect "UdpSocket exchanged datagrams with Linux (v4 via v6)" '^udp 192\.0\.2\.1:9999: reply "echo:via6-embed" from 192\.0\.2\.1:9999$' \
    cat "$DIR/embed.out"
expect "the UDP echo server saw via6's lo0 address" '^198\.51\.100\.1$' cat "$DIR/udp-peer.txt"
end_scenario
