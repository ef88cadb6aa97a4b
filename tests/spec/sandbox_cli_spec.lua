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

-- Starts the CLI in the background; returns pid, output file and the printed token URL.
local function spawn(args)
  local out = string.format("%s/sbx-cli-%d-%s.out", DIR, core.getpid(), core.random_hex(4))
  local p = io.popen(string.format("%s sandbox %s > %s 2>&1 & echo $!", BIN, args, out))
  local pid = tonumber(p:read("l"))
  p:close()
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
      os.execute("kill -" .. signal .. " " .. pid)
      assert.is_true(wait_exit(pid), "the sandbox did not stop on SIG" .. signal)
      local f = io.open(out)
      local final = f:read("a")
      f:close()
      os.remove(out)
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
    local seed = DIR .. "/sbx-bad-seed-" .. core.getpid() .. ".lua"
    local f = io.open(seed, "w")
    f:write("return 42")
    f:close()
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

  it("serves a seed file", function()
    local seed = DIR .. "/sbx-seed-" .. core.getpid() .. ".lua"
    local f = io.open(seed, "w")
    f:write('return {List = {{ID = 7, ListName = "Only list"}}}')
    f:close()
    local pid, out, text = spawn("--seed " .. seed)
    local base = text:match("auth base URL:%s+(%S+)")
    local sb = {token_url = base .. "v2/token", auth_url = base, soap_url = base .. "Service.asmx",
      client_id = "sandbox", client_secret = "sandbox"}
    local r = sh.call(sb, sh.token(sb), "Retrieve", {RetrieveRequest = {ObjectType = "List", Properties = {"ID", "ListName"}}})
    os.execute("kill -TERM " .. pid)
    wait_exit(pid)
    os.remove(out)
    os.remove(seed)
    assert.are.equal(1, #r.decoded.Results)
    assert.are.equal("Only list", r.decoded.Results[1].ListName)
  end)
end)
