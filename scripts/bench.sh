#!/usr/bin/env bash
# Regenerates every figure in BENCHMARKS.md, in one run each:
#
#   bash scripts/bench.sh [--runs N] [--native]
#
# 1. the Internet checksum, via6-wire vs smoltcp (criterion);
# 2. the FIB on the full RIPE RIS tables, via6 vs prefix-trie (fib);
# 3. forwarding in memory through Stack::receive with the full tables (forward);
# 4. TCP bulk throughput in memory, via6 vs smoltcp 0.14 (tcp_bulk);
# 5. TCP over TAP against Linux: via6 vs smoltcp vs veth, connections/s
#    (scripts/bench-tap.sh, root only: skipped with a note otherwise), and
#    memory per idle TCP connection at 100 000 connections (tcp_memory).
#
# --native adds a second FIB run built with RUSTFLAGS="-C target-cpu=native"
# (hardware popcount) in target/native, so the default build is unaffected.
# The tables come from $VIA6_BGP_DIR, ../shared/data/bgp next to the clone,
# or /work/shared/data/bgp. Output: stdout and target/bench-results.md.
# The machine is shared: figures are medians of on-CPU time (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=7
NATIVE=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --native) NATIVE=1; shift ;;
        *) echo "usage: $0 [--runs N] [--native]" >&2; exit 2 ;;
    esac
done

mkdir -p target
OUT=target/bench-results.md
{
    echo "# bench.sh $(date -u +%Y-%m-%dT%H:%M:%SZ), runs=$RUNS"
    echo
    echo '```'
    lscpu | grep -E 'Model name|^CPU\(s\)|Thread|L1d|L2|L3' || true
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    rustc --version
    echo '```'
    echo
    echo "## checksum"
    cargo bench -q -p via6-wire --bench checksum -- --warm-up-time 1 --measurement-time 3 2>&1 \
        | grep -E 'time:|thrpt:' || true
    echo
    echo "## fib (default build)"
    cargo bench -q -p via6-core --bench fib -- --runs "$RUNS" 2>&1 | grep -v '^ *\(Compiling\|Finished\|Running\)'
    if [[ $NATIVE == 1 ]]; then
        echo
        echo "## fib (RUSTFLAGS=\"-C target-cpu=native\")"
        RUSTFLAGS="-C target-cpu=native" CARGO_TARGET_DIR=target/native \
            cargo bench -q -p via6-core --bench fib -- --runs "$RUNS" 2>&1 \
            | grep -v '^ *\(Compiling\|Finished\|Running\)'
    fi
    echo
    echo "## forward"
    cargo bench -q -p via6-core --bench forward -- --runs "$RUNS" 2>&1 | grep -v '^ *\(Compiling\|Finished\|Running\)'
    # --- issue 10, item 4: TCP over TAP, connections/s, memory per idle connection
    echo
    echo "## TCP over TAP (scripts/bench-tap.sh)"
    if [[ $(id -u) -eq 0 ]]; then
        bash scripts/bench-tap.sh --runs "$RUNS" 2>&1
    else
        echo "skipped: the TAP figures need root (network namespaces, TAP devices): sudo bash scripts/bench-tap.sh"
    fi
    echo
    echo "## TCP memory per idle connection (tcp_memory), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    nice -n 10 cargo bench -q -p via6-lab --bench tcp_memory 2>&1 | grep -v '^ *\(Compiling\|Finished\|Running\)'
    # --- end of item 4
    echo
    echo "## tcp_bulk"
    cargo bench -q -p via6-lab --bench tcp_bulk -- --runs "$RUNS" 2>&1 | grep -v '^ *\(Compiling\|Finished\|Running\)'
    echo
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT"
