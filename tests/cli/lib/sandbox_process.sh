# Shared by the CLI tests that run `performlua sandbox` as a process of its own: a clean
# environment in a private directory, `fail` printing the files named, and the sandbox's
# start, stop and a client run pointed at it by the banner's export lines.
# Sourced, not run (this directory is not searched for tests).
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
unset LUA_INIT LUA_INIT_5_4 COLUMNS
unset PERFORMLUA_CLIENT_ID PERFORMLUA_CLIENT_SECRET PERFORMLUA_USERNAME PERFORMLUA_PASSWORD \
  PERFORMLUA_SUBDOMAIN PERFORMLUA_AUTH_URL PERFORMLUA_ACCOUNT_ID PERFORMLUA_SOAP_URL \
  PERFORMLUA_PROFILE PERFORMLUA_TRACE
work=$(mktemp -d)
pid=
# KILL: a sandbox left running by a failed test must not outlive it
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export HOME="$work" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state" XDG_CACHE_HOME="$work/cache"
fail() { echo "FAIL: $1"; shift; for f in "$@"; do echo "--- $f"; cat "$f"; done; exit 1; }

# start OPTIONS...: `performlua sandbox OPTIONS` in the background, its banner in serve.out
# (its log in serve.err), the banner's export lines in exports.sh
start() {
  "$PERFORMLUA" sandbox "$@" >"$work/serve.out" 2>"$work/serve.err" &
  pid=$!
  for _ in $(seq 600); do grep -q '^Stop with Ctrl-C' "$work/serve.out" && break; sleep 0.05; done
  grep -q '^Stop with Ctrl-C' "$work/serve.out" || fail "the sandbox did not start ($*)" serve.out serve.err
  sed -n 's/^  \(export PERFORMLUA_[A-Z_]*=.*\)$/\1/p' serve.out >exports.sh
}

# stop [SIGNAL]: ends the sandbox (SIGTERM unless another signal is given) and waits for it
stop() {
  kill "-${1:-TERM}" "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}

# run ARGS...: performlua ARGS with the sandbox's export lines, as a user pastes them
run() { (. ./exports.sh && "$PERFORMLUA" "$@") ; }
