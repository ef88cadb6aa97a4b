#!/usr/bin/env bash
# Runs the benchmarks and prints their figures and ratios (tests/bench/RESULTS.md records a run).
#
#   tests/bench/run.sh [BUILD_DIR]           default BUILD_DIR: build
#   BENCH_CALLS=64 BENCH_LATENCY_MS=100 BENCH_ROWS_BIG=1000000 BENCH_NODE=1 tests/bench/run.sh
#
# 1. N calls sequentially vs mc.map at concurrency 8, against a sandbox with injected latency.
# 2. Peak resident memory (VmHWM) of streaming 10,000 vs 1,000,000 data extension rows through
#    c:each; the sandbox runs in its own process and computes generated rows at page time, so
#    only the client's memory is measured.
# 3. With BENCH_NODE=1 (and node + npm present): the same calls and the same stream made by the
#    Node clients sfmc-sdk and fuel-soap (installed from npm into BUILD_DIR/bench-node).
# Not a timed test: numbers depend on the machine. tests/e2e/bench_smoke.sh runs it tiny.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
perf=${PERFORMLUA:-$build/performlua}
calls=${BENCH_CALLS:-64}
latency=${BENCH_LATENCY_MS:-100}
small=${BENCH_ROWS_SMALL:-10000}
big=${BENCH_ROWS_BIG:-1000000}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# start_sandbox VAR ARGS...: a sandbox in its own process; sets VAR to its auth base URL.
# Not called through $(...): a subshell would lose the pid and leave the sandbox running.
start_sandbox() {
  local var=$1; shift
  local out="$work/sandbox.$RANDOM.out"
  "$perf" sandbox --port 0 "$@" >"$out" 2>&1 &
  pids+=($!)
  local url=
  for _ in $(seq 1 100); do
    url=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+/' "$out" | head -n1 || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$out" >&2; echo "the sandbox did not start" >&2; exit 1; }
  printf -v "$var" '%s' "$url"
}

field() { sed -E "s/.*$1=([^ ]+).*/\1/" <<<"$2"; }

echo "== 1. $calls calls, latency ${latency} ms: sequential vs mc.map at concurrency 8"
start_sandbox latency_url --latency "$latency"
PL_AUTH_URL="$latency_url" "$perf" "$here/bench_concurrency.lua" "$calls" "$latency" 8

echo
echo "== 2. peak memory streaming $small vs $big data extension rows through c:each"
cat >"$work/seed.lua" <<LUA
return {generated = {Rows_Small = $small, Rows_Big = $big}}
LUA
start_sandbox rows_url --seed "$work/seed.lua"
small_line=$("$perf" "$here/bench_stream.lua" "$rows_url" Rows_Small)
big_line=$("$perf" "$here/bench_stream.lua" "$rows_url" Rows_Big)
echo "$small_line"
echo "$big_line"
s_kb=$(field peak_rss_kb "$small_line"); b_kb=$(field peak_rss_kb "$big_line")
s_rows=$(field rows "$small_line"); b_rows=$(field rows "$big_line")
awk -v s="$s_kb" -v b="$b_kb" -v sr="$s_rows" -v br="$b_rows" -v bs="$(field seconds "$big_line")" 'BEGIN {
  printf "rows x%.0f -> peak RSS x%.2f (%d KB -> %d KB); %.0f rows/s\n", br / sr, b / s, s, b, br / bs }'

if [ "${BENCH_NODE:-0}" = 1 ]; then
  echo
  echo "== 3. the Node clients, same sandbox, same calls"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "skipped: node and npm are not installed"
    exit 0
  fi
  nodedir=$build/bench-node
  mkdir -p "$nodedir"
  if [ ! -d "$nodedir/node_modules/sfmc-sdk" ] || [ ! -d "$nodedir/node_modules/fuel-soap" ]; then
    (cd "$nodedir" && npm install --no-audit --no-fund --silent sfmc-sdk@2.1.2 fuel-soap@2.2.4 >/dev/null)
  fi
  for lib in sfmc-sdk fuel-soap; do
    (cd "$nodedir" && PL_AUTH_URL="$latency_url" node "$here/node_bench.mjs" calls "$lib" "$calls" 8) || echo "lib=$lib calls: failed"
    (cd "$nodedir" && PL_AUTH_URL="$rows_url" node "$here/node_bench.mjs" stream "$lib" Rows_Small \
      SubscriberKey,EmailAddress,FirstName,Points,JoinedDate) || echo "lib=$lib stream small: failed"
    (cd "$nodedir" && PL_AUTH_URL="$rows_url" node --max-old-space-size=8192 "$here/node_bench.mjs" stream "$lib" Rows_Big \
      SubscriberKey,EmailAddress,FirstName,Points,JoinedDate) || echo "lib=$lib stream big: failed (out of memory?)"
  done
fi
