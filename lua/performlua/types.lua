-- performlua.types: the API's objects and the SOAP codec, as `mc` exposes them.
--
--   mc.<Type>{...}       constructor(name) for every constructible type (checked fields)
--   mc.types()           sorted names of the constructible types
--   mc.typeof(v)         type name of a constructed or decoded object, nil for plain values
--   mc.encode(op, req, opts)  SOAP envelope for one of the 13 operations ({indent = true}: laid
--                             out for people)
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
-- constructor -> type name, so a constructor can say what it builds (the REPL shows
-- mc.EmailSendDefinition as such, mc.help(mc.EmailSendDefinition) finds the type)
local constructor_names = setmetatable({}, {__mode = "k"})

-- The constructor for the type `name`, or nil when `name` is not a constructible type (no
-- error: init.lua asks for every unknown key of `mc`).
function M.constructor(name)
  if type(name) ~= "string" then return nil end
  local make = constructors[name]
  if make == nil then
    make = core.constructor(name) or false
    constructors[name] = make
    if make then constructor_names[make] = name end
  end
  return make or nil
end

--- The type a constructor (a value of mc.<Type>) builds, or nil for any other value.
function M.constructor_name(fn)
  return constructor_names[fn]
end

function M.types()
  return core.object_types()
end

function M.typeof(v)
  return core.typeof(v)
end

--- opts.indent = true lays the envelope out one element per line, for people (a dry run):
--- the same document, never what the client sends.
function M.encode(operation, request, opts)
  local indent = false
  if type(opts) == "table" and opts.indent ~= nil then
    indent = opts.indent
    local rest = {}
    for k, v in pairs(opts) do if k ~= "indent" then rest[k] = v end end
    opts = rest
  end
  local ok, envelope = pcall(core.encode, operation, request, opts)
  if not ok then error(errors.at_caller(envelope), 0) end
  if indent then return core.xml_indent(envelope) end
  return envelope
end

function M.decode(xml, opts)
  return core.decode(xml, opts)
end

return M
