-- performlua.runlog: a run that a program can read.
--
-- With `performlua --log-json FILE` (or PERFORMLUA_LOG_JSON=FILE; "-" is stderr) one JSON
-- object per line is appended to FILE, flushed as it is written, so cron, CI or a monitoring
-- job can follow or read back a run:
--   {"event": "run", "time", "pid", "script", "command", "performlua"}   when the run starts
--   {"event": "call", "time", "operation", "object_types": [...], "status" (OverallStatus),
--    "http_status", "request_id", "correlation_id", "ms", "retries", "outcome" ("ok", "error"
--    or "unknown": the request may have been processed), "error_kind", "message"}
--                                                                       per API call
--   {"event": "wait", "time", "label", "kind", "task_id", "status", "progress", "polls", "ms"
--    (since the wait began), "outcome" ("waiting", "done", "failed", "timeout")}
--                                                                       per poll of c:wait
--   {"event": "step", "time", "name", ...}                              per step a script names
--   {"event": "exit", "time", "status"}                                 when the run ends
-- "time" is UTC, ISO 8601 with milliseconds. Messages never hold a secret (errors never do).
--
-- The hooks: the transport, c:wait and the command line call the functions below; a step
-- helper (mc.step) calls M.step(name, fields). Each costs one boolean test when the log is off.
local core = require "performlua.core"
local errors = require "performlua.errors"
local trace = require "performlua.trace"

local M = {}

local file          -- the open log, or nil
local checked = false -- whether the command line and the environment were looked at

local function iso_time()
  local now = core.realtime()
  local seconds = math.floor(now)
  return os.date("!%Y-%m-%dT%H:%M:%S", seconds)
    .. string.format(".%03dZ", math.floor((now - seconds) * 1000))
end

-- Where the log goes: --log-json FILE (package.loaded["performlua.cli"]), else
-- PERFORMLUA_LOG_JSON; nil when neither is set.
local function configured_path()
  local cli = package.loaded["performlua.cli"]
  if type(cli) == "table" and cli.log_json then return cli.log_json end
  local v = os.getenv("PERFORMLUA_LOG_JSON")
  if v ~= nil and v ~= "" then return v end
  return nil
end

--- Writes one record (a table: its `event` and fields) as a line, with the time added.
function M.write(record)
  if not M.enabled() then return end
  record.time = iso_time()
  -- every line passes the redaction errors and traces pass (the secrets of every client of
  -- the process, secret-shaped values), and is made safe to show
  trace.redact_fields(record, nil, {text = true})
  local ok, line = pcall(core.json_encode, record)
  if not ok then
    -- a field that has no JSON form must not cost the run: keep what is plain
    line = core.json_encode{event = record.event, time = record.time,
      message = "unloggable record: " .. tostring(type(line) == "table" and line.message or line)}
  end
  file:write(line, "\n")
  file:flush()
end

--- Opens the log named by the command line or the environment (the command line calls this
--- before the script runs, so a log that cannot be opened stops the run before it does
--- anything: a usage error). Returns true when a log is open.
function M.start()
  checked = true
  if file then return true end
  local path = configured_path()
  if not path then return false end
  if path == "-" then
    file = io.stderr
  else
    local f, why = io.open(path, "a")
    if not f then
      errors.usage(string.format("--log-json / PERFORMLUA_LOG_JSON: cannot open %s for "
        .. "appending (%s)", path, tostring(why)), 0)
    end
    f:setvbuf("line")
    file = f
  end
  local cli = package.loaded["performlua.cli"]
  -- arg[0] is the script when arguments precede it (arg[-1]); else the interpreter itself
  local script = type(arg) == "table" and arg[-1] ~= nil and arg[0] or nil
  if type(cli) == "table" and cli.command then script = nil end
  M.write{event = "run", pid = core.getpid and core.getpid() or nil, script = script,
    command = type(cli) == "table" and cli.command or nil, performlua = core.version}
  -- a script that ends with os.exit (as the example scripts do) ends the log too
  local exit = os.exit
  os.exit = function(code, close) -- luacheck: ignore 122 (os.exit is wrapped on purpose)
    M.finish(code)
    return exit(code, close)
  end
  return true
end

--- True when records are being written (opening the log on first use when a program embeds
--- performlua without its command line).
function M.enabled()
  if file then return true end
  if checked then return false end
  checked = true
  return configured_path() ~= nil and M.start()
end

local finished = false
--- The run's last line: its exit status (os.exit's argument, or the command line's status).
function M.finish(status)
  if finished or not file then return end
  finished = true
  if status == true or status == nil then status = 0 elseif status == false then status = 1 end
  M.write{event = "exit", status = math.tointeger(status) or status}
end

-- The object types a request is about, in order, each once.
local LISTS = {Perform = "Definitions", Create = "Objects", Update = "Objects",
  Delete = "Objects", Configure = "Configurations", Schedule = "Interactions",
  Execute = "Requests", Extract = "Requests"}

local function object_types(op, request)
  local names, seen = {}, {}
  local function add(name)
    if type(name) == "string" and not seen[name] then
      seen[name] = true
      names[#names + 1] = name
    end
  end
  if type(request) ~= "table" then return names end
  if op == "Retrieve" then
    add(type(request.RetrieveRequest) == "table" and request.RetrieveRequest.ObjectType)
  elseif op == "Describe" then
    for _, d in ipairs(request.DescribeRequests or {}) do add(type(d) == "table" and d.ObjectType) end
  elseif LISTS[op] then
    for _, obj in ipairs(request[LISTS[op]] or {}) do add(core.typeof(obj)) end
  end
  return names
end

--- One API call: `ok` and `out` as pcall(transport.call, ...) returned them.
function M.call(op, request, ok, out, seconds)
  local record = {event = "call", operation = op, object_types = object_types(op, request),
    ms = math.floor(seconds * 1000 + 0.5)}
  if ok then
    local body = type(out.body) == "table" and out.body or {}
    record.status = body.OverallStatus
    record.request_id = body.RequestID
    record.http_status = out.status
    record.correlation_id = out.correlation_id
    record.retries = (out.attempts or 1) - 1
    record.outcome = "ok"
  else
    local err = errors.is_error(out) and out or {kind = "script", message = tostring(out)}
    record.error_kind = err.kind
    record.message = tostring(err.message)
    record.http_status = err.http_status
    record.request_id = err.request_id
    record.correlation_id = err.correlation_id
    record.retries = err.attempts and err.attempts - 1 or nil
    record.outcome = err.outcome_unknown and "unknown" or "error"
  end
  M.write(record)
end

--- One named step of a script (mc.step calls this); `fields` are added to the record.
function M.step(name, fields)
  if not M.enabled() then return end
  -- a copy: the record is redacted in place, and the script's tables must stay as they are
  local copies = {}
  local function copy(v)
    if type(v) ~= "table" then return v end
    if copies[v] then return copies[v] end
    local t = {}
    copies[v] = t
    for k, x in pairs(v) do t[k] = copy(x) end
    return t
  end
  local record = {}
  for k, v in pairs(fields or {}) do record[k] = copy(v) end
  record.event, record.name = "step", name
  M.write(record)
end

return M
