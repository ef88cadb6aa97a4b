-- Shared by the client specs: a client for a test sandbox, and a token cache directory of the
-- spec's own.
--
--   local ch = require "client_helper"
--   local c = ch.connect(sb, {retries = 1})       -- sandbox credentials, no disk cache
--   local dir, restore = ch.use_cache_home("name") -- XDG_CACHE_HOME -> a private directory
--   ch.each_sandbox({speed = 0.001}, function(box, client) sb, c = box, client end)
local core = require "performlua.core"
local mc = require "performlua"

local M = {}

--- A client for sandbox `sb` (performlua.sandbox.start) with its default credentials, no disk
--- token cache and fast retries; `extra` overrides or adds mc.connect settings.
function M.connect(sb, extra)
  local args = {auth_url = sb.auth_url, client_id = "sandbox", client_secret = "sandbox",
    token_cache = false, retry_base_delay = 0.01}
  for k, v in pairs(extra or {}) do args[k] = v end
  return mc.connect(args)
end

--- Gives each test of the enclosing describe a fresh sandbox (`opts` as sandbox.start's, on a
--- free port) and a client for it, through set(sb, client), and stops the sandbox after it. The
--- process's token memory is cleared first: a token of an earlier sandbox means nothing here.
function M.each_sandbox(opts, set)
  local busted = require "busted"  -- the spec's own before_each (a module has no globals)
  local sb
  busted.before_each(function()
    require("performlua.auth")._reset()
    local start = {port = 0}
    for k, v in pairs(opts or {}) do start[k] = v end
    sb = require("performlua.sandbox").start(start)
    set(sb, M.connect(sb))
  end)
  busted.after_each(function()
    if sb then sb:stop() end
    sb = nil
  end)
end

--- Points XDG_CACHE_HOME at a directory for this spec and process alone. Returns the directory
--- and a function that restores the previous value.
function M.use_cache_home(name)
  local dir = string.format("%s/test-home/%s-%d", os.getenv("PERFORMLUA_BUILD_DIR") or "/tmp",
    name, core.getpid())
  local saved = os.getenv("XDG_CACHE_HOME")
  core.setenv("XDG_CACHE_HOME", dir)
  return dir, function() core.setenv("XDG_CACHE_HOME", saved) end
end

return M
