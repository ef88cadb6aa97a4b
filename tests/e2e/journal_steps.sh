#!/usr/bin/env bash
# mc.step and the run journal from a script's side: a call in doubt that the runtime cannot
# check itself asks the step's check (false: run the step again; true: resume from it; nil or
# no check: the run stops, kind "journal", exit 1, naming what to verify with the correlation
# id, and sends nothing); --journal FILE; --new-run; performlua runs and its mistakes; a step
# name used twice and a result that is not plain data are usage errors (exit 2).
source "$(dirname "$0")/lib/scripts.sh"
export XDG_STATE_HOME="$work/state" XDG_CACHE_HOME="$work/cache"
start_sandbox

run "$PERFORMLUA" runs
expect_status "runs without a journal" 0
expect_match "no runs yet" "^No runs yet"

# a step that starts a query definition (no built-in check for it); CHECK picks the check
cat > query.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local mode = arg[1]
local opts = {}
if mode == "check-false" then opts.check = function() io.stderr:write("checked\n") return false end end
if mode == "check-true" then
  opts.check = function(call) io.stderr:write("checked " .. call.correlation_id .. "\n") return true end
  opts.resume = function() return "resumed" end
end
local got = mc.step("start the query", opts, function()
  local r = c:perform("start", mc.QueryDefinition{CustomerKey = "active-subscribers-query"})
  r:check()
  return "started"
end)
print("step: " .. tostring(got))
LUA
for mode in none check-false check-true; do
  set +e
  PERFORMLUA_TEST_STOP_AT=1:after "$PERFORMLUA" --journal "$work/j.sqlite3" query.lua "$mode" \
    >"$work/.out" 2>"$work/.err" </dev/null
  rc=$?
  set -e
  [ "$rc" = 137 ] || { out=$(cat "$work/.out"); err=$(cat "$work/.err"); fail "$mode: not killed"; }
  corr=$("$PERFORMLUA" --journal "$work/j.sqlite3" runs show "$(
    "$PERFORMLUA" --journal "$work/j.sqlite3" runs | grep -F "query.lua $mode" | awk '{print $1}')" \
    | grep -Eo 'correlation id [0-9a-f-]{36}' | head -n1 | cut -d' ' -f3)
  [ -n "$corr" ] || fail "$mode: no correlation id in runs show"
  run "$PERFORMLUA" --journal "$work/j.sqlite3" query.lua "$mode"
  case "$mode" in
    none)
      expect_status "no check" 1
      [ "$(wc -l <<<"$err")" = 2 ] || fail "no check: stderr is not two lines (continuing, the stop)"
      grep -Eq "^performlua: step 'start the query' of run [0-9]+: the earlier run sent Perform start QueryDefinition 'active-subscribers-query' \(sent [0-9T:.-]+Z, correlation id $corr\) and its outcome is not known\. Nothing was sent again\. Verify in Marketing Cloud whether it was done \(quote the correlation id\); then run \`performlua runs forget [0-9]+\` to start over, or give mc.step a check function that tells\.$" <<<"$err" \
        || fail "no check: the message"
      ! grep -q "traceback" <<<"$err" || fail "no check: a traceback"
      # it stays stopped (nothing is sent) until the run is forgotten
      run "$PERFORMLUA" --journal "$work/j.sqlite3" query.lua none
      expect_status "no check, again" 1
      id=$("$PERFORMLUA" --journal "$work/j.sqlite3" runs | grep -F "query.lua none" | awk '{print $1}')
      run "$PERFORMLUA" --journal "$work/j.sqlite3" runs forget "$id"
      expect_status "forget" 0
      run "$PERFORMLUA" --journal "$work/j.sqlite3" query.lua none
      expect_status "after forget" 0
      expect_line "after forget: the step ran" "step: started"
      ;;
    check-false)
      expect_status "check false" 0
      grep -Fxq checked <<<"$err" || fail "check false: the check was not asked"
      expect_line "check false: the step ran again" "step: started" ;;
    check-true)
      expect_status "check true" 0
      grep -Fxq "checked $corr" <<<"$err" || fail "check true: the check did not get the call"
      expect_line "check true: resumed" "step: resumed" ;;
  esac
done

# a Create with a CustomerKey in doubt is looked up by that key: killed after its answer, the
# re-run finds the data extension and resumes, and no second Create is sent (it would fail)
cat > create.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local made = mc.step("create the data extension", {
  resume = function(found) return "found " .. found.CustomerKey end,
}, function()
  local r = c:create(mc.DataExtension{CustomerKey = "journal-test-de", Name = "Journal test",
    Fields = {mc.DataExtensionField{Name = "Email", FieldType = "EmailAddress"}}})
  r:check()
  return "created"
end)
print("step: " .. made)
LUA
set +e
PERFORMLUA_TEST_STOP_AT=1:inflight "$PERFORMLUA" --journal "$work/c.sqlite3" create.lua >/dev/null 2>&1 </dev/null
rc=$?
set -e
[ "$rc" = 137 ] || fail "create: not killed"
run "$PERFORMLUA" --journal "$work/c.sqlite3" create.lua
expect_status "create resumed" 0
expect_line "create: found by its key" "step: found journal-test-de"

# one command running twice at once (a cron job overlapping the last one): the second stops
cat > slow.lua <<'LUA'
local mc = require "performlua"
mc.step("slow", function() io.stdout:write("in the step\n"); io.stdout:flush(); mc.sleep(3) end)
LUA
rm -f "$work/slow.out"
"$PERFORMLUA" --journal "$work/s.sqlite3" slow.lua >"$work/slow.out" 2>&1 </dev/null &
slow_pid=$!
for _ in $(seq 600); do grep -q "in the step" "$work/slow.out" 2>/dev/null && break; sleep 0.05; done
run "$PERFORMLUA" --journal "$work/s.sqlite3" slow.lua
expect_status "the same command while it runs" 1
grep -Eq "^performlua: run [0-9]+ of this command is still running in process $slow_pid: two runs of one command at once could do its work twice\." <<<"$err" \
  || fail "the same command while it runs: message"
wait "$slow_pid" || fail "the first run failed: $(cat "$work/slow.out")"
run "$PERFORMLUA" --journal "$work/s.sqlite3" slow.lua
expect_status "the same command after it ended" 0

# --new-run: an unfinished run is left, a new one starts
set +e
PERFORMLUA_TEST_STOP_AT=1:before "$PERFORMLUA" --journal "$work/j.sqlite3" query.lua new >/dev/null 2>&1 </dev/null
set -e
run "$PERFORMLUA" --journal "$work/j.sqlite3" --new-run query.lua new
expect_status "--new-run" 0
! grep -Fq "continuing run" <<<"$err" || fail "--new-run continued the run"
run "$PERFORMLUA" --journal "$work/j.sqlite3" runs
expect_match "the left run" "abandoned .*query.lua new"

# the journal is where --journal says, else in $XDG_STATE_HOME/performlua
[ -f "$work/j.sqlite3" ] || fail "no journal at --journal FILE"
[ ! -e "$work/state/performlua/journal.sqlite3" ] || fail "a journal in the state directory too"
cat > plain.lua <<'LUA'
local mc = require "performlua"
print(mc.step("one", function() return {a = 1} end).a)
LUA
run "$PERFORMLUA" plain.lua
expect_status "default place" 0
[ -f "$work/state/performlua/journal.sqlite3" ] || fail "no journal in \$XDG_STATE_HOME/performlua"

# a journal made before runs had their process id is brought up to date
cat > old_journal.lua <<'LUA'
local db = require("performlua.core").sqlite_open(arg[1])
db:exec("CREATE TABLE runs (id INTEGER PRIMARY KEY, key TEXT NOT NULL, command TEXT NOT NULL, "
  .. "account TEXT, started TEXT NOT NULL, updated TEXT NOT NULL, status TEXT NOT NULL, "
  .. "exit_status INTEGER)")
db:close()
LUA
run "$PERFORMLUA" old_journal.lua "$work/old.sqlite3"
expect_status "an old journal" 0
run "$PERFORMLUA" --journal "$work/old.sqlite3" plain.lua
expect_status "a run in an old journal" 0
expect_line "a run in an old journal: its step" "1"

# old runs are dropped when a new run starts: finished and abandoned ones past 90 days, with
# their steps and calls; a failed one (it may hold a call in doubt) and recent ones stay; a run
# that `runs forget` dropped takes its steps and calls with it
run "$PERFORMLUA" --journal "$work/prune.sqlite3" plain.lua
expect_status "prune: a first run" 0
cat > age_runs.lua <<'LUA'
local db = require("performlua.core").sqlite_open(arg[1])
local old = os.date("!%Y-%m-%dT%H:%M:%S.000Z", os.time() - 100 * 86400)
local recent = os.date("!%Y-%m-%dT%H:%M:%S.000Z", os.time() - 10 * 86400)
for _, r in ipairs{{"finished", old}, {"abandoned", old}, {"failed", old}, {"finished", recent}} do
  local _, id = db:run("INSERT INTO runs (key, command, account, started, updated, status) "
    .. "VALUES (?, ?, 'a', ?, ?, ?)", r[1] .. r[2], r[1] .. " " .. r[2], r[2], r[2], r[1])
  local _, step = db:run("INSERT INTO steps (run, name, status, started) VALUES (?, 's', 'done', ?)",
    id, r[2])
  db:run("INSERT INTO calls (run, step, operation, objects, correlation_id, started, at) "
    .. "VALUES (?, ?, 'Create', '[]', 'c', ?, 0)", id, step, r[2])
end
db:close()
LUA
run "$PERFORMLUA" age_runs.lua "$work/prune.sqlite3"
expect_status "prune: aging runs" 0
run "$PERFORMLUA" --journal "$work/prune.sqlite3" --new-run plain.lua
expect_status "prune: a new run" 0
cat > count_runs.lua <<'LUA'
local db = require("performlua.core").sqlite_open(arg[1], {readonly = true})
local function n(sql) return db:first(sql).n end
print(n("SELECT count(*) AS n FROM runs WHERE command LIKE 'finished%' OR command LIKE 'abandoned%' "
  .. "OR command LIKE 'failed%'"), n("SELECT count(*) AS n FROM runs WHERE status = 'failed'"),
  n("SELECT count(*) AS n FROM steps WHERE run NOT IN (SELECT id FROM runs)"),
  n("SELECT count(*) AS n FROM calls WHERE run NOT IN (SELECT id FROM runs)"),
  n("SELECT count(*) AS n FROM calls"))
db:close()
LUA
run "$PERFORMLUA" count_runs.lua "$work/prune.sqlite3"
# the recent finished and the old failed run stay (2, one failed), nothing orphaned, their 2 calls
expect_line "prune: what stays" "$(printf '2\t1\t0\t0\t2')"
failed_id=$("$PERFORMLUA" --journal "$work/prune.sqlite3" runs | awk '$2 == "failed" {print $1}')
run "$PERFORMLUA" --journal "$work/prune.sqlite3" runs forget "$failed_id"
expect_status "prune: forget" 0
run "$PERFORMLUA" count_runs.lua "$work/prune.sqlite3"
expect_line "prune: forget takes the steps and calls" "$(printf '1\t0\t0\t0\t1')"

# a journal that cannot be kept says so and where to keep it instead
touch "$work/a-file"
run "$PERFORMLUA" --journal "$work/a-file/j.sqlite3" plain.lua
expect_status "no place for the journal" 1
grep -Fq "the run journal (mc.step) cannot be kept: cannot open $work/a-file/j.sqlite3" <<<"$err" \
  || fail "no place for the journal: message"
grep -Fq "pass --journal FILE (or set PERFORMLUA_JOURNAL) to a writable place" <<<"$err" \
  || fail "no place for the journal: what to do"

# usage errors: exit 2, one line
cat > twice.lua <<'LUA'
local mc = require "performlua"
mc.step("same", function() end)
mc.step("same", function() end)
LUA
run "$PERFORMLUA" twice.lua
expect_status "a step name twice" 2
grep -Fq "the step name 'same' was used twice in this run" <<<"$err" || fail "step name twice: message"
cat > unplain.lua <<'LUA'
local mc = require "performlua"
mc.step("a function", function() return print end)
LUA
run "$PERFORMLUA" unplain.lua
expect_status "a result that is not plain data" 2
grep -Fq "must be plain data" <<<"$err" || fail "not plain data: message"
run "$PERFORMLUA" runs show
expect_status "runs show without an id" 2
run "$PERFORMLUA" runs frobnicate 1
expect_status "runs with an unknown word" 2
echo "journal_steps: all passed"
