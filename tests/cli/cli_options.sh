#!/usr/bin/env bash
# -v/--version, --help, and what happens with options that do not exist.
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
unset LUA_INIT LUA_INIT_5_4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { set +e; "$@" >"$work/.out" 2>"$work/.err"; rc=$?; set -e; out=$(cat "$work/.out"); err=$(cat "$work/.err"); }
check() {
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1"; diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") || true; exit 1
  fi
}
expect_line() { # expect_line NAME REGEX TEXT: some whole line of TEXT matches REGEX
  grep -qxE -- "$2" <<<"$3" || { echo "FAIL: $1: no line matching '$2' in:"; printf '%s\n' "$3"; exit 1; }
}

# -v: one line per component, with real version numbers
run "$PERFORMLUA" -v
check "-v status" 0 "$rc"
check "-v line count" 8 "$(wc -l <<<"$out")"
expect_line "-v performlua" 'performlua [0-9]+\.[0-9]+\.[0-9]+' "$out"
expect_line "-v Lua" 'Lua 5\.4\.[0-9]+  Copyright \(C\) 1994-[0-9]+ Lua\.org, PUC-Rio' "$out"
expect_line "-v libcurl" 'libcurl [0-9]+\.[0-9]+\.[0-9]+( \(.+\))?' "$out"
expect_line "-v libxml2" 'libxml2 [0-9]+\.[0-9]+\.[0-9]+' "$out"
expect_line "-v libmicrohttpd" 'libmicrohttpd [0-9.]+' "$out"
expect_line "-v jansson" 'jansson [0-9.]+' "$out"
expect_line "-v SQLite" 'SQLite 3\.[0-9]+\.[0-9]+' "$out"
# the allocator of the Lua heap, libxml2 and libcurl: mimalloc, or why not (tests/cli/lua_heap.sh
# covers the choice)
expect_line "-v mimalloc" 'mimalloc ([0-9]+\.[0-9]+\.[0-9]+ \(the Lua heap, libxml2, libcurl\)|\(not used: .+\))' "$out"
# the performlua line carries the version the Lua side reports
version=$("$PERFORMLUA" -e 'io.write(require("performlua").VERSION)')
check "-v matches mc.VERSION" "performlua $version" "$(head -1 <<<"$out")"
run "$PERFORMLUA" --version
check "--version = -v" "$("$PERFORMLUA" -v)" "$out"
# -v then a script: both happen (as lua.c)
run "$PERFORMLUA" -v -e 'print("after")'
check "-v with -e" "after" "$(tail -1 <<<"$out")"

# --help: usage on stdout, every option and the sandbox subcommand listed, exit 0
run "$PERFORMLUA" --help
check "--help status" 0 "$rc"
check "--help stderr" "" "$err"
check "--help first line" "usage: performlua [options] [script [args]]" "$(head -1 <<<"$out")"
for opt in '-e CODE' '-l MOD' '-l G=MOD' '-i' '-v, --version' '-E' '-W' '--sandbox' '--trace' \
           '--profile NAME' '-h, --help' '--' '-'; do
  expect_line "--help lists $opt" "  $(sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$opt") .*" "$out"
done
expect_line "--help lists the sandbox subcommand" '       performlua sandbox \[args\] .*' "$out"
# every subcommand's summary starts in one column (the names differ in length)
columns=$(grep -E '^       performlua [a-z]+ \[args\]' <<<"$out" \
  | sed -E 's/^( +performlua [a-z]+ \[args\] +).*/\1/' | awk '{ print length($0) }' | sort -u)
check "--help subcommands: summaries in one column" 1 "$(wc -l <<<"$columns")"
grep -q PERFORMLUA_PATH <<<"$out" || { echo "FAIL: --help does not mention PERFORMLUA_PATH"; exit 1; }
run "$PERFORMLUA" -h
check "-h = --help" "$("$PERFORMLUA" --help)" "$out"

# unknown options: message and usage on stderr, exit 2 (a usage error), nothing run
usage=$("$PERFORMLUA" --help)
run "$PERFORMLUA" -x -e 'print("ran")'
check "unknown short option: status" 2 "$rc"
check "unknown short option: stdout" "" "$out"
check "unknown short option: stderr" "$(printf "performlua: unrecognized option '-x'\n%s" "$usage")" "$err"
run "$PERFORMLUA" --frobnicate
check "unknown long option" "performlua: unrecognized option '--frobnicate'" "$(head -1 <<<"$err")"
check "unknown long option: status" 2 "$rc"
run "$PERFORMLUA" -vx
check "option with extra letters" "performlua: unrecognized option '-vx'" "$(head -1 <<<"$err")"
run "$PERFORMLUA" -e
check "-e without argument" "performlua: '-e' needs argument" "$(head -1 <<<"$err")"
check "-e without argument: status" 2 "$rc"
run "$PERFORMLUA" -l
check "-l without argument" "performlua: '-l' needs argument" "$(head -1 <<<"$err")"
run "$PERFORMLUA" --profile
check "--profile without name" "performlua: '--profile' needs a profile name" "$(head -1 <<<"$err")"
# options after the script belong to the script
run "$PERFORMLUA" - -x <<<'print("script", ...)'
check "options after the script are its arguments" "$(printf 'script\t-x')" "$out"

echo "cli_options: all passed"
