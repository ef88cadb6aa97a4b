-- dictionaries: xml soap
-- The response decoder (core.decode, what every answer of the service goes through): whatever
-- the bytes, it returns a body table, the element's name and the header, or raises a
-- performlua error of kind "xml" (not XML, not SOAP, refused) or "fault" (a SOAP fault).
local core = require "performlua.core"
local fuzz = require "fuzz_support"
local check = fuzz.check

return function(input)
  local ok, body, element, header = pcall(core.decode, input)
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
