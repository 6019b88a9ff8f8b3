#!/usr/bin/env bash
# ipdiag exporter against Debian's prometheus-blackbox-exporter, on the same targets, in
# one run: per-scrape latency, CPU time and peak RSS at 100 targets scraped every 5 s, and
# the states each reports.
#
#   sudo bench/exporter.sh [RUNS] [ROUNDS]      (default 3 runs of 4 rounds; root)
#
# Builds two namespaces (bench/common.sh's netns_pair: client 198.51.100.2, server host
# 203.0.113.10) and runs both exporters in the client, on its own 127.0.0.1. The 100 TCP
# targets: 30 listening and 20 closed ports on the client's loopback, 20 listening, 15
# closed and 15 dropped by the server's nftables (filtered) on 203.0.113.10. Listeners are
# Python processes of this script's own, killed by PID on exit; the namespaces are deleted.
# Then alternately, RUNS times each, a fresh exporter process is scraped by
# bench/exporter_scrape.py as Prometheus would (each target at its own offset in the
# 5 s interval, keep-alive, X-Prometheus-Scrape-Timeout-Seconds: 5) for ROUNDS intervals:
#   ipdiag exporter --listen 127.0.0.1:9799                 module tcp (built in)
#   prometheus-blackbox-exporter --web.listen-address=127.0.0.1:9115   module tcp_connect
#     (the Debian package's module: prober tcp, no timeout of its own, so the scrape's)
# CPU time (user + system), peak RSS and voluntary context switches (wake-ups) are the
# process's whole life's, by GNU time; latency is per scrape, by target class. Every scrape must
# agree with the truth: ipdiag's ipdiag_port_state is the class (open, closed, filtered),
# the blackbox exporter's probe_success is 1 exactly for the open ones (it has no
# closed/filtered split: both are 0). Last, four UDP ports on the server (an echo
# responder, a closed port, a silent listener, a dropped port) are probed once each with
# ipdiag's udp module, and the blackbox exporter is asked for a UDP module too (it has no
# UDP prober). Prints medians and ratios (goal: ipdiag no slower, no larger).
# Sends packets to the namespaces it creates (and deletes) only.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
runs=${1:-3}
rounds=${2:-4}
interval=5
out=bench/out
mkdir -p "$out"
[ "$(id -u)" = 0 ] || { echo "bench/exporter.sh needs root (network namespaces)" >&2; exit 2; }
for tool in ip nft python3 prometheus-blackbox-exporter; do
  command -v "$tool" > /dev/null || { echo "bench/exporter.sh needs $tool (apt-get install ${tool/ip/iproute2})" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench/exporter.sh needs GNU time (apt-get install time)" >&2; exit 2; }
if [ -z "${IPDIAG:-}" ]; then
  cargo build --release --quiet
  IPDIAG=target/release/ipdiag
fi
ipdiag=$(realpath "$IPDIAG")

c=ipdbench-c-$$ s=ipdbench-s-$$
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  ip netns del "$c" 2> /dev/null || true
  ip netns del "$s" 2> /dev/null || true
}
trap cleanup EXIT
netns_pair "$c" "$s"
host=203.0.113.10
ip netns exec "$s" nft -f - <<'NFT'
table inet sg {
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport 24001-24015 drop
    udp dport 25004 drop
  }
}
NFT
LISTENER_PREFIX="ip netns exec $c" start_listeners "$out/exporter-lo-ready" 127.0.0.1 $(seq 20001 20030)
pids+=("$listener_pid")
LISTENER_PREFIX="ip netns exec $s" start_listeners "$out/exporter-ns-ready" 0.0.0.0 $(seq 22001 22020) 24001
pids+=("$listener_pid")
# UDP on the server's address (so a reply comes from it): 25001 answers every datagram,
# 25003 reads and stays silent, 25004 listens behind the drop; 25002 is closed.
rm -f "$out/exporter-udp-ready"
ip netns exec "$s" python3 - "$out/exporter-udp-ready" <<'PY' &
import socket, sys, threading
def serve(port, echo):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("203.0.113.10", port))
    while True:
        data, peer = s.recvfrom(2048)
        if echo: s.sendto(data or b"ok", peer)
held = [threading.Thread(target=serve, args=a, daemon=True) for a in ((25001, True), (25003, False), (25004, False))]
for t in held: t.start()
open(sys.argv[1], "w").close()
for t in held: t.join(3600)
PY
pids+=($!)
for _ in $(seq 50); do [ -e "$out/exporter-udp-ready" ] && break; sleep 0.1; done

# The targets, classes interleaved in a fixed order (Prometheus spreads its targets over
# the interval by a hash: open, closed and filtered ones mixed).
{
  for p in $(seq 20001 20030); do echo "open 127.0.0.1:$p"; done
  for p in $(seq 21001 21020); do echo "closed 127.0.0.1:$p"; done
  for p in $(seq 22001 22020); do echo "open $host:$p"; done
  for p in $(seq 23001 23015); do echo "closed $host:$p"; done
  for p in $(seq 24001 24015); do echo "filtered $host:$p"; done
} | shuf --random-source=<(yes) > "$out/exporter-targets"
[ "$(wc -l < "$out/exporter-targets")" = 100 ] || { echo "expected 100 targets"; exit 1; }

printf 'modules:\n  tcp_connect:\n    prober: tcp\n' > "$out/exporter-blackbox.yml"
in_c=(ip netns exec "$c")

# wait_http URL: until it answers (at most 10 s).
wait_http() {
  for _ in $(seq 100); do
    "${in_c[@]}" python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1" 2> /dev/null && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  exit 1
}
# phase NAME RUN: one fresh exporter under GNU time, scraped for $rounds intervals, then
# stopped; appends its CPU time, peak RSS and voluntary context switches (wake-ups), which
# GNU time reports for the whole process at its exit.
phase() {
  local name=$1 run=$2 port module timed pid
  local usage=$out/exporter-$name-time.txt
  if [ "$name" = ipdiag ]; then
    port=9799 module=tcp
    "${in_c[@]}" /usr/bin/time -v -o "$usage" "$ipdiag" exporter --listen 127.0.0.1:$port 2> "$out/exporter-ipdiag.log" &
  else
    port=9115 module=tcp_connect
    "${in_c[@]}" /usr/bin/time -v -o "$usage" prometheus-blackbox-exporter --config.file="$out/exporter-blackbox.yml" \
      --web.listen-address=127.0.0.1:$port --log.level=warn 2> "$out/exporter-blackbox.log" &
  fi
  timed=$!
  pids+=("$timed")
  wait_http "http://127.0.0.1:$port/metrics"
  pid=$(cat "/proc/$timed/task/$timed/children")
  pids+=("$pid")
  "${in_c[@]}" python3 bench/exporter_scrape.py "127.0.0.1:$port" "$module" "$interval" "$rounds" \
    "$out/exporter-targets" > "$out/exporter-$name-$run.txt"
  kill "$pid"
  wait "$timed" 2> /dev/null || true
  awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {print u + s}' "$usage" >> "$out/exporter-$name-cpu"
  awk -F': ' '/Maximum resident set size/ {print $2}' "$usage" >> "$out/exporter-$name-rss"
  awk -F': ' '/Voluntary context switches/ {print $2}' "$usage" >> "$out/exporter-$name-wakeups"
  cat "$out/exporter-$name-$run.txt" >> "$out/exporter-$name-all.txt"
}

# agree NAME RUN: every scrape answered 200 with the class's truth.
agree() {
  awk -v name="$1" -v run="$2" -v want="$((100 * rounds))" '
    { n++ }
    $4 != 200 { bad = bad sprintf("  %s: HTTP %s\n", $2, $4); next }
    name == "ipdiag" && $6 != $1 { bad = bad sprintf("  %s (%s): ipdiag_port_state %s\n", $2, $1, $6) }
    name == "ipdiag" && ($5 + 0 == 1) != ($1 == "open") { bad = bad sprintf("  %s (%s): probe_success %s\n", $2, $1, $5) }
    name == "blackbox" && ($5 + 0 == 1) != ($1 == "open") { bad = bad sprintf("  %s (%s): probe_success %s\n", $2, $1, $5) }
    END {
      if (n != want) { printf "%s run %d: %d scrapes, expected %d\n", name, run, n, want; exit 1 }
      if (bad != "") { printf "%s run %d disagrees with the targets:\n%s", name, run, bad; exit 1 }
    }' "$out/exporter-$1-$2.txt"
}

echo "== 100 TCP targets (50 open, 35 closed, 15 filtered; 127.0.0.1 and $host in namespaces), every ${interval} s, $rounds rounds a run, $runs runs each"
rm -f "$out"/exporter-{ipdiag,blackbox}-{rss,cpu,wakeups,all.txt}
for run in $(seq "$runs"); do
  for name in ipdiag blackbox; do
    phase "$name" "$run"
    agree "$name" "$run"
  done
  printf 'run %d: median latency (open, closed) ipdiag %.1f ms, blackbox %.1f ms; CPU %.2f s, %.2f s; peak RSS %.1f MB, %.1f MB\n' "$run" \
    "$(awk '$1 != "filtered" {print $3 * 1000}' "$out/exporter-ipdiag-$run.txt" | median)" \
    "$(awk '$1 != "filtered" {print $3 * 1000}' "$out/exporter-blackbox-$run.txt" | median)" \
    "$(tail -1 "$out/exporter-ipdiag-cpu")" "$(tail -1 "$out/exporter-blackbox-cpu")" \
    "$(echo "$(tail -1 "$out/exporter-ipdiag-rss") / 1024" | bc -l)" "$(echo "$(tail -1 "$out/exporter-blackbox-rss") / 1024" | bc -l)"
done

# quantile Q < numbers: the Q-quantile (nearest rank).
quantile() { sort -n | awk -v q="$1" '{a[NR] = $1} END {i = int(q * NR + 0.999999); if (i < 1) i = 1; print a[i]}'; }
echo "results: every scrape agreed with the targets (ipdiag: state; blackbox: probe_success)"
printf '%-28s %12s %12s %7s\n' "" ipdiag blackbox ratio
row() { awk -v l="$1" -v a="$2" -v b="$3" -v u="$4" 'BEGIN { printf "%-28s %9.2f %-2s %9.2f %-2s %7.2f\n", l, a, u, b, u, a / b }'; }
for class in open closed filtered; do
  for q in 0.5 0.9; do
    a=$(awk -v k="$class" '$1 == k {print $3 * 1000}' "$out/exporter-ipdiag-all.txt" | quantile "$q")
    b=$(awk -v k="$class" '$1 == k {print $3 * 1000}' "$out/exporter-blackbox-all.txt" | quantile "$q")
    row "latency $class p${q#0.}0" "$a" "$b" ms
  done
done
row "CPU time per run (median)" "$(median < "$out/exporter-ipdiag-cpu")" "$(median < "$out/exporter-blackbox-cpu")" s
a=$(median < "$out/exporter-ipdiag-cpu") b=$(median < "$out/exporter-blackbox-cpu")
row "CPU per scrape (median)" "$(echo "$a * 1000000 / ($rounds * 100)" | bc -l)" "$(echo "$b * 1000000 / ($rounds * 100)" | bc -l)" us
row "wake-ups per run (median)" "$(median < "$out/exporter-ipdiag-wakeups")" "$(median < "$out/exporter-blackbox-wakeups")" ""
row "peak RSS (median)" "$(echo "$(median < "$out/exporter-ipdiag-rss") / 1024" | bc -l)" "$(echo "$(median < "$out/exporter-blackbox-rss") / 1024" | bc -l)" MB

# States by class: ipdiag's states, the blackbox exporter's probe_success.
echo "states reported (every scrape of every run):"
printf '  %-9s %-28s %s\n' class ipdiag blackbox
for class in open closed filtered; do
  printf '  %-9s %-28s %s\n' "$class" \
    "$(awk -v k="$class" '$1 == k {print $6 " " $2}' "$out/exporter-ipdiag-all.txt" | awk '{print $1}' | sort | uniq -c | awk '{printf "%s %s ", $2, $1}')" \
    "$(awk -v k="$class" '$1 == k {print "probe_success=" $5 + 0}' "$out/exporter-blackbox-all.txt" | sort | uniq -c | awk '{printf "%s %s ", $2, $1}')"
done

# UDP: ipdiag's udp module on four kinds of port; the blackbox exporter asked the same.
echo "UDP on $host (ipdiag's udp module; the blackbox exporter has no UDP prober):"
"${in_c[@]}" "$ipdiag" exporter --listen 127.0.0.1:9799 2> "$out/exporter-ipdiag.log" &
pid=$!
pids+=("$pid")
printf 'modules:\n  udp:\n    prober: udp\n' > "$out/exporter-blackbox-udp.yml"
"${in_c[@]}" prometheus-blackbox-exporter --config.file="$out/exporter-blackbox-udp.yml" \
  --web.listen-address=127.0.0.1:9115 --log.level=warn 2> "$out/exporter-blackbox.log" &
bpid=$!
pids+=("$bpid")
wait_http http://127.0.0.1:9799/metrics
wait_http http://127.0.0.1:9115/metrics
for p in 25001:echo:open 25002:closed:closed 25003:silent:open\|filtered 25004:dropped:open\|filtered; do
  IFS=: read -r port kind want <<< "$p"
  echo "$kind $host:$port" > "$out/exporter-udp-target"
  ours=$("${in_c[@]}" python3 bench/exporter_scrape.py 127.0.0.1:9799 udp "$interval" 1 "$out/exporter-udp-target" | awk '{print $6}')
  theirs=$("${in_c[@]}" python3 bench/exporter_scrape.py 127.0.0.1:9115 udp "$interval" 1 "$out/exporter-udp-target" | awk '{print "HTTP " $4 ", probe_success " $5}')
  printf '  %-8s %-20s ipdiag %-14s blackbox %s\n' "$kind" "$host:$port/udp" "$ours" "$theirs"
  [ "$ours" = "$want" ] || { echo "ipdiag said $ours for the $kind UDP port (expected $want)"; exit 1; }
done
kill "$pid" "$bpid"
echo "(measured on a 2-core machine shared with other work: figures are from one run, compare the ratios)"
