#!/usr/bin/env bash
# scripts/clone_count_send.lua (the mission) against the sandbox: with no arguments as the
# README's quick start runs it, as a dry run, with a wrong key, and against an account that is
# not the embedded sandbox (where starting a send needs --yes).
source "$(dirname "$0")/lib/scripts.sh"

# 1. The quick start, exactly: no arguments.
run "$PERFORMLUA" --sandbox "$SCRIPTS/clone_count_send.lua"
expect_status "quick start" 0
expect_line "connected" "Connected to the sandbox (an emulated account on this machine)."
expect_line "step 1" "Step 1 of 6: Checking the audience, the send definition and the sender profile"
expect_match "step 2" "^Step 2 of 6: Cloning the audience '.+' as '.+ copy [0-9-]+ [0-9:]+ UTC'$"
expect_match "copy made" "^  Created the copy '.+' \(key .+\)\.$"
expect_line "step 3" "Step 3 of 6: Counting the people in the copy"
expect_match "counted" "^  The copy holds [1-9][0-9,]* (person|people)\.$"
expect_match "step 4" "^Step 4 of 6: Starting the email send '.+' as .+ <.+@.+>$"
expect_match "real email warning" "^  This sends REAL EMAIL: "
expect_line "sandbox goes ahead" "  (Sandbox: no real email leaves this machine, so going ahead without asking.)"
expect_match "started" "^  Started: send job [0-9]+\.$"
expect_match "step 5" "^Step 5 of 6: Waiting for the send to finish"
expect_line "finished" "  Finished with status Complete."
expect_line "step 6" "Step 6 of 6: What came back"
expect_match "figures: sent" "^  Emails sent +[1-9][0-9,]*$"
expect_match "figures: targeted" "^  People targeted +[1-9][0-9,]*$"
expect_match "done" "^Done: cloned '.+', counted [0-9,]+ (person|people), sent job [0-9]+ as .+\.$"
expect_empty_err "quick start"
# the send went out as the sender profile, not as the definition's own sender
sent_as=$(grep -E '^  Sent as ' <<<"$out" | sed -E 's/^  Sent as +//')
profile=$(grep -E '^  Sender profile: ' <<<"$out" | sed -E 's/^  Sender profile: +(.*) \(key .*\)$/\1/')
[ -n "$sent_as" ] && [ "$sent_as" = "$profile" ] || fail "sent as '$sent_as', expected the profile '$profile'"
# the number sent equals the number targeted
targeted=$(grep -E '^  People targeted' <<<"$out" | grep -Eo '[0-9,]+$')
sent=$(grep -E '^  Emails sent' <<<"$out" | grep -Eo '[0-9,]+$')
[ "$targeted" = "$sent" ] || fail "sent $sent of $targeted"

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
expect_line "dry run: end" "Dry run finished: nothing was cloned and no email was sent."
expect_no_match "dry run: nothing started" "Started: send job"
expect_no_match "dry run: no copy" "Created the copy"

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
# with --yes it goes ahead
run "$PERFORMLUA" "$SCRIPTS/clone_count_send.lua" --yes
expect_status "--yes" 0
expect_line "--yes: finished" "  Finished with status Complete."
echo "ok"
