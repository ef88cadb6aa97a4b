-- performlua.sandbox.operations: the SOAP operations by name, each a handler
-- (sb, body, ctx) -> response element, response table | nil, fault. `sb` is the sandbox's state
-- (service.lua), body the decoded request, ctx = {mid =, request_id =} the business unit the
-- request acts in and its RequestID. Create/Update/Delete are in crud.lua, Describe in
-- describe.lua, Execute in execute.lua; Perform's actions in actions.lua, Schedule's in
-- schedule.lua; the rest is here.
local core = require "performlua.core"
local account_mod = require "performlua.sandbox.account"
local actions = require "performlua.sandbox.actions"
local crud = require "performlua.sandbox.crud"
local describe = require "performlua.sandbox.describe"
local execute = require "performlua.sandbox.execute"
local jobs = require "performlua.sandbox.jobs"
local queued = require "performlua.sandbox.queued"
local reply = require "performlua.sandbox.reply"
local schedule_op = require "performlua.sandbox.schedule"

local M = {}

-- Sends started by a Perform (start or test of an EmailSendDefinition), for the stats.
local function count_sends(stats, results, body)
  for i, r in ipairs(results) do
    local def = body.Definitions[i]
    if r.StatusCode == "OK" and core.typeof(def) == "EmailSendDefinition"
        and type(body.Action) == "string" and (body.Action:lower() == "start"
          or body.Action:lower() == "test") then
      stats.sends_started = stats.sends_started + 1
      local key = (r.Object and r.Object.CustomerKey) or def.CustomerKey or def.ObjectID or "?"
      stats.sends_by_definition[key] = (stats.sends_by_definition[key] or 0) + 1
    end
  end
end

-- A queued Perform, processed when its time comes (plain data: --state keeps it). The sends
-- it starts count in the stats of the sandbox that processes it (acct.stats).
jobs.register("queued_perform", function(acct, q)
  local body, ctx = q.body, q.ctx
  local response = actions.perform(acct, body, ctx)
  if acct.stats then count_sends(acct.stats, response.Results, body) end
  queued.record(acct, "Perform", "PerformResponseMsg", response, body.Definitions or {}, ctx,
    body.Options)
end)

M.handlers = {
  Create = crud.handler("Create", "create", "CreateResponse"),
  Update = crud.handler("Update", "update", "UpdateResponse"),
  Delete = crud.handler("Delete", "delete_one", "DeleteResponse"),
  Retrieve = function(sb, body, ctx)
    local acct = sb.acct
    local rr = body.RetrieveRequest or {}
    if rr.ObjectType == "TimeZone" then
      -- the time zones are the service's, not a business unit's: every unit sees the list
      -- (timezone.lua stores it in the enterprise's unit)
      ctx = setmetatable({mid = acct.mid}, {__index = ctx})
    end
    local r = acct:retrieve(rr, ctx)
    return "RetrieveResponseMsg", {OverallStatus = r.OverallStatus,
      RequestID = r.RequestID or ctx.request_id, Results = r.Results}
  end,
  Perform = function(sb, body, ctx)
    local acct = sb.acct
    if queued.is_async(body.Options) then
      jobs.defer(acct, queued.due(acct, body.Options), "queued_perform", {body = body, ctx = ctx})
      local ack = {}
      for i, def in ipairs(body.Definitions or {}) do
        ack[i] = {StatusCode = "OK", StatusMessage = "Queued", OrdinalID = i - 1,
          RequestType = "Asynchronous", Object = account_mod.echo(def),
          ConversationID = body.Options.ConversationID,
          Task = {StatusCode = "OK", StatusMessage = "Queued"}}
      end
      return "PerformResponseMsg", {Results = ack, OverallStatus = "OK",
        OverallStatusMessage = "", RequestID = ctx.request_id}
    end
    local response = actions.perform(acct, body, ctx)
    count_sends(sb.stats, response.Results, body)
    return "PerformResponseMsg", response
  end,
  Describe = describe.describe,
  Execute = execute.execute,
  Query = function(_, _, ctx)
    return "QueryResponseMsg", {OverallStatus = "Error: The Query method is reserved for "
      .. "future use. Use Retrieve.", RequestID = ctx.request_id}
  end,
  Configure = function(sb, body, ctx)
    local acct = sb.acct
    -- the request's Action says what happens to every configuration: create, update or
    -- delete (any case); without one, or with another, each is refused and nothing changes
    local results = {}
    local action = type(body.Action) == "string" and body.Action:lower() or ""
    local method = ({create = "create_one", update = "update_one", delete = "delete_one"})[action]
    for i, obj in ipairs(body.Configurations or {}) do
      local r
      if method then r = acct[method](acct, obj, ctx)
      else
        r = {StatusCode = "Error", ErrorCode = account_mod.ERR.invalid_action,
          StatusMessage = body.Action == nil and "Configure needs an Action: create, update or delete"
            or string.format("The Configure action '%s' is not supported: use create, update or "
              .. "delete", tostring(body.Action))}
      end
      results[i] = {StatusCode = r.StatusCode, StatusMessage = r.StatusMessage,
        ErrorCode = r.ErrorCode, OrdinalID = i - 1, Object = r.Object or account_mod.echo(obj)}
    end
    return "ConfigureResponseMsg", {Results = results, OverallStatus = reply.overall_of(results),
      OverallStatusMessage = "", RequestID = ctx.request_id}
  end,
  Schedule = function(sb, body, ctx)
    local acct = sb.acct
    -- every ScheduleResult carries the ScheduleDefinition back, and the WSDL requires its
    -- Recurrence (an abstract type: a DailyRecurrence, WeeklyRecurrence, ...). It is judged
    -- as the echo carries it: one of a type the model does not know (xsi:type="Daily(") or
    -- that is no Recurrence (xsi:type="Subscriber") does not fit the field and is left out.
    local schedule = type(body.Schedule) == "table"
      and account_mod.echo(body.Schedule, "ScheduleDefinition")
    local rec = schedule and rawget(schedule, "Recurrence")
    local rec_type = type(rec) == "table" and core.typeof(rec)
    if not rec_type or rec_type == "Recurrence" then
      return nil, reply.fault(500, "soap:Client", "The Schedule request needs a Schedule with a "
        .. "Recurrence of a concrete type (xsi:type DailyRecurrence, WeeklyRecurrence, ...), "
        .. "as the WSDL requires")
    end
    local results, assumed = schedule_op.run(acct, body, schedule, ctx)
    sb.current.assumed = assumed -- soap.lua and the --log line say it
    return "ScheduleResponseMsg", {Results = results,
      OverallStatus = #results == 0 and "Error" or reply.overall_of(results),
      OverallStatusMessage = "", RequestID = ctx.request_id}
  end,
  Extract = function(sb, body, ctx)
    local acct = sb.acct
    local results = {}
    for i, r in ipairs(body.Requests or {}) do
      -- the request echoed: ExtractRequest requires ID and Options, which a request may lack
      local echo = account_mod.echo(r, "ExtractRequest")
      echo.ID, echo.Options = echo.ID or "", echo.Options or {}
      local res = {OrdinalID = i - 1, Request = echo}
      if type(r.ID) ~= "string" or r.ID == "" then
        res.StatusCode, res.ErrorCode = "Error", account_mod.ERR.invalid_request
        res.StatusMessage = "The ExtractRequest needs the ID of an extract definition"
      else
        -- ExtractResult has no Task: the task's ID goes in Result.RequestID and its status
        -- is an AsyncActivityStatus (Type ExtractRequest) moving on the clock like an activity
        local id = tostring(acct:new_task_id())
        local params = {}
        for _, p in ipairs((type(r.Parameters) == "table" and (r.Parameters.Parameter or r.Parameters)) or {}) do
          if type(p) == "table" and p.Name then params[#params + 1] = p.Name .. "=" .. tostring(p.Value) end
        end
        local status = acct:insert("AsyncActivityStatus", {TaskID = id, Type = "ExtractRequest",
          ActionType = "extract", AsyncAction = "extract", CustomerKey = r.ID, Status = "Queued",
          StartDate = acct:now_text(), TotalCount = "100", ProcessedCount = "0", ErrorCount = "0",
          DuplicateCount = "0", ClientID = tostring(ctx.mid or acct.mid),
          StatusMessage = table.concat(params, "; ")}, ctx.mid)
        jobs.add(acct, {kind = "activity", obj = status})
        res.StatusCode, res.StatusMessage, res.RequestID = "OK", "Extract queued", id
      end
      results[i] = res
    end
    return "ExtractResponseMsg", {OverallStatus = #results == 0 and "Error" or reply.overall_of(results),
      RequestID = ctx.request_id, Results = results}
  end,
  VersionInfo = function(_, _, ctx)
    return "VersionInfoResponseMsg", {VersionInfo = {Version = "performlua sandbox " .. core.version,
      VersionDate = "2026-01-01T00:00:00Z", Notes = "An emulated Marketing Cloud account"},
      RequestID = ctx.request_id}
  end,
  GetSystemStatus = function(_, _, ctx)
    return "SystemStatusResponseMsg", {Results = {{StatusCode = "OK",
      StatusMessage = "System Status Retrieved", SystemStatus = "OK"}}, OverallStatus = "OK",
      OverallStatusMessage = "", RequestID = ctx.request_id}
  end,
}

return M
