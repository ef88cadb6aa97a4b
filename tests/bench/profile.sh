#!/usr/bin/env bash
# Where one call or one page goes: callgrind's instructions per unit, by library and by
# function, for one of the side-by-side loops (tests/bench/bench_endpoint.lua). Each loop runs
# twice under callgrind, with a small and a large count; the difference over the difference of
# the counts is what one more unit costs (start-up and first-call costs cancel out). This is
# how every round of tests/bench/README.md found what to change.
#
#   tests/bench/profile.sh [BUILD_DIR] perform|perform16|page|each|codec|decode
#
#   perform    a Perform, one at a time          page    a 2,500-row page of c:retrieve
#   perform16  a Perform, 16 in flight (mc.map)  each    a page of rows through c:each
#   codec      build, encode and decode one Perform in the same process (no endpoint)
#   decode     decode the recorded page (no endpoint)
#
# Environment (defaults in brackets):
#   PROFILE_SMALL, PROFILE_LARGE  the two counts [1000 and 3000 calls; 4 and 12 pages]
#   PROFILE_TOP [40]              functions listed
#   PROFILE_INCLUSIVE [0]         1: also list functions with what they call
#   PROFILE_LIBS                  a directory put first on LD_LIBRARY_PATH for the profiled runs,
#                                 to name the functions of libraries Debian ships stripped:
#                                 Lua, libxml2 and libcurl built from `apt-get source` with
#                                 -O2 -g (tests/bench/README.md, "Seventh round", says how)
#   BENCH_INSTALL, BENCH_NGINX    as for side_by_side.sh (the endpoint: endpoint.sh)
# Needs valgrind (Debian's package: callgrind and callgrind_annotate). The runs use mimalloc
# for the Lua heap, libxml2 and libcurl as a normal run does (valgrind would otherwise make
# performlua choose the C library's malloc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=build
if [ $# -ge 2 ]; then
  build=$1
  shift
fi
what=${1:-}
perf=${PERFORMLUA:-$build/performlua}
usage() {
  echo "usage: tests/bench/profile.sh [BUILD_DIR] perform|perform16|page|each|codec|decode" >&2
  exit 2
}
case "$what" in
  perform | perform16 | codec) small=${PROFILE_SMALL:-1000} large=${PROFILE_LARGE:-3000} ;;
  page | each | decode) small=${PROFILE_SMALL:-4} large=${PROFILE_LARGE:-12} ;;
  *) usage ;;
esac
[ -x "$perf" ] || { echo "profile: no performlua binary at $perf (build first: ./setup.sh)" >&2; exit 1; }
for tool in valgrind callgrind_annotate; do
  command -v "$tool" >/dev/null || { echo "profile: $tool is missing (Debian: apt-get install valgrind)" >&2; exit 1; }
done
# AddressSanitizer's runtime and valgrind exclude each other (and its allocator is not the one
# a user's build runs): profile the plain build
if grep -qa '__asan_init' "$perf"; then
  echo "profile: $perf is a sanitizer build, which does not run under valgrind; profile a plain" \
       "build (./setup.sh makes build/performlua)" >&2
  exit 1
fi
[ "$small" -lt "$large" ] 2>/dev/null || { echo "profile: PROFILE_SMALL must be less than PROFILE_LARGE" >&2; exit 2; }

work=$(mktemp -d)
chmod 755 "$work" # nginx may run its worker as another user when started by root
nginx_pid=
# shellcheck source=tests/bench/endpoint.sh
. "$here/endpoint.sh"
cleanup() {
  stop_endpoint
  rm -rf "$work"
}
trap cleanup EXIT

case "$what" in
  codec | decode)
    mkdir -p "$work/www"
    "$perf" "$here/canned_answers.lua" "$work/www" >/dev/null
    target=$work/www
    ;;
  *)
    ensure_nginx || { echo "profile: nginx is missing (apt-get install nginx)" >&2; exit 1; }
    start_endpoint
    target=$endpoint
    ;;
esac

# args N: bench_endpoint.lua's arguments for a run of N units
args() {
  case "$what" in
    perform) echo perform "$target" "$1" 1 ;;
    perform16) echo perform "$target" "$1" 16 ;;
    page) echo retrieve "$target" "$1" ;;
    each) echo each "$target" "$1" ;;
    codec) echo codec "$target" "$1" ;;
    decode) echo decode "$target" "$1" ;;
  esac
}

for n in "$small" "$large"; do
  # shellcheck disable=SC2046 # the arguments are words without spaces (a path from mktemp, a URL)
  if ! LD_LIBRARY_PATH=${PROFILE_LIBS:+$PROFILE_LIBS${LD_LIBRARY_PATH:+:}}${LD_LIBRARY_PATH:-} \
      PERFORMLUA_ALLOCATOR=mimalloc valgrind --tool=callgrind --callgrind-out-file="$work/$n.out" \
      "$perf" "$here/bench_endpoint.lua" $(args "$n") >"$work/$n.log" 2>&1; then
    echo "profile: the run of $n under callgrind failed:" >&2
    tail -20 "$work/$n.log" >&2
    exit 1
  fi
done
echo "== $what: $small and $large units under callgrind${PROFILE_LIBS:+ (libraries from $PROFILE_LIBS)}"
"$perf" "$here/callgrind_diff.lua" "$work/$small.out" "$small" "$work/$large.out" "$large" \
  "${PROFILE_TOP:-40}"
