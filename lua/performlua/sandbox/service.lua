-- performlua.sandbox.service: the emulated account as an HTTP service. Runs inside the
-- sandbox server's own lua_State (runtime/sandbox/server.c), one request at a time.
--
--   POST /v2/token        OAuth 2 client credentials (JSON), as the service's auth endpoint
--   POST /v1/requestToken the legacy endpoint ({clientId, clientSecret} -> accessToken)
--   POST /Service.asmx    SOAP 1.1 (path case-insensitive), the 13 operations
--
-- new(config) returns two functions for the C side:
--   handle(request) -> {status=, body=, content_type=, fault=}   request: {method, path,
--       headers (lower-case names), body}; fault = "reset-before" | "reset-after" | "truncate"
--       tells the C side to close the connection (before or instead of answering) or to send
--       half of the body;
--       headers = {Name = "value"} more headers (X-Sandbox-Dropped: what a validating sandbox
--       took without the elements the service would skip)
--   control(name, args_lua) -> result_lua   specs and the CLI: stats, objects, clock, ...
-- config.log: one line per request on stderr (config.log_sink(line) instead, for specs).
-- config.validator, an XSD validator already loaded (core.xsd_load), stands for config.wsdl:
-- services made one after the other (the fuzz target) share one instead of loading the WSDL.
local core = require "performlua.core"
local serial = require "performlua.sandbox.serial"
local account_mod = require "performlua.sandbox.account"
local jobs = require "performlua.sandbox.jobs"
local reply = require "performlua.sandbox.reply"
local auth = require "performlua.sandbox.auth"
local soap = require "performlua.sandbox.soap"
local request_log = require "performlua.sandbox.request_log"

local respond, fault = reply.respond, reply.fault
local header_shown = reply.header_shown

local M = {}

local FAULT_KINDS = {throttle = true, http503 = true, ["reset-before"] = true,
  ["reset-after"] = true, truncate = true, ["expire-token"] = true}
M.FAULT_KINDS = {"throttle", "http503", "reset-before", "reset-after", "truncate", "expire-token"}

--- Parses "KIND:N" into {kind=, every=}; raises a message naming what is wrong.
function M.parse_fault(spec)
  local kind, n = tostring(spec):match("^([%w%-]+):(%d+)$")
  if not kind then
    error(string.format("fault '%s' is not KIND:N (e.g. throttle:3; kinds: %s)", tostring(spec),
      table.concat(M.FAULT_KINDS, ", ")), 0)
  end
  if not FAULT_KINDS[kind] then
    error(string.format("unknown fault kind '%s' (kinds: %s)", kind, table.concat(M.FAULT_KINDS, ", ")), 0)
  end
  n = math.tointeger(tonumber(n))
  if not n or n < 1 then
    error(string.format("fault '%s': N must be a whole number of at least 1 (every Nth SOAP request)", spec), 0)
  end
  return {kind = kind, every = n}
end

local function load_seed(seed)
  if seed == nil then return require("performlua.sandbox.seed") end
  if type(seed) == "table" then return seed end
  local f, err = loadfile(seed, "t")
  if not f then error(string.format("cannot read the seed file %s: %s", seed, err), 0) end
  local ok, value = pcall(f)
  if not ok then error(string.format("the seed file %s failed: %s", seed, tostring(value)), 0) end
  if type(value) ~= "table" then
    error(string.format("the seed file %s must return a table of objects by type (it returned %s)",
      seed, type(value)), 0)
  end
  return value
end

M.header_after_body_blanked = soap.header_after_body_blanked

function M.new(cfg)
  cfg = cfg or {}
  local faults = {}
  for i, spec in ipairs(cfg.faults or {}) do faults[i] = M.parse_fault(spec) end
  local validator = cfg.validator
  if not validator and cfg.wsdl then
    local ok, v = pcall(core.xsd_load, cfg.wsdl)
    if not ok then
      error(string.format("cannot load the WSDL %s: %s", cfg.wsdl,
        type(v) == "table" and tostring(v.message) or tostring(v)), 0)
    end
    validator = v
  end

  local acct = account_mod.new{speed = cfg.speed, account_id = cfg.account_id}
  acct:load_seed(load_seed(cfg.seed))
  if cfg.durations then
    for k, v in pairs(cfg.durations) do acct.durations[k] = v end
  end

  -- the sandbox's state, passed to the modules that do its jobs (one request at a time)
  local sb = {
    acct = acct,
    credentials = {client_id = cfg.client_id or "sandbox", client_secret = cfg.client_secret
      or "sandbox", username = cfg.username or "sandbox", password = cfg.password or "sandbox"},
    token_ttl = cfg.token_ttl or 1080,
    validator = validator, -- the WSDL's XSD validator, or nil (no --wsdl)
    tokens = {}, -- token -> {expires = monotonic seconds, mid = }
    describe_cache = {}, -- type -> its ObjectDefinition
    stats = {token_requests = 0, soap_requests = 0, by_operation = {}, processed = {},
      sends_started = 0, sends_by_definition = {}, faults_injected = {}, auth_failures = 0,
      invalid_requests = 0, dropped_elements = 0},
    current = {}, -- what the log line of the request being handled says (request_log.lua)
  }
  local stats = sb.stats

  local log = cfg.log and (cfg.log_sink or function(line) io.stderr:write(line) end)

  local function pick_fault(n)
    for _, f in ipairs(faults) do
      if n % f.every == 0 then return f.kind end
    end
    return nil
  end

  local function soap_endpoint(req)
    if req.method ~= "POST" then
      return respond(405, "The SOAP endpoint takes POST requests\n", "text/plain; charset=utf-8")
    end
    stats.soap_requests = stats.soap_requests + 1
    local kind = pick_fault(stats.soap_requests)
    if kind then stats.faults_injected[kind] = (stats.faults_injected[kind] or 0) + 1 end
    sb.current.injected = kind
    -- until the body is read, the log names the operation after the SOAPAction header
    local action = req.headers.soapaction
    action = action and action:match('^%s*"?(.-)"?%s*$'):match("([^/]*)$")
    if action and soap.is_operation(action) then sb.current.op = action end
    if kind == "throttle" then
      return fault(500, "soap:Server", "Rate Limited", {code = 17, message = "Rate Limited"})
    elseif kind == "http503" then
      return respond(503, "<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
        .. "<body><h1>Service Unavailable</h1><p>HTTP Error 503. The service is unavailable.</p>"
        .. "</body></html>", "text/html; charset=utf-8")
    elseif kind == "reset-before" then
      local r = respond(500, "")
      r.fault = "reset-before"
      return r
    elseif kind == "expire-token" then
      auth.expire_tokens(sb)
      return auth.security_fault(sb, "Token Expired")
    end
    local r = soap.process(sb, req)
    if kind == "reset-after" or kind == "truncate" then r.fault = kind end
    return r
  end

  local function route(req)
    local path = (req.path or "/"):lower():gsub("%?.*$", "")
    if path == "/v2/token" or path == "/v2/token/" then
      sb.current.op = "token"
      return auth.token_endpoint(sb, req)
    end
    if path == "/service.asmx" then
      sb.current.op = "SOAP"
      return soap_endpoint(req)
    end
    if path == "/v1/requesttoken" then
      sb.current.op = "token (v1)"
      return auth.legacy_token_endpoint(sb, req)
    end
    sb.current.op = "not found: " .. header_shown(req.path or "/")
    return respond(404, "Not found: the sandbox serves POST /v2/token and POST /Service.asmx\n",
      "text/plain; charset=utf-8")
  end

  local function handle(req)
    sb.current = {}
    local started = core.monotonic()
    local r = route(req)
    if log then log(request_log.line(sb.current, r, started)) end
    return r
  end

  -- --------------------------------------------------------------------------------------------
  -- control (specs, the CLI)

  local function plain(obj)
    local out = {}
    for k, v in next, obj do
      if type(k) ~= "string" or k:sub(1, 1) ~= "_" then out[k] = account_mod.copy(v) end
    end
    return out
  end

  local controls = {
    stats = function() return stats end,
    objects = function(type_name)
      jobs.tick(acct)
      local out = {}
      local c = acct.types[type_name]
      for i, o in ipairs(c and c.list or {}) do out[i] = plain(o) end
      return out
    end,
    rows = function(key)
      local store = acct:row_store(key)
      if not store then return nil end
      if store.generated then return {generated = store.generated.count} end
      return account_mod.copy(store.list)
    end,
    insert = function(args)
      local o = acct:insert(args[1], args[2])
      return plain(o)
    end,
    add_rows = function(args)
      local store = acct:row_store(args[1])
      if not store then error("no data extension with the CustomerKey " .. tostring(args[1]), 0) end
      for _, r in ipairs(args[2]) do account_mod.add_row(store, r) end
      return #store.list
    end,
    generate_rows = function(args) return acct:generate_rows(args[1], args[2]) end,
    clock_advance = function(seconds)
      acct.clock:advance(seconds)
      jobs.tick(acct)
      return acct:now()
    end,
    set_speed = function(speed)
      acct.clock:set_speed(speed)
      return speed
    end,
    now = function() return acct:now() end,
    expire_tokens = function()
      auth.expire_tokens(sb)
      return true
    end,
    set_faults = function(list)
      local parsed = {}
      for i, spec in ipairs(list or {}) do parsed[i] = M.parse_fault(spec) end
      faults = parsed
      return #faults
    end,
  }

  local function control(name, args_lua)
    local f = controls[name]
    if not f then error("the sandbox has no control named " .. tostring(name), 0) end
    return serial.dump(f(serial.load(args_lua)))
  end

  return handle, control
end

return M
