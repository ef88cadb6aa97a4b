#!/usr/bin/env bash
# Hostile input on the command line and in the config file: a clear error naming what was
# wrong, exit status 1, never a crash.
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
unset LUA_INIT LUA_INIT_5_4 PERFORMLUA_PROFILE
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
run() { set +e; "$@" >"$work/.out" 2>"$work/.err"; rc=$?; set -e; err=$(cat "$work/.err"); }
fail() { echo "FAIL: $1"; echo "rc=$rc"; echo "stderr: $err"; exit 1; }

# A precompiled chunk with a few bytes changed crashes Lua's undump-and-run (it does not verify
# bytecode). Build one from a source string, corrupt its instructions, and expect a refusal.
"$PERFORMLUA" -e '
  local f = assert(io.open("good.luac", "wb"))
  f:write(string.dump(load("local t = {} for i = 1, 10 do t[i] = i end return t"))) f:close()
  math.randomseed(5)
  for k = 1, 20 do
    local b = { string.byte(string.dump(load("local t = {} for i = 1, 10 do t[i] = i end return t")), 1, -1) }
    for _ = 1, 4 do local i = math.random(34, #b) b[i] = math.random(0, 255) end
    local o = assert(io.open("bad" .. k .. ".luac", "wb"))
    for i = 1, #b do o:write(string.char(b[i])) end o:close()
  end'
for f in good.luac bad*.luac; do
  run "$PERFORMLUA" "$f"
  [ "$rc" -eq 1 ] || fail "$f: exit status"
  [[ "$err" == "performlua: $f is a precompiled Lua chunk; performlua runs Lua source only"* ]] \
    || fail "$f: message"
done
run "$PERFORMLUA" - < bad1.luac
[ "$rc" -eq 1 ] && [[ "$err" == "performlua: stdin is a precompiled Lua chunk"* ]] || fail "stdin chunk"
run env LUA_INIT=@bad1.luac "$PERFORMLUA" -e 'print(1)'
[ "$rc" -eq 1 ] && [[ "$err" == "performlua: bad1.luac is a precompiled Lua chunk"* ]] \
  || fail "LUA_INIT chunk"

# garbage source is a plain error (1); a directory given as the script, a usage error (2)
head -c 4096 /dev/urandom | tr -d '\033' > garbage.lua
run "$PERFORMLUA" garbage.lua
[ "$rc" -eq 1 ] && [[ "$err" == "performlua: garbage.lua:"* ]] || fail "garbage source"
mkdir adir
run "$PERFORMLUA" adir
[ "$rc" -eq 2 ] && [ "$err" = "performlua: cannot read adir: Is a directory" ] || fail "directory"

# a config file that loops names itself and the problem, not performlua's own source lines
mkdir -p cfg/performlua
printf 'profiles = {}\nwhile true do end\n' > cfg/performlua/config.lua
chmod 600 cfg/performlua/config.lua
run env XDG_CONFIG_HOME="$work/cfg" "$PERFORMLUA" -e '
  local mc = require "performlua"
  local ok, e = pcall(mc.connect, {profile = "x"})
  io.stderr:write(tostring(e))'
[ "$err" = "usage error: config file $work/cfg/performlua/config.lua: config file runs too long (it should only set data)" ] \
  || fail "looping config"
# an unusable token cache costs a warning, once, and the script still runs
cat > cached.lua <<'LUA'
local mc = require "performlua"
local sb = mc.sandbox.start{port = 0}
local c = mc.connect(sb:account())
print(c:retrieve("Subscriber", {"EmailAddress"}).ok, c:retrieve("Subscriber", {"EmailAddress"}).ok)
sb:stop()
LUA
touch afile
run env XDG_CACHE_HOME="$work/afile/x" "$PERFORMLUA" cached.lua
[ "$rc" -eq 0 ] && [ "$(cat "$work/.out")" = "$(printf 'true\ttrue')" ] || fail "cache under a file: run"
[ "$(grep -c 'warning: cannot create the token cache directory' <<<"$err")" -eq 1 ] \
  || fail "cache under a file: one warning"
run env -u HOME -u XDG_CACHE_HOME "$PERFORMLUA" cached.lua
[ "$rc" -eq 0 ] && [[ "$err" == *"warning: cannot find a token cache directory"*"set XDG_CACHE_HOME"* ]] \
  || fail "no HOME: warning"
run env XDG_CACHE_HOME="$work/cache" "$PERFORMLUA" cached.lua
[ "$rc" -eq 0 ] && [ -z "$err" ] || fail "usable cache: no warning"

# Answers in encodings libxml2 cannot convert: the decoder's errors say so, and libxml2 itself
# prints nothing (it used to print "xmlParseChunk: encoder error" to stderr)
cat > encodings.lua <<'LUA'
local mc = require "performlua"
local body = '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><x>caf\128</x></soap:Body></soap:Envelope>'
for _, encoding in ipairs{"Shift_JIS", "ISO-2022-JP", "US-ASCII", "UTF-16"} do
  local ok, err = pcall(mc.decode, '<?xml version="1.0" encoding="' .. encoding .. '"?>' .. body)
  print(encoding, ok, err.kind, err.message)
end
local function utf16le(s) return (s:gsub(".", "%0\0")) end
local ok, err = pcall(mc.decode, "\255\254" .. utf16le('<?xml version="1.0" encoding="UTF-16"?><a>')
  .. "\0\216" .. utf16le("b</a>"))
print("UTF-16 with an unpaired surrogate", ok, err.kind, err.message)
LUA
run "$PERFORMLUA" encodings.lua
[ "$rc" -eq 0 ] || fail "encodings: exit status"
[ -z "$err" ] || fail "encodings: libxml2 printed to stderr"
[ "$(grep -c $'\tfalse\txml\tmalformed XML: ' "$work/.out")" -eq 5 ] || fail "encodings: $(cat "$work/.out")"
echo "ok"
