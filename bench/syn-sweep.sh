#!/usr/bin/env bash
# Full loopback SYN sweep (raw mode): ipdiag against nmap -sS (and masscan, when it is
# installed and works on loopback), in the same run.
#
#   sudo bench/syn-sweep.sh [RUNS]      (default 5; root: raw sockets)
#
# Starts a dozen TCP listeners on 127.0.0.1 (a Python process of this script's own, killed
# by PID on exit), then alternately times
#   ipdiag probe 127.0.0.1 -p 1-65535 --raw     (the default table: open ports listed)
#   nmap -sS -p- -T5 -n -Pn 127.0.0.1 -oG -
# RUNS times each, checks that both found exactly the listening ports in every run (and,
# once, untimed, that every CSV row of ipdiag says method syn), and prints the median
# ratio (goal: ipdiag at least 2x faster, ratio <= 0.50).
# Sends packets to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
runs=${1:-5}
out=bench/out
mkdir -p "$out"
[ "$(id -u)" = 0 ] || { echo "bench/syn-sweep.sh needs root (raw sockets)" >&2; exit 2; }
command -v nmap > /dev/null || { echo "bench/syn-sweep.sh needs nmap (apt-get install nmap)" >&2; exit 2; }
cargo build --release --quiet
ipdiag=target/release/ipdiag

ports="22 80 443 3306 5432 6379 8080 9200 27017 33000 45000 60999"
start_listeners "$out/syn-listeners-ready" 127.0.0.1 $ports
trap 'kill "$listener_pid" 2> /dev/null || true' EXIT
expected=$(loopback_listeners)
echo "== 127.0.0.1, ports 1-65535 by SYN, listening: $expected"
"$ipdiag" probe 127.0.0.1 -p 1-65535 --raw --format csv > "$out/syn-ipdiag.csv" || true
methods=$(tail -n +2 "$out/syn-ipdiag.csv" | cut -d, -f6 | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
[ "$methods" = "syn=65535 " ] || { echo "ipdiag did not scan every port by SYN: $methods"; exit 1; }

: > "$out/syn-ipdiag" ; : > "$out/syn-nmap"
for run in $(seq "$runs"); do
  s=$(now)
  "$ipdiag" probe 127.0.0.1 -p 1-65535 --raw > "$out/syn-ipdiag.txt" || true
  echo "$(now) - $s" | bc >> "$out/syn-ipdiag"
  s=$(now)
  nmap -sS -p- -T5 -n -Pn 127.0.0.1 -oG - > "$out/syn-nmap.txt"
  echo "$(now) - $s" | bc >> "$out/syn-nmap"
  ours=$(grep -o '[0-9]*/tcp  *open ' "$out/syn-ipdiag.txt" | cut -d/ -f1 | sort -n | tr '\n' ' ')
  theirs=$(grep -o '[0-9]*/open/' "$out/syn-nmap.txt" | cut -d/ -f1 | sort -n | tr '\n' ' ')
  printf 'run %d: ipdiag %.3f s, nmap -sS %.3f s\n' "$run" "$(tail -1 "$out/syn-ipdiag" | bc)" "$(tail -1 "$out/syn-nmap" | bc)"
  [ "$ours" = "$expected" ] || { echo "ipdiag found: $ours (expected $expected)"; exit 1; }
  [ "$theirs" = "$expected" ] || { echo "nmap found: $theirs (expected $expected)"; exit 1; }
done
awk -v a="$(median < "$out/syn-ipdiag")" -v b="$(median < "$out/syn-nmap")" 'BEGIN {
  printf "results: identical in every run\nipdiag median %.3f s, nmap -sS median %.3f s, ratio %.2f (goal <= 0.50)\n", a, b, a / b }'

# masscan drives its own TCP/IP stack through libpcap and needs a router's MAC address;
# on loopback it usually finds nothing. Timed once when installed, and reported either way.
if command -v masscan > /dev/null; then
  s=$(now)
  found=$(timeout 60 masscan 127.0.0.1 -p1-65535 --rate 1000000 -e lo --wait 1 2> /dev/null \
    | grep -o 'port [0-9]*/tcp' | cut -d' ' -f2 | cut -d/ -f1 | sort -n | tr '\n' ' ' || true)
  t=$(echo "$(now) - $s" | bc)
  if [ "$found" = "$expected" ]; then
    printf 'masscan %.3f s, same open ports, ipdiag/masscan ratio %.2f\n' "$t" "$(echo "$(median < "$out/syn-ipdiag") / $t" | bc -l)"
  else
    echo "masscan: does not work on this path (found: ${found:-nothing}); not compared"
  fi
else
  echo "masscan: not installed (apt-get install masscan); not compared"
fi
