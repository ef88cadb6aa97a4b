-- Benchmark: N calls one after the other versus mc.map at concurrency C, against an in-process
-- sandbox that answers every SOAP request after an injected latency.
--
--   performlua tests/bench/bench_concurrency.lua [N=64] [LATENCY_MS=100] [CONCURRENCY=8]
--
-- Prints one line per mode and the speed-up. With latency L the sequential run takes about
-- N x L; at concurrency C the waits overlap, so close to N/C x L ("N calls at concurrency C take
-- close to N/C round trips"). Not a timed test: tests/bench/run.sh runs it, and a ctest smoke
-- run (tests/e2e/bench_smoke.sh) only checks that it works with a tiny N.
local mc = require "performlua"
local core = require "performlua.core"
local sandbox = require "performlua.sandbox"
local peak_rss_kb = dofile((arg[0]:match("^(.*)/") or ".") .. "/peak_rss.lua")

local n = math.tointeger(tonumber(arg[1] or "64")) or 64
local latency_ms = tonumber(arg[2] or "100") or 100
local concurrency = math.tointeger(tonumber(arg[3] or "8")) or 8

-- PL_AUTH_URL in the environment: a sandbox in another process (tests/bench/run.sh); otherwise one
-- in this process (its server runs on its own threads).
local external = os.getenv("PL_AUTH_URL")
local box = not external and sandbox.start{port = 0, latency = latency_ms} or nil
local ok, err = pcall(function()
  local c = mc.connect{auth_url = external or box.auth_url, client_id = "sandbox", client_secret = "sandbox",
    token_cache = false, max_in_flight = math.max(concurrency, 8)}
  -- one call first: the token request and the connection are not what is measured
  c:retrieve("List", {"ID", "ListName"})

  -- the same call the Node clients make in node_bench.mjs
  local function call()
    local r = c:retrieve("List", {"ID", "ListName"})
    assert(r.ok, r.OverallStatus)
    return #r.Results
  end

  local t0 = core.monotonic()
  for i = 1, n do call(i) end
  local sequential = core.monotonic() - t0

  t0 = core.monotonic()
  local results = mc.map((function()
    local list = {}
    for i = 1, n do list[i] = i end
    return list
  end)(), call, {concurrency = concurrency})
  local concurrent = core.monotonic() - t0
  assert(#results == n)

  local round_trip = latency_ms / 1000
  print(string.format("calls=%d latency_ms=%g concurrency=%d", n, latency_ms, concurrency))
  print(string.format("sequential  %.3f s  (%.2f round trips of the latency per call)",
    sequential, sequential / n / round_trip))
  print(string.format("mc.map      %.3f s  (ideal N/C x latency = %.3f s)", concurrent,
    n / concurrency * round_trip))
  print(string.format("speedup     %.2fx  (ideal %dx)", sequential / concurrent, concurrency))
  print(string.format("peak_rss_kb=%d%s", peak_rss_kb(),
    box and " (includes the in-process sandbox)" or ""))
end)
if box then box:stop() end
if not ok then error(err, 0) end
