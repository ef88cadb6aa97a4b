#!/usr/bin/env bash
# The whole suite (unit, spec, cli, e2e) again in an AddressSanitizer + UBSan build of its own,
# made with the compiler named by $1: gcc (build/asan) or clang (build/clang-asan; clang's UBSan
# checks more, e.g. arithmetic on a null pointer). Any sanitizer report fails the run: ASan
# aborts on the first error, UBSan is built with -fno-sanitize-recover, and LeakSanitizer
# reports leaks at exit. Without clang the clang run is skipped (exit 77), or fails under CI=true.
set -euo pipefail
src=${PERFORMLUA_SOURCE_DIR:?}
compiler=${1:-gcc}
case "$compiler" in
  gcc) dir=${PERFORMLUA_BUILD_DIR:?}/asan ;;
  clang)
    dir=${PERFORMLUA_BUILD_DIR:?}/clang-asan
    if ! command -v clang >/dev/null 2>&1; then
      echo "asan.sh: clang is not installed (./setup.sh installs it): the clang sanitizer build is skipped"
      [ "${CI:-}" = true ] && { echo "asan.sh: CI=true: failing instead of skipping"; exit 1; }
      exit 77
    fi ;;
  *) echo "asan.sh: unknown compiler '$compiler' (gcc or clang)" >&2; exit 2 ;;
esac
# CC picks the compiler when the build directory is new (a cached one keeps its compiler); the
# same WSDL as the main build, or none (the WSDL tests then skip there too)
CC=$compiler cmake -S "$src" -B "$dir" -DPERFORMLUA_SANITIZE=ON \
      -DCMAKE_BUILD_TYPE=Debug -DPERFORMLUA_WSDL="${PERFORMLUA_WSDL:-}" >/dev/null
cmake --build "$dir" -j2 >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
export LSAN_OPTIONS=suppressions=$src/tests/memory/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# valgrind cannot run an ASan binary, so tests that use valgrind are left to the normal build;
# the fuzz targets have a sanitizer build of their own (tests/fuzz/run.sh). The benchmark's
# smoke test checks that calls overlap in time: the gcc run keeps it, the clang run (whose
# UBSan checks more, slower still) leaves it out rather than make it flaky.
skip=valgrind
[ "$compiler" = clang ] && skip='valgrind|bench_smoke'
ctest --test-dir "$dir" -LE 'memory|bench|fuzz' -E "$skip" --output-on-failure -j2
