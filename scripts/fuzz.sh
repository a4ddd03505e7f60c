#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS (default 600) each, all at once at
# low priority, keeping the corpus under fuzz/corpus/<target>. Needs a nightly
# toolchain (`rustup toolchain install nightly`) and `cargo install cargo-fuzz`.
# Prints, per target, the last libFuzzer status line (exec/s, coverage, corpus).
set -euo pipefail
secs=${1:-600}
cd "$(dirname "$0")/../fuzz"
targets=$(cargo +nightly fuzz list)
cargo +nightly fuzz build -O
mkdir -p ../target/fuzz-logs
for t in $targets; do
  mkdir -p "corpus/$t"
  nice -n 19 cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -print_final_stats=1 \
    > "../target/fuzz-logs/$t.log" 2>&1 &
done
fail=0
for job in $(jobs -p); do wait "$job" || fail=1; done
for t in $targets; do
  echo "== $t"; grep -E '^#[0-9]+' "../target/fuzz-logs/$t.log" | tail -1
  grep -E 'stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^Done' "../target/fuzz-logs/$t.log" || true
  ls "artifacts/$t" 2>/dev/null && { echo "CRASH in $t"; fail=1; }
done
exit $fail
