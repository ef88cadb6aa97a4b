-- `performlua sandbox` as a user runs it: prints its URLs and credentials, serves, stops
-- cleanly on SIGTERM and SIGINT; --help; bad options exit 2; a start failure exits 1.
local core = require "performlua.core"
local sh = require "sandbox_helper"

local BIN = assert(os.getenv("PERFORMLUA"), "PERFORMLUA")
local DIR = os.getenv("PERFORMLUA_BUILD_DIR") or "/tmp"

local function run(args)
  local p = io.popen(BIN .. " sandbox " .. args .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("a")
  p:close()
  return out, tonumber(out:match("exit=(%d+)%s*$"))
end

-- Starts the CLI in the background; returns pid, output file and the printed token URL. A
-- test that fails before stopping it still does not leave it running.
local function spawn(args)
  local out = string.format("%s/sbx-cli-%d-%s.out", DIR, core.getpid(), core.random_hex(4))
  local p = io.popen(string.format("%s sandbox %s > %s 2>&1 & echo $!", BIN, args, out))
  local pid = tonumber(p:read("l"))
  p:close()
  finally(function()
    os.execute("kill -TERM " .. pid .. " 2>/dev/null")
    os.remove(out)
  end)
  local text = ""
  for _ = 1, 100 do
    local f = io.open(out)
    text = f and f:read("a") or ""
    if f then f:close() end
    if text:find("Stop with Ctrl-C", 1, true) then break end
    core.sleep(0.05)
  end
  return pid, out, text
end

local function wait_exit(pid)
  for _ = 1, 100 do
    if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then return true end
    core.sleep(0.05)
  end
  return false
end

-- Sends the signal, waits for the exit and returns what the sandbox printed (the file removed).
local function stop(pid, out, signal)
  os.execute("kill -" .. signal .. " " .. pid)
  assert.is_true(wait_exit(pid), "the sandbox did not stop on SIG" .. signal)
  local f = io.open(out)
  local text = f:read("a")
  f:close()
  os.remove(out)
  return text
end

-- A file in the build directory holding `text`; returns its path.
local function write_file(name, text)
  local path = string.format("%s/sbx-%s-%d.lua", DIR, name, core.getpid())
  local f = io.open(path, "w")
  f:write(text)
  f:close()
  return path
end

-- The URLs a started sandbox printed, in the shape sandbox_helper takes.
local function printed_sandbox(text)
  local base = text:match("auth base URL:%s+(http://%S+/)")
  return {token_url = base .. "v2/token", auth_url = base, soap_url = base .. "Service.asmx",
    client_id = "sandbox", client_secret = "sandbox"}
end

describe("performlua sandbox (command line)", function()
  it("prints its URLs and credentials, serves, and stops on SIGTERM and SIGINT", function()
    for _, signal in ipairs{"TERM", "INT"} do
      local pid, out, text = spawn("--port 0 --speed 10")
      local token_url = text:match("token URL:%s+(%S+)")
      assert.truthy(token_url, text)
      assert.truthy(text:find("SOAP URL:%s+http://127%.0%.0%.1:%d+/Service%.asmx"))
      assert.truthy(text:find("client id:      sandbox", 1, true))
      assert.truthy(text:find("client secret:  sandbox", 1, true))
      local r = sh.http("POST", token_url, core.json_encode{grant_type = "client_credentials",
        client_id = "sandbox", client_secret = "sandbox"}, {})
      assert.are.equal(200, r.status)
      local final = stop(pid, out, signal)
      assert.truthy(final:find("performlua sandbox: stopped (SIG" .. signal .. ") after 1 token and 0 SOAP requests", 1, true), final)
    end
  end)

  it("answers --help with the usage and status 0", function()
    local out, code = run("--help")
    assert.are.equal(0, code)
    assert.truthy(out:find("usage: performlua sandbox [--port N]", 1, true))
  end)

  it("exits 2 with a message for bad options", function()
    local out, code = run("--latency -5")
    assert.are.equal(2, code)
    assert.truthy(out:find("performlua sandbox: --latency needs a number of at least 0 (got '-5')", 1, true), out)
  end)

  it("exits 1 with a message when it cannot start", function()
    local seed = write_file("bad-seed", "return 42")
    local out, code = run("--seed " .. seed)
    os.remove(seed)
    assert.are.equal(1, code)
    assert.truthy(out:find("the seed file " .. seed .. " must return a table of objects by type (it returned number)", 1, true), out)
    local blocker = sh.start{}
    out, code = run("--port " .. blocker.port)
    blocker:stop()
    assert.are.equal(1, code)
    assert.truthy(out:find("cannot listen on 127.0.0.1 port " .. blocker.port, 1, true), out)
  end)

  -- every option includes --wsdl: skipped (pending) where the WSDL is not (wsdl_helper.lua)
  require("wsdl_helper").it("applies every option together, as a user starting it by hand would see", function()
    local seed = write_file("all-seed", 'return {List = {{ID = 7, ListName = "Only list"}}, '
      .. 'EmailSendDefinition = {{CustomerKey = "s1", Name = "S1", FromName = "Me", '
      .. 'FromAddress = "me@example.com", _targets = 5}}}')
    local pid, out, text = spawn("--port 0 --host 127.0.0.1 --wsdl " .. require("wsdl_helper").path()
      .. " --seed " .. seed .. " --latency 150 --token-ttl 6 --speed 1000 --fault throttle:3 --fault http503:4")
    os.remove(seed)
    assert.truthy(text:find("validating requests against", 1, true), text)
    assert.truthy(text:find("injecting faults: throttle:3, http503:4", 1, true), text)
    assert.truthy(text:find("latency: 150 ms", 1, true), text)
    local sb = printed_sandbox(text)
    local r = sh.http("POST", sb.token_url, core.json_encode{grant_type = "client_credentials",
      client_id = "sandbox", client_secret = "sandbox"}, {"Content-Type: application/json"})
    local issued = core.monotonic()
    local token = core.json_decode(r.body)
    assert.are.equal(6, token.expires_in)                                  -- --token-ttl
    local statuses, t0 = {}, core.monotonic()
    local function call(op, request)
      local res = sh.call(sb, token.access_token, op, request)
      statuses[#statuses + 1] = res.status
      return res
    end
    local first = call("Retrieve", {RetrieveRequest = {ObjectType = "List", Properties = {"ListName"}}})
    assert.is_true(core.monotonic() - t0 >= 0.15, "--latency")
    assert.are.equal("Only list", first.decoded.Results[1].ListName)     -- --seed
    local bad = sh.soap(sb, "Perform", '<PerformRequestMsg xmlns="' .. sh.NS .. '"><Action>start'
      .. '</Action><Definitions><Definition xsi:type="EmailSendDefinition"><ID>x1</ID></Definition>'
      .. "</Definitions></PerformRequestMsg>", {token = token.access_token})
    statuses[#statuses + 1] = bad.status
    assert.truthy(bad.body:find("<faultcode>soap:Client</faultcode>", 1, true), bad.body) -- --wsdl
    call("GetSystemStatus", {})                                              -- 3: throttle
    call("GetSystemStatus", {})                                              -- 4: http503
    local started = call("Perform", {Action = "start", Definitions = {setmetatable({CustomerKey = "s1"},
      core.object_metatable("EmailSendDefinition"))}})
    local id = started.decoded.Results[1].Task.ID
    call("GetSystemStatus", {})                                              -- 6: throttle
    local send = call("Retrieve", {RetrieveRequest = {ObjectType = "Send", Properties = {"ID", "Status",
      "NumberSent"}, Filter = {Property = "ID", SimpleOperator = "equals", Value = id}}})
    assert.are.same({200, 500, 500, 503, 200, 500, 200}, statuses)          -- --fault, from 1
    assert.are.equal("Complete", send.decoded.Results[1].Status)          -- --speed
    assert.are.equal(5, send.decoded.Results[1].NumberSent)
    -- the token must still be valid for the seven calls above (about 1 s with the latency; 6 s
    -- leaves room for a loaded machine), then it expires
    core.sleep(math.max(0, issued + 6.05 - core.monotonic()))
    call("GetSystemStatus", {})                                              -- 8: http503
    call("GetSystemStatus", {})                                              -- 9: throttle
    local expired = call("Retrieve", {RetrieveRequest = {ObjectType = "List", Properties = {"ID"}}})
    assert.truthy(expired.body:find("<faultstring>Token Expired</faultstring>", 1, true), expired.body)
    local final = stop(pid, out, "INT")
    assert.truthy(final:find("stopped (SIGINT) after 1 token and 10 SOAP requests", 1, true), final)
  end)

  it("serves a seed file", function()
    local seed = write_file("seed", 'return {List = {{ID = 7, ListName = "Only list"}}}')
    local pid, out, text = spawn("--seed " .. seed)
    local sb = printed_sandbox(text)
    local r = sh.call(sb, sh.token(sb), "Retrieve", {RetrieveRequest = {ObjectType = "List", Properties = {"ID", "ListName"}}})
    stop(pid, out, "TERM")
    os.remove(seed)
    assert.are.equal(1, #r.decoded.Results)
    assert.are.equal("Only list", r.decoded.Results[1].ListName)
  end)
end)
