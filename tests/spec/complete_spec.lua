-- The REPL's Tab completion (performlua.complete), as the REPL calls it: the word libedit
-- completes, the input before the cursor and the rest of the line. tests/cli/repl_help_completion.sh
-- drives the same through a terminal.
local mc = require "performlua"
local complete = require("performlua.complete").candidates
local client = require "performlua.client"

-- Completes at the end of `before` (the word: what follows the last word break).
local function at(before, after)
  local word = before:match("[^%s\"\\'><=;+%-*/%%^~#{}()%[%],&|]*$")
  return complete(word, before, after or "")
end

local function has(list, item)
  for _, v in ipairs(list) do if v == item then return true end end
  return false
end

describe("completion", function()
  it("offers a type's fields inside its constructor, on any line of the statement", function()
    assert.are.same({"CustomerKey"}, at("x = mc.EmailSendDefinition{Cust"))
    assert.are.same({"CustomerKey"}, at('mc.EmailSendDefinition{Name = "n", Cust'))
    assert.are.same({"CustomerKey"}, at('mc.EmailSendDefinition{\n  Name = "n",\n  Cust'))
    assert.are.same({"SimpleOperator"}, at("mc.SimpleFilterPart{Sim"))
    -- nested: a field's type, and the item type of a list
    assert.are.same({"FromAddress", "FromName"}, at("mc.EmailSendDefinition{SenderProfile = {From"))
    assert.are.same({"FieldType"}, at("mc.DataExtension{Fields = {{Name = \"a\"}, {FieldT"))
    -- not inside a table: Lua names as before (mc is a global at the prompt)
    rawset(_G, "mc", mc)
    local names = at("mc.EmailSendDefinitio")
    rawset(_G, "mc", nil)
    assert.are.same({"mc.EmailSendDefinition"}, names)
  end)

  it("offers the types that fit a field after Field = mc.", function()
    assert.are.same({"mc.SenderProfile"}, at("mc.EmailSendDefinition{SenderProfile = mc.Sen"))
    assert.is_true(has(at("mc.ImportDefinition{DestinationObject = mc.Data"), "mc.DataExtension"))
    -- every candidate is the field's declared type (APIObject) or derives from it
    local fits = at("mc.ImportDefinition{DestinationObject = mc.")
    assert.is_true(#fits > 100)
    for _, name in ipairs(fits) do
      local t = require("performlua.core").schema_type(name:sub(4))
      assert.is_true(t.apiobject or t.name == "APIObject", name)
    end
    -- a field whose type has no subtypes: that type alone
    assert.are.same({"mc.SendClassification"}, at("mc.EmailSendDefinition{SendClassification = mc."))
  end)

  it("offers an enumeration's values inside the field's string", function()
    assert.are.same({"equals"}, at('mc.SimpleFilterPart{SimpleOperator = "equ'))
    assert.are.same({"Active"}, at('mc.Subscriber{Status = "Act'))
    assert.are.same({}, at('mc.Subscriber{EmailAddress = "Act'))
  end)

  it("offers Perform actions inside c:perform(\"", function()
    assert.are.same({"GetMaxCount"}, at('c:perform("GetM'))
    -- the type after the cursor narrows them
    assert.are.same({"start", "stop"}, at('c:perform("st', '", mc.Campaign{CustomerKey = "k"})'))
    assert.are.same({"publish"}, at('c:perform("p', '", mc.PlatformApplication{})'))
    assert.is_true(has(at('c:perform("'), "ClearData"))
  end)

  it("offers object types and then their properties inside c:retrieve", function()
    assert.are.same({"Subscriber", "SubscriberList", "SubscriberSendResult"},
      at('c:retrieve("Subscriber'))
    assert.is_true(has(at('c:each("AsyncActivity'), "AsyncActivityStatus"))
    assert.are.same({"EmailAddress", "EmailTypePreference"}, at('c:retrieve("Subscriber", {"Email'))
    assert.are.same({"Status"}, at('c:retrieve("Send", {"ID", "Stat'))
  end)

  it("offers what a global client learnt: Describe's properties, a data extension's columns", function()
    local c = setmetatable({_default_properties = {
      ["DataExtensionObject[Members]"] = {"EmailAddress", "Tier"}}}, client.Client)
    rawset(_G, "cc", c)
    local ok, err = pcall(function()
      assert.are.same({"Tier"}, at('cc:each("DataExtensionObject[Members]", {"Ti'))
      assert.are.same({"EmailAddress", "Tier"}, at('cc:retrieve("DataExtensionObject[Members]", {"'))
    end)
    rawset(_G, "cc", nil)
    assert(ok, err)
  end)

  it("offers a client's public methods only", function()
    local c = setmetatable({_secret_state = {}, timeout = 1}, client.Client)
    rawset(_G, "cc", c)
    local names = at("cc:")
    rawset(_G, "cc", nil)
    assert.are.same(require("performlua.api").method_names(), (function()
      local out = {}
      for i, n in ipairs(names) do out[i] = n:sub(4) end
      return out
    end)())
    for _, n in ipairs(names) do assert.is_nil(n:find("^cc:_")) end
  end)

  it("offers help topics after ?", function()
    assert.are.same({"?EmailSendDefinition"}, at("?EmailSendDefinitio"))
    assert.is_true(has(at("?SimpleOp"), "?SimpleOperators"))
    assert.is_true(has(at("?mc.conn"), "?mc.connect"))
    assert.is_true(has(at("?c:wa"), "?c:wait"))
  end)

  it("offers nothing inside comments and long strings", function()
    assert.are.same({}, at('x = [[mc.EmailSendDefinition{Cust'))
    assert.are.same({}, at("-- mc.EmailSendDefinition{Cust"))
    -- a comment that ended does not hide what follows
    assert.are.same({"CustomerKey"}, at("--[[ note ]] mc.EmailSendDefinition{Cust"))
  end)
end)

-- keep the linter aware this spec uses mc
assert(mc)
