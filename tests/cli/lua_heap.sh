#!/usr/bin/env bash
# The Lua states performlua makes (runtime/bind/lua_state.c): which allocator serves the Lua
# heap, libxml2 and libcurl (runtime/util/allocator.c; tests/c/test_allocator.c checks the
# libraries' blocks) and how --version names it, PERFORMLUA_ALLOCATOR, and the panic and
# warning handlers a state gets (lauxlib's behaviour: warnings off until -W or warn("@on")).
set -euo pipefail
: "${PERFORMLUA:?PERFORMLUA must name the performlua binary}"
unset LUA_INIT LUA_INIT_5_4 PERFORMLUA_ALLOCATOR
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_STATE_HOME="$work/state"
run() { set +e; "$@" >"$work/.out" 2>"$work/.err"; rc=$?; set -e; out=$(cat "$work/.out"); err=$(cat "$work/.err"); }
check() {
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1"; diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") || true; exit 1
  fi
}
heap_line() { "$@" -v | tail -1; }

# 1. The default: mimalloc when the build has it (a sanitizer build, or one without the
#    header, says so), and the same choice for the sandbox's account in the same process.
default=$(heap_line "$PERFORMLUA")
case "$default" in
  "mimalloc "[0-9]*" (the Lua heap, libxml2, libcurl)") built_with=1 ;;
  "mimalloc (not used: built without it; the Lua heap, libxml2 and libcurl are on the C library's malloc)") built_with=0 ;;
  *) echo "FAIL: unexpected allocator line: $default"; exit 1 ;;
esac

# 2. PERFORMLUA_ALLOCATOR=system puts them on the C library's malloc, and says why;
#    "mimalloc" is the default spelled out; anything else is named on stderr and ignored.
check "PERFORMLUA_ALLOCATOR=system" \
  "mimalloc (not used: PERFORMLUA_ALLOCATOR=system; the Lua heap, libxml2 and libcurl are on the C library's malloc)" \
  "$(PERFORMLUA_ALLOCATOR=system heap_line "$PERFORMLUA")"
check "PERFORMLUA_ALLOCATOR=mimalloc" "$default" "$(PERFORMLUA_ALLOCATOR=mimalloc heap_line "$PERFORMLUA")"
run env PERFORMLUA_ALLOCATOR=jemalloc "$PERFORMLUA" -e 'print("ran")'
check "unknown PERFORMLUA_ALLOCATOR status" 0 "$rc"
check "unknown PERFORMLUA_ALLOCATOR still runs" "ran" "$out"
check "unknown PERFORMLUA_ALLOCATOR is named" \
  'performlua: PERFORMLUA_ALLOCATOR is "jemalloc", which is neither "mimalloc" nor "system": using the default' \
  "$err"

# 3. Both allocators carry a whole workflow: the example against the embedded sandbox (its
#    account is a second state), a page decoded and freed many times over.
cat >"$work/churn.lua" <<'LUA'
local mc = require "performlua"
local core = require "performlua.core"
local c = mc.connect()
local n = 0
for _ = 1, 3 do
  local r = c:retrieve("Send", {"ID", "Status"})
  assert(r.ok, "retrieve failed")
  n = n + #r.Results
end
local kept = {}
for i = 1, 20000 do kept[i % 500 + 1] = {i, tostring(i), core ~= nil} end
collectgarbage()
print(n > 0, #kept)
LUA
for allocator in system mimalloc; do
  run env PERFORMLUA_ALLOCATOR=$allocator "$PERFORMLUA" --sandbox "$work/churn.lua"
  check "a sandboxed run on $allocator: status ($err)" 0 "$rc"
  check "a sandboxed run on $allocator" "$(printf 'true\t500')" "$out"
done

# 4. Warnings: off unless -W or warn("@on"); "@off" turns them off; pieces make one line.
run "$PERFORMLUA" -e 'warn("hidden") print("ok")'
check "warnings off by default" "ok" "$out"
check "warnings off by default: stderr" "" "$err"
run "$PERFORMLUA" -W -e 'warn("one ", "line") warn("@off") warn("hidden") warn("@on") warn("again")'
check "warnings with -W" "$(printf 'Lua warning: one line\nLua warning: again')" "$err"
run "$PERFORMLUA" -e 'warn("@on") warn("@unknown") warn("shown")'
check "warn(\"@on\") in a script" "Lua warning: shown" "$err"

[ "$built_with" = 1 ] && echo "allocator: mimalloc by default, the C library's on request" \
                      || echo "allocator: built without mimalloc; the C library's malloc"
