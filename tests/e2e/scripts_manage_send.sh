#!/usr/bin/env bash
# scripts/manage_send.lua against a sandbox in its own process whose clock runs slowly, so a
# send stays in flight while the script pauses, resumes and cancels it. The scripts reach it
# through the environment, as they would reach a real account (so cancel asks first).
source "$(dirname "$0")/lib/scripts.sh"

start_sandbox --speed 0.001
# start a send (any definition of the seed) and print its ID
run "$PERFORMLUA" -e '
  local mc = require "performlua"
  local c = mc.connect()
  local esd = c:retrieve("EmailSendDefinition", {"CustomerKey"}).Results[1]
  local r = c:perform("start", mc.EmailSendDefinition{CustomerKey = esd.CustomerKey}):check()
  print(r.Results[1].Task.ID)'
expect_status "start a send" 0
send_id=$out
[[ "$send_id" =~ ^[0-9]+$ ]] || fail "no send id: $send_id"

run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" status "$send_id"
expect_status "status" 0
expect_match "status line" "^Send $send_id: (Scheduled|Sending)$"
expect_match "progress" "^  progress:  [0-9,]+ of [0-9,]+ sent$"

run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" "$send_id"
expect_status "bare id means status" 0
expect_match "bare id" "^Send $send_id: "

run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" pause "$send_id" --dry-run
expect_status "pause dry run" 0
expect_match "dry run: action" "<Action>pause</Action>"
expect_match "dry run: id" "<ID>$send_id</ID>"
run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" status "$send_id"
expect_no_match "dry run changed nothing" "Paused"

run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" pause "$send_id" --reason="wrong subject line"
expect_status "pause" 0
expect_line "paused" "Done. The send is now: Paused"

run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" resume "$send_id"
expect_status "resume" 0
expect_match "resumed" "^Done\. The send is now: (Scheduled|Sending)$"

# cancelling cannot be undone: without --yes and without a terminal it is refused
run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" cancel "$send_id"
expect_status "cancel refused" 3
expect_line "cancel warning" "  Cancelling cannot be undone: the emails not sent yet will never be sent."
expect_line "cancel not done" "The send was NOT cancelled."
run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" cancel "$send_id" --yes
expect_status "cancel" 0
expect_line "cancelled" "Done. The send is now: Canceled"

# a cancelled send cannot be resumed: the service's answer, in plain words
run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" resume "$send_id"
expect_status "resume after cancel" 1
grep -Eq "^Stopped: Marketing Cloud did not resume send $send_id: Send $send_id is Canceled and cannot be resumed \(error [0-9]+\)$" <<<"$err" \
  || fail "resume after cancel: message"

run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" list
expect_status "list" 0
expect_line "list header" "Sends of the last 7 days (newest first):"
expect_match "list has the send" "^  $send_id +Canceled "

run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" status 999999
expect_status "unknown send" 1
expect_err_line "unknown send" "Stopped: No send with ID 999999 was found in this account."

run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" explode 1
expect_status "bad action" 2

# changing a send without saying which one is a usage error, never the list with status 0
for action in pause resume cancel; do
  run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" "$action"
  expect_status "$action without an ID" 2
  grep -Fxq "manage_send: $action needs the send's ID, e.g. manage_send.lua $action 52000003 (list shows the recent sends and their IDs)" <<<"$err" \
    || fail "$action without an ID: message"
  expect_no_match "$action without an ID: no list" "^Sends of the last"
done
run "$PERFORMLUA" "$SCRIPTS/manage_send.lua" cancel "$send_id" --yes extra
expect_status "extra argument" 2
grep -Fxq "manage_send: unexpected argument 'extra': this script takes at most 2 (ACTION SEND_ID)" <<<"$err" || fail "extra argument: message"
echo "ok"
