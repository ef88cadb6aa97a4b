-- c:wait against the sandbox: the real Perform answers, the real polled objects, the sandbox's
-- clock. Objects come from the default seed (looked up, not assumed). The exact state machine
-- (every failure state, exact timing) is in wait_scripted_spec.lua.
local mc = require "performlua"
local loop = require "performlua.loop"
local sandbox = require "performlua.sandbox"
local perform = require "performlua.perform"

local wh = require "workflow_helper"

local box

local function connect() return wh.sandbox_client(box) end

local function start_box(args)
  if box then box:stop() end
  box = sandbox.start(args)
end

-- The CustomerKey of the first object of a type in the seed.
local function first_key(c, object_type, filter)
  local r = c:retrieve(object_type, {"CustomerKey", "Name"}, filter)
  assert(r.ok, tostring(r.OverallStatus))
  assert(r.Results[1], "the seed has no " .. object_type)
  return r.Results[1].CustomerKey, r.Results[1]
end


local FAST = {interval = 0.02, max_interval = 0.05, timeout = 20}

describe("c:wait (sandbox)", function()
  after_each(function() if box then box:stop() box = nil end end)

  -- `action` (default start) on the seed's first definition of `type_name`, in a sandbox whose
  -- clock runs at `speed` (default 50): the client, the checked result, the definition's key.
  local function start(type_name, speed, action)
    start_box{port = 0, speed = speed or 50}
    local c = connect()
    local key = first_key(c, type_name)
    local r = c:perform(action or "start", mc[type_name]{CustomerKey = key})
    r:check()
    return c, r, key
  end

  it("follows an EmailSendDefinition start to the Send with Status Complete", function()
    start_box{port = 0, speed = 50}
    local c = connect()
    local esd = first_key(c, "EmailSendDefinition")
    local sp_key, sp = first_key(c, "SenderProfile")
    local r = c:perform("start", mc.EmailSendDefinition{CustomerKey = esd,
      SenderProfile = mc.SenderProfile{CustomerKey = sp_key}})
    r:check()
    local task_id = r.Results[1].Task.ID
    local send = c:wait(r, FAST)
    assert.are.equal("Send", mc.typeof(send))
    assert.are.equal("Complete", send.Status)
    assert.are.equal(tostring(task_id), tostring(send.ID))
    assert.is_true(send.NumberSent > 0)
    assert.are.equal(send.NumberTargeted, send.NumberSent)
    assert.is_string(send.SentDate)
    -- the sender profile overrode the definition's sender
    local profile = c:retrieve("SenderProfile", {"FromName", "FromAddress"},
      {Property = "CustomerKey", SimpleOperator = "equals", Value = sp_key}).Results[1]
    assert.are.equal(profile.FromName, send.FromName)
    assert.are.equal(profile.FromAddress, send.FromAddress)
    assert.is_truthy(sp)
  end)

  it("follows an ImportDefinition start to the ImportResultsSummary Completed", function()
    local c, r = start("ImportDefinition")
    local summary = c:wait(r, FAST)
    assert.are.equal("ImportResultsSummary", mc.typeof(summary))
    assert.are.equal("Completed", summary.ImportStatus)
    assert.are.equal(tostring(r.Results[1].Task.ID), tostring(summary.TaskResultID))
  end)

  it("follows a QueryDefinition start through AsyncActivityStatus to Complete", function()
    local c, r = start("QueryDefinition")
    local status = c:wait(r, FAST)
    -- the service answers with an ObjectExtension property bag; its properties are lifted
    assert.are.equal("ObjectExtension", mc.typeof(status))
    assert.are.equal("AsyncActivityStatus", status.Type)
    assert.are.equal("Complete", status.Status)
    assert.is_table(status.Properties)
    assert.are.equal(tostring(r.Results[1].Task.ID), tostring(status.TaskID))
  end)

  it("follows an audience build, and a task id with its kind", function()
    local c, r = start("AudienceDefinition", 50, "build")
    local status = c:wait(r.Results[1].Task.ID, "activity", FAST)
    assert.are.equal("Complete", status.Status)
    -- the kind may also be the type of the definition, as c:wait(result) reads it
    assert.are.equal("Complete", c:wait(r.Results[1].Task.ID, "AudienceDefinition", FAST).Status)
  end)

  it("raises when the send is cancelled while it runs", function()
    local c, r, esd = start("EmailSendDefinition", 0.05) -- a send takes far longer than this test
    local send_id = math.tointeger(tonumber(r.Results[1].Task.ID))
    local ok, err = pcall(function()
      return mc.parallel(
        function() return c:wait(r, {interval = 0.05, max_interval = 0.05, timeout = 10}) end,
        function()
          mc.sleep(0.2)
          c:perform("cancel", mc.Send{ID = send_id}):check()
        end)
    end)
    assert.is_false(ok)
    assert.are.equal("failed", err.kind)
    assert.are.equal(1, err.item)
    assert.matches("^mc%.parallel: function 1 failed: Send " .. send_id .. " %(started by "
      .. "EmailSendDefinition '" .. esd:gsub("%p", "%%%0") .. "'%) ended with Status 'Canceled'",
      err.message)
    assert.are.equal("Canceled", err.cause.status.Status)
  end)

  it("times out with the last status it saw", function()
    local c, r = start("EmailSendDefinition", 0.01)
    local t0 = loop.now()
    local ok, err = pcall(c.wait, c, r, {interval = 0.05, timeout = 0.4})
    assert.is_false(ok)
    assert.are.equal("timeout", err.kind)
    -- the send needs about 100 s at this speed: well under that means the timeout ended the
    -- wait (a bound a loaded machine under the sanitizers cannot reach; exact timing is
    -- wait_scripted_spec's)
    assert.is_true(loop.now() - t0 < 20)
    assert.is_truthy(err.status)
    assert.are_not.equal("Complete", err.status.Status)
    assert.matches("^gave up after 0%.4 s waiting for Send " .. r.Results[1].Task.ID, err.message)
  end)

  -- that the waits overlap is counted in wait_scripted_spec ("waits overlap"); here they run
  -- against the sandbox's real Sends
  it("waits for several sends started inside mc.map", function()
    start_box{port = 0, speed = 20, latency = 30}
    local c = connect()
    local esd = first_key(c, "EmailSendDefinition")
    local sends = mc.map({1, 2, 3, 4}, function()
      local r = c:perform("start", mc.EmailSendDefinition{CustomerKey = esd})
      r:check()
      return c:wait(r, FAST)
    end, {concurrency = 4})
    local ids = {}
    for i = 1, 4 do
      assert.are.equal("Complete", sends[i].Status)
      ids[sends[i].ID] = true
    end
    local distinct = 0
    for _ in pairs(ids) do distinct = distinct + 1 end
    assert.are.equal(4, distinct)
  end)

  it("returns an array for a Perform with several definitions", function()
    start_box{port = 0, speed = 50}
    local c = connect()
    local defs = {mc.QueryDefinition{CustomerKey = first_key(c, "QueryDefinition")},
      mc.FilterActivity{CustomerKey = first_key(c, "FilterActivity")},
      mc.GroupDefinition{CustomerKey = first_key(c, "GroupDefinition")}}
    local r = c:perform("start", defs)
    r:check()
    local statuses = c:wait(r, FAST)
    assert.are.equal(3, #statuses)
    for i = 1, 3 do
      assert.are.equal("Complete", statuses[i].Status)
      assert.are.equal(tostring(r.Results[i].Task.ID), tostring(statuses[i].TaskID))
    end
    -- one definition: the status object itself
    local one = c:wait(c:perform("start", defs[1]), FAST)
    assert.are.equal("Complete", one.Status)
  end)

  it("explains what to poll after an Automation start", function()
    start_box{port = 0, speed = 50}
    local c = connect()
    local key = first_key(c, "Automation")
    local r = c:perform("start", mc.Automation{CustomerKey = key})
    r:check()
    local ok, err = pcall(c.wait, c, r)
    assert.is_false(ok)
    assert.are.equal("usage", err.kind)
    assert.matches("has no task to follow: the service answers Automation start without a "
      .. "Task. Poll the automation itself instead", err.message, 1, true)
  end)

  -- One table (performlua.perform's `completes` column) tells c:wait what to follow and the
  -- sandbox what to leave behind: every action it says completes later must be followable to
  -- its end, and every one it says completes within the call must have nothing to wait for.
  it("follows every action the Perform table says completes later, in the sandbox", function()
    start_box{port = 0, speed = 50}
    local c = connect()
    local done_status = {send = "Complete", import = "Completed", activity = "Complete"}
    local followed, refused = 0, 0
    for _, o in ipairs(perform.objects) do
      for _, action in ipairs(o.actions) do
        local how = o.completes[action]
        -- the seed has one of each type but ContentValidation (a request, not stored) and
        -- Send (its actions need the ID of a running send)
        local key = not o.requires_id and o.type ~= "ContentValidation"
          and c:retrieve(o.type, {"CustomerKey"}):check().Results[1].CustomerKey
        local r = key and c:perform(action, mc[o.type]{CustomerKey = key})
        local label = o.type .. " " .. action
        if done_status[how] then
          r:check()
          local status = c:wait(r, FAST)
          assert.are.equal(done_status[how], status.Status or status.ImportStatus, label)
          followed = followed + 1
        elseif r and r.ok then
          local ok, err = pcall(c.wait, c, r)
          assert.is_false(ok, label)
          assert.are.equal("usage", err.kind, label)
          assert.matches(how == "call" and "nothing to wait for" or "has no task to follow",
            err.message, 1, true)
          refused = refused + 1
        end
      end
    end
    -- every start but Automation's (14), EmailSendDefinition test and AudienceDefinition build
    assert.are.equal(16, followed)
    assert.is_true(refused >= 10, "call actions checked: " .. refused)
  end)
end)
