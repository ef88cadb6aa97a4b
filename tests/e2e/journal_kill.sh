#!/usr/bin/env bash
# Never twice: scripts/clone_count_send.lua killed with SIGKILL at every request boundary
# (before a request leaves, once it is in flight, after its answer), or sent Ctrl-C while its
# send start is in flight, then run again with the same command until it finishes: the
# sandbox (its own process, where the state lives) ends with exactly one copy of the audience
# and one send per finished run. A finished run followed by the same command sends again (the
# next day's job); another command (other arguments) never takes over this one's run. The
# same for start_many.lua (sends and an import) and import_and_wait.lua.
# PERFORMLUA_TEST_STOP_AT=N:WHEN (lua/performlua/transport.lua) kills at the N-th SOAP request.
source "$(dirname "$0")/lib/scripts.sh"
export XDG_STATE_HOME="$work/state" XDG_CACHE_HOME="$work/cache"
start_sandbox

cat > count.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local copies = 0
for _, a in ipairs(c:retrieve("AudienceDefinition", {"Name"}).Results) do
  if tostring(a.Name):find(" copy ", 1, true) then copies = copies + 1 end
end
print(copies .. " " .. #c:retrieve("Send", {"ID"}).Results)
LUA
counts() { run "$PERFORMLUA" count.lua; expect_status "count" 0; echo "$out"; }
CMD=("$PERFORMLUA" "$SCRIPTS/clone_count_send.lua" --yes)

# run_to_end DESC: runs the command again until it finishes (a re-run never needs more than one)
run_to_end() {
  run "${CMD[@]}"
  [ "$rc" = 0 ] || fail "$1: the re-run did not finish"
  grep -Fq "continuing run" <<<"$err" || fail "$1: the re-run did not continue the run"
}

# expect_one_more DESC BEFORE: exactly one more copy and one more send than BEFORE ("copies sends")
expect_one_more() {
  local now want
  now=$(counts)
  want="$(( ${2% *} + 1 )) $(( ${2#* } + 1 ))"
  [ "$now" = "$want" ] || fail "$1: copies and sends '$now', expected '$want' (before: '$2')"
}

# The SOAP requests of one run: 1-3 the look-ups, 4 clone, then the build and its polls, the
# count, the Create of the run's send definition, GetMaxCount, the start and the send's polls
# (a name stops at the first such request).
for n in 1 clone 5 count create getmaxcount start; do
  for when in before inflight after; do
    before=$(counts)
    set +e
    PERFORMLUA_TEST_STOP_AT="$n:$when" "${CMD[@]}" >"$work/.out" 2>"$work/.err" </dev/null
    rc=$?
    set -e
    out=$(cat "$work/.out"); err=$(cat "$work/.err")
    [ "$rc" = 137 ] || fail "$n:$when: not killed (exit status $rc)"
    if [ "$n" = 1 ]; then
      # killed before any step: nothing to continue; the next run is a new one
      run "${CMD[@]}"
      expect_status "$n:$when: the next run" 0
    else
      run_to_end "$n:$when"
    fi
    expect_one_more "SIGKILL at request $n ($when)" "$before"
  done
done

# Ctrl-C while the start is in flight: exit 130 saying the send may have started; the re-run
# finds the send and does not start another
before=$(counts)
set +e
PERFORMLUA_TEST_STOP_AT="start:sigint" "${CMD[@]}" >"$work/.out" 2>"$work/.err" </dev/null
rc=$?
set -e
out=$(cat "$work/.out"); err=$(cat "$work/.err")
[ "$rc" = 130 ] || fail "SIGINT: exit status $rc, expected 130"
grep -Fq "interrupted by Ctrl-C (SIGINT)" <<<"$err" || fail "SIGINT: no message saying so"
run_to_end "SIGINT"
expect_one_more "SIGINT in flight" "$before"
run "$PERFORMLUA" runs
expect_status "runs" 0
expect_match "runs lists the finished run" "finished .*clone_count_send.lua --yes"

# A finished run does not block the next one: the same command again is a new run and sends
before=$(counts)
run "${CMD[@]}"
expect_status "the next day's run" 0
! grep -Fq "continuing run" <<<"$err" || fail "a finished run was continued"
expect_one_more "the next day's run" "$before"

# Another command (other arguments) is another run: killed after its clone, the original
# command's unfinished run is continued only by the original command
before=$(counts)
set +e
PERFORMLUA_TEST_STOP_AT="start:before" "${CMD[@]}" >/dev/null 2>&1 </dev/null
set -e
run "${CMD[@]}" --timeout=600
expect_status "another command" 0
! grep -Fq "continuing run" <<<"$err" || fail "another command continued this one's run"
run_to_end "the original command after another one"
now=$(counts)
[ "$now" = "$(( ${before% *} + 2 )) $(( ${before#* } + 2 ))" ] \
  || fail "two commands: copies and sends '$now' (before: '$before')"

# scripts/start_many.lua with two send definitions (each start its own step, in mc.map): killed
# while a start is in flight or just after an answer, the re-run starts each send exactly once
cat > sends_of.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local out = {}
for _, key in ipairs{"spring-sale-send", "welcome-series-send"} do
  out[#out + 1] = #c:retrieve("Send", {"ID"}, mc.SimpleFilterPart{
    Property = "EmailSendDefinition.CustomerKey", SimpleOperator = "equals", Value = key}).Results
end
print(table.concat(out, " "))
LUA
MANY=("$PERFORMLUA" "$SCRIPTS/start_many.lua" EmailSendDefinition:spring-sale-send
      EmailSendDefinition:welcome-series-send --concurrency=2 --yes)
for stop in 1:inflight 2:after 2:sigint; do
  run "$PERFORMLUA" sends_of.lua; sends_before=$out
  set +e
  PERFORMLUA_TEST_STOP_AT="$stop" "${MANY[@]}" >"$work/.out" 2>"$work/.err" </dev/null
  rc=$?
  set -e
  out=$(cat "$work/.out"); err=$(cat "$work/.err")
  case "$stop" in *sigint) [ "$rc" = 130 ] || fail "start_many $stop: exit status $rc" ;;
                  *) [ "$rc" = 137 ] || fail "start_many $stop: exit status $rc" ;; esac
  run "${MANY[@]}"
  expect_status "start_many after $stop" 0
  grep -Fq "continuing run" <<<"$err" || fail "start_many $stop: the re-run did not continue"
  run "$PERFORMLUA" sends_of.lua
  [ "$out" = "$(( ${sends_before% *} + 1 )) $(( ${sends_before#* } + 1 ))" ] \
    || fail "start_many $stop: sends per definition '$out' (before: '$sends_before')"
done

# an import start in doubt is looked up by its ImportResultsSummary
cat > imports.lua <<'LUA'
local mc = require "performlua"
print(#mc.connect():retrieve("ImportResultsSummary", {"TaskResultID"}, mc.SimpleFilterPart{
  Property = "ImportDefinitionCustomerKey", SimpleOperator = "equals",
  Value = "daily-subscriber-import"}).Results)
LUA
IMPORT=("$PERFORMLUA" "$SCRIPTS/start_many.lua" ImportDefinition:daily-subscriber-import)
for stop in 1:inflight 1:after; do
  run "$PERFORMLUA" imports.lua; imports_before=$out
  set +e
  PERFORMLUA_TEST_STOP_AT="$stop" "${IMPORT[@]}" >/dev/null 2>&1 </dev/null
  set -e
  run "${IMPORT[@]}"
  expect_status "import after $stop" 0
  grep -Fq "continuing run" <<<"$err" || fail "import $stop: the re-run did not continue"
  run "$PERFORMLUA" imports.lua
  [ "$out" = "$(( imports_before + 1 ))" ] || fail "import $stop: $out imports (before: $imports_before)"
done

# scripts/import_and_wait.lua: its start is a step too; the re-run follows the import the
# killed run started instead of starting another
WAIT_IMPORT=("$PERFORMLUA" "$SCRIPTS/import_and_wait.lua" daily-subscriber-import --yes)
for stop in start:inflight start:after; do
  run "$PERFORMLUA" imports.lua; imports_before=$out
  set +e
  PERFORMLUA_TEST_STOP_AT="$stop" "${WAIT_IMPORT[@]}" >/dev/null 2>&1 </dev/null
  rc=$?
  set -e
  [ "$rc" = 137 ] || fail "import_and_wait $stop: not killed (exit status $rc)"
  run "${WAIT_IMPORT[@]}"
  expect_status "import_and_wait after $stop" 0
  grep -Fq "continuing run" <<<"$err" || fail "import_and_wait $stop: the re-run did not continue"
  run "$PERFORMLUA" imports.lua
  [ "$out" = "$(( imports_before + 1 ))" ] \
    || fail "import_and_wait $stop: $out imports (before: $imports_before)"
done

# runs show / forget
id=$("$PERFORMLUA" runs | grep -F 'clone_count_send.lua --yes' | head -n1 | awk '{print $1}')
run "$PERFORMLUA" runs show "$id"
expect_status "runs show" 0
expect_match "a step" "^  step 'start the send': done$"
expect_match "its call" "^    Perform start EmailSendDefinition 'spring-sale-send[^']*' .*correlation id [0-9a-f-]{36}\): (ok|done)"
run "$PERFORMLUA" runs forget "$id"
expect_status "runs forget" 0
run "$PERFORMLUA" runs show "$id"
expect_status "a forgotten run" 1
run "$PERFORMLUA" runs show nope
expect_status "runs show without an id" 2
echo "journal_kill: all passed"
