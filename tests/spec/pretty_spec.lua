-- performlua.pretty: exact renderings.
local pretty = require("performlua.pretty").pretty

describe("pretty", function()
  describe("scalars", function()
    it("renders nil, booleans and integers as Lua", function()
      assert.are.equal("nil", pretty(nil))
      assert.are.equal("true", pretty(true))
      assert.are.equal("false", pretty(false))
      assert.are.equal("42", pretty(42))
      assert.are.equal("-7", pretty(-7))
      assert.are.equal("-9223372036854775808", pretty(math.mininteger))
    end)

    it("renders floats so they read back as the same float", function()
      assert.are.equal("1.0", pretty(1.0))
      assert.are.equal("0.1", pretty(0.1))
      assert.are.equal("1.5", pretty(1.5))
      assert.are.equal("0.30000000000000004", pretty(0.1 + 0.2))
      assert.are.equal("1e+300", pretty(1e300))
      assert.are.equal("math.huge", pretty(math.huge))
      assert.are.equal("-math.huge", pretty(-math.huge))
      assert.are.equal("0/0", pretty(0 / 0))
    end)

    it("quotes strings with escapes", function()
      assert.are.equal('"plain"', pretty("plain"))
      assert.are.equal('"say \\"hi\\"\\n\\tback\\\\slash"', pretty('say "hi"\n\tback\\slash'))
      assert.are.equal('"nul\\000 bell\\a esc\\027 del\\127"', pretty("nul\0 bell\a esc\27 del\127"))
      assert.are.equal('"\\0001"', pretty("\0" .. "1")) -- three digits, so a digit after is safe
    end)

    it("keeps UTF-8 text readable and escapes bytes that are not UTF-8", function()
      assert.are.equal('"café ✓"', pretty("café ✓"))
      assert.are.equal('"caf\\xE9"', pretty("caf\xE9"))
    end)

    it("shows functions and other non-literals in angle brackets", function()
      assert.matches("^<function: .+>$", pretty(print))
      assert.matches("^<thread: 0x%x+>$", pretty(coroutine.create(print)))
      assert.matches("^file %(0x%x+%)$", pretty(io.stdout)) -- through its __tostring
    end)
  end)

  describe("tables", function()
    it("puts the array part first, then sorted string keys, then other keys", function()
      local t = { "a", "b", zeta = 1, alpha = 2, Beta = 3, [10] = "ten", [2.5] = "x",
                  [true] = "yes", [false] = "no", [-1] = "neg" }
      assert.are.equal('{"a", "b", Beta = 3, alpha = 2, zeta = 1, [-1] = "neg", [2.5] = "x", '
        .. '[10] = "ten", [false] = "no", [true] = "yes"}', pretty(t))
    end)

    it("stops the array part at the first hole", function()
      assert.are.equal('{1, 2, [4] = 4}', pretty({ 1, 2, nil, 4 }))
    end)

    it("writes identifier keys bare and others in brackets", function()
      assert.are.equal('{["1x"] = 2, ["Content-Type"] = "text/xml", _ok = 3, ["end"] = 1, x1 = 4}',
        pretty({ ["Content-Type"] = "text/xml", ["end"] = 1, ["1x"] = 2, _ok = 3, x1 = 4 }))
    end)

    it("renders empty and nested tables", function()
      assert.are.equal("{}", pretty({}))
      assert.are.equal('{a = {b = {c = {}}}}', pretty({ a = { b = { c = {} } } }))
    end)

    it("never shows a table as an address", function()
      local text = pretty({ {}, { {} }, x = { y = {} } })
      assert.is_nil(text:find("table: 0x", 1, true))
    end)

    it("marks cycles instead of looping", function()
      local t = { name = "root" }
      t.self = t
      t.child = { parent = t }
      assert.are.equal('{child = {parent = <cycle>}, name = "root", self = <cycle>}', pretty(t))
    end)

    it("repeats a table shared without a cycle", function()
      local shared = { 1 }
      assert.are.equal('{a = {1}, b = {1}}', pretty({ a = shared, b = shared }))
    end)

    it("limits depth", function()
      local deep = { a = { b = { c = { d = 1 } } } }
      assert.are.equal('{a = {b = {...}}}', pretty(deep, { max_depth = 2 }))
      assert.are.equal('{...}', pretty(deep, { max_depth = 0 }))
    end)

    it("limits items and says how many were left out", function()
      local list = {}
      for i = 1, 10 do list[i] = i end
      assert.are.equal('{1, 2, 3, ... 7 more}', pretty(list, { max_items = 3 }))
    end)

    it("limits string length", function()
      assert.are.equal('"abcd"...(6 more bytes)', pretty("abcdefghij", { max_string = 4 }))
      assert.are.equal('"abcdefghij"', pretty("abcdefghij", { max_string = 10 }))
    end)

    it("hides values of keys that name secrets unless asked", function()
      local t = { client_id = "id", client_secret = "s3cr3t", password = "pw", access_token = "t",
                  auth = { Password = "x" }, token_url = "https://x" }
      assert.are.equal('{access_token = <redacted>, auth = {Password = <redacted>}, '
        .. 'client_id = "id", client_secret = <redacted>, password = <redacted>, '
        .. 'token_url = "https://x"}', pretty(t))
      assert.are.equal('{password = "pw"}', pretty({ password = "pw" }, { redact = false }))
    end)
  end)

  describe("multi-line layout", function()
    it("keeps tables that fit on one line", function()
      assert.are.equal('{a = 1, b = {2, 3}}', pretty({ a = 1, b = { 2, 3 } }, { multiline = true }))
    end)

    it("breaks tables that do not fit, nesting indentation", function()
      local t = { name = ("n"):rep(30), inner = { list = { 1, 2, 3 }, text = ("t"):rep(30) } }
      assert.are.equal(table.concat({
        '{',
        '  inner = {',
        '    list = {1, 2, 3},',
        '    text = "' .. ("t"):rep(30) .. '",',
        '  },',
        '  name = "' .. ("n"):rep(30) .. '",',
        '}',
      }, "\n"), pretty(t, { multiline = true, width = 40 }))
    end)

    it("packs long arrays of short values several to a line", function()
      local list = {}
      for i = 1, 30 do list[i] = i * 100 end
      assert.are.equal(table.concat({
        '{',
        '  100, 200, 300, 400, 500, 600, 700, 800,',
        '  900, 1000, 1100, 1200, 1300, 1400, 1500,',
        '  1600, 1700, 1800, 1900, 2000, 2100, 2200,',
        '  2300, 2400, 2500, 2600, 2700, 2800, 2900,',
        '  3000,',
        '}',
      }, "\n"), pretty(list, { multiline = true, width = 44 }))
    end)

    it("uses the given indentation", function()
      assert.are.equal('{\n\tlong_key_name = "value",\n}',
        pretty({ long_key_name = "value" }, { multiline = true, width = 20, indent = "\t" }))
    end)
  end)

  describe("values with their own rendering", function()
    it("shows performlua error tables through their __tostring", function()
      local core = require "performlua.core"
      local err = core.error_new{ kind = "fault", message = "Throttled", code = 17 }
      assert.are.equal("fault error: Throttled [code 17]", pretty(err))
      assert.are.equal("{false, fault error: Throttled [code 17]}", pretty({ false, err }))
    end)

    it("uses any table's __tostring, and the structure when it fails", function()
      local named = setmetatable({}, { __tostring = function() return "Named thing" end })
      assert.are.equal("{item = Named thing}", pretty({ item = named }))
      local broken = setmetatable({ x = 1 }, { __tostring = function() error("no") end })
      assert.are.equal("{x = 1}", pretty(broken))
    end)

    it("does not recurse when a __tostring calls pretty on its own value", function()
      local obj = setmetatable({ field = 1 }, {})
      getmetatable(obj).__tostring = function(self) return "Obj" .. pretty(self) end
      assert.are.equal("Obj{field = 1}", tostring(obj))
      assert.are.equal("{Obj{field = 1}}", pretty({ obj }))
    end)

    it("names typed objects by their type", function()
      local mc = require "performlua"
      local ok, esd = pcall(function()
        return mc.EmailSendDefinition{ CustomerKey = "x", Name = "Weekly" }
      end)
      if not ok then pending("object constructors unavailable: " .. tostring(esd)) return end
      assert.are.equal('EmailSendDefinition{CustomerKey = "x", Name = "Weekly"}', pretty(esd))
      assert.are.equal('{EmailSendDefinition{CustomerKey = "x", Name = "Weekly"}}', pretty({ esd }))
      assert.are.equal(table.concat({
        'EmailSendDefinition{',
        '  CustomerKey = "x",',
        '  Name = "Weekly",',
        '}',
      }, "\n"), pretty(esd, { multiline = true, width = 30 }))
    end)
  end)

  describe("options", function()
    it("rejects options that are not a table", function()
      assert.has_error(function() pretty(1, "multiline") end,
        "pretty: options must be a table, got string")
    end)

    it("rejects negative or non-integer limits", function()
      assert.has_error(function() pretty({}, { max_depth = -1 }) end,
        "pretty: option 'max_depth' must be a non-negative integer, got -1")
      assert.has_error(function() pretty({}, { width = "wide" }) end,
        "pretty: option 'width' must be a non-negative integer, got wide")
    end)
  end)
end)

describe("performlua.repl.format_results", function()
  local repl = require "performlua.repl"

  it("joins single-line results with commas", function()
    assert.are.equal('1, "two", {3}, nil', repl.format_results(1, "two", { 3 }, nil))
  end)

  it("puts multi-line results on their own lines", function()
    local long = { text = ("x"):rep(100) }
    assert.are.equal('1\n{\n  text = "' .. ("x"):rep(100) .. '",\n}', repl.format_results(1, long))
  end)

  it("cuts big tables short", function()
    local list = {}
    for i = 1, 150 do list[i] = i end
    assert.matches("\n  %.%.%. 50 more\n}$", repl.format_results(list))
  end)

  it("completes global names, fields, methods and mc's constructors", function()
    assert.are.same({ "string.format" }, repl.complete("string.for"))
    assert.are.same({ "io.stdout:write" }, repl.complete("io.stdout:wr"))
    assert.are.same({ "repeat", "require", "return" }, repl.complete("re"))
    _G.mc = require "performlua"
    local ok, names = pcall(repl.complete, "mc.EmailSendDef")
    _G.mc = nil
    assert.is_true(ok)
    assert.are.same({ "mc.EmailSendDefinition" }, names)
    assert.are.same({}, repl.complete("no_such_global.x"))
    assert.are.same({}, repl.complete("1 +"))
  end)

  it("offers every public name of mc, as init.lua lists them, before their first use", function()
    local mc = require "performlua"
    _G.mc = mc
    local ok, names = pcall(repl.complete, "mc.")
    _G.mc = nil
    assert.is_true(ok, tostring(names))
    local offered = {}
    for _, n in ipairs(names) do offered[n] = true end
    local public = getmetatable(mc)
    local count = 0
    for _, list in ipairs({public.owners, public.modules}) do
      for name in pairs(list) do
        assert.is_true(offered["mc." .. name], name)
        assert.is_not_nil(mc[name], name) -- and each of them is there
        count = count + 1
      end
    end
    assert.is_true(count >= 11, "public names: " .. count)
    assert.is_true(offered["mc.VERSION"] and offered["mc.Subscriber"])
  end)
end)
