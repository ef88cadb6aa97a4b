-- A run a program can read: `performlua --log-json FILE` (and PERFORMLUA_LOG_JSON) writes one
-- JSON object per line: the run, every API call, every poll of c:wait, the steps a script
-- names, the exit status. Runs the binary as cron would, then parses every line.
local core = require "performlua.core"
local runlog = require "performlua.runlog"

local BIN = assert(os.getenv("PERFORMLUA"), "PERFORMLUA")
local DIR = os.getenv("PERFORMLUA_BUILD_DIR") or "/tmp"

-- Paths for the files named, removed when the test ends. One call per test: busted keeps only
-- the last `finally` of a test, so a call per file left all but the last file behind.
local function temps(...)
  local paths = {}
  for i, name in ipairs({...}) do
    paths[i] = string.format("%s/run-log-%d-%s-%s", DIR, core.getpid(), core.random_hex(4), name)
  end
  finally(function() for _, path in ipairs(paths) do os.remove(path) end end)
  return table.unpack(paths)
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- Runs `command` (a shell command line); returns its output and exit status.
local function run(command)
  local p = io.popen(command .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("a")
  p:close()
  return out, tonumber(out:match("exit=(%d+)%s*$"))
end

-- Every line of the log as a table (the test fails on a line that is not one JSON object).
local function records(path)
  local list = {}
  for line in io.lines(path) do
    local record, why = core.json_decode(line)
    assert(type(record) == "table", "not a JSON object: " .. line .. " " .. tostring(why))
    list[#list + 1] = record
  end
  return list
end

local function of(list, event)
  local out = {}
  for _, r in ipairs(list) do if r.event == event then out[#out + 1] = r end end
  return out
end

describe("--log-json", function()
  it("writes the run, each call with its outcome, each poll of c:wait and the exit status", function()
    local script, log = temps("script.lua", "log.jsonl")
    write(script, [[
local mc = require "performlua"
local c = mc.connect()
local started = c:perform("start", mc.EmailSendDefinition{CustomerKey = "welcome-series-send"}):check()
c:wait(started, {interval = 0.05, max_interval = 0.05})
c:retrieve("Xyzzy", {"ID"})                       -- the service refuses it: an answer all the same
local ok = pcall(c.retrieve, c, "Sends", {"ID"})  -- refused before sending: no call at all
require("performlua.runlog").step("report", {rows = 3})
os.exit(ok and 9 or 4)
]])
    local out, status = run(string.format("%s --sandbox --log-json %s %s", BIN, log, script))
    assert.are.equal(4, status, out)
    local list = records(log)
    local run_record = list[1]
    assert.are.equal("run", run_record.event)
    assert.are.equal(script, run_record.script)
    assert.are.equal(core.version, run_record.performlua)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", run_record.time)

    local calls = of(list, "call")
    local perform = calls[1]
    assert.are.equal("Perform", perform.operation)
    assert.are.same({"EmailSendDefinition"}, perform.object_types)
    assert.are.equal("OK", perform.status)
    assert.are.equal("ok", perform.outcome)
    assert.are.equal(200, perform.http_status)
    assert.are.equal(0, perform.retries)
    assert.is_string(perform.request_id)
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", perform.correlation_id)
    assert.is_true(math.type(perform.ms) == "integer" and perform.ms >= 0)
    local polls = 0
    for _, call in ipairs(calls) do
      if call.operation == "Retrieve" and call.object_types[1] == "Send" then polls = polls + 1 end
    end
    local last = calls[#calls]
    assert.are.same({"Xyzzy"}, last.object_types)
    assert.are.equal("ok", last.outcome)
    assert.matches("^Error: Unable to find a handler", last.status)
    for _, call in ipairs(calls) do assert.are_not.same({"Sends"}, call.object_types) end

    local waits = of(list, "wait")
    assert.are.equal(polls, #waits)
    assert.is_true(#waits >= 2)
    for i, w in ipairs(waits) do
      assert.matches("^Send %d+$", w.label)
      assert.are.equal("send", w.kind)
      assert.are.equal(i, w.polls)
      assert.are.equal(i < #waits and "waiting" or "done", w.outcome)
    end
    assert.are.equal("Complete", waits[#waits].status)
    assert.matches("^36 of 36 sent$", waits[#waits].progress)

    local steps = of(list, "step")
    assert.are.same({{event = "step", name = "report", rows = 3, time = steps[1].time}}, steps)
    local exit = list[#list]
    assert.are.equal("exit", exit.event)
    assert.are.equal(4, exit.status)
  end)

  it("records a call that failed, and the status of a run that raised", function()
    local script, log = temps("fail.lua", "fail.jsonl")
    write(script, [[
local mc = require "performlua"
local c = mc.connect{client_id = "id", client_secret = "the-secret", auth_url = "http://127.0.0.1:9/",
  retries = 0, token_cache = false}
c:version_info()
]])
    local out, status = run(string.format("PERFORMLUA_LOG_JSON=%s %s %s", log, BIN, script))
    assert.are.equal(1, status, out)
    local list = records(log)
    local call = of(list, "call")[1]
    assert.are.equal("VersionInfo", call.operation)
    assert.are.equal("error", call.outcome)
    assert.are.equal("transport", call.error_kind)
    assert.matches("^token request to http://127.0.0.1:9/v2/token could not be sent", call.message)
    assert.are.equal(1, list[#list].status)
    local text = io.open(log):read("a")
    assert.is_nil(text:find("the-secret", 1, true))
  end)

  it("refuses a log it cannot open before the run does anything (a usage error)", function()
    local out, status = run(string.format("%s --log-json %s/no/such/dir/log.jsonl -e 'print(\"ran\")'",
      BIN, DIR))
    assert.are.equal(2, status, out)
    assert.is_nil(out:find("ran\n", 1, true))
    assert.matches("performlua: usage error: %-%-log%-json / PERFORMLUA_LOG_JSON: cannot open "
      .. ".*/no/such/dir/log.jsonl for appending", out)
  end)

  it("costs nothing when it is off", function()
    -- the transport asks runlog.enabled() once per call; off, nothing is written anywhere
    assert.is_false(runlog.enabled())
  end)
end)
