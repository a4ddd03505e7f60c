#!/usr/bin/env bash
# The README test command: every test this repository has.
#
#   bash scripts/test-all.sh
#
# 1. `cargo test --workspace --release` — unit, property and lab tests
#    (release so the lab's multi-node scenarios run fast);
# 2. the interop suite against the Linux kernel (`interop/run.sh`), when it
#    exists. It needs root and the Debian tools that `.ci/run` installs.
#
# Installs nothing itself. Exits non-zero when anything fails.
set -euo pipefail

cd "$(dirname "$0")/.."

section() {
    printf '\n==== %s ====\n' "$*"
}

section "cargo test --workspace --release"
cargo test --workspace --release

section "interop suite"
if [[ -f interop/run.sh ]]; then
    bash interop/run.sh
else
    echo "interop: suite not present yet"
fi

section "all tests passed"
