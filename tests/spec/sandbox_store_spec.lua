-- The sandbox's account on SQLite: data extension rows in tables with their primary key under a
-- unique index, filters as parameterized SQL that answer as the Lua filter does, keyset paging,
-- the account kept in a --state file across restarts, and seeds of CSV files (--seed DIR).
-- (The command line of the same: tests/cli/cli_sandbox_state.sh.)
local core = require "performlua.core"
local mc = require "performlua"
local ch = require "client_helper"
local account = require "performlua.sandbox.account"
local filter = require "performlua.sandbox.filter"
local filter_sql = require "performlua.sandbox.filter_sql"
local seed_csv = require "performlua.sandbox.seed_csv"

local TMP = (os.getenv("PERFORMLUA_BUILD_DIR") or "/tmp") .. "/test-home/sandbox-store-"
  .. core.getpid()
core.mkdir_p(TMP, 448)

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local MEMBERS = {CustomerKey = "Members", Name = "Members", Fields = {
  {Name = "SubscriberKey", FieldType = "Text", IsPrimaryKey = true, IsRequired = true},
  {Name = "Name", FieldType = "Text"}, {Name = "Points", FieldType = "Number"},
  {Name = "Joined", FieldType = "Date"}, {Name = "Note", FieldType = "Text"},
  {Name = "Score", FieldType = "Text"}, {Name = "Active", FieldType = "Boolean"},
  {Name = "Price", FieldType = "Decimal", Precision = 18, Scale = 2}}}

-- Points is a Number column, Score the same texts in a Text column (numbers in text compare as
-- numbers in filter.lua, so SQL must leave them alone there).
local ROWS = {
  {SubscriberKey = "a-1", Name = "Ada", Points = "10", Score = "10", Joined = "2024-01-05",
    Note = "likes 100% cotton", Active = "True", Price = "10.50"},
  {SubscriberKey = "b-2", Name = "bob", Points = 9, Score = "9", Joined = "2023-12-31", Note = "",
    Active = false, Price = "9.9"},
  {SubscriberKey = "c-3", Name = "Cy", Points = "100", Score = "100", Joined = "2024-03-01",
    Active = "1", Price = "100"},
  {SubscriberKey = "d-4", Name = "O'Brien", Points = " 10 ", Score = " 10 ", Joined = "1/5/2024",
    Note = "a_b", Active = "false", Price = "-0.5"},
  {SubscriberKey = "e-5", Name = "Robert'); DROP TABLE x;--", Points = "", Score = "x",
    Note = "word up", Active = true},
  {SubscriberKey = "f-6", Name = "ada", Points = 10.0, Score = "10.0",
    Joined = "2024-01-05T10:00:00", Price = "10.5"},
}

local function small_account()
  local a = account.new{}
  a:load_seed{DataExtension = {MEMBERS}, rows = {Members = ROWS}}
  return a
end

local function retrieve_keys(a, flt, batch)
  local r = a:retrieve({ObjectType = "DataExtensionObject[Members]", Properties = {"SubscriberKey"},
    Filter = flt, Options = batch and {BatchSize = batch} or nil}, {mid = a.mid, request_id = "r1"})
  local keys = {}
  for i, o in ipairs(r.Results or {}) do keys[i] = o.Properties[1].Value end
  return keys, r
end

-- The Lua filter's answer on the rows as the store holds them (typed).
local function lua_keys(flt)
  local keys = {}
  local stored = account.new{}
  stored:load_seed{DataExtension = {MEMBERS}, rows = {Members = ROWS}}
  for _, row in ipairs(stored:row_store("Members"):all()) do
    local ok = filter.matches(flt, function(p)
      for k, v in pairs(row) do if k:lower() == p:lower() then return v end end
    end)
    if ok then keys[#keys + 1] = row.SubscriberKey end
  end
  return keys
end

local function part(property, op, value)
  return {Property = property, SimpleOperator = op, Value = value}
end

describe("sandbox row store", function()
  it("keeps a data extension's rows in a table whose primary key has a unique NOCASE index", function()
    local a = small_account()
    local db = a.db
    local store = a:row_store("Members")
    -- the table is named by the data extension's unit and key (a key is unique per unit)
    assert.are.equal("de:" .. a.mid .. ":members", store.name)
    local index = db:first("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
      store.name)
    assert.truthy(index.sql:find('"SubscriberKey" COLLATE NOCASE', 1, true))
    assert.truthy(index.sql:find("UNIQUE", 1, true))
    -- finding a row by its key asks the index, not a scan of the table
    local where = store:key_where({SubscriberKey = "A-1"})
    local plan = {}
    for row in db:rows("EXPLAIN QUERY PLAN SELECT rowid FROM " .. store.qname .. " WHERE " .. where, "A-1") do
      plan[#plan + 1] = row.detail
    end
    assert.truthy(table.concat(plan, " "):find("USING COVERING INDEX " .. store.name .. ":pk", 1, true)
      or table.concat(plan, " "):find("USING INDEX " .. store.name .. ":pk", 1, true), table.concat(plan, " "))
    assert.truthy(store:find({SubscriberKey = "A-1"})) -- keys compare without case
    assert.is_nil(store:insert({SubscriberKey = "C-3", Name = "again"}))
    assert.are.equal(6, store:count())
    -- each column has its field's SQL type, recorded in rows_columns
    local decl = {}
    for row in db:rows("SELECT name, type FROM pragma_table_info(?)", store.name) do decl[row.name] = row.type end
    assert.are.same({SubscriberKey = "TEXT", Name = "TEXT", Points = "INTEGER", Joined = "INTEGER",
      Note = "TEXT", Score = "TEXT", Active = "INTEGER", Price = "TEXT"}, decl)
    assert.are.equal("Number", db:first("SELECT field_type FROM rows_columns WHERE tbl = ? AND col = ?",
      store.name, "Points").field_type)
  end)

  it("keeps the order of arrival through updates and deletes", function()
    local a = small_account()
    local store = a:row_store("Members")
    store:update(store:find({SubscriberKey = "a-1"}), {Name = "Ada L."})
    store:delete(store:find({SubscriberKey = "c-3"}))
    store:insert({SubscriberKey = "g-7"})
    local keys = {}
    for _, row in ipairs(store:all()) do keys[#keys + 1] = row.SubscriberKey end
    assert.are.same({"a-1", "b-2", "d-4", "e-5", "f-6", "g-7"}, keys)
    assert.are.equal("Ada L.", store:all()[1].Name)
  end)
end)

describe("sandbox filters as SQL", function()
  local cases = {
    part("Name", "equals", "Ada"), part("Name", "notEquals", "Ada"), part("Name", "greaterThan", "Cy"),
    part("Name", "lessThanOrEqual", "bob"), part("Name", "between", {"B", "b"}),
    part("Name", "IN", {"Ada", "ada", "Zed"}), part("Points", "equals", "10"),
    part("Points", "greaterThan", "9"), part("Joined", "lessThan", "2024-01-06"),
    {Property = "Joined", SimpleOperator = "equals", DateValue = {"2024-01-05"}},
    part("Points", "greaterThan", "9.5"), part("Points", "between", {" 9", "1e2"}),
    part("Points", "IN", {"9", "100", "x"}), part("Points", "notEquals", "10"),
    part("Points", "lessThan", "abc"), part("Points", "like", "1%"),
    part("Score", "equals", "10"), part("Score", "greaterThan", "9"), part("Score", "lessThan", "y"),
    part("Joined", "greaterThanOrEqual", "1/5/2024 10:00 AM"), part("Joined", "equals", "2024-01-05"),
    part("Joined", "between", {"2023-12-31T00:00:00Z", "2024-01-05T09:59:59.5"}),
    part("Joined", "lessThan", "soon"), part("Joined", "like", "2024%"),
    part("Active", "equals", "True"), part("Active", "equals", "0"), part("Active", "notEquals", "true"),
    part("Active", "IN", {"FALSE", "1"}), part("Active", "equals", "yes"),
    part("Price", "greaterThan", "10"), part("Price", "equals", "10.5"), part("Price", "like", "%.5%"),
    part("Note", "isNull"), part("Note", "isNotNull"), part("Note", "like", "%100[%]%"),
    part("Note", "like", "%100%"), part("Note", "like", "a_b"), part("Note", "contains", "_"),
    part("Note", "contains", "100%"), part("Name", "beginsWith", "AD"), part("Name", "endsWith", "N"),
    part("Note", "notContains", "o"), part("Note", "existsInStringAsAWord", "up"),
    part("Joined", "isAnniversary", "2020-01-05"), part("SubscriberKey", "equals", "A-1"),
    {LogicalOperator = "OR", LeftOperand = part("Name", "equals", "Cy"),
      RightOperand = part("Points", "greaterThan", "9")},
    {LogicalOperator = "AND", LeftOperand = part("Name", "like", "%a%"),
      RightOperand = part("Points", "lessThan", "50"),
      AdditionalOperands = {part("Note", "isNotNull")}},
    {LogicalOperator = "OR", LeftOperand = part("Active", "equals", "false"),
      RightOperand = part("Joined", "greaterThan", "2024-02-01")},
  }

  it("answers every filter as the Lua filter does", function()
    local a = small_account()
    for i, flt in ipairs(cases) do
      assert.are.same(lua_keys(flt), (retrieve_keys(a, flt)), "case " .. i)
    end
  end)

  it("counts and lists an audience's rows as the Lua filter does", function()
    local audience = require "performlua.sandbox.audience"
    local store = small_account():row_store("Members")
    for i, flt in ipairs(cases) do
      local want = lua_keys(flt)
      assert.are.equal(#want, audience.matching_rows(store, flt), "count, case " .. i)
      local got = {}
      audience.matching_rows(store, flt, function(row) got[#got + 1] = row.SubscriberKey end)
      assert.are.same(want, got, "rows, case " .. i)
    end
  end)

  it("reads a US date without a time as midnight (as the row d-4 holds)", function()
    local clock = require "performlua.sandbox.clock"
    assert.are.equal(clock.parse("2024-01-05"), clock.parse("1/5/2024"))
    assert.is_nil(clock.parse("1/5/2024 soon"))
  end)

  it("translates text comparisons exactly and leaves numbers and dates to the Lua filter", function()
    local by_lower = {name = "Name", points = "Points"}
    local sql, params, exact = filter_sql.translate(part("Name", "equals", "Ada"), by_lower, {})
    assert.are.equal('"Name" = ?', sql)
    assert.are.same({"Ada"}, params)
    assert.is_true(exact)
    sql, params, exact = filter_sql.translate({LogicalOperator = "AND",
      LeftOperand = part("Name", "beginsWith", "A%"), RightOperand = part("Points", "greaterThan", "5")},
      by_lower, {})
    assert.are.equal([[("Name" LIKE ? ESCAPE '\')]], sql)
    assert.are.same({"A\\%%"}, params)
    assert.is_false(exact) -- the number is checked by the Lua filter on the rows SQL returns
    sql = filter_sql.translate({LogicalOperator = "OR", LeftOperand = part("Name", "equals", "x"),
      RightOperand = part("Points", "equals", "5")}, by_lower, {})
    assert.is_nil(sql) -- an OR with a part SQL cannot say is every row's question
  end)

  it("translates comparisons on Number, Date and Boolean columns with typed parameters", function()
    local clock = require "performlua.sandbox.clock"
    local by_lower = {points = "Points", joined = "Joined", active = "Active", price = "Price"}
    local kinds = {Points = "integer", Joined = "date", Active = "boolean", Price = "decimal"}
    local sql, params, exact = filter_sql.translate(part("Points", "greaterThan", " 5 "), by_lower, {}, kinds)
    assert.are.equal('"Points" > ?', sql)
    assert.are.same({5}, params)
    assert.is_true(exact)
    sql, params, exact = filter_sql.translate(part("Joined", "lessThan", "1/5/2024"), by_lower, {}, kinds)
    assert.are.equal('"Joined" < ?', sql)
    assert.are.same({clock.parse("2024-01-05")}, params)
    assert.is_true(exact)
    sql, params, exact = filter_sql.translate(part("Active", "IN", {"True", "0"}), by_lower, {}, kinds)
    assert.are.equal('"Active" IN (?, ?)', sql)
    assert.are.same({1, 0}, params)
    assert.is_true(exact)
    -- not said the same way in SQL: left to filter.lua
    assert.is_false(select(3, filter_sql.translate(part("Points", "equals", "x"), by_lower, {}, kinds)))
    assert.is_false(select(3, filter_sql.translate(part("Price", "greaterThan", "1"), by_lower, {}, kinds)))
    assert.is_false(select(3, filter_sql.translate(part("Active", "greaterThan", "0"), by_lower, {}, kinds)))
    assert.is_false(select(3, filter_sql.translate(part("Joined", "contains", "2024"), by_lower, {}, kinds)))
  end)

  it("treats quotes and SQL text in a filter value as data", function()
    local a = small_account()
    local evil = "Robert'); DROP TABLE x;--"
    assert.are.same({"e-5"}, (retrieve_keys(a, part("Name", "equals", evil))))
    assert.are.same({"d-4"}, (retrieve_keys(a, part("Name", "equals", "O'Brien"))))
    assert.are.same({}, (retrieve_keys(a, part("Name", "equals", "x' OR '1'='1"))))
    assert.are.same({}, (retrieve_keys(a, part("Name", "like", "%' OR 1=1 --%"))))
    assert.are.equal(6, a:row_store("Members"):count()) -- nothing dropped, nothing changed
  end)

  it("refuses a filter on a column the data extension lacks, never naming it in SQL", function()
    local a = small_account()
    local _, r = retrieve_keys(a, part('Name" OR 1=1 --', "equals", "x"))
    assert.truthy(r.OverallStatus:find("is not a property", 1, true), r.OverallStatus)
  end)
end)

describe("sandbox keyset paging", function()
  it("continues from the last row a page returned, and sees the rows stored when it began", function()
    local a = small_account()
    local flt = part("Name", "notEquals", "bob")
    local keys, r = retrieve_keys(a, flt, 2)
    assert.are.same({"a-1", "c-3"}, keys)
    assert.are.equal("MoreDataAvailable", r.OverallStatus)
    -- the continuation remembers a rowid: the rows before it are not read again
    local store = a:row_store("Members")
    assert.are.equal(store:find({SubscriberKey = "c-3"}), a.cursors.r1.pos)
    store:insert({SubscriberKey = "z-9", Name = "late"}) -- after the retrieve began: not in it
    store:delete(store:find({SubscriberKey = "a-1"})) -- already returned: changes nothing after
    local seen = {}
    local request = "r1"
    repeat
      r = a:retrieve({ContinueRequest = request}, {mid = a.mid, request_id = request .. "x"})
      request = request .. "x"
      for _, o in ipairs(r.Results) do seen[#seen + 1] = o.Properties[1].Value end
    until r.OverallStatus ~= "MoreDataAvailable"
    assert.are.equal("OK", r.OverallStatus)
    assert.are.same({"d-4", "e-5", "f-6"}, seen)
  end)
end)

describe("sandbox CSV seeds", function()
  it("parses quotes, embedded commas, line breaks and doubled quotes", function()
    local records = seed_csv.parse('a,b\r\n"x, y","line1\nline2"\n"say ""hi""",\n', "t.csv")
    assert.are.same({"a", "b"}, records[1].fields)
    assert.are.same({"x, y", "line1\nline2"}, records[2].fields)
    assert.are.same({'say "hi"', ""}, records[3].fields)
    assert.are.equal(4, records[3].line)
  end)

  it("names the file and line of a bad CSV", function()
    local function err(text)
      local ok, e = pcall(seed_csv.data_extension, "K", text, "dir/K.csv")
      assert.is_false(ok)
      return e
    end
    assert.are.equal("--seed: dir/K.csv line 3: the record has 1 fields, the header 2",
      err("a*,b\n1,2\n3\n"))
    assert.are.equal("--seed: dir/K.csv line 2: a quoted field is never closed", err('a,b\n"1,2\n3,4\n'))
    assert.truthy(err('a,b\n1,x"y\n'):find("^%-%-seed: dir/K.csv line 2: a double quote inside"))
    assert.truthy(err("a*,b\n1,2\nX,3\nx,4\n"):find("line 4: the primary key of this record is "
      .. "already the key of the record on line 3", 1, true))
  end)

  it("reads a column's FieldType from the header and checks every value against it", function()
    local de, rows = seed_csv.data_extension("K", "ID:Number*,Joined:date,Ok:Boolean,Price:Decimal,"
      .. "EmailAddress,Note\n7,2024-01-05,true,1.25,a@example.com,x\n", "K.csv")
    local types = {}
    for _, f in ipairs(de.Fields) do types[f.Name] = f.FieldType end
    assert.are.same({ID = "Number", Joined = "Date", Ok = "Boolean", Price = "Decimal",
      EmailAddress = "EmailAddress", Note = "Text"}, types)
    assert.is_true(de.Fields[1].IsPrimaryKey)
    local a = account.new{}
    a:load_seed{DataExtension = {de}, rows = {K = rows}}
    assert.are.same({{ID = 7, Joined = "2024-01-05T00:00:00", Ok = true, Price = "1.25",
      EmailAddress = "a@example.com", Note = "x"}}, a:row_store("K"):all())
    local function err(text)
      local ok, e = pcall(seed_csv.data_extension, "K", text, "K.csv")
      assert.is_false(ok)
      return e
    end
    assert.are.equal("--seed: K.csv line 3: N: The value for column [N] is not a valid number.",
      err("N:Number\n1\nabc\n"))
    assert.truthy(err("N:Integer\n1\n"):find("line 1: the column 'N' has the type 'Integer', "
      .. "which is not a FieldType", 1, true))
    -- a Lua seed is checked the same way
    local ok, e = pcall(function()
      account.new{}:load_seed{DataExtension = {MEMBERS}, rows = {Members = {{SubscriberKey = "x",
        Points = "many"}}}}
    end)
    assert.is_false(ok)
    assert.are.equal("data extension 'Members': Points: The value for column [Points] is not a "
      .. "valid number.", e)
  end)

  it("seeds a data extension per CSV file beside the default seed", function()
    local dir = TMP .. "/csv"
    core.mkdir_p(dir, 448)
    write(dir .. "/VIP_List.csv", 'SubscriberKey*,EmailAddress,Note\nvip-1,v1@example.com,"a, b"\n'
      .. 'vip-2,v2@example.com,"two\nlines"\n')
    write(dir .. "/readme.txt", "not a data extension")
    local sb <close> = require("performlua.sandbox").start{port = 0, seed = dir}
    local c = ch.connect(sb)
    local rows = c:retrieve_all("DataExtensionObject[VIP_List]", {"SubscriberKey", "Note"})
    assert.are.same({{SubscriberKey = "vip-1", Note = "a, b"}, {SubscriberKey = "vip-2", Note = "two\nlines"}}, rows)
    assert.are.equal(40, #sb:rows("Customers")) -- the default seed is there too
    local r = c:create({mc.DataExtensionObject{CustomerKey = "VIP_List",
      Properties = {{Name = "SubscriberKey", Value = "VIP-1"}}}})
    assert.are.equal("Error", r.Results[1].StatusCode) -- the * column is the primary key
  end)
end)

describe("sandbox --state", function()
  local sandbox = require "performlua.sandbox"

  it("keeps objects and rows across restarts", function()
    local path = TMP .. "/state.db"
    os.remove(path)
    do
      local sb <close> = sandbox.start{port = 0, state = path}
      local c = ch.connect(sb)
      assert.are.equal("OK", c:create({mc.DataExtensionObject{CustomerKey = "Customers",
        Properties = {{Name = "CustomerID", Value = "9001"}, {Name = "City", Value = "Oslo"}}}}).OverallStatus)
      assert.are.equal("OK", c:create({mc.List{ListName = "Kept", CustomerKey = "kept-list"}}).OverallStatus)
    end
    require("performlua.auth")._reset()
    local sb <close> = sandbox.start{port = 0, state = path}
    local c = ch.connect(sb)
    local rows = c:retrieve_all("DataExtensionObject[Customers]", {"CustomerID", "City"},
      {Property = "CustomerID", SimpleOperator = "equals", Value = "9001"})
    assert.are.same({{CustomerID = "9001", City = "Oslo"}}, rows)
    assert.are.equal(41, #sb:rows("Customers"))
    local lists = c:retrieve_all("List", {"ListName"}, {Property = "CustomerKey", SimpleOperator = "equals",
      Value = "kept-list"})
    assert.are.same({{ListName = "Kept"}}, lists)
    -- the counters go on where they stopped: a new object gets a new ID
    local r = c:create({mc.List{ListName = "Another"}})
    assert.are_not.equal(r.Results[1].NewID, 0)
    -- typed values come back typed
    assert.are.equal("integer", math.type(sb:rows("Customers")[1].Points))
    assert.is_true(sb:rows("Customers")[1].IsActive)
  end)

  it("refuses a state file whose rows were stored without their column types", function()
    local path = TMP .. "/untyped.db"
    os.remove(path)
    do
      local sb <close> = sandbox.start{port = 0, state = path}
      assert.are.equal(40, #sb:rows("Customers"))
    end
    do
      -- as an earlier build left it: the row tables, no rows_columns
      local db <close> = core.sqlite_open(path)
      db:exec("DROP TABLE rows_columns")
    end
    require("performlua.auth")._reset()
    local ok, err = pcall(sandbox.start, {port = 0, state = path})
    assert.is_false(ok)
    assert.matches("were stored untyped by an earlier build", tostring(type(err) == "table"
      and err.message or err), 1, true)
    local db <close> = core.sqlite_open(path, {readonly = true})
    assert.is_nil(db:first("SELECT 1 AS x FROM sqlite_master WHERE name = 'rows_columns'"))
  end)

  it("keeps two units' data extensions with one CustomerKey apart across restarts", function()
    local path = TMP .. "/units.db"
    os.remove(path)
    local EUROPE = 7281701
    local function de()
      return mc.DataExtension{CustomerKey = "Same_Key", Name = "Same key", Fields = {
        {Name = "K", FieldType = "Text", MaxLength = 20, IsPrimaryKey = true, IsRequired = true},
        {Name = "Unit", FieldType = "Text", MaxLength = 20}}}
    end
    local function row(unit)
      return mc.DataExtensionObject{CustomerKey = "Same_Key",
        Properties = {{Name = "K", Value = "k1"}, {Name = "Unit", Value = unit}}}
    end
    do
      local sb <close> = sandbox.start{port = 0, state = path}
      local c = ch.connect(sb)
      assert.is_true(c:create(de()).ok)
      assert.is_true(c:create(de(), {client_id = EUROPE}).ok)
      assert.is_true(c:create(row("parent")).ok)
      assert.is_true(c:create(row("europe"), {client_id = EUROPE}).ok)
    end
    require("performlua.auth")._reset()
    local sb <close> = sandbox.start{port = 0, state = path}
    local c = ch.connect(sb)
    assert.are.same({{K = "k1", Unit = "parent"}}, c:retrieve_all("DataExtensionObject[Same_Key]", {"K", "Unit"}))
    assert.are.same({{K = "k1", Unit = "europe"}}, c:retrieve_all("DataExtensionObject[Same_Key]",
      {"K", "Unit"}, nil, {client_id = EUROPE}))
    -- the tables are named by unit and key
    local db = core.sqlite_open(path, {readonly = true})
    local names = {}
    for r in db:rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'de:%:same_key'") do
      names[#names + 1] = r.name
    end
    db:close()
    table.sort(names)
    assert.are.same({"de:7281698:same_key", "de:7281701:same_key"}, names)
  end)

  it("refuses a state file of the development format 1 (rows not kept per unit)", function()
    local path = TMP .. "/format1.db"
    os.remove(path)
    local db = core.sqlite_open(path)
    db:exec("CREATE TABLE sandbox_meta (key TEXT PRIMARY KEY, value)")
    db:run("INSERT INTO sandbox_meta (key, value) VALUES ('marker', 'performlua sandbox')")
    db:run("INSERT INTO sandbox_meta (key, value) VALUES ('format', 1)")
    db:close()
    local ok, err = pcall(sandbox.start, {port = 0, state = path})
    assert.is_false(ok)
    assert.truthy(tostring(err.message or err):find("state format 1", 1, true), tostring(err.message or err))
  end)

  it("refuses a format 2 state file (untyped rows, no work in flight) and leaves it unchanged", function()
    local path = TMP .. "/format2.db"
    os.remove(path)
    do
      local sb <close> = sandbox.start{port = 0, state = path}
      sb:insert("List", {ListName = "kept", CustomerKey = "kept-list"})
    end
    -- what format 2 wrote: no "async" entry, no column types
    local db = core.sqlite_open(path)
    db:run("DELETE FROM sandbox_meta WHERE key = 'async'")
    db:exec("DROP TABLE rows_columns")
    db:run("UPDATE sandbox_meta SET value = 2 WHERE key = 'format'")
    db:close()
    local before = read(path)
    require("performlua.auth")._reset()
    local ok, err = pcall(sandbox.start, {port = 0, state = path})
    assert.is_false(ok)
    local message = tostring(type(err) == "table" and err.message or err)
    assert.matches("state format 2, whose data extension rows are untyped", message, 1, true)
    assert.matches("start a new state file; the file was left unchanged", message, 1, true)
    assert.are.equal(before, read(path))
  end)

  it("writes an object again when anything in it changed, however deep, and only then", function()
    local fp = core.fingerprint -- what the --state save compares (sandbox/state.lua)
    local function unchanged(v, snap) return fp(v) == snap end
    local o = setmetatable({ID = 1, EmailAddress = "n", Lists = {{ID = 7, Status = "Active"}}},
      core.object_metatable("Subscriber"))
    local snap = fp(o)
    assert.is_true(unchanged(o, snap))
    o.Lists[1].Status = "Unsubscribed" -- in place, two tables down
    assert.is_false(unchanged(o, snap))
    snap = fp(o)
    o.Lists[1].Extra = true -- a key added below
    assert.is_false(unchanged(o, snap))
    o.Lists[1].Extra = nil
    assert.is_true(unchanged(o, snap))
    o.EmailAddress = nil -- a key removed
    assert.is_false(unchanged(o, snap))
    o.EmailAddress = "n"
    o.ID = 1.0 -- equal, but written differently
    assert.is_false(unchanged(o, snap))
    o.ID = 1
    setmetatable(o, core.object_metatable("List")) -- another type
    assert.is_false(unchanged(o, snap))
  end)

  it("fingerprints content, not the order it was stored in, and refuses a table inside itself", function()
    local a, b = {}, {}
    for i = 1, 40 do a["k" .. i] = i end
    for i = 40, 1, -1 do b["k" .. i] = i end
    b.k41 = true
    b.k41 = nil -- a deleted slot left behind
    assert.are.equal(core.fingerprint(a), core.fingerprint(b))
    assert.are_not.equal(core.fingerprint({x = "ab"}), core.fingerprint({x = "ba"}))
    assert.are_not.equal(core.fingerprint({x = "a", y = "b"}), core.fingerprint({x = "b", y = "a"}))
    assert.are_not.equal(core.fingerprint({"a"}), core.fingerprint({a = 1}))
    assert.are_not.equal(core.fingerprint(string.rep("x", 100)), core.fingerprint(string.rep("x", 101)))
    local loop = {}
    loop.self = loop
    local ok, err = pcall(core.fingerprint, loop)
    assert.is_false(ok)
    assert.matches("nested more than 200 deep", err, 1, true)
  end)

  it("keeps a change made inside an object (a list membership unsubscribed) across a restart", function()
    local path = TMP .. "/nested.db"
    os.remove(path)
    do
      local sb <close> = sandbox.start{port = 0, state = path}
      local c = ch.connect(sb)
      local list_id = c:create(mc.List{ListName = "Nested", CustomerKey = "nested-list"}).Results[1].NewID
      assert.is_true(c:create(mc.Subscriber{SubscriberKey = "nested-1", EmailAddress = "n1@example.com",
        Lists = {mc.SubscriberList{ID = list_id, Status = "Active"}}}).ok)
      local e = c:execute(mc.ExecuteRequest{Name = "LogUnsubEvent", Parameters = {
        mc.APIProperty{Name = "SubscriberKey", Value = "nested-1"},
        mc.APIProperty{Name = "ListID", Value = tostring(list_id)}}})
      assert.are.equal("OK", e.OverallStatus)
    end
    require("performlua.auth")._reset()
    local sb <close> = sandbox.start{port = 0, state = path}
    local found
    for _, s in ipairs(sb:objects("Subscriber")) do
      if s.SubscriberKey == "nested-1" then found = s end
    end
    assert.is_truthy(found)
    assert.are.equal("Unsubscribed", found.Lists[1].Status)
    assert.are_not.equal("Unsubscribed", found.Status) -- the account-wide status is unchanged
  end)

  it("keeps the clock's offset across a restart: a clock moved a year ahead stays ahead", function()
    local path = TMP .. "/clock.db"
    os.remove(path)
    local YEAR = 365 * 86400
    do
      local sb <close> = sandbox.start{port = 0, state = path}
      sb:clock_advance(YEAR)
      sb:insert("List", {ListName = "after the jump", CustomerKey = "jump"}) -- a save
    end
    local sb <close> = sandbox.start{port = 0, state = path}
    -- the restarted clock is at least a year ahead of real time (it went on running meanwhile)
    assert.is_true(sb:now() >= core.realtime() + YEAR - 60, "the clock lost its offset")
  end)

  it("refuses a file that is not its own, leaving it unchanged", function()
    local path = TMP .. "/foreign.txt"
    write(path, "just text\n")
    local ok, err = pcall(sandbox.start, {port = 0, state = path})
    assert.is_false(ok)
    assert.truthy(tostring(err.message or err):find("it is not a performlua sandbox state", 1, true))
    assert.are.equal("just text\n", read(path))
  end)
end)
