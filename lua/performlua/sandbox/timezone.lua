-- performlua.sandbox.timezone: the service's TimeZone objects and their local time, for a
-- ScheduleDefinition's TimeZone (recurrence.lua).
--
-- Source: the TimeZone page of the SOAP API docs ("A Retrieve call on this object returns a
-- list of all available time zones"; "If both an ID and Name are supplied, the ID takes
-- precedence"). The docs list IDs and names; the part of the list we could read gives these
-- three, which are all the sandbox knows (runtime/sandbox/README.md states the assumptions):
--   1  (GMT-06:00) Central Standard Time
--   2  (GMT) Casablanca
--   3  (GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London
-- The rules are written here, not read from the system's tz database: the sandbox serves many
-- requests from threads of one process, and the C library's local time depends on the
-- process-wide TZ variable, so switching zones per request would race. Each zone is a
-- standard offset and, where the zone has daylight saving time, the instants (UTC) it starts
-- and ends in a year:
--   1  US Central: UTC-6, daylight UTC-5 from the second Sunday of March 02:00 local to the
--      first Sunday of November 02:00 local (the US rule since 2007)
--   2  Casablanca as the name says: UTC+0, no daylight time (Morocco's own rules since 2018,
--      UTC+1 except in Ramadan, are not modelled: the docs' name says GMT)
--   3  UK and Ireland: UTC+0, daylight UTC+1 from the last Sunday of March 01:00 UTC to the
--      last Sunday of October 01:00 UTC (the EU rule)
local M = {}

local DAY = 86400

local days_from_civil = require("performlua.sandbox.clock").days_from_civil

local function weekday(day) return (day + 4) % 7 end -- 0 Sunday; 1970-01-01 was a Thursday

-- the day number of the n-th Sunday of month m (n = -1: the last)
local function sunday(y, m, n)
  if n > 0 then
    local first = days_from_civil(y, m, 1)
    return first + (7 - weekday(first)) % 7 + (n - 1) * 7
  end
  local next_first = m == 12 and days_from_civil(y + 1, 1, 1) or days_from_civil(y, m + 1, 1)
  local last = next_first - 1
  return last - weekday(last)
end

local function year_of(t)
  return tonumber(os.date("!%Y", math.floor(t)))
end

M.ZONES = {
  {ID = 1, Name = "(GMT-06:00) Central Standard Time", std = -6 * 3600, dst = -5 * 3600,
    daylight = function(y)
      return sunday(y, 3, 2) * DAY + 2 * 3600 + 6 * 3600, sunday(y, 11, 1) * DAY + 2 * 3600 + 5 * 3600
    end},
  {ID = 2, Name = "(GMT) Casablanca", std = 0},
  {ID = 3, Name = "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London", std = 0,
    dst = 3600, daylight = function(y)
      return sunday(y, 3, -1) * DAY + 3600, sunday(y, 10, -1) * DAY + 3600
    end},
}

local by_id, by_name = {}, {}
for _, z in ipairs(M.ZONES) do
  by_id[z.ID] = z
  by_name[z.Name:lower()] = z
end

-- The wall clock of a zone the sandbox does not know: the service's own servers keep Central
-- Standard Time all year, without daylight saving (Salesforce help article 000384850).
M.SERVER = {Name = "the service's server time (UTC-06:00 all year)", std = -6 * 3600}

--- The zone a TimeZone object names (its ID first, as the docs say, else its Name), or nil
--- when tz names nothing. A zone the sandbox does not know is not refused: the service has
--- more zones than the part of its list the docs show, so refusing would fail a rehearsal of
--- a request production takes. It is placed on M.SERVER instead, and the third value says so
--- (the answer's X-Sandbox-Assumed header and the --log line carry it). An ID that is not a
--- whole number of at least 1 names no zone at all: nil and a message.
function M.find(tz)
  if type(tz) ~= "table" then return nil end
  local id = tz.ID
  if id ~= nil and id ~= "" then
    local n = math.tointeger(tonumber(id))
    if by_id[n] then return by_id[n] end
    if not n or n < 1 then
      return nil, string.format("The TimeZone ID '%s' is not a TimeZone ID (a whole number of at "
        .. "least 1; Retrieve TimeZone lists them)", tostring(id))
    end
    return M.SERVER, nil, string.format("TimeZone ID %d is not one the sandbox knows (it knows "
      .. "%s): its occurrences are placed on %s", n, M.known(), M.SERVER.Name)
  end
  local name = tz.Name
  if type(name) == "string" and name ~= "" then
    local z = by_name[name:lower()]
    if z then return z end
    return M.SERVER, nil, string.format("TimeZone Name '%s' is not one the sandbox knows (it "
      .. "knows %s): its occurrences are placed on %s", name, M.known(), M.SERVER.Name)
  end
  return nil
end

function M.known()
  local out = {}
  for _, z in ipairs(M.ZONES) do out[#out + 1] = string.format("%d %s", z.ID, z.Name) end
  return table.concat(out, "; ")
end

--- The zone's offset from UTC (seconds) at instant t (seconds since the epoch, UTC).
function M.offset(z, t)
  if not z.daylight then return z.std end
  local from, to = z.daylight(year_of(t))
  if t >= from and t < to then return z.dst end
  return z.std
end

--- Stores the zones as the account's TimeZone objects (those missing: a state file keeps
--- them), in the enterprise's unit; Retrieve answers them to every unit (operations.lua).
function M.install(acct)
  local have = {}
  for _, o in ipairs(acct:collection("TimeZone").list) do have[o.ID] = true end
  for _, z in ipairs(M.ZONES) do
    if not have[z.ID] then acct:insert("TimeZone", {ID = z.ID, Name = z.Name}, acct.mid) end
  end
end

--- Local wall-clock time (seconds counted as if UTC) of instant t.
function M.to_local(z, t)
  return t + M.offset(z, t)
end

--- The instant of local wall-clock time `l`. A time that happens twice (the hour daylight time
--- ends) is its first instant; a time that never happens (the hour it starts) is taken at the
--- standard offset, which lands the same distance after the change, as clocks moved forward.
function M.to_utc(z, l)
  local candidates = z.dst and {l - z.dst, l - z.std} or {l - z.std}
  for _, u in ipairs(candidates) do
    if M.to_local(z, u) == l then return u end
  end
  return l - z.std
end

return M
