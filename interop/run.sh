#!/usr/bin/env bash
# The interop suite: via6 daemons on TAP devices against the Linux kernel in
# network namespaces, with the real tools. One PASS/FAIL line per check, a
# final "N passed, N failed"; pcaps of failed scenarios stay in
# target/interop/<scenario>/pcap. Needs root; under CI=true a missing
# capability is a failure.
set -u
source "$(dirname "$0")/lib.sh"

require ip ping traceroute tracepath tshark ndisc6 rdisc6 radvd iperf3

# An optional argument picks scenarios by glob (e.g. `1-seed-host`, `6-*`).
for s in "$(dirname "$0")"/scenarios/${1:-*}.sh; do
    # shellcheck source=/dev/null
    source "$s"
done

summary
