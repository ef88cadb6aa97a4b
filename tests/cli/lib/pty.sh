# Shared by the REPL tests that drive performlua through a pseudo-terminal (tests/tools/ptyrun.c):
# a clean environment, a private history directory, and `fail` printing the transcript.
# Sourced, not run (this directory is not searched for tests).
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
: "${PERFORMLUA_TOOLS_DIR:?PERFORMLUA_TOOLS_DIR must name the test tools directory}"
unset LUA_INIT LUA_INIT_5_4 COLUMNS LANG LC_ALL LC_CTYPE
ptyrun="$PERFORMLUA_TOOLS_DIR/ptyrun"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_STATE_HOME="$work/state" TERM=xterm

fail() { echo "FAIL: $*"; echo "--- transcript ---"; cat "$work/transcript" 2>/dev/null; exit 1; }
