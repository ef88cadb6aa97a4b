-- The disk token cache is written atomically (a temporary file renamed over it, 0600), and the
-- temporary files a process killed mid-write left behind, each holding a live token, are removed
-- by the next process that uses the cache.
local mc = require "performlua"
local core = require "performlua.core"
local sandbox = require "performlua.sandbox"

local BIN = os.getenv("PERFORMLUA") or arg[-1]

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

describe("the token cache", function()
  local sb, cache
  before_each(function()
    sb = sandbox.start{port = 0}
    cache = (os.getenv("PERFORMLUA_BUILD_DIR") or "/tmp") .. "/test-home/token-cache-tmp-"
      .. core.getpid()
    sh("rm -rf " .. q(cache))
  end)
  after_each(function()
    sb:stop()
    sh("rm -rf " .. q(cache))
  end)

  local code
  local function run()
    code = code or string.format([[
      local mc = require "performlua"
      local c = mc.connect{auth_url = %q, client_id = %q, client_secret = %q}
      print(c:version_info().ok, c.auth:cache_file())]], sb.auth_url, sb.client_id,
      sb.client_secret)
    return sh("XDG_CACHE_HOME=" .. q(cache) .. " " .. q(BIN) .. " -e " .. q(code) .. " 2>&1")
  end

  it("leaves no temporary file, and removes those a killed writer left", function()
    local out = run()
    local file = out:match("^true\t(%S+)\n$")
    assert.is_not_nil(file, out)
    local info = core.file_info(file)
    assert.are.equal(384, info.mode) -- 0600
    local dir = file:match("^(.*)/[^/]+$")
    local function temporaries()
      return sh("ls -A " .. q(dir) .. " | grep -F .tmp. || true")
    end
    assert.are.equal("", temporaries())
    -- what a writer killed between create and rename leaves: the token, under its pid
    local dead = tonumber(sh("sh -c 'echo $$'"))
    local token = assert(io.open(file, "rb")):read("a")
    local stale = file .. ".tmp." .. dead .. ".1a2b3c4d"
    local live = file .. ".tmp.1.5e6f7a8b" -- pid 1 is alive: its writer may still be at work
    for _, path in ipairs{stale, live} do
      local f = assert(io.open(path, "wb")); f:write(token); f:close()
    end
    -- a new token run (the cached one is dropped so the cache is read and written again)
    os.remove(file)
    out = run()
    assert.matches("^true\t", out)
    assert.is_nil(io.open(stale, "rb"), "the stale temporary file is still there")
    assert.is_not_nil(io.open(live, "rb"), "a temporary file of a live process was removed")
    os.remove(live)
    assert.are.equal("", temporaries())
    assert.is_truthy(mc) -- the module loads in the spec's own process too
  end)
end)
