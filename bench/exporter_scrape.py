"""Scrapes an exporter's /probe the way Prometheus does, for bench/exporter.sh.

    python3 exporter_scrape.py HOST:PORT MODULE INTERVAL ROUNDS TARGETS_FILE

TARGETS_FILE has one "CLASS HOST:PORT" a line. Each target gets a thread of its own with
a keep-alive connection (as a Prometheus scrape loop has), first scraped at its own offset
within the interval (Prometheus spreads its targets over the interval), then once every
INTERVAL seconds, ROUNDS times: bounded in count and time. Each request carries
X-Prometheus-Scrape-Timeout-Seconds = INTERVAL (Prometheus caps the timeout at the
interval). Prints one line per scrape:

    CLASS TARGET SECONDS STATUS SUCCESS STATE

SECONDS from the request's first byte sent to its body's last byte read; SUCCESS is
probe_success; STATE the ipdiag_port_state series at 1 ("-" when there is none, as from
the blackbox exporter).
"""

import http.client
import re
import sys
import threading
import time
import urllib.parse

STATE = re.compile(r'^ipdiag_port_state\{state="([^"]+)"\} 1(\.0)?$', re.M)
SUCCESS = re.compile(r"^probe_success ([0-9.]+)$", re.M)


def scrape_loop(exporter, module, interval, rounds, start, offset, klass, target, out, lock):
    host, _, port = exporter.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=interval + 5)
    query = urllib.parse.urlencode({"target": target, "module": module})
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": str(interval)}
    for n in range(rounds):
        due = start + offset + n * interval
        time.sleep(max(0.0, due - time.monotonic()))
        t0 = time.monotonic()
        try:
            conn.request("GET", "/probe?" + query, headers=headers)
            reply = conn.getresponse()
            body = reply.read().decode("utf-8", "replace")
            status = reply.status
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=interval + 5)
            body, status = "", "fail:" + type(e).__name__
        seconds = time.monotonic() - t0
        success = SUCCESS.search(body)
        state = STATE.search(body)
        line = "%s %s %.6f %s %s %s" % (
            klass,
            target,
            seconds,
            status,
            success.group(1) if success else "-",
            state.group(1) if state else "-",
        )
        with lock:
            out.append(line)
    conn.close()


def main():
    exporter, module, interval, rounds, path = sys.argv[1:6]
    interval, rounds = float(interval), int(rounds)
    with open(path) as f:
        targets = [line.split() for line in f if line.strip()]
    out, lock = [], threading.Lock()
    start = time.monotonic() + 0.2
    threads = [
        threading.Thread(
            target=scrape_loop,
            args=(exporter, module, interval, rounds, start, i * interval / len(targets), k, t, out, lock),
        )
        for i, (k, t) in enumerate(targets)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("\n".join(out))


if __name__ == "__main__":
    main()
