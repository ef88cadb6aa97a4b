-- The encoder against the decoder: the input is a program of choices that builds a request or
-- response through the schema (an element, which fields to set, values of every simple kind
-- in the forms scripts write them, nested and repeated objects, subtypes, plain tables where a
-- type is inferred). Every value the checks accept (core.check_field, the constructors) must
-- encode, and what is encoded must decode to the same values: the value as normalised by the
-- checks, typed objects with their type, empty lists as absent.
local core = require "performlua.core"
local fuzz = require "fuzz_support"
local check, show = fuzz.check, fuzz.show

local MAX_DEPTH, MAX_VALUES = 4, 80

local GLOBALS = core.schema_globals()
-- constructible types by every type they derive from (themselves included)
local SUBTYPES = {}
for _, name in ipairs(core.object_types()) do
  local t = name
  while t do
    SUBTYPES[t] = SUBTYPES[t] or {}
    table.insert(SUBTYPES[t], name)
    t = core.schema_type(t).base
  end
end
local CONSTRUCTIBLE = {}
for _, name in ipairs(core.object_types()) do CONSTRUCTIBLE[name] = true end

local PIECES = {"a", "Z", "9", " ", "  ", "\t", "\n", "\r", "\r\n", "<", ">", "&", "'", '"', "]]>",
  "&amp;", "<![CDATA[", "é", "\u{1F600}", "\u{85}", "\u{2028}", "\u{FFFD}", "\u{202E}", "\u{FEFF}",
  "%", "\\", "xsi:type", "-", "0", ".", "e", "T", ":", "Z"}
local DATES = {"2024-05-01T13:45:00Z", "2024-05-01T13:45:00", "2024-05-01T13:45:00.123+02:00",
  "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-02-29T24:00:00Z", "2023-02-29T00:00:00Z",
  "2024-05-01", "2024-05-01Z", "13:45:00", "24:00:00", "13:45:00.5-05:30", "x", ""}
local DOUBLES = {0.1, -0.0, 0.0, 1e308, -1e308, 5e-324, math.huge, -math.huge, 0 / 0, 2 ^ 53, 3,
  "1e5", "INF", "-INF", "NaN", ".5", "5.", "+1", "1E-7", " 1", "0x10", "1e400"}
local BOOLEANS = {true, false, "true", "false", "1", "0", "yes", "TRUE"}
local RANGES = {int = {-2147483648, 2147483647}, long = {math.mininteger, math.maxinteger},
  short = {-32768, 32767}, byte = {-128, 127}}

local function text(input)
  local mode = input:int(0, 5)
  if mode == 5 then return input:bytes(input:int(0, 12)) end -- raw bytes, maybe not UTF-8
  local out = {}
  for _ = 1, input:int(0, 8) do out[#out + 1] = input:pick(PIECES) end
  if mode == 4 then return input:int(-1000, 1000) end -- a number where text goes
  return table.concat(out)
end

local function integer(input, kind)
  local lo, hi = table.unpack(RANGES[kind])
  local mode = input:int(0, 7)
  if mode == 0 then return lo elseif mode == 1 then return hi end
  if mode == 2 then return input:int64() end
  if mode == 3 then return tostring(input:int(-300, 300)) end
  if mode == 4 then return input:pick{"+5", "007", "-0", " 5", "5 ", "", "1e3", tostring(hi) .. "0"} end
  if mode == 5 then return input:int(-300, 300) + 0.0 end
  if mode == 6 then return input:int(-300, 300) + 0.5 end
  return input:int(-300, 300)
end

local function simple(input, f)
  local kind = f.kind
  if RANGES[kind] then return integer(input, kind) end
  if kind == "double" then
    if input:bool() then return input:pick(DOUBLES) end
    return (string.unpack("<d", input:bytes(8) .. ("\0"):rep(8)))
  end
  if kind == "boolean" then return input:pick(BOOLEANS) end
  if kind == "dateTime" or kind == "date" or kind == "time" then
    if kind == "dateTime" and input:bool() then
      return input:pick{0, 1714571100, 1714571100.75, -62135596800, 253402300799, 253402300800, 1e20}
    end
    return input:pick(DATES)
  end
  if kind == "enum" and f.values then
    if input:int(0, 7) == 0 then return text(input) end
    return input:pick(f.values)
  end
  return text(input)
end

local budget
local fields_of

-- A value for field f of type owner, or nil; accepted by core.check_field (the check the
-- constructors and the encoder make).
local function value(input, owner, f, depth)
  if budget <= 0 then return nil end
  budget = budget - 1
  local raw
  if f.kind == "complex" then
    local candidates = SUBTYPES[f.type]
    if depth >= MAX_DEPTH or not candidates then return nil end
    local t = input:pick(candidates)
    local fields = fields_of(input, t, depth + 1)
    if t == f.type and not core.schema_type(t).apiobject and input:bool() then
      raw = fields -- a plain table: the type is inferred
    else
      local ok, obj = pcall(core.constructor(t), fields)
      if not ok then return nil end
      raw = obj
    end
  else
    raw = simple(input, f)
  end
  return raw
end

local function repeated(f) return f.max ~= 1 or f.item ~= nil end

-- A plain table of fields of type t, each accepted by core.check_field.
fields_of = function(input, t, depth)
  local desc = core.schema_type(t)
  local out = {}
  for _, f in ipairs(desc.fields) do
    if f.name ~= "##any" and input:bool() and budget > 0 then
      local v
      if repeated(f) and input:bool() then
        v = {}
        for i = 1, input:int(0, 3) do v[i] = value(input, t, f, depth) end
      else
        v = value(input, t, f, depth)
      end
      if v ~= nil and pcall(core.check_field, t, f.name, v) then out[f.name] = v end
    end
  end
  return out
end

local FIELDS = {}
local function field(t, name)
  if not FIELDS[t] then
    FIELDS[t] = {}
    for _, f in ipairs(core.schema_type(t) and core.schema_type(t).fields or {}) do FIELDS[t][f.name] = f end
  end
  return FIELDS[t][name]
end

-- expected (normalised by the checks) against decoded
local function same(expected, decoded, path)
  if type(expected) == "table" and getmetatable(expected) == nil and #expected == 0
      and next(expected) == nil then
    check(decoded == nil or (type(decoded) == "table" and next(decoded) == nil),
      "%s: an empty list came back as %s", path, show(decoded))
    return
  end
  if type(expected) == "number" and math.type(expected) == "float" then
    check(type(decoded) == "number", "%s: %s came back as %s", path, show(expected), show(decoded))
    check(expected == decoded or (expected ~= expected and decoded ~= decoded),
      "%s: %s came back as %s", path, show(expected), show(decoded))
    return
  end
  if type(expected) ~= "table" then
    check(math.type(expected) == math.type(decoded) and expected == decoded,
      "%s: %s came back as %s", path, show(expected), show(decoded))
    return
  end
  check(type(decoded) == "table", "%s: a table came back as %s", path, show(decoded))
  check(core.typeof(expected) == core.typeof(decoded), "%s: a %s came back as a %s", path,
    tostring(core.typeof(expected)), tostring(core.typeof(decoded)))
  for k, v in pairs(expected) do same(v, decoded[k], path .. "." .. tostring(k)) end
  local t = core.typeof(decoded)
  for k, v in pairs(decoded) do
    if expected[k] == nil then
      -- a required Options element is written empty, a required flag false (their defaults)
      local f = t and field(t, k)
      check((type(v) == "table" and next(v) == nil) or (v == false and f and f.min >= 1),
        "%s.%s came back (%s) but was not sent", path, tostring(k), show(v))
    end
  end
end

-- The encoder's refusal of a request without a field the service requires, or with an empty
-- list there: fine when that is what the input built.
local function refused_as_incomplete(err, t, raw)
  if not core.is_error(err) or err.kind ~= "usage" then return false end
  local name = err.message:match("^%S+ needs (%S+): the service refuses the message without it$")
  if name then return raw[name] == nil and field(t, name).min >= 1 end
  name = err.message:match("^%S+%.(%S+) is empty: give at least one")
  return name ~= nil and type(raw[name]) == "table" and next(raw[name]) == nil
end

return function(data)
  local input = fuzz.input(data)
  budget = MAX_VALUES
  local element = input:pick(GLOBALS)
  local t = core.schema_global(element)
  local raw = fields_of(input, t, 1)
  local expected = {}
  for k, v in pairs(raw) do expected[k] = core.check_field(t, k, v) end
  setmetatable(expected, core.object_metatable(t))
  local ok, xml = pcall(core.encode_message, element, raw)
  if not ok and refused_as_incomplete(xml, t, raw) then return end
  check(ok, "%s: the encoder refused values the checks accept: %s", element, show(xml))
  local decoded_ok, body, decoded_element = pcall(core.decode, xml)
  check(decoded_ok, "%s: what the encoder wrote does not decode: %s\n%s", element, show(body), xml)
  check(decoded_element == element, "%s came back as %s", element, show(decoded_element))
  local ok_same, why = pcall(same, expected, body, element)
  check(ok_same, "%s\n%s", tostring(why), xml)
end
