#!/usr/bin/env bash
# Peak memory (maximum resident set size, by /usr/bin/time -v) of large plans and files,
# ipdiag against nmap where both do the same work, in one run.
#
#   bench/memory.sh
#
# 1. A full connect sweep of 127.0.0.1 (ports 1-65535): ipdiag --connect and nmap -sT.
# 2. A plan of 3,997,635 endpoints (127.0.1.1-61, every port; 127.0.1.x is loopback):
#    ipdiag with JSON lines to /dev/null, stopped after 20 s (the plan's memory shows at
#    once; the sweep itself would take minutes).
# 3. A check file of 1,000,000 checks whose last one has no port: read whole, refused
#    (exit 2) before any packet.
# Sends packets to 127.0.0.0/8 only.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
command -v nmap > /dev/null || { echo "bench/memory.sh needs nmap (apt-get install nmap)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench/memory.sh needs GNU time (apt-get install time)" >&2; exit 2; }
cargo build --release --quiet
ipdiag=target/release/ipdiag

# peak_kb COMMAND...: runs it, prints its maximum resident set size in KiB.
peak_kb() {
  /usr/bin/time -v "$@" > /dev/null 2> "$out/memory-time.txt" || true
  awk -F': ' '/Maximum resident set size/ {print $2}' "$out/memory-time.txt"
}

ours=$(peak_kb "$ipdiag" probe -n 127.0.0.1 -p 1-65535 --connect)
theirs=$(peak_kb nmap -sT -p- -T4 -n -Pn 127.0.0.1 -oG -)
awk -v a="$ours" -v b="$theirs" 'BEGIN {
  printf "sweep 127.0.0.1 1-65535: ipdiag %.1f MB, nmap -sT %.1f MB, ratio %.2f (goal <= 1.00)\n", a / 1024, b / 1024, a / b }'

targets=$(for i in $(seq 61); do printf '127.0.1.%d ' "$i"; done)
# shellcheck disable=SC2086
big=$(peak_kb timeout 20 "$ipdiag" probe -n $targets -p- --connect --jsonl)
awk -v a="$big" 'BEGIN { printf "plan of 3,997,635 endpoints (first 20 s): ipdiag %.1f MB (goal < 200)\n", a / 1024 }'

python3 - "$out/checks-1m.toml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(999_999):
        f.write(f'[[check]]\nname = "c{i}"\ntarget = "127.0.0.1:{i % 65535 + 1}"\n\n')
    f.write('[[check]]\nname = "last"\ntarget = "127.0.0.1"\n')
PY
s=$(date +%s.%N)
checks=$(peak_kb "$ipdiag" check "$out/checks-1m.toml")
e=$(date +%s.%N)
grep -q "no port for '127.0.0.1'" "$out/memory-time.txt" || { echo "check: unexpected result"; cat "$out/memory-time.txt"; exit 1; }
awk -v a="$checks" -v t="$(echo "$e - $s" | bc)" 'BEGIN {
  printf "check file of 1,000,000 checks, read and refused at its last line: %.2f s, %.1f MB (goal < 10 s)\n", t, a / 1024 }'
