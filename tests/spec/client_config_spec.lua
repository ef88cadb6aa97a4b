-- Where mc.connect's account settings come from: arguments, environment, profiles, the sandbox
-- default; permission checks; one clear error listing what is missing.
local core = require "performlua.core"
local config = require "performlua.config"
local client = require "performlua.client"
local uh = require "usage_helper"

local ENV_NAMES = {"PERFORMLUA_CLIENT_ID", "PERFORMLUA_CLIENT_SECRET", "PERFORMLUA_SUBDOMAIN",
  "PERFORMLUA_AUTH_URL", "PERFORMLUA_ACCOUNT_ID", "PERFORMLUA_SOAP_URL", "PERFORMLUA_USERNAME",
  "PERFORMLUA_PASSWORD", "PERFORMLUA_PROFILE"}

local config_home = os.getenv("PERFORMLUA_BUILD_DIR") and
  (os.getenv("PERFORMLUA_BUILD_DIR") .. "/test-home/client-config-spec")
  or ("/tmp/performlua-client-config-" .. core.getpid())
local config_file = config_home .. "/performlua/config.lua"

local function write_config(text, mode)
  assert(core.mkdir_p(config_home .. "/performlua", 448))
  assert(core.write_file_atomic(config_file, text, mode or 384))
end

local saved = {}
local function clean_env()
  for _, n in ipairs(ENV_NAMES) do core.setenv(n, nil) end
  core.setenv("XDG_CONFIG_HOME", config_home)
  os.remove(config_file)
  config.set_default_account(nil)
end

-- The message of the usage error fn(...) raises: without the position of the caller's line
-- for mistakes in the call, as it is for mistakes in the config file (which name the file).
local function usage_message(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  assert.are.equal("usage", err.kind, tostring(err))
  if err.message:match("^mc%.connect") or err.message:match("^%S-_spec%.lua:") then
    return uh.message(err)
  end
  return err.message
end

describe("performlua.config", function()
  setup(function()
    for _, n in ipairs(ENV_NAMES) do saved[n] = os.getenv(n) end
    saved.XDG_CONFIG_HOME = os.getenv("XDG_CONFIG_HOME")
  end)
  teardown(function()
    for n, v in pairs(saved) do core.setenv(n, v) end
    config.set_default_account(nil)
  end)
  before_each(clean_env)

  it("lists every missing setting in one error", function()
    assert.are.equal("mc.connect: missing settings: client_id (PERFORMLUA_CLIENT_ID), "
      .. "client_secret (PERFORMLUA_CLIENT_SECRET), subdomain or auth_url (PERFORMLUA_SUBDOMAIN "
      .. "or PERFORMLUA_AUTH_URL). Set them as arguments (mc.connect{client_id = ..., "
      .. "client_secret = ..., subdomain = ...}), in the environment variables named, or in a "
      .. "profile in " .. config_file .. " (chosen with --profile NAME or PERFORMLUA_PROFILE)",
      usage_message(client.connect))
    assert.matches("^mc.connect: missing settings: client_secret %(PERFORMLUA_CLIENT_SECRET%)%.",
      usage_message(client.connect, {client_id = "x", subdomain = "mcabc"}))
    assert.matches("missing settings: soap_url %(PERFORMLUA_SOAP_URL%)",
      usage_message(client.connect, {username = "u", password = "p"}))
  end)

  it("reads the environment", function()
    core.setenv("PERFORMLUA_CLIENT_ID", "env-id")
    core.setenv("PERFORMLUA_CLIENT_SECRET", "env-secret")
    core.setenv("PERFORMLUA_SUBDOMAIN", "mc123")
    core.setenv("PERFORMLUA_ACCOUNT_ID", "5001")
    local s = config.resolve({})
    assert.are.equal("env-id", s.client_id)
    assert.are.equal("env-secret", s.client_secret)
    assert.are.equal("mc123", s.subdomain)
    assert.are.equal("5001", s.account_id)
    assert.are.equal("the environment", s.source)
    local c = client.connect{token_cache = false}
    assert.are.equal("https://mc123.auth.marketingcloudapis.com/v2/token", c.auth.token_url)
  end)

  it("takes each group from one source: arguments beat the environment", function()
    core.setenv("PERFORMLUA_CLIENT_ID", "env-id")
    core.setenv("PERFORMLUA_CLIENT_SECRET", "env-secret")
    core.setenv("PERFORMLUA_AUTH_URL", "https://env.example/")
    local s = config.resolve{client_id = "arg-id", client_secret = "arg-secret"}
    assert.are.equal("arg-id", s.client_id)
    assert.are.equal("arg-secret", s.client_secret)
    assert.are.equal("https://env.example/", s.auth_url) -- the endpoint group from env
    -- a client id from the arguments is never paired with the environment's secret
    assert.matches("missing settings: client_secret", usage_message(config.resolve,
      {client_id = "arg-id"}))
    s = config.resolve{subdomain = "mcargs"}
    assert.are.equal("mcargs", s.subdomain)
    assert.is_nil(s.auth_url)
  end)

  it("reads a profile from the config file, chosen by PERFORMLUA_PROFILE or default", function()
    write_config([[
      default_profile = "prod"
      profiles = {
        prod = { client_id = "p-id", client_secret = "p-secret", subdomain = "mcprod", account_id = 77 },
        test = { client_id = "t-id", client_secret = "t-secret", auth_url = "https://t.example/" },
      }
    ]])
    local s = config.resolve({})
    assert.are.equal("p-id", s.client_id)
    assert.are.equal("77", s.account_id)
    assert.are.equal("profile 'prod' in " .. config_file, s.source)
    core.setenv("PERFORMLUA_PROFILE", "test")
    s = config.resolve({})
    assert.are.equal("t-id", s.client_id)
    assert.are.equal("https://t.example/", s.auth_url)
    s = config.resolve{profile = "prod"}
    assert.are.equal("p-id", s.client_id)
    core.setenv("PERFORMLUA_PROFILE", "nope")
    assert.are.equal("no profile 'nope' in " .. config_file .. " (profiles there: prod, test)",
      usage_message(config.resolve, {}))
  end)

  it("refuses a config file other users can read, saying how to fix it", function()
    write_config("profiles = { default = { client_id = 'a', client_secret = 'b', subdomain = 'mc' } }",
      420) -- 0644
    assert.are.equal(config_file .. " can be read or changed by other users (mode 644) and "
      .. "holds secrets; restrict it with: chmod 600 " .. config_file,
      usage_message(config.resolve, {}))
    assert(core.chmod(config_file, 384))
    assert.are.equal("a", config.resolve({}).client_id)
  end)

  it("reads the config file as data only", function()
    write_config("profiles = { default = { client_id = os.getenv('HOME') } }")
    assert.matches("attempt to index a nil value %(global 'os'%)",
      usage_message(config.resolve, {}))
    write_config("while true do end")
    assert.matches("config file runs too long", usage_message(config.resolve, {}))
    -- a few hundred bytes of config can ask for gigabytes: memory is bounded like time
    write_config('local s = "xxxxxxxx"\nfor i = 1, 22 do s = s .. s end\nprofiles = {}')
    assert.are.equal("config file " .. config_file .. ": config file uses more than 16 MB of "
      .. "memory (it should only set data)", usage_message(config.resolve, {}))
    write_config('local s = ("x"):rep(1 << 30)')
    assert.matches("config file uses more than 16 MB of memory", usage_message(config.resolve, {}))
    write_config('profiles = {p = {client_id = ("a"):rep(3)}}')
    assert.are.equal("aaa", config.load_file(config_file).profiles.p.client_id)
  end)

  it("bounds memory for a call and restores the allocator after it", function()
    assert.are.same({false, 1, "two"}, {core.call_with_memory_limit(1024, function() return 1, "two" end)})
    local reached, ok, err = core.call_with_memory_limit(1 << 20, pcall, string.rep, "x", 1 << 21)
    assert.are.same({true, false, "not enough memory"}, {reached, ok, err})
    assert.has_error(function() core.call_with_memory_limit(1 << 20, error, "raised") end, "raised")
    assert.are.equal(1 << 22, #("x"):rep(1 << 22)) -- no limit after either
  end)

  it("says where a broken config file is wrong without quoting its secrets", function()
    write_config('profiles = { p = { client_id = "id", client_secret = "Sekr1t-value } }\n')
    local msg = usage_message(config.resolve, {profile = "p"})
    assert.are.equal("config file " .. config_file .. ":1: unfinished string (not valid Lua: "
      .. "check quotes, commas and braces on that line)", msg)
    write_config('profiles = { p = { client_id = "id",\n client_secret = "Sekr1t-value" subdomain = "mc" } }')
    msg = usage_message(config.resolve, {profile = "p"})
    assert.matches(":2: '}' expected", msg, 1, true)
    assert.is_nil(msg:find("Sekr1t", 1, true), msg)
    write_config('profiles = { p = { client_id = "id", client_secret = ("Sekr1t-value")() } }')
    msg = usage_message(config.resolve, {profile = "p"})
    assert.are.equal("config file " .. config_file .. ":1: attempt to call a string value "
      .. "(a constant)", msg)
    assert.is_nil(msg:find("Sekr1t", 1, true), msg)
  end)

  -- Lua's messages quote names from the file (a field name can be any string): control
  -- characters in them reach the terminal escaped.
  it("shows the file's control characters escaped in its messages", function()
    write_config('profiles = {}\nlocal x = profiles["\\27[2J\\255"].client_id\n')
    assert.are.equal("config file " .. config_file .. ":2: attempt to index a nil value "
      .. "(field '\\x1B[2J\\xFF')", usage_message(config.resolve, {profile = "p"}))
  end)

  it("in sandbox mode uses the default account, ignoring environment and profiles", function()
    core.setenv("PERFORMLUA_CLIENT_ID", "prod-id")
    core.setenv("PERFORMLUA_CLIENT_SECRET", "prod-secret")
    core.setenv("PERFORMLUA_SUBDOMAIN", "mcprod")
    config.set_default_account{auth_url = "http://127.0.0.1:5555/", client_id = "sandbox",
      client_secret = "sandbox", account_id = 1}
    local s = config.resolve({})
    assert.are.equal("sandbox", s.client_id)
    assert.are.equal("http://127.0.0.1:5555/", s.auth_url)
    assert.is_nil(s.subdomain)
    assert.are.equal("the default account (sandbox)", s.source)
    -- PERFORMLUA_PROFILE does not apply in sandbox mode; an explicit profile argument does
    write_config("profiles = { prod = { client_id = 'p', client_secret = 'q', subdomain = 'mcp' } }")
    core.setenv("PERFORMLUA_PROFILE", "prod")
    assert.are.equal("sandbox", config.resolve({}).client_id)
    s = config.resolve{profile = "prod"}
    assert.are.equal("p", s.client_id)
    assert.are.equal("mcp", s.subdomain)
    assert.is_nil(s.auth_url)
    -- explicit arguments still win
    s = config.resolve{client_id = "x", client_secret = "y", subdomain = "mcx"}
    assert.are.equal("x", s.client_id)
    assert.are.equal("mcx", s.subdomain)
    assert.is_nil(s.auth_url)
  end)

  it("in sandbox mode a WS-Security login reaches the sandbox's SOAP URL", function()
    config.set_default_account{auth_url = "http://127.0.0.1:5555/", client_id = "sandbox",
      client_secret = "sandbox", soap_url = "http://127.0.0.1:5555/Service.asmx"}
    local s = config.resolve{username = "sandbox", password = "sandbox"}
    assert.are.equal("sandbox", s.username)
    assert.are.equal("http://127.0.0.1:5555/Service.asmx", s.soap_url)
    -- OAuth takes the endpoint from the token response, as against a real account
    s = config.resolve({})
    assert.are.equal("sandbox", s.client_id)
    assert.is_nil(s.soap_url)
    -- unless the caller names one
    s = config.resolve{soap_url = "http://127.0.0.1:6666/Service.asmx"}
    assert.are.equal("http://127.0.0.1:6666/Service.asmx", s.soap_url)
  end)

  it("applies each default of performlua.settings and takes each of its settings", function()
    local settings = require "performlua.settings"
    local c = client.connect{client_id = "a", client_secret = "b", subdomain = "mc"}
    for _, name in ipairs({"timeout", "retrieve_timeout", "connect_timeout", "retries",
                           "retry_max_seconds", "retry_base_delay", "chunk_size",
                           "max_in_flight"}) do
      assert.are.equal(settings.DEFAULTS[name], c[name], name)
    end
    assert.are.equal(120, c.timeout) -- the service's advice for a call (soap-api.md §8)
    -- every account field is read from its environment variable
    for _, s in ipairs(settings.ACCOUNT) do
      assert.matches("^PERFORMLUA_", s.env)
    end
    -- the error for an unknown setting lists exactly the settings of the table
    local names = {}
    for n in pairs(settings.NAMES) do names[#names + 1] = n end
    table.sort(names)
    assert.are.equal("mc.connect: unknown setting 'x' (settings: " .. table.concat(names, ", ")
      .. ")", usage_message(client.connect, {x = 1}))
  end)

  it("validates values and connect options", function()
    assert.matches("subdomain must be the tenant subdomain only",
      usage_message(config.resolve, {client_id = "a", client_secret = "b",
        subdomain = "https://mc.auth.marketingcloudapis.com"}))
    assert.matches("^mc.connect: unknown setting 'clientid' %(settings: account_id, auth_url",
      usage_message(client.connect, {clientid = "a"}))
    assert.are.equal("mc.connect: auth_url: refusing plain http:// to 'auth.example.com': use "
      .. "https:// (plain http is only allowed to loopback addresses such as 127.0.0.1)",
      usage_message(client.connect, {client_id = "a", client_secret = "b",
        auth_url = "http://auth.example.com/"}))
    assert.are.equal("mc.connect: ca_file: cannot read the certificate bundle /nonexistent.pem",
      usage_message(client.connect, {client_id = "a", client_secret = "b", subdomain = "mc",
        ca_file = "/nonexistent.pem"}))
    assert.are.equal('mc.connect: account_id must be the business unit\'s MID (a number such as '
      .. '7281698), got "my-bu"',
      usage_message(client.connect, {client_id = "a", client_secret = "b", subdomain = "mc",
        account_id = "my-bu"}))
    assert.are.equal("7281698", config.resolve({client_id = "a", client_secret = "b",
      subdomain = "mc", account_id = 7281698.0}).account_id)
    assert.are.equal("mc.connect: retries must be a number >= 0, got -1",
      usage_message(client.connect, {client_id = "a", client_secret = "b", subdomain = "mc",
        retries = -1}))
  end)
end)
