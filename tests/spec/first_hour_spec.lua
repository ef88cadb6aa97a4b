-- Mistakes a new user makes in the first hour, written from the README and the issue texts:
-- each must get a message saying what was wrong and what to write instead.
local core = require "performlua.core"
local mc = require "performlua"

local function usage_message(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.is_true(core.is_error(err), tostring(err))
  assert.equal("usage", err.kind)
  return err.message
end

describe("lists written with the XML's item wrapper", function()
  it("names the list and shows the form without the wrapper (Fields = {Field = ...})", function()
    local msg = usage_message(function()
      return mc.DataExtension{CustomerKey = "de", Fields = {Field = {
        {Name = "Email", FieldType = "EmailAddress"}}}}
    end)
    assert.matches("DataExtension.Fields is a list written without its 'Field' wrapper: "
      .. "Fields = {{...}, {...}} (each item a DataExtensionField)", msg, 1, true)
  end)

  it("does so for DataExtensionObject rows too (Properties = {Property = ...})", function()
    local msg = usage_message(function()
      return mc.DataExtensionObject{CustomerKey = "de",
        Properties = {Property = {{Name = "Email", Value = "a@example.com"}}}}
    end)
    assert.matches("DataExtensionObject.Properties is a list written without its 'Property' "
      .. "wrapper: Properties = {{...}, {...}} (each item an APIProperty)", msg, 1, true)
  end)

  it("still takes the list itself, and one item alone", function()
    local de = mc.DataExtension{CustomerKey = "de", Fields = {{Name = "Email"}, {Name = "City"}}}
    assert.equal("City", de.Fields[2].Name)
    de = mc.DataExtension{CustomerKey = "de", Fields = {Name = "Email"}}
    assert.equal("Email", de.Fields[1].Name)
  end)
end)

describe("the README's function table", function()
  it("mc.sandbox.start{} gives an account that mc.connect can use", function()
    assert.is_table(mc.sandbox)
    local sb = mc.sandbox.start{}
    local ok, err = pcall(function()
      local account = sb:account()
      account.token_cache = false
      local c = mc.connect(account)
      assert.is_true(c:version_info().ok)
    end)
    sb:stop()
    assert(ok, tostring(err))
  end)
end)

describe("a filter missing its operator", function()
  it("is answered by the sandbox naming the missing SimpleOperator, not operator 'nil'", function()
    local sb = mc.sandbox.start{}
    local ok, err = pcall(function()
      local account = sb:account()
      account.token_cache = false
      local r = mc.connect(account):retrieve("Subscriber", {"EmailAddress"},
        mc.SimpleFilterPart{Property = "EmailAddress", Value = "a@example.com"})
      assert.is_false(r.ok)
      assert.equal("Error: A SimpleFilterPart needs a SimpleOperator (equals, like, IN, ...)",
        r.OverallStatus)
    end)
    sb:stop()
    assert(ok, tostring(err))
  end)
end)

describe("performlua sandbox --fault with a bad value", function()
  -- The first line performlua prints on stderr, and its exit status.
  local function sandbox_refuses(fault)
    local p = io.popen(string.format("%s sandbox --fault %s 2>&1 >/dev/null; echo \"exit=$?\"",
      assert(os.getenv("PERFORMLUA")), fault))
    local out = p:read("a")
    p:close()
    return out:match("^[^\n]*"), tonumber(out:match("exit=(%d+)%s*$"))
  end

  it("names the option once and says what the value should look like", function()
    local line, status = sandbox_refuses("throttle")
    assert.are.equal(2, status)
    assert.matches("^performlua sandbox: %-%-fault: 'throttle' is not KIND:N or KIND:OPERATION:N "
      .. "%(e%.g%. throttle:3, reset%-after:Perform:2; kinds: ", line)
    line, status = sandbox_refuses("bogus:3")
    assert.are.equal(2, status)
    assert.matches("^performlua sandbox: %-%-fault: unknown fault kind 'bogus' %(kinds: throttle, ",
      line)
  end)
end)
