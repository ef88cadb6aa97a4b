#!/usr/bin/env bash
# The benchmarks run (tiny sizes, no Node): tests/bench/run.sh must keep working. The figures
# are not checked here (they depend on the machine); the shape of the output is.
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
: "${PERFORMLUA_SOURCE_DIR:?}"
out=$(BENCH_CALLS=8 BENCH_LATENCY_MS=20 BENCH_ROWS_SMALL=300 BENCH_ROWS_BIG=3000 BENCH_NODE=0 \
  bash "$PERFORMLUA_SOURCE_DIR/tests/bench/run.sh" "$(dirname "$PERFORMLUA")")
printf '%s\n' "$out"
grep -Eq '^speedup +[0-9.]+x  \(ideal 8x\)$' <<<"$out" || { echo "FAIL: no speedup line"; exit 1; }
grep -Eq '^lib=performlua rows=300 seconds=[0-9.]+ peak_rss_kb=[0-9]+ ' <<<"$out" || { echo "FAIL: small stream"; exit 1; }
grep -Eq '^lib=performlua rows=3000 seconds=[0-9.]+ peak_rss_kb=[0-9]+ ' <<<"$out" || { echo "FAIL: big stream"; exit 1; }
grep -Eq '^rows x10 -> peak RSS x[0-9.]+ ' <<<"$out" || { echo "FAIL: no ratio line"; exit 1; }
# with 8 calls at concurrency 8 the waits must overlap at least somewhat even on a busy machine
speedup=$(grep -E '^speedup' <<<"$out" | grep -Eo '[0-9.]+x' | head -n1 | tr -d x)
awk -v s="$speedup" 'BEGIN { exit !(s > 2) }' || { echo "FAIL: no overlap (speedup $speedup)"; exit 1; }
echo ok
