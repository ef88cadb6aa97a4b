-- performlua.doctor: `performlua doctor`, what a run would use and whether it works, before a
-- cron job finds out at 3 a.m.
--
-- Prints the account settings in use and where each came from (the environment, a profile,
-- the sandbox; secrets masked), then one PASS or FAIL line per check, in order:
--   libcurl        the HTTP library loads and initialises (it is loaded on first use, so a
--                  missing or broken one would otherwise show only at the first call)
--   settings       every setting a client needs is there and valid
--   token          a token can be had now (a fresh request: the cache is not used)
--   SOAP endpoint  the endpoint calls go to, and where it came from
--   account        the account the credentials reach (Retrieve Account: MID and name)
--   system status  the service says it is up (GetSystemStatus)
-- A check that cannot run because an earlier one failed fails too, saying so. The exit status
-- is 0 only when every check passed, else 1. performlua's own flags apply as for a script:
-- `performlua --profile prod doctor`, `performlua --sandbox doctor`, `--trace`.
local config = require "performlua.config"
local core = require "performlua.core"
local errors = require "performlua.errors"
local loop = require "performlua.loop"
local settings = require "performlua.settings"
local trace = require "performlua.trace"

local M = {}

local SECRET = {client_secret = true, password = true}

local function message_of(err)
  if errors.is_error(err) then
    return string.format("%s error: %s", tostring(err.kind), tostring(err.message))
  end
  return tostring(err)
end

-- Where a group of settings came from, in words: the environment names the variable.
local function source_text(source, field)
  if source == nil then return "" end
  if source == "the environment" then
    return string.format("the environment (%s)", settings.ENV[field])
  end
  return source
end

-- A proxy URL may carry credentials (http://user:password@proxy:3128): never print them.
local function without_credentials(url)
  return (url:gsub("//[^/@]*@", "//***@"))
end

local function print_settings(account)
  print("Settings:")
  local rows = {}
  for _, s in ipairs(settings.ACCOUNT) do
    local value = account and account[s.name]
    if value ~= nil then
      local shown = SECRET[s.name] and "******** (hidden)" or tostring(value)
      rows[#rows + 1] = {s.name, shown, source_text(account.sources[s.group], s.name)}
    end
  end
  local path = config.config_path()
  local info = path and core.file_info(path)
  rows[#rows + 1] = {"config file", tostring(path or "(none: no home directory)"),
    info and "exists" or "not there"}
  local cli = package.loaded["performlua.cli"]
  local profile = type(cli) == "table" and cli.profile or os.getenv("PERFORMLUA_PROFILE")
  if profile and profile ~= "" then
    rows[#rows + 1] = {"profile", profile, type(cli) == "table" and cli.profile and "--profile"
      or "the environment (PERFORMLUA_PROFILE)"}
  end
  local cache_dir = core.xdg_dir("cache")
  rows[#rows + 1] = {"token cache", cache_dir and (cache_dir .. "/performlua/tokens") or "off",
    "scripts reuse tokens from it; doctor asks for a fresh one"}
  for _, var in ipairs({"PERFORMLUA_CA_FILE", "HTTPS_PROXY", "https_proxy", "NO_PROXY",
                        "no_proxy"}) do
    local v = os.getenv(var)
    if v and v ~= "" then rows[#rows + 1] = {var, without_credentials(v), "the environment"} end
  end
  local widths = {0, 0}
  for _, r in ipairs(rows) do
    widths[1] = math.max(widths[1], #r[1])
    widths[2] = math.max(widths[2], #r[2])
  end
  for _, r in ipairs(rows) do
    print(string.format("  %-" .. widths[1] .. "s  %-" .. widths[2] .. "s  %s", r[1], r[2], r[3]))
  end
  print()
end

--- opts: the doctor's flags (runtime/cli/flags.c). Returns the exit status.
function M.main(_)
  local passed, failed = 0, 0
  local function report(name, ok, text)
    if ok then passed = passed + 1 else failed = failed + 1 end
    print(string.format("%s %s: %s", ok and "PASS" or "FAIL", name, text))
    io.stdout:flush()
  end
  local function skip(name, why)
    report(name, false, "not checked: " .. why)
  end

  print("performlua doctor: the settings a run would use, and whether they work")
  print()
  local resolved, account = pcall(config.resolve, {})
  print_settings(resolved and account or nil)

  -- libcurl: every check after the settings makes HTTP requests through it
  local curl_version, curl_why = core.http_library()
  report("libcurl", curl_version ~= nil, curl_version or tostring(curl_why))

  -- settings: everything a client needs, and valid (mc.connect's own checks, which parse the
  -- URLs with libcurl's parser)
  local c
  if resolved and curl_version then
    local ok, client = pcall(require("performlua.client").connect,
      {token_cache = false, retries = 1, timeout = 30, connect_timeout = 10})
    if ok then c = client else account = client end
  end
  if not c then
    if curl_version then
      report("settings", false, message_of(account))
    else
      skip("settings", "libcurl is not available")
    end
    local why = curl_version and "the settings are not complete" or "libcurl is not available"
    for _, name in ipairs({"token", "SOAP endpoint", "account", "system status"}) do
      skip(name, why)
    end
    print()
    print(string.format("%d of %d checks failed.", failed, passed + failed))
    return 1
  end
  local mode = c.auth.mode == "oauth" and "OAuth client credentials"
    or "WS-Security username and password"
  report("settings", true, string.format("complete (%s, credentials from %s)", mode,
    account.source or "?"))

  -- token
  local token_ok = true
  if c.auth.mode == "oauth" then
    local started = loop.now()
    local ok, err = pcall(c.auth.token, c.auth)
    if ok then
      report("token", true, string.format("received from %s in %.2f s", c.auth.token_url,
        loop.now() - started))
    else
      token_ok = false
      report("token", false, trace.redact(message_of(err), c.auth:secret_values()))
    end
  else
    report("token", true, "none needed: WS-Security sends the username and password with "
      .. "every call")
  end

  -- SOAP endpoint
  local endpoint_ok = false
  if not token_ok then
    skip("SOAP endpoint", "no token (an OAuth client learns its endpoint from the token answer)")
  else
    local ok, url = pcall(c.auth.soap_url, c.auth)
    if ok and url then
      local allowed, why = core.http_url_allowed(url)
      endpoint_ok = allowed
      report("SOAP endpoint", allowed, allowed and string.format("%s (%s)", url,
        c.auth.fixed_soap_url and ("soap_url, from " .. source_text(account.sources.soap_url,
          "soap_url")) or "from the token answer") or tostring(why))
    else
      report("SOAP endpoint", false, ok and "the token answer has no soap_instance_url; set "
        .. "soap_url (PERFORMLUA_SOAP_URL)" or message_of(url))
    end
  end

  -- account and system status: two real calls
  if not endpoint_ok then
    skip("account", "no SOAP endpoint")
    skip("system status", "no SOAP endpoint")
  else
    local ok, r = pcall(c.retrieve, c, "Account", {"ID", "Name"})
    local a = ok and r.ok and r.Results[1]
    if a then
      local text = string.format("MID %s, %q", tostring(a.ID), tostring(a.Name))
      if account.account_id and tostring(a.ID) ~= tostring(account.account_id) then
        text = text .. string.format(" (account_id %s asks for a business unit of it)",
          tostring(account.account_id))
      end
      report("account", true, text)
    else
      report("account", false, ok and ("Retrieve Account answered " .. tostring(r.OverallStatus)
        .. (#r.Results == 0 and " with no account" or "")) or message_of(r))
    end
    ok, r = pcall(c.system_status, c)
    local status = ok and r.Results[1] and (r.Results[1].SystemStatus or r.Results[1].StatusCode)
    if ok and tostring(status) == "OK" then
      report("system status", true, "OK")
    else
      report("system status", false, ok and string.format("%s%s", tostring(status or
        r.OverallStatus), r.Results[1] and r.Results[1].StatusMessage
          and (": " .. tostring(r.Results[1].StatusMessage)) or "") or message_of(r))
    end
  end
  print()
  if failed == 0 then
    print(string.format("All %d checks passed.", passed))
    return 0
  end
  print(string.format("%d of %d checks failed.", failed, passed + failed))
  return 1
end

return M
