-- Benchmark: small requests beside one big one. While another client sends the sandbox one
-- large Create (100,000 data extension rows by default, about 28 MB on the wire; a row count of
-- 215,000 makes it about 60 MB), this client times small Retrieves one after the other, then
-- times the same number of them alone; it prints the p50, p99 and max of both. Not run by
-- ctest: the figures depend on the machine (tests/bench/README.md records a run).
--
--   performlua tests/bench/bench_beside_big.lua [ROWS] [WSDL]
--
-- The big request goes through curl in its own process, so the two clients never share an
-- event loop. With WSDL the sandbox validates every request (the validation of a body runs
-- before the request takes a turn on the account; decoding and handling it run in turns, the
-- big request giving its turn to waiting ones between slices: runtime/sandbox/README.md).
local mc = require "performlua"
local core = require "performlua.core"
local sandbox = require "performlua.sandbox"

local rows = math.tointeger(tonumber(arg[1] or "100000"))
local wsdl = arg[2]
if not rows or rows < 1 then
  io.stderr:write("usage: performlua bench_beside_big.lua [ROWS] [WSDL] (ROWS a whole number)\n")
  os.exit(2)
end

local sb <close> = sandbox.start{port = 0, latency = 0, wsdl = wsdl}
local c = mc.connect{auth_url = sb.auth_url, client_id = "sandbox", client_secret = "sandbox",
  token_cache = false}
c:create(mc.DataExtension{CustomerKey = "Bench_Big", Name = "Bench big", Fields = {
  {Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true,
   IsRequired = true},
  {Name = "EmailAddress", FieldType = "EmailAddress", MaxLength = 254},
}}):check()

local objects = {}
for i = 1, rows do
  objects[i] = mc.DataExtensionObject{CustomerKey = "Bench_Big", Properties = {
    {Name = "SubscriberKey", Value = string.format("sub-%07d", i)},
    {Name = "EmailAddress", Value = string.format("member%d@example.com", i)}}}
end
local envelope = core.encode("Create", {Objects = objects},
  {header = {username = "sandbox", password = "sandbox"}})
objects = nil -- luacheck: ignore 311 (the rows are on the wire now; let the collector have them)
local file = os.tmpname()
local f = assert(io.open(file, "wb"))
f:write(envelope)
f:close()

-- One small request's time, in milliseconds.
local function small()
  local t0 = core.monotonic()
  c:retrieve("List", {"ID"}):check()
  return (core.monotonic() - t0) * 1000
end

local function summary(ms)
  table.sort(ms)
  local function at(p) return ms[math.max(1, math.ceil(#ms * p))] end
  return string.format("n=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f", #ms, at(0.5), at(0.99), ms[#ms])
end

small() -- token and connection warm
local done = os.tmpname()
os.remove(done)
local big = io.popen(string.format("curl -s -o /dev/null -w '%%{http_code} %%{time_total}' "
  .. "-H 'SOAPAction: Create' -H 'Content-Type: text/xml' --data-binary @%s %s; touch %s",
  file, sb.soap_url, done))
local beside = {}
repeat
  beside[#beside + 1] = small()
  local finished = io.open(done, "r")
  if finished then finished:close() end
until finished
local status, seconds = big:read("a"):match("^(%d+) ([%d.]+)")
big:close()
os.remove(file)
os.remove(done)
assert(status == "200", "the big Create answered HTTP " .. tostring(status))
assert(#sb:rows("Bench_Big") == rows, "the big Create did not store every row")

local alone = {}
for i = 1, #beside do alone[i] = small() end

print(string.format("big_create rows=%d body_mb=%.1f seconds=%s validating=%s", rows,
  #envelope / 1e6, seconds, wsdl and "yes" or "no"))
print("small_beside_big " .. summary(beside))
print("small_alone      " .. summary(alone))
