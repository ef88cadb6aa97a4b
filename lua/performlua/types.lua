-- performlua.types: the API's objects and the SOAP codec, as `mc` exposes them.
--
--   mc.<Type>{...}       constructor(name) for every constructible type (checked fields)
--   mc.types()           sorted names of the constructible types
--   mc.typeof(v)         type name of a constructed or decoded object, nil for plain values
--   mc.encode(op, req, opts)  SOAP envelope for one of the 13 operations
--   mc.decode(xml, opts)      body, element_name, header of a SOAP envelope
--
-- The work happens in C (runtime/codec): the constructors, the encoder and the decoder share
-- one set of value checks and one metatable per type, so an object built here and one decoded
-- from a response are the same kind of thing. Constructors are created on first use and
-- cached, so requiring this module costs nothing per type.
local core = require "performlua.core"
local errors = require "performlua.errors"

local M = {}

local constructors = {}

-- The constructor for the type `name`, or nil when `name` is not a constructible type (no
-- error: init.lua asks for every unknown key of `mc`).
function M.constructor(name)
  if type(name) ~= "string" then return nil end
  local make = constructors[name]
  if make == nil then
    make = core.constructor(name) or false
    constructors[name] = make
  end
  return make or nil
end

function M.types()
  return core.object_types()
end

function M.typeof(v)
  return core.typeof(v)
end

function M.encode(operation, request, opts)
  local ok, envelope = pcall(core.encode, operation, request, opts)
  if not ok then error(errors.at_caller(envelope), 0) end
  return envelope
end

function M.decode(xml, opts)
  return core.decode(xml, opts)
end

return M
