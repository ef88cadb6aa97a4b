-- Populated sample objects for any schema type, for the codec specs: every field the type has
-- gets a valid value of its declared type (nested objects to a bounded depth, abstract types
-- replaced by a concrete subtype, one member per choice group).
local core = require "performlua.core"
local types = require "performlua.types"

local M = {}

M.values = {
  string = "sample <&> \"text\" é", int = 2147483647, long = 9007199254740993, short = -32768,
  byte = 127, double = 0.1, boolean = true, dateTime = "2024-05-01T13:45:00Z",
  date = "2024-05-01", time = "13:45:00", base64 = "AAEC", any = "anything",
}
local INSTANCE_ID = "{6f9619ff-8b86-d011-b42d-00c04fc964ff}"

local function derives(name, ancestor)
  while name do
    if name == ancestor then return true end
    name = core.schema_type(name).base
  end
  return false
end
M.derives = derives

-- `name` itself when concrete, else the first constructible type deriving from it.
function M.concrete(name)
  local t = core.schema_type(name)
  if not t.abstract then return name end
  for _, candidate in ipairs(types.types()) do
    if derives(candidate, name) then return candidate end
  end
end

function M.apiobject_subtypes()
  local out = {}
  for _, name in ipairs(types.types()) do
    local t = core.schema_type(name)
    if t.apiobject then out[#out + 1] = name end
  end
  return out
end

-- A plain table with every field of `type_name` populated.
function M.fields(type_name, depth)
  depth = depth or 1
  local t = core.schema_type(type_name)
  local out, chosen = {}, {}
  for _, f in ipairs(t.fields) do
    local group = f.choice and (f.owner .. "#" .. f.choice)
    if f.name ~= "##any" and out[f.name] == nil and not (group and chosen[group]) then
      if group then chosen[group] = true end
      local v
      if f.kind == "complex" then
        if depth < 3 or ((f.min or 0) > 0 and depth < 5) then
          local concrete = M.concrete(f.type)
          v = types.constructor(concrete)(M.fields(concrete, depth + 1))
        end
      elseif f.kind == "enum" then
        v = f.values[1]
      elseif f.type == "instanceid" then
        v = INSTANCE_ID
      else
        v = M.values[f.kind]
      end
      out[f.name] = v
    end
  end
  return out
end

function M.object(type_name)
  return types.constructor(type_name)(M.fields(type_name))
end

return M
