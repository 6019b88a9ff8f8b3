#!/usr/bin/env bash
# Other systems, checked from Linux (called by .ci/run): clippy -D warnings for Windows,
# macOS (Intel and ARM) and FreeBSD, then the Windows build's tests and a smoke run under
# wine (scripts/wine/). Wine runs Winsock over the Linux stack: this proves the build, the
# process model, exit codes and the fallbacks, not Windows' network semantics; the tests
# that need those are ignored under wine, each saying why. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
step() { echo "== [${SECONDS}s] $*"; }

targets="x86_64-pc-windows-gnu x86_64-apple-darwin aarch64-apple-darwin x86_64-unknown-freebsd"
# shellcheck disable=SC2086
rustup target add $targets >/dev/null
for target in $targets; do
  step "cargo clippy --target $target --all-targets -- -D warnings"
  cargo clippy --target "$target" --all-targets --quiet -- -D warnings
done

step "wine: mingw-w64, wine, a prefix with the ProcessPrng stand-in (scripts/wine/setup.sh)"
bash scripts/wine/setup.sh >/dev/null
step "cargo test --target x86_64-pc-windows-gnu (library, CLI, parsers, fuzz replay) under wine"
cargo test --target x86_64-pc-windows-gnu --quiet --lib --test cli --test parsers --test fuzz_inputs
# The smoke run uses the ipdiag.exe the CLI tests were built with: a separate `cargo build`
# would compile 22 crates again (without the dev-dependencies' features), about 150 s.
step "ipdiag.exe against Linux listeners on 127.0.0.1 (scripts/wine/smoke.sh)"
bash scripts/wine/smoke.sh
step "cross done"
