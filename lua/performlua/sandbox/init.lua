-- performlua.sandbox: an emulated Marketing Cloud account on 127.0.0.1, for scripts (performlua
-- --sandbox), tests and any third-party client.
--
--   local sandbox = require "performlua.sandbox"
--   local sb <close> = sandbox.start{port = 0, latency = 0, speed = 1, token_ttl = 1080,
--     faults = {"throttle:3"}, wsdl = path, seed = path_or_dir_or_table, state = path, client_id = "sandbox",
--     client_secret = "sandbox", username = "sandbox", password = "sandbox", account_id = MID,
--     max_body = bytes, body_budget = bytes, max_connections = n, max_connections_per_ip = n,
--     idle_timeout = seconds, min_rate = bytes_per_second, log = false}
--   (the limits: runtime/sandbox/server.h, pl_sandbox_options; each defaults there;
--   log: one line per request on stderr (time, operation, object types, HTTP status,
--   milliseconds, injected fault, what a validating sandbox dropped))
--   sb.auth_url ("http://127.0.0.1:PORT/"; clients append v2/token), sb.token_url,
--   sb.soap_url, sb.port, sb.client_id, sb.client_secret
--   sb:stats()   {token_requests, soap_requests, by_soap_action (as the SOAPAction header
--                 named them, faulted ones too), by_operation (processed), processed, sends_started,
--                 sends_by_definition, faults_injected, auth_failures, invalid_requests}
--   sb:objects(type) (stored objects as plain tables), sb:rows(de_key), sb:insert(type, obj),
--   sb:add_rows(de_key, rows), sb:generate_rows(de_key, n), sb:clock_advance(seconds),
--   sb:set_speed(x), sb:now(), sb:expire_tokens(), sb:set_faults{"truncate:2", ...},
--   sb:memory() -> {lua_kb = the sandbox's Lua heap} (benchmarks),
--   sb:account() -> {auth_url=, client_id=, client_secret=} for mc.connect, sb:stop()
--   sandbox.default()   the sandbox of `performlua --sandbox`, or nil
--
-- The account's behaviour runs in the server's own lua_State (sandbox/service.lua); this
-- module only starts it and talks to it through text (sandbox/serial.lua).
local core = require "performlua.core"
local errors = require "performlua.errors"
local serial = require "performlua.sandbox.serial"

local M = {}

local Handle = {}
Handle.__index = Handle
Handle.__name = "performlua.sandbox"

local function usage(message)
  errors.usage("sandbox.start: " .. message)
end

local function control(self, name, args)
  if not self.server then
    errors.usage("this sandbox has been stopped")
  end
  return serial.load(self.server:control(name, serial.dump(args)))
end

function Handle:stats() return control(self, "stats") end
function Handle:objects(type_name) return control(self, "objects", type_name) end
function Handle:rows(key) return control(self, "rows", key) end
function Handle:insert(type_name, obj) return control(self, "insert", {type_name, obj}) end
function Handle:add_rows(key, rows) return control(self, "add_rows", {key, rows}) end
function Handle:generate_rows(key, n) return control(self, "generate_rows", {key, n}) end
function Handle:clock_advance(seconds) return control(self, "clock_advance", seconds) end
function Handle:set_speed(x) return control(self, "set_speed", x) end
function Handle:now() return control(self, "now") end
function Handle:expire_tokens() return control(self, "expire_tokens") end
function Handle:set_faults(list) return control(self, "set_faults", list) end
function Handle:memory() return control(self, "memory") end
function Handle:account()
  return {auth_url = self.auth_url, client_id = self.client_id, client_secret = self.client_secret}
end

function Handle:stop()
  local server = self.server
  self.server = nil
  if server then server:stop() end
end
Handle.__close = Handle.stop
Handle.__gc = Handle.stop

function Handle:__tostring()
  return string.format("sandbox %s (%s)", self.auth_url, self.server and "running" or "stopped")
end

local function check_number(opts, name, min, integer)
  local v = opts[name]
  if v == nil then return nil end
  if type(v) ~= "number" or v < min or (integer and math.tointeger(v) == nil) then
    usage(string.format("%s must be %s >= %s (got %s)", name, integer and "a whole number" or "a number",
      tostring(min), tostring(v)))
  end
  return v
end

--- Starts a sandbox; see the header for the options and the handle.
function M.start(opts)
  opts = opts or {}
  if type(opts) ~= "table" then usage("options must be a table") end
  local known = {port = 1, host = 1, latency = 1, token_ttl = 1, speed = 1, faults = 1, wsdl = 1,
    seed = 1, client_id = 1, client_secret = 1, username = 1, password = 1, account_id = 1,
    durations = 1, log = 1, state = 1, max_body = 1, body_budget = 1, max_connections = 1,
    max_connections_per_ip = 1, idle_timeout = 1, min_rate = 1}
  for k in pairs(opts) do
    if not known[k] then usage(string.format("unknown option '%s'", tostring(k))) end
  end
  local port = check_number(opts, "port", 0, true) or 0
  if port > 65535 then usage("port must be at most 65535") end
  local latency = check_number(opts, "latency", 0) or 0
  local ttl = check_number(opts, "token_ttl", 1, true)
  local speed = opts.speed
  if speed ~= nil and (type(speed) ~= "number" or speed <= 0) then
    usage("speed must be a number > 0 (1 = real time)")
  end
  local faults = opts.faults or {}
  if type(faults) == "string" then faults = {faults} end
  if type(faults) ~= "table" then usage("faults must be a list such as {\"throttle:3\"}") end
  local service = require "performlua.sandbox.service"
  for _, f in ipairs(faults) do
    local ok, err = pcall(service.parse_fault, f)
    if not ok then usage(err) end
  end
  local host = opts.host or "127.0.0.1"
  if type(host) ~= "string" then usage("host must be an address such as 127.0.0.1") end
  if opts.wsdl ~= nil and type(opts.wsdl) ~= "string" then usage("wsdl must be a file path") end
  if opts.state ~= nil and (type(opts.state) ~= "string" or opts.state == "") then
    usage("state must be a file path")
  end
  if opts.seed ~= nil and type(opts.seed) ~= "string" and type(opts.seed) ~= "table" then
    usage("seed must be a file path or a table of objects by type")
  end
  local config = {client_id = opts.client_id, client_secret = opts.client_secret,
    username = opts.username, password = opts.password, token_ttl = ttl, speed = speed,
    faults = faults, wsdl = opts.wsdl, seed = opts.seed, account_id = opts.account_id,
    durations = opts.durations, log = opts.log and true or nil, state = opts.state}
  local ok, text = pcall(serial.dump, config)
  if not ok then usage(text) end
  local start = {host = host, port = port, latency_ms = math.floor(latency + 0.5),
    config_lua = text}
  for _, limit in ipairs{"max_body", "body_budget", "max_connections", "max_connections_per_ip",
                         "idle_timeout", "min_rate"} do
    local v = check_number(opts, limit, 1, true)
    if v and v > 2 ^ 31 and limit ~= "max_body" and limit ~= "body_budget" then
      usage(limit .. " must be at most " .. math.tointeger(2 ^ 31))
    end
    start[limit] = v and math.tointeger(v)
  end
  local server = core.sandbox_start(start)
  local p = server:port()
  local url_host = host:find(":", 1, true) and ("[" .. host .. "]") or host
  local base = string.format("http://%s:%d/", url_host, p)
  return setmetatable({server = server, port = p, host = host, auth_url = base,
    token_url = base .. "v2/token", soap_url = base .. "Service.asmx",
    client_id = opts.client_id or "sandbox", client_secret = opts.client_secret or "sandbox",
    username = opts.username or "sandbox", password = opts.password or "sandbox"}, Handle)
end

local default_handle

--- The sandbox `performlua --sandbox` started for this run, which mc.connect() with no
--- arguments reaches; nil otherwise (a script then talks to a real account: ask first).
function M.default()
  return default_handle
end

--- performlua --sandbox: a sandbox on a free loopback port, registered as the default account
--- so mc.connect() with no arguments reaches it. Returns the handle (keep it alive).
function M.start_default(opts)
  local h = M.start(opts)
  default_handle = h
  local config = require "performlua.config"
  config.set_default_account{auth_url = h.auth_url, client_id = h.client_id,
    client_secret = h.client_secret, soap_url = h.soap_url}
  return h
end

return M
