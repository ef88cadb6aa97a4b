-- A ScheduleDefinition's TimeZone in the sandbox, through the public client: Retrieve of
-- TimeZone answers the service's documented zones (IDs and names) to every business unit, and
-- a schedule's occurrences fall on the named zone's wall clock, daylight saving time included
-- (sandbox/timezone.lua states the source and the rules).
local mc = require "performlua"
local ch = require "client_helper"

local sb, c

local KEY = "welcome-series-send"

local sh = require "sandbox_helper"

local function advance_to(text) sh.clock_to(sb, text) end

-- the SendDates (UTC, to the second) of KEY's Sends, in order
local function dates()
  local out = {}
  for _, s in ipairs(sh.sends_of(sb, KEY)) do out[#out + 1] = s.SendDate:sub(1, 19) end
  return out
end

local function schedule(fields)
  local r = c:schedule("start", mc.ScheduleDefinition(fields), mc.EmailSendDefinition{CustomerKey = KEY})
  return r.Results[1]
end

local function daily(start, n, tz)
  return schedule{Name = "daily", StartDateTime = start, RecurrenceType = "Daily",
    Recurrence = mc.DailyRecurrence{DailyRecurrencePatternType = "Interval", DayInterval = 1},
    RecurrenceRangeType = "EndAfter", Occurrences = n, TimeZone = tz}
end

describe("sandbox TimeZone", function()
  ch.each_sandbox({speed = 0.001}, function(box, client) sb, c = box, client end)

  it("Retrieve TimeZone answers the documented zones, to a child business unit too", function()
    local want = {
      {ID = 1, Name = "(GMT-06:00) Central Standard Time"},
      {ID = 2, Name = "(GMT) Casablanca"},
      {ID = 3, Name = "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London"},
    }
    local function zones(client)
      local got = {}
      for _, z in ipairs(client:retrieve_all("TimeZone", {"ID", "Name"})) do
        got[#got + 1] = {ID = z.ID, Name = z.Name}
      end
      table.sort(got, function(a, b) return a.ID < b.ID end)
      return got
    end
    assert.are.same(want, zones(c))
    assert.are.same(want, zones(ch.connect(sb, {account_id = 7281701}))) -- a child unit
    local one = c:retrieve("TimeZone", {"ID", "Name"},
      mc.SimpleFilterPart{Property = "ID", SimpleOperator = "equals", Value = "3"}).Results
    assert.are.equal(1, #one)
    assert.are.equal(want[3].Name, one[1].Name)
  end)

  it("a daily schedule in Central time keeps 09:00 local across the start of daylight time", function()
    -- 2030-03-10 is the second Sunday of March: 09:00 CST is 15:00 UTC, 09:00 CDT 14:00 UTC
    local res = daily("2030-03-08T09:00:00", 3, mc.TimeZone{ID = 1})
    assert.are.equal("OK", res.StatusCode, res.StatusMessage)
    assert.are.same({"2030-03-08T15:00:00"}, dates())
    advance_to("2030-03-12T00:00:00Z")
    assert.are.same({"2030-03-08T15:00:00", "2030-03-09T15:00:00", "2030-03-10T14:00:00"}, dates())
  end)

  it("a TimeZone named by Name (no ID): London's 08:00 across the end of summer time", function()
    -- 2030-10-27 is the last Sunday of October: 08:00 BST is 07:00 UTC, 08:00 GMT 08:00 UTC
    daily("2030-10-26T08:00:00", 2,
      mc.TimeZone{Name = "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London"})
    advance_to("2030-10-29T00:00:00Z")
    assert.are.same({"2030-10-26T07:00:00", "2030-10-27T08:00:00"}, dates())
  end)

  it("a StartDateTime with a zone designator is that instant, then the zone's wall clock", function()
    -- 15:00Z is 09:00 in Central standard time; the next days stay at 09:00 local
    daily("2030-03-09T15:00:00Z", 2, mc.TimeZone{ID = 1})
    advance_to("2030-03-12T00:00:00Z")
    assert.are.same({"2030-03-09T15:00:00", "2030-03-10T14:00:00"}, dates())
  end)

  it("an hourly schedule counts elapsed hours through the change", function()
    schedule{Name = "hourly", StartDateTime = "2030-03-10T00:30:00", RecurrenceType = "Hourly",
      Recurrence = mc.HourlyRecurrence{HourlyRecurrencePatternType = "Interval", HourInterval = 1},
      RecurrenceRangeType = "EndAfter", Occurrences = 3, TimeZone = mc.TimeZone{ID = 1}}
    advance_to("2030-03-11T00:00:00Z")
    -- 00:30 CST = 06:30Z; then every 60 minutes, whatever the wall clock says
    assert.are.same({"2030-03-10T06:30:00", "2030-03-10T07:30:00", "2030-03-10T08:30:00"}, dates())
  end)

  it("places a TimeZone it does not know on the service's server time and says so", function()
    -- the docs show part of the service's list: production takes IDs beyond it, so refusing
    -- one would fail a rehearsal of a request the service runs
    local trace = require "performlua.trace"
    local lines = {}
    local old = trace.set_sink(function(line) lines[#lines + 1] = line end)
    local traced = ch.connect(sb, {trace = true})
    local ok, r = pcall(traced.schedule, traced, "start", mc.ScheduleDefinition{Name = "daily",
      StartDateTime = "2030-03-12T09:00:00", RecurrenceType = "Daily",
      Recurrence = mc.DailyRecurrence{DailyRecurrencePatternType = "Interval", DayInterval = 1},
      RecurrenceRangeType = "EndAfter", Occurrences = 1, TimeZone = mc.TimeZone{ID = 99}},
      mc.EmailSendDefinition{CustomerKey = KEY})
    trace.set_sink(old)
    assert(ok, tostring(r))
    assert.are.equal("OK", r.Results[1].StatusCode)
    local said = table.concat(lines)
    -- (the trace masks the word "sandbox" here: it is this client's secret)
    assert.truthy(said:find("X-Sandbox-Assumed: TimeZone ID 99 is not one the ", 1, true), said)
    assert.truthy(said:find("(it knows 1 (GMT-06:00) Central Standard Time;", 1, true), said)
    assert.truthy(said:find("placed on the service's server time (UTC-06:00 all year)", 1, true), said)
    -- 09:00 at UTC-6 after the US daylight time began: 15:00Z (Central time would be 14:00Z)
    advance_to("2030-03-13T00:00:00Z")
    assert.are.same({"2030-03-12T15:00:00"}, dates())
  end)

  it("refuses a TimeZone ID that is no ID (ErrorCode 6)", function()
    local res = daily("2030-03-08T09:00:00", 1, mc.TimeZone{ID = 0})
    assert.are.equal("Error", res.StatusCode)
    assert.are.equal(6, res.ErrorCode)
    assert.truthy(res.StatusMessage:find("The TimeZone ID '0' is not a TimeZone ID", 1, true), res.StatusMessage)
    assert.are.same({}, dates())
  end)

  it("without a TimeZone the times are UTC, as before", function()
    daily("2030-03-08T09:00:00", 1)
    advance_to("2030-03-09T00:00:00Z")
    assert.are.same({"2030-03-08T09:00:00"}, dates())
  end)
end)

describe("sandbox TimeZone on the --log line", function()
  it("notes a zone it placed on the server time as ASSUMED", function()
    local lines = {}
    local handle = require("performlua.sandbox.service").new{log = true,
      log_sink = function(line) lines[#lines + 1] = line end}
    local inner = '<ScheduleRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI" '
      .. 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Action>start</Action>'
      .. '<Schedule><StartDateTime>2030-03-12T09:00:00</StartDateTime>'
      .. '<Recurrence xsi:type="DailyRecurrence"><DailyRecurrencePatternType>Interval'
      .. '</DailyRecurrencePatternType><DayInterval>1</DayInterval></Recurrence>'
      .. '<RecurrenceRangeType>EndAfter</RecurrenceRangeType><Occurrences>1</Occurrences>'
      .. '<TimeZone><ID>99</ID></TimeZone></Schedule><Interactions>'
      .. '<Interaction xsi:type="EmailSendDefinition"><CustomerKey>' .. KEY .. '</CustomerKey>'
      .. '</Interaction></Interactions></ScheduleRequestMsg>'
    local r = handle{method = "POST", path = "/Service.asmx", headers = {soapaction = "Schedule"},
      body = sh.envelope(inner, {username = "sandbox", password = "sandbox"})}
    assert.are.equal(200, r.status, r.body)
    assert.truthy(r.body:find("<StatusCode>OK</StatusCode>", 1, true), r.body)
    assert.are.equal(1, #lines)
    assert.matches("  Schedule  EmailSendDefinition  200  [%d.]+ ms  ASSUMED %(the sandbox guessed%): "
      .. "TimeZone ID 99 is not one the sandbox knows", lines[1])
  end)
end)
