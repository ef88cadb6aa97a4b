-- c:each, c:retrieve_all and c:default_properties against a scripted SOAP server: exact
-- requests (ContinueRequest, Describe, DataExtensionField), and memory that stays flat while
-- 100,000 generated rows stream through. The same run against the real sandbox in
-- retrieve_spec.lua.
local core = require "performlua.core"
local mc = require "performlua"

local wh = require "workflow_helper"
local uh = require "usage_helper"

local connect = wh.scripted_client
local requests      -- {element =, body =}
local handler       -- function(element, body, n) -> response body (XML)

local function install()
  requests = {}
  wh.install(function(element, body)
    requests[#requests + 1] = {element = element, body = body}
    return handler(element, body, #requests)
  end)
end

local function retrieve_answer(status, request_id, results)
  return core.encode_message("RetrieveResponseMsg", {OverallStatus = status,
    RequestID = request_id, Results = results}, {})
end

local function de_row(values)
  local props = {}
  for _, kv in ipairs(values) do props[#props + 1] = {Name = kv[1], Value = kv[2]} end
  return mc.DataExtensionObject{Properties = props}
end

-- Answers a retrieve of `total` subscribers in pages of `size`, RequestIDs page-1, page-2, ...
local function paged_subscribers(total, size)
  return function(element, body)
    assert(element == "RetrieveRequestMsg")
    local rr = body.RetrieveRequest
    local page = 1
    if rr.ContinueRequest then page = tonumber(rr.ContinueRequest:match("^page%-(%d+)$")) + 1 end
    local results = {}
    for i = (page - 1) * size + 1, math.min(page * size, total) do
      results[#results + 1] = mc.Subscriber{ID = i, EmailAddress = "s" .. i .. "@example.com"}
    end
    local more = page * size < total
    return retrieve_answer(more and "MoreDataAvailable" or "OK", "page-" .. page, results)
  end
end

describe("streamed retrieves (scripted service)", function()
  before_each(install)
  after_each(wh.restore)

  it("follows ContinueRequest with the previous page's RequestID", function()
    handler = paged_subscribers(7, 3)
    local ids = {}
    for s in connect():each("Subscriber", {"ID", "EmailAddress"}, nil, {BatchSize = 3}) do
      assert.are.equal("Subscriber", mc.typeof(s))
      ids[#ids + 1] = s.ID
    end
    assert.are.same({1, 2, 3, 4, 5, 6, 7}, ids)
    assert.are.equal(3, #requests)
    assert.is_nil(requests[1].body.RetrieveRequest.ContinueRequest)
    assert.are.equal("page-1", requests[2].body.RetrieveRequest.ContinueRequest)
    assert.are.equal("page-2", requests[3].body.RetrieveRequest.ContinueRequest)
    for _, r in ipairs(requests) do
      assert.are.equal(3, r.body.RetrieveRequest.Options.BatchSize)
      assert.are.same({"ID", "EmailAddress"}, r.body.RetrieveRequest.Properties)
    end
  end)

  it("asks for the next page only when the current one is used up", function()
    handler = paged_subscribers(6, 3)
    local next_obj = connect():each("Subscriber", {"ID"})
    assert.are.equal(0, #requests)
    assert.are.equal(1, next_obj().ID)
    assert.are.equal(1, #requests)
    next_obj(); next_obj()
    assert.are.equal(1, #requests)
    assert.are.equal(4, next_obj().ID)
    assert.are.equal(2, #requests)
    next_obj(); next_obj()
    assert.is_nil(next_obj())
    assert.is_nil(next_obj())
    assert.are.equal(2, #requests)
  end)

  it("yields nothing for an empty result", function()
    handler = function() return retrieve_answer("OK", "r", nil) end
    local n = 0
    for _ in connect():each("Subscriber", {"ID"}) do n = n + 1 end
    assert.are.equal(0, n)
  end)

  it("collects everything with retrieve_all", function()
    handler = paged_subscribers(5, 2)
    local all = connect():retrieve_all("Subscriber", {"ID"})
    assert.are.equal(5, #all)
    assert.are.equal(5, all[5].ID)
    assert.are.equal(3, #requests)
  end)

  it("gives data extension rows as plain {column = value} tables", function()
    handler = function(_, body)
      assert.are.equal("DataExtensionObject[loyalty]", body.RetrieveRequest.ObjectType)
      return retrieve_answer("OK", "r", {
        de_row{{"SubscriberKey", "K1"}, {"Email", "joël@example.com"}, {"Points", "12"}},
        de_row{{"SubscriberKey", "K2"}, {"Email", "a&b@example.com"}, {"Points", ""}}})
    end
    local rows = connect():retrieve_all("DataExtensionObject[loyalty]",
      {"SubscriberKey", "Email", "Points"})
    assert.are.same({{SubscriberKey = "K1", Email = "joël@example.com", Points = "12"},
                     {SubscriberKey = "K2", Email = "a&b@example.com", Points = ""}}, rows)
    assert.is_nil(getmetatable(rows[1]))
  end)

  it("keeps DataExtensionObject (without a key) as the service's objects", function()
    handler = function()
      return retrieve_answer("OK", "r", {de_row{{"A", "1"}}})
    end
    local rows = connect():retrieve_all("DataExtensionObject", {"A"})
    assert.are.equal("DataExtensionObject", mc.typeof(rows[1]))
    assert.are.equal("A", rows[1].Properties[1].Name)
  end)

  it("raises on a page the service answers with an error, naming what came before", function()
    handler = function(_, body)
      if body.RetrieveRequest.ContinueRequest then
        return retrieve_answer("Error: The continue request has expired.", "page-2", nil)
      end
      return retrieve_answer("MoreDataAvailable", "page-1",
        {mc.Subscriber{ID = 1}, mc.Subscriber{ID = 2}})
    end
    local seen = 0
    local ok, err = pcall(function()
      for _ in connect():each("Subscriber", {"ID"}) do seen = seen + 1 end
    end)
    assert.is_false(ok)
    assert.are.equal(2, seen)
    assert.are.equal("fault", err.kind)
    assert.are.equal("Retrieve failed: OverallStatus Error: The continue request has expired. "
      .. "(after 2 objects had been delivered)", err.message)
  end)

  it("raises for an unknown object type before yielding anything", function()
    handler = function()
      return retrieve_answer("Error: Unable to find a handler for object type: Xyzzy. "
        .. "Object types are case-sensitive, check spelling.", "r", nil)
    end
    local ok, err = pcall(function() for _ in connect():each("Xyzzy", {"ID"}) do end end)
    assert.is_false(ok)
    assert.are.equal("Retrieve failed: OverallStatus Error: Unable to find a handler for object "
      .. "type: Xyzzy. Object types are case-sensitive, check spelling.", err.message)
  end)

  it("asks Describe for the retrievable properties once per type and client", function()
    handler = function(element, body)
      if element == "DefinitionRequestMsg" then
        return core.encode_message("DefinitionResponseMsg", {RequestID = "d", ObjectDefinition = {{
          ObjectType = "List", Name = "List", IsRetrievable = true, Properties = {
            {Name = "ID", IsRetrievable = true}, {Name = "ListName", IsRetrievable = true},
            {Name = "Subscribers", IsRetrievable = false}, {Name = "Type", IsRetrievable = true}}}}},
          {})
      end
      return retrieve_answer("OK", "r", {mc.List{ID = 1, ListName = "All"}})
    end
    local c = connect()
    assert.are.equal("All", c:retrieve_all("List")[1].ListName)
    assert.are.equal("All", c:retrieve_all("List")[1].ListName)
    local r = c:retrieve("List")
    assert.is_true(r.ok)
    local describes, retrieves = 0, {}
    for _, q in ipairs(requests) do
      if q.element == "DefinitionRequestMsg" then
        describes = describes + 1
        assert.are.equal("List", q.body.DescribeRequests[1].ObjectType)
      else
        retrieves[#retrieves + 1] = q.body.RetrieveRequest
      end
    end
    assert.are.equal(1, describes)
    assert.are.equal(3, #retrieves)
    for _, rr in ipairs(retrieves) do assert.are.same({"ID", "ListName", "Type"}, rr.Properties) end
    assert.are.same({"ID", "ListName", "Type"}, c:default_properties("List"))
    -- another client asks again
    connect():default_properties("List")
    local total = 0
    for _, q in ipairs(requests) do
      if q.element == "DefinitionRequestMsg" then total = total + 1 end
    end
    assert.are.equal(2, total)
  end)

  it("says what to do when Describe lists nothing", function()
    handler = function()
      return core.encode_message("DefinitionResponseMsg", {RequestID = "d"}, {})
    end
    local ok, err = pcall(connect().default_properties, connect(), "Lsit")
    assert.is_false(ok)
    assert.are.equal("usage", err.kind)
    assert.are.equal("c:retrieve: Describe lists no retrievable properties for 'Lsit' (object "
      .. "types are case-sensitive: check the spelling); pass a property list such as "
      .. "{\"ID\", \"Name\"}", uh.message(err))
  end)

  it("takes a data extension's columns, in order, as its default properties", function()
    handler = function(_, body)
      local rr = body.RetrieveRequest
      if rr.ObjectType == "DataExtensionField" then
        assert.are.equal("DataExtension.CustomerKey", rr.Filter.Property)
        assert.are.same({"loyalty"}, rr.Filter.Value)
        return retrieve_answer("OK", "f", {
          mc.DataExtensionField{Name = "Points", Ordinal = 2},
          mc.DataExtensionField{Name = "SubscriberKey", Ordinal = 0},
          mc.DataExtensionField{Name = "Email", Ordinal = 1}})
      end
      assert.are.same({"SubscriberKey", "Email", "Points"}, rr.Properties)
      return retrieve_answer("OK", "r", {de_row{{"SubscriberKey", "K1"}, {"Email", "e"},
        {"Points", "3"}}})
    end
    local c = connect()
    assert.are.same({{SubscriberKey = "K1", Email = "e", Points = "3"}},
      c:retrieve_all("DataExtensionObject[loyalty]"))
    c:retrieve_all("DataExtensionObject[loyalty]")
    assert.are.equal(3, #requests) -- the columns were asked for once
  end)

  it("keeps memory flat while 100,000 rows stream through", function()
    -- one pre-encoded page of 500 rows, answered 200 times with a new RequestID
    local rows = {}
    for i = 1, 500 do
      rows[i] = de_row{{"SubscriberKey", string.format("K%06d", i)},
        {"Email", string.format("person%06d@example.com", i)}, {"Points", tostring(i % 97)}}
    end
    local more_page = retrieve_answer("MoreDataAvailable", "PAGEID", rows)
    local last_page = retrieve_answer("OK", "PAGEID", rows)
    -- dropped: the pages above are then the only copy of the rows
    rows = nil -- luacheck: ignore 311
    local pages = 200
    handler = function(_, _, n)
      requests[n] = true -- keep the test's own log from growing with decoded requests
      local template = n < pages and more_page or last_page
      return (template:gsub("PAGEID", "page-" .. n))
    end
    collectgarbage("collect")
    local samples = {}
    local count = 0
    for row in connect():each("DataExtensionObject[big]", {"SubscriberKey", "Email", "Points"}) do
      count = count + 1
      assert(row.SubscriberKey)
      if count % 5000 == 250 then
        collectgarbage("collect")
        samples[#samples + 1] = collectgarbage("count")
      end
    end
    assert.are.equal(100000, count)
    assert.are.equal(pages, #requests)
    local first, peak = samples[2], 0
    for i = 2, #samples do peak = math.max(peak, samples[i]) end
    -- a retained page of 500 rows costs well over 150 KB; 100,000 retained rows tens of MB
    assert.is_true(peak - first < 150, string.format("grew from %.0f KB to %.0f KB", first, peak))
  end)
end)

describe("c:retrieve checks before sending (scripted service)", function()
  before_each(function()
    install()
    handler = function(element, body)
      if element == "DefinitionRequestMsg" then
        return core.encode_message("DefinitionResponseMsg", {RequestID = "d", ObjectDefinition = {{
          ObjectType = "List", Name = "List", IsRetrievable = true, Properties = {
            {Name = "ID", IsRetrievable = true}, {Name = "ListName", IsRetrievable = true},
            {Name = "Subscribers", IsRetrievable = false},
            {Name = "IsPlatformObject", IsRetrievable = true}}}}}, {})
      end
      if body.RetrieveRequest.ObjectType == "DataExtensionField" then
        return retrieve_answer("OK", "f", {mc.DataExtensionField{Name = "EmailAddress", Ordinal = 1},
          mc.DataExtensionField{Name = "Tier", Ordinal = 2}})
      end
      return retrieve_answer("OK", "r", {})
    end
  end)
  after_each(wh.restore)

  local function sent()
    return #requests
  end

  it("refuses a misspelt object type with the one meant, sending nothing", function()
    local c = connect()
    assert.are.equal("c:retrieve: there is no object type 'Sends' (did you mean 'Send'?); object "
      .. "types are case-sensitive (mc.types() lists them)", uh.raised(pcall(c.retrieve, c, "Sends", {"ID"})))
    assert.are.equal("c:retrieve: there is no object type 'subscriber' (did you mean "
      .. "'Subscriber'?); object types are case-sensitive (mc.types() lists them)",
      uh.raised(pcall(c.retrieve, c, "subscriber", {"ID"})))
    assert.are.equal("c:retrieve: SimpleFilterPart is not an object type a retrieve can read (it "
      .. "is no APIObject)", uh.raised(pcall(c.retrieve, c, "SimpleFilterPart", {"Property"})))
    -- c:each checks the same way, before its first page
    assert.are.equal("c:retrieve: there is no object type 'Sends' (did you mean 'Send'?); object "
      .. "types are case-sensitive (mc.types() lists them)",
      uh.raised(pcall(function() for _ in c:each("Sends", {"ID"}) do end end)))
    assert.are.equal(0, sent())
  end)

  it("refuses a misspelt property, in any part of a dotted one, sending nothing", function()
    local c = connect()
    assert.are.equal("c:retrieve: Send has no property 'Stauts' (did you mean 'Status'?)",
      uh.raised(pcall(c.retrieve, c, "Send", {"ID", "Stauts"})))
    assert.are.equal("c:retrieve: Send has no property 'status' (did you mean 'Status'?)",
      uh.raised(pcall(c.retrieve, c, "Send", {"status"})))
    assert.are.equal("c:retrieve: Subscriber has no property 'Client.IDD' (did you mean "
      .. "'Client.ID'?)", uh.raised(pcall(c.retrieve, c, "Subscriber", {"Client.IDD"})))
    assert.are.equal(0, sent())
  end)

  it("sends what the schema cannot judge: undeclared types and properties like nothing declared", function()
    local c = connect()
    -- the service knows types and properties the WSDL does not: they are its to refuse
    assert.is_true(c:retrieve("AsyncActivityStatus", {"TaskID", "Whatever"}).ok)
    assert.is_true(c:retrieve("Xyzzy", {"ID"}).ok)
    assert.is_true(c:retrieve("List", {"ID", "IsPlatformObject"}).ok)
    assert.is_true(c:retrieve("Subscriber", {"Client.ID", "EmailAddress"}).ok)
    -- property bags: their properties are a data extension's columns
    assert.is_true(c:retrieve("DataExtensionObject", {"A"}).ok)
    assert.are.equal(5, sent())
  end)

  it("holds properties to Describe's word once the client has asked it", function()
    local c = connect()
    c:default_properties("List")
    local before = sent()
    assert.are.equal("c:retrieve: Describe lists no retrievable property 'Subscribers' for List",
      uh.raised(pcall(c.retrieve, c, "List", {"ID", "Subscribers"})))
    assert.are.equal("c:retrieve: Describe lists no retrievable property 'ListNme' for List "
      .. "(did you mean 'ListName'?)", uh.raised(pcall(c.retrieve, c, "List", {"ListNme"})))
    assert.are.equal(before, sent())
    assert.is_true(c:retrieve("List", {"ID", "IsPlatformObject"}).ok)
  end)

  it("checks a data extension's columns once they are known, in any case", function()
    local c = connect()
    -- not known yet: the service judges
    assert.is_true(c:retrieve("DataExtensionObject[Members]", {"Nope"}).ok)
    assert.are.same({"EmailAddress", "Tier"}, c:default_properties("DataExtensionObject[Members]"))
    local before = sent()
    assert.are.equal("c:retrieve: data extension 'Members' has no column 'Tierr' (did you mean "
      .. "'Tier'?); its columns: EmailAddress, Tier",
      uh.raised(pcall(c.retrieve, c, "DataExtensionObject[Members]", {"emailaddress", "Tierr"})))
    assert.are.equal(before, sent())
    assert.is_true(c:retrieve("DataExtensionObject[Members]", {"emailaddress", "TIER"}).ok)
  end)
end)
