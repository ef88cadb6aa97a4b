#!/usr/bin/env bash
# The sandbox from the command line: `performlua sandbox ...` (exit status from
# performlua.sandbox.cli's main) and `--sandbox` (a default account for the script or REPL).
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
unset LUA_INIT LUA_INIT_5_4 COLUMNS
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export HOME="$work" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
run() { set +e; "$@" >"$work/.out" 2>"$work/.err"; rc=$?; set -e; out=$(cat "$work/.out"); err=$(cat "$work/.err"); }
check() {
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1"; diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") || true; exit 1
  fi
}

# the subcommand's exit status is what its main returns
run "$PERFORMLUA" sandbox --no-such-option
check "sandbox bad option: status" 2 "$rc"
check "sandbox bad option: message" "performlua sandbox: unknown option '--no-such-option'" "$(head -1 <<<"$err")"
run "$PERFORMLUA" sandbox --help
check "sandbox --help: status" 0 "$rc"
grep -q '^usage: performlua sandbox ' <<<"$out" || { echo "FAIL: sandbox --help: $out"; exit 1; }
# global options may come first
run "$PERFORMLUA" --trace sandbox --help
check "options before the subcommand" 0 "$rc"
run "$PERFORMLUA" sandbox -h
check "sandbox -h = --help" "$("$PERFORMLUA" sandbox --help)" "$out"

# every flag, in both spellings, reaches the subcommand's main as one table (a stand-in main,
# preloaded by -e, shows what it gets); performlua.cli names the subcommand
cat > show_opts.lua <<'LUA'
package.preload["performlua.sandbox.cli"] = function()
  return {main = function(opts)
    print(require("performlua.sandbox.serial").dump(opts), package.loaded["performlua.cli"].command)
    return 3
  end}
end
LUA
run "$PERFORMLUA" -e 'dofile("show_opts.lua")' sandbox --port 8080 --host=127.0.0.2 --wsdl a.wsdl \
  --seed=s.lua --latency 25 --token-ttl 60 --speed=2.5 --fault throttle:3 --fault=truncate:5
check "sandbox flags: main's status" 3 "$rc"
check "sandbox flags: the table" "$(printf '%s\t%s' 'return {["faults"]={"throttle:3","truncate:5",},["host"]="127.0.0.2",["latency"]=25,["port"]=8080,["seed"]="s.lua",["speed"]=2.5,["token_ttl"]=60,["wsdl"]="a.wsdl",}' sandbox)" "$out"
run "$PERFORMLUA" -e 'dofile("show_opts.lua")' sandbox --latency 0.5 --port 0x10
check "sandbox flags: numbers as Lua reads them, lists always a table" "$(printf '%s\t%s' 'return {["faults"]={},["latency"]=0.5,["port"]=16,}' sandbox)" "$out"

# what is wrong, named; exit 2 with the usage on stderr
usage=$("$PERFORMLUA" sandbox --help)
for case in "--port x|--port needs a whole number of at least 0 (got 'x')" \
            "--port 80.5|--port needs a whole number of at least 0 (got '80.5')" \
            "--port 70000|--port must be at most 65535" \
            "--token-ttl 0|--token-ttl needs a whole number of at least 1 (got '0')" \
            "--latency -5|--latency needs a number of at least 0 (got '-5')" \
            "--speed 0|--speed must be greater than 0" \
            "--speed nan|--speed needs a number of at least 0 (got 'nan')" \
            "--latency|--latency needs a value" \
            "--host=|--host needs a value" \
            "--fault boom:1|--fault: unknown fault kind 'boom' (kinds: throttle, http503, reset-before, reset-after, truncate, expire-token)" \
            "--colour|unknown option '--colour'" \
            "--help=x|unknown option '--help=x'" \
            "extra|unknown option 'extra'" \
            "--|unknown option '--'"; do
  IFS='|' read -r flags message <<<"$case"
  # shellcheck disable=SC2086 # the flags are words
  run "$PERFORMLUA" sandbox $flags
  check "sandbox $flags: status" 2 "$rc"
  check "sandbox $flags: stderr" "$(printf 'performlua sandbox: %s\n%s' "$message" "$usage")" "$err"
  check "sandbox $flags: stdout" "" "$out"
done

# the sandbox runs in the foreground until SIGINT, then exits 0
"$PERFORMLUA" sandbox >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
for _ in $(seq 200); do grep -q '^Stop with Ctrl-C' "$work/serve.out" && break; sleep 0.05; done
grep -qE '^  SOAP URL: +http://127\.0\.0\.1:[0-9]+/Service\.asmx$' "$work/serve.out" \
  || { echo "FAIL: sandbox did not start"; cat "$work/serve.out" "$work/serve.err"; exit 1; }
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
pid=
check "sandbox stops on SIGINT with status 0" 0 "$rc"
grep -q '^performlua sandbox: stopped (SIGINT)' "$work/serve.out" \
  || { echo "FAIL: no stop message"; cat "$work/serve.out"; exit 1; }

# a script file named "sandbox" still runs when written as a path or after --
printf 'print("the file", ...)\n' > sandbox
run "$PERFORMLUA" ./sandbox x
check "./sandbox is a script" "$(printf 'the file\tx')" "$out"
run "$PERFORMLUA" -- sandbox y
check "-- sandbox is a script" "$(printf 'the file\ty')" "$out"

# --sandbox: mc.connect() with no arguments reaches the embedded sandbox
cat > status.lua <<'LUA'
local mc = require "performlua"
local account = require("performlua.config").default_account()
print(account.auth_url:match("^http://127%.0%.0%.1:%d+/$") ~= nil)
local result = mc.connect():system_status()
print(result.Results[1].SystemStatus, ...)
LUA
run "$PERFORMLUA" --sandbox status.lua arg1
check "--sandbox script: status" 0 "$rc"
check "--sandbox script" "$(printf 'true\nOK\targ1')" "$out"
# ... and in the REPL
run bash -c "printf 'mc.connect():system_status().Results[1].SystemStatus\n' | \"$PERFORMLUA\" --sandbox -i"
check "--sandbox REPL" '> "OK"' "$(sed -n 4p <<<"$out")"
grep -qxE 'Sandbox running at http://127\.0\.0\.1:[0-9]+/Service\.asmx: mc\.connect\(\) with no arguments uses it\.' <<<"$out" \
  || { echo "FAIL: --sandbox REPL hint: $out"; exit 1; }
# without it there is no default account
run "$PERFORMLUA" -e 'print(require("performlua.config").default_account())'
check "no default account without --sandbox" "nil" "$out"

echo "cli_sandbox: all passed"
