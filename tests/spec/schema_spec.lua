-- The schema model and the XSD validator as the Lua side sees them (runtime/bind/schema_bind.c).
local core = require "performlua.core"

local wsdl = require "wsdl_helper"
local WSDL = wsdl.path()

local function names(fields)
  local out = {}
  for i, f in ipairs(fields) do out[i] = f.name end
  return out
end

describe("core.schema_type", function()
  it("describes APIObject's fields in wire order with exact occurrences", function()
    local t = core.schema_type("APIObject")
    assert.are.equal("APIObject", t.name)
    assert.is_nil(t.base)
    assert.is_false(t.abstract)
    assert.is_false(t.anonymous)
    assert.is_false(t.supplement)
    assert.is_false(t.apiobject)
    assert.are.same({"Client", "PartnerKey", "PartnerProperties", "CreatedDate", "ModifiedDate",
      "ID", "ObjectID", "CustomerKey", "Owner", "CorrelationID", "ObjectState"}, names(t.fields))
    assert.are.same({name = "PartnerKey", type = "string", kind = "string", min = 0, max = 1,
      nillable = true, owner = "APIObject"}, t.fields[2])
    assert.are.same({name = "PartnerProperties", type = "APIProperty", kind = "complex", min = 0,
      max = -1, nillable = false, owner = "APIObject"}, t.fields[3])
    assert.are.equal("dateTime", t.fields[4].kind)
    assert.are.equal("int", t.fields[6].kind)
    assert.is_true(math.type(t.fields[6].min) == "integer")
  end)

  it("puts base fields first and marks APIObject subtypes", function()
    local t = core.schema_type("EmailSendDefinition")
    assert.are.equal("SendDefinition", t.base)
    assert.is_true(t.apiobject)
    assert.are.equal("Client", t.fields[1].name)
    assert.are.equal("APIObject", t.fields[1].owner)
    assert.are.equal("Name", t.fields[12].name)
    assert.are.equal("InteractionBaseObject", t.fields[12].owner)
    assert.are.equal("EmailSendDefinition", t.fields[#t.fields].owner)
    local by_name = {}
    for _, f in ipairs(t.fields) do by_name[f.name] = f end
    assert.are.equal("time", by_name.SendWindowOpen.kind)
    assert.are.equal("TrackingUser", by_name.TrackingUsers.type)
    assert.are.equal("TrackingUser", by_name.TrackingUsers.item)
  end)

  -- A type that declares no field of its own has no element array (NULL): finding the owner
  -- of its inherited fields must not do arithmetic on it (clang's UBSan, memory/clang_asan).
  it("names the owner of every inherited field of a type that declares none", function()
    local t = core.schema_type("Authentication")
    assert.are.equal("APIObject", t.base)
    assert.is_true(#t.fields > 0)
    for _, f in ipairs(t.fields) do assert.are.equal("APIObject", f.owner, f.name) end
  end)

  it("describes wrappers, choices, enumerations and <any>", function()
    local perform = core.schema_type("PerformRequestMsg")
    assert.is_true(perform.anonymous)
    assert.are.same({name = "Definitions", type = "APIObject", kind = "complex", min = 0, max = 1,
      nillable = false, item = "Definition", item_min = 0, item_max = -1, item_nillable = false,
      owner = "PerformRequestMsg"}, perform.fields[3])

    local describe_requests = core.schema_type("DefinitionRequestMsg").fields[1]
    assert.are.equal("ObjectDefinitionRequest", describe_requests.item)
    assert.are.equal("ArrayOfObjectDefinitionRequest", describe_requests.wrapper_type)
    assert.is_true(describe_requests.item_nillable)

    local fieldmap = core.schema_type("FieldMap").fields
    assert.are.equal(1, fieldmap[1].choice)
    assert.are.equal(1, fieldmap[2].choice)
    assert.is_nil(fieldmap[3].choice)

    local op
    for _, f in ipairs(core.schema_type("SimpleFilterPart").fields) do
      if f.name == "SimpleOperator" then op = f end
    end
    assert.are.equal("enum", op.kind)
    assert.are.equal("SimpleOperators", op.type)
    assert.are.equal(22, #op.values)
    assert.are.equal("equals", op.values[1])
    assert.are.equal("lessThanAnniversary", op.values[22])

    local any = core.schema_type("AssetAnyProperty").fields[1]
    assert.are.equal("##any", any.name)
    assert.are.equal("any", any.kind)
  end)

  it("describes the supplement types", function()
    local a = core.schema_type("AudienceDefinition")
    assert.is_true(a.supplement)
    assert.is_true(a.apiobject)
    assert.are.equal("APIObject", a.base)
    assert.are.same({"Name", "Description", "CategoryID"}, {a.fields[12].name, a.fields[13].name, a.fields[14].name})
    local seg = core.schema_type("AudienceSegmentDefinition")
    assert.are.equal("AudienceDefinition", seg.fields[14].type)
    assert.are.equal("complex", seg.fields[14].kind)
    local sms, Sms = core.schema_type("SMSSendActivity"), core.schema_type("SmsSendActivity")
    assert.are.equal(Sms.base, sms.base)
    assert.are.same(names(Sms.fields), names(sms.fields))
    assert.is_true(sms.supplement)
    assert.is_false(Sms.supplement)
  end)

  it("returns nil for unknown names and caches descriptions", function()
    assert.is_nil(core.schema_type("NoSuchType"))
    assert.is_nil(core.schema_type("apiobject"))
    assert.are.equal(core.schema_type("Subscriber"), core.schema_type("Subscriber"))
    assert.has_error(function() core.schema_type() end)
  end)
end)

describe("core.schema_types, schema_enum, schema_global", function()
  it("lists every complex type, sorted, with 149 + 4 APIObject subtypes", function()
    local all = core.schema_types()
    assert.are.equal(252 + 26 + 4, #all)
    local subtypes, named = 0, 0
    for i, name in ipairs(all) do
      if i > 1 then assert.is_true(all[i - 1] < name) end
      local t = core.schema_type(name)
      if t.apiobject then subtypes = subtypes + 1 end
      if not t.anonymous and not t.supplement then named = named + 1 end
    end
    assert.are.equal(153, subtypes)
    assert.are.equal(252, named)
  end)

  it("gives enumeration values and global element types", function()
    assert.are.same({"Public", "Private", "SalesForce", "GlobalUnsubscribe", "Master"},
      core.schema_enum("ListTypeEnum"))
    assert.is_nil(core.schema_enum("NoSuchEnum"))
    assert.is_nil(core.schema_enum("instanceid"))
    assert.are.equal("PerformRequestMsg", core.schema_global("PerformRequestMsg"))
    assert.are.equal("Subscriber", core.schema_global("Subscriber"))
    assert.is_nil(core.schema_global("PerformRequest"))
    local globals = core.schema_globals()
    assert.are.equal(59, #globals)
    assert.are.equal("AudienceItem", globals[1])
    assert.are.equal("YearlyRecurrence", globals[59])
    for i = 2, #globals do assert.is_true(globals[i - 1] < globals[i]) end
  end)
end)

describe("core.xsd_load", function()
  local validator
  setup(function() validator = WSDL and core.xsd_load(WSDL) end)
  teardown(function() if validator then validator:close() end end)

  wsdl.it("validates envelopes and explains what is wrong", function()
    local envelope = [[
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soap:Body><PerformRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><Action>build</Action>
<Definitions><Definition xsi:type="AudienceDefinition"><CustomerKey>a</CustomerKey><Name>n</Name></Definition></Definitions>
</PerformRequestMsg></soap:Body></soap:Envelope>]]
    assert.are.same({true}, {validator:validate(envelope)})
    local ok, message = validator:validate((envelope:gsub("<Name>n</Name>", "<Nme>n</Nme>")))
    assert.is_false(ok)
    assert.are.equal("line 3, PerformRequestMsg/Definitions/Definition/Nme: Element 'Nme': This "
      .. "element is not expected. Expected is one of ( Owner, CorrelationID, ObjectState, Name, "
      .. "Description, CategoryID ).", message)
    assert.are.same({false, "XML is not well-formed: line 1: Start tag expected, '<' not found"},
      {validator:validate("oops")})
  end)

  -- Refused before the DTD is read, whatever the encoding: this DTD is malformed, so a parser
  -- that read it would report that instead.
  wsdl.it("refuses a message with a DTD, in UTF-16 too", function()
    local dtd = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY broken>]>'
      .. '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>'
    local refused = {false, "the message has a DTD, which SOAP does not allow"}
    assert.are.same(refused, {validator:validate((dtd:gsub(".", "%0\0")))})
    assert.are.same(refused, {validator:validate((dtd:gsub("UTF%-16", "UTF-8")))})
  end)

  it("raises error tables for a missing or unusable WSDL", function()
    local ok, err = pcall(core.xsd_load, "/nonexistent/x.wsdl")
    assert.is_false(ok)
    assert.is_true(core.is_error(err))
    assert.are.equal("usage", err.kind)
    assert.are.equal("cannot open the WSDL /nonexistent/x.wsdl: No such file or directory", err.message)
    assert.are.equal("/nonexistent/x.wsdl", err.path)
    local path = os.tmpname()
    local f = assert(io.open(path, "w")); f:write("<notwsdl/>"); f:close()
    ok, err = pcall(core.xsd_load, path)
    os.remove(path)
    assert.is_false(ok)
    assert.are.equal("xml", err.kind)
    assert.are.equal(path .. " is not a WSDL: its root element is not wsdl:definitions", err.message)
  end)

  wsdl.it("closes idempotently, also through <close>", function()
    local v = core.xsd_load(WSDL)
    assert.are.equal("xsd validator", tostring(v))
    v:close()
    v:close()
    assert.are.equal("xsd validator (closed)", tostring(v))
    assert.has_error(function() v:validate("<a/>") end, "the XSD validator is closed")
    do
      local scoped <close> = core.xsd_load(WSDL)
      assert.is_true((scoped:validate("<VersionInfoRequestMsg xmlns='http://exacttarget.com/wsdl/partnerAPI'>"
        .. "<IncludeVersionHistory>false</IncludeVersionHistory></VersionInfoRequestMsg>")))
    end
  end)
end)
