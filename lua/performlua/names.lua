-- performlua.names: "did you mean", the same way everywhere.
--
-- The constructors (C, runtime/bind/objects.c) and every check on the Lua side pick the names
-- nearest to a misspelt one with the same distance (core.suggest: pl_value_suggest, where a
-- difference of case alone is nearest of all) and word the hint the same way.
--
--   mc.suggest(name, candidates [, max]) -> array of the nearest candidates (at most max,
--                                           default 3); empty when none is a likely misspelling
--   names.did_you_mean(name, candidates) -> " (did you mean 'A' or 'B'?)", or ""
local core = require "performlua.core"
local errors = require "performlua.errors"

local M = {}

function M.suggest(name, candidates, max)
  if type(name) ~= "string" or type(candidates) ~= "table" then
    errors.usage("mc.suggest(name, candidates, max): name must be a string and candidates an "
      .. "array of strings")
  end
  local ok, near = pcall(core.suggest, name, candidates, max)
  if not ok then errors.usage("mc.suggest: " .. tostring(near)) end
  return near
end

--- The hint after a message about a misspelt `name`: "" when no candidate is near it.
function M.did_you_mean(name, candidates)
  local near = core.suggest(tostring(name), candidates)
  if #near == 0 then return "" end
  local quoted = {}
  for i, n in ipairs(near) do quoted[i] = "'" .. n .. "'" end
  local last = table.remove(quoted)
  local list = #quoted > 0 and (table.concat(quoted, ", ") .. " or " .. last) or last
  return " (did you mean " .. list .. "?)"
end

return M
