# Helpers the bench scripts share (sourced, not run).

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# start_listeners READY_FILE BIND_ADDRESS PORT... (prefix with `ip netns exec NS` through
# $LISTENER_PREFIX): TCP listeners in a Python process of our own, in the background; sets
# $listener_pid and waits (at most 5 s) until they are bound.
start_listeners() {
  local ready=$1 address=$2
  shift 2
  rm -f "$ready"
  ${LISTENER_PREFIX:-} python3 - "$ready" "$address" "$@" <<'PY' &
import socket, sys, time
held = []
for p in sys.argv[3:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[2], int(p))); s.listen(4096); held.append(s)
open(sys.argv[1], "w").close()
time.sleep(3600)
PY
  listener_pid=$!
  for _ in $(seq 50); do
    [ -e "$ready" ] || ! kill -0 "$listener_pid" 2> /dev/null && break
    sleep 0.1
  done
  [ -e "$ready" ] || { echo "could not start the listeners (is one of $* taken?)" >&2; exit 2; }
}

# loopback_listeners: the TCP ports listening on 127.0.0.1 (or every address), by ss, sorted
# and space-separated: what a sweep of 127.0.0.1 must find open, exactly.
loopback_listeners() {
  ss -Hltn | awk '{n = split($4, a, ":"); h = substr($4, 1, length($4) - length(a[n]) - 1)
    if (h == "127.0.0.1" || h == "0.0.0.0" || h == "*" || h == "[::]") print a[n]}' | sort -n -u | tr '\n' ' '
}

# netns_pair CLIENT SERVER: two network namespaces joined by a veth pair: the client's v0
# 198.51.100.2/24, the server's v1 198.51.100.1/24, and the host to scan, 203.0.113.10, on
# the server's loopback, routed from the client through v1. The caller deletes them.
netns_pair() {
  local c=$1 s=$2
  ip netns add "$c"
  ip netns add "$s"
  ip link add v0 netns "$c" type veth peer name v1 netns "$s"
  ip -n "$c" addr add 198.51.100.2/24 dev v0
  ip -n "$s" addr add 198.51.100.1/24 dev v1
  ip -n "$s" addr add 203.0.113.10/32 dev lo
  for ns in "$c" "$s"; do ip -n "$ns" link set lo up; done
  ip -n "$c" link set v0 up
  ip -n "$s" link set v1 up
  ip -n "$c" route add 203.0.113.0/24 via 198.51.100.1
}
