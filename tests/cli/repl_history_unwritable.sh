#!/usr/bin/env bash
# The REPL without a usable history directory: one warning naming the cause, and the session
# works (it used to lose every line typed without a word).
source "$(dirname "$0")/lib/pty.sh"
session() {
  set +e
  "$ptyrun" -t 20 -o "$work/transcript" -- "$@" 2>"$work/ptyrun.err"
  rc=$?
  set -e
  if [ "$rc" = 124 ]; then cat "$work/ptyrun.err"; exit 1; fi
}
steps='prompt > 
send 6*7\r
expect 42
prompt > 
send os.exit(0)\r'

touch "$work/afile"
session env XDG_STATE_HOME="$work/afile/x" "$PERFORMLUA" <<<"$steps"
[ "$rc" = 0 ] || fail "unwritable: exit status $rc"
grep -qF "performlua: warning: no REPL history this session: cannot create the directory for $work/afile/x/performlua/history (Not a directory); set XDG_STATE_HOME to a writable directory" \
  "$work/transcript" || fail "unwritable: warning"
grep -qx "42" <(tr -d '\r' <"$work/transcript") || fail "unwritable: the session did not work"

session env -u HOME -u XDG_STATE_HOME "$PERFORMLUA" <<<"$steps"
[ "$rc" = 0 ] || fail "no HOME: exit status $rc"
grep -qF "performlua: warning: no REPL history this session: neither XDG_STATE_HOME nor HOME is set" \
  "$work/transcript" || fail "no HOME: warning"

session "$PERFORMLUA" <<<"$steps"
! grep -q "warning" "$work/transcript" || fail "usable directory: unexpected warning"
echo ok
