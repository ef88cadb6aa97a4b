-- performlua.sandbox.tracking: the tracking events a completed send leaves (WSDL: TrackingEvent
-- and its SentEvent, OpenEvent, ClickEvent, BounceEvent, UnsubEvent), so reporting scripts can
-- be rehearsed. runtime/sandbox/README.md states the shares and the assumptions.
--
-- Every recipient (a person the send targeted) gets a SentEvent. Bounced subscribers get a
-- BounceEvent (hard bounce) and nothing else: the Send's NumberDelivered already leaves them
-- out. Of the others, deterministic shares chosen by a hash of the SubscriberKey (the same
-- person behaves the same way in every run) open, click and unsubscribe:
--   OpenEvent   30% of the delivered
--   ClickEvent  a third of those who opened (~10%)
--   UnsubEvent  2 in 100 of those who opened (~0.6%); the subscriber becomes Unsubscribed in
--               All Subscribers (added so when only a data extension row named them)
local clock = require "performlua.sandbox.clock"

local M = {}

M.OPEN_PERCENT = 30      -- of the delivered
M.CLICK_PERCENT = 33     -- of the openers
M.UNSUB_PERCENT = 2      -- of the openers
M.MAX_RECIPIENTS = 100000 -- a send's events are kept for its first this many recipients

--- FNV-1a (32 bits) of a string: the sandbox's deterministic choice of who does what.
function M.hash(s)
  local h = 2166136261
  for i = 1, #s do
    h = h ~ s:byte(i)
    h = (h * 16777619) & 0xffffffff
  end
  return h
end

--- What a recipient does: {open=, click=, unsub=} (booleans) from its SubscriberKey.
function M.behaviour(key)
  local h = M.hash(tostring(key))
  local open = h % 100 < M.OPEN_PERCENT
  return {open = open, click = open and (h // 100) % 100 < M.CLICK_PERCENT,
    unsub = open and (h // 10000) % 100 < M.UNSUB_PERCENT, offset = 60 + (h >> 16) % 3000}
end

--- Stores the events of `send` (a Send just completed at clock time `at`) for `who`'s
--- recipients (audience.of_definition). `triggered` is the TriggeredSendDefinition's ObjectID.
function M.record(acct, send, who, at, triggered)
  local recipients = type(who) == "table" and who.recipients
  if type(recipients) ~= "table" then return end
  local bounced = who.bounced_keys or {}
  local mid = rawget(send, "_mid")
  local id = math.tointeger(tonumber(send.ID))
  local function event(type_name, key, when, event_type, extra)
    local e = extra or {}
    e.SendID, e.SubscriberKey, e.EventDate, e.EventType = id, key, clock.format(when), event_type
    e.TriggeredSendDefinitionObjectID = triggered
    return acct:insert(type_name, e, mid)
  end
  for i, key in ipairs(recipients) do
    if i > M.MAX_RECIPIENTS then break end
    event("SentEvent", key, at, "Sent")
    if bounced[key] then
      event("BounceEvent", key, at + 1, "HardBounce", {SMTPCode = "550",
        BounceCategory = "Hard bounce", BounceType = "immediate",
        SMTPReason = "550 5.1.1 The email account that you tried to reach does not exist"})
    else
      local b = M.behaviour(key)
      if b.open then
        local opened = at + b.offset
        event("OpenEvent", key, opened, "Open")
        if b.click then
          event("ClickEvent", key, opened + 30, "Click", {URLID = 1,
            URL = "https://www.acme.example/spring", URLIDLong = 1})
        end
        if b.unsub then
          event("UnsubEvent", key, opened + 90, "Unsubscribe", {IsMasterUnsubscribed = true})
          local sub = acct:find_subscriber(key)
          if not sub then
            sub = acct:insert("Subscriber", {SubscriberKey = key,
              EmailAddress = tostring(key):find("@", 1, true) and key or nil}, mid)
          end
          sub.Status = "Unsubscribed"
          sub.UnsubscribedDate = clock.format(opened + 90)
        end
      end
    end
  end
end

return M
