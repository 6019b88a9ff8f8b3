#!/usr/bin/env bash
# ipdiag.exe under wine against Linux listeners on 127.0.0.1 (a Python TCP listener and
# UDP echo, outside wine): probe, doctor, check and wait give the states and exit codes
# Linux gives; ping and trace --icmp go through IcmpSendEcho2 (wine's runs on a raw or ping
# socket), trace by TCP without TCP_ICMP_ERROR_INFO (wine refuses it: a note says so). Wine runs Winsock on the Linux stack, so this proves the Windows build, its
# process model and exit codes, not Windows' own network semantics (a UDP port
# unreachable never reaches a wine process: a closed UDP port reads open|filtered here).
# Needs scripts/wine/setup.sh and a built target/x86_64-pc-windows-gnu/debug/ipdiag.exe.
set -euo pipefail
cd "$(dirname "$0")/../.."
exe=target/x86_64-pc-windows-gnu/debug/ipdiag.exe
win() { scripts/wine/run.sh "$exe" "$@"; }

ports=$(mktemp)
python3 - "$ports" <<'PY' &
import socket, sys, threading
tcp = socket.socket(); tcp.bind(("127.0.0.1", 0)); tcp.listen(16)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
gone = socket.socket(); gone.bind(("127.0.0.1", 0)); closed = gone.getsockname()[1]; gone.close()
gone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); gone.bind(("127.0.0.1", 0))
uclosed = gone.getsockname()[1]; gone.close()
def accept():
    while True:
        c, _ = tcp.accept(); c.close()
def echo():
    while True:
        d, a = udp.recvfrom(2048); udp.sendto(d, a)
threading.Thread(target=accept, daemon=True).start()
threading.Thread(target=echo, daemon=True).start()
with open(sys.argv[1], "w") as f:
    f.write(f"{tcp.getsockname()[1]} {closed} {udp.getsockname()[1]} {uclosed}\n")
threading.Event().wait(300)
PY
listener=$!
trap 'kill "$listener" 2>/dev/null; rm -f "$ports" "$checks"' EXIT
for _ in $(seq 50); do [ -s "$ports" ] && break; sleep 0.1; done
read -r open closed uopen uclosed <"$ports"
checks=$(mktemp)
failed=0
expect() { # what, expected, actual
  if [ "$2" = "$3" ]; then echo "ok   $1: $3"; else echo "FAIL $1: expected $2, got $3"; failed=1; fi
}
state() { # probe arguments -> "state reason"
  win probe "$@" --json 2>/dev/null | python3 -c \
    'import json,sys; r=json.load(sys.stdin)[0]; print(r["state"], r["reason"])'
}
code() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }

expect "probe open TCP" "open syn-ack" "$(state 127.0.0.1:"$open")"
expect "probe closed TCP" "closed conn-refused" "$(state 127.0.0.1:"$closed")"
expect "probe UDP echo" "open udp-response" "$(state 127.0.0.1:"$uopen" --udp)"
# Wine passes Linux's ECONNREFUSED on to the connected socket only now and then (seen both
# ways on this machine): either answer is right for the Windows build here.
uclosed_state=$(state 127.0.0.1:"$uclosed" --udp -w 300ms || true)
case $uclosed_state in
  "closed port-unreach") expect "probe closed UDP (wine passed the ICMP on)" "closed port-unreach" "$uclosed_state" ;;
  *) expect "probe closed UDP (wine: no WSAECONNRESET)" "open|filtered no-response" "$uclosed_state" ;;
esac
expect "probe exit code, open" 0 "$(code win probe 127.0.0.1:"$open")"
expect "probe exit code, closed" 1 "$(code win probe 127.0.0.1:"$closed")"
expect "doctor open, exit code" 0 "$(code win doctor 127.0.0.1:"$open")"
cat >"$checks" <<TOML
[[check]]
name = "open"
target = "127.0.0.1:$open"
expect = "open"

[[check]]
name = "closed"
target = "127.0.0.1:$closed"
expect = "closed"
TOML
expect "check (open and closed as expected)" 0 "$(code win check "$(winepath -w "$checks" 2>/dev/null || echo "$checks")")"
expect "wait for an open port" 0 "$(code win wait 127.0.0.1:"$open" --timeout 5s)"
expect "wait for a closed port times out" 1 "$(code win wait 127.0.0.1:"$closed" --timeout 1s)"
expect "wait hands over and passes the exit status" 7 \
  "$(code win wait 127.0.0.1:"$open" --timeout 5s -- cmd /c exit 7)"
pinged() { # ping arguments -> "method sent received exit"
  set +e
  out=$(win ping "$@" --json 2>/dev/null)
  rc=$?
  set -e
  echo "$out" | python3 -c \
    'import json,sys; r=json.load(sys.stdin); print(r["method"], r["sent"], r["received"], end=" ")'
  echo "$rc"
}
expect "ping 127.0.0.1 -c 3 (IcmpSendEcho2)" "iphlpapi 3 3 0" "$(pinged 127.0.0.1 -c 3 -i 100ms)"
expect "ping ::1 (wine's Icmp6CreateFile is a stub): exit 3" 3 "$(code win ping ::1 -c 1)"
traced() { # trace arguments -> "verdict hops state reason exit"
  set +e
  out=$(win trace "$@" --json 2>/dev/null)
  rc=$?
  set -e
  echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); d=r["destination"] or {}
print(r["verdict"]["kind"], len(r["hops"]), d.get("state"), d.get("reason"), end=" ")'
  echo "$rc"
}
expect "trace 127.0.0.1 --icmp (IcmpSendEcho2 with a TTL)" "reached 1 open echo-reply 0" \
  "$(traced 127.0.0.1 --icmp --queries 2)"
expect "trace to an open TCP port" "reached 1 open syn-ack 0" \
  "$(traced 127.0.0.1:"$open" --queries 1)"
expect "trace to a closed TCP port" "reached 1 closed conn-refused 1" \
  "$(traced 127.0.0.1:"$closed" --queries 1)"
expect "local is Linux's: exit 3" 3 "$(code win local --port 80)"
expect "bad input: exit 2" 2 "$(code win probe 999.1.1.1:80)"
exit "$failed"
