#!/usr/bin/env bash
# `performlua sandbox --state FILE` keeps the work in flight and the clock across a restart: a
# send still running (stopped with SIGTERM, or killed with SIGKILL while it runs) completes after
# the restart, and c:wait on it returns the counts a sandbox never stopped gives; a schedule's
# occurrence that fell due while the sandbox was down fires once at start-up (and never again
# on a later restart), and its next Send can still be canceled; a queued Create and a queued
# Perform are processed after the restart and their results are retrievable by ConversationID.
# Nothing here is timed: the clock runs at speed 0.001 (all but frozen) while work must wait,
# and a sleep only makes sure the downtime is long enough for an occurrence to fall due.
source "$(dirname "$0")/lib/sandbox_process.sh"

cat > start_send.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local r = c:perform("start", mc.EmailSendDefinition{CustomerKey = "welcome-series-send"})
print(r.Results[1].Task.ID)
LUA
cat > status.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local r = c:retrieve("Send", {"ID", "Status"},
  mc.SimpleFilterPart{Property = "ID", SimpleOperator = "equals", Value = arg[1]})
print(r.Results[1].Status)
LUA
# waits for the send and prints what it ended with: status, counts, its SentEvents
cat > wait_send.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
c:wait(arg[1], "send", {timeout = 120, interval = 0.05, progress = false})
local s = c:retrieve("Send", {"ID", "Status", "NumberTargeted", "NumberExcluded", "NumberSent",
  "NumberDelivered"}, mc.SimpleFilterPart{Property = "ID", SimpleOperator = "equals", Value = arg[1]}).Results[1]
local events = c:retrieve_all("SentEvent", {"SendID", "SubscriberKey"},
  mc.SimpleFilterPart{Property = "SendID", SimpleOperator = "equals", Value = arg[1]})
print(s.Status, s.NumberTargeted, s.NumberExcluded, s.NumberSent, s.NumberDelivered, #events)
LUA

# --- what a send gives when its sandbox never stops
start --speed 1000
id=$(run start_send.lua)
expected=$(run wait_send.lua "$id")
stop
case "$expected" in Complete*) ;; *) fail "the reference send: $expected" ;; esac

# --- a send running when the sandbox stops (SIGTERM), then SIGKILL: it completes after the restart
for sig in TERM KILL; do
  rm -f "$work/send.db"*
  start --state "$work/send.db" --speed 0.001
  id=$(run start_send.lua)
  before=$(run status.lua "$id")
  [ "$before" != Complete ] || fail "the send completed before the restart ($sig)"
  stop "$sig"
  start --state "$work/send.db" --speed 1000
  got=$(run wait_send.lua "$id") || fail "c:wait after the restart ($sig)" serve.err
  [ "$got" = "$expected" ] || fail "after SIGTERM, the send ended as '$got', not '$expected' ($sig)"
  stop
done

# --- a schedule: its first occurrence falls due while the sandbox is stopped
cat > schedule.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
-- the sandbox clock's now, as the account stamps a new object
local list = c:create(mc.List{ListName = "clock probe", CustomerKey = "clock-probe"})
local now = c:retrieve("List", {"CreatedDate"}, mc.SimpleFilterPart{Property = "CustomerKey",
  SimpleOperator = "equals", Value = "clock-probe"}).Results[1].CreatedDate
-- due 1 to 2 seconds of clock later: the clock, all but frozen, reaches it only in the downtime
local t = math.floor(require("performlua.sandbox.clock").parse(now)) + 2
local r = c:schedule("start", mc.ScheduleDefinition{Name = "daily", StartDateTime =
  os.date("!%Y-%m-%dT%H:%M:%SZ", t), RecurrenceType = "Daily",
  Recurrence = mc.DailyRecurrence{DailyRecurrencePatternType = "Interval", DayInterval = 1},
  RecurrenceRangeType = "EndAfter", Occurrences = 3},
  mc.EmailSendDefinition{CustomerKey = "welcome-series-send"})
assert(r.Results[1].StatusCode == "OK", r.Results[1].StatusMessage)
print(r.Results[1].Task.ID)
LUA
# the schedule's Sends: how many went out (not Scheduled), and the ID of the one waiting
cat > sends.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local out, waiting = 0, {}
for _, s in ipairs(c:retrieve_all("Send", {"ID", "Status", "SendDate"})) do
  if s.Status == "Scheduled" then waiting[#waiting + 1] = s.ID
  elseif s.Status ~= "Canceled" then out = out + 1 end
end
print(out, table.concat(waiting, ","))
LUA
cat > cancel.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local r = c:perform("cancel", mc.Send{ID = tonumber(arg[1])})
print(r.Results[1].StatusCode)
LUA
start --state "$work/schedule.db" --speed 0.001
base=$(run sends.lua | cut -f1)
first=$(run schedule.lua)
[ "$(run sends.lua)" = "$(printf '%s\t%s' "$base" "$first")" ] || fail "one Send waits for the first occurrence" serve.err
stop
sleep 2.5 # the occurrence falls due (the downtime passes on the clock at real time)
start --state "$work/schedule.db" --speed 0.001
got=$(run sends.lua)
[ "$(echo "$got" | cut -f1)" = $((base + 1)) ] || fail "the occurrence due in the downtime went out once at start-up: $got" serve.err
next=$(echo "$got" | cut -f2)
[ -n "$next" ] && [ "$next" != "$first" ] || fail "the next occurrence's Send waits: $got"
stop KILL
start --state "$work/schedule.db" --speed 0.001
[ "$(run sends.lua)" = "$got" ] || fail "a second restart fired the occurrence again: $(run sends.lua)"
[ "$(run cancel.lua "$next")" = OK ] || fail "the waiting Send is canceled after the restart"
stop
start --state "$work/schedule.db" --speed 1000
sleep 0.2 # at speed 1000 that is more than two days of clock: no occurrence after the cancel
[ "$(run sends.lua)" = "$(printf '%s\t' $((base + 1)))" ] || fail "a canceled schedule sent: $(run sends.lua)"
stop

# --- queued (asynchronous) requests: processed after the restart, their results retrievable
cat > queue.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local r = c:create({mc.List{ListName = "queued list", CustomerKey = "queued-list"}},
  {RequestType = "Asynchronous", ConversationID = "conv-create"})
assert(r.Results[1].StatusMessage == "Queued", r.Results[1].StatusMessage)
r = c:perform("start", mc.EmailSendDefinition{CustomerKey = "welcome-series-send"},
  {RequestType = "Asynchronous", ConversationID = "conv-start"})
assert(r.Results[1].ConversationID == "conv-start")
LUA
cat > results.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local function by(v) return mc.SimpleFilterPart{Property = "ConversationID", SimpleOperator = "equals", Value = v} end
local out = {}
for _, conv in ipairs{"conv-create", "conv-start"} do
  local m = c:retrieve("ResultMessage", {"ConversationID", "OverallStatusCode", "ResultDetailXML"}, by(conv)).Results
  local items = c:retrieve("ResultItem", {"ConversationID", "StatusCode"}, by(conv)).Results
  out[#out + 1] = string.format("%s %d %s %d %s", conv, #m, m[1] and m[1].OverallStatusCode or "-",
    #items, items[1] and items[1].StatusCode or "-")
  if conv == "conv-start" and m[1] then
    out[#out + 1] = "send " .. tostring((m[1].ResultDetailXML or ""):match("<ID>(%d+)</ID>") ~= nil)
  end
end
local lists = c:retrieve("List", {"ListName"}, mc.SimpleFilterPart{Property = "CustomerKey",
  SimpleOperator = "equals", Value = "queued-list"}).Results
out[#out + 1] = "lists " .. #lists
print(table.concat(out, "; "))
LUA
start --state "$work/queue.db" --speed 0.001
run queue.lua || fail "queueing" serve.err
[ "$(run results.lua)" = "conv-create 0 - 0 -; conv-start 0 - 0 -; lists 0" ] \
  || fail "the queued requests waited: $(run results.lua)"
stop KILL
sleep 0.5 # past the queue delay (0.2 s of clock)
start --state "$work/queue.db" --speed 0.001
want="conv-create 1 OK 1 OK; conv-start 1 OK 1 OK; send true; lists 1"
[ "$(run results.lua)" = "$want" ] || fail "after the restart: $(run results.lua)" serve.err
stop
start --state "$work/queue.db" --speed 0.001
[ "$(run results.lua)" = "$want" ] || fail "a second restart: $(run results.lua)" serve.err
stop

# --- performlua --sandbox --state FILE: the embedded sandbox keeps the account and the send
# started by one run for the next
cat > mark.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
assert(c:create(mc.List{ListName = "from run 1", CustomerKey = "run-1"}).ok)
LUA
cat > lists.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
print(#c:retrieve("List", {"ListName"}, mc.SimpleFilterPart{Property = "CustomerKey",
  SimpleOperator = "equals", Value = "run-1"}).Results)
LUA
"$PERFORMLUA" --sandbox --state "$work/embedded.db" mark.lua || fail "run 1"
id=$("$PERFORMLUA" --sandbox --state "$work/embedded.db" start_send.lua) || fail "run 2"
[ "$("$PERFORMLUA" --sandbox --state "$work/embedded.db" lists.lua)" = 1 ] || fail "run 3 sees run 1's List"
got=$("$PERFORMLUA" --sandbox --state "$work/embedded.db" wait_send.lua "$id") || fail "run 4 waits"
[ "$got" = "$expected" ] || fail "the send of run 2 ended as '$got', not '$expected'"
[ "$("$PERFORMLUA" --sandbox lists.lua)" = 0 ] || fail "without --state the account is fresh"
# --state alone would do nothing: a usage error
set +e
"$PERFORMLUA" --state "$work/embedded.db" lists.lua >alone.out 2>alone.err
rc=$?
set -e
[ "$rc" = 2 ] || fail "--state without --sandbox exits 2 (got $rc)" alone.out alone.err
grep -q "^performlua: --state FILE keeps the embedded sandbox's account: give --sandbox too" alone.err \
  || fail "the usage error" alone.err
echo ok
