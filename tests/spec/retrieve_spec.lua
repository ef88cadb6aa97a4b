-- c:each, c:retrieve_all and c:default_properties against the sandbox: paging with small
-- BatchSize, data extension rows as plain tables, Describe calls counted by the sandbox, and
-- memory that stays flat while generated rows stream through. Exact requests are in
-- retrieve_scripted_spec.lua.
local mc = require "performlua"
local sandbox = require "performlua.sandbox"

local wh = require "workflow_helper"

local box

local function connect() return wh.sandbox_client(box) end

local function calls(operation)
  return box:stats().by_operation[operation] or 0
end

describe("streamed retrieves (sandbox)", function()
  before_each(function() box = sandbox.start{port = 0} end)
  after_each(function() box:stop() box = nil end)

  it("follows the pages of a small BatchSize and yields every object once", function()
    local c = connect()
    local seen, count = {}, 0
    local before = calls("Retrieve")
    for s in c:each("Subscriber", {"SubscriberKey", "Status"}, nil, {BatchSize = 2}) do
      assert.are.equal("Subscriber", mc.typeof(s))
      assert.is_nil(seen[s.SubscriberKey])
      seen[s.SubscriberKey] = s.Status
      count = count + 1
    end
    assert.are.equal(8, count) -- the seed's All Subscribers
    assert.are.equal(4, calls("Retrieve") - before) -- 2 + 2 + 2 + 2
    assert.are.equal("Unsubscribed", seen["alan@example.com"])
  end)

  it("gives data extension rows as plain tables equal to the stored rows, as text", function()
    local c = connect()
    local columns = c:default_properties("DataExtensionObject[Customers]")
    assert.are.same({"CustomerID", "EmailAddress", "FirstName", "LastName", "City", "Points",
      "JoinedDate", "IsActive"}, columns)
    local before = calls("Retrieve")
    local rows = c:retrieve_all("DataExtensionObject[Customers]", columns, nil, {BatchSize = 7})
    assert.are.equal(6, calls("Retrieve") - before) -- 40 rows in pages of 7
    local stored = box:rows("Customers")
    assert.are.equal(40, #rows)
    assert.are.equal(#stored, #rows)
    -- the service answers every column as text: Number 137 as "137", Boolean as "True"/"False"
    local wire = require("performlua.sandbox.rows").wire
    for i, row in ipairs(rows) do
      assert.is_nil(getmetatable(row))
      local want = {}
      for k, v in pairs(stored[i]) do want[k] = wire(v, k == "JoinedDate" and "date" or nil) end
      assert.are.same(want, row)
    end
    assert.are.equal("integer", math.type(stored[1].Points))
    assert.are.equal(tostring(stored[1].Points), rows[1].Points)
  end)

  it("passes filters through page after page", function()
    local c = connect()
    local n = 0
    for row in c:each("DataExtensionObject[Customers]", {"CustomerID", "City"},
        {Property = "City", SimpleOperator = "equals", Value = "London"}, {BatchSize = 2}) do
      assert.are.equal("London", row.City)
      n = n + 1
    end
    assert.are.equal(5, n) -- 40 rows over 8 cities
  end)

  it("asks Describe once per type and client when no properties are given", function()
    local c = connect()
    local lists = c:retrieve_all("List")
    assert.are.equal(2, #lists)
    assert.are.equal("Newsletter", lists[1].ListName)
    c:retrieve_all("List")
    assert.is_true(c:retrieve("List").ok)
    assert.are.equal(1, calls("Describe"))
    c:retrieve_all("Subscriber")
    assert.are.equal(2, calls("Describe"))
    connect():retrieve_all("List")
    assert.are.equal(3, calls("Describe"))
  end)

  it("raises for a type the account does not know, with the service's words", function()
    local ok, err = pcall(function()
      for _ in connect():each("Xyzzy", {"ID"}) do end
    end)
    assert.is_false(ok)
    assert.are.equal("fault", err.kind)
    assert.are.equal("Retrieve failed: OverallStatus Error: Unable to find a handler for object "
      .. "type: Xyzzy. Object types are case-sensitive, check spelling.", err.message)
  end)

  it("keeps memory flat while 60,000 generated rows stream through", function()
    box:generate_rows("Big_Generated", 60000)
    local c = connect()
    collectgarbage("collect")
    local samples, count = {}, 0
    for row in c:each("DataExtensionObject[Big_Generated]", {"SubscriberKey", "EmailAddress"}) do
      count = count + 1
      assert(row.SubscriberKey)
      if count % 10000 == 1250 then -- mid-page, one page held
        collectgarbage("collect")
        samples[#samples + 1] = collectgarbage("count")
      end
    end
    assert.are.equal(60000, count)
    local first, peak = samples[1], 0
    for _, kb in ipairs(samples) do peak = math.max(peak, kb) end
    -- a page of 2,500 rows is about 1.5 MB of Lua tables: growth must stay well below one page
    assert.is_true(peak - first < 400, string.format("grew from %.0f KB to %.0f KB", first, peak))
  end)
end)
