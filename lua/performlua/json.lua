-- performlua.json: JSON for scripts, through the same codec (jansson, in performlua.core) that
-- reads token answers and writes the run log.
--
--   mc.json_encode(value) -> text        compact, keys sorted; a table 1..n is an array, any
--                                        other table an object with string keys; mc.json_null
--                                        is null
--   mc.json_decode(text)  -> value | nil, message
-- A value that has no JSON form (a function, a table with a number key) is a usage error at
-- the caller's line.
local core = require "performlua.core"
local errors = require "performlua.errors"

local M = {}

M.json_null = core.json_null

function M.json_encode(value)
  local ok, text = pcall(core.json_encode, value)
  if not ok then error(errors.at_caller(text), 0) end
  return text
end

function M.json_decode(text)
  if type(text) ~= "string" then
    errors.usage("mc.json_decode(text): text must be a string, got " .. type(text))
  end
  return core.json_decode(text)
end

return M
