-- performlua.config: where a client's account settings come from.
--
-- Settings, in groups that are always taken together from ONE source (so a client id from one
-- place is never paired with a secret, or an endpoint, from another):
--   credentials  client_id + client_secret, or username + password (WS-Security)
--   endpoint     subdomain or auth_url
--   account_id   the MID of the business unit the token is for (optional)
--   soap_url     the SOAP endpoint (optional with OAuth: it comes from the token response)
-- Each group comes from the first source that sets any of its fields:
--   1. the arguments of mc.connect{...}
--   2. the environment: PERFORMLUA_CLIENT_ID, ... (each field's variable: performlua.settings)
--   3. a profile of the config file (below)
--   4. the default account (set by `performlua --sandbox`: the embedded sandbox; its soap_url
--      serves WS-Security logins only, OAuth clients take the endpoint from the token response)
-- Safety: while a default account is set (sandbox mode), the environment and PERFORMLUA_PROFILE
-- are NOT consulted, so `performlua --sandbox script.lua` never reaches a production account
-- configured in the shell; only explicit mc.connect arguments (including profile = NAME) can
-- point such a script elsewhere.
--
-- The config file: $XDG_CONFIG_HOME/performlua/config.lua (default ~/.config/performlua/
-- config.lua), read as data (a Lua chunk run in an empty environment, no functions available):
--
--     default_profile = "prod"          -- optional; else the profile named "default", if any
--     profiles = {
--       prod = { client_id = "...", client_secret = "...", subdomain = "mc...", account_id = 123 },
--       legacy = { username = "...", password = "...", soap_url = "https://.../Service.asmx" },
--     }
--
-- The profile is chosen by mc.connect{profile = NAME}, else `performlua --profile NAME`, else
-- PERFORMLUA_PROFILE, else default_profile. The file holds secrets, so it is refused unless
-- only its owner can read it (the message gives the chmod command).
local core = require "performlua.core"
local errors = require "performlua.errors"
local settings = require "performlua.settings"

local M = {}

-- The fields, their groups and environment variables: performlua.settings.
local ACCOUNT_FIELDS, GROUPS, ENV = settings.ACCOUNT_FIELDS, settings.GROUPS, settings.ENV

local default_account
local CONFIG_MEMORY = 16 * 1024 * 1024

local usage = errors.usage

-- A mistake in the config file (or a profile it lacks) is fixed there: the message names the
-- file (and its line), not the line of the script that happened to call mc.connect. Lua's own
-- messages quote the file's field names, which can be any string, so the text is made safe.
local function file_usage(message)
  errors.usage(core.safe_text(message, {lines = true}), 0)
end

--- Registers the account used when nothing else is configured (performlua --sandbox).
--- Pass nil to clear it.
function M.set_default_account(account)
  if account ~= nil and type(account) ~= "table" then
    usage("set_default_account needs a table {auth_url=, client_id=, client_secret=, account_id=}")
  end
  if account then
    local copy = {}
    for _, k in ipairs(ACCOUNT_FIELDS) do copy[k] = account[k] end
    default_account = copy
  else
    default_account = nil
  end
end

function M.default_account() return default_account end

--- The config file's path.
function M.config_path()
  local dir, err = core.xdg_dir("config")
  if not dir then return nil, err end
  return dir .. "/performlua/config.lua"
end

local function octal(mode) return string.format("%03o", mode) end

--- Loads the config file as data. Returns the table, or nil when there is no file.
function M.load_file(path)
  local info = core.file_info(path)
  if not info then return nil end
  if not info.is_file then file_usage(path .. " is not a regular file") end
  if info.uid ~= core.getuid() then
    file_usage(string.format("%s belongs to another user (uid %d); performlua only reads a config "
      .. "file with secrets that you own", path, info.uid))
  end
  if info.mode & 0x3f ~= 0 then -- any of 077
    file_usage(string.format("%s can be read or changed by other users (mode %s) and holds secrets; "
      .. "restrict it with: chmod 600 %s", path, octal(info.mode), path))
  end
  local f, err = io.open(path, "rb")
  if not f then file_usage("cannot read " .. path .. ": " .. tostring(err)) end
  local text = f:read("a")
  f:close()
  local env = {}
  -- an empty chunk name: messages start ":LINE:", and the full path (which Lua would shorten
  -- to 60 bytes) is put in front of them here
  local chunk, cerr = load(text, "=", "t", env)
  if not chunk then
    -- Lua quotes the token it stopped at ("unfinished string near '"<secret>...'"): the line
    -- number is enough to find the mistake, and the token may be a secret
    file_usage("config file " .. path .. tostring(cerr):gsub(" near .*$", "") .. " (not valid Lua: "
      .. "check quotes, commas and braces on that line)")
  end
  -- data only: bounded work and memory (a string doubled a few times would take gigabytes),
  -- no access to anything
  local co = coroutine.create(chunk)
  debug.sethook(co, function() error("config file runs too long (it should only set data)", 0) end,
    "", 1000000)
  local too_big, ok, rerr = core.call_with_memory_limit(CONFIG_MEMORY, coroutine.resume, co)
  if too_big then
    ok, rerr = false, string.format("config file uses more than %d MB of memory (it should "
      .. "only set data)", CONFIG_MEMORY // (1024 * 1024))
  end
  if not ok then
    -- Lua names a string constant it could not use ("(constant 'the-secret')"): drop the value
    rerr = tostring(rerr):gsub("%(constant .*%)", "(a constant)")
    file_usage("config file " .. path .. (rerr:sub(1, 1) == ":" and "" or ": ") .. rerr)
  end
  if env.profiles ~= nil and type(env.profiles) ~= "table" then
    file_usage("config file " .. path .. ": 'profiles' must be a table of named profiles")
  end
  return env
end

-- The profile the run asks for: `performlua --profile NAME` (the command line's flags are
-- package.loaded["performlua.cli"]), else PERFORMLUA_PROFILE.
local function requested_profile()
  local cli = package.loaded["performlua.cli"]
  if type(cli) == "table" and cli.profile then return cli.profile end
  return os.getenv("PERFORMLUA_PROFILE")
end

local function profile_source(args)
  local name = args.profile or requested_profile()
  if name == "" then name = nil end
  local path, perr = M.config_path()
  if not path then
    if name then file_usage("cannot find the config file for profile '" .. name .. "': " .. perr) end
    return nil
  end
  local data = M.load_file(path)
  if not data then
    if name then
      file_usage(string.format("profile '%s' was asked for (%s) but %s does not exist", name,
        args.profile and "mc.connect{profile=...}" or "PERFORMLUA_PROFILE / --profile", path))
    end
    return nil, path
  end
  local profiles = data.profiles or {}
  local chosen = name or data.default_profile or (profiles.default and "default")
  if not chosen then return nil, path end
  local p = profiles[chosen]
  if type(p) ~= "table" then
    local names = {}
    for k in pairs(profiles) do names[#names + 1] = tostring(k) end
    table.sort(names)
    file_usage(string.format("no profile '%s' in %s (profiles there: %s)", chosen, path,
      #names > 0 and table.concat(names, ", ") or "none"))
  end
  local src = {}
  for _, k in ipairs(ACCOUNT_FIELDS) do src[k] = p[k] end
  return src, path, chosen
end

local function env_source()
  local src = {}
  for _, k in ipairs(ACCOUNT_FIELDS) do
    local v = os.getenv(ENV[k])
    if v ~= nil and v ~= "" then src[k] = v end
  end
  return src
end

local function any_set(src, fields)
  if not src then return false end
  for _, f in ipairs(fields) do
    if src[f] ~= nil then return true end
  end
  return false
end

--- Resolves the account settings for mc.connect(args). Returns a table with the account
--- fields (plus `source`, naming where the credentials came from, and `sources`, where each
--- group came from) or raises ONE usage error listing everything that is missing.
function M.resolve(args)
  args = args or {}
  local sources = {{name = "mc.connect arguments", values = args}}
  local profile_path
  local function add_profile()
    local src, path, pname = profile_source(args)
    profile_path = path
    if src then
      sources[#sources + 1] = {name = "profile '" .. pname .. "' in " .. path, values = src}
    end
  end
  if default_account then
    -- an explicit mc.connect{profile = ...} still counts as an argument in sandbox mode
    if args.profile then add_profile() end
    sources[#sources + 1] = {name = "the default account (sandbox)", values = default_account}
  else
    sources[#sources + 1] = {name = "the environment", values = env_source()}
    -- the config file is read only when the arguments and the environment leave a gap
    local merged_enough = true
    for _, g in ipairs(GROUPS) do
      if g.name ~= "account_id" and g.name ~= "soap_url"
        and not any_set(args, g.fields) and not any_set(sources[2].values, g.fields) then
        merged_enough = false
      end
    end
    if not merged_enough or args.profile or requested_profile() then add_profile() end
  end

  -- `sources`: where each group came from (group name -> source name), for performlua doctor
  local out = {sources = {}}
  local soap_url_source
  for _, g in ipairs(GROUPS) do
    for _, s in ipairs(sources) do
      if any_set(s.values, g.fields) then
        for _, f in ipairs(g.fields) do out[f] = s.values[f] end
        out.sources[g.name] = s.name
        if g.name == "credentials" then out.source = s.name end
        if g.name == "soap_url" then soap_url_source = s.values end
        break
      end
    end
  end
  -- The default account's SOAP URL is for WS-Security logins (which have no token response
  -- to take it from); an OAuth client takes it from the token response, as with a real account.
  if soap_url_source == default_account and out.client_id ~= nil then
    out.soap_url, out.sources.soap_url = nil, nil
  end

  -- check, collecting everything missing into one message
  local missing = {}
  local has_oauth = out.client_id ~= nil or out.client_secret ~= nil
  local has_wsse = out.username ~= nil or out.password ~= nil
  local function need(field)
    if out[field] == nil then missing[#missing + 1] = field .. " (" .. ENV[field] .. ")" end
  end
  if has_wsse and not has_oauth then
    need("username")
    need("password")
    need("soap_url")
  else
    need("client_id")
    need("client_secret")
    if not out.subdomain and not out.auth_url then
      missing[#missing + 1] = string.format("subdomain or auth_url (%s or %s)", ENV.subdomain,
        ENV.auth_url)
    end
  end
  if #missing > 0 then
    local where = profile_path or (M.config_path() or "~/.config/performlua/config.lua")
    usage("mc.connect: missing settings: " .. table.concat(missing, ", ") .. ". Set them as "
      .. "arguments (mc.connect{client_id = ..., client_secret = ..., subdomain = ...}), in the "
      .. "environment variables named, or in a profile in " .. where
      .. " (chosen with --profile NAME or PERFORMLUA_PROFILE)")
  end
  for _, k in ipairs(ACCOUNT_FIELDS) do
    -- account_id may be a number too: it is checked below
    if k ~= "account_id" and out[k] ~= nil and type(out[k]) ~= "string" then
      usage("mc.connect: " .. k .. " must be a string, got " .. type(out[k]))
    end
  end
  if out.account_id ~= nil then
    local id = out.account_id
    if math.type(id) == "float" and id == math.floor(id) then id = math.tointeger(id) end
    -- a MID is digits; anything else would only come back as a refused token request
    if not (math.type(id) == "integer" and id > 0 or type(id) == "string" and id:match("^%d+$")) then
      usage("mc.connect: account_id must be the business unit's MID (a number such as "
        .. "7281698), got " .. (type(id) == "string" and string.format("%q", id) or tostring(id)))
    end
    out.account_id = tostring(id)
  end
  if out.subdomain and not out.subdomain:match("^[%w%-]+$") then
    usage("mc.connect: subdomain must be the tenant subdomain only (letters, digits, '-'), "
      .. "e.g. mc563885gzs27c5t9-63k636ttgm, not a URL")
  end
  return out
end

return M
