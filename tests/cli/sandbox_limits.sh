#!/usr/bin/env bash
# `performlua sandbox` with its limits set from the command line: each flag reaches the server,
# and a client that hits one gets an answer it can read (a SOAP fault, JSON on the token
# endpoint) before its body is sent. The server's own tests of every limit are
# tests/c/test_sandbox_limits.c.
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
unset LUA_INIT LUA_INIT_5_4 COLUMNS
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export HOME="$work" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
fail() { echo "FAIL: $*"; exit 1; }

"$PERFORMLUA" sandbox --max-body 1000 --body-budget 5000 --max-connections 50 --max-per-ip 10 \
  --idle-timeout 5 --min-rate 100 >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
for _ in $(seq 200); do grep -q '^Stop with Ctrl-C' "$work/serve.out" && break; sleep 0.05; done
grep -qx '  limits: --max-body 1000 --body-budget 5000 --max-connections 50 --max-per-ip 10 --idle-timeout 5 --min-rate 100' \
  "$work/serve.out" || { cat "$work/serve.out" "$work/serve.err"; fail "limits not shown"; }
base=$(sed -n 's/^  auth base URL: *\(http:[^ ]*\).*/\1/p' "$work/serve.out")

head -c 2000 /dev/zero | tr '\0' x >big.txt
# Expect: 100-continue makes curl wait for the server's word before the body: it gets 413
status=$(curl -s -o soap.out -w '%{http_code}' -H 'Expect: 100-continue' -H 'Content-Type: text/xml' \
  -H 'SOAPAction: Retrieve' --data-binary @big.txt "${base}Service.asmx")
[ "$status" = 413 ] || fail "SOAP 413: got $status"
grep -q '<faultcode>soap:Client</faultcode><faultstring>Request body too large: 2000 bytes, this sandbox accepts at most 1000 (performlua sandbox --max-body)</faultstring>' soap.out \
  || fail "SOAP 413 body: $(cat soap.out)"
status=$(curl -s -o token.out -w '%{http_code}' -H 'Expect: 100-continue' \
  -H 'Content-Type: application/json' --data-binary @big.txt "${base}v2/token")
[ "$status" = 413 ] || fail "token 413: got $status"
grep -q '"error": "request_too_large"' token.out || fail "token 413 body: $(cat token.out)"

# within the limits the sandbox answers as always
status=$(curl -s -o ok.out -w '%{http_code}' -H 'Content-Type: application/json' \
  --data '{"grant_type":"client_credentials","client_id":"sandbox","client_secret":"sandbox"}' \
  "${base}v2/token")
[ "$status" = 200 ] || fail "token: got $status $(cat ok.out)"
grep -q '"access_token"' ok.out || fail "token body: $(cat ok.out)"

kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
pid=
[ "$rc" = 0 ] || fail "sandbox exit status $rc"

# a limit out of range is a usage error
set +e; "$PERFORMLUA" sandbox --max-per-ip 0 >/dev/null 2>"$work/err"; rc=$?; set -e
[ "$rc" = 2 ] || fail "--max-per-ip 0: status $rc"
grep -q "^performlua sandbox: --max-per-ip needs a whole number of at least 1 (got '0')$" "$work/err" \
  || fail "--max-per-ip 0: $(cat "$work/err")"
echo "sandbox_limits: all passed"
