-- performlua.sandbox.auth: the token endpoints and who a SOAP request acts as.
--
--   POST /v2/token        OAuth 2 client credentials (JSON), as the service's auth endpoint
--   POST /v1/requestToken the legacy endpoint ({clientId, clientSecret} -> accessToken)
-- A token is kept in sb.tokens (token -> {expires = monotonic seconds, mid =}); a SOAP header
-- carries it (fueloauth, oAuth/oAuthToken) or a WS-Security username and password.
-- `sb` is the sandbox's state (service.lua): credentials, token_ttl, tokens, stats, acct.
local core = require "performlua.core"
local reply = require "performlua.sandbox.reply"

local M = {}

local json_response = reply.json

-- A Host header is a host name or address and maybe a port; the token answer builds its URLs
-- from it.
local function valid_host(host)
  return host:match("^[%w%.%-_]+$") or host:match("^[%w%.%-_]+:%d+$")
    or host:match("^%[[%x:%.]+%]$") or host:match("^%[[%x:%.]+%]:%d+$")
end

function M.token_endpoint(sb, req)
  local acct, cred = sb.acct, sb.credentials
  sb.stats.token_requests = sb.stats.token_requests + 1
  if req.method ~= "POST" then
    return json_response(405, {error = "invalid_request", error_description = "use POST"})
  end
  local ok, body = pcall(core.json_decode, req.body)
  if not ok or type(body) ~= "table" then
    return json_response(400, {error = "invalid_request",
      error_description = "The request body must be a JSON object"})
  end
  if body.grant_type ~= "client_credentials" then
    return json_response(400, {error = "unsupported_grant_type",
      error_description = "The sandbox supports grant_type client_credentials"})
  end
  -- the fixed credentials reach every unit; an installed package of the seed (`_packages`)
  -- reaches its units only, and its token acts where it was installed by default
  local package = (acct.packages or {})[body.client_id]
  local fixed = body.client_id == cred.client_id and body.client_secret == cred.client_secret
  if not fixed and not (package and body.client_secret == package.client_secret) then
    return json_response(401, {error = "invalid_client",
      error_description = "Client authentication failed.",
      error_uri = "https://developer.salesforce.com/docs"})
  end
  if fixed then package = nil end
  local mid = package and math.tointeger(tonumber(package.units[1])) or acct.mid
  if body.account_id ~= nil and body.account_id ~= "" then
    mid = math.tointeger(tonumber(body.account_id))
    if not mid then
      return json_response(400, {error = "invalid_request",
        error_description = "account_id must be the MID of a business unit (a number)"})
    end
    if not acct:is_unit(mid) then
      -- the service issues tokens only for business units the package is installed in
      return json_response(401, {error = "unauthorized_client", error_description = string.format(
        "account_id %d is not a business unit of this account: use the MID of the parent "
        .. "(%d) or of one of its business units", mid, acct.mid),
        error_uri = "https://developer.salesforce.com/docs"})
    end
    if package and not M.package_reaches(package, mid) then
      -- the service's token endpoint refuses a business unit the package's API user cannot
      -- access (as for a MID outside the account; the exact description is not documented)
      return json_response(401, {error = "unauthorized_client", error_description = string.format(
        "The installed package of this client id has no access to account_id %d: its API "
        .. "user reaches %s", mid, M.units_text(package)),
        error_uri = "https://developer.salesforce.com/docs"})
    end
  end
  local host = req.headers.host or "127.0.0.1"
  if not valid_host(host) then
    return json_response(400, {error = "invalid_request", error_description = string.format(
      "The Host header '%s' is not a host name or address with an optional port",
      reply.header_shown(host))})
  end
  local token = core.random_hex(32)
  sb.tokens[token] = {expires = core.monotonic() + sb.token_ttl, mid = mid}
  local base = "http://" .. host .. "/"
  return json_response(200, {access_token = token, token_type = "Bearer",
    expires_in = sb.token_ttl, scope = "offline email_read email_send data_extensions_read "
      .. "data_extensions_write automations_execute",
    soap_instance_url = base, rest_instance_url = base})
end

--- Whether an installed package's API user reaches business unit `mid`.
function M.package_reaches(package, mid)
  for _, u in ipairs(package.units) do
    if math.tointeger(tonumber(u)) == mid then return true end
  end
  return false
end

--- The MIDs a package reaches, as text for a message.
function M.units_text(package)
  local out = {}
  for i, u in ipairs(package.units) do out[i] = tostring(u) end
  return table.concat(out, ", ")
end

-- The legacy v1 endpoint (FuelSDK's default: {clientId, clientSecret} -> accessToken), for
-- old clients pointed at the sandbox; its token works in fueloauth and oAuth/oAuthToken.
function M.legacy_token_endpoint(sb, req)
  local cred = sb.credentials
  sb.stats.token_requests = sb.stats.token_requests + 1
  local ok, body = pcall(core.json_decode, req.body)
  if req.method ~= "POST" or not ok or type(body) ~= "table" then
    return json_response(400, {message = "POST a JSON object {clientId, clientSecret}",
      errorcode = 10001, documentation = ""})
  end
  if body.clientId ~= cred.client_id or body.clientSecret ~= cred.client_secret then
    return json_response(401, {message = "Unauthorized", errorcode = 1, documentation = ""})
  end
  local token = core.random_hex(32)
  sb.tokens[token] = {expires = core.monotonic() + sb.token_ttl, mid = sb.acct.mid}
  return json_response(200, {accessToken = token, expiresIn = sb.token_ttl})
end

--- The q0:Security fault a request without valid credentials gets (counted in the stats).
function M.security_fault(sb, message)
  sb.stats.auth_failures = sb.stats.auth_failures + 1
  return reply.fault(500, "q0:Security", message)
end

--- Every token issued so far expires now (the expire-token fault, the expire_tokens control).
function M.expire_tokens(sb)
  for _, t in pairs(sb.tokens) do t.expires = 0 end
end

--- Who the SOAP header's credentials act as: -> ctx {mid =} or nil, the fault to answer.
function M.authenticate(sb, header)
  local token = header.fueloauth or header.oauth_token
  if token then
    local t = sb.tokens[token]
    if not t then return nil, M.security_fault(sb, "Login Failed") end
    if t.expires <= core.monotonic() then return nil, M.security_fault(sb, "Token Expired") end
    return {mid = t.mid}
  end
  if header.username then
    if header.username == sb.credentials.username and header.password == sb.credentials.password then
      return {mid = sb.acct.mid}
    end
    return nil, M.security_fault(sb, "Login Failed")
  end
  return nil, M.security_fault(sb, "Login Failed")
end

return M
