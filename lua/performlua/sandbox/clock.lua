-- performlua.sandbox.clock: the sandbox's own time.
--
-- Asynchronous work (sends, imports, activities) moves on this clock, never on a timer: its
-- state is computed from the clock whenever someone looks. `speed` scales it (2 = twice as
-- fast as real time; 1000 makes a one-second send finish in a millisecond) and advance(s)
-- jumps it forward, so tests control time exactly.
local core = require "performlua.core"

local M = {}
M.__index = M

function M.new(speed, start)
  speed = speed or 1
  if type(speed) ~= "number" or speed <= 0 then
    error("speed must be a positive number (1 = real time)", 0)
  end
  return setmetatable({speed = speed, base_real = core.monotonic(),
    base = start or core.realtime(), advanced = 0}, M)
end

--- Seconds since the epoch on the sandbox clock (a float).
function M:now()
  return self.base + (core.monotonic() - self.base_real) * self.speed + self.advanced
end

function M:advance(seconds)
  if type(seconds) ~= "number" or seconds < 0 then
    error("clock_advance needs a number of seconds >= 0", 0)
  end
  self.advanced = self.advanced + seconds
end

function M:set_speed(speed)
  if type(speed) ~= "number" or speed <= 0 then
    error("speed must be a positive number (1 = real time)", 0)
  end
  self.base = self:now() - self.advanced
  self.base_real = core.monotonic()
  self.speed = speed
end

--- The XSD dateTime of a clock value, UTC with milliseconds (e.g. 2026-03-05T14:21:07.250Z).
function M.format(t)
  local whole = math.floor(t)
  local ms = math.floor((t - whole) * 1000)
  return os.date("!%Y-%m-%dT%H:%M:%S", whole) .. string.format(".%03dZ", ms)
end

--- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

M.days_from_civil = days_from_civil

--- Seconds since the epoch of an XSD dateTime or date (a zone offset is honoured; no zone
--- means UTC), or nil when the text is not one.
function M.parse(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, rest = s:match("^%s*(%-?%d%d%d%d+)%-(%d%d)%-(%d%d)(.*)$")
  if not y then
    -- the service also accepts US dates in filters (e.g. 3/5/2026 2:21:07 PM)
    local m2, d2, y2, time = s:match("^%s*(%d%d?)/(%d%d?)/(%d%d%d%d)%s*(.*)$")
    if not m2 then return nil end
    local h, mi, se, ampm = time:match("^(%d%d?):(%d%d):?(%d?%d?)%s*([AaPp]?[Mm]?)%s*$")
    -- a date alone is midnight; text after it that is no time makes it no date
    if not h and time ~= "" then return nil end
    ampm = ampm or ""
    h, mi, se = tonumber(h) or 0, tonumber(mi) or 0, tonumber(se) or 0
    if ampm:upper() == "PM" and h < 12 then h = h + 12 end
    if ampm:upper() == "AM" and h == 12 then h = 0 end
    return days_from_civil(tonumber(y2), tonumber(m2), tonumber(d2)) * 86400 + h * 3600 + mi * 60 + se
  end
  local t = days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400
  if rest == "" then return t end
  local h, mi, se, frac, zone = rest:match("^[T ](%d%d):(%d%d):(%d%d)(%.?%d*)(.*)$")
  if not h then return nil end
  t = t + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(se)
  if frac ~= "" and frac ~= "." then t = t + tonumber("0" .. frac) end
  if zone == "" or zone == "Z" then return t end
  local sign, zh, zm = zone:match("^([+-])(%d%d):(%d%d)$")
  if not sign then return nil end
  local off = tonumber(zh) * 3600 + tonumber(zm) * 60
  return sign == "+" and t - off or t + off
end

return M
