#!/usr/bin/env bash
# The REPL through a real pseudo-terminal (tests/tools/ptyrun.c): libedit line editing, the
# `return <line>` rule, continuation lines, pretty-printed results, `mc`, Ctrl-C, history
# kept across sessions, Ctrl-D.
source "$(dirname "$0")/lib/pty.sh"
has_line() { grep -qxF -- "$1" "$work/transcript" || fail "no line '$1'"; }
has_line_re() { grep -qxE -- "$1" "$work/transcript" || fail "no line matching '$1'"; }
# session: runs performlua in a terminal with the steps on stdin; sets $rc
session() {
  set +e
  "$ptyrun" -t 20 -o "$work/transcript" -- "$PERFORMLUA" "$@" 2>"$work/ptyrun.err"
  rc=$?
  set -e
  if [ "$rc" = 124 ]; then cat "$work/ptyrun.err"; exit 1; fi
}

# Every step that sends a control key first waits for the prompt: the terminal is only in
# line-editing mode while libedit reads.
session <<'STEPS'
prompt > 
send 6*7\r
expect 42
prompt > 
send =1+1\r
expect 2
prompt > 
send "café" .. #"é"\r
expect "café2"
prompt > 
send {1, 2, {a = 1, b = {c = "x\\n"}}, name = "n", [10] = true}\r
expect }
prompt > 
send {name = ("a"):rep(40), list = {1, 2, 3}, nested = {deep = {deeper = true}, text = ("b"):rep(30)}}\r
expect \n}
prompt > 
send type(mc), type(mc.VERSION), mc.pretty({x = 1})\r
expect "string"
prompt > 
send type(mc.EmailSendDef\t
sleep 200
send ), string.for\t
sleep 200
send ("%d", 7)\r
expect "7"
prompt > 
send for i = 1, 2 do\r
prompt >> 
send print(i * 10)\r
prompt >> 
send end\r
expect 20
prompt > 
send local t = {\r
prompt >> 
send \x03
prompt > 
send error("oops")\r
expect in ?
prompt > 
send nil, false, "s"\r
expect "s"
prompt > 
send while true do end\r
sleep 300
send \x03
expect interrupted by Ctrl-C (SIGINT)
prompt > 
send half typed\x03
prompt > 
send 6*8\r
expect 48
prompt > 
send \x04
STEPS
[ "$rc" = 0 ] || fail "Ctrl-D should exit 0, got $rc"

# the banner: versions, then a one-line hint
grep -qE '^performlua [0-9.]+ \(Lua 5\.4\.[0-9]+, libcurl [0-9.]+, libxml2 [0-9.]+\)$' \
  "$work/transcript" || fail "banner"
grep -qF 'mc.types()' "$work/transcript" || fail "hint mentions mc.types()"
grep -qF -- '--sandbox' "$work/transcript" || fail "hint mentions --sandbox"
# return <line>, =expr
has_line '> 6*7'
has_line '42'
has_line '2'
# non-ASCII input survives line editing, even in the C locale
has_line '"café2"'
# nested tables as Lua, never table: 0x...
has_line '{1, 2, {a = 1, b = {c = "x\n"}}, name = "n", [10] = true}'
grep -q 'table: 0x' "$work/transcript" && fail "a table printed as an address"
# long values laid out over lines
expected_long=$(cat <<'OUT'
{
  list = {1, 2, 3},
  name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  nested = {deep = {deeper = true}, text = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
}
OUT
)
grep -qzF -- "$expected_long" "$work/transcript" || fail "multi-line layout"
# mc is preloaded; results of one line shown together
has_line '"table", "string", "{x = 1}"'
# Tab completes names, mc's constructors included
has_line '> type(mc.EmailSendDefinition), string.format("%d", 7)'
has_line '"function", "7"'
# continuation lines
has_line '>> print(i * 10)'
has_line '10'
has_line '20'
# Ctrl-C at a continuation prompt drops the whole statement: the next line is fresh
# errors in the REPL: no program name, traceback, and the session goes on
has_line 'stdin:1: oops'
has_line 'nil, false, "s"'
# Ctrl-C stops the running line, not the REPL
# (the terminal itself echoes ^C when echoctl is on)
has_line_re '(\^C)?interrupted by Ctrl-C \(SIGINT\)'
has_line '48'

# history: lines are kept across sessions in $XDG_STATE_HOME/performlua/history
session <<'STEPS'
prompt > 
send "hist"..6*9\r
expect "hist54"
prompt > 
send secret_thing = 1\r
prompt > 
send \x04
STEPS
[ "$rc" = 0 ] || fail "second session exit status $rc"
history="$XDG_STATE_HOME/performlua/history"
[ -f "$history" ] || fail "no history file at $history"
grep -qxF '"hist"..6*9' "$history" || fail "history file lacks the line: $(cat "$history")"
grep -q secret_thing "$history" && fail "a line naming a secret was saved to the history file"
[ "$(stat -c %a "$history")" = 600 ] || fail "history file mode $(stat -c %a "$history")"

# a new session recalls it with Ctrl-P (previous history line)
session <<'STEPS'
prompt > 
send \x10
sleep 100
send \r
expect "hist54"
prompt > 
send \x04
STEPS
[ "$rc" = 0 ] || fail "third session exit status $rc"
has_line '"hist54"'

# a history that cannot be written is not fatal
rm -rf "$XDG_STATE_HOME"
printf 'not a directory' > "$XDG_STATE_HOME"
session <<'STEPS'
prompt > 
send 1+1\r
expect 2
prompt > 
send \x04
STEPS
[ "$rc" = 0 ] || fail "REPL without a writable history exits $rc"
has_line '2'

# -i: the REPL after a script, which sees the script's globals
printf 'greeting = "hello from the script"\n' > "$work/setup.lua"
export XDG_STATE_HOME="$work/state2"
session -i "$work/setup.lua" <<'STEPS'
prompt > 
send greeting\r
expect "hello from the script"
prompt > 
send \x04
STEPS
[ "$rc" = 0 ] || fail "-i exit status $rc"
has_line '"hello from the script"'

echo "repl_pty: all passed"
