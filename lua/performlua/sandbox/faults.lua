-- performlua.sandbox.faults: the faults a sandbox injects (--fault KIND:N: every Nth SOAP
-- request gets KIND), so clients rehearse throttling, outages, dropped connections and
-- expired tokens. parse reads a spec, pick chooses the fault of the nth request, answer writes
-- the answer of a fault that stands instead of processing the request.
local reply = require "performlua.sandbox.reply"
local auth = require "performlua.sandbox.auth"

local M = {}

local KNOWN = {throttle = true, http503 = true, ["reset-before"] = true,
  ["reset-after"] = true, truncate = true, ["expire-token"] = true}
M.KINDS = {"throttle", "http503", "reset-before", "reset-after", "truncate", "expire-token"}

--- Parses "KIND:N" into {kind=, every=}; raises a message naming what is wrong.
function M.parse(spec)
  local kind, n = tostring(spec):match("^([%w%-]+):(%d+)$")
  if not kind then
    error(string.format("fault '%s' is not KIND:N (e.g. throttle:3; kinds: %s)", tostring(spec),
      table.concat(M.KINDS, ", ")), 0)
  end
  if not KNOWN[kind] then
    error(string.format("unknown fault kind '%s' (kinds: %s)", kind, table.concat(M.KINDS, ", ")), 0)
  end
  n = math.tointeger(tonumber(n))
  if not n or n < 1 then
    error(string.format("fault '%s': N must be a whole number of at least 1 (every Nth SOAP request)", spec), 0)
  end
  return {kind = kind, every = n}
end

--- The kind of fault the nth SOAP request gets from the parsed `faults`, or nil (the first
--- that matches wins).
function M.pick(faults, n)
  for _, f in ipairs(faults) do
    if n % f.every == 0 then return f.kind end
  end
  return nil
end

--- The answer of a fault that replaces the request's (throttle, http503, reset-before,
--- expire-token), or nil when the request is processed (reset-after and truncate then act on
--- its answer; see routing.lua).
function M.answer(sb, kind)
  if kind == "throttle" then
    return reply.fault(500, "soap:Server", "Rate Limited", {code = 17, message = "Rate Limited"})
  elseif kind == "http503" then
    return reply.respond(503, "<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
      .. "<body><h1>Service Unavailable</h1><p>HTTP Error 503. The service is unavailable.</p>"
      .. "</body></html>", "text/html; charset=utf-8")
  elseif kind == "reset-before" then
    local r = reply.respond(500, "")
    r.fault = "reset-before"
    return r
  elseif kind == "expire-token" then
    auth.expire_tokens(sb)
    return auth.security_fault(sb, "Token Expired")
  end
  return nil
end

return M
