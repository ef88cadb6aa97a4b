#!/usr/bin/env bash
# A sandbox people can watch: `performlua sandbox --log` prints one line per request on stderr
# (time, operation, object types, HTTP status, milliseconds, injected fault); the banner's
# `export PERFORMLUA_...` lines, pasted into another shell, point a script at it; an address that
# is not loopback gets a warning that the credentials are fixed and public.
source "$(dirname "$0")/lib/sandbox_process.sh"

# every third SOAP request is throttled: the client retries it, and the log says which it was
start --log --fault throttle:3
grep -qx '  logging one line per request on stderr' serve.out || fail "no --log line in the banner" serve.out

# the banner's export lines, as a user pastes them: every setting a script needs, nothing else
[ "$(cut -d= -f1 exports.sh | tr '\n' ' ')" = "export PERFORMLUA_AUTH_URL export PERFORMLUA_CLIENT_ID export PERFORMLUA_CLIENT_SECRET export PERFORMLUA_SOAP_URL " ] \
  || fail "the export lines" exports.sh
cat > count.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
for _ = 1, 3 do
  local n = 0
  for _ in c:each("Send", {"ID"}) do n = n + 1 end
  io.write(n > 0 and "sends " or "none ")
end
print(c:system_status().Results[1].SystemStatus)
LUA
set +e
(. ./exports.sh && "$PERFORMLUA" count.lua) >script.out 2>script.err
rc=$?
set -e
[ "$rc" = 0 ] || fail "a script with the exported settings (status $rc)" script.out script.err
[ "$(cat script.out)" = "sends sends sends OK" ] || fail "the script's output" script.out script.err

kill -TERM "$pid"
wait "$pid" || true
pid=

# one line per request: the token, then 3 Retrieves of Send (one of them throttled, then
# retried) and a GetSystemStatus: 5 SOAP requests
stamp='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
ms='[0-9]+\.[0-9] ms'
grep -qE "^$stamp  token  200  $ms$" serve.err || fail "no token line" serve.err
[ "$(grep -cE "^$stamp  Retrieve  Send  200  $ms$" serve.err)" = 3 ] || fail "3 Retrieve lines" serve.err
grep -qE "^$stamp  Retrieve  500  $ms  injected fault throttle  fault: Rate Limited$" serve.err \
  || fail "the throttled request's line" serve.err
grep -qE "^$stamp  GetSystemStatus  200  $ms$" serve.err || fail "no GetSystemStatus line" serve.err
[ "$(grep -cE "^$stamp  " serve.err)" = 6 ] || fail "one line per request (6)" serve.err
# a secret never reaches the log
if grep -q 'sandbox' serve.err; then fail "the log shows a credential" serve.err; fi

# without --log the sandbox prints nothing per request
"$PERFORMLUA" sandbox >"$work/quiet.out" 2>"$work/quiet.err" &
pid=$!
for _ in $(seq 200); do grep -q '^Stop with Ctrl-C' "$work/quiet.out" && break; sleep 0.05; done
(eval "$(sed -n 's/^  \(export PERFORMLUA_[A-Z_]*=.*\)$/\1/p' quiet.out)" && "$PERFORMLUA" count.lua) >/dev/null
kill -TERM "$pid"
wait "$pid" || true
pid=
[ ! -s quiet.err ] || fail "a sandbox without --log wrote to stderr" quiet.err

# an address other than loopback: a warning first (here the address cannot be had, so the
# sandbox then stops with status 1; the warning comes whether or not it starts)
set +e
"$PERFORMLUA" sandbox --host 192.0.2.1 >host.out 2>host.err
rc=$?
set -e
[ "$rc" = 1 ] || fail "--host 192.0.2.1: status $rc" host.out host.err
head -1 host.err | grep -qF "performlua sandbox: warning: 192.0.2.1 is not a loopback address, so other machines can reach this sandbox, and its credentials are fixed and public" \
  || fail "no warning for a non-loopback address" host.err
# loopback addresses get none
"$PERFORMLUA" sandbox --host 127.0.0.2 >lo.out 2>lo.err &
pid=$!
for _ in $(seq 200); do grep -q '^Stop with Ctrl-C' "$work/lo.out" && break; sleep 0.05; done
grep -q '^Stop with Ctrl-C' lo.out || fail "the sandbox on 127.0.0.2 did not start" lo.out lo.err
kill -TERM "$pid"
wait "$pid" || true
pid=
[ ! -s lo.err ] || fail "a warning for a loopback address" lo.err
echo "cli_sandbox_watch: ok"
