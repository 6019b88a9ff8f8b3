#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) on a temporary copy of its committed
# corpus (fuzz/corpus/<target>/ is never written), and fails if any target crashes.
# Prints, per target, the number of executions and the time.
#
#   fuzz/run-all.sh [SECONDS]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). By default it builds with the stable
# toolchain and no sanitizer, which needs no nightly:
#   cargo +stable fuzz run <target> --sanitizer none -- -max_total_time=SECONDS
# (panics, which is what the targets assert with, are caught without a sanitizer;
# ASan adds nothing for this crate, which has no unsafe code of its own).
# Environment:
#   FUZZ_TOOLCHAIN  rustup toolchain (default stable; empty: cargo's default, no `+`)
#   FUZZ_SANITIZER  none (default), or address etc. with FUZZ_TOOLCHAIN=nightly
#   FUZZ_TARGETS    space-separated targets (default: all, from `cargo fuzz list`)
#   FUZZ_KEEP       a directory to keep the grown corpora and logs in (default: discarded)
#   FUZZ_SEED       libFuzzer's seed (default 1; `random` for a new one each run). A fixed
#                   seed makes a run repeat the same inputs in the same order, so a CI run
#                   finds nothing a longer local run with that seed has not already tried;
#                   exploring with new seeds is a developer's job (FUZZ_SEED=random, longer).
#   FUZZ_RUNS       stop each target after this many inputs (default: only SECONDS stops
#                   it). With a fixed seed the inputs a run tries are then the same on any
#                   machine, fast or loaded; SECONDS stays the bound on time.
# A crash leaves its input in fuzz/artifacts/<target>/ (ignored by git); the script prints
# its path, its bytes in hex and the panic message. Add it to fuzz/regressions/<target>/.
set -euo pipefail

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
    echo "usage: $0 [SECONDS]  (a whole number of seconds per target, default 60)" >&2
    exit 2
fi
fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
toolchain=${FUZZ_TOOLCHAIN-stable}
sanitizer=${FUZZ_SANITIZER:-none}
seed=${FUZZ_SEED:-1}
seed_arg=()
if [[ $seed != random ]]; then
    if ! [[ $seed =~ ^[0-9]+$ ]]; then
        echo "run-all.sh: FUZZ_SEED must be a whole number or 'random', not '$seed'" >&2
        exit 2
    fi
    seed_arg=(-seed="$seed")
fi
runs_arg=()
if [[ -n ${FUZZ_RUNS:-} ]]; then
    if ! [[ $FUZZ_RUNS =~ ^[0-9]+$ ]] || ((FUZZ_RUNS == 0)); then
        echo "run-all.sh: FUZZ_RUNS must be a whole number of inputs, not '$FUZZ_RUNS'" >&2
        exit 2
    fi
    runs_arg=(-runs="$FUZZ_RUNS")
fi

cargo_fuzz=(cargo)
[[ -n $toolchain ]] && cargo_fuzz+=("+$toolchain")
cargo_fuzz+=(fuzz)
if ! "${cargo_fuzz[@]}" --version >/dev/null 2>&1; then
    echo "run-all.sh: '${cargo_fuzz[*]}' does not work: install cargo-fuzz (cargo install cargo-fuzz)" >&2
    echo "            and the toolchain '${toolchain:-default}'" >&2
    exit 2
fi
common=(--fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer")

if [[ -n ${FUZZ_TARGETS:-} ]]; then
    read -r -a targets <<<"$FUZZ_TARGETS"
else
    mapfile -t targets < <("${cargo_fuzz[@]}" list --fuzz-dir "$fuzz_dir")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ipdiag-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "building the fuzz targets: ${cargo_fuzz[*]} build --sanitizer $sanitizer"
"${cargo_fuzz[@]}" build "${common[@]}" >"$work/build.log" 2>&1 || {
    tail -n 40 "$work/build.log" >&2
    echo "run-all.sh: build failed" >&2
    exit 1
}

printf '%-14s %14s %8s %8s %8s  %s\n' target executions "secs" "wall" corpus result
failed=()
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target"
    mkdir -p "$corpus"
    if [[ -d $fuzz_dir/corpus/$target ]]; then
        cp -R "$fuzz_dir/corpus/$target/." "$corpus/"
    fi
    # A regression input must not crash any more: it joins the run's corpus.
    if [[ -d $fuzz_dir/regressions/$target ]]; then
        cp -R "$fuzz_dir/regressions/$target/." "$corpus/"
    fi
    log="$work/$target.log"
    start=$(date +%s.%N)
    status=0
    "${cargo_fuzz[@]}" run "${common[@]}" "$target" "$corpus" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 "${seed_arg[@]}" "${runs_arg[@]}" >"$log" 2>&1 || status=$?
    wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    files=$(find "$corpus" -type f | wc -l)
    if ((status == 0)); then
        result=ok
    else
        result="CRASH (exit $status)"
        failed+=("$target")
    fi
    printf '%-14s %14s %8s %8s %8s  %s\n' "$target" "${execs:-?}" "${secs:-?}" "$wall" "$files" "$result"
    if ((status != 0)); then
        echo "---- $target: end of the log ----"
        # The panic and its message, else (a timeout, out of memory) libFuzzer's last words;
        # not cargo-fuzz's own backtrace after them.
        if grep -q "panicked at" "$log"; then
            grep -A 4 "panicked at" "$log" | grep -vE '^(stack backtrace:|--$| +[0-9]+: | +at )' | head -n 8
        else
            sed '/^Error: Fuzz target exited/,$d' "$log" | tail -n 15
        fi
        grep -E "^SUMMARY|Test unit written" "$log" || true
        for artifact in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log"); do
            echo "input $artifact (hex): $(od -An -v -tx1 "$artifact" | tr -d ' \n')"
        done
        echo "---- add the input to $fuzz_dir/regressions/$target/ ----"
    fi
    if [[ -n ${FUZZ_KEEP:-} ]]; then
        mkdir -p "$FUZZ_KEEP/$target"
        cp -R "$corpus/." "$FUZZ_KEEP/$target/"
        cp "$log" "$FUZZ_KEEP/$target.log"
    fi
done

if ((${#failed[@]} > 0)); then
    echo "run-all.sh: ${#failed[@]} target(s) crashed: ${failed[*]}" >&2
    exit 1
fi
echo "run-all.sh: ${#targets[@]} targets, no crash"
