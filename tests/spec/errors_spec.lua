-- The one error shape: its kinds, and usage errors that name the line of the script that
-- called performlua (not a line inside the library, and not nothing).
local mc = require "performlua"
local errors = require "performlua.errors"
local core = require "performlua.core"

local HERE = debug.getinfo(1, "S").short_src

-- The error `fn` raises, and the line `fn` was defined on plus `offset` (the line of the call
-- inside it), as "file:line: " -- the position a usage error raised by that call must name.
local function raised(fn, offset)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  return err, string.format("%s:%d: ", HERE, debug.getinfo(fn, "S").linedefined + offset)
end

-- Nothing listens on port 9: the checks asserted here come before any request.
local function offline_client()
  return mc.connect{client_id = "id", client_secret = "secret", auth_url = "http://127.0.0.1:9/",
    retries = 0, token_cache = false}
end

describe("usage errors", function()
  it("name the caller's line for mc.map and mc.connect", function()
    local err, at = raised(function()
      mc.map(1, print)
    end, 1)
    assert.are.equal("usage", err.kind)
    assert.are.equal(at .. "mc.map: argument #1 must be a list (table), got number", err.message)
    assert.are.equal("usage error: " .. at .. "mc.map: argument #1 must be a list (table), "
      .. "got number", tostring(err))

    err, at = raised(function()
      mc.connect{timeuot = 1}
    end, 1)
    assert.are.equal(at .. "mc.connect: unknown setting 'timeuot' (settings: account_id, "
      .. "auth_url, ca_file, chunk_size, client_id, client_secret, connect_timeout, "
      .. "max_in_flight, password, profile, refresh_margin, retries, retrieve_timeout, "
      .. "retry_base_delay, retry_max_seconds, soap_url, subdomain, timeout, token_cache, trace, "
      .. "username)", err.message)
  end)

  it("name the caller's line for c:wait, c:each and c:perform", function()
    local c = offline_client()
    local err, at = raised(function()
      c:wait(12)
    end, 1)
    assert.are.equal(at .. "c:wait(task_id, kind, opts): give the kind of work too: \"send\" "
      .. "(a Send by ID), \"import\" (ImportResultsSummary by TaskResultID) or \"activity\" "
      .. "(AsyncActivityStatus by TaskID)", err.message)

    err, at = raised(function()
      c:wait(12, "send", {timout = 3})
    end, 1)
    assert.are.equal(at .. "c:wait: unknown option 'timout' (options: interval, max_interval, "
      .. "progress, properties, report_every, timeout)", err.message)

    -- c:each checks its arguments when the loop asks for the first row: the `for` line
    err, at = raised(function()
      for _ in c:each(42) do end
    end, 1)
    assert.are.equal(at .. "c:retrieve(object_type, properties, filter, options): object_type "
      .. "must be a type name such as \"Subscriber\"", err.message)

    err, at = raised(function()
      c:perform("strat", mc.EmailSendDefinition{CustomerKey = "welcome"})
    end, 1)
    assert.are.equal(at .. "c:perform: EmailSendDefinition has no Perform action 'strat'; "
      .. "valid actions: start, test, GetMaxCount (reserved for future use, refused unless "
      .. "allow_reserved = true: stop, pause, restart)", err.message)

    err, at = raised(function()
      c:perform("start", {})
    end, 1)
    assert.are.equal(at .. "c:perform: the array is empty", err.message)
  end)

  it("name the line that called through pcall, a method value or an mc.map item", function()
    local c = offline_client()
    -- pcall is C: the line that called pcall is the caller
    local ok, err = pcall(c.perform, c, "start", {}); local line = debug.getinfo(1, "l").currentline
    assert.is_false(ok)
    assert.are.equal(string.format("%s:%d: c:perform: the array is empty", HERE, line),
      err.message)
    -- inside an item of mc.map (a coroutine of the event loop): the item's own line
    local at
    err, at = raised(function()
      mc.map({1}, function()
        c:perform("start", {})
      end)
    end, 2)
    assert.are.equal("usage", err.kind)
    assert.are.equal("mc.map: item 1 (1) failed: " .. at .. "c:perform: the array is empty",
      err.message)
    -- a task that yields to the loop itself: the line of its yield, found in its coroutine
    err, at = raised(function()
      mc.parallel(function()
        coroutine.yield("oops")
      end)
    end, 2)
    assert.are.equal("mc.parallel: function 1 failed: " .. at .. "coroutine.yield() was called "
      .. "directly inside a function run by mc.parallel or mc.map; wrap your own generator in "
      .. "coroutine.wrap/create", err.message)
  end)

  it("found by the encoder name the line of the call that sent the request", function()
    local err, at = raised(function()
      mc.encode("Creat", {})
    end, 1)
    assert.are.equal(at .. "unknown operation 'Creat' (did you mean 'Create'?); the operations "
      .. "are Create, Retrieve, Update, Delete, Query, Describe, Execute, Perform, Configure, "
      .. "Schedule, VersionInfo, Extract, GetSystemStatus", err.message)
    -- in a call sent in chunks every chunk is encoded before the first is sent
    local c = offline_client()
    local objects = {}
    for i = 1, 3 do objects[i] = mc.Subscriber{EmailAddress = i .. "@example.com"} end
    objects[3] = {Nope = 1}
    err, at = raised(function()
      c:create(objects, {chunk_size = 2})
    end, 1)
    assert.are.equal(at .. "CreateRequest.Objects[1]: APIObject has no field 'Nope'; build the "
      .. "object with its type's constructor (e.g. mc.EmailSendDefinition{...}) so that it is "
      .. "sent as that type (in the chunk of objects 3-3 of 3; nothing was sent)", err.message)
  end)

  it("name the line of an unknown type, as the constructors name a misspelt field", function()
    local err, at = raised(function()
      return mc.EmailSendDefinitoin
    end, 1)
    assert.are.equal(at .. "mc.EmailSendDefinitoin: there is no API type EmailSendDefinitoin "
      .. "(did you mean 'EmailSendDefinition'?); mc.types() lists them", err.message)
    err, at = raised(function()
      return mc.EmailSendDefinition{CustomerKy = "x"}
    end, 1)
    assert.are.equal(at .. "EmailSendDefinition has no field 'CustomerKy' (did you mean "
      .. "'CustomerKey'?)", err.message)
  end)

  it("about the config file name the file, not a line of the script", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(core.mkdir_p(dir .. "/performlua", 448))
    local path = dir .. "/performlua/config.lua"
    assert(core.write_file_atomic(path, "profiles = {\n  p = {client_id = 'x',,}\n}\n", 384))
    local saved = os.getenv("XDG_CONFIG_HOME")
    core.setenv("XDG_CONFIG_HOME", dir)
    local ok, err = pcall(mc.connect, {profile = "p"})
    core.setenv("XDG_CONFIG_HOME", saved)
    os.remove(path)
    os.remove(dir .. "/performlua")
    os.remove(dir)
    assert.is_false(ok)
    assert.are.equal("usage", err.kind)
    assert.are.equal("config file " .. path .. ":2: unexpected symbol (not valid Lua: check "
      .. "quotes, commas and braces on that line)", err.message)
  end)

  it("raised with level 0 carry no position", function()
    local ok, err = pcall(errors.usage, "plain", 0)
    assert.is_false(ok)
    assert.are.equal("plain", err.message)
  end)
end)

describe("error kinds", function()
  it("are listed once, each with what it means", function()
    local names = {}
    for i, k in ipairs(errors.KINDS) do
      names[i] = k.name
      assert.is_true(type(k.means) == "string" and #k.means > 10, k.name)
    end
    assert.are.same({"usage", "auth", "fault", "http", "transport", "xml", "sandbox", "failed",
      "timeout", "script", "storage", "interrupted", "journal"}, names)
  end)

  it("refuse an unknown kind when an error is made: a bug in performlua, said as such", function()
    local ok, err = pcall(errors.new, {kind = "oops", message = "x"})
    assert.is_false(ok)
    assert.are.equal("string", type(err))
    assert.matches("performlua bug: error kind 'oops' is not one of performlua.errors.KINDS "
      .. "%(usage, auth, fault", err)
    local e = errors.new{kind = "fault", message = "m", code = 17}
    assert.is_true(errors.is_error(e))
    assert.is_false(e.retryable)
    assert.are.equal("fault error: m [code 17]", tostring(e))
  end)

  it("raised from C are all among them", function()
    -- The C side names its kinds as string literals in pl_error_push / pl_error_raisef calls
    -- (and in the one variable schema_bind.c chooses between two of them).
    local root = assert(os.getenv("PERFORMLUA_SOURCE_DIR"), "PERFORMLUA_SOURCE_DIR")
    local files = assert(io.popen("find '" .. root .. "/runtime' -name '*.c'"))
    local seen = {}
    for file in files:lines() do
      local f = assert(io.open(file))
      local text = f:read("a")
      f:close()
      for kind in text:gmatch("pl_error_%a+%(%s*L,%s*\"([%w_]+)\"") do
        seen[kind] = file
      end
      for a, b in text:gmatch("kind%s*=[^;\n]-%?%s*\"([%w_]+)\"%s*:%s*\"([%w_]+)\"") do
        seen[a], seen[b] = file, file
      end
    end
    files:close()
    assert.is_not_nil(next(seen), "found no kinds in runtime/: the pattern is out of date")
    for kind, file in pairs(seen) do
      assert.is_true(errors.is_kind(kind), string.format("%s raises kind '%s'", file, kind))
    end
  end)
end)
