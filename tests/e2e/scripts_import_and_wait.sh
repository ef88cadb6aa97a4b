#!/usr/bin/env bash
# scripts/import_and_wait.lua against the sandbox: start the seed's import and wait for it.
source "$(dirname "$0")/lib/scripts.sh"

run "$PERFORMLUA" --sandbox "$SCRIPTS/import_and_wait.lua"
expect_status "default import" 0
expect_match "what it does" "^Import '.+' \(key .+\)$"
expect_line "warning" "Starting the import: this changes the data in the account."
expect_match "started" "^Started \(task [0-9]+\)\. Waiting for it to finish\.\.\.$"
expect_line "completed" "The import completed (status Completed)."
expect_match "rows imported" "^  rows imported +[0-9,]+$"
expect_empty_err "default import"

run "$PERFORMLUA" --sandbox "$SCRIPTS/import_and_wait.lua" --dry-run
expect_status "dry run" 0
expect_match "dry run: envelope" "<Action>start</Action>"
expect_match "dry run: definition" 'xsi:type="ImportDefinition"'
expect_line "dry run: end" "Dry run finished: the import was not started."
expect_no_match "dry run: not started" "^Started"

run "$PERFORMLUA" --sandbox "$SCRIPTS/import_and_wait.lua" no-such-import
expect_status "wrong key" 1
expect_err_line "wrong key" "Stopped: No import definition with the external key 'no-such-import' was found. Check the key (keys are case-sensitive)."

# against an account that is not the embedded sandbox: asks, and without a terminal refuses
start_sandbox --speed 50
run "$PERFORMLUA" "$SCRIPTS/import_and_wait.lua"
expect_status "no confirmation" 3
expect_line "refused" "  Not starting: nobody is here to confirm. Re-run with --yes to start without asking."
expect_line "not started" "The import was NOT started."
run "$PERFORMLUA" "$SCRIPTS/import_and_wait.lua" --yes
expect_status "--yes" 0
expect_line "--yes: completed" "The import completed (status Completed)."
echo "ok"
