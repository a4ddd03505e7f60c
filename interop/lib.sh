# Interop harness helpers: namespaces and TAP devices with unique names,
# via6 daemons, checks that print PASS/FAIL, and cleanup on exit.
# Traffic stays inside the namespaces this suite creates.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VIA6=${VIA6:-$ROOT/target/release/via6}
OUT=$ROOT/target/interop
ID=$$
PASSED=0
FAILED=0
SCENARIO=""
SCEN_FAILED=0
NSES=()
TAPS=()
PIDS=()

say() { printf '%s\n' "$*"; }

# A capability is missing: a failure under CI=true, a skip otherwise.
missing() {
    if [[ "${CI:-}" == "true" ]]; then
        say "FAIL: capability: $*"
        say "0 passed, 1 failed"
        exit 1
    fi
    say "SKIP: interop suite: $* (set CI=true to make this a failure)"
    exit 0
}

require() {
    [[ $(id -u) -eq 0 ]] || missing "needs root"
    [[ -c /dev/net/tun ]] || missing "no /dev/net/tun"
    ip netns add "via6-$ID-probe" 2>/dev/null || missing "cannot create network namespaces"
    ip netns del "via6-$ID-probe"
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || missing "tool '$t' not installed"
    done
    [[ -x $VIA6 ]] || missing "no via6 binary at $VIA6 (cargo build --release)"
}

cleanup() {
    local p n t
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for n in "${NSES[@]}"; do
        ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null
        ip netns del "$n" 2>/dev/null
    done
    for t in "${TAPS[@]}"; do ip link del "$t" 2>/dev/null; done
    PIDS=(); NSES=(); TAPS=()
}
trap cleanup EXIT INT TERM

# scenario NAME: starts a scenario (its files under target/interop/NAME).
scenario() {
    SCENARIO=$1
    SCEN_FAILED=0
    DIR=$OUT/$SCENARIO
    rm -rf "$DIR"
    mkdir -p "$DIR/pcap"
    say ""
    say "== scenario: $SCENARIO"
}

# end_scenario: tears down; keeps the pcaps only when something failed.
end_scenario() {
    cleanup
    if [[ $SCEN_FAILED -eq 0 ]]; then
        check_pcaps
        [[ $SCEN_FAILED -eq 0 ]] && rm -rf "$DIR/pcap"
    fi
}

pass() { PASSED=$((PASSED + 1)); say "PASS: $SCENARIO: $1"; }
fail() {
    FAILED=$((FAILED + 1)); SCEN_FAILED=1; say "FAIL: $SCENARIO: $1"
    [[ -n "${2:-}" ]] && printf '%s\n' "$2" | sed 's/^/    | /' | head -40
}

# check NAME CMD...: passes when CMD succeeds; shows its output otherwise.
check() {
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}

# expect NAME PATTERN CMD...: passes when CMD's output matches PATTERN (grep -E).
expect() {
    local name=$1 pat=$2; shift 2
    local out
    out=$("$@" 2>&1)
    if grep -Eq -- "$pat" <<<"$out"; then pass "$name"; else fail "$name (wanted /$pat/)" "$out"; fi
}

# netns VAR SUFFIX: creates namespace via6-<pid>-SUFFIX and stores its name
# in VAR (no subshell, so cleanup knows it).
netns() {
    local n="via6-$ID-$2"
    ip netns add "$n" || return 1
    NSES+=("$n")
    ip netns exec "$n" ip link set lo up
    printf -v "$1" '%s' "$n"
}
in_ns() { local n=$1; shift; ip netns exec "$n" "$@"; }

# tap VAR SUFFIX: a persistent TAP device v6<pid>SUFFIX in the root
# namespace, its name stored in VAR.
tap() {
    local t="v6$ID$2"
    ip tuntap add dev "$t" mode tap || return 1
    TAPS+=("$t")
    printf -v "$1" '%s' "$t"
}

# give TAP NS: moves the kernel side of TAP into NS and brings it up (via6
# keeps its descriptor).
give() {
    ip link set "$1" netns "$2"
    in_ns "$2" sysctl -qw "net.ipv6.conf.$1.accept_dad=0" 2>/dev/null
    in_ns "$2" ip link set "$1" up
}

# node NAME CONFIG_TEXT: writes the config and starts `via6 up`.
node() {
    local name=$1
    printf '%s\n' "$2" > "$DIR/$name.toml"
    "$VIA6" -c "$DIR/$name.toml" up --control "$DIR/$name.sock" --pcap "$DIR/pcap" > "$DIR/$name.log" 2>&1 &
    PIDS+=($!)
    local i
    for i in $(seq 50); do [[ -S $DIR/$name.sock ]] && return 0; sleep 0.1; done
    fail "start $name" "$(cat "$DIR/$name.log")"
    return 1
}

# v NAME VERB...: a control request to node NAME.
v() { local n=$1; shift; "$VIA6" -N "$DIR/$n.sock" "$@"; }

linux_defaults() {
    in_ns "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# Every pcap of the scenario reads in tshark with zero malformed packets and
# zero bad checksums (IP/UDP/TCP validation on; ICMP is always checked) in
# what via6 sent (frames it received are recorded as inbound: a hostile
# scenario's input is malformed on purpose). A TCP checksum of 0xffff is the
# RFC 1624 §3 alternate zero that Linux's incremental updates produce; via6
# forwards TCP unchanged and its own checksums are never 0xffff, so Wireshark's
# "0xffff instead of 0x0000" note is not counted against via6.
check_pcaps() {
    local f out
    for f in "$DIR"/pcap/*.pcapng; do
        [[ -e $f ]] || continue
        out=$(tshark --disable-protocol thrift -r "$f" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE -o tcp.analyze_sequence_numbers:FALSE \
            -Y 'frame.packet_flags_direction != 1 && (_ws.malformed || ip.checksum.status == "Bad" || icmp.checksum.status == "Bad" || icmpv6.checksum.status == "Bad" || udp.checksum.status == "Bad" || (tcp.checksum.status == "Bad" && tcp.checksum != 0xffff))' 2>&1 | grep -v 'Running as user')
        if [[ -z $out ]]; then
            pass "tshark: $(basename "$f") has no malformed packets or bad checksums"
        else
            fail "tshark: $(basename "$f")" "$out"
        fi
    done
}

summary() {
    say ""
    say "$PASSED passed, $FAILED failed"
    [[ $FAILED -eq 0 ]]
}
