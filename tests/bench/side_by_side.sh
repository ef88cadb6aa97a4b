#!/usr/bin/env bash
# The side-by-side table of issue 14: performlua's own CPU cost per call and per page against
# its codec alone, libxml2's parse and the Node clients, every client talking to the same
# neutral endpoint (nginx serving canned answers, so the server is not the bottleneck).
# Prints the table, the goals with their measured ratios (PASS/MISS), and the raw lines.
#
#   tests/bench/side_by_side.sh [BUILD_DIR]            default BUILD_DIR: build
#
# Environment (defaults in brackets):
#   BENCH_PERFORMS [10000]  Performs per run (the one-at-a-time run is the peak-RSS loop too)
#   BENCH_PAGES    [40]     2,500-row pages per run (c:retrieve, c:each, the Node clients)
#   BENCH_ROUNDS   [5]      rounds; the table shows each figure's range over them, each goal
#                           the median of its ratio within each round
#   BENCH_STARTS   [200]    start-ups timed for `performlua -e ''` and `lua5.4 -e ''`
#   BENCH_NODE     [1]      0: leave out sfmc-sdk and fuel-soap (installed from npm into
#                           BUILD_DIR/bench-node on first use)
#   BENCH_INSTALL  [1]      0: never install nginx; without it the endpoint part is skipped
#   BENCH_NGINX             the nginx program to run (default: nginx on PATH, /usr/sbin/nginx)
#
# CPU time is the client process's user + system time over its measured loop, divided by the
# calls or pages: stable on a busy machine, unlike wall-clock rates (which are shown too).
# nginx (Debian's package, a bench-only dependency: installed here when missing, as root or
# through sudo) runs as this user on a free loopback port with its own prefix in a temporary
# directory, and is stopped at the end. tests/e2e/bench_smoke.sh runs this with tiny sizes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
perf=${PERFORMLUA:-$build/performlua}
performs=${BENCH_PERFORMS:-10000}
pages=${BENCH_PAGES:-40}
rounds=${BENCH_ROUNDS:-5}
starts=${BENCH_STARTS:-200}
in_flight=16
[ -x "$perf" ] || { echo "side_by_side: no performlua binary at $perf (build first: ./setup.sh)" >&2; exit 1; }
for tool in xmllint lua5.4; do
  command -v "$tool" >/dev/null || { echo "side_by_side: $tool is missing (Debian: ./setup.sh installs it)" >&2; exit 1; }
done

work=$(mktemp -d)
chmod 755 "$work" # nginx may run its worker as another user when started by root
raw=$work/raw.txt
: >"$raw"
nginx_pid=
cleanup() {
  stop_endpoint
  rm -rf "$work"
}
trap cleanup EXIT

# record LINE...: a raw figure line of this round
record() { printf '%s round=%d\n' "$*" "$round" | tee -a "$raw"; }

# measure CMD...: runs one measurement (it prints one line of key=value) and records it; a
# failed measurement stops the bench, since a table with a hole would read as a result
measure() {
  local line
  line=$("$@") || { echo "side_by_side: this measurement failed: $*" >&2; exit 1; }
  record "$line"
}

# --- the neutral endpoint (endpoint.sh) --------------------------------------------------------

# shellcheck source=tests/bench/endpoint.sh
. "$here/endpoint.sh"

# --- figures that need no endpoint ------------------------------------------------------------

# cpu_of RUNS CMD...: runs CMD RUNS times; prints "CPU_SECONDS WALL_SECONDS" of all the runs
# (user + system of the child processes, from the shell's `times`).
cpu_of() {
  local runs=$1 t0 t1 children
  shift
  t0=$(date +%s%N)
  # `times` must run in the shell that ran the children (not in a pipeline's subshell)
  children=$(for ((i = 0; i < runs; i++)); do "$@" </dev/null >/dev/null || exit 1; done
             times) || { echo "side_by_side: '$*' failed" >&2; return 1; }
  children=$(tail -n1 <<<"$children")
  t1=$(date +%s%N)
  awk -v c="$children" -v w="$(((t1 - t0) / 1000))" 'BEGIN {
    split(c, f, " "); split(f[1], u, "m"); split(f[2], s, "m")
    printf "%.4f %.6f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2], w / 1e6 }'
}

startup() {
  local lib=$1 times cpu wall
  shift
  times=$(cpu_of "$starts" "$@") || exit 1
  read -r cpu wall <<<"$times"
  record "$(awk -v l="$lib" -v n="$starts" -v c="$cpu" -v w="$wall" 'BEGIN {
    printf "lib=%s mode=startup runs=%d seconds=%.3f cpu_s=%.3f cpu_us_per_unit=%.1f", l, n, w, c, c / n * 1e6 }')"
}

# libxml2's streaming parse of the same page: xmllint --stream --repeat parses it 100 times
libxml2_parse() {
  local times cpu wall
  times=$(cpu_of 1 xmllint --stream --noout --repeat "$work/www/retrieve.xml") || exit 1
  read -r cpu wall <<<"$times"
  record "$(awk -v c="$cpu" -v w="$wall" 'BEGIN {
    printf "lib=libxml2 mode=stream_parse pages=100 seconds=%.3f cpu_s=%.3f cpu_us_per_unit=%.1f", w, c, c / 100 * 1e6 }')"
}

# --- the Node clients --------------------------------------------------------------------------

node_libs=()
if [ "${BENCH_NODE:-1}" = 1 ]; then
  if command -v node >/dev/null && command -v npm >/dev/null; then
    nodedir=$build/bench-node
    mkdir -p "$nodedir"
    if [ ! -d "$nodedir/node_modules/sfmc-sdk" ] || [ ! -d "$nodedir/node_modules/fuel-soap" ]; then
      (cd "$nodedir" && npm install --no-audit --no-fund --silent sfmc-sdk@2.1.2 fuel-soap@2.2.4 >/dev/null)
    fi
    node_libs=(fuel-soap sfmc-sdk)
  else
    echo "side_by_side: node and npm are not installed: the Node clients are left out"
  fi
fi
node_run() { (cd "$nodedir" && PL_AUTH_URL=$endpoint node "$here/node_bench.mjs" "$@"); }

# --- the run -----------------------------------------------------------------------------------

# The figures depend on the machine and on what else runs on it: name both.
machine() {
  local model debian
  model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)
  debian=$(cat /etc/debian_version 2>/dev/null || echo "not Debian")
  echo "== machine: ${model:-unknown CPU}, $(nproc) CPUs, Debian $debian, Linux $(uname -r);" \
       "load average $(cut -d' ' -f1-3 /proc/loadavg) ($1)"
}
machine "at the start"

endpoint=
if ensure_nginx; then
  start_endpoint
  echo "== neutral endpoint: nginx $("$(nginx_bin)" -v 2>&1 | sed 's/.*nginx\///') at $endpoint"
else
  mkdir -p "$work/www"
  "$perf" "$here/canned_answers.lua" "$work/www" >/dev/null
  echo "== skipped the endpoint part: nginx is not installed (BENCH_INSTALL=0 or no way to" \
       "install it); the codec, libxml2 and start-up figures still run. Install it with" \
       "'apt-get install nginx' to get the whole table."
fi
# Each goal compares two figures of one round, so they are measured next to each other: the
# machine's speed drifts over minutes (side_by_side_report.lua, "the goals").
for ((round = 1; round <= rounds; round++)); do
  echo "== round $round of $rounds"
  measure "$perf" "$here/bench_endpoint.lua" codec "$work/www" "$performs"
  if [ -n "$endpoint" ]; then
    measure "$perf" "$here/bench_endpoint.lua" perform "$endpoint" "$performs" 1
    measure "$perf" "$here/bench_endpoint.lua" perform "$endpoint" "$performs" "$in_flight"
    for lib in "${node_libs[@]}"; do
      measure node_run perform "$lib" "$performs" 1
      measure node_run perform "$lib" "$performs" "$in_flight"
    done
  fi
  libxml2_parse
  if [ -n "$endpoint" ]; then
    measure "$perf" "$here/bench_endpoint.lua" retrieve "$endpoint" "$pages"
    measure "$perf" "$here/bench_endpoint.lua" each "$endpoint" "$pages"
    for lib in "${node_libs[@]}"; do
      measure node_run pages "$lib" "$pages"
    done
  fi
  measure "$perf" "$here/bench_endpoint.lua" decode "$work/www" "$pages"
  startup performlua "$perf" -e ''
  startup lua5.4 lua5.4 -e ''
done
machine "at the end"
echo
"$perf" "$here/side_by_side_report.lua" "$raw"
