-- TriggeredSend in the sandbox through the public client: an Active TriggeredSendDefinition
-- sends one email to the request's subscribers; missing, New, Canceled definitions are refused
-- with the service's codes; an Inactive one holds the request until it is Active; excluded
-- subscribers come back in SubscriberFailures as the service answers them.
local mc = require "performlua"
local ch = require "client_helper"

local sb, c

local function sends_total() return #sb:objects("Send") end

local function trigger(key, subscribers)
  local subs = {}
  for i, s in ipairs(subscribers) do subs[i] = mc.Subscriber(s) end
  return c:create(mc.TriggeredSend{TriggeredSendDefinition = mc.TriggeredSendDefinition{CustomerKey = key},
    Subscribers = subs})
end

describe("sandbox TriggeredSend", function()
  ch.each_sandbox({speed = 0.001}, function(box, client) sb, c = box, client end)

  it("an Active definition sends one email to its subscribers; a new address joins All Subscribers", function()
    local before = sends_total()
    local r = trigger("welcome-trigger", {{SubscriberKey = "ada@example.com", EmailAddress = "ada@example.com"},
      {SubscriberKey = "new-person", EmailAddress = "new@example.com"}})
    assert.are.equal("OK", r.OverallStatus)
    assert.are.equal("OK", r.Results[1].StatusCode)
    assert.are.equal(before + 1, sends_total())
    sb:clock_advance(2)
    local sends = c:retrieve("Send", {"ID", "Status", "NumberTargeted", "NumberSent", "FromName", "Subject"},
      mc.SimpleFilterPart{Property = "NumberTargeted", SimpleOperator = "equals", Value = "2"})
    assert.are.equal(1, #sends.Results)
    assert.are.equal("Complete", sends.Results[1].Status)
    assert.are.equal(2, sends.Results[1].NumberSent)
    assert.are.equal("Acme Support", sends.Results[1].FromName)
    -- its tracking names the definition
    local sent = c:retrieve("SentEvent", {"SendID", "SubscriberKey", "TriggeredSendDefinitionObjectID"},
      mc.SimpleFilterPart{Property = "SendID", SimpleOperator = "equals", Value = tostring(sends.Results[1].ID)})
    assert.are.equal(2, #sent.Results)
    local tsd = c:retrieve("TriggeredSendDefinition", {"ObjectID"}, mc.SimpleFilterPart{Property = "CustomerKey",
      SimpleOperator = "equals", Value = "welcome-trigger"}).Results[1]
    assert.are.equal(tsd.ObjectID, sent.Results[1].TriggeredSendDefinitionObjectID)
    local subs = c:retrieve("Subscriber", {"SubscriberKey", "Status"},
      mc.SimpleFilterPart{Property = "SubscriberKey", SimpleOperator = "equals", Value = "new-person"})
    assert.are.equal(1, #subs.Results)
    assert.are.equal("Active", subs.Results[1].Status)
  end)

  it("refuses a missing, New or Canceled definition with the service's codes and sends nothing", function()
    local before = sends_total()
    local r = trigger("no-such-trigger", {{SubscriberKey = "ada@example.com"}})
    assert.are.equal("Error", r.OverallStatus)
    assert.are.equal(18002, r.Results[1].ErrorCode)
    assert.are.equal("Invalid Customer Key", r.Results[1].StatusMessage)
    r = trigger("draft-trigger", {{SubscriberKey = "ada@example.com"}})
    assert.are.equal(18001, r.Results[1].ErrorCode)
    assert.are.equal("The Triggered Send Definition is not completely configured or in a new status",
      r.Results[1].StatusMessage)
    c:update(mc.TriggeredSendDefinition{CustomerKey = "welcome-trigger", TriggeredSendStatus = "Canceled"})
    r = trigger("welcome-trigger", {{SubscriberKey = "ada@example.com"}})
    assert.are.equal(18002, r.Results[1].ErrorCode)
    assert.are.equal("Triggered Send must be in an Active or Inactive status", r.Results[1].StatusMessage)
    assert.are.equal(before, sends_total())
  end)

  it("an Inactive definition holds the request until it is Active", function()
    local before = sends_total()
    local r = trigger("paused-trigger", {{SubscriberKey = "grace@example.com"}})
    assert.are.equal("OK", r.OverallStatus)
    sb:clock_advance(5)
    assert.are.equal(before, sends_total())
    c:update(mc.TriggeredSendDefinition{CustomerKey = "paused-trigger", TriggeredSendStatus = "Active"})
    sb:clock_advance(5)
    assert.are.equal(before + 1, sends_total())
  end)

  it("an unsubscribed subscriber is a SubscriberFailure (180008, ErrorCode 24); the others are sent", function()
    local r = trigger("welcome-trigger", {{SubscriberKey = "alan@example.com"},
      {SubscriberKey = "grace@example.com"}})
    local res = r.Results[1]
    assert.are.equal("Error", res.StatusCode)
    assert.are.equal(180008, res.ErrorCode)
    assert.are.equal("TriggeredSendSubscriberProcessingError", res.StatusMessage)
    assert.are.equal(1, #res.SubscriberFailures)
    assert.are.equal("24", tostring(res.SubscriberFailures[1].ErrorCode))
    assert.are.equal("alan@example.com", res.SubscriberFailures[1].Subscriber.SubscriberKey)
    assert.truthy(res.SubscriberFailures[1].ErrorDescription:find("master unsubscribe list", 1, true))
    sb:clock_advance(2)
    local sends = c:retrieve("Send", {"ID", "NumberTargeted", "NumberExcluded", "Status"},
      mc.SimpleFilterPart{Property = "Subject", SimpleOperator = "equals", Value = "Welcome to Acme"})
    local found
    for _, s in ipairs(sends.Results) do
      if s.NumberExcluded == 1 then found = s end
    end
    assert.truthy(found)
    assert.are.equal(1, found.NumberTargeted)
  end)
end)
