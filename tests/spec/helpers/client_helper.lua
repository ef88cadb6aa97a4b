-- Shared by the client specs: a client for a test sandbox, and a token cache directory of the
-- spec's own.
--
--   local ch = require "client_helper"
--   local c = ch.connect(sb, {retries = 1})       -- sandbox credentials, no disk cache
--   local dir, restore = ch.use_cache_home("name") -- XDG_CACHE_HOME -> a private directory
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
