-- Benchmark: performlua's own cost per call and per page against the neutral endpoint (nginx
-- serving canned answers, started by tests/bench/side_by_side.sh), and the codec alone.
--
--   performlua tests/bench/bench_endpoint.lua perform  ENDPOINT N CONCURRENCY
--   performlua tests/bench/bench_endpoint.lua retrieve ENDPOINT PAGES
--   performlua tests/bench/bench_endpoint.lua each     ENDPOINT PAGES
--   performlua tests/bench/bench_endpoint.lua codec    ANSWERS_DIR N
--   performlua tests/bench/bench_endpoint.lua decode   ANSWERS_DIR N
--
-- perform: N Perform calls (start an ImportDefinition), one at a time (CONCURRENCY 1) or
--   through mc.map with CONCURRENCY in flight; each call builds its object, as a script does.
-- retrieve: PAGES calls of c:retrieve on a data extension, each answered with a 2,500-row page.
-- each: rows through c:each until PAGES pages were read (every canned page says
--   MoreDataAvailable, so c:each follows with ContinueRequest as it does on a real account).
-- codec: the codec alone, in this process: build the object, encode the request, decode the
--   recorded answer of one Perform, N times. decode: decode the recorded page N times.
--
-- Prints one line of key=value. cpu_s is this process's user + system time (clock(3), i.e.
-- CLOCK_PROCESS_CPUTIME_ID, every thread) over the measured loop only: the start-up, the token
-- request and a first warm-up call (ten pages for the page modes) are outside it. peak_rss_kb is
-- VmHWM of the whole run.
local mc = require "performlua"
local core = require "performlua.core"

-- The calls node_bench.mjs makes too (and the answers canned_answers.lua recorded).
local PERFORM_TYPE, PERFORM_KEY = "ImportDefinition", "daily-subscriber-import"
local DE_TYPE = "DataExtensionObject[Big_Generated]"
local COLUMNS = {"SubscriberKey", "EmailAddress", "FirstName", "Points", "JoinedDate"}
local ROWS_PER_PAGE = 2500
-- Pages read before a page loop is measured. A process's first pages cost more than the rest
-- (10 ms against 7.3, then flat for 200 pages, on the README's machine): the Lua heap, its
-- string table and the collector's pace grow to a page's size. The figure is the steady cost
-- of a page, as xmllint's 100 parses of one process are.
local WARMUP_PAGES = 10

local mode, target = arg[1], arg[2]
local function count_arg(i, default)
  local n = math.tointeger(tonumber(arg[i] or default))
  if not n or n < 1 then
    io.stderr:write(string.format("bench_endpoint.lua: argument %d must be a whole number >= 1\n", i))
    os.exit(2)
  end
  return n
end
if not mode or not target then
  io.stderr:write("usage: performlua bench_endpoint.lua perform|retrieve|each ENDPOINT ... | "
    .. "codec|decode ANSWERS_DIR N\n")
  os.exit(2)
end

local peak_rss_kb = dofile((arg[0]:match("^(.*)/") or ".") .. "/peak_rss.lua")

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

local Definition = mc[PERFORM_TYPE]

local function perform(c)
  local r = c:perform("start", Definition{CustomerKey = PERFORM_KEY})
  if not r.ok then error("Perform did not succeed: " .. tostring(r.OverallStatus), 0) end
end

-- Runs fn() and prints its figures; `units` is the count the per-unit figures divide by.
local function measure(fields, units, fn)
  local cpu0, wall0 = os.clock(), core.monotonic()
  local extra = fn()
  local cpu, wall = os.clock() - cpu0, core.monotonic() - wall0
  local line = {"lib=performlua"}
  for _, kv in ipairs(fields) do line[#line + 1] = kv[1] .. "=" .. tostring(kv[2]) end
  line[#line + 1] = string.format("seconds=%.3f cpu_s=%.3f cpu_us_per_unit=%.1f units_per_s=%.0f",
    wall, cpu, cpu / units * 1e6, units / wall)
  for _, kv in ipairs(extra or {}) do line[#line + 1] = kv[1] .. "=" .. tostring(kv[2]) end
  line[#line + 1] = "peak_rss_kb=" .. peak_rss_kb()
  print(table.concat(line, " "))
end

local function connect(concurrency)
  return mc.connect{auth_url = target, client_id = "bench", client_secret = "bench",
    token_cache = false, max_in_flight = math.max(concurrency or 1, 8)}
end

if mode == "perform" then
  local n, concurrency = count_arg(3, 1000), count_arg(4, 1)
  local c = connect(concurrency)
  perform(c) -- the token request and the connection are not what is measured
  measure({{"mode", "perform"}, {"calls", n}, {"concurrency", concurrency}}, n, function()
    if concurrency == 1 then
      for _ = 1, n do perform(c) end
    else
      local list = {}
      for i = 1, n do list[i] = i end
      mc.map(list, function() perform(c) end, {concurrency = concurrency})
    end
  end)
elseif mode == "retrieve" then
  local pages = count_arg(3, 40)
  local c = connect()
  for _ = 1, WARMUP_PAGES do c:retrieve(DE_TYPE, COLUMNS) end
  measure({{"mode", "retrieve"}, {"pages", pages}}, pages, function()
    local rows = 0
    for _ = 1, pages do
      local r = c:retrieve(DE_TYPE, COLUMNS)
      if not r.ok or #r.Results ~= ROWS_PER_PAGE then error("unexpected page", 0) end
      rows = rows + #r.Results
    end
    return {{"rows", rows}}
  end)
elseif mode == "each" then
  local pages = count_arg(3, 40)
  local c = connect()
  local warm = 0
  for _ in c:each(DE_TYPE, COLUMNS) do
    warm = warm + 1
    if warm == WARMUP_PAGES * ROWS_PER_PAGE then break end
  end
  -- streaming stays flat: the peak after the first tenth of the pages against the end's
  local early_rows = math.max(1, pages // 10) * ROWS_PER_PAGE
  local early_kb
  measure({{"mode", "each"}, {"pages", pages}}, pages, function()
    local rows, want = 0, pages * ROWS_PER_PAGE
    for row in c:each(DE_TYPE, COLUMNS) do
      if row.SubscriberKey == nil then error("a row without SubscriberKey", 0) end
      rows = rows + 1
      if rows == early_rows then early_kb = peak_rss_kb() end
      if rows == want then break end
    end
    return {{"rows", rows}, {"early_pages", early_rows // ROWS_PER_PAGE},
      {"early_peak_rss_kb", early_kb}}
  end)
elseif mode == "codec" then
  local n = count_arg(3, 10000)
  local answer = read_file(target .. "/perform.xml")
  local header = {fueloauth = "bench-token-0123456789abcdef0123456789abcdef"}
  measure({{"mode", "codec"}, {"calls", n}}, n, function()
    for _ = 1, n do
      core.encode("Perform", {Action = "start",
        Definitions = {Definition{CustomerKey = PERFORM_KEY}}}, {header = header})
      local body = core.decode(answer)
      if body.OverallStatus ~= "OK" then error("the recorded Perform answer is not OK", 0) end
    end
  end)
elseif mode == "decode" then
  local n = count_arg(3, 20)
  local page = read_file(target .. "/retrieve.xml")
  for _ = 1, WARMUP_PAGES do core.decode(page) end
  measure({{"mode", "decode"}, {"pages", n}}, n, function()
    for _ = 1, n do
      local body = core.decode(page)
      if #body.Results ~= ROWS_PER_PAGE then error("the recorded page is not 2,500 rows", 0) end
    end
  end)
else
  io.stderr:write("bench_endpoint.lua: unknown mode " .. tostring(mode) .. "\n")
  os.exit(2)
end
