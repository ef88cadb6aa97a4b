-- performlua.sandbox.actions: Perform in the emulated account, for every object and action of
-- performlua.perform (the Perform page as data, with the Perform-capable types the page leaves
-- out: Automation, QueryDefinition, DataExtension ClearData). Its `completes` column says what
-- each action leaves to follow: a Send, an ImportResultsSummary, an AsyncActivityStatus, or
-- nothing; the handlers below leave exactly that, so c:wait finds it.
--
-- Each definition gets its own PerformResult, in order, with OrdinalID (from 0) and the
-- definition as Object. Type names are case-sensitive (as the service's handlers are); action
-- names are not (the docs use GetMaxCount and getmaxcount alike).
local core = require "performlua.core"
local page = require "performlua.perform"
local account = require "performlua.sandbox.account"
local audience = require "performlua.sandbox.audience"
local clock = require "performlua.sandbox.clock"
local jobs = require "performlua.sandbox.jobs"
local tracking = require "performlua.sandbox.tracking"

local M = {}
local ERR = account.ERR
local result = account.result

-- type -> {actions = {lower = spelling}, reserved = {lower = spelling}, requires_id = bool}
local CAPABLE = {}
local function add(type_name, actions, reserved, requires_id)
  local entry = {actions = {}, reserved = {}, list = actions, requires_id = requires_id}
  for _, a in ipairs(actions) do entry.actions[a:lower()] = a end
  for _, a in ipairs(reserved or {}) do entry.reserved[a:lower()] = a end
  CAPABLE[type_name] = entry
end
for _, o in ipairs(page.objects) do
  add(o.type, o.actions, o.reserved, o.requires_id)
  if o.wsdl_type then add(o.wsdl_type, o.actions, o.reserved, o.requires_id) end
end
M.CAPABLE = CAPABLE

-- What the service says when it starts an activity, where the docs show it.
local ACTIVITY_MESSAGE = {QueryDefinition = "QueryDefinition perform called successfully"}

local function task(id, message, extra)
  local t = extra or {}
  t.StatusCode = t.StatusCode or "OK"
  t.StatusMessage = message
  if id ~= nil then t.ID = tostring(id) end
  return t
end

local function error_result(code, message)
  return result("Error", message, {ErrorCode = code, Task = task(nil, message, {StatusCode = "Error"})})
end

local function not_found(type_name, how, code)
  return error_result(code or ERR.not_found, how
    and string.format("%s not found: no %s with %s exists in this account", type_name, type_name, how)
    or string.format("The %s definition names no object: give its ObjectID, ID or CustomerKey",
      type_name))
end

local function find_owned(acct, type_name, def, ctx)
  local obj, _, how = acct:find(type_name, def, ctx.mid or acct.mid)
  if obj and not acct:owned(obj, {mids = {[ctx.mid or acct.mid] = true}}) then
    obj, how = nil, acct.named_by(def) -- another business unit's: not found in this one
  end
  return obj, how
end

-- The AsyncActivityStatus of a started activity, moving on the clock; `total` is its TotalCount
-- (default the object's `_rows`).
local function activity_status(acct, type_name, obj, task_id, total)
  local status = acct:insert("AsyncActivityStatus", {
    TaskID = tostring(task_id), Type = type_name, ActionType = "start", AsyncAction = "start",
    CustomerKey = obj.CustomerKey, InteractionID = obj.ObjectID, Status = "Queued",
    StartDate = acct:now_text(), TotalCount = tostring(total or obj._rows or 100),
    ProcessedCount = "0", ErrorCount = "0", DuplicateCount = "0",
    ClientID = tostring(obj._mid or acct.mid),
  })
  jobs.add(acct, {kind = "activity", obj = status})
  return status
end

local function counted(acct, obj, total)
  local n, err = audience.audience_count(acct, obj, total)
  if not n then return error_result(ERR.audience_filter, err) end
  return result("OK", "Task status message holds the requested value.",
    {Task = task(acct:new_task_id(), tostring(n))})
end

-- ----------------------------------------------------------------------------------------------
-- handlers: function(acct, obj, def, ctx, options) -> result

local H = {}

H.AudienceDefinition = {
  -- build: the data extension the audience publishes into (CustomerKey = the audience's) holds
  -- the people it counts now. The sandbox builds at once, and the task's AsyncActivityStatus is
  -- Complete when the answer leaves: a script follows it as it must against the service, and
  -- goes on at its first look whatever the sandbox clock's speed.
  build = function(acct, obj)
    local n, err = audience.build(acct, obj)
    if not n then return error_result(ERR.audience_filter, err) end
    local id = acct:new_task_id()
    local status = activity_status(acct, "AudienceDefinition", obj, id, n)
    local job = jobs.of(acct, status)
    job.progress = acct.durations.total
    jobs.refresh(acct, job)
    return result("OK", "AudienceDefinition performed", {Task = task(id, "Build complete",
      {InteractionObjectID = obj.ObjectID})})
  end,
  clone = function(acct, obj, def, ctx)
    local name = def.Name or ((obj.Name or "Audience") .. " copy")
    for _, other in ipairs(acct:collection("AudienceDefinition").list) do
      if other.Name == name and acct:owned(other, {mids = {[ctx.mid or acct.mid] = true}}) then
        return error_result(ERR.audience_exists, string.format("An AudienceDefinition already "
          .. "exists for this Name: '%s'", name))
      end
    end
    local copy = account.copy(obj)
    copy.ID, copy.ObjectID, copy.CustomerKey, copy.CreatedDate, copy.ModifiedDate = nil, nil, nil, nil, nil
    copy.Name = name
    if def.Description then copy.Description = def.Description end
    local stored = acct:insert("AudienceDefinition", copy, ctx.mid)
    return result("OK", "AudienceDefinition performed", {
      Object = account.present("AudienceDefinition", stored),
      Task = task(stored.ID, "Cloned", {InteractionObjectID = stored.ObjectID})})
  end,
  count = function(acct, obj) return counted(acct, obj) end,
  totalcount = function(acct, obj) return counted(acct, obj, true) end,
}

H.AudienceSegmentDefinition = {
  count = function(acct, obj)
    return result("OK", "Task status message holds the requested value.",
      {Task = task(acct:new_task_id(), tostring(obj._count or 0))})
  end,
}

H.Campaign = {
  start = function(acct, obj)
    obj._status = "Running"
    local id = acct:new_task_id()
    activity_status(acct, "Campaign", obj, id)
    return result("OK", "Campaign started", {Task = task(id, "Campaign started")})
  end,
  stop = function(acct, obj)
    obj._status = "Stopped"
    return result("OK", "Campaign stopped", {Task = task(acct:new_task_id(), "Campaign stopped")})
  end,
}

H.ContentValidation = function(acct, _, def, ctx)
  -- the definition is the request itself: validate its Email's content
  local email_ref = def.Email
  if type(email_ref) ~= "table" then
    return error_result(ERR.invalid_request, "ContentValidation needs the Email to validate")
  end
  local email, _, how = acct:find("Email", email_ref, ctx and ctx.mid or acct.mid)
  if not email then return not_found("Email", how) end
  local text = (email.HTMLBody or "") .. " " .. (email.TextBody or "") .. " " .. (email.Subject or "")
  local spammy = 0
  for _, w in ipairs{"free", "winner", "guarantee", "urgent", "$$$"} do
    if text:lower():find(w, 1, true) then spammy = spammy + 1.5 end
  end
  local vr = {CheckTime = acct:now_text(), IsResultValid = true, IsSpam = spammy >= 5.0,
    Score = spammy, Threshold = 5.0,
    Message = spammy >= 5.0 and "The content looks like spam" or "The content passed validation"}
  local t = setmetatable(task(acct:new_task_id(), "Validation complete", {ValidationResults = {vr}}),
    core.object_metatable("ContentValidationTaskResult"))
  return result("OK", "ContentValidation performed", {Task = t})
end

H.PlatformApplication = {
  publish = function(acct, obj)
    obj._published = true
    return result("OK", "PlatformApplication published", {Task = task(acct:new_task_id(), "Published")})
  end,
  deploy = function(acct, obj)
    obj._deployed = true
    return result("OK", "PlatformApplication deployed", {Task = task(acct:new_task_id(), "Deployed")})
  end,
}

-- The sender of a send: the definition's own SenderProfile (or its From fields), unless the
-- Perform definition carries a SenderProfile. That override may name a stored profile (by
-- ObjectID, ID or CustomerKey) and may also give FromName/FromAddress, which win over the
-- profile's for this send only, as the Perform page describes.
local function sender_of(acct, esd, def, ctx)
  local sender = {FromName = esd.FromName, FromAddress = esd.FromAddress}
  if type(esd.SenderProfile) == "table" then
    local profile = acct:find("SenderProfile", esd.SenderProfile, acct:unit_of(esd))
    if profile then sender = {FromName = profile.FromName, FromAddress = profile.FromAddress} end
  end
  local ref = def.SenderProfile
  if type(ref) ~= "table" then return sender end
  if ref.ObjectID ~= nil or ref.ID ~= nil or ref.CustomerKey ~= nil then
    local profile, how = find_owned(acct, "SenderProfile", ref, ctx)
    if not profile then return nil, not_found("SenderProfile", how, ERR.esd_not_found) end
    sender = {FromName = profile.FromName, FromAddress = profile.FromAddress}
  end
  sender.FromName = ref.FromName or sender.FromName
  sender.FromAddress = ref.FromAddress or sender.FromAddress
  return sender
end

M.sender_of = sender_of

-- A Send of `esd` as `sender` sends it, not started yet (Status Scheduled, nobody counted):
-- what Perform start makes at once and a Schedule makes for each occurrence ahead of its time
-- (SendDate = `at`), so the scheduled Send can be seen and canceled before it goes out.
function M.new_send(acct, esd, sender, ctx, at)
  local email = type(esd.Email) == "table" and acct:find("Email", esd.Email, acct:unit_of(esd)) or nil
  return acct:insert("Send", {
    ID = acct:new_task_id(), EmailName = email and email.Name or esd.Name,
    Subject = esd.EmailSubject or (email and email.Subject), FromName = sender.FromName,
    FromAddress = sender.FromAddress, SendDate = at and clock.format(at) or acct:now_text(),
    NumberTargeted = 0, NumberSent = 0, NumberDelivered = 0, NumberErrored = 0,
    NumberExcluded = 0, Status = "Scheduled",
    EmailSendDefinition = setmetatable({CustomerKey = esd.CustomerKey, ObjectID = esd.ObjectID},
      core.object_metatable("EmailSendDefinition")),
  }, ctx.mid)
end

-- When a send completes, its recipients' tracking events are stored (tracking.lua).
jobs.register_completion("send_tracking", function(acct, job)
  tracking.record(acct, job.obj, job.who, clock.parse(job.obj.SentDate) or acct:now(),
    rawget(job.obj, "_tsd_object_id"))
end)

-- Starts `send` to `who` ({targeted=, excluded=, bounced=}, audience.of_definition); `at`, a
-- clock time already past (a scheduled occurrence the clock jumped over), is when it began.
function M.launch(acct, send, who, at)
  send.NumberTargeted, send.NumberExcluded = who.targeted, who.excluded
  local job = jobs.add(acct, {kind = "send", obj = send, delivered = who.targeted - who.bounced,
    who = who, on_complete = "send_tracking"})
  if at and at < acct:now() then
    job.progress = acct:now() - at
    job.last = acct:now()
    jobs.refresh(acct, job)
  end
  return job
end

local function start_send(acct, esd, def, ctx, who, message)
  local sender, err = sender_of(acct, esd, def, ctx)
  if not sender then return err end
  local send = M.new_send(acct, esd, sender, ctx)
  M.launch(acct, send, who)
  return result("OK", message, {Task = task(send.ID, message, {InteractionObjectID = esd.ObjectID})})
end

H.EmailSendDefinition = {
  start = function(acct, obj, def, ctx)
    local who, err = audience.of_definition(acct, obj)
    if not who then return error_result(ERR.not_found, err) end
    return start_send(acct, obj, def, ctx, who, "EmailSendDefinition performed")
  end,
  test = function(acct, obj, def, ctx)
    return start_send(acct, obj, def, ctx, {targeted = 1, excluded = 0, bounced = 0},
      "EmailSendDefinition test performed")
  end,
  -- the people the definition's SendDefinitionList holds, before exclusions
  getmaxcount = function(acct, obj)
    local who, err = audience.of_definition(acct, obj)
    if not who then return error_result(ERR.not_found, err) end
    return result("OK", "Task status message holds the requested value.",
      {Task = task(acct:new_task_id(), tostring(who.members))})
  end,
}

local function send_job(acct, send)
  jobs.tick(acct)
  return jobs.of(acct, send)
end

-- pause and resume: one state change in two directions; a send that is finished, canceled or
-- already in the wanted state is refused (ErrorCode 103)
local function set_paused(paused, verb, message, task_message)
  return function(acct, send)
    local job = send_job(acct, send)
    if not job or (job.paused or false) == paused then
      return error_result(ERR.invalid_state, string.format("Send %s is %s and cannot be %s",
        tostring(send.ID), tostring(send.Status), verb))
    end
    job.paused = paused
    jobs.refresh(acct, job)
    return result("OK", message, {Task = task(send.ID, task_message)})
  end
end

H.Send = {
  pause = set_paused(true, "paused", "Send paused", "Paused"),
  resume = set_paused(false, "resumed", "Send resumed", "Resumed"),
  cancel = function(acct, send)
    local job = send_job(acct, send)
    -- a scheduled Send not due yet (docs: "Cancel a Scheduled Send"): it never goes out, and
    -- neither do the schedule's later occurrences
    local series = not job and acct.series_of and acct.series_of[send]
    if series and send.Status == "Scheduled" then
      send.Status = "Canceled"
      series.canceled = true
      return result("OK", "Send canceled", {Task = task(send.ID, "Canceled")})
    end
    if not job then
      return error_result(ERR.invalid_state, string.format("Send %s is %s and cannot be canceled",
        tostring(send.ID), tostring(send.Status)))
    end
    job.canceled = true
    jobs.refresh(acct, job)
    jobs.tick(acct)
    return result("OK", "Send canceled", {Task = task(send.ID, "Canceled")})
  end,
}

H.DataExtension = {
  cleardata = function(acct, obj)
    local store = acct:row_store(obj.CustomerKey, acct:unit_of(obj))
    local removed = 0
    if store then
      removed = store:count()
      account.clear_rows(store)
    end
    return result("OK", "ClearData performed", {Task = task(acct:new_task_id(),
      string.format("%d rows deleted", removed))})
  end,
}

H.Automation = {
  start = function(acct, obj)
    -- Running (3) for a run on the sandbox clock, then back to what it was (2 Ready, ...), so
    -- a script polling the automation (it has no task to follow) sees the run end
    local before = obj.Status ~= 3 and obj.Status or 2
    obj.Status = 3
    obj.LastRunTime = acct:now_text()
    obj.LastRunInstanceID = account.uuid()
    jobs.add(acct, {kind = "automation", obj = obj, after = before})
    return result("OK", "Performed Activity", {no_task = true})
  end,
}

H.ImportDefinition = {
  start = function(acct, obj)
    local id = acct:new_task_id()
    local rows = obj._rows or 100
    local summary = acct:insert("ImportResultsSummary", {
      ImportDefinitionCustomerKey = obj.CustomerKey, TaskResultID = id,
      StartDate = acct:now_text(), ImportType = obj.UpdateType or "AddAndUpdate",
      ImportStatus = "Queued", TotalRows = rows, NumberSuccessful = 0, NumberDuplicated = 0,
      NumberErrors = 0, NumberRestricted = 0,
      DestinationID = type(obj.DestinationObject) == "table" and obj.DestinationObject.ObjectID or nil,
    }, obj._mid)
    jobs.add(acct, {kind = "import", obj = summary})
    -- an import is also one of the page's start activities: its task shows in
    -- AsyncActivityStatus like theirs, for clients that follow every task the same way
    activity_status(acct, "ImportDefinition", obj, id)
    local message = "ImportDefinition performed AsyncID:" .. id
    return result("OK", message, {Task = task(id, message, {InteractionObjectID = obj.ObjectID})})
  end,
}

local function generic_start(type_name)
  return function(acct, obj)
    local id = acct:new_task_id()
    activity_status(acct, type_name, obj, id)
    local message = ACTIVITY_MESSAGE[type_name] or (type_name .. " performed")
    return result("OK", message, {Task = task(id, message, {InteractionObjectID = obj.ObjectID})})
  end
end

-- ----------------------------------------------------------------------------------------------

local function handler_for(t, action_lower)
  local h = H[t]
  if type(h) == "function" then return h end
  if type(h) == "table" and h[action_lower] then return h[action_lower] end
  if page.completion(t, action_lower) == "activity" then return generic_start(t) end
  return nil
end

local function perform_one(acct, action, def, ctx, options)
  local t = core.typeof(def)
  local entry = t and CAPABLE[t]
  if not entry then
    return error_result(ERR.unsupported_object, string.format(
      "The Perform method is not supported for the %s object%s", tostring(t),
      (t and page.lookup(t)) and " (object types are case-sensitive: check the spelling)" or ""))
  end
  if type(action) ~= "string" or action == "" then
    return error_result(ERR.invalid_action, "Perform needs an Action")
  end
  local lower = action:lower()
  if t == "Send" and (def.ID == nil or def.ID == 0) then
    -- As the service does: without an ID the Action is ignored.
    return result("OK", "No Send ID given: the action was ignored",
      {Task = task(nil, "Ignored")})
  end
  if entry.reserved[lower] then
    return error_result(ERR.reserved_action, string.format(
      "The action '%s' on %s is reserved for future use", entry.reserved[lower], t))
  end
  local spelled = entry.actions[lower]
  if not spelled then
    return error_result(ERR.invalid_action, string.format(
      "'%s' is not a Perform action of %s: use %s", action, t, table.concat(entry.list, ", ")))
  end
  local h = handler_for(t, lower)
  if t == "ContentValidation" then return h(acct, nil, def, ctx, options) end
  local stored, how = find_owned(acct, t, def, ctx)
  if not stored then
    local code = t == "EmailSendDefinition" and ERR.esd_not_found
      or t == "AudienceDefinition" and ERR.audience_not_found or ERR.not_found
    return not_found(t, how, code)
  end
  local r = h(acct, stored, def, ctx, options)
  if r.Object == nil and account.fields_of(t) then
    -- The definition as sent, completed with the stored object's fields: the echo stays a
    -- valid object of its type even when the request named it by key only.
    local full = account.present(t, stored)
    for k, v in next, account.echo(def, t) do rawset(full, k, v) end
    r.Object = full
  end
  return r
end

--- Perform: `body` is the decoded PerformRequestMsg. Returns the PerformResponseMsg table.
function M.perform(acct, body, ctx)
  local results = {}
  local errors = 0
  for i, def in ipairs(body.Definitions or {}) do
    local ok, r = pcall(perform_one, acct, body.Action, def, ctx, body.Options)
    if not ok then
      r = error_result(ERR.invalid_request, "The sandbox could not perform this definition: "
        .. tostring(type(r) == "table" and r.message or r))
    end
    r.OrdinalID = i - 1
    r.Object = r.Object or account.echo(def)
    if r.no_task then r.no_task = nil elseif not r.Task then r.Task = task(nil, r.StatusMessage) end
    if r.StatusCode ~= "OK" then errors = errors + 1 end
    results[i] = r
  end
  local overall = errors == 0 and "OK" or errors == #results and "Error" or "Has Errors"
  if #results == 0 then overall = "Error" end
  return {Results = results, OverallStatus = overall,
    OverallStatusMessage = #results == 0 and "Perform needs at least one Definition" or "",
    RequestID = ctx.request_id}
end

return M
