#!/usr/bin/env bash
# Prepares wine to run ipdiag's Windows test executables: mingw-w64 and wine (Debian's
# packages, when missing and root), the Rust target, a wine prefix under target/, and the
# ProcessPrng stand-in DLL (bcryptprimitives.c) built with mingw and copied into the
# prefix's system32. Idempotent; prints the prefix it set up.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || ! command -v wine >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      gcc-mingw-w64-x86-64 wine64 wine >/dev/null
  else
    echo "scripts/wine/setup.sh: needs gcc-mingw-w64-x86-64, wine64 and wine" >&2
    exit 1
  fi
fi
rustup target add x86_64-pc-windows-gnu >/dev/null 2>&1

prefix="$PWD/target/wine-prefix"
export WINEPREFIX="$prefix" WINEDEBUG=-all
if [ ! -f "$prefix/system.reg" ]; then
  mkdir -p "$prefix"
  wineboot --init >/dev/null 2>&1
fi
dll="$PWD/target/wine-bcryptprimitives.dll"
x86_64-w64-mingw32-gcc -shared -O2 -o "$dll" scripts/wine/bcryptprimitives.c -ladvapi32
cp "$dll" "$prefix/drive_c/windows/system32/bcryptprimitives.dll"
echo "$prefix"
