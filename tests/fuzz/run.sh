#!/usr/bin/env bash
# Runs one fuzz target: replays every input that ever failed (regressions/TARGET/), then fuzzes
# for FUZZ_SECONDS (45 by default) from the committed seeds (corpus/TARGET/) plus what earlier
# runs found (BUILD/fuzz/work/TARGET/corpus). Exits 0 when nothing was found, 1 on any crash,
# leak, timeout, out-of-memory, sanitizer report or broken invariant (the input is then in
# BUILD/fuzz/work/TARGET/artifacts/), 77 (skipped) when clang or libFuzzer is missing, unless
# CI=true, where a missing fuzzer fails.
#
#   tests/fuzz/run.sh TARGET [libFuzzer options...]     e.g. -max_total_time=14400 -jobs=2
#
# The targets are built with clang, -fsanitize=fuzzer,address,undefined, in BUILD/fuzz (BUILD
# is PERFORMLUA_BUILD_DIR, else build/ of the source tree); one build serves every target.
set -euo pipefail
target=${1:?usage: tests/fuzz/run.sh TARGET [libFuzzer options...]}
shift
src=${PERFORMLUA_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${PERFORMLUA_BUILD_DIR:-$src/build}
fuzz=$src/tests/fuzz
dir=$build/fuzz
if [ ! -f "$fuzz/targets/$target.lua" ]; then
  echo "run.sh: no fuzz target '$target' (targets: $(cd "$fuzz/targets" && ls -- *.lua | sed 's/\.lua$//' | tr '\n' ' '))" >&2
  exit 2
fi

unavailable() {
  echo "fuzz/$target: $1"
  if [ "${CI:-}" = true ]; then
    echo "fuzz/$target: CI=true: a missing fuzzer is a failure (./setup.sh installs clang and libFuzzer)"
    exit 1
  fi
  echo "fuzz/$target: skipped (./setup.sh installs clang and libFuzzer)"
  exit 77
}
command -v clang >/dev/null 2>&1 || unavailable "clang is not installed"
mkdir -p "$dir"

# One build for all targets: tests running in parallel wait for each other here.
exec 9>"$build/fuzz.lock"
flock 9
if ! printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
     clang -x c -fsanitize=fuzzer - -o "$dir/libfuzzer-probe" >"$dir/libfuzzer-probe.log" 2>&1; then
  unavailable "clang cannot link libFuzzer (-fsanitize=fuzzer): $(head -c 300 "$dir/libfuzzer-probe.log")"
fi
wsdl=${PERFORMLUA_WSDL:-$src/../shared/wsdl/etframework.wsdl}
if ! { CC=clang cmake -S "$src" -B "$dir" -DPERFORMLUA_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DPERFORMLUA_WSDL="$wsdl" && cmake --build "$dir" --target fuzz-targets -j2; } >"$dir/build.log" 2>&1; then
  tail -n 60 "$dir/build.log"
  echo "fuzz/$target: the fuzz build failed (log: $dir/build.log)"
  exit 1
fi
flock -u 9

bin=$dir/fuzz/fuzz_$target
work=$dir/work/$target
mkdir -p "$work/corpus" "$work/artifacts"
# Dictionaries named on the driver's "-- dictionaries:" line, concatenated.
dict_args=()
names=$(sed -n 's/^-- dictionaries: *//p' "$fuzz/targets/$target.lua" | head -n 1)
if [ -n "$names" ]; then
  : >"$work/target.dict"
  for d in $names; do cat "$fuzz/dict/$d.dict" >>"$work/target.dict"; done
  dict_args=(-dict="$work/target.dict")
fi

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export PERFORMLUA_WSDL=$wsdl
# libFuzzer's own exit codes (77 on a crash) must not read as ctest's "skipped"
common=(-error_exitcode=1 -timeout_exitcode=1 -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048)

fail() {
  tail -n 80 "$1"
  echo
  echo "fuzz/$target: FAILED. The input is in $work/artifacts/ (log: $1)."
  echo "Reproduce: $bin $work/artifacts/<file>; after the fix, keep it as a regression:"
  echo "  cp $work/artifacts/<file> $fuzz/regressions/$target/<what-it-found>"
  exit 1
}

shopt -s nullglob
regressions=("$fuzz/regressions/$target"/*)
if ((${#regressions[@]})); then
  "$bin" "${common[@]}" -artifact_prefix="$work/artifacts/" "${regressions[@]}" \
    >"$work/regressions.log" 2>&1 || fail "$work/regressions.log"
  echo "fuzz/$target: ${#regressions[@]} regression inputs pass"
fi

seconds=${FUZZ_SECONDS:-45}
"$bin" "${common[@]}" "${dict_args[@]}" -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" "$fuzz/corpus/$target" \
  >"$work/fuzz.log" 2>&1 || fail "$work/fuzz.log"
grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$work/fuzz.log" || true
echo "fuzz/$target: nothing found in ${seconds}s ($(ls "$work/corpus" | wc -l) inputs in the working corpus)"
