#!/usr/bin/env bash
# A/B of tcp_bulk binaries (via6 pairs only): runs each binary in turn, N
# rounds, and prints the median Gbit/s per case for each. On a shared VM
# single runs spread by several per cent; alternating rounds and medians
# make a change of a few per cent visible.
#
#   [RUNS=3] [MB=64] bash scripts/tcp-ab.sh N BIN_A BIN_B [BIN_C ...]
#
# A binary is a built bench, e.g. a copy of target/release/deps/tcp_bulk-*
# made before and after a change.
set -euo pipefail
N=$1
shift
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
for _ in $(seq "$N"); do
    for b in "$@"; do
        echo "$b $("$b" --runs "${RUNS:-3}" --mb "${MB:-64}" --via6-only 2>/dev/null | tail -3 | cut -d'|' -f4 | tr '\n' ' ')" >>"$OUT"
    done
done
for b in "$@"; do
    grep -F "$b " "$OUT" | python3 -c "
import statistics, sys
rows = [list(map(float, l.split()[1:])) for l in sys.stdin]
print(sys.argv[1], ' '.join('%.2f' % statistics.median(c) for c in zip(*rows)), '(n=%d)' % len(rows))
" "$b"
done
