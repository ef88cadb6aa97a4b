-- The sandbox's pure-Lua parts without a server: the value serializer, the clock, filters,
-- fault specs and the account store. (Its command-line flags: tests/cli/cli_sandbox.sh.)
local core = require "performlua.core"
local serial = require "performlua.sandbox.serial"
local clock = require "performlua.sandbox.clock"
local filter = require "performlua.sandbox.filter"
local account = require "performlua.sandbox.account"
local service = require "performlua.sandbox.service"

describe("sandbox serial", function()
  it("round-trips nested values, keeping integers, floats and strings apart", function()
    local v = {1, 2.5, "x\n\"y\"", true, {a = {b = -3}, [10] = 0.1}, n = 2^53, f = 1.0, h = math.huge}
    local back = serial.load(serial.dump(v))
    assert.are.same(v, back)
    assert.are.equal("integer", math.type(back[1]))
    assert.are.equal("float", math.type(back.f))
  end)

  it("refuses functions and cycles with a message naming where", function()
    local ok, err = pcall(serial.dump, {a = {print}})
    assert.is_false(ok)
    assert.are.equal("value.a[1] is a function, which cannot be passed to the sandbox", err)
    local t = {}
    t.self = t
    ok, err = pcall(serial.dump, t)
    assert.is_false(ok)
    assert.are.equal("value.self refers to itself (cycles cannot be copied)", err)
  end)

  it("loads text only, with no access to globals", function()
    assert.has_error(function() serial.load("return os.exit(1)") end)
  end)
end)

describe("sandbox clock", function()
  it("runs at its speed and jumps with advance", function()
    local c = clock.new(1000, 0)
    local a = c:now()
    core.sleep(0.01)
    assert.is_true(c:now() - a >= 10)
    c:advance(100)
    assert.is_true(c:now() - a >= 110)
    assert.has_error(function() clock.new(0) end, "speed must be a positive number (1 = real time)")
  end)

  it("formats and parses dateTimes", function()
    assert.are.equal("1970-01-02T00:00:01.500Z", clock.format(86401.5))
    assert.are.equal(86401, clock.parse("1970-01-02T00:00:01Z"))
    assert.are.equal(86400, clock.parse("1970-01-02"))
    assert.are.equal(86400 - 3600, clock.parse("1970-01-02T00:00:00+01:00"))
    assert.are.equal(86400 + 13 * 3600, clock.parse("1/2/1970 1:00 PM"))
    assert.is_nil(clock.parse("yesterday"))
  end)
end)

describe("sandbox filter", function()
  local row = {Name = "Ada Lovelace", Points = "250", Joined = "2025-03-05T10:00:00", Empty = ""}
  local function m(part) return filter.matches(part, function(p) return row[p] end) end
  local function S(p, op, v, dv) return {Property = p, SimpleOperator = op, Value = v, DateValue = dv} end

  it("reads like patterns as SQL does, any text in a set taken literally", function()
    local function like(v, pattern) return filter.matches(S("x", "like", {pattern}), function() return v end) end
    assert.is_true(like("abc", "[a-c]bc"))
    assert.is_false(like("dbc", "[a-c]bc"))
    assert.is_true(like("bx", "[^a]x"))
    assert.is_false(like("ax", "[^a]x"))
    assert.is_true(like("%x", "[%]x"))
    assert.is_true(like("x+y", "x[+]y"))
    assert.is_true(like("-x", "[-a]x"))
    -- an empty or unclosed set is a literal "[", not an error
    assert.is_true(like("[]", "[]"))
    assert.is_true(like("a[b", "a[b"))
  end)

  it("compares numbers as numbers and text as text", function()
    assert.is_true(m(S("Points", "greaterThan", {"99"})))      -- as text "250" < "99"
    assert.is_true(m(S("Name", "lessThan", {"Bob"})))
    assert.is_false(m(S("Name", "equals", {"ada lovelace"})))  -- equality is exact
    assert.is_true(m(S("Name", "like", {"ada%"})))             -- like ignores case
    assert.is_true(m(S("Name", "like", {"A_a Lovelac_"})))
    assert.is_false(m(S("Name", "like", {"Ada"})))
  end)

  it("treats missing and empty values as null", function()
    assert.is_true(m(S("Empty", "isNull")))
    assert.is_true(m(S("Missing", "isNull")))
    assert.is_false(m(S("Missing", "notEquals", {"x"})))
    assert.is_true(m(S("Name", "isNotNull")))
  end)

  it("compares dates, anniversaries included", function()
    assert.is_true(m(S("Joined", "between", nil, {"2025-03-01T00:00:00Z", "2025-03-31T00:00:00Z"})))
    assert.is_true(m(S("Joined", "isAnniversary", {"2019-03-05"})))
    assert.is_false(m(S("Joined", "isNotAnniversary", {"2019-03-05"})))
    assert.is_true(m(S("Joined", "greaterThanAnniversary", {"2030-01-01"})))
    assert.is_true(m(S("Joined", "lessThanAnniversary", {"2000-12-31"})))
  end)

  it("checks filters before use", function()
    local ok, err = pcall(filter.check, S("Name", "sortOf", {"x"}))
    assert.is_false(ok)
    assert.are.same({filter_error = "The filter operator 'sortOf' is not a SimpleOperator"}, err)
    ok, err = pcall(filter.check, {LeftOperand = S("Name", "equals", {"x"}), LogicalOperator = "XOR"})
    assert.is_false(ok)
    assert.are.equal("The LogicalOperator 'XOR' is neither AND nor OR", err.filter_error)
  end)
end)

describe("sandbox account identity index", function()
  local function typed(t, fields) return setmetatable(fields, core.object_metatable(t)) end

  it("finds by every identity key as objects are created, renamed and deleted", function()
    local a = account.new{}
    a:load_seed{List = {{ID = 11, CustomerKey = "news", ListName = "News"}},
      DataExtension = {{CustomerKey = "de-a", Name = "A", Fields = {{Name = "K", IsPrimaryKey = true}}}}}
    local created = a:create_one(typed("DataExtension", {CustomerKey = "de-b", Name = "B",
      Fields = {{Name = "K", IsPrimaryKey = true}}}), {})
    assert.are.equal("OK", created.StatusCode)
    local b = a:find("DataExtension", {CustomerKey = "de-b"})
    assert.are.equal("B", b.Name)
    assert.are.equal(b, a:find("DataExtension", {ObjectID = b.ObjectID}))
    assert.are.equal(b, a:find("DataExtension", {Name = "B"}))
    assert.are.equal(11, a:find("List", {ID = "11"}).ID) -- IDs compare as text, as sent
    -- an Update that renames: the new key finds it, the old one no longer does
    assert.are.equal("OK", a:update_one(typed("DataExtension", {CustomerKey = "de-b", Name = "B2"}), {}).StatusCode)
    assert.are.equal(b, a:find("DataExtension", {Name = "B2"}))
    local gone, _, how = a:find("DataExtension", {Name = "B"})
    assert.is_nil(gone)
    assert.are.equal("Name 'B'", how)
    assert.are.equal("OK", a:update_one(typed("DataExtension", {ObjectID = b.ObjectID, CustomerKey = "de-c"}), {}).StatusCode)
    assert.are.equal(b, a:find("DataExtension", {CustomerKey = "de-c"}))
    assert.is_nil(a:find("DataExtension", {CustomerKey = "de-b"}))
    -- deleted, then created again under the same key: the new object, not the old one
    assert.are.equal("OK", a:delete_one(typed("DataExtension", {CustomerKey = "de-c"}), {}).StatusCode)
    assert.is_nil(a:find("DataExtension", {CustomerKey = "de-c"}))
    assert.are.equal("A", a:find("DataExtension", {CustomerKey = "de-a"}).Name)
    a:create_one(typed("DataExtension", {CustomerKey = "de-c", Name = "C", Fields = {{Name = "K"}}}), {})
    assert.are.equal("C", a:find("DataExtension", {CustomerKey = "de-c"}).Name)
  end)

  it("keeps the first stored object of a key in each business unit", function()
    local a = account.new{account_id = 100}
    a:load_seed{BusinessUnit = {{ID = 100, Name = "Top"}, {ID = 200, Name = "Child", ParentID = 100}},
      List = {{ID = 1, CustomerKey = "k", ListName = "top"}, {ID = 2, CustomerKey = "k", ListName = "child", _mid = 200},
        {ID = 3, CustomerKey = "k", ListName = "child, later", _mid = 200}}}
    assert.are.equal("top", a:find("List", {CustomerKey = "k"}, 100).ListName)
    assert.are.equal("child", a:find("List", {CustomerKey = "k"}, 200).ListName)
    assert.are.equal("top", a:find("List", {CustomerKey = "k"}).ListName)
    assert.are.equal("OK", a:delete_one(typed("List", {ID = 2}), {mid = 200}).StatusCode)
    assert.are.equal("child, later", a:find("List", {CustomerKey = "k"}, 200).ListName)
    assert.is_nil(a:find("List", {CustomerKey = "k"}, 300))
  end)

  it("looks an object up without reading the whole list", function()
    local a = account.new{}
    for i = 1, 50 do
      a:insert("Subscriber", {SubscriberKey = "s" .. i, EmailAddress = "s" .. i .. "@example.com"})
    end
    assert.are.equal("s50", a:find_subscriber("s50").SubscriberKey)
    -- reading past the end of the list is what a scan does for a key that is not there
    setmetatable(a.types.Subscriber.list, {__index = function() error("the whole list was read") end})
    assert.is_nil(a:find("Subscriber", {SubscriberKey = "missing"}))
    assert.is_nil(a:find_subscriber("missing"))
    assert.are.equal("s7@example.com", a:find("Subscriber", {SubscriberKey = "s7"}).EmailAddress)
    a:insert("Subscriber", {SubscriberKey = "s51"})
    assert.are.equal("s51", a:find_subscriber("s51").SubscriberKey)
  end)
end)

describe("sandbox account store", function()
  it("refuses a seed with unknown types or fields", function()
    local a = account.new{}
    local ok, err = pcall(a.load_seed, a, {Lists = {{ID = 1}}})
    assert.is_false(ok)
    assert.are.equal("the seed lists objects of type 'Lists', which is not an object type of the "
      .. "partner API (types are case-sensitive)", err)
    ok, err = pcall(a.load_seed, account.new{}, {List = {{ID = 1, Colour = "red"}}})
    assert.is_false(ok)
    assert.are.equal("the seed's List #1 has the field 'Colour', which List does not have (fields "
      .. "are case-sensitive; sandbox-only data goes in keys starting with _)", err)
    ok, err = pcall(a.load_seed, account.new{}, {List = {{ID = "x"}}})
    assert.is_false(ok)
    assert.are.equal("the seed's List #1: List.ID must be an integer (xsd:int), got string 'x'", err)
  end)

  it("keeps nested objects typed, from the seed's _type and from decoded requests", function()
    local a = account.new{}
    a:load_seed{ImportDefinition = {{CustomerKey = "i", DestinationObject = {_type = "DataExtension", CustomerKey = "d"}}}}
    assert.are.equal("DataExtension", core.typeof(a:find("ImportDefinition", {CustomerKey = "i"}).DestinationObject))
    local created = a:create_one(setmetatable({CustomerKey = "j", DestinationObject =
      setmetatable({CustomerKey = "d"}, core.object_metatable("DataExtension"))},
      core.object_metatable("ImportDefinition")), {})
    assert.are.equal("OK", created.StatusCode)
    assert.are.equal("DataExtension", core.typeof(a:find("ImportDefinition", {CustomerKey = "j"}).DestinationObject))
  end)

  it("gives created objects version 4 UUIDs as ObjectID and default CustomerKey", function()
    local a = account.new{}
    local created = a:create_one(setmetatable({ListName = "no key"}, core.object_metatable("List")), {})
    assert.are.equal("OK", created.StatusCode)
    local list = created.Object
    local v4 = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
    assert.matches(v4, list.ObjectID)
    assert.are.equal(list.ObjectID, list.CustomerKey)
    assert.matches(v4, core.uuid())
    assert.are_not.equal(list.ObjectID, account.uuid())
  end)

  it("loads the default seed and names its keys", function()
    local a = account.new{}
    a:load_seed(require "performlua.sandbox.seed")
    for t, key in pairs{AudienceDefinition = "spring-prospects", EmailSendDefinition = "spring-sale-send",
        SenderProfile = "spring-team", ImportDefinition = "daily-loyalty-import",
        QueryDefinition = "active-subscribers-query", DataExtension = "Customers",
        Automation = "nightly-refresh"} do
      assert.truthy(a:find(t, {CustomerKey = key}), t .. " " .. key)
    end
    assert.are.equal(40, a:row_store("Customers"):count())
    assert.are.equal(1000000, a:row_store("Big_Generated").generated.count)
  end)

  it("blanks a Header that follows the Body for validation, keeping its line breaks", function()
    local blank = service.header_after_body_blanked
    assert.are.equal('<e:Envelope><e:Body><m/></e:Body>\n\n\n</e:Envelope>',
      blank('<e:Envelope><e:Body><m/></e:Body>\n<e:Header a="1">\n<t>x</t></e:Header>\n</e:Envelope>'))
    assert.are.equal("<Envelope><Body/></Body></Envelope>",
      blank("<Envelope><Body/></Body><Header\n/></Envelope>"):gsub("\n", ""))
    assert.is_nil(blank("<e:Envelope><e:Header/><e:Body><m/></e:Body></e:Envelope>"))
    assert.is_nil(blank("<e:Envelope><e:Body><m/></e:Body><e:Header><t/></e:Envelope>"))
  end)

  require("wsdl_helper").it("validates requests with a validator it is given, as with the WSDL's path", function()
    local validator = core.xsd_load(require("wsdl_helper").path())
    local handle = service.new{validator = validator}
    local r = handle{method = "POST", path = "/Service.asmx", headers = {soapaction = "Retrieve"},
      body = core.encode("Retrieve", {RetrieveRequest = {ObjectType = "Send", Properties = {"ID"}}},
        {header = {username = "sandbox", password = "sandbox"}}):gsub("<ObjectType>", "<Bogus/>%0")}
    -- the XSD refuses the unknown element; the service would skip it, and so does the sandbox
    assert.are.equal(200, r.status)
    assert.are.equal("RetrieveRequestMsg/RetrieveRequest/Bogus (unknown element)",
      r.headers["X-Sandbox-Dropped"])
    r = handle{method = "POST", path = "/Service.asmx", headers = {soapaction = "Retrieve"},
      body = core.encode("Retrieve", {RetrieveRequest = {ObjectType = "Send", Properties = {"ID"},
        Options = {BatchSize = 10}}}, {header = {username = "sandbox", password = "sandbox"}})
        :gsub("<BatchSize>10<", "<BatchSize>ten<")}
    assert.are.equal(500, r.status)
    local ok, err = pcall(core.decode, r.body)
    assert.is_false(ok)
    assert.truthy(err.message:find("Input string was not in a correct format. ('ten' is not a "
      .. "whole number)", 1, true), err.message)
  end)

  it("parses fault specs", function()
    assert.are.same({kind = "truncate", every = 4}, service.parse_fault("truncate:4"))
    local ok, err = pcall(service.parse_fault, "throttle:0")
    assert.is_false(ok)
    assert.are.equal("fault 'throttle:0': N must be a whole number of at least 1 (every Nth SOAP "
      .. "request)", err)
  end)
end)
