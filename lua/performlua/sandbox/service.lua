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
local operations = require "performlua.sandbox.operations"

local respond, fault = reply.respond, reply.fault
local shown, header_shown = reply.shown, reply.header_shown

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

local OPERATIONS = {} -- name -> {request=, response=}
local BY_ELEMENT = {} -- request element -> name
for _, op in ipairs(core.operations()) do
  OPERATIONS[op.name] = op
  BY_ELEMENT[op.request] = op.name
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

-- Body before Header is tolerated (sfmc-sdk and fuel-soap send it so, and the service takes
-- it), but the validator reads an Envelope in SOAP 1.1's order. The Header is not what it
-- checks, so a Header after the Body is blanked out, its line breaks kept so the validator's
-- line numbers still point into the request as sent. Nil when there is no such Header.
local function header_after_body_blanked(xml)
  local _, body_end = xml:find("</[%w_%.%-]*:?Body%s*>")
  if not body_end then return nil end
  local s, name_end, prefix = xml:find("<([%w_%.%-]*:?)Header[%s/>]", body_end + 1)
  if not s then return nil end
  local tag_end = xml:find(">", name_end, true)
  if not tag_end then return nil end
  local stop = tag_end
  if xml:sub(tag_end - 1, tag_end - 1) ~= "/" then
    stop = select(2, xml:find("</" .. prefix:gsub("%p", "%%%0") .. "Header%s*>", tag_end + 1))
    if not stop then return nil end
  end
  return xml:sub(1, s - 1) .. xml:sub(s, stop):gsub("[^\n]+", "") .. xml:sub(stop + 1)
end
M.header_after_body_blanked = header_after_body_blanked

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
    tokens = {}, -- token -> {expires = monotonic seconds, mid = }
    describe_cache = {}, -- type -> its ObjectDefinition
    stats = {token_requests = 0, soap_requests = 0, by_operation = {}, processed = {},
      sends_started = 0, sends_by_definition = {}, faults_injected = {}, auth_failures = 0,
      invalid_requests = 0, dropped_elements = 0},
  }
  local stats = sb.stats

  -- what the log line of the request being handled says (one request at a time)
  local current = {}
  local log = cfg.log and (cfg.log_sink or function(line) io.stderr:write(line) end)

  -- The object types a request names, for the log: its objects' xsi:types, a Retrieve's
  -- ObjectType.
  local LISTS = {"Objects", "Definitions", "Configurations", "Interactions", "Requests"}
  local function note_types(op, body)
    current.op = op
    if type(body) ~= "table" then return end
    local seen, types = {}, {}
    local function add(t)
      if type(t) == "string" and not seen[t] then
        seen[t] = true
        types[#types + 1] = t
      end
    end
    if type(body.RetrieveRequest) == "table" then add(body.RetrieveRequest.ObjectType) end
    if type(body.DescribeRequests) == "table" then
      for _, d in ipairs(body.DescribeRequests) do
        if type(d) == "table" then add(d.ObjectType) end
      end
    end
    for _, name in ipairs(LISTS) do
      if type(body[name]) == "table" then
        for _, o in ipairs(body[name]) do add(core.typeof(o)) end
      end
    end
    current.types = types
  end

  -- --------------------------------------------------------------------------------------------
  -- SOAP

  local function operation_of(req, element, header)
    local action = req.headers.soapaction
    if action then
      action = action:match('^%s*"?(.-)"?%s*$')
      action = action:match("([^/]*)$")
    end
    if action == nil or action == "" then
      action = header and header.action
      if action then action = action:match("([^/]*)$") end
    end
    if action == nil or action == "" then
      if element and BY_ELEMENT[element] then return BY_ELEMENT[element] end
      return nil, fault(500, "soap:Client", "The request has no SOAPAction header, no "
        .. "WS-Addressing Action and no request element the service knows")
    end
    if not OPERATIONS[action] then
      return nil, fault(500, "soap:Client", "Server did not recognize the value of HTTP Header "
        .. "SOAPAction: " .. header_shown(action) .. ".")
    end
    if element and OPERATIONS[action].request ~= element then
      return nil, fault(500, "soap:Client", string.format("The SOAPAction %s does not match the "
        .. "request element %s (a %s request is a %s)", action, shown(element, 200), action,
        OPERATIONS[action].request))
    end
    return action
  end

  local function process_soap(req)
    local ok, body, element, header = pcall(core.decode, req.body)
    if not ok then
      stats.invalid_requests = stats.invalid_requests + 1
      -- the decoder is written for the client: its "not a SOAP response" says nothing here
      local msg = tostring(type(body) == "table" and body.message or body):gsub("^not a SOAP response: ", "")
      return fault(500, "soap:Client", "The request is not a SOAP envelope the service can "
        .. "read: " .. tostring(msg))
    end
    local op, failure = operation_of(req, element, header)
    if not op then
      stats.invalid_requests = stats.invalid_requests + 1
      return failure
    end
    stats.by_operation[op] = (stats.by_operation[op] or 0) + 1
    current.op = op
    local ctx, denied = auth.authenticate(sb, header or {})
    if not ctx then return denied end
    local dropped
    if validator then
      -- the XSD decides fast what is fine; what it refuses is read as the service's
      -- deserializer would (core.read_like_service): refused only for a value or type it
      -- cannot read, otherwise taken without what it would skip, which is said out loud
      local valid = validator:validate(req.body)
      local blanked = not valid and header_after_body_blanked(req.body)
      if blanked then valid = validator:validate(blanked) end
      if not valid then
        local readable, what, kept = core.read_like_service(req.body)
        if not readable then
          stats.invalid_requests = stats.invalid_requests + 1
          return fault(500, "soap:Client", what)
        end
        if what then
          dropped = what
          stats.dropped_elements = stats.dropped_elements + #what
          local okk, kept_body = pcall(core.decode, kept)
          if okk then body = kept_body end
        end
      end
    end
    note_types(op, body)
    ctx.request_id = account_mod.uuid()
    -- Options.Client.ID: the request acts in that business unit (from its parent)
    local options = type(body) == "table" and body.Options
    local client = type(options) == "table" and options.Client
    if type(client) == "table" and client.ID ~= nil and client.ID ~= "" then
      local target = math.tointeger(tonumber(client.ID))
      if not target or not acct:is_unit(target) or not acct:may_reach(ctx.mid, target) then
        stats.invalid_requests = stats.invalid_requests + 1
        return fault(500, "soap:Client", string.format("Options.Client.ID %s is not a business "
          .. "unit this token's account (MID %d) can act in: give its own MID or the MID of a "
          .. "business unit below it", tostring(client.ID), ctx.mid or acct.mid))
      end
      ctx.mid = target
    end
    -- queued asynchronous requests whose time has come are processed before this one
    local okh, resp_element, tbl = pcall(function(b, c) jobs.tick(acct) return operations.handlers[op](sb, b, c) end,
      body, ctx)
    if okh and resp_element == nil then -- the handler refused the request with a fault
      stats.invalid_requests = stats.invalid_requests + 1
      return tbl
    end
    if not okh then
      return fault(500, "soap:Server", "The sandbox failed to process the request: "
        .. tostring(type(resp_element) == "table" and resp_element.message or resp_element),
        {code = 2, message = "UnexpectedError"})
    end
    stats.processed[op] = (stats.processed[op] or 0) + 1
    local oke, xml = pcall(core.encode_message, resp_element, tbl,
      {response_headers = {relates_to = header and header.message_id}})
    if not oke then
      return fault(500, "soap:Server", "The sandbox could not write its answer: "
        .. tostring(type(xml) == "table" and xml.message or xml), {code = 2, message = "UnexpectedError"})
    end
    local r = respond(200, xml)
    if dropped then
      current.dropped = dropped
      r.headers = {["X-Sandbox-Dropped"] = core.safe_text(table.concat(dropped, ", "), {max = 2000})}
    end
    return r
  end

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
    current.injected = kind
    -- until the body is read, the log names the operation after the SOAPAction header
    local action = req.headers.soapaction
    action = action and action:match('^%s*"?(.-)"?%s*$'):match("([^/]*)$")
    if action and OPERATIONS[action] then current.op = action end
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
    local r = process_soap(req)
    if kind == "reset-after" or kind == "truncate" then r.fault = kind end
    return r
  end

  local function route(req)
    local path = (req.path or "/"):lower():gsub("%?.*$", "")
    if path == "/v2/token" or path == "/v2/token/" then
      current.op = "token"
      return auth.token_endpoint(sb, req)
    end
    if path == "/service.asmx" then
      current.op = "SOAP"
      return soap_endpoint(req)
    end
    if path == "/v1/requesttoken" then
      current.op = "token (v1)"
      return auth.legacy_token_endpoint(sb, req)
    end
    current.op = "not found: " .. header_shown(req.path or "/")
    return respond(404, "Not found: the sandbox serves POST /v2/token and POST /Service.asmx\n",
      "text/plain; charset=utf-8")
  end

  -- --log: one line per request on stderr. The time is what the sandbox took, --latency not
  -- included.
  local function log_line(r, started)
    local parts = {os.date("!%Y-%m-%dT%H:%M:%SZ"), current.op or "?"}
    if current.types and #current.types > 0 then parts[#parts + 1] = table.concat(current.types, ",") end
    parts[#parts + 1] = tostring(r.status)
    parts[#parts + 1] = string.format("%.1f ms", (core.monotonic() - started) * 1000)
    if current.injected then parts[#parts + 1] = "injected fault " .. current.injected end
    if r.status ~= 200 and r.faultstring then
      parts[#parts + 1] = "fault: " .. shown(r.faultstring, 300):gsub("\n", " | ")
    end
    if current.dropped then
      parts[#parts + 1] = "DROPPED (the service would ignore them): " .. table.concat(current.dropped, ", ")
    end
    log(core.safe_text(table.concat(parts, "  "), {max = 4000}) .. "\n")
  end

  local function handle(req)
    current = {}
    local started = core.monotonic()
    local r = route(req)
    if log then log_line(r, started) end
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
