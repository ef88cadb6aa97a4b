#!/usr/bin/env bash
# The script runner: `arg` and `...`, -e, -l, -, --, stdin as the script, exit statuses.
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
unset LUA_INIT LUA_INIT_5_4 LUA_PATH LUA_PATH_5_4 LUA_CPATH LUA_CPATH_5_4 PERFORMLUA_PATH
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# run CMD...: sets $out, $err, $rc
run() { set +e; "$@" >"$work/.out" 2>"$work/.err"; rc=$?; set -e; out=$(cat "$work/.out"); err=$(cat "$work/.err"); }
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1"; diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") || true; exit 1
  fi
}

cat > show.lua <<'LUA'
print("arg[0]=" .. arg[0], "n=" .. #arg)
for i = 1, #arg do print(i, arg[i]) end
print("...", select("#", ...), ...)
LUA

run "$PERFORMLUA" show.lua a "b c" ""
check "script args: status" 0 "$rc"
check "script args: arg and ..." "$(printf 'arg[0]=show.lua\tn=3\n1\ta\n2\tb c\n3\t\n...\t3\ta\tb c\t')" "$out"

# negative indices hold the interpreter and its options, as in lua.c
run "$PERFORMLUA" -e 'x = 1' show.lua z
check "negative indices" "$(printf 'arg[0]=show.lua\tn=1\n1\tz\n...\t1\tz')" "$out"
printf 'for i = -4, -1 do print(i, arg[i]) end\nprint(arg[-5] == os.getenv("PERFORMLUA"), arg[-6])\n' > neg.lua
run "$PERFORMLUA" -e 'x=1' -W --trace neg.lua
check "arg[-n]" "$(printf -- '-4\t-e\n-3\tx=1\n-2\t-W\n-1\t--trace\ntrue\tnil')" "$out"

# -e runs in order, before the script; -eCODE (attached) works too
run "$PERFORMLUA" -e 'io.write("one ")' -e'io.write("two ")' -e 'print(1 + 1)'
check "-e in order" "one two 2" "$out"
check "-e status" 0 "$rc"

# -l MOD and -l G=MOD
mkdir -p mods && printf 'return { name = "greeter" }\n' > mods/greeter.lua
run env LUA_PATH="$work/mods/?.lua;;" "$PERFORMLUA" -l greeter -e 'print(greeter.name)'
check "-l MOD sets global MOD" "greeter" "$out"
run env LUA_PATH="$work/mods/?.lua;;" "$PERFORMLUA" -l g=greeter -e 'print(g.name, greeter)'
check "-l G=MOD sets global G" "$(printf 'greeter\tnil')" "$out"
run "$PERFORMLUA" -l mc=performlua -e 'print(type(mc.VERSION))'
check "-l mc=performlua" "string" "$out"
run "$PERFORMLUA" -l no_such_module_xyz
check "-l missing module: status" 1 "$rc"
grep -q "^performlua: module 'no_such_module_xyz' not found:" <<<"$err" || { echo "FAIL: -l missing: $err"; exit 1; }

# "-": the script comes from stdin, with arguments
run bash -c "printf 'print(\"stdin\", arg[0], ...)\n' | \"$PERFORMLUA\" - x y"
check "- reads stdin" "$(printf 'stdin\t-\tx\ty')" "$out"

# "--" ends the options: what follows is the script even if it looks like an option
printf 'print("dash script", ...)\n' > ./-e
run "$PERFORMLUA" -- -e -v
check "-- ends options" "$(printf 'dash script\t-v')" "$out"

# no script and stdin not a terminal: stdin runs as a script (like lua -)
run bash -c "printf 'print(6 * 7)\nprint(arg[0] ~= nil)\n' | \"$PERFORMLUA\""
check "stdin as script" "$(printf '42\ntrue')" "$out"
check "stdin as script: status" 0 "$rc"
# ... but not when -e was given (like lua.c)
run bash -c "printf 'print(\"not run\")\n' | \"$PERFORMLUA\" -e 'print(\"only -e\")'"
check "-e suppresses stdin" "only -e" "$out"

# exit statuses
run "$PERFORMLUA" -e 'os.exit(3)'
check "os.exit(3)" 3 "$rc"
run "$PERFORMLUA" -e 'os.exit(false)'
check "os.exit(false)" 1 "$rc"
run "$PERFORMLUA" -e 'error("x")'
check "uncaught error exits 1" 1 "$rc"
run "$PERFORMLUA" does-not-exist.lua
check "missing script: status (a usage error)" 2 "$rc"
check "missing script: message" "performlua: cannot open does-not-exist.lua: No such file or directory" "$err"

# LUA_INIT runs first, as in lua.c; -E ignores it (and LUA_PATH, PERFORMLUA_PATH)
run env LUA_INIT='print("init")' "$PERFORMLUA" -e 'print("main")'
check "LUA_INIT" "$(printf 'init\nmain')" "$out"
run env LUA_INIT='print("init")' "$PERFORMLUA" -E -e 'print("main")'
check "-E ignores LUA_INIT" "main" "$out"
run env LUA_PATH="$work/mods/?.lua;;" "$PERFORMLUA" -E -e 'print(pcall(require, "greeter"))'
grep -q "^false	module 'greeter' not found" <<<"$out" || { echo "FAIL: -E ignores LUA_PATH: $out"; exit 1; }
run env PERFORMLUA_PATH="$work/mods" "$PERFORMLUA" -E -e 'print((pcall(require, "greeter")))'
check "-E ignores PERFORMLUA_PATH" "false" "$out"

# the flags reach Lua as one table, package.loaded["performlua.cli"], not through the
# environment; trace.lua and config.lua read it before PERFORMLUA_TRACE and PERFORMLUA_PROFILE
show_cli='local t = {} for k, v in pairs(package.loaded["performlua.cli"]) do t[#t + 1] = k .. "=" .. tostring(v) end table.sort(t) print(table.concat(t, " "))'
run env -u PERFORMLUA_TRACE -u PERFORMLUA_PROFILE "$PERFORMLUA" --trace --profile staging -i -W -e "$show_cli" -e 'print(os.getenv("PERFORMLUA_TRACE"), os.getenv("PERFORMLUA_PROFILE"))' </dev/null
check "--trace --profile: the table" "$(printf 'interactive=true profile=staging trace=true warnings=true\nnil\tnil')" "$(head -2 <<<"$out")"
run "$PERFORMLUA" --profile=prod -e "$show_cli"
check "--profile=NAME" "profile=prod" "$out"
run "$PERFORMLUA" -e "$show_cli"
check "no flags: an empty table" "" "$out"
run env PERFORMLUA_TRACE=0 "$PERFORMLUA" --trace -e 'print(require("performlua.trace").enabled_by_env())'
check "--trace over PERFORMLUA_TRACE=0" "true" "$out"
run env PERFORMLUA_TRACE=1 "$PERFORMLUA" -e 'print(require("performlua.trace").enabled_by_env())'
check "PERFORMLUA_TRACE without the flag" "true" "$out"
run env -u PERFORMLUA_TRACE "$PERFORMLUA" -e 'print(require("performlua.trace").enabled_by_env())'
check "no trace" "false" "$out"
# --profile over PERFORMLUA_PROFILE: the profile asked for is the flag's (no config file here)
run env PERFORMLUA_PROFILE=from-env XDG_CONFIG_HOME="$work/no-config" "$PERFORMLUA" --profile from-flag -e 'require("performlua").connect()'
grep -q "profile 'from-flag' was asked for (PERFORMLUA_PROFILE / --profile) but $work/no-config/performlua/config.lua does not exist" <<<"$err" \
  || { echo "FAIL: --profile over PERFORMLUA_PROFILE: $err"; exit 1; }
run env PERFORMLUA_PROFILE=from-env XDG_CONFIG_HOME="$work/no-config" "$PERFORMLUA" -e 'require("performlua").connect()'
grep -q "profile 'from-env' was asked for" <<<"$err" || { echo "FAIL: PERFORMLUA_PROFILE: $err"; exit 1; }

# -W turns warnings on
run "$PERFORMLUA" -W -e 'warn("careful")'
check "-W" "Lua warning: careful" "$err"
run "$PERFORMLUA" -e 'warn("careful")'
check "warnings off by default" "" "$err"

echo "cli_args: all passed"
