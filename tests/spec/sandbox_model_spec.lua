-- The sandbox's account model through the public client: subscribers are unique by
-- SubscriberKey, Configure does what its Action says, and the audience-to-send model (lists,
-- sendable data extensions, audiences, send definitions and the sends they make).
local mc = require "performlua"
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
  ch.each_sandbox(nil, function(box, client) sb, c = box, client end)

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
    -- and an upsert by EmailAddress alone finds that subscriber instead of making another
    r = c:update(mc.Subscriber{EmailAddress = "keyless@example.com", Status = "Held"},
      {SaveOptions = {{PropertyName = "*", SaveAction = "UpdateAdd"}}})
    assert.are.equal("OK", r.OverallStatus)
    assert.are.equal(1, count_of("Subscriber", "SubscriberKey", "keyless@example.com"))
    for _, o in ipairs(sb:objects("Subscriber")) do
      if o.SubscriberKey == "keyless@example.com" then assert.are.equal("Held", o.Status) end
    end
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

describe("sandbox audiences and the sends they reach", function()
  ch.each_sandbox({speed = 100}, function(box, client) sb, c = box, client end)

  local function task_value(r)
    assert.are.equal("OK", r.OverallStatus, r.Results[1].StatusMessage)
    return tonumber(r.Results[1].Task.StatusMessage)
  end

  local function count(key, action)
    return task_value(c:perform(action or "count", mc.AudienceDefinition{CustomerKey = key}))
  end

  local function max_count(key)
    return task_value(c:perform("GetMaxCount", mc.EmailSendDefinition{CustomerKey = key}))
  end

  local function object_id(de_key)
    local r = c:retrieve("DataExtension", {"ObjectID"}, {Property = "CustomerKey", SimpleOperator = "equals", Value = de_key})
    assert.are.equal(1, #r.Results)
    return r.Results[1].ObjectID
  end

  -- a send definition whose audience is `lists` (SendDefinitionList entries); starts it, waits
  local function send_to(key, lists)
    local r = c:create(mc.EmailSendDefinition{CustomerKey = key, Name = key,
      Email = mc.Email{ID = 8802}, SenderProfile = mc.SenderProfile{CustomerKey = "support-team"},
      SendDefinitionList = lists})
    assert.are.equal("OK", r.OverallStatus, r.Results[1].StatusMessage)
    local max = max_count(key)
    local started = c:perform("start", mc.EmailSendDefinition{CustomerKey = key})
    assert.are.equal("OK", started.OverallStatus, started.Results[1].StatusMessage)
    return c:wait(started), max
  end

  it("counts the people an audience's filter keeps in its source, as the data is now", function()
    assert.are.equal(2480, count("spring-prospects"))
    assert.are.equal(2611, count("spring-prospects", "totalcount"))
    assert.are.equal(36, count("loyalty-members-audience"))
    c:create(mc.DataExtensionObject{CustomerKey = "Web_Visitors", Properties = {
      {Name = "SubscriberKey", Value = "visitor-new"}, {Name = "EmailAddress", Value = "n@example.com"},
      {Name = "BrowsedSpring", Value = "true"}}}):check()
    assert.are.equal(2481, count("spring-prospects"))
    assert.are.equal(2612, count("spring-prospects", "totalcount"))
  end)

  it("clone copies the audience under a new key and refuses a Name already taken (409007)", function()
    local r = c:perform("clone", mc.AudienceDefinition{CustomerKey = "spring-prospects", Name = "Copy 1"})
    assert.are.equal("OK", r.OverallStatus)
    local copy = r.Results[1].Object
    assert.are_not.equal("spring-prospects", copy.CustomerKey)
    assert.are.equal(2480, count(copy.CustomerKey))
    r = c:perform("clone", mc.AudienceDefinition{CustomerKey = "spring-prospects", Name = "Copy 1"})
    assert.are.equal("Error", r.OverallStatus)
    assert.are.equal(409007, r.Results[1].ErrorCode)
    assert.are.equal("An AudienceDefinition already exists for this Name: 'Copy 1'",
      r.Results[1].StatusMessage)
    r = c:perform("clone", mc.AudienceDefinition{CustomerKey = "spring-prospects", Name = "Spring prospects"})
    assert.are.equal(409007, r.Results[1].ErrorCode)
  end)

  it("build publishes the audience's people into the data extension with its key", function()
    local copy = c:perform("clone", mc.AudienceDefinition{CustomerKey = "spring-prospects",
      Name = "Built copy"}).Results[1].Object
    assert.is_nil(sb:rows(copy.CustomerKey)) -- nothing published before a build
    local built = c:perform("build", mc.AudienceDefinition{CustomerKey = copy.CustomerKey})
    assert.are.equal("OK", built.OverallStatus)
    local status = c:wait(built)
    assert.are.equal("Complete", status.Status)
    local rows = sb:rows(copy.CustomerKey)
    assert.are.equal(2480, #rows)
    for _, row in ipairs(rows) do assert.is_true(row.BrowsedSpring) end -- a Boolean column
    local de = c:retrieve("DataExtension", {"Name", "IsSendable"},
      {Property = "CustomerKey", SimpleOperator = "equals",
        Value = copy.CustomerKey}).Results[1]
    assert.are.equal("Built copy", de.Name)
    assert.is_true(de.IsSendable)
  end)

  it("a send definition pointed at a 36-row data extension targets those 36", function()
    local send, max = send_to("loyalty-send", {mc.SendDefinitionList{SendDefinitionListType = "SourceList",
      DataSourceTypeID = "CustomObject", CustomObjectID = object_id("Loyalty_Members")}})
    assert.are.equal(36, max)
    assert.are.equal("Complete", send.Status)
    assert.are.equal(36, send.NumberTargeted)
    assert.are.equal(0, send.NumberExcluded)
    assert.are.equal(36, send.NumberSent)
    assert.are.equal(36, send.NumberDelivered)
  end)

  it("leaves out unsubscribed and held people, and delivers nothing to bounced ones", function()
    c:create({mc.Subscriber{SubscriberKey = "loyal-0001", EmailAddress = "member1@example.com",
      Status = "Unsubscribed"}, mc.Subscriber{SubscriberKey = "loyal-0002",
      EmailAddress = "member2@example.com", Status = "Held"}, mc.Subscriber{SubscriberKey = "loyal-0003",
      EmailAddress = "member3@example.com", Status = "Bounced"}}):check()
    local send, max = send_to("loyalty-send-2", {mc.SendDefinitionList{
      DataSourceTypeID = "CustomObject", CustomObjectID = "Loyalty_Members"}})
    assert.are.equal(36, max) -- GetMaxCount: the people of the list, before exclusions
    assert.are.equal(34, send.NumberTargeted)
    assert.are.equal(2, send.NumberExcluded)
    assert.are.equal(34, send.NumberSent)
    assert.are.equal(33, send.NumberDelivered)
  end)

  it("filters a data extension with the SendDefinitionList's FilterDefinition", function()
    local send, max = send_to("gold-send", {mc.SendDefinitionList{DataSourceTypeID = "CustomObject",
      CustomObjectID = object_id("Loyalty_Members"), FilterDefinition = mc.FilterDefinition{
        DataFilter = mc.SimpleFilterPart{Property = "Tier", SimpleOperator = "equals",
          Value = {"Gold"}}}}})
    assert.are.equal(9, max)
    assert.are.equal(9, send.NumberTargeted)
  end)

  it("sends to a List's members and applies an exclusion list", function()
    -- List 101: ada, grace, alan (Unsubscribed), edsger (Bounced)
    local send, max = send_to("newsletter-send", {mc.SendDefinitionList{List = mc.List{ID = 101}}})
    assert.are.equal(4, max)
    assert.are.equal(3, send.NumberTargeted)
    assert.are.equal(1, send.NumberExcluded)
    assert.are.equal(2, send.NumberDelivered)
    -- List 102: ada, and barbara who unsubscribed from that list only; minus list 101 (ada)
    send, max = send_to("spring-list-send", {mc.SendDefinitionList{List = mc.List{ID = 102}},
      mc.SendDefinitionList{List = mc.List{ID = 101}, SendDefinitionListType = "ExclusionList"}})
    assert.are.equal(2, max)
    assert.are.equal(0, send.NumberTargeted)
    assert.are.equal(2, send.NumberExcluded)
  end)

  it("refuses to start or count a send whose list does not exist", function()
    c:create(mc.EmailSendDefinition{CustomerKey = "broken-send", Name = "Broken",
      SendDefinitionList = {mc.SendDefinitionList{CustomObjectID = "No_Such_DE"}}}):check()
    local before = #sb:objects("Send")
    for _, action in ipairs{"start", "GetMaxCount"} do
      local r = c:perform(action, mc.EmailSendDefinition{CustomerKey = "broken-send"})
      assert.are.equal("Error", r.OverallStatus)
      assert.are.equal(107, r.Results[1].ErrorCode)
      assert.are.equal("The SendDefinitionList names the data extension 'No_Such_DE' "
        .. "(CustomObjectID), which does not exist", r.Results[1].StatusMessage)
    end
    assert.are.equal(before, #sb:objects("Send"))
  end)
end)
