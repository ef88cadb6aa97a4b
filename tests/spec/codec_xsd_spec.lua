-- Every envelope the encoder writes validates against the XSD of the official WSDL.
local core = require "performlua.core"
local mc = require "performlua"
local samples = require "codec_samples"

local validator = core.xsd_load(require("wsdl_helper").required())

local function assert_valid(xml)
  local ok, message = validator:validate(xml)
  assert(ok, (message or "") .. "\n" .. xml)
end

describe("XSD validation of encoded envelopes", function()
  local subtypes = samples.apiobject_subtypes()

  it("covers every APIObject subtype of the WSDL and the supplement", function()
    assert.equal(153, #subtypes) -- 149 from the WSDL + 4 from the supplement
    local set = {}
    for _, name in ipairs(subtypes) do set[name] = true end
    for _, name in ipairs { "EmailSendDefinition", "DataExtensionObject", "Automation",
                            "AudienceDefinition", "SMSSendActivity", "SmsSendActivity",
                            "SystemEntityOperation", "AudienceSegmentDefinition" } do
      assert.is_true(set[name], name)
    end
  end)

  for _, name in ipairs(subtypes) do
    it("validates a populated " .. name .. " inside Perform, Create and Retrieve", function()
      local obj = samples.object(name)
      local perform = mc.encode("Perform", { Action = "start", Definitions = { obj },
                                             Options = { Explanation = "spec" } })
      assert.truthy(perform:find('<Definition xsi:type="' .. name .. '">', 1, true))
      assert_valid(perform)
      assert_valid(mc.encode("Create", { Options = {}, Objects = { obj } }))
      assert_valid(mc.encode("Retrieve", { RetrieveRequest = {
        ObjectType = name, Properties = { "ID", "CustomerKey" },
        Retrieves = { { RequestedObject = obj } } } }))
    end)
  end

  it("validates an envelope for each of the 13 operations", function()
    local esd = mc.EmailSendDefinition { CustomerKey = "welcome", Name = "Welcome" }
    local requests = {
      Create = { Options = { RequestType = "Asynchronous" }, Objects = { esd } },
      Retrieve = { RetrieveRequest = { ObjectType = "Send", Properties = { "ID", "Status" },
        Filter = { Property = "ID", SimpleOperator = "equals", Value = "42" } } },
      Update = { Options = { SaveOptions = { { PropertyName = "*", SaveAction = "UpdateAdd" } } },
                 Objects = { esd } },
      Delete = { Options = {}, Objects = { esd } },
      Query = { QueryRequest = { Query = { Object = { ObjectType = "Send", Properties = { "ID" } } } } },
      Describe = { DescribeRequests = { { ObjectType = "Subscriber" } } },
      Execute = { Requests = { { Name = "LogUnsubEvent", Parameters = { { Name = "SubscriberKey", Value = "k" } } } } },
      Perform = { Action = "start", Definitions = { esd } },
      Configure = { Action = "update", Configurations = { mc.PropertyDefinition { Name = "p" } } },
      Schedule = { Action = "start", Schedule = { Name = "s", StartDateTime = 1714571100,
        Recurrence = { DailyRecurrencePatternType = "Interval", DayInterval = 1 },
        RecurrenceType = "Daily", RecurrenceRangeType = "EndAfter", Occurrences = 3 },
        Interactions = { esd } },
      VersionInfo = { IncludeVersionHistory = false },
      Extract = { Requests = { { ID = "c7219016-a7f0-4c72-8657-1ec12c28a0db",
        Options = {}, Parameters = { { Name = "OutputFileName", Value = "out.zip" } } } } },
      GetSystemStatus = {},
    }
    for _, op in ipairs(core.operations()) do
      local xml = mc.encode(op.name, requests[op.name], { header = { fueloauth = "token" } })
      assert.truthy(xml:find("<" .. op.request .. ' xmlns="http://exacttarget.com/wsdl/partnerAPI"', 1, true), op.name)
      assert_valid(xml)
    end
  end)

  it("validates filters nested three levels deep", function()
    local filter = mc.ComplexFilterPart {
      LeftOperand = { Property = "Status", SimpleOperator = "IN", Value = { "Active", "Held" } },
      LogicalOperator = "AND",
      RightOperand = { LeftOperand = { Property = "CreatedDate", SimpleOperator = "between",
                                       DateValue = { 0, "2024-12-31T23:59:59Z" } },
                       LogicalOperator = "OR",
                       RightOperand = { Property = "EmailAddress", SimpleOperator = "like", Value = "%@example.com" } },
    }
    assert_valid(mc.encode("Retrieve", { RetrieveRequest = { ObjectType = "Subscriber",
      Properties = { "SubscriberKey" }, Filter = filter } }))
  end)

  it("validates response envelopes built with encode_message", function()
    local xml = core.encode_message("PerformResponseMsg", {
      Results = { { StatusCode = "OK", StatusMessage = "EmailSendDefinition performed",
                    Object = mc.EmailSendDefinition { CustomerKey = "k" },
                    Task = { StatusCode = "OK", StatusMessage = "OK", ID = "123" } } },
      OverallStatus = "OK", OverallStatusMessage = "", RequestID = "r-1",
    }, { response_headers = { relates_to = "urn:uuid:1" } })
    assert_valid(xml)
    assert_valid(core.encode_message("RetrieveResponseMsg", {
      OverallStatus = "MoreDataAvailable", RequestID = "r-2",
      Results = { mc.Send { ID = 1, Status = "Complete" }, mc.Send { ID = 2 } } }))
  end)
end)
