-- The sandbox's account model through the public client: subscribers are unique by
-- SubscriberKey, Configure does what its Action says, and the audience-to-send model (lists,
-- sendable data extensions, audiences, send definitions and the sends they make).
local mc = require "performlua"
local auth = require "performlua.auth"
local sandbox = require "performlua.sandbox"
local ch = require "client_helper"

local sb, c

local function count_of(type_name, field, value)
  local n = 0
  for _, o in ipairs(sb:objects(type_name)) do
    if o[field] == value then n = n + 1 end
  end
  return n
end

describe("sandbox subscribers and Configure", function()
  before_each(function()
    auth._reset()
    sb = sandbox.start{port = 0}
    c = ch.connect(sb)
  end)
  after_each(function() if sb then sb:stop() end end)

  it("refuses a second Subscriber with a stored SubscriberKey, as the service does", function()
    local r = c:create({mc.Subscriber{SubscriberKey = "ada@example.com", EmailAddress = "ada@example.com"},
      mc.Subscriber{SubscriberKey = "new-1", EmailAddress = "one@example.com"},
      mc.Subscriber{SubscriberKey = "new-1", EmailAddress = "two@example.com"}})
    assert.are.equal("Has Errors", r.OverallStatus)
    assert.are.equal("Error", r.Results[1].StatusCode)
    assert.are.equal(12014, r.Results[1].ErrorCode)
    assert.are.equal("The subscriber is already on the list", r.Results[1].StatusMessage)
    assert.are.equal("OK", r.Results[2].StatusCode)
    assert.are.equal("Error", r.Results[3].StatusCode)
    assert.are.equal(12014, r.Results[3].ErrorCode)
    assert.are.equal(1, count_of("Subscriber", "SubscriberKey", "ada@example.com"))
    assert.are.equal(1, count_of("Subscriber", "SubscriberKey", "new-1"))
    -- without a SubscriberKey the EmailAddress is the key
    r = c:create(mc.Subscriber{EmailAddress = "grace@example.com"})
    assert.are.equal(12014, r.Results[1].ErrorCode)
    r = c:create(mc.Subscriber{EmailAddress = "keyless@example.com"})
    assert.are.equal("OK", r.OverallStatus)
    assert.are.equal(1, count_of("Subscriber", "SubscriberKey", "keyless@example.com"))
  end)

  it("Configure creates, updates or deletes as its Action says", function()
    local r = c:configure("create", mc.List{ListName = "Configured", CustomerKey = "cfg-list",
      Type = "Private"})
    assert.are.equal("OK", r.OverallStatus)
    assert.are.equal(1, count_of("List", "CustomerKey", "cfg-list"))
    -- create of a stored key is refused, not turned into an update
    r = c:configure("create", mc.List{ListName = "Again", CustomerKey = "cfg-list"})
    assert.are.equal("Error", r.Results[1].StatusCode)
    r = c:configure("update", mc.List{CustomerKey = "cfg-list", Description = "Changed"})
    assert.are.equal("OK", r.OverallStatus)
    for _, l in ipairs(sb:objects("List")) do
      if l.CustomerKey == "cfg-list" then
        assert.are.equal("Changed", l.Description)
        assert.are.equal("Configured", l.ListName)
      end
    end
    -- update of a missing object is refused, not turned into a create
    r = c:configure("update", mc.List{CustomerKey = "no-such-list", Description = "x"})
    assert.are.equal("Error", r.Results[1].StatusCode)
    assert.are.equal(0, count_of("List", "CustomerKey", "no-such-list"))
    r = c:configure("delete", mc.List{CustomerKey = "cfg-list"})
    assert.are.equal("OK", r.OverallStatus)
    assert.are.equal(0, count_of("List", "CustomerKey", "cfg-list"))
    -- delete of a List that does not exist creates nothing (it once created one)
    r = c:configure("delete", mc.List{CustomerKey = "never-there"})
    assert.are.equal("Error", r.Results[1].StatusCode)
    assert.are.equal(0, count_of("List", "CustomerKey", "never-there"))
  end)

  it("Configure refuses an Action it does not know, changing nothing", function()
    local before = #sb:objects("List")
    local r = c:configure("frobnicate", mc.List{ListName = "Nope", CustomerKey = "nope"})
    assert.are.equal("Error", r.OverallStatus)
    assert.are.equal(101, r.Results[1].ErrorCode)
    assert.are.equal("The Configure action 'frobnicate' is not supported: use create, update or "
      .. "delete", r.Results[1].StatusMessage)
    assert.are.equal(before, #sb:objects("List"))
  end)
end)
