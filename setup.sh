#!/usr/bin/env bash
# Installs what performlua needs on Debian 12 (as root, or through sudo when available),
# then configures and builds it into build/. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")"

packages=(build-essential cmake pkg-config liblua5.4-dev lua5.4 libcurl4-openssl-dev libxml2-dev
          libxml2-utils libedit-dev libmicrohttpd-dev libjansson-dev libsqlite3-dev sqlite3
          libmimalloc-dev lua-busted lua-check valgrind clang libclang-rt-14-dev curl
          ca-certificates)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js and npm run the third-party client interop test (tests/e2e/interop_node.sh): Debian's
# packages unless node and npm are already there (e.g. from NodeSource, which bundles npm).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  for p in nodejs npm; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The tests that validate against the official WSDL find it through -DPERFORMLUA_WSDL,
# PERFORMLUA_WSDL or ../shared/wsdl/etframework.wsdl (CMakeLists.txt). Otherwise fetch the
# service's public copy into build/wsdl/ when its address answers; it is Salesforce's document
# and is never committed. Without network this fails within seconds and those tests are skipped.
WSDL_URL=https://webservice.exacttarget.com/etframework.wsdl
wsdl_copy=build/wsdl/etframework.wsdl
configured_wsdl=$(sed -n 's/^PERFORMLUA_WSDL:FILEPATH=//p' build/CMakeCache.txt 2>/dev/null || true)
if [ -z "${PERFORMLUA_WSDL:-}" ] && [ -z "$configured_wsdl" ] &&
   [ ! -f ../shared/wsdl/etframework.wsdl ] && [ ! -f "$wsdl_copy" ]; then
  mkdir -p build/wsdl
  if curl --fail --silent --show-error --location --connect-timeout 5 --max-time 120 \
          --output "$wsdl_copy.part" "$WSDL_URL" &&
     grep -q '<\(wsdl:\)\?definitions' "$wsdl_copy.part"; then
    mv "$wsdl_copy.part" "$wsdl_copy"
    echo "setup: downloaded the WSDL from $WSDL_URL into $wsdl_copy"
  else
    rm -f "$wsdl_copy.part"
    echo "setup: no WSDL (could not download $WSDL_URL): the tests that validate against it" \
         "will be skipped"
  fi
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
