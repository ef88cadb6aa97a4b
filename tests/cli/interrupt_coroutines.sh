#!/usr/bin/env bash
# Ctrl-C stops a line that loops inside a coroutine (coroutine.wrap, coroutine.resume, the
# event loop's tasks), not only one looping on the main thread: in the REPL through a
# pseudo-terminal, and in a script sent SIGINT. The tasks an interrupted line leaves in the
# event loop are cancelled, not resumed by the next line. coroutine.resume/wrap keep plain Lua's
# results and messages.
source "$(dirname "$0")/lib/pty.sh"

set +e
"$ptyrun" -t 20 -o "$work/transcript" -- "$PERFORMLUA" 2>"$work/ptyrun.err" <<'STEPS'
prompt > 
send coroutine.wrap(function() while true do end end)()\r
sleep 300
send \x03
expect interrupted by Ctrl-C
prompt > 
send "after wrap"\r
expect "after wrap"
prompt > 
send while true do coroutine.resume(coroutine.create(function() while true do end end)) end\r
sleep 300
send \x03
expect interrupted by Ctrl-C
prompt > 
send "after resume"\r
expect "after resume"
prompt > 
send mc.parallel(function() while true do end end)\r
sleep 300
send \x03
expect interrupted by Ctrl-C
prompt > 
send t = {} mc.map({1, 2, 3}, function(i) mc.sleep(1) t[#t + 1] = i end, {concurrency = 1})\r
sleep 300
send \x03
expect interrupted by Ctrl-C
prompt > 
send mc.sleep(1.5) return "finished after Ctrl-C: " .. #t\r
expect "finished after Ctrl-C: 0"
prompt > 
send 6*8\r
expect 48
prompt > 
send \x04
STEPS
rc=$?
set -e
[ "$rc" = 124 ] && { cat "$work/ptyrun.err"; fail "the REPL stopped answering"; }
[ "$rc" = 0 ] || fail "the REPL exited $rc (a Ctrl-C killed it?)"
grep -qxF '"after wrap"' "$work/transcript" || fail "no line after the wrap loop"
grep -qxF '"after resume"' "$work/transcript" || fail "no line after the resume loop"
grep -qxF '48' "$work/transcript" || fail "no line after the task loop"
grep -qxF '"finished after Ctrl-C: 0"' "$work/transcript" \
  || fail "tasks of an interrupted mc.map carried on in the next line"

# A script: SIGINT while a coroutine loops ends it with one line saying so, exit 130.
cat > "$work/spin.lua" <<'LUA'
io.stdout:write("spinning\n"); io.stdout:flush()
coroutine.wrap(function() while true do end end)()
LUA
"$PERFORMLUA" "$work/spin.lua" >"$work/out" 2>"$work/err" &
pid=$!
# up to 30 s: under ASan on a busy machine start-up is slow, and an early signal kills the
# process before its handler is installed
for _ in $(seq 600); do grep -q spinning "$work/out" && break; sleep 0.05; done
grep -q spinning "$work/out" || { kill -KILL "$pid"; fail "the spinning script never started"; }
sleep 0.2
kill -INT "$pid"
set +e
for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fail "the script ignored SIGINT"; fi
wait "$pid"; rc=$?
set -e
[ "$rc" = 130 ] || { cat "$work/err"; fail "the interrupted script exited $rc, expected 130"; }
[ "$(cat "$work/err")" = "performlua: interrupted by Ctrl-C (SIGINT)" ] \
  || { cat "$work/err"; fail "not the one-line interruption message on stderr"; }

# The replacements behave as Lua's own coroutine.resume and coroutine.wrap.
cat > "$work/same.lua" <<'LUA'
local co = coroutine.create(function(a, b) local c = coroutine.yield(a + b, "y"); error("E" .. c) end)
print(coroutine.resume(co, 1, 2))
print(coroutine.resume(co, "z"))
print(coroutine.resume(co))
print(pcall(coroutine.resume, 5))
print(pcall(coroutine.wrap, 1))
local w = coroutine.wrap(function(...) local x = coroutine.yield(...); error({tbl = x}) end)
print(w(1, nil, 3))
local ok, e = pcall(w, "q"); print(ok, type(e), e.tbl)
print(pcall(w))
print(pcall(coroutine.wrap(function() error("msg") end)))
for x in coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end) do io.write(x, " ") end
print()
print(coroutine.resume(coroutine.running()))
local function nest(n) if n == 0 then return "bottom" end return coroutine.wrap(nest)(n - 1) end
print(pcall(nest, 150))
local closed = {}
local t = coroutine.wrap(function()
  local guard <close> = setmetatable({}, {__close = function() closed[#closed + 1] = "closed" end})
  error("with tbc")
end)
local ok2, err2 = pcall(t); print(ok2, err2, closed[1])
LUA
cat > "$work/expected" <<'OUT'
true	3	y
false	same.lua:1: Ez
false	cannot resume dead coroutine
false	bad argument #1 to 'coroutine.resume' (thread expected, got number)
false	bad argument #1 to 'coroutine.wrap' (function expected, got number)
1	nil	3
false	table	q
false	cannot resume dead coroutine
false	same.lua:11: msg
1 2 3 
false	cannot resume non-suspended coroutine
true	bottom
false	same.lua:20: with tbc	closed
OUT
(cd "$work" && "$PERFORMLUA" same.lua >"$work/got" 2>&1) || { cat "$work/got"; fail "same.lua failed"; }
diff -u "$work/expected" "$work/got" || fail "coroutine.resume/wrap differ from Lua's"

echo "interrupt_coroutines: all passed"
