-- Responses in the shapes the service is known to send (tests/fixtures/real/*.xml: our own
-- values in the element names, order, namespaces, prefixes, headers and whitespace of genuine
-- captures published by other projects' tests and the service's documentation). Each one is
-- read twice: by mc.decode (exact values and types) and by the client, answered by a scripted
-- transport (loop.http replaced), as a script sees it through performlua.result.
local core = require "performlua.core"
local loop = require "performlua.loop"
local auth = require "performlua.auth"
local client = require "performlua.client"
local mc = require "performlua"

local FIXTURES = (os.getenv("PERFORMLUA_SOURCE_DIR") or ".") .. "/tests/fixtures/real/"

local function fixture(name)
  local f = assert(io.open(FIXTURES .. name, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function decode(name)
  return mc.decode(fixture(name))
end

-- the scripted transport: every SOAP call is answered by the next {status, fixture} of `script`
local original_http = loop.http
local script, soap_requests, token_requests

local function response(status, body)
  return {id = 0, status = status, body = body, headers = {}, curl_code = 0, sent = true,
          reused = false, elapsed = 0.001}
end

local function install(steps)
  script, soap_requests, token_requests = steps, {}, 0
  loop.http = function(req)
    if req.url:match("/v2/token$") then
      token_requests = token_requests + 1
      return response(200, core.json_encode{access_token = "tok-" .. token_requests,
        expires_in = 1080, token_type = "Bearer",
        soap_instance_url = "https://mc-test.soap.example/"})
    end
    soap_requests[#soap_requests + 1] = req
    local step = script[math.min(#soap_requests, #script)]
    return response(step[1], fixture(step[2]))
  end
end

local function connect()
  return client.connect{client_id = "cid", client_secret = "not-a-secret",
    auth_url = "https://auth.example/", retry_base_delay = 0.001, token_cache = false,
    retries = 1}
end

local function answered_by(name, status)
  install{{status or 200, name}}
  return connect()
end

describe("real response shapes", function()
  before_each(function() auth._reset() end)
  after_each(function() loop.http = original_http end)

  describe("Retrieve", function()
    it("compact one-line page, xsi:nil keys left out, MoreDataAvailable (SFMC-SDK)", function()
      local body, element, header = decode("retrieve_dataextension_compact.xml")
      assert.are.equal("RetrieveResponseMsg", element)
      assert.are.equal("RetrieveResponse", header.action)
      assert.are.equal("urn:uuid:0b6f1c2e-5a0d-4c1e-9f11-2a7d5e3c9a01", header.message_id)
      assert.are.equal("urn:uuid:7d2e4f60-1b3a-4c5d-8e9f-0a1b2c3d4e5f", header.relates_to)
      assert.are.equal("MoreDataAvailable", body.OverallStatus)
      assert.are.equal(2, #body.Results)
      assert.are.equal("DataExtension", mc.typeof(body.Results[1]))
      assert.are.same({CustomerKey = "5E1D0B7A-92C4-4F3E-A0B1-C2D3E4F50617"},
        setmetatable(body.Results[1], nil))
      assert.are.equal("orders_2026", body.Results[2].CustomerKey)
      assert.is_nil(rawget(body.Results[2], "PartnerKey"))

      local r = answered_by("retrieve_dataextension_compact.xml"):retrieve("DataExtension",
        {"CustomerKey"})
      assert.is_true(r.ok)
      assert.is_true(r.more)
      assert.are.equal("a1f0c3d2-0000-4a5b-9c8d-111122223333", r.RequestID)
      assert.are.equal(2, #r.Results)
      assert.are.equal("orders_2026", r.Results[2].CustomerKey)
      assert.are.same({}, r:errors())
    end)

    it("UTF-8 BOM, CRLF between elements, tns:-prefixed xsi:type", function()
      local s = fixture("retrieve_bom_crlf_tns.xml")
      assert.are.equal("\239\187\191<?xml", s:sub(1, 8))
      assert.is_truthy(s:find("\r\n", 1, true))
      local body = mc.decode(s)
      assert.are.equal("OK", body.OverallStatus)
      assert.are.equal("DataExtension", mc.typeof(body.Results[1]))
      assert.are.equal("DataExtension", mc.typeof(body.Results[2]))
      assert.are.equal("orders_2026", body.Results[2].CustomerKey)
      local r = answered_by("retrieve_bom_crlf_tns.xml"):retrieve("DataExtension", {"CustomerKey"})
      assert.is_true(r.ok)
      assert.is_false(r.more)
      assert.are.equal(2, #r.Results)
    end)

    it("indented EmailSendDefinition with IsPlatformObject, nested refs and empty elements "
      .. "(sfmc-devtools)", function()
      local body = decode("retrieve_emailsenddefinition.xml")
      local esd = body.Results[1]
      assert.are.equal(1, #body.Results)
      assert.are.equal("EmailSendDefinition", mc.typeof(esd))
      assert.are.equal("2025-03-14T09:26:53.517", esd.CreatedDate)
      assert.are.equal(31337, esd.CategoryID)
      -- undeclared by the WSDL: kept, as its text
      assert.are.equal("false", esd.IsPlatformObject)
      assert.are.equal("SendClassification", mc.typeof(esd.SendClassification))
      assert.are.equal("Default Commercial", esd.SendClassification.CustomerKey)
      assert.are.equal("brand_sender", esd.SenderProfile.CustomerKey)
      assert.are.equal("Default", esd.DeliveryProfile.CustomerKey)
      assert.are.equal(1, #esd.SendDefinitionList)
      local sdl = esd.SendDefinitionList[1]
      assert.are.equal("SendDefinitionList", mc.typeof(sdl))
      assert.are.equal(4242, sdl.List.ID)
      assert.are.equal("SourceList", sdl.SendDefinitionListType)
      assert.are.equal("CustomObject", sdl.DataSourceTypeID)
      assert.is_false(sdl.IsTestObject)
      assert.are.equal("", sdl.SalesForceObjectID)
      assert.are.equal(98765, esd.Email.ID)
      assert.are.equal("", esd.BccEmail)
      assert.is_true(esd.IsMultipart)
      assert.is_false(esd.DeduplicateByEmail)
      assert.are.equal("", esd.CCEmail)
      assert.are.equal("Spring is here", esd.DynamicEmailSubject)

      local r = answered_by("retrieve_emailsenddefinition.xml"):retrieve("EmailSendDefinition",
        {"CustomerKey"})
      assert.is_true(r.ok)
      assert.are.equal("spring_newsletter", r.Results[1].CustomerKey)
    end)

    it("AccountUser with Client blocks, Roles/Role and non-ASCII text (sfmc-devtools)", function()
      local body = decode("retrieve_accountuser_client.xml")
      local u = body.Results[1]
      assert.are.equal("AccountUser", mc.typeof(u))
      assert.are.equal("ClientID", mc.typeof(u.Client))
      assert.are.equal(1234567, u.Client.ID)
      assert.are.equal(700123456, u.Client.ModifiedBy)
      assert.are.equal("Zoë Müller", u.Name)
      assert.are.equal(700123456, u.AccountUserID)
      assert.is_true(u.ActiveFlag)
      assert.are.equal(0, u.Delete)
      assert.are.equal("de-DE", u.Locale.LocaleCode)
      assert.are.equal(5, u.TimeZone.ID)
      assert.are.equal("BusinessUnit", mc.typeof(u.DefaultBusinessUnitObject))
      assert.are.equal("None", u.DefaultBusinessUnitObject.AccountType)
      assert.is_nil(rawget(u.DefaultBusinessUnitObject, "Subscription"))
      assert.are.equal(1, #u.Roles)
      assert.are.equal("Role", mc.typeof(u.Roles[1]))
      assert.are.equal(1234567, u.Roles[1].Client.EnterpriseID)
      assert.are.equal("SYS_DEF_ADMIN", u.Roles[1].CustomerKey)
      assert.is_true(u.Roles[1].IsSystemDefined)

      local r = answered_by("retrieve_accountuser_client.xml"):retrieve("AccountUser", {"ID"})
      assert.is_true(r.ok)
      assert.are.equal(1234567, r.Results[1].Client.ID)
    end)

    it("DataFolder with Client/ID, empty CustomerKey, root ParentFolder (sfmc-devtools)",
      function()
      local body = decode("retrieve_datafolder.xml")
      local folder = body.Results[1]
      assert.are.equal("DataFolder", mc.typeof(folder))
      assert.are.equal(1234567, folder.Client.ID)
      assert.are.equal(345678, folder.ID)
      assert.are.equal("", folder.CustomerKey)
      assert.are.equal("DataFolder", mc.typeof(folder.ParentFolder))
      assert.are.equal(0, folder.ParentFolder.ID)
      assert.are.equal("automations", folder.ContentType)
      assert.is_true(folder.AllowChildren)
      local r = answered_by("retrieve_datafolder.xml"):retrieve("DataFolder", {"ID", "Name"})
      assert.is_true(r.ok)
      assert.are.equal("my automations", r.Results[1].Name)
    end)

    it("a free-text error OverallStatus with no Results (SFMC-SDK)", function()
      local body = decode("retrieve_no_handler.xml")
      assert.are.equal("Error: Unable to find a handler for object type: SendProfile. Object "
        .. "types are case-sensitive, check spelling.", body.OverallStatus)
      assert.is_nil(body.Results)

      -- asked for a type nothing declared resembles ("SendProfile" itself is now refused before
      -- sending: did you mean 'SenderProfile'?), answered with the service's words about it
      local r = answered_by("retrieve_no_handler.xml"):retrieve("Xyzzy", {"ID"})
      assert.is_false(r.ok)
      assert.is_false(r.more)
      assert.are.same({}, r.Results)
      local ok, err = pcall(r.check, r)
      assert.is_false(ok)
      assert.are.equal("fault", err.kind)
      assert.are.equal("Retrieve failed: OverallStatus Error: Unable to find a handler for object "
        .. "type: SendProfile. Object types are case-sensitive, check spelling.", err.message)
    end)
  end)

  describe("Perform", function()
    it("Automation: Results/Result wrapper, no Task, empty OverallStatusMessage "
      .. "(sfmc-devtools)", function()
      local body = decode("perform_automation_no_task.xml")
      assert.are.equal("", body.OverallStatusMessage)
      assert.are.equal(1, #body.Results)
      local res = body.Results[1]
      assert.are.equal("PerformResult", mc.typeof(res))
      assert.are.equal("Performed Activity", res.StatusMessage)
      assert.is_nil(res.Task)
      assert.are.equal("Automation", mc.typeof(res.Object))
      assert.are.equal("nightly_refresh", res.Object.CustomerKey)
      assert.is_true(res.Object.IsActive)
      assert.are.equal("", res.Object.Name)

      local r = answered_by("perform_automation_no_task.xml"):perform("start",
        {mc.Automation{CustomerKey = "nightly_refresh"}})
      assert.is_true(r.ok)
      assert.are.equal("start", r.action)
      assert.are.equal(1, #r.Results)
      assert.are.equal("Performed Activity", r.Results[1].StatusMessage)
      assert.are.equal("nightly_refresh", r.Results[1].input.CustomerKey)
    end)

    it("EmailSendDefinition start: ns1:-prefixed xsi:type, Task/ID is the job", function()
      local body = decode("perform_esd_start.xml")
      local res = body.Results[1]
      assert.are.equal("EmailSendDefinition", mc.typeof(res.Object))
      assert.are.equal("EmailSendDefinition performed", res.StatusMessage)
      assert.are.equal("TaskResult", mc.typeof(res.Task))
      assert.are.equal("5550123", res.Task.ID)
      assert.are.equal("b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e", res.Task.InteractionObjectID)

      local r = answered_by("perform_esd_start.xml"):perform("start",
        {mc.EmailSendDefinition{CustomerKey = "spring_newsletter"}})
      assert.is_true(r.ok)
      assert.are.equal("5550123", r.Results[1].Task.ID)
    end)

    it("ImportDefinition start: AsyncID in StatusMessage and Task/ID", function()
      local body = decode("perform_import_start.xml")
      assert.are.equal("ImportDefinition performed AsyncID:271828", body.Results[1].StatusMessage)
      assert.are.equal("271828", body.Results[1].Task.ID)
      local r = answered_by("perform_import_start.xml"):perform("start",
        {mc.ImportDefinition{CustomerKey = "daily_import"}})
      assert.is_true(r.ok)
      assert.are.equal("ImportDefinition", mc.typeof(r.Results[1].Object))
    end)

    it("QueryDefinition start: a GUID Task/ID", function()
      local body = decode("perform_query_start.xml")
      assert.are.equal("QueryDefinition perform called successfully",
        body.Results[1].StatusMessage)
      assert.are.equal("e4f5a6b7-c8d9-4e0f-1a2b-3c4d5e6f7081", body.Results[1].Task.ID)
      local r = answered_by("perform_query_start.xml"):perform("start",
        {mc.QueryDefinition{ObjectID = "d3e4f5a6-b7c8-4d9e-0f1a-2b3c4d5e6f70"}})
      assert.is_true(r.ok)
    end)
  end)

  describe("Create, Update, Delete", function()
    it("Create with NewID 0 and NewObjectID, DataExtension Fields/Field (sfmc-devtools)",
      function()
      local body, element = decode("create_dataextension_newobjectid.xml")
      assert.are.equal("CreateResponse", element)
      local res = body.Results[1]
      assert.are.equal("CreateResult", mc.typeof(res))
      assert.are.equal(0, res.NewID)
      assert.are.equal("7a6b5c4d-3e2f-ef11-a1b2-c3d4e5f60718", res.NewObjectID)
      assert.are.equal("DataExtension", mc.typeof(res.Object))
      assert.are.equal(1, #res.Object.Fields)
      local field = res.Object.Fields[1]
      assert.are.equal("DataExtensionField", mc.typeof(field))
      assert.are.equal(50, field.MaxLength)
      assert.is_true(field.IsRequired)
      assert.are.equal("", field.DefaultValue)
      assert.are.equal("", res.Object.RetainUntil)
      assert.are.equal(4711, res.Object.CategoryID)

      local r = answered_by("create_dataextension_newobjectid.xml"):create(
        mc.DataExtension{CustomerKey = "loyalty_members", Name = "loyalty_members"})
      assert.is_true(r.ok)
      assert.are.equal("7a6b5c4d-3e2f-ef11-a1b2-c3d4e5f60718", r.Results[1].NewObjectID)
      assert.are.equal("loyalty_members", r.Results[1].input.CustomerKey)
    end)

    it("Create Subscriber OK with NewID (SFMC-SDK)", function()
      local body = decode("create_subscriber_ok.xml")
      assert.are.equal(812345678, body.Results[1].NewID)
      assert.are.equal(812345678, body.Results[1].Object.ID)
      -- a numeric-looking SubscriberKey stays a string (declared xsd:string)
      assert.are.equal("7781", body.Results[1].Object.SubscriberKey)
      local r = answered_by("create_subscriber_ok.xml"):create(
        mc.Subscriber{EmailAddress = "ben@example.org", SubscriberKey = "7781"})
      assert.is_true(r.ok)
      assert.are.same({}, r:errors())
    end)

    it("Create Subscriber Error 12014 (SFMC-SDK)", function()
      local body = decode("create_subscriber_error.xml")
      assert.are.equal("Error", body.OverallStatus)
      assert.are.equal(12014, body.Results[1].ErrorCode)
      assert.are.equal("00042", body.Results[1].Object.SubscriberKey)

      local sub = mc.Subscriber{EmailAddress = "ana@example.org", SubscriberKey = "00042"}
      local r = answered_by("create_subscriber_error.xml"):create(sub)
      assert.is_false(r.ok)
      local errs = r:errors()
      assert.are.equal(1, #errs)
      assert.are.equal(sub, errs[1].input)
      local ok, err = pcall(r.check, r)
      assert.is_false(ok)
      assert.are.equal("Create: 1 of 1 results failed; first (#1): ErrorCode 12014: The "
        .. "subscriber is already on the list", err.message)
      assert.are.equal(12014, err.code)
    end)

    it("Has Errors: one object created, one failed, in OrdinalID order", function()
      local body = decode("create_has_errors.xml")
      assert.are.equal("Has Errors", body.OverallStatus)
      assert.are.equal(2, #body.Results)
      local a = mc.Subscriber{EmailAddress = "cy@example.org", SubscriberKey = "cy-1"}
      local b = mc.Subscriber{EmailAddress = "di@example.org", SubscriberKey = "di-2"}
      local r = answered_by("create_has_errors.xml"):create{a, b}
      assert.is_false(r.ok)
      assert.are.equal("Has Errors", r.OverallStatus)
      assert.are.equal(812345679, r.Results[1].NewID)
      local errs = r:errors()
      assert.are.equal(1, #errs)
      assert.are.equal(b, errs[1].input)
      assert.are.equal(12014, errs[1].ErrorCode)
    end)

    it("Update and Delete (SFMC-SDK)", function()
      local body, element = decode("update_subscriber_ok.xml")
      assert.are.equal("UpdateResponse", element)
      assert.are.equal("UpdateResult", mc.typeof(body.Results[1]))
      assert.are.equal("Updated Subscriber.", body.Results[1].StatusMessage)
      local r = answered_by("update_subscriber_ok.xml"):update(
        mc.Subscriber{SubscriberKey = "7781", EmailAddress = "ben@example.org"})
      assert.is_true(r.ok)

      body, element = decode("delete_subscriber_ok.xml")
      assert.are.equal("DeleteResponse", element)
      assert.are.equal("DeleteResult", mc.typeof(body.Results[1]))
      assert.are.equal(0, body.Results[1].OrdinalID)
      r = answered_by("delete_subscriber_ok.xml"):delete(mc.Subscriber{SubscriberKey = "7781"})
      assert.is_true(r.ok)
      assert.are.equal("Subscriber deleted", r.Results[1].StatusMessage)
    end)
  end)

  it("Describe: DefinitionResponseMsg with Properties, ExtendedProperties, ChildObjects "
    .. "(SFMC-SDK)", function()
    local body, element = decode("describe_subscriber.xml")
    assert.are.equal("DefinitionResponseMsg", element)
    local def = body.ObjectDefinition[1]
    assert.are.equal("ObjectDefinition", mc.typeof(def))
    assert.are.equal("Subscriber", def.ObjectType)
    assert.are.equal(4, #def.Properties)
    assert.are.equal("Client.ID", def.Properties[2].Name)
    assert.are.equal(254, def.Properties[3].MaxLength)
    assert.is_false(def.Properties[4].IsRetrievable)
    assert.are.equal(1, #def.ExtendedProperties)
    assert.are.equal(20001, def.ExtendedProperties[1].ID)
    assert.are.equal("", def.ExtendedProperties[1].Description)
    assert.are.equal(2, def.ExtendedProperties[1].DisplayOrder)
    assert.are.equal("%%First Name%%", def.ChildObjects[1].Properties[1].Markups[1].Value)

    local r = answered_by("describe_subscriber.xml"):describe("Subscriber")
    assert.is_true(r.ok)
    assert.are.equal(1, #r.Results)
    assert.are.equal("Subscriber", r.Results[1].ObjectType)
    assert.are.equal("a7d6c9b8-6666-40b1-9c43-777788889999", r.RequestID)
  end)

  describe("Extract", function()
    it("Results holding the result directly", function()
      local body = decode("extract_flat.xml")
      assert.are.equal("ExtractResult", mc.typeof(body.Results[1]))
      assert.are.equal("d8d5a1b2-1c3d-4e4f-9a5b-6c7d8e9fa011", body.Results[1].Request.ID)
    end)

    it("Results/ExtractResult: the redundant wrapper is read into the result", function()
      local body = decode("extract_wrapped.xml")
      assert.are.equal(1, #body.Results)
      local res = body.Results[1]
      assert.are.equal("ExtractResult", mc.typeof(res))
      assert.are.equal("OK", res.StatusCode)
      assert.are.equal("Extract request queued", res.StatusMessage)
      assert.are.equal("ExtractRequest", mc.typeof(res.Request))
      assert.are.equal("c7c4f0a1-0b2c-4d3e-8f4a-5b6c7d8e9f00", res.Request.ID)
      assert.is_nil(rawget(res, "ExtractResult"))

      local r = answered_by("extract_wrapped.xml"):extract{
        mc.ExtractRequest{ID = "c7c4f0a1-0b2c-4d3e-8f4a-5b6c7d8e9f00"}}
      assert.is_true(r.ok)
      assert.are.equal("Extract request queued", r.Results[1].StatusMessage)
    end)
  end)

  it("GetSystemStatus: Results/Result wrapper", function()
    local body, element = decode("system_status.xml")
    assert.are.equal("SystemStatusResponseMsg", element)
    assert.are.equal("SystemStatusResult", mc.typeof(body.Results[1]))
    assert.are.equal("OK", body.Results[1].SystemStatus)
    local r = answered_by("system_status.xml"):system_status()
    assert.is_true(r.ok)
    assert.are.equal("OK", r.Results[1].SystemStatus)
  end)

  it("VersionInfo", function()
    local body = decode("version_info.xml")
    assert.are.equal("VersionInfoResponse", mc.typeof(body.VersionInfo))
    assert.are.equal("1.0.0.0", body.VersionInfo.Version)
    assert.are.equal("2026-10-01T00:00:00", body.VersionInfo.VersionDate)
    local r = answered_by("version_info.xml"):version_info()
    assert.is_true(r.ok)
    assert.are.equal("1.0.0.0", r.Results[1].Version)
  end)

  it("Execute: ExecuteResponseMsg with bare Results (SFMC-SDK LogUnsubEvent)", function()
    local body, element = decode("execute_logunsubevent.xml")
    assert.are.equal("ExecuteResponseMsg", element)
    assert.are.equal("ExecuteResponse", mc.typeof(body.Results[1]))
    assert.are.equal("Event posted", body.Results[1].StatusMessage)
    local req = mc.ExecuteRequest{Name = "LogUnsubEvent"}
    local r = answered_by("execute_logunsubevent.xml"):execute{req}
    assert.is_true(r.ok)
    assert.are.equal(req, r.Results[1].input)
  end)

  it("Schedule: Results/Result, Object without xsi:type, empty <Task /> (SFMC-SDK)", function()
    local body = decode("schedule_automation.xml")
    local res = body.Results[1]
    assert.are.equal("ScheduleResult", mc.typeof(res))
    assert.are.equal("Program scheduled.", res.StatusMessage)
    assert.are.equal("ScheduleDefinition", mc.typeof(res.Object))
    assert.are.equal(12, res.Object.Occurrences)
    assert.are.equal("Daily", res.Object.RecurrenceType)
    assert.are.equal("2026-11-07T06:30:00.250-06:00", res.Object.StartDateTime)
    assert.are.equal("TaskResult", mc.typeof(res.Task))
    assert.is_nil(next(res.Task))
    local r = answered_by("schedule_automation.xml"):schedule("start",
      mc.ScheduleDefinition{Name = "s"}, {mc.Automation{CustomerKey = "nightly_refresh"}})
    assert.is_true(r.ok)
    assert.are.equal("start", r.action)
    assert.are.equal("Program scheduled.", r.Results[1].StatusMessage)
  end)

  it("Retrieve DataExtensionObject rows: Properties/Property Name/Value, empty Value", function()
    local body = decode("retrieve_dataextensionobject.xml")
    assert.are.equal(2, #body.Results)
    local row = body.Results[1]
    assert.are.equal("DataExtensionObject", mc.typeof(row))
    assert.are.equal("DataExtensionObject", row.Type)
    assert.are.equal(3, #row.Properties)
    assert.are.equal("APIProperty", mc.typeof(row.Properties[2]))
    assert.are.equal("Points", row.Properties[2].Name)
    assert.are.equal("120", row.Properties[2].Value)
    assert.are.equal("", row.Properties[3].Value)
    assert.are.equal("vip & early", body.Results[2].Properties[3].Value)
    local r = answered_by("retrieve_dataextensionobject.xml"):retrieve(
      "DataExtensionObject[loyalty]", {"Email", "Points", "Note"})
    assert.is_true(r.ok)
    assert.are.equal("fay@example.org", r.Results[2].Properties[1].Value)
  end)

  it("Retrieve of a type outside the WSDL keeps its xsi:type (AsyncActivityStatus)", function()
    local body = decode("retrieve_unknown_type.xml")
    local row = body.Results[1]
    assert.are.equal("AsyncActivityStatus", mc.typeof(row))
    assert.are.equal("Status", row.Properties[1].Name)
    assert.are.equal("Complete", row.Properties[1].Value)
    assert.are.equal("e4f5a6b7-c8d9-4e0f-1a2b-3c4d5e6f7081", row.Properties[3].Value)
    local r = answered_by("retrieve_unknown_type.xml"):retrieve("AsyncActivityStatus",
      {"Status", "ErrorMsg", "TaskID"})
    assert.is_true(r.ok)
    assert.are.equal("AsyncActivityStatus", mc.typeof(r.Results[1]))
  end)

  it("Create TriggeredSend: xsi:type on Results, SubscriberFailures", function()
    local body = decode("create_triggeredsend.xml")
    local res = body.Results[1]
    assert.are.equal("TriggeredSendCreateResult", mc.typeof(res))
    assert.are.equal(180008, res.ErrorCode)
    assert.are.equal(1, #res.SubscriberFailures)
    assert.are.equal("SubscriberResult", mc.typeof(res.SubscriberFailures[1]))
    assert.are.equal("24", res.SubscriberFailures[1].ErrorCode)
    assert.are.equal("gus-9", res.SubscriberFailures[1].Subscriber.SubscriberKey)
    local ts = mc.TriggeredSend{TriggeredSendDefinition = mc.TriggeredSendDefinition{
      CustomerKey = "welcome"}, Subscribers = {mc.Subscriber{EmailAddress = "gus@example.org",
      SubscriberKey = "gus-9"}}}
    local r = answered_by("create_triggeredsend.xml"):create(ts)
    assert.is_false(r.ok)
    assert.are.equal(ts, r:errors()[1].input)
    assert.are.equal(180008, r:errors()[1].ErrorCode)
  end)

  it("Schedule: RequestID inside Result, typed Recurrence, TimeZone (sfmc-devtools)", function()
    local body = decode("schedule_recurrence.xml")
    local res = body.Results[1]
    assert.are.equal("1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b", res.RequestID)
    assert.are.equal("DailyRecurrence", mc.typeof(res.Object.Recurrence))
    assert.are.equal(2, res.Object.Recurrence.DayInterval)
    assert.are.equal("Interval", res.Object.Recurrence.DailyRecurrencePatternType)
    assert.are.equal(5, res.Object.TimeZone.ID)
    assert.are.equal(3, res.Object.Occurrences)
    local r = answered_by("schedule_recurrence.xml"):schedule("start",
      mc.ScheduleDefinition{Name = "s"}, {mc.Automation{CustomerKey = "nightly_refresh"}})
    assert.is_true(r.ok)
    assert.are.equal("2a3b4c5d-6e7f-4809-9a1b-2c3d4e5f6a7b", r.RequestID)
  end)

  it("Create DataFolder: NewID and NewObjectID without an Object (sfmc-devtools)", function()
    local body = decode("create_datafolder_no_object.xml")
    local res = body.Results[1]
    assert.are.equal(901234, res.NewID)
    assert.are.equal("3b4c5d6e-7f80-4912-a3b4-c5d6e7f80912", res.NewObjectID)
    assert.is_nil(res.Object)
    local folder = mc.DataFolder{Name = "reports", ContentType = "dataextension"}
    local r = answered_by("create_datafolder_no_object.xml"):create(folder)
    assert.is_true(r.ok)
    assert.are.equal(901234, r.Results[1].NewID)
    assert.are.equal(folder, r.Results[1].input)
  end)

  describe("faults", function()
    it("Token Expired: q0:Security declared on faultcode itself (SFMC-SDK)", function()
      local ok, err = pcall(decode, "fault_token_expired.xml")
      assert.is_false(ok)
      assert.are.equal("fault", err.kind)
      assert.are.equal("Token Expired", err.message)
      assert.are.equal("q0:Security", err.faultcode)
      assert.are.equal("https://mc0example0000000000000000.soap.marketingcloudapis.com/"
        .. "Service.asmx", err.faultactor)
      assert.is_nil(err.code)
      assert.is_false(err.retryable == true)

      install{{500, "fault_token_expired.xml"}, {200, "delete_subscriber_ok.xml"}}
      local r = connect():delete(mc.Subscriber{SubscriberKey = "7781"})
      assert.is_true(r.ok)
      assert.are.equal(2, #soap_requests)
      assert.are.equal(2, token_requests)
    end)

    it("Rate Limited: soap:Server with apifault Code 17, retried", function()
      local ok, err = pcall(decode, "fault_rate_limited.xml")
      assert.is_false(ok)
      assert.are.equal("Rate Limited", err.message)
      assert.are.equal("soap:Server", err.faultcode)
      assert.are.equal(17, err.code)
      assert.are.equal("Rate Limited", err.detail)
      assert.is_true(err.retryable)

      install{{500, "fault_rate_limited.xml"}, {200, "perform_esd_start.xml"}}
      local r = connect():perform("start", {mc.EmailSendDefinition{CustomerKey = "k"}})
      assert.is_true(r.ok)
      assert.are.equal(2, #soap_requests)
    end)

    it("soap:Client without detail is not retried", function()
      local ok, err = pcall(decode, "fault_client.xml")
      assert.is_false(ok)
      assert.are.equal("soap:Client", err.faultcode)
      assert.are.equal("Server did not recognize the value of HTTP Header SOAPAction: "
        .. "Retrieves.", err.message)

      install{{500, "fault_client.xml"}}
      local c = connect()
      ok, err = pcall(c.retrieve, c, "Subscriber", {"ID"})
      assert.is_false(ok)
      assert.are.equal("fault", err.kind)
      assert.are.equal(1, #soap_requests)
    end)
  end)
end)
