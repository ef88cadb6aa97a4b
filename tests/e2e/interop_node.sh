#!/usr/bin/env bash
# Third-party clients against the sandbox: the npm packages sfmc-sdk and fuel-soap (which no
# one here wrote) create, perform and retrieve through `performlua sandbox`. The packages are
# installed with npm into the build directory (tests/interop/package.json pins them), so the
# source tree stays clean. Needs Node.js >= 18 and npm, and the npm registry on first run.
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
src="${PERFORMLUA_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
work="${PERFORMLUA_BUILD_DIR:-/tmp}/interop"

# What this machine lacks (Node.js, npm, the npm registry: a machine without network) skips
# the test (77: ctest reports SKIPPED) with the reason; with CI=true it fails instead.
skip() {
  echo "interop_node: $*" >&2
  if [ "${CI:-}" = true ]; then exit 1; fi
  echo "interop_node: SKIPPED" >&2
  exit 77
}
if ! command -v node >/dev/null 2>&1; then
  skip "Node.js is not installed (the 'node' command is missing), so sfmc-sdk and fuel-soap" \
       "cannot run. Install it (Debian: apt-get install nodejs npm) to run this test."
fi
if ! command -v npm >/dev/null 2>&1; then
  skip "npm is not installed, so sfmc-sdk and fuel-soap cannot be installed. Install it" \
       "(Debian: apt-get install npm) to run this test."
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  echo "interop_node: Node.js $(node --version) is too old: the scripts need Node.js 18 or newer (fetch)." >&2
  exit 1
fi

mkdir -p "$work"
cp "$src/tests/interop/package.json" "$src/tests/interop/sfmc_sdk.mjs" "$src/tests/interop/fuel_soap.js" "$work/"
if [ ! -d "$work/node_modules/sfmc-sdk" ] || [ ! -d "$work/node_modules/fuel-soap" ] \
   || [ "$work/package.json" -nt "$work/node_modules/.package-lock.json" ]; then
  # one retry, soon: a machine without network should learn it in seconds, not minutes
  if ! (cd "$work" && npm install --no-audit --no-fund --loglevel=error --fetch-retries=1 \
          --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 >"$work/npm.log" 2>&1); then
    cat "$work/npm.log" >&2
    skip "'npm install' of sfmc-sdk and fuel-soap failed (above): is the npm registry reachable?"
  fi
fi

# start_sandbox NAME ARGS...: a `performlua sandbox` in the background; sets url and pid_NAME
pids=()
trap 'for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done' EXIT
start_sandbox() {
  local log="$work/sandbox-$1.log"
  shift
  "$PERFORMLUA" sandbox --port 0 "$@" >"$log" 2>&1 &
  pids+=($!)
  url=""
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^  auth base URL:  \(http[^ ]*\).*/\1/p' "$log")
    [ -n "$url" ] && return 0
    sleep 0.05
  done
  echo "interop_node: the sandbox ($*) did not start:" >&2
  cat "$log" >&2
  exit 1
}

cd "$work"
start_sandbox plain
SANDBOX_URL="$url" node sfmc_sdk.mjs
SANDBOX_URL="$url" node fuel_soap.js

# Again against a validating sandbox, which reads requests as the service does: fuel-soap's
# (Body before Header) and sfmc-sdk's (its Create leaves out the Options element the XSD
# requires and the service does not) are both taken.
if [ -n "${PERFORMLUA_WSDL:-}" ]; then
  start_sandbox wsdl --wsdl "$PERFORMLUA_WSDL" --log
  SANDBOX_URL="$url" node sfmc_sdk.mjs
  SANDBOX_URL="$url" node fuel_soap.js
  # neither client sends an element the service would skip
  if grep -q 'DROPPED' "$work/sandbox-wsdl.log"; then
    cat "$work/sandbox-wsdl.log" >&2
    echo "interop_node: the validating sandbox dropped elements of a client's request" >&2
    exit 1
  fi
fi

for p in "${pids[@]}"; do
  kill -TERM "$p"
  wait "$p"
done
trap - EXIT
grep -q "performlua sandbox: stopped (SIGTERM)" "$work/sandbox-plain.log"
echo "interop_node: sfmc-sdk and fuel-soap work against the sandbox"
