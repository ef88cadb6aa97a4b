-- Benchmark: creating data extension rows in Creates of 50 through the client, at two sizes,
-- to show the cost grows linearly with the rows (each row is found by its primary key in an
-- index, never by searching the stored rows); then the same for Subscribers (All Subscribers:
-- each one looked up by SubscriberKey in the account's identity index). Not run by ctest; the
-- figures depend on the machine.
--
--   performlua tests/bench/bench_rows.lua [SMALL] [BIG] [BATCH] [ROUNDS] [STREAM]
--                                           defaults 10000 100000 50 2 1000000
--
-- Then STREAM rows (0: skip) are stored in a data extension (sb:add_rows, 10,000 a call) and
-- streamed through c:each; the sandbox's Lua heap is sampled every 100,000 rows: flat when the
-- rows live in SQLite and a page is read by keyset (rowid > last) rather than from a copy.
--
-- Each size gets a fresh sandbox (in this process, on its own threads and lua_State) with an
-- empty data extension. Prints one key=value line per run (with the time of its first and its
-- last tenth of the rows: equal when a row costs the same however many are stored) and the
-- ratio of the best times, about BIG/SMALL (10 for the defaults) when the cost is linear.
local mc = require "performlua"
local core = require "performlua.core"
local sandbox = require "performlua.sandbox"

local small = math.tointeger(tonumber(arg[1] or "10000"))
local big = math.tointeger(tonumber(arg[2] or "100000"))
local batch = math.tointeger(tonumber(arg[3] or "50"))
local rounds = math.tointeger(tonumber(arg[4] or "2"))
local stream = math.tointeger(tonumber(arg[5] or "1000000"))
if not small or not big or not batch or not rounds or small < 1 or big < 1 or batch < 1
    or rounds < 1 then
  io.stderr:write("usage: performlua bench_rows.lua [SMALL] [BIG] [BATCH] [ROUNDS] "
    .. "(whole numbers)\n")
  os.exit(2)
end

-- one Create's worth of data extension rows, or of subscribers, numbered from..to
local function rows_chunk(from, to)
  local chunk = {}
  for i = from, to do
    chunk[#chunk + 1] = mc.DataExtensionObject{CustomerKey = "Bench_Rows", Properties = {
      {Name = "SubscriberKey", Value = string.format("sub-%07d", i)},
      {Name = "EmailAddress", Value = string.format("member%d@example.com", i)},
      {Name = "Points", Value = tostring(i % 1000)}}}
  end
  return chunk
end
local function subscribers_chunk(from, to)
  local chunk = {}
  for i = from, to do
    chunk[#chunk + 1] = mc.Subscriber{SubscriberKey = string.format("sub-%07d", i),
      EmailAddress = string.format("member%d@example.com", i)}
  end
  return chunk
end

local function run(rows, kind)
  local sb <close> = sandbox.start{port = 0, latency = 0}
  local c = mc.connect{auth_url = sb.auth_url, client_id = "sandbox", client_secret = "sandbox",
    token_cache = false}
  local made = c:create(mc.DataExtension{CustomerKey = "Bench_Rows", Name = "Bench rows",
    Fields = {
      {Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true,
       IsRequired = true},
      {Name = "EmailAddress", FieldType = "EmailAddress", MaxLength = 254},
      {Name = "Points", FieldType = "Number"},
    }})
  made:check()
  local t0, cpu0 = core.monotonic(), os.clock()
  local tenth = math.max(1, rows // 10)
  local first_tenth, last_tenth_from
  local i = 0
  local subscribers_before = #sb:objects("Subscriber")
  while i < rows do
    if i == rows - tenth then last_tenth_from = core.monotonic() end
    local n = math.min(batch, rows - i)
    c:create((kind == "subscribers" and subscribers_chunk or rows_chunk)(i + 1, i + n)):check()
    i = i + n
    if not first_tenth and i >= tenth then first_tenth = core.monotonic() - t0 end
  end
  local seconds = core.monotonic() - t0
  local last_tenth = core.monotonic() - (last_tenth_from or t0)
  local stored = kind == "subscribers" and #sb:objects("Subscriber") - subscribers_before
    or #sb:rows("Bench_Rows")
  assert(stored == rows, "the sandbox holds " .. stored .. " new " .. kind .. ", not " .. rows)
  print(string.format("kind=%s rows=%d creates=%d seconds=%.2f cpu_seconds=%.2f us_per_row=%.1f "
    .. "first_tenth_seconds=%.2f last_tenth_seconds=%.2f", kind, rows, (rows + batch - 1) // batch,
    seconds, os.clock() - cpu0, seconds / rows * 1e6, first_tenth, last_tenth))
  return seconds, os.clock() - cpu0
end

-- best of ROUNDS runs of each size (other work on the machine only ever adds time)
for _, kind in ipairs{"rows", "subscribers"} do
  local t_small, t_big, cpu_small, cpu_big = math.huge, math.huge, math.huge, math.huge
  for _ = 1, rounds do
    local t, cpu = run(small, kind)
    t_small, cpu_small = math.min(t_small, t), math.min(cpu_small, cpu)
    t, cpu = run(big, kind)
    t_big, cpu_big = math.min(t_big, t), math.min(cpu_big, cpu)
  end
  -- CPU time (this process: the client and the sandbox's threads) moves far less than wall
  -- time on a machine other work shares
  print(string.format("kind=%s ratio=%.2f cpu_ratio=%.2f (best time for %d / best time for %d; "
    .. "linear: %.0f)", kind, t_big / t_small, cpu_big / cpu_small, big, small, big / small))
end

if not stream or stream < 1 then return end

-- the stream: the sandbox's Lua heap before, while and after c:each reads every row
do
  local sb <close> = sandbox.start{port = 0, latency = 0}
  local c = mc.connect{auth_url = sb.auth_url, client_id = "sandbox", client_secret = "sandbox",
    token_cache = false}
  c:create(mc.DataExtension{CustomerKey = "Bench_Stream", Name = "Bench stream", Fields = {
    {Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true, IsRequired = true},
    {Name = "EmailAddress", FieldType = "EmailAddress", MaxLength = 254},
    {Name = "FirstName", FieldType = "Text", MaxLength = 100},
    {Name = "Points", FieldType = "Number"}}}):check()
  local t0 = core.monotonic()
  local i = 0
  while i < stream do
    local chunk = {}
    for _ = 1, math.min(10000, stream - i) do
      i = i + 1
      chunk[#chunk + 1] = {SubscriberKey = string.format("sub-%07d", i),
        EmailAddress = string.format("member%d@example.com", i), FirstName = "Member " .. i,
        Points = tostring(i % 1000)}
    end
    sb:add_rows("Bench_Stream", chunk)
  end
  local fill = core.monotonic() - t0
  collectgarbage("collect")
  local before = sb:memory().lua_kb
  local peak, n = before, 0
  t0 = core.monotonic()
  for _ in c:each("DataExtensionObject[Bench_Stream]", {"SubscriberKey", "EmailAddress", "FirstName", "Points"}) do
    n = n + 1
    if n % 100000 == 0 then peak = math.max(peak, sb:memory().lua_kb) end
  end
  local seconds = core.monotonic() - t0
  assert(n == stream, "streamed " .. n .. " rows, not " .. stream)
  print(string.format("stream_rows=%d fill_seconds=%.1f stream_seconds=%.1f rows_per_second=%.0f "
    .. "sandbox_lua_kb_before=%.0f sandbox_lua_kb_peak=%.0f sandbox_lua_kb_after=%.0f",
    n, fill, seconds, n / seconds, before, peak, sb:memory().lua_kb))
end
