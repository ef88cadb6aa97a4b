#!/usr/bin/env bash
# The layer rule of runtime/README.md, proven by the build: code under runtime/codec, schema,
# net, sandbox and util is pure C. Each probe in tests/build/ is compiled exactly as a file of
# that library (performlua_pure) would be: the one that includes only pure-C headers must
# compile, and the ones that include lua.h or a bind/ header must be refused, for the reason
# the rule gives. Then no file of those folders may name Lua or the binding layer at all.
set -euo pipefail
build=${PERFORMLUA_BUILD_DIR:?}
src=${PERFORMLUA_SOURCE_DIR:?}
fail() { echo "FAIL: $*"; exit 1; }
probe() { # probe NAME: builds the probe target; its output in $out, its status in $rc
  set +e
  out=$(cmake --build "$build" --target "layer_probe_$1" 2>&1)
  rc=$?
  set -e
}

probe pure
[ "$rc" -eq 0 ] || { printf '%s\n' "$out"; fail "a pure-C file including pure-C headers does not compile"; }

probe lua_header
[ "$rc" -ne 0 ] || fail "a pure-C file including lua.h compiled: the pure library sees Lua's headers"
# gcc: "lua.h: No such file or directory"; clang (the clang sanitizer run): "'lua.h' file not found"
grep -qE "lua\.h: No such file or directory|'lua\.h' file not found" <<<"$out" \
  || { printf '%s\n' "$out"; fail "including lua.h failed for another reason"; }

probe bind_header
[ "$rc" -ne 0 ] || fail "a pure-C file including a bind/ header compiled"
grep -q "bind/ is the Lua binding layer: pure-C code may not include its headers" <<<"$out" \
  || { printf '%s\n' "$out"; fail "including a bind/ header failed for another reason"; }

# What the compiler cannot see (a path such as <lua5.4/lua.h>, a header under cli/): no
# include of Lua, the binding layer or the command line below them.
if found=$(grep -rnE '#[[:space:]]*include[[:space:]]*[<"]((lua|lauxlib|lualib|luaconf)[^>"]*|[^>"]*/(lua|lauxlib|lualib)\.h|bind/[^>"]*|cli/[^>"]*)[>"]' \
    "$src/runtime/codec" "$src/runtime/schema" "$src/runtime/net" "$src/runtime/sandbox" \
    "$src/runtime/util"); then
  printf '%s\n' "$found"
  fail "pure-C files include Lua, bind/ or cli/ headers"
fi
echo "layers: the pure-C library is Lua-free and the build refuses an upward include"
