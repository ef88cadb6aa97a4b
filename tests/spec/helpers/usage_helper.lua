-- Usage errors name the line of the script that called performlua: "file:line: message".
--
--   uh.message(err)  the message of usage error `err` without its position, after checking
--                    that the position is a line of a spec (never one of performlua's own
--                    modules, which would mean the error names the library, not its caller)
--   uh.raised(pcall(fn, ...)) the message of the usage error fn raised, after checking that it
--                    names the spec's line that made the call (write both on one line)
local M = {}

function M.message(err)
  assert(type(err) == "table" and err.kind == "usage",
    "expected a usage error, got " .. tostring(err))
  local rest = tostring(err.message):match("^%S-_spec%.lua:%d+: (.*)$")
  assert(rest, "expected the usage error to name a line of the spec: " .. tostring(err.message))
  return rest
end

function M.raised(ok, err)
  local caller = debug.getinfo(2, "Sl")
  assert(not ok, "expected a usage error, but the call succeeded")
  local where = caller.short_src .. ":" .. caller.currentline .. ": "
  assert(type(err) == "table" and tostring(err.message):sub(1, #where) == where,
    "expected a usage error at " .. where .. " got " .. tostring(type(err) == "table"
      and err.message or err))
  return M.message(err)
end

return M
