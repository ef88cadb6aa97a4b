-- c:wait against a scripted SOAP server: every state sequence is exact (states the sandbox's
-- seed cannot produce, such as an import that ends in Error), and time is measured precisely.
-- loop.http is replaced by a function that answers from the script (as client_policy_spec
-- does); the same behaviours run against the real sandbox in wait_spec.lua.
local core = require "performlua.core"
local loop = require "performlua.loop"
local mc = require "performlua"

local wh = require "workflow_helper"
local uh = require "usage_helper"

local response, connect = wh.response, wh.scripted_client
local polls            -- decoded Retrieve requests, in order, with their time
local perform_answer   -- function(body) -> Results for a Perform
local states           -- object type -> list of objects to answer, one per poll (last repeats)

local function next_state(object_type)
  local list = states[object_type]
  if not list then return nil end
  local obj = list[1]
  if #list > 1 then table.remove(list, 1) end
  return obj
end

local function install()
  polls = {}
  states = {}
  wh.install(function(element, body)
    if element == "PerformRequestMsg" then
      return core.encode_message("PerformResponseMsg", {
        Results = perform_answer(body), OverallStatus = "OK", OverallStatusMessage = "",
        RequestID = "perform-1"}, {})
    end
    assert(element == "RetrieveRequestMsg", element)
    local rr = body.RetrieveRequest
    polls[#polls + 1] = {type = rr.ObjectType, filter = rr.Filter, properties = rr.Properties,
                         at = loop.now()}
    local obj = next_state(rr.ObjectType)
    return core.encode_message("RetrieveResponseMsg", {OverallStatus = "OK",
      RequestID = "poll-" .. #polls, Results = obj and {obj} or nil}, {})
  end)
end

local function send(id, status, sent, targeted)
  return mc.Send{ID = id, Status = status, NumberSent = sent, NumberTargeted = targeted}
end

local function activity(task_id, status, extra)
  local props = {{Name = "TaskID", Value = tostring(task_id)}, {Name = "Status", Value = status}}
  for _, p in ipairs(extra or {}) do props[#props + 1] = p end
  return setmetatable({Properties = props}, core.object_metatable("AsyncActivityStatus"))
end

local function started(type_name, key, task_id)
  return {StatusCode = "OK", StatusMessage = type_name .. " performed", OrdinalID = 0,
    Object = mc[type_name]{CustomerKey = key},
    Task = {StatusCode = "OK", StatusMessage = "OK", ID = tostring(task_id)}}
end

local FAST = {interval = 0.01, max_interval = 0.01, timeout = 5}

-- Runs f with loop.now and loop.sleep on a clock of the spec's own: a sleep moves it on at
-- once. The scripted answers come back without waiting, so how many polls fit in a timeout
-- and how far apart they fall are exact, however loaded the machine (on the real clock a
-- poll slowed by sanitizers at load 13 changed the counts). Returns what f returns.
local function on_virtual_clock(f)
  local t, now, sleep = 1000, loop.now, loop.sleep
  loop.now = function() return t end
  -- in whole microseconds, as a monotonic clock reads: 0.05 added six times is then 0.3
  loop.sleep = function(seconds) t = math.floor((t + seconds) * 1e6 + 0.5) / 1e6 end
  local result = table.pack(pcall(f))
  loop.now, loop.sleep = now, sleep
  if not result[1] then error(result[2], 0) end
  return table.unpack(result, 2, result.n)
end

describe("c:wait (scripted service)", function()
  before_each(install)
  after_each(wh.restore)

  it("polls the Send by Task.ID after EmailSendDefinition start and returns it", function()
    perform_answer = function() return {started("EmailSendDefinition", "welcome", 4711)} end
    states.Send = {send(4711, "Scheduled", 0, 3), send(4711, "Sending", 1, 3),
                   send(4711, "Complete", 3, 3)}
    local c = connect()
    local r = c:perform("start", mc.EmailSendDefinition{CustomerKey = "welcome"})
    local s = c:wait(r, FAST)
    assert.are.equal("Send", mc.typeof(s))
    assert.are.equal("Complete", s.Status)
    assert.are.equal(3, s.NumberSent)
    assert.are.equal(3, #polls)
    for _, p in ipairs(polls) do
      assert.are.equal("Send", p.type)
      assert.are.same({Property = "ID", SimpleOperator = "equals", Value = {"4711"}},
        {Property = p.filter.Property, SimpleOperator = p.filter.SimpleOperator,
         Value = p.filter.Value})
    end
    assert.is_truthy(table.concat(polls[1].properties, ","):find("Status,SendDate,SentDate", 1,
      true))
  end)

  it("accepts one Result of a Perform result, and Completed as done", function()
    perform_answer = function() return {started("EmailSendDefinition", "welcome", 12)} end
    states.Send = {send(12, "Completed", 2, 2)}
    local c = connect()
    local r = c:perform("start", mc.EmailSendDefinition{CustomerKey = "welcome"})
    assert.are.equal("Completed", c:wait(r.Results[1], FAST).Status)
    assert.are.equal(1, #polls)
  end)

  it("keeps polling while the Send is not visible yet", function()
    states.Send = {send(5, "Complete", 1, 1)}
    local invisible = 2
    local http = loop.http
    loop.http = function(req)
      if invisible > 0 and req.body:find("RetrieveRequestMsg", 1, true) then
        invisible = invisible - 1
        polls[#polls + 1] = {}
        return response(200, core.encode_message("RetrieveResponseMsg",
          {OverallStatus = "OK", RequestID = "x"}, {}))
      end
      return http(req)
    end
    local s = connect():wait(5, "send", FAST)
    assert.are.equal("Complete", s.Status)
    assert.are.equal(3, #polls)
  end)

  for _, status in ipairs({"Canceled", "Error"}) do
    it("raises when the Send ends " .. status, function()
      perform_answer = function() return {started("EmailSendDefinition", "welcome", 99)} end
      states.Send = {send(99, "Sending", 1, 4), send(99, status, 1, 4)}
      local c = connect()
      local r = c:perform("start", mc.EmailSendDefinition{CustomerKey = "welcome"})
      local ok, err = pcall(c.wait, c, r, FAST)
      assert.is_false(ok)
      assert.are.equal("failed", err.kind)
      assert.are.equal("Send 99 (started by EmailSendDefinition 'welcome') ended with Status '"
        .. status .. "': 1 of 4 sent", err.message)
      assert.are.equal(status, err.status.Status)
      assert.are.equal("99", err.task_id)
      assert.are.equal("send", err.wait_kind)
      assert.are.equal("failed error: " .. err.message, tostring(err))
    end)
  end

  it("polls ImportResultsSummary by TaskResultID after ImportDefinition start", function()
    perform_answer = function() return {started("ImportDefinition", "daily", 321)} end
    states.ImportResultsSummary = {
      mc.ImportResultsSummary{TaskResultID = 321, ImportStatus = "Started"},
      mc.ImportResultsSummary{TaskResultID = 321, ImportStatus = "Completed", TotalRows = 10,
        NumberSuccessful = 10, NumberErrors = 0}}
    local c = connect()
    local r = c:perform("start", mc.ImportDefinition{CustomerKey = "daily"})
    local s = c:wait(r, FAST)
    assert.are.equal("ImportResultsSummary", mc.typeof(s))
    assert.are.equal("Completed", s.ImportStatus)
    assert.are.equal(10, s.NumberSuccessful)
    assert.are.equal(2, #polls)
    assert.are.equal("ImportResultsSummary", polls[1].type)
    assert.are.equal("TaskResultID", polls[1].filter.Property)
    assert.are.same({"321"}, polls[1].filter.Value)
  end)

  it("finds the import's task in 'AsyncID:<n>' when Task.ID is missing", function()
    perform_answer = function()
      local res = started("ImportDefinition", "daily", 0)
      res.Task = nil
      res.StatusMessage = "ImportDefinition performed AsyncID:8080"
      return {res}
    end
    states.ImportResultsSummary = {mc.ImportResultsSummary{TaskResultID = 8080,
      ImportStatus = "Completed"}}
    local c = connect()
    local s = c:wait(c:perform("start", mc.ImportDefinition{CustomerKey = "daily"}), FAST)
    assert.are.equal(8080, s.TaskResultID)
    assert.are.same({"8080"}, polls[1].filter.Value)
  end)

  it("raises when the import ends in Error, with its row figures", function()
    states.ImportResultsSummary = {mc.ImportResultsSummary{TaskResultID = 7,
      ImportStatus = "Error", TotalRows = 10, NumberSuccessful = 4, NumberErrors = 6}}
    local ok, err = pcall(connect().wait, connect(), 7, "import", FAST)
    assert.is_false(ok)
    assert.are.equal("failed", err.kind)
    assert.are.equal("ImportResultsSummary 7 ended with ImportStatus 'Error': 4 of 10 rows "
      .. "imported, 6 row errors", err.message)
  end)

  it("polls AsyncActivityStatus by TaskID for other activities and lifts its properties",
    function()
      perform_answer = function() return {started("QueryDefinition", "rollup", 555)} end
      states.AsyncActivityStatus = {activity(555, "Queued"), activity(555, "Running"),
        activity(555, "Complete", {{Name = "ProcessedCount", Value = "42"}})}
      local c = connect()
      local r = c:perform("start", mc.QueryDefinition{CustomerKey = "rollup"})
      local s = c:wait(r, FAST)
      assert.are.equal("AsyncActivityStatus", mc.typeof(s))
      assert.are.equal("Complete", s.Status)
      assert.are.equal("42", s.ProcessedCount)
      assert.are.equal("555", s.TaskID)
      assert.are.equal(3, #s.Properties)
      assert.are.equal(3, #polls)
      assert.are.equal("TaskID", polls[1].filter.Property)
    end)

  it("raises when the activity ends in Error, with its ErrorMsg", function()
    states.AsyncActivityStatus = {activity(9, "Running"),
      activity(9, "Error", {{Name = "ErrorMsg", Value = "Invalid column name 'Pts'."}})}
    local ok, err = pcall(connect().wait, connect(), "9", "activity", FAST)
    assert.is_false(ok)
    assert.are.equal("failed", err.kind)
    assert.are.equal("AsyncActivityStatus 9 ended with Status 'Error': Invalid column name "
      .. "'Pts'.", err.message)
    assert.are.equal("Error", err.status.Status)
  end)

  it("times out with what it waited for, how long and the last status", function()
    states.Send = {send(77, "Sending", 5, 100)}
    local c = connect()
    local ok, err, took = on_virtual_clock(function()
      local t0 = loop.now()
      local ok, err = pcall(c.wait, c, 77, "send", {interval = 0.05, max_interval = 0.05,
        timeout = 0.3})
      return ok, err, loop.now() - t0
    end)
    assert.is_false(ok)
    assert.are.equal("timeout", err.kind)
    -- it sleeps no further than the deadline: the last sleep is cut to what is left
    assert.is_true(math.abs(took - 0.3) < 1e-9, tostring(took))
    assert.are.equal("Sending", err.status.Status)
    assert.is_true(math.abs(err.waited - 0.3) < 1e-9, tostring(err.waited))
    -- at 0, 0.05, ..., 0.25 and once more at the deadline
    local n = #polls
    assert.are.equal(7, n)
    assert.are.equal(string.format("gave up after 0.3 s waiting for Send 77 to finish; last "
      .. "status: Sending, 5 of 100 sent (%d polls). The work goes on at the service: wait "
      .. "longer with c:wait(77, \"send\", {timeout = ...})", n), err.message)
  end)

  it("names what it was waiting for when a poll fails for good", function()
    local http = loop.http
    loop.http = function(req)
      if req.body:find("RetrieveRequestMsg", 1, true) then
        polls[#polls + 1] = {}
        return response(200, core.encode_message("RetrieveResponseMsg", {OverallStatus =
          "Error: Unable to find a handler for object type: Send.", RequestID = "x"}, {}))
      end
      return http(req)
    end
    local ok, err = pcall(connect().wait, connect(), 31, "send", FAST)
    assert.is_false(ok)
    assert.are.equal("fault", err.kind)
    assert.are.equal("while waiting for Send 31: Retrieve failed: OverallStatus Error: Unable "
      .. "to find a handler for object type: Send.", err.message)
    assert.are.equal(31, err.task_id)
    assert.are.equal(1, #polls)
  end)

  -- Answers the first `failing` polls with HTTP 503 (the client, told not to retry, gives each
  -- up at once); the polls after them go to the scripted states.
  local function busy_for(failing)
    local http = loop.http
    local failed = 0
    loop.http = function(req)
      if failed < failing and req.body:find("RetrieveRequestMsg", 1, true) then
        failed = failed + 1
        polls[#polls + 1] = {failed = true}
        return response(503, "<html><body>Service Unavailable</body></html>")
      end
      return http(req)
    end
  end

  it("polls again after a poll that failed for a passing reason: the work goes on", function()
    states.Send = {send(31, "Sending", 1, 2), send(31, "Complete", 2, 2)}
    busy_for(3)
    local c = connect{retries = 0}
    local result = c:wait(31, "send", FAST)
    assert.are.equal("Complete", result.Status)
    assert.are.equal(5, #polls) -- three failed, then Sending, then Complete
  end)

  it("gives up when polls keep failing, saying how many failed in a row", function()
    busy_for(100)
    local c = connect{retries = 0}
    local ok, err = pcall(c.wait, c, 31, "send", FAST)
    assert.is_false(ok)
    assert.are.equal("http", err.kind)
    assert.are.equal(31, err.task_id)
    assert.matches("^while waiting for Send 31: .*HTTP 503.* %(4 polls in a row failed%)$",
      err.message)
    assert.are.equal(4, #polls)
  end)

  it("backs off: the interval grows by half up to max_interval", function()
    states.Send = {send(1, "Sending"), send(1, "Sending"), send(1, "Sending"),
                   send(1, "Sending"), send(1, "Sending"), send(1, "Complete")}
    on_virtual_clock(function()
      connect():wait(1, "send", {interval = 0.04, max_interval = 0.1, timeout = 5})
    end)
    assert.are.equal(6, #polls)
    local expected = {0.04, 0.06, 0.09, 0.1, 0.1}
    for i = 2, #polls do
      local gap = polls[i].at - polls[i - 1].at
      assert.is_true(math.abs(gap - expected[i - 1]) < 1e-9,
        string.format("gap %d: %.6f, expected %.3f", i - 1, gap, expected[i - 1]))
    end
  end)

  it("waits for every definition of a result side by side and returns them in order",
    function()
      perform_answer = function(body)
        local out = {}
        for i, d in ipairs(body.Definitions) do
          local res = started("EmailSendDefinition", d.CustomerKey, 100 + i)
          res.OrdinalID = i - 1
          out[i] = res
        end
        return out
      end
      -- every Send needs 3 polls; each answers by the ID in the filter
      local seen, in_flight, peak = {}, 0, 0
      local http = loop.http
      loop.http = function(req)
        if req.body:find("RetrieveRequestMsg", 1, true) then
          local body = core.decode(req.body)
          local id = tonumber(body.RetrieveRequest.Filter.Value[1])
          seen[id] = (seen[id] or 0) + 1
          polls[#polls + 1] = {at = loop.now()}
          in_flight = in_flight + 1
          peak = math.max(peak, in_flight)
          loop.sleep(0.1) -- latency: a poll is still in flight when the next wait polls
          in_flight = in_flight - 1
          return response(200, core.encode_message("RetrieveResponseMsg", {OverallStatus = "OK",
            RequestID = "p", Results = {send(id, seen[id] >= 3 and "Complete" or "Sending")}}, {}))
        end
        return http(req)
      end
      local c = connect()
      local r = c:perform("start", {mc.EmailSendDefinition{CustomerKey = "a"},
        mc.EmailSendDefinition{CustomerKey = "b"}, mc.EmailSendDefinition{CustomerKey = "c"}})
      local all = c:wait(r, {interval = 0.01, max_interval = 0.01})
      assert.are.equal(3, #all)
      for i = 1, 3 do
        assert.are.equal(100 + i, all[i].ID)
        assert.are.equal("Complete", all[i].Status)
      end
      assert.are.equal(9, #polls)
      -- the three Sends are polled side by side, not one wait after the other (counted, not
      -- timed: a loaded machine stretches every duration)
      assert.are.equal(3, peak)
    end)

  it("lets every wait settle, then names each failure", function()
    perform_answer = function()
      local a = started("EmailSendDefinition", "a", 1)
      local b = started("EmailSendDefinition", "b", 2)
      b.OrdinalID = 1
      local cc = {StatusCode = "Error", StatusMessage = "ESD_Not Found", ErrorCode = 42002,
        OrdinalID = 2, Object = mc.EmailSendDefinition{CustomerKey = "nope"}}
      return {a, b, cc}
    end
    states.Send = {send(1, "Complete")}
    local c = connect()
    local r = c:perform("start", {mc.EmailSendDefinition{CustomerKey = "a"},
      mc.EmailSendDefinition{CustomerKey = "b"}, mc.EmailSendDefinition{CustomerKey = "nope"}})
    local ok, err = pcall(c.wait, c, r, FAST)
    assert.is_false(ok)
    assert.are.equal("failed", err.kind)
    assert.are.equal("1 of 3 did not finish well: #3: EmailSendDefinition 'nope' (definition 3) "
      .. "did not start: ErrorCode 42002: ESD_Not Found; nothing to wait for", err.message)
    -- the two that started were followed to their end
    assert.are.equal("Complete", err.statuses[1].Status)
    assert.are.equal("Complete", err.statuses[2].Status)
    assert.is_nil(err.statuses[3])
    assert.are.equal(3, err.failures[1].index)
    assert.are.equal(42002, err.failures[1].error.code)
    -- one definition alone: its own error, as it is
    local one = c:perform("start", mc.EmailSendDefinition{CustomerKey = "nope"})
    ok, err = pcall(c.wait, c, one.Results[3] or one.Results[1], FAST)
    assert.is_false(ok)
    assert.are.equal("failed", err.kind)
  end)

  it("reports failures after the other waits finished", function()
    perform_answer = function()
      local a = started("EmailSendDefinition", "a", 1)
      local b = started("EmailSendDefinition", "b", 2)
      b.OrdinalID = 1
      return {a, b}
    end
    local http = loop.http
    loop.http = function(req)
      if req.body:find("RetrieveRequestMsg", 1, true) then
        local body = core.decode(req.body)
        local id = tonumber(body.RetrieveRequest.Filter.Value[1])
        polls[#polls + 1] = {id = id}
        return response(200, core.encode_message("RetrieveResponseMsg", {OverallStatus = "OK",
          RequestID = "p", Results = {send(id, id == 1 and "Canceled" or "Complete", 0, 2)}}, {}))
      end
      return http(req)
    end
    local c = connect()
    local r = c:perform("start", {mc.EmailSendDefinition{CustomerKey = "a"},
      mc.EmailSendDefinition{CustomerKey = "b"}})
    local ok, err = pcall(c.wait, c, r, FAST)
    assert.is_false(ok)
    assert.are.equal("failed", err.kind)
    assert.are.equal("1 of 2 did not finish well: #1: Send 1 (started by EmailSendDefinition "
      .. "'a' (definition 1)) ended with Status 'Canceled': 0 of 2 sent", err.message)
    assert.is_nil(err.statuses[1])
    assert.are.equal("Complete", err.statuses[2].Status)
    assert.are.equal(1, #err.failures)
    assert.are.equal(1, err.failures[1].index)
  end)

  -- Performs `action` on `definition` answered by `results`, then c:wait on the result: the
  -- usage error it raises (asserted) and the result.
  local function wait_refused(results, action, definition)
    perform_answer = function() return results end
    local c = connect()
    local r = c:perform(action, definition)
    local ok, err = pcall(c.wait, c, r)
    assert.is_false(ok)
    assert.are.equal("usage", err.kind)
    err.message = uh.message(err)
    return err, r, c
  end

  it("explains what to poll after an Automation start (no Task)", function()
    local err = wait_refused({{StatusCode = "OK", StatusMessage = "Performed Activity",
      OrdinalID = 0, Object = mc.Automation{CustomerKey = "nightly", Name = "Nightly import"}}},
      "start", mc.Automation{CustomerKey = "nightly"})
    assert.are.equal("c:wait: Automation 'nightly' has no task to follow: the service answers "
      .. "Automation start without a Task. Poll the automation itself instead: "
      .. "c:retrieve(\"Automation\", {\"Name\", \"Status\"}, {Property = \"CustomerKey\", "
      .. "SimpleOperator = \"equals\", Value = \"nightly\"}) until Status is no longer 3 "
      .. "(Running); -1 means Error", err.message)
    assert.are.equal(0, #polls)
  end)

  it("has nothing to wait for after GetMaxCount (Task.ID 0)", function()
    local err, r, c = wait_refused({{StatusCode = "OK",
      StatusMessage = "Task status message holds the requested value.", OrdinalID = 0,
      Task = {StatusCode = "OK", StatusMessage = "3", ID = "0"}}},
      "GetMaxCount", mc.EmailSendDefinition{CustomerKey = "welcome"})
    -- the client records the action on Perform results (r.action), so wait names it
    assert.are.equal("c:wait: nothing to wait for: 'GetMaxCount' on EmailSendDefinition "
      .. "'welcome' completes within the Perform call; its answer is in the result "
      .. "(Task.StatusMessage holds counts, Object a clone)", err.message)
    -- one Result alone does not know its action: Task.ID 0 says there is no task
    local ok
    ok, err = pcall(c.wait, c, r.Results[1])
    assert.is_false(ok)
    assert.are.equal("c:wait: EmailSendDefinition 'welcome' has no task to follow (its Perform "
      .. "result carries no Task.ID other than 0): the action completed within the Perform call, "
      .. "or the service started nothing trackable; read the result itself (Task.StatusMessage "
      .. "holds counts)", uh.message(err))
  end)

  it("checks its arguments", function()
    local c = connect()
    local function message(...)
      local ok, err = pcall(c.wait, c, ...)
      assert.is_false(ok)
      return uh.message(err)
    end
    assert.are.equal("c:wait(task_id, kind, opts): give the kind of work too: \"send\" (a Send "
      .. "by ID), \"import\" (ImportResultsSummary by TaskResultID) or \"activity\" "
      .. "(AsyncActivityStatus by TaskID)", message(12))
    assert.are.equal("c:wait: unknown kind 'sned'; use \"send\", \"import\" or \"activity\", "
      .. "or the type that started the work, e.g. \"QueryDefinition\"", message(12, "sned"))
    assert.are.equal("c:wait: unknown option 'timout' (options: interval, max_interval, "
      .. "progress, properties, report_every, timeout)", message(12, "send", {timout = 3}))
    assert.are.equal("c:wait: timeout must be a number of seconds > 0, got -1",
      message(12, "send", {timeout = -1}))
    assert.are.equal("c:wait(x, opts): x must be a Perform result, one of its Results, or a "
      .. "task id with its kind, got boolean", message(true))
    assert.are.equal(0, #polls)
  end)

  it("accepts type names as kinds", function()
    states.ImportResultsSummary = {mc.ImportResultsSummary{TaskResultID = 3,
      ImportStatus = "Completed"}}
    states.AsyncActivityStatus = {activity(4, "Complete")}
    local c = connect()
    assert.are.equal("Completed", c:wait(3, "ImportDefinition", FAST).ImportStatus)
    assert.are.equal("Complete", c:wait(4, "AsyncActivityStatus", FAST).Status)
    -- the type of the definition that was started, as c:wait(result) reads it
    assert.are.equal("Complete", c:wait(4, "QueryDefinition", FAST).Status)
    assert.are.equal("Complete", c:wait(4, "AudienceDefinition", FAST).Status)
    assert.are.same({"ImportResultsSummary", "AsyncActivityStatus", "AsyncActivityStatus",
      "AsyncActivityStatus"}, {polls[1].type, polls[2].type, polls[3].type, polls[4].type})
    assert.are.equal("TaskID", polls[3].filter.Property)
  end)

  it("runs inside mc.parallel: waits overlap", function()
    local http = loop.http
    loop.http = function(req)
      if req.body:find("RetrieveRequestMsg", 1, true) then
        local body = core.decode(req.body)
        local id = tonumber(body.RetrieveRequest.Filter.Value[1])
        polls[#polls + 1] = {id = id}
        local count = 0
        for _, p in ipairs(polls) do if p.id == id then count = count + 1 end end
        return response(200, core.encode_message("RetrieveResponseMsg", {OverallStatus = "OK",
          RequestID = "p", Results = {send(id, count >= 4 and "Complete" or "Sending")}}, {}))
      end
      return http(req)
    end
    local c = connect()
    local o = {interval = 0.1, max_interval = 0.1}
    local a, b, cc, d = mc.parallel(
      function() return c:wait(1, "send", o) end, function() return c:wait(2, "send", o) end,
      function() return c:wait(3, "send", o) end, function() return c:wait(4, "send", o) end)
    assert.are.same({1, 2, 3, 4}, {a.ID, b.ID, cc.ID, d.ID})
    assert.are.equal(16, #polls)
    -- the waits overlap: each round polls all four Sends before any polls again (one after
    -- the other, the first four polls would all be for Send 1)
    for round = 0, 3 do
      local ids = {}
      for i = 1, 4 do ids[i] = polls[round * 4 + i].id end
      table.sort(ids)
      assert.are.same({1, 2, 3, 4}, ids, "round " .. round)
    end
  end)

  it("draws nothing on stderr when stderr is not a terminal", function()
    assert.is_false(core.isatty("stderr"))
    local written = {}
    local real = io.stderr
    io.stderr = {write = function(_, ...) for _, s in ipairs({...}) do written[#written + 1] = s end end,
                 flush = function() end}
    states.Send = {send(1, "Sending"), send(1, "Complete")}
    local ok, err = pcall(connect().wait, connect(), 1, "send", FAST)
    io.stderr = real
    assert.is_true(ok, tostring(err))
    assert.are.same({}, written)
  end)

  -- stderr is not a terminal under ctest: cron's case
  local function capture_stderr(fn)
    local written = {}
    local real = io.stderr
    io.stderr = {write = function(_, ...) for _, s in ipairs({...}) do written[#written + 1] = s end end,
                 flush = function() end}
    local ok, err = pcall(fn)
    io.stderr = real
    assert.is_true(ok, tostring(err))
    return table.concat(written)
  end

  it("without a terminal writes a plain line every report_every seconds, and one at the end", function()
    assert.is_false(core.isatty("stderr"))
    states.Send = {}
    for _ = 1, 12 do states.Send[#states.Send + 1] = send(1, "Sending", 2, 5) end
    states.Send[#states.Send + 1] = send(1, "Complete", 5, 5)
    local text = capture_stderr(function()
      -- 12 polls at least 0.01 s apart: at least 0.11 s, so at least two lines at every 0.05 s
      connect():wait(1, "send", {interval = 0.01, max_interval = 0.01, report_every = 0.05})
    end)
    local lines = {}
    for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.is_true(#lines >= 3, text)
    for i = 1, #lines - 1 do
      assert.matches("^performlua: waiting for Send 1: Sending, 2 of 5 sent %(0%.%d s%)$", lines[i])
    end
    assert.matches("^performlua: Send 1 finished: Complete, 5 of 5 sent %(%d%.%d s%)$", lines[#lines])
    assert.is_nil(text:find("\r", 1, true))  -- plain lines, no terminal drawing
  end)

  it("without a terminal says nothing for a wait shorter than report_every, or with progress = false", function()
    states.Send = {send(1, "Sending"), send(1, "Sending"), send(1, "Complete")}
    assert.are.equal("", capture_stderr(function() connect():wait(1, "send", FAST) end))
    states.Send = {send(1, "Sending"), send(1, "Sending"), send(1, "Complete")}
    assert.are.equal("", capture_stderr(function()
      connect():wait(1, "send", {interval = 0.01, report_every = 0.001, progress = false})
    end))
  end)

  it("says when a reported wait stops badly", function()
    states.Send = {send(1, "Sending"), send(1, "Sending"), send(1, "Sending"), send(1, "Canceled")}
    local text = capture_stderr(function()
      local ok = pcall(connect().wait, connect(), 1, "send",
        {interval = 0.01, max_interval = 0.01, report_every = 0.005})
      assert.is_false(ok)
    end)
    assert.matches("\nperformlua: Send 1 stopped: failed %(0%.%d s%)\n$", text)
  end)

  it("draws one carriage-return line when asked to (progress = true) and clears it", function()
    local written = {}
    local real = io.stderr
    io.stderr = {write = function(_, ...) for _, s in ipairs({...}) do written[#written + 1] = s end end,
                 flush = function() end}
    states.Send = {send(1, "Sending", 2, 5), send(1, "Complete", 5, 5)}
    local ok, err = pcall(connect().wait, connect(), 1, "send",
      {interval = 0.01, progress = true})
    io.stderr = real
    assert.is_true(ok, tostring(err))
    local out = table.concat(written)
    assert.are.equal("\rwaiting for Send 1: Sending, 2 of 5 sent (0s)\27[K\r\27[K", out)
  end)
end)
