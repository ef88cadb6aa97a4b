-- core.decode(xml, {rows = true}): c:each over "DataExtensionObject[Key]" gets each Result as
-- its {Column = value} row straight from the decoder; the rows must be exactly what
-- retrieve.lua's row_of makes of the objects the plain decode gives, whatever the shape.
local core = require "performlua.core"
local retrieve = require "performlua.retrieve"

local PRE = '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
  .. 'envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body>'
  .. '<RetrieveResponseMsg xmlns="http://exacttarget.com/wsdl/partnerAPI">'
  .. '<OverallStatus>MoreDataAvailable</OverallStatus><RequestID>r-1</RequestID>'
local POST = '</RetrieveResponseMsg></soap:Body></soap:Envelope>'

local function P(name, value)
  return "<Property>" .. (name and ("<Name>" .. name .. "</Name>") or "")
    .. (value and ("<Value>" .. value .. "</Value>") or "") .. "</Property>"
end
local function R(inner, t)
  return '<Results xsi:type="' .. (t or "DataExtensionObject") .. '">' .. inner .. '</Results>'
end
local function page(...) return PRE .. table.concat({...}) .. POST end

-- Each Result as c:each hands it out: a row from the decoder, or an object row_of converts.
local function rows(xml, opts)
  local body = core.decode(xml, opts)
  local out = {}
  for i, obj in ipairs(body.Results or {}) do
    if getmetatable(obj) ~= nil then obj = retrieve.row_of(obj) end
    out[i] = obj
  end
  return out, body
end

-- Shapes the service sends and shapes it never does (the decoder must agree with row_of on all).
local CASES = {
  plain = R("<Properties>" .. P("a", "1") .. P("b", "") .. P("c", nil) .. P(nil, "x")
    .. "</Properties>"),
  duplicate_name = R("<Properties>" .. P("a", "1") .. P("a", "2") .. "</Properties>"),
  two_properties = R("<Properties>" .. P("a", "1") .. "</Properties><Properties>" .. P("b", "2")
    .. "</Properties>"),
  nil_properties = R('<Properties xsi:nil="true"/><Properties>' .. P("b", "2") .. "</Properties>"),
  nil_value = R('<Properties><Property><Name>a</Name><Value xsi:nil="true"/></Property>'
    .. "</Properties>"),
  nil_name = R('<Properties><Property><Name xsi:nil="true"/><Value>v</Value></Property>'
    .. "</Properties>"),
  two_names_values = R("<Properties><Property><Name>a</Name><Name>b</Name><Value>v</Value>"
    .. "<Value>w</Value></Property></Properties>"),
  element_in_value = R("<Properties><Property><Name>a</Name><Value>x<i>y</i></Value></Property>"
    .. "</Properties>"),
  item_of_another_name = R("<Properties><Prop><Name>a</Name><Value>v</Value></Prop></Properties>"),
  typed_property = R('<Properties><Property xsi:type="APIProperty"><Name>a</Name><Value>v</Value>'
    .. "</Property></Properties>"),
  property_of_another_type = R('<Properties><Property xsi:type="Subscriber"><Name>a</Name>'
    .. "<Value>v</Value></Property></Properties>"),
  property_of_unknown_type = R('<Properties><Property xsi:type="Nope"><Name>a</Name>'
    .. "<Value>v</Value></Property></Properties>"),
  wrapper_named_after_type = R("<DataExtensionObject><Properties>" .. P("a", "1")
    .. "</Properties></DataExtensionObject>"),
  wrapper_in_property = R("<Properties><Property><APIProperty><Name>a</Name><Value>v</Value>"
    .. "</APIProperty></Property></Properties>"),
  other_children = R("<CustomerKey>k</CustomerKey><Foo><Bar>1</Bar></Foo><Properties>"
    .. P("a", "1") .. "<Property><Name>b</Name><Junk>q</Junk><Value>2</Value></Property>"
    .. "</Properties><Keys><Key><Name>k</Name><Value>v</Value></Key></Keys>"),
  no_properties = R("<CustomerKey>k</CustomerKey>") .. R(""),
  nil_result = '<Results xsi:nil="true"/>' .. R("<Properties>" .. P("a", "1") .. "</Properties>"),
  other_types = R("<EmailAddress>e</EmailAddress>", "Subscriber")
    .. R("<Properties>" .. P("a", "1") .. "</Properties>", "Mystery")
    .. "<Results><Properties>" .. P("b", "2") .. "</Properties></Results>"
    .. R("<Properties>" .. P("c", "3") .. "</Properties>"),
  text = R("\n <Properties>\n " .. P(" a ", " 1 ") .. P("a&amp;b", "&lt;x&gt;")
    .. P("c", "<![CDATA[<x>]]>") .. "</Properties>"),
}

describe("core.decode rows mode", function()
  it("gives each data extension object as a plain {Name = Value} row", function()
    local got, body = rows(page(CASES.plain, CASES.duplicate_name), {rows = true})
    assert.are.same({{a = "1", b = "", c = ""}, {a = "2"}}, got)
    assert.is_nil(getmetatable(body.Results[1])) -- made by the decoder, not converted
    assert.is_nil(getmetatable(body.Results[2]))
    assert.are.equal("MoreDataAvailable", body.OverallStatus)
    assert.are.equal("r-1", body.RequestID)
  end)

  it("agrees with row_of on every shape, odd ones included", function()
    for name, results in pairs(CASES) do
      local xml = page(results)
      local want = rows(xml)
      local got = rows(xml, {rows = true})
      assert.are.same(want, got, name)
    end
  end)

  it("decodes an answer with an odd shape as objects again, whole", function()
    local body = core.decode(page(CASES.plain, CASES.two_properties), {rows = true})
    assert.is_not_nil(getmetatable(body.Results[1]))
    assert.are.same({{a = "1", b = "", c = ""}, {b = "2"}},
      {retrieve.row_of(body.Results[1]), retrieve.row_of(body.Results[2])})
  end)

  it("leaves other answers, faults and errors as the plain decode has them", function()
    local fault = '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/'
      .. 'soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode>'
      .. '<faultstring>nope</faultstring></soap:Fault></soap:Body></soap:Envelope>'
    local ok1, e1 = pcall(core.decode, fault)
    local ok2, e2 = pcall(core.decode, fault, {rows = true})
    assert.is_false(ok1)
    assert.is_false(ok2)
    assert.are.equal(e1.message, e2.message)
    local cut = page(CASES.plain):sub(1, 300)
    ok1, e1 = pcall(core.decode, cut)
    ok2, e2 = pcall(core.decode, cut, {rows = true})
    assert.is_false(ok1)
    assert.is_false(ok2)
    assert.are.equal(e1.message, e2.message)
    local sub = page(R("<EmailAddress>e</EmailAddress>", "Subscriber"))
    local body = core.decode(sub, {rows = true})
    assert.are.equal("e", body.Results[1].EmailAddress)
  end)

  it("reads rows across the decoder's 64 KB chunks", function()
    local props = {}
    for i = 1, 3000 do props[i] = R("<Properties>" .. P("k", tostring(i)) .. P("v", ("x"):rep(30))
      .. "</Properties>") end
    local xml = page(table.concat(props))
    assert.is_true(#xml > 3 * 65536)
    local want = rows(xml)
    local got, body = rows(xml, {rows = true})
    assert.are.same(want, got)
    assert.are.equal(3000, #got)
    assert.is_nil(getmetatable(body.Results[3000]))
  end)
end)
