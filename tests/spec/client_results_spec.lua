-- What a user's script sees of a call: results that print readably without the client's
-- bookkeeping, an outcome-unknown error that names the request, and a cached token that only
-- the secret that fetched it may use. Against the sandbox with the official WSDL.
local mc = require "performlua"
local auth = require "performlua.auth"
local sandbox = require "performlua.sandbox"
local ch = require "client_helper"

local sb

local function connect(extra) return ch.connect(sb, extra) end

local function start(opts)
  opts = opts or {}
  opts.port = 0
  opts.wsdl = require("wsdl_helper").path()
  sb = sandbox.start(opts)
  return sb
end

local function keys_of(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = tostring(k) end
  table.sort(out)
  return out
end

describe("results as a script sees them", function()
  before_each(function() auth._reset() start() end)
  after_each(function() if sb then sb:stop() sb = nil end end)

  it("print and mc.pretty show the answer, not the client's bookkeeping", function()
    local c = connect()
    local r = c:perform("count", mc.AudienceDefinition{CustomerKey = "spring-prospects"})
    local text = tostring(r)
    assert.is_nil(text:match("^table: "), text)
    assert.matches('OverallStatus = "OK"', text, 1, true)
    assert.matches('RequestID = "' .. r.RequestID .. '"', text, 1, true)
    assert.matches("ok = true", text, 1, true)
    assert.matches("more = false", text, 1, true)
    assert.matches("Results = {", text, 1, true)
    assert.matches('StatusMessage = "Task status message holds the requested value."', text, 1, true)
    for _, shown in ipairs({text, mc.pretty(r), mc.pretty({r})}) do
      assert.is_nil(shown:find("_inputs", 1, true), shown)
      assert.is_nil(shown:find("_retrieve", 1, true), shown)
      assert.is_nil(shown:find("_control", 1, true), shown)
    end
    for _, k in ipairs(keys_of(r)) do
      assert.is_nil(k:match("^_"), "internal key in pairs(r): " .. k)
    end
    -- inside another table (the results of mc.map, say) it is laid out, and indented, in place
    local nested = mc.pretty({r}, {multiline = true})
    assert.matches('^{\n  {\n    OverallStatus = "OK",\n', nested)
    -- the documented members still read as plain fields
    assert.is_true(r.ok)
    assert.are.equal("spring-prospects", r.Results[1].input.CustomerKey)
    assert.are.equal(r, r:check())
  end)

  it("a retrieve page keeps no request in the table and still continues", function()
    local c = connect()
    local page = c:retrieve("EmailSendDefinition", {"CustomerKey", "Name"}, nil, {BatchSize = 1})
    assert.is_true(page.more)
    for _, k in ipairs(keys_of(page)) do
      assert.is_nil(k:match("^_"), "internal key in pairs(page): " .. k)
    end
    local shown = tostring(page)
    assert.is_nil(shown:find("BatchSize", 1, true), shown) -- the request is not part of the answer
    local seen, pages = {}, 0
    while page do
      pages = pages + 1
      for _, row in ipairs(page.Results) do seen[#seen + 1] = row.CustomerKey end
      page = c:continue(page)
    end
    assert.is_true(pages >= 2)
    local all = c:retrieve("EmailSendDefinition", {"CustomerKey"})
    assert.are.equal(#all.Results, #seen)
  end)

  it("continuing a failed page raises instead of ending the rows quietly", function()
    local c = connect()
    local page = c:retrieve("NoSuchType", {"ID"})
    assert.is_false(page.ok)
    local rows = 0
    local ok, err = pcall(function()
      while page do
        rows = rows + #page.Results
        page = c:continue(page)
      end
    end)
    assert.is_false(ok)
    assert.are.equal(0, rows)
    assert.are.equal("fault", err.kind)
    assert.matches("Unable to find a handler for object type: NoSuchType", err.message, 1, true)
    assert.is_false(err.result.ok)
  end)

  it("errors() and check() still know each failed result's input", function()
    local c = connect()
    local r = c:perform("start", {mc.EmailSendDefinition{CustomerKey = "spring-sale-send"},
                                  mc.EmailSendDefinition{CustomerKey = "no-such-send"}})
    assert.is_false(r.ok)
    local errs = r:errors()
    assert.are.equal(1, #errs)
    assert.are.equal("no-such-send", errs[1].input.CustomerKey)
    local ok, err = pcall(r.check, r)
    assert.is_false(ok)
    assert.are.equal("fault", err.kind)
    assert.are.equal(r, err.result)
    -- what c:wait reads from the hidden bookkeeping: the definition each result answers
    local ok2, werr = pcall(c.wait, c, r, {timeout = 30, interval = 0.05})
    assert.is_false(ok2)
    assert.matches("no-such-send", tostring(werr), 1, true)
  end)
end)

describe("many objects in chunks", function()
  before_each(function() auth._reset() start() end)
  after_each(function() if sb then sb:stop() sb = nil end end)

  it("a mistake in a later chunk is refused before the first chunk is sent", function()
    local c = connect()
    local lists = {}
    for i = 1, 60 do lists[i] = mc.List{ListName = "chunk " .. i, CustomerKey = "chunk-" .. i} end
    lists[55] = {ListName = "untyped", CustomerKey = "chunk-55"} -- a plain table: no type
    local ok, err = pcall(c.create, c, lists)
    assert.is_false(ok)
    assert.are.equal("usage", err.kind)
    assert.matches("Objects[5]: APIObject has no field 'ListName'", err.message, 1, true)
    assert.matches("(in the chunk of objects 51-60 of 60; nothing was sent)", err.message, 1, true)
    assert.is_nil(sb:stats().by_operation.Create)
  end)
end)

describe("retrieved rows are data, not outcomes", function()
  before_each(function() auth._reset() start() end)
  after_each(function() if sb then sb:stop() sb = nil end end)

  it("a retrieve of async outcomes that include a failure is itself ok", function()
    local c = connect()
    local ack = c:create({mc.List{ListName = "one", CustomerKey = "async-dup"},
                          mc.List{ListName = "two", CustomerKey = "async-dup"}},
                         {RequestType = "Asynchronous"})
    assert.is_true(ack.ok)
    local items
    for _ = 1, 50 do
      items = c:retrieve("ResultItem", {"RequestID", "StatusCode", "StatusMessage", "OrdinalID"},
        mc.SimpleFilterPart{Property = "RequestID", SimpleOperator = "equals", Value = ack.RequestID})
      if #items.Results == 2 then break end
      mc.sleep(0.05)
    end
    assert.are.equal(2, #items.Results)
    local codes = {}
    for _, it in ipairs(items.Results) do codes[#codes + 1] = it.StatusCode end
    table.sort(codes)
    assert.are.same({"Error", "OK"}, codes) -- the second object failed, asynchronously
    assert.is_true(items.ok)                -- but the retrieve itself succeeded
    assert.are.equal(items, items:check())
    assert.are.same({}, items:errors())
  end)
end)

describe("outcome unknown names the request", function()
  after_each(function() if sb then sb:stop() sb = nil end end)

  for _, kind in ipairs({"reset-after", "truncate"}) do
    it(kind .. ": request_id is set so the user can quote it", function()
      auth._reset()
      start{faults = {kind .. ":2"}}
      local c = connect()
      c:version_info()
      local ok, err = pcall(c.perform, c, "start",
        mc.EmailSendDefinition{CustomerKey = "spring-sale-send"})
      assert.is_false(ok)
      assert.is_true(err.outcome_unknown)
      assert.is_string(err.request_id)
      assert.are.equal(err.correlation_id, err.request_id)
      assert.matches("request " .. err.request_id, tostring(err), 1, true)
      assert.are.equal(1, sb:stats().sends_started)
    end)
  end
end)

describe("a retryable failure raised anyway", function()
  after_each(function() if sb then sb:stop() sb = nil end end)

  it("says the retries were spent and which setting bounds them", function()
    auth._reset()
    start{faults = {"throttle:1"}}
    local c = connect{retries = 1}
    local ok, err = pcall(c.retrieve, c, "Send", {"ID"})
    assert.is_false(ok)
    assert.are.equal("fault", err.kind)
    assert.are.equal(17, err.code)
    assert.is_true(err.retryable)
    assert.are.equal(2, err.attempts)
    assert.matches("gave up after 2 attempts; the limit is mc.connect's retries", err.message, 1,
      true)
    assert.are.equal(2, sb:stats().faults_injected.throttle)
  end)
end)

describe("the disk token cache and the client secret", function()
  local restore
  before_each(function()
    restore = select(2, ch.use_cache_home("client-results-cache"))
    auth._reset()
    start()
  end)
  after_each(function()
    restore()
    if sb then sb:stop() sb = nil end
  end)

  it("a wrong secret does not borrow the token cached for the right one", function()
    assert.is_true(connect{token_cache = true}:system_status().ok)
    assert.are.equal(1, sb:stats().token_requests)
    auth._reset() -- a new run
    local bad = connect{token_cache = true, client_secret = "not-the-secret"}
    local ok, err = pcall(bad.system_status, bad)
    assert.is_false(ok)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.http_status)
    assert.is_nil(tostring(err):find("not-the-secret", 1, true))
    -- the right secret still finds its token on disk
    auth._reset()
    assert.is_true(connect{token_cache = true}:system_status().ok)
    assert.are.equal(2, sb:stats().token_requests) -- 1 good + 1 refused, none for the rerun
  end)
end)
