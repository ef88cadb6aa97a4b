-- require "performlua": the public API surface.
--
-- Functions are loaded on first use so that `require "performlua"` stays cheap; each name
-- comes from the one module that owns it. Any other capitalised name is an object
-- constructor for the API type of that name (mc.EmailSendDefinition{...}), or a usage error
-- naming the nearest types. The `owners` and `modules` tables below are the list of public
-- names: the metatable of `mc` carries them for the REPL's completion (performlua.repl), which
-- offers the names before their first use.
local M = {}

M.VERSION = require("performlua.core").version

local owners = {
  -- schema-backed objects and the SOAP codec
  encode = "performlua.types", decode = "performlua.types",
  types = "performlua.types", typeof = "performlua.types",
  -- talking to an account
  connect = "performlua.client",
  -- concurrency on one event loop, and its clock
  parallel = "performlua.loop", map = "performlua.loop", sleep = "performlua.loop",
  now = "performlua.loop",
  -- whether a person is there to answer or watch
  isatty = "performlua.terminal",
  -- showing values to people
  pretty = "performlua.pretty",
  -- the Perform page as data
  perform_actions = "performlua.perform",
  -- JSON for machine-readable output (the example scripts' --json)
  json_encode = "performlua.json", json_decode = "performlua.json", json_null = "performlua.json",
  -- "did you mean", as performlua's own messages choose it
  suggest = "performlua.names",
  -- named steps of a workflow, kept in the run journal so a re-run continues the run
  step = "performlua.journal",
  -- what a type, an enumeration, a function or a method is (the REPL's ?Type)
  help = "performlua.help",
}

-- Names that are a whole module rather than one of its functions.
local modules = {
  -- the emulated account: mc.sandbox.start{...}, as the README shows
  sandbox = "performlua.sandbox",
}

-- The error for mc.<Name> when Name is no type: names the nearest types, chosen as the
-- constructors choose the nearest fields of a misspelt one (performlua.names).
local function unknown_type_message(name)
  local core = require "performlua.core"
  return string.format("mc.%s: there is no API type %s%s; mc.types() lists them", name,
    name, require("performlua.names").did_you_mean(name, core.object_types()))
end

return setmetatable(M, {
  owners = owners,
  modules = modules,
  __index = function(t, name)
    local owner = owners[name]
    local value
    if modules[name] then
      value = require(modules[name])
    elseif owner then
      value = require(owner)[name]
    elseif type(name) == "string" then
      local types = require("performlua.types")
      value = types.constructor(name)
      -- a capitalised name is meant as a type: a typo raises here, at the caller's line, rather
      -- than as "attempt to call a nil value" (test for a type with mc.types())
      if value == nil and name:match("^%u") then
        require("performlua.errors").usage(unknown_type_message(name))
      end
    end
    if value ~= nil then rawset(t, name, value) end
    return value
  end,
})
