#!/usr/bin/env bash
# Uncaught errors: message and stack traceback on stderr, exit status 1; error tables through
# their __tostring.
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
unset LUA_INIT LUA_INIT_5_4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
run() { set +e; "$@" >"$work/.out" 2>"$work/.err"; rc=$?; set -e; out=$(cat "$work/.out"); err=$(cat "$work/.err"); }
check() {
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1"; diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") || true; exit 1
  fi
}

cat > boom.lua <<'LUA'
print("before")
local function inner(x)
  error("boom: " .. x)
end
local function outer() inner("deep") end
outer()
print("never")
LUA
run "$PERFORMLUA" boom.lua
check "error: status" 1 "$rc"
check "error: stdout up to the error" "before" "$out"
check "error: message and traceback" "$(printf '%s\n' \
  'performlua: boom.lua:3: boom: deep' \
  'stack traceback:' \
  "	[C]: in function 'error'" \
  "	boom.lua:3: in upvalue 'inner'" \
  "	boom.lua:5: in local 'outer'" \
  '	boom.lua:6: in main chunk' \
  '	[C]: in ?')" "$err"

# an error of performlua's own start-up, before any user code ran, has no frame to show: the
# message alone (a traceback of anonymous C frames only looked like a crash)
run "$PERFORMLUA" --sandbox --state "$work/no-such-dir/account.db" -e 'print("ran")'
check "sandbox start error: status" 1 "$rc"
check "sandbox start error: the message alone" \
  "performlua: sandbox error: the sandbox could not start: cannot open $work/no-such-dir/account.db: unable to open database file (the directory $work/no-such-dir does not exist)" \
  "$err"
check "sandbox start error: the script did not run" "" "$out"

# performlua error tables print through their __tostring, with the traceback
cat > fault.lua <<'LUA'
local core = require "performlua.core"
local function call_service()
  error(core.error_new{ kind = "fault", message = "Server.Throttled", code = 17,
                        request_id = "r-1", retryable = true })
end
call_service()
LUA
run "$PERFORMLUA" fault.lua
check "error table: status" 1 "$rc"
check "error table: message and traceback" "$(printf '%s\n' \
  'performlua: fault error: Server.Throttled [code 17, request r-1]' \
  'stack traceback:' \
  "	[C]: in function 'error'" \
  "	fault.lua:3: in local 'call_service'" \
  '	fault.lua:6: in main chunk' \
  '	[C]: in ?')" "$err"

# any table with __tostring; and tables without one say what they are
run "$PERFORMLUA" -e 'error(setmetatable({}, {__tostring = function() return "custom text" end}))'
check "__tostring error" "performlua: custom text" "$(head -1 <<<"$err")"
run "$PERFORMLUA" -e 'error({code = 1})'
check "table error without __tostring" "performlua: (error object is a table value)" "$(head -1 <<<"$err")"
check "table error: traceback follows" "stack traceback:" "$(sed -n 2p <<<"$err")"
run "$PERFORMLUA" -e 'error()'
check "nil error" "performlua: (error object is a nil value)" "$(head -1 <<<"$err")"

# syntax errors: no traceback (nothing ran), exit 1
printf 'local x = = 1\n' > bad.lua
run "$PERFORMLUA" bad.lua
check "syntax error" "performlua: bad.lua:1: unexpected symbol near '='" "$err"
check "syntax error: status" 1 "$rc"

# an error in -e stops everything after it
run "$PERFORMLUA" -e 'error("first", 0)' -e 'print("second")'
check "-e error stops" "" "$out"
check "-e error message" "performlua: first" "$(head -1 <<<"$err")"

# an error in the middle of stdin-as-script
run bash -c "printf 'print(1)\nerror(\"two\")\n' | \"$PERFORMLUA\""
check "stdin script error" "performlua: stdin:2: two" "$(head -1 <<<"$err")"
check "stdin script error: status" 1 "$rc"

# Ctrl-C (SIGINT) and SIGTERM stop a running script with one line saying so (no traceback, no
# internal text), exit 130 and 143 as a shell reports a process the signal ended
for sig in INT TERM; do
  rm -f "$work/.out" # a start-up is seen in this process's own output, not the last one's
  "$PERFORMLUA" -e 'io.write("started\n"); io.stdout:flush(); while true do end' >"$work/.out" 2>"$work/.err" &
  pid=$!
  # Wait until the script runs (its handler is installed by then): under ASan on a busy machine
  # start-up can take seconds, and a signal sent earlier kills the process the default way.
  for _ in $(seq 600); do [ -s "$work/.out" ] && break; sleep 0.05; done
  [ -s "$work/.out" ] || { kill -KILL "$pid"; echo "FAIL: the SIG$sig script never started"; exit 1; }
  kill -"$sig" "$pid"
  set +e; wait "$pid"; rc=$?; set -e
  if [ "$sig" = INT ]; then
    check "SIGINT: status" 130 "$rc"
    check "SIGINT: message" "performlua: interrupted by Ctrl-C (SIGINT)" "$(cat "$work/.err")"
  else
    check "SIGTERM: status" 143 "$rc"
    check "SIGTERM: message" "performlua: stopped by SIGTERM" "$(cat "$work/.err")"
  fi
done

# the script's own pcall cannot swallow the interruption and carry on
rm -f "$work/.out"
"$PERFORMLUA" -e 'io.write("started\n"); io.stdout:flush()
  local ok = pcall(function() while true do end end)
  io.write("carried on\n")' >"$work/.out" 2>"$work/.err" &
pid=$!
for _ in $(seq 600); do [ -s "$work/.out" ] && break; sleep 0.05; done
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
check "SIGINT in pcall: status" 130 "$rc"
check "SIGINT in pcall: not carried on" "started" "$(cat "$work/.out")"
check "SIGINT in pcall: message" "performlua: interrupted by Ctrl-C (SIGINT)" "$(cat "$work/.err")"

# In the REPL, Ctrl-C stops the line; SIGTERM ends the session too, with 143
mkfifo "$work/repl-in"
rm -f "$work/.out"
"$PERFORMLUA" -i <"$work/repl-in" >"$work/.out" 2>"$work/.err" &
pid=$!
exec 3>"$work/repl-in"
echo 'io.write("looping\n") io.stdout:flush() while true do end' >&3
for _ in $(seq 600); do grep -q looping "$work/.out" 2>/dev/null && break; sleep 0.05; done
kill -TERM "$pid"
echo 'print("after the signal")' >&3
exec 3>&-
set +e; wait "$pid"; rc=$?; set -e
check "SIGTERM in the REPL: status" 143 "$rc"
! grep -q "after the signal" "$work/.out" || { echo "FAIL: the REPL went on after SIGTERM"; exit 1; }

echo "cli_errors: all passed"
