-- performlua.sandbox.service: the emulated account as an HTTP service. Runs inside the
-- sandbox server's own lua_State (runtime/sandbox/server.c), one request at a time, though a
-- long one gives its turn to waiting ones at safe points (core.sandbox_yield, crud.lua).
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
--
-- This file builds the sandbox's state (`sb`, see state()) from the config; the jobs are done
-- by functions of other modules that take it: routing.lua (path -> endpoint), auth.lua
-- (tokens), faults.lua (injection), soap.lua (one SOAP request), operations.lua (the
-- operations), request_log.lua (--log), control.lua (specs, the CLI). The folder's README.md
-- maps every file.
local core = require "performlua.core"
local account_mod = require "performlua.sandbox.account"
local soap = require "performlua.sandbox.soap"
local routing = require "performlua.sandbox.routing"
local fault_injection = require "performlua.sandbox.faults"
local request_log = require "performlua.sandbox.request_log"
local control = require "performlua.sandbox.control"
local state_mod = require "performlua.sandbox.state"
local jobs = require "performlua.sandbox.jobs"

local M = {}
local in_transaction -- below

-- the fault kinds and the parser of --fault KIND:N, for the CLI and sandbox.start to check
-- their arguments before a server starts
M.FAULT_KINDS = fault_injection.KINDS
M.parse_fault = fault_injection.parse

local function load_seed(seed)
  if seed == nil then return require("performlua.sandbox.seed") end
  if type(seed) == "table" then return seed end
  local info = core.file_info(seed)
  if info and info.is_dir then -- --seed DIR: one CSV file per data extension
    return require("performlua.sandbox.seed_csv").load(seed, require("performlua.sandbox.seed"))
  end
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

--- The sandbox's state from its config: every module that does a job of the service takes it
--- as its first argument (`sb`).
function M.state(cfg)
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

  -- --state FILE: the account lives in the file (and is read back from it when it holds one);
  -- without it, in an in-memory database, seeded
  local db, restored
  if cfg.state then
    restored = state_mod.check(cfg.state)
    db = state_mod.open(cfg.state)
  end
  local acct = account_mod.new{speed = cfg.speed, account_id = cfg.account_id, db = db}
  if restored then
    state_mod.load(acct, account_mod.typed_nested)
  else
    local seed = load_seed(cfg.seed)
    acct.db:transaction(function()
      acct:load_seed(seed)
      if db then
        state_mod.track(acct)
        state_mod.save(acct)
      end
    end)
  end
  if cfg.durations then
    for k, v in pairs(cfg.durations) do acct.durations[k] = v end
  end

  local sb = {
    acct = acct, -- the account: objects, rows, the clock, jobs (account.lua, jobs.lua)
    credentials = {client_id = cfg.client_id or "sandbox", client_secret = cfg.client_secret
      or "sandbox", username = cfg.username or "sandbox", password = cfg.password or "sandbox"},
    token_ttl = cfg.token_ttl or 1080,
    faults = faults, -- --fault KIND:N, parsed (faults.lua)
    validator = validator, -- the WSDL's XSD validator, or nil (no --wsdl)
    log = cfg.log and (cfg.log_sink or function(line) io.stderr:write(line) end), -- or nil
    tokens = {}, -- token -> {expires = monotonic seconds, mid = }
    describe_cache = {}, -- type -> its ObjectDefinition
    stats = {token_requests = 0, soap_requests = 0, by_soap_action = {}, by_operation = {}, processed = {},
      sends_started = 0, sends_by_definition = {}, faults_injected = {}, auth_failures = 0,
      invalid_requests = 0, dropped_elements = 0},
    current = {}, -- what the log line of a request says (request_log.lua): each request's own
    -- view of the state has its own (M.handle)
    persist = db and state_mod.save or nil, -- writes the account's changes (--state)
    in_progress = 0, -- requests and controls begun and not ended (the shared transaction)
  }
  -- queued work run on the clock counts the sends it starts here (operations.lua, schedule.lua)
  acct.stats = sb.stats
  -- the service's time zones, which every account has (a file written before had none)
  in_transaction(sb, require("performlua.sandbox.timezone").install, acct)
  if restored then
    -- the work that fell due while the sandbox was stopped runs now, once (state.lua)
    in_transaction(sb, jobs.tick, acct)
  end
  return sb
end

-- The account's database holds one transaction while any request or control is in progress.
-- Requests take turns and interleave (a big Create lets small requests through between its
-- objects), so a transaction per request would begin and end out of order: the first to begin
-- opens it, the last to end writes the account's changes (--state) and commits. A moment with
-- no request in progress leaves a consistent file; a request that fails keeps what it did
-- before failing, as the service keeps the objects of a Create done before an error.
local function begin_work(sb)
  if sb.in_progress == 0 then sb.acct.db:exec("BEGIN IMMEDIATE") end
  sb.in_progress = sb.in_progress + 1
end

local function end_work(sb)
  -- saving may reach a safe point and let another request begin: only the last to end commits
  local saved, err = true, nil
  if sb.in_progress == 1 and sb.persist then saved, err = pcall(sb.persist, sb.acct) end
  sb.in_progress = sb.in_progress - 1
  if sb.in_progress == 0 then sb.acct.db:exec("COMMIT") end
  if not saved then error(err, 0) end
end

function in_transaction(sb, fn, ...)
  begin_work(sb)
  local results = table.pack(pcall(fn, ...))
  end_work(sb)
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

--- One HTTP request -> its answer (see the top of this file), logged when --log is on.
--- Requests take turns on the state and may interleave (a big Create lets small requests
--- through between its objects), so what belongs to one request (`current`) lives in a view of
--- the state of its own: the modules read and write the shared fields through it as through sb.
function M.handle(sb, req)
  local view = setmetatable({current = {}}, {__index = sb, __newindex = sb})
  local started = core.monotonic()
  local r = in_transaction(sb, routing.route, view, req)
  if sb.log then sb.log(request_log.line(view.current, r, started)) end
  return r
end

function M.new(cfg)
  local sb = M.state(cfg)
  return function(req) return M.handle(sb, req) end,
    function(name, args_lua) return in_transaction(sb, control.control, sb, name, args_lua) end
end

return M
