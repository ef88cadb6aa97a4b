-- Benchmark: stream every row of a data extension through c:each and report the peak resident
-- memory of this process (VmHWM), to compare 10,000 with 1,000,000 rows.
--
--   performlua tests/bench/bench_stream.lua AUTH_URL DE_KEY [COLUMNS]
--
-- AUTH_URL is a sandbox running in ANOTHER process (performlua sandbox ...), so the rows the
-- sandbox holds do not count towards this process's memory. Prints one line of key=value.
local mc = require "performlua"
local core = require "performlua.core"

local auth_url, key = arg[1], arg[2]
local columns = {}
for col in (arg[3] or "SubscriberKey,EmailAddress,FirstName,Points,JoinedDate"):gmatch("[^,]+") do
  columns[#columns + 1] = col
end
if not auth_url or not key then
  io.stderr:write("usage: performlua bench_stream.lua AUTH_URL DE_KEY [COLUMNS]\n")
  os.exit(2)
end

local peak_rss_kb = dofile((arg[0]:match("^(.*)/") or ".") .. "/peak_rss.lua")

local c = mc.connect{auth_url = auth_url, client_id = "sandbox", client_secret = "sandbox",
  token_cache = false}
local before = peak_rss_kb()
local t0 = core.monotonic()
local rows, bytes = 0, 0
for row in c:each("DataExtensionObject[" .. key .. "]", columns) do
  rows = rows + 1
  bytes = bytes + #(row[columns[1]] or "")
end
local seconds = core.monotonic() - t0
print(string.format("lib=performlua rows=%d seconds=%.2f peak_rss_kb=%d rss_before_kb=%d "
  .. "lua_heap_kb=%.0f", rows, seconds, peak_rss_kb(), before, collectgarbage("count")))
