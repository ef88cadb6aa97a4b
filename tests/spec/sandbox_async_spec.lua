-- Asynchronous requests in the sandbox through the public client: the ConversationID is kept,
-- and the queued work's outcome is retrievable as ResultMessage (with ResultDetailXML, where the
-- Send ID of a queued start is) and ResultItem, by RequestID or ConversationID.
local mc = require "performlua"
local ch = require "client_helper"

local sb, c

local function by(property, value)
  return mc.SimpleFilterPart{Property = property, SimpleOperator = "equals", Value = value}
end

describe("sandbox asynchronous requests (client)", function()
  ch.each_sandbox({speed = 0.001}, function(box, client) sb, c = box, client end)

  it("a queued Perform start keeps its ConversationID; its ResultMessage holds the Send ID", function()
    local ack = c:perform("start", mc.EmailSendDefinition{CustomerKey = "welcome-series-send"},
      {RequestType = "Asynchronous", ConversationID = "conv-start-1", SequenceCode = 1,
        CallsInConversation = 1})
    assert.are.equal("Queued", ack.Results[1].StatusMessage)
    assert.are.equal("conv-start-1", ack.Results[1].ConversationID)
    local rid = ack.RequestID
    assert.are.equal(0, #c:retrieve("ResultMessage", {"RequestID"}, by("RequestID", rid)).Results)
    assert.are.equal(0, sb:stats().sends_started)
    sb:clock_advance(0.5)
    local msgs = c:retrieve("ResultMessage", {"RequestID", "ConversationID", "OverallStatusCode",
      "StatusCode", "RequestType", "ResultType", "ResultDetailXML", "SequenceCode",
      "CallsInConversation"}, by("ConversationID", "conv-start-1"))
    assert.are.equal(1, #msgs.Results)
    local m = msgs.Results[1]
    assert.are.equal(rid, m.RequestID)
    assert.are.equal("OK", m.OverallStatusCode)
    assert.are.equal("Asynchronous", m.RequestType)
    assert.are.equal("Perform", m.ResultType)
    assert.are.equal(1, m.SequenceCode)
    assert.are.equal(1, m.CallsInConversation)
    -- the answer the start would have had: its Task.ID is the Send's ID
    local send_id = m.ResultDetailXML:match("<Task>.-<ID>(%d+)</ID>")
    assert.truthy(send_id, m.ResultDetailXML)
    local sends = c:retrieve("Send", {"ID", "Status", "NumberTargeted"}, by("ID", send_id))
    assert.are.equal(1, #sends.Results)
    assert.are.equal(36, sends.Results[1].NumberTargeted)
    local items = c:retrieve("ResultItem", {"RequestID", "ConversationID", "StatusCode",
      "StatusMessage", "OrdinalID", "RequestObjectType"}, by("ConversationID", "conv-start-1"))
    assert.are.equal(1, #items.Results)
    assert.are.equal(rid, items.Results[1].RequestID)
    assert.are.equal("EmailSendDefinition", items.Results[1].RequestObjectType)
    assert.are.equal("EmailSendDefinition performed", items.Results[1].StatusMessage)
  end)

  it("a queued Create's items and message carry each object's outcome under the conversation", function()
    local ack = c:create({mc.List{CustomerKey = "async-list", ListName = "Async"},
      mc.Subscriber{SubscriberKey = "ada@example.com", EmailAddress = "ada@example.com"}},
      {RequestType = "Asynchronous", ConversationID = "conv-create-1"})
    assert.are.equal("conv-create-1", ack.Results[2].ConversationID)
    sb:clock_advance(0.5)
    local items = c:retrieve("ResultItem", {"RequestID", "StatusCode", "ErrorCode", "OrdinalID",
      "RequestObjectType"}, by("RequestID", ack.RequestID))
    assert.are.equal(2, #items.Results)
    table.sort(items.Results, function(a, b) return a.OrdinalID < b.OrdinalID end)
    assert.are.equal("OK", items.Results[1].StatusCode)
    assert.are.equal("List", items.Results[1].RequestObjectType)
    assert.are.equal("Error", items.Results[2].StatusCode)
    assert.are.equal(12014, items.Results[2].ErrorCode)
    local m = c:retrieve("ResultMessage", {"OverallStatusCode", "ConversationID", "ResultDetailXML"},
      by("RequestID", ack.RequestID)).Results[1]
    assert.are.equal("Has Errors", m.OverallStatusCode)
    assert.are.equal("conv-create-1", m.ConversationID)
    assert.truthy(m.ResultDetailXML:find("<NewID>%d+</NewID>"))
    -- another conversation's results are not mixed in
    assert.are.equal(0, #c:retrieve("ResultItem", {"RequestID"}, by("ConversationID", "other")).Results)
  end)
end)
