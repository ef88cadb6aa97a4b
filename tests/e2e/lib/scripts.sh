# Shared by tests/e2e/scripts_*.sh: run a command, assert on its output, start a sandbox in its
# own process. Sourced, not run (this directory is not searched for tests).
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
: "${PERFORMLUA_SOURCE_DIR:?PERFORMLUA_SOURCE_DIR must name the source tree}"
unset LUA_INIT LUA_INIT_5_4 PERFORMLUA_PATH PERFORMLUA_TRACE PERFORMLUA_PROFILE
unset PERFORMLUA_CLIENT_ID PERFORMLUA_CLIENT_SECRET PERFORMLUA_AUTH_URL PERFORMLUA_SUBDOMAIN
unset PERFORMLUA_ACCOUNT_ID PERFORMLUA_SOAP_URL PERFORMLUA_USERNAME PERFORMLUA_PASSWORD
SCRIPTS="$PERFORMLUA_SOURCE_DIR/scripts"
work=$(mktemp -d)
# A run journal of the test's own: the scripts keep one (mc.step), and a shared one let a
# fresh sandbox that got the port of an old test's sandbox continue that test's unfinished run
# (the journal knows an account by its address; run 218 of the ASan build's journal was
# continued so against an account without its copy)
export XDG_STATE_HOME="$work/state"
sandbox_pid=
cleanup() {
  if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# run CMD...: sets rc, out (stdout) and err (stderr); never stops the test by itself
run() { set +e; "$@" >"$work/.out" 2>"$work/.err" </dev/null; rc=$?; set -e; out=$(cat "$work/.out"); err=$(cat "$work/.err"); }

fail() {
  echo "FAIL: $1"
  echo "--- exit status: ${rc:-?}"; echo "--- stdout:"; printf '%s\n' "${out:-}"; echo "--- stderr:"; printf '%s\n' "${err:-}"
  exit 1
}
# expect_status DESC N
expect_status() { [ "$rc" = "$2" ] || fail "$1: exit status $rc, expected $2"; }
# expect_line DESC TEXT: stdout has a line exactly TEXT
expect_line() { grep -Fxq -- "$2" <<<"$out" || fail "$1: no line '$2' in stdout"; }
# expect_err_line DESC TEXT: stderr has a line exactly TEXT
expect_err_line() { grep -Fxq -- "$2" <<<"$err" || fail "$1: no line '$2' in stderr"; }
# expect_match DESC REGEX: some stdout line matches the extended regex
expect_match() { grep -Eq -- "$2" <<<"$out" || fail "$1: no line matching /$2/ in stdout"; }
# expect_no_match DESC REGEX
expect_no_match() { ! grep -Eq -- "$2" <<<"$out" || fail "$1: unexpected line matching /$2/ in stdout"; }
# expect_empty_err DESC
expect_empty_err() { [ -z "$err" ] || fail "$1: stderr is not empty"; }

# start_sandbox [ARGS...]: `performlua sandbox` in its own process on a free port; sets
# SANDBOX_AUTH_URL and points the PERFORMLUA_* account variables at it (as a user would point
# them at a real account: scripts then run without --sandbox, so they act as in production).
start_sandbox() {
  # emptied first: the background start truncates it only when it gets to run, and the loop
  # below would read the previous sandbox's URL until then
  : >"$work/.sandbox.out"
  "$PERFORMLUA" sandbox --port 0 "$@" >"$work/.sandbox.out" 2>"$work/.sandbox.err" &
  sandbox_pid=$!
  local i
  for i in $(seq 1 100); do
    SANDBOX_AUTH_URL=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+/' "$work/.sandbox.out" | head -n1 || true)
    [ -n "$SANDBOX_AUTH_URL" ] && break
    kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/.sandbox.err"; echo "FAIL: the sandbox did not start"; exit 1; }
    sleep 0.1
  done
  [ -n "$SANDBOX_AUTH_URL" ] || { echo "FAIL: no URL from the sandbox"; cat "$work/.sandbox.out"; exit 1; }
  export PERFORMLUA_AUTH_URL="$SANDBOX_AUTH_URL" PERFORMLUA_CLIENT_ID=sandbox PERFORMLUA_CLIENT_SECRET=sandbox
}
