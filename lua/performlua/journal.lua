-- performlua.journal: the run journal. A workflow's steps, and every call inside a step that
-- changes something, are written down (SQLite, WAL, one transaction each) before they are sent
-- and when they end, so that re-running the same command after a failure, a Ctrl-C or a kill
-- continues the run instead of doing its work again.
--
--   mc.step(name, fn)                 runs fn() once per run: a finished step returns the
--   mc.step(name, opts, fn)           results it recorded (plain data: JSON) without running
--                                     fn; opts.check(call) and opts.resume(found, call) below
--
-- A run is one command: the script's path, its arguments and the account (the settings a
-- mc.connect() with no arguments resolves: never a secret). Re-running the same command
-- continues its latest run that did not finish; a run that finished (exit status 0) never
-- blocks the next one (a daily cron job starts a new run each day). `--new-run` starts over.
--
-- Resuming never guesses. A step that began and has a call with an intent but no outcome (or
-- an unknown one: the answer was lost) is reconciled against the service before anything is
-- sent again:
--   Perform start (or test) of an EmailSendDefinition: a Send of that definition created
--     since shortly before the intent (Retrieve Send by EmailSendDefinition.CustomerKey);
--   Perform start of an ImportDefinition: its ImportResultsSummary started since then;
--   (a Send or import another call of the journal started is never taken for this one)
--   Perform clone of an AudienceDefinition: an audience with the copy's Name;
--   Create of an object with a CustomerKey: that object, retrieved by its key;
--   anything else: opts.check(call) -> true (it was done), false (it was not), nil (unknown).
-- Not done: the step runs again. Done: the step's result is opts.resume(found, call) (found:
-- what the service has, e.g. the Send) and fn does not run. Unknown, or done without
-- opts.resume: the run stops with kind "journal" saying exactly what to verify, with the ids;
-- `performlua runs forget ID` then starts over once the account was checked.
--
-- Where: --journal FILE, else PERFORMLUA_JOURNAL, else $XDG_STATE_HOME/performlua/
-- journal.sqlite3. `performlua runs` lists recent runs; `runs show ID`, `runs forget ID`.
-- Runs that finished or were abandoned are dropped KEEP_DAYS after their last record, when a
-- new run starts (a daily cron job would otherwise grow the file forever); a failed or running
-- run is never dropped: it may hold a call in doubt.
local core = require "performlua.core"
local errors = require "performlua.errors"
local loop = require "performlua.loop"

local M = {}

local SCHEMA = [[
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,          -- hash of the command and account
  command TEXT NOT NULL,      -- for people: script and arguments
  account TEXT,               -- for people: the account's endpoint and client id / MID
  started TEXT NOT NULL, updated TEXT NOT NULL,
  status TEXT NOT NULL,       -- running, failed, finished, abandoned (--new-run)
  exit_status INTEGER,
  pid INTEGER);               -- the process running it (status running)
CREATE INDEX IF NOT EXISTS runs_by_key ON runs (key, id);
CREATE TABLE IF NOT EXISTS steps (
  id INTEGER PRIMARY KEY,
  run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  status TEXT NOT NULL,       -- started (intent), done, failed
  started TEXT NOT NULL, ended TEXT,
  result TEXT,                -- JSON: the step's results
  error TEXT,
  UNIQUE (run, name));
CREATE TABLE IF NOT EXISTS calls (
  id INTEGER PRIMARY KEY,
  run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step INTEGER REFERENCES steps (id) ON DELETE CASCADE,
  operation TEXT NOT NULL, action TEXT,
  objects TEXT NOT NULL,      -- JSON: [{type=, CustomerKey=, Name=, ObjectID=, ID=}, ...]
  correlation_id TEXT NOT NULL,
  started TEXT NOT NULL, at REAL NOT NULL,
  ended TEXT,
  outcome TEXT,               -- NULL: sent, no outcome yet; ok, failed, unknown, not_done, done
  result TEXT);               -- JSON: the ids that came back
]]

-- Perform actions that change nothing (asked, not done): not journalled.
local ASKS = {getmaxcount = true, count = true}
local READ_ONLY = {Retrieve = true, Describe = true, VersionInfo = true, GetSystemStatus = true}

local KEEP_DAYS = 90
M.KEEP_DAYS = KEEP_DAYS

local state -- {db =, path =, run =, key =, command =, account =, steps_seen = {}}
local contexts = setmetatable({}, {__mode = "k"}) -- coroutine -> step row being run

local function iso(t)
  t = t or core.realtime()
  local s = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. string.format(".%03dZ", math.floor((t - s) * 1000))
end

local function journal_error(message, fields)
  local e = {kind = "journal", message = message}
  for k, v in pairs(fields or {}) do e[k] = v end
  return errors.new(e)
end

local function encode(v)
  local ok, text = pcall(core.json_encode, v)
  if ok then return text end
  return nil, text
end

local function decode(text)
  if text == nil then return nil end
  local v = core.json_decode(text)
  return v
end

--- The journal file: --journal FILE, PERFORMLUA_JOURNAL, or the state directory's.
function M.path()
  local cli = package.loaded["performlua.cli"]
  if type(cli) == "table" and cli.journal then return cli.journal end
  local env = os.getenv("PERFORMLUA_JOURNAL")
  if env and env ~= "" then return env end
  local dir = core.xdg_dir("state")
  return dir and (dir .. "/performlua/journal.sqlite3") or nil
end

local function open_db(path, readonly)
  if not readonly then
    local dir = path:match("^(.*)/[^/]*$")
    if dir and dir ~= "" then core.mkdir_p(dir, 448) end
  end
  -- foreign keys on: forgetting or dropping a run takes its steps and calls with it
  local db = core.sqlite_open(path, {wal = not readonly or nil, readonly = readonly or nil,
    create = not readonly, foreign_keys = true})
  if not readonly then
    db:exec(SCHEMA)
    -- a journal from before runs.pid
    local has_pid = false
    for _, col in ipairs(db:query("SELECT name FROM pragma_table_info('runs')")) do
      if col.name == "pid" then has_pid = true end
    end
    if not has_pid then db:exec("ALTER TABLE runs ADD COLUMN pid INTEGER") end
  end
  return db
end

-- The command this process runs, for the run's key: the script's absolute path and arguments.
local function command_of()
  local script = type(arg) == "table" and arg[0] or nil
  script = type(script) == "string" and script or "(no script)"
  if script:sub(1, 1) ~= "/" and script ~= "-" and not script:match("^%(") then
    local pwd = os.getenv("PWD")
    if pwd then script = pwd .. "/" .. script:gsub("^%./", "") end
  end
  local words = {script}
  if type(arg) == "table" then
    for i = 1, #arg do words[#words + 1] = tostring(arg[i]) end
  end
  return words
end

-- The account a mc.connect() with no arguments uses, without secrets.
local function account_of()
  local ok, s = pcall(function() return require("performlua.config").resolve({}) end)
  if not ok or type(s) ~= "table" then return "(no account settings)" end
  local parts = {}
  for _, f in ipairs{"auth_url", "subdomain", "soap_url", "client_id", "username", "account_id"} do
    if s[f] ~= nil then parts[#parts + 1] = f .. "=" .. tostring(s[f]) end
  end
  return table.concat(parts, " ")
end

local function cli_flag(name)
  local cli = package.loaded["performlua.cli"]
  return type(cli) == "table" and cli[name] or nil
end

-- Opens the journal and this command's run (continued or new), on the first mc.step.
local function current()
  if state then return state end
  local path = M.path()
  if not path then
    errors.usage("mc.step: no place for the run journal: set XDG_STATE_HOME or HOME, or pass "
      .. "--journal FILE", 0)
  end
  local opened, db = pcall(open_db, path)
  if not opened then
    if errors.is_error(db) then
      db.message = string.format("the run journal (mc.step) cannot be kept: %s; pass --journal "
        .. "FILE (or set PERFORMLUA_JOURNAL) to a writable place", tostring(db.message))
    end
    error(db, 0)
  end
  local words = command_of()
  local command = table.concat(words, " ")
  local account = account_of()
  local key = core.hash_hex(table.concat(words, "\0") .. "\0\0" .. account)
  local pid = core.getpid()
  local run = db:transaction(function()
    local last = db:first("SELECT id, status, pid FROM runs WHERE key = ? ORDER BY id DESC "
      .. "LIMIT 1", key)
    local now = iso()
    if last and last.status == "running" and last.pid and last.pid ~= pid
        and core.file_info("/proc/" .. last.pid) then
      -- two processes of one command (a cron job overlapping the last one) would both carry
      -- the run on, and both send
      return {busy = last}
    end
    if last and last.status ~= "finished" and not cli_flag("new_run") then
      db:run("UPDATE runs SET status = 'running', updated = ?, pid = ? WHERE id = ?", now, pid,
        last.id)
      return {id = last.id, resumed = true}
    end
    if last and last.status ~= "finished" then -- --new-run: the old one is left as it was
      db:run("UPDATE runs SET status = 'abandoned', updated = ? WHERE id = ?", now, last.id)
    end
    db:run("DELETE FROM runs WHERE status IN ('finished', 'abandoned') AND updated < ?",
      iso(core.realtime() - KEEP_DAYS * 86400))
    -- what `runs forget` left behind before foreign keys were enforced
    db:run("DELETE FROM calls WHERE run NOT IN (SELECT id FROM runs)")
    db:run("DELETE FROM steps WHERE run NOT IN (SELECT id FROM runs)")
    local _, id = db:run("INSERT INTO runs (key, command, account, started, updated, status, "
      .. "pid) VALUES (?, ?, ?, ?, ?, 'running', ?)", key, command, account, now, now, pid)
    return {id = id, resumed = false}
  end)
  if run.busy then
    db:close()
    error(journal_error(string.format("run %d of this command is still running in process %d: "
      .. "two runs of one command at once could do its work twice. Wait for it to end (or stop "
      .. "it), then run the command again.", run.busy.id, run.busy.pid),
      {run = run.busy.id, pid = run.busy.pid}), 0)
  end
  state = {db = db, path = path, run = run.id, resumed = run.resumed, key = key,
    command = command, account = account, names = {}}
  if run.resumed then
    io.stderr:write(string.format("performlua: continuing run %d of this command from the "
      .. "journal (performlua runs show %d; --new-run starts over)\n", run.id, run.id))
  end
  M.install_exit_hook()
  return state
end

--- The run this process journals (nil before its first mc.step): {id =, resumed =, path =}.
function M.run()
  if not state then return nil end
  return {id = state.run, resumed = state.resumed, path = state.path}
end

-- The step the running code is inside (tasks of mc.map/mc.parallel inherit their starter's).
local function step_context()
  local co = coroutine.running()
  while co do
    local ctx = contexts[co]
    if ctx then return ctx end
    co = loop.parent_of(co)
  end
  return nil
end

-- The objects a request names, by their keys: [{type=, CustomerKey=, Name=, ObjectID=, ID=}].
local function objects_of(request)
  local list = request.Definitions or request.Objects or {}
  local out = {}
  for _, o in ipairs(list) do
    local entry = {type = core.typeof(o) or "?"}
    if type(o) == "table" then
      for _, f in ipairs{"CustomerKey", "Name", "ObjectID", "ID"} do
        local v = o[f]
        if type(v) == "string" or type(v) == "number" then entry[f] = v end
      end
    end
    out[#out + 1] = entry
  end
  return out
end

-- What came back, by ids: [{StatusCode=, NewID=, NewObjectID=, Task = id, CustomerKey=}].
local function ids_of(answer)
  local out = {}
  local body = answer and answer.body
  local results = type(body) == "table" and body.Results or nil
  if type(results) ~= "table" then return out end
  if results[1] == nil and next(results) ~= nil then results = {results} end
  for _, r in ipairs(results) do
    if type(r) == "table" then
      local e = {StatusCode = r.StatusCode, NewID = r.NewID, NewObjectID = r.NewObjectID}
      if type(r.Task) == "table" then e.Task = r.Task.ID end
      if type(r.Object) == "table" then
        e.CustomerKey, e.ObjectID, e.Name = r.Object.CustomerKey, r.Object.ObjectID, r.Object.Name
      end
      for k, v in pairs(e) do if type(v) ~= "string" and type(v) ~= "number" then e[k] = nil end end
      out[#out + 1] = e
    end
  end
  return out
end

--- transport's hook, before a call leaves: the intent of a call that changes something, made
--- inside a step (committed before the request is sent). Returns the call's row id or nil.
function M.before_call(op, request, correlation_id)
  if not state or READ_ONLY[op] then return nil end
  local ctx = step_context()
  if not ctx then return nil end
  local action = op == "Perform" and request.Action or nil
  if action and ASKS[tostring(action):lower()] then return nil end
  local now = core.realtime()
  local _, id = state.db:run("INSERT INTO calls (run, step, operation, action, objects, "
    .. "correlation_id, started, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", state.run, ctx.id, op,
    action, encode(objects_of(request)) or "[]", correlation_id, iso(now), now)
  return id
end

--- transport's hook, after: ok with the answer, or the error (outcome unknown when it says).
function M.after_call(id, ok, out)
  if not id or not state then return end
  local outcome = ok and "ok" or (type(out) == "table" and out.outcome_unknown and "unknown")
    or "failed"
  if outcome == "unknown" and errors.is_error(out) then
    -- what to do next, for the one reading the message: the journal makes a re-run safe
    out.message = string.format("%s. It is in the run journal: running the same command again "
      .. "checks the account for it before sending anything (performlua runs show %d)",
      tostring(out.message), state.run)
  end
  state.db:run("UPDATE calls SET ended = ?, outcome = ?, result = ? WHERE id = ?", iso(), outcome,
    ok and encode(ids_of(out)) or encode{error = tostring(type(out) == "table" and out.message
      or out)}, id)
end

-- ---------------------------------------------------------------------------------------------
-- reconciling a call in doubt

local function lower(s) return tostring(s or ""):lower() end

-- "2026-12-02T15:36:36.357Z", "...+02:00" -> seconds since the epoch and true; a time written
-- without a zone (as the real service writes most of its dates, in its own server time) -> the
-- seconds read as if it were UTC and false: the caller cannot place it exactly.
local function parse_time(text)
  local y, mo, d, h, mi, s, rest =
    tostring(text):match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):(%d+)%.?%d*(.*)$")
  if not y then return nil end
  local t = os.time{year = tonumber(y), month = tonumber(mo), day = tonumber(d),
    hour = tonumber(h), min = tonumber(mi), sec = tonumber(s), isdst = false}
  -- os.time reads the fields as local time: correct by the offset of that moment
  local utc = os.date("!*t", t)
  utc.isdst = false
  t = t + (t - os.time(utc))
  if rest == "Z" then return t, true end
  local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
  if sign then
    local offset = (tonumber(oh) * 60 + tonumber(om)) * 60
    return sign == "+" and t - offset or t + offset, true
  end
  return t, false
end

-- Time zones reach from UTC-12 to UTC+14: a time without a zone is at most this far from UTC.
local MOST_ZONE_OFFSET = 14 * 3600

--- Which of `candidates` (what the service has: Sends of a definition, imports of an import
--- definition) the call in doubt made. `at` is when the call was about to be sent; `id_of`
--- and `time_of` read a candidate; `known` holds the ids other calls of the journal made.
--- Returns the candidate, or false when none can be this call's, or nil and the ids that may
--- be: a time without a zone that could fall after `at` under some zone proves nothing either
--- way (taking it as UTC would miss a Send made minutes ago in US Central time, and send again).
function M.placed(candidates, at, id_of, time_of, known)
  local unplaced = {}
  for _, candidate in ipairs(candidates) do
    local id = tostring(id_of(candidate))
    if not known[id] then
      local t, zoned = parse_time(time_of(candidate))
      if t and zoned then
        -- the service's clock may differ from ours a little: from a minute before
        if t >= at - 60 then return candidate end
      elseif not t or t + MOST_ZONE_OFFSET >= at - 60 then
        unplaced[#unplaced + 1] = id
      end
    end
  end
  if #unplaced > 0 then return nil, unplaced end
  return false
end

-- What `placed` found, as look_up answers: a nil verdict says why, naming the ids.
local function placed_answer(found, unplaced, what, noun)
  if found == nil then
    return nil, string.format("looking for %s found %s %s, whose times are written without a "
      .. "time zone, so it cannot be proven whether one of them is this call's", what, noun,
      table.concat(unplaced, ", "))
  end
  return found, what
end

-- The task ids other calls of the journal started (their answers, or what reconciling found):
-- a Send or an import of theirs is never taken for the one `call` may have started.
local function known_ids(call)
  local known = {}
  for _, row in ipairs(state.db:query("SELECT result FROM calls WHERE operation = 'Perform' "
      .. "AND result IS NOT NULL AND id <> ?", call.id)) do
    local v = decode(row.result)
    if type(v) == "table" then
      if v.found_id then known[tostring(v.found_id)] = true end
      for _, e in ipairs(v) do
        if type(e) == "table" and e.Task then known[tostring(e.Task)] = true end
        -- what a successful call made (a copy's key): never another call's in doubt
        if type(e) == "table" and lower(e.StatusCode) == "ok" and e.CustomerKey then
          known[tostring(e.CustomerKey)] = true
        end
      end
    end
  end
  return known
end

local function filter(fields) return require("performlua").SimpleFilterPart(fields) end

-- What the service has for the call in doubt: found (a table), false (not done), nil (cannot
-- tell), plus a sentence saying what was looked for (with nil: why it cannot tell).
local function look_up(c, call, opts)
  local obj = call.objects[1] or {}
  local action = lower(call.action)
  if call.operation == "Perform" and obj.type == "EmailSendDefinition" and obj.CustomerKey
      and (action == "start" or action == "test") then
    local what = string.format("a Send of the EmailSendDefinition '%s' created since %s",
      obj.CustomerKey, call.started)
    local r = c:retrieve("Send", {"ID", "SendDate", "CreatedDate", "Status"},
      filter{
        Property = "EmailSendDefinition.CustomerKey", SimpleOperator = "equals",
        Value = obj.CustomerKey})
    -- leaving out the sends the journal knows another call started
    local found, unplaced = M.placed(r.Results or {}, call.at, function(send) return send.ID end,
      function(send) return send.SendDate or send.CreatedDate end, known_ids(call))
    return placed_answer(found, unplaced, what, "the Sends")
  end
  if call.operation == "Perform" and obj.type == "ImportDefinition" and obj.CustomerKey
      and action == "start" then
    local what = string.format("an ImportResultsSummary of the ImportDefinition '%s' started "
      .. "since %s", obj.CustomerKey, call.started)
    local r = c:retrieve("ImportResultsSummary", {"TaskResultID", "StartDate", "ImportStatus"},
      filter{Property = "ImportDefinitionCustomerKey", SimpleOperator = "equals",
        Value = obj.CustomerKey})
    local found, unplaced = M.placed(r.Results or {}, call.at,
      function(summary) return summary.TaskResultID end,
      function(summary) return summary.StartDate end, known_ids(call))
    if found then found = {ID = found.TaskResultID, summary = found} end
    return placed_answer(found, unplaced, what, "the imports")
  end
  if call.operation == "Perform" and obj.type == "AudienceDefinition" and action == "clone"
      and obj.Name then
    local what = string.format("an AudienceDefinition named '%s' (the copy)", obj.Name)
    local r = c:retrieve("AudienceDefinition", {"CustomerKey", "Name", "ObjectID"},
      filter{Property = "Name",
        SimpleOperator = "equals", Value = obj.Name})
    local known = known_ids(call)
    for _, a in ipairs(r.Results or {}) do
      if not known[tostring(a.CustomerKey)] then return a, what end
    end
    return false, what
  end
  if call.operation == "Create" and obj.CustomerKey and #call.objects == 1 then
    local what = string.format("the %s with CustomerKey '%s'", obj.type, obj.CustomerKey)
    local r = c:retrieve(obj.type, {"CustomerKey"},
      filter{Property = "CustomerKey",
        SimpleOperator = "equals", Value = obj.CustomerKey})
    if r.Results and r.Results[1] then return r.Results[1], what end
    return false, what
  end
  if opts.check then
    local v = opts.check(call)
    if v == true then return {}, "the step's check" end
    if v == false then return false, "the step's check" end
    return nil, "the step's check could not tell"
  end
  return nil, nil
end

local function describe_call(call)
  local objs = {}
  for _, o in ipairs(call.objects) do
    objs[#objs + 1] = string.format("%s%s", o.type, o.CustomerKey and (" '" .. o.CustomerKey
      .. "'") or o.Name and (" named '" .. o.Name .. "'") or o.ID and (" " .. o.ID) or "")
  end
  return string.format("%s%s %s (sent %s, correlation id %s)", call.operation,
    call.action and (" " .. call.action) or "", table.concat(objs, ", "), call.started,
    call.correlation_id)
end

-- Reconciles the calls of step row `row` that have no outcome (or an unknown one). Returns
-- the step's result when one proved done (through opts.resume), or nil to run the step again.
-- A call of the step that the service answered with a success: what it made ({ID =, ...}),
-- or nil when every result it returned was a refusal (nothing changed).
local function made_by(call)
  for _, e in ipairs(decode(call.result) or {}) do
    if type(e) == "table" and lower(e.StatusCode) == "ok" then
      return {ID = e.Task or e.NewID, CustomerKey = e.CustomerKey, ObjectID = e.ObjectID
        or e.NewObjectID, Name = e.Name}
    end
  end
  return nil
end

local function reconcile(row, opts)
  local db = state.db
  local doubtful = db:query("SELECT * FROM calls WHERE step = ? AND (outcome IS NULL OR "
    .. "outcome IN ('unknown', 'ok')) ORDER BY id", row.id)
  if #doubtful == 0 then return nil end
  local c
  for _, call in ipairs(doubtful) do
    call.objects = decode(call.objects) or {}
    local ok, found, what
    if call.outcome == "ok" then
      -- answered, but the step ended before recording its result (a kill, Ctrl-C, an error
      -- after the call): what the answer said it made is done
      ok, found, what = true, made_by(call), "the answer the earlier run received"
      if not found then goto next_call end
    else
      c = c or opts.client or (require "performlua.client").connect()
      ok, found, what = pcall(look_up, c, call, opts)
    end
    if not ok then
      error(journal_error(string.format("step '%s' of run %d: the earlier run sent %s and its "
        .. "outcome is not known; checking it failed: %s. Run the same command again to retry "
        .. "the check, or verify it yourself and then run `performlua runs forget %d`.",
        row.name, state.run, describe_call(call), tostring(type(found) == "table"
          and found.message or found), state.run), {run = state.run, step = row.name,
        correlation_id = call.correlation_id}), 0)
    end
    if found == nil then
      error(journal_error(string.format("step '%s' of run %d: the earlier run sent %s and its "
        .. "outcome is not known%s. Nothing was sent again. Verify in Marketing Cloud whether "
        .. "it was done (quote the correlation id); then run `performlua runs forget %d` to "
        .. "start over, or give mc.step a check function that tells.", row.name, state.run,
        describe_call(call), what and (": " .. what) or "", state.run),
        {run = state.run, step = row.name, correlation_id = call.correlation_id}), 0)
    end
    if found then
      if call.outcome ~= "ok" then
        db:run("UPDATE calls SET outcome = 'done', ended = ?, result = ? WHERE id = ?", iso(),
          encode{found = what, found_id = found.ID or found.CustomerKey}, call.id)
      end
      if not opts.resume then
        error(journal_error(string.format("step '%s' of run %d: the earlier run's %s was done "
          .. "(found %s), but the step has no resume function to carry on from it. Nothing was "
          .. "sent again. Check what it did, then run `performlua runs forget %d` to start over.",
          row.name, state.run, describe_call(call), what, state.run),
          {run = state.run, step = row.name, correlation_id = call.correlation_id}), 0)
      end
      return table.pack(opts.resume(found, call))
    end
    db:run("UPDATE calls SET outcome = 'not_done', ended = ? WHERE id = ?", iso(), call.id)
    ::next_call::
  end
  return nil
end

-- ---------------------------------------------------------------------------------------------
-- mc.step

local function finish_step(row, ok, results)
  local db = state.db
  if ok then
    local values = {} -- by position as text: a nil in the middle survives the round trip
    for i = 1, results.n do
      if results[i] ~= nil then values[tostring(i)] = results[i] end
    end
    local text, why = encode({n = results.n, values = values})
    if not text then
      db:run("UPDATE steps SET status = 'failed', ended = ?, error = ? WHERE id = ?", iso(),
        "its result is not plain data", row.id)
      errors.usage(string.format("mc.step '%s': a step's results are kept in the journal, so "
        .. "they must be plain data (strings, numbers, booleans, tables of them): %s", row.name,
        tostring(why)), 0)
    end
    db:run("UPDATE steps SET status = 'done', ended = ?, result = ?, error = NULL WHERE id = ?",
      iso(), text, row.id)
  else
    local e = results
    db:run("UPDATE steps SET status = 'failed', ended = ?, error = ? WHERE id = ?", iso(),
      tostring(type(e) == "table" and e.message or e), row.id)
  end
end

local function unpack_result(text)
  local v = decode(text) or {n = 0}
  local out = {}
  for i = 1, v.n or 0 do out[i] = v.values and v.values[tostring(i)] end
  return table.unpack(out, 1, v.n or 0)
end

--- mc.step(name, fn) / mc.step(name, opts, fn): see the top of this file.
function M.step(name, opts, fn)
  if type(opts) == "function" and fn == nil then opts, fn = {}, opts end
  if type(name) ~= "string" or name == "" then
    errors.usage("mc.step(name, fn): name must be a non-empty string naming the step")
  end
  if type(opts) ~= "table" then
    errors.usage("mc.step(name, opts, fn): opts must be a table such as {check = function(call) "
      .. "... end}")
  end
  if type(fn) ~= "function" then
    errors.usage("mc.step(name, fn): fn must be the function that does the step")
  end
  local s = current()
  if s.names[name] then
    errors.usage(string.format("mc.step: the step name '%s' was used twice in this run; each "
      .. "step needs its own name (add the item's key for steps in a loop)", name))
  end
  s.names[name] = true
  local db = s.db
  local row = db:first("SELECT * FROM steps WHERE run = ? AND name = ?", s.run, name)
  if row and row.status == "done" then
    require("performlua.runlog").step(name, {journal = "recorded", run = s.run})
    return unpack_result(row.result)
  end
  if row then
    local resumed = reconcile(row, opts)
    if resumed then
      finish_step(row, true, resumed)
      return table.unpack(resumed, 1, resumed.n)
    end
    db:run("UPDATE steps SET status = 'started', started = ?, ended = NULL WHERE id = ?", iso(),
      row.id)
  else
    local _, id = db:run("INSERT INTO steps (run, name, status, started) VALUES (?, ?, "
      .. "'started', ?)", s.run, name, iso())
    row = {id = id, name = name}
  end
  require("performlua.runlog").step(name, {journal = "started", run = s.run})
  local co = coroutine.running()
  local outer = contexts[co]
  contexts[co] = row
  local results = table.pack(pcall(fn))
  contexts[co] = outer
  if results[1] then
    local out = table.pack(table.unpack(results, 2, results.n))
    finish_step(row, true, out)
    return table.unpack(out, 1, out.n)
  end
  finish_step(row, false, results[2])
  error(results[2], 0)
end

-- ---------------------------------------------------------------------------------------------
-- the end of the run

--- The run's end: finished (exit status 0) or failed (it continues on the next run of the
--- same command). Called by the CLI with the exit status, and by os.exit.
function M.finish(exit_status)
  if not state or state.ended then return end
  state.ended = true
  local status = exit_status == 0 and "finished" or "failed"
  pcall(state.db.run, state.db, "UPDATE runs SET status = ?, exit_status = ?, updated = ? "
    .. "WHERE id = ?", status, exit_status, iso(), state.run)
end

local exit_hooked = false
function M.install_exit_hook()
  if exit_hooked then return end
  exit_hooked = true
  local exit = os.exit
  os.exit = function(code, close) -- luacheck: ignore 122
    local status = code
    if code == nil or code == true then status = 0 elseif code == false then status = 1 end
    local signal = loop.signal_pending()
    if signal then status = signal == "SIGTERM" and 143 or 130 end
    M.finish(math.type(status) and status or 1)
    return exit(code, close)
  end
end

-- ---------------------------------------------------------------------------------------------
-- performlua runs [show ID | forget ID]

local function say(fmt, ...) io.stdout:write(string.format(fmt, ...), "\n") end

local function show(db, id)
  local run = db:first("SELECT * FROM runs WHERE id = ?", id)
  if not run then return nil, string.format("there is no run %s in the journal", tostring(id)) end
  say("run %d: %s", run.id, run.status .. (run.exit_status and (" (exit status "
    .. run.exit_status .. ")") or ""))
  say("  command: %s", run.command)
  say("  account: %s", run.account or "?")
  say("  started %s, last %s", run.started, run.updated)
  for _, step in ipairs(db:query("SELECT * FROM steps WHERE run = ? ORDER BY id", id)) do
    say("  step '%s': %s%s", step.name, step.status, step.error and (": " .. step.error) or "")
    for _, call in ipairs(db:query("SELECT * FROM calls WHERE step = ? ORDER BY id", step.id)) do
      call.objects = decode(call.objects) or {}
      local outcome = call.outcome or "sent, no outcome recorded (in doubt)"
      if outcome == "unknown" then outcome = "unknown: the answer was lost (in doubt)" end
      say("    %s: %s%s", describe_call(call), outcome,
        call.result and call.outcome == "ok" and (" " .. call.result) or "")
    end
  end
  return 0
end

--- `performlua runs ...`: the exit status, or nil and a usage message.
function M.main(opts)
  local words = opts.words or {}
  local path = M.path()
  if not path then return nil, "no journal: set XDG_STATE_HOME or HOME, or pass --journal FILE" end
  if not core.file_info(path) then
    say("No runs yet (the journal %s does not exist).", path)
    return 0
  end
  local verb, id = words[1], tonumber(words[2])
  if verb ~= nil and verb ~= "show" and verb ~= "forget" then
    return nil, string.format("unknown word '%s': use show ID or forget ID", verb)
  end
  if verb and (not id or #words ~= 2) then
    return nil, verb .. " needs one run ID (performlua runs lists them)"
  end
  if not verb and #words > 0 then return nil, "unexpected words" end
  local db = open_db(path)
  if verb == "show" then
    local ok, why = show(db, id)
    if not ok then io.stderr:write("performlua runs: ", why, "\n"); return 1 end
    return 0
  elseif verb == "forget" then
    local changes = db:run("DELETE FROM runs WHERE id = ?", id)
    if changes == 0 then
      io.stderr:write(string.format("performlua runs: there is no run %d in the journal\n", id))
      return 1
    end
    say("Forgot run %d: the next run of its command starts over.", id)
    return 0
  end
  local runs = db:query("SELECT r.*, (SELECT count(*) FROM steps s WHERE s.run = r.id) AS steps, "
    .. "(SELECT count(*) FROM calls c WHERE c.run = r.id AND (c.outcome IS NULL OR c.outcome = "
    .. "'unknown')) AS doubtful FROM runs r ORDER BY r.id DESC LIMIT 20")
  if #runs == 0 then say("No runs yet (journal %s).", path) return 0 end
  say("Recent runs (journal %s):", path)
  for _, r in ipairs(runs) do
    say("  %4d  %-9s %s  %d step%s%s  %s", r.id, r.status, r.updated, r.steps,
      r.steps == 1 and "" or "s", r.doubtful > 0 and string.format(", %d in doubt", r.doubtful)
      or "", r.command)
  end
  say("performlua runs show ID: its steps and calls; performlua runs forget ID: start it over.")
  return 0
end

return M
