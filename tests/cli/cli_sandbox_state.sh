#!/usr/bin/env bash
# `performlua sandbox --state FILE` keeps the account in an SQLite file across restarts (and the
# sqlite3 shell can read it); a file that is not a sandbox's is refused with one line and left
# as it was; `--seed DIR` makes one data extension per CSV file, and a bad CSV is named with its
# line.
source "$(dirname "$0")/lib/sandbox_process.sh"

cat > add.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local r = c:create({mc.DataExtensionObject{CustomerKey = "Customers",
  Properties = {{Name = "CustomerID", Value = "7007"}, {Name = "City", Value = "Bergen"}}}})
print(r.OverallStatus)
LUA
cat > count.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local key = arg[1]
local n = 0
for _ in c:each("DataExtensionObject[" .. key .. "]", {arg[2]}) do n = n + 1 end
local hit = c:retrieve_all("DataExtensionObject[" .. key .. "]", {arg[2]},
  {Property = arg[2], SimpleOperator = "equals", Value = arg[3]})
print(n, #hit)
LUA

# --- a restart keeps the rows
start --state "$work/account.db"
grep -q "account kept in $work/account.db" serve.out || fail "no --state line in the banner" serve.out
[ "$(run add.lua)" = "OK" ] || fail "the Create"
[ "$(run count.lua Customers CustomerID 7007)" = "$(printf '41\t1')" ] || fail "the row before the restart"
stop
start --state "$work/account.db"
[ "$(run count.lua Customers CustomerID 7007)" = "$(printf '41\t1')" ] || fail "the row after the restart"
stop
if command -v sqlite3 >/dev/null; then
  [ "$(sqlite3 "$work/account.db" "SELECT value FROM sandbox_meta WHERE key = 'marker'")" = "performlua sandbox" ] \
    || fail "the sqlite3 shell reads the marker"
  [ "$(sqlite3 "$work/account.db" "SELECT City FROM \"de:7281698:customers\" WHERE CustomerID = '7007'")" = "Bergen" ] \
    || fail "the sqlite3 shell reads the row"
fi

# --- a file that is not ours: refused with one line, unchanged
printf 'my notes\n' >notes.txt
cp notes.txt notes.orig
set +e
"$PERFORMLUA" sandbox --state notes.txt >refused.out 2>refused.err
rc=$?
set -e
[ "$rc" = 1 ] || fail "a foreign --state file exits 1 (got $rc)" refused.out refused.err
[ "$(wc -l <refused.err)" = 1 ] || fail "one line of error" refused.err
grep -q "^performlua sandbox: \(.*: \)\?--state notes.txt: it is not a performlua sandbox state" refused.err \
  || fail "the error names the file and why" refused.err
cmp -s notes.txt notes.orig || fail "the foreign file was changed"
[ ! -e notes.txt-wal ] || fail "a -wal file beside the foreign file"

# --- --seed DIR: one data extension per CSV
mkdir seeds
printf 'Code*,Label\nA1,"first, with a comma"\nB2,"two\nlines"\n' >seeds/Promo_Codes.csv
start --seed "$work/seeds"
[ "$(run count.lua Promo_Codes Code B2)" = "$(printf '2\t1')" ] || fail "the CSV's rows"
stop

# a bad CSV: the file and the line, one line, exit 1
printf 'Code*,Label\nA1,ok\nB2,"never closed\n' >seeds/Broken.csv
set +e
"$PERFORMLUA" sandbox --seed "$work/seeds" >bad.out 2>bad.err
rc=$?
set -e
[ "$rc" = 1 ] || fail "a bad CSV exits 1 (got $rc)" bad.out bad.err
grep -q "^performlua sandbox: \(.*: \)\?--seed: $work/seeds/Broken.csv line 3: a quoted field is never closed$" bad.err \
  || fail "the bad CSV's message" bad.err
echo ok
