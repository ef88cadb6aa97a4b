#!/usr/bin/env bash
# SIGINT and SIGTERM while a Perform start is in flight (a separate sandbox answers after 4 s):
# the run stops with one line saying the send may have started, with the correlation id to
# quote; exit 130 / 143; the script's own pcall cannot swallow the interruption and carry on.
source "$(dirname "$0")/lib/scripts.sh"
export XDG_STATE_HOME="$work/state" XDG_CACHE_HOME="$work/cache"
start_sandbox --latency 4000

cat > send.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
c:retrieve("Account", {"ID"}) -- the token first
print("sending"); io.stdout:flush()
local ok, err = pcall(c.perform, c, "start", mc.EmailSendDefinition{CustomerKey = "spring-sale-send"})
print("carried on", ok, err)
c:perform("start", mc.EmailSendDefinition{CustomerKey = "welcome-series-send"})
print("sent another")
LUA

for sig in INT TERM; do
  rm -f "$work/.out" # wait for this process's own output, not the last one's
  "$PERFORMLUA" send.lua >"$work/.out" 2>"$work/.err" </dev/null &
  pid=$!
  for _ in $(seq 600); do grep -q sending "$work/.out" && break; sleep 0.05; done
  grep -q sending "$work/.out" || { kill -KILL "$pid"; rc=; out=$(cat "$work/.out"); err=$(cat "$work/.err"); fail "SIG$sig: the script never got to its send"; }
  sleep 1.5 # the request is on its way: the sandbox holds its answer for 4 s
  kill -"$sig" "$pid"
  set +e; wait "$pid"; rc=$?; set -e
  out=$(cat "$work/.out"); err=$(cat "$work/.err")
  if [ "$sig" = INT ]; then expect_status "SIGINT" 130; what="interrupted by Ctrl-C \\(SIGINT\\)"
  else expect_status "SIGTERM" 143; what="stopped by SIGTERM"; fi
  expect_no_match "SIG$sig: pcall swallowed it" "carried on|sent another"
  [ "$(wc -l <<<"$err")" = 1 ] || fail "SIG$sig: stderr is not one line"
  grep -Eq "^performlua: Perform $what after its request was sent: the service may have done it \(correlation id [0-9a-f-]{36}\); check what it changed before running this again$" <<<"$err" \
    || fail "SIG$sig: message"
  ! grep -Eq 'interrupted!|\.lua|traceback' <<<"$err" || fail "SIG$sig: internal text"
done

# the sandbox's side: the two interrupted starts arrived (the answer was lost, not the send),
# and nothing after them was sent
sleep 3
cat > count.lua <<'LUA'
local mc = require "performlua"
print(#mc.connect():retrieve("Send", {"ID"}).Results)
LUA
run "$PERFORMLUA" count.lua
expect_status "count" 0
[ "$out" = 4 ] || fail "sends on the sandbox: $out, expected the seed's 2 and the 2 interrupted"
echo "interrupt_perform: all passed"
