#!/usr/bin/env bash
# A sweep across a (namespace) network with a firewall: ipdiag against nmap, same run.
#
#   sudo bench/sweep-netns.sh [RUNS]      (default 5; needs root, ip, nft, nmap, python3)
#
# Builds two network namespaces joined by a veth pair (client 198.51.100.2, server
# 203.0.113.10), listens on a few ports in the server, and drops ports 2001-3000 with
# nftables. Then times, RUNS times each:
#   ipdiag probe 203.0.113.10 -p 1-3000 --connect --format jsonl  (connect mode, as nmap -sT)
#   nmap -sT -Pn -n -T4 -p 1-3000 203.0.113.10 -oX -
# checks that both label every port the same (open / closed / filtered) in every run, and
# prints the median ratio. The namespaces are deleted on exit. Packets stay inside them.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
runs=${1:-5}
out=bench/out
mkdir -p "$out"
[ "$(id -u)" = 0 ] || { echo "bench/sweep-netns.sh needs root (network namespaces)" >&2; exit 2; }
for tool in ip nft nmap python3; do
  command -v "$tool" > /dev/null || { echo "bench/sweep-netns.sh needs $tool" >&2; exit 2; }
done
cargo build --release --quiet
ipdiag=$PWD/target/release/ipdiag

c=ipdbench-c-$$ s=ipdbench-s-$$
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2> /dev/null || true
  ip netns del "$c" 2> /dev/null || true
  ip netns del "$s" 2> /dev/null || true
}
trap cleanup EXIT
netns_pair "$c" "$s"
ip netns exec "$s" nft -f - <<'NFT'
table inet sg {
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport 2001-3000 drop
  }
}
NFT
listening="22 80 443 1433 2500"   # 2500 listens but is dropped: filtered
LISTENER_PREFIX="ip netns exec $s" start_listeners "$out/sweep-netns-ready" 0.0.0.0 $listening
server_pid=$listener_pid

: > "$out/netns-ipdiag"; : > "$out/netns-nmap"
echo "== 203.0.113.10 (namespace), ports 1-3000, 2001-3000 dropped, listening: $listening"
for run in $(seq "$runs"); do
  s0=$(now)
  ip netns exec "$c" "$ipdiag" probe 203.0.113.10 -p 1-3000 --connect --format jsonl > "$out/netns-ipdiag.jsonl" || true
  echo "$(now) - $s0" | bc >> "$out/netns-ipdiag"
  s0=$(now)
  ip netns exec "$c" nmap -sT -Pn -n -T4 -p 1-3000 203.0.113.10 -oX - > "$out/netns-nmap.xml"
  echo "$(now) - $s0" | bc >> "$out/netns-nmap"
  # Labels per port: ipdiag's from JSON lines; nmap's from its XML (listed ports, and the
  # port ranges of the states it does not list).
  sed 's/.*"port":\([0-9]*\).*"state":"\([a-z|]*\)".*/\1 \2/' "$out/netns-ipdiag.jsonl" | sort -n > "$out/netns-ours"
  python3 - "$out/netns-nmap.xml" > "$out/netns-theirs" <<'PY'
import sys, xml.etree.ElementTree as ET
labels = {}
for port in ET.parse(sys.argv[1]).iter("port"):
    labels[int(port.get("portid"))] = port.find("state").get("state")
for extra in ET.parse(sys.argv[1]).iter("extraports"):
    for reasons in extra.iter("extrareasons"):
        for part in reasons.get("ports", "").split(","):
            lo, _, hi = part.partition("-")
            for p in range(int(lo), int(hi or lo) + 1):
                labels[p] = extra.get("state")
for p in range(1, 3001):
    print(p, labels.get(p, "?"))
PY
  printf 'run %d: ipdiag %.3f s, nmap %.3f s\n' "$run" "$(tail -1 "$out/netns-ipdiag" | bc)" "$(tail -1 "$out/netns-nmap" | bc)"
  if ! cmp -s "$out/netns-ours" "$out/netns-theirs"; then
    echo "labels differ:"; diff "$out/netns-ours" "$out/netns-theirs" | head; exit 1
  fi
done
awk '{print $2}' "$out/netns-ours" | sort | uniq -c | awk '{printf "  %s %s\n", $2, $1}'
awk -v a="$(median < "$out/netns-ipdiag")" -v b="$(median < "$out/netns-nmap")" 'BEGIN {
  printf "results: identical labels in every run\nipdiag median %.3f s, nmap median %.3f s, ratio %.2f (goal <= 0.30)\n", a, b, a / b }'
