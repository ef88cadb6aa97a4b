-- Requests take turns on the sandbox's one Lua state (runtime/sandbox/turns.c): a big Create
-- gives its turn to waiting requests between its objects, so small requests are answered while
-- it is in progress instead of after it. Proven by what the small requests see, never by how
-- long they take: a Retrieve that finds the big Create's first row but not its last ran in the
-- middle of it, which a lock held for a request's whole handling makes impossible.
local mc = require "performlua"
local core = require "performlua.core"
local sandbox = require "performlua.sandbox"
local auth = require "performlua.auth"

local ROWS = 10000

local function key(i) return string.format("sub-%06d", i) end

describe("sandbox turns", function()
  before_each(function() auth._reset() end)

  it("answers small Retrieves while a big Create is in progress, between its objects", function()
    local sb <close> = sandbox.start{port = 0}
    local c = mc.connect{auth_url = sb.auth_url, client_id = "sandbox", client_secret = "sandbox",
      token_cache = false}
    c:create(mc.DataExtension{CustomerKey = "Turns_Big", Name = "Turns big", Fields = {
      {Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true,
       IsRequired = true}}}):check()
    local objects = {}
    for i = 1, ROWS do
      objects[i] = mc.DataExtensionObject{CustomerKey = "Turns_Big",
        Properties = {{Name = "SubscriberKey", Value = key(i)}}}
    end
    local envelope = core.encode("Create", {Objects = objects},
      {header = {username = "sandbox", password = "sandbox"}})
    objects = nil -- luacheck: ignore 311
    local file = os.tmpname()
    local f = assert(io.open(file, "wb"))
    f:write(envelope)
    f:close()
    local done = os.tmpname()
    os.remove(done)

    -- the first row and the last: a Retrieve finding one of them ran during the Create
    local probe = mc.SimpleFilterPart{Property = "SubscriberKey", SimpleOperator = "IN",
      Value = {key(1), key(ROWS)}}
    local function found()
      local r = c:retrieve("DataExtensionObject[Turns_Big]", {"SubscriberKey"}, probe):check()
      return #r.Results
    end
    assert.are.equal(0, found())

    -- the big Create goes through curl in a process of its own; `done` appears when its
    -- answer has been read
    local big = io.popen(string.format("curl -s -o /dev/null -w '%%{http_code}' --max-time 900 "
      .. "-H 'SOAPAction: Create' -H 'Content-Type: text/xml' -H 'Expect:' --data-binary @%s %s;"
      .. " touch %s", file, sb.soap_url, done))
    -- Small Retrieves one after the other until one finds the Create half done (or it has
    -- ended). Then they stop: each one waiting has a turn between two of the Create's rows,
    -- so a steady stream of them would stretch the Create over as many turns (slow under the
    -- sanitizers), and one seen in the middle is what the test is after.
    local seen = {} -- what each small Retrieve found, in the order they were answered
    local function finished()
      local h = io.open(done, "r")
      if h then h:close() end
      return h ~= nil
    end
    repeat
      seen[#seen + 1] = found()
    until seen[#seen] == 1 or finished() or #seen > 100000 -- a hang catcher
    while not finished() do core.sleep(0.05) end -- curl's --max-time bounds it
    local status = big:read("a")
    big:close()
    os.remove(file)
    os.remove(done)
    assert.are.equal("200", status)
    assert.are.equal(ROWS, #sb:rows("Turns_Big"))

    -- a small request was answered in the middle of the Create (its first row stored, not yet
    -- its last), and the Create went on to store every row after it
    local middle
    for i, n in ipairs(seen) do
      if n == 1 then middle = middle or i end
    end
    assert.is_not_nil(middle, "no small Retrieve was answered while the Create was in progress")
    for i = 1, middle - 1 do assert.is_true(seen[i] <= 1) end
    assert.are.equal(2, found())
  end)

  it("keeps each request's own log line when a request runs in the middle of another", function()
    -- the service alone, in this state: the safe point between a Create's objects is where
    -- the server would let a waiting request run, so it runs one there
    local service = require "performlua.sandbox.service"
    local lines = {}
    local handle = service.new{log = true, log_sink = function(line) lines[#lines + 1] = line end}
    local function request(op, inner)
      return {method = "POST", path = "/Service.asmx", headers = {soapaction = op},
        body = core.encode(op, inner, {header = {username = "sandbox", password = "sandbox"}})}
    end
    local lists = {}
    for i = 1, 5 do lists[i] = mc.List{ListName = "turns " .. i} end
    local small_answer, ran
    local yield = core.sandbox_yield
    core.sandbox_yield = function()
      if not ran then -- once, at the Create's first safe point (the small one has its own)
        ran = true
        small_answer = handle(request("Retrieve", {RetrieveRequest = {ObjectType = "Subscriber",
          Properties = {"SubscriberKey"}}}))
      end
    end
    local ok, big_answer = pcall(handle, request("Create", {Objects = lists}))
    core.sandbox_yield = yield
    assert.is_true(ok, tostring(big_answer))
    assert.are.equal(200, small_answer.status)
    assert.are.equal(200, big_answer.status)
    assert.are.equal(2, #lines)
    -- the small one ended first, and each line names its own request
    assert.matches("^%S+  Retrieve  Subscriber  200  ", lines[1])
    assert.matches("^%S+  Create  List  200  ", lines[2])
  end)

  it("keeps every request's changes in --state when requests interleave", function()
    -- A small Create that begins during a big one has safe points of its own, so the big one
    -- may end first: the account's transaction must not be a per-request one (its end would
    -- come out of order), and the file must hold both requests' rows after a restart.
    local state = os.tmpname()
    os.remove(state)
    local sb = sandbox.start{port = 0, state = state}
    local c = mc.connect{auth_url = sb.auth_url, client_id = "sandbox", client_secret = "sandbox",
      token_cache = false}
    c:create(mc.DataExtension{CustomerKey = "Turns_State", Name = "Turns state", Fields = {
      {Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true,
       IsRequired = true}}}):check()
    local big_rows = 3000
    local objects = {}
    for i = 1, big_rows do
      objects[i] = mc.DataExtensionObject{CustomerKey = "Turns_State",
        Properties = {{Name = "SubscriberKey", Value = key(i)}}}
    end
    local file = os.tmpname()
    local f = assert(io.open(file, "wb"))
    f:write(core.encode("Create", {Objects = objects},
      {header = {username = "sandbox", password = "sandbox"}}))
    f:close()
    objects = nil -- luacheck: ignore 311
    local done = os.tmpname()
    os.remove(done)
    local big = io.popen(string.format("curl -s -o /dev/null -w '%%{http_code}' --max-time 900 "
      .. "-H 'SOAPAction: Create' -H 'Content-Type: text/xml' -H 'Expect:' --data-binary @%s %s;"
      .. " touch %s", file, sb.soap_url, done))
    local function finished()
      local h = io.open(done, "r")
      if h then h:close() end
      return h ~= nil
    end
    -- small Creates of three rows each while the big one runs (and a few after)
    local small, n = 0, 0
    repeat
      n = n + 1
      local three = {}
      for j = 1, 3 do
        three[j] = mc.DataExtensionObject{CustomerKey = "Turns_State",
          Properties = {{Name = "SubscriberKey", Value = string.format("small-%d-%d", n, j)}}}
      end
      c:create(three):check()
      small = small + 3
    until (finished() and n >= 3) or n > 20000 -- a hang catcher
    local status = big:read("a")
    big:close()
    os.remove(file)
    os.remove(done)
    assert.are.equal("200", status)
    assert.are.equal(big_rows + small, #sb:rows("Turns_State"))
    sb:stop()

    -- a new sandbox on the same file finds every row of both
    local again <close> = sandbox.start{port = 0, state = state}
    assert.are.equal(big_rows + small, #again:rows("Turns_State"))
    again:stop()
    for _, suffix in ipairs{"", "-wal", "-shm"} do os.remove(state .. suffix) end
  end)
end)
