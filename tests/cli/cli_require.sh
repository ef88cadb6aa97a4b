#!/usr/bin/env bash
# Module resolution: performlua's own modules, modules beside the script, PERFORMLUA_PATH,
# and Lua's default path (system modules such as busted's) all work.
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
unset LUA_INIT LUA_INIT_5_4 LUA_PATH LUA_PATH_5_4 LUA_CPATH LUA_CPATH_5_4 PERFORMLUA_PATH
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { set +e; "$@" >"$work/.out" 2>"$work/.err"; rc=$?; set -e; out=$(cat "$work/.out"); err=$(cat "$work/.err"); }
check() {
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1"; diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") || true; exit 1
  fi
}

# a project: a script with a helper module and a package (dir/init.lua) beside it
mkdir -p "$work/project/steps" "$work/shared1/team" "$work/shared2" "$work/elsewhere"
cat > "$work/project/main.lua" <<'LUA'
local helper = require "helper"
local steps = require "steps"
local team = require "team.common"
local other = require "other"
local mc = require "performlua"
print(helper.where, steps.where, team.where, other.where, type(mc.VERSION))
LUA
printf 'return { where = "beside" }\n' > "$work/project/helper.lua"
printf 'return { where = "package" }\n' > "$work/project/steps/init.lua"
printf 'return { where = "shared1" }\n' > "$work/shared1/team/common.lua"
printf 'return { where = "shared1" }\n' > "$work/shared1/other.lua"
printf 'return { where = "shared2" }\n' > "$work/shared2/other.lua"
printf 'return { where = "shared2" }\n' > "$work/shared2/helper.lua"

# run from another directory: the script's own directory is searched, not the cwd
cd "$work/elsewhere"
run env PERFORMLUA_PATH="$work/shared1:$work/shared2" "$PERFORMLUA" ../project/main.lua
check "require beside script and via PERFORMLUA_PATH" "$(printf 'beside\tpackage\tshared1\tshared1\tstring')" "$out"
check "status" 0 "$rc"

# PERFORMLUA_PATH order decides; empty entries and trailing slashes are fine
run env PERFORMLUA_PATH=":$work/shared2/::$work/shared1" "$PERFORMLUA" ../project/main.lua
check "PERFORMLUA_PATH order" "$(printf 'beside\tpackage\tshared1\tshared2\tstring')" "$out"

# without PERFORMLUA_PATH the shared modules are not found, and the message says where it looked
run "$PERFORMLUA" ../project/main.lua
check "missing module: status" 1 "$rc"
grep -q "^performlua: \.\./project/main\.lua:3: module 'team\.common' not found:" <<<"$err" \
  || { echo "FAIL: missing module message: $err"; exit 1; }
grep -qF "no file '../project/team/common.lua'" <<<"$err" \
  || { echo "FAIL: search beside the script not listed: $err"; exit 1; }

# a script given without a directory finds its neighbours in the current directory
cd "$work/project"
run env PERFORMLUA_PATH="$work/shared1" "$PERFORMLUA" main.lua
check "script in cwd" "$(printf 'beside\tpackage\tshared1\tshared1\tstring')" "$out"

# -e and the stdin script get PERFORMLUA_PATH too
cd "$work/elsewhere"
run env PERFORMLUA_PATH="$work/shared2" "$PERFORMLUA" -e 'print(require("other").where)'
check "PERFORMLUA_PATH with -e" "shared2" "$out"

# performlua's own modules cannot be shadowed by files on the path
mkdir -p "$work/shadow/performlua"
printf 'return { hijacked = true }\n' > "$work/shadow/performlua/pretty.lua"
run env PERFORMLUA_PATH="$work/shadow" "$PERFORMLUA" -e 'print(require("performlua.pretty").hijacked)'
check "embedded modules win" "nil" "$out"

# Lua's default path stays: system modules (busted's dependencies under /usr/share/lua/5.4)
if [ -f /usr/share/lua/5.4/say/init.lua ]; then
  run "$PERFORMLUA" -e 'print(type(require("say")))'
  check "system module from the default path" "table" "$out"
fi
run "$PERFORMLUA" -e 'print(package.path:find("/usr/share/lua/5.4/?.lua", 1, true) ~= nil)'
check "default path kept" "true" "$out"

echo "cli_require: all passed"
