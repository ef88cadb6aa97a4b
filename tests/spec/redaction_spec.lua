-- Redaction everywhere: a server that echoes the request (its fueloauth token, the WS-Security
-- password) and the client secret into every field it can -- faultstring, detail, faultactor,
-- faultcode, an HTTP error page, a token error, a per-object StatusMessage, a retrieve page --
-- never gets a secret into any field of the error or the result a script receives, nor into
-- the trace or the --log-json run log. loop.http answers from a script (as in
-- client_policy_spec.lua); the log and trace part runs the binary as a user would.
local core = require "performlua.core"
local loop = require "performlua.loop"
local auth = require "performlua.auth"
local client = require "performlua.client"
local trace = require "performlua.trace"
local mc = require "performlua"

local SECRET = "redaction-spec-client-secret-7f3a"
local TOKEN = "redaction-spec-token-c41d9e"
local PASSWORD = "redaction-spec-password-92bb"
local original_http = loop.http
local soap_handler, token_handler

local function response(status, body)
  return {id = 0, status = status, body = body or "", headers = {}, curl_code = 0, sent = true,
          reused = false, elapsed = 0.001}
end

-- What the hostile server puts everywhere: the request as it came (its token, or the
-- WS-Security password) and the OAuth secrets besides.
local function echo(req)
  return "you sent: " .. req.body .. " with " .. TOKEN .. " / " .. SECRET
end

local function token_ok()
  return response(200, core.json_encode{access_token = TOKEN, expires_in = 1080,
    soap_instance_url = "https://mc-test.soap.example/"})
end

local function connect(extra)
  local args = {client_id = "cid", client_secret = SECRET, auth_url = "https://auth.example/",
    retry_base_delay = 0.001, retries = 0, token_cache = false}
  for k, v in pairs(extra or {}) do args[k] = v end
  return client.connect(args)
end

-- Every string reachable from v (keys and values), with the path that leads to it.
local function strings(v, out, path, seen)
  out, path, seen = out or {}, path or "err", seen or {}
  if type(v) == "string" then
    out[#out + 1] = {path = path, text = v}
  elseif type(v) == "table" and not seen[v] then
    seen[v] = true
    for k, x in next, v do
      strings(k, out, path .. "[key]", seen)
      strings(x, out, path .. "." .. tostring(k), seen)
    end
  end
  return out
end

-- Fails naming the field when a secret is anywhere in v; returns how many strings it read.
local function assert_clean(v)
  local list = strings(v)
  for _, s in ipairs(list) do
    for _, secret in ipairs{SECRET, TOKEN, PASSWORD} do
      assert(not s.text:find(secret, 1, true),
        string.format("%s holds a secret: %s", s.path, s.text))
    end
  end
  return #list
end

local function fault_echo(entry)
  local text = echo(entry)
  return response(500, core.encode_fault{faultcode = "soap:Client " .. TOKEN, faultstring = text,
    faultactor = text, code = 2, message = text})
end

describe("redaction of every field", function()
  before_each(function()
    auth._reset()
    token_handler = token_ok
    loop.http = function(req)
      if req.url:match("/v2/token$") then return token_handler(req) end
      return soap_handler(req)
    end
  end)
  after_each(function() loop.http = original_http end)

  it("a fault echoing the request: faultstring, detail, faultactor, faultcode", function()
    soap_handler = fault_echo
    local ok, err = pcall(connect().create, connect(),
      mc.Subscriber{EmailAddress = "a@example.com", SubscriberKey = "a"})
    assert.is_false(ok)
    assert.are.equal("fault", err.kind)
    -- the fields are there, with the secrets replaced
    for _, field in ipairs{"message", "detail", "faultactor"} do
      assert.matches("you sent:", err[field], 1, true)
      assert.matches("***", err[field], 1, true)
    end
    assert.matches("***", err.faultcode, 1, true)
    assert_clean(err)
    assert.is_nil(tostring(err):find(TOKEN, 1, true))
  end)

  it("a WS-Security password echoed into a fault", function()
    soap_handler = function(req)
      assert(req.body:find(PASSWORD, 1, true), "the request carries the password")
      return fault_echo(req)
    end
    local c = client.connect{username = "apiuser", password = PASSWORD, retries = 0,
      soap_url = "https://mc-test.soap.example/"}
    local ok, err = pcall(c.retrieve, c, "Subscriber", {"ID"})
    assert.is_false(ok)
    assert.are.equal("fault", err.kind)
    assert.matches("***", err.detail, 1, true)
    assert_clean(err)
  end)

  it("an HTTP error page echoing the request", function()
    soap_handler = function(req) return response(400, "<html>" .. echo(req) .. "</html>") end
    local ok, err = pcall(connect().retrieve, connect(), "Subscriber", {"ID"})
    assert.is_false(ok)
    assert.are.equal("http", err.kind)
    assert_clean(err)
  end)

  it("a token endpoint echoing the client secret in its error, code and description", function()
    token_handler = function(req)
      assert(req.body:find(SECRET, 1, true), "the token request carries the secret")
      return response(401, core.json_encode{error = "bad " .. SECRET,
        error_description = req.body, errorcode = SECRET})
    end
    soap_handler = function() error("no SOAP call expected") end
    local ok, err = pcall(connect().retrieve, connect(), "Subscriber", {"ID"})
    assert.is_false(ok)
    assert.are.equal("auth", err.kind)
    assert.matches("***", err.code, 1, true)
    assert_clean(err)
  end)

  it("per-object StatusMessages of a result with failures, and r:check()'s error", function()
    soap_handler = function(req)
      local text = echo(req)
      return response(200, core.encode_message("PerformResponseMsg", {
        Results = {{StatusCode = "Error", StatusMessage = text, ErrorCode = 42, OrdinalID = 0,
                    Task = {StatusCode = "Error", StatusMessage = text, ID = "t-1"}}},
        OverallStatus = "Has Errors", OverallStatusMessage = text, RequestID = "req-1"}, {}))
    end
    local r = connect():perform("start", mc.EmailSendDefinition{CustomerKey = "k1"})
    assert.is_false(r.ok)
    assert.matches("***", r.Results[1].StatusMessage, 1, true)
    -- data keeps its bytes but the secrets: the request's XML is still there
    assert.matches("<fueloauth", r.Results[1].StatusMessage, 1, true)
    assert_clean(r)
    local ok, err = pcall(r.check, r)
    assert.is_false(ok)
    assert.matches("you sent:", err.message, 1, true)
    assert_clean(err)
  end)

  it("a retrieve page that fails while paging", function()
    local n = 0
    soap_handler = function(req)
      n = n + 1
      if n == 1 then
        return response(200, core.encode_message("RetrieveResponseMsg", {
          OverallStatus = "MoreDataAvailable", RequestID = "page-1",
          Results = {mc.Subscriber{ID = 1}}}, {}))
      end
      return response(200, core.encode_message("RetrieveResponseMsg", {
        OverallStatus = "Error: " .. echo(req), RequestID = "page-2"}, {}))
    end
    local c = connect()
    local ok, err = pcall(function()
      for _ in c:each("Subscriber", {"ID"}) do end
    end)
    assert.is_false(ok)
    assert.matches("after 1 objects had been delivered", err.message, 1, true)
    assert_clean(err)
  end)

  it("errors from a cycle of tables are redacted once and do not loop", function()
    local e = require("performlua.errors").new{kind = "fault", message = "m " .. SECRET}
    e.self = e
    e.nested = {e, text = TOKEN .. "\27[2J"}
    trace.redact_fields(e, {SECRET, TOKEN})
    assert_clean(e)
    assert.are.equal("m ***", e.message)
    -- data (not an error's own field) keeps its bytes but the secrets
    assert.are.equal("***\27[2J", e.nested.text)
  end)

  -- The walk of a decoded answer is skipped when its raw bytes show no value can hold a secret
  -- (trace.answer_may_hold): every way the parser turns other bytes into a secret's still
  -- reaches the walk.
  local function answer_with(message)
    local xml = core.encode_message("PerformResponseMsg", {
      Results = {{StatusCode = "Error", StatusMessage = "MARK", ErrorCode = 42, OrdinalID = 0}},
      OverallStatus = "Has Errors", RequestID = "req-1"}, {})
    return (xml:gsub("MARK", function() return message end))
  end
  local utf16 = answer_with(TOKEN):gsub('encoding="[^"]*"', 'encoding="UTF-16"'):gsub(".", "%0\0")
  local disguised = {
    plain = answer_with(TOKEN),
    ["a character reference"] = answer_with(TOKEN:sub(1, 3) .. "&#" .. TOKEN:byte(4) .. ";"
      .. TOKEN:sub(5)),
    ["a CDATA section"] = answer_with(TOKEN:sub(1, 5) .. "<![CDATA[" .. TOKEN:sub(6) .. "]]>"),
    ["a comment"] = answer_with(TOKEN:sub(1, 5) .. "<!-- -->" .. TOKEN:sub(6)),
    ["a processing instruction"] = answer_with(TOKEN:sub(1, 5) .. "<?pi x?>" .. TOKEN:sub(6)),
    ["UTF-16"] = "\255\254" .. utf16,
  }
  for how, xml in pairs(disguised) do
    it("an answer's value that decodes to a secret, written " .. how, function()
      soap_handler = function() return response(200, xml) end
      local r = connect():perform("start", mc.EmailSendDefinition{CustomerKey = "k1"})
      assert.is_false(r.ok)
      assert.are.equal("***", r.Results[1].StatusMessage)
      assert_clean(r)
      assert.is_true(trace.answer_may_hold(xml, {TOKEN}))
    end)
  end

  it("skips the walk only for an answer whose bytes hold no secret and change none", function()
    local clean = answer_with("nothing secret here")
    assert.is_false(trace.answer_may_hold(clean, {TOKEN, SECRET}))
    assert.is_false(trace.answer_may_hold("\239\187\191" .. clean, {TOKEN}))
    assert.is_true(trace.answer_may_hold(clean, {"nothing secret"})) -- a secret with a space
    -- "!" and "?" in text are not markup; "<!" and "<?" anywhere after the declaration are
    assert.is_false(trace.answer_may_hold(answer_with("ok! really? yes!?"), {TOKEN}))
    assert.is_true(trace.answer_may_hold(answer_with("ok! <!-- c -->?"), {TOKEN}))
    assert.is_true(trace.answer_may_hold(answer_with("ok? <?pi x?>!"), {TOKEN}))
    assert.is_true(trace.answer_may_hold((clean:gsub("%?>", "?><?pi x?>", 1)), {TOKEN}))
    assert.is_true(trace.answer_may_hold("<!DOCTYPE x>" .. clean, {TOKEN}))
    assert.is_true(trace.answer_may_hold(clean, {"h\195\169ll\195\182"})) -- not ASCII
    assert.is_true(trace.answer_may_hold(clean:gsub('encoding="[^"]*"',
      'encoding="ISO-8859-1"'), {TOKEN}))
    trace.add_secret("registered-secret-5e1c")
    assert.is_true(trace.answer_may_hold(answer_with("registered-secret-5e1c"), {TOKEN}))
    soap_handler = function() return response(200, clean) end
    local r = connect():perform("start", mc.EmailSendDefinition{CustomerKey = "k1"})
    assert.are.equal("nothing secret here", r.Results[1].StatusMessage)
  end)

  it("judges each declaration and secret the same however many came before", function()
    -- what answer_may_hold learnt of a declaration or a secret is kept, a bounded number: past
    -- the bound, answers are judged as the first time
    local clean = answer_with("nothing secret here")
    for round = 1, 3 do
      for i = 1, 100 do
        local other = clean:gsub('encoding="[^"]*"', 'encoding="X-CODE-' .. i .. '"')
        local spaced = clean:gsub('%?>', string.rep(" ", i % 7) .. "?>", 1)
        assert.is_true(trace.answer_may_hold(other, {TOKEN}), "round " .. round .. ", " .. i)
        assert.is_false(trace.answer_may_hold(spaced, {"tok-" .. i .. "-abc"}))
        assert.is_true(trace.answer_may_hold(spaced, {"tok " .. i})) -- a space: may be escaped
        assert.is_true(trace.answer_may_hold(answer_with("tok-" .. i .. "-abc"),
          {"tok-" .. i .. "-abc"}))
      end
    end
    assert.is_true(trace.answer_may_hold('<?xml version="1.0" encoding="UTF-8"', {TOKEN}))
  end)

  it("checks each answer against the client's secrets, the token of the moment included", function()
    -- transport reads a list kept until the token changes (auth:secret_list), not a copy per
    -- call: after a rejected token, the list names the new one and no longer the old
    local tokens = {TOKEN, TOKEN .. "-second"}
    local fetched = 0
    token_handler = function()
      fetched = fetched + 1
      return response(200, core.json_encode{access_token = tokens[fetched], expires_in = 1080,
        soap_instance_url = "https://mc-test.soap.example/"})
    end
    local expired = true
    soap_handler = function()
      if expired then
        expired = false
        return response(500, core.encode_fault{faultcode = "soap:Client",
          faultstring = "Token Expired"})
      end
      return response(200, answer_with("ok"))
    end
    local c = connect()
    c:perform("start", mc.EmailSendDefinition{CustomerKey = "k1"})
    assert.are.equal(2, fetched)
    local list = c.auth:secret_list()
    local has = {}
    for _, s in ipairs(list) do has[s] = true end
    assert.is_true(has[SECRET])
    assert.is_true(has[tokens[2]])
    assert.is_nil(has[tokens[1]])
    assert.are.equal(list, c.auth:secret_list()) -- the same list while the token stays
    assert.are.same(c.auth:secret_values(), list)
  end)

  it("leaves the script's own objects alone", function()
    local input = mc.EmailSendDefinition{CustomerKey = "has " .. SECRET}
    local r = {Results = {{StatusMessage = SECRET, input = input}}}
    trace.redact_fields(r, {SECRET})
    assert.are.equal("***", r.Results[1].StatusMessage)
    assert.are.equal("has " .. SECRET, input.CustomerKey)
  end)
end)

describe("redaction in --trace and --log-json output", function()
  local BIN = assert(os.getenv("PERFORMLUA"), "PERFORMLUA")
  local DIR = os.getenv("PERFORMLUA_BUILD_DIR") or "/tmp"

  it("no secret in any trace line or log line of a run against an echoing server", function()
    local base = string.format("%s/redaction-%d-%s", DIR, core.getpid(), core.random_hex(4))
    local script, log = base .. ".lua", base .. ".jsonl"
    finally(function() os.remove(script) os.remove(log) end)
    local f = assert(io.open(script, "w"))
    f:write(string.format([[
local core = require "performlua.core"
local loop = require "performlua.loop"
local mc = require "performlua"
local SECRET, TOKEN = %q, %q
local function response(status, body)
  return {id = 0, status = status, body = body, headers = {}, curl_code = 0, sent = true,
          reused = false, elapsed = 0.001}
end
loop.http = function(req)
  local text = "echo " .. req.body .. " " .. TOKEN .. " " .. SECRET
  if req.url:match("/v2/token$") then
    return response(200, core.json_encode{access_token = TOKEN, expires_in = 1080,
      soap_instance_url = "https://mc-test.soap.example/"})
  end
  if req.body:find("RetrieveRequestMsg", 1, true) then
    return response(500, core.encode_fault{faultcode = "soap:Client", faultstring = text,
      faultactor = text, code = 2, message = text})
  end
  return response(200, core.encode_message("PerformResponseMsg", {
    Results = {{StatusCode = "Error", StatusMessage = text, OrdinalID = 0}},
    OverallStatus = "Has Errors", OverallStatusMessage = text, RequestID = "r-1"}, {}))
end
local c = mc.connect{client_id = "cid", client_secret = SECRET, auth_url = "https://a.example/",
  token_cache = false, retries = 0}
local r = c:perform("start", mc.EmailSendDefinition{CustomerKey = "k"})
print(pcall(r.check, r))
print(pcall(c.retrieve, c, "Subscriber", {"ID"}))
require("performlua.runlog").step("echo", {said = r.Results[1].StatusMessage,
  raw = "secret " .. SECRET})
]], SECRET, TOKEN))
    f:close()
    local p = io.popen(string.format("%s --trace --log-json %s %s 2>&1; echo \"exit=$?\"", BIN,
      log, script))
    local out = p:read("a")
    p:close()
    assert.matches("exit=0", out, 1, true)
    assert.matches("performlua trace: Retrieve response HTTP 500", out, 1, true)
    assert.matches("fault error:", out, 1, true)
    for _, secret in ipairs{SECRET, TOKEN} do
      assert.is_nil(out:find(secret, 1, true), "the output holds a secret:\n" .. out)
    end
    local lines = 0
    for line in io.lines(log) do
      lines = lines + 1
      assert(core.json_decode(line), "not JSON: " .. line)
      for _, secret in ipairs{SECRET, TOKEN} do
        assert(not line:find(secret, 1, true), "a log line holds a secret: " .. line)
      end
    end
    assert.is_true(lines >= 4) -- run, two calls, the step (and exit)
    local text = io.open(log):read("a")
    assert.matches('"event":"step"', text:gsub("%s", ""), 1, true)
    assert.matches("secret ***", text, 1, true)
  end)
end)

-- core.contains_any: the search of every answer for every secret (trace.answer_may_hold). A
-- long text is searched by each secret's byte rarest in its first 4 KB, a short one by the
-- first byte: found or not, wherever the secret is, the same answer as string.find's.
describe("core.contains_any", function()
  local function find_any(s, parts)
    for _, p in ipairs(parts) do if s:find(p, 1, true) then return true end end
    return false
  end

  it("finds a part wherever it is, in short and long texts", function()
    local secret = "tok-9Zq.x_Y"
    for _, size in ipairs({0, 10, 4095, 70000}) do
      local filler = ("<Name>abcdefghij-0123456789</Name>"):rep(size // 34 + 1):sub(1, size)
      for _, at in ipairs({0, 1, size // 2, size}) do
        local s = filler:sub(1, at) .. secret .. filler:sub(at + 1)
        assert.is_true(core.contains_any(s, {"absent-part", secret}), size .. "/" .. at)
        -- cut by one byte at either end: not there
        assert.is_false(core.contains_any(s, {secret .. "!", "!" .. secret}), size .. "/" .. at)
      end
      assert.is_false(core.contains_any(filler, {secret}))
      assert.equal(find_any(filler, {"j-01", "zz"}), core.contains_any(filler, {"j-01", "zz"}))
    end
    -- a part whose rarest byte repeats, at the very end of a long text
    local long = ("a"):rep(100000) .. "ab"
    assert.is_true(core.contains_any(long, {"aab"}))
    assert.is_false(core.contains_any(long, {"aba"}))
    assert.is_true(core.contains_any("x", {""}))
    assert.is_false(core.contains_any("", {"x"}))
    assert.is_false(core.contains_any("abc", {}))
  end)

  it("agrees with string.find on random texts and parts", function()
    math.randomseed(7)
    local alphabet = "ab<>/ -"
    local function random_string(n)
      local t = {}
      for i = 1, n do
        local k = math.random(#alphabet)
        t[i] = alphabet:sub(k, k)
      end
      return table.concat(t)
    end
    for _ = 1, 300 do
      local long = math.random(2) == 1 and ("x"):rep(70000) or "" -- sampled: 64 KB or more
      local s = random_string(math.random(0, 200)) .. long .. random_string(math.random(0, 50))
      local parts = {random_string(math.random(1, 4)), random_string(math.random(1, 6))}
      assert.equal(find_any(s, parts), core.contains_any(s, parts))
    end
  end)

  it("refuses a part that is not a string", function()
    assert.has_error(function() core.contains_any("abc", {"zz", {}}) end)
  end)
end)
