#!/usr/bin/env bash
# The example scripts against a sandbox that misbehaves (performlua sandbox --fault, --latency,
# a slow clock): a start whose answer is lost is never sent again and the script says so in
# words; a throttled start is retried and done once; a wait that runs out says the work goes
# on; a slow sandbox only makes things slower.
source "$(dirname "$0")/lib/scripts.sh"

stop_sandbox() {
  kill "$sandbox_pid" 2>/dev/null || true
  wait "$sandbox_pid" 2>/dev/null || true
  sandbox_pid=
}

# start_request SCRIPT ARGS...: the number of the Perform request (counted from 1, as --fault
# KIND:Perform:N counts) that carries <Action>start</Action> when SCRIPT runs against a
# well-behaved sandbox. Performs, not all requests: how many Retrieves a wait makes before the
# start depends on timing (the fault once fell on a poll after the start when the copy's build
# was found done at the first look).
start_request() {
  "$PERFORMLUA" --trace --sandbox "$@" 2>&1 >/dev/null </dev/null | awk '
    /trace: Perform request POST .*Service\.asmx/ { n++ }
    /<Action>start<\/Action>/ && !found { found = n }
    END { print found }'   # reads to the end: exiting early would fail the pipeline (pipefail)
}

# sends.lua: the IDs of every Send in the account, one a line. The seed's count comes from an
# embedded sandbox: asking the faulty one would move its request count (--fault counts them all).
cat > sends.lua <<'LUA'
local mc = require "performlua"
for s in mc.connect():each("Send", {"ID"}) do print(s.ID) end
LUA
run "$PERFORMLUA" --sandbox sends.lua
expect_status "the seed's sends" 0
before=$(wc -l <<<"$out")

# run_with_fault KIND SCRIPT: SCRIPT --yes against a sandbox (left running for checks) whose
# answer to the script's start request gets the fault KIND
run_with_fault() {
  local n
  n=$(start_request "$2")
  [[ "$n" =~ ^[0-9]+$ ]] || fail "no start request of $(basename "$2") in the trace ($n)"
  start_sandbox --speed 50 --fault "$1:Perform:$n"
  run "$PERFORMLUA" "$2" --yes
}

# expect_sends_started DESC N: the account holds exactly N sends more than the seed
expect_sends_started() {
  local saved_out=$out saved_err=$err saved_rc=$rc started
  run "$PERFORMLUA" sends.lua
  started=$(( $(wc -l <<<"$out") - before ))
  out=$saved_out err=$saved_err rc=$saved_rc
  [ "$started" = "$2" ] || fail "$1: $started sends started, expected exactly $2"
}

# 1. The answer to the send's start is lost (the sandbox processes it, then drops the
#    connection): the send is not started a second time and the message says what to do.
run_with_fault reset-after "$SCRIPTS/clone_count_send.lua"
expect_status "lost answer" 1
grep -Eq "^Stopped: The request to start the send '.+' was sent, but the connection broke or timed out before the answer arrived, so it may or may not have been done\. It was NOT sent again, so nothing is done twice\. Look for it with: performlua scripts/manage_send\.lua list \(Reference for support: correlation id [0-9a-f-]+\.\)$" <<<"$err" \
  || fail "lost answer: message"
expect_no_match "lost answer: not reported as started" "Started: send job"
expect_sends_started "lost answer" 1
stop_sandbox

# 2. The start is throttled (Rate Limited, not processed): retried, and the send happens once.
run_with_fault throttle "$SCRIPTS/clone_count_send.lua"
expect_status "throttled" 0
expect_line "throttled: finished" "  Finished with status Complete."
expect_sends_started "throttled" 1
stop_sandbox

# 3. The same for an import: a lost answer to the start stops with the same plain words.
run_with_fault truncate "$SCRIPTS/import_and_wait.lua"
expect_status "import: lost answer" 1
grep -Eq "^Stopped: The request to start the import '.+' was sent, but .+ so it may or may not have been done\. It was NOT sent again, so nothing is done twice\. Check the import's recent runs in Marketing Cloud before running this again\. " <<<"$err" \
  || fail "import: lost answer: message"
expect_no_match "import: not reported as started" "^Started"
stop_sandbox

# 4. Many starts, one of whose answers is lost: that item fails saying so, the other is started.
#    One at a time, the second start is the second Perform.
start_sandbox --speed 50 --fault reset-after:Perform:2
run "$PERFORMLUA" "$SCRIPTS/start_many.lua" QueryDefinition:active-subscribers-query \
  ImportDefinition:daily-loyalty-import --concurrency=1 --no-wait
expect_status "start_many: lost answer" 1
expect_match "start_many: the lost one" "^  FAILED  ImportDefinition 'daily-loyalty-import': The request to start it was sent, but .+ It was NOT sent again, so nothing is done twice\."
expect_match "start_many: the other one" "^  ok      QueryDefinition 'active-subscribers-query': started \(task [0-9]+\)$"
expect_line "start_many: counts" "1 succeeded, 1 failed."
stop_sandbox

# 5. Waits that run out: the scripts say the work is still going on and was not started again.
start_sandbox --speed 0.01
run "$PERFORMLUA" "$SCRIPTS/import_and_wait.lua" --yes --timeout=0.3
expect_status "import: timeout" 1
grep -Eq "^Stopped: The import \(task [0-9]+\) had not finished after 0\.3 s of waiting: its status is [A-Za-z]+.*\. It carries on in Marketing Cloud and was NOT started again\.$" <<<"$err" \
  || fail "import: timeout: message"
expect_no_match "import: timeout: not 'ended'" "ended with status"
run "$PERFORMLUA" "$SCRIPTS/clone_count_send.lua" --yes --timeout=0.3
expect_status "send: timeout" 1
grep -Eq "^Stopped: The send \(job ([0-9]+)\) had not finished after 0\.3 s of waiting: its status is [A-Za-z]+.*\. It carries on in Marketing Cloud and was NOT started again\. Check it with: performlua scripts/manage_send\.lua status [0-9]+$" <<<"$err" \
  || fail "send: timeout: message"
run "$PERFORMLUA" "$SCRIPTS/start_many.lua" QueryDefinition:active-subscribers-query --timeout=0.3
expect_status "start_many: timeout" 1
expect_match "start_many: timeout line" "^  FAILED  QueryDefinition 'active-subscribers-query': Task [0-9]+ had not finished after 0\.3 s of waiting: its status is [A-Za-z]+\. It carries on in Marketing Cloud and was NOT started again\.$"
stop_sandbox

# 6. A slow sandbox (every answer 150 ms late): the same results, only later.
start_sandbox --speed 50 --latency 150
run "$PERFORMLUA" "$SCRIPTS/clone_count_send.lua" --yes
expect_status "latency: clone_count_send" 0
expect_line "latency: finished" "  Finished with status Complete."
run "$PERFORMLUA" "$SCRIPTS/start_many.lua"
expect_status "latency: start_many" 0
expect_match "latency: counts" "^[0-9]+ succeeded, 0 failed\.$"
run "$PERFORMLUA" "$SCRIPTS/export_data_extension.lua" Loyalty_Members slow.csv --page-size=10
expect_status "latency: export" 0
expect_match "latency: wrote" "^Wrote [0-9]+ rows to slow\.csv$"
echo "ok"
