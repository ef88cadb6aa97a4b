#!/usr/bin/env bash
# luacheck over the Lua of the repository (lua/, scripts/, tests/spec) with its .luacheckrc:
# any warning fails the suite, so the next change starts from a clean report.
set -euo pipefail
cd "${PERFORMLUA_SOURCE_DIR:-$(dirname "$0")/../..}"
if ! command -v luacheck >/dev/null 2>&1; then
  echo "FAIL: luacheck is not installed (Debian package lua-check; ./setup.sh installs it)"
  exit 1
fi
luacheck --no-color --codes --formatter plain lua scripts tests/spec
echo "luacheck: clean"
