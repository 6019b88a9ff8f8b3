#!/usr/bin/env bash
# Bulk classification: ipdiag against a Python `ipaddress` script, in the same run.
#
#   bench/classify.sh [COUNT]      (default 5,000,000 addresses)
#
# Generates COUNT random IPv4 addresses (fixed seed), times
#   ipdiag classify --file F --format csv > /dev/null      (5 runs, median)
#   python3 bench/classify_py.py < F > /dev/null           (1 run; it takes ~30 s)
# checks that both computed the same columns for every address, and prints the ratio
# and the throughput. Also times a bare Rust loop that only parses each line with the
# standard library and prints one field: the floor a full classifier can approach.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5000000}
out=bench/out
mkdir -p "$out"
input="$out/addresses-$count.txt"

cargo build --release --quiet
ipdiag=target/release/ipdiag
if [ ! -s "$input" ]; then
  python3 -c "
import random, sys
random.seed(2026)
w = sys.stdout.write
for _ in range($count):
    n = random.getrandbits(32)
    w('%d.%d.%d.%d\n' % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255))
" > "$input"
fi
rustc -O --edition 2021 -o "$out/parse_floor" bench/parse_floor.rs

now() { date +%s.%N; }
# Runs a command (its stdout where the caller redirects it) and appends its wall time to $times.
times="$out/times"
timed() { local s; s=$(now); "$@"; echo "$(now) - $s" | bc >> "$times"; }
take() { local v; v=$(median < "$times"); : > "$times"; echo "$v"; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== $count addresses"
: > "$times"
for _ in 1 2 3; do timed "$out/parse_floor" < "$input" > /dev/null; done
floor=$(take)
for _ in 1 2 3 4 5; do timed "$ipdiag" classify --file "$input" --format csv > /dev/null; done
ours=$(take)
timed python3 bench/classify_py.py < "$input" > "$out/python.csv"
python=$(take)

# Same answers: project ipdiag's CSV onto the Python columns and compare every row.
"$ipdiag" classify --file "$input" --format csv \
  | awk -F, 'NR == 1 {print "address,class,default_mask,classful_network,range,scope,global,provider,asn"; next}
             {print $2","$4","$5","$6","$7","$9","$10","$12","$13}' > "$out/ipdiag.csv"
if cmp -s "$out/ipdiag.csv" "$out/python.csv"; then
  echo "results: identical ($(($(wc -l < "$out/python.csv") - 1)) rows)"
else
  echo "results: DIFFERENT"; diff "$out/ipdiag.csv" "$out/python.csv" | head -5; exit 1
fi

awk -v n="$count" -v ours="$ours" -v py="$python" -v floor="$floor" 'BEGIN {
  printf "python ipaddress : %7.3f s  %6.2f M addresses/s\n", py, n / py / 1e6
  printf "ipdiag (median)  : %7.3f s  %6.2f M addresses/s\n", ours, n / ours / 1e6
  printf "bare parse loop  : %7.3f s  %6.2f M addresses/s (floor)\n", floor, n / floor / 1e6
  printf "ratio            : ipdiag is %.1fx faster than Python (goal >= 50x), %.0f%% of the floor speed\n", py / ours, 100 * floor / ours
}'
