#!/usr/bin/env bash
# Memcheck over the paths where C owns memory: codec, sandbox server, transport, CLI, SQLite.
# Runs the example workflow against the embedded sandbox and the core specs under valgrind;
# any error or definite leak fails the run.
set -euo pipefail
src=${PERFORMLUA_SOURCE_DIR:?}
bin=${PERFORMLUA:?}
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --suppressions="$src/tests/memory/valgrind.supp")
cd "$src"
"${vg[@]}" "$bin" --sandbox scripts/clone_count_send.lua >/dev/null
# client_faults_spec covers the transport's error paths (resets, truncation, timeouts).
# Specs that assert timing (latency overlap) are left out: valgrind slows everything ~20x.
for spec in tests/spec/json_spec.lua tests/spec/codec_decode_spec.lua tests/spec/codec_encode_spec.lua \
            tests/spec/types_spec.lua tests/spec/schema_spec.lua tests/spec/envelope_xsd_spec.lua \
            tests/spec/codec_real_responses_spec.lua tests/spec/sandbox_soap_spec.lua \
            tests/spec/sandbox_retrieve_spec.lua tests/spec/sandbox_operations_spec.lua \
            tests/spec/sandbox_perform_spec.lua tests/spec/client_operations_spec.lua \
            tests/spec/client_faults_spec.lua tests/spec/sqlite_spec.lua \
            tests/spec/sandbox_store_spec.lua; do
  [ -f "$spec" ] || { echo "valgrind.sh: missing $spec (update this list)" >&2; exit 1; }
  echo "valgrind: $spec"
  # 77: a spec that needs the WSDL where there is none (tests/spec/helpers/wsdl_helper.lua)
  status=0
  out=$(mktemp)
  "${vg[@]}" "$bin" tests/run_busted.lua "$spec" >"$out" 2>&1 || status=$?
  if [ "$status" = 77 ]; then echo "valgrind: $spec skipped (no WSDL)"; rm -f "$out"; continue; fi
  if [ "$status" != 0 ]; then
    # busted's failures and valgrind's report, not the specs' traces: what to look at
    grep -a -v -e '^performlua trace' -e '^[<{ ]' "$out" | tail -n 60 >&2
    rm -f "$out"
    exit "$status"
  fi
  rm -f "$out"
done
echo "valgrind: clean"
