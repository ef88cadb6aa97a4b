-- Data extension rows in the sandbox through the public client: rows are named by their primary
-- key (a duplicate key is refused, Update and Delete find the row by key), and the SaveOptions
-- of Create and Update decide what happens to a row that exists or does not (upsert).
local mc = require "performlua"
local ch = require "client_helper"

local sb, c

local function row(key, fields)
  local props = {}
  for _, k in ipairs{"SubscriberKey", "EmailAddress", "FirstName", "Tier", "Points"} do
    if fields[k] ~= nil then props[#props + 1] = {Name = k, Value = fields[k]} end
  end
  return mc.DataExtensionObject{CustomerKey = key, Properties = props}
end

local function member(key, first, tier)
  return row("Loyalty_Members", {SubscriberKey = key, EmailAddress = key .. "@example.com",
    FirstName = first, Tier = tier})
end

-- The stored rows by SubscriberKey.
local function stored()
  local by_key, n = {}, 0
  for _, r in ipairs(sb:rows("Loyalty_Members")) do
    by_key[r.SubscriberKey] = r
    n = n + 1
  end
  return by_key, n
end

describe("sandbox data extension rows by primary key", function()
  ch.each_sandbox(nil, function(box, client) sb, c = box, client end)

  it("refuses a second row with the same primary key, in the same call or a later one", function()
    local r = c:create({member("new-1", "Ada"), member("new-2", "Grace"), member("new-1", "Alan")})
    assert.are.equal("Has Errors", r.OverallStatus)
    assert.are.equal("OK", r.Results[1].StatusCode)
    assert.are.equal("OK", r.Results[2].StatusCode)
    assert.are.equal("Error", r.Results[3].StatusCode)
    assert.are.equal(1, r.Results[3].ErrorCode)
    assert.are.equal("Violation of PRIMARY KEY constraint: a row with the same primary key "
      .. "already exists in 'Loyalty_Members'", r.Results[3].StatusMessage)
    -- keys compare without case, as the service's database compares them
    r = c:create(member("NEW-2", "Barbara"))
    assert.are.equal("Error", r.Results[1].StatusCode)
    local rows, n = stored()
    assert.are.equal(38, n)
    assert.are.equal("Grace", rows["new-2"].FirstName)
  end)

  it("updates and deletes the row its primary key names, whatever its place", function()
    local r = c:update(member("loyal-0020", "Changed", "Gold"))
    assert.are.equal("OK", r.OverallStatus)
    local rows = stored()
    assert.are.equal("Changed", rows["loyal-0020"].FirstName)
    assert.are.equal("Gold", rows["loyal-0020"].Tier)
    -- delete from the middle: the rows after it stay reachable by key
    r = c:delete({row("Loyalty_Members", {SubscriberKey = "loyal-0005"}),
      row("Loyalty_Members", {SubscriberKey = "loyal-0001"})})
    assert.are.equal("OK", r.OverallStatus)
    local n
    rows, n = stored()
    assert.are.equal(34, n)
    assert.is_nil(rows["loyal-0005"])
    assert.is_nil(rows["loyal-0001"])
    r = c:update({member("loyal-0036", "Last", "Silver"), member("loyal-0002", "Second", "Silver")})
    assert.are.equal("OK", r.OverallStatus)
    rows = stored()
    assert.are.equal("Last", rows["loyal-0036"].FirstName)
    assert.are.equal("Second", rows["loyal-0002"].FirstName)
    -- a deleted key is free again; deleting it twice is refused
    r = c:delete(row("Loyalty_Members", {SubscriberKey = "loyal-0005"}))
    assert.are.equal("Error", r.Results[1].StatusCode)
    assert.are.equal("No row with the given primary key exists", r.Results[1].StatusMessage)
    r = c:create(member("loyal-0005", "Back"))
    assert.are.equal("OK", r.OverallStatus)
    assert.are.equal("Back", stored()["loyal-0005"].FirstName)
  end)

  it("forgets every key when the data extension is cleared", function()
    local r = c:perform("ClearData", mc.DataExtension{CustomerKey = "Loyalty_Members"})
    assert.are.equal("OK", r.OverallStatus)
    r = c:create(member("loyal-0001", "Again"))
    assert.are.equal("OK", r.OverallStatus)
    local _, n = stored()
    assert.are.equal(1, n)
  end)
end)

local function upsert(option)
  return {SaveOptions = {{PropertyName = "*", SaveAction = option}}}
end

describe("sandbox SaveOptions on Create and Update", function()
  ch.each_sandbox(nil, function(box, client) sb, c = box, client end)

  it("UpdateAdd on Update creates a missing row and updates a stored one (the upsert)", function()
    -- without SaveOptions an Update of a missing row is refused, as before
    local r = c:update(member("upsert-1", "Ada", "Gold"))
    assert.are.equal("Error", r.Results[1].StatusCode)
    assert.are.equal("No row with the given primary key exists", r.Results[1].StatusMessage)
    r = c:update({member("upsert-1", "Ada", "Gold"), member("loyal-0003", "Grace", "Platinum")},
      upsert("UpdateAdd"))
    assert.are.equal("OK", r.OverallStatus)
    local rows, n = stored()
    assert.are.equal(37, n)
    assert.are.equal("Gold", rows["upsert-1"].Tier)
    assert.are.equal("Platinum", rows["loyal-0003"].Tier)
    assert.are.equal("Grace", rows["loyal-0003"].FirstName)
    -- the same upsert again changes the row it created
    r = c:update(member("upsert-1", "Ada", "Silver"), upsert("UpdateAdd"))
    assert.are.equal("OK", r.OverallStatus)
    rows, n = stored()
    assert.are.equal(37, n)
    assert.are.equal("Silver", rows["upsert-1"].Tier)
  end)

  it("UpdateAdd on Create updates a stored row instead of refusing it", function()
    local r = c:create({member("loyal-0004", "Changed", "Gold"), member("create-1", "New", "Bronze")},
      upsert("UpdateAdd"))
    assert.are.equal("OK", r.OverallStatus)
    local rows, n = stored()
    assert.are.equal(37, n)
    assert.are.equal("Changed", rows["loyal-0004"].FirstName)
    assert.are.equal("New", rows["create-1"].FirstName)
  end)

  it("AddOnly only adds, UpdateOnly only updates, Nothing saves nothing", function()
    local r = c:update({member("loyal-0006", "X", "Gold"), member("add-1", "Added", "Gold")},
      upsert("AddOnly"))
    assert.are.equal("Has Errors", r.OverallStatus)
    assert.are.equal("Error", r.Results[1].StatusCode)
    assert.are.equal(1, r.Results[1].ErrorCode)
    assert.are.equal("OK", r.Results[2].StatusCode)
    r = c:create({member("loyal-0007", "Updated", "Gold"), member("only-1", "Never", "Gold")},
      upsert("UpdateOnly"))
    assert.are.equal("Has Errors", r.OverallStatus)
    assert.are.equal("OK", r.Results[1].StatusCode)
    assert.are.equal("Error", r.Results[2].StatusCode)
    assert.are.equal("No row with the given primary key exists", r.Results[2].StatusMessage)
    r = c:update({member("loyal-0008", "Nope", "Gold"), member("nothing-1", "Nope", "Gold")},
      upsert("Nothing"))
    assert.are.equal("OK", r.OverallStatus)
    assert.are.equal("Nothing saved: the SaveAction is Nothing", r.Results[1].StatusMessage)
    local rows, n = stored()
    assert.are.equal(37, n)
    assert.are.equal("Added", rows["add-1"].FirstName)
    assert.is_nil(rows["only-1"])
    assert.are.equal("Updated", rows["loyal-0007"].FirstName)
    assert.are_not.equal("Nope", rows["loyal-0008"].FirstName)
    assert.is_nil(rows["nothing-1"])
  end)

  it("upserts Subscribers by SubscriberKey and Lists by ID", function()
    local r = c:update({
      mc.Subscriber{SubscriberKey = "ada@example.com", EmailAddress = "ada@example.com",
        Status = "Held"},
      mc.Subscriber{SubscriberKey = "new@example.com", EmailAddress = "new@example.com",
        Status = "Active"}}, upsert("UpdateAdd"))
    assert.are.equal("OK", r.OverallStatus)
    local subs = {}
    for _, s in ipairs(sb:objects("Subscriber")) do
      subs[s.SubscriberKey] = (subs[s.SubscriberKey] or 0) + 1
      if s.SubscriberKey == "ada@example.com" then assert.are.equal("Held", s.Status) end
    end
    assert.are.equal(1, subs["ada@example.com"])
    assert.are.equal(1, subs["new@example.com"])
    r = c:update({mc.List{ID = 101, Description = "Changed"},
      mc.List{ID = 9001, ListName = "Upserted", Type = "Private"}}, upsert("UpdateAdd"))
    assert.are.equal("OK", r.OverallStatus)
    local lists = {}
    for _, l in ipairs(sb:objects("List")) do lists[l.ID] = l end
    assert.are.equal("Changed", lists[101].Description)
    assert.are.equal("Upserted", lists[9001].ListName)
    -- without SaveOptions, Update of a missing List is refused
    r = c:update(mc.List{ID = 9002, ListName = "Missing"})
    assert.are.equal("Error", r.Results[1].StatusCode)
  end)
end)
