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
local auth = require "performlua.sandbox.auth"
local soap = require "performlua.sandbox.soap"
local routing = require "performlua.sandbox.routing"
local fault_injection = require "performlua.sandbox.faults"
local request_log = require "performlua.sandbox.request_log"

local M = {}

-- the fault kinds and the parser of --fault KIND:N, for the CLI and sandbox.start to check
-- their arguments before a server starts
M.FAULT_KINDS = fault_injection.KINDS
M.parse_fault = fault_injection.parse

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
  for i, spec in ipairs(cfg.faults or {}) do faults[i] = fault_injection.parse(spec) end
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
    faults = faults, -- --fault KIND:N, parsed (faults.lua)
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

  local function handle(req)
    sb.current = {}
    local started = core.monotonic()
    local r = routing.route(sb, req)
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
      for i, spec in ipairs(list or {}) do parsed[i] = fault_injection.parse(spec) end
      sb.faults = parsed
      return #sb.faults
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
