#!/usr/bin/env bash
# Every example script's --help prints its own documentation (the comment at the top of the
# file: what it does, each argument and option), exits 0, and connects to nothing (no account
# is configured here).
source "$(dirname "$0")/lib/scripts.sh"

count=0
for script in "$SCRIPTS"/*.lua; do
  name=$(basename "$script")
  [ "$name" = workflow.lua ] && continue
  count=$((count + 1))
  for flag in --help -h; do
    run "$PERFORMLUA" "$script" "$flag"
    expect_status "$name $flag" 0
    expect_empty_err "$name $flag"
    expect_match "$name $flag: what it does" "^$name: .+"
    expect_match "$name $flag: how to run it" "^  performlua scripts/$name "
    expect_match "$name $flag: the options" "^  --help +this text$"
    expect_no_match "$name $flag: no comment dashes" "^--"
  done
done
[ "$count" -ge 5 ] || fail "only $count example scripts"
# the arguments are explained, not only listed
run "$PERFORMLUA" "$SCRIPTS/clone_count_send.lua" --help
expect_match "argument explained" "^  AUDIENCE_KEY +external key of the audience to clone"
echo "ok"
