-- performlua.client: mc.connect and the operations of the partner SOAP API.
--
--   local c = mc.connect{client_id =, client_secret =, subdomain = | auth_url =, account_id =,
--                        soap_url =, username =, password =, profile =, timeout =,
--                        retrieve_timeout =, connect_timeout =, retries =,
--                        retry_max_seconds =, retry_base_delay =, chunk_size =,
--                        max_in_flight =, refresh_margin =, token_cache =, trace =, ca_file =}
--   What each setting means and its default: performlua.settings. Where the account settings
--   come from (the environment, profiles, precedence): performlua.config.
--
-- Operations (definitions/objects: one object or an array):
--   c:perform(action, definitions, options)      c:create(objects, options)
--   c:retrieve(object_type, properties, filter, options)   c:continue(page)
--   c:update(objects, options)   c:delete(objects, options)   c:describe(object_type)
--   c:execute(requests)   c:configure(action, configurations, options)
--   c:schedule(action, schedule, interactions, options)   c:extract(requests)
--   c:version_info()   c:system_status()
-- Each returns a result (performlua.result) or raises one error shape (kind usage, auth, fault,
-- http, transport, xml).
--
-- Each call goes through performlua.transport: the HTTP exchange, what the answer means, and
-- the retry policy that never sends a request twice when that could do something twice.
--
-- c:wait (performlua.wait) and c:each, c:retrieve_all, c:default_properties
-- (performlua.retrieve) are methods of the client too, set where Client is defined below.
local core = require "performlua.core"
local errors = require "performlua.errors"
local loop = require "performlua.loop"
local config = require "performlua.config"
local auth = require "performlua.auth"
local trace = require "performlua.trace"
local result = require "performlua.result"
local perform_rules = require "performlua.perform"
local settings = require "performlua.settings"
local transport = require "performlua.transport"
local types = require "performlua.types"
local retrieve = require "performlua.retrieve"
local wait = require "performlua.wait"

local M = {}

local Client = {}
Client.__index = Client
M.Client = Client

-- The methods that follow work, stream rows and explain types live with their helpers.
Client.wait = wait.wait
Client.each = retrieve.each
Client.retrieve_all = retrieve.retrieve_all
Client.default_properties = retrieve.default_properties
Client.help = require("performlua.help").client_help

-- Keys of an options table that steer performlua rather than go on the wire.
local CONTROL_KEYS = {allow_reserved = true, timeout = true, chunk_size = true}

local usage = errors.usage

local typeof = types.typeof

local function number_option(args, name, default, min)
  local v = args[name]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v < min then
    usage(string.format("mc.connect: %s must be a number >= %s, got %s", name, tostring(min),
      tostring(v)))
  end
  return v
end

-- The first mc.connect of a process runs Lua's collector in generational mode: a loop of calls
-- makes short-lived garbage (envelopes, answers, results) that young collections free at once,
-- where the incremental collector (pause 200) let the heap swing ~1.4 MB between cycles. The
-- 10,000-Perform loop of tests/bench/side_by_side.sh peaked at 17.5 MB RSS, 15.9 MB with
-- this, at the same instructions per call (callgrind: 710,000 and 706,000). A script that
-- wants another collector sets it after connecting (collectgarbage("incremental")).
local collector_set = false

--- mc.connect{...} -> client
function M.connect(args)
  if not collector_set then
    collector_set = true
    collectgarbage("generational")
  end
  if args ~= nil and type(args) ~= "table" then
    usage("mc.connect: expected a table of settings, e.g. mc.connect{client_id = ..., ...}")
  end
  args = args or {}
  for k in pairs(args) do
    if not settings.NAMES[k] then
      local names = {}
      for n in pairs(settings.NAMES) do names[#names + 1] = n end
      table.sort(names)
      usage(string.format("mc.connect: unknown setting '%s' (settings: %s)", tostring(k),
        table.concat(names, ", ")))
    end
  end
  local account = config.resolve(args)
  local c = setmetatable({}, Client)
  local default = settings.DEFAULTS
  c.timeout = number_option(args, "timeout", default.timeout, 0.001)
  c.retrieve_timeout = number_option(args, "retrieve_timeout",
    args.timeout or default.retrieve_timeout, 0.001)
  c.connect_timeout = number_option(args, "connect_timeout", default.connect_timeout, 0.001)
  c.retries = math.floor(number_option(args, "retries", default.retries, 0))
  c.retry_max_seconds = number_option(args, "retry_max_seconds", default.retry_max_seconds, 0)
  c.retry_base_delay = number_option(args, "retry_base_delay", default.retry_base_delay, 0)
  c.chunk_size = math.floor(number_option(args, "chunk_size", default.chunk_size, 1))
  c.max_in_flight = math.floor(number_option(args, "max_in_flight", default.max_in_flight, 1))
  if args.trace ~= nil then c.trace = args.trace and true or false
  else c.trace = trace.enabled_by_env() end
  local token_cache = args.token_cache
  if token_cache == nil then token_cache = default.token_cache end
  c.auth = auth.new(account, {token_cache = token_cache, trace = c.trace,
    connect_timeout = c.connect_timeout, timeout = c.timeout, retries = c.retries,
    retry_base_delay = c.retry_base_delay, retry_max_seconds = c.retry_max_seconds,
    refresh_margin = args.refresh_margin})
  if c.auth.fixed_soap_url then
    local ok, why = core.http_url_allowed(c.auth.fixed_soap_url)
    if not ok then usage("mc.connect: soap_url: " .. why) end
  end
  local ca_file = args.ca_file or os.getenv("PERFORMLUA_CA_FILE")
  if ca_file == "" then ca_file = nil end
  if ca_file ~= nil then
    if type(ca_file) ~= "string" or not core.file_info(ca_file) then
      usage("mc.connect: ca_file: cannot read the certificate bundle " .. tostring(ca_file))
    end
    c.ca_file = ca_file
    c.auth.options.ca_file = ca_file
  end
  c.slots = loop.semaphore(c.max_in_flight)
  c.account_source = account.source
  return c
end

function Client:__tostring()
  return string.format("performlua client (%s, %s)", self.auth.mode == "oauth"
    and self.auth.token_url or "WS-Security", self.account_source or "?")
end

-- ---------------------------------------------------------------------------------------------
-- helpers for arguments

local function as_list(v, what)
  if v == nil then usage(what .. ": nothing given; pass one object or an array of objects") end
  if type(v) ~= "table" then
    usage(string.format("%s: expected an object or an array of objects, got a %s", what, type(v)))
  end
  if typeof(v) ~= nil then return {v} end  -- a constructed object, even one with no fields
  if v[1] == nil then
    if next(v) == nil then usage(what .. ": the array is empty") end
    return {v}
  end
  return v
end

-- A business unit's MID given in an option (a whole number, or a string of one).
local function mid_option(v, what, name)
  local n = math.tointeger(tonumber(v))
  if not n or n <= 0 or (type(v) ~= "number" and type(v) ~= "string") then
    usage(string.format("%s: %s must be a business unit's MID (a number such as 7281698), got %s",
      what, name, type(v) == "string" and ("'" .. v .. "'") or tostring(v)))
  end
  return n
end

-- Splits a user options table into performlua's control keys and the wire options.
-- `client_id = MID` acts in that business unit (Options.Client.ID).
local function split_options(options, what)
  if options == nil then return {}, nil end
  if type(options) ~= "table" then
    usage(what .. ": options must be a table, got " .. type(options))
  end
  if typeof(options) ~= nil then return {}, options end
  local control, wire = {}, nil
  for k, v in pairs(options) do
    if CONTROL_KEYS[k] then
      control[k] = v
    elseif k ~= "client_id" then
      wire = wire or {}
      wire[k] = v
    end
  end
  if options.client_id ~= nil then
    if options.Client ~= nil then
      usage(what .. ": give the business unit either as client_id or as Client, not both")
    end
    wire = wire or {}
    wire.Client = {ID = mid_option(options.client_id, what, "client_id")}
  end
  return control, wire
end

local function slice(list, from, to)
  to = math.min(to, #list)
  -- a chunk of the usual size is made at its size (a constructor), not grown item by item
  if to - from < 256 then return {table.unpack(list, from, to)} end
  local out = {}
  for i = from, to do out[#out + 1] = list[i] end
  return out
end

-- Operations whose Results are the data asked for, not one outcome per input: a retrieved
-- ResultItem with StatusCode "Error" is a row, not a failure of the call.
local ROWS = {Retrieve = true, Describe = true, VersionInfo = true}

-- The members of an answer body that result.new takes itself.
local RESULT_MEMBERS = {Results = true, OverallStatus = true, OverallStatusMessage = true,
  RequestID = true}

-- Builds the result of a call from the decoded body.
local function make_result(op, answer, inputs, results_field, item_name)
  local body = answer.body or {}
  local results = result.results_array(body[results_field or "Results"], item_name)
  if inputs then results = result.order_by_ordinal(results, #inputs) end
  local r = result.new{operation = op, OverallStatus = body.OverallStatus,
    OverallStatusMessage = body.OverallStatusMessage, RequestID = body.RequestID,
    Results = results, inputs = inputs, rows = ROWS[op], correlation_id = answer.correlation_id}
  -- other members of the answer (VersionInfo, ObjectDefinition, ...) are kept under their names
  if type(body) == "table" then
    for k, v in pairs(body) do
      if not RESULT_MEMBERS[k] and type(k) == "string" and rawget(r, k) == nil then
        r[k] = v
      end
    end
  end
  return r
end

-- Sends `inputs` in chunks of chunk_size, building each request with build(chunk); merges.
local function chunked(c, op, inputs, control, build)
  local size = control.chunk_size or c.chunk_size
  if math.type(size) ~= "integer" or size < 1 then
    usage(op .. ": chunk_size must be an integer >= 1")
  end
  local chunks
  if #inputs <= size then
    chunks = {slice(inputs, 1, #inputs)}
  else
    chunks = {}
    for from = 1, #inputs, size do chunks[#chunks + 1] = slice(inputs, from, from + size - 1) end
  end
  if #chunks > 1 then
    -- A mistake in object 55 must not surface after objects 1-50 were created: every chunk is
    -- encoded (without credentials) before the first is sent.
    for i, chunk in ipairs(chunks) do
      local ok, err = pcall(core.encode, op, build(chunk))
      if not ok then
        if type(err) == "table" then
          err.message = string.format("%s (in the chunk of objects %d-%d of %d; nothing was sent)",
            tostring(err.message), (i - 1) * size + 1, (i - 1) * size + #chunk, #inputs)
        end
        error(errors.at_caller(err), 0)
      end
    end
  end
  local parts = {}
  for i, chunk in ipairs(chunks) do
    local from = (i - 1) * size + 1
    local ok, answer = pcall(transport.call, c, op, build(chunk), control)
    if not ok then
      local err = answer
      if from > 1 and type(err) == "table" then
        err.partial = result.merge(op, parts)
        err.message = string.format("%s (objects %d-%d of %d; objects 1-%d were sent in earlier "
          .. "chunks: their results are in err.partial)", tostring(err.message), from,
          math.min(from + size - 1, #inputs), #inputs, from - 1)
      end
      error(err, 0)
    end
    parts[#parts + 1] = make_result(op, answer, chunk)
  end
  return result.merge(op, parts)
end

-- ---------------------------------------------------------------------------------------------
-- the operations

function Client:perform(action, definitions, options)
  local defs = as_list(definitions, "c:perform")
  local control, wire = split_options(options, "c:perform")
  perform_rules.check(action, defs, typeof, control.allow_reserved)
  local r = chunked(self, "Perform", defs, control, function(chunk)
    return {Options = wire, Action = action, Definitions = chunk}
  end)
  r.action = action
  return r
end

local function crud(op, what)
  return function(self, objects, options)
    local list = as_list(objects, what)
    local control, wire = split_options(options, what)
    return chunked(self, op, list, control, function(chunk)
      return {Options = wire or {}, Objects = chunk}
    end)
  end
end
Client.create = crud("Create", "c:create")
Client.update = crud("Update", "c:update")
Client.delete = crud("Delete", "c:delete")

-- One page of a retrieve: the result, which keeps the request to continue it.
local function retrieve_page(c, req, control)
  local answer = transport.call(c, "Retrieve", {RetrieveRequest = req}, control)
  local r = make_result("Retrieve", answer, nil)
  local status = tostring(r.OverallStatus or "")
  r.more = status:lower() == "moredataavailable"
  r.ok = r.ok and (status:upper() == "OK" or r.more)
  r.object_type = req.ObjectType
  result.set_internal(r, "retrieve", req)
  result.set_internal(r, "control", control)
  return r
end

-- RetrieveRequest's own fields; other option keys go into RetrieveOptions.
local RETRIEVE_REQUEST_FIELDS = {ClientIDs = true, RespondTo = true, PartnerProperties = true,
  QueryAllAccounts = true, RetrieveAllSinceLastBatch = true, RepeatLastResult = true,
  Retrieves = true, Options = true}

-- The business units a retrieve reads: `client_id = MID` (one unit), `business_units =
-- {MID, ...}` (RetrieveRequest.ClientIDs), `all_business_units = true` (QueryAllAccounts:
-- every unit the account reaches).
local BU_KEYS = {client_id = true, business_units = true, all_business_units = true}
local function business_units(req, options)
  local what = "c:retrieve"
  local given = {}
  for k in pairs(BU_KEYS) do
    if options[k] ~= nil then given[#given + 1] = k end
  end
  if #given == 0 then return end
  table.sort(given)
  if #given > 1 or req.ClientIDs ~= nil or req.QueryAllAccounts ~= nil then
    usage(string.format("%s: give the business units one way (client_id, business_units, "
      .. "all_business_units, ClientIDs or QueryAllAccounts), got %s%s", what,
      table.concat(given, " and "), (req.ClientIDs ~= nil and " and ClientIDs")
        or (req.QueryAllAccounts ~= nil and " and QueryAllAccounts") or ""))
  end
  local mids = options.business_units
  if options.client_id ~= nil then
    mids = {options.client_id}
  elseif options.all_business_units ~= nil then
    if type(options.all_business_units) ~= "boolean" then
      usage(what .. ": all_business_units must be true or false, got "
        .. tostring(options.all_business_units))
    end
    if options.all_business_units then req.QueryAllAccounts = true end
    return
  elseif type(mids) ~= "table" then
    mids = {mids}
  end
  if #mids == 0 then usage(what .. ": business_units is empty; list one MID or more") end
  local ids = {}
  for i, mid in ipairs(mids) do
    ids[i] = {ID = mid_option(mid, what, given[1] == "client_id" and "client_id"
      or "each of business_units")}
  end
  req.ClientIDs = ids
end

-- `as_rows` (not part of the API: c:each passes it for "DataExtensionObject[Key]") asks the
-- decoder for each Result as its {Column = value} row; c:continue keeps asking for rows.
function Client:retrieve(object_type, properties, filter, options, as_rows)
  if type(object_type) ~= "string" or object_type == "" then
    usage("c:retrieve(object_type, properties, filter, options): object_type must be a type "
      .. "name such as \"Subscriber\"")
  end
  if properties == nil then
    properties = self:default_properties(object_type)
  elseif type(properties) == "string" then
    properties = {properties}
  elseif type(properties) ~= "table" then
    usage("c:retrieve: properties must be a list of property names, got " .. type(properties))
  end
  if filter ~= nil and type(filter) ~= "table" then
    usage("c:retrieve: filter must be a filter object such as mc.SimpleFilterPart{...}, got "
      .. type(filter))
  end
  if options ~= nil and type(options) ~= "table" then
    usage("c:retrieve: options must be a table, got " .. type(options))
  end
  retrieve.check_request(self, object_type, properties)
  local req = {ObjectType = object_type, Properties = properties, Filter = filter}
  local control = {}
  local retrieve_options
  for k, v in pairs(options or {}) do
    if CONTROL_KEYS[k] then control[k] = v
    elseif RETRIEVE_REQUEST_FIELDS[k] then req[k] = v
    elseif not BU_KEYS[k] then
      retrieve_options = retrieve_options or {}
      retrieve_options[k] = v
    end
  end
  business_units(req, options or {})
  if as_rows then control.rows = true end
  if retrieve_options then
    if req.Options then
      usage("c:retrieve: give RetrieveOptions fields either directly in options or as "
        .. "options.Options, not both")
    end
    req.Options = retrieve_options
  end
  return retrieve_page(self, req, control)
end

--- The next page of a retrieve whose result has `more`; nil after the last page. Raises (as
--- page:check() does) when the page itself failed.
function Client:continue(page)
  local prev = type(page) == "table" and result.internal(page).retrieve
  if not prev then
    usage("c:continue(page): page must be the result of c:retrieve or c:continue")
  end
  -- A failed page ends the rows early: in `while page do ... page = c:continue(page) end` a nil
  -- here would pass the truncation off as the end of the data, so the failure is raised.
  if not page.ok then page:check() end
  if not page.more then return nil end
  if not page.RequestID then
    usage("c:continue: the page has no RequestID to continue from")
  end
  local req = {}
  for k, v in pairs(prev) do req[k] = v end
  req.ContinueRequest = page.RequestID
  return retrieve_page(self, req, result.internal(page).control or {})
end

function Client:describe(object_type)
  local names = type(object_type) == "table" and object_type or {object_type}
  if #names == 0 then usage("c:describe(object_type): give a type name such as \"Subscriber\"") end
  local reqs = {}
  for i, n in ipairs(names) do
    if type(n) ~= "string" or n == "" then
      usage("c:describe(object_type): object_type must be a type name such as \"Subscriber\"")
    end
    reqs[i] = {ObjectType = n}
  end
  local answer = transport.call(self, "Describe", {DescribeRequests = reqs})
  local r = make_result("Describe", answer, nil, "ObjectDefinition")
  return r
end

-- Execute and Extract: an array of requests, one result per request in the same order.
local function requests_call(op, what)
  return function(self, requests)
    local list = as_list(requests, what)
    return make_result(op, transport.call(self, op, {Requests = list}), list)
  end
end
Client.execute = requests_call("Execute", "c:execute")
Client.extract = requests_call("Extract", "c:extract")

function Client:configure(action, configurations, options)
  if type(action) ~= "string" or action == "" then
    usage("c:configure(action, configurations, options): action must be a string such as "
      .. "\"create\"")
  end
  local list = as_list(configurations, "c:configure")
  local control, wire = split_options(options, "c:configure")
  local r = chunked(self, "Configure", list, control, function(chunk)
    return {Options = wire, Action = action, Configurations = chunk}
  end)
  r.action = action
  return r
end

function Client:schedule(action, schedule, interactions, options)
  if type(action) ~= "string" or action == "" then
    usage("c:schedule(action, schedule, interactions, options): action must be a string such as "
      .. "\"start\"")
  end
  if type(schedule) ~= "table" then
    usage("c:schedule: schedule must be a ScheduleDefinition, e.g. mc.ScheduleDefinition{...}")
  end
  local list = as_list(interactions, "c:schedule")
  local control, wire = split_options(options, "c:schedule")
  local answer = transport.call(self, "Schedule",
    {Options = wire, Action = action, Schedule = schedule, Interactions = list}, control)
  local r = make_result("Schedule", answer, list)
  r.action = action
  return r
end


function Client:version_info(include_history)
  local answer = transport.call(self, "VersionInfo", {IncludeVersionHistory = include_history and true
    or false})
  return make_result("VersionInfo", answer, nil, "VersionInfo")
end

function Client:system_status(options)
  local _, wire = split_options(options, "c:system_status")
  local answer = transport.call(self, "GetSystemStatus", {Options = wire})
  return make_result("GetSystemStatus", answer, nil)
end

return M
