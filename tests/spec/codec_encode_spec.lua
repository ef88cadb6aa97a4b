-- mc.encode / core.encode_message / core.encode_fault: exact envelopes and exact messages.
local core = require "performlua.core"
local mc = require "performlua"
local uh = require "usage_helper"

local DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
local ENV = '<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
  .. 'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
local NS = ' xmlns="http://exacttarget.com/wsdl/partnerAPI"'

local function request(body, header)
  return DECL .. ENV .. (header and ("<soap:Header>" .. header .. "</soap:Header>") or "")
    .. "<soap:Body>" .. body .. "</soap:Body></soap:Envelope>\n"
end

-- Every envelope these specs build successfully must also be valid against the WSDL's XSD
-- (when the WSDL is here: tests/spec/helpers/wsdl_helper.lua).
local valid = require("wsdl_helper").check
local encode = mc.encode
mc = setmetatable({ encode = function(...) return valid(encode(...)) end }, { __index = mc })

local function usage_error(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok)
  assert.is_true(core.is_error(err), tostring(err))
  assert.equal("usage", err.kind)
  -- mc.encode names the line that called it (the wrapper above); core.* functions cannot
  if fn == mc.encode then return uh.message(err) end
  return err.message
end

describe("mc.encode", function()
  it("writes a Perform envelope with fields in schema order and xsi:type on the definition", function()
    local esd = mc.EmailSendDefinition { Name = "Welcome", CustomerKey = "welcome", Client = { ID = 5 } }
    local xml = mc.encode("Perform", { Definitions = esd, Action = "start" })
    assert.equal(request("<PerformRequestMsg" .. NS .. "><Action>start</Action><Definitions>"
      .. '<Definition xsi:type="EmailSendDefinition"><Client><ID>5</ID></Client>'
      .. "<CustomerKey>welcome</CustomerKey><Name>Welcome</Name></Definition></Definitions>"
      .. "</PerformRequestMsg>"), xml)
  end)

  it("writes several definitions into one Definitions wrapper", function()
    local xml = mc.encode("Perform", { Action = "start", Definitions = {
      mc.ImportDefinition { CustomerKey = "a" }, mc.QueryDefinition { CustomerKey = "b" } } })
    assert.truthy(xml:find('<Definitions><Definition xsi:type="ImportDefinition"><CustomerKey>a</CustomerKey>'
      .. '</Definition><Definition xsi:type="QueryDefinition"><CustomerKey>b</CustomerKey></Definition></Definitions>', 1, true))
  end)

  it("escapes <&>\" and keeps non-ASCII text as UTF-8", function()
    local xml = mc.encode("Create", { Options = {}, Objects = { mc.DataExtensionObject {
      CustomerKey = "de", Properties = { { Name = "Email", Value = 'a&b<c>"q" é 日本' } } } } })
    assert.equal(request("<CreateRequest" .. NS .. '><Options/><Objects xsi:type="DataExtensionObject">'
      .. "<CustomerKey>de</CustomerKey><Properties><Property><Name>Email</Name>"
      .. "<Value>a&amp;b&lt;c&gt;&quot;q&quot; é 日本</Value></Property></Properties></Objects>"
      .. "</CreateRequest>"), xml)
  end)

  it("writes canonical values: integers, booleans, doubles, dateTimes from os.time()", function()
    local xml = mc.encode("Perform", { Options = { Priority = 1, SequenceCode = "7",
      ScheduledTime = 1714571100, RequestType = "Asynchronous" } })
    assert.equal(request("<PerformRequestMsg" .. NS .. "><Options><Priority>1</Priority>"
      .. "<SequenceCode>7</SequenceCode><ScheduledTime>2024-05-01T13:45:00Z</ScheduledTime>"
      .. "<RequestType>Asynchronous</RequestType></Options></PerformRequestMsg>"), xml)
    xml = mc.encode("Retrieve", { RetrieveRequest = { ObjectType = "Send", Options = { BatchSize = 2.0 },
      QueryAllAccounts = "true" } })
    assert.truthy(xml:find("<ObjectType>Send</ObjectType><QueryAllAccounts>true</QueryAllAccounts>"
      .. "<Options><BatchSize>2</BatchSize></Options>", 1, true))
    xml = core.encode_message("ExecuteResponseMsg", { OverallStatus = "OK" })
    assert.truthy(xml:find("<OverallStatus>OK</OverallStatus>", 1, true))
  end)

  it("writes xsi:type for inferred filter parts and a single value as a one-element array", function()
    local xml = mc.encode("Retrieve", { RetrieveRequest = { ObjectType = "Send", Properties = "ID",
      Filter = { Property = "ID", SimpleOperator = "equals", Value = "5" } } })
    assert.equal(request("<RetrieveRequestMsg" .. NS .. "><RetrieveRequest><ObjectType>Send</ObjectType>"
      .. "<Properties>ID</Properties>"
      .. '<Filter xsi:type="SimpleFilterPart"><Property>ID</Property><SimpleOperator>equals</SimpleOperator>'
      .. "<Value>5</Value></Filter></RetrieveRequest></RetrieveRequestMsg>"), xml)
    xml = mc.encode("Retrieve", { RetrieveRequest = { ObjectType = "Send", Properties = { "ID", "Status" },
      Filter = { LeftOperand = { Property = "ID", SimpleOperator = "equals", Value = 1 },
                 LogicalOperator = "OR",
                 RightOperand = mc.SimpleFilterPart { Property = "ID", SimpleOperator = "equals", Value = 2 } } } })
    assert.truthy(xml:find("<Properties>ID</Properties><Properties>Status</Properties>"
      .. '<Filter xsi:type="ComplexFilterPart"><LeftOperand xsi:type="SimpleFilterPart">', 1, true))
    assert.truthy(xml:find('<RightOperand xsi:type="SimpleFilterPart"><Property>ID</Property>'
      .. "<SimpleOperator>equals</SimpleOperator><Value>2</Value></RightOperand>", 1, true))
  end)

  it("writes the required Options element when the request has none", function()
    assert.equal(request("<CreateRequest" .. NS .. '><Options/><Objects xsi:type="Send"><ID>1</ID></Objects></CreateRequest>'),
      mc.encode("Create", { Objects = { mc.Send { ID = 1 } } }))
    assert.truthy(mc.encode("Delete", { Objects = { mc.Send { ID = 1 } } }):find("<DeleteRequest" .. NS .. "><Options/>", 1, true))
    assert.truthy(mc.encode("Extract", { Requests = { { ID = "x" } } }):find("<Requests><ID>x</ID><Options/></Requests>", 1, true))
    assert.is_nil(mc.encode("Perform", { Action = "start" }):find("Options", 1, true)) -- optional there
  end)

  it("writes plain tables in polymorphic slots as the declared type, without xsi:type", function()
    local xml = mc.encode("Perform", { Definitions = { { CustomerKey = "x" } } })
    assert.truthy(xml:find("<Definitions><Definition><CustomerKey>x</CustomerKey></Definition></Definitions>", 1, true))
  end)

  it("writes the wrappers of Describe and Configure", function()
    local xml = mc.encode("Describe", { DescribeRequests = { ObjectType = "Subscriber" } })
    assert.equal(request("<DefinitionRequestMsg" .. NS .. "><DescribeRequests><ObjectDefinitionRequest>"
      .. "<ObjectType>Subscriber</ObjectType></ObjectDefinitionRequest></DescribeRequests></DefinitionRequestMsg>"), xml)
    xml = mc.encode("Configure", { Action = "update", Configurations = { mc.PropertyDefinition { Name = "p" } } })
    assert.truthy(xml:find('<Configurations><Configuration xsi:type="PropertyDefinition"><Name>p</Name>'
      .. "</Configuration></Configurations>", 1, true))
  end)

  it("writes an empty request element for GetSystemStatus and VersionInfo's boolean", function()
    assert.equal(request("<SystemStatusRequestMsg" .. NS .. "/>"), mc.encode("GetSystemStatus", {}))
    assert.equal(request("<VersionInfoRequestMsg" .. NS .. "><IncludeVersionHistory>true</IncludeVersionHistory>"
      .. "</VersionInfoRequestMsg>"), mc.encode("VersionInfo", { IncludeVersionHistory = true }))
  end)

  it("puts credentials in the header: fueloauth or a WS-Security UsernameToken", function()
    assert.equal(request("<SystemStatusRequestMsg" .. NS .. "/>",
      '<fueloauth xmlns="http://exacttarget.com">tok&amp;en</fueloauth>'),
      mc.encode("GetSystemStatus", {}, { header = { fueloauth = "tok&en" } }))
    assert.equal(request("<SystemStatusRequestMsg" .. NS .. "/>",
      '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
      .. "<wsse:UsernameToken><wsse:Username>api.user</wsse:Username>"
      .. '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">'
      .. "p&lt;w</wsse:Password></wsse:UsernameToken></wsse:Security>"),
      mc.encode("GetSystemStatus", nil, { header = { username = "api.user", password = "p<w" } }))
  end)

  it("refuses an unknown operation and lists the 13", function()
    assert.equal("unknown operation 'perform' (did you mean 'Perform'?); the operations are Create, "
      .. "Retrieve, Update, Delete, Query, Describe, Execute, Perform, Configure, Schedule, VersionInfo, "
      .. "Extract, GetSystemStatus", usage_error(mc.encode, "perform", {}))
    assert.equal("unknown operation 'Send'; the operations are Create, Retrieve, Update, Delete, Query, "
      .. "Describe, Execute, Perform, Configure, Schedule, VersionInfo, Extract, GetSystemStatus",
      usage_error(mc.encode, "Send", {}))
  end)

  it("never builds a request the XSD refuses for want of a required field", function()
    -- IncludeVersionHistory is required; absent, it means false
    assert.equal(request("<VersionInfoRequestMsg" .. NS .. "><IncludeVersionHistory>false"
      .. "</IncludeVersionHistory></VersionInfoRequestMsg>"), mc.encode("VersionInfo", {}))
    assert.equal("CreateRequest needs Objects: the service refuses the message without it",
      usage_error(mc.encode, "Create", {}))
    assert.equal("UpdateRequest.Objects is empty: give at least one object",
      usage_error(mc.encode, "Update", { Objects = {} }))
    assert.equal("RetrieveRequestMsg needs RetrieveRequest: the service refuses the message without it",
      usage_error(mc.encode, "Retrieve", {}))
    -- the emptiest request of each operation is either valid (checked by mc.encode here) or refused
    for _, op in ipairs { "Create", "Retrieve", "Update", "Delete", "Query", "Describe", "Execute",
                          "Perform", "Configure", "Schedule", "VersionInfo", "Extract", "GetSystemStatus" } do
      local ok, err = pcall(mc.encode, op, {})
      assert(ok or (core.is_error(err) and err.kind == "usage"), op .. ": " .. tostring(err))
    end
  end)

  it("names the path, the type, the field and the nearest valid names", function()
    assert.equal("PerformRequestMsg has no field 'Definition' (did you mean 'Definitions'?)",
      usage_error(mc.encode, "Perform", { Definition = {} }))
    assert.equal("RetrieveRequestMsg.RetrieveRequest.Filter: SimpleFilterPart has no field 'Valu' (did you mean 'Value'?)",
      usage_error(mc.encode, "Retrieve", { RetrieveRequest = { ObjectType = "Send",
        Filter = { Property = "ID", SimpleOperator = "equals", Valu = "1" } } }))
    assert.equal("PerformRequestMsg.Definitions[2]: EmailSendDefinition has no field 'CustomerKy' (did you mean 'CustomerKey'?)",
      usage_error(mc.encode, "Perform", { Definitions = { mc.EmailSendDefinition {},
        setmetatable({ CustomerKy = "x" }, getmetatable(mc.EmailSendDefinition {})) } }))
    assert.equal("PerformRequestMsg.Definitions[1]: APIObject has no field 'Name'; build the object with "
      .. "its type's constructor (e.g. mc.EmailSendDefinition{...}) so that it is sent as that type",
      usage_error(mc.encode, "Perform", { Definitions = { { Name = "x" } } }))
  end)

  it("checks values with the constructors' messages", function()
    assert.equal("PerformRequestMsg.Options.Priority is out of range for xsd:byte (-128 to 127), got integer 200",
      usage_error(mc.encode, "Perform", { Options = { Priority = 200 } }))
    assert.equal("PerformRequestMsg.Options.RequestType must be one of Synchronous, Asynchronous, got string 'asynchronous' (did you mean 'Asynchronous'?)",
      usage_error(mc.encode, "Perform", { Options = { RequestType = "asynchronous" } }))
    assert.equal("PerformRequestMsg.Options.ScheduledTime must be a dateTime: an ISO 8601 string such as "
      .. "'2024-05-01T13:45:00Z' or an os.time() number, got string '2024-05-01 13:45'",
      usage_error(mc.encode, "Perform", { Options = { ScheduledTime = "2024-05-01 13:45" } }))
    assert.equal("PerformRequestMsg.Action contains the character U+0007, which XML cannot carry (byte 2)",
      usage_error(mc.encode, "Perform", { Action = "s\7" }))
    assert.equal("PerformRequestMsg.Action is not valid UTF-8 (byte 1)",
      usage_error(mc.encode, "Perform", { Action = "\xff" }))
    assert.equal("PerformRequestMsg.Options takes one PerformOptions, got an array",
      usage_error(mc.encode, "Perform", { Options = { {} } }))
    assert.equal("PerformRequestMsg.Definitions[1] must be an APIObject object (or a subtype), got a ClientID object",
      usage_error(mc.encode, "Perform", { Definitions = { mc.ClientID { ID = 1 } } }))
  end)

  it("says where an object goes when it is passed instead of its message", function()
    assert.equal("the RetrieveRequestMsg message is a table of its fields: put the RetrieveRequest object in "
      .. "its field, {RetrieveRequest = obj}", usage_error(mc.encode, "Retrieve", mc.RetrieveRequest { ObjectType = "Send" }))
    assert.equal("the PerformRequestMsg message is a table of its fields: put the EmailSendDefinition object in "
      .. "its field, {Definitions = {obj}}", usage_error(mc.encode, "Perform", mc.EmailSendDefinition {}))
    assert.equal("the PerformRequestMsg message must be a table, got string", usage_error(mc.encode, "Perform", "start"))
  end)

  it("refuses header options it does not know and half credentials", function()
    assert.equal("opts.header has no field 'token' (expected fueloauth, or username and password)",
      usage_error(mc.encode, "Perform", {}, { header = { token = "x" } }))
    assert.equal("opts.header needs both username and password",
      usage_error(mc.encode, "Perform", {}, { header = { username = "u" } }))
    assert.equal("opts has no field 'headers' (expected header or response_headers)",
      usage_error(mc.encode, "Perform", {}, { headers = {} }))
  end)

  it("bounds nesting so that a table containing itself is an error, not a crash", function()
    local f = { Property = "a", SimpleOperator = "equals" }
    local c = { LogicalOperator = "AND", LeftOperand = f }
    c.RightOperand = c
    local msg = usage_error(mc.encode, "Retrieve", { RetrieveRequest = { ObjectType = "X", Filter = c } })
    assert.truthy(msg:find("nesting deeper than 128 (does a table contain itself?)", 1, true), msg)
    local loop = {}
    loop[1] = loop
    local status = setmetatable({ Anything = loop }, core.object_metatable("AsyncActivityStatus"))
    msg = usage_error(core.encode_message, "RetrieveResponseMsg", { OverallStatus = "OK", Results = { status } })
    assert.truthy(msg:find("nesting deeper than 128 (does a table contain itself?)", 1, true), msg)
  end)
end)

describe("core.encode_message", function()
  it("writes responses with the WS-Addressing and WS-Security headers of real responses", function()
    local xml = core.encode_message("PerformResponseMsg", {
      OverallStatus = "OK", OverallStatusMessage = "", RequestID = "r-1",
      Results = { { StatusCode = "OK", StatusMessage = "Task status message holds the requested value.",
                    Task = { StatusCode = "OK", StatusMessage = "3", ID = "0" } } },
    }, { response_headers = { message_id = "urn:uuid:m", relates_to = "urn:uuid:r", created = 1714571100 } })
    -- Not XSD-valid, like the service's own GetMaxCount answer: PerformResult's Object is
    -- required by the schema but absent on the wire.
    assert.equal(DECL .. '<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
      .. 'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
      .. 'xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" '
      .. 'xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" '
      .. 'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>'
      .. "<wsa:Action>PerformResponse</wsa:Action><wsa:MessageID>urn:uuid:m</wsa:MessageID>"
      .. "<wsa:RelatesTo>urn:uuid:r</wsa:RelatesTo>"
      .. "<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>"
      .. '<wsse:Security><wsu:Timestamp wsu:Id="Timestamp-m"><wsu:Created>2024-05-01T13:45:00Z</wsu:Created>'
      .. "<wsu:Expires>2024-05-01T13:50:00Z</wsu:Expires></wsu:Timestamp></wsse:Security></soap:Header>"
      .. "<soap:Body><PerformResponseMsg" .. NS .. "><Results><Result><StatusCode>OK</StatusCode>"
      .. "<StatusMessage>Task status message holds the requested value.</StatusMessage>"
      .. "<Task><StatusCode>OK</StatusCode><StatusMessage>3</StatusMessage><ID>0</ID></Task></Result></Results>"
      .. "<OverallStatus>OK</OverallStatus><OverallStatusMessage></OverallStatusMessage>"
      .. "<RequestID>r-1</RequestID></PerformResponseMsg></soap:Body></soap:Envelope>\n", xml)
  end)

  it("generates a fresh MessageID when none is given", function()
    local a = valid(core.encode_message("CreateResponse", { OverallStatus = "OK",
      Results = { { StatusCode = "OK", StatusMessage = "Created", NewID = 1 } } }, { response_headers = {} }))
    local b = core.encode_message("CreateResponse", { OverallStatus = "OK" }, { response_headers = {} })
    local id_a = a:match("<wsa:MessageID>(urn:uuid:%x+%-%x+%-4%x+%-[89ab]%x+%-%x+)</wsa:MessageID>")
    assert.truthy(id_a, a)
    assert.truthy(a:find("<wsa:Action>CreateResponse</wsa:Action>", 1, true))
    assert.not_equal(id_a, b:match("<wsa:MessageID>([^<]+)</wsa:MessageID>"))
  end)

  it("writes objects of types outside the schema with their fields and xsi:type", function()
    local status = setmetatable({ Status = "Complete", TaskID = "88771", Client = { ID = 7 },
      Properties = { { Name = "ErrorMsg", Value = "" } } }, core.object_metatable("AsyncActivityStatus"))
    local xml = core.encode_message("RetrieveResponseMsg", { OverallStatus = "OK", Results = { status } })
    assert.truthy(xml:find('<Results xsi:type="AsyncActivityStatus"><Client><ID>7</ID></Client>'
      .. "<Properties><Property><Name>ErrorMsg</Name><Value></Value></Property></Properties>"
      .. "<Status>Complete</Status><TaskID>88771</TaskID></Results>", 1, true), xml)
  end)

  it("writes the extra elements of decoded objects into responses and leaves them out of requests", function()
    local fixture = io.open((os.getenv("PERFORMLUA_SOURCE_DIR") or ".")
      .. "/tests/fixtures/responses/retrieve_unknown_elements.xml"):read("a")
    local de = mc.decode(fixture).Results[1]
    local xml = core.encode_message("RetrieveResponseMsg", { OverallStatus = "OK", Results = { de } })
    assert.truthy(xml:find("<CategoryID>40312</CategoryID><BusinessUnitAssignmentConfiguration><BusinessUnitIds>"
      .. "<BusinessUnitId>7281698</BusinessUnitId><BusinessUnitId>7281699</BusinessUnitId></BusinessUnitIds>"
      .. "<IsAssignedToAllBusinessUnits>false</IsAssignedToAllBusinessUnits></BusinessUnitAssignmentConfiguration>"
      .. "<IsPlatformObject>false</IsPlatformObject></Results>", 1, true), xml)
    assert.same(mc.decode(fixture).Results, mc.decode(xml).Results)
    -- a retrieved object goes back to the service as it is, without what the WSDL lacks
    local retrieve = mc.encode("Retrieve", { RetrieveRequest = {
      ObjectType = "DataExtension", Retrieves = { { RequestedObject = de } } } })
    assert.truthy(retrieve:find("<CategoryID>40312</CategoryID></RequestedObject>", 1, true), retrieve)
    assert.falsy(retrieve:find("BusinessUnit", 1, true), retrieve)
    assert.falsy(retrieve:find("IsPlatformObject", 1, true), retrieve)
    -- only what came from the response is left out: a field the script adds is checked
    local message = usage_error(function() de.IsSendabel = true end)
    assert.truthy(message:find(": DataExtension has no field 'IsSendabel' (did you mean 'IsSendable'?)",
      1, true), message)
    assert.equal("PerformRequestMsg.Definitions[1]: DataExtension has no field 'Nme' (did you mean 'Name'?)",
      usage_error(mc.encode, "Perform", { Definitions = {
        setmetatable({ Nme = "x" }, getmetatable(de)) } }))
  end)

  it("refuses unknown message elements", function()
    assert.equal("unknown message element 'PerformResponse Msg' (did you mean 'PerformResponseMsg'?)",
      usage_error(core.encode_message, "PerformResponse Msg", {}))
  end)
end)

describe("core.encode_fault", function()
  it("writes the throttling fault with detail/apifault", function()
    assert.equal(DECL .. ENV .. "<soap:Body><soap:Fault><faultcode>soap:Server</faultcode>"
      .. "<faultstring>Rate Limited</faultstring><faultactor>https://example.soap/Service.asmx</faultactor>"
      .. '<detail><apifault xmlns="urn:fault.partner.exacttarget.com"><Code>17</Code>'
      .. "<Message>Rate Limited</Message></apifault></detail></soap:Fault></soap:Body></soap:Envelope>\n",
      core.encode_fault { faultcode = "soap:Server", faultstring = "Rate Limited",
                          faultactor = "https://example.soap/Service.asmx", code = 17 })
  end)

  it("declares q0 for security faults and prefixes bare codes with soap:", function()
    local xml = core.encode_fault { faultcode = "q0:Security", faultstring = "Token Expired" }
    assert.truthy(xml:find('<faultcode xmlns:q0="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
      .. "q0:Security</faultcode><faultstring>Token Expired</faultstring></soap:Fault>", 1, true), xml)
    xml = core.encode_fault { faultcode = "Client", faultstring = "bad" }
    assert.truthy(xml:find("<faultcode>soap:Client</faultcode>", 1, true), xml)
  end)
end)
