#!/usr/bin/env bash
# The environment a script sees, and passes to the programs it starts, is the one performlua
# was given. Loading libcurl sets GNUTLS_NO_IMPLICIT_INIT for the load only (runtime/net/http.c
# says why), and never overrides a value the user set.
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
unset LUA_INIT LUA_INIT_5_4 GNUTLS_NO_IMPLICIT_INIT
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_STATE_HOME="$work/state"

# After the first call (libcurl loaded): what the script and a child process see.
cat >"$work/after_call.lua" <<'LUA'
local mc = require "performlua"
local r = mc.connect():retrieve("Send", {"ID"})
assert(r.ok, "the call failed")
print(tostring(os.getenv("GNUTLS_NO_IMPLICIT_INIT")))
io.stdout:flush()
os.execute("printenv GNUTLS_NO_IMPLICIT_INIT || echo absent")
LUA
out=$("$PERFORMLUA" --sandbox "$work/after_call.lua")
[ "$out" = "$(printf 'nil\nabsent')" ] || { echo "FAIL: the variable outlived libcurl's load: $out"; exit 1; }

out=$(GNUTLS_NO_IMPLICIT_INIT=0 "$PERFORMLUA" --sandbox "$work/after_call.lua")
[ "$out" = "$(printf '0\n0')" ] || { echo "FAIL: the user's GNUTLS_NO_IMPLICIT_INIT=0 was not kept: $out"; exit 1; }
echo "environment kept: GNUTLS_NO_IMPLICIT_INIT set for libcurl's load only"
