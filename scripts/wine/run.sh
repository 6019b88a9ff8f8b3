#!/usr/bin/env bash
# cargo's runner for x86_64-pc-windows-gnu (.cargo/config.toml): runs a Windows test
# executable under wine with the prefix scripts/wine/setup.sh made (its stand-in
# bcryptprimitives.dll preferred to wine's own). Set here rather than through
# CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER, which assert_cmd would read and run wine
# inside wine for every ipdiag.exe a CLI test starts.
root="$(cd "$(dirname "$0")/../.." && pwd)"
export WINEPREFIX="${WINEPREFIX:-$root/target/wine-prefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
# Tests that need Windows' own network stack skip themselves under wine, saying why.
export IPDIAG_UNDER_WINE=1
export WINEDLLOVERRIDES="bcryptprimitives=n,b${WINEDLLOVERRIDES:+;$WINEDLLOVERRIDES}"
if [ ! -f "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" ]; then
  echo "scripts/wine/run.sh: run scripts/wine/setup.sh first" >&2
  exit 1
fi
# One wine server for the whole suite (about 0.1 s per process instead of seconds).
wineserver -p30 2>/dev/null || true
exec wine "$@"
