-- The client's policy against a scripted transport: retries, outcome_unknown, token refresh and
-- single flight, the disk token cache, chunking, results, trace redaction, in-flight limits.
-- loop.http is replaced by a function that answers from a script, so every case is exact and
-- fast; the real transport is tested in tests/c/test_http.c and against the sandbox.
local core = require "performlua.core"
local loop = require "performlua.loop"
local auth = require "performlua.auth"
local trace = require "performlua.trace"
local client = require "performlua.client"
local mc = require "performlua"
local ch = require "client_helper"

local SECRET = "s3cr3t-client-secret"
local TOKEN_PREFIX = "tok-"

local original_http = loop.http
local soap_requests, token_requests, tokens_issued
local soap_handler, token_handler

local function response(status, body, extra)
  local r = {id = 0, status = status, body = body or "", headers = {}, curl_code = 0,
             sent = true, reused = false, elapsed = 0.001}
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

local function ok_token(req)
  tokens_issued = tokens_issued + 1
  return response(200, core.json_encode{access_token = TOKEN_PREFIX .. tokens_issued,
    expires_in = 1080, token_type = "Bearer",
    soap_instance_url = "https://mc-test.soap.example/"})
end

local function perform_ok(body)
  local results = {}
  for i, def in ipairs(body.Definitions) do
    results[i] = {StatusCode = "OK", StatusMessage = "performed", OrdinalID = i - 1,
      Task = {StatusCode = "OK", StatusMessage = "OK", ID = tostring(100 + i)}}
  end
  return response(200, core.encode_message("PerformResponseMsg", {Results = results,
    OverallStatus = "OK", OverallStatusMessage = "", RequestID = "req-" .. #soap_requests}, {}))
end

local function fault(code, faultstring, faultcode)
  return response(500, core.encode_fault{faultcode = faultcode or "soap:Server",
    faultstring = faultstring, code = code, message = code and faultstring or nil})
end

local function install()
  soap_requests, token_requests, tokens_issued = {}, {}, 0
  token_handler = ok_token
  loop.http = function(req)
    if req.url:match("/v2/token$") then
      token_requests[#token_requests + 1] = req
      return token_handler(req)
    end
    local body, element, header = core.decode(req.body)
    local entry = {req = req, body = body, element = element, header = header}
    soap_requests[#soap_requests + 1] = entry
    return soap_handler(entry, #soap_requests)
  end
end

local function connect(extra)
  local args = {client_id = "cid", client_secret = SECRET, auth_url = "https://auth.example/",
    retry_base_delay = 0.001, token_cache = false}
  for k, v in pairs(extra or {}) do args[k] = v end
  return client.connect(args)
end

local function defs(n)
  local list = {}
  for i = 1, n do list[i] = mc.EmailSendDefinition{CustomerKey = "esd-" .. i} end
  return list
end

describe("client policy", function()
  before_each(function()
    auth._reset()
    install()
  end)
  after_each(function()
    loop.http = original_http
    trace.set_sink(nil)
  end)

  it("sends a Perform with the token, SOAPAction and non-idempotent transport flag", function()
    soap_handler = function(e) return perform_ok(e.body) end
    local c = connect()
    local r = c:perform("start", mc.EmailSendDefinition{CustomerKey = "welcome"},
      {QueuePriority = "High", Explanation = "go"})
    assert.is_true(r.ok)
    assert.are.equal("OK", r.OverallStatus)
    assert.are.equal("101", r.Results[1].Task.ID)
    local e = soap_requests[1]
    assert.are.equal("https://mc-test.soap.example/Service.asmx", e.req.url)
    assert.is_false(e.req.idempotent)
    assert.are.equal("PerformRequestMsg", e.element)
    assert.are.equal("tok-1", e.header.fueloauth)
    assert.are.equal("start", e.body.Action)
    assert.are.equal("High", e.body.Options.QueuePriority)
    assert.are.equal("go", e.body.Options.Explanation)
    local h = table.concat(e.req.headers, "\n")
    assert.matches("SOAPAction: Perform", h, 1, true)
    assert.matches("Content%-Type: text/xml; charset=utf%-8", h)
    assert.matches("X%-Correlation%-ID: %x+%-%x+%-4%x+%-%x+%-%x+", h)
    -- the token request
    assert.are.equal(1, #token_requests)
    local tr = core.json_decode(token_requests[1].body)
    assert.are.same({grant_type = "client_credentials", client_id = "cid",
      client_secret = SECRET}, tr)
    assert.are.equal("https://auth.example/v2/token", token_requests[1].url)
  end)

  it("retries the Rate Limited fault and HTTP 503 pages, then succeeds", function()
    soap_handler = function(e, n)
      if n == 1 then return fault(17, "Rate Limited") end
      if n == 2 then return response(503, "<html><body>Service Unavailable</body></html>") end
      return perform_ok(e.body)
    end
    local r = connect():perform("start", defs(1))
    assert.is_true(r.ok)
    assert.are.equal(3, #soap_requests)
  end)

  it("waits at least as long as a Retry-After header asks", function()
    soap_handler = function(e, n)
      if n == 1 then
        return response(503, "<html>busy</html>", {headers = {["retry-after"] = "0.3"}})
      end
      return perform_ok(e.body)
    end
    local t0 = core.monotonic()
    assert.is_true(connect():perform("start", defs(1)).ok)
    assert.is_true(core.monotonic() - t0 >= 0.29)
  end)

  it("retries a SOAP fault that comes with HTTP 429 or 503 (refused before handling), "
      .. "not one with HTTP 500", function()
    -- a server at a limit answers so (the sandbox's --max-per-ip, --max-connections): the
    -- request was not processed, so even a Perform goes again, after the Retry-After
    soap_handler = function(e, n)
      if n == 1 then
        local r = fault(nil, "Too many connections from this address", "soap:Client")
        r.status, r.headers = 429, {["retry-after"] = "0.2"}
        return r
      end
      if n == 2 then
        local r = fault(nil, "Server busy", "soap:Server")
        r.status = 503
        return r
      end
      return perform_ok(e.body)
    end
    local t0 = core.monotonic()
    assert.is_true(connect():perform("start", defs(1)).ok)
    assert.are.equal(3, #soap_requests)
    assert.is_true(core.monotonic() - t0 >= 0.19) -- a lower bound: never early
    -- the same fault with HTTP 500 may follow work done: raised, not sent again
    soap_requests = {}
    soap_handler = function() return fault(nil, "Server busy", "soap:Server") end
    local ok, err = pcall(connect().perform, connect(), "start", defs(1))
    assert.is_false(ok)
    assert.are.equal("fault", err.kind)
    assert.are.equal(1, #soap_requests)
  end)

  it("gives up after `retries` attempts with the last error", function()
    soap_handler = function() return fault(17, "Rate Limited") end
    local ok, err = pcall(connect{retries = 2}.perform, connect{retries = 2}, "start", defs(1))
    assert.is_false(ok)
    assert.are.equal("fault", err.kind)
    assert.are.equal(17, err.code)
    assert.is_true(err.retryable)
    assert.are.equal(3, err.attempts)
    assert.are.equal(3, #soap_requests)
  end)

  it("bounds retries by retry_max_seconds", function()
    soap_handler = function() return fault(17, "Rate Limited") end
    local c = connect{retries = 50, retry_base_delay = 0.05, retry_max_seconds = 0.3}
    local t0 = core.monotonic()
    local ok, err = pcall(c.perform, c, "start", defs(1))
    assert.is_false(ok)
    assert.are.equal("fault", err.kind, tostring(err))
    -- the count is the proof; the clock bound only catches a bound ignored outright (50
    -- retries from 0.05 s doubling would take hours)
    assert.is_true(#soap_requests >= 2 and #soap_requests < 10, tostring(#soap_requests))
    assert.is_true(core.monotonic() - t0 < 5)
  end)

  it("retries a failure before sending, for any operation", function()
    soap_handler = function(e, n)
      if n == 1 then
        return response(0, "", {curl_code = 7, sent = false, error = "Failed to connect"})
      end
      return perform_ok(e.body)
    end
    assert.is_true(connect():perform("start", defs(1)).ok)
    assert.are.equal(2, #soap_requests)
  end)

  it("never resends a Perform that may have been received: outcome_unknown", function()
    soap_handler = function()
      return response(0, "", {curl_code = 28, sent = true,
        error = "Operation timed out after 120000 milliseconds with 0 bytes received"})
    end
    local ok, err = pcall(connect().perform, connect(), "start", defs(1))
    assert.is_false(ok)
    assert.are.equal(1, #soap_requests)
    assert.are.equal("transport", err.kind)
    assert.is_true(err.outcome_unknown)
    assert.is_false(err.retryable)
    assert.are.equal(28, err.code)
    assert.matches("^%x+%-%x+%-4%x+%-%x+%-%x+$", err.correlation_id)
    assert.are.equal("Perform request to mc-test.soap.example failed after it was sent "
      .. "(Operation timed out after 120000 milliseconds with 0 bytes received): the service "
      .. "may have processed it (correlation id " .. err.correlation_id .. ")", err.message)
    assert.matches("outcome unknown", tostring(err))
  end)

  for _, op in ipairs({"create", "update", "delete"}) do
    it("raises outcome_unknown for " .. op .. " after a dropped connection", function()
      soap_handler = function()
        return response(0, "", {curl_code = 56, sent = true, error = "Recv failure"})
      end
      local c = connect()
      local ok, err = pcall(c[op], c, mc.Subscriber{EmailAddress = "a@example.com"})
      assert.is_false(ok)
      assert.is_true(err.outcome_unknown)
      assert.are.equal(1, #soap_requests)
    end)
  end

  it("retries read-only operations after a dropped connection", function()
    soap_handler = function(e, n)
      if n == 1 then
        return response(0, "", {curl_code = 52, sent = true, error = "Empty reply from server"})
      end
      return response(200, core.encode_message("RetrieveResponseMsg", {OverallStatus = "OK",
        RequestID = "r", Results = {mc.Subscriber{ID = 1, EmailAddress = "a@example.com"}}}, {}))
    end
    local c = connect()
    local r = c:retrieve("Subscriber", {"ID", "EmailAddress"})
    assert.is_true(r.ok)
    assert.are.equal(2, #soap_requests)
    assert.is_true(soap_requests[1].req.idempotent)
    assert.are.equal("a@example.com", r.Results[1].EmailAddress)
  end)

  it("treats a gateway timeout (504) on a Perform as outcome unknown", function()
    soap_handler = function() return response(504, "<html>Gateway Timeout</html>") end
    local ok, err = pcall(connect().perform, connect(), "start", defs(1))
    assert.is_false(ok)
    assert.are.equal("http", err.kind)
    assert.are.equal(504, err.http_status)
    assert.is_true(err.outcome_unknown)
    assert.are.equal(1, #soap_requests)
  end)

  it("a 500 page without a SOAP answer: Perform outcome unknown, Retrieve retried", function()
    soap_handler = function() return response(500, "<html><h1>Runtime Error</h1></html>") end
    local ok, err = pcall(connect().perform, connect(), "start", defs(1))
    assert.is_false(ok)
    assert.is_true(err.outcome_unknown)
    assert.are.equal(1, #soap_requests)
    assert.are.equal("Perform: HTTP 500 from mc-test.soap.example without a SOAP answer: Runtime "
      .. "Error (a server error: the service may have processed it)", err.message)
    install()
    soap_handler = function(e, n)
      if n == 1 then return response(500, "<html><h1>Runtime Error</h1></html>") end
      return response(200, core.encode_message("RetrieveResponseMsg", {OverallStatus = "OK",
        RequestID = "r"}, {}))
    end
    assert.is_true(connect():retrieve("Subscriber", {"ID"}).ok)
    assert.are.equal(2, #soap_requests)
  end)

  it("raises kind http for a non-SOAP client error without retrying", function()
    soap_handler = function() return response(404, "<html><h1>Not Found</h1></html>") end
    local ok, err = pcall(connect().version_info, connect())
    assert.is_false(ok)
    assert.are.equal("http", err.kind)
    assert.are.equal(404, err.http_status)
    assert.are.equal("VersionInfo: HTTP 404 from mc-test.soap.example: Not Found", err.message)
    assert.are.equal(1, #soap_requests)
  end)

  it("does not retry other faults", function()
    soap_handler = function() return fault(2, "Unexpected Error") end
    local ok, err = pcall(connect().perform, connect(), "start", defs(1))
    assert.is_false(ok)
    assert.are.equal("fault", err.kind)
    assert.are.equal(2, err.code)
    assert.are.equal(500, err.http_status)
    assert.are.equal(1, #soap_requests)
  end)

  it("an unreadable 200 answer to a Create is outcome unknown (kind xml)", function()
    soap_handler = function() return response(200, "<soap:Envelope><broken") end
    local ok, err = pcall(connect().create, connect(), mc.Subscriber{EmailAddress = "x@y.z"})
    assert.is_false(ok)
    assert.are.equal("xml", err.kind)
    assert.is_true(err.outcome_unknown)
  end)

  it("refreshes once on Token Expired and retries once", function()
    soap_handler = function(e, n)
      if n == 1 then return fault(nil, "Token Expired", "q0:Security") end
      return perform_ok(e.body)
    end
    local r = connect():perform("start", defs(1))
    assert.is_true(r.ok)
    assert.are.equal(2, #token_requests)
    assert.are.equal("tok-1", soap_requests[1].header.fueloauth)
    assert.are.equal("tok-2", soap_requests[2].header.fueloauth)
  end)

  it("raises kind auth when the fresh token is rejected too", function()
    soap_handler = function() return fault(nil, "Login Failed", "q0:Security") end
    local ok, err = pcall(connect().perform, connect(), "start", defs(1))
    assert.is_false(ok)
    assert.are.equal("auth", err.kind)
    assert.are.equal("Login Failed (again after fetching a new token)", err.message)
    assert.are.equal(2, #soap_requests)
    assert.are.equal(2, #token_requests)
  end)

  it("reports a refused token request as kind auth, never with the secret", function()
    token_handler = function()
      return response(401, core.json_encode{error = "invalid_client",
        error_description = "Client authentication failed for " .. SECRET})
    end
    soap_handler = function(e) return perform_ok(e.body) end
    local ok, err = pcall(connect().perform, connect(), "start", defs(1))
    assert.is_false(ok)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.http_status)
    assert.are.equal("invalid_client", err.code)
    assert.are.equal("token request to https://auth.example/v2/token was refused (HTTP 401): "
      .. "invalid_client: Client authentication failed for ***. Check client_id, client_secret "
      .. "(from mc.connect arguments) against the installed package's API integration",
      err.message)
    assert.is_nil(tostring(err):find(SECRET, 1, true))
    assert.are.equal(0, #soap_requests)
  end)

  it("reports a token request that got no answer as kind transport, retried and traced", function()
    local lines = {}
    trace.set_sink(function(s) lines[#lines + 1] = s end)
    token_handler = function(req)
      if #token_requests <= 2 then
        return response(0, "", {curl_code = 7, sent = false, error = "Failed to connect"})
      end
      return ok_token(req)
    end
    soap_handler = function(e) return perform_ok(e.body) end
    assert.is_true(connect{trace = true}:perform("start", defs(1)).ok)
    assert.are.equal(3, #token_requests)
    local all = table.concat(lines)
    -- the token request's retries show as a SOAP call's do
    assert.matches("performlua trace: token request attempt 1 failed (token request to "
      .. "https://auth.example/v2/token could not be sent: Failed to connect); retrying in ", all, 1, true)
    assert.matches("performlua trace: token request attempt 2 failed (", all, 1, true)
    assert.is_nil(all:find(SECRET, 1, true))
  end)

  it("gives up on a token endpoint that never answers as kind transport, saying so", function()
    token_handler = function()
      return response(0, "", {curl_code = 7, sent = false, error = "Failed to connect"})
    end
    local ok, err = pcall(connect{retries = 2}.perform, connect{retries = 2}, "start", defs(1))
    assert.is_false(ok)
    assert.are.equal("transport", err.kind)
    assert.are.equal(7, err.code)
    assert.is_true(err.retryable)
    assert.are.equal("token request to https://auth.example/v2/token could not be sent: Failed "
      .. "to connect (gave up after 3 attempts; the limit is mc.connect's retries)", err.message)
    assert.are.equal(3, #token_requests)
    assert.are.equal(0, #soap_requests)
  end)

  it("makes one token request for many concurrent callers (single flight)", function()
    token_handler = function(req)
      loop.sleep(0.05)
      return ok_token(req)
    end
    soap_handler = function(e) loop.sleep(0.01) return perform_ok(e.body) end
    local c = connect{max_in_flight = 20}
    local items = {}
    for i = 1, 20 do items[i] = i end
    local results = mc.map(items, function(i) return c:perform("start", defs(1)).ok end,
      {concurrency = 20})
    assert.are.equal(20, #results)
    assert.are.equal(1, #token_requests)
    assert.are.equal(20, #soap_requests)
  end)

  it("refreshes a token early (before it expires) and keeps a valid one if that fails", function()
    token_handler = function(req)
      tokens_issued = tokens_issued + 1
      if tokens_issued == 3 then
        return response(503, "<html>down</html>")
      end
      -- 4 s of life: the refresh margin becomes half of that, 2 s
      return response(200, core.json_encode{access_token = TOKEN_PREFIX .. tokens_issued,
        expires_in = 4, soap_instance_url = "https://mc-test.soap.example/"})
    end
    soap_handler = function(e) return perform_ok(e.body) end
    local c = connect{retries = 0}
    c:perform("start", defs(1))
    c:perform("start", defs(1))
    assert.are.equal(1, #token_requests)
    mc.sleep(2.1)
    c:perform("start", defs(1))
    assert.are.equal(2, #token_requests)
    assert.are.equal("tok-2", soap_requests[3].header.fueloauth)
    mc.sleep(2.1)
    -- the token endpoint fails now, but tok-2 is still valid for a little while
    c:perform("start", defs(1))
    assert.are.equal(3, #token_requests)
    assert.are.equal("tok-2", soap_requests[4].header.fueloauth)
  end)

  it("shares one token between clients of the same account in a process", function()
    soap_handler = function(e) return perform_ok(e.body) end
    connect():perform("start", defs(1))
    connect():perform("start", defs(1))
    assert.are.equal(1, #token_requests)
  end)

  it("keeps at most max_in_flight calls on the wire per client", function()
    local in_flight, peak = 0, 0
    soap_handler = function(e)
      in_flight = in_flight + 1
      peak = math.max(peak, in_flight)
      loop.sleep(0.02)
      in_flight = in_flight - 1
      return perform_ok(e.body)
    end
    local c = connect{max_in_flight = 3}
    local items = {}
    for i = 1, 12 do items[i] = i end
    mc.map(items, function() return c:perform("start", defs(1)) end, {concurrency = 12})
    assert.are.equal(3, peak)
  end)

  it("sends many objects in chunks and merges results in input order", function()
    soap_handler = function(e)
      local results = {}
      local n = #e.body.Definitions
      for i = n, 1, -1 do -- the service may answer in any order; OrdinalID says which is which
        local key = e.body.Definitions[i].CustomerKey
        local failed = key == "esd-7" or key == "esd-120"
        results[#results + 1] = {StatusCode = failed and "Error" or "OK",
          StatusMessage = failed and ("no such definition " .. key) or ("did " .. key),
          ErrorCode = failed and 42002 or nil, OrdinalID = i - 1}
      end
      return response(200, core.encode_message("PerformResponseMsg", {Results = results,
        OverallStatus = "Has Errors", RequestID = "req-" .. #soap_requests}, {}))
    end
    local inputs = defs(120)
    local r = connect():perform("start", inputs)
    assert.are.same({50, 50, 20}, {#soap_requests[1].body.Definitions,
      #soap_requests[2].body.Definitions, #soap_requests[3].body.Definitions})
    assert.are.equal(120, #r.Results)
    for i = 1, 120 do
      assert.are.equal(i - 1, r.Results[i].OrdinalID)
      if i ~= 7 and i ~= 120 then assert.are.equal("did esd-" .. i, r.Results[i].StatusMessage) end
    end
    assert.is_false(r.ok)
    assert.are.same({"req-1", "req-2", "req-3"}, r.RequestIDs)
    local errs = r:errors()
    assert.are.equal(2, #errs)
    assert.are.equal(inputs[7], errs[1].input)
    assert.are.equal(inputs[120], errs[2].input)
    local ok, err = pcall(r.check, r)
    assert.is_false(ok)
    assert.are.equal("fault", err.kind)
    assert.are.equal(r, err.result)
    assert.are.equal(42002, err.code)
    assert.are.equal("Perform: 2 of 120 results failed; first (#7): ErrorCode 42002: no such "
      .. "definition esd-7", err.message)
    -- a smaller chunk size on request
    install()
    connect{chunk_size = 10}:perform("start", defs(25))
    assert.are.equal(3, #soap_requests)
  end)

  it("reports the chunks already sent when a later chunk fails", function()
    soap_handler = function(e, n)
      if n == 2 then
        return response(0, "", {curl_code = 28, sent = true, error = "timed out"})
      end
      return perform_ok(e.body)
    end
    local ok, err = pcall(connect().perform, connect(), "start", defs(60))
    assert.is_false(ok)
    assert.is_true(err.outcome_unknown)
    assert.are.equal(50, #err.partial.Results)
    assert.matches("objects 51%-60 of 60; objects 1%-50 were sent in earlier chunks", err.message)
  end)

  it("keeps a free-text OverallStatus and makes ok false", function()
    -- a type nothing declared resembles goes to the service (a near miss never gets there)
    local text = "Error: Unable to find a handler for object type: Xyzzy. Object types are "
      .. "case-sensitive, check spelling."
    soap_handler = function()
      return response(200, core.encode_message("RetrieveResponseMsg", {OverallStatus = text,
        RequestID = "r1"}, {}))
    end
    local r = connect():retrieve("Xyzzy", {"ID"})
    assert.is_false(r.ok)
    assert.are.equal(text, r.OverallStatus)
    assert.are.same({}, r.Results)
    local ok, err = pcall(r.check, r)
    assert.is_false(ok)
    assert.are.equal("Retrieve failed: OverallStatus " .. text, err.message)
    assert.are.equal("r1", err.request_id)
  end)

  it("pages with c:continue, sending the previous RequestID", function()
    soap_handler = function(e, n)
      return response(200, core.encode_message("RetrieveResponseMsg", {
        OverallStatus = n < 3 and "MoreDataAvailable" or "OK", RequestID = "page-" .. n,
        Results = {mc.Subscriber{ID = n}}}, {}))
    end
    local c = connect()
    local r = c:retrieve("Subscriber", {"ID"}, mc.SimpleFilterPart{Property = "ID",
      SimpleOperator = "greaterThan", Value = "0"}, {BatchSize = 1, QueryAllAccounts = true})
    local ids = {r.Results[1].ID}
    assert.is_true(r.more)
    assert.is_true(r.ok)
    local rr = soap_requests[1].body.RetrieveRequest
    assert.are.equal(1, rr.Options.BatchSize)
    assert.is_true(rr.QueryAllAccounts)
    assert.are.equal("greaterThan", rr.Filter.SimpleOperator)
    while r.more do
      r = c:continue(r)
      ids[#ids + 1] = r.Results[1].ID
    end
    assert.are.same({1, 2, 3}, ids)
    assert.are.equal("page-1", soap_requests[2].body.RetrieveRequest.ContinueRequest)
    assert.are.equal("page-2", soap_requests[3].body.RetrieveRequest.ContinueRequest)
    assert.are.equal("Subscriber", soap_requests[3].body.RetrieveRequest.ObjectType)
    assert.is_nil(c:continue(r))
  end)

  it("traces token requests and envelopes with every secret replaced", function()
    local lines = {}
    trace.set_sink(function(s) lines[#lines + 1] = s end)
    soap_handler = function(e, n)
      if n == 1 then return fault(nil, "Token Expired", "q0:Security") end
      return perform_ok(e.body)
    end
    connect{trace = true}:perform("start", defs(1))
    local all = table.concat(lines)
    assert.matches("performlua trace: token request POST https://auth.example/v2/token", all, 1, true)
    assert.matches('"client_secret":"***"', all, 1, true)
    assert.matches('"access_token":"***"', all, 1, true)
    assert.matches('<fueloauth xmlns="http://exacttarget.com">***</fueloauth>', all, 1, true)
    assert.matches("performlua trace: Perform response HTTP 200", all, 1, true)
    assert.is_nil(all:find(SECRET, 1, true))
    assert.is_nil(all:find(TOKEN_PREFIX, 1, true))
    -- envelopes laid out one element per line, as people read them
    assert.matches('\n  <soap:Body>\n    <PerformRequestMsg xmlns="http://exacttarget.com/wsdl/'
      .. 'partnerAPI">\n      <Action>start</Action>\n', all, 1, true)
    assert.matches('\n    <fueloauth xmlns="http://exacttarget.com">***</fueloauth>\n', all, 1, true)
  end)

  it("keeps secrets and tokens out of the client's fields (printing a client shows none)", function()
    soap_handler = function(e) return perform_ok(e.body) end
    local c = connect()
    c:perform("start", defs(1))
    local seen = {}
    local function walk(v)
      if type(v) == "string" then
        assert.is_nil(v:find(SECRET, 1, true))
        assert.is_nil(v:find(TOKEN_PREFIX, 1, true))
      elseif type(v) == "table" and not seen[v] then
        seen[v] = true
        for k, x in pairs(v) do walk(k) walk(x) end
      end
    end
    walk(c)
    local text = mc.pretty(c) .. tostring(c)
    assert.is_nil(text:find(SECRET, 1, true))
    assert.is_nil(text:find(TOKEN_PREFIX, 1, true))
  end)

  -- A server's bytes reach the terminal through traces and error messages: terminal escapes,
  -- a lone carriage return (which hides what came before it on the line) and bytes that are not
  -- UTF-8 are shown escaped.
  it("shows a server's control characters and bytes that are not UTF-8 escaped", function()
    local lines = {}
    trace.set_sink(function(s) lines[#lines + 1] = s end)
    soap_handler = function()
      return response(500, "<html><body>\27[2J\27]0;title\7 failed\r\255 hidden\r\nnext</body></html>")
    end
    local ok, err = pcall(function() connect{trace = true, retries = 0}:perform("start", defs(1)) end)
    assert.is_false(ok)
    local all = table.concat(lines)
    assert.matches("\\x1B[2J\\x1B]0;title\\x07 failed\\x0D\\xFF hidden\r\nnext", all, 1, true)
    assert.matches("\\x1B[2J\\x1B]0;title\\x07 failed \\xFF hidden next", err.message, 1, true)
    for _, text in ipairs{all, err.message} do
      assert.is_nil(text:find("[\0-\8\11-\12\14-\31\127]"), text)
      assert.truthy(utf8.len(text))
    end
  end)

  it("redacts the token of an answer whose member name is written with escapes", function()
    local lines = {}
    trace.set_sink(function(s) lines[#lines + 1] = s end)
    token_handler = function()
      return response(200, '{"access\\u005ftoken":"tok-escaped-name","expires_in":1080,'
        .. '"soap_instance_url":"https://mc-test.soap.example/"}')
    end
    soap_handler = function(e) return perform_ok(e.body) end
    connect{trace = true}:perform("start", defs(1))
    assert.are.equal("tok-escaped-name", soap_requests[1].header.fueloauth)
    local all = table.concat(lines)
    assert.matches("performlua trace: token response HTTP 200", all, 1, true)
    assert.is_nil(all:find("tok-escaped-name", 1, true))
  end)

  it("redacts WS-Security passwords in traces", function()
    local lines = {}
    trace.set_sink(function(s) lines[#lines + 1] = s end)
    soap_handler = function() return response(200, core.encode_message("VersionInfoResponseMsg",
      {VersionInfo = {Version = "1.0", VersionDate = "2020-01-01T00:00:00Z", Notes = "n"}}, {})) end
    local c = client.connect{username = "apiuser", password = "hunter2-password",
      soap_url = "https://mc-test.soap.example/Service.asmx", trace = true}
    local r = c:version_info()
    assert.are.equal("1.0", r.Results[1].Version)
    assert.are.equal("apiuser", soap_requests[1].header.username)
    local all = table.concat(lines)
    assert.is_nil(all:find("hunter2-password", 1, true))
    assert.matches("PasswordText\">***</wsse:Password>", all, 1, true)
    assert.are.equal(0, #token_requests)
  end)
end)

describe("token disk cache", function()
  local cache_home, restore
  before_each(function()
    cache_home, restore = ch.use_cache_home("client-policy-cache")
    auth._reset()
    install()
    soap_handler = function(e) return perform_ok(e.body) end
  end)
  after_each(function()
    loop.http = original_http
    restore()
  end)

  it("stores the token 0600 in a 0700 directory and reuses it in a new process", function()
    local c = connect{token_cache = true, account_id = 42}
    c:perform("start", defs(1))
    assert.are.equal(1, #token_requests)
    local dir = cache_home .. "/performlua/tokens"
    assert.are.equal(448, core.file_info(dir).mode)
    local path = c.auth:cache_file()
    assert.are.equal(dir, path:match("^(.*)/[^/]+$"))
    assert.are.equal(384, core.file_info(path).mode)
    -- a new process: no in-memory state
    auth._reset()
    local c2 = connect{token_cache = true, account_id = 42}
    c2:perform("start", defs(1))
    assert.are.equal(1, #token_requests)
    assert.are.equal("tok-1", soap_requests[2].header.fueloauth)
    -- another account gets its own token
    auth._reset()
    connect{token_cache = true, account_id = 43}:perform("start", defs(1))
    assert.are.equal(2, #token_requests)
  end)

  it("drops a cached token the server rejects and replaces it", function()
    connect{token_cache = true}:perform("start", defs(1))
    auth._reset()
    soap_handler = function(e, n)
      if n == 2 then return fault(nil, "Token Expired", "q0:Security") end
      return perform_ok(e.body)
    end
    local c = connect{token_cache = true}
    c:perform("start", defs(1))
    assert.are.equal(2, #token_requests)
    assert.are.equal("tok-1", soap_requests[2].header.fueloauth)
    assert.are.equal("tok-2", soap_requests[3].header.fueloauth)
    local f = io.open(c.auth:cache_file())
    local data = core.json_decode(f:read("a"))
    f:close()
    assert.are.equal("tok-2", data.access_token)
  end)
end)

describe("auth URL normalisation", function()
  it("builds auth and SOAP endpoints", function()
    assert.are.same({"https://mc1.auth.marketingcloudapis.com/",
      "https://mc1.auth.marketingcloudapis.com/v2/token"},
      {auth.normalize_auth_url("mc1", nil)})
    assert.are.same({"https://x.example/", "https://x.example/v2/token"},
      {auth.normalize_auth_url(nil, "x.example")})
    assert.are.same({"http://127.0.0.1:5/", "http://127.0.0.1:5/v2/token"},
      {auth.normalize_auth_url(nil, "http://127.0.0.1:5/v2/token")})
    assert.are.equal("https://mc1.soap.marketingcloudapis.com/Service.asmx",
      auth.normalize_soap_url("mc1.soap.marketingcloudapis.com"))
    assert.are.equal("https://mc1.soap.marketingcloudapis.com/Service.asmx",
      auth.normalize_soap_url("https://mc1.soap.marketingcloudapis.com/"))
    assert.are.equal("https://h/service.asmx", auth.normalize_soap_url("https://h/service.asmx"))
  end)
end)
