#!/usr/bin/env python3
"""The Python peer for bench/classify.sh: the same classification with the standard library.

Reads one IPv4 address a line and prints, as CSV, the columns ipdiag's `--format csv` has
for them: address, class, default_mask, classful_network, range, scope, global, provider,
asn. It uses `ipaddress` to parse and for networks, the same registry rows as ipdiag
(data/ipv4-special.tsv, longest prefix wins, one dict lookup per prefix length) and the
same cloud table (data/cloud-ipv4.tsv, bisect). Written to be fast Python, not naive.
"""
import bisect
import ipaddress
import os
import sys

DATA = os.path.join(os.path.dirname(__file__), "..", "data")


def rows(name):
    with open(os.path.join(DATA, name)) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                yield line.rstrip("\n").split("\t")


def main():
    blocks = {}
    for prefix, _name, _rfc, _s, _d, _f, glob, _r, scope, _reg, _m in rows("ipv4-special.tsv"):
        net = ipaddress.IPv4Network(prefix)
        g = {"T": "true", "F": "false"}.get(glob, "true" if scope == "public" else "false")
        blocks[(int(net.network_address), net.prefixlen)] = (prefix, scope, g)
    lengths = sorted({length for _, length in blocks}, reverse=True)
    masks = [(length, (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF if length else 0) for length in lengths]
    starts, ends, owners = [], [], []
    for first, last, asn, provider in rows("cloud-ipv4.tsv"):
        starts.append(int(ipaddress.IPv4Address(first)))
        ends.append(int(ipaddress.IPv4Address(last)))
        owners.append((provider, asn))
    # Per first octet: class letter, mask text, and how to print the classful network.
    classes = []
    for octet in range(256):
        if octet < 128:
            classes.append(("A", "255.0.0.0", lambda n: "%d.0.0.0/8" % (n >> 24)))
        elif octet < 192:
            classes.append(("B", "255.255.0.0", lambda n: "%d.%d.0.0/16" % (n >> 24, (n >> 16) & 255)))
        elif octet < 224:
            classes.append(("C", "255.255.255.0", lambda n: "%d.%d.%d.0/24" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255)))
        else:
            classes.append(("D" if octet < 240 else "E", "", lambda n: ""))
    write = sys.stdout.write
    print("address,class,default_mask,classful_network,range,scope,global,provider,asn")
    for line in sys.stdin:
        text = line.strip()
        n = int(ipaddress.IPv4Address(text))
        letter, mask, classful = classes[n >> 24]
        net = classful(n)
        found = None
        for plen, m in masks:
            found = blocks.get((n & m, plen))
            if found:
                break
        prefix, scope, glob = found if found else ("", "public", "true")
        provider = asn = ""
        if scope == "public":
            i = bisect.bisect_right(starts, n) - 1
            if i >= 0 and n <= ends[i]:
                provider, asn = owners[i]
        write(f"{text},{letter},{mask},{net},{prefix},{scope},{glob},{provider},{asn}\n")


if __name__ == "__main__":
    main()
