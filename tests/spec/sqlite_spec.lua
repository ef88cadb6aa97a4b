-- The SQLite binding (runtime/bind/sqlite_bind.c): core.sqlite_open and the connection's
-- methods, as the sandbox's account store and the client's run journal use them.
local core = require "performlua.core"

local bin = os.getenv("PERFORMLUA") or arg[-1]

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function make_temp_dir()
  local p = io.popen("mktemp -d")
  local dir = p:read("l")
  p:close()
  assert(dir and dir ~= "", "mktemp -d failed")
  return dir
end

local function write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- The error raised by fn(...), which must be a performlua error table.
local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  assert.is_true(core.is_error(err), "expected a performlua error, got " .. tostring(err))
  return err
end

-- A usage error's message without the caller's position ("file.lua:12: ").
local function without_position(message)
  return (message:gsub("^[^%s]-:%d+: ", ""))
end

-- Writes a Lua script and runs it with the performlua binary; returns its output and status.
local function run_script(dir, name, source, prefix)
  local path = dir .. "/" .. name
  write_file(path, source)
  local p = io.popen((prefix or "") .. shell_quote(bin) .. " " .. shell_quote(path) .. " 2>&1")
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end

local dir
before_each(function() dir = make_temp_dir() end)
after_each(function() os.execute("rm -rf " .. shell_quote(dir)) end)

describe("core.sqlite_open", function()
  it("opens an in-memory database and names it in tostring until it is closed", function()
    local db = core.sqlite_open(":memory:")
    assert.are.equal("sqlite database :memory:", tostring(db))
    db:close()
    assert.are.equal("sqlite database :memory: (closed)", tostring(db))
    db:close() -- idempotent
  end)

  it("closes a to-be-closed connection when its scope ends", function()
    local outer
    do
      local db <close> = core.sqlite_open(":memory:")
      outer = db
      assert.are.equal(1, db:first("SELECT 1 AS one").one)
    end
    assert.are.equal("sqlite database :memory: (closed)", tostring(outer))
  end)

  it("keeps a WAL file database across close and reopen", function()
    local path = dir .. "/state.db"
    local db = core.sqlite_open(path, {wal = true})
    assert.are.equal("wal", db:first("PRAGMA journal_mode").journal_mode)
    db:exec("CREATE TABLE rows_kept (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    db:run("INSERT INTO rows_kept (id, name) VALUES (?, ?)", 7, "kept")
    assert.is_true(exists(path .. "-wal"))
    db:close()

    -- WAL is a property of the file: a connection that does not ask for it still gets it
    local again = core.sqlite_open(path)
    assert.are.equal("wal", again:first("PRAGMA journal_mode").journal_mode)
    assert.are.same({id = 7, name = "kept"}, again:first("SELECT id, name FROM rows_kept"))
    again:close()
    assert.is_true(exists(path))
  end)

  it("sets synchronous, busy_timeout_ms and foreign_keys on the connection", function()
    local db = core.sqlite_open(":memory:")
    assert.are.equal(2, db:first("PRAGMA synchronous").synchronous) -- full by default
    assert.are.equal(5000, db:first("PRAGMA busy_timeout").timeout)
    assert.are.equal(1, db:first("PRAGMA foreign_keys").foreign_keys)
    db:close()
    db = core.sqlite_open(dir .. "/x.db", {synchronous = "normal", busy_timeout_ms = 250, foreign_keys = false})
    assert.are.equal(1, db:first("PRAGMA synchronous").synchronous)
    assert.are.equal(250, db:first("PRAGMA busy_timeout").timeout)
    assert.are.equal(0, db:first("PRAGMA foreign_keys").foreign_keys)
    db:close()
    db = core.sqlite_open(dir .. "/y.db", {synchronous = "off"})
    assert.are.equal(0, db:first("PRAGMA synchronous").synchronous)
    db:close()
  end)

  it("enforces foreign keys by default", function()
    local db = core.sqlite_open(":memory:")
    db:exec([[CREATE TABLE lists (id INTEGER PRIMARY KEY);
              CREATE TABLE members (list INTEGER NOT NULL REFERENCES lists (id), email TEXT)]])
    local err = error_of(db.run, db, "INSERT INTO members (list, email) VALUES (?, ?)", 42, "a@example.com")
    assert.are.equal("SQLITE_CONSTRAINT_FOREIGNKEY", err.code)
    db:close()
  end)

  it("refuses double-quoted strings: a misspelt column is an error, not a literal", function()
    local db = core.sqlite_open(":memory:")
    db:exec("CREATE TABLE t (name TEXT)")
    local err = error_of(db.query, db, 'SELECT * FROM t WHERE nme = "x"')
    assert.are.equal("SQLITE_ERROR", err.code)
    assert.matches("no such column", err.message)
    db:close()
  end)

  it("accepts file: URIs, and names them without their query in messages", function()
    local db = core.sqlite_open("file:private?mode=memory")
    assert.are.equal("sqlite database file:private", tostring(db))
    db:exec("CREATE TABLE t (x)")
    local err = error_of(db.run, db, "INSERT INTO nope VALUES (1)")
    assert.are.equal("db:run on file:private failed: no such table: nope (SQL: INSERT INTO nope VALUES (1))", err.message)
    assert.are.equal("file:private", err.database)
    db:close()
  end)

  it("shares one in-memory database between connections through the memdb VFS", function()
    local a = core.sqlite_open("file:/shared-account?vfs=memdb", {wal = true})
    local b = core.sqlite_open("file:/shared-account?vfs=memdb")
    a:exec("CREATE TABLE t (x)")
    a:run("INSERT INTO t VALUES (?)", 5)
    assert.are.equal(5, b:first("SELECT x FROM t").x)
    a:close()
    b:close()
  end)

  it("refuses unknown and ill-typed options, naming them", function()
    local cases = {
      {{wall = true, zz = 1}, "sqlite_open: unknown option 'wall' (options: readonly, create, wal, synchronous, busy_timeout_ms, foreign_keys)"},
      {{synchronous = "fast"}, 'sqlite_open: option \'synchronous\' must be "off", "normal", "full" or "extra"'},
      {{busy_timeout_ms = -1}, "sqlite_open: option 'busy_timeout_ms' must be a whole number of milliseconds, 0 or more"},
      {{busy_timeout_ms = 1.5}, "sqlite_open: option 'busy_timeout_ms' must be a whole number of milliseconds, 0 or more"},
      {{readonly = "yes"}, "sqlite_open: option 'readonly' must be a boolean, not a string"},
      {{readonly = true, create = true}, "sqlite_open: a read-only database cannot be created (leave out create, or readonly)"},
      {{readonly = true, wal = true}, "sqlite_open: the journal mode of a read-only database cannot be set (WAL is kept in the file: open it once read-write with wal = true)"},
      {{[1] = true}, "sqlite_open: options are named (readonly, create, wal, synchronous, busy_timeout_ms, foreign_keys)"},
    }
    for _, case in ipairs(cases) do
      local err = error_of(function() return core.sqlite_open(dir .. "/x.db", case[1]) end)
      assert.are.equal("usage", err.kind)
      assert.are.equal(case[2], without_position(err.message))
    end
    local err = error_of(function() return core.sqlite_open(dir .. "/x.db\0.txt") end)
    assert.are.equal("sqlite_open: the path contains a NUL byte", without_position(err.message))
    assert.is_false(exists(dir .. "/x.db"))
  end)

  it("raises a usage error at the caller's line", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() return core.sqlite_open(":memory:", {bogus = 1}) end)
    assert.is_false(ok)
    assert.are.equal("sqlite_spec.lua:" .. line .. ": ", err.message:match("([^/]+:%d+: )"))
  end)
end)

describe("storage errors", function()
  it("name a directory that does not exist", function()
    local path = dir .. "/no/such/dir/journal.db"
    local err = error_of(core.sqlite_open, path)
    assert.are.equal("storage", err.kind)
    assert.are.equal("SQLITE_CANTOPEN", err.code)
    assert.are.equal(path, err.database)
    assert.are.equal("cannot open " .. path .. ": unable to open database file (the directory "
                     .. dir .. "/no/such/dir does not exist)", err.message)
    assert.is_false(err.retryable)
    assert.is_false(err.outcome_unknown)
    assert.are.equal("storage error: " .. err.message .. " [code SQLITE_CANTOPEN]", tostring(err))
  end)

  it("name a directory given as the database, and a file that must exist but does not", function()
    local err = error_of(core.sqlite_open, dir)
    assert.are.equal("cannot open " .. dir .. ": unable to open database file (it is a directory)", err.message)
    err = error_of(core.sqlite_open, dir .. "/missing.db", {create = false})
    assert.are.equal("cannot open " .. dir .. "/missing.db: unable to open database file (the file does not exist)", err.message)
    err = error_of(core.sqlite_open, dir .. "/missing.db", {readonly = true})
    assert.are.equal("SQLITE_CANTOPEN", err.code)
    assert.is_false(exists(dir .. "/missing.db"))
  end)

  it("refuse a file that is not a database when it is opened", function()
    local path = dir .. "/garbage.db"
    write_file(path, ("this is not a database; "):rep(400))
    local err = error_of(core.sqlite_open, path)
    assert.are.equal("SQLITE_NOTADB", err.code)
    assert.are.equal("cannot open " .. path .. ": file is not a database", err.message)
  end)

  it("report a corrupt database as SQLITE_CORRUPT", function()
    local path = dir .. "/corrupt.db"
    local db = core.sqlite_open(path)
    db:exec("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)")
    db:transaction(function()
      for _ = 1, 500 do db:run("INSERT INTO t (s) VALUES (?)", ("x"):rep(60)) end
    end)
    db:close()
    -- every page but the first (the header and the schema) becomes garbage
    local f = assert(io.open(path, "r+b"))
    local size = f:seek("end")
    f:seek("set", 4096)
    f:write(("\255"):rep(size - 4096))
    f:close()
    db = core.sqlite_open(path)
    local err = error_of(db.first, db, "SELECT count(*) AS n FROM t")
    assert.are.equal("SQLITE_CORRUPT", err.code)
    assert.are.equal("db:first on " .. path .. " failed: database disk image is malformed (SQL: SELECT count(*) AS n FROM t)", err.message)
    db:close()
  end)

  it("refuse writes through a read-only connection", function()
    local path = dir .. "/ro.db"
    local db = core.sqlite_open(path)
    db:exec("CREATE TABLE t (x)")
    db:close()
    local ro = core.sqlite_open(path, {readonly = true})
    local err = error_of(ro.run, ro, "INSERT INTO t VALUES (?)", 1)
    assert.are.equal("SQLITE_READONLY", err.code)
    assert.are.equal("db:run on " .. path .. " failed: attempt to write a readonly database (SQL: INSERT INTO t VALUES (?))", err.message)
    -- a read-only connection's transaction is a consistent read
    assert.are.equal(0, ro:transaction(function() return ro:first("SELECT count(*) AS n FROM t").n end))
    ro:close()
  end)

  it("refuse at open a write-protected file opened for writing", function()
    local path = dir .. "/protected.db"
    local db = core.sqlite_open(path)
    db:exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
    db:close()
    -- root may write any file: check as an unprivileged user then
    local prefix = ""
    if core.getuid() == 0 then
      assert.is_true(os.execute("chmod 755 " .. shell_quote(dir) .. " && chmod 644 " .. shell_quote(path)))
      prefix = "setpriv --reuid=nobody --regid=nogroup --clear-groups "
    else
      assert.is_true(os.execute("chmod 444 " .. shell_quote(path)))
    end
    local out, ok = run_script(dir, "protected.lua", ([[
      local core = require "performlua.core"
      local ok, err = pcall(core.sqlite_open, %q)
      print(ok, err.code, err.message)
      local ro = core.sqlite_open(%q, {readonly = true})
      print(ro:first("SELECT x FROM t").x)
    ]]):format(path, path), prefix)
    assert.is_true(ok, out)
    assert.are.equal("false\tSQLITE_READONLY\tcannot open " .. path .. ": the file or its directory "
                     .. "is write-protected (readonly = true opens it for reading)\n1\n", out)
  end)

  it("never hold the values bound to a failing statement", function()
    local db = core.sqlite_open(":memory:")
    db:exec("CREATE TABLE tokens (id INTEGER PRIMARY KEY, secret TEXT)")
    db:run("INSERT INTO tokens (id, secret) VALUES (?, ?)", 1, "first-secret")
    local err = error_of(db.run, db, "INSERT INTO tokens (id, secret) VALUES (?, ?)", 1, "s3cr3t-token-value")
    assert.are.equal("SQLITE_CONSTRAINT_PRIMARYKEY", err.code)
    assert.are.equal("db:run on :memory: failed: UNIQUE constraint failed: tokens.id (SQL: INSERT INTO tokens (id, secret) VALUES (?, ?))", err.message)
    assert.is_nil(tostring(err):find("s3cr3t", 1, true))
    local bad = error_of(db.run, db, "INSERT INTO tokens (id, secret) VALUES (?, ?)", 2, {"s3cr3t"})
    assert.are.equal("db:run: parameter 2 is a table: bind numbers, strings, booleans, nil or core.sqlite_blob(s) (one table as the only argument binds :name parameters)",
                     without_position(bad.message))
    db:close()
  end)

  it("shorten long SQL in messages to one line", function()
    local db = core.sqlite_open(":memory:")
    local sql = "SELECT\n  1 AS a,\n\t2 AS b,\n  " .. ("3 + "):rep(100) .. "x"
    local err = error_of(db.query, db, sql)
    local quoted = err.message:match("%(SQL: (.*)%)$")
    assert.are.equal("SELECT 1 AS a, 2 AS b, " .. ("3 + "):rep(100):sub(1, 160 - 23) .. "...", quoted)
    db:close()
  end)
end)

describe("values", function()
  local db
  before_each(function()
    db = core.sqlite_open(":memory:")
    db:exec("CREATE TABLE v (id INTEGER PRIMARY KEY, x ANY) STRICT")
  end)
  after_each(function() db:close() end)

  local function round_trip(value)
    db:run("DELETE FROM v")
    db:run("INSERT INTO v (id, x) VALUES (1, ?)", value)
    local row = db:first("SELECT x, typeof(x) AS type FROM v")
    return row.x, row.type
  end

  it("keeps integers exact, beyond 2^53 and at the limits", function()
    for _, n in ipairs{0, -1, 42, (1 << 53) + 1, math.maxinteger, math.mininteger} do
      local x, type = round_trip(n)
      assert.are.equal("integer", type)
      assert.are.equal(n, x)
      assert.are.equal("integer", math.type(x))
    end
  end)

  it("keeps floats as floats", function()
    for _, f in ipairs{0.1, -1.5e300, 3.0, 1 / 3, math.huge, -math.huge} do
      local x, type = round_trip(f)
      assert.are.equal("real", type)
      assert.are.equal(f, x)
      assert.are.equal("float", math.type(x))
    end
  end)

  it("keeps UTF-8 strings, with embedded NULs, as TEXT", function()
    for _, s in ipairs{"", "plain", "a\0b\0", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "it's \"quoted\""} do
      local x, type = round_trip(s)
      assert.are.equal("text", type)
      assert.are.equal(s, x)
    end
  end)

  it("stores strings that are not valid UTF-8 as BLOBs and gives them back unchanged", function()
    local not_utf8 = {
      "\xff\xfe\x00\x01",       -- not a UTF-8 byte at all
      "\xC0\xAF",               -- overlong '/'
      "\xED\xA0\x80",           -- a UTF-16 surrogate
      "\xF4\x90\x80\x80",       -- beyond U+10FFFF
      "abc\xE2\x82",            -- truncated sequence
    }
    for _, s in ipairs(not_utf8) do
      local x, type = round_trip(s)
      assert.are.equal("blob", type)
      assert.are.equal(s, x)
    end
  end)

  it("binds core.sqlite_blob values as BLOBs whatever their bytes", function()
    local wrapped = core.sqlite_blob("valid text")
    assert.are.equal("sqlite_blob (10 bytes)", tostring(wrapped))
    local x, type = round_trip(wrapped)
    assert.are.equal("blob", type)
    assert.are.equal("valid text", x)
    x, type = round_trip(core.sqlite_blob(""))
    assert.are.equal("blob", type)
    assert.are.equal("", x)
    local tampered = core.sqlite_blob("x")
    tampered[1] = 42
    local err = error_of(db.run, db, "INSERT INTO v (id, x) VALUES (2, ?)", tampered)
    assert.are.equal("db:run: parameter 1 is a table: bind numbers, strings, booleans, nil or core.sqlite_blob(s) (one table as the only argument binds :name parameters)",
                     without_position(err.message))
  end)

  it("maps nil to NULL (left out of the row) and booleans to 1 and 0", function()
    db:run("INSERT INTO v (id, x) VALUES (?, ?)", 1, nil)
    assert.are.same({id = 1}, db:first("SELECT id, x FROM v"))
    assert.are.equal("null", db:first("SELECT typeof(x) AS t FROM v").t)
    assert.are.equal(1, (round_trip(true)))
    assert.are.equal(0, (round_trip(false)))
  end)

  it("refuses values that have no SQL type, naming the parameter and not the value", function()
    local err = error_of(db.run, db, "INSERT INTO v (id, x) VALUES (?, ?)", 1, print)
    assert.are.equal("usage", err.kind)
    assert.are.equal("db:run: parameter 2 is a function: bind numbers, strings, booleans, nil or core.sqlite_blob(s)",
                     without_position(err.message))
    err = error_of(db.run, db, "INSERT INTO v (id, x) VALUES (:id, :x)", {id = 1, x = {}})
    assert.are.equal("db:run: parameter :x is a table: bind numbers, strings, booleans, nil or core.sqlite_blob(s)",
                     without_position(err.message))
    assert.is_nil(db:first("SELECT id FROM v"))
  end)
end)

describe("parameters", function()
  local db
  before_each(function()
    db = core.sqlite_open(":memory:")
    db:exec("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, city TEXT)")
  end)
  after_each(function() db:close() end)

  it("bind positional values in order", function()
    db:run("INSERT INTO people (id, name, city) VALUES (?, ?, ?)", 1, "Ann", "Paris")
    assert.are.same({id = 1, name = "Ann", city = "Paris"}, db:first("SELECT * FROM people WHERE id = ?", 1))
  end)

  it("bind named values from one table, :name, @name and $name alike, a missing key as NULL", function()
    db:run("INSERT INTO people (id, name, city) VALUES (:id, @name, $city)", {id = 2, name = "Bo", city = "Oslo"})
    db:run("INSERT INTO people (id, name, city) VALUES (:id, :name, :city)", {id = 3, name = "Cy"})
    assert.are.same({{id = 2, name = "Bo", city = "Oslo"}, {id = 3, name = "Cy"}},
                    db:query("SELECT * FROM people ORDER BY id"))
  end)

  it("read named values through __index, as typed objects provide them", function()
    local row = setmetatable({}, {__index = function(_, k) return ({id = 4, name = "Di"})[k] end})
    db:run("INSERT INTO people (id, name) VALUES (:id, :name)", row)
    assert.are.equal("Di", db:first("SELECT name FROM people WHERE id = :id", {id = 4}).name)
  end)

  it("keep values that look like SQL as data", function()
    local evil = "x'); DROP TABLE people; --"
    local also = "Robert'); DELETE FROM people WHERE ('1' = '1"
    db:run("INSERT INTO people (id, name, city) VALUES (?, ?, ?)", 1, evil, also)
    db:run("INSERT INTO people (id, name) VALUES (:id, :name)", {id = 2, name = "'; DROP TABLE people; --"})
    assert.are.equal(2, db:first("SELECT count(*) AS n FROM people").n)
    assert.are.equal(evil, db:first("SELECT name FROM people WHERE name = ?", evil).name)
    assert.are.equal(also, db:first("SELECT city FROM people WHERE id = 1").city)
    assert.are.equal("'; DROP TABLE people; --", db:first("SELECT name FROM people WHERE id = 2").name)
  end)

  it("must all be given: a count that does not match is an error, not a silent NULL", function()
    local err = error_of(db.run, db, "INSERT INTO people (id, name) VALUES (?, ?)", 1)
    assert.are.equal("db:run: the statement takes 2 parameters, 1 given", without_position(err.message))
    err = error_of(db.first, db, "SELECT 1 AS one", 1)
    assert.are.equal("db:first: the statement takes 0 parameters, 1 given", without_position(err.message))
    err = error_of(db.run, db, "INSERT INTO people (id, name) VALUES (?, ?)", 1, "a", nil)
    assert.are.equal("db:run: the statement takes 2 parameters, 3 given", without_position(err.message))
    assert.is_nil(db:first("SELECT id FROM people"))
  end)

  it("refuse a table for positional parameters", function()
    local err = error_of(db.run, db, "INSERT INTO people (id, name) VALUES (?, ?)", {1, "a"})
    assert.are.equal("db:run: a table binds named parameters (:name), but parameter 1 is positional (?)",
                     without_position(err.message))
  end)
end)

describe("db:exec", function()
  it("runs several statements, comments and all", function()
    local db = core.sqlite_open(":memory:")
    db:exec([[
      -- the schema
      CREATE TABLE a (x);
      CREATE TABLE b (y); /* a comment */
      INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);
    ]])
    assert.are.equal(2, db:first("SELECT count(*) AS n FROM a").n)
    db:exec("")
    db:exec("-- nothing")
    db:close()
  end)

  it("stops at the first failing statement and names it", function()
    local db = core.sqlite_open(":memory:")
    local err = error_of(db.exec, db, "CREATE TABLE a (x); INSERT INTO missing VALUES (1); CREATE TABLE c (z)")
    assert.are.equal("db:exec on :memory: failed: no such table: missing (SQL: INSERT INTO missing VALUES (1);)", err.message)
    assert.are.equal("SQLITE_ERROR", err.code)
    assert.is_table(db:first("SELECT name FROM sqlite_schema WHERE name = 'a'"))
    assert.is_nil(db:first("SELECT name FROM sqlite_schema WHERE name = 'c'"))
    err = error_of(db.exec, db, "CREATE TABLE d (x); CRATE TABLE e (y)")
    assert.are.equal('db:exec on :memory: failed: near "CRATE": syntax error (SQL: CRATE TABLE e (y))', err.message)
    db:close()
  end)

  it("takes no parameters, so values cannot be pasted into it by accident", function()
    local db = core.sqlite_open(":memory:")
    db:exec("CREATE TABLE a (x)")
    local err = error_of(db.exec, db, "INSERT INTO a VALUES (?)", 1)
    assert.are.equal("db:exec: takes no parameters (db:run, db:first, db:rows and db:query bind values)",
                     without_position(err.message))
    err = error_of(db.exec, db, "INSERT INTO a VALUES (?)")
    assert.are.equal("db:exec: the SQL has parameters, which db:exec leaves NULL: bind their values with db:run (in INSERT INTO a VALUES (?))",
                     without_position(err.message))
    assert.are.equal(0, db:first("SELECT count(*) AS n FROM a").n)
    db:close()
  end)
end)

describe("db:run, db:first and db:query", function()
  local db
  before_each(function()
    db = core.sqlite_open(":memory:")
    db:exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
  end)
  after_each(function() db:close() end)

  it("db:run returns the changes and the last inserted rowid", function()
    assert.are.same({1, 1}, {db:run("INSERT INTO t (name) VALUES (?)", "a")})
    assert.are.same({1, 2}, {db:run("INSERT INTO t (name) VALUES (?)", "b")})
    assert.are.same({2, 2}, {db:run("UPDATE t SET name = upper(name)")})
    assert.are.equal(2, db:changes())
    assert.are.equal(2, db:last_insert_rowid())
    -- a statement that changes nothing reports 0, not the previous statement's count
    assert.are.same({0, 2}, {db:run("CREATE TABLE u (x)")})
    assert.are.same({0, 2}, {db:run("UPDATE t SET name = 'z' WHERE id = ?", 99)})
    assert.are.same({1, 2}, {db:run("DELETE FROM t WHERE id = ?", 1)})
  end)

  it("db:first returns the first row or nil, and works with RETURNING", function()
    db:run("INSERT INTO t (id, name) VALUES (?, ?)", 1, "a")
    db:run("INSERT INTO t (id, name) VALUES (?, ?)", 2, "b")
    assert.are.same({id = 1, name = "a"}, db:first("SELECT * FROM t ORDER BY id"))
    assert.is_nil(db:first("SELECT * FROM t WHERE id = ?", 3))
    assert.are.same({id = 3}, db:first("INSERT INTO t (name) VALUES (?) RETURNING id", "c"))
    assert.are.equal(3, db:first("SELECT count(*) AS n FROM t").n)
  end)

  it("db:query returns every row in order", function()
    for i = 1, 5 do db:run("INSERT INTO t (id, name) VALUES (?, ?)", i, "n" .. i) end
    local rows = db:query("SELECT id, name FROM t WHERE id > ? ORDER BY id DESC", 2)
    assert.are.same({{id = 5, name = "n5"}, {id = 4, name = "n4"}, {id = 3, name = "n3"}}, rows)
    assert.are.same({}, db:query("SELECT id FROM t WHERE id > 10"))
  end)

  it("refuse two result columns with one name, which a row table cannot hold", function()
    db:exec("CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER)")
    for _, method in ipairs{"first", "query", "rows"} do
      local err = error_of(db[method], db, "SELECT t.id, u.id FROM t JOIN u ON u.t_id = t.id")
      assert.are.equal("db:" .. method .. ": two result columns are named 'id' and a row can hold only one: name them apart (SELECT a.id AS a_id, b.id AS b_id ...)",
                       without_position(err.message))
    end
    -- db:run reads no rows, so the same statement runs there; and once checked it stays refused
    assert.are.same({0, 0}, {db:run("SELECT t.id, u.id FROM t JOIN u ON u.t_id = t.id")})
    assert.has_error(function() db:first("SELECT t.id, u.id FROM t JOIN u ON u.t_id = t.id") end)
  end)

  it("take exactly one statement", function()
    local err = error_of(db.run, db, "INSERT INTO t (name) VALUES ('a'); DROP TABLE t")
    assert.are.equal("db:run: the SQL text holds more than one statement (db:exec runs several, without parameters)",
                     without_position(err.message))
    assert.is_nil(db:first("SELECT * FROM t")) -- nothing ran
    err = error_of(db.run, db, "  -- only a comment")
    assert.are.equal("db:run: the SQL text holds no statement", without_position(err.message))
    -- a trailing semicolon and comment are not another statement
    assert.are.same({1, 1}, {db:run("INSERT INTO t (name) VALUES (?); -- done", "a")})
  end)

  it("refuse a closed connection", function()
    db:close()
    for _, method in ipairs{"exec", "run", "first", "query", "rows", "changes", "last_insert_rowid"} do
      local err = error_of(db[method], db, "SELECT 1")
      assert.are.equal("db:" .. method .. ": the database :memory: is closed", without_position(err.message))
    end
    local err = error_of(db.transaction, db, function() end)
    assert.are.equal("db:transaction: the database :memory: is closed", without_position(err.message))
  end)
end)

describe("db:rows", function()
  local db
  before_each(function()
    db = core.sqlite_open(":memory:")
    db:exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    db:transaction(function()
      for i = 1, 100 do db:run("INSERT INTO t (id, name) VALUES (?, ?)", i, "n" .. i) end
    end)
  end)
  after_each(function() db:close() end)

  local function busy_statements()
    return db:first("SELECT count(*) AS n FROM sqlite_stmt WHERE busy AND sql NOT LIKE '%sqlite_stmt%'").n
  end

  it("streams every row once, in order", function()
    local seen = {}
    for row in db:rows("SELECT id, name FROM t WHERE id <= ? ORDER BY id", 50) do
      seen[#seen + 1] = row.id
      assert.are.equal("n" .. row.id, row.name)
    end
    assert.are.equal(50, #seen)
    assert.are.equal(50, seen[50])
    assert.are.equal(0, busy_statements())
  end)

  it("releases the statement when the loop breaks, so the table can be dropped", function()
    for row in db:rows("SELECT id FROM t ORDER BY id") do
      if row.id == 3 then break end
    end
    assert.are.equal(0, busy_statements())
    db:exec("DROP TABLE t")
    assert.is_nil(db:first("SELECT name FROM sqlite_schema WHERE name = 't'"))
  end)

  it("releases the statement when the loop body raises", function()
    local ok, err = pcall(function()
      for row in db:rows("SELECT id FROM t") do
        if row.id == 10 then error("stop here", 0) end
      end
    end)
    assert.is_false(ok)
    assert.are.equal("stop here", err)
    assert.are.equal(0, busy_statements())
    db:exec("DROP TABLE t")
  end)

  it("holds a statement open while the loop runs (so the test above can fail)", function()
    local looped = 0
    for _ in db:rows("SELECT id FROM t") do
      looped = looped + 1
      assert.are.equal(1, busy_statements())
      local err = error_of(db.exec, db, "DROP TABLE t")
      assert.are.equal("SQLITE_LOCKED", err.code)
      if looped == 1 then break end
    end
    assert.are.equal(1, looped)
  end)

  it("runs nested loops over the same SQL", function()
    local pairs_seen = 0
    for a in db:rows("SELECT id FROM t WHERE id <= ?", 3) do
      for b in db:rows("SELECT id FROM t WHERE id <= ?", 3) do
        pairs_seen = pairs_seen + 1
        assert.is_true(a.id >= 1 and b.id >= 1)
      end
    end
    assert.are.equal(9, pairs_seen)
    assert.are.equal(0, busy_statements())
  end)

  it("lets the loop body write through the same connection", function()
    for row in db:rows("SELECT id FROM t WHERE id <= 10") do
      db:run("UPDATE t SET name = ? WHERE id = ?", "seen", row.id)
    end
    assert.are.equal(10, db:first("SELECT count(*) AS n FROM t WHERE name = 'seen'").n)
  end)

  it("ends cleanly when the iterator is called after the last row", function()
    local next_row, state = db:rows("SELECT id FROM t WHERE id = 1")
    assert.are.same({id = 1}, next_row(state))
    assert.is_nil(next_row(state))
    assert.is_nil(next_row(state))
  end)

  it("raises when the connection is closed during the loop", function()
    local err = error_of(function()
      for _ in db:rows("SELECT id FROM t") do db:close() end
    end)
    assert.are.equal("db:rows: the database :memory: was closed during the loop", without_position(err.message))
  end)

  it("keeps one row in memory at a time over 200,000 rows", function()
    db:exec("CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT)")
    db:transaction(function()
      for i = 1, 200000 do db:run("INSERT INTO big (id, payload) VALUES (?, ?)", i, "row payload") end
    end)
    collectgarbage("collect")
    local base = collectgarbage("count")
    -- What the loop keeps alive is measured after a full collection, so the
    -- collector's pace (which varies by machine and build) cannot move it:
    -- garbage is gone, only what the iterator still references remains.
    local retained, count = 0, 0
    for row in db:rows("SELECT id, payload FROM big") do
      count = count + 1
      if row.id % 20000 == 0 then
        collectgarbage("collect")
        retained = math.max(retained, collectgarbage("count") - base)
      end
    end
    assert.are.equal(200000, count)
    local all = db:query("SELECT id, payload FROM big")
    collectgarbage("collect")
    local held = collectgarbage("count") - base
    assert.are.equal(200000, #all)
    all = nil -- luacheck: ignore
    assert.is_true(retained < 64, ("streaming kept %.0f KB alive after 200,000 rows (one row is a few hundred bytes)"):format(retained))
    assert.is_true(held > 100 * 64, ("holding every row should take far more than 64 KB, took %.0f KB"):format(held))
  end)
end)

describe("the statement cache", function()
  it("prepares a statement once however often it runs", function()
    local db = core.sqlite_open(":memory:")
    db:exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    local insert = "INSERT INTO t (id, v) VALUES (?, ?)"
    db:transaction(function()
      for i = 1, 1000 do db:run(insert, i, "v") end
    end)
    local cached = db:query("SELECT run FROM sqlite_stmt WHERE sql = ?", insert)
    assert.are.same({{run = 1000}}, cached)
    db:close()
  end)

  it("keeps at most 64 statements, dropping the least recently used", function()
    local db = core.sqlite_open(":memory:")
    for i = 1, 100 do db:first("SELECT " .. i .. " AS n") end
    -- 37..100 were kept; this query takes the slot of the least recently used, 37
    local kept = db:first([[SELECT count(*) AS count, min(CAST(substr(sql, 8) AS INTEGER)) AS oldest
                            FROM sqlite_stmt WHERE sql LIKE 'SELECT % AS n']])
    assert.are.same({count = 63, oldest = 38}, kept)
    -- a statement used again is recent again: 38 survives the next eviction, 39 does not
    db:first("SELECT 38 AS n")
    db:first("SELECT 101 AS n")
    local kept_numbers = {}
    for row in db:rows("SELECT CAST(substr(sql, 8) AS INTEGER) AS n FROM sqlite_stmt WHERE sql LIKE 'SELECT % AS n'") do
      kept_numbers[row.n] = true
    end
    assert.is_true(kept_numbers[38])
    assert.is_nil(kept_numbers[39])
    assert.is_true(kept_numbers[101])
    db:close()
  end)
end)

describe("db:transaction", function()
  local db
  before_each(function()
    db = core.sqlite_open(dir .. "/tx.db", {wal = true})
    db:exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
  end)
  after_each(function() db:close() end)

  local function count() return db:first("SELECT count(*) AS n FROM t").n end

  it("commits and returns the function's results, given its arguments", function()
    local a, b, c = db:transaction(function(x, y)
      db:run("INSERT INTO t (name) VALUES (?)", x)
      db:run("INSERT INTO t (name) VALUES (?)", y)
      return "done", nil, 3
    end, "first", "second")
    assert.are.equal("done", a)
    assert.is_nil(b)
    assert.are.equal(3, c)
    assert.are.equal(2, count())
    local other = core.sqlite_open(dir .. "/tx.db")
    assert.are.equal(2, other:first("SELECT count(*) AS n FROM t").n)
    other:close()
  end)

  it("rolls back when the function raises, and raises the same error value again", function()
    local raised = {kind = "mine"}
    local ok, err = pcall(db.transaction, db, function()
      db:run("INSERT INTO t (name) VALUES (?)", "lost")
      error(raised)
    end)
    assert.is_false(ok)
    assert.are.equal(raised, err) -- the very same table
    assert.are.equal(0, count())
    ok, err = pcall(db.transaction, db, function()
      db:run("INSERT INTO t (name) VALUES (?)", "lost")
      error("plain message", 0)
    end)
    assert.is_false(ok)
    assert.are.equal("plain message", err)
    assert.are.equal(0, count())
    assert.is_true(db:first("SELECT 1 AS x") ~= nil)
  end)

  it("rolls back a failing statement's transaction and raises its storage error", function()
    db:run("INSERT INTO t (id, name) VALUES (?, ?)", 1, "a")
    local err = error_of(db.transaction, db, function()
      db:run("INSERT INTO t (id, name) VALUES (?, ?)", 2, "b")
      db:run("INSERT INTO t (id, name) VALUES (?, ?)", 1, "again")
    end)
    assert.are.equal("SQLITE_CONSTRAINT_PRIMARYKEY", err.code)
    assert.are.equal(1, count())
  end)

  it("nests with savepoints: an inner failure undoes only the inner part", function()
    db:transaction(function()
      db:run("INSERT INTO t (name) VALUES (?)", "outer")
      local ok = pcall(db.transaction, db, function()
        db:run("INSERT INTO t (name) VALUES (?)", "inner")
        error("inner fails")
      end)
      assert.is_false(ok)
      db:transaction(function()
        db:run("INSERT INTO t (name) VALUES (?)", "inner kept")
        db:transaction(function() db:run("INSERT INTO t (name) VALUES (?)", "deepest") end)
      end)
    end)
    local names = {}
    for row in db:rows("SELECT name FROM t ORDER BY id") do names[#names + 1] = row.name end
    assert.are.same({"outer", "inner kept", "deepest"}, names)
  end)

  it("rolls back everything when the outer function raises after an inner one committed", function()
    pcall(db.transaction, db, function()
      db:transaction(function() db:run("INSERT INTO t (name) VALUES (?)", "inner") end)
      error("outer fails")
    end)
    assert.are.equal(0, count())
  end)

  it("refuses a function that ends the transaction itself", function()
    local err = error_of(db.transaction, db, function()
      db:run("INSERT INTO t (name) VALUES (?)", "x")
      db:exec("COMMIT")
    end)
    assert.are.equal("db:transaction: the function ended the transaction itself (raise an error to roll back; db:transaction commits)",
                     without_position(err.message))
    db:transaction(function() end) -- the connection is usable again
  end)

  it("raises and rolls back when the function yields", function()
    local co = coroutine.wrap(function()
      return db:transaction(function()
        db:run("INSERT INTO t (name) VALUES (?)", "x")
        coroutine.yield()
      end)
    end)
    local ok, err = pcall(co)
    assert.is_false(ok)
    assert.matches("attempt to yield across a C%-call boundary", err)
    assert.are.equal(0, count())
  end)

  it("reports a connection closed by the function", function()
    local other = core.sqlite_open(dir .. "/tx.db")
    local err = error_of(other.transaction, other, function()
      other:run("INSERT INTO t (name) VALUES (?)", "x")
      other:close()
    end)
    assert.are.equal("db:transaction: the function closed the database, so nothing was committed",
                     without_position(err.message))
    assert.are.equal(0, count())
  end)
end)

describe("two connections to one file", function()
  it("see each other's committed writes", function()
    local path = dir .. "/shared.db"
    local a = core.sqlite_open(path, {wal = true})
    local b = core.sqlite_open(path, {wal = true})
    a:exec("CREATE TABLE t (x INTEGER)")
    a:run("INSERT INTO t VALUES (?)", 1)
    assert.are.equal(1, b:first("SELECT count(*) AS n FROM t").n)
    b:run("INSERT INTO t VALUES (?)", 2)
    assert.are.equal(3, a:first("SELECT sum(x) AS s FROM t").s)
    a:close()
    b:close()
  end)

  it("in WAL mode, read the last committed state while the other writes", function()
    local path = dir .. "/wal.db"
    local writer = core.sqlite_open(path, {wal = true})
    local reader = core.sqlite_open(path, {busy_timeout_ms = 0})
    writer:exec("CREATE TABLE t (x INTEGER)")
    writer:run("INSERT INTO t VALUES (1)")
    writer:transaction(function()
      writer:run("INSERT INTO t VALUES (2)")
      -- the reader is not blocked, and does not see the uncommitted row
      assert.are.equal(1, reader:first("SELECT count(*) AS n FROM t").n)
    end)
    assert.are.equal(2, reader:first("SELECT count(*) AS n FROM t").n)
    writer:close()
    reader:close()
  end)

  it("raise SQLITE_BUSY, retryable, once the busy timeout passes while the other holds the write lock", function()
    local path = dir .. "/busy.db"
    local holder = core.sqlite_open(path, {wal = true})
    holder:exec("CREATE TABLE t (x INTEGER)")
    local waiter = core.sqlite_open(path, {busy_timeout_ms = 20})
    holder:exec("BEGIN IMMEDIATE")
    holder:run("INSERT INTO t VALUES (1)")

    local err = error_of(waiter.run, waiter, "INSERT INTO t VALUES (?)", 2)
    assert.are.equal("storage", err.kind)
    assert.are.equal("SQLITE_BUSY", err.code)
    assert.is_true(err.retryable)
    assert.are.equal("db:run on " .. path .. " failed: database is locked (another connection holds the lock; gave up after 20 ms, see busy_timeout_ms) (SQL: INSERT INTO t VALUES (?))",
                     err.message)
    err = error_of(waiter.transaction, waiter, function() error("never runs") end)
    assert.are.equal("SQLITE_BUSY", err.code)
    assert.matches("%(SQL: BEGIN IMMEDIATE%)$", err.message)

    holder:exec("COMMIT")
    waiter:run("INSERT INTO t VALUES (?)", 2) -- the same statement works once the lock is gone
    assert.are.equal(2, waiter:first("SELECT count(*) AS n FROM t").n)
    holder:close()
    waiter:close()
  end)

  it("take turns between processes writing at once, losing nothing", function()
    local path = dir .. "/procs.db"
    local db = core.sqlite_open(path, {wal = true})
    db:exec("CREATE TABLE t (writer INTEGER, n INTEGER, PRIMARY KEY (writer, n))")
    local writer = ([[
      local core = require "performlua.core"
      local db = core.sqlite_open(%q, {wal = true, busy_timeout_ms = 30000})
      local me = tonumber(arg[1])
      for n = 1, 300 do
        db:transaction(function() db:run("INSERT INTO t (writer, n) VALUES (?, ?)", me, n) end)
      end
      db:close()
    ]]):format(path)
    write_file(dir .. "/writer.lua", writer)
    local script = shell_quote(dir .. "/writer.lua")
    local one = shell_quote(bin) .. " " .. script
    local cmd = ("%s 1 & a=$!; %s 2 & b=$!; %s 3 & c=$!; wait $a && wait $b && wait $c"):format(one, one, one)
    assert.is_true(os.execute("bash -c " .. shell_quote(cmd)))
    assert.are.same({{writer = 1, n = 300}, {writer = 2, n = 300}, {writer = 3, n = 300}},
                    db:query("SELECT writer, count(*) AS n FROM t GROUP BY writer ORDER BY writer"))
    db:close()
  end)
end)

describe("durability", function()
  it("keeps every committed transaction, and only those, when the writer is killed with SIGKILL", function()
    local path = dir .. "/journal.db"
    local setup = core.sqlite_open(path, {wal = true})
    setup:exec([[CREATE TABLE steps (batch INTEGER, n INTEGER, PRIMARY KEY (batch, n));
                 CREATE TABLE progress (id INTEGER PRIMARY KEY CHECK (id = 1), batches INTEGER);
                 INSERT INTO progress VALUES (1, 0)]])
    setup:close()
    write_file(dir .. "/writer.lua", ([[
      local core = require "performlua.core"
      local db = core.sqlite_open(%q, {wal = true, synchronous = "full"})
      print(core.getpid())
      io.stdout:flush()
      for batch = 1, 100000 do
        db:transaction(function()
          for n = 1, 10 do db:run("INSERT INTO steps (batch, n) VALUES (?, ?)", batch, n) end
          db:run("UPDATE progress SET batches = ? WHERE id = 1", batch)
        end)
        print(batch)
        io.stdout:flush()
      end
    ]]):format(path))
    local p = io.popen("exec " .. shell_quote(bin) .. " " .. shell_quote(dir .. "/writer.lua"))
    local pid = assert(tonumber(p:read("l")))
    local reported = 0
    while reported < 30 do reported = assert(tonumber(p:read("l"))) end
    assert.is_true(os.execute("kill -9 " .. pid))
    p:close()

    local db = core.sqlite_open(path)
    assert.are.equal("ok", db:first("PRAGMA integrity_check").integrity_check)
    local batches = db:first("SELECT batches FROM progress").batches
    assert.is_true(batches >= reported)
    -- every committed batch is whole, and nothing of an uncommitted one is there
    assert.are.equal(batches * 10, db:first("SELECT count(*) AS n FROM steps").n)
    assert.are.equal(batches, db:first("SELECT max(batch) AS b FROM steps").b)
    db:close()
  end)
end)
