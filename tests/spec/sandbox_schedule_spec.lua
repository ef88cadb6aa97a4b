-- Schedule in the sandbox through the public client: every Recurrence type of the WSDL and its
-- range on the sandbox clock, the SenderProfile override of the scheduled send, and a
-- scheduled Send canceled before it goes out.
local mc = require "performlua"
local ch = require "client_helper"

local sb, c

local KEY = "welcome-series-send" -- 36 loyalty members

local sh = require "sandbox_helper"

local function advance_to(text) sh.clock_to(sb, text) end

-- The Sends of KEY, by SendDate
local function sends() return sh.sends_of(sb, KEY) end

local function dates(list, status)
  local out = {}
  for _, s in ipairs(list or sends()) do
    if status == nil or s.Status == status then out[#out + 1] = s.SendDate:sub(1, 19) end
  end
  return out
end

local function schedule(fields, interaction)
  local r = c:schedule("start", mc.ScheduleDefinition(fields),
    interaction or mc.EmailSendDefinition{CustomerKey = KEY})
  return r, r.Results[1]
end

describe("sandbox Schedule recurrence", function()
  ch.each_sandbox({speed = 0.001}, function(box, client) sb, c = box, client end)

  it("DailyRecurrence Interval with EndAfter: the Send waits visibly, then every DayInterval days, Occurrences times", function()
    local r, res = schedule{Name = "every other day", StartDateTime = "2030-01-01T09:30:00Z",
      Recurrence = mc.DailyRecurrence{DailyRecurrencePatternType = "Interval", DayInterval = 2},
      RecurrenceType = "Daily", RecurrenceRangeType = "EndAfter", Occurrences = 3}
    assert.are.equal("OK", r.OverallStatus)
    assert.are.equal("Scheduled", res.StatusMessage)
    -- the scheduled Send exists before its time, with the Task's ID
    local got = c:retrieve("Send", {"ID", "Status", "SendDate", "NumberTargeted"},
      mc.SimpleFilterPart{Property = "ID", SimpleOperator = "equals", Value = res.Task.ID})
    assert.are.equal(1, #got.Results)
    assert.are.equal("Scheduled", got.Results[1].Status)
    assert.are.equal("2030-01-01T09:30:00", got.Results[1].SendDate:sub(1, 19))
    assert.are.equal(0, sb:stats().sends_started)
    advance_to("2030-01-01T09:31:00Z")
    assert.are.equal(1, sb:stats().sends_started)
    local first = sends()[1]
    assert.are.equal("Complete", first.Status)
    assert.are.equal(36, first.NumberTargeted)
    assert.are.same({"2030-01-01T09:30:00", "2030-01-03T09:30:00"}, dates())
    advance_to("2030-02-01T00:00:00Z")
    assert.are.same({"2030-01-01T09:30:00", "2030-01-03T09:30:00", "2030-01-05T09:30:00"},
      dates(nil, "Complete"))
    assert.are.equal(3, #sends())
    assert.are.equal(3, sb:stats().sends_by_definition[KEY])
  end)

  it("DailyRecurrence EveryWeekDay skips Saturday and Sunday", function()
    schedule{Name = "weekdays", StartDateTime = "2030-01-04T08:00:00Z", -- a Friday
      Recurrence = mc.DailyRecurrence{DailyRecurrencePatternType = "EveryWeekDay"},
      RecurrenceRangeType = "EndAfter", Occurrences = 3}
    advance_to("2030-01-20T00:00:00Z")
    assert.are.same({"2030-01-04T08:00:00", "2030-01-07T08:00:00", "2030-01-08T08:00:00"}, dates())
  end)

  it("MinutelyRecurrence with EndOn: every MinuteInterval minutes up to EndDateTime", function()
    schedule{Name = "quarter hours", StartDateTime = "2030-01-01T10:00:00Z",
      Recurrence = mc.MinutelyRecurrence{MinutelyRecurrencePatternType = "Interval", MinuteInterval = 15},
      RecurrenceRangeType = "EndOn", EndDateTime = "2030-01-01T11:00:00Z"}
    advance_to("2030-01-01T10:20:00Z")
    assert.are.same({"2030-01-01T10:00:00", "2030-01-01T10:15:00"}, dates(nil, "Complete"))
    advance_to("2030-01-02T00:00:00Z")
    assert.are.same({"2030-01-01T10:00:00", "2030-01-01T10:15:00", "2030-01-01T10:30:00",
      "2030-01-01T10:45:00", "2030-01-01T11:00:00"}, dates())
  end)

  it("HourlyRecurrence without a range runs until its waiting Send is canceled; a canceled Send never goes out", function()
    local _, res = schedule{Name = "six-hourly", StartDateTime = "2030-01-01T00:00:00Z",
      Recurrence = mc.HourlyRecurrence{HourlyRecurrencePatternType = "Interval", HourInterval = 6}}
    advance_to("2030-01-01T13:00:00Z")
    assert.are.same({"2030-01-01T00:00:00", "2030-01-01T06:00:00", "2030-01-01T12:00:00"},
      dates(nil, "Complete"))
    local waiting = sends()[4]
    assert.are.equal("Scheduled", waiting.Status)
    assert.are.equal("2030-01-01T18:00:00", waiting.SendDate:sub(1, 19))
    assert.are_not.equal(tostring(res.Task.ID), tostring(waiting.ID))
    local p = c:perform("cancel", mc.Send{ID = waiting.ID})
    assert.are.equal("OK", p.OverallStatus)
    advance_to("2030-01-05T00:00:00Z")
    assert.are.equal(4, #sends())
    assert.are.equal("Canceled", sends()[4].Status)
    assert.are.equal(3, sb:stats().sends_started)
    -- a second cancel is refused as for any Send no longer pending
    p = c:perform("cancel", mc.Send{ID = waiting.ID})
    assert.are.equal(103, p.Results[1].ErrorCode)
  end)

  it("a single scheduled send canceled (or deleted) before its time sends nothing", function()
    local _, res = schedule{Name = "once", StartDateTime = "2030-01-01T00:00:00Z",
      Recurrence = mc.DailyRecurrence{DailyRecurrencePatternType = "Interval", DayInterval = 1},
      RecurrenceRangeType = "EndAfter", Occurrences = 1}
    local p = c:perform("cancel", mc.Send{ID = tonumber(res.Task.ID)})
    assert.are.equal("OK", p.OverallStatus)
    local _, res2 = schedule{Name = "once more", StartDateTime = "2030-01-02T00:00:00Z",
      Recurrence = mc.DailyRecurrence{DailyRecurrencePatternType = "Interval", DayInterval = 1},
      RecurrenceRangeType = "EndAfter", Occurrences = 2}
    local d = c:delete(mc.Send{ID = tonumber(res2.Task.ID)})
    assert.are.equal("OK", d.OverallStatus)
    advance_to("2030-02-01T00:00:00Z")
    assert.are.equal(0, sb:stats().sends_started)
    assert.are.same({"2030-01-01T00:00:00"}, dates())
    assert.are.equal("Canceled", sends()[1].Status)
  end)

  it("WeeklyRecurrence ByDay: the flagged days of every WeekInterval-th week", function()
    schedule{Name = "Mon and Fri, fortnightly", StartDateTime = "2030-01-07T07:00:00Z", -- a Monday
      Recurrence = mc.WeeklyRecurrence{WeeklyRecurrencePatternType = "ByDay", WeekInterval = 2,
        Monday = true, Friday = true},
      RecurrenceRangeType = "EndAfter", Occurrences = 4}
    advance_to("2030-03-01T00:00:00Z")
    assert.are.same({"2030-01-07T07:00:00", "2030-01-11T07:00:00", "2030-01-21T07:00:00",
      "2030-01-25T07:00:00"}, dates())
  end)

  it("MonthlyRecurrence ByDay falls on the last day of a shorter month; ByWeek on the named week day", function()
    schedule{Name = "month end", StartDateTime = "2030-01-31T12:00:00Z",
      Recurrence = mc.MonthlyRecurrence{MonthlyRecurrencePatternType = "ByDay", MonthlyInterval = 1,
        ScheduledDay = 31},
      RecurrenceRangeType = "EndAfter", Occurrences = 3}
    schedule{Name = "last Friday", StartDateTime = "2030-01-01T12:00:00Z",
      Recurrence = mc.MonthlyRecurrence{MonthlyRecurrencePatternType = "ByWeek", MonthlyInterval = 1,
        ScheduledWeek = "last", ScheduledDayOfWeek = "Friday"},
      RecurrenceRangeType = "EndOn", EndDateTime = "2030-03-01T00:00:00Z"}
    advance_to("2030-06-01T00:00:00Z")
    assert.are.same({"2030-01-25T12:00:00", "2030-01-31T12:00:00", "2030-02-22T12:00:00",
      "2030-02-28T12:00:00", "2030-03-31T12:00:00"}, dates())
  end)

  it("YearlyRecurrence ByWeek and ByMonth", function()
    schedule{Name = "second Tuesday of March", StartDateTime = "2030-01-01T09:00:00Z",
      Recurrence = mc.YearlyRecurrence{YearlyRecurrencePatternType = "ByWeek", ScheduledWeek = "second",
        ScheduledDayOfWeek = "Tuesday", ScheduledMonth = "March"},
      RecurrenceRangeType = "EndAfter", Occurrences = 2}
    schedule{Name = "29 February", StartDateTime = "2030-01-01T10:00:00Z",
      Recurrence = mc.YearlyRecurrence{YearlyRecurrencePatternType = "ByMonth", ScheduledDay = 29,
        ScheduledMonth = "February"},
      RecurrenceRangeType = "EndAfter", Occurrences = 3}
    advance_to("2033-01-01T00:00:00Z")
    assert.are.same({"2030-02-28T10:00:00", "2030-03-12T09:00:00", "2031-02-28T10:00:00",
      "2031-03-11T09:00:00", "2032-02-29T10:00:00"}, dates())
  end)

  it("keeps the interaction's SenderProfile override for every occurrence", function()
    schedule({Name = "override", StartDateTime = "2030-01-01T00:00:00Z",
      Recurrence = mc.DailyRecurrence{DailyRecurrencePatternType = "Interval", DayInterval = 1},
      RecurrenceRangeType = "EndAfter", Occurrences = 2},
      mc.EmailSendDefinition{CustomerKey = KEY, SenderProfile = mc.SenderProfile{CustomerKey = "spring-team",
        FromName = "Acme Loyalty"}})
    advance_to("2030-01-03T00:00:00Z")
    local list = sends()
    assert.are.equal(2, #list)
    for _, s in ipairs(list) do
      assert.are.equal("Acme Loyalty", s.FromName)
      assert.are.equal("spring@acme.example", s.FromAddress)
    end
  end)

  it("an Automation runs at each occurrence, and no more after its range ends", function()
    local function last_run()
      local a = c:retrieve("Automation", {"CustomerKey", "LastRunInstanceID"},
        mc.SimpleFilterPart{Property = "CustomerKey", SimpleOperator = "equals", Value = "nightly-refresh"})
      return a.Results[1].LastRunInstanceID
    end
    local before = last_run()
    local r = c:schedule("start", mc.ScheduleDefinition{Name = "twice", StartDateTime = "2030-01-01T02:00:00Z",
      Recurrence = mc.DailyRecurrence{DailyRecurrencePatternType = "Interval", DayInterval = 1},
      RecurrenceRangeType = "EndAfter", Occurrences = 2}, mc.Automation{CustomerKey = "nightly-refresh"})
    assert.are.equal("OK", r.OverallStatus)
    advance_to("2030-01-01T01:00:00Z")
    assert.are.equal(before, last_run())
    advance_to("2030-01-01T03:00:00Z")
    local first = last_run()
    assert.are_not.equal(before, first)
    advance_to("2030-01-02T03:00:00Z")
    local second = last_run()
    assert.are_not.equal(first, second)
    advance_to("2030-01-10T03:00:00Z")
    assert.are.equal(second, last_run())
  end)

  it("refuses a recurrence or range it cannot read, and a schedule with no occurrence", function()
    local _, res = schedule{Name = "bad", StartDateTime = "2030-01-01T00:00:00Z",
      Recurrence = mc.MinutelyRecurrence{MinutelyRecurrencePatternType = "Interval", MinuteInterval = 0}}
    assert.are.equal("Error", res.StatusCode)
    assert.are.equal(6, res.ErrorCode)
    assert.are.equal("MinutelyRecurrence.MinuteInterval must be a whole number of at least 1 (got 0)",
      res.StatusMessage)
    _, res = schedule{Name = "bad", StartDateTime = "2030-01-01T00:00:00Z",
      Recurrence = mc.HourlyRecurrence{HourInterval = 1}, RecurrenceRangeType = "EndAfter"}
    assert.are.equal("RecurrenceRangeType EndAfter needs Occurrences", res.StatusMessage)
    _, res = schedule{Name = "bad", StartDateTime = "2030-01-02T00:00:00Z",
      Recurrence = mc.HourlyRecurrence{HourInterval = 1}, RecurrenceRangeType = "EndOn",
      EndDateTime = "2030-01-01T00:00:00Z"}
    assert.are.equal("The ScheduleDefinition has no occurrence: its range ends before the first one",
      res.StatusMessage)
    assert.are.equal(0, #sends())
  end)
end)
