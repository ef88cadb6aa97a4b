-- Every operation, and every object and action of the Perform page, against the sandbox with
-- the official WSDL (everything the client sends is schema-checked by the sandbox).
local mc = require "performlua"
local auth = require "performlua.auth"
local sandbox = require "performlua.sandbox"
local ch = require "client_helper"

local sb, c

local function connect(extra) return ch.connect(sb, extra) end

-- The first object of a type in the sandbox's seed, retrieved by CustomerKey.
local function first(object_type, props)
  local r = c:retrieve(object_type, props or {"CustomerKey", "ObjectID"})
  assert.is_true(r.ok, object_type .. ": " .. tostring(r.OverallStatus))
  assert.is_true(#r.Results > 0, "the seed has no " .. object_type)
  return r.Results[1]
end

describe("client operations against the sandbox", function()
  setup(function()
    auth._reset()
    sb = sandbox.start{port = 0, wsdl = require("wsdl_helper").path()}
    c = connect()
  end)
  teardown(function() if sb then sb:stop() end end)

  it("version_info and system_status", function()
    local v = c:version_info()
    assert.is_true(v.ok)
    assert.is_string(v.Results[1].Version)
    assert.are.equal(v.Results[1], v.VersionInfo) -- the answer's members keep their names too
    local s = c:system_status()
    assert.is_true(s.ok)
    assert.are.equal("OK", s.OverallStatus)
    assert.are.equal("OK", s.Results[1].SystemStatus)
  end)

  it("describe", function()
    local d = c:describe("Subscriber")
    assert.is_true(d.ok)
    assert.are.equal("Subscriber", d.Results[1].ObjectType)
    assert.is_true(#d.Results[1].Properties > 0)
  end)

  it("create, retrieve with a filter, update, delete", function()
    local created = c:create({mc.Subscriber{EmailAddress = "ops-a@example.com", SubscriberKey = "ops-a"},
                              mc.Subscriber{EmailAddress = "ops-b@example.com", SubscriberKey = "ops-b"}})
    assert.is_true(created.ok)
    assert.are.equal(2, #created.Results)
    local id_a, id_b = created.Results[1].NewID, created.Results[2].NewID
    assert.are_not.equal(id_a, id_b)
    local filter = mc.SimpleFilterPart{Property = "SubscriberKey", SimpleOperator = "IN",
      Value = {"ops-a", "ops-b"}}
    local r = c:retrieve("Subscriber", {"SubscriberKey", "EmailAddress", "ID"}, filter)
    assert.is_true(r.ok)
    assert.are.equal(2, #r.Results)
    local u = c:update(mc.Subscriber{ID = id_a, EmailAddress = "ops-a2@example.com"})
    assert.is_true(u.ok)
    r = c:retrieve("Subscriber", {"EmailAddress"}, mc.SimpleFilterPart{Property = "SubscriberKey",
      SimpleOperator = "equals", Value = "ops-a"})
    assert.are.equal("ops-a2@example.com", r.Results[1].EmailAddress)
    local d = c:delete({mc.Subscriber{ID = id_a}, mc.Subscriber{ID = id_b}})
    assert.is_true(d.ok)
    r = c:retrieve("Subscriber", {"SubscriberKey"}, filter)
    assert.are.equal(0, #r.Results)
  end)

  it("updates and deletes subscribers named by SubscriberKey, as the service's users do", function()
    assert.is_true(c:create(mc.Subscriber{EmailAddress = "key-a@example.com", SubscriberKey = "key-a"}).ok)
    assert.is_true(c:update(mc.Subscriber{SubscriberKey = "key-a", EmailAddress = "key-a2@example.com"}).ok)
    local by_key = mc.SimpleFilterPart{Property = "SubscriberKey", SimpleOperator = "equals", Value = "key-a"}
    assert.are.equal("key-a2@example.com", c:retrieve("Subscriber", {"EmailAddress"}, by_key).Results[1].EmailAddress)
    assert.is_true(c:delete(mc.Subscriber{SubscriberKey = "key-a"}).ok)
    assert.are.equal(0, #c:retrieve("Subscriber", {"EmailAddress"}, by_key).Results)
    local missing = c:delete(mc.Subscriber{SubscriberKey = "nobody"})
    assert.is_false(missing.ok)
    assert.are.equal("Error", missing.Results[1].StatusCode)
  end)

  it("sends bulk creates in chunks of 50 and merges the results in input order", function()
    local objs = {}
    for i = 1, 120 do
      objs[i] = mc.Subscriber{EmailAddress = string.format("bulk%03d@example.com", i),
        SubscriberKey = string.format("bulk%03d", i)}
    end
    local r = c:create(objs)
    assert.is_true(r.ok)
    assert.are.equal(120, #r.Results)
    assert.are.equal(3, #r.RequestIDs)
    for i = 1, 120 do
      assert.are.equal(i - 1, r.Results[i].OrdinalID)
      assert.are.equal(objs[i], r.Results[i].input)
    end
  end)

  it("pages with continue", function()
    local seen, pages = 0, 0
    local r = c:retrieve("Subscriber", {"SubscriberKey"}, mc.SimpleFilterPart{
      Property = "SubscriberKey", SimpleOperator = "beginsWith", Value = "bulk"}, {BatchSize = 50})
    while r do
      pages = pages + 1
      seen = seen + #r.Results
      assert.is_true(r.ok)
      r = c:continue(r)
    end
    assert.are.equal(120, seen)
    assert.are.equal(3, pages)
  end)

  it("keeps the service's free-text status for an unknown type", function()
    -- one that resembles no declared type (a near miss is refused before sending)
    local r = c:retrieve("Xyzzy", {"ID"})
    assert.is_false(r.ok)
    assert.are.equal("Error: Unable to find a handler for object type: Xyzzy. Object types "
      .. "are case-sensitive, check spelling.", r.OverallStatus)
  end)

  it("performs every object and action of the Perform page", function()
    local perform = require "performlua.perform"
    local send_id
    for _, o in ipairs(perform.objects) do
      for _, action in ipairs(o.actions) do
        local def
        if o.type == "PlatformApplication" then
          -- the WSDL requires Package and Packages
          local app = first("PlatformApplication")
          def = mc.PlatformApplication{CustomerKey = app.CustomerKey,
            Package = mc.PlatformApplicationPackage{CustomerKey = "preference-center-pkg"},
            Packages = {mc.PlatformApplicationPackage{CustomerKey = "preference-center-pkg"}}}
        elseif o.type == "ContentValidation" then
          def = mc.ContentValidation{Email = mc.Email{CustomerKey = first("Email").CustomerKey}}
        elseif o.type == "Send" then
          -- pause, resume, cancel: one send through its life
          if not send_id then
            local esd = first("EmailSendDefinition")
            local started = c:perform("start", mc.EmailSendDefinition{CustomerKey = esd.CustomerKey})
            send_id = tonumber(started.Results[1].Task.ID)
          end
          def = mc.Send{ID = send_id}
        else
          local obj = first(o.wsdl_type or o.type)
          def = mc[o.wsdl_type or o.type]{CustomerKey = obj.CustomerKey}
        end
        local r = c:perform(action, def)
        assert.is_true(r.ok, o.type .. " " .. action .. ": " .. tostring(r.OverallStatus) .. " "
          .. tostring(r.Results[1] and r.Results[1].StatusMessage))
        assert.are.equal(action, r.action)
      end
    end
  end)

  it("sends reserved actions only when allowed, and the sandbox answers them as errors", function()
    local esd = first("EmailSendDefinition")
    local r = c:perform("pause", mc.EmailSendDefinition{CustomerKey = esd.CustomerKey},
      {allow_reserved = true})
    assert.is_false(r.ok)
    assert.are.equal(1, #r:errors())
  end)

  it("performs actions of types the page does not list", function()
    local de = first("DataExtension")
    assert.is_true(c:perform("ClearData", mc.DataExtension{CustomerKey = de.CustomerKey}).ok)
    local q = first("QueryDefinition")
    assert.is_true(c:perform("start", mc.QueryDefinition{CustomerKey = q.CustomerKey}).ok)
    local a = first("Automation")
    assert.is_true(c:perform("start", mc.Automation{CustomerKey = a.CustomerKey}).ok)
  end)

  it("sends PerformOptions and a SenderProfile override", function()
    local esd = first("EmailSendDefinition")
    local r = c:perform("start", mc.EmailSendDefinition{CustomerKey = esd.CustomerKey,
      SenderProfile = mc.SenderProfile{CustomerKey = "support-team"}},
      {QueuePriority = "High", Explanation = "client spec"})
    assert.is_true(r.ok)
    local send = c:wait(r, {timeout = 30, interval = 0.05})
    assert.are.equal("Complete", send.Status)
    assert.are.equal("Acme Support", send.FromName)
    assert.are.equal("support@acme.example", send.FromAddress)
  end)

  it("execute, configure, schedule and extract answer without raising", function()
    local e = c:execute(mc.ExecuteRequest{Name = "LogUnsubEvent", Parameters = {
      mc.APIProperty{Name = "SubscriberKey", Value = "nobody"}}})
    assert.is_string(e.OverallStatus)
    local cf = c:configure("create", mc.PropertyDefinition{Name = "Favourite colour",
      PropertyType = "string"})
    assert.is_string(cf.OverallStatus)
    local esd = first("EmailSendDefinition")
    local s = c:schedule("start", mc.ScheduleDefinition{Name = "nightly",
      StartDateTime = os.time() + 3600, RecurrenceType = "Daily",
      Recurrence = mc.DailyRecurrence{DailyRecurrencePatternType = "Interval", DayInterval = 1},
      RecurrenceRangeType = "EndAfter", Occurrences = 3},
      mc.EmailSendDefinition{CustomerKey = esd.CustomerKey})
    assert.is_string(s.OverallStatus)
    local x = c:extract(mc.ExtractRequest{ID = "c7219016-a7f0-4c72-8657-1ec12c28a0db",
      Options = mc.ExtractOptions{}})
    assert.is_string(x.OverallStatus)
  end)

  it("refuses bad credentials with kind auth and the service's description", function()
    local ok, err = pcall(function()
      connect{client_secret = "wrong-secret", retries = 0}:version_info()
    end)
    assert.is_false(ok)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.http_status)
    assert.are.equal("invalid_client", err.code)
    assert.is_nil(tostring(err):find("wrong-secret", 1, true))
  end)
end)
