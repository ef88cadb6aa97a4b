-- The sandbox's limits from Lua (sandbox.start's options, which `performlua sandbox` flags
-- set): performlua's own client gets a clear error when it hits one, and a limit given wrong
-- is a usage error. The server's tests of every limit: tests/c/test_sandbox_limits.c.
local sandbox = require "performlua.sandbox"
local client = require "performlua.client"
local auth = require "performlua.auth"
local mc = require "performlua"

local function account(sb)
  local a = sb:account()
  a.token_cache, a.retries, a.retry_base_delay = false, 1, 0.001
  return a
end

describe("sandbox limits", function()
  before_each(function() auth._reset() end)

  it("a request over max_body is a fault with HTTP 413 naming the limit, never handled", function()
    local sb <close> = sandbox.start{max_body = 2000, client_secret = "limits-spec-secret"}
    local c = client.connect(account(sb))
    assert.is_true(c:system_status().ok) -- small requests pass
    local before = sb:stats().soap_requests
    local ok, err = pcall(c.create, c, mc.Subscriber{EmailAddress = "a@example.com",
      SubscriberKey = string.rep("k", 3000)})
    assert.is_false(ok)
    assert.are.equal("fault", err.kind)
    assert.are.equal(413, err.http_status)
    assert.matches("Request body too large: %d+ bytes, this sandbox accepts at most 2000 "
      .. "%(performlua sandbox %-%-max%-body%)", err.message)
    assert.are.equal(before, sb:stats().soap_requests)
  end)

  it("refuses limits that are not whole numbers of at least 1", function()
    for _, bad in ipairs{{max_body = 0}, {body_budget = -1}, {max_connections = 1.5},
                         {max_connections_per_ip = "2"}, {idle_timeout = 0},
                         {min_rate = 2 ^ 40}} do
      local ok, err = pcall(sandbox.start, bad)
      assert.is_false(ok)
      assert.are.equal("usage", err.kind)
      local name = next(bad)
      assert.matches("sandbox.start: " .. name, err.message, 1, true)
    end
  end)

  it("accepts every limit", function()
    local sb <close> = sandbox.start{max_body = 1000000, body_budget = 4000000,
      max_connections = 64, max_connections_per_ip = 16, idle_timeout = 10, min_rate = 512}
    local c = client.connect(account(sb))
    assert.is_true(c:system_status().ok)
  end)
end)
