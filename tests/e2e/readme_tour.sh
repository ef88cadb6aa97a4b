#!/usr/bin/env bash
# The README's tour must stay true: extract its first Lua block and run it against the sandbox.
set -euo pipefail
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
awk '/^```lua$/{f=1;n++;next} /^```$/{f=0} f&&n==1' README.md > "$tmp/tour.lua"
[ -s "$tmp/tour.lua" ] || { echo "no Lua block found in README.md" >&2; exit 1; }
"$PERFORMLUA" --sandbox "$tmp/tour.lua" > "$tmp/out"
cat "$tmp/out"
expect() { grep -qxF -- "$1" "$tmp/out" || { echo "README tour: missing line: $1" >&2; exit 1; }; }
expect $'people in the audience:\t2480'
expect $'Complete\t1250\tAcme Spring Sale'
expect $'grace.ritchie2@example.com\tParis'
expect $'daily-subscriber-import\tCompleted\t500'
expect $'daily-loyalty-import\tCompleted\t36'
echo "README tour: ok"
