#!/usr/bin/env bash
# The whole suite (unit, spec, cli, e2e) again in an AddressSanitizer + UBSan build of its own.
# Any sanitizer report fails the run: ASan aborts on the first error, UBSan is built with
# -fno-sanitize-recover, and LeakSanitizer reports leaks at exit.
set -euo pipefail
src=${PERFORMLUA_SOURCE_DIR:?}
dir=${PERFORMLUA_BUILD_DIR:?}/asan
cmake -S "$src" -B "$dir" -DPERFORMLUA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
      -DPERFORMLUA_WSDL="${PERFORMLUA_WSDL:?}" >/dev/null
cmake --build "$dir" -j2 >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
export LSAN_OPTIONS=suppressions=$src/tests/memory/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# valgrind cannot run an ASan binary, so tests that use valgrind are left to the normal build.
ctest --test-dir "$dir" -LE 'memory|bench' -E 'valgrind' --output-on-failure -j2
