#!/usr/bin/env bash
# The committed schema model (runtime/schema/wsdl_model.c) must be exactly what the generator
# makes from the official WSDL. When it is not, the diff shows what changed; regenerate with
#   cmake --build build --target regenerate-schema
# and commit the result.
set -euo pipefail

fail() { echo "schema_regen: $*" >&2; exit 1; }

: "${PERFORMLUA_SCHEMAGEN:?PERFORMLUA_SCHEMAGEN must name the performlua-schemagen binary (ctest sets it)}"
: "${PERFORMLUA_WSDL:?PERFORMLUA_WSDL must name shared/wsdl/etframework.wsdl (ctest sets it)}"
source_dir=${PERFORMLUA_SOURCE_DIR:-.}
committed=$source_dir/runtime/schema/wsdl_model.c

[ -x "$PERFORMLUA_SCHEMAGEN" ] || fail "the generator $PERFORMLUA_SCHEMAGEN is missing (build the performlua-schemagen target)"
[ -r "$PERFORMLUA_WSDL" ] || fail "cannot read the WSDL $PERFORMLUA_WSDL"
[ -r "$committed" ] || fail "the committed model $committed is missing"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$PERFORMLUA_SCHEMAGEN" "$PERFORMLUA_WSDL" "$tmp/wsdl_model.c" ||
    fail "the generator failed on $PERFORMLUA_WSDL"

# Deterministic: two runs give the same bytes.
"$PERFORMLUA_SCHEMAGEN" "$PERFORMLUA_WSDL" "$tmp/again.c"
cmp -s "$tmp/wsdl_model.c" "$tmp/again.c" || fail "two runs of the generator differ"

if ! cmp -s "$committed" "$tmp/wsdl_model.c"; then
    echo "schema_regen: runtime/schema/wsdl_model.c differs from what the generator makes from" >&2
    echo "  $PERFORMLUA_WSDL" >&2
    echo "Regenerate it (cmake --build build --target regenerate-schema) and commit it." >&2
    diff -u "$committed" "$tmp/wsdl_model.c" | head -200 >&2 || true
    exit 1
fi

# Usage errors are reported, not crashed on.
if "$PERFORMLUA_SCHEMAGEN" >/dev/null 2>"$tmp/usage"; then fail "no arguments must fail"; fi
grep -q '^usage: performlua-schemagen WSDL OUT.c' "$tmp/usage" || fail "no usage message: $(cat "$tmp/usage")"
if "$PERFORMLUA_SCHEMAGEN" /nonexistent.wsdl "$tmp/x.c" 2>"$tmp/missing"; then fail "a missing WSDL must fail"; fi
grep -q '^performlua-schemagen: cannot read the WSDL /nonexistent.wsdl' "$tmp/missing" ||
    fail "unexpected message for a missing WSDL: $(cat "$tmp/missing")"
[ ! -e "$tmp/x.c" ] || fail "a failed run must not leave an output file"

echo "schema_regen: the committed model matches the WSDL"
