#!/usr/bin/env bash
# libcurl, libxml2, libmicrohttpd, libedit, SQLite and mimalloc are loaded on first use (runtime/util/dynlib.h): a run
# that needs none of them starts without them, and one that needs a missing one gets a clear
# error naming the library and its Debian package, never a crash. The libraries are hidden
# by mounting /dev/null over them in a private mount namespace (unshare), so the test is
# skipped where unprivileged user namespaces are not allowed.
source "$(dirname "$0")/lib/pty.sh"
command -v unshare >/dev/null && unshare -rm true 2>/dev/null \
  || { echo "SKIP: unshare -rm (user and mount namespaces) is not available"; exit 77; }

# lib SONAME: where the dynamic linker finds it
lib() {
  local path
  path=$(/sbin/ldconfig -p | awk -v n="$1" '$1 == n && /x86-64|64bit|AArch64|aarch64/ {print $NF; exit}')
  [ -n "$path" ] || path=$(/sbin/ldconfig -p | awk -v n="$1" '$1 == n {print $NF; exit}')
  [ -n "$path" ] || { echo "FAIL: $1 not in the linker cache"; exit 1; }
  readlink -f "$path"
}
curl=$(lib libcurl.so.4)
mhd=$(lib libmicrohttpd.so.12)
edit=$(lib libedit.so.2)
sqlite=$(lib libsqlite3.so.0)
xml2=$(lib libxml2.so.2)

# without LIBS... COMMAND...: runs COMMAND with those libraries unreadable; sets rc, out, err
without() {
  local hide=()
  while [ "$1" != -- ]; do hide+=("$1"); shift; done
  shift
  set +e
  unshare -rm sh -c 'n=$1; shift; i=0
    while [ $i -lt $n ]; do mount --bind /dev/null "$1" || exit 125; shift; i=$((i+1)); done
    exec "$@"' sh "${#hide[@]}" "${hide[@]}" "$@" >"$work/out" 2>"$work/err"
  rc=$?
  set -e
  out=$(cat "$work/out"); err=$(cat "$work/err")
}
expect_rc() { [ "$rc" = "$1" ] || { echo "FAIL: $2: status $rc, not $1"; echo "$out"; echo "$err"; exit 1; }; }
has() { grep -qF -- "$2" <<<"$1" || { echo "FAIL: $3: no '$2' in:"; echo "$1"; exit 1; }; }
# version_without LIB NAME SONAME: --version runs without LIB and says NAME is not loaded
version_without() {
  without "$1" -- "$PERFORMLUA" --version
  expect_rc 0 "--version without $2"
  has "$out" "$2 (not loaded: cannot load the shared library $3" "--version without $2"
}
# sandbox_without LIB NAME TEXT: without LIB the sandbox does not start, says TEXT, and the
# script does not run
sandbox_without() {
  without "$1" -- "$PERFORMLUA" --sandbox -e 'print("ran")'
  [ "$rc" != 0 ] && [ "$rc" -lt 128 ] || { echo "FAIL: sandbox without $2: status $rc"; echo "$err"; exit 1; }
  has "$err" "$3" "sandbox without $2"
  if grep -qx ran <<<"$out"; then echo "FAIL: the script ran without its sandbox"; exit 1; fi
}

# 1. Scripts that make no HTTP call, start no sandbox and open no REPL need none of them.
without "$curl" "$xml2" "$mhd" "$edit" "$sqlite" -- "$PERFORMLUA" -e 'local mc = require "performlua"
  print(1 + 1, type(mc.EmailSendDefinition), mc.core ~= nil or true)'
expect_rc 0 "a plain script without the libraries"
[ "$(head -1 <<<"$out")" = "$(printf '2\tfunction\ttrue')" ] || [ "$(head -1 <<<"$out")" = "$(printf '2\ttable\ttrue')" ] \
  || { echo "FAIL: plain script output: $out / $err"; exit 1; }

# 2. No libcurl: the first call fails with a transport error naming it and its package.
without "$curl" -- "$PERFORMLUA" --sandbox -e \
  'local mc = require "performlua"; mc.connect():retrieve("Sends", {"ID"})'
expect_rc 1 "a call without libcurl"
has "$err" "cannot load the shared library libcurl.so.4 for HTTP requests" "no libcurl"
has "$err" "install the Debian package libcurl4" "no libcurl"
version_without "$curl" libcurl libcurl.so.4 # says so instead of crashing

# 3. No libmicrohttpd: the sandbox does not start, and says why.
sandbox_without "$mhd" libmicrohttpd \
  "cannot load the shared library libmicrohttpd.so.12 for the sandbox's HTTP server"
has "$err" "install the Debian package libmicrohttpd12" "no libmicrohttpd"

# 4. No libedit: the REPL on a terminal warns once and reads plain lines.
without "$edit" -- "$ptyrun" -t 20 -o "$work/transcript" -- "$PERFORMLUA" <<'STEPS'
expect > 
send 6*7\r
expect 42
send os.exit(0)\r
STEPS
expect_rc 0 "the REPL without libedit"
grep -qF "no line editing or history: cannot load the shared library libedit.so.2 for line editing in the REPL" \
  "$work/transcript" || fail "no warning about libedit"
grep -qF "install the Debian package libedit2" "$work/transcript" || fail "no package named for libedit"
grep -qx "42" <(tr -d '\r' <"$work/transcript") || fail "the REPL did not answer without libedit"
# 5. No SQLite: opening the run journal or any database fails with an error naming it.
without "$sqlite" -- "$PERFORMLUA" -e 'local core = require "performlua.core"
  local ok, err = pcall(core.sqlite_open, ":memory:")
  print(ok, err.kind, err.code, err.message)'
expect_rc 0 "core.sqlite_open without SQLite"
has "$out" "false	storage	SQLITE_ERROR	cannot open :memory:: cannot load the shared library libsqlite3.so.0" "no SQLite"
has "$out" "install the Debian package libsqlite3-0" "no SQLite"
version_without "$sqlite" SQLite libsqlite3.so.0
# the sandbox keeps its account in SQLite
sandbox_without "$sqlite" SQLite \
  "the sandbox could not start: cannot open :memory:: cannot load the shared library libsqlite3.so.0"

# 7. No libxml2: a script that reads no XML runs, and so does one that writes it (envelopes
#    are written without it, codec/xml_writer.c); the first decode fails with an error naming
#    the library and its package, and --version says it is not loaded.
without "$xml2" -- "$PERFORMLUA" -e 'local core = require "performlua.core"
  local ok, xml = pcall(core.encode, "Retrieve", {RetrieveRequest = {ObjectType = "Send"}})
  print(ok, xml:match("<ObjectType>Send</ObjectType>") ~= nil)
  local ok2, err = pcall(core.decode, xml)
  print(ok2, err)'
expect_rc 0 "encode and decode without libxml2"
has "$out" "true	true" "encode without libxml2"
has "$out" "false	cannot load the shared library libxml2.so.2 for XML (SOAP messages)" \
  "decode without libxml2"
has "$out" "install the Debian package libxml2" "no libxml2"
version_without "$xml2" libxml2 libxml2.so.2

# 6. No mimalloc: nothing fails. The Lua heap, libxml2 and libcurl are on the C library's
#    malloc (a performance loss only), and --version says why, with the package to install.
#    Skipped in a build without mimalloc (its header missing, or a sanitizer build), whose
#    --version says so instead.
if "$PERFORMLUA" -v | grep -q '^mimalloc [0-9.]* (the Lua heap, libxml2, libcurl)$'; then
  mimalloc=$(lib libmimalloc.so.2)
  without "$mimalloc" -- "$PERFORMLUA" --sandbox -e 'local mc = require "performlua"
    local r = mc.connect():retrieve("Send", {"ID"})
    print(r.ok, #r.Results > 0)'
  expect_rc 0 "a call without mimalloc"
  [ "$out" = "$(printf 'true\ttrue')" ] || { echo "FAIL: a call without mimalloc: $out / $err"; exit 1; }
  without "$mimalloc" -- "$PERFORMLUA" --version
  expect_rc 0 "--version without mimalloc"
  has "$out" "mimalloc (not used: cannot load the shared library libmimalloc.so.2 for the Lua heap, libxml2 and libcurl" \
    "--version without mimalloc"
  has "$out" "install the Debian package libmimalloc2.0; the Lua heap, libxml2 and libcurl are on the C library's malloc)" \
    "--version without mimalloc"
fi
echo "lazy libraries: none needed to start; each missing one is named with its package"
