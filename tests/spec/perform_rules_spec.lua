-- The Perform page as data, and the client's refusals before anything is sent.
local mc = require "performlua"
local perform = require "performlua.perform"
local client = require "performlua.client"
local uh = require "usage_helper"

-- Nothing listens on port 9: any request that got past the checks would fail with a
-- transport/auth error, never with the usage errors asserted here.
local function offline_client()
  return client.connect{client_id = "id", client_secret = "secret",
    auth_url = "http://127.0.0.1:9/", retries = 0, token_cache = false}
end

local function usage_error(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  assert.are.equal("usage", err.kind, tostring(err))
  return uh.message(err)
end

describe("performlua.perform data", function()
  it("lists every object of the page with its actions in the page's order", function()
    local names, off_page = {}, {}
    for _, o in ipairs(perform.objects) do
      local list = o.on_page and names or off_page
      list[#list + 1] = o.type
    end
    assert.are.same({"AudienceDefinition", "AudienceSegmentDefinition", "Campaign",
      "ContentValidation", "DataExtractActivity", "EmailSendDefinition", "ExtractDefinition",
      "FileTransferActivity", "FileTrigger", "FilterActivity", "GroupDefinition",
      "ImportDefinition", "MessageSendActivity", "PlatformApplication",
      "ProgramManifestTemplate", "Send", "SMSSendActivity", "SystemEntityOperation"}, names)
    -- performable, though the page leaves them out (reference/soap-api.md §6)
    assert.are.same({"QueryDefinition", "Automation", "DataExtension"}, off_page)
  end)

  it("says how every action completes, reserved ones too", function()
    local known = {}
    for _, how in ipairs(perform.COMPLETES) do known[how] = true end
    for _, o in ipairs(perform.objects) do
      local listed = {}
      for _, list in ipairs({o.actions, o.reserved}) do
        for _, a in ipairs(list) do
          listed[a] = true
          assert.is_true(known[o.completes[a]] == true,
            string.format("%s %s completes as %s", o.type, a, tostring(o.completes[a])))
        end
      end
      for a in pairs(o.completes) do
        assert.is_true(listed[a], o.type .. " says how '" .. a .. "' completes but lists no such action")
      end
    end
    assert.are.equal("call", perform.completion("EmailSendDefinition", "getmaxcount"))
    assert.are.equal("send", perform.completion("EmailSendDefinition", "test"))
    assert.are.equal("import", perform.completion("importdefinition", "start"))
    assert.are.equal("activity", perform.completion("SmsSendActivity", "Start"))
    assert.are.equal("automation", perform.completion("Automation"))
    assert.are.equal("call", perform.completion("DataExtension", "ClearData"))
    assert.is_nil(perform.completion("AudienceDefinition"))
    assert.is_nil(perform.completion("HiveQueryDefinition", "start"))
  end)

  it("mc.perform_actions describes a type, reserved actions apart", function()
    local esd = mc.perform_actions("EmailSendDefinition")
    assert.are.same({"start", "test", "GetMaxCount"}, {esd[1], esd[2], esd[3]})
    assert.are.equal(3, #esd)
    assert.are.same({"stop", "pause", "restart"}, esd.reserved)
    assert.is_false(esd.requires_id)
    assert.is_true(mc.perform_actions("send").requires_id)
    assert.are.same({"start"}, {table.unpack(mc.perform_actions("SmsSendActivity"))})
    assert.is_true(esd.on_page)
    local all = mc.perform_actions()
    assert.are.same({"publish", "deploy"}, {table.unpack(all.PlatformApplication)})
    assert.are.same({"cancel", "pause"}, all.Campaign.reserved)
  end)

  it("mc.perform_actions covers every type the client performs, the page's and the others", function()
    -- performable, though the Perform page leaves them out
    local query = mc.perform_actions("QueryDefinition")
    assert.are.same({"start"}, {table.unpack(query)})
    assert.is_false(query.on_page)
    assert.are.same({"start"}, {table.unpack(mc.perform_actions("Automation"))})
    assert.are.same({"ClearData"}, {table.unpack(mc.perform_actions("DataExtension"))})
    local all = mc.perform_actions()
    assert.is_table(all.QueryDefinition)
    assert.is_table(all.Automation)
    -- an API type with no Perform action known: nil (sent as given; the service decides)
    assert.is_nil(mc.perform_actions("Subscriber"))
  end)

  it("mc.perform_actions names the nearest type on a typo, at the caller's line", function()
    local msg = uh.raised(pcall(mc.perform_actions, "Sned"))
    assert.are.equal("mc.perform_actions: there is no API type Sned (did you mean 'Send'?); "
      .. "mc.perform_actions() lists the types with Perform actions", msg)
    msg = uh.raised(pcall(mc.perform_actions, "EmailSendDefiniton"))
    assert.are.equal("mc.perform_actions: there is no API type EmailSendDefiniton (did you mean "
      .. "'EmailSendDefinition'?); mc.perform_actions() lists the types with Perform actions", msg)
    -- not a performable type, but an API type all the same
    msg = uh.raised(pcall(mc.perform_actions, "Subscribers"))
    assert.are.equal("mc.perform_actions: there is no API type Subscribers (did you mean "
      .. "'Subscriber'?); mc.perform_actions() lists the types with Perform actions", msg)
  end)
end)

describe("c:perform refusals", function()
  local c = offline_client()

  it("refuses an unknown action and lists the valid ones", function()
    assert.are.equal("c:perform: EmailSendDefinition has no Perform action 'strat'; valid "
      .. "actions: start, test, GetMaxCount (reserved for future use, refused unless "
      .. "allow_reserved = true: stop, pause, restart)",
      usage_error(c.perform, c, "strat", mc.EmailSendDefinition{CustomerKey = "k"}))
    assert.are.equal("c:perform: ImportDefinition has no Perform action 'stop'; valid actions: "
      .. "start", usage_error(c.perform, c, "stop", {mc.ImportDefinition{CustomerKey = "i"}}))
  end)

  it("refuses reserved actions unless allowed", function()
    assert.are.equal("c:perform: the Perform page marks EmailSendDefinition action 'pause' as "
      .. "reserved for future use; the service may not support it. Pass {allow_reserved = true} "
      .. "in the options to send it anyway",
      usage_error(c.perform, c, "pause", mc.EmailSendDefinition{CustomerKey = "k"}))
    assert.matches("Campaign action 'CANCEL' as reserved",
      usage_error(c.perform, c, "CANCEL", mc.Campaign{CustomerKey = "k"}))
    -- allowed: it gets past the checks and fails on the network instead
    local ok, err = pcall(c.perform, c, "pause", mc.EmailSendDefinition{CustomerKey = "k"},
      {allow_reserved = true})
    assert.is_false(ok)
    assert.are.equal("transport", err.kind)
  end)

  it("refuses Send actions without an ID", function()
    assert.are.equal("c:perform: Send 'pause' needs the Send's ID (definition 2 has none): "
      .. "without an ID the service silently ignores the action",
      usage_error(c.perform, c, "pause", {mc.Send{ID = 1}, mc.Send{}}))
    -- a lone constructed object with no fields is one definition, not an empty array
    assert.are.equal("c:perform: Send 'cancel' needs the Send's ID (definition 1 has none): "
      .. "without an ID the service silently ignores the action",
      usage_error(c.perform, c, "cancel", mc.Send{}))
    assert.are.equal("c:perform: the array is empty", usage_error(c.perform, c, "cancel", {}))
  end)

  it("checks actions case-insensitively and lets unlisted types through", function()
    for _, call in ipairs({
      {"START", mc.EmailSendDefinition{CustomerKey = "k"}},
      {"getmaxcount", mc.EmailSendDefinition{CustomerKey = "k"}},
      {"ClearData", mc.DataExtension{CustomerKey = "de"}},
      {"start", mc.QueryDefinition{CustomerKey = "q"}},
      {"Stop", mc.QueryDefinition{CustomerKey = "q"}}, -- not on the page: the service decides
      {"start", mc.Automation{CustomerKey = "a"}},
      {"Resume", mc.Send{ID = 7}},
    }) do
      local ok, err = pcall(c.perform, c, call[1], call[2])
      assert.is_false(ok)
      assert.are.equal("transport", err.kind, tostring(err)) -- past the checks: no token answer
    end
  end)

  it("refuses untyped definitions and empty input", function()
    assert.are.equal("c:perform: definition 1 has no type; build it with a constructor such "
      .. "as mc.EmailSendDefinition{CustomerKey = ...}",
      usage_error(c.perform, c, "start", {{CustomerKey = "k"}}))
    assert.are.equal("c:perform: nothing given; pass one object or an array of objects",
      usage_error(c.perform, c, "start", nil))
    assert.matches("action must be a non%-empty string",
      usage_error(c.perform, c, nil, mc.EmailSendDefinition{CustomerKey = "k"}))
  end)
end)
