#!/usr/bin/env bash
# TCP over TAP against the Linux kernel (issue 10, item 4), root only:
#
#   sudo bash scripts/bench-tap.sh [--runs N] [--bytes B] [--conns C]
#
# Three receivers, one Linux sender (python3, sendall of a 1 MiB buffer,
# timed from connect until the receiver's FIN), IPv4 on-link 10.77.0.0/24:
#   via6    the daemon (`via6 up`) on a TAP device whose kernel side is in a
#           namespace; its TCP sink (`via6 sink PORT`) receives;
#   smoltcp crates/rt/examples/smoltcp_tap_sink.rs on the same kind of TAP;
#   veth    Linux to Linux over a veth pair between two namespaces (ceiling).
# Then connections/s: the same client opens, sends 16 bytes, half-closes and
# waits for the server's FIN, C times sequentially and C times over 8
# threads. Byte counts are confirmed at every receiver.
# Everything lives in namespaces/devices named via6-<pid>-*/v6<pid>*,
# removed on exit. Medians of N runs; the load average is printed with them.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=5
BYTES=$((256 * 1024 * 1024))
CONNS=2000
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --bytes) BYTES="$2"; shift 2 ;;
        --conns) CONNS="$2"; shift 2 ;;
        *) echo "usage: $0 [--runs N] [--bytes B] [--conns C]" >&2; exit 2 ;;
    esac
done
[[ $(id -u) -eq 0 ]] || { echo "bench-tap: needs root (network namespaces, TAP devices); skipped"; exit 0; }
command -v python3 >/dev/null || { echo "bench-tap: needs python3; skipped"; exit 0; }

nice -n 10 cargo build -q --release -p via6 >&2
nice -n 10 cargo build -q --release -p via6-rt --example smoltcp_tap_sink >&2
VIA6=$PWD/target/release/via6
SMOL=$PWD/target/release/examples/smoltcp_tap_sink
ID=$$
DIR=$PWD/target/bench-tap
# One run at a time: the scratch directory is shared.
mkdir -p target
exec 9> target/bench-tap.lock
flock -n 9 || { echo "bench-tap: another run holds target/bench-tap.lock" >&2; exit 1; }
rm -rf "$DIR"; mkdir -p "$DIR"
NSES=(); TAPS=(); PIDS=()
cleanup() {
    local p n t
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for n in "${NSES[@]}"; do
        ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
        ip netns del "$n" 2>/dev/null || true
    done
    for t in "${TAPS[@]}"; do ip link del "$t" 2>/dev/null || true; done
    PIDS=(); NSES=(); TAPS=()
}
trap cleanup EXIT INT TERM
netns() { local n="via6-$ID-$2"; ip netns add "$n"; NSES+=("$n"); ip netns exec "$n" ip link set lo up; printf -v "$1" '%s' "$n"; }
tap() { local t="v6$ID$2"; ip tuntap add dev "$t" mode tap; TAPS+=("$t"); printf -v "$1" '%s' "$t"; }
in_ns() { local n=$1; shift; ip netns exec "$n" "$@"; }
load() { cut -d' ' -f1 /proc/loadavg; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else printf "%.4g\n", (a[NR/2]+a[NR/2+1])/2}'; }

# The one sender: N bytes in sendall(1 MiB), then SHUT_WR and wait for the
# receiver's FIN; prints Mbit/s over connect..FIN.
cat > "$DIR/send.py" <<'EOF'
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
buf = bytes(range(256)) * 4096
t0 = time.perf_counter()
s = socket.create_connection((host, port), timeout=60)
left = n
while left > 0:
    k = min(left, len(buf))
    s.sendall(buf[:k] if k < len(buf) else buf)
    left -= k
s.shutdown(socket.SHUT_WR)
assert s.recv(1) == b''
t = time.perf_counter() - t0
s.close()
print("%.1f" % (n * 8 / t / 1e6))
EOF
# The one connection client: C connections, each connect, 16 bytes, SHUT_WR,
# wait for the server's FIN, close; THREADS at once. Prints connections/s.
cat > "$DIR/conns.py" <<'EOF'
import socket, sys, time, threading
host, port, n, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
errors = []
def worker(k):
    try:
        for _ in range(k):
            s = socket.create_connection((host, port), timeout=10)
            s.sendall(b'0123456789abcdef')
            s.shutdown(socket.SHUT_WR)
            assert s.recv(1) == b''
            s.close()
    except Exception as e:
        errors.append(e)
t0 = time.perf_counter()
ts = [threading.Thread(target=worker, args=(n // threads,)) for _ in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
t = time.perf_counter() - t0
if errors:
    print("error: %s" % errors[0], file=sys.stderr); sys.exit(1)
print("%.0f" % ((n // threads) * threads / t))
EOF
# A Linux receiver for the veth ceiling: one thread, non-blocking sockets in
# a selector (no thread per connection); discards, prints "closed PEER BYTES".
cat > "$DIR/recv.py" <<'EOF'
import socket, sys, selectors
sel = selectors.DefaultSelector()
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('0.0.0.0', int(sys.argv[1]))); l.listen(512); l.setblocking(False)
sel.register(l, selectors.EVENT_READ, None)
out = open(sys.argv[2], 'a', buffering=1)
buf = bytearray(1 << 20)
while True:
    for key, _ in sel.select():
        if key.data is None:
            while True:
                try: c, a = l.accept()
                except BlockingIOError: break
                c.setblocking(False); sel.register(c, selectors.EVENT_READ, [a, 0])
            continue
        c, st = key.fileobj, key.data
        try: n = c.recv_into(buf)
        except BlockingIOError: continue
        except OSError: n = 0
        if n: st[1] += n; continue
        sel.unregister(c); c.close(); out.write("closed %s:%d %d bytes\n" % (st[0][0], st[0][1], st[1]))
EOF


# The three setups exist at once (each in its own namespaces, same
# addresses); every run goes via6, smoltcp, veth in turn, so a change in the
# machine's load hits all three alike.
give_tap() { # TAP NS
    ip link set "$1" netns "$2"
    in_ns "$2" sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"
    in_ns "$2" ip addr add 10.77.0.1/24 dev "$1"
    in_ns "$2" ip link set "$1" up
}
# via6: the daemon on TAP Ta, kernel side in namespace La.
netns La a; tap Ta a
cat > "$DIR/h1.toml" <<EOF
[node]
name = "h1"
[[interface]]
name = "tap0"
kind = "tap"
device = "$Ta"
addresses = ["10.77.0.2/24"]
EOF
nice -n 10 "$VIA6" -c "$DIR/h1.toml" up --control "$DIR/h1.sock" > "$DIR/h1.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [[ -S $DIR/h1.sock ]] && break; sleep 0.1; done
give_tap "$Ta" "$La"
"$VIA6" -N "$DIR/h1.sock" sink 7000 >/dev/null
# smoltcp: the example on TAP Tb, kernel side in namespace Lb.
netns Lb b; tap Tb b
nice -n 10 "$SMOL" "$Tb" 10.77.0.2/24 7000 64 > "$DIR/smoltcp.stats" 2> "$DIR/smoltcp.log" &
PIDS+=($!)
sleep 0.3
give_tap "$Tb" "$Lb"
# veth: namespace Lc (sender) to Rc (Linux receiver).
netns Lc c; netns Rc d
ip link add "v6${ID}s" type veth peer name "v6${ID}r"
ip link set "v6${ID}s" netns "$Lc"; ip link set "v6${ID}r" netns "$Rc"
in_ns "$Lc" ip addr add 10.77.0.1/24 dev "v6${ID}s"; in_ns "$Lc" ip link set "v6${ID}s" up
in_ns "$Rc" ip addr add 10.77.0.2/24 dev "v6${ID}r"; in_ns "$Rc" ip link set "v6${ID}r" up
in_ns "$Rc" nice -n 10 python3 "$DIR/recv.py" 7000 "$DIR/veth.stats" &
PIDS+=($!)
sleep 1
declare -A NS=([via6]=$La [smoltcp]=$Lb [veth]=$Lc)
CASES=(via6 smoltcp veth)
declare -A RES LOADS
echo "# TCP over TAP ($(date -u +%H:%M:%SZ)), $RUNS runs, $BYTES bytes per transfer, $CONNS connections per conn/s run" >&2
for c in "${CASES[@]}"; do : > "$DIR/$c.tp"; : > "$DIR/$c.c1"; : > "$DIR/$c.c8"; done
for i in $(seq "$RUNS"); do
    for c in "${CASES[@]}"; do
        v=$(in_ns "${NS[$c]}" nice -n 10 python3 "$DIR/send.py" 10.77.0.2 7000 "$BYTES")
        echo "$v" >> "$DIR/$c.tp"; LOADS[$c.tp]+="$(load) "
        echo "  run $i $c: $v Mbit/s (load $(load))" >&2
    done
done
# sink-stats keeps the last 256 closed connections: read the transfers
# before the connection runs push them out.
sleep 0.5
"$VIA6" -N "$DIR/h1.sock" sink-stats 7000 > "$DIR/via6.stats"
for th in 1 8; do
    for i in $(seq "$RUNS"); do
        for c in "${CASES[@]}"; do
            v=$(in_ns "${NS[$c]}" nice -n 10 python3 "$DIR/conns.py" 10.77.0.2 7000 "$CONNS" "$th")
            echo "$v" >> "$DIR/$c.c$th"; LOADS[$c.c$th]+="$(load) "
            echo "  run $i $c, $th thread(s): $v conn/s (load $(load))" >&2
        done
    done
done
sleep 0.5
"$VIA6" -N "$DIR/h1.sock" sink-stats 7000 >> "$DIR/via6.stats"
for c in "${CASES[@]}"; do
    for k in tp c1 c8; do RES[$c.$k]=$(median < "$DIR/$c.$k"); done
    RES[$c.full]=$(sort -u "$DIR/$c.stats" | grep -c " $BYTES bytes" || true)
    RES[$c.small]=$(sort -u "$DIR/$c.stats" | grep -c " 16 bytes" || true)
done
cleanup

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
lrange() { tr ' ' '\n' | grep . | sort -g | awk 'NR==1{a=$1} {b=$1} END {print a "–" b}'; }
echo
echo "TCP over TAP: $(( BYTES / 1048576 )) MiB per transfer, $CONNS connections per conn/s run; medians of $RUNS interleaved runs"
echo
echo "| receiver | Mbit/s | conn/s, sequential | conn/s, 8 threads | load average during (tp / seq / x8) | checked at the receiver |"
echo "|---|---:|---:|---:|---|---|"
for c in "${CASES[@]}"; do
    echo "| $c | ${RES[$c.tp]} | ${RES[$c.c1]} | ${RES[$c.c8]} | $(lrange <<<"${LOADS[$c.tp]}") / $(lrange <<<"${LOADS[$c.c1]}") / $(lrange <<<"${LOADS[$c.c8]}") | ${RES[$c.full]} × $BYTES B, ${RES[$c.small]} × 16 B |"
done
echo
echo "All runs (Mbit/s; conn/s x1; conn/s x8):"
for c in "${CASES[@]}"; do echo "    $c: $(tr '\n' ' ' < "$DIR/$c.tp"); $(tr '\n' ' ' < "$DIR/$c.c1"); $(tr '\n' ' ' < "$DIR/$c.c8")"; done
echo
echo "| ratio | Mbit/s | conn/s, sequential | conn/s, 8 threads |"
echo "|---|---:|---:|---:|"
echo "| via6 / smoltcp | $(ratio "${RES[via6.tp]}" "${RES[smoltcp.tp]}") | $(ratio "${RES[via6.c1]}" "${RES[smoltcp.c1]}") | $(ratio "${RES[via6.c8]}" "${RES[smoltcp.c8]}") |"
echo "| via6 / veth | $(ratio "${RES[via6.tp]}" "${RES[veth.tp]}") | $(ratio "${RES[via6.c1]}" "${RES[veth.c1]}") | $(ratio "${RES[via6.c8]}" "${RES[veth.c8]}") |"
