-- performlua.auth: credentials for SOAP calls.
--
-- OAuth 2.0 client credentials (POST {auth_url}/v2/token, JSON), with:
--   * the SOAP endpoint taken from the latest token response's soap_instance_url (normalised:
--     scheme added, trailing slash, Service.asmx appended) unless soap_url is configured;
--   * refresh when less than refresh_margin remains (performlua.settings: 5 minutes), or half
--     the token's life for short-lived tokens;
--   * single flight: however many calls (coroutines) need a token at once, one request is made
--     and the others wait for it. The token state is shared by every client of the process with
--     the same auth URL, client id and account;
--   * a disk cache in $XDG_CACHE_HOME/performlua/tokens/<hash>.json (file 0600, directory 0700)
--     holding a token only for the client secret that fetched it, so repeated runs within a
--     token's life make no token request (the service asks for at most one per 20 minutes per
--     machine). A token the server rejects is dropped and replaced. The file is written
--     atomically (a temporary file renamed over it); the temporary files of a process killed
--     mid-write, each holding a live token, are removed when the cache is next used.
-- WS-Security username/password (legacy accounts): no token; the header carries them.
--
-- Token request failures raise kind "auth" with the server's error / error_description and
-- never the secret; a token request that got no answer (connection refused, timeout) raises
-- kind "transport". Both are retried like a SOAP call's, and traced the same way.
local core = require "performlua.core"
local errors = require "performlua.errors"
local loop = require "performlua.loop"
local trace = require "performlua.trace"
local transport = require "performlua.transport"

local M = {}

local default = require("performlua.settings").DEFAULTS
local states = {} -- cache key -> shared token state
-- Secrets and token state live here, not in the client's fields, so printing a client (the
-- REPL's pretty printer, a debug dump) can never show them.
local private = setmetatable({}, {__mode = "k"})

local function auth_error(fields)
  fields.kind = "auth"
  return errors.new(fields)
end

-- The start of what a server sent, for a message: redacted before it is cut (a secret cut in
-- two would no longer match), on one line, at most max bytes.
local function excerpt(body, secrets, max)
  local text = trace.redact(body, secrets):gsub("%s+", " ")
  return core.safe_text(text, {max = max})
end

--- "mc123" -> https://mc123.auth.marketingcloudapis.com/ ; auth URLs get a scheme and a "/".
--- Returns auth_url, token_url.
function M.normalize_auth_url(subdomain, auth_url)
  local base = auth_url
  if not base then base = "https://" .. subdomain .. ".auth.marketingcloudapis.com/" end
  if not base:match("^%a[%w+.-]*://") then base = "https://" .. base end
  local prefix = base:match("^(.-)v2/token/?$")
  if prefix then
    if prefix:sub(-1) ~= "/" then prefix = prefix .. "/" end
    return prefix, prefix .. "v2/token"
  end
  if base:sub(-1) ~= "/" then base = base .. "/" end
  return base, base .. "v2/token"
end

--- soap_instance_url ("https://x.soap.marketingcloudapis.com/" or without scheme/slash) ->
--- the Service.asmx endpoint.
function M.normalize_soap_url(url)
  if not url:match("^%a[%w+.-]*://") then url = "https://" .. url end
  if url:lower():match("%.asmx$") then return url end
  if url:sub(-1) ~= "/" then url = url .. "/" end
  return url .. "Service.asmx"
end

local function cache_path(key)
  local dir, err = core.xdg_dir("cache")
  if not dir then return nil, err end
  dir = dir .. "/performlua/tokens"
  return dir .. "/" .. core.hash_hex(key) .. ".json", dir
end

-- A process killed while writing the cache leaves its temporary file, holding a live token:
-- removed the first time this process uses the cache file.
local function sweep_cache(state)
  if state.swept or not state.cache_file then return end
  state.swept = true
  core.remove_stale_temporaries(state.cache_file)
end

local function read_cache(state)
  if not state.cache_file then return nil end
  sweep_cache(state)
  local info = core.file_info(state.cache_file)
  if not info or not info.is_file then return nil end
  if info.uid ~= core.getuid() or info.mode & 0x3f ~= 0 then
    -- someone else could read or plant it: do not trust it
    os.remove(state.cache_file)
    return nil
  end
  local f = io.open(state.cache_file, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local data = core.json_decode(text)
  -- a token fetched with another client secret (a stale or mistyped one, a rotated one) is not
  -- this client's: with it, wrong credentials would seem to work until the token expired
  if type(data) ~= "table" or data.key ~= state.key or data.secret_tag ~= state.secret_tag
    or type(data.access_token) ~= "string" or type(data.expires_at) ~= "number" then
    return nil
  end
  return data
end

-- A cache that cannot be written only costs a token request per process, but a script run
-- often (cron) then asks for a token every run, and the token endpoint is rate limited: say
-- so once per process, and carry on.
local cache_warned = false
local function cache_warning(what, why)
  if cache_warned then return end
  cache_warned = true
  io.stderr:write(string.format("performlua: warning: cannot %s (%s); continuing without the "
    .. "token cache, so every run requests a new token (set XDG_CACHE_HOME to a writable "
    .. "directory, or mc.connect{token_cache = false} to silence this)\n", what, tostring(why)))
end

local function write_cache(state, data)
  if state.cache_problem then return cache_warning("find a token cache directory",
    state.cache_problem) end
  if not state.cache_file then return end
  local ok, err = core.mkdir_p(state.cache_dir, 448) -- 0700
  if not ok then return cache_warning("create the token cache directory " .. state.cache_dir,
    err) end
  core.chmod(state.cache_dir, 448)
  sweep_cache(state)
  ok, err = core.write_file_atomic(state.cache_file, core.json_encode(data), 384) -- 0600
  if not ok then cache_warning("write the token cache in " .. state.cache_dir, err) end
end

local function drop_cache(state, token)
  if not state.cache_file then return end
  local data = read_cache(state)
  if data and data.access_token == token then os.remove(state.cache_file) end
end

local Auth = {}
Auth.__index = Auth

--- settings: resolved by performlua.config; options: {token_cache=, trace=, connect_timeout=,
--- timeout=, retries=, retry_base_delay=, retry_max_seconds=, refresh_margin=}.
function M.new(settings, options)
  local self = setmetatable({options = options or {}}, Auth)
  local p = {secrets = {}}
  private[self] = p
  if settings.username and not settings.client_id then
    self.mode = "wsse"
    self.username, p.password = settings.username, settings.password
    self.fixed_soap_url = settings.soap_url
    p.secrets[1] = settings.password
    trace.add_secret(settings.password)
    return self
  end
  self.mode = "oauth"
  self.client_id, p.client_secret = settings.client_id, settings.client_secret
  self.account_id = settings.account_id
  self.source = settings.source
  self.auth_url, self.token_url = M.normalize_auth_url(settings.subdomain, settings.auth_url)
  local ok, why = core.http_url_allowed(self.token_url)
  if not ok then
    errors.usage("mc.connect: auth_url: " .. why)
  end
  self.fixed_soap_url = settings.soap_url and M.normalize_soap_url(settings.soap_url)
  p.secrets[1] = settings.client_secret
  trace.add_secret(settings.client_secret)
  -- On disk: one token per auth URL, client id and account. In memory the secret is part of
  -- the key too, so a client built with a wrong secret never borrows another client's token.
  local key = table.concat({self.token_url, self.client_id, self.account_id or ""}, "\n")
  local memory_key = key .. "\n" .. core.hash_hex(p.client_secret)
    .. (self.options.token_cache == false and "\nnocache" or "")
  local state = states[memory_key]
  if not state then
    -- The cache file records which secret fetched its token as a salted hash (never the secret).
    state = {key = key, secret_tag = core.hash_hex(key .. "\n" .. p.client_secret)}
    if self.options.token_cache ~= false then
      state.cache_file, state.cache_dir = cache_path(key)
      if not state.cache_file then state.cache_problem = state.cache_dir end
    end
    states[memory_key] = state
  end
  p.state = state
  return self
end

--- The token cache file of this client's account (nil when the cache is off).
function Auth:cache_file()
  local p = private[self]
  return p.state and p.state.cache_file
end

--- Every secret this client knows (for redaction), including the current token.
function Auth:secret_values()
  local p = private[self]
  local list = {table.unpack(p.secrets)}
  if p.state and p.state.token then list[#list + 1] = p.state.token end
  return list
end

--- The same secrets as secret_values(), as one list kept until the token changes, for callers
--- that only read it: every call checks its answer against them, and a fresh copy per call
--- was a table and a table.unpack each time. Do not modify it.
function Auth:secret_list()
  local p = private[self]
  local token = p.state and p.state.token
  if not p.secret_list or p.secret_list_token ~= token then
    p.secret_list, p.secret_list_token = self:secret_values(), token
  end
  return p.secret_list
end

function Auth:soap_url()
  if self.fixed_soap_url then return self.fixed_soap_url end
  local state = private[self].state
  if state.bad_soap_url then
    error(auth_error{message = string.format("the token response's soap_instance_url '%s' is "
      .. "not an http(s) URL; check auth_url names your account's auth endpoint, or pass "
      .. "soap_url to mc.connect", excerpt(state.bad_soap_url, private[self].secrets, 120))}, 0)
  end
  return state.soap_url
end

local function margin_for(state, configured)
  local m = configured or default.refresh_margin
  if state.lifetime then m = math.min(m, state.lifetime / 2) end
  return m
end

local function usable(state, margin)
  return state.token and state.expires_at - core.realtime() > margin_for(state, margin)
end

local function adopt(state, data)
  state.token = data.access_token
  trace.add_secret(data.access_token, true)
  state.expires_at = data.expires_at
  state.lifetime = data.lifetime
  local url = data.soap_instance_url
  if type(url) == "string" and url ~= "" then
    -- another scheme (file:, ftp:, javascript:) is never a SOAP endpoint: it is refused when
    -- a call needs the endpoint, so a soap_url given to mc.connect still works
    if url:match("^%a[%w+.-]*:") and not url:lower():match("^https?://")
      and not url:match("^[%w.-]+:%d+") then
      state.soap_url, state.bad_soap_url = nil, url
    else
      state.soap_url, state.bad_soap_url = M.normalize_soap_url(url), nil
    end
  end
end

-- One token request, with retries for transient failures (a token request is safe to repeat).
function Auth:request_token()
  local o = self.options
  local body = core.json_encode{grant_type = "client_credentials", client_id = self.client_id,
    client_secret = private[self].client_secret, account_id = self.account_id}
  local attempts = (o.retries or default.retries) + 1
  local started = loop.now()
  local last_err
  for attempt = 1, attempts do
    if o.trace then
      trace.write("token request POST " .. self.token_url, body, self:secret_values())
    end
    local resp = loop.http{url = self.token_url, body = body, idempotent = true,
      headers = {"Content-Type: application/json", "Accept: application/json"},
      -- a minute at most (longer than any real token answer), and never more than the
      -- client's own timeout: a token endpoint that trickles must not hold a script that
      -- asked for timeout = 5 for minutes
      timeout = math.min(o.timeout or math.huge, math.max(o.connect_timeout or 0, 60)),
      connect_timeout = o.connect_timeout, ca_file = o.ca_file}
    local retry
    if resp.curl_code ~= 0 then
      -- no answer at all is the network's failure, not the credentials': kind transport, as
      -- for a SOAP call, so a script (and c:wait) treats it as the passing trouble it is
      last_err = errors.new{kind = "transport", message = string.format("token request to %s "
        .. "%s: %s", self.token_url, resp.sent and "failed" or "could not be sent", resp.error),
        code = resp.curl_code, retryable = true}
      retry = true
    else
      local data = core.json_decode(resp.body)
      local secrets = self:secret_values()
      if type(data) == "table" and type(data.access_token) == "string" then
        -- by value too: the member's name may be written with escapes the shape does not match
        secrets[#secrets + 1] = data.access_token
      end
      if o.trace then
        trace.write(string.format("token response HTTP %d", resp.status), resp.body, secrets)
      end
      if resp.status == 200 and type(data) == "table" and type(data.access_token) == "string"
        and data.access_token ~= "" then
        local lifetime = tonumber(data.expires_in) or 1080
        return {access_token = data.access_token, lifetime = lifetime,
                expires_at = core.realtime() + lifetime,
                soap_instance_url = data.soap_instance_url,
                rest_instance_url = data.rest_instance_url}
      end
      local detail
      if type(data) == "table" and (data.error or data.error_description or data.message) then
        detail = tostring(data.error or data.errorcode or "error")
        local desc = data.error_description or data.message
        if desc and desc ~= "" then detail = detail .. ": " .. tostring(desc) end
      elseif resp.status == 200 and type(data) == "table" then
        detail = "the answer has no access_token (check auth_url names your account's auth "
          .. "endpoint, https://YOUR_SUBDOMAIN.auth.marketingcloudapis.com/)"
      elseif resp.status == 200 then
        -- a portal, a proxy's login page or another service answered instead of the OAuth one
        local start = excerpt(resp.body, secrets, 80)
        detail = "the answer is not JSON (" .. (start == "" and "an empty body" or "it starts '"
          .. start .. "'") .. "): check auth_url names your account's auth endpoint, "
          .. "https://YOUR_SUBDOMAIN.auth.marketingcloudapis.com/"
      else
        detail = excerpt(resp.body, secrets, 200)
        if detail == "" then detail = "no details in the answer" end
      end
      retry = resp.status >= 500 or resp.status == 429
      -- A refusal of the credentials is fixed where they were set: say which settings and
      -- which source, since a shell or profile the user forgot about is the usual cause.
      local hint = ""
      if resp.status == 400 or resp.status == 401 or resp.status == 403 then
        hint = (detail:find("%.$") and " " or ". ") .. "Check client_id, client_secret"
          .. (self.account_id and " and account_id" or "")
          .. (self.source and (" (from " .. self.source .. ")") or "")
          .. " against the installed package's API integration"
      end
      last_err = auth_error{
        message = string.format("token request to %s %s (HTTP %d): %s%s", self.token_url,
          resp.status == 200 and "got an unusable answer" or "was refused", resp.status,
          trace.redact(detail, secrets), hint),
        code = type(data) == "table" and data.error or nil,
        http_status = resp.status, retryable = retry}
    end
    -- the server's words (its error code too) may echo the request: every field is redacted
    trace.redact_fields(last_err, self:secret_values())
    if not retry then error(last_err, 0) end
    if attempt == attempts then error(transport.gave_up(last_err, attempt, "retries"), 0) end
    local delay = transport.backoff(o.retry_base_delay or default.retry_base_delay, attempt)
    if loop.now() - started + delay > (o.retry_max_seconds or default.retry_max_seconds) then
      error(transport.gave_up(last_err, attempt, "retry_max_seconds"), 0)
    end
    if o.trace then
      trace.write(string.format("token request attempt %d failed (%s); retrying in %.2f s",
        attempt, tostring(last_err.message), delay), nil, self:secret_values())
    end
    loop.sleep(delay)
  end
end

--- The current token, fetching or refreshing it when needed (one request in flight at a time).
function Auth:token()
  local state = private[self].state
  if usable(state, self.options.refresh_margin) then return state.token end
  if state.inflight then return state.inflight:wait() end
  local f = loop.future()
  state.inflight = f
  local ok, err = pcall(function()
    local cached = not state.skip_disk and read_cache(state)
    if cached then
      adopt(state, cached)
      if usable(state, self.options.refresh_margin) then return end
    end
    local data = self:request_token()
    data.key = state.key
    data.secret_tag = state.secret_tag
    adopt(state, data)
    state.skip_disk = nil
    write_cache(state, data)
  end)
  state.inflight = nil
  if ok then
    f:resolve(state.token)
    return state.token
  end
  -- An early refresh that failed (token endpoint down or throttled) does not stop work while
  -- the current token is still valid: keep using it and try again on the next call.
  if state.token and state.expires_at - core.realtime() > 1 then
    f:resolve(state.token)
    return state.token
  end
  f:reject(err)
  error(err, 0)
end

--- The SOAP header credentials (for core.encode) and the token they carry (nil for WS-Security).
function Auth:header()
  if self.mode == "wsse" then
    return {username = self.username, password = private[self].password}, nil
  end
  local token = self:token()
  return {fueloauth = token}, token
end

--- The server rejected `token` ("Token Expired" / "Login Failed"): forget it (memory and disk)
--- unless a newer one already replaced it, so the next header() fetches a fresh one.
function Auth:rejected(token)
  local state = private[self].state
  if not state or token == nil then return end
  if state.token == token then
    state.token, state.expires_at = nil, nil
  end
  drop_cache(state, token)
  state.skip_disk = true
end

--- For tests: forget every in-memory token state.
function M._reset()
  states = {}
end

return M
