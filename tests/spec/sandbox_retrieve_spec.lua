-- The sandbox's state: Create/Update/Delete, Retrieve with every filter operator, nested
-- ComplexFilterParts, paging (2,500 or BatchSize, ContinueRequest, ContinueRequest-only),
-- business units (ClientIDs, QueryAllAccounts), data extension rows and generated rows.
local core = require "performlua.core"
local sh = require "sandbox_helper"

local obj = sh.obj

local sb = sh.shared()
local function retrieve(object_type, properties, filter, extra)
  local rr = {ObjectType = object_type, Properties = properties, Filter = filter}
  for k, v in pairs(extra or {}) do rr[k] = v end
  return (sh.ok_call(sb, sb.token, "Retrieve", {RetrieveRequest = rr}))
end

local function keys_of(results, field)
  local out = {}
  for i, o in ipairs(results or {}) do out[i] = o[field] end
  table.sort(out, function(a, b) return tostring(a) < tostring(b) end)
  return out
end

local function row_values(results, column)
  local out = {}
  for i, row in ipairs(results or {}) do
    for _, p in ipairs(row.Properties) do
      if p.Name == column then out[i] = p.Value end
    end
  end
  return out
end

describe("sandbox CRUD", function()
  sb:serve(setup, teardown)

  it("Create assigns ID, ObjectID and dates; Retrieve finds the object", function()
    local r = sh.call(sb, sb.token, "Create", {Objects = {obj("List", {CustomerKey = "new-list", ListName = "New"})}})
    sh.assert_valid(r.body)
    local res = r.decoded.Results[1]
    assert.are.equal("OK", r.decoded.OverallStatus)
    assert.are.equal("OK", res.StatusCode)
    assert.are.equal("Created List", res.StatusMessage)
    assert.is_true(res.NewID > 1000)
    assert.truthy(res.NewObjectID:match("^%x+%-%x+%-%x+%-%x+%-%x+$"))
    local got = retrieve("List", {"ID", "ObjectID", "ListName", "CreatedDate"},
      {Property = "CustomerKey", SimpleOperator = "equals", Value = "new-list"})
    assert.are.equal(1, #got.Results)
    assert.are.equal(res.NewID, got.Results[1].ID)
    assert.are.equal(res.NewObjectID, got.Results[1].ObjectID)
    assert.are.equal("New", got.Results[1].ListName)
    assert.truthy(got.Results[1].CreatedDate:match("^%d%d%d%d%-%d%d%-%d%dT"))
  end)

  it("refuses a duplicate CustomerKey and an unknown type, per object", function()
    local r = sh.call(sb, sb.token, "Create", {Objects = {
      obj("List", {CustomerKey = "new-list", ListName = "Again"}),
      obj("List", {CustomerKey = "other-list", ListName = "Other"})}})
    sh.assert_valid(r.body)
    assert.are.equal("Has Errors", r.decoded.OverallStatus)
    assert.are.equal("Error", r.decoded.Results[1].StatusCode)
    assert.are.equal(1, r.decoded.Results[1].ErrorCode)
    assert.are.equal("A List with the CustomerKey 'new-list' already exists", r.decoded.Results[1].StatusMessage)
    assert.are.equal("OK", r.decoded.Results[2].StatusCode)
    assert.are.equal(1, r.decoded.Results[2].OrdinalID)
  end)

  it("refuses an object sent without xsi:type (an APIObject) instead of storing it", function()
    local raw = '<CreateRequest xmlns="' .. sh.NS .. '"><Options/><Objects><CustomerKey>untyped</CustomerKey>'
      .. "</Objects></CreateRequest>"
    local r = sh.soap(sb, "Create", raw, {token = sb.token})
    sh.assert_valid(r.body)
    local res = sh.decode(r.body).Results[1]
    assert.are.equal("Error", res.StatusCode)
    assert.are.equal(104, res.ErrorCode)
    assert.are.equal("Unable to find a handler for object type: APIObject. Object types are "
      .. "case-sensitive, check spelling.", res.StatusMessage)
    assert.are.same({}, sb:objects("APIObject"))
  end)

  it("refuses fields the type lacks and values of the wrong type, as the service cannot store them", function()
    local raw = '<CreateRequest xmlns="' .. sh.NS .. '"><Objects xsi:type="List"><ID>abc</ID>'
      .. "<ListName>Bad</ListName></Objects><Objects xsi:type=\"List\"><ListName>Odd</ListName>"
      .. "<Colour>red</Colour></Objects></CreateRequest>"
    local r = sh.soap(sb, "Create", raw, {token = sb.token})
    assert.are.equal(200, r.status)
    sh.assert_valid(r.body)
    local d = sh.decode(r.body)
    assert.are.equal("Error", d.OverallStatus)
    assert.are.equal("List.ID must be an integer (xsd:int), got string 'abc'", d.Results[1].StatusMessage)
    assert.are.equal(6, d.Results[1].ErrorCode)
    assert.are.equal("List has no field 'Colour'", d.Results[2].StatusMessage:match("^List has no field 'Colour'"))
    r = sh.soap(sb, "Update", raw:gsub("CreateRequest", "UpdateRequest"), {token = sb.token})
    sh.assert_valid(r.body)
    assert.are.equal("List.ID must be an integer (xsd:int), got string 'abc'", sh.decode(r.body).Results[1].StatusMessage)
  end)

  it("Update changes the object, Delete removes it, a missing object is an Error result", function()
    local r = sh.call(sb, sb.token, "Update", {Objects = {obj("List", {CustomerKey = "new-list", ListName = "Renamed"})}})
    sh.assert_valid(r.body)
    assert.are.equal("Updated List", r.decoded.Results[1].StatusMessage)
    assert.are.same({"Renamed"}, keys_of(retrieve("List", {"ListName"},
      {Property = "CustomerKey", SimpleOperator = "equals", Value = "new-list"}).Results, "ListName"))
    r = sh.call(sb, sb.token, "Delete", {Objects = {obj("List", {CustomerKey = "new-list"})}})
    assert.are.equal("Deleted List", r.decoded.Results[1].StatusMessage)
    assert.are.equal(0, #(retrieve("List", {"ListName"},
      {Property = "CustomerKey", SimpleOperator = "equals", Value = "new-list"}).Results or {}))
    r = sh.call(sb, sb.token, "Delete", {Objects = {obj("List", {CustomerKey = "new-list"})}})
    sh.assert_valid(r.body)
    assert.are.equal("Error", r.decoded.OverallStatus)
    assert.are.equal("No List with CustomerKey 'new-list' exists", r.decoded.Results[1].StatusMessage)
    assert.are.equal(107, r.decoded.Results[1].ErrorCode)
  end)

  it("refuses properties the type does not have", function()
    local got = retrieve("List", {"ListName", "Colour"})
    assert.are.equal("Error: The Request Property(s) Colour do not match with the fields of List "
      .. "retrieve object", got.OverallStatus)
  end)

  it("answers asynchronous requests with a queued acknowledgement and ResultItem/ResultMessage", function()
    local r = sh.call(sb, sb.token, "Create", {Options = {RequestType = "Asynchronous"},
      Objects = {obj("List", {CustomerKey = "async-list", ListName = "Async"}),
                 obj("List", {CustomerKey = "other-list", ListName = "Dup"})}})
    sh.assert_valid(r.body)
    assert.are.equal("OK", r.decoded.OverallStatus)
    assert.are.equal("Queued", r.decoded.Results[1].StatusMessage)
    assert.are.equal("Asynchronous", r.decoded.Results[2].RequestType)
    local rid = r.decoded.RequestID
    sb:clock_advance(0.5) -- queued requests are processed a moment after they arrive
    local items = retrieve("ResultItem", {"RequestID", "StatusCode", "StatusMessage", "OrdinalID", "RequestObjectType"},
      {Property = "RequestID", SimpleOperator = "equals", Value = rid}).Results
    table.sort(items, function(a, b) return a.OrdinalID < b.OrdinalID end)
    assert.are.equal(2, #items)
    assert.are.equal("OK", items[1].StatusCode)
    assert.are.equal("List", items[1].RequestObjectType)
    assert.are.equal("Error", items[2].StatusCode)
    local msgs = retrieve("ResultMessage", {"RequestID", "OverallStatusCode", "RequestType"},
      {Property = "RequestID", SimpleOperator = "equals", Value = rid}).Results
    assert.are.equal(1, #msgs)
    assert.are.equal("Has Errors", msgs[1].OverallStatusCode)
  end)
end)

describe("sandbox Retrieve filters", function()
  sb:serve(setup, teardown)

  local function customers(filter)
    return row_values(retrieve("DataExtensionObject[Customers]", {"CustomerID", "City", "Points"}, filter).Results, "CustomerID")
  end

  local function count(filter) return #customers(filter) end

  it("reads the seed's rows", function()
    local all = retrieve("DataExtensionObject[Customers]", {"CustomerID", "FirstName"})
    assert.are.equal(40, #all.Results)
    assert.are.equal("1001", all.Results[1].Properties[1].Value)
    assert.are.equal("Ada", all.Results[1].Properties[2].Value)
  end)

  it("applies every SimpleOperator to text, numbers and dates", function()
    local S = function(p, op, v, dv) return {Property = p, SimpleOperator = op, Value = v, DateValue = dv} end
    assert.are.same({"1001"}, customers(S("CustomerID", "equals", "1001")))
    assert.are.equal(39, count(S("CustomerID", "notEquals", "1001")))
    -- Points = (i * 137) % 5000 for row i
    local expected = {}
    for i = 1, 40 do if (i * 137) % 5000 > 4000 then expected[#expected + 1] = i end end
    assert.are.equal(#expected, count(S("Points", "greaterThan", "4000")))
    local lt = 0
    for i = 1, 40 do if (i * 137) % 5000 < 1000 then lt = lt + 1 end end
    assert.are.equal(lt, count(S("Points", "lessThan", "1000")))
    assert.are.same({"1001", "1037"}, customers(S("Points", "lessThanOrEqual", "137"))) -- 37*137 % 5000 = 69
    assert.are.equal(39, count(S("Points", "greaterThanOrEqual", "137")))
    local in_range = {}
    for i = 1, 40 do
      local p = (i * 137) % 5000
      if p >= 137 and p <= 411 then in_range[#in_range + 1] = tostring(1000 + i) end
    end
    assert.are.same({"1001", "1002", "1003", "1038", "1039"}, in_range)
    assert.are.same(in_range, customers(S("Points", "between", {"137", "411"})))
    assert.are.same({"1002", "1005"}, customers(S("CustomerID", "IN", {"1002", "1005", "9999"})))
    assert.are.equal(5, count(S("City", "equals", "London")))
    assert.are.equal(5, count(S("City", "like", "lon%")))
    assert.are.equal(5, count(S("City", "like", "_e%")))       -- Berlin only
    assert.are.equal(5, count(S("City", "beginsWith", "Mad")))
    assert.are.equal(5, count(S("City", "endsWith", "bon")))
    assert.are.equal(0, count(S("City", "isNull")))
    assert.are.equal(40, count(S("City", "isNotNull")))
    -- JoinedDate = 2025-MM-DD with MM = (i-1) % 12 + 1
    assert.are.equal(4, count(S("JoinedDate", "between", nil, {"2025-01-01T00:00:00Z", "2025-01-31T23:59:59Z"})))
    assert.are.equal(36, count(S("JoinedDate", "greaterThan", nil, {"2025-01-31T23:59:59Z"})))
  end)

  it("distinguishes the string operators", function()
    local S = function(op, v) return {Property = "City", SimpleOperator = op, Value = v} end
    -- cities cycle London Paris Berlin Madrid Lisbon Dublin Vienna Oslo, 5 rows each
    assert.are.equal(30, count(S("existsInString", "i")))  -- all but London and Oslo
    assert.are.equal(10, count(S("notExistsInString", "i")))
    assert.are.equal(30, count(S("contains", "I")))
    assert.are.equal(10, count(S("notContains", "i")))
    assert.are.equal(5, count(S("existsInStringAsAWord", "oslo")))
  end)

  it("combines parts with AND/OR, nested, with AdditionalOperands", function()
    local london = {Property = "City", SimpleOperator = "equals", Value = "London"}
    local paris = {Property = "City", SimpleOperator = "equals", Value = "Paris"}
    local oslo = {Property = "City", SimpleOperator = "equals", Value = "Oslo"}
    local low = {Property = "CustomerID", SimpleOperator = "lessThan", Value = "1010"}
    assert.are.equal(10, count{LeftOperand = london, LogicalOperator = "OR", RightOperand = paris})
    assert.are.equal(15, count{LeftOperand = london, LogicalOperator = "OR", RightOperand = paris,
      AdditionalOperands = {oslo}})
    assert.are.same({"1001", "1002", "1009"}, customers{LeftOperand = low, LogicalOperator = "AND",
      RightOperand = {LeftOperand = london, LogicalOperator = "OR", RightOperand = paris}})
    assert.are.equal(0, #(retrieve("DataExtensionObject[Customers]", {"CustomerID"},
      {LeftOperand = london, LogicalOperator = "AND", RightOperand = paris}).Results or {}))
  end)

  it("reports unusable filters in OverallStatus", function()
    local got = retrieve("DataExtensionObject[Customers]", {"CustomerID"},
      {Property = "Colour", SimpleOperator = "equals", Value = "x"})
    assert.are.equal("Error: The Filter Property 'Colour' is not a property of the object", got.OverallStatus)
    got = retrieve("DataExtensionObject[Customers]", {"CustomerID"},
      {Property = "Points", SimpleOperator = "between", Value = {"1"}})
    assert.are.equal("Error: The filter on 'Points' with the operator 'between' needs exactly two "
      .. "values (it has 1)", got.OverallStatus)
  end)

  it("filters objects by nested properties, dates and numbers", function()
    local got = retrieve("DataExtensionField", {"Name", "Ordinal"},
      {Property = "DataExtension.CustomerKey", SimpleOperator = "equals", Value = "Loyalty_Members"})
    assert.are.same({"EmailAddress", "FirstName", "JoinedDate", "Points", "SubscriberKey", "Tier"},
      keys_of(got.Results, "Name"))
    got = retrieve("Send", {"ID", "Status"}, {Property = "SendDate", SimpleOperator = "greaterThan",
      DateValue = {os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 3 * 86400)}})
    assert.are.same({51999902}, keys_of(got.Results, "ID"))
    got = retrieve("Send", {"ID"}, {Property = "ID", SimpleOperator = "equals", Value = "51999901"})
    assert.are.same({51999901}, keys_of(got.Results, "ID"))
  end)
end)

describe("sandbox Retrieve paging", function()
  sb:serve(setup, teardown)

  it("pages a generated million-row data extension at 2,500 rows with ContinueRequest", function()
    local first = retrieve("DataExtensionObject[Big_Generated]", {"SubscriberKey", "Points"})
    assert.are.equal("MoreDataAvailable", first.OverallStatus)
    assert.are.equal(2500, #first.Results)
    assert.are.equal("sub-0000001", first.Results[1].Properties[1].Value)
    -- the schema-compliant continuation (ObjectType repeated) and the ContinueRequest-only one
    local second = retrieve("DataExtensionObject[Big_Generated]", {"SubscriberKey"}, nil,
      {ContinueRequest = first.RequestID})
    assert.are.equal(2500, #second.Results)
    assert.are.equal("sub-0002501", second.Results[1].Properties[1].Value)
    local r = sh.soap(sb, "Retrieve", '<RetrieveRequestMsg xmlns="' .. sh.NS .. '"><RetrieveRequest>'
      .. "<ContinueRequest>" .. second.RequestID .. "</ContinueRequest></RetrieveRequest></RetrieveRequestMsg>",
      {token = sb.token})
    assert.are.equal(200, r.status)
    local third = sh.decode(r.body)
    assert.are.equal("sub-0005001", third.Results[1].Properties[1].Value)
    assert.are.equal("Error: ContinueRequest 'nope' does not name a retrieve with more data (it "
      .. "finished, expired, or was never made)", retrieve(nil, nil, nil, {ContinueRequest = "nope"}).OverallStatus)
  end)

  it("uses the smaller BatchSize and ends with OK", function()
    local page = retrieve("DataExtensionObject[Customers]", {"CustomerID"}, nil, {Options = {BatchSize = 15}})
    local seen = {}
    local pages = 0
    while true do
      pages = pages + 1
      for _, v in ipairs(row_values(page.Results, "CustomerID")) do seen[#seen + 1] = v end
      if page.OverallStatus == "OK" then break end
      assert.are.equal("MoreDataAvailable", page.OverallStatus)
      page = retrieve(nil, nil, nil, {ContinueRequest = page.RequestID})
    end
    assert.are.equal(3, pages)
    assert.are.equal(40, #seen)
    assert.are.equal("1040", seen[40])
  end)

  it("pages filtered generated rows", function()
    local page = retrieve("DataExtensionObject[Big_Generated]", {"SubscriberKey"},
      {Property = "SubscriberKey", SimpleOperator = "between", Value = {"sub-0000010", "sub-0000020"}},
      {Options = {BatchSize = 5}})
    assert.are.same({"sub-0000010", "sub-0000011", "sub-0000012", "sub-0000013", "sub-0000014"},
      row_values(page.Results, "SubscriberKey"))
  end)

  it("generate_rows makes any data extension large without storing rows", function()
    sb:generate_rows("Bench", 5000)
    local page = retrieve("DataExtensionObject[Bench]", {"EmailAddress"})
    assert.are.equal("MoreDataAvailable", page.OverallStatus)
    assert.are.equal("member1@example.com", page.Results[1].Properties[1].Value)
    assert.are.same({generated = 5000}, sb:rows("Bench"))
  end)
end)

describe("sandbox data extension rows and business units", function()
  sb:serve(setup, teardown)

  it("creates, updates and deletes rows through DataExtensionObject", function()
    local row = obj("DataExtensionObject", {CustomerKey = "Loyalty_Members", Properties = {
      {Name = "SubscriberKey", Value = "loyal-9999"}, {Name = "Tier", Value = "Gold"}}})
    local r = sh.call(sb, sb.token, "Create", {Objects = {row}})
    sh.assert_valid(r.body)
    assert.are.equal("OK", r.decoded.OverallStatus)
    r = sh.call(sb, sb.token, "Create", {Objects = {row}})
    assert.are.equal(1, r.decoded.Results[1].ErrorCode)
    r = sh.call(sb, sb.token, "Update", {Objects = {obj("DataExtensionObject", {CustomerKey = "Loyalty_Members",
      Keys = {{Name = "SubscriberKey", Value = "loyal-9999"}}, Properties = {{Name = "Tier", Value = "Platinum"}}})}})
    assert.are.equal("OK", r.decoded.OverallStatus)
    local got = retrieve("DataExtensionObject[Loyalty_Members]", {"Tier"},
      {Property = "SubscriberKey", SimpleOperator = "equals", Value = "loyal-9999"})
    assert.are.same({"Platinum"}, row_values(got.Results, "Tier"))
    r = sh.call(sb, sb.token, "Delete", {Objects = {obj("DataExtensionObject", {CustomerKey = "Loyalty_Members",
      Keys = {{Name = "SubscriberKey", Value = "loyal-9999"}}})}})
    assert.are.equal("OK", r.decoded.OverallStatus)
    assert.are.equal(36, #sb:rows("Loyalty_Members"))
  end)

  it("refuses row writes to generated or missing data extensions and to missing rows", function()
    local function one(op, fields)
      local r = sh.call(sb, sb.token, op, {Objects = {obj("DataExtensionObject", fields)}})
      sh.assert_valid(r.body)
      local res = r.decoded.Results[1]
      return res.ErrorCode, res.StatusMessage
    end
    local key = {{Name = "SubscriberKey", Value = "sub-0000001"}}
    for _, op in ipairs{"Create", "Update", "Delete"} do
      assert.are.same({6, "The sandbox's generated data extensions are read-only"},
        {one(op, {CustomerKey = "Big_Generated", Keys = key})}, op)
      assert.are.same({107, "No data extension with the CustomerKey or Name 'Nope' exists"},
        {one(op, {CustomerKey = "Nope", Keys = key})}, op)
    end
    for _, op in ipairs{"Update", "Delete"} do
      assert.are.same({107, "No row with the given primary key exists"}, {one(op, {CustomerKey =
        "Loyalty_Members", Keys = {{Name = "SubscriberKey", Value = "nobody"}}})}, op)
      assert.are.same({6, "The data extension 'Loyalty_Members' has no column 'Nope'"}, {one(op,
        {CustomerKey = "Loyalty_Members", Keys = {{Name = "Nope", Value = "x"}}})}, op)
    end
    assert.are.equal(36, #sb:rows("Loyalty_Members"))
  end)

  it("answers the handler error for DataExtensionObject of an unknown key", function()
    assert.are.equal("Error: Unable to find a handler for object type: DataExtensionObject[Nope]. "
      .. "Object types are case-sensitive, check spelling.",
      retrieve("DataExtensionObject[Nope]", {"A"}).OverallStatus)
  end)

  it("scopes Retrieve to the token's business unit unless ClientIDs or QueryAllAccounts say otherwise", function()
    -- the default seed's child unit 7281701 owns List 201, 7281702 owns List 301
    sb:insert("List", {ID = 901, ListName = "Child BU list", Client = {ID = 7281701}})
    local lists = retrieve("List", {"ID"})
    assert.are.same({101, 102}, keys_of(lists.Results, "ID"))
    assert.are.same({101, 102, 201, 301, 901}, keys_of(retrieve("List", {"ID"}, nil, {QueryAllAccounts = true}).Results, "ID"))
    assert.are.same({201, 901}, keys_of(retrieve("List", {"ID"}, nil, {ClientIDs = {{ID = 7281701}}}).Results, "ID"))
    local child = sh.token(sb, core.json_encode{grant_type = "client_credentials", client_id = "sandbox",
      client_secret = "sandbox", account_id = 7281701})
    local r = sh.call(sb, child, "Retrieve", {RetrieveRequest = {ObjectType = "List", Properties = {"ID"}}})
    assert.are.same({201, 901}, keys_of(r.decoded.Results, "ID"))
  end)
end)
