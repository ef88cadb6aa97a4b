-- performlua.settings: every setting mc.connect{...} takes, and each default, in one table.
--
-- Two sorts:
--   account settings  which account, with which credentials. performlua.config resolves them,
--                     group by group, from the arguments, the environment (`env`), a profile
--                     of the config file, or the sandbox; see there for the precedence.
--   client settings   how the client behaves. mc.connect checks them (client.lua) and applies
--                     `default` when the argument is absent; auth.lua reads the token ones.
-- The documentation (client.lua's header, the README) points here rather than restating them.
local M = {}

-- In the order people set them. `group`: the fields always taken together from one source, so
-- a client id from one place is never paired with a secret, or an endpoint, from another.
M.ACCOUNT = {
  {name = "client_id", group = "credentials", env = "PERFORMLUA_CLIENT_ID"},
  {name = "client_secret", group = "credentials", env = "PERFORMLUA_CLIENT_SECRET"},
  {name = "username", group = "credentials", env = "PERFORMLUA_USERNAME"},
  {name = "password", group = "credentials", env = "PERFORMLUA_PASSWORD"},
  {name = "subdomain", group = "endpoint", env = "PERFORMLUA_SUBDOMAIN"},
  {name = "auth_url", group = "endpoint", env = "PERFORMLUA_AUTH_URL"},
  -- the MID of the business unit the token is for (optional)
  {name = "account_id", group = "account_id", env = "PERFORMLUA_ACCOUNT_ID"},
  -- the SOAP endpoint (optional with OAuth: it comes from the token response)
  {name = "soap_url", group = "soap_url", env = "PERFORMLUA_SOAP_URL"},
}

-- Seconds unless said otherwise. The timeouts follow the service's advice for clients
-- (reference/soap-api.md §8): 120 s for a call, 300 s for a large retrieve.
M.CLIENT = {
  -- which profile of the config file holds the account settings (else PERFORMLUA_PROFILE,
  -- --profile, or the file's default_profile)
  {name = "profile"},
  {name = "timeout", default = 120},              -- one attempt of a call: request and answer
  {name = "retrieve_timeout", default = 300},     -- the same for Retrieve (`timeout` when given)
  {name = "connect_timeout", default = 30},
  {name = "retries", default = 4},                -- attempts after the first, when retrying is safe
  {name = "retry_max_seconds", default = 120},    -- no retry starts after this long
  {name = "retry_base_delay", default = 0.5},     -- the first backoff; it doubles, with jitter
  {name = "chunk_size", default = 50},            -- objects per request (the service's advice)
  {name = "max_in_flight", default = 8},          -- requests of one client at once
  {name = "refresh_margin", default = 300},       -- a token is refreshed this long before it expires
  {name = "token_cache", default = true},         -- reuse tokens across runs (~/.cache/performlua)
  {name = "trace"},                               -- else PERFORMLUA_TRACE=1 or --trace
  -- a PEM bundle to trust instead of the system's (also PERFORMLUA_CA_FILE), e.g. behind a
  -- TLS-inspecting proxy; verification itself can never be turned off
  {name = "ca_file"},
}

--- name -> default, for the client settings that have one.
M.DEFAULTS = {}
--- name -> true, for every setting mc.connect takes.
M.NAMES = {}
for _, list in ipairs({M.ACCOUNT, M.CLIENT}) do
  for _, s in ipairs(list) do
    M.NAMES[s.name] = true
    if s.default ~= nil then M.DEFAULTS[s.name] = s.default end
  end
end

--- The account fields' names, in order.
M.ACCOUNT_FIELDS = {}
for i, s in ipairs(M.ACCOUNT) do M.ACCOUNT_FIELDS[i] = s.name end

--- The environment variable of each account field.
M.ENV = {}
for _, s in ipairs(M.ACCOUNT) do M.ENV[s.name] = s.env end

--- The groups of account fields, in order: {{name =, fields = {...}}, ...}.
M.GROUPS = {}
do
  local index = {}
  for _, s in ipairs(M.ACCOUNT) do
    local g = index[s.group]
    if not g then
      g = {name = s.group, fields = {}}
      index[s.group] = g
      M.GROUPS[#M.GROUPS + 1] = g
    end
    g.fields[#g.fields + 1] = s.name
  end
end

return M
