-- The small public helpers the example scripts need so that they never reach into
-- performlua's internal modules: mc.now, mc.isatty, mc.sandbox.default.
local mc = require "performlua"
local uh = require "usage_helper"

local PERFORMLUA = assert(os.getenv("PERFORMLUA"), "PERFORMLUA")

-- Runs `performlua -e code` with `shell_input` as its stdin redirection; returns its stdout.
local function run(code, shell_input)
  local p = assert(io.popen(string.format("%s -e %q %s 2>&1", PERFORMLUA, code, shell_input)))
  local out = p:read("a")
  p:close()
  return out
end

describe("mc.now", function()
  it("is the event loop's monotonic clock", function()
    local loop = require "performlua.loop"
    assert.are.equal(loop.now, mc.now)
    local started = mc.now()
    mc.sleep(0.02)
    assert.is_true(mc.now() - started >= 0.02)
  end)
end)

describe("mc.isatty", function()
  it("says whether a person is at a stream", function()
    local code = 'local mc = require "performlua"; io.write(tostring(mc.isatty("stdin")))'
    assert.are.equal("false", run(code, "</dev/null"))
    local ptyrun = assert(os.getenv("PERFORMLUA_TOOLS_DIR"), "PERFORMLUA_TOOLS_DIR") .. "/ptyrun"
    -- through a pseudo-terminal (ptyrun takes its script on stdin: none)
    local p = assert(io.popen(string.format("%s -t 20 -- %s -e %q </dev/null 2>&1", ptyrun,
      PERFORMLUA, code)))
    local out = p:read("a")
    p:close()
    assert.matches("true", out)
  end)

  it("refuses a stream it does not know, at the caller's line", function()
    local ok, err = pcall(mc.isatty, "tty")
    assert.is_false(ok)
    assert.are.equal('mc.isatty(stream): stream must be "stdin", "stdout" or "stderr", got "tty"',
      uh.message(err))
  end)
end)

describe("mc.sandbox.default", function()
  it("is nil without --sandbox, and the sandbox mc.connect() reaches with it", function()
    assert.is_nil(mc.sandbox.default())
    local code = 'local mc = require "performlua"; local sb = mc.sandbox.default(); '
      .. 'io.write(tostring(sb.auth_url == require("performlua.config").default_account().auth_url), '
      .. '" ", mc.connect():system_status().Results[1].SystemStatus)'
    local p = assert(io.popen(string.format("%s --sandbox -e %q </dev/null 2>&1", PERFORMLUA, code)))
    local out = p:read("a")
    p:close()
    assert.are.equal("true OK", out)
  end)
end)
