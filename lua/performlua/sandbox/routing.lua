-- performlua.sandbox.routing: an HTTP request to the endpoint that answers it.
--
--   POST /v2/token        the OAuth 2 token endpoint (auth.lua)
--   POST /v1/requestToken the legacy token endpoint (auth.lua)
--   POST /Service.asmx    SOAP 1.1 (path case-insensitive; soap.lua), after the fault
--                         injection has had its say (faults.lua)
-- `sb` is the sandbox's state (service.lua); the endpoint is noted for the log (sb.current).
local auth = require "performlua.sandbox.auth"
local faults = require "performlua.sandbox.faults"
local reply = require "performlua.sandbox.reply"
local soap = require "performlua.sandbox.soap"

local M = {}

local function soap_endpoint(sb, req)
  local stats, current = sb.stats, sb.current
  if req.method ~= "POST" then
    return reply.respond(405, "The SOAP endpoint takes POST requests\n", "text/plain; charset=utf-8")
  end
  stats.soap_requests = stats.soap_requests + 1
  -- until the body is read, the log names the operation after the SOAPAction header
  local action = req.headers.soapaction
  action = action and action:match('^%s*"?(.-)"?%s*$'):match("([^/]*)$")
  if action and soap.is_operation(action) then current.op = action else action = nil end
  local by_op = stats.by_soap_action
  if action then by_op[action] = (by_op[action] or 0) + 1 end
  local kind = faults.pick(sb.faults, stats.soap_requests, action, action and by_op[action])
  if kind then stats.faults_injected[kind] = (stats.faults_injected[kind] or 0) + 1 end
  current.injected = kind
  local injected = faults.answer(sb, kind)
  if injected then return injected end
  local r = soap.process(sb, req)
  if kind == "reset-after" or kind == "truncate" then r.fault = kind end
  return r
end

function M.route(sb, req)
  local current = sb.current
  local path = (req.path or "/"):lower():gsub("%?.*$", "")
  if path == "/v2/token" or path == "/v2/token/" then
    current.op = "token"
    return auth.token_endpoint(sb, req)
  end
  if path == "/service.asmx" then
    current.op = "SOAP"
    return soap_endpoint(sb, req)
  end
  if path == "/v1/requesttoken" then
    current.op = "token (v1)"
    return auth.legacy_token_endpoint(sb, req)
  end
  current.op = "not found: " .. reply.header_shown(req.path or "/")
  return reply.respond(404, "Not found: the sandbox serves POST /v2/token and POST /Service.asmx\n",
    "text/plain; charset=utf-8")
end

return M
