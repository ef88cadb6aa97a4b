#!/usr/bin/env bash
# --json: every example script ends with one JSON object on stdout (its summary), its messages
# for people on stderr, and the exit status it would have anyway. The object is parsed here.
source "$(dirname "$0")/lib/scripts.sh"

# json EXPR: evaluates a Lua expression over the parsed stdout, `j`, and prints it
cat >parse_json.lua <<'LUA'
local core = require "performlua.core"
local text = io.read("a")
local j, why = core.json_decode(text)
if type(j) ~= "table" then io.stderr:write("not one JSON object: ", tostring(why), "\n", text) os.exit(1) end
local value = load("local j = ...; return " .. arg[1])(j)
print(type(value) == "table" and table.concat(value, ",") or tostring(value))
LUA
json() { printf '%s' "$out" | "$PERFORMLUA" parse_json.lua "$1"; }
expect_json() { local got; got=$(json "$2") || fail "$1: stdout is not one JSON object"; [ "$got" = "$3" ] || fail "$1: $2 is '$got', expected '$3'"; }

run "$PERFORMLUA" --sandbox "$SCRIPTS/clone_count_send.lua" --json
expect_status "clone_count_send" 0
expect_json "clone_count_send" 'j.script' clone_count_send
expect_json "clone_count_send" 'j.ok' true
expect_json "clone_count_send" 'j.exit_status' 0
expect_json "clone_count_send" 'j.summary.send_status' Complete
expect_json "clone_count_send" 'j.summary.people' 2480
expect_json "clone_count_send" 'j.summary.sent == j.summary.targeted and j.summary.sent > 0' true
grep -q "^Done: cloned 'Spring prospects'" <<<"$err" || fail "clone_count_send: the messages are not on stderr"

run "$PERFORMLUA" --sandbox "$SCRIPTS/import_and_wait.lua" --json
expect_status "import_and_wait" 0
expect_json "import_and_wait" 'j.summary.import_status' Completed
expect_json "import_and_wait" 'j.summary.imported > 0 and j.summary.started' true

run "$PERFORMLUA" --sandbox "$SCRIPTS/export_data_extension.lua" Loyalty_Members members.csv --json
expect_status "export_data_extension" 0
expect_json "export_data_extension" 'j.summary.rows' 36
expect_json "export_data_extension" 'j.summary.columns[1]' SubscriberKey
[ -s members.csv ] || fail "export_data_extension: no file"

run "$PERFORMLUA" --sandbox "$SCRIPTS/start_many.lua" --json QueryDefinition:active-subscribers-query Automation:no-such-automation
expect_status "start_many" 1
expect_json "start_many" 'j.ok' false
expect_json "start_many" 'j.exit_status' 1
expect_json "start_many" 'j.summary.succeeded .. "/" .. j.summary.failed' 1/1
expect_json "start_many" 'j.summary.items[1].ok and not j.summary.items[2].ok' true

run "$PERFORMLUA" --sandbox "$SCRIPTS/manage_send.lua" list --json
expect_status "manage_send list" 0
expect_json "manage_send list" '#j.summary.sends >= 2' true

# a failure and a usage error are objects too, with the error's kind
run "$PERFORMLUA" --sandbox "$SCRIPTS/manage_send.lua" status 123 --json
expect_status "manage_send: an unknown send" 1
expect_json "manage_send: an unknown send" 'j.error.kind' stopped
expect_json "manage_send: an unknown send" 'j.error.message' "No send with ID 123 was found in this account."
run "$PERFORMLUA" "$SCRIPTS/import_and_wait.lua" --json
expect_status "missing settings" 2
expect_json "missing settings" 'j.error.kind' usage
expect_json "missing settings" 'j.exit_status' 2
run "$PERFORMLUA" --sandbox "$SCRIPTS/export_data_extension.lua" Loyalty_Members - --json
expect_status "export to stdout with --json" 2
[ -z "$out" ] || json 'j.error.kind' >/dev/null || fail "export to stdout: not JSON"
echo "ok"
