-- Perform in the sandbox: every object and action of the Perform page, the types the page
-- leaves out (Automation, QueryDefinition, DataExtension ClearData), errors, asynchronous
-- requests, and the asynchronous work that moves on the sandbox clock.
local core = require "performlua.core"
local sh = require "sandbox_helper"

local obj = sh.obj

local sb = sh.shared()

local function perform(action, defs, options, allow_invalid)
  local r = sh.call(sb, sb.token, "Perform", {Action = action, Definitions = defs, Options = options})
  assert.are.equal(200, r.status, r.body)
  if not allow_invalid then sh.assert_valid(r.body) end
  return r.decoded, r.body
end

local function perform_one(action, type_name, fields)
  local d = perform(action, {obj(type_name, fields)})
  return d.Results[1], d
end

local function retrieve(object_type, properties, filter)
  return sh.ok_call(sb, sb.token, "Retrieve", {RetrieveRequest = {ObjectType = object_type,
    Properties = properties, Filter = filter}}).Results or {}
end

local function bag(o)
  local t = {}
  for _, p in ipairs(o.Properties or {}) do t[p.Name] = p.Value end
  return t
end

local function activity(task_id)
  local found = retrieve("AsyncActivityStatus", {"TaskID", "Status", "Type", "CustomerKey"},
    {Property = "TaskID", SimpleOperator = "equals", Value = tostring(task_id)})
  assert.are.equal(1, #found)
  assert.are.equal("ObjectExtension", core.typeof(found[1]))
  assert.are.equal("AsyncActivityStatus", found[1].Type)
  return bag(found[1])
end

local function send(id)
  local found = retrieve("Send", {"ID", "Status", "NumberTargeted", "NumberSent", "SentDate",
    "FromName", "FromAddress", "Subject"}, {Property = "ID", SimpleOperator = "equals", Value = tostring(id)})
  assert.are.equal(1, #found)
  return found[1]
end

describe("sandbox Perform", function()
  -- a nearly frozen clock: asynchronous work moves only with clock_advance, so every state
  -- is observed exactly whatever the machine's speed
  sb:serve(before_each, after_each, {speed = 0.001})

  it("answers each definition in order with OrdinalID and the definition as Object", function()
    local d = perform("start", {
      obj("QueryDefinition", {CustomerKey = "active-subscribers-query"}),
      obj("QueryDefinition", {CustomerKey = "no-such-query"}),
      obj("FilterActivity", {CustomerKey = "active-customers-filter"})})
    assert.are.equal("Has Errors", d.OverallStatus)
    assert.are.equal(3, #d.Results)
    for i, r in ipairs(d.Results) do assert.are.equal(i - 1, r.OrdinalID) end
    assert.are.equal("QueryDefinition perform called successfully", d.Results[1].StatusMessage)
    assert.are.equal("active-subscribers-query", d.Results[1].Object.CustomerKey)
    assert.are.equal("QueryDefinition", core.typeof(d.Results[1].Object))
    assert.are.equal("Error", d.Results[2].StatusCode)
    assert.are.equal(107, d.Results[2].ErrorCode)
    assert.are.equal("QueryDefinition not found: no QueryDefinition with CustomerKey 'no-such-query' "
      .. "exists in this account", d.Results[2].StatusMessage)
    assert.are.equal("FilterActivity performed", d.Results[3].StatusMessage)
  end)

  it("starts every start activity with a Task.ID and an AsyncActivityStatus moving to Complete", function()
    local activities = {DataExtractActivity = "daily-extract", ExtractDefinition = "tracking-extract",
      FileTransferActivity = "sftp-upload", FileTrigger = "inbound-file-trigger",
      FilterActivity = "active-customers-filter", GroupDefinition = "vip-group",
      ImportDefinition = "daily-loyalty-import",
      MessageSendActivity = "welcome-message-activity", ProgramManifestTemplate = "onboarding-program",
      SMSSendActivity = "spring-sms", SmsSendActivity = "spring-sms-wsdl",
      SystemEntityOperation = "nightly-cleanup", QueryDefinition = "active-subscribers-query"}
    local tasks = {}
    for type_name, key in pairs(activities) do
      local r = perform_one("start", type_name, {CustomerKey = key})
      assert.are.equal("OK", r.StatusCode, type_name .. ": " .. tostring(r.StatusMessage))
      assert.truthy(tostring(r.Task.ID):match("^%d+$"))
      tasks[type_name] = r.Task.ID
      local a = activity(r.Task.ID)
      assert.are.equal("Queued", a.Status)
      assert.are.equal(type_name, a.Type)
      assert.are.equal(key, a.CustomerKey)
    end
    sb:clock_advance(0.5)
    assert.are.equal("Running", activity(tasks.FilterActivity).Status)
    sb:clock_advance(1)
    for _, id in pairs(tasks) do assert.are.equal("Complete", activity(id).Status) end
  end)

  it("ImportDefinition start: AsyncID message and an ImportResultsSummary reaching Completed", function()
    local r = perform_one("start", "ImportDefinition", {CustomerKey = "daily-loyalty-import"})
    local id = tonumber(r.Task.ID)
    assert.are.equal("ImportDefinition performed AsyncID:" .. id, r.StatusMessage)
    local function summary()
      local s = retrieve("ImportResultsSummary", {"TaskResultID", "ImportStatus", "TotalRows",
        "NumberSuccessful", "ImportDefinitionCustomerKey"},
        {Property = "TaskResultID", SimpleOperator = "equals", Value = tostring(id)})
      assert.are.equal(1, #s)
      return s[1]
    end
    assert.are.equal("Queued", summary().ImportStatus)
    assert.are.equal("daily-loyalty-import", summary().ImportDefinitionCustomerKey)
    sb:clock_advance(2)
    local s = summary()
    assert.are.equal("Completed", s.ImportStatus)
    assert.are.equal(36, s.TotalRows)
    assert.are.equal(36, s.NumberSuccessful)
  end)

  it("EmailSendDefinition start creates a Send (ID = Task.ID) that completes, as the SenderProfile override says", function()
    local r = perform_one("start", "EmailSendDefinition", {CustomerKey = "spring-sale-send",
      SenderProfile = obj("SenderProfile", {CustomerKey = "spring-team"})})
    assert.are.equal("EmailSendDefinition performed", r.StatusMessage)
    local s = send(r.Task.ID)
    assert.are.equal(tonumber(r.Task.ID), s.ID)
    assert.are.equal("Scheduled", s.Status)
    assert.are.equal("Acme Spring Sale", s.FromName)
    assert.are.equal("spring@acme.example", s.FromAddress)
    assert.are.equal(1250, s.NumberTargeted)
    assert.is_nil(s.SentDate)
    sb:clock_advance(0.6)
    s = send(r.Task.ID)
    assert.are.equal("Sending", s.Status)
    assert.is_true(s.NumberSent > 0 and s.NumberSent < 1250)
    sb:clock_advance(1)
    s = send(r.Task.ID)
    assert.are.equal("Complete", s.Status)
    assert.are.equal(1250, s.NumberSent)
    assert.truthy(s.SentDate:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d"))
    assert.are.equal(1, sb:stats().sends_started)
    assert.are.same({["spring-sale-send"] = 1}, sb:stats().sends_by_definition)
  end)

  it("EmailSendDefinition start without override uses the definition's sender profile", function()
    local r = perform_one("start", "EmailSendDefinition", {CustomerKey = "spring-sale-send"})
    assert.are.equal("Acme Marketing", send(r.Task.ID).FromName)
  end)

  it("EmailSendDefinition start takes FromName/FromAddress overrides, with or without a stored profile", function()
    local r = perform_one("start", "EmailSendDefinition", {CustomerKey = "spring-sale-send",
      SenderProfile = obj("SenderProfile", {FromName = "Override Team", FromAddress = "over@example.com"})})
    assert.are.equal("OK", r.StatusCode)
    local s = send(r.Task.ID)
    assert.are.equal("Override Team", s.FromName)
    assert.are.equal("over@example.com", s.FromAddress)
    r = perform_one("start", "EmailSendDefinition", {CustomerKey = "spring-sale-send",
      SenderProfile = obj("SenderProfile", {CustomerKey = "spring-team", FromName = "Spring Crew"})})
    s = send(r.Task.ID)
    assert.are.equal("Spring Crew", s.FromName)
    assert.are.equal("spring@acme.example", s.FromAddress)
  end)

  it("EmailSendDefinition test sends to one address; GetMaxCount puts the count in Task.StatusMessage", function()
    local r = perform_one("test", "EmailSendDefinition", {CustomerKey = "spring-sale-send"})
    assert.are.equal("OK", r.StatusCode)
    assert.are.equal(1, send(r.Task.ID).NumberTargeted)
    r = perform_one("GetMaxCount", "EmailSendDefinition", {CustomerKey = "spring-sale-send"})
    assert.are.equal("Task status message holds the requested value.", r.StatusMessage)
    assert.are.equal("1250", r.Task.StatusMessage)
    r = perform_one("getmaxcount", "EmailSendDefinition", {CustomerKey = "welcome-series-send"})
    assert.are.equal("36", r.Task.StatusMessage)
  end)

  it("refuses a missing definition, a missing sender profile, reserved and unknown actions", function()
    local r = perform_one("start", "EmailSendDefinition", {CustomerKey = "nope"})
    assert.are.equal("Error", r.StatusCode)
    assert.are.equal(42002, r.ErrorCode)
    assert.are.equal("EmailSendDefinition not found: no EmailSendDefinition with CustomerKey 'nope' "
      .. "exists in this account", r.StatusMessage)
    r = perform_one("start", "EmailSendDefinition", {CustomerKey = "spring-sale-send",
      SenderProfile = obj("SenderProfile", {CustomerKey = "ghost"})})
    assert.are.equal("SenderProfile not found: no SenderProfile with CustomerKey 'ghost' exists in "
      .. "this account", r.StatusMessage)
    for _, action in ipairs{"stop", "pause", "restart"} do
      r = perform_one(action, "EmailSendDefinition", {CustomerKey = "spring-sale-send"})
      assert.are.equal(102, r.ErrorCode)
      assert.are.equal("The action '" .. action .. "' on EmailSendDefinition is reserved for future use",
        r.StatusMessage)
    end
    r = perform_one("cancel", "Campaign", {CustomerKey = "spring-campaign"})
    assert.are.equal("The action 'cancel' on Campaign is reserved for future use", r.StatusMessage)
    r = perform_one("explode", "EmailSendDefinition", {CustomerKey = "spring-sale-send"})
    assert.are.equal(101, r.ErrorCode)
    assert.are.equal("'explode' is not a Perform action of EmailSendDefinition: use start, test, "
      .. "GetMaxCount", r.StatusMessage)
    r = perform_one("start", "List", {ID = 101})
    assert.are.equal(100, r.ErrorCode)
    assert.are.equal("The Perform method is not supported for the List object", r.StatusMessage)
    assert.are.equal(0, sb:stats().sends_started)
  end)

  it("treats object type names case-sensitively", function()
    local raw = '<PerformRequestMsg xmlns="' .. sh.NS .. '"><Action>start</Action><Definitions>'
      .. '<Definition xsi:type="emailSendDefinition"><CustomerKey>spring-sale-send</CustomerKey>'
      .. "</Definition></Definitions></PerformRequestMsg>"
    local r = sh.soap(sb, "Perform", raw, {token = sb.token})
    assert.are.equal(200, r.status)
    sh.assert_valid(r.body)
    local d = sh.decode(r.body)
    assert.are.equal("Error", d.OverallStatus)
    assert.are.equal("The Perform method is not supported for the emailSendDefinition object (object "
      .. "types are case-sensitive: check the spelling)", d.Results[1].StatusMessage)
  end)

  it("AudienceDefinition: build, clone (a stored copy), count and totalcount", function()
    local r = perform_one("build", "AudienceDefinition", {CustomerKey = "spring-prospects"})
    -- the sandbox builds at once (the audience published into its data extension)
    assert.are.equal("Complete", activity(r.Task.ID).Status)
    assert.are.equal(2480, #sb:rows("spring-prospects"))
    local before = #sb:objects("AudienceDefinition")
    r = perform_one("clone", "AudienceDefinition", {CustomerKey = "spring-prospects", Name = "Copy A"})
    assert.are.equal("OK", r.StatusCode)
    local copy = r.Object
    assert.are.equal("AudienceDefinition", core.typeof(copy))
    assert.are.equal("Copy A", copy.Name)
    assert.are_not.equal("spring-prospects", copy.CustomerKey)
    assert.truthy(copy.ObjectID)
    assert.are.equal(before + 1, #sb:objects("AudienceDefinition"))
    local found = retrieve("AudienceDefinition", {"Name"}, {Property = "CustomerKey",
      SimpleOperator = "equals", Value = copy.CustomerKey})
    assert.are.equal("Copy A", found[1].Name)
    r = perform_one("count", "AudienceDefinition", {CustomerKey = copy.CustomerKey})
    assert.are.equal("Task status message holds the requested value.", r.StatusMessage)
    assert.are.equal("2480", r.Task.StatusMessage)
    r = perform_one("totalcount", "AudienceDefinition", {ObjectID = copy.ObjectID})
    assert.are.equal("2611", r.Task.StatusMessage)
    r = perform_one("Count", "AudienceSegmentDefinition", {CustomerKey = "spring-prospects-vip"})
    assert.are.equal("312", r.Task.StatusMessage)
    r = perform_one("count", "AudienceDefinition", {CustomerKey = "missing"})
    assert.are.equal(409002, r.ErrorCode)
  end)

  it("Send pause, resume and cancel change the Status; without an ID the action is ignored", function()
    local id = perform_one("start", "EmailSendDefinition", {CustomerKey = "spring-sale-send"}).Task.ID
    sb:clock_advance(0.5)
    local r = perform_one("pause", "Send", {ID = tonumber(id)})
    assert.are.equal("Send paused", r.StatusMessage)
    assert.are.equal("Paused", send(id).Status)
    sb:clock_advance(5)
    assert.are.equal("Paused", send(id).Status)  -- a paused send does not progress
    r = perform_one("pause", "Send", {ID = tonumber(id)})
    assert.are.equal(103, r.ErrorCode)
    assert.are.equal("Send " .. id .. " is Paused and cannot be paused", r.StatusMessage)
    perform_one("resume", "Send", {ID = tonumber(id)})
    assert.are.equal("Sending", send(id).Status)
    r = perform_one("cancel", "Send", {})
    assert.are.equal("OK", r.StatusCode)
    assert.are.equal("No Send ID given: the action was ignored", r.StatusMessage)
    assert.are.equal("Sending", send(id).Status)
    perform_one("cancel", "Send", {ID = tonumber(id)})
    assert.are.equal("Canceled", send(id).Status)
    r = perform_one("cancel", "Send", {ID = 51999901})
    assert.are.equal("Send 51999901 is Complete and cannot be canceled", r.StatusMessage)
    r = perform_one("pause", "Send", {ID = 1})
    assert.are.equal("Send not found: no Send with ID '1' exists in this account", r.StatusMessage)
  end)

  it("Campaign, ContentValidation and PlatformApplication actions", function()
    assert.are.equal("Campaign started", perform_one("start", "Campaign", {CustomerKey = "spring-campaign"}).StatusMessage)
    assert.are.equal("Campaign stopped", perform_one("stop", "Campaign", {CustomerKey = "spring-campaign"}).StatusMessage)
    local r = perform_one("validate", "ContentValidation", {Email = obj("Email", {ID = 8801})})
    assert.are.equal("ContentValidation performed", r.StatusMessage)
    assert.are.equal("ContentValidationTaskResult", core.typeof(r.Task))
    assert.are.equal(false, r.Task.ValidationResults[1].IsSpam)
    assert.are.equal(true, r.Task.ValidationResults[1].IsResultValid)
    r = perform_one("validate", "ContentValidation", {Email = obj("Email", {ID = 1})})
    assert.are.equal("Email not found: no Email with ID '1' exists in this account", r.StatusMessage)
    assert.are.equal("PlatformApplication published",
      perform_one("publish", "PlatformApplication", {CustomerKey = "preference-center-app"}).StatusMessage)
    assert.are.equal("PlatformApplication deployed",
      perform_one("deploy", "PlatformApplication", {CustomerKey = "preference-center-app"}).StatusMessage)
  end)

  it("DataExtension ClearData empties the rows", function()
    local r = perform_one("ClearData", "DataExtension", {CustomerKey = "Customers"})
    assert.are.equal("ClearData performed", r.StatusMessage)
    assert.are.equal("40 rows deleted", r.Task.StatusMessage)
    assert.are.same({}, sb:rows("Customers"))
  end)

  it("Automation start answers Performed Activity without a Task element, as the service does", function()
    local d, body = perform("start", {obj("Automation", {CustomerKey = "nightly-refresh"})}, nil, true)
    assert.are.equal("Performed Activity", d.Results[1].StatusMessage)
    assert.is_nil(d.Results[1].Task)
    assert.is_nil(body:find("<Task>", 1, true))
    -- the one place the service's answer departs from its own WSDL (PerformResult.Task is required)
    local validator = require("wsdl_helper").validator()
    if validator then
      local ok, msg = validator:validate(body)
      assert.is_false(ok)
      assert.truthy(msg:find("Missing child element(s). Expected is ( Task )", 1, true), msg)
    end
    -- with no task to follow, a script polls the automation: Running (3), then Ready (2) again
    local function automation()
      local found = retrieve("Automation", {"Status", "LastRunTime", "LastRunInstanceID"},
        {Property = "CustomerKey", SimpleOperator = "equals", Value = "nightly-refresh"})
      return found[1]
    end
    local a = automation()
    assert.are.equal(3, a.Status)
    assert.truthy(a.LastRunTime:match("^%d%d%d%d%-%d%d%-%d%dT"))
    assert.truthy(a.LastRunInstanceID:match("^%x+%-"))
    sb:clock_advance(2)
    assert.are.equal(2, automation().Status)
  end)

  it("RequestType Asynchronous answers a queued acknowledgement; outcomes become ResultItems", function()
    local d = perform("start", {obj("EmailSendDefinition", {CustomerKey = "spring-sale-send"}),
      obj("EmailSendDefinition", {CustomerKey = "nope"})}, {RequestType = "Asynchronous"})
    assert.are.equal("OK", d.OverallStatus)
    assert.are.equal("Queued", d.Results[1].StatusMessage)
    assert.are.equal("Queued", d.Results[2].StatusMessage)
    local before = #sb:objects("Send")
    sb:clock_advance(0.5) -- queued requests are processed a moment after they arrive
    local items = retrieve("ResultItem", {"StatusCode", "StatusMessage", "OrdinalID", "RequestObjectType"},
      {Property = "RequestID", SimpleOperator = "equals", Value = d.RequestID})
    table.sort(items, function(a, b) return a.OrdinalID < b.OrdinalID end)
    assert.are.equal("OK", items[1].StatusCode)
    assert.are.equal("EmailSendDefinition performed", items[1].StatusMessage)
    assert.are.equal("Error", items[2].StatusCode)
    assert.are.equal("EmailSendDefinition", items[2].RequestObjectType)
    assert.are.equal(1, #sb:objects("Send") - before)
  end)

  it("a speed of 1000 makes a send complete almost at once", function()
    local fast = sh.start{speed = 1000}
    local t = sh.token(fast)
    local r = sh.call(fast, t, "Perform", {Action = "start",
      Definitions = {obj("EmailSendDefinition", {CustomerKey = "spring-sale-send"})}})
    local id = r.decoded.Results[1].Task.ID
    core.sleep(0.01)
    local s = fast:objects("Send")
    fast:stop()
    assert.are.equal(tonumber(id), s[3].ID)
    assert.are.equal("Complete", s[3].Status)
  end)
end)
