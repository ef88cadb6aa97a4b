#!/usr/bin/env bash
# scripts/clone_count_send.lua (the mission) against the sandbox: with no arguments as the
# README's quick start runs it (the send goes to the people counted in the copy, less the
# excluded), as a dry run, with a wrong key, with an empty audience, and against an account
# that is not the embedded sandbox (where starting a send needs --yes).
source "$(dirname "$0")/lib/scripts.sh"

# 1. The quick start, exactly: no arguments.
run "$PERFORMLUA" --sandbox "$SCRIPTS/clone_count_send.lua"
expect_status "quick start" 0
expect_line "connected" "Connected to the sandbox (an emulated account on this machine)."
expect_line "step 1" "Step 1 of 8: Checking the audience, the send definition and the sender profile"
expect_match "step 2" "^Step 2 of 8: Cloning the audience '.+'$"
expect_match "the copy" "^  Created the copy '.+ copy [0-9-]+ [0-9:]+ UTC' \\(key .+\\)\\.$"
expect_line "step 3" "Step 3 of 8: Building the copy (publishing its people into its data extension)"
expect_match "published" "^  Published into the data extension '.+' \(key .+\)\.$"
expect_line "step 4" "Step 4 of 8: Counting the people in the copy"
expect_line "counted" "  The copy holds 2,480 people."
expect_line "step 5" "Step 5 of 8: Pointing a send definition for this run at the copy"
expect_match "per-run definition" "^  Created the send definition 'Spring sale send \(.+\)' \(key spring-sale-send-[0-9a-z]+\) for this run; 'Spring sale send' is unchanged\.$"
expect_line "GetMaxCount agrees" "  GetMaxCount agrees with the count: 2,480 people."
expect_match "step 6" "^Step 6 of 8: Starting the email send '.+' as .+ <.+@.+>$"
expect_match "real email warning" "^  This sends REAL EMAIL: .* to up to 2,480 people \(the copy, less anyone unsubscribed or held\)\.$"
expect_line "sandbox goes ahead" "  (Sandbox: no real email leaves this machine, so going ahead without asking.)"
expect_match "started" "^  Started: send job [0-9]+\.$"
expect_match "step 7" "^Step 7 of 8: Waiting for the send to finish"
expect_line "finished" "  Finished with status Complete."
expect_line "step 8" "Step 8 of 8: What came back"
expect_match "figures: sent" "^  Emails sent +[1-9][0-9,]*$"
expect_match "figures: targeted" "^  People targeted +[1-9][0-9,]*$"
expect_match "done" "^Done: cloned '.+', counted [0-9,]+ (person|people) in the copy, sent job [0-9]+ to [0-9,]+ (person|people) as .+\.$"
expect_no_match "no mismatch note" "^  Note: "
expect_empty_err "quick start"
# the send went out as the sender profile, not as the definition's own sender
sent_as=$(grep -E '^  Sent as ' <<<"$out" | sed -E 's/^  Sent as +//')
profile=$(grep -E '^  Sender profile: ' <<<"$out" | sed -E 's/^  Sender profile: +(.*) \(key .*\)$/\1/')
[ -n "$sent_as" ] && [ "$sent_as" = "$profile" ] || fail "sent as '$sent_as', expected the profile '$profile'"
# the number sent equals the number targeted
targeted=$(grep -E '^  People targeted' <<<"$out" | grep -Eo '[0-9,]+$')
sent=$(grep -E '^  Emails sent' <<<"$out" | grep -Eo '[0-9,]+$')
[ "$targeted" = "$sent" ] || fail "sent $sent of $targeted"
# the send went to the people counted in the copy, less the excluded (the seed has one
# unsubscribed and one held subscriber among them)
number() { grep -E "^  $1 " <<<"$out" | grep -Eo '[0-9,]+$' | tr -d ,; }
counted=$(number "People counted"); excluded=$(number "Excluded"); targeted=$(number "People targeted")
[ "$counted" = 2480 ] || fail "counted $counted, expected 2480"
[ "$excluded" = 2 ] || fail "excluded $excluded, expected 2"
[ "$targeted" = $((counted - excluded)) ] || fail "targeted $targeted, expected $counted - $excluded"

# 2. Dry run: envelopes shown, nothing cloned, nothing sent.
run "$PERFORMLUA" --sandbox "$SCRIPTS/clone_count_send.lua" --dry-run
expect_status "dry run" 0
expect_line "dry run: clone envelope" "  (dry run) Cloning would send this Perform request:"
expect_match "dry run: clone action" "<Action>clone</Action>"
expect_match "dry run: start action" "<Action>start</Action>"
expect_match "dry run: sender profile in the definition" "<SenderProfile>"
# the envelopes are laid out for people: one element per line, nested ones indented
expect_line "dry run: indented" "      <Action>start</Action>"
expect_line "dry run: indented sender profile" "          <SenderProfile>"
expect_line "dry run: the per-run definition" "  (dry run) Creating it would send this Create request:"
expect_match "dry run: aimed at the copy" "<CustomObjectID>"
expect_line "dry run: end" "Dry run finished: nothing was cloned and no email was sent."
expect_no_match "dry run: nothing started" "Started: send job"
expect_no_match "dry run: no copy" "Created the copy"
expect_no_match "dry run: no definition" "Created the send definition"

# 3. A wrong key stops before anything changes, in words a marketer understands.
run "$PERFORMLUA" --sandbox "$SCRIPTS/clone_count_send.lua" no-such-audience
expect_status "wrong key" 1
expect_err_line "wrong key: message" "Stopped: No audience with the external key 'no-such-audience' was found in this account. Check the key (keys are case-sensitive) or pass another one (see --help)."
expect_no_match "wrong key: nothing cloned" "Created the copy"

# 4. Bad usage.
run "$PERFORMLUA" --sandbox "$SCRIPTS/clone_count_send.lua" --timout=5
expect_status "bad option" 2
grep -Fxq "clone_count_send: unknown option --timout=5" <<<"$err" || fail "bad option message"
# a fourth key is a mistake (a misplaced option value?): refused before anything is done
run "$PERFORMLUA" --sandbox "$SCRIPTS/clone_count_send.lua" a b c d
expect_status "too many arguments" 2
grep -Fxq "clone_count_send: unexpected argument 'd': this script takes at most 3 (AUDIENCE_KEY SEND_KEY SENDER_KEY)" <<<"$err" || fail "too many arguments: message"
[ -z "$out" ] || fail "too many arguments: the script ran"

# 5. Not the embedded sandbox (an account reached through the environment, as production is):
#    without --yes and without a terminal to ask on, the send is NOT started.
start_sandbox --speed 50
run "$PERFORMLUA" "$SCRIPTS/clone_count_send.lua"
expect_status "no confirmation" 3
expect_line "connected (not sandbox)" "Connected."
expect_line "refused" "  Not starting: nobody is here to confirm. Re-run with --yes to send without asking."
expect_match "copy kept" "^The send was NOT started\. The copy '.+' \(key .+\) was kept\.$"
expect_no_match "not started" "Started: send job"
# with --yes it goes ahead (a second copy in the same second gets a name of its own)
run "$PERFORMLUA" "$SCRIPTS/clone_count_send.lua" --yes
expect_status "--yes" 0
expect_line "--yes: finished" "  Finished with status Complete."
expect_line "--yes: counted" "  The copy holds 2,480 people."
# the original send definition is untouched: it still reaches its own 1,250 people
cat > maxcount.lua <<'LUA'
local mc = require "performlua"
local r = mc.connect():perform("GetMaxCount", mc.EmailSendDefinition{CustomerKey = "spring-sale-send"})
print(r:check().Results[1].Task.StatusMessage)
LUA
run "$PERFORMLUA" maxcount.lua
[ "$out" = 1250 ] || fail "the original send definition now reaches $out people, not 1250"
stop_sandbox() { kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; sandbox_pid=; }
stop_sandbox

# 6. An audience with nobody in it: refused before anything is sent or created.
start_sandbox --speed 50
cat > empty.lua <<'LUA'
local mc = require "performlua"
mc.connect():perform("ClearData", mc.DataExtension{CustomerKey = "Web_Visitors"}):check()
LUA
run "$PERFORMLUA" empty.lua
expect_status "emptied the source" 0
run "$PERFORMLUA" "$SCRIPTS/clone_count_send.lua" --yes
expect_status "empty audience" 1
expect_line "empty: counted" "  The copy holds 0 people."
expect_err_line "empty: refused" "Stopped: The audience is empty: nobody would receive the email, so the send was not started."
expect_no_match "empty: no definition" "Created the send definition"
expect_no_match "empty: not started" "Started: send job"
echo "ok"
