-- The event loop: mc.parallel, mc.map, mc.sleep, semaphores and futures, from the main script,
-- from loop tasks and from coroutines the user created.
local loop = require "performlua.loop"
local core = require "performlua.core"
local uh = require "usage_helper"

local function elapsed(fn)
  local t0 = core.monotonic()
  fn()
  return core.monotonic() - t0
end

describe("mc.sleep", function()
  it("pauses the main script", function()
    local took = elapsed(function() loop.sleep(0.1) end)
    -- only the lower bound: a loaded machine may wake the script late, never early
    assert.is_true(took >= 0.095, "took " .. took)
  end)

  it("rejects a bad duration with a usage error", function()
    local ok, err = pcall(loop.sleep, -1)
    assert.is_false(ok)
    assert.are.equal("usage", err.kind)
    assert.are.equal("mc.sleep(seconds) needs a number of seconds >= 0, got -1", uh.message(err))
  end)

  it("works inside a coroutine the user created (it drives the loop itself)", function()
    local co = coroutine.wrap(function()
      loop.sleep(0.05)
      coroutine.yield("after sleep")
      return "done"
    end)
    assert.are.equal("after sleep", co())
    assert.are.equal("done", co())
  end)
end)

describe("mc.parallel", function()
  it("returns the results in argument order and overlaps the waits", function()
    local order = {}
    local a, b, c
    local took = elapsed(function()
      a, b, c = loop.parallel(
        function() loop.sleep(0.4); order[#order + 1] = "a"; return "A" end,
        function() loop.sleep(0.3); order[#order + 1] = "b"; return "B" end,
        function() order[#order + 1] = "c"; return "C" end)
    end)
    assert.are.same({"A", "B", "C"}, {a, b, c})
    -- one after the other, a (started first) would finish first: c, b, a proves the waits
    -- overlapped, without a clock bound that a loaded machine could break
    assert.are.same({"c", "b", "a"}, order)
    assert.is_true(took >= 0.39, "took " .. took)
  end)

  it("raises after the others settled, naming the failed function and keeping the error", function()
    local finished = false
    local boom = core.error_new{kind = "fault", message = "Rate Limited", code = 17}
    local ok, err = pcall(loop.parallel,
      function() loop.sleep(0.1); finished = true; return 1 end,
      function() error(boom) end)
    assert.is_false(ok)
    assert.is_true(finished)
    assert.are.equal("fault", err.kind)
    assert.are.equal(17, err.code)
    assert.are.equal(2, err.item)
    assert.are.equal(boom, err.cause)
    assert.are.equal("mc.parallel: function 2 failed: Rate Limited", err.message)
    assert.are.equal(1, err.results[1])
    assert.are.equal("fault error: mc.parallel: function 2 failed: Rate Limited [code 17]",
      tostring(err))
  end)

  it("wraps a plain Lua error as kind 'script' with the original text", function()
    local ok, err = pcall(loop.parallel, function() error("boom", 0) end)
    assert.is_false(ok)
    assert.are.equal("script", err.kind)
    assert.are.equal("mc.parallel: function 1 failed: boom", err.message)
    assert.are.equal("boom", err.cause)
    assert.matches("traceback", err.traceback)
  end)

  it("names a plain error table by its message", function()
    local raised = {message = "quota reached", code = 5}
    local ok, err = pcall(loop.parallel, function() error(raised) end)
    assert.is_false(ok)
    assert.are.equal("mc.parallel: function 1 failed: quota reached", err.message)
    assert.are.equal(raised, err.cause)
  end)

  it("refuses a non-function argument", function()
    local ok, err = pcall(loop.parallel, function() end, 42)
    assert.is_false(ok)
    assert.are.equal("mc.parallel: argument #2 is a number, expected a function", uh.message(err))
  end)

  it("nests: parallel inside parallel inside a user coroutine", function()
    local co = coroutine.create(function()
      return loop.parallel(
        function() return select("#", loop.parallel(function() loop.sleep(0.02) return 1 end,
                                                    function() return 2 end)) end,
        function() loop.sleep(0.01) return "x" end)
    end)
    local ok, n, x = coroutine.resume(co)
    assert.is_true(ok)
    assert.are.equal(2, n)
    assert.are.equal("x", x)
  end)

  it("turns a direct coroutine.yield inside a task into an error instead of a hang", function()
    local ok, err = pcall(loop.parallel, function() coroutine.yield("oops") end)
    assert.is_false(ok)
    assert.matches("coroutine.yield%(%) was called directly", err.message)
  end)
end)

describe("mc.map", function()
  it("keeps at most N in flight and returns results in input order", function()
    local in_flight, peak = 0, 0
    local items = {}
    for i = 1, 12 do items[i] = i end
    local results
    results = loop.map(items, function(item, index)
      assert.are.equal(item, index)
      in_flight = in_flight + 1
      peak = math.max(peak, in_flight)
      loop.sleep(0.05 * ((13 - item) % 3 + 1))
      in_flight = in_flight - 1
      return item * 10
    end, {concurrency = 4})
    for i = 1, 12 do assert.are.equal(i * 10, results[i]) end
    -- the peak proves 4 ran at once (one by one it would be 1); no clock bound
    assert.are.equal(4, peak)
  end)

  it("stops starting items after a failure and says which item failed", function()
    local started = {}
    local ok, err = pcall(loop.map, {"a", "b", "c", "d", "e"}, function(item, i)
      started[#started + 1] = item
      loop.sleep(0.01 * i)
      if item == "b" then error("bad item " .. item, 0) end
      return item
    end, {concurrency = 2})
    assert.is_false(ok)
    assert.are.equal(2, err.item)
    -- the item itself is named when it is a string or a number
    assert.are.equal('mc.map: item 2 ("b") failed: bad item b', err.message)
    assert.are.same({"a", "b", "c"}, started)
    ok, err = pcall(loop.map, {{key = "x"}}, function() error("no", 0) end)
    assert.is_false(ok)
    assert.are.equal("mc.map: item 1 failed: no", err.message)
  end)

  it("lets a settled item's coroutine go while the rest of the list runs", function()
    -- holding every finished item's coroutine (its stack) until the end held 75 MB for 10,000
    -- Performs: the memory of a long mc.map must not grow with the items already done
    local seen = setmetatable({}, {__mode = "k"})
    local alive_at_end
    loop.map({1, 2, 3, 4, 5, 6}, function(i)
      seen[coroutine.running()] = true
      loop.sleep(0)
      if i == 6 then
        collectgarbage("collect")
        collectgarbage("collect")
        alive_at_end = 0
        for _ in pairs(seen) do alive_at_end = alive_at_end + 1 end
      end
    end, {concurrency = 2})
    -- item 6 and at most the one beside it are still running
    assert.is_true(alive_at_end <= 2, tostring(alive_at_end) .. " coroutines still held")
  end)

  it("runs the items on a pool of `concurrency` coroutines, not one per item", function()
    -- a coroutine, its closures and packed tables per item cost ~30,000 instructions a call
    -- with 16 in flight: each worker takes the next index when its item settles
    local coroutines, count = {}, 0
    local results = loop.map({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
        20}, function(item, index)
      local co = coroutine.running()
      if not coroutines[co] then coroutines[co], count = true, count + 1 end
      assert.is_true(loop.in_task())
      loop.sleep(0.001 * (item % 3))
      return item + index
    end, {concurrency = 3})
    assert.are.equal(3, count)
    for i = 1, 20 do assert.are.equal(2 * i, results[i]) end
  end)

  it("fails an item whose function yields to the loop directly, and starts no more", function()
    local started = {}
    local ok, err = pcall(loop.map, {1, 2, 3, 4, 5}, function(i)
      started[#started + 1] = i
      if i == 2 then coroutine.yield("oops") end
      loop.sleep(0.01)
      return i
    end, {concurrency = 2})
    assert.is_false(ok)
    assert.are.equal(2, err.item)
    assert.matches("coroutine.yield%(%) was called directly", err.message)
    -- item 1 was running beside it and may start the next one before the failure is known
    assert.is_true(#started <= 3, table.concat(started, ","))
  end)

  it("returns an empty list for an empty input", function()
    assert.are.same({}, loop.map({}, function() error("never") end))
  end)

  it("validates its arguments", function()
    local ok, err = pcall(loop.map, {1}, function() end, {concurrency = 0})
    assert.is_false(ok)
    assert.are.equal("mc.map: concurrency must be an integer >= 1, got 0", uh.message(err))
    ok, err = pcall(loop.map, "x", print)
    assert.is_false(ok)
    assert.are.equal("mc.map: argument #1 must be a list (table), got string", uh.message(err))
    -- a table keyed by names is not a list: an error, not an empty result
    ok, err = pcall(loop.map, {north = 1, south = 2}, function() return 1 end)
    assert.is_false(ok)
    assert.are.equal("usage", err.kind)
    assert.are.equal("mc.map: argument #1 must be a list (an array such as {\"a\", \"b\"}); "
      .. "this table has keys but no item 1", uh.message(err))
  end)
end)

describe("loop primitives", function()
  it("a semaphore bounds concurrent holders and serves waiters in order", function()
    local sem = loop.semaphore(2)
    local holders, peak, order = 0, 0, {}
    loop.map({1, 2, 3, 4, 5}, function(i)
      sem:acquire()
      holders = holders + 1
      peak = math.max(peak, holders)
      order[#order + 1] = i
      loop.sleep(0.02)
      holders = holders - 1
      sem:release()
    end, {concurrency = 5})
    assert.are.equal(2, peak)
    assert.are.same({1, 2, 3, 4, 5}, order)
  end)

  it("a future wakes every waiter once, from tasks and from the main script", function()
    local f = loop.future()
    local got = {}
    loop.spawn(function() got[#got + 1] = f:wait() end)
    loop.spawn(function() loop.sleep(0.03); f:resolve("token") end)
    assert.are.equal("token", f:wait())
    loop.sleep(0)
    assert.are.same({"token"}, got)
    local g = loop.future()
    g:reject(core.error_new{kind = "auth", message = "nope"})
    local ok, err = pcall(g.wait, g)
    assert.is_false(ok)
    assert.are.equal("nope", err.message)
  end)

  it("reports a wait that can never end instead of hanging", function()
    local f = loop.future()
    local ok, err = pcall(f.wait, f)
    assert.is_false(ok)
    assert.are.equal("usage", err.kind)
    assert.matches("^nothing left to wait for", uh.message(err))
  end)

  it("http: a refused connection completes with sent = false", function()
    local r = loop.http{url = "http://127.0.0.1:9/", body = "x", timeout = 5, connect_timeout = 5}
    assert.are.equal(7, r.curl_code)
    assert.is_false(r.sent)
    assert.are.equal(0, r.status)
  end)

  it("http: plain http to a non-loopback host is refused before anything happens", function()
    local ok, err = pcall(loop.http, {url = "http://example.com/", body = "x"})
    assert.is_false(ok)
    assert.are.equal("usage", err.kind)
    assert.matches("refusing plain http://", err.message)
  end)
end)

-- Ctrl-C in the REPL raises "interrupted!" in the code driving the loop; the tasks of its
-- mc.map stay suspended. Here a count hook on the driving thread plays the Ctrl-C.
local function interrupt_after(seconds, fn)
  local deadline = core.monotonic() + seconds
  local co = coroutine.running()
  debug.sethook(co, function()
    if core.monotonic() >= deadline then
      debug.sethook(co)
      error("interrupted!", 0)
    end
  end, "", 50)
  local ok, err = pcall(fn)
  debug.sethook(co)
  return ok, err
end

describe("loop.cancel_all after an interrupted line", function()
  it("ends the tasks left behind, so a later wait does not carry on their work", function()
    local started, finished = {}, {}
    local ok, err = interrupt_after(0.1, function()
      loop.map({1, 2, 3}, function(i)
        started[#started + 1] = i
        loop.sleep(0.3)
        finished[#finished + 1] = i
      end, {concurrency = 1})
    end)
    assert.is_false(ok)
    assert.are.equal("interrupted!", err)
    assert.are.same({1}, started)
    loop.cancel_all()
    loop.sleep(0.8) -- would run item 1 to its end and start items 2 and 3 without cancel_all
    assert.are.same({1}, started)
    assert.are.same({}, finished)
  end)

  it("runs the cancelled tasks' cleanup and keeps semaphore slots", function()
    local sem = loop.semaphore(1)
    local cleaned = 0
    local ok = interrupt_after(0.1, function()
      loop.parallel(
        function() -- holds the slot, releasing it however its wait ends
          sem:acquire()
          local done, e = pcall(loop.sleep, 5)
          cleaned = cleaned + 1
          sem:release()
          if not done then error(e, 0) end
        end,
        function() sem:acquire(); sem:release() end) -- queued behind it
    end)
    assert.is_false(ok)
    loop.cancel_all()
    assert.are.equal(1, cleaned)
    -- both slots' worth of waiting is gone: the one slot is free again, nothing hangs
    -- a slot still held by the cancelled task would make this wait for its 5 s sleep
    local took = elapsed(function() sem:acquire() end)
    assert.is_true(took < 4, "took " .. took)
    sem:release()
  end)

  it("does nothing when no task is pending", function()
    loop.cancel_all()
    assert.are.equal("ok", loop.parallel(function() loop.sleep(0.01); return "ok" end))
  end)
end)

describe("core.http_multi", function()
  it("refuses a request without the caller's timeouts: the transport has no defaults", function()
    local m <close> = core.http_multi()
    local function refusal(request)
      request.url, request.body = "http://127.0.0.1:9/", "x"
      local ok, err = pcall(m.start, m, request)
      assert.is_false(ok)
      assert.are.equal("usage", err.kind)
      return err.message
    end
    assert.are.equal("the request has no timeout: give it in seconds (a number > 0)",
      refusal{connect_timeout = 5})
    assert.are.equal("the request has no timeout: give it in seconds (a number > 0)",
      refusal{timeout = 0, connect_timeout = 5})
    assert.are.equal("the request has no connect_timeout: give it in seconds (a number > 0)",
      refusal{timeout = 5})
    assert.are.equal(0, m:pending())
  end)
end)

describe("core.http_multi responses", function()
  it("parse their headers only when asked, lower-cased, from the raw lines they keep", function()
    local sandbox = require "performlua.sandbox"
    local sb = sandbox.start{}
    local m <close> = core.http_multi()
    m:start{url = sb.token_url, body = "{}", timeout = 10, connect_timeout = 5,
            headers = {"Content-Type: application/json"}}
    local resp
    for _ = 1, 1000 do
      resp = m:poll(0.05)[1]
      if resp then break end
    end
    sb:stop()
    assert.is_table(resp)
    assert.are.equal(0, resp.curl_code)
    assert.matches("^HTTP/1%.1 %d+", resp.raw_headers)
    local raw_type = resp.raw_headers:match("\r\n[Cc]ontent%-[Tt]ype: ([^\r\n]*)\r\n")
    assert.is_string(raw_type)
    assert.is_nil(rawget(resp, "headers")) -- not built before it is read
    assert.are.equal(raw_type, resp.headers["content-type"])
    assert.are.equal(resp.headers, rawget(resp, "headers")) -- built once, then kept
    assert.is_nil(resp.headers["Content-Type"])
    assert.is_nil(resp.not_a_field)
  end)
end)
