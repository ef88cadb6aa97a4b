-- performlua.sandbox.faults: the faults a sandbox injects (--fault KIND:N: every Nth SOAP
-- request gets KIND; KIND:OPERATION:N: every Nth request of that operation, as its SOAPAction
-- header names it), so clients rehearse throttling, outages, dropped connections and expired
-- tokens. parse reads a spec, pick chooses the fault of a request, answer writes the answer of
-- a fault that stands instead of processing the request.
--
-- Counting one operation's requests lets a test hit "the fifth Perform" (a workflow's send
-- start) however many Retrieves polled before it: how many a wait makes depends on timing.
local reply = require "performlua.sandbox.reply"
local auth = require "performlua.sandbox.auth"
local soap = require "performlua.sandbox.soap"

local M = {}

local KNOWN = {throttle = true, http503 = true, ["reset-before"] = true,
  ["reset-after"] = true, truncate = true, ["expire-token"] = true}
M.KINDS = {"throttle", "http503", "reset-before", "reset-after", "truncate", "expire-token"}

--- Parses "KIND:N" into {kind=, every=} and "KIND:OPERATION:N" into {kind=, op=, every=};
--- raises a message naming what is wrong.
function M.parse(spec)
  local text = tostring(spec)
  local kind, op, n = text:match("^([%w%-]+):(%a+):(%d+)$")
  if not kind then kind, n = text:match("^([%w%-]+):(%d+)$") end
  if not kind then
    error(string.format("fault '%s' is not KIND:N or KIND:OPERATION:N (e.g. throttle:3, "
      .. "reset-after:Perform:2; kinds: %s)", text, table.concat(M.KINDS, ", ")), 0)
  end
  if not KNOWN[kind] then
    error(string.format("unknown fault kind '%s' (kinds: %s)", kind, table.concat(M.KINDS, ", ")), 0)
  end
  if op and not soap.is_operation(op) then
    error(string.format("fault '%s': '%s' is not a SOAP operation of the API (e.g. Perform, "
      .. "Retrieve, Create; names are case-sensitive)", text, op), 0)
  end
  n = math.tointeger(tonumber(n))
  if not n or n < 1 then
    error(string.format("fault '%s': N must be a whole number of at least 1 (every Nth SOAP request)", text), 0)
  end
  return {kind = kind, op = op, every = n}
end

--- The kind of fault a SOAP request gets from the parsed `faults`, or nil (the first that
--- matches wins). `n` is its number among all SOAP requests, `op` its operation (nil when its
--- SOAPAction names none) and `n_of_op` its number among that operation's requests.
function M.pick(faults, n, op, n_of_op)
  for _, f in ipairs(faults) do
    if f.op == nil then
      if n % f.every == 0 then return f.kind end
    elseif f.op == op and n_of_op % f.every == 0 then
      return f.kind
    end
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
