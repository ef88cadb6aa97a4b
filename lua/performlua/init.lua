-- require "performlua": the public API surface.
--
-- Functions are loaded on first use so that `require "performlua"` stays cheap; each name
-- comes from the one module that owns it. Any other capitalised name is an object
-- constructor for the API type of that name (mc.EmailSendDefinition{...}).
local M = {}

M.VERSION = require("performlua.core").version

local owners = {
  -- schema-backed objects and the SOAP codec
  encode = "performlua.types", decode = "performlua.types",
  types = "performlua.types", typeof = "performlua.types",
  -- talking to an account
  connect = "performlua.client",
  -- concurrency on one event loop
  parallel = "performlua.loop", map = "performlua.loop", sleep = "performlua.loop",
  -- the emulated account
  sandbox = "performlua.sandbox",
  -- showing values to people
  pretty = "performlua.pretty",
  -- the Perform page as data
  perform_actions = "performlua.perform",
}

return setmetatable(M, {
  __index = function(t, name)
    local owner = owners[name]
    local value
    if owner then
      value = require(owner)[name]
    elseif type(name) == "string" then
      value = require("performlua.types").constructor(name)
    end
    if value ~= nil then rawset(t, name, value) end
    return value
  end,
})
