-- Usage errors name the line of the script that called performlua: "file:line: message".
--
--   uh.message(err)  the message of usage error `err` without its position, after checking
--                    that the position is a line of a spec (never one of performlua's own
--                    modules, which would mean the error names the library, not its caller)
local M = {}

function M.message(err)
  assert(type(err) == "table" and err.kind == "usage",
    "expected a usage error, got " .. tostring(err))
  local rest = tostring(err.message):match("^%S-_spec%.lua:%d+: (.*)$")
  assert(rest, "expected the usage error to name a line of the spec: " .. tostring(err.message))
  return rest
end

return M
