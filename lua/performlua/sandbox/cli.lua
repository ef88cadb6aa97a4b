-- performlua.sandbox.cli: `performlua sandbox [options]`, the sandbox in the foreground until
-- Ctrl-C or SIGTERM. main(args) returns the exit status: 0 after a clean stop, 1 when the
-- sandbox cannot start (port in use, unreadable seed or WSDL), 2 for bad options.
local core = require "performlua.core"
local sandbox = require "performlua.sandbox"

local M = {}

M.USAGE = [[
usage: performlua sandbox [--port N] [--host ADDRESS] [--wsdl FILE] [--seed FILE.lua]
                          [--latency MS] [--token-ttl S] [--speed X] [--fault KIND:N ...]

Runs an emulated Marketing Cloud account (token endpoint, SOAP endpoint, objects with state,
asynchronous work) until Ctrl-C or SIGTERM. Point any client at the printed URLs.

  --port N         TCP port (default 0: a free port, printed at start)
  --host ADDRESS   address to listen on (default 127.0.0.1, loopback only)
  --wsdl FILE      validate every request body against this WSDL's schema; invalid requests
                   get HTTP 500 with a soap:Client fault carrying the validator's message
  --seed FILE.lua  a Lua file returning the account's objects (default: the built-in seed)
  --latency MS     delay every answer by MS milliseconds (concurrent requests stay concurrent)
  --token-ttl S    token lifetime in seconds (default 1080)
  --speed X        sandbox clock speed (default 1: a send completes in about a second)
  --fault KIND:N   every Nth SOAP request (counted from 1) gets the fault KIND; repeatable:
                     throttle      HTTP 500 "Rate Limited" fault (code 17), not processed
                     http503       HTTP 503 with an HTML page, not processed
                     reset-before  connection closed, request not processed
                     reset-after   request processed, connection closed without an answer
                     truncate      request processed, half of the answer sent
                     expire-token  "Token Expired" fault, the current tokens invalidated
  --help           this text]]

local VALUE_OPTIONS = {port = true, host = true, wsdl = true, seed = true, latency = true,
  ["token-ttl"] = true, speed = true, fault = true}

local function number_option(name, text, integer, min)
  local n = tonumber(text)
  if not n or (integer and math.tointeger(n) == nil) or n < min then
    return nil, string.format("--%s needs %s of at least %s (got '%s')", name,
      integer and "a whole number" or "a number", tostring(min), tostring(text))
  end
  return integer and math.tointeger(n) or n
end

--- Parses the arguments into sandbox.start options; nil, message on a bad option.
function M.parse(args)
  local o = {faults = {}}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--help" or a == "-h" then return {help = true} end
    local name, value = a:match("^%-%-([%w-]+)=(.*)$")
    if not name then
      name = a:match("^%-%-([%w-]+)$")
      if name and VALUE_OPTIONS[name] then
        value = args[i + 1]
        if value == nil then return nil, string.format("--%s needs a value", name) end
        i = i + 1
      end
    end
    if not name or not VALUE_OPTIONS[name] then
      return nil, string.format("unknown option '%s'", a)
    end
    local err
    if name == "port" then
      o.port, err = number_option(name, value, true, 0)
      if o.port and o.port > 65535 then o.port, err = nil, "--port must be at most 65535" end
    elseif name == "host" then o.host = value
    elseif name == "wsdl" then o.wsdl = value
    elseif name == "seed" then o.seed = value
    elseif name == "latency" then o.latency, err = number_option(name, value, false, 0)
    elseif name == "token-ttl" then o.token_ttl, err = number_option(name, value, true, 1)
    elseif name == "speed" then
      o.speed, err = number_option(name, value, false, 0)
      if o.speed == 0 then o.speed, err = nil, "--speed must be greater than 0" end
    elseif name == "fault" then
      local ok, problem = pcall(require("performlua.sandbox.service").parse_fault, value)
      -- the shared message starts "fault 'x' ..." for sandbox.start; here the option names it
      if not ok then err = "--fault: " .. tostring(problem):gsub("^fault ", "") end
      o.faults[#o.faults + 1] = value
    end
    if err then return nil, err end
    i = i + 1
  end
  return o
end

function M.main(args)
  local o, problem = M.parse(args or {})
  if not o then
    io.stderr:write("performlua sandbox: ", problem, "\n", M.USAGE, "\n")
    return 2
  end
  if o.help then
    print(M.USAGE)
    return 0
  end
  local ok, h = pcall(sandbox.start, o)
  if not ok then
    io.stderr:write("performlua sandbox: ", type(h) == "table" and tostring(h.message) or tostring(h), "\n")
    return 1
  end
  print("performlua sandbox: an emulated Marketing Cloud account")
  print("  token URL:      " .. h.token_url)
  print("  SOAP URL:       " .. h.soap_url)
  print("  auth base URL:  " .. h.auth_url .. "  (clients append v2/token)")
  print("  client id:      " .. h.client_id)
  print("  client secret:  " .. h.client_secret)
  print("  WS-Security:    username " .. h.username .. ", password " .. h.password)
  if o.wsdl then print("  validating requests against " .. o.wsdl) end
  if #o.faults > 0 then print("  injecting faults: " .. table.concat(o.faults, ", ")) end
  if o.latency and o.latency > 0 then print(string.format("  latency: %g ms", o.latency)) end
  print("Stop with Ctrl-C.")
  io.stdout:flush()
  local signal = core.sandbox_wait_signal()
  local stats = h:stats()
  h:stop()
  print(string.format("performlua sandbox: stopped (%s) after %d token and %d SOAP requests",
    signal, stats.token_requests, stats.soap_requests))
  io.stdout:flush()
  return 0
end

return M
