#!/usr/bin/env bash
# Raw-mode RTTs against connect-mode RTTs on loopback, in the same run (issue 20: within
# 20 µs of each other).
#
#   sudo bench/raw-rtt.sh [ROUNDS]      (default 5; root: raw sockets, a namespace)
#
# In a network namespace of its own (its loopback only: no firewall or connection tracking
# of the host's on the path), alternately, ROUNDS times each:
#   ipdiag probe 127.0.0.1 -p 20000-20199 --raw     --rate 100 --format csv
#   ipdiag probe 127.0.0.1 -p 20000-20199 --connect --rate 100 --format csv
# (200 closed ports, one SYN or connect each, 10 ms apart: the pacing a raw RTT once
# included). Prints each mode's median RTT over every port of every round and the
# difference. A raw RTT is the kernel's receive time of the RST less the time read right
# before sendto; a connect RTT ends when the runtime wakes the task, a few µs later.
# Sends packets to the namespace's 127.0.0.1 only; deletes the namespace on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
[ "$(id -u)" = 0 ] || { echo "bench/raw-rtt.sh needs root (raw sockets, a namespace)" >&2; exit 2; }
command -v ip > /dev/null || { echo "bench/raw-rtt.sh needs ip (apt-get install iproute2)" >&2; exit 2; }
cargo build --release --quiet
ipdiag=$PWD/target/release/ipdiag
out=bench/out
mkdir -p "$out"
ns=ipdbench-rtt-$$
trap 'ip netns del "$ns" 2> /dev/null || true' EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
: > "$out/rtt-raw" ; : > "$out/rtt-connect"
for round in $(seq "$rounds"); do
  for mode in raw connect; do
    ip netns exec "$ns" "$ipdiag" probe 127.0.0.1 -p 20000-20199 "--$mode" --rate 100 --format csv > "$out/rtt-$mode.csv" || true
    # rtt_min_ms: each port's one RTT (ms, three decimals).
    rows=$(tail -n +2 "$out/rtt-$mode.csv" | wc -l)
    [ "$rows" = 200 ] || { echo "$mode: $rows rows, not 200" >&2; exit 1; }
    python3 - "$out/rtt-$mode.csv" >> "$out/rtt-$mode" <<'PY'
import csv, sys
for row in csv.DictReader(open(sys.argv[1])):
    if row["state"] != "closed" or not row["rtt_min_ms"]:
        sys.exit(f"port {row['port']}: {row['state']} without an RTT")
    print(float(row["rtt_min_ms"]) * 1000)
PY
  done
  echo "round $round: 200 closed ports each way"
done
. bench/common.sh
awk -v r="$(median < "$out/rtt-raw")" -v c="$(median < "$out/rtt-connect")" -v n="$(wc -l < "$out/rtt-raw")" 'BEGIN {
  d = r - c; if (d < 0) d = -d
  printf "median RTT over %d ports a mode: raw %.0f µs, connect %.0f µs, difference %.0f µs (goal <= 20)\n", n, r, c, d }'
