-- Every envelope mc.encode builds must validate against the XSD of the official WSDL (plus the
-- supplement). For EVERY APIObject subtype (WSDL and supplement) a populated instance goes
-- into Perform (Definitions), Create (Objects) and Retrieve (RetrieveRequest with ObjectType,
-- Properties and a filter); each of the 13 operations also gets a minimal valid request.
--
-- "Populated" means: every scalar field (own and inherited) holds a valid value for its kind
-- (the first value of an enumeration), only the first member of each <choice> is set, every
-- complex field and wrapper is filled one level deep (with all its scalars), and deeper only
-- what the schema requires. Abstract declared types get their first concrete subtype as a
-- constructed object, so that it goes out with its xsi:type.
local core = require "performlua.core"
local mc = require "performlua"

local WSDL = require("wsdl_helper").required()

local validator = core.xsd_load(WSDL)

-- Concrete (non-abstract) subtypes of each type, sorted by name.
local subtypes = {}
local all_types = core.schema_types()
for _, name in ipairs(all_types) do
  local t = core.schema_type(name)
  local base = t.base
  while base do
    subtypes[base] = subtypes[base] or {}
    if not t.abstract then table.insert(subtypes[base], name) end
    base = core.schema_type(base) and core.schema_type(base).base
  end
end

local SCALARS = {
  string = "text & <more>", int = 1, long = 2, short = 3, byte = 4, double = 1.5,
  boolean = true, dateTime = "2024-01-02T03:04:05Z", date = "2024-01-02", time = "03:04:05",
  base64 = "aGVsbG8=",
}
-- Simple types with a pattern facet need values of that shape.
local PATTERNED = { instanceid = "{01234567-89ab-cdef-0123-456789abcdef}" }

local function scalar(field)
  if field.kind == "enum" then return field.values[1] end
  return PATTERNED[field.type] or SCALARS[field.kind]
end

local build

-- A value for a complex slot declared `type_name`: a plain table built as that type, or a
-- constructed object of its first concrete subtype when it is abstract.
local function complex_value(type_name, depth)
  local t = core.schema_type(type_name)
  if t.abstract then
    local concrete = assert(subtypes[type_name] and subtypes[type_name][1],
      "no concrete subtype of " .. type_name)
    return mc[concrete](build(concrete, depth))
  end
  return build(type_name, depth)
end

-- The fields of a populated instance of `type_name` as a plain table.
function build(type_name, depth)
  local t = assert(core.schema_type(type_name), type_name)
  local out, choices_taken = {}, {}
  for _, f in ipairs(t.fields) do
    local take = true
    if f.choice then
      local key = (f.owner or "") .. "#" .. f.choice
      take = not choices_taken[key]
      choices_taken[key] = true
    end
    local required = f.min >= 1 or (f.item and f.item_min >= 1)
    if take and f.kind ~= "any" then
      local value
      if f.kind == "complex" then
        if depth < 1 or required then value = complex_value(f.type, depth + 1) end
      elseif depth < 2 or required then
        value = scalar(f)
      end
      if value ~= nil then
        if f.item or f.max ~= 1 then value = { value } end
        out[f.name] = value
      end
    end
  end
  return out
end

local function populated(type_name)
  return mc[type_name](build(type_name, 0))
end

-- The scalar field names of a type, for Retrieve's Properties.
local function scalar_properties(type_name)
  local props = {}
  for _, f in ipairs(core.schema_type(type_name).fields) do
    if f.kind ~= "complex" and f.kind ~= "any" then props[#props + 1] = f.name end
  end
  return props
end

-- Every field set at the top level went out (as <Name> or <Name xsi:type=...>).
local function assert_fields_sent(envelope, type_name)
  for field in pairs(build(type_name, 0)) do
    if not envelope:find("<" .. field .. "[ >/]") then
      error(("%s.%s is missing from the envelope:\n%s"):format(type_name, field, envelope), 2)
    end
  end
end

local function assert_valid(operation, request)
  local ok_encode, envelope = pcall(mc.encode, operation, request)
  if not ok_encode then
    error(("mc.encode(%q) raised: %s"):format(operation, tostring(envelope)), 2)
  end
  assert.is_string(envelope)
  local ok, message = validator:validate(envelope)
  if not ok then
    error(("the %s envelope does not validate:\n%s\n--- envelope ---\n%s"):format(
      operation, message, envelope), 2)
  end
  return envelope
end

local apiobject_types = {}
for _, name in ipairs(all_types) do
  if core.schema_type(name).apiobject then apiobject_types[#apiobject_types + 1] = name end
end

describe("envelopes for every APIObject subtype validate against the XSD", function()
  it("covers the 149 WSDL subtypes and the 4 supplement types", function()
    assert.are.equal(153, #apiobject_types)
  end)

  for _, name in ipairs(apiobject_types) do
    it(name .. " in Perform, Create and Retrieve", function()
      local perform = assert_valid("Perform",
        { Action = "start", Options = {}, Definitions = { populated(name) } })
      assert_fields_sent(perform, name)
      assert.truthy(perform:find('<Definition xsi:type="' .. name .. '">', 1, true))
      local create = assert_valid("Create", { Options = {}, Objects = { populated(name) } })
      assert_fields_sent(create, name)
      assert.truthy(create:find('<Objects xsi:type="' .. name .. '">', 1, true))
      assert_valid("Retrieve", { RetrieveRequest = {
        ObjectType = name,
        Properties = scalar_properties(name),
        Filter = mc.SimpleFilterPart{ Property = "CustomerKey", SimpleOperator = "equals",
                                      Value = { "k" } },
      } })
    end)
  end
end)

describe("a minimal valid request for each of the 13 operations", function()
  local cases = {
    Create = { Options = {}, Objects = { mc.Subscriber{ EmailAddress = "a@b.example" } } },
    Retrieve = { RetrieveRequest = { ObjectType = "Subscriber", Properties = { "EmailAddress" } } },
    Update = { Options = {}, Objects = { mc.DataExtension{ CustomerKey = "de" } } },
    Delete = { Options = {}, Objects = { mc.List{ ID = 7 } } },
    Query = { QueryRequest = { Query = { Object = { ObjectType = "Subscriber",
                                                    Properties = { "EmailAddress" } } } } },
    Describe = { DescribeRequests = { { ObjectType = "Subscriber" } } },
    Execute = { Requests = { { Name = "LogUnsubEvent",
                               Parameters = { { Name = "SubscriberKey", Value = "k" } } } } },
    Perform = { Action = "start", Definitions = { mc.EmailSendDefinition{ CustomerKey = "esd" } } },
    Configure = { Action = "create", Configurations = { mc.PropertyDefinition{ Name = "p" } } },
    Schedule = { Action = "start",
                 Schedule = { Recurrence = mc.DailyRecurrence{ DayInterval = 1 },
                              StartDateTime = "2030-01-01T00:00:00Z" },
                 Interactions = { mc.EmailSendDefinition{ CustomerKey = "esd" } } },
    VersionInfo = { IncludeVersionHistory = false },
    Extract = { Requests = { { ID = "c7219016-a7f0-4c72-8657-1ec12c28a0db", Options = {},
                               Parameters = { { Name = "StartDate", Value = "2024-01-01" } } } } },
    GetSystemStatus = {},
  }
  local operations = { "Create", "Retrieve", "Update", "Delete", "Query", "Describe", "Execute",
    "Perform", "Configure", "Schedule", "VersionInfo", "Extract", "GetSystemStatus" }
  for _, op in ipairs(operations) do
    it(op, function() assert_valid(op, cases[op]) end)
  end
end)

describe("every global element, populated, encodes to a valid message", function()
  -- Requests and responses alike (the sandbox answers with core.encode_message), plus the
  -- global elements named after types (Subscriber, List, ...).
  local globals = {}
  for _, name in ipairs(all_types) do
    if core.schema_global(name) then globals[#globals + 1] = name end
  end

  it("finds all 59 global elements", function()
    assert.are.equal(59, #globals)
  end)

  for _, name in ipairs(globals) do
    it(name, function()
      local type_name = core.schema_global(name)
      local response = name:find("Response") ~= nil
      local ok_encode, envelope = pcall(core.encode_message, name, build(type_name, 0),
        response and { response_headers = { action = name } } or nil)
      if not ok_encode then error(("encode_message(%q) raised: %s"):format(name, tostring(envelope))) end
      local ok, message = validator:validate(envelope)
      if not ok then
        error(("the %s message does not validate:\n%s\n--- envelope ---\n%s"):format(
          name, message, envelope))
      end
    end)
  end
end)

describe("retrieve responses carrying every APIObject subtype validate", function()
  for _, name in ipairs(apiobject_types) do
    it(name, function()
      local envelope = core.encode_message("RetrieveResponseMsg", {
        OverallStatus = "OK", RequestID = "r-1", Results = { populated(name), populated(name) },
      }, { response_headers = { action = "RetrieveResponse" } })
      local ok, message = validator:validate(envelope)
      if not ok then
        error(("RetrieveResponseMsg with %s does not validate:\n%s\n--- envelope ---\n%s"):format(
          name, message, envelope))
      end
      assert_fields_sent(envelope, name)
    end)
  end
end)
