-- Interruption (SIGINT, SIGTERM) of calls in flight against the sandbox: the error says whether
-- the request may have reached the service (outcome_unknown) with the correlation id, every
-- later call raises it again, and an interrupted mc.map accounts for every item.
-- The signal is played by a stand-in for the CLI's performlua.signal (runtime/cli/interrupt.c):
-- the event loop asks it at every wait. tests/cli/interrupt_calls.sh sends real signals.
local mc = require "performlua"
local loop = require "performlua.loop"
local auth = require "performlua.auth"
local core = require "performlua.core"
local sandbox = require "performlua.sandbox"

local sb, c
local real_signal = package.loaded["performlua.signal"]
local pending, noted

local function fake_signal()
  pending, noted = nil, nil
  package.loaded["performlua.signal"] = {
    pending = function() return pending end,
    note = function(e) if pending then noted = e end end,
  }
end

-- Runs fn; `seconds` later (seen from the loop's own code, as the real hook is) the signal
-- arrives. Returns pcall's results.
local function signal_after(seconds, signal, fn)
  local deadline = core.monotonic() + seconds
  local co = coroutine.running()
  debug.sethook(co, function()
    if core.monotonic() >= deadline then
      pending = signal
      debug.sethook(co)
    end
  end, "", 1)
  local ok, err = pcall(fn)
  debug.sethook(co)
  return ok, err
end

local function no_internal_text(err)
  assert.is_nil(tostring(err.message):find("interrupted!", 1, true))
  assert.is_nil(tostring(err.message):find("%.lua"))
end

describe("an interrupted call", function()
  before_each(function()
    sb = sandbox.start{port = 0, latency = 1200} -- each test counts the sends on its own
    auth._reset()
    fake_signal()
    c = mc.connect{auth_url = sb.auth_url, client_id = sb.client_id,
      client_secret = sb.client_secret, token_cache = false}
    c:retrieve("Account", {"ID"}) -- the token, before any signal
  end)
  after_each(function()
    pending = nil
    loop.cancel_all()
    package.loaded["performlua.signal"] = real_signal
    sb:stop()
    sb = nil
  end)

  it("in flight: a Perform start may have happened, with the id to quote", function()
    local ok, err = signal_after(0.4, "SIGINT", function()
      return c:perform("start", mc.EmailSendDefinition{CustomerKey = "spring-sale-send"})
    end)
    assert.is_false(ok)
    assert.are.equal("interrupted", err.kind)
    assert.is_true(err.outcome_unknown)
    assert.are.equal("SIGINT", err.signal)
    assert.are.equal("Perform", err.operation)
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", err.correlation_id)
    assert.are.equal(err.correlation_id, err.request_id)
    assert.matches("Perform interrupted by Ctrl%-C %(SIGINT%) after its request was sent",
      err.message)
    assert.matches(err.correlation_id, err.message, 1, true)
    no_internal_text(err)
    assert.are.equal(err, noted) -- the CLI raises this one again in the script's code
  end)

  it("is sticky: every later call raises it again and sends nothing", function()
    local ok = signal_after(0.4, "SIGTERM", function()
      return c:perform("start", mc.EmailSendDefinition{CustomerKey = "spring-sale-send"})
    end)
    assert.is_false(ok)
    local ok2, err2 = pcall(c.perform, c, "start",
      mc.EmailSendDefinition{CustomerKey = "welcome-series-send"})
    assert.is_false(ok2)
    assert.are.equal("interrupted", err2.kind)
    assert.are.equal("SIGTERM", err2.signal)
    assert.is_false(err2.outcome_unknown)
    assert.is_false(err2.sent)
    assert.matches("stopped by SIGTERM before its request was sent: nothing was sent",
      err2.message)
    local ok3, err3 = pcall(mc.sleep, 0.01)
    assert.is_false(ok3)
    assert.are.equal("interrupted", err3.kind)
  end)

  it("of a Retrieve in flight leaves nothing in doubt", function()
    local ok, err = signal_after(0.4, "SIGINT", function()
      return c:retrieve("EmailSendDefinition", {"CustomerKey"})
    end)
    assert.is_false(ok)
    assert.are.equal("interrupted", err.kind)
    assert.is_false(err.outcome_unknown)
    assert.matches("changes nothing", err.message)
  end)

  it("during mc.map accounts for every item, even one whose function caught it", function()
    local keys = {}
    for i = 1, 7 do keys[i] = i % 2 == 0 and "welcome-series-send" or "spring-sale-send" end
    local before = #c:retrieve("Send", {"ID"}).Results
    local ok, err = signal_after(1.8, "SIGINT", function()
      return mc.map(keys, function(key)
        -- an item that turns its errors into data (as scripts/start_many.lua does) is still
        -- counted by what happened to its calls
        local started, r = pcall(c.perform, c, "start", mc.EmailSendDefinition{CustomerKey = key})
        return started and r or {failed = r}
      end, {concurrency = 2})
    end)
    assert.is_false(ok, ok and mc.pretty(err))
    assert.are.equal("interrupted", err.kind)
    -- every item in exactly one list (how far it got depends on the machine's speed)
    local seen = {}
    for _, name in ipairs{"done", "failed", "in_doubt", "stopped", "not_started"} do
      for _, i in ipairs(err[name]) do
        assert.is_nil(seen[i], "item " .. i .. " twice")
        seen[i] = name
      end
    end
    for i = 1, 7 do assert.is_not_nil(seen[i], "item " .. i .. " unaccounted") end
    for _, i in ipairs(err.done) do assert.is_nil(err.results[i].failed) end
    assert.are.same({}, err.failed, err.message)
    assert.is_true(#err.not_started > 0)
    assert.are.equal(#err.in_doubt > 0, err.outcome_unknown == true)
    assert.matches(string.format("during mc.map of 7 items: %d done", #err.done), err.message)
    assert.matches(#err.not_started .. " not started", err.message, 1, true)
    -- the sandbox started the done ones and at most the ones in doubt: nothing unaccounted
    pending = nil
    mc.sleep(1.5) -- the abandoned requests in flight reach their end on the sandbox's side
    local sends = #c:retrieve("Send", {"ID"}).Results - before
    assert.is_true(sends >= #err.done and sends <= #err.done + #err.in_doubt,
      string.format("%d sends for %d done and %d in doubt", sends, #err.done, #err.in_doubt))
    no_internal_text(err)
    assert.are.equal(err, noted)
  end)
end)
