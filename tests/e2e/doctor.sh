#!/usr/bin/env bash
# performlua doctor: the settings in use and where each came from (secrets masked), then one
# PASS or FAIL line per check; exit status 0 only when every check passes. Against a sandbox in
# its own process (as a real account is reached), the embedded one, an unreachable auth URL, no
# settings at all, and a libcurl that does not load.
source "$(dirname "$0")/lib/scripts.sh"
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache"
checks() { grep -E '^(PASS|FAIL) ' <<<"$out" | sed -E 's/^(PASS|FAIL) ([^:]*):.*/\1 \2/'; }
expect_checks() { [ "$(checks)" = "$2" ] || fail "$1: the checks were
$(checks)"; }

# a sandbox in its own process, reached through the environment as a real account would be
start_sandbox
export PERFORMLUA_CLIENT_SECRET=sandbox-secret-value
run "$PERFORMLUA" doctor
# the sandbox's secret is "sandbox": the value above is refused, as a wrong secret would be
expect_status "a wrong secret" 1
expect_checks "a wrong secret" "$(printf 'PASS libcurl\nPASS settings\nFAIL token\nFAIL SOAP endpoint\nFAIL account\nFAIL system status')"
expect_match "a wrong secret: the reason" "^FAIL token: auth error: token request to ${SANDBOX_AUTH_URL}v2/token was refused \(HTTP 401\)"
! grep -q sandbox-secret-value <<<"$out$err" || fail "the secret was printed"

export PERFORMLUA_CLIENT_SECRET=sandbox
run "$PERFORMLUA" doctor
expect_status "the sandbox" 0
expect_checks "the sandbox" "$(printf 'PASS libcurl\nPASS settings\nPASS token\nPASS SOAP endpoint\nPASS account\nPASS system status')"
expect_match "settings: client_id and where it came from" "^  client_id +sandbox +the environment \(PERFORMLUA_CLIENT_ID\)$"
expect_match "settings: the secret masked" "^  client_secret +\*\*\*\*\*\*\*\* \(hidden\) +the environment \(PERFORMLUA_CLIENT_SECRET\)$"
expect_match "settings: auth_url" "^  auth_url +${SANDBOX_AUTH_URL} +the environment \(PERFORMLUA_AUTH_URL\)$"
expect_line "the SOAP endpoint" "PASS SOAP endpoint: ${SANDBOX_AUTH_URL}Service.asmx (from the token answer)"
expect_line "the account" 'PASS account: MID 7281698, "Acme (sandbox)"'
expect_line "the system status" "PASS system status: OK"
expect_line "the verdict" "All 6 checks passed."

# the embedded sandbox: --sandbox applies to the subcommand as to a script
unset PERFORMLUA_CLIENT_ID PERFORMLUA_CLIENT_SECRET PERFORMLUA_AUTH_URL
run "$PERFORMLUA" --sandbox doctor
expect_status "--sandbox" 0
expect_match "--sandbox: where the settings came from" "^  client_id +sandbox +the default account \(sandbox\)$"

# an unreachable auth URL: a transport error on the token, the rest not checked
run env PERFORMLUA_CLIENT_ID=id PERFORMLUA_CLIENT_SECRET=hidden-secret PERFORMLUA_AUTH_URL=http://127.0.0.1:9/ "$PERFORMLUA" doctor
expect_status "unreachable" 1
expect_checks "unreachable" "$(printf 'PASS libcurl\nPASS settings\nFAIL token\nFAIL SOAP endpoint\nFAIL account\nFAIL system status')"
expect_match "unreachable: a transport error" "^FAIL token: transport error: token request to http://127.0.0.1:9/v2/token could not be sent: "
expect_line "unreachable: not checked" "FAIL account: not checked: no SOAP endpoint"
expect_line "unreachable: the verdict" "4 of 6 checks failed."
! grep -q hidden-secret <<<"$out$err" || fail "unreachable: the secret was printed"

# no settings at all
run "$PERFORMLUA" doctor
expect_status "no settings" 1
expect_match "no settings: what is missing" "^FAIL settings: usage error: mc.connect: missing settings: client_id \(PERFORMLUA_CLIENT_ID\)"
expect_line "no settings: the verdict" "5 of 6 checks failed."
expect_match "no settings: libcurl still checked" "^PASS libcurl: [0-9]+\.[0-9]+"

# libcurl that does not load (here a library of that name without its functions, found first
# through LD_LIBRARY_PATH): the first check says so and names the package; nothing else runs
mkdir -p "$work/nocurl"
libm=$(ldconfig -p | sed -n 's/^\s*libm\.so\.6 .*=> //p' | head -n1)
cp "$libm" "$work/nocurl/libcurl.so.4"
run env LD_LIBRARY_PATH="$work/nocurl" PERFORMLUA_CLIENT_ID=id PERFORMLUA_CLIENT_SECRET=hidden-secret PERFORMLUA_AUTH_URL=https://auth.example/ "$PERFORMLUA" doctor
expect_status "no libcurl" 1
expect_checks "no libcurl" "$(printf 'FAIL libcurl\nFAIL settings\nFAIL token\nFAIL SOAP endpoint\nFAIL account\nFAIL system status')"
expect_match "no libcurl: the reason" "^FAIL libcurl: .*libcurl\.so\.4.*libcurl4"
expect_line "no libcurl: not checked" "FAIL settings: not checked: libcurl is not available"
expect_line "no libcurl: the verdict" "6 of 6 checks failed."
echo "ok"
