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

# not a terminal: nothing on stderr
run "$PERFORMLUA" --sandbox wait_send.lua
expect_status "no terminal" 0
expect_line "no terminal: result" "status Complete"
expect_empty_err "no terminal"
echo "ok"
