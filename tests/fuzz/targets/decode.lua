-- dictionaries: xml soap
-- The response decoder (core.decode, what every answer of the service goes through): whatever
-- the bytes, it returns a body table, the element's name and the header, or raises a
-- performlua error of kind "xml" (not XML, not SOAP, refused) or "fault" (a SOAP fault).
local core = require "performlua.core"
local fuzz = require "fuzz_support"
local retrieve = require "performlua.retrieve"
local check = fuzz.check

-- Structural equality (tables compared by contents; keys that are tables by their contents'
-- presence only, as they can only be compared by shape).
local function same(a, b, depth)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  if depth > 40 then return true end
  local n = 0
  for k, v in pairs(a) do
    n = n + 1
    if type(k) ~= "table" and not same(v, rawget(b, k), depth + 1) then return false end
  end
  for _ in pairs(b) do n = n - 1 end
  return n == 0
end

-- The rows c:each hands out for a decoded body: the decoder's rows, or row_of of objects.
local function rows_of(body)
  local out = {}
  local results = type(body) == "table" and rawget(body, "Results")
  if type(results) ~= "table" or getmetatable(results) ~= nil then return out end
  for i, obj in ipairs(results) do
    if getmetatable(obj) ~= nil then obj = retrieve.row_of(obj) end
    out[i] = obj
  end
  return out
end

return function(input)
  local ok, body, element, header = pcall(core.decode, input)
  -- rows mode (c:each over a data extension) fails the same way or gives the same rows
  local rok, rbody = pcall(core.decode, input, {rows = true})
  check(ok == rok, "rows mode %s where the plain decode %s", rok and "decoded" or "raised",
    ok and "decoded" or "raised")
  if ok then
    check(same(rows_of(body), rows_of(rbody), 0), "rows mode gave other rows")
  elseif type(body) == "table" and type(rbody) == "table" then
    check(body.message == rbody.message, "rows mode raised %s, the plain decode %s",
      fuzz.show(rbody.message), fuzz.show(body.message))
  end
  if not ok then
    fuzz.check_error(body, {xml = true, fault = true}, "decode")
    if body.kind == "xml" then
      -- built by the decoder from libxml2's messages and excerpts of the input: shown to people
      check(utf8.len(body.message), "the xml error's message is not UTF-8: %s", fuzz.show(body.message))
    else
      check(body.code == nil or math.type(body.code) == "integer", "fault code %s", fuzz.show(body.code))
    end
    return
  end
  check(type(body) == "table", "decode returned a %s body", type(body))
  check(type(element) == "string" and element ~= "", "decode returned element %s", fuzz.show(element))
  check(type(header) == "table", "decode returned a %s header", type(header))
  for k, v in pairs(header) do
    check(type(k) == "string" and type(v) == "string", "header entry %s = %s", fuzz.show(k), fuzz.show(v))
  end
end
