-- Runs busted specs inside the performlua binary, so the embedded module is what gets tested.
-- Usage: performlua tests/run_busted.lua spec_file...
-- Debian ships busted's modules under /usr/share/lua/5.4; put them on the path explicitly so a
-- user LUA_PATH cannot hide them.
package.path = "/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua;" .. package.path
package.cpath = "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so;" .. package.cpath
-- Specs share small helpers (starting a sandbox, temp files) from tests/spec/helpers.
package.path = (os.getenv("PERFORMLUA_SOURCE_DIR") or ".") .. "/tests/spec/helpers/?.lua;" .. package.path
table.insert(arg, 1, "--output=plainTerminal")
require "busted.runner"({ standalone = false })
