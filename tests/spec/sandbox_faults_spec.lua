-- Fault injection and latency: each --fault kind on every Nth SOAP request, combined faults,
-- latency that does not serialise concurrent requests, and stopping with connections open.
local core = require "performlua.core"
local sh = require "sandbox_helper"
local uh = require "usage_helper"

local function create_list(sb, token, key)
  local env = core.encode("Create", {Objects = {setmetatable({CustomerKey = key, ListName = key},
    core.object_metatable("List"))}}, {header = {fueloauth = token}})
  return sh.http("POST", sb.soap_url, env, {"Content-Type: text/xml", "SOAPAction: Create"})
end

local function has_list(sb, key)
  for _, l in ipairs(sb:objects("List")) do
    if l.CustomerKey == key then return true end
  end
  return false
end

describe("sandbox fault injection", function()
  it("throttle: HTTP 500 Rate Limited (code 17) on every Nth request, not processed", function()
    local sb <close> = sh.start{faults = {"throttle:3"}}
    local token = sh.token(sb)
    assert.are.equal(200, create_list(sb, token, "a1").status)
    assert.are.equal(200, create_list(sb, token, "a2").status)
    local r = create_list(sb, token, "a3")
    assert.are.equal(500, r.status)
    local _, err = sh.decode(r.body)
    assert.are.equal("soap:Server", err.faultcode)
    assert.are.equal("Rate Limited", err.message)
    assert.are.equal(17, err.code)
    assert.is_true(err.retryable)
    assert.is_false(has_list(sb, "a3"))
    assert.are.equal(200, create_list(sb, token, "a4").status)
    local r6 = (create_list(sb, token, "a5") and create_list(sb, token, "a6"))
    assert.are.equal(500, r6.status)
    local stats = sb:stats()
    assert.are.equal(6, stats.soap_requests)
    assert.are.equal(4, stats.processed.Create)
    assert.are.equal(2, stats.faults_injected.throttle)
  end)

  it("http503: an HTML page with HTTP 503, not processed", function()
    local sb <close> = sh.start{faults = {"http503:1"}}
    local r = create_list(sb, sh.token(sb), "b1")
    assert.are.equal(503, r.status)
    assert.truthy(r.body:find("<h1>Service Unavailable</h1>", 1, true))
    assert.is_false(has_list(sb, "b1"))
  end)

  it("reset-before: the connection closes without an answer and nothing is processed", function()
    local sb <close> = sh.start{faults = {"reset-before:2"}}
    local token = sh.token(sb)
    assert.are.equal(200, create_list(sb, token, "c1").status)
    local r = create_list(sb, token, "c2")
    assert.are.equal(52, r.exit) -- curl: empty reply from server
    assert.are.equal(0, r.status)
    assert.is_false(has_list(sb, "c2"))
  end)

  it("reset-after: the request is processed, then the connection closes without an answer", function()
    local sb <close> = sh.start{faults = {"reset-after:1"}}
    local r = create_list(sb, sh.token(sb), "d1")
    assert.are.equal(52, r.exit)
    assert.is_true(has_list(sb, "d1"))
    assert.are.equal(1, sb:stats().processed.Create)
  end)

  it("truncate: the request is processed and half of the answer is sent", function()
    local sb <close> = sh.start{faults = {"truncate:1"}}
    local r = create_list(sb, sh.token(sb), "e1")
    assert.are.equal(18, r.exit) -- curl: transfer closed with outstanding read data
    assert.are.equal(200, r.status)
    assert.is_true(has_list(sb, "e1"))
    assert.truthy(r.body:find("^<%?xml"))
    assert.is_nil(r.body:find("</soap:Envelope>", 1, true))
    assert.is_nil((sh.decode(r.body)))
  end)

  it("expire-token: Token Expired, and the token stays expired until a new one is fetched", function()
    local sb <close> = sh.start{faults = {"expire-token:3"}}
    local token = sh.token(sb)
    assert.are.equal(200, create_list(sb, token, "f1").status)
    assert.are.equal(200, create_list(sb, token, "f1b").status)
    local r = create_list(sb, token, "f2")
    assert.are.equal(500, r.status)
    local _, err = sh.decode(r.body)
    assert.are.equal("q0:Security", err.faultcode)
    assert.are.equal("Token Expired", err.message)
    assert.is_false(has_list(sb, "f2"))
    r = create_list(sb, token, "f3")
    assert.are.equal("Token Expired", select(2, sh.decode(r.body)).message)
    assert.are.equal(200, create_list(sb, sh.token(sb), "f5").status)
    assert.are.equal(2, sb:stats().token_requests)
  end)

  it("counts one operation's requests for KIND:OPERATION:N, whatever else comes between", function()
    local sb <close> = sh.start{faults = {"throttle:Create:2"}}
    local token = sh.token(sb)
    local function retrieve_lists()
      local env = core.encode("Retrieve", {RetrieveRequest = {ObjectType = "List", Properties = {"ID"}}},
        {header = {fueloauth = token}})
      return sh.http("POST", sb.soap_url, env, {"Content-Type: text/xml", "SOAPAction: Retrieve"}).status
    end
    local statuses = {}
    for i = 1, 4 do
      statuses[#statuses + 1] = create_list(sb, token, "o" .. i).status
      for _ = 1, i do statuses[#statuses + 1] = retrieve_lists() end -- a varying number of polls
    end
    assert.are.same({200, 200, 500, 200, 200, 200, 200, 200, 200, 500, 200, 200, 200, 200}, statuses)
    assert.is_true(has_list(sb, "o1") and has_list(sb, "o3"))
    assert.is_false(has_list(sb, "o2") or has_list(sb, "o4"))
    local stats = sb:stats()
    assert.are.same({Create = 4, Retrieve = 10}, stats.by_soap_action)
    assert.are.equal(2, stats.faults_injected.throttle)
  end)

  it("combines faults: the first listed applies when several fall on one request", function()
    local sb <close> = sh.start{faults = {"throttle:2", "http503:3"}}
    local token = sh.token(sb)
    local statuses = {}
    for i = 1, 6 do statuses[i] = create_list(sb, token, "g" .. i).status end
    assert.are.same({200, 500, 503, 500, 200, 500}, statuses)
    assert.are.same({throttle = 3, http503 = 1}, sb:stats().faults_injected)
  end)

  it("refuses unknown fault kinds and bad counts with a clear message", function()
    local ok, err = pcall(sh.start, {faults = {"explode:2"}})
    assert.is_false(ok)
    assert.are.equal("sandbox.start: unknown fault kind 'explode' (kinds: throttle, http503, "
      .. "reset-before, reset-after, truncate, expire-token)", uh.message(err))
    ok, err = pcall(sh.start, {faults = {"throttle"}})
    assert.is_false(ok)
    assert.are.equal("sandbox.start: fault 'throttle' is not KIND:N or KIND:OPERATION:N (e.g. "
      .. "throttle:3, reset-after:Perform:2; kinds: throttle, http503, reset-before, reset-after, "
      .. "truncate, expire-token)", uh.message(err))
    ok, err = pcall(sh.start, {faults = {"throttle:perform:2"}})
    assert.is_false(ok)
    assert.are.equal("sandbox.start: fault 'throttle:perform:2': 'perform' is not a SOAP operation "
      .. "of the API (e.g. Perform, Retrieve, Create; names are case-sensitive)", uh.message(err))
  end)
end)

describe("sandbox latency and lifecycle", function()
  local function concurrent(sb, n)
    local env = core.encode("GetSystemStatus", {}, {header = {username = "sandbox", password = "sandbox"}})
    local file = os.getenv("PERFORMLUA_BUILD_DIR") .. "/sbx-latency-" .. core.getpid() .. ".xml"
    local f = assert(io.open(file, "w"))
    f:write(env)
    f:close()
    local cmd = {}
    for _ = 1, n do
      cmd[#cmd + 1] = string.format("curl -s -o /dev/null -w '%%{http_code}\\n' -H 'SOAPAction: GetSystemStatus' "
        .. "--data-binary @%s %s &", file, sb.soap_url)
    end
    local t0 = core.monotonic()
    local p = io.popen(table.concat(cmd, " ") .. " wait")
    local out = p:read("a")
    p:close()
    local elapsed = core.monotonic() - t0
    os.remove(file)
    local codes = {}
    for c in out:gmatch("%d+") do codes[#codes + 1] = c end
    return elapsed, codes
  end

  it("delays each answer by the latency without serialising concurrent requests", function()
    local sb <close> = sh.start{latency = 400}
    local one = concurrent(sb, 1)
    assert.is_true(one >= 0.4, "one request took " .. one)
    local elapsed, codes = concurrent(sb, 8)
    assert.are.same({"200", "200", "200", "200", "200", "200", "200", "200"}, codes)
    -- serialised, 8 requests take at least 8 x 0.4 = 3.2 s whatever the machine's load; the
    -- bound sits just under that floor so that only serialising can break it
    assert.is_true(elapsed >= 0.4 and elapsed < 3.0, "8 concurrent requests took " .. elapsed)
  end)

  it("stops promptly with connections open and requests waiting", function()
    local sb = sh.start{latency = 10000}
    local p = io.popen(string.format("curl -s -o /dev/null -w '%%{http_code}' --max-time 20 "
      .. "-H 'SOAPAction: GetSystemStatus' --data-binary 'x' %s; echo \" $?\"", sb.soap_url))
    -- an idle keep-alive connection too
    local idle = io.popen(string.format("curl -s -o /dev/null --max-time 20 %s %s", sb.auth_url, sb.auth_url))
    core.sleep(0.3)
    local t0 = core.monotonic()
    sb:stop()
    local took = core.monotonic() - t0
    local out = p:read("a")
    p:close()
    idle:close()
    -- waiting for the request would take the 10 s latency
    assert.is_true(took < 6, "stop took " .. took)
    assert.are.equal("000 52", out:match("^%s*(.-)%s*$"))
    local ok, err = pcall(sb.stats, sb)
    assert.is_false(ok)
    assert.are.equal("this sandbox has been stopped", uh.message(err))
    sb:stop() -- idempotent
  end)

  it("is collected with its handle (__gc) and stops on scope exit (__close)", function()
    local port
    do
      local sb <close> = sh.start{}
      port = sb.port
    end
    local r = sh.http("POST", "http://127.0.0.1:" .. port .. "/v2/token", "{}", {})
    assert.are.equal(7, r.exit) -- curl: couldn't connect
    sh.start{}
    collectgarbage()
    collectgarbage()
  end)
end)
