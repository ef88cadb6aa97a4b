-- Sandbox operations beyond CRUD and Perform: Execute requests and queued asynchronous requests.
local sh = require "sandbox_helper"

local obj = sh.obj

local sb = sh.shared()

local function once(fields)
  fields.Recurrence = obj("DailyRecurrence", {DailyRecurrencePatternType = "Interval", DayInterval = 1})
  fields.RecurrenceType, fields.RecurrenceRangeType, fields.Occurrences = "Daily", "EndAfter", 1
  return fields
end

local function call(op, request) return (sh.ok_call(sb, sb.token, op, request)) end

local function subscriber(key)
  for _, s in ipairs(sb:objects("Subscriber")) do
    if s.SubscriberKey == key then return s end
  end
end

describe("sandbox Execute", function()
  sb:serve(setup, teardown)

  it("LogUnsubEvent unsubscribes the subscriber named by SubscriberKey or EmailAddress", function()
    local d = call("Execute", {Requests = {
      obj("ExecuteRequest", {Name = "LogUnsubEvent", Parameters = {
        {Name = "SubscriberKey", Value = "ada@example.com"}, {Name = "JobID", Value = "52000001"},
        {Name = "Reason", Value = "Unsubscribed by a script"}}}),
      obj("ExecuteRequest", {Name = "LogUnsubEvent", Parameters = {
        {Name = "EmailAddress", Value = "GRACE@example.com"}}})}})
    assert.are.equal("OK", d.OverallStatus)
    assert.are.equal("OK", d.Results[1].StatusCode)
    assert.are.equal("Event posted", d.Results[1].StatusMessage)
    assert.are.equal(0, d.Results[1].OrdinalID)
    assert.are.equal(1, d.Results[2].OrdinalID)
    assert.are.equal("Unsubscribed", subscriber("ada@example.com").Status)
    assert.are.equal("Unsubscribed", subscriber("grace@example.com").Status)
    assert.are.equal("Active", subscriber("barbara@example.com").Status)
  end)

  it("answers an unknown subscriber and an unknown request Name with Error results", function()
    local d = call("Execute", {Requests = {
      obj("ExecuteRequest", {Name = "LogUnsubEvent", Parameters = {
        {Name = "SubscriberKey", Value = "nobody@example.com"}}}),
      obj("ExecuteRequest", {Name = "LogUnsubEvent", Parameters = {}}),
      obj("ExecuteRequest", {Name = "Frobnicate"})}})
    assert.are.equal("Error", d.OverallStatus)
    assert.are.equal("No Subscriber with SubscriberKey 'nobody@example.com' exists", d.Results[1].StatusMessage)
    assert.are.equal(107, d.Results[1].ErrorCode)
    assert.are.equal("LogUnsubEvent needs a SubscriberKey or EmailAddress parameter", d.Results[2].StatusMessage)
    assert.are.equal(6, d.Results[2].ErrorCode)
    assert.are.equal("Unknown Execute request Name 'Frobnicate': the sandbox knows LogUnsubEvent",
      d.Results[3].StatusMessage)
    assert.are.equal("Error", d.Results[3].StatusCode)
  end)
end)

describe("sandbox asynchronous requests", function()
  sb:serve(setup, teardown)

  local function items(rid)
    return call("Retrieve", {RetrieveRequest = {ObjectType = "ResultItem",
      Properties = {"RequestID", "StatusCode", "StatusMessage", "OrdinalID"},
      Filter = {Property = "RequestID", SimpleOperator = "equals", Value = rid}}}).Results or {}
  end

  local function list_count(key)
    local n = 0
    for _, l in ipairs(sb:objects("List")) do if l.CustomerKey == key then n = n + 1 end end
    return n
  end

  it("are queued: nothing happens and no ResultItem exists until the clock moves on", function()
    sb:set_speed(0.001) -- the clock all but stands still unless advanced
    local d = call("Create", {Options = {RequestType = "Asynchronous"},
      Objects = {obj("List", {CustomerKey = "queued-list", ListName = "Queued"})}})
    assert.are.equal("Queued", d.Results[1].StatusMessage)
    assert.are.equal(0, list_count("queued-list"))
    assert.are.equal(0, #items(d.RequestID))
    sb:clock_advance(0.5)
    local got = items(d.RequestID)
    assert.are.equal(1, #got)
    assert.are.equal("OK", got[1].StatusCode)
    assert.are.equal(1, list_count("queued-list"))
  end)

  it("with Options.ScheduledTime wait for that time", function()
    sb:set_speed(0.001)
    local at = math.floor(sb:now()) + 3600
    local d = call("Create", {Options = {RequestType = "Asynchronous", ScheduledTime = at},
      Objects = {obj("List", {CustomerKey = "later-list", ListName = "Later"})}})
    sb:clock_advance(60)
    assert.are.equal(0, #items(d.RequestID))
    assert.are.equal(0, list_count("later-list"))
    sb:clock_advance(3600)
    assert.are.equal(1, #items(d.RequestID))
    assert.are.equal(1, list_count("later-list"))
  end)
end)

describe("sandbox AsyncActivityStatus filters", function()
  sb:serve(setup, teardown, {speed = 0.001})

  local function start_query()
    local d = call("Perform", {Action = "start",
      Definitions = {obj("QueryDefinition", {CustomerKey = "active-subscribers-query"})}})
    return d.Results[1].Task.ID
  end

  local function task_ids(filter)
    local got = call("Retrieve", {RetrieveRequest = {ObjectType = "AsyncActivityStatus",
      Properties = {"TaskID", "Status"}, Filter = filter}}).Results or {}
    local ids = {}
    for _, o in ipairs(got) do
      for _, p in ipairs(o.Properties or {}) do
        if p.Name == "TaskID" then ids[#ids + 1] = tostring(p.Value) end
      end
    end
    table.sort(ids)
    return table.concat(ids, ",")
  end

  it("filter by TaskID and by StartTime/EndTime read from Value, ignoring the logical operator and DateValue", function()
    local first = tostring(start_query())
    sb:clock_advance(3600)
    local middle = os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(sb:now()) - 1800)
    local second = tostring(start_query())
    local both = first < second and (first .. "," .. second) or (second .. "," .. first)
    assert.are.equal(first, task_ids({Property = "TaskID", SimpleOperator = "equals", Value = first}))
    assert.are.equal(second, task_ids({Property = "StartTime", SimpleOperator = "greaterThan", Value = middle}))
    assert.are.equal(first, task_ids({Property = "EndTime", SimpleOperator = "lessThan", Value = middle}))
    -- OR is read as the server reads it: both parts must hold
    assert.are.equal("", task_ids(obj("ComplexFilterPart", {
      LeftOperand = {Property = "TaskID", SimpleOperator = "equals", Value = first},
      LogicalOperator = "OR",
      RightOperand = {Property = "StartTime", SimpleOperator = "greaterThan", Value = middle}})))
    -- DateValue is ignored: a StartTime given only there filters nothing
    assert.are.equal(both, task_ids({Property = "StartTime", SimpleOperator = "greaterThan",
      DateValue = {middle}}))
  end)
end)

describe("sandbox Schedule", function()
  sb:serve(setup, teardown, {speed = 0.001})

  it("start stores the schedule and starts the send when the clock reaches StartDateTime", function()
    local at = os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(sb:now()) + 3600)
    local before = #sb:objects("Send")
    local d = call("Schedule", {Action = "start",
      Schedule = once{Name = "in an hour", StartDateTime = at},
      Interactions = {obj("EmailSendDefinition", {CustomerKey = "spring-sale-send"}),
                      obj("EmailSendDefinition", {CustomerKey = "no-such-send"})}})
    assert.are.equal("Has Errors", d.OverallStatus)
    assert.are.equal("OK", d.Results[1].StatusCode)
    assert.are.equal("Scheduled", d.Results[1].StatusMessage)
    assert.are.equal("in an hour", d.Results[1].Object.Name)
    assert.is_truthy(tonumber(d.Results[1].Task.ID))
    assert.are.equal("Error", d.Results[2].StatusCode)
    assert.are.equal(107, d.Results[2].ErrorCode)
    assert.are.equal("EmailSendDefinition not found: no EmailSendDefinition with CustomerKey "
      .. "'no-such-send' exists in this account", d.Results[2].StatusMessage)
    -- the scheduled Send is stored at once (ID = Task.ID, Scheduled) and waits for its time
    sb:clock_advance(1800)
    assert.are.equal(before + 1, #sb:objects("Send"))
    assert.is_nil(sb:stats().sends_by_definition["spring-sale-send"])
    sb:clock_advance(1801)
    assert.are.equal(before + 1, #sb:objects("Send"))
    assert.are.equal(1, sb:stats().sends_by_definition["spring-sale-send"])
  end)

  it("refuses actions other than start and a schedule without StartDateTime", function()
    local d = call("Schedule", {Action = "pause", Schedule = once{Name = "x"},
      Interactions = {obj("EmailSendDefinition", {CustomerKey = "spring-sale-send"})}})
    assert.are.equal("Error", d.OverallStatus)
    assert.are.equal("The Schedule action 'pause' is not supported: use start", d.Results[1].StatusMessage)
    d = call("Schedule", {Action = "start", Schedule = once{Name = "x"},
      Interactions = {obj("EmailSendDefinition", {CustomerKey = "spring-sale-send"})}})
    assert.are.equal("The ScheduleDefinition needs a StartDateTime", d.Results[1].StatusMessage)
  end)
end)

describe("sandbox Extract", function()
  sb:serve(setup, teardown, {speed = 0.001})

  local function status_of(task_id)
    local got = call("Retrieve", {RetrieveRequest = {ObjectType = "AsyncActivityStatus",
      Properties = {"TaskID", "Status", "Type"},
      Filter = {Property = "TaskID", SimpleOperator = "equals", Value = task_id}}}).Results or {}
    assert.are.equal(1, #got)
    local bag = {}
    for _, p in ipairs(got[1].Properties or {}) do bag[p.Name] = p.Value end
    return bag
  end

  it("echoes the request and leaves a task whose status moves on the clock", function()
    local d = call("Extract", {Requests = {
      obj("ExtractRequest", {ID = "c7219016-a7f0-4c72-8657-1ec12c28a0db", Options = {},
        Parameters = {{Name = "OutputFileName", Value = "out.zip"}}})}})
    assert.are.equal("OK", d.OverallStatus)
    local r = d.Results[1]
    assert.are.equal("Extract queued", r.StatusMessage)
    assert.are.equal("c7219016-a7f0-4c72-8657-1ec12c28a0db", r.Request.ID)
    assert.are.equal("Queued", status_of(r.RequestID).Status)
    assert.are.equal("ExtractRequest", status_of(r.RequestID).Type)
    sb:clock_advance(2)
    assert.are.equal("Complete", status_of(r.RequestID).Status)
  end)
end)

-- Without --wsdl the sandbox reads requests whose values do not fit their types (the service's
-- deserializer is as lenient with some). What it carries back must still be a valid answer,
-- written after the request was processed once: never a failure to write it.
describe("sandbox answers to requests holding values their types refuse", function()
  sb:serve(setup, teardown, {speed = 1000})

  local function with_ns(inner) return (inner:gsub("^<(%w+)", '<%1 xmlns="' .. sh.NS .. '"', 1)) end
  local function raw(op, inner)
    local r = sh.soap(sb, op, with_ns(inner), {token = sb.token})
    assert.are.equal(200, r.status, r.body)
    sh.assert_valid(r.body)
    return (sh.decode(r.body))
  end

  it("echo the objects without the values that do not fit", function()
    local before = sb:stats().sends_started
    local d = raw("Perform", '<PerformRequestMsg><Action>start</Action><Definitions>'
      .. '<Definition xsi:type="EmailSendDefinition"><CreatedDate>yesterday</CreatedDate>'
      .. '<CustomerKey>spring-sale-send</CustomerKey></Definition>'
      .. '<Definition xsi:type="EmailSendDefinition"><ID>12a</ID></Definition></Definitions></PerformRequestMsg>')
    assert.are.equal("OK", d.Results[1].StatusCode)
    assert.are.equal("spring-sale-send", d.Results[1].Object.CustomerKey)
    assert.are.equal(42002, d.Results[2].ErrorCode)
    assert.are.equal(before + 1, sb:stats().sends_started)
    d = raw("Perform", '<PerformRequestMsg><Options><RequestType>Asynchronous</RequestType></Options>'
      .. '<Action>start</Action><Definitions><Definition xsi:type="QueryDefinition"><ID>zz</ID>'
      .. '</Definition></Definitions></PerformRequestMsg>')
    assert.are.equal("Queued", d.Results[1].StatusMessage)
    d = raw("Update", '<UpdateRequest><Options><RequestType>Asynchronous</RequestType></Options>'
      .. '<Objects xsi:type="List"><ID>abc</ID></Objects></UpdateRequest>')
    assert.are.equal("Queued", d.Results[1].StatusMessage)
    d = raw("Configure", '<ConfigureRequestMsg><Action>create</Action><Configurations>'
      .. '<Configuration xsi:type="List"><ID>abc</ID></Configuration></Configurations></ConfigureRequestMsg>')
    assert.are.equal("List.ID must be an integer (xsd:int), got string 'abc'", d.Results[1].StatusMessage)
    d = raw("Update", '<UpdateRequest><Options/><Objects xsi:type="DataExtensionObject"><CreatedDate>bad'
      .. '</CreatedDate><CustomerKey>Customers</CustomerKey><Keys><Key><Name>CustomerID</Name><Value>1001'
      .. '</Value></Key></Keys><Properties><Property><Name>City</Name><Value>Rome</Value></Property>'
      .. '</Properties></Objects></UpdateRequest>')
    assert.are.equal("Updated DataExtensionObject", d.Results[1].StatusMessage)
    d = raw("Extract", "<ExtractRequestMsg><Requests><Options/></Requests></ExtractRequestMsg>")
    assert.are.equal("The ExtractRequest needs the ID of an extract definition", d.Results[1].StatusMessage)
  end)

  it("Schedule: an unreadable StartDateTime is an Error result; no concrete Recurrence a Client fault", function()
    local function schedule(definition)
      return '<ScheduleRequestMsg><Action>start</Action>' .. definition .. '<Interactions>'
        .. '<Interaction xsi:type="EmailSendDefinition"><CustomerKey>spring-sale-send</CustomerKey>'
        .. '</Interaction></Interactions></ScheduleRequestMsg>'
    end
    local d = raw("Schedule", schedule('<Schedule><Recurrence xsi:type="DailyRecurrence">'
      .. '<DailyRecurrencePatternType>Interval</DailyRecurrencePatternType><DayInterval>1</DayInterval>'
      .. '</Recurrence><StartDateTime>garbage</StartDateTime></Schedule>'))
    assert.are.equal("The ScheduleDefinition's StartDateTime 'garbage' is not a dateTime", d.Results[1].StatusMessage)
    -- a Recurrence the answer could not carry back is none (found by fuzzing: an unknown type
    -- was dropped from the echo, and the answer was not valid against the WSDL)
    local function recurrence(rtype)
      return '<Schedule><Recurrence xsi:type="' .. rtype .. '"><DailyRecurrencePatternType>Interval'
        .. '</DailyRecurrencePatternType></Recurrence></Schedule>'
    end
    for _, definition in ipairs{"", "<Schedule><StartDateTime>2026-01-01T00:00:00Z</StartDateTime></Schedule>",
        recurrence("DailyRecur(rence"), recurrence("Subscriber"), recurrence("Recurrence")} do
      local r = sh.soap(sb, "Schedule", with_ns(schedule(definition)), {token = sb.token})
      assert.are.equal(500, r.status)
      local _, err = sh.decode(r.body)
      assert.are.equal("soap:Client", err.faultcode)
      assert.truthy(err.message:find("needs a Schedule with a Recurrence of a concrete type", 1, true))
    end
  end)

  it("echo nested objects without the values that do not fit", function()
    local d = raw("Schedule", '<ScheduleRequestMsg><Action>start</Action><Schedule>'
      .. '<Recurrence xsi:type="DailyRecurrence"><DailyRecurrencePatternType>Interval'
      .. '</DailyRecurrencePatternType><DayInterval>#1</DayInterval></Recurrence>'
      .. '<StartDateTime>2030-01-01T00:00:00Z</StartDateTime></Schedule><Interactions>'
      .. '<Interaction xsi:type="EmailSendDefinition"><CustomerKey>spring-sale-send</CustomerKey>'
      .. '</Interaction></Interactions></ScheduleRequestMsg>')
    assert.are.equal("Scheduled", d.Results[1].StatusMessage)
    assert.are.equal("Interval", d.Results[1].Object.Recurrence.DailyRecurrencePatternType)
    assert.is_nil(d.Results[1].Object.Recurrence.DayInterval)
    d = raw("Perform", '<PerformRequestMsg><Action>start</Action><Definitions>'
      .. '<Definition xsi:type="EmailSendDefinition"><CustomerKey>spring-sale-send</CustomerKey>'
      .. '<SenderProfile><CreatedDate>soon</CreatedDate><CustomerKey>spring-team</CustomerKey></SenderProfile>'
      .. '</Definition></Definitions></PerformRequestMsg>')
    assert.are.equal("OK", d.Results[1].StatusCode)
    assert.are.equal("spring-team", d.Results[1].Object.SenderProfile.CustomerKey)
    assert.is_nil(d.Results[1].Object.SenderProfile.CreatedDate)
  end)

  it("Retrieve: a like pattern with an empty set is read, not a failure", function()
    local d = raw("Retrieve", '<RetrieveRequestMsg><RetrieveRequest><ObjectType>List</ObjectType>'
      .. '<Properties>ID</Properties><Filter xsi:type="SimpleFilterPart"><Property>ListName</Property>'
      .. '<SimpleOperator>like</SimpleOperator><Value>[]%</Value></Filter></RetrieveRequest></RetrieveRequestMsg>')
    assert.are.equal("OK", d.OverallStatus)
  end)
end)
