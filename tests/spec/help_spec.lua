-- mc.help and c:help: what a type, an enumeration, a function or a method is, from the schema,
-- the Perform page and the one table of public functions (performlua.api), which the README,
-- init.lua and the client must agree with.
local core = require "performlua.core"
local mc = require "performlua"
local api = require "performlua.api"
local help = require "performlua.help"
local client = require "performlua.client"
local sandbox = require "performlua.sandbox"
local uh = require "usage_helper"

-- the texts wrap at the terminal's width: 80 columns here, whatever runs the spec
core.setenv("COLUMNS", "80")

local SOURCE = os.getenv("PERFORMLUA_SOURCE_DIR") or "."

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

describe("mc.help", function()
  it("shows a type's fields in schema order: type, required, list, enumeration values", function()
    assert.are.equal([[
SimpleFilterPart: 4 fields, derives from FilterPart
  field           type             required  list  values
  Property        string           yes
  SimpleOperator  SimpleOperators  yes
      equals, notEquals, greaterThan, lessThan, isNull, isNotNull,
      greaterThanOrEqual, lessThanOrEqual, between, IN, like, existsInString,
      existsInStringAsAWord, notExistsInString, beginsWith, endsWith, contains,
      notContains, isAnniversary, isNotAnniversary, greaterThanAnniversary,
      lessThanAnniversary
  Value           string                     yes
  DateValue       dateTime                   yes
Build one with mc.SimpleFilterPart{...}; fields left out are not sent.]], help.text("SimpleFilterPart"))
  end)

  it("adds an API object's Perform actions, the reserved ones marked", function()
    local text = help.text("EmailSendDefinition")
    assert.are.equal("EmailSendDefinition: 57 fields, derives from SendDefinition > "
      .. "InteractionDefinition > InteractionBaseObject > APIObject", text:match("^[^\n]*"))
    assert.truthy(text:find("\n  MessageDeliveryType     MessageDeliveryTypeEnum\n"
      .. "      Standard, DelayedDeliveryByMTAQueue, DelayedDeliveryByOMMQueue\n", 1, true), text)
    assert.truthy(text:find("\nPerform actions: start, test, GetMaxCount\n  reserved for future use "
      .. "(refused unless allow_reserved = true): stop, pause, restart\n", 1, true), text)
    -- fields in schema order: the base type's first
    local first, last = text:find("\n  Client ", 1, true), text:find("\n  ReplyToDisplayName ", 1, true)
    assert.is_true(first < last)
    assert.truthy(help.text("Send"):find("\n  each definition needs its ID", 1, true))
    assert.truthy(help.text("QueryDefinition"):find("Perform actions: start\n  (not on the "
      .. "Perform page: performable all the same; the service decides)", 1, true))
    assert.truthy(help.text("Subscriber"):find("\nPerform: no actions known for Subscriber", 1, true))
    -- required and list columns
    local app = help.text("PlatformApplication")
    assert.truthy(app:find("\n  Package                PlatformApplicationPackage  yes\n", 1, true), app)
    assert.truthy(app:find("\n  Packages               PlatformApplicationPackage  yes       yes\n", 1, true), app)
  end)

  it("finds the type from its name, its constructor, an object of it, any case", function()
    local text = help.text("SimpleFilterPart")
    assert.are.equal(text, help.text(mc.SimpleFilterPart))
    assert.are.equal(text, help.text(mc.SimpleFilterPart{Property = "x"}))
    assert.are.equal(text, help.text("mc.SimpleFilterPart"))
    assert.are.equal(text, help.text("?SimpleFilterPart"))
    assert.are.equal(text, help.text("simplefilterpart"))
  end)

  it("shows an enumeration's values", function()
    assert.are.equal("RecurrenceTypeEnum: an enumeration of 7 values\n"
      .. "  Secondly, Minutely, Hourly, Daily, Weekly, Monthly, Yearly", help.text("RecurrenceTypeEnum"))
  end)

  it("shows a function's or a method's signature and purpose, by name or by value", function()
    assert.are.equal("mc.json_encode(value) -> text\n  JSON for programs (keys sorted; "
      .. "mc.json_null is null)", help.text("mc.json_encode"))
    assert.are.equal(help.text("mc.json_encode"), help.text(mc.json_encode))
    assert.are.equal(help.text("mc.json_encode"), help.text("json_encode"))
    assert.are.equal("c:wait(result[, {timeout =, interval =, report_every =}]) -> status\n  "
      .. "follows the work a Perform started (a send, an import, an activity) to its end",
      help.text("c:wait"))
    assert.are.equal(help.text("c:wait"), help.text(client.Client.wait))
    assert.are.equal(help.text("c:wait"), help.text("wait"))
  end)

  it("without a topic lists every function and method", function()
    local text = help.text()
    for _, f in ipairs(api.functions) do
      assert.truthy(text:find("\n  " .. f.signature .. "\n", 1, true), f.name)
    end
    for _, m in ipairs(api.methods) do
      assert.truthy(text:find("\n  " .. m.signature .. "\n", 1, true), m.name)
    end
    assert.are.equal(text, help.text(mc))
  end)

  it("names the nearest topics for something it does not know, at the caller's line", function()
    assert.are.equal("mc.help: no type, enumeration, function or method is named 'Sned' "
      .. "(did you mean 'Send'?); mc.help() says what there is", uh.raised(pcall(mc.help, "Sned")))
    assert.are.equal("mc.help: no type, enumeration, function or method is named 'c:retreive' "
      .. "(did you mean 'c:retrieve'?); mc.help() says what there is",
      uh.raised(pcall(mc.help, "c:retreive")))
    assert.are.equal("mc.help: this function is not one of performlua's (mc.help() lists them)",
      uh.raised(pcall(mc.help, print)))
    assert.are.equal("mc.help(x): x is a plain table; give a type name such as "
      .. "\"EmailSendDefinition\", a constructor, an object, a function or a method name",
      uh.raised(pcall(mc.help, {})))
  end)

  it("prints the text on stdout and returns nothing", function()
    local written = {}
    local real = io.stdout
    io.stdout = {write = function(_, ...) for _, s in ipairs({...}) do written[#written + 1] = s end end,
                 flush = function() end}
    local ok, n = pcall(function(...) return select("#", ...) end, mc.help("RecurrenceTypeEnum"))
    io.stdout = real
    assert.is_true(ok)
    assert.are.equal(0, n)
    assert.are.equal(help.text("RecurrenceTypeEnum") .. "\n", table.concat(written))
  end)
end)

describe("the REPL's view of performlua's functions", function()
  it("shows a constructor as what it builds, with its real field count", function()
    assert.are.equal('mc.EmailSendDefinition{...}: 57 fields, see mc.help("EmailSendDefinition")',
      mc.pretty(mc.EmailSendDefinition))
    assert.are.equal(#core.schema_type("EmailSendDefinition").fields, 57)
    assert.are.equal('{mc.connect{settings} -> client: see mc.help("mc.connect")}', mc.pretty({mc.connect}))
    assert.matches("^<function: ", mc.pretty(print))
  end)
end)

describe("c:help", function()
  local sb
  setup(function() sb = sandbox.start{port = 0} end)
  teardown(function() sb:stop() end)

  it("adds the account's Describe: which fields it retrieves and updates", function()
    local c = mc.connect(sb:account())
    local text = help.text("Subscriber", c)
    assert.truthy(text:find("\n  field                        type                       required  "
      .. "list  retrieve  update  values\n", 1, true), text)
    assert.truthy(text:find("\n  Client                       ClientID                                   "
      .. "no        yes\n", 1, true), text)
    assert.truthy(text:find("\n  EmailAddress                 string                                     "
      .. "yes       yes\n", 1, true), text)
    assert.truthy(text:find("\nretrieve, update: what this account's Describe says", 1, true))
    -- one Describe per type and client, shared with c:default_properties
    local before = sb:stats().soap_requests
    help.text("Subscriber", c)
    c:default_properties("Subscriber")
    assert.are.equal(before, sb:stats().soap_requests)
  end)

  it("says so when Describe cannot be had, and still shows the schema", function()
    local c = mc.connect{client_id = "id", client_secret = "secret", auth_url = "http://127.0.0.1:9/",
      retries = 0, token_cache = false}
    local text = help.text("Subscriber", c)
    assert.truthy(text:find("\n%(Describe failed: token request to http://127.0.0.1:9/v2/token "
      .. "could not be sent: "), text)
    assert.truthy(text:find("\n  EmailAddress  ", 1, true))
  end)
end)

describe("performlua.api, the one list of public functions and methods", function()
  it("names every function init.lua offers, and only those", function()
    local owners = getmetatable(mc).owners
    local listed = {}
    for _, f in ipairs(api.functions) do
      local top = f.name:match("^([%w_]+)")
      listed[top] = true
      if not f.name:find(".", 1, true) then
        assert.are.equal(owners[f.name], f.owner, f.name)
        assert.are.equal("function", type(mc[f.name]), f.name)
      else
        assert.are.equal("function", type(mc[top][f.name:match("%.(.+)$")]), f.name)
      end
    end
    for name, _ in pairs(owners) do
      if name ~= "json_null" then assert.is_true(listed[name] == true, name .. " is not in performlua.api") end
    end
  end)

  it("names every public method of a client, and only those", function()
    local methods = {}
    for name, v in pairs(client.Client) do
      if type(v) == "function" and not name:match("^_") then methods[#methods + 1] = name end
    end
    table.sort(methods)
    assert.are.same(methods, api.method_names())
  end)

  it("is what the README's function table and command table describe", function()
    local readme = read(SOURCE .. "/README.md")
    for _, f in ipairs(api.functions) do
      assert.truthy(readme:find("mc." .. f.name, 1, true), "README lacks mc." .. f.name)
    end
    for _, m in ipairs(api.methods) do
      assert.truthy(readme:find("`" .. m.name .. "`", 1, true) or readme:find("c:" .. m.name, 1, true),
        "README lacks " .. m.name)
    end
  end)
end)
