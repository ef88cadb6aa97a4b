#!/usr/bin/env bash
# `performlua -i` with stdin that is not a terminal: the same loop without libedit, prompts
# still written, so a transcript can be fed in and compared exactly.
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
unset LUA_INIT LUA_INIT_5_4 COLUMNS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_STATE_HOME="$work/state"
check() {
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1"; diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") || true; exit 1
  fi
}

set +e
printf '%s\n' '6*7' 'x = {1, {2, "two"}, k = {nested = true}}' 'x' 'for i = 1, 2 do' 'print(i)' \
  'end' 'error("e")' 'mc ~= nil, select("#", nil, nil)' 'return' 'local t = {' \
  | "$PERFORMLUA" -i >"$work/out" 2>"$work/err"
rc=$?
set -e
check "status at end of input" 0 "$rc"
check "transcript" "$(printf '%s\n' \
  "$(sed -n 1,2p "$work/out")" \
  '> 42' \
  '> > {1, {2, "two"}, k = {nested = true}}' \
  '> >> >> 1' \
  '2' \
  '> > true, 2' \
  '> > >> > ')" "$(cat "$work/out")"
# errors go to stderr without the program name; end of input inside a statement is reported
check "errors" "$(printf '%s\n' \
  'stdin:1: e' \
  'stack traceback:' \
  "	[C]: in function 'error'" \
  '	stdin:1: in main chunk' \
  '	[C]: in ?' \
  "stdin:1: unexpected symbol near <eof>")" "$(cat "$work/err")"
# nothing is written to the history without a terminal
[ ! -e "$XDG_STATE_HOME/performlua/history" ] || { echo "FAIL: history written without a terminal"; exit 1; }

echo "repl_pipe: all passed"
