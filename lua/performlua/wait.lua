-- performlua.wait: c:wait, following asynchronous work to its end.
--
--   c:wait(result, {timeout =, interval =, max_interval =, progress =, report_every =})
--   c:wait(one_result_of_it, opts)
--   c:wait(task_id, kind, opts)          kind: "send" | "import" | "activity", or the type of
--                                        what was started ("QueryDefinition" -> activity)
--   c:wait(send_or_summary_object, opts) a Send (by ID) or an ImportResultsSummary (TaskResultID)
--
-- What is followed is the `completes` column of performlua.perform (the Perform page as data),
-- by the type of the performed definition and the action: nothing for an action that completes
-- within the call (GetMaxCount, count, clone, ...; a usage error says so), else one of the
-- kinds below (reference/soap-api.md §8), polled by Retrieve:
--   send      Send where ID = Task.ID; done when Status is Complete (or Completed); Canceled,
--             Cancelled, Error, Errored, Failed raise.
--   import    ImportResultsSummary where TaskResultID = Task.ID; done when ImportStatus is
--             Completed; Error, Failed raise.
--   activity  AsyncActivityStatus where TaskID = Task.ID (query definitions, audience builds,
--             extracts, file transfers, and any type or action the table does not list); done
--             when Status is Complete (or Completed); Error, Failed, Canceled raise.
-- Returns the final status object (the Send, the ImportResultsSummary, the AsyncActivityStatus
-- property bag -- typed ObjectExtension or AsyncActivityStatus, as the service answers -- with
-- its Name/Value properties also set as fields: status.Status, status.ErrorMsg, ...). A result
-- with several definitions is waited for concurrently and gives an array of status objects in
-- definition order; a result with one definition gives that one status object.
--
-- Errors (one shape, performlua.error):
--   kind "failed"   the work ended in a failure state, or never started (the Perform result
--                   itself is an error); .status = the last status object (or .result = the
--                   PerformResult that failed), .task_id, .wait_kind
--   kind "timeout"  the work did not end within opts.timeout; .status = the last status seen
--                   (nil when the object never became visible), .waited = seconds, .task_id.
--                   The work itself goes on at the service.
--   kind "usage"    nothing to wait for (no Task, e.g. Automation start or GetMaxCount), bad
--                   arguments. The message says what to poll instead.
-- With several definitions, every wait settles first; then one "failed"/"timeout" error names
-- each failure, with .statuses (the status objects that did finish, by position) and .failures.
--
-- Polling backs off: the first poll is immediate, then opts.interval (default 1 s) growing by
-- half each time up to opts.max_interval (default 30 s). Waiting goes through mc.sleep, so any
-- number of waits run side by side inside mc.parallel / mc.map. The default timeout is one hour
-- (large sends take long); pass timeout = math.huge to wait for ever. A poll that fails for a
-- passing reason even after the client's retries (network, HTTP 5xx, throttling, a replaced
-- token) is followed by the next poll, up to 3 such failures in a row; the 4th raises.
--
-- Progress: while stderr is a terminal, one line on stderr, rewritten in place with "\r",
-- shows every wait in progress (cleared when they end). When stderr is not a terminal (cron,
-- CI, a pipe), a plain line every opts.report_every seconds (default 30) instead, so a log
-- shows the run is alive, and one when the wait ends if any was written: nothing for waits
-- shorter than that. opts.progress = false turns both off, true forces the terminal line on.
-- With --log-json every poll is also a line of the run log (performlua.runlog).
local errors = require "performlua.errors"
local loop = require "performlua.loop"
local perform = require "performlua.perform"
local result = require "performlua.result"
local runlog = require "performlua.runlog"
local types = require "performlua.types"
local terminal = require "performlua.terminal"

local M = {}

local usage = errors.usage

local typeof = types.typeof

local function lower(s) return tostring(s or ""):lower() end

-- ---------------------------------------------------------------------------------------------
-- what to poll for each kind of work

local SEND_PROPERTIES = {
  "ID", "EmailName", "Subject", "FromName", "FromAddress", "Status", "SendDate", "SentDate",
  "NumberTargeted", "NumberSent", "NumberDelivered", "NumberErrored", "NumberExcluded",
  "Duplicates", "InvalidAddresses", "ExistingUndeliverables", "ExistingUnsubscribes",
  "MissingAddresses", "HardBounces", "SoftBounces", "OtherBounces", "UniqueOpens",
  "UniqueClicks", "Unsubscribes", "ForwardedEmails",
}

local IMPORT_PROPERTIES = {
  "ImportDefinitionCustomerKey", "TaskResultID", "ImportStatus", "ImportType", "StartDate",
  "EndDate", "DestinationID", "TotalRows", "NumberSuccessful", "NumberDuplicated",
  "NumberErrors", "NumberRestricted",
}

local ACTIVITY_PROPERTIES = {
  "TaskID", "Status", "StatusMessage", "ErrorMsg", "CustomerKey", "Type", "ActionType",
  "ProcessedCount", "TotalCount", "ErrorCount", "DuplicateCount", "StartDate", "CompletedDate",
}

local KINDS = {
  send = {
    object_type = "Send", by = "ID", status_field = "Status",
    properties = SEND_PROPERTIES,
    done = {complete = true, completed = true},
    failed = {canceled = true, cancelled = true, error = true, errored = true, failed = true},
    noun = "send",
  },
  import = {
    object_type = "ImportResultsSummary", by = "TaskResultID", status_field = "ImportStatus",
    properties = IMPORT_PROPERTIES,
    done = {completed = true},
    failed = {error = true, failed = true},
    noun = "import",
  },
  activity = {
    object_type = "AsyncActivityStatus", by = "TaskID", status_field = "Status",
    properties = ACTIVITY_PROPERTIES,
    done = {complete = true, completed = true},
    failed = {error = true, failed = true, canceled = true, cancelled = true},
    noun = "activity",
  },
}
M.KINDS = KINDS

-- The kind of work followed after an action that completes as `how` (performlua.perform's
-- column): what the table does not say is followed as an activity, like most work.
local function kind_of_completion(how)
  if how and KINDS[how] then return how end
  return "activity"
end

-- The kind named by c:wait(task_id, kind): a kind, the type it polls, or the type of the
-- definition that started the work (case-insensitive).
local function kind_of_name(name)
  if type(name) ~= "string" then return nil end
  for kind, spec in pairs(KINDS) do
    if lower(name) == kind or lower(name) == lower(spec.object_type) then return kind end
  end
  if perform.lookup(name) or types.constructor(name) then
    return kind_of_completion(perform.completion(name, "start"))
  end
  return nil
end

-- ---------------------------------------------------------------------------------------------
-- reading status objects

-- AsyncActivityStatus (and other types outside the WSDL) arrive as ObjectExtension: a list of
-- Name/Value properties. Copy them onto the object so status.Status reads like other types.
local function lift_properties(obj)
  if type(obj) ~= "table" then return obj end
  local props = rawget(obj, "Properties")
  if type(props) == "table" then
    if props[1] == nil and type(rawget(props, "Property")) == "table" then
      props = rawget(props, "Property")
    end
    for _, p in ipairs(props) do
      if type(p) == "table" and type(p.Name) == "string" and rawget(obj, p.Name) == nil then
        rawset(obj, p.Name, p.Value)
      end
    end
  end
  return obj
end

local function field(obj, name)
  if type(obj) ~= "table" then return nil end
  local v = rawget(obj, name)
  if v == "" then return nil end
  return v
end

-- The figures that say how far the work got ("40 of 100 sent"), or nil.
local function status_details(kind, obj)
  local parts = {}
  if kind == "send" then
    local sent, targeted = field(obj, "NumberSent"), field(obj, "NumberTargeted")
    if sent and targeted then
      parts[#parts + 1] = string.format("%s of %s sent", tostring(sent), tostring(targeted))
    elseif sent then
      parts[#parts + 1] = string.format("%s sent", tostring(sent))
    end
  elseif kind == "import" then
    local ok_rows, total = field(obj, "NumberSuccessful"), field(obj, "TotalRows")
    if ok_rows and total then
      parts[#parts + 1] = string.format("%s of %s rows imported", tostring(ok_rows),
        tostring(total))
    end
    local row_errors = tonumber(field(obj, "NumberErrors"))
    if row_errors and row_errors > 0 then
      parts[#parts + 1] = string.format("%d row error%s", row_errors,
        row_errors == 1 and "" or "s")
    end
  else
    local done, total = field(obj, "ProcessedCount"), field(obj, "TotalCount")
    if done and total then
      parts[#parts + 1] = string.format("%s of %s processed", tostring(done), tostring(total))
    end
    local msg = field(obj, "ErrorMsg") or field(obj, "StatusMessage")
    if msg and lower(msg) ~= lower(field(obj, KINDS[kind].status_field)) then
      parts[#parts + 1] = tostring(msg)
    end
  end
  if #parts == 0 then return nil end
  return table.concat(parts, ", ")
end

-- A short description of where the work stands, for progress and messages.
local function describe_status(kind, obj)
  if obj == nil then return "not visible yet" end
  local status = field(obj, KINDS[kind].status_field) or "(no status)"
  local details = status_details(kind, obj)
  return details and (tostring(status) .. ", " .. details) or tostring(status)
end
M.describe_status = describe_status

-- ---------------------------------------------------------------------------------------------
-- the progress line (one for every wait in progress in this process)

local progress = {active = {}, order = {}, shown = false, width = 0}

local function progress_render()
  local items = {}
  for _, entry in ipairs(progress.order) do
    items[#items + 1] = string.format("%s: %s (%ds)", entry.label, entry.text,
      math.floor(loop.now() - entry.started))
  end
  local line = #items > 0 and ("waiting for " .. table.concat(items, " | ")) or ""
  local width = terminal.columns("stderr") - 1
  if #line > width then line = line:sub(1, width - 3) .. "..." end
  -- "\r" then the line then erase to the end of the line ("\27[K"): a shorter line never
  -- leaves the tail of a longer one behind
  io.stderr:write("\r", line, "\27[K")
  io.stderr:flush()
  progress.shown = line ~= ""
end

local function progress_update(entry, text)
  if not entry then return end
  entry.text = text
  if not progress.active[entry] then
    progress.active[entry] = true
    progress.order[#progress.order + 1] = entry
  end
  progress_render()
end

local function progress_end(entry)
  if not entry or not progress.active[entry] then return end
  progress.active[entry] = nil
  for i, e in ipairs(progress.order) do
    if e == entry then table.remove(progress.order, i) break end
  end
  if #progress.order == 0 then
    if progress.shown then
      io.stderr:write("\r\27[K")
      io.stderr:flush()
    end
    progress.shown = false
  else
    progress_render()
  end
end

local function progress_wanted(opt)
  if opt == false then return false end
  if opt == true then return true end
  return terminal.isatty("stderr")
end

-- ---------------------------------------------------------------------------------------------
-- options

local function check_options(opts, what)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    usage(what .. ": options must be a table such as {timeout = 600, interval = 2}, got "
      .. type(opts))
  end
  local known = {timeout = true, interval = true, max_interval = true, progress = true,
                 properties = true, report_every = true}
  for k in pairs(opts) do
    if not known[k] then
      usage(string.format("%s: unknown option '%s' (options: interval, max_interval, progress, "
        .. "properties, report_every, timeout)", what, tostring(k)))
    end
  end
  local function positive(name, default)
    local v = opts[name]
    if v == nil then return default end
    if type(v) ~= "number" or v ~= v or v <= 0 then
      usage(string.format("%s: %s must be a number of seconds > 0, got %s", what, name,
        tostring(v)))
    end
    return v
  end
  local o = {}
  o.timeout = positive("timeout", 3600)
  o.interval = positive("interval", 1)
  o.max_interval = math.max(o.interval, positive("max_interval", 30))
  o.report_every = positive("report_every", 30)
  o.progress = opts.progress
  if o.progress ~= nil and type(o.progress) ~= "boolean" then
    usage(what .. ": progress must be true or false")
  end
  if opts.properties ~= nil and type(opts.properties) ~= "table" then
    usage(what .. ": properties must be a list of property names")
  end
  o.properties = opts.properties
  return o
end

local function seconds_text(s)
  if s == math.huge then return "ever" end
  if s < 10 and s ~= math.floor(s) then return string.format("%.1f s", s) end
  if s < 120 then return string.format("%d s", math.floor(s + 0.5)) end
  return string.format("%d min %d s", math.floor(s / 60), math.floor(s % 60 + 0.5))
end

-- ---------------------------------------------------------------------------------------------
-- one wait: poll one task until it ends

-- A poll that failed for a passing reason even after the client's own retries (the network,
-- the service busy, a token replaced under our feet). The work goes on at the service whatever
-- happens to our polls, and polling is read-only, so the wait polls again, a few times in a row
-- at most, instead of ending a long wait on one bad minute.
local MAX_FAILED_POLLS = 3

local function transient(err)
  if not errors.is_error(err) then return false end
  if err.kind == "transport" or err.retryable then return true end
  if err.kind == "http" then
    local status = tonumber(err.http_status) or 0
    return status >= 500 or status == 429
  end
  return err.kind == "auth" and lower(err.message):match("^token expired") ~= nil
end

-- Without a terminal: one plain line on stderr for a log to show (see the top of this file).
local function report_line(target, text, seconds)
  io.stderr:write(string.format("performlua: %s%s: %s (%s)\n", target.label,
    target.source or "", text, seconds_text(seconds)))
  io.stderr:flush()
end

-- The run log's record of one poll, or of how the wait ended (`outcome`).
local function log_poll(target, spec, last, polls, seconds, outcome)
  if not runlog.enabled() then return end
  runlog.write{event = "wait", label = target.label, kind = target.kind,
    task_id = tostring(target.task_id), status = last and field(last, spec.status_field) or nil,
    progress = last and status_details(target.kind, last) or nil, polls = polls,
    ms = math.floor(seconds * 1000 + 0.5), outcome = outcome}
end

-- target = {kind =, task_id =, label =, source =}
local function wait_one(client, target, o)
  local spec = KINDS[target.kind]
  local filter = {Property = spec.by, SimpleOperator = "equals", Value = tostring(target.task_id)}
  local properties = o.properties or spec.properties
  local started = loop.now()
  local deadline = started + o.timeout
  local interval = o.interval
  local last, polls, failed_polls = nil, 0, 0
  local entry = progress_wanted(o.progress) and {label = target.label, started = started} or nil
  -- without a terminal, plain lines at a steady pace: the first after report_every seconds
  local next_report = entry == nil and o.progress ~= false and started + o.report_every or nil
  local reported = false
  local ok, outcome = pcall(function()
    while true do
      polls = polls + 1
      local got, r = pcall(client.retrieve, client, spec.object_type, properties, filter)
      if got and not r.ok then got, r = pcall(r.check, r) end
      if not got and transient(r) and failed_polls < MAX_FAILED_POLLS
          and loop.now() < deadline then
        failed_polls = failed_polls + 1
        r = nil
      elseif not got then
        -- a poll that failed for good (the client already retried what can be retried)
        if errors.is_error(r) then
          r.message = string.format("while waiting for %s: %s%s", target.label,
            tostring(r.message), failed_polls > 0
              and string.format(" (%d polls in a row failed)", failed_polls + 1) or "")
          r.task_id, r.wait_kind = target.task_id, target.kind
        end
        error(r, 0)
      else
        failed_polls = 0
      end
      -- Right after a start the object may not be retrievable yet: keep polling.
      local obj = r and r.Results[1]
      if obj ~= nil then
        last = lift_properties(obj)
        local status = lower(field(last, spec.status_field))
        if spec.done[status] then return last end
        if spec.failed[status] then
          log_poll(target, spec, last, polls, loop.now() - started, "failed")
          local details = status_details(target.kind, last)
          error(errors.new{kind = "failed",
            message = string.format("%s%s ended with %s '%s'%s", target.label,
              target.source or "", spec.status_field, tostring(field(last, spec.status_field)),
              details and (": " .. details) or ""),
            status = last, task_id = target.task_id, wait_kind = target.kind}, 0)
        end
      end
      local text = describe_status(target.kind, last)
      progress_update(entry, text)
      local now = loop.now()
      log_poll(target, spec, last, polls, now - started, now >= deadline and "timeout" or "waiting")
      if next_report and now >= next_report then
        report_line({label = "waiting for " .. target.label, source = target.source}, text,
          now - started)
        reported = true
        repeat next_report = next_report + o.report_every until next_report > now
      end
      if now >= deadline then
        error(errors.new{kind = "timeout",
          message = string.format("gave up after %s waiting for %s%s to finish; last status: "
            .. "%s (%d polls). The work goes on at the service: wait longer with "
            .. "c:wait(%s, \"%s\", {timeout = ...})", seconds_text(now - started),
            target.label, target.source or "", describe_status(target.kind, last), polls,
            type(target.task_id) == "number" and tostring(target.task_id)
              or string.format("%q", tostring(target.task_id)), target.kind),
          status = last, waited = now - started, task_id = target.task_id,
          wait_kind = target.kind}, 0)
      end
      loop.sleep(math.min(interval, deadline - now))
      interval = math.min(interval * 1.5, o.max_interval)
    end
  end)
  progress_end(entry)
  if ok then
    log_poll(target, spec, outcome, polls, loop.now() - started, "done")
    if reported then
      report_line({label = target.label .. " finished", source = target.source},
        describe_status(target.kind, outcome), loop.now() - started)
    end
  elseif reported and errors.is_error(outcome) then
    report_line({label = target.label .. " stopped", source = target.source},
      outcome.kind == "timeout" and "gave up waiting" or "failed", loop.now() - started)
  end
  if not ok then error(outcome, 0) end
  return outcome
end

-- ---------------------------------------------------------------------------------------------
-- turning what the caller passed into targets

local function definition_name(def)
  if type(def) ~= "table" then return nil end
  local key = field(def, "CustomerKey") or field(def, "Name") or field(def, "ObjectID")
    or field(def, "ID")
  return key and string.format("'%s'", tostring(key)) or nil
end

-- A target for one PerformResult. `input` is the definition sent, when known; `position` its
-- place in the call (for messages).
local function target_of_result(res, input, action, position)
  local obj = rawget(res, "Object")
  local type_name = typeof(obj) or typeof(input) or "definition"
  local name = definition_name(obj) or definition_name(input)
  local what = name and (type_name .. " " .. name) or type_name
  if position then what = string.format("%s (definition %d)", what, position) end
  local code = field(res, "StatusCode")
  if code and lower(code) ~= "ok" then
    error(errors.new{kind = "failed",
      message = string.format("%s did not start: %s%s; nothing to wait for", what,
        field(res, "ErrorCode") and ("ErrorCode " .. tostring(res.ErrorCode) .. ": ") or "",
        tostring(field(res, "StatusMessage") or code)),
      result = res, code = tonumber(field(res, "ErrorCode"))}, 0)
  end
  local how = perform.completion(type_name, action)
  if action and how == "call" then
    usage(string.format("c:wait: nothing to wait for: '%s' on %s completes within the Perform "
      .. "call; its answer is in the result (Task.StatusMessage holds counts, Object a clone)",
      action, what))
  end
  local task = rawget(res, "Task")
  local task_id = type(task) == "table" and field(task, "ID") or nil
  if task_id == nil then
    local msg = field(res, "StatusMessage")
    task_id = msg and tostring(msg):match("AsyncID:%s*(%d+)")
  end
  if task_id == nil or tostring(task_id) == "0" then
    if how == "automation" then
      local key = field(obj, "CustomerKey") or field(input, "CustomerKey")
      local by = key and string.format('{Property = "CustomerKey", SimpleOperator = "equals", '
        .. 'Value = "%s"}', key)
        or '{Property = "CustomerKey", SimpleOperator = "equals", Value = "<key>"}'
      usage(string.format("c:wait: %s has no task to follow: the service answers Automation "
        .. "start without a Task. Poll the automation itself instead: c:retrieve(\"Automation\", "
        .. "{\"Name\", \"Status\"}, %s) until Status is no longer 3 (Running); -1 means Error",
        what, by))
    end
    usage(string.format("c:wait: %s has no task to follow (its Perform result carries no Task.ID%s): "
      .. "the action completed within the Perform call, or the service started nothing "
      .. "trackable; read the result itself (Task.StatusMessage holds counts)",
      what, task_id and " other than 0" or ""))
  end
  local kind = kind_of_completion(how)
  local spec = KINDS[kind]
  return {
    kind = kind, task_id = task_id,
    label = string.format("%s %s", spec.object_type, tostring(task_id)),
    source = string.format(" (started by %s)", what),
  }
end

local function is_perform_result(x)
  return getmetatable(x) == result.Result
end

-- Targets for whatever was passed; `single` is true when one status object (not an array)
-- is to be returned.
local function targets_of(x, kind)
  if type(x) == "number" or type(x) == "string" then
    if kind == nil then
      usage("c:wait(task_id, kind, opts): give the kind of work too: \"send\" (a Send by ID), "
        .. "\"import\" (ImportResultsSummary by TaskResultID) or \"activity\" "
        .. "(AsyncActivityStatus by TaskID)")
    end
    local k = kind_of_name(kind)
    if not k then
      usage(string.format("c:wait: unknown kind '%s'; use \"send\", \"import\" or \"activity\", "
        .. "or the type that started the work, e.g. \"QueryDefinition\"", tostring(kind)))
    end
    if tostring(x) == "" then usage("c:wait: the task id is empty") end
    return {{kind = k, task_id = x,
             label = string.format("%s %s", KINDS[k].object_type, tostring(x))}}, true
  end
  if type(x) ~= "table" then
    usage("c:wait(x, opts): x must be a Perform result, one of its Results, or a task id with "
      .. "its kind, got " .. type(x))
  end
  if is_perform_result(x) then
    if x.operation and x.operation ~= "Perform" then
      usage(string.format("c:wait: this is the result of %s; c:wait follows the work a Perform "
        .. "started (pass the result of c:perform)", tostring(x.operation)))
    end
    local results = x.Results or {}
    if #results == 0 then
      usage(string.format("c:wait: the Perform result has no Results to follow (OverallStatus "
        .. "%s%s)", tostring(x.OverallStatus), x.OverallStatusMessage
          and x.OverallStatusMessage ~= "" and (": " .. x.OverallStatusMessage) or ""))
    end
    local inputs = result.inputs(x)
    local action = rawget(x, "action")
    local targets = {}
    for i, res in ipairs(results) do
      if #results == 1 then
        targets[i] = target_of_result(res, inputs[i], action, nil)
      else
        -- one definition that did not start must not keep the others from being followed
        local ok, t = pcall(target_of_result, res, inputs[i], action, i)
        targets[i] = ok and t or {error = t}
      end
    end
    return targets, #results == 1
  end
  local tname = typeof(x)
  if tname == "Send" then
    if x.ID == nil then usage("c:wait: this Send has no ID to follow") end
    return {{kind = "send", task_id = x.ID, label = "Send " .. tostring(x.ID)}}, true
  elseif tname == "ImportResultsSummary" then
    if x.TaskResultID == nil then usage("c:wait: this ImportResultsSummary has no TaskResultID") end
    return {{kind = "import", task_id = x.TaskResultID,
             label = "ImportResultsSummary " .. tostring(x.TaskResultID)}}, true
  end
  if tname == "PerformResult" or rawget(x, "Task") ~= nil or rawget(x, "StatusCode") ~= nil then
    return {target_of_result(x, rawget(x, "input"), nil, nil)}, true
  end
  usage("c:wait(x, opts): x must be a Perform result, one of its Results, a Send, or a task id "
    .. "with its kind" .. (tname and (", got a " .. tname) or ""))
end

-- ---------------------------------------------------------------------------------------------

--- c:wait(x, opts) / c:wait(task_id, kind, opts): see the top of this file.
function M.wait(self, x, kind_or_opts, maybe_opts)
  local kind, opts
  if type(x) == "number" or type(x) == "string" then
    kind, opts = kind_or_opts, maybe_opts
  else
    if kind_or_opts ~= nil and type(kind_or_opts) ~= "table" then
      usage("c:wait(result, opts): opts must be a table such as {timeout = 600}; a kind is "
        .. "only given with a task id: c:wait(task_id, kind, opts)")
    end
    opts = kind_or_opts
  end
  local o = check_options(opts, "c:wait")
  local targets, single = targets_of(x, kind)
  if #targets == 1 then
    local status = wait_one(self, targets[1], o)
    if single then return status end
    return {status}
  end
  -- several: wait for all side by side, then report every failure at once
  local outcomes = loop.map(targets, function(target)
    if target.error ~= nil then return {ok = false, value = target.error} end
    local ok, v = pcall(wait_one, self, target, o)
    return {ok = ok, value = v}
  end, {concurrency = #targets})
  local statuses, failures = {}, {}
  for i, out in ipairs(outcomes) do
    if out.ok then
      statuses[i] = out.value
    else
      failures[#failures + 1] = {index = i, error = out.value}
    end
  end
  if #failures == 0 then return statuses end
  local lines, kinds = {}, {}
  for _, f in ipairs(failures) do
    local e = f.error
    local text = type(e) == "table" and tostring(e.message) or tostring(e)
    lines[#lines + 1] = string.format("#%d: %s", f.index, text)
    kinds[type(e) == "table" and e.kind or "script"] = true
  end
  local err_kind = kinds.failed and "failed" or (kinds.timeout and "timeout")
    or (kinds.usage and "usage") or (next(kinds))
  error(errors.new{kind = err_kind,
    message = string.format("%d of %d did not finish well: %s", #failures, #targets,
      table.concat(lines, "; ")),
    statuses = statuses, failures = failures}, 0)
end

return M
