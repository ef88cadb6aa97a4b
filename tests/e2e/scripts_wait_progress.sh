#!/usr/bin/env bash
# c:wait's progress line: drawn on stderr (carriage-return updated, then cleared) only when
# stderr is a terminal; nothing at all when it is a file or a pipe.
source "$(dirname "$0")/lib/scripts.sh"
: "${PERFORMLUA_TOOLS_DIR:?PERFORMLUA_TOOLS_DIR must name the test tools}"

cat > wait_send.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local r = c:perform("start", mc.EmailSendDefinition{CustomerKey = "welcome-series-send"}):check()
local send = c:wait(r, {interval = 0.1, max_interval = 0.1})
print("status " .. send.Status)
LUA

# a terminal: the line appears while the send runs, and the script's own output follows
"$PERFORMLUA_TOOLS_DIR/ptyrun" -t 20 -o transcript.txt -r raw.txt -- "$PERFORMLUA" --sandbox wait_send.lua <<'STEPS' || { cat transcript.txt; fail "ptyrun"; }
expect waiting for Send
expect status Complete
wait
STEPS
grep -Eq "waiting for Send [0-9]+: (Scheduled|Sending)" transcript.txt || { cat transcript.txt; fail "no progress line"; }
# drawn with carriage returns and cleared (erase to end of line) before the script printed
grep -q $'\r\e\\[K' raw.txt || fail "the progress line was not cleared"
grep -q $'\rwaiting for Send' raw.txt || fail "the progress line does not start with a carriage return"

# a narrow terminal (COLUMNS not exported, as usual): the line, drawn for three waits side by
# side, stays shorter than the terminal is wide, so it never wraps and leaves copies behind
cat > wait_three.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local r = c:perform("start", {mc.EmailSendDefinition{CustomerKey = "welcome-series-send"},
  mc.EmailSendDefinition{CustomerKey = "welcome-series-send"},
  mc.EmailSendDefinition{CustomerKey = "welcome-series-send"}}):check()
local sends = c:wait(r, {interval = 0.1, max_interval = 0.1})
print("statuses " .. sends[1].Status .. " " .. sends[2].Status .. " " .. sends[3].Status)
LUA
(unset COLUMNS; "$PERFORMLUA_TOOLS_DIR/ptyrun" -c 50 -t 20 -o narrow.txt -r narrow_raw.txt -- "$PERFORMLUA" --sandbox wait_three.lua <<'STEPS') || { cat narrow.txt; fail "ptyrun (narrow)"; }
expect waiting for Send
expect statuses Complete Complete Complete
wait
STEPS
# every drawing of the line: what follows a carriage return up to the erase-line sequence
longest=$(tr '\r' '\n' <narrow_raw.txt | grep -a '^waiting for' | sed $'s/\e\\[K.*//' | awk '{ if (length > m) m = length } END { print m + 0 }')
[ "$longest" -gt 0 ] || fail "narrow terminal: no progress line drawn"
[ "$longest" -lt 50 ] || fail "narrow terminal: a progress line of $longest characters in 50 columns"

# not a terminal: nothing on stderr
run "$PERFORMLUA" --sandbox wait_send.lua
expect_status "no terminal" 0
expect_line "no terminal: result" "status Complete"
expect_empty_err "no terminal"
echo "ok"
