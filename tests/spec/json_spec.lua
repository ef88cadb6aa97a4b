local core = require "performlua.core"

describe("core.json_decode", function()
  it("decodes a token response with typed values", function()
    local t = core.json_decode('{"access_token":"abc","expires_in":1080,"scope":"email_read","ok":true,"n":2.5}')
    assert.are.same({access_token = "abc", expires_in = 1080, scope = "email_read", ok = true, n = 2.5}, t)
    assert.is_true(math.type(t.expires_in) == "integer")
  end)

  it("keeps null as the core.json_null sentinel", function()
    local t = core.json_decode('[1,null,3]')
    assert.are.equal(core.json_null, t[2])
    assert.are.equal(3, t[3])
  end)

  it("returns nil and a message that locates bad input instead of raising", function()
    local v, msg = core.json_decode('{"a":')
    assert.is_nil(v)
    assert.are.equal("invalid JSON at line 1, column 5: unexpected token near end of file", msg)
    v, msg = core.json_decode('<html>Service Unavailable</html>')
    assert.is_nil(v)
    assert.matches("^invalid JSON at line 1, column 1: ", msg)
  end)
end)

describe("core.json_encode", function()
  it("writes arrays for 1..n tables and sorted objects otherwise", function()
    assert.are.equal('{"a":[1,2,"x"],"b":{"c":false},"d":null}',
      core.json_encode{a = {1, 2, "x"}, b = {c = false}, d = core.json_null})
    assert.are.equal("{}", core.json_encode{})
  end)

  it("round-trips through decode", function()
    local v = {grant_type = "client_credentials", client_id = "id", account_id = 123456, list = {"a", "b"}}
    assert.are.same(v, core.json_decode(core.json_encode(v)))
  end)

  it("raises a usage error naming what cannot be encoded", function()
    local ok, err = pcall(core.json_encode, {f = print})
    assert.is_false(ok)
    assert.are.equal("usage", err.kind)
    assert.are.equal("json_encode: cannot encode a function as JSON", err.message)
    ok, err = pcall(core.json_encode, {[true] = 1})
    assert.is_false(ok)
    assert.are.equal("json_encode: object keys must be strings (or the table must be an array 1..n)", err.message)
    local cyclic = {}; cyclic.self = cyclic
    ok, err = pcall(core.json_encode, cyclic)
    assert.is_false(ok)
    assert.are.equal("json_encode: value nested too deeply (or contains a cycle)", err.message)
  end)

  -- A fresh process has a small Lua stack: encoding deep values there once wrote past it and
  -- crashed (a busted run, deep in calls with a grown stack, hid it).
  it("encodes deep values and refuses cycles without overflowing the Lua stack", function()
    local bin = os.getenv("PERFORMLUA") or arg[-1]
    local code = [[
      local core = require "performlua.core"
      local deep, x = {}, nil
      x = deep
      for _ = 1, 63 do x.k = {}; x = x.k end
      local text = core.json_encode(deep)
      local cyclic = {}; cyclic.self = cyclic
      local ok, err = pcall(core.json_encode, cyclic)
      collectgarbage()
      io.write(#text, " ", tostring(ok), " ", err.message, "\n")
    ]]
    local p = assert(io.popen("'" .. bin .. "' -e '" .. code:gsub("'", "'\\''") .. "' 2>&1"))
    local out = p:read("a")
    local ok = p:close()
    assert.is_true(ok, out)
    assert.are.equal("380 false json_encode: value nested too deeply (or contains a cycle)\n", out)
  end)
end)
