#!/usr/bin/env bash
# scripts/start_many.lua against the sandbox: the defaults, a mix with failures, --no-wait.
source "$(dirname "$0")/lib/scripts.sh"

run "$PERFORMLUA" --sandbox "$SCRIPTS/start_many.lua"
expect_status "defaults" 0
expect_match "header" "^Starting [0-9]+ definitions, at most 4 at a time, and waiting for each to finish:$"
expect_line "summary" "Summary:"
expect_match "an ok query" "^  ok      QueryDefinition '.+': finished: Complete in [0-9.]+ s$"
expect_match "an ok import" "^  ok      ImportDefinition '.+': finished: Completed in [0-9.]+ s$"
expect_match "counts" "^[0-9]+ succeeded, 0 failed\.$"
expect_empty_err "defaults"

# failures are data: the good ones still run, and the exit status says something failed
default_query=$(grep -Eo "QueryDefinition '[^']+'" <<<"$out" | head -n1 | sed -E "s/QueryDefinition '(.*)'/\1/")
run "$PERFORMLUA" --sandbox "$SCRIPTS/start_many.lua" "QueryDefinition:no-such-query" \
  "QueryDefinition:$default_query" "ImportDefinition:no-such-import" --concurrency=2
expect_status "mixed" 1
expect_line "header (mixed)" "Starting 3 definitions, at most 2 at a time, and waiting for each to finish:"
expect_match "failed query" "^  FAILED  QueryDefinition 'no-such-query': did not start: .+$"
expect_match "ok query" "^  ok      QueryDefinition '$default_query': finished: Complete in [0-9.]+ s$"
expect_match "failed import" "^  FAILED  ImportDefinition 'no-such-import': did not start: .+$"
expect_line "counts (mixed)" "1 succeeded, 2 failed."
# the summary keeps the input order
order=$(grep -E "^  (ok|FAILED) " <<<"$out" | sed -E "s/^  (ok|FAILED) +([A-Za-z]+) '([^']+)'.*/\3/" | paste -sd, -)
[ "$order" = "no-such-query,$default_query,no-such-import" ] || fail "summary order: $order"

run "$PERFORMLUA" --sandbox "$SCRIPTS/start_many.lua" "QueryDefinition:$default_query" --no-wait
expect_status "no wait" 0
expect_match "started only" "^  ok      QueryDefinition '$default_query': started \(task [0-9]+\)$"

run "$PERFORMLUA" --sandbox "$SCRIPTS/start_many.lua" --dry-run
expect_status "dry run" 0
expect_match "dry run envelope" "<Action>start</Action>"
expect_line "dry run end" "Dry run finished: nothing was started."

run "$PERFORMLUA" --sandbox "$SCRIPTS/start_many.lua" "Nonsense:x"
expect_status "bad type" 2
grep -Fxq "start_many: 'Nonsense' is not a Marketing Cloud object type" <<<"$err" || fail "bad type message"
echo "ok"
