-- dictionaries: lua
-- The config file loader (config.lua's load_file): the input is the file's text, written to a
-- file of the user's own, mode 0600, as a config file must be. A config file is data: it gets
-- a table back or a usage error whose message is safe to show, in bounded time and memory.
local core = require "performlua.core"
local config = require "performlua.config"
local fuzz = require "fuzz_support"
local check, show = fuzz.check, fuzz.show

-- os.tmpname (mkstemp) makes it 0600 and this user's; removed when the harness closes the
-- state at exit
local file = setmetatable({path = os.tmpname()}, {__gc = function(self) os.remove(self.path) end})
core.chmod(file.path, 384)

return function(input)
  local f = assert(io.open(file.path, "wb"))
  f:write(input)
  f:close()
  local ok, data = pcall(config.load_file, file.path)
  if ok then
    check(type(data) == "table", "load_file returned %s", show(data))
    check(data.profiles == nil or type(data.profiles) == "table", "profiles is %s", show(data.profiles))
  else
    fuzz.check_error(data, {usage = true}, "load_file")
    check(fuzz.is_safe_text(data.message, true), "the message is not safe to show: %s", show(data.message))
  end
end
