-- performlua.sandbox.schedule: the Schedule operation. `start` on an EmailSendDefinition or an
-- Automation runs it at every occurrence of the ScheduleDefinition (recurrence.lua) on the
-- sandbox clock.
--
-- An EmailSendDefinition's schedule keeps one Send waiting for the next occurrence: stored at
-- once (Status Scheduled, SendDate = the occurrence, ID = the first one's Task.ID), sent when
-- the clock reaches it as Perform start would send it (the interaction's SenderProfile override
-- included), then the next occurrence's Send is stored. Perform cancel on the waiting Send (or
-- a Delete of it) cancels it and the occurrences after it: nothing more is sent.
local core = require "performlua.core"
local account = require "performlua.sandbox.account"
local actions = require "performlua.sandbox.actions"
local audience = require "performlua.sandbox.audience"
local jobs = require "performlua.sandbox.jobs"
local recurrence = require "performlua.sandbox.recurrence"

local M = {}
local ERR = account.ERR

local function series_map(acct)
  acct.series_of = acct.series_of or setmetatable({}, {__mode = "k"})
  return acct.series_of
end

local function still_stored(acct, type_name, obj)
  for _, o in ipairs(acct:collection(type_name).list) do
    if o == obj then return true end
  end
  return false
end

-- A schedule's series is plain data (--state keeps it across a restart, state.lua): the
-- definition (stored object), the interaction as sent, the request's ctx, the sender, the
-- ScheduleDefinition the rule is compiled from (`spec`), the occurrences run so far, the Send
-- waiting for the next one, and whether it was canceled.
local arm

local function fire_send(acct, series, at)
  local send = series.pending
  series.pending = nil
  local esd = series.esd
  if series.canceled or send.Status ~= "Scheduled" or not still_stored(acct, "Send", send) then
    series.canceled = true
    return
  end
  series.count = series.count + 1
  local who = still_stored(acct, "EmailSendDefinition", esd) and audience.of_definition(acct, esd)
  if who then
    actions.launch(acct, send, who, at)
    local stats = acct.stats -- the sandbox's (service.lua), told of every send a schedule starts
    if stats then
      stats.sends_started = stats.sends_started + 1
      local key = esd.CustomerKey or esd.ObjectID or "?"
      stats.sends_by_definition[key] = (stats.sends_by_definition[key] or 0) + 1
    end
  else
    send.Status = "Error"
  end
  local next_at = recurrence.compile(series.spec).next(at + 1, series.count)
  if next_at then arm(acct, series, next_at) end
end

arm = function(acct, series, at)
  local s = actions.sender_of(acct, series.esd, series.def, series.ctx) or series.sender
  local send = actions.new_send(acct, series.esd, s, series.ctx, at)
  series_map(acct)[send] = series
  series.pending = send
  jobs.defer(acct, at, "scheduled_send", series)
  return send
end

jobs.register("scheduled_send", fire_send, function(acct, series)
  -- Perform cancel finds the series of the waiting Send through this map
  if series.pending then series_map(acct)[series.pending] = series end
end)

-- Schedules the sends of `esd` (stored) as `def` (the interaction as sent) asks. Returns the
-- first Send, or nil and an error result.
local function schedule_sends(acct, esd, def, ctx, spec, first)
  local sender, refused = actions.sender_of(acct, esd, def, ctx)
  if not sender then return nil, refused end
  local series = {count = 0, esd = esd, def = def, ctx = ctx, sender = sender, spec = spec}
  return arm(acct, series, first)
end

jobs.register("scheduled_automation", function(acct, series, at)
  local auto = series.auto
  if not still_stored(acct, "Automation", auto) then return end
  series.count = series.count + 1
  actions.perform(acct, {Action = "start", Definitions = {setmetatable({ObjectID = auto.ObjectID,
    CustomerKey = auto.CustomerKey}, core.object_metatable("Automation"))}}, series.ctx)
  local next_at = recurrence.compile(series.spec).next(at + 1, series.count)
  if next_at then jobs.defer(acct, next_at, "scheduled_automation", series) end
end)

local function schedule_automation(acct, auto, ctx, spec, first)
  jobs.defer(acct, first, "scheduled_automation", {auto = auto, ctx = ctx, spec = spec, count = 0})
end

--- Schedule: `body` is the decoded ScheduleRequestMsg, `schedule` its ScheduleDefinition as
--- the answer echoes it. Returns the ScheduleResults, and a list of what the sandbox assumed
--- (or nil).
function M.run(acct, body, schedule, ctx)
  local results = {}
  local action = type(body.Action) == "string" and body.Action:lower() or ""
  -- the Recurrence as the echo carries it (a value that does not fit its type left out), the
  -- dates as sent (an unreadable one is refused with its text)
  local sent = type(body.Schedule) == "table" and body.Schedule or {}
  local spec = {Recurrence = rawget(schedule, "Recurrence"),
    StartDateTime = sent.StartDateTime, EndDateTime = sent.EndDateTime,
    RecurrenceRangeType = rawget(schedule, "RecurrenceRangeType"),
    Occurrences = rawget(schedule, "Occurrences"), TimeZone = sent.TimeZone}
  local ok_rule, rule = pcall(recurrence.compile, spec)
  for i, obj in ipairs(body.Interactions or {}) do
    local t = core.typeof(obj)
    local r = {OrdinalID = i - 1, Object = schedule}
    local stored, _, how = acct:find(t or "", obj, ctx.mid or acct.mid)
    -- only the token's business unit's definitions can be scheduled
    if stored and not acct:owned(stored, {mids = {[ctx.mid or acct.mid] = true}}) then stored = nil end
    local function refuse(code, message)
      r.StatusCode, r.ErrorCode, r.StatusMessage = "Error", code, message
    end
    if action ~= "start" then
      refuse(ERR.invalid_action, string.format("The Schedule action '%s' is not supported: use start",
        tostring(body.Action)))
    elseif t ~= "EmailSendDefinition" and t ~= "Automation" then
      refuse(ERR.unsupported_object, string.format("The Schedule method is not supported for the "
        .. "%s object", tostring(t)))
    elseif not stored then
      refuse(ERR.not_found, string.format("%s not found: no %s with %s exists in this account",
        t, t, how or "that identity"))
    elseif not ok_rule then
      refuse(ERR.invalid_request, type(rule) == "table" and rule.schedule_error or tostring(rule))
    elseif not rule.first then
      refuse(ERR.invalid_request, "The ScheduleDefinition has no occurrence: its range ends "
        .. "before the first one")
    elseif t == "EmailSendDefinition" then
      local send, refused = schedule_sends(acct, stored, obj, ctx, spec, rule.first)
      if send then
        r.StatusCode, r.StatusMessage = "OK", "Scheduled"
        r.Task = {StatusCode = "OK", StatusMessage = "Scheduled", ID = tostring(send.ID),
          InteractionObjectID = stored.ObjectID}
      else
        r.StatusCode, r.ErrorCode, r.StatusMessage = "Error", refused.ErrorCode, refused.StatusMessage
      end
    else
      schedule_automation(acct, stored, ctx, spec, rule.first)
      r.StatusCode, r.StatusMessage = "OK", "Scheduled"
      r.Task = {StatusCode = "OK", StatusMessage = "Scheduled", ID = tostring(acct:new_task_id()),
        InteractionObjectID = stored.ObjectID}
    end
    r.Task = r.Task or {StatusCode = "Error", StatusMessage = r.StatusMessage}
    results[i] = r
  end
  -- what the rule had to guess (a TimeZone the sandbox does not know), for the answer to say
  return results, ok_rule and rule.assumed and {rule.assumed} or nil
end

return M
