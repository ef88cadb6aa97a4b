-- performlua.sandbox.triggered: Create of a TriggeredSend (docs: "Send a Triggered Email";
-- error codes 18000-18999 and the recorded TriggeredSendCreateResult in
-- tests/fixtures/real/create_triggeredsend.xml).
--
--   * The TriggeredSendDefinition is named by ObjectID or CustomerKey (CustomerKey alone as the
--     docs' samples do) in the token's business unit. Not named: 18002 "The Triggered Send
--     Object must contain the Triggered Send ID or the Customer Key"; not found: 18002
--     "Invalid Customer Key"; TriggeredSendStatus New: 18001; Canceled, Deleted or Moved:
--     18002 "Triggered Send must be in an Active or Inactive status".
--   * Active: one Send of the definition's Email to the request's Subscribers starts at once.
--     Inactive (paused): the request is accepted and held; its Send starts when the
--     definition becomes Active (docs: 18002 accepts Active or Inactive).
--   * Each Subscriber is named by SubscriberKey (else EmailAddress). One unknown to All
--     Subscribers is added (Active), as AutoAddSubscribers does by default; an Unsubscribed or
--     Held one is not sent to and is listed in SubscriberFailures (ErrorCode 24, as the
--     recorded answer shows), the result then Error 180008
--     "TriggeredSendSubscriberProcessingError"; the others are still sent. Bounced: sent, not
--     delivered.
local core = require "performlua.core"

local M = {}

local ERR_KEY, ERR_NEW, ERR_SUBSCRIBERS = 18002, 18001, 180008

local function refuse(message, code)
  return setmetatable({StatusCode = "Error", StatusMessage = message, ErrorCode = code},
    core.object_metatable("TriggeredSendCreateResult"))
end

local function list_of(v)
  if type(v) ~= "table" then return {} end
  if #v == 0 and next(v) ~= nil then return {v} end
  return v
end

-- Starts the Send of a triggered request: who as audience.of_definition answers it
local function start(acct, tsd, who, ctx)
  local actions = require "performlua.sandbox.actions"
  local sender = actions.sender_of(acct, tsd, {}, ctx)
    or {FromName = tsd.FromName, FromAddress = tsd.FromAddress}
  local send = actions.new_send(acct, tsd, sender, ctx)
  send.EmailSendDefinition = nil
  send._triggered = tsd.CustomerKey
  send._tsd_object_id = tsd.ObjectID
  actions.launch(acct, send, who)
  return send
end

-- Held requests of Inactive definitions start once their definition is Active (checked on
-- every tick of the account).
local function release_held(acct)
  local waiting = {}
  for _, h in ipairs(acct.held_triggered or {}) do
    if h.tsd.TriggeredSendStatus == "Active" then start(acct, h.tsd, h.who, h.ctx)
    else waiting[#waiting + 1] = h end
  end
  acct.held_triggered = waiting
end
M.release_held = release_held

--- Create of one TriggeredSend. Returns the TriggeredSendCreateResult.
function M.create(acct, obj, ctx)
  local audience = require "performlua.sandbox.audience"
  local ref = rawget(obj, "TriggeredSendDefinition")
  if type(ref) ~= "table" or ((ref.ObjectID == nil or ref.ObjectID == "")
      and (ref.CustomerKey == nil or ref.CustomerKey == "") and ref.ID == nil) then
    return refuse("The Triggered Send Object must contain the Triggered Send ID or the Customer Key",
      ERR_KEY)
  end
  local tsd = acct:find("TriggeredSendDefinition", ref, ctx.mid or acct.mid)
  if tsd and not acct:owned(tsd, {mids = {[ctx.mid or acct.mid] = true}}) then tsd = nil end
  if not tsd then return refuse("Invalid Customer Key", ERR_KEY) end
  local status = tsd.TriggeredSendStatus or "New"
  if status == "New" then
    return refuse("The Triggered Send Definition is not completely configured or in a new status",
      ERR_NEW)
  end
  if status ~= "Active" and status ~= "Inactive" then
    return refuse("Triggered Send must be in an Active or Inactive status", ERR_KEY)
  end
  local subscribers = list_of(rawget(obj, "Subscribers"))
  if #subscribers == 0 then
    return refuse("A TriggeredSend needs at least one Subscriber (SubscriberKey or EmailAddress)",
      ERR_SUBSCRIBERS)
  end
  local who = {recipients = {}, bounced_keys = {}, targeted = 0, bounced = 0, excluded = 0,
    members = 0}
  local failures = {}
  for i, s in ipairs(subscribers) do
    local key = type(s) == "table" and (s.SubscriberKey or s.EmailAddress) or nil
    if key == nil or key == "" then
      failures[#failures + 1] = {Subscriber = setmetatable({}, core.object_metatable("Subscriber")),
        ErrorCode = "6", ErrorDescription = "The Subscriber has no SubscriberKey or EmailAddress",
        Ordinal = i - 1}
    else
      local sub = acct:find_subscriber(key)
      if not sub then
        sub = acct:insert("Subscriber", {SubscriberKey = key, EmailAddress = s.EmailAddress or key,
          Status = "Active"}, ctx.mid)
      end
      who.members = who.members + 1
      if audience.EXCLUDED_STATUS[sub.Status] then
        who.excluded = who.excluded + 1
        failures[#failures + 1] = {Subscriber = setmetatable({SubscriberKey = sub.SubscriberKey,
          EmailAddress = sub.EmailAddress}, core.object_metatable("Subscriber")), ErrorCode = "24",
          ErrorDescription = string.format("Subscriber is %s. Email Address: %s",
            sub.Status == "Unsubscribed" and "on the master unsubscribe list"
              or ("in the status " .. tostring(sub.Status)), tostring(sub.EmailAddress)),
          Ordinal = i - 1}
      else
        who.targeted = who.targeted + 1
        who.recipients[#who.recipients + 1] = sub.SubscriberKey
        if sub.Status == "Bounced" then
          who.bounced = who.bounced + 1
          who.bounced_keys[sub.SubscriberKey] = true
        end
      end
    end
  end
  if who.targeted > 0 then
    if status == "Active" then start(acct, tsd, who, ctx)
    else
      acct.held_triggered = acct.held_triggered or {}
      acct.held_triggered[#acct.held_triggered + 1] = {tsd = tsd, who = who, ctx = ctx}
    end
  end
  local r
  if #failures > 0 then
    r = refuse("TriggeredSendSubscriberProcessingError", ERR_SUBSCRIBERS)
    r.SubscriberFailures = failures
  else
    r = setmetatable({StatusCode = "OK", StatusMessage = "Created TriggeredSend"},
      core.object_metatable("TriggeredSendCreateResult"))
  end
  r.NewID = 0
  return r
end

return M
