-- performlua.sandbox.describe: the Describe operation, the ObjectDefinition of each known type
-- read from the schema built into the binary.
local core = require "performlua.core"
local account_mod = require "performlua.sandbox.account"

local M = {}

-- The ObjectDefinition of one ObjectDefinitionRequest, or nil for a type the sandbox does not
-- know; made once per type and kept in `cache`.
local function describe_one(cache, req)
  local t = req.ObjectType
  local fields = type(t) == "string" and account_mod.fields_of(t)
  if not fields or not account_mod.known_type(t) then return nil end
  if cache[t] then return cache[t] end
  local props = {}
  for _, f in ipairs(core.schema_type(t).fields) do
    -- nested objects are not retrievable as a whole (the service lists scalars such as
    -- Client.ID instead), so default property lists built from Describe stay retrievable
    props[#props + 1] = {Name = f.name, DataType = f.type, IsRetrievable = f.kind ~= "complex",
      IsUpdatable = f.name ~= "ObjectID" and f.name ~= "ID" and f.name ~= "CreatedDate",
      IsCreatable = f.name ~= "ObjectID" and f.name ~= "ID" and f.name ~= "CreatedDate",
      IsFilterable = f.kind ~= "complex", IsNillable = f.nillable, IsRequired = f.min > 0,
      IsViewable = true}
  end
  local d = {ObjectType = t, Name = t, IsCreatable = true, IsUpdatable = true,
    IsRetrievable = true, IsQueryable = false, IsReference = false, IsObjectCollection = false,
    IsPropertyCollection = "false", Properties = props}
  cache[t] = d
  return d
end

function M.describe(sb, body, ctx)
  local defs = {}
  local reqs = body.DescribeRequests or {}
  for _, r in ipairs(reqs.ObjectDefinitionRequest or reqs) do
    local d = describe_one(sb.describe_cache, r)
    if d then defs[#defs + 1] = d end
  end
  return "DefinitionResponseMsg", {ObjectDefinition = defs, RequestID = ctx.request_id}
end

return M
