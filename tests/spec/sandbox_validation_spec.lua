-- A validating sandbox (wsdl=) reads requests as the service's deserializer does: it takes what
-- the service takes (a Create without Options, as sfmc-sdk sends it), refuses with the service's
-- soap:Client fault what the service cannot read (a bad enumeration value, number, date or
-- boolean, an unknown xsi:type), and skips what the service would skip (an unknown element, a
-- second value of a single field), saying so in an X-Sandbox-Dropped header that the client's trace shows.
local core = require "performlua.core"
local sh = require "sandbox_helper"
local wsdl = require "wsdl_helper"
local loop = require "performlua.loop"
local trace = require "performlua.trace"
local mc = require "performlua"

local UNREADABLE = "Server was unable to read request. ---> There is an error in the XML document. ---> "

-- A Create of one List, written by hand; `fields` is the List's XML. No Options unless given.
local function create(fields, options)
  return '<CreateRequest xmlns="' .. sh.NS .. '" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' .. (options or "")
    .. '<Objects xsi:type="List">' .. fields .. "</Objects></CreateRequest>"
end

local n = 0
local function tmp()
  n = n + 1
  return string.format("%s/sbv-%d-%d-%s.headers", os.getenv("PERFORMLUA_BUILD_DIR") or "/tmp",
    core.getpid(), n, core.random_hex(4))
end

-- sh.soap with the response's headers (lower-case names) in r.headers.
local function soap(sb, action, inner)
  local file = tmp()
  local r = sh.http("POST", sb.soap_url, sh.envelope(inner, {token = sb.token}),
    {"Content-Type: text/xml; charset=utf-8", "SOAPAction: " .. action}, {"-D", "'" .. file .. "'"})
  r.headers = {}
  local f = io.open(file, "rb")
  if f then
    for line in f:lines() do
      local name, value = line:match("^([%w%-]+):%s*(.-)%s*$")
      if name then r.headers[name:lower()] = value end
    end
    f:close()
  end
  os.remove(file)
  return r
end

local function fault_of(r)
  local body, err = sh.decode(r.body)
  assert.is_nil(body, r.body)
  return err
end

local function list_named(sb, name)
  for _, l in ipairs(sb:objects("List")) do
    if l.ListName == name then return l end
  end
end

describe("a validating sandbox reads requests as the service does", function()
  local sb = sh.shared()
  sb:serve(setup, teardown, {wsdl = wsdl.path()})

  wsdl.it("accepts a Create without Options, which the XSD requires and the service does not", function()
    local inner = create("<ListName>No options</ListName><Type>Private</Type>")
    -- the XSD alone refuses it (Options is minOccurs 1 there) ...
    assert.is_false(wsdl.validator():validate(sh.envelope(inner, {token = sb.token})))
    -- ... the sandbox, as the service, takes it, and says nothing was dropped
    local r = soap(sb, "Create", inner)
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(r.headers["x-sandbox-dropped"])
    assert.are.equal("OK", sh.decode(r.body).Results[1].StatusCode)
    assert.are.equal("Private", list_named(sb, "No options").Type)
  end)

  wsdl.it("refuses a value outside an enumeration with the service's fault, creating nothing", function()
    local r = soap(sb, "Create", create("<ListName>Bad enum</ListName><Type>Publik</Type>", "<Options/>"))
    assert.are.equal(500, r.status)
    local err = fault_of(r)
    assert.are.equal("soap:Client", err.faultcode)
    assert.are.equal(UNREADABLE .. "Instance validation error: 'Publik' is not a valid value for "
      .. "ListTypeEnum. (sandbox: line 1, CreateRequest/Objects/Type)", err.message)
    assert.is_nil(list_named(sb, "Bad enum"))
  end)

  wsdl.it("refuses numbers, booleans and dates the service cannot read", function()
    local cases = {
      {"<ID>4x</ID><ListName>n</ListName>", "Input string was not in a correct format. ('4x' is not a whole number)"},
      {"<ID>99999999999</ID><ListName>n</ListName>", "Value was either too large or too small for an Int32. ('99999999999')"},
      {"<CreatedDate>2026-02-30T10:00:00</CreatedDate><ListName>n</ListName>",
        "The string '2026-02-30T10:00:00' is not a valid AllXsd value."},
      {"<ListName>n</ListName><SendClassification><SenderProfile><UseDefaultRMMRules>yes</UseDefaultRMMRules>"
        .. "</SenderProfile></SendClassification>", "The string 'yes' is not a valid Boolean value."},
    }
    for _, case in ipairs(cases) do
      local r = soap(sb, "Create", create(case[1], "<Options/>"))
      assert.are.equal(500, r.status, case[1])
      local err = fault_of(r)
      assert.are.equal("soap:Client", err.faultcode)
      assert.are.equal(UNREADABLE .. case[2], err.message:gsub(" %(sandbox: [^)]*%)$", ""))
    end
    -- what the service reads is fine: a date without its time, a boolean as 1, spaces around
    local r = soap(sb, "Create", create("<CreatedDate>2026-02-28</CreatedDate><ID> 0 </ID>"
      .. "<ListName>Readable</ListName><SendClassification><SenderProfile><UseDefaultRMMRules>1"
      .. "</UseDefaultRMMRules></SenderProfile></SendClassification>", "<Options/>"))
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(r.headers["x-sandbox-dropped"])
  end)

  wsdl.it("refuses an xsi:type the service does not know, or one that does not fit the field", function()
    for _, t in ipairs{"Lizt", "SimpleFilterPart"} do
      local inner = '<CreateRequest xmlns="' .. sh.NS .. '"><Options/><Objects xsi:type="' .. t
        .. '"><ListName>x</ListName></Objects></CreateRequest>'
      local r = soap(sb, "Create", inner)
      assert.are.equal(500, r.status)
      assert.are.equal(UNREADABLE .. "The specified type was not recognized: name='" .. t
        .. "', namespace='" .. sh.NS .. "', at <Objects xmlns='" .. sh.NS .. "'>. (sandbox: "
        .. "line 1, CreateRequest/Objects)", fault_of(r).message)
    end
  end)

  wsdl.it("takes a request with an unknown element without it, and names it in X-Sandbox-Dropped", function()
    local before = sb:stats().dropped_elements
    local r = soap(sb, "Create", create("<ListName>Dropped</ListName><Colour>red</Colour>"
      .. "<Description>kept</Description>", "<Options/>"))
    assert.are.equal(200, r.status, r.body)
    assert.are.equal("CreateRequest/Objects/Colour (unknown element)", r.headers["x-sandbox-dropped"])
    local l = list_named(sb, "Dropped")
    assert.are.equal("kept", l.Description)
    assert.is_nil(l.Colour)
    assert.are.equal(before + 1, sb:stats().dropped_elements)
  end)

  wsdl.it("reads elements out of the WSDL's order, as the service does, and skips a repeated one", function()
    -- CustomerKey (an APIObject field) after ListName (a List field): the XSD refuses the order,
    -- the service reads it (sfmc-sdk's Retrieve sends Options before Filter and ContinueRequest
    -- last, and pages through production so)
    local r = soap(sb, "Create", create("<ListName>Late key</ListName><CustomerKey>late-key</CustomerKey>",
      "<Options/>"))
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(r.headers["x-sandbox-dropped"])
    assert.are.equal("late-key", list_named(sb, "Late key").CustomerKey)
    -- a second value of a field that holds one is skipped: the first is read
    r = soap(sb, "Create", create("<ListName>First</ListName><ListName>Second</ListName>", "<Options/>"))
    assert.are.equal(200, r.status, r.body)
    assert.are.equal("CreateRequest/Objects/ListName[2] (repeated: the first one is read)",
      r.headers["x-sandbox-dropped"])
    assert.truthy(list_named(sb, "First"))
    assert.is_nil(list_named(sb, "Second"))
  end)

  wsdl.it("shows X-Sandbox-Dropped in the client's trace", function()
    -- performlua itself never sends an element the service skips: a stand-in for a client that
    -- does adds one to the envelope on its way out
    local original = loop.http
    local lines = {}
    local old_sink = trace.set_sink(function(s) lines[#lines + 1] = s end)
    loop.http = function(req)
      if req.body then req.body = req.body:gsub("<ListName>", "<Colour>red</Colour><ListName>", 1) end
      return original(req)
    end
    local ok, err = pcall(function()
      local c = mc.connect{auth_url = sb.auth_url, client_id = sb.client_id,
        client_secret = sb.client_secret, token_cache = false, trace = true}
      c:create(mc.List{ListName = "Traced"}):check()
    end)
    loop.http = original
    trace.set_sink(old_sink)
    assert.is_true(ok, tostring(err))
    assert.matches("Create response HTTP 200 after [%d.]+ s; X%-Sandbox%-Dropped: "
      .. "CreateRequest/Objects/Colour %(unknown element%)\n", table.concat(lines))
  end)
end)

describe("a sandbox without wsdl=", function()
  local sb = sh.shared()
  sb:serve(setup, teardown)

  it("reads requests as before: no X-Sandbox-Dropped", function()
    local r = soap(sb, "Create", create("<ListName>Plain</ListName><Colour>red</Colour>"))
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(r.headers["x-sandbox-dropped"])
  end)
end)

describe("core.read_like_service", function()
  it("reads a message element without an Envelope, Header after Body, and says what it skips", function()
    local ok, dropped, kept = core.read_like_service(create("<ListName>x</ListName><A/><B/>"))
    assert.is_true(ok)
    assert.are.same({"CreateRequest/Objects/A (unknown element)", "CreateRequest/Objects/B (unknown element)"},
      dropped)
    assert.falsy(kept:find("<A/>", 1, true))
    local env = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
      .. '<RetrieveRequestMsg xmlns="' .. sh.NS .. '"><RetrieveRequest><ObjectType>Send</ObjectType>'
      .. '<Options><BatchSize>x</BatchSize></Options></RetrieveRequest></RetrieveRequestMsg></s:Body>'
      .. "<s:Header/></s:Envelope>"
    local readable, message = core.read_like_service(env)
    assert.is_false(readable)
    assert.truthy(message:find("RetrieveRequestMsg/RetrieveRequest/Options/BatchSize", 1, true), message)
    -- a message in another namespace is none the service knows
    readable, message = core.read_like_service('<CreateRequest xmlns="urn:other"/>')
    assert.is_false(readable)
    assert.are.equal(UNREADABLE .. "<CreateRequest xmlns='urn:other'> was not expected. (sandbox: "
      .. "line 1, CreateRequest)", message)
  end)

  it("takes an abstract field's value only with an xsi:type", function()
    local inner = '<RetrieveRequestMsg xmlns="' .. sh.NS .. '"><RetrieveRequest><ObjectType>Send'
      .. "</ObjectType><Filter><Property>ID</Property></Filter></RetrieveRequest></RetrieveRequestMsg>"
    local ok, message = core.read_like_service(inner)
    if core.schema_type("FilterPart").abstract then
      assert.is_false(ok)
      assert.truthy(message:find("The specified type is abstract: name='FilterPart'", 1, true), message)
    else
      assert.is_true(ok) -- FilterPart is concrete in this WSDL: an empty filter, Property skipped
    end
  end)
end)

describe("the sandbox's --log line", function()
  local service = require "performlua.sandbox.service"

  wsdl.it("names the operation, object types, status, time and what was dropped", function()
    local lines = {}
    local handle = service.new{validator = wsdl.validator(), log = true,
      log_sink = function(line) lines[#lines + 1] = line end, faults = {"throttle:2"}}
    local function post(inner)
      return handle{method = "POST", path = "/Service.asmx", headers = {soapaction = "Create"},
        body = sh.envelope(inner, {username = "sandbox", password = "sandbox"})}
    end
    assert.are.equal(200, post(create("<ListName>Logged</ListName><Colour>red</Colour>")).status)
    assert.are.equal(500, post(create("<ListName>Throttled</ListName>")).status)
    assert.are.equal(500, post(create("<ListName>Bad</ListName><Type>Publik</Type>")).status)
    local stamp = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ  "
    assert.are.equal(3, #lines)
    assert.matches(stamp .. "Create  List  200  [%d.]+ ms  DROPPED %(the service would ignore them%): "
      .. "CreateRequest/Objects/Colour %(unknown element%)\n$", lines[1])
    assert.matches(stamp .. "Create  500  [%d.]+ ms  injected fault throttle  fault: Rate Limited\n$", lines[2])
    assert.matches(stamp .. "Create  500  [%d.]+ ms  fault: Server was unable to read request%. %-%-%-> "
      .. "There is an error in the XML document%. %-%-%-> Instance validation error: 'Publik' is not "
      .. "a valid value for ListTypeEnum%.", lines[3])
  end)
end)
