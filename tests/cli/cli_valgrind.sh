#!/usr/bin/env bash
# The command line frees what it allocates: a script run, an uncaught error, the REPL over a
# pipe and the -v/--help paths leak nothing and touch no invalid memory under valgrind.
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
unset LUA_INIT LUA_INIT_5_4
command -v valgrind >/dev/null || { echo "FAIL: valgrind is not installed (setup.sh installs it)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_STATE_HOME="$work/state"

vg() { # vg EXPECTED_STATUS ARGS... (stdin passed through)
  local expected=$1; shift
  set +e
  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    "$PERFORMLUA" "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  set -e
  if [ "$rc" != "$expected" ] || grep -q '^==[0-9]*==' "$work/err"; then
    echo "FAIL: valgrind on performlua $* (status $rc, expected $expected)"; cat "$work/err"; exit 1
  fi
}

cat > "$work/script.lua" <<'LUA'
local mc = require "performlua"
local pretty = require("performlua.pretty").pretty
print(pretty({1, {a = "b"}, version = mc.VERSION}, { multiline = true }), ...)
LUA
vg 0 "$work/script.lua" x y
grep -q '^{1, {a = "b"}, version = "' "$work/out" || { echo "FAIL: script output"; cat "$work/out"; exit 1; }
vg 1 -e 'local core = require "performlua.core"; error(core.error_new{kind = "http", message = "x"})'
vg 0 -v
vg 0 --help
vg 2 --no-such-option
vg 0 -i <<<'x = {1, 2}
x'

echo "cli_valgrind: all passed"
