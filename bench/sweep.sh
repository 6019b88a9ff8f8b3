#!/usr/bin/env bash
# Full loopback connect sweep: ipdiag against nmap, in the same run.
#
#   bench/sweep.sh [RUNS]      (default 5)
#
# Starts a dozen TCP listeners on 127.0.0.1 (a Python process of this script's own, killed
# by PID on exit), then alternately times
#   ipdiag probe 127.0.0.1 -p 1-65535 --connect  (the default table: open ports listed; --connect:
#                                                 as root a sweep would be a SYN scan by itself)
#   nmap -sT -p- -T4 -n -Pn 127.0.0.1 -oG -
# RUNS times each, checks that both found exactly the listening ports in every run (no
# phantom self-connects in the ephemeral range), and prints the median ratio.
# Sends packets to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
runs=${1:-5}
out=bench/out
mkdir -p "$out"
command -v nmap > /dev/null || { echo "bench/sweep.sh needs nmap (apt-get install nmap)" >&2; exit 2; }
cargo build --release --quiet
ipdiag=target/release/ipdiag

# Listening ports: well-known, registered and ephemeral-range ones, plus whatever else was
# already listening on 127.0.0.1 (found by ss, so the expected set is exact).
ports="22 80 443 3306 5432 6379 8080 9200 27017 33000 45000 60999"
start_listeners "$out/sweep-listeners-ready" 127.0.0.1 $ports
trap 'kill "$listener_pid" 2> /dev/null || true' EXIT
expected=$(loopback_listeners)
echo "== 127.0.0.1, ports 1-65535, listening: $expected"

: > "$out/sweep-ipdiag" ; : > "$out/sweep-nmap"
for run in $(seq "$runs"); do
  s=$(now)
  "$ipdiag" probe 127.0.0.1 -p 1-65535 --connect > "$out/sweep-ipdiag.txt" || true
  echo "$(now) - $s" | bc >> "$out/sweep-ipdiag"
  s=$(now)
  nmap -sT -p- -T4 -n -Pn 127.0.0.1 -oG - > "$out/sweep-nmap.txt"
  echo "$(now) - $s" | bc >> "$out/sweep-nmap"
  ours=$(grep -o '[0-9]*/tcp  *open ' "$out/sweep-ipdiag.txt" | cut -d/ -f1 | sort -n | tr '\n' ' ')
  theirs=$(grep -o '[0-9]*/open/' "$out/sweep-nmap.txt" | cut -d/ -f1 | sort -n | tr '\n' ' ')
  printf 'run %d: ipdiag %.3f s, nmap %.3f s\n' "$run" "$(tail -1 "$out/sweep-ipdiag" | bc)" "$(tail -1 "$out/sweep-nmap" | bc)"
  [ "$ours" = "$expected" ] || { echo "ipdiag found: $ours (expected $expected)"; exit 1; }
  [ "$theirs" = "$expected" ] || { echo "nmap found: $theirs (expected $expected)"; exit 1; }
done
awk -v a="$(median < "$out/sweep-ipdiag")" -v b="$(median < "$out/sweep-nmap")" 'BEGIN {
  printf "results: identical in every run\nipdiag median %.3f s, nmap median %.3f s, ratio %.2f (goal <= 0.70)\n", a, b, a / b }'
