#!/usr/bin/env bash
# Full SYN sweep (raw mode): ipdiag against nmap -sS and masscan, in the same run.
#
#   sudo bench/syn-sweep.sh [RUNS] [loopback|netns]      (default 5, loopback; root)
#
# loopback: a dozen TCP listeners on 127.0.0.1 (a Python process of this script's own,
#   killed by PID on exit). masscan drives its own stack through libpcap and needs a
#   router's MAC address, which loopback has not: it is tried once and reported.
# netns: a namespace host, 203.0.113.10 behind a veth pair (as bench/sweep-netns.sh), with
#   the same listeners and every other TCP port dropped by nftables, as a firewalled host.
#   masscan gets the veth's MACs (--adapter, --router-mac) and really scans it. Why the
#   drop: with 65,528 closed ports answering RST, masscan 1.3.2 lost some of the SYN-ACKs
#   among the RSTs in most runs here (the server's counters showed every SYN-ACK sent),
#   even at 20,000 packets/s; with them dropped it found every port in every run.
# Then alternately times, RUNS times each, with each one's peak memory (GNU time's
# maximum resident set size),
#   ipdiag probe HOST -p 1-65535 --raw     (the default table: open ports listed; netns:
#     --rate 1000000, masscan's, since off loopback ipdiag paces at 20,000/s by default)
#   nmap -sS -p- -T4 -n -Pn HOST -oG -     (nmap's "aggressive" timing, the usual one)
#   nmap -sS -p- -T5 -n -Pn HOST -oG -     (its fastest)
#   (netns) masscan HOST -p1-65535 --rate 1000000 --wait 1 ...
# checks that each found exactly the listening ports in every run (and, once, untimed,
# that every CSV row of ipdiag says method syn), and prints the median ratios (goal against
# both nmaps: ipdiag at least 2x faster, ratio <= 0.50, and peak memory at most theirs). A
# masscan run that misses ports is reported and left out of its ratio.
# Sends packets to 127.0.0.1 or into the namespaces it creates (and deletes) only.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
runs=${1:-5}
where=${2:-loopback}
out=bench/out
mkdir -p "$out"
case $where in loopback | netns) ;; *) echo "usage: sudo bench/syn-sweep.sh [RUNS] [loopback|netns]" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "bench/syn-sweep.sh needs root (raw sockets)" >&2; exit 2; }
for tool in nmap python3 /usr/bin/time $([ "$where" = netns ] && echo ip nft masscan); do
  command -v "$tool" > /dev/null || { echo "bench/syn-sweep.sh $where needs $tool (apt-get install ${tool##*/})" >&2; exit 2; }
done
cargo build --release --quiet
ipdiag=$PWD/target/release/ipdiag

ports="22 80 443 3306 5432 6379 8080 9200 27017 33000 45000 60999"
listener_pid= c= s=
cleanup() {
  [ -n "$listener_pid" ] && kill "$listener_pid" 2> /dev/null || true
  [ -n "$c" ] && ip netns del "$c" 2> /dev/null || true
  [ -n "$s" ] && ip netns del "$s" 2> /dev/null || true
}
trap cleanup EXIT
if [ "$where" = netns ]; then
  c=ipdbench-c-$$ s=ipdbench-s-$$
  netns_pair "$c" "$s"
  host=203.0.113.10
  in_client=(ip netns exec "$c")
  # Off loopback ipdiag paces at 20,000 SYNs/s unless told; as fast as masscan here.
  rate=(--rate 1000000)
  ip netns exec "$s" nft -f - <<NFT
table inet firewall {
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport != { ${ports// /, } } drop
  }
}
NFT
  LISTENER_PREFIX="ip netns exec $s" start_listeners "$out/syn-listeners-ready" 0.0.0.0 $ports
  expected="$(echo $ports | tr ' ' '\n' | sort -n | tr '\n' ' ')"
  mac() { ip -n "$1" -br link show "$2" | awk '{print $3}'; }
  masscan_args=(--adapter v0 --adapter-ip 198.51.100.2 --adapter-mac "$(mac "$c" v0)" --router-mac "$(mac "$s" v1)")
else
  host=127.0.0.1
  in_client=()
  rate=()
  start_listeners "$out/syn-listeners-ready" 127.0.0.1 $ports
  expected=$(loopback_listeners)
  masscan_args=(-e lo)
fi
echo "== $host ($where), ports 1-65535 by SYN, listening: $expected"
"${in_client[@]}" "$ipdiag" probe "$host" -p 1-65535 --raw "${rate[@]}" --format csv > "$out/syn-ipdiag.csv" || true
methods=$(tail -n +2 "$out/syn-ipdiag.csv" | cut -d, -f6 | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
[ "$methods" = "syn=65535 " ] || { echo "ipdiag did not scan every port by SYN: $methods"; exit 1; }

# timed NAME COMMAND...: runs COMMAND (stdout to $out/syn-NAME.txt), appends its wall time
# to $out/syn-NAME and its peak resident set in KiB to $out/syn-NAME.kb.
timed() {
  local name=$1 s0
  shift
  s0=$(now)
  /usr/bin/time -f %M -o "$out/syn-$name.rss" "$@" > "$out/syn-$name.txt" || true
  echo "$(now) - $s0" | bc >> "$out/syn-$name"
  tail -1 "$out/syn-$name.rss" >> "$out/syn-$name.kb"
}

# masscan_once: one masscan scan of $host, timed; sets $masscan_found and $masscan_time.
# masscan 1.3.2 often does not exit once its --wait has run out (its receive thread stays
# blocked; masscan issues #144 and #476: "waiting -N-secs" forever), so the clock stops at
# its exit or when its countdown passes zero, whichever comes first, and it is then
# stopped by its PID (after seconds of running: never in its first moments).
masscan_once() {
  local s0 pid err=$out/syn-masscan.err
  : > "$err"
  s0=$(now)
  "${in_client[@]}" masscan "$host" -p1-65535 --rate 1000000 --wait 1 "${masscan_args[@]}" > "$out/syn-masscan.out" 2>> "$err" &
  pid=$!
  for _ in $(seq 6000); do
    kill -0 "$pid" 2> /dev/null || break
    grep -q 'waiting -' "$err" && break
    sleep 0.01
  done
  masscan_time=$(echo "$(now) - $s0" | bc)
  kill "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  masscan_found=$(grep -o 'port [0-9]*/tcp' "$out/syn-masscan.out" | cut -d' ' -f2 | cut -d/ -f1 | sort -n | tr '\n' ' ' || true)
}

: > "$out/syn-masscan"
for name in ipdiag nmap-T4 nmap-T5; do : > "$out/syn-$name"; : > "$out/syn-$name.kb"; done
for run in $(seq "$runs"); do
  timed ipdiag "${in_client[@]}" "$ipdiag" probe "$host" -p 1-65535 --raw "${rate[@]}"
  timed nmap-T4 "${in_client[@]}" nmap -sS -p- -T4 -n -Pn "$host" -oG -
  timed nmap-T5 "${in_client[@]}" nmap -sS -p- -T5 -n -Pn "$host" -oG -
  # Table rows only (a diagnosis's evidence names open ports too).
  ours=$(grep -oE '^[0-9.]* +[0-9]+/tcp +open ' "$out/syn-ipdiag.txt" | grep -oE '[0-9]+/tcp' | cut -d/ -f1 | sort -n | tr '\n' ' ')
  line=$(printf 'run %d: ipdiag %.3f s, nmap -sS -T4 %.3f s, -T5 %.3f s' "$run" "$(tail -1 "$out/syn-ipdiag")" "$(tail -1 "$out/syn-nmap-T4")" "$(tail -1 "$out/syn-nmap-T5")")
  if [ "$where" = netns ]; then
    masscan_once
    if [ "$masscan_found" = "$expected" ]; then
      echo "$masscan_time" >> "$out/syn-masscan"
      line+=$(printf ', masscan %.3f s' "$masscan_time")
    else
      line+=$(printf ', masscan %.3f s but found only: %s (left out)' "$masscan_time" "${masscan_found:-nothing}")
    fi
  fi
  echo "$line"
  [ "$ours" = "$expected" ] || { echo "ipdiag found: $ours (expected $expected)"; exit 1; }
  for t in T4 T5; do
    theirs=$(grep -o '[0-9]*/open/' "$out/syn-nmap-$t.txt" | cut -d/ -f1 | sort -n | tr '\n' ' ')
    [ "$theirs" = "$expected" ] || { echo "nmap -$t found: $theirs (expected $expected)"; exit 1; }
  done
done
ipdiag_median=$(median < "$out/syn-ipdiag")
ipdiag_kb=$(median < "$out/syn-ipdiag.kb")
echo "results: identical in every run (ipdiag and both nmaps found exactly: $expected)"
for t in T4 T5; do
  awk -v a="$ipdiag_median" -v b="$(median < "$out/syn-nmap-$t")" -v m="$ipdiag_kb" -v n="$(median < "$out/syn-nmap-$t.kb")" -v t="$t" 'BEGIN {
    printf "against nmap -sS -%s: time %.3f s vs %.3f s, ratio %.2f (goal <= 0.50); peak memory %.1f MB vs %.1f MB, ratio %.2f (goal <= 1.00)\n", t, a, b, a / b, m / 1024, n / 1024, m / n }'
done

if [ "$where" = netns ]; then
  if [ -s "$out/syn-masscan" ]; then
    awk -v a="$ipdiag_median" -v b="$(median < "$out/syn-masscan")" -v n="$(wc -l < "$out/syn-masscan")" -v r="$runs" 'BEGIN {
      printf "masscan: same open ports in %d of %d runs; median of those %.3f s, ipdiag/masscan ratio %.2f\n", n, r, b, a / b }'
  else
    echo "masscan: missed ports in every run; not compared"
  fi
elif command -v masscan > /dev/null; then
  masscan_once
  if [ "$masscan_found" = "$expected" ]; then
    printf 'masscan %.3f s, same open ports, ipdiag/masscan ratio %.2f\n' "$masscan_time" "$(echo "$ipdiag_median / $masscan_time" | bc -l)"
  else
    echo "masscan: does not work on this path (found: ${masscan_found:-nothing}); not compared (try: sudo bench/syn-sweep.sh $runs netns)"
  fi
else
  echo "masscan: not installed (apt-get install masscan); not compared"
fi
