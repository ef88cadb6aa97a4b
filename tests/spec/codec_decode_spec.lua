-- mc.decode: fixtures modelled on the service's responses to exact tables, faults to exact
-- error tables, malformed and hostile input to exact messages, round trips.
local core = require "performlua.core"
local mc = require "performlua"

-- The request envelopes these specs encode must be XSD-valid as well (when the WSDL is here).
local wsdl = require "wsdl_helper"
local encode = mc.encode
mc = setmetatable({ encode = function(...) return wsdl.check(encode(...)) end }, { __index = mc })

local FIXTURES = (os.getenv("PERFORMLUA_SOURCE_DIR") or ".") .. "/tests/fixtures/responses/"

local function fixture(name)
  local f = assert(io.open(FIXTURES .. name, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function decode_error(xml)
  local ok, err = pcall(mc.decode, xml)
  assert.is_false(ok)
  assert.is_true(core.is_error(err), tostring(err))
  return err
end

local function xml_error(xml)
  local err = decode_error(xml)
  assert.equal("xml", err.kind)
  return err.message
end

local RESPONSE_HEADER = {
  message_id = "urn:uuid:5c1f2f8e-44b3-4d2a-9a51-0d2c9e1b7a10",
  relates_to = "urn:uuid:0e7c3a4b-2f61-4c1e-8d07-6b5a9f3e2d11",
}
local function header_for(action)
  local h = { action = action }
  for k, v in pairs(RESPONSE_HEADER) do h[k] = v end
  return h
end

local SOAP = '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
  .. 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'

describe("mc.decode of responses", function()
  it("decodes a Perform start with its Task", function()
    local body, element, header = mc.decode(fixture("perform_esd_start.xml"))
    assert.equal("PerformResponseMsg", element)
    assert.same(header_for("PerformResponse"), header)
    assert.same({
      Results = { {
        StatusCode = "OK", StatusMessage = "EmailSendDefinition performed", OrdinalID = 0,
        Object = { CustomerKey = "welcome-send" },
        Task = { StatusCode = "OK", StatusMessage = "OK", OrdinalID = 0, ID = "123456789",
                 InteractionObjectID = "9d5a7c2e-1b3f-4e8a-a6d0-2c4b8e1f3a57" },
      } },
      OverallStatus = "OK", OverallStatusMessage = "", RequestID = "7f3d6a1c-2b4e-4c8f-9e0a-1d5b7c9e3f21",
    }, body)
    assert.equal("PerformResponseMsg", mc.typeof(body))
    assert.equal("PerformResult", mc.typeof(body.Results[1]))
    assert.equal("EmailSendDefinition", mc.typeof(body.Results[1].Object)) -- ns1: prefix resolved
    assert.equal("TaskResult", mc.typeof(body.Results[1].Task))
    assert.is_nil(mc.typeof(body.Results))
    assert.equal("integer", math.type(body.Results[1].OrdinalID))
  end)

  -- The decoder sizes each table by the last one of its type (or wrapper) and remembers the
  -- last xsi:type it looked up: neither may change what a page decodes to, whatever its rows'
  -- shapes and types do from one row to the next.
  it("decodes rows whose sizes and types change from one to the next", function()
    local function row(type, n)
      local props = {}
      for i = 1, n do
        props[#props + 1] = string.format('<Property xsi:type="APIProperty"><Name>C%d</Name>'
          .. '<Value>v%d-%d</Value></Property>', i, n, i)
      end
      return string.format('<Results xsi:type="%s"><CustomerKey>k%d</CustomerKey>%s'
        .. '<Properties>%s</Properties></Results>', type, n,
        n >= 3 and "<Name>name</Name><ObjectID>id</ObjectID>" or "", table.concat(props))
    end
    local shapes = {{"DataExtensionObject", 1}, {"DataExtensionObject", 9},
      {"ObjectExtension", 2}, {"DataExtensionObject", 0}, {"DataExtensionObject", 12},
      {"ObjectExtension", 3}, {"ObjectExtension", 1}, {"DataExtensionObject", 3}}
    local rows = {}
    for i, s in ipairs(shapes) do rows[i] = row(s[1], s[2]) end
    local body = mc.decode(SOAP .. '<soap:Body><RetrieveResponseMsg '
      .. 'xmlns="http://exacttarget.com/wsdl/partnerAPI"><OverallStatus>OK</OverallStatus>'
      .. table.concat(rows) .. '</RetrieveResponseMsg></soap:Body></soap:Envelope>')
    assert.equal(#shapes, #body.Results)
    for i, s in ipairs(shapes) do
      local r, n = body.Results[i], s[2]
      assert.equal(s[1], mc.typeof(r))
      assert.equal("k" .. n, r.CustomerKey)
      assert.equal(n >= 3 and "name" or nil, r.Name)
      assert.equal(n >= 3 and "id" or nil, r.ObjectID)
      assert.equal(n, #r.Properties)
      for j = 1, n do
        assert.same({Name = "C" .. j, Value = string.format("v%d-%d", n, j)}, r.Properties[j])
        assert.equal("APIProperty", mc.typeof(r.Properties[j]))
      end
    end
  end)

  it("decodes GetMaxCount's count from Task/StatusMessage", function()
    local body = mc.decode(fixture("perform_getmaxcount.xml"))
    assert.same({ StatusCode = "OK", StatusMessage = "3", OrdinalID = 0, ID = "0" }, body.Results[1].Task)
    assert.equal("Task status message holds the requested value.", body.Results[1].StatusMessage)
  end)

  it("decodes an Automation perform without Task and keeps unknown elements", function()
    local body = mc.decode(fixture("perform_automation_no_task.xml"))
    assert.same({ {
      StatusCode = "OK", StatusMessage = "Performed Activity", OrdinalID = 0,
      Object = { ObjectID = "b1c5e3d7-2a4f-4e6b-8c9d-0f1e2a3b4c5d", Name = "Nightly import",
                 IsPlatformObject = "false" },
    } }, body.Results)
    assert.is_nil(body.Results[1].Task)
    assert.equal("Automation", mc.typeof(body.Results[1].Object))
  end)

  it("decodes a partial failure (Has Errors) with a Result subtype", function()
    local body, element, header = mc.decode(fixture("create_has_errors.xml"))
    assert.equal("CreateResponse", element)
    assert.same(header_for("CreateResponse"), header)
    assert.same({
      Results = {
        { StatusCode = "OK", StatusMessage = "Created TriggeredSend", OrdinalID = 0, NewID = 0 },
        { StatusCode = "Error", StatusMessage = "Subscriber is already on the list", OrdinalID = 1,
          ErrorCode = 12014, NewID = 0,
          Object = { EmailAddress = "ana.lopez@example.com", SubscriberKey = "ana.lopez@example.com" } },
      },
      RequestID = "e2b7c5a9-1f4d-4a6c-8e3b-9d0f2c7a5b66",
      OverallStatus = "Has Errors",
    }, body)
    assert.equal("TriggeredSendCreateResult", mc.typeof(body.Results[1]))
    assert.equal("CreateResult", mc.typeof(body.Results[2]))
    assert.equal("Subscriber", mc.typeof(body.Results[2].Object))
  end)

  it("decodes a MoreDataAvailable page with tns:-prefixed types and typed values", function()
    local body = mc.decode(fixture("retrieve_more_data.xml"))
    assert.same({
      OverallStatus = "MoreDataAvailable",
      RequestID = "4f8a2c6e-0b1d-4e3f-a5c7-9b2d4f6a8c01",
      Results = {
        { Client = { ID = 7281698 }, CreatedDate = "2024-03-01T09:15:22.593", ID = 1042,
          SendDate = "2024-03-01T09:20:00", NumberSent = 5000, Status = "Complete", IsAlwaysOn = false },
        { Client = { ID = 7281698 }, CreatedDate = "2024-03-02T09:15:22.1", ID = 1043,
          NumberSent = 0, Status = "Sending", IsAlwaysOn = true },
      },
    }, body)
    assert.equal("Send", mc.typeof(body.Results[2]))
    assert.equal("ClientID", mc.typeof(body.Results[1].Client))
  end)

  it("decodes DataExtensionObject rows: Properties is an array of Name/Value", function()
    local body = mc.decode(fixture("retrieve_dataextensionobject.xml"))
    assert.same({
      { Type = "DataExtensionObject", Properties = {
        { Name = "SubscriberKey", Value = "0031N00001abcDEF" },
        { Name = "Email", Value = "joël@example.com" },
        { Name = "Points", Value = "12" } } },
      { Type = "DataExtensionObject", Properties = {
        { Name = "SubscriberKey", Value = "0031N00001xyzQRS" },
        { Name = "Email", Value = "a&b <b@example.com>" },
        { Name = "Points", Value = "" } } },
    }, body.Results)
    assert.equal("APIProperty", mc.typeof(body.Results[1].Properties[1]))
  end)

  it("keeps elements the schema does not know, repeated ones as arrays", function()
    local body = mc.decode(fixture("retrieve_unknown_elements.xml"))
    local de = body.Results[1]
    assert.equal("DataExtension", mc.typeof(de))
    assert.equal("false", de.IsPlatformObject)
    assert.same({ BusinessUnitIds = { BusinessUnitId = { "7281698", "7281699" } },
                  IsAssignedToAllBusinessUnits = "false" }, de.BusinessUnitAssignmentConfiguration)
    assert.is_nil(mc.typeof(de.BusinessUnitAssignmentConfiguration))
    assert.equal(true, de.IsSendable)
    assert.equal(40312, de.CategoryID)
  end)

  it("decodes a type outside the schema (AsyncActivityStatus) and reports its type", function()
    local body = mc.decode(fixture("retrieve_async_activity_status.xml"))
    local status = body.Results[1]
    assert.equal("AsyncActivityStatus", mc.typeof(status))
    assert.same({ Client = { ID = 7281698 }, Type = "AsyncActivityStatus", Properties = {
      { Name = "TaskID", Value = "88771" }, { Name = "Status", Value = "Complete" },
      { Name = "ErrorMsg", Value = "" } } }, status)
    status.Anything = 1 -- permissive: no field checks on unknown types
    assert.equal(1, status.Anything)
  end)

  it("understands unqualified response elements", function()
    local body, element = mc.decode(fixture("retrieve_unqualified.xml"))
    assert.equal("RetrieveResponseMsg", element)
    assert.same({ OverallStatus = "OK", RequestID = "2d4f6a8c-0e2a-4c6e-8a0c-2e4a6c8e0a24", Results = { {
      ObjectID = "3a5c7e9a-1c3e-4a5c-9e1a-3c5e7a9c1e35", CustomerKey = "daily_rollup", Name = "Daily rollup",
      QueryText = "SELECT SubscriberKey FROM [Loyalty_Members] WHERE Points > 10",
      TargetType = "DE", TargetUpdateType = "Overwrite" } } }, body)
    assert.equal("QueryDefinition", mc.typeof(body.Results[1]))
  end)

  it("returns free-text OverallStatus as data", function()
    local body = mc.decode(fixture("retrieve_no_handler.xml"))
    assert.same({ OverallStatus = "Error: Unable to find a handler for object type: Dataextension. "
      .. "Object types are case-sensitive, check spelling.",
      RequestID = "5b7d9f1b-3d5f-4b7d-9f1b-5d7f9b1d3f57" }, body)
    assert.is_nil(body.Results)
  end)

  it("makes a single repeated item an array", function()
    local body = mc.decode(SOAP .. '<soap:Body><RetrieveResponseMsg xmlns="http://exacttarget.com/wsdl/partnerAPI">'
      .. '<OverallStatus>OK</OverallStatus><Results xsi:type="List"><ID>5</ID></Results>'
      .. "</RetrieveResponseMsg></soap:Body></soap:Envelope>")
    assert.same({ OverallStatus = "OK", Results = { { ID = 5 } } }, body)
  end)
end)

describe("mc.decode of requests (the sandbox's side)", function()
  it("reads credentials from the header, with Body before Header tolerated", function()
    local xml = mc.encode("Perform", { Action = "start", Definitions = { mc.EmailSendDefinition { CustomerKey = "k" } } },
      { header = { username = "api.user", password = "s3cret" } })
    local body, element, header = mc.decode(xml)
    assert.equal("PerformRequestMsg", element)
    assert.same({ username = "api.user", password = "s3cret" }, header)
    assert.same({ Action = "start", Definitions = { { CustomerKey = "k" } } }, body)
    local swapped = SOAP .. '<soap:Body><VersionInfoRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI">'
      .. "<IncludeVersionHistory>1</IncludeVersionHistory></VersionInfoRequestMsg></soap:Body>"
      .. '<soap:Header><fueloauth xmlns="http://exacttarget.com">tok</fueloauth>'
      .. '<wsa:Action xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">VersionInfo</wsa:Action>'
      .. "</soap:Header></soap:Envelope>"
    body, element, header = mc.decode(swapped)
    assert.equal("VersionInfoRequestMsg", element)
    assert.same({ IncludeVersionHistory = true }, body)
    assert.same({ fueloauth = "tok", action = "VersionInfo" }, header)
  end)

  it("round-trips objects through encode and decode", function()
    local esd = mc.EmailSendDefinition { CustomerKey = "welcome", SendLimit = 500, IsMultipart = true,
      SendWindowOpen = "08:00:00", SendDefinitionList = { { CustomerKey = "list", DataSourceTypeID = "List" } },
      PartnerProperties = { Name = "a", Value = "b" }, CreatedDate = 1714571100 }
    local filter = mc.SimpleFilterPart { Property = "ID", SimpleOperator = "between", DateValue = { 0, 86400 } }
    local de = mc.DataExtension { Name = "DE", Fields = { { Name = "Email", FieldType = "EmailAddress", MaxLength = 254 } } }
    local body = mc.decode(mc.encode("Create", { Options = { SaveOptions = { { PropertyName = "*", SaveAction = "UpdateAdd" } } },
      Objects = { esd, de } }))
    assert.same({ Options = { SaveOptions = { { PropertyName = "*", SaveAction = "UpdateAdd" } } },
                  Objects = { esd, de } }, body)
    assert.equal("EmailSendDefinition", mc.typeof(body.Objects[1]))
    assert.equal("DataExtension", mc.typeof(body.Objects[2]))
    assert.equal("DataExtensionField", mc.typeof(body.Objects[2].Fields[1]))
    assert.equal("2024-05-01T13:45:00Z", body.Objects[1].CreatedDate)
    local retrieve = mc.decode(mc.encode("Retrieve", { RetrieveRequest = { ObjectType = "Send", Filter = filter } }))
    assert.same(filter, retrieve.RetrieveRequest.Filter)
    assert.equal("SimpleFilterPart", mc.typeof(retrieve.RetrieveRequest.Filter))
    local status = setmetatable({ Type = "AsyncActivityStatus", Properties = { { Name = "Status", Value = "Complete" } } },
      core.object_metatable("AsyncActivityStatus"))
    local response = mc.decode(core.encode_message("RetrieveResponseMsg", { OverallStatus = "OK", Results = { status } }))
    assert.same({ OverallStatus = "OK", Results = { status } }, response)
    assert.equal("AsyncActivityStatus", mc.typeof(response.Results[1]))
  end)
end)

describe("mc.decode of faults", function()
  it("raises the throttling fault as retryable with code 17", function()
    local err = decode_error(fixture("fault_rate_limited.xml"))
    assert.same({ kind = "fault", message = "Rate Limited", faultcode = "soap:Server", code = 17,
      detail = "Rate Limited", retryable = true, outcome_unknown = false,
      faultactor = "https://mc563885gzs27c5t9-63k636ttgm.soap.marketingcloudapis.com/Service.asmx" }, err)
    assert.equal("fault error: Rate Limited [code 17]", tostring(err))
  end)

  it("raises the security fault with its q0: faultcode as written", function()
    local err = decode_error(fixture("fault_token_expired.xml"))
    assert.same({ kind = "fault", message = "Token Expired", faultcode = "q0:Security", retryable = false,
      outcome_unknown = false,
      faultactor = "https://mc563885gzs27c5t9-63k636ttgm.soap.marketingcloudapis.com/Service.asmx" }, err)
  end)

  it("raises a client fault without detail", function()
    local err = decode_error(fixture("fault_client.xml"))
    assert.same({ kind = "fault", faultcode = "soap:Client", retryable = false, outcome_unknown = false,
      message = "Server did not recognize the value of HTTP Header SOAPAction: Preform." }, err)
  end)

  it("reads back the faults encode_fault writes", function()
    local err = decode_error(core.encode_fault { faultcode = "soap:Server", faultstring = "Unplanned Outage",
      code = 2, message = "UnexpectedError" })
    assert.same({ kind = "fault", message = "Unplanned Outage", faultcode = "soap:Server", code = 2,
      detail = "UnexpectedError", retryable = false, outcome_unknown = false }, err)
  end)
end)

describe("mc.decode of malformed input", function()
  local esd = fixture("perform_esd_start.xml")

  it("names truncated documents", function()
    assert.equal("malformed XML: the document ends before its elements are closed (truncated?) (line 11)",
      xml_error(esd:sub(1, 1000)))
    assert.equal("malformed XML: the document ends before its elements are closed (truncated?) (line 17)",
      xml_error(esd:sub(1, 1180)))
    assert.equal("malformed XML: the document ends before its elements are closed (truncated?) (line 40)",
      xml_error(esd:sub(1, #esd - 17)))
  end)

  it("refuses a non-string argument as a usage error", function()
    local err = decode_error(nil)
    assert.equal("usage", err.kind)
    assert.equal("decode expects the XML as a string, got nil", err.message)
  end)

  it("names empty input, plain text and HTML error pages", function()
    assert.equal("empty response: expected a SOAP envelope, got no content", xml_error(""))
    assert.equal("empty response: expected a SOAP envelope, got only whitespace", xml_error(" \r\n\t"))
    assert.equal("not XML: expected a SOAP envelope, got text starting 'Service Unavailable'",
      xml_error("Service Unavailable"))
    assert.equal("not XML: expected a SOAP envelope, got text starting '{\"error\":\"invalid_client\",\"error_descrip...'",
      xml_error('{"error":"invalid_client","error_description":"bad"}'))
    assert.equal("not a SOAP envelope: got an HTML page ('503 Service Unavailable')",
      xml_error("<html><head><title>503 Service Unavailable</title></head><body>x</body></html>"))
    assert.equal("not a SOAP envelope: got an HTML page ('502 Bad Gateway')",
      xml_error("<!DOCTYPE html>\n<HTML><HEAD><TITLE>502 Bad Gateway</TITLE></HEAD></HTML>"))
  end)

  it("names XML that is not a SOAP 1.1 envelope", function()
    assert.equal("not a SOAP envelope: the root element is <foo>, expected soap:Envelope in "
      .. "http://schemas.xmlsoap.org/soap/envelope/", xml_error("<foo/>"))
    assert.equal("not a SOAP envelope: the root element is <env:Envelope> in http://www.w3.org/2003/05/soap-envelope, "
      .. "expected soap:Envelope in http://schemas.xmlsoap.org/soap/envelope/",
      xml_error('<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body/></env:Envelope>'))
    assert.equal("not a SOAP response: the envelope has no element in its soap:Body",
      xml_error(SOAP .. "<soap:Body></soap:Body></soap:Envelope>"))
  end)

  -- libxml2's built-in US-ASCII decoder stops at the first byte above 0x7F without a word, so
  -- the parser saw a document cut short; other decoders report the bytes they could not convert.
  it("reports bytes that are not in the declared encoding as an encoding error", function()
    local body = "<soap:Body>\n<x>caf\128</x></soap:Body></soap:Envelope>"
    assert.equal("malformed XML: encoding error: byte 0x80 at line 3 (byte 185) is not US-ASCII, "
      .. "the encoding the document declares",
      xml_error('<?xml version="1.0" encoding="US-ASCII"?>\n' .. SOAP .. body))
    assert.equal("malformed XML: encoding error: byte 0xFF at line 1 (byte 177) is not US-ASCII, "
      .. "the encoding the document declares",
      xml_error("<?xml version='1.0' encoding='ascii'?>" .. SOAP .. "<soap:Body><x>\255</x></soap:Body></soap:Envelope>"))
    assert.equal("malformed XML: encoding error: the document is not in Shift_JIS, the encoding it "
      .. "declares (input conversion failed due to input error, bytes 0x80 0x3C 0x2F 0x78)",
      xml_error('<?xml version="1.0" encoding="Shift_JIS"?>\n' .. SOAP .. body))
  end)

  it("passes the parser's own diagnosis on", function()
    assert.equal("malformed XML: Opening and ending tag mismatch: a line 1 and b (line 1)",
      xml_error(SOAP .. "<soap:Body><a></b></soap:Body></soap:Envelope>"))
    assert.equal("malformed XML: PCDATA invalid Char value 1 (line 1)",
      xml_error(SOAP .. "<soap:Body><a>\1</a></soap:Body></soap:Envelope>"))
  end)
end)

describe("mc.decode of hostile input", function()
  local REFUSED = "refused: the document has a DOCTYPE declaration (DTDs and entities are never processed in SOAP messages)"

  it("refuses billion laughs without expanding anything", function()
    local lol = { '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' }
    for i = 1, 9 do
      lol[#lol + 1] = ('<!ENTITY lol%d "%s">'):format(i, ("&lol" .. (i > 1 and i - 1 or "") .. ";"):rep(10))
    end
    lol[#lol + 1] = "]>" .. SOAP .. "<soap:Body><x>&lol9;</x></soap:Body></soap:Envelope>"
    -- the refusal comes from the pre-check, before libxml2 sees a single entity
    assert.equal(REFUSED, xml_error(table.concat(lol)))
  end)

  it("refuses external entities (XXE), even after comments and processing instructions", function()
    assert.equal(REFUSED, xml_error('<?xml version="1.0"?>\n<!-- x --><?pi y?>\n<!DOCTYPE foo [<!ENTITY xxe SYSTEM '
      .. '"file:///etc/passwd">]>' .. SOAP .. "<soap:Body><x>&xxe;</x></soap:Body></soap:Envelope>"))
    assert.equal(REFUSED, xml_error('<!DOCTYPE foo SYSTEM "http://127.0.0.1:9/evil.dtd">' .. SOAP
      .. "<soap:Body><x/></soap:Body></soap:Envelope>"))
    assert.equal("malformed XML: Entity 'xxe' not defined (line 1)",
      xml_error(SOAP .. "<soap:Body><x>&xxe;</x></soap:Body></soap:Envelope>"))
  end)

  -- libxml2 reads UTF-16 with or without a byte order mark, and switches to the encoding the
  -- XML declaration names (UTF-7 among them): the DOCTYPE is refused in all of them, before the
  -- DTD is read. This DTD is malformed, so a parser that read it would say so instead.
  it("refuses a DOCTYPE in every encoding, before the DTD is read", function()
    local function doc(encoding)
      return '<?xml version="1.0" encoding="' .. encoding .. '"?><!DOCTYPE x [<!ENTITY broken>]>'
        .. SOAP .. "<soap:Body><r><x>y</x></r></soap:Body></soap:Envelope>"
    end
    local function utf16le(s) return (s:gsub(".", "%0\0")) end
    local function utf16be(s) return (s:gsub(".", "\0%0")) end
    assert.equal(REFUSED, xml_error(utf16le(doc("UTF-16"))), "UTF-16LE without a byte order mark")
    assert.equal(REFUSED, xml_error(utf16be(doc("UTF-16"))), "UTF-16BE without a byte order mark")
    assert.equal(REFUSED, xml_error("\255\254" .. utf16le(doc("UTF-16"))), "UTF-16LE")
    assert.equal(REFUSED, xml_error("\254\255" .. utf16be(doc("UTF-16"))), "UTF-16BE")
    assert.equal(REFUSED, xml_error('<?xml version="1.0" encoding="UTF-7"?>+ADwAIQ-DOCTYPE x '
      .. "+AFsAPAAh-ENTITY broken+AD4AXQA+-" .. SOAP .. "<soap:Body><x>y</x></soap:Body></soap:Envelope>"), "UTF-7")
    -- the same documents without the DOCTYPE are read
    assert.equal("y", mc.decode(utf16le(doc("UTF-16"):gsub("<!DOCTYPE.-%]>", ""))).x)
    assert.equal("y", mc.decode("\254\255" .. utf16be(doc("UTF-16"):gsub("<!DOCTYPE.-%]>", ""))).x)
  end)

  it("bounds nesting depth", function()
    local deep = SOAP .. "<soap:Body>" .. ("<a>"):rep(200) .. ("</a>"):rep(200) .. "</soap:Body></soap:Envelope>"
    assert.equal("refused: nesting deeper than 128 elements", xml_error(deep))
    local ok = SOAP .. "<soap:Body>" .. ("<a>"):rep(100) .. "x" .. ("</a>"):rep(100) .. "</soap:Body></soap:Envelope>"
    local body = mc.decode(ok)
    for _ = 1, 99 do body = body.a end
    assert.equal("x", body)
  end)
end)

-- The decoder keeps its parser (and what it looked up in the model) from one decode to the
-- next, per thread (runtime/bind/decode.c, kept_parser): no document may decode differently
-- for what was decoded before it, whether that one decoded, failed half way, stopped at a
-- DOCTYPE, bound the same prefixes to other namespaces or invented thousands of names.
describe("mc.decode after other documents", function()
  local function outcome(xml)
    local ok, body, element, header = pcall(mc.decode, xml)
    if not ok then return {error = core.is_error(body) and body.kind .. ": " .. body.message or tostring(body)} end
    return {body = body, element = element, header = header, type = mc.typeof(body),
      result_types = body.Results and mc.typeof(body.Results[1])}
  end
  local many_names = {SOAP, "<soap:Body><r>"}
  for i = 1, 6000 do many_names[#many_names + 1] = "<n" .. i .. ">" .. i .. "</n" .. i .. ">" end
  many_names[#many_names + 1] = "</r></soap:Body></soap:Envelope>"
  local documents = {
    perform = fixture("perform_esd_start.xml"),
    page = fixture("retrieve_more_data.xml"),
    unqualified = fixture("retrieve_unqualified.xml"),
    fault = fixture("fault_rate_limited.xml"),
    -- ns1 bound to another namespace than in the fixture before it
    rebound = SOAP .. '<soap:Body><PerformResponseMsg xmlns="http://exacttarget.com/wsdl/partnerAPI" '
      .. 'xmlns:ns1="urn:other"><Results><Result><StatusCode>OK</StatusCode>'
      .. '<Object xsi:type="ns1:EmailSendDefinition"><CustomerKey>k</CustomerKey></Object>'
      .. '</Result></Results><OverallStatus>OK</OverallStatus></PerformResponseMsg></soap:Body></soap:Envelope>',
    truncated = fixture("perform_esd_start.xml"):sub(1, 700),
    -- cut off inside the scope of a prefix, then one that uses the prefix without declaring it
    cut_in_scope = SOAP .. '<soap:Body><r xmlns:q="urn:q"><q:x>1',
    undeclared = SOAP .. "<soap:Body><r><q:x>1</q:x></r></soap:Body></soap:Envelope>",
    malformed = SOAP .. "<soap:Body><a><b></a></soap:Body></soap:Envelope>",
    doctype = '<?xml version="1.0"?><!DOCTYPE x>' .. SOAP .. "<soap:Body><x>y</x></soap:Body></soap:Envelope>",
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?>' .. SOAP
      .. "<soap:Body><r><x>y</x></r></soap:Body></soap:Envelope>"):gsub(".", "%0\0"),
    many_names = table.concat(many_names),
  }
  local names = {}
  for name in pairs(documents) do names[#names + 1] = name end
  table.sort(names)

  it("decodes each document the same after any other", function()
    local first = {}
    for _, name in ipairs(names) do first[name] = outcome(documents[name]) end
    assert.is_nil(first.perform.error)
    assert.equal("EmailSendDefinition", mc.typeof(first.perform.body.Results[1].Object))
    assert.is_nil(first.rebound.error)
    assert.equal("k", first.rebound.body.Results[1].Object.CustomerKey)
    assert.equal("y", first.utf16.body.x)
    assert.equal("6000", first.many_names.body.n6000)
    assert.is_not_nil(first.truncated.error)
    assert.is_not_nil(first.cut_in_scope.error)
    assert.matches("prefix q", first.undeclared.error)
    assert.is_not_nil(first.malformed.error)
    assert.is_not_nil(first.doctype.error)
    for _, before in ipairs(names) do
      for _, name in ipairs(names) do
        outcome(documents[before])
        assert.same(first[name], outcome(documents[name]), name .. " after " .. before)
      end
    end
  end)
end)
