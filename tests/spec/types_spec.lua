-- mc.<Type>{...}, mc.types(), mc.typeof(): checked construction and objects that behave like
-- plain tables. Every message is asserted exactly, including the caller's position.
local core = require "performlua.core"
local mc = require "performlua"
local types = require "performlua.types"

local HERE = debug.getinfo(1, "S").short_src

-- Runs fn (which must fail on the line `line` of this file) and returns the message without
-- its position after checking that the position is the caller's line.
local function usage_at(line, fn)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.is_true(core.is_error(err), tostring(err))
  assert.equal("usage", err.kind)
  local prefix = HERE .. ":" .. line .. ": "
  assert.equal(prefix, err.message:sub(1, #prefix), err.message)
  return err.message:sub(#prefix + 1)
end

local function line() return debug.getinfo(2, "l").currentline end

describe("performlua.types", function()
  it("exports exactly constructor, constructor_name, types, typeof, encode and decode", function()
    local names = {}
    for k in pairs(types) do names[#names + 1] = k end
    table.sort(names)
    assert.same({ "constructor", "constructor_name", "decode", "encode", "typeof", "types" }, names)
  end)

  it("says which type a constructor builds", function()
    assert.equal("EmailSendDefinition", types.constructor_name(mc.EmailSendDefinition))
    assert.is_nil(types.constructor_name(print))
    assert.is_nil(types.constructor_name(mc.connect))
  end)

  it("lays an envelope out for people with {indent = true}, the same document", function()
    local request = { Action = "start", Definitions = { mc.EmailSendDefinition {
      CustomerKey = "k", SenderProfile = mc.SenderProfile { CustomerKey = "s" } } } }
    local flat, indented = mc.encode("Perform", request), mc.encode("Perform", request, { indent = true })
    assert.truthy(indented:find("\n        <Definition xsi:type=\"EmailSendDefinition\">\n"
      .. "          <CustomerKey>k</CustomerKey>\n          <SenderProfile>\n"
      .. "            <CustomerKey>s</CustomerKey>\n          </SenderProfile>\n", 1, true), indented)
    -- the same elements and text: only the whitespace between elements differs
    local function squeeze(xml) return (xml:gsub(">%s+<", "><"):gsub("%s+$", "")) end
    assert.equal(squeeze(flat), squeeze(indented))
    assert.is_nil(flat:find("\n  <", 1, true))
  end)

  it("lists the constructible types, sorted", function()
    local list = mc.types()
    local set = {}
    for i, name in ipairs(list) do
      set[name] = true
      if i > 1 then assert.is_true(list[i - 1] < name) end
    end
    for _, name in ipairs { "APIObject", "EmailSendDefinition", "SimpleFilterPart", "ComplexFilterPart",
                            "APIProperty", "DataExtensionField", "Attribute", "ObjectDefinitionRequest",
                            "PerformOptions", "RetrieveRequest", "AudienceDefinition", "SMSSendActivity",
                            "SmsSendActivity", "SystemEntityOperation", "DailyRecurrence" } do
      assert.is_true(set[name], name)
    end
    for _, name in ipairs { "Options", "Recurrence", "Request", "PerformRequestMsg", "CreateRequest" } do
      assert.is_nil(set[name], name) -- abstract types and message elements are not built by users
    end
    assert.equal(253, #list) -- 252 named WSDL types, less the 3 abstract ones, plus the 4 supplement types
  end)

  it("types.constructor returns nil, without raising, for names that are not types", function()
    assert.is_nil(types.constructor("Nope"))
    assert.is_nil(types.constructor("PerformRequestMsg"))
    assert.is_nil(types.constructor(42))
    assert.is_false(pcall(function() return mc.NotAType end)) -- mc.<Name> raises, see below
    assert.equal(types.constructor("Send"), mc.Send)
  end)

  it("builds objects that read like plain tables and report their type", function()
    local esd = mc.EmailSendDefinition { CustomerKey = "welcome", Name = "Welcome" }
    assert.equal("EmailSendDefinition", mc.typeof(esd))
    assert.equal("welcome", esd.CustomerKey)
    assert.is_nil(esd.Description)
    local keys = {}
    for k, v in pairs(esd) do keys[#keys + 1] = k .. "=" .. v end
    table.sort(keys)
    assert.same({ "CustomerKey=welcome", "Name=Welcome" }, keys)
    esd.Description = "d"
    assert.equal("d", rawget(esd, "Description"))
    esd.Name = nil
    assert.is_nil(esd.Name)
    assert.is_nil(mc.typeof({}))
    assert.is_nil(mc.typeof("EmailSendDefinition"))
    assert.is_nil(mc.typeof(setmetatable({}, { __type = "Send" }))) -- only performlua's metatables count
    assert.same({}, mc.Send())
  end)

  it("shows objects readably", function()
    local text = tostring(mc.EmailSendDefinition { CustomerKey = "x", Client = { ID = 1 } })
    assert.is_nil(text:find("table: 0x", 1, true))
    assert.truthy(text:find('CustomerKey = "x"', 1, true), text)
    assert.truthy(text:find("EmailSendDefinition", 1, true), text)
  end)

  it("raises at the caller's line for an unknown field, with the nearest names", function()
    local l = line(); local msg = usage_at(l, function() return mc.EmailSendDefinition { CustomerKy = "x" } end)
    assert.equal("EmailSendDefinition has no field 'CustomerKy' (did you mean 'CustomerKey'?)", msg)
    l = line(); msg = usage_at(l, function() return mc.EmailSendDefinition { customerkey = "x" } end)
    assert.equal("EmailSendDefinition has no field 'customerkey' (did you mean 'CustomerKey'?)", msg)
    l = line(); msg = usage_at(l, function() return mc.APIProperty { Nam = "x" } end)
    assert.equal("APIProperty has no field 'Nam' (did you mean 'Name'?)", msg)
    l = line(); msg = usage_at(l, function() return mc.Send { Zzzzzzzz = 1 } end)
    assert.equal("Send has no field 'Zzzzzzzz'", msg)
    l = line(); msg = usage_at(l, function() return mc.Send { "x" } end)
    assert.equal("Send takes named fields, got a value at key integer 1", msg)
    l = line(); msg = usage_at(l, function() return mc.Send "x" end)
    assert.equal("mc.Send expects a table of fields, got string 'x'", msg)
  end)

  it("raises at the caller's line for a misspelt type name, with the nearest types", function()
    local l = line(); local msg = usage_at(l, function() return mc.EmailSendDefiniton { CustomerKey = "x" } end)
    assert.equal("mc.EmailSendDefiniton: there is no API type EmailSendDefiniton (did you mean "
      .. "'EmailSendDefinition'?); mc.types() lists them", msg)
    assert.is_nil(mc.subscriber) -- lower case: not a type name, plain nil as for any missing key
    l = line(); msg = usage_at(l, function() return mc.Qqqqqqqqqq end)
    assert.equal("mc.Qqqqqqqqqq: there is no API type Qqqqqqqqqq; mc.types() lists them", msg)
  end)

  it("checks new fields assigned to an object, at the assignment's line", function()
    local esd = mc.EmailSendDefinition {}
    local l = line(); local msg = usage_at(l, function() esd.Nam = "x" end)
    assert.equal("EmailSendDefinition has no field 'Nam' (did you mean 'Name'?)", msg)
    l = line(); msg = usage_at(l, function() esd.SendLimit = "many" end)
    assert.equal("EmailSendDefinition.SendLimit must be an integer (xsd:int), got string 'many'", msg)
    esd.SendLimit = "25"
    assert.equal(25, esd.SendLimit)
    assert.equal("integer", math.type(esd.SendLimit))
  end)

  it("checks and normalises integers with their range", function()
    assert.equal(3, mc.Send { ID = 3.0 }.ID)
    assert.equal("integer", math.type(mc.Send { ID = 3.0 }.ID))
    assert.equal(-7, mc.Send { ID = "-7" }.ID)
    local l = line(); local msg = usage_at(l, function() return mc.Send { ID = 2 ^ 31 } end)
    assert.equal("Send.ID is out of range for xsd:int (-2147483648 to 2147483647), got number 2147483648", msg)
    l = line(); msg = usage_at(l, function() return mc.Send { ID = 1.5 } end)
    assert.equal("Send.ID must be an integer (xsd:int), got number 1.5", msg)
    l = line(); msg = usage_at(l, function() return mc.Send { ID = "12abc" } end)
    assert.equal("Send.ID must be an integer (xsd:int), got string '12abc'", msg)
    l = line(); msg = usage_at(l, function() return mc.PerformOptions { Priority = 128 } end)
    assert.equal("PerformOptions.Priority is out of range for xsd:byte (-128 to 127), got integer 128", msg)
    l = line(); msg = usage_at(l, function() return mc.SenderProfile { DataRetentionPeriodLength = 40000 } end)
    assert.equal("SenderProfile.DataRetentionPeriodLength is out of range for xsd:short (-32768 to 32767), got integer 40000", msg)
    assert.equal(math.maxinteger, mc.ClientID { EnterpriseID = math.maxinteger }.EnterpriseID)
    l = line(); msg = usage_at(l, function() return mc.ClientID { EnterpriseID = "9223372036854775808" } end)
    assert.equal("ClientID.EnterpriseID is out of range for xsd:long (-9223372036854775808 to 9223372036854775807), "
      .. "got string '9223372036854775808'", msg)
  end)

  it("checks booleans, doubles, times and strings", function()
    assert.equal(true, mc.EmailSendDefinition { IsMultipart = "true" }.IsMultipart)
    assert.equal(false, mc.EmailSendDefinition { IsMultipart = false }.IsMultipart)
    local l = line(); local msg = usage_at(l, function() return mc.EmailSendDefinition { IsMultipart = "yes" } end)
    assert.equal("EmailSendDefinition.IsMultipart must be a boolean, got string 'yes'", msg)
    assert.equal(0.25, mc.ValidationResult { Score = "0.25" }.Score)
    assert.equal("float", math.type(mc.ValidationResult { Score = 1 }.Score))
    l = line(); msg = usage_at(l, function() return mc.ValidationResult { Score = "high" } end)
    assert.equal("ValidationResult.Score must be a number (xsd:double), got string 'high'", msg)
    assert.truthy(mc.encode("Perform", { Definitions = {} }) ~= nil)
    assert.equal("08:30:00", mc.EmailSendDefinition { SendWindowOpen = "08:30:00" }.SendWindowOpen)
    l = line(); msg = usage_at(l, function() return mc.EmailSendDefinition { SendWindowOpen = "8:30" } end)
    assert.equal("EmailSendDefinition.SendWindowOpen must be a time such as '13:45:00', got string '8:30'", msg)
    assert.equal("42", mc.Send { Subject = 42 }.Subject)
    assert.equal("0.5", mc.Send { Subject = 0.5 }.Subject)
    l = line(); msg = usage_at(l, function() return mc.Send { Subject = {} } end)
    assert.equal("Send.Subject must be a string, got a table", msg)
    l = line(); msg = usage_at(l, function() return mc.Send { Subject = "bell\7" } end)
    assert.equal("Send.Subject contains the character U+0007, which XML cannot carry (byte 5)", msg)
    l = line(); msg = usage_at(l, function() return mc.Send { Subject = "caf\xe9" } end)
    assert.equal("Send.Subject is not valid UTF-8 (byte 4)", msg)
  end)

  it("checks dateTimes: ISO 8601 strings kept, os.time() numbers converted to UTC", function()
    assert.equal("2024-05-01T13:45:00Z", mc.Send { SendDate = 1714571100 }.SendDate)
    assert.equal("2024-05-01T13:45:00.5+02:00", mc.Send { SendDate = "2024-05-01T13:45:00.5+02:00" }.SendDate)
    assert.equal("2024-02-29T00:00:00", mc.Send { SendDate = "2024-02-29T00:00:00" }.SendDate)
    for _, bad in ipairs { "2023-02-29T00:00:00", "2024-05-01", "2024-05-01 13:45:00", "yesterday", "2024-13-01T00:00:00Z" } do
      local l = line(); local msg = usage_at(l, function() return mc.Send { SendDate = bad } end)
      assert.equal("Send.SendDate must be a dateTime: an ISO 8601 string such as '2024-05-01T13:45:00Z' "
        .. "or an os.time() number, got string '" .. bad .. "'", msg)
    end
  end)

  it("checks enumerations and lists the valid values", function()
    assert.equal("equals", mc.SimpleFilterPart { SimpleOperator = "equals" }.SimpleOperator)
    local l = line(); local msg = usage_at(l, function() return mc.Subscriber { Status = "active" } end)
    assert.equal("Subscriber.Status must be one of Active, Bounced, Held, Unsubscribed, Deleted, got string 'active' (did you mean 'Active'?)", msg)
  end)

  it("names the value meant when an enumeration value is misspelt", function()
    local l = line(); local msg = usage_at(l, function() return mc.SimpleFilterPart { SimpleOperator = "equal" } end)
    assert.equal("SimpleFilterPart.SimpleOperator must be one of equals, notEquals, greaterThan, "
      .. "lessThan, isNull, isNotNull, greaterThanOrEqual, lessThanOrEqual, between, IN, like, "
      .. "existsInString, existsInStringAsAWord, notExistsInString, beginsWith, endsWith, "
      .. "contains, notContains, isAnniversary, isNotAnniversary, greaterThanAnniversary, "
      .. "lessThanAnniversary, got string 'equal' (did you mean 'equals'?)", msg)
    -- a value nothing like any of them gets the list alone
    l = line(); msg = usage_at(l, function() return mc.Subscriber { Status = "zzzzzzzz" } end)
    assert.equal("Subscriber.Status must be one of Active, Bounced, Held, Unsubscribed, Deleted, got string 'zzzzzzzz'", msg)
  end)

  it("makes a single value of a repeated field a one-element array", function()
    local f = mc.SimpleFilterPart { Property = "ID", SimpleOperator = "IN", Value = "1" }
    assert.same({ "1" }, f.Value)
    assert.same({ "1", "2" }, mc.SimpleFilterPart { Value = { 1, "2" } }.Value)
    local o = mc.APIObject { PartnerProperties = { Name = "a", Value = "b" } }
    assert.same({ { Name = "a", Value = "b" } }, o.PartnerProperties)
    assert.equal("APIProperty", mc.typeof(o.PartnerProperties[1]))
    local de = mc.DataExtension { Fields = { { Name = "Email" }, mc.DataExtensionField { Name = "Points" } } }
    assert.equal(2, #de.Fields)
    assert.equal("DataExtensionField", mc.typeof(de.Fields[1]))
    assert.same({}, mc.DataExtension { Fields = {} }.Fields)
    local l = line(); local msg = usage_at(l, function() return mc.DataExtension { Fields = { { Nme = "x" } } } end)
    assert.equal("DataExtension.Fields[1]: DataExtensionField has no field 'Nme' (did you mean 'Name'?)", msg)
  end)

  it("builds plain tables in complex fields as the declared type, keeps subtypes, refuses others", function()
    local send = mc.Send { Email = { ID = 5 } }
    assert.equal("Email", mc.typeof(send.Email))
    local ts = mc.TriggeredSendDefinition { CustomerKey = "t" }
    local imp = mc.ImportDefinition { DestinationObject = mc.DataExtension { CustomerKey = "de" } }
    assert.equal("DataExtension", mc.typeof(imp.DestinationObject)) -- a subtype keeps its type
    local l = line(); local msg = usage_at(l, function() return mc.Send { Email = mc.List {} } end)
    assert.equal("Send.Email must be an Email object (or a subtype), got a List object", msg)
    l = line(); msg = usage_at(l, function() return mc.Send { Email = "welcome" } end)
    assert.equal("Send.Email must be a table or an Email object, got string 'welcome'", msg)
    l = line(); msg = usage_at(l, function() return mc.Send { Email = { { ID = 1 } } } end)
    assert.equal("Send.Email takes one Email, got an array", msg)
    l = line(); msg = usage_at(l, function() return mc.Send { Email = { Nme = "x" } } end)
    assert.equal("Send.Email: Email has no field 'Nme' (did you mean 'Name'?)", msg)
    assert.equal("TriggeredSendDefinition", mc.typeof(ts))
  end)

  it("infers filter parts and recurrences from their fields", function()
    local filter = mc.ComplexFilterPart { LeftOperand = { Property = "a", SimpleOperator = "equals", Value = "1" },
      LogicalOperator = "AND", RightOperand = { LeftOperand = { Property = "b", SimpleOperator = "isNull" },
        LogicalOperator = "OR", RightOperand = { Property = "c", SimpleOperator = "isNotNull" } } }
    assert.equal("SimpleFilterPart", mc.typeof(filter.LeftOperand))
    assert.equal("ComplexFilterPart", mc.typeof(filter.RightOperand))
    assert.equal("SimpleFilterPart", mc.typeof(filter.RightOperand.RightOperand))
    local filter_with_typo = { Property = "x", SimpleOperator = "like", Valu = "1" }
    local l = line(); local msg = usage_at(l, function() return mc.RetrieveRequest { Filter = filter_with_typo } end)
    assert.equal("RetrieveRequest.Filter: SimpleFilterPart has no field 'Valu' (did you mean 'Value'?)", msg)
    local schedule = mc.ScheduleDefinition { Recurrence = { MinutelyRecurrencePatternType = "Interval", MinuteInterval = 5 } }
    assert.equal("MinutelyRecurrence", mc.typeof(schedule.Recurrence))
    l = line(); msg = usage_at(l, function() return mc.ScheduleDefinition { Recurrence = { Every = 5 } } end)
    assert.equal("ScheduleDefinition.Recurrence: Recurrence is abstract and these fields fit none of its types; "
      .. "build the value with one of their constructors (DailyRecurrence, HourlyRecurrence, MinutelyRecurrence, "
      .. "MonthlyRecurrence, WeeklyRecurrence, YearlyRecurrence)", msg)
  end)

  it("bounds nesting: a plain table that contains itself is an error, not a crash", function()
    local f = { LogicalOperator = "AND" }
    f.LeftOperand = f
    local l = line(); local msg = usage_at(l, function() return mc.ComplexFilterPart(f) end)
    assert.truthy(msg:find(": nesting deeper than 128 (does a table contain itself?)", 1, true), msg)
    local deep = { Property = "p", SimpleOperator = "equals", Value = "0" }
    for i = 1, 100 do deep = { LeftOperand = deep, LogicalOperator = "OR",
                                RightOperand = { Property = "p", SimpleOperator = "equals", Value = tostring(i) } } end
    local built = mc.ComplexFilterPart(deep) -- a hundred ORs is legitimate
    assert.truthy(mc.encode("Retrieve", { RetrieveRequest = { ObjectType = "Send", Filter = built } }))
  end)

  it("never guesses an APIObject subtype for a plain table", function()
    local l = line(); local msg = usage_at(l, function() return mc.ImportDefinition { DestinationObject = { Name = "x" } } end)
    assert.equal("ImportDefinition.DestinationObject: APIObject has no field 'Name'; build the object with its type's "
      .. "constructor (e.g. mc.EmailSendDefinition{...}) so that it is sent as that type", msg)
  end)

  it("shares one metatable per type between constructors and the decoder", function()
    local built = mc.QueryDefinition { CustomerKey = "q" }
    local decoded = mc.decode(mc.encode("Perform", { Action = "start", Definitions = { built } })).Definitions[1]
    assert.equal(getmetatable(built), getmetatable(decoded))
    assert.equal(getmetatable(built), core.object_metatable("QueryDefinition"))
    assert.equal("AsyncActivityStatus", mc.typeof(setmetatable({}, core.object_metatable("AsyncActivityStatus"))))
  end)

  it("suggests names through core.suggest, as the constructors do for fields", function()
    -- the nearest only, a case-only difference nearest of all, in the candidates' order
    assert.same({ "CustomerKey" }, core.suggest("CustomerKy", { "Name", "CustomerKey", "Client" }))
    assert.same({ "customerkey" }, core.suggest("CustomerKey", { "CustomerKy", "customerkey" }))
    assert.same({ "Lists", "Liszt" }, core.suggest("List", { "Lists", "Liszt", "L" }))
    assert.same({ "Lists" }, core.suggest("List", { "Lists", "Liszt" }, 1))
    assert.same({}, core.suggest("Qqqqqqqqqq", core.object_types()))
    local ok, err = pcall(core.suggest, "x", { "a", 3 })
    assert.is_false(ok)
    assert.matches("candidate 2 is a number, expected a string", err)
  end)

  it("checks single fields through core.check_field", function()
    assert.equal(5, core.check_field("Send", "ID", "5"))
    assert.same({ "a" }, core.check_field("SimpleFilterPart", "Value", "a"))
    local ok, err = pcall(core.check_field, "Send", "Idd", 1)
    assert.is_false(ok)
    assert.equal("Send has no field 'Idd' (did you mean 'ID'?)", err.message:gsub("^[^:]*:%d+: ", ""))
  end)
end)
