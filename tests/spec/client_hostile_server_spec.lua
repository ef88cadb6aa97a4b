-- The client against answers a real service never gives but a proxy, a misrouted endpoint or a
-- hostile server can: each is a clear error of the right kind, the request is sent once, and
-- no secret shows. loop.http answers from a script (see client_policy_spec.lua).
local core = require "performlua.core"
local loop = require "performlua.loop"
local auth = require "performlua.auth"
local client = require "performlua.client"
local mc = require "performlua"

local SECRET = "hostile-spec-client-secret"
local original_http = loop.http
local soap_requests, token_answer, soap_answer, token_timeout

local function response(status, body)
  return {id = 0, status = status, body = body or "", headers = {}, curl_code = 0, sent = true,
          reused = false, elapsed = 0.001}
end

local function token(extra)
  local t = {access_token = "tok-hostile", expires_in = 1080,
             soap_instance_url = "https://mc-test.soap.example/"}
  for k, v in pairs(extra or {}) do t[k] = v end
  return response(200, core.json_encode(t))
end

local function connect(extra)
  local args = {client_id = "cid", client_secret = SECRET, auth_url = "https://auth.example/",
    retry_base_delay = 0.001, token_cache = false}
  for k, v in pairs(extra or {}) do args[k] = v end
  return client.connect(args)
end

local function create(c)
  return pcall(c.create, c, mc.Subscriber{EmailAddress = "a@example.com", SubscriberKey = "a"})
end

describe("client against a hostile server", function()
  before_each(function()
    auth._reset()
    soap_requests = 0
    token_answer = token()
    loop.http = function(req)
      if req.url:match("/v2/token$") then
        token_timeout = req.timeout
        return token_answer
      end
      soap_requests = soap_requests + 1
      return soap_answer
    end
  end)
  after_each(function() loop.http = original_http end)

  it("refuses a well-formed answer of another operation, sent once, outcome unknown", function()
    soap_answer = response(200, core.encode_message("RetrieveResponseMsg",
      {OverallStatus = "OK", RequestID = "r-other"}, {}))
    local ok, err = create(connect())
    assert.is_false(ok)
    assert.are.equal("xml", err.kind)
    assert.matches("<RetrieveResponseMsg>, not <CreateResponse>", err.message, 1, true)
    assert.is_true(err.outcome_unknown)
    assert.are.equal(1, soap_requests)
    assert.is_nil(tostring(err):find(SECRET, 1, true))
  end)

  it("accepts the operation's own answer (the check does not reject good ones)", function()
    soap_answer = response(200, core.encode_message("CreateResponse", {OverallStatus = "OK",
      RequestID = "r-1", Results = {{StatusCode = "OK", OrdinalID = 0}}}, {}))
    local ok, r = create(connect())
    assert.is_true(ok)
    assert.is_true(r.ok)
  end)

  for _, url in ipairs{"ftp://mc-test.soap.example/", "file:///etc/passwd",
                       "javascript:alert(1)"} do
    it("refuses a soap_instance_url of scheme " .. url:match("^%a+") .. " before sending", function()
      token_answer = token{soap_instance_url = url}
      soap_answer = response(200, core.encode_message("CreateResponse", {OverallStatus = "OK"}, {}))
      local ok, err = create(connect())
      assert.is_false(ok)
      assert.are.equal("auth", err.kind)
      assert.matches("soap_instance_url '" .. url .. "' is not an http(s) URL", err.message, 1,
        true)
      assert.matches("pass soap_url to mc.connect", err.message, 1, true)
      assert.are.equal(0, soap_requests)
    end)
  end

  it("uses soap_url given to mc.connect whatever the token response says", function()
    token_answer = token{soap_instance_url = "ftp://elsewhere/"}
    soap_answer = response(200, core.encode_message("CreateResponse", {OverallStatus = "OK",
      RequestID = "r-1", Results = {{StatusCode = "OK", OrdinalID = 0}}}, {}))
    local ok, r = create(connect{soap_url = "https://fixed.example/Service.asmx"})
    assert.is_true(ok, tostring(r))
    assert.are.equal(1, soap_requests)
  end)

  it("names a token answer that is not JSON, quoting its start without the secret", function()
    token_answer = response(200, "<html><body>Sign in: " .. SECRET .. "</body></html>")
    local ok, err = create(connect())
    assert.is_false(ok)
    assert.are.equal("auth", err.kind)
    assert.matches("got an unusable answer (HTTP 200): the answer is not JSON (it starts "
      .. "'<html><body>Sign in: ", err.message, 1, true)
    assert.matches("check auth_url", err.message, 1, true)
    assert.is_nil(tostring(err):find(SECRET, 1, true))
    assert.are.equal(0, soap_requests)
  end)

  it("names a JSON token answer without access_token", function()
    for _, body in ipairs{'{"expires_in": 5}', '{"access_token": {"a": 1}}',
                          '{"access_token": ""}'} do
      auth._reset()
      token_answer = response(200, body)
      local ok, err = create(connect())
      assert.is_false(ok)
      assert.matches("got an unusable answer (HTTP 200): the answer has no access_token (check "
        .. "auth_url", err.message, 1, true)
    end
    assert.are.equal(0, soap_requests)
  end)

  it("bounds a token request by the client's timeout, and by a minute", function()
    soap_answer = response(200, core.encode_message("CreateResponse", {OverallStatus = "OK",
      RequestID = "r-1", Results = {{StatusCode = "OK", OrdinalID = 0}}}, {}))
    create(connect{timeout = 4})
    assert.are.equal(4, token_timeout)
    auth._reset()
    create(connect())
    assert.are.equal(60, token_timeout)
    auth._reset()
    create(connect{connect_timeout = 90})
    assert.are.equal(90, token_timeout)
  end)

  it("still takes a soap_instance_url without a scheme, with or without a port", function()
    for _, url in ipairs{"mc-test.soap.example", "localhost:8443/"} do
      auth._reset()
      token_answer = token{soap_instance_url = url}
      soap_answer = response(200, core.encode_message("CreateResponse", {OverallStatus = "OK",
        RequestID = "r-1", Results = {{StatusCode = "OK", OrdinalID = 0}}}, {}))
      local ok, r = create(connect())
      assert.is_true(ok, tostring(r))
    end
  end)
end)
