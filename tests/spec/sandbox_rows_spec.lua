-- Data extension rows in the sandbox through the public client: rows are named by their primary
-- key (a duplicate key is refused, Update and Delete find the row by key), and the SaveOptions
-- of Create and Update decide what happens to a row that exists or does not (upsert).
local mc = require "performlua"
local auth = require "performlua.auth"
local sandbox = require "performlua.sandbox"
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
  before_each(function()
    auth._reset()
    sb = sandbox.start{port = 0}
    c = ch.connect(sb)
  end)
  after_each(function() if sb then sb:stop() end end)

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
