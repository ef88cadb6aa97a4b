-- The sandbox's HTTP and SOAP contract with raw, hand-written requests: the token endpoint,
-- security faults, SOAPAction routing, envelope shapes real clients send, request validation
-- against the WSDL, and the shape of its answers (literal soap: prefix, XSD-valid).
local core = require "performlua.core"
local sh = require "sandbox_helper"
local wsdl = require "wsdl_helper"

local RETRIEVE = '<RetrieveRequestMsg xmlns="' .. sh.NS .. '"><RetrieveRequest>'
  .. "<ObjectType>SenderProfile</ObjectType><Properties>CustomerKey</Properties>"
  .. "<Properties>FromName</Properties></RetrieveRequest></RetrieveRequestMsg>"

local function fault_of(r)
  local body, err = sh.decode(r.body)
  assert.is_nil(body)
  return err
end

describe("sandbox token endpoint", function()
  local sb = sh.shared()
  sb:serve(setup, teardown)

  it("issues a token for the configured client", function()
    local r = sh.http("POST", sb.token_url, core.json_encode{grant_type = "client_credentials",
      client_id = "sandbox", client_secret = "sandbox", account_id = 7281698},
      {"Content-Type: application/json"})
    assert.are.equal(200, r.status)
    local t = core.json_decode(r.body)
    assert.are.equal(64, #t.access_token)
    assert.are.equal("Bearer", t.token_type)
    assert.are.equal(1080, t.expires_in)
    assert.are.equal(sb.auth_url, t.soap_instance_url)
    assert.are.equal(sb.auth_url, t.rest_instance_url)
    assert.is_string(t.scope)
  end)

  it("refuses wrong credentials with 401 invalid_client", function()
    local r = sh.http("POST", sb.token_url, core.json_encode{grant_type = "client_credentials",
      client_id = "sandbox", client_secret = "wrong"}, {"Content-Type: application/json"})
    assert.are.equal(401, r.status)
    assert.are.equal("invalid_client", core.json_decode(r.body).error)
  end)

  it("answers 400 to a body that is not JSON and to other grant types", function()
    local r = sh.http("POST", sb.token_url, "grant_type=client_credentials", {})
    assert.are.equal(400, r.status)
    assert.are.equal("invalid_request", core.json_decode(r.body).error)
    r = sh.http("POST", sb.token_url, core.json_encode{grant_type = "password",
      client_id = "sandbox", client_secret = "sandbox"}, {})
    assert.are.equal(400, r.status)
    assert.are.equal("unsupported_grant_type", core.json_decode(r.body).error)
  end)

  -- The answer's URLs are built from the Host header: one that is no host name (bytes that are
  -- not UTF-8, a control character) used to make the JSON unwritable and the answer a bare 500.
  it("answers 400 to a Host header that is not a host name, showing it escaped", function()
    local body = core.json_encode{grant_type = "client_credentials", client_id = "sandbox",
      client_secret = "sandbox"}
    for host, shown in pairs{["a\255b"] = "a\\xFFb", ["a\27[2Jb"] = "a\\x1B[2Jb", ["a b/c"] = "a b/c",
        ["a\tb"] = "a\\x09b"} do
      local r = sh.http("POST", sb.token_url, body, {"Host: " .. host})
      assert.are.equal(400, r.status, host)
      local answer = core.json_decode(r.body)
      assert.are.equal("invalid_request", answer.error)
      assert.are.equal("The Host header '" .. shown .. "' is not a host name or address with an "
        .. "optional port", answer.error_description)
    end
    for _, host in ipairs{"localhost:8080", "[::1]:443", "sandbox_1.internal"} do
      local r = sh.http("POST", sb.token_url, body, {"Host: " .. host})
      assert.are.equal(200, r.status, host)
      assert.are.equal("http://" .. host .. "/", core.json_decode(r.body).soap_instance_url)
    end
  end)

  it("honours token_ttl and client credentials given at start", function()
    local other = sh.start{token_ttl = 60, client_id = "id1", client_secret = "s3cret"}
    local r = sh.http("POST", other.token_url, core.json_encode{grant_type = "client_credentials",
      client_id = "id1", client_secret = "s3cret"}, {})
    other:stop()
    assert.are.equal(200, r.status)
    assert.are.equal(60, core.json_decode(r.body).expires_in)
  end)

  it("serves the legacy v1 endpoint, whose token works in oAuth/oAuthToken", function()
    local r = sh.http("POST", sb.auth_url .. "v1/requestToken", core.json_encode{clientId = "sandbox",
      clientSecret = "sandbox"}, {"Content-Type: application/json"})
    assert.are.equal(200, r.status)
    local t = core.json_decode(r.body)
    assert.are.equal(1080, t.expiresIn)
    local env = sh.envelope(RETRIEVE):gsub("<soap:Body>", '<soap:Header><oAuth xmlns="http://exacttarget.com">'
      .. "<oAuthToken>" .. t.accessToken .. "</oAuthToken></oAuth></soap:Header><soap:Body>", 1)
    assert.are.equal(200, sh.soap(sb, "Retrieve", nil, {raw = env}).status)
    r = sh.http("POST", sb.auth_url .. "v1/requestToken", core.json_encode{clientId = "sandbox",
      clientSecret = "nope"}, {})
    assert.are.equal(401, r.status)
  end)

  it("answers 404 to other paths", function()
    assert.are.equal(404, sh.http("GET", sb.auth_url .. "nothing", nil, {}).status)
  end)
end)

describe("sandbox SOAP security", function()
  local sb = sh.shared()
  sb:serve(setup, teardown)

  it("answers a valid token", function()
    local r = sh.soap(sb, "Retrieve", RETRIEVE, {token = sb.token})
    assert.are.equal(200, r.status)
    local body = sh.decode(r.body)
    assert.are.equal("OK", body.OverallStatus)
    assert.are.equal(3, #body.Results)
  end)

  it("answers Login Failed (q0:Security, HTTP 500) without credentials or with an unknown token", function()
    for _, opts in ipairs{{}, {token = "not-a-token"}, {username = "sandbox", password = "nope"}} do
      local r = sh.soap(sb, "Retrieve", RETRIEVE, opts)
      assert.are.equal(500, r.status)
      local err = fault_of(r)
      assert.are.equal("q0:Security", err.faultcode)
      assert.are.equal("Login Failed", err.message)
    end
  end)

  it("answers Token Expired once the token has expired", function()
    local short = sh.start{token_ttl = 1}
    local t = sh.token(short)
    assert.are.equal(200, sh.soap(short, "Retrieve", RETRIEVE, {token = t}).status)
    core.sleep(1.1)
    local r = sh.soap(short, "Retrieve", RETRIEVE, {token = t})
    short:stop()
    assert.are.equal(500, r.status)
    local err = fault_of(r)
    assert.are.equal("q0:Security", err.faultcode)
    assert.are.equal("Token Expired", err.message)
  end)

  it("accepts a WS-Security UsernameToken with the configured user", function()
    local r = sh.soap(sb, "Retrieve", RETRIEVE, {username = "sandbox", password = "sandbox"})
    assert.are.equal(200, r.status)
  end)
end)

describe("sandbox SOAP routing", function()
  local sb = sh.shared()
  sb:serve(setup, teardown)

  it("takes the operation from a quoted or unquoted SOAPAction, or from the body", function()
    for _, opts in ipairs{{token = sb.token}, {token = sb.token, quote_action = true}} do
      assert.are.equal(200, sh.soap(sb, "Retrieve", RETRIEVE, opts).status)
    end
    local r = sh.soap(sb, nil, RETRIEVE, {token = sb.token})
    assert.are.equal(200, r.status)
    assert.are.equal("RetrieveResponseMsg", select(2, sh.decode(r.body)))
  end)

  it("rejects an unknown SOAPAction with the service's message", function()
    local r = sh.soap(sb, "Frobnicate", RETRIEVE, {token = sb.token})
    assert.are.equal(500, r.status)
    local err = fault_of(r)
    assert.are.equal("soap:Client", err.faultcode)
    assert.are.equal("Server did not recognize the value of HTTP Header SOAPAction: Frobnicate.", err.message)
  end)

  -- Header text reaches the fault: bytes that are not UTF-8 and control characters used to make
  -- the fault unwritable (a bare "500 sandbox internal error"); they are shown escaped.
  it("rejects a SOAPAction that is not UTF-8 or holds control characters with the proper fault", function()
    local cases = {["Fr\255ob"] = "Fr\\xFFob", ["Fr\1ob"] = "Fr\\x01ob",
      ["Re\27[2Jtrieve"] = "Re\\x1B[2Jtrieve", ["Re\226\128\174trieve"] = "Re\\u{202E}trieve"}
    for action, shown in pairs(cases) do
      local r = sh.soap(sb, action, RETRIEVE, {token = sb.token})
      assert.are.equal(500, r.status, shown)
      local err = fault_of(r)
      assert.are.equal("soap:Client", err.faultcode)
      assert.are.equal("Server did not recognize the value of HTTP Header SOAPAction: " .. shown .. ".",
        err.message)
    end
    local long = sh.soap(sb, ("X"):rep(5000), RETRIEVE, {token = sb.token})
    assert.are.equal("Server did not recognize the value of HTTP Header SOAPAction: "
      .. ("X"):rep(197) .. "....", fault_of(long).message)
  end)

  it("rejects a SOAPAction that does not match the body", function()
    local r = sh.soap(sb, "Perform", RETRIEVE, {token = sb.token})
    assert.are.equal(500, r.status)
    assert.are.equal("The SOAPAction Perform does not match the request element RetrieveRequestMsg "
      .. "(a Perform request is a PerformRequestMsg)", fault_of(r).message)
  end)

  it("tolerates Body before Header, and any case of the path", function()
    for _, path in ipairs{"Service.asmx", "service.asmx", "SERVICE.ASMX"} do
      local r = sh.soap(sb, "Retrieve", RETRIEVE, {token = sb.token, body_first = true, path = path})
      assert.are.equal(200, r.status)
    end
  end)

  it("answers with the literal soap: prefix and the header of real responses", function()
    local r = sh.soap(sb, "Retrieve", RETRIEVE, {token = sb.token})
    assert.truthy(r.body:find("<soap:Envelope", 1, true))
    assert.truthy(r.body:find("<soap:Body>", 1, true))
    assert.truthy(r.body:find("<wsa:Action>RetrieveResponse</wsa:Action>", 1, true))
    assert.truthy(r.body:find("<wsu:Timestamp", 1, true))
    sh.assert_valid(r.body)
  end)

  it("answers a request that is not XML with a soap:Client fault", function()
    local r = sh.soap(sb, "Retrieve", nil, {raw = "this is not xml"})
    assert.are.equal(500, r.status)
    local err = fault_of(r)
    assert.are.equal("soap:Client", err.faultcode)
    assert.truthy(err.message:find("^The request is not a SOAP envelope the service can read: "))
    r = sh.soap(sb, "Retrieve", nil, {raw = sh.envelope("", {token = sb.token})})
    assert.are.equal("The request is not a SOAP envelope the service can read: the envelope has "
      .. "no element in its soap:Body", fault_of(r).message)
  end)

  it("answers a Create, Update or Delete without objects with a soap:Client fault", function()
    -- a response must carry one Result per object (Results 1..n in the WSDL)
    for _, op in ipairs{"Create", "Update", "Delete"} do
      local inner = "<" .. op .. 'Request xmlns="' .. sh.NS .. '"><Options/></' .. op .. "Request>"
      local r = sh.soap(sb, op, inner, {token = sb.token})
      assert.are.equal(500, r.status, op)
      local err = fault_of(r)
      assert.are.equal("soap:Client", err.faultcode)
      assert.are.equal("The " .. op .. " request has no objects: give at least one in Objects", err.message)
    end
  end)

  it("answers a Retrieve of an unknown type with HTTP 200 and the service's text", function()
    local inner = RETRIEVE:gsub("SenderProfile", "senderprofile")
    local r = sh.soap(sb, "Retrieve", inner, {token = sb.token})
    assert.are.equal(200, r.status)
    sh.assert_valid(r.body)
    assert.are.equal("Error: Unable to find a handler for object type: senderprofile. Object types "
      .. "are case-sensitive, check spelling.", sh.decode(r.body).OverallStatus)
  end)

  it("describes types with their scalar fields as retrievable, and nothing for unknown types", function()
    local r = sh.call(sb, sb.token, "Describe", {DescribeRequests = {{ObjectType = "List"}, {ObjectType = "Lists"}}})
    sh.assert_valid(r.body)
    local defs = r.decoded.ObjectDefinition
    assert.are.equal(1, #defs)
    assert.are.equal("List", defs[1].ObjectType)
    local retrievable = {}
    for _, p in ipairs(defs[1].Properties) do
      if p.IsRetrievable then retrievable[#retrievable + 1] = p.Name end
    end
    assert.are.same({"PartnerKey", "CreatedDate", "ModifiedDate", "ID", "ObjectID", "CustomerKey",
      "CorrelationID", "ObjectState", "ListName", "Category", "Type", "Description",
      "ListClassification"}, retrievable)
  end)

  it("answers all 13 operations with schema-valid responses", function()
    local requests = {
      Create = {Objects = {setmetatable({CustomerKey = "op-list", ListName = "Ops"}, core.object_metatable("List"))}},
      Retrieve = {RetrieveRequest = {ObjectType = "List", Properties = {"ID", "ListName"}}},
      Update = {Objects = {setmetatable({CustomerKey = "op-list", ListName = "Ops 2"}, core.object_metatable("List"))}},
      Delete = {Objects = {setmetatable({CustomerKey = "op-list"}, core.object_metatable("List"))}},
      Query = {QueryRequest = {Query = {Object = {ObjectType = "List", Properties = {"ID"}}}}},
      Describe = {DescribeRequests = {{ObjectType = "Subscriber"}}},
      Execute = {Requests = {{Name = "LogUnsubEvent"}}},
      Perform = {Action = "start", Definitions = {setmetatable({CustomerKey = "daily-extract"},
        core.object_metatable("DataExtractActivity"))}},
      Configure = {Action = "create", Configurations = {setmetatable({CustomerKey = "cfg-list", ListName = "Cfg"},
        core.object_metatable("List"))}},
      Schedule = {Action = "start", Schedule = {Name = "Daily", Recurrence = {DailyRecurrencePatternType = "Interval",
        DayInterval = 1}, RecurrenceType = "Daily", RecurrenceRangeType = "EndAfter", Occurrences = 3,
        StartDateTime = "2026-05-01T10:00:00Z"},
        Interactions = {setmetatable({CustomerKey = "spring-sale-send"}, core.object_metatable("EmailSendDefinition"))}},
      Extract = {Requests = {{ID = "c7219016-a7f0-4c72-8657-1ec12c28a0db", Options = {}}}},
      VersionInfo = {IncludeVersionHistory = false},
      GetSystemStatus = {},
    }
    for _, op in ipairs(core.operations()) do
      local r = sh.call(sb, sb.token, op.name, requests[op.name])
      assert.are.equal(200, r.status, op.name .. ": " .. r.body)
      assert.are.equal(op.response, r.element, op.name)
      sh.assert_valid(r.body)
    end
    for _, l in ipairs(sb:objects("List")) do assert.are_not.equal("op-list", l.CustomerKey) end
    local cfg
    for _, l in ipairs(sb:objects("List")) do if l.CustomerKey == "cfg-list" then cfg = l end end
    assert.are.equal("Cfg", cfg.ListName)
  end)
end)

describe("sandbox request validation (wsdl=)", function()
  local sb = sh.shared()
  sb:serve(setup, teardown, {wsdl = wsdl.path()})

  wsdl.it("accepts a valid request", function()
    assert.are.equal(200, sh.soap(sb, "Retrieve", RETRIEVE, {token = sb.token}).status)
  end)

  wsdl.it("answers a request the service cannot read with soap:Client, worded as the service's", function()
    local inner = '<PerformRequestMsg xmlns="' .. sh.NS .. '"><Action>start</Action><Definitions>'
      .. '<Definition xsi:type="EmailSendDefinition"><ID>12a</ID></Definition></Definitions></PerformRequestMsg>'
    local env = sh.envelope(inner, {token = sb.token})
    assert.is_false(wsdl.validator():validate(env))
    local r = sh.soap(sb, "Perform", nil, {raw = env})
    assert.are.equal(500, r.status)
    local err = fault_of(r)
    assert.are.equal("soap:Client", err.faultcode)
    assert.are.equal("Server was unable to read request. ---> There is an error in the XML "
      .. "document. ---> Input string was not in a correct format. ('12a' is not a whole number) "
      .. "(sandbox: line 1, PerformRequestMsg/Definitions/Definition/ID)", err.message)
    assert.are.equal(0, sb:stats().processed.Perform or 0)
  end)

  wsdl.it("validates the Body of an envelope that puts it before the Header, as the Node clients do", function()
    local r = sh.soap(sb, "Retrieve", RETRIEVE, {token = sb.token, body_first = true})
    assert.are.equal(200, r.status, r.body)
    -- pretty-printed, Header last: the validator's line numbers are those of the request as sent
    local bad = '<PerformRequestMsg xmlns="' .. sh.NS .. '"><Action>start</Action><Definitions>'
      .. '<Definition xsi:type="EmailSendDefinition"><ID>12a</ID></Definition></Definitions></PerformRequestMsg>'
    local env = '<?xml version="1.0"?>\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
      .. 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n<s:Body>\n' .. bad .. "\n</s:Body>\n"
      .. '<s:Header>\n  <fueloauth xmlns="http://exacttarget.com">' .. sb.token .. "</fueloauth>\n"
      .. "</s:Header>\n</s:Envelope>\n"
    r = sh.soap(sb, "Perform", nil, {raw = env})
    assert.are.equal(500, r.status)
    local err = fault_of(r)
    assert.are.equal("soap:Client", err.faultcode)
    assert.truthy(err.message:find("(sandbox: line 4, PerformRequestMsg/Definitions/Definition/ID)", 1, true),
      err.message)
    assert.are.equal(0, sb:stats().processed.Perform or 0)
  end)

  wsdl.it("validates supplement types (AudienceDefinition) instead of refusing them", function()
    local inner = '<PerformRequestMsg xmlns="' .. sh.NS .. '"><Action>count</Action><Definitions>'
      .. '<Definition xsi:type="AudienceDefinition"><CustomerKey>spring-prospects</CustomerKey>'
      .. "</Definition></Definitions></PerformRequestMsg>"
    local r = sh.soap(sb, "Perform", inner, {token = sb.token})
    assert.are.equal(200, r.status)
    assert.are.equal("2480", sh.decode(r.body).Results[1].Task.StatusMessage)
  end)
end)
