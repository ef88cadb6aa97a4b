-- Tracking events in the sandbox through the public client: every recipient of a send gets a
-- SentEvent; bounced subscribers a BounceEvent; deterministic shares (by a hash of the
-- SubscriberKey) open, click and unsubscribe; the events are retrieved by SendID and EventDate
-- as the service returns them, and an unsubscribe leaves the subscriber Unsubscribed.
local mc = require "performlua"
local tracking = require "performlua.sandbox.tracking"
local ch = require "client_helper"

local sb, c

local function by_send(id)
  return mc.SimpleFilterPart{Property = "SendID", SimpleOperator = "equals", Value = tostring(id)}
end

local function events(type_name, filter)
  local out = {}
  for _, e in ipairs(c:retrieve_all(type_name, {"SendID", "SubscriberKey", "EventDate", "EventType"},
      filter)) do
    out[#out + 1] = e
  end
  return out
end

local function keys(list)
  local out = {}
  for _, e in ipairs(list) do out[#out + 1] = e.SubscriberKey end
  table.sort(out)
  return out
end

local function send_to_list(key, list_id)
  c:create(mc.EmailSendDefinition{CustomerKey = key, Name = key, Email = mc.Email{ID = 8802},
    SenderProfile = mc.SenderProfile{CustomerKey = "support-team"},
    SendDefinitionList = {mc.SendDefinitionList{SendDefinitionListType = "SourceList",
      List = mc.List{ID = list_id}}}}):check()
  return c:perform("start", mc.EmailSendDefinition{CustomerKey = key})
end

describe("sandbox tracking events", function()
  ch.each_sandbox({speed = 0.001}, function(box, client) sb, c = box, client end)

  it("a completed send leaves a SentEvent per recipient and a BounceEvent per bounced one", function()
    -- Newsletter (List 101): ada, grace active, alan unsubscribed (excluded), edsger bounced
    local started = send_to_list("newsletter-send", 101)
    local id = started.Results[1].Task.ID
    assert.are.equal(0, #events("SentEvent", by_send(id))) -- nothing before it completes
    sb:clock_advance(2)
    local send = c:retrieve("Send", {"ID", "Status", "NumberTargeted", "NumberDelivered"},
      mc.SimpleFilterPart{Property = "ID", SimpleOperator = "equals", Value = id}).Results[1]
    assert.are.equal("Complete", send.Status)
    local sent = events("SentEvent", by_send(id))
    assert.are.equal(send.NumberTargeted, #sent)
    assert.are.same({"ada@example.com", "edsger@example.com", "grace@example.com"}, keys(sent))
    for _, e in ipairs(sent) do
      assert.are.equal(tonumber(id), e.SendID)
      assert.are.equal("Sent", e.EventType)
    end
    local bounces = c:retrieve("BounceEvent", {"SubscriberKey", "EventType", "SMTPCode", "BounceCategory"},
      by_send(id)).Results
    assert.are.equal(1, #bounces)
    assert.are.equal("edsger@example.com", bounces[1].SubscriberKey)
    assert.are.equal("HardBounce", bounces[1].EventType)
    assert.are.equal(send.NumberTargeted - #bounces, send.NumberDelivered)
    -- opens and clicks are the shares tracking.behaviour picks, never for a bounced person
    local want_opens, want_clicks = {}, {}
    for _, k in ipairs{"ada@example.com", "grace@example.com"} do
      local b = tracking.behaviour(k)
      if b.open then want_opens[#want_opens + 1] = k end
      if b.click then want_clicks[#want_clicks + 1] = k end
    end
    assert.are.same(want_opens, keys(events("OpenEvent", by_send(id))))
    assert.are.same(want_clicks, keys(events("ClickEvent", by_send(id))))
  end)

  it("shares of a 1,250-person send open, click and unsubscribe, deterministically; EventDate filters them", function()
    local started = c:perform("start", mc.EmailSendDefinition{CustomerKey = "spring-sale-send"})
    local id = started.Results[1].Task.ID
    local before = sb:now()
    sb:clock_advance(2)
    local sent = events("SentEvent", by_send(id))
    assert.are.equal(1250, #sent)
    local opens, clicks, unsubs = 0, 0, {}
    for _, e in ipairs(sent) do
      local b = tracking.behaviour(e.SubscriberKey)
      if b.open then opens = opens + 1 end
      if b.click then clicks = clicks + 1 end
      if b.unsub then unsubs[#unsubs + 1] = e.SubscriberKey end
    end
    table.sort(unsubs)
    -- about 30 % open, a third of them click, 2 % of them unsubscribe
    assert.is_true(opens > 250 and opens < 500, tostring(opens))
    assert.is_true(clicks > 60 and clicks < 200, tostring(clicks))
    assert.is_true(#unsubs > 0)
    assert.are.equal(opens, #events("OpenEvent", by_send(id)))
    assert.are.equal(clicks, #events("ClickEvent", by_send(id)))
    assert.are.same(unsubs, keys(events("UnsubEvent", by_send(id))))
    -- each unsubscribed person is Unsubscribed in All Subscribers now
    local subs = c:retrieve("Subscriber", {"SubscriberKey", "Status"},
      mc.SimpleFilterPart{Property = "SubscriberKey", SimpleOperator = "equals", Value = unsubs[1]}).Results
    assert.are.equal(1, #subs)
    assert.are.equal("Unsubscribed", subs[1].Status)
    -- EventDate: opens come after the send, within the hour
    local iso = function(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t)) end
    local later = events("OpenEvent", mc.ComplexFilterPart{LeftOperand = by_send(id), LogicalOperator = "AND",
      RightOperand = mc.SimpleFilterPart{Property = "EventDate", SimpleOperator = "greaterThan",
        DateValue = {iso(before + 3700)}}})
    assert.are.equal(0, #later)
    local all = events("OpenEvent", mc.ComplexFilterPart{LeftOperand = by_send(id), LogicalOperator = "AND",
      RightOperand = mc.SimpleFilterPart{Property = "EventDate", SimpleOperator = "greaterThan",
        DateValue = {iso(before - 1)}}})
    assert.are.equal(opens, #all)
    -- the next send of the definition leaves the unsubscribed out
    local again = c:perform("start", mc.EmailSendDefinition{CustomerKey = "spring-sale-send"})
    local second = c:retrieve("Send", {"ID", "NumberTargeted"}, mc.SimpleFilterPart{Property = "ID",
      SimpleOperator = "equals", Value = again.Results[1].Task.ID}).Results[1]
    assert.are.equal(1250 - #unsubs, second.NumberTargeted)
  end)

  it("a canceled send leaves no events", function()
    local started = send_to_list("newsletter-cancel", 101)
    local id = started.Results[1].Task.ID
    c:perform("cancel", mc.Send{ID = tonumber(id)})
    sb:clock_advance(5)
    assert.are.equal(0, #events("SentEvent", by_send(id)))
  end)
end)
