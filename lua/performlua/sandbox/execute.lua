-- performlua.sandbox.execute: the Execute operation, its requests by Name (LogUnsubEvent).
local account_mod = require "performlua.sandbox.account"
local reply = require "performlua.sandbox.reply"

local M = {}

-- Execute requests by Name (soap-api: ExecuteRequest Name + Parameters APIProperty*).
local requests = {
  -- LogUnsubEvent: unsubscribes a subscriber (by SubscriberKey, else EmailAddress) from
  -- the account, or from one list when ListID is given; the event is kept as an UnsubEvent.
  LogUnsubEvent = function(acct, p, ctx)
    local sub
    if p.SubscriberKey and p.SubscriberKey ~= "" then
      sub = acct:find("Subscriber", {SubscriberKey = p.SubscriberKey})
    elseif p.EmailAddress and p.EmailAddress ~= "" then
      for _, o in ipairs(acct:collection("Subscriber").list) do
        if type(o.EmailAddress) == "string" and o.EmailAddress:lower() == p.EmailAddress:lower() then
          sub = o
          break
        end
      end
    else
      return {StatusCode = "Error", ErrorCode = account_mod.ERR.invalid_request,
        StatusMessage = "LogUnsubEvent needs a SubscriberKey or EmailAddress parameter"}
    end
    if not sub then
      return {StatusCode = "Error", ErrorCode = account_mod.ERR.not_found,
        StatusMessage = string.format("No Subscriber with %s '%s' exists",
          p.SubscriberKey and "SubscriberKey" or "EmailAddress", tostring(p.SubscriberKey or p.EmailAddress))}
    end
    if p.ListID and p.ListID ~= "" then
      local changed = false
      for _, l in ipairs(type(sub.Lists) == "table" and sub.Lists or {}) do
        if type(l) == "table" and tostring(l.ID) == tostring(p.ListID) then
          l.Status = "Unsubscribed"
          changed = true
        end
      end
      if not changed then sub.Status = "Unsubscribed" end
    else
      sub.Status = "Unsubscribed"
    end
    sub.UnsubscribedDate = acct:now_text()
    acct:insert("UnsubEvent", {SubscriberKey = sub.SubscriberKey, EventDate = acct:now_text(),
      EventType = "Unsubscribe", SendID = tonumber(p.JobID), BatchID = tonumber(p.BatchID)}, ctx.mid)
    return {StatusCode = "OK", StatusMessage = "Event posted", Results = {}}
  end,
}

function M.execute(sb, body, ctx)
  local results = {}
  for i, r in ipairs(body.Requests or {}) do
    local run = requests[r.Name]
    local res
    if run then
      local params = {}
      for _, p in ipairs(r.Parameters or {}) do
        if type(p) == "table" and p.Name then params[p.Name] = p.Value end
      end
      res = run(sb.acct, params, ctx)
    else
      res = {StatusCode = "Error", ErrorCode = account_mod.ERR.invalid_request,
        StatusMessage = string.format("Unknown Execute request Name '%s': the sandbox "
          .. "knows LogUnsubEvent", tostring(r.Name))}
    end
    res.OrdinalID = i - 1
    results[i] = res
  end
  return "ExecuteResponseMsg", {OverallStatus = #results == 0 and "Error" or reply.overall_of(results),
    RequestID = ctx.request_id, Results = results}
end

return M
