#!/usr/bin/env bash
# Exit statuses and messages for scripts and cron, the same everywhere (performlua, its
# subcommands, every example script): 0 done, 1 the script failed, 2 a usage or configuration
# error. A usage error is one line, without a traceback (--debug or PERFORMLUA_DEBUG=1 shows
# it); other tracebacks show the user's frames only. Nothing a user reads names performlua's
# own source files (lua/performlua/..., runtime/...).
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
: "${PERFORMLUA_SOURCE_DIR:?PERFORMLUA_SOURCE_DIR must name the source tree}"
unset LUA_INIT LUA_INIT_5_4 PERFORMLUA_PATH PERFORMLUA_TRACE PERFORMLUA_PROFILE PERFORMLUA_DEBUG
unset PERFORMLUA_CLIENT_ID PERFORMLUA_CLIENT_SECRET PERFORMLUA_AUTH_URL PERFORMLUA_SUBDOMAIN
unset PERFORMLUA_ACCOUNT_ID PERFORMLUA_SOAP_URL PERFORMLUA_USERNAME PERFORMLUA_PASSWORD
unset PERFORMLUA_LOG_JSON PERFORMLUA_LUA_DIR
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache"
SCRIPTS="$PERFORMLUA_SOURCE_DIR/scripts"
all_err="$work/all-stderr"   # what users read from every failing command below
: >"$all_err"

run() { set +e; "$@" >"$work/.out" 2>"$work/.err" </dev/null; rc=$?; set -e; out=$(cat "$work/.out"); err=$(cat "$work/.err"); cat "$work/.err" >>"$all_err"; }
fail() { echo "FAIL: $1"; echo "--- status $rc"; echo "--- stdout:"; printf '%s\n' "$out"; echo "--- stderr:"; printf '%s\n' "$err"; exit 1; }
status() { [ "$rc" = "$2" ] || fail "$1: exit status $rc, expected $2"; }
one_line() { [ "$(wc -l <<<"$err")" = 1 ] && [ -n "$err" ] || fail "$1: stderr is not one line"; }
no_traceback() { ! grep -q 'stack traceback' <<<"$err" || fail "$1: a traceback"; }

# --- performlua itself ---------------------------------------------------------------------
run "$PERFORMLUA" -e 'print("ok")'
status "success" 0
run "$PERFORMLUA" --no-such-flag
status "an unknown flag" 2
[ "$(head -1 <<<"$err")" = "performlua: unrecognized option '--no-such-flag'" ] || fail "unknown flag: message"
run "$PERFORMLUA" no-such-script.lua
status "a script that is not there" 2
one_line "missing script"
run "$PERFORMLUA" -e 'error("the script broke")'
status "a script error" 1
[ "$(head -2 <<<"$err")" = "$(printf 'performlua: (command line):1: the script broke\nstack traceback:')" ] || fail "script error: message"

# a usage error (a missing setting) from a script: one line naming the script's line
cat >connect.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
LUA
run "$PERFORMLUA" connect.lua
status "missing settings" 2
one_line "missing settings"
no_traceback "missing settings"
[[ "$err" == "performlua: usage error: connect.lua:2: mc.connect: missing settings: client_id (PERFORMLUA_CLIENT_ID), "* ]] || fail "missing settings: message"
# a misspelt type, a misspelt retrieve (checked before anything is sent)
run "$PERFORMLUA" -e 'local mc = require "performlua"; mc.EmailSendDefinition{CustomerKy = "x"}'
status "a misspelt field" 2
[ "$err" = "performlua: usage error: (command line):1: EmailSendDefinition has no field 'CustomerKy' (did you mean 'CustomerKey'?)" ] || fail "misspelt field: message"
run "$PERFORMLUA" --sandbox -e 'local mc = require "performlua"; mc.connect():retrieve("Sends", {"ID"})'
status "a misspelt object type" 2
one_line "misspelt object type"
[[ "$err" == *"there is no object type 'Sends' (did you mean 'Send'?)"* ]] || fail "misspelt object type: message"

# --debug and PERFORMLUA_DEBUG=1: the whole traceback, performlua's own frames included
run "$PERFORMLUA" --debug connect.lua
status "--debug" 2
grep -q '^stack traceback:' <<<"$err" || fail "--debug: no traceback"
grep -q 'lua/performlua/config.lua' <<<"$err" || fail "--debug: performlua's frames are hidden"
run env PERFORMLUA_DEBUG=1 "$PERFORMLUA" connect.lua
status "PERFORMLUA_DEBUG=1" 2
grep -q 'lua/performlua/config.lua' <<<"$err" || fail "PERFORMLUA_DEBUG=1: performlua's frames are hidden"
: >"$all_err"   # the --debug runs show the internals on purpose

# a configuration error: a config file others can read is refused, naming the file
mkdir -p "$XDG_CONFIG_HOME/performlua"
printf 'profiles = {prod = {client_id = "a", client_secret = "b", subdomain = "c"}}\n' >"$XDG_CONFIG_HOME/performlua/config.lua"
chmod 644 "$XDG_CONFIG_HOME/performlua/config.lua"
run "$PERFORMLUA" --profile prod connect.lua
status "a readable config file" 2
one_line "config file"
[[ "$err" == *"$XDG_CONFIG_HOME/performlua/config.lua can be read or changed by other users (mode 644)"* ]] || fail "config file: message"
rm -rf "$XDG_CONFIG_HOME"

# an error that is not a usage error, raised deep inside performlua: the traceback shows the
# script's frames only
cat >unreachable.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect{client_id = "id", client_secret = "secret-value", auth_url = "http://127.0.0.1:9/",
  retries = 0, token_cache = false}
local function count() return c:perform("count", mc.AudienceDefinition{CustomerKey = "a"}) end
local r = count()
print(r)
LUA
run "$PERFORMLUA" unreachable.lua
status "no answer" 1
[[ "$(head -1 <<<"$err")" == "performlua: transport error: token request to http://127.0.0.1:9/v2/token could not be sent: "* ]] || fail "no answer: message"
[ "$(sed -n 2p <<<"$err")" = "stack traceback:" ] || fail "no answer: traceback"
grep -q 'unreachable.lua:5: in main chunk' <<<"$err" || fail "no answer: the script's frame"
! grep -q 'secret-value' <<<"$err" || fail "a secret in a message"

# --- the subcommands ------------------------------------------------------------------------
run "$PERFORMLUA" sandbox --port nope
status "sandbox: a bad option" 2
run "$PERFORMLUA" sandbox --seed "$work/no-such-seed.lua" --port 0
status "sandbox: cannot start" 1
run "$PERFORMLUA" doctor --bogus
status "doctor: a bad option" 2
run "$PERFORMLUA" doctor
status "doctor: a check failed (no settings)" 1

# --- every example script -------------------------------------------------------------------
for script in clone_count_send import_and_wait export_data_extension manage_send start_many; do
  run "$PERFORMLUA" "$SCRIPTS/$script.lua" --no-such-option
  status "$script: a bad option" 2
  run "$PERFORMLUA" "$SCRIPTS/$script.lua"
  status "$script: missing settings" 2
  grep -q "mc.connect: missing settings" <<<"$err" || fail "$script: missing settings: message"
  no_traceback "$script: missing settings"
done
run "$PERFORMLUA" --sandbox "$SCRIPTS/clone_count_send.lua" no-such-audience
status "clone_count_send: a wrong key" 1
run "$PERFORMLUA" --sandbox "$SCRIPTS/manage_send.lua" status 123
status "manage_send: an unknown send" 1

# --- nothing a user read named performlua's own files -----------------------------------------
if grep -nE 'lua/performlua/|runtime/|\.lua:[0-9]+: in (function|upvalue|local|method|field) .performlua' "$all_err"; then
  echo "FAIL: messages name performlua's own source files (above)"; exit 1
fi
echo "exit_codes: all passed"
