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

describe("sandbox data extension rows by their fields' types", function()
  ch.each_sandbox(nil, function(box, client) sb, c = box, client end)

  local function props(key, fields)
    local list = {}
    for name, value in pairs(fields) do list[#list + 1] = {Name = name, Value = value} end
    table.sort(list, function(a, b) return a.Name < b.Name end)
    return mc.DataExtensionObject{CustomerKey = key, Properties = list}
  end

  it("keeps seeded values typed and answers them as the service writes them", function()
    local first = sb:rows("Customers")[1]
    assert.are.equal("integer", math.type(first.Points)) -- a Number field
    assert.are.equal(137, first.Points)
    assert.is_true(first.IsActive) -- a Boolean field
    assert.are.equal("2025-01-03T09:30:00", first.JoinedDate) -- a Date field
    local got = c:retrieve_all("DataExtensionObject[Customers]", {"CustomerID", "Points", "IsActive",
      "JoinedDate"}, {Property = "CustomerID", SimpleOperator = "IN", Value = {"1001", "1005"}})
    -- dates as the docs say the service answers them: to the second, followed by AM or PM
    assert.are.same({{CustomerID = "1001", Points = "137", IsActive = "True",
      JoinedDate = "1/3/2025 9:30:00 AM"}, {CustomerID = "1005", Points = "685", IsActive = "False",
      JoinedDate = "5/15/2025 9:30:00 AM"}}, got)
  end)

  it("stores text the service reads as a number, boolean or date as that type", function()
    local r = c:create(props("Customers", {CustomerID = "9001", Points = " 12 ", IsActive = "1",
      JoinedDate = "1/5/2024 1:00 PM", EmailAddress = "x@example.com"}))
    assert.are.equal("OK", r.OverallStatus)
    local last = sb:rows("Customers")[41]
    assert.are.equal(12, last.Points)
    assert.is_true(last.IsActive)
    assert.are.equal("2024-01-05T13:00:00", last.JoinedDate)
    assert.are.equal("1/5/2024 1:00:00 PM", c:retrieve_all("DataExtensionObject[Customers]",
      {"JoinedDate"}, {Property = "CustomerID", SimpleOperator = "equals", Value = "9001"})[1].JoinedDate)
    r = c:update(props("Customers", {CustomerID = "9001", IsActive = "FALSE", Points = ""}))
    assert.are.equal("OK", r.OverallStatus)
    last = sb:rows("Customers")[41]
    assert.is_false(last.IsActive)
    assert.is_nil(last.Points) -- an empty value of a Number field is NULL
  end)

  it("refuses a value its column cannot hold with the service's DataExtensionValidationError", function()
    local bad = {
      {{CustomerID = "9101", Points = "abc"}, "Points: The value for column [Points] is not a valid number."},
      {{CustomerID = "9102", Points = "12.5"}, "Points: The value for column [Points] is not a valid number."},
      {{CustomerID = "9103", Points = "2147483648"}, "Points: The value for column [Points] is not a valid number."},
      {{CustomerID = "9104", IsActive = "maybe"}, "IsActive: The value for column [IsActive] is not a valid boolean value."},
      {{CustomerID = "9105", JoinedDate = "2025-02-30"}, "JoinedDate: The value for column [JoinedDate] is not a valid date."},
      {{CustomerID = "9106", JoinedDate = "soon"}, "JoinedDate: The value for column [JoinedDate] is not a valid date."},
      {{CustomerID = "9107", City = string.rep("x", 101)}, "City: The value for column [City] exceeds the column's maximum length."},
      {{CustomerID = "9108", EmailAddress = "not-an-address"}, "EmailAddress: The value for column [EmailAddress] is not a valid email address. Parse error [InvalidEmailAddress]"},
      {{FirstName = "No key"}, "CustomerID: The value for column [CustomerID] is required and cannot be empty."},
    }
    local objects = {}
    for i, case in ipairs(bad) do objects[i] = props("Customers", case[1]) end
    objects[#objects + 1] = props("Customers", {CustomerID = "9199", City = string.rep("é", 100)})
    local r = c:create(objects)
    assert.are.equal("Has Errors", r.OverallStatus)
    for i, case in ipairs(bad) do
      assert.are.equal("Error", r.Results[i].StatusCode, "case " .. i)
      assert.are.equal(310007, r.Results[i].ErrorCode, "case " .. i)
      assert.are.equal(case[2], r.Results[i].StatusMessage, "case " .. i)
    end
    assert.are.equal("OK", r.Results[#bad + 1].StatusCode) -- 100 characters, 200 bytes: fits
    assert.are.equal(41, #sb:rows("Customers"))
    -- an Update that cannot be stored changes nothing of the row
    r = c:update(props("Customers", {CustomerID = "1001", FirstName = "Changed", Points = "x"}))
    assert.are.equal("Error", r.Results[1].StatusCode)
    assert.are.equal(310007, r.Results[1].ErrorCode)
    assert.are.equal("Ada", sb:rows("Customers")[1].FirstName)
    r = c:update(props("Customers", {CustomerID = "1001", FirstName = ""})) -- not required: fine
    assert.are.equal("OK", r.OverallStatus)
  end)

  it("lists every value it refuses in ValueErrors, as the service's DataExtensionCreateResult does", function()
    -- docs (DataExtensionCreateResult): "one error message for every error in the process, as
    -- opposed to just the first error encountered"
    local r = c:create(props("Customers", {CustomerID = "9301", Points = "many", IsActive = "maybe",
      City = "Oslo"}))
    local res = r.Results[1]
    assert.are.equal("DataExtensionCreateResult", mc.typeof(res))
    assert.are.equal(310007, res.ErrorCode)
    assert.are.equal("Points: The value for column [Points] is not a valid number.", res.StatusMessage)
    assert.are.equal(res.StatusMessage, res.ErrorMessage)
    assert.are.same({
      {Name = "Points", ErrorCode = 310007, ErrorMessage = "Points: The value for column [Points] is not a valid number."},
      {Name = "IsActive", ErrorCode = 310007, ErrorMessage = "IsActive: The value for column [IsActive] is not a valid boolean value."},
    }, res.ValueErrors)
    -- the error check() raises names every column to fix, not only the first
    local ok, err = pcall(r.check, r)
    assert.is_false(ok)
    assert.matches("ErrorCode 310007: Points: The value for column [Points] is not a valid number. "
      .. "(and 1 more: IsActive: The value for column [IsActive] is not a valid boolean value.)",
      err.message, 1, true)
    -- a required column left empty is one of them
    res = c:create(props("Customers", {Points = "x"})).Results[1]
    assert.are.same({"Points", "CustomerID"}, {res.ValueErrors[1].Name, res.ValueErrors[2].Name})
    -- and an Update's DataExtensionUpdateResult
    res = c:update(props("Customers", {CustomerID = "1001", Points = "x", JoinedDate = "soon"})).Results[1]
    assert.are.equal("DataExtensionUpdateResult", mc.typeof(res))
    assert.are.same({"Points", "JoinedDate"}, {res.ValueErrors[1].Name, res.ValueErrors[2].Name})
    -- an upsert that creates answers in the type of its call: an Update's result
    res = c:update(props("Customers", {CustomerID = "9302", Points = "x"}),
      {SaveOptions = {{PropertyName = "*", SaveAction = "UpdateAdd"}}}).Results[1]
    assert.are.equal("DataExtensionUpdateResult", mc.typeof(res))
    assert.are.equal("Points", res.ValueErrors[1].Name)
    assert.are.equal(40, #sb:rows("Customers")) -- nothing was stored
  end)

  it("answers numeric, date and boolean filters on typed columns", function()
    local function keys(flt)
      local out = {}
      for _, got in ipairs(c:retrieve_all("DataExtensionObject[Customers]", {"CustomerID"}, flt)) do
        out[#out + 1] = got.CustomerID
      end
      return out
    end
    local function expected(keep)
      local out = {}
      for _, r in ipairs(sb:rows("Customers")) do
        if keep(r) then out[#out + 1] = r.CustomerID end
      end
      return out
    end
    -- as numbers: "900" < "4000" as text, not as numbers
    local big = keys{Property = "Points", SimpleOperator = "greaterThan", Value = "4000"}
    assert.are.same(expected(function(r) return r.Points > 4000 end), big)
    assert.truthy(#big > 0)
    assert.are.same(expected(function(r) return r.JoinedDate >= "2025-11-01" end),
      keys{Property = "JoinedDate", SimpleOperator = "greaterThanOrEqual", Value = "11/1/2025"})
    local inactive = keys{Property = "IsActive", SimpleOperator = "equals", Value = "False"}
    assert.are.same(expected(function(r) return not r.IsActive end), inactive)
    assert.are.equal(8, #inactive)
  end)
end)
