-- dictionaries: http xml soap
-- The request side of the sandbox: HTTP routing, the token endpoints, SOAP decoding, the
-- operation (SOAPAction, WS-Addressing, body element), authentication, the 13 operations'
-- handlers and the answers they write, through the service's handler (the function the HTTP
-- server calls for each request; sandbox/service.lua's new(config) returns it).
--
-- An input is up to 4 requests separated by a line "%%", each written like HTTP/1.1 with
-- newlines: "METHOD PATH", header lines "Name: value", an empty line, the body. "@TOKEN@"
-- anywhere stands for a valid access token, so inputs reach the handlers through OAuth as well
-- as through the WS-Security username and password (sandbox/sandbox). An input that starts
-- with the line "%validate" gets a service that validates requests against the WSDL (as
-- `performlua sandbox --wsdl` does; PERFORMLUA_WSDL names it). Each input gets a fresh
-- service, so an input alone reproduces what it found.
--
-- Every answer must be a well-formed HTTP answer of the service: status and string body; SOAP
-- answers that decode (a response element with 200, a soap:Fault with 500) and whose fault
-- text is safe to show (valid UTF-8, no control characters); JSON answers that parse. With
-- PERFORMLUA_WSDL set (run.sh sets it), every 200 SOAP answer is also valid against the WSDL.
local core = require "performlua.core"
local service = require "performlua.sandbox.service"
local fuzz = require "fuzz_support"
local check, show = fuzz.check, fuzz.show

local validator
local wsdl = os.getenv("PERFORMLUA_WSDL")
if wsdl and io.open(wsdl) then validator = core.xsd_load(wsdl) end

local TOKEN_REQUEST = {method = "POST", path = "/v2/token", headers = {},
  body = '{"grant_type":"client_credentials","client_id":"sandbox","client_secret":"sandbox"}'}

-- "METHOD PATH\nName: value\n...\n\nbody" -> the request table the HTTP server builds
local function parse_request(text, token)
  text = text:gsub("@TOKEN@", token)
  local head, body = text:match("^(.-)\n\n(.*)$")
  if not head then head, body = text, "" end
  local first, rest = head:match("^([^\n]*)\n?(.*)$")
  local method, path = first:match("^(%S*) ?(.*)$")
  local headers = {}
  for line in rest:gmatch("[^\n]+") do
    local name, value = line:match("^([^:]*):[ \t]*(.*)$")
    if name then headers[name:lower()] = value end
  end
  return {method = method, path = path ~= "" and path or "/", headers = headers, body = body}
end

local XML_TYPE = "text/xml"

-- The one answer the sandbox writes against the WSDL on purpose, as the service does: a
-- Perform of an Automation has no Task (runtime/sandbox/README.md).
local MISSING_TASK = "^line %d+, PerformResponseMsg/Results/Result: Element 'Result': Missing "
  .. "child element%(s%)%. Expected is %( Task %)%.$"
local function known_departure(body, message)
  local automations = 0
  for _, r in ipairs(type(body.Results) == "table" and body.Results or {}) do
    if core.typeof(r.Object) == "Automation" and r.Task == nil then automations = automations + 1 end
  end
  for line in message:gmatch("[^\n]+") do
    if not line:match(MISSING_TASK) then return false end
    automations = automations - 1
  end
  return automations >= 0
end

local function check_soap_answer(r, req)
  local ok, body, element = pcall(core.decode, r.body)
  if r.status == 200 then
    check(ok, "200 answer to %s does not decode: %s", show(req.path), show(body))
    check(element:match("Response"), "200 answer holds %s", show(element))
    if validator then
      local valid, message = validator:validate(r.body)
      check(valid or known_departure(body, message), "200 %s answer is not valid against the "
        .. "WSDL: %s\n%s", element, show(message), show(r.body))
    end
  else
    check(r.status == 500, "a SOAP answer with HTTP %d", r.status)
    check(not ok and core.is_error(body) and body.kind == "fault",
      "a 500 SOAP answer that is no fault: %s", show(ok and r.body or body))
    check(fuzz.is_safe_text(body.message, true), "fault text not safe to show: %s", show(body.message))
    check(body.faultcode and body.faultcode ~= "", "fault without a faultcode")
    -- the service's own failures (a handler that raised, an answer it could not write)
    check(not body.message:find("^The sandbox failed to process the request")
      and not body.message:find("^The sandbox could not write its answer"),
      "%s", body.message)
  end
end

local function check_answer(r, req)
  check(type(r) == "table", "the handler answered a %s", type(r))
  check(math.type(r.status) == "integer" and r.status >= 200 and r.status <= 599,
    "status %s", show(r.status))
  check(type(r.body) == "string", "body %s", show(r.body))
  check(r.fault == nil, "the answer asks for a connection fault (%s) none was configured", show(r.fault))
  check(utf8.len(r.body), "the body is not UTF-8: %s", show(r.body))
  local content_type = r.content_type or XML_TYPE
  check(type(content_type) == "string", "content type %s", show(content_type))
  if content_type:find(XML_TYPE, 1, true) == 1 then
    check_soap_answer(r, req)
  elseif content_type:find("application/json", 1, true) == 1 then
    local ok, data = pcall(core.json_decode, r.body)
    check(ok and type(data) == "table", "a JSON answer that does not parse: %s", show(r.body))
    for _, k in ipairs{"soap_instance_url", "rest_instance_url", "error_description", "message"} do
      if data[k] ~= nil then
        check(fuzz.is_safe_text(data[k]), "%s not safe to show: %s", k, show(data[k]))
      end
    end
  else
    check(content_type:find("text/", 1, true) == 1, "content type %s", show(content_type))
    check(fuzz.is_safe_text(r.body, true), "a text answer not safe to show: %s", show(r.body))
  end
end

-- the harness's switch for Lua coverage (absent when the driver runs in plain performlua)
local coverage = fuzz_coverage or function() end

return function(input)
  local validating = input:sub(1, 10) == "%validate\n"
  if validating then
    if not validator then return end -- no WSDL to validate with
    input = input:sub(11)
  end
  coverage(false) -- the same for every input
  local handle = service.new{validator = validating and validator or nil}
  local ok, tr = pcall(handle, TOKEN_REQUEST)
  check(ok and tr.status == 200, "the token request failed: %s", show(ok and tr.body or tr))
  local token = core.json_decode(tr.body).access_token
  coverage(true)
  local n = 0
  for text in (input .. "\n%%\n"):gmatch("(.-)\n%%%%\n") do
    n = n + 1
    if n > 4 then break end
    local req = parse_request(text, token)
    local answered, r = pcall(handle, req)
    check(answered, "the handler raised (the server would answer 500 'sandbox internal error'): %s",
      show(r))
    check_answer(r, req)
  end
end
