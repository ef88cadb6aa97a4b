-- performlua.sandbox.recurrence: when a ScheduleDefinition's occurrences fall, on the sandbox
-- clock (seconds since the epoch, UTC).
--
-- The WSDL's Recurrence subtypes (runtime/sandbox/README.md states the reading and its
-- assumptions):
--   MinutelyRecurrence  Interval: every MinuteInterval minutes from StartDateTime
--   HourlyRecurrence    Interval: every HourInterval hours from StartDateTime
--   DailyRecurrence     Interval: every DayInterval days; EveryWeekDay: Monday to Friday
--   WeeklyRecurrence    ByDay: the days flagged (Sunday..Saturday) of every WeekInterval-th
--                       week (weeks start on Sunday, counted from StartDateTime's)
--   MonthlyRecurrence   ByDay: day ScheduledDay of every MonthlyInterval-th month; ByWeek: the
--                       ScheduledWeek (first..fourth, last) ScheduledDayOfWeek of it
--   YearlyRecurrence    ByDay / ByMonth: day ScheduledDay of ScheduledMonth; ByWeek: the
--                       ScheduledWeek ScheduledDayOfWeek of ScheduledMonth
-- A TimeZone (timezone.lua: by ID, else Name) puts the schedule on that zone's wall clock: a
-- StartDateTime or EndDateTime without a zone designator is its local time, and day-based
-- occurrences keep their local time of day across daylight saving changes (minute and hour
-- intervals are elapsed time). Without a TimeZone, UTC.
-- Day-based occurrences fall at StartDateTime's time of day. A missing interval is 1; a missing
-- day, week day or month is StartDateTime's; a ScheduledDay past the month's end falls on its
-- last day. The range: RecurrenceRangeType EndAfter ends after Occurrences runs, EndOn at
-- EndDateTime (inclusive); without a range type, Occurrences or EndDateTime (whichever is
-- given) ends it, and with neither the schedule runs until it is canceled.
local core = require "performlua.core"
local clock = require "performlua.sandbox.clock"
local timezone = require "performlua.sandbox.timezone"

local M = {}

local DAY = 86400
local UTC = {std = 0} -- the zone of a schedule without a TimeZone (timezone.lua's shape)
local WEEKDAYS = {Sunday = 0, Monday = 1, Tuesday = 2, Wednesday = 3, Thursday = 4, Friday = 5,
  Saturday = 6}
local WEEKDAY_NAMES = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
local MONTHS = {January = 1, February = 2, March = 3, April = 4, May = 5, June = 6, July = 7,
  August = 8, September = 9, October = 10, November = 11, December = 12}
local WEEKS = {first = 1, second = 2, third = 3, fourth = 4, last = -1}

-- how far a day-based rule looks for its next day before saying there is none
local MAX_DAYS = 40000

local function ymd(day)
  local t = os.date("!*t", day * DAY)
  return t.year, t.month, t.day
end

local function weekday(day) return (day + 4) % 7 end -- 1970-01-01 was a Thursday (4)

local function month_length(y, m)
  local lengths = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
  if m == 2 and (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) then return 29 end
  return lengths[m]
end

local function positive_int(v, what)
  if v == nil then return 1 end
  local n = math.tointeger(tonumber(v))
  if not n or n < 1 then
    error({schedule_error = string.format("%s must be a whole number of at least 1 (got %s)", what,
      tostring(v))}, 0)
  end
  return n
end

local function enum(v, map, what, default)
  if v == nil then return default end
  local x = map[v]
  if x == nil then
    error({schedule_error = string.format("%s '%s' is not one of the WSDL's values", what,
      tostring(v))}, 0)
  end
  return x
end

-- Is `day` the week-th (1..4, -1 last) `dow` of its month?
local function nth_weekday(day, week, dow)
  if weekday(day) ~= dow then return false end
  local y, m, d = ymd(day)
  if week == -1 then return d + 7 > month_length(y, m) end
  return (d - 1) // 7 + 1 == week
end

-- Is `day` day `wanted` of its month (past the end: the month's last day)?
local function day_of_month(day, wanted)
  local y, m, d = ymd(day)
  return d == math.min(wanted, month_length(y, m))
end

--- Compiles a ScheduleDefinition (decoded) into a rule: rule.next(t) is the first occurrence at
--- or after t, or nil when the range has ended; rule.first is the first occurrence. Raises
--- {schedule_error = message} for a definition it cannot read.
-- A dateTime of the ScheduleDefinition as an instant: text without a zone designator is the
-- wall-clock time of the schedule's zone, text with one (Z, +01:00) the instant it says.
local function instant(zone, v)
  if type(v) ~= "string" then return v end
  local t = clock.parse(v)
  if not t then return nil end
  local designated = v:match("[Zz]%s*$") or v:match("[+-]%d%d:%d%d%s*$")
  if designated then return t end
  return timezone.to_utc(zone, t)
end

function M.compile(schedule)
  -- the zone the occurrences' wall-clock times are in (timezone.lua); UTC without a TimeZone
  local zone, assumed = UTC, nil
  if schedule.TimeZone ~= nil then
    local z, why
    z, why, assumed = timezone.find(schedule.TimeZone)
    if why then error({schedule_error = why}, 0) end
    zone = z or UTC
  end
  local start = instant(zone, schedule.StartDateTime)
  if type(start) ~= "number" then
    error({schedule_error = schedule.StartDateTime ~= nil and string.format("The "
      .. "ScheduleDefinition's StartDateTime '%s' is not a dateTime", tostring(schedule.StartDateTime))
      or "The ScheduleDefinition needs a StartDateTime"}, 0)
  end
  local rec = schedule.Recurrence
  local rtype = type(rec) == "table" and core.typeof(rec) or nil
  rec = type(rec) == "table" and rec or {}
  -- day-based rules count days and times of day on the zone's wall clock
  local start_local = timezone.to_local(zone, start)
  local start_day = start_local // DAY
  local time_of_day = start_local - start_day * DAY
  local sy, sm, sd = ymd(start_day)

  local step -- a fixed period in seconds, or nil for day-based rules
  local day_ok -- function(day) -> bool for day-based rules
  if rtype == "MinutelyRecurrence" then
    step = positive_int(rec.MinuteInterval, "MinutelyRecurrence.MinuteInterval") * 60
  elseif rtype == "HourlyRecurrence" then
    step = positive_int(rec.HourInterval, "HourlyRecurrence.HourInterval") * 3600
  elseif rtype == "DailyRecurrence" then
    if rec.DailyRecurrencePatternType == "EveryWeekDay" then
      day_ok = function(day) local w = weekday(day) return w >= 1 and w <= 5 end
    else
      local n = positive_int(rec.DayInterval, "DailyRecurrence.DayInterval")
      day_ok = function(day) return (day - start_day) % n == 0 end
    end
  elseif rtype == "WeeklyRecurrence" then
    local n = positive_int(rec.WeekInterval, "WeeklyRecurrence.WeekInterval")
    local days, any = {}, false
    for i, name in ipairs(WEEKDAY_NAMES) do
      if rec[name] == true or rec[name] == "true" then days[i - 1], any = true, true end
    end
    if not any then days[weekday(start_day)] = true end
    local start_week = (start_day + 4) // 7 -- weeks from the Sunday before 1970-01-01
    day_ok = function(day)
      return days[weekday(day)] and ((day + 4) // 7 - start_week) % n == 0
    end
  elseif rtype == "MonthlyRecurrence" then
    local n = positive_int(rec.MonthlyInterval, "MonthlyRecurrence.MonthlyInterval")
    local function month_ok(day)
      local y, m = ymd(day)
      return ((y - sy) * 12 + (m - sm)) % n == 0
    end
    if rec.MonthlyRecurrencePatternType == "ByWeek" then
      local week = enum(rec.ScheduledWeek, WEEKS, "MonthlyRecurrence.ScheduledWeek", (sd - 1) // 7 + 1)
      local dow = enum(rec.ScheduledDayOfWeek, WEEKDAYS, "MonthlyRecurrence.ScheduledDayOfWeek",
        weekday(start_day))
      day_ok = function(day) return nth_weekday(day, week, dow) and month_ok(day) end
    else
      local wanted = rec.ScheduledDay ~= nil
        and positive_int(rec.ScheduledDay, "MonthlyRecurrence.ScheduledDay") or sd
      day_ok = function(day) return day_of_month(day, wanted) and month_ok(day) end
    end
  elseif rtype == "YearlyRecurrence" then
    local month = enum(rec.ScheduledMonth, MONTHS, "YearlyRecurrence.ScheduledMonth", sm)
    local function month_ok(day) return select(2, ymd(day)) == month end
    if rec.YearlyRecurrencePatternType == "ByWeek" then
      local week = enum(rec.ScheduledWeek, WEEKS, "YearlyRecurrence.ScheduledWeek", (sd - 1) // 7 + 1)
      local dow = enum(rec.ScheduledDayOfWeek, WEEKDAYS, "YearlyRecurrence.ScheduledDayOfWeek",
        weekday(start_day))
      day_ok = function(day) return month_ok(day) and nth_weekday(day, week, dow) end
    else
      local wanted = rec.ScheduledDay ~= nil
        and positive_int(rec.ScheduledDay, "YearlyRecurrence.ScheduledDay") or sd
      day_ok = function(day) return month_ok(day) and day_of_month(day, wanted) end
    end
  else
    error({schedule_error = string.format("The Recurrence type %s is not one the WSDL defines "
      .. "(Minutely, Hourly, Daily, Weekly, Monthly or YearlyRecurrence)", tostring(rtype))}, 0)
  end

  -- the range
  local range = schedule.RecurrenceRangeType
  local limit, ends
  if range ~= nil and range ~= "EndAfter" and range ~= "EndOn" then
    error({schedule_error = string.format("RecurrenceRangeType '%s' is not EndAfter or EndOn",
      tostring(range))}, 0)
  end
  if range == "EndAfter" or (range == nil and schedule.Occurrences ~= nil) then
    if schedule.Occurrences == nil then
      error({schedule_error = "RecurrenceRangeType EndAfter needs Occurrences"}, 0)
    end
    limit = positive_int(schedule.Occurrences, "Occurrences")
  end
  if range == "EndOn" or (range == nil and schedule.EndDateTime ~= nil) then
    ends = instant(zone, schedule.EndDateTime)
    if type(ends) ~= "number" then
      error({schedule_error = schedule.EndDateTime == nil and "RecurrenceRangeType EndOn needs "
        .. "an EndDateTime" or string.format("The ScheduleDefinition's EndDateTime '%s' is not a "
        .. "dateTime", tostring(schedule.EndDateTime))}, 0)
    end
  end

  -- the first occurrence at or after t, ignoring the range
  local function after(t)
    if t < start then t = start end
    if step then
      local k = math.ceil((t - start) / step)
      return start + k * step
    end
    -- the first day whose occurrence (its wall-clock time in the zone) is not before t
    local day = timezone.to_local(zone, t) // DAY - 1
    for d = day, day + MAX_DAYS do
      if day_ok(d) then
        local at = timezone.to_utc(zone, d * DAY + time_of_day)
        if at >= t then return at end
      end
    end
    return nil
  end

  -- assumed: what the sandbox had to guess (a zone it does not know), for the answer to say
  local rule = {limit = limit, ends = ends, start = start, assumed = assumed}
  --- The occurrence after the `count`-th one (count runs so far) at or after t, or nil.
  function rule.next(t, count)
    if limit and (count or 0) >= limit then return nil end
    local at = after(t)
    if at == nil or (ends and at > ends) then return nil end
    return at
  end
  rule.first = rule.next(start, 0)
  return rule
end

return M
