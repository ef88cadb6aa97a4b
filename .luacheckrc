-- luacheck (Debian package lua-check) for lua/, scripts/ and tests/spec: the test
-- tests/cli/luacheck.sh runs it and fails on any warning.
--
-- performlua's Lua defines no globals and reads only Lua 5.4's standard ones. The modules run
-- inside the performlua binary, which gives them nothing global beyond the standard library:
-- the C core is a module (require "performlua.core"), and so is the public API.
std = "lua54"
max_line_length = 120

files["tests/spec"] = {
  -- busted's describe/it/assert/spy/... (the specs run under busted, inside the binary)
  std = "+busted",
  -- specs quote whole envelopes, XPaths and exact messages on one line, for grep
  max_line_length = false,
  -- stand-ins for handlers and callbacks take the arguments of what they replace
  unused_args = false,
}

-- c:wait draws its progress line on io.stderr: this spec puts a recorder in its place
files["tests/spec/wait_scripted_spec.lua"] = {
  globals = {io = {fields = {stderr = {read_only = false}}}},
}

-- mc.help prints on io.stdout: this spec puts a recorder in its place
files["tests/spec/help_spec.lua"] = {
  globals = {io = {fields = {stdout = {read_only = false}}}},
}
