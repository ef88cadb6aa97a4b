-- Starting a sandbox for a spec and talking to it with raw HTTP (the curl command-line tool),
-- so the sandbox is tested without performlua's own client in between.
--
--   local sh = require "sandbox_helper"
--   local sb = sh.start{...}                   -- performlua.sandbox.start on a free port
--   local r = sh.http("POST", url, body, {"Content-Type: text/xml", ...})
--       -> {status = 200, body = "...", exit = curl's exit code (0 ok, 52 empty reply, ...)}
--   sh.token(sb) -> access token;  sh.envelope(inner_xml, {token=, header_after=}) -> envelope
--   sh.soap(sb, action, inner_xml, {token=, path=, quote_action=}) -> http result
--   sh.decode(body) -> body table, element | nil, error table (faults)
--   sh.assert_valid(body) -> body, asserted XSD-valid when the WSDL is here (wsdl_helper.lua)
--   sh.obj(type_name, fields) -> fields as an object of that type (the codec's metatable)
--   local sb = sh.shared()  -- at file level; in each describe block:
--     sb:serve(setup, teardown, {speed = 0.001})   (or before_each, after_each: one per test)
--   starts a sandbox with those options and a token (sb.token) before the block's tests and
--   stops it after; sb stands for the running sandbox (sb:objects(...), sb.soap_url, ...)
--   sh.ok_call(sb, token, operation, request) -> decoded body of an HTTP 200 XSD-valid answer
local core = require "performlua.core"
local sandbox = require "performlua.sandbox"

local M = {}
M.NS = "http://exacttarget.com/wsdl/partnerAPI"

function M.start(opts) return sandbox.start(opts) end

function M.obj(type_name, fields) return setmetatable(fields, core.object_metatable(type_name)) end

--- A stand-in for the sandbox of the describe block being run (see the header).
function M.shared()
  local box = {}
  local proxy = {}
  local function serve(_, before, after, opts)
    before(function()
      box.handle = M.start(opts or {})
      box.token = M.token(box.handle)
    end)
    after(function()
      box.handle:stop()
      box.handle, box.token = nil, nil
    end)
  end
  return setmetatable(proxy, {__index = function(_, k)
    if k == "serve" then return serve end
    if k == "token" then return box.token end
    local h = box.handle
    if not h then
      error("no sandbox is running here: call sb:serve(setup, teardown) in the describe block", 2)
    end
    local v = h[k]
    if type(v) ~= "function" then return v end
    return function(self, ...) return v(self == proxy and h or self, ...) end
  end})
end

local tmp_counter = 0
local function tmpname(suffix)
  tmp_counter = tmp_counter + 1
  return string.format("%s/sbx-%d-%d-%s%s", os.getenv("PERFORMLUA_BUILD_DIR") or "/tmp",
    core.getpid(), tmp_counter, core.random_hex(4), suffix)
end

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- One HTTP request through curl. headers: array of "Name: value".
function M.http(method, url, body, headers, extra)
  local body_file = tmpname(".req")
  local out_file = tmpname(".resp")
  local f = assert(io.open(body_file, "wb"))
  f:write(body or "")
  f:close()
  local cmd = {"curl", "-s", "-o", shell_quote(out_file), "-w", "'%{http_code}'", "-X", method,
    "--max-time", "20", "-H", "'Expect:'"}
  for _, h in ipairs(headers or {}) do
    cmd[#cmd + 1] = "-H"
    cmd[#cmd + 1] = shell_quote(h)
  end
  if body then
    cmd[#cmd + 1] = "--data-binary"
    cmd[#cmd + 1] = shell_quote("@" .. body_file)
  end
  for _, x in ipairs(extra or {}) do cmd[#cmd + 1] = x end
  cmd[#cmd + 1] = shell_quote(url)
  local p = io.popen(table.concat(cmd, " ") .. "; echo \" $?\"")
  local out = p:read("a")
  p:close()
  local code, exit = out:match("^(%d*)%s+(%d+)%s*$")
  local rf = io.open(out_file, "rb")
  local resp = rf and rf:read("a") or ""
  if rf then rf:close() end
  os.remove(body_file)
  os.remove(out_file)
  return {status = tonumber(code) or 0, body = resp, exit = tonumber(exit)}
end

function M.token(sb, body)
  local r = M.http("POST", sb.token_url, body or core.json_encode{grant_type = "client_credentials",
    client_id = sb.client_id, client_secret = sb.client_secret}, {"Content-Type: application/json"})
  assert(r.status == 200, "token request failed: " .. r.status .. " " .. r.body)
  return core.json_decode(r.body).access_token
end

--- A SOAP envelope around `inner` (the request element's XML). opts.token puts fueloauth in the
--- header; opts.username/password a UsernameToken; opts.body_first writes Body before Header.
function M.envelope(inner, opts)
  opts = opts or {}
  local header = ""
  if opts.token then
    header = '<soap:Header><fueloauth xmlns="http://exacttarget.com">' .. opts.token .. "</fueloauth></soap:Header>"
  elseif opts.username then
    header = '<soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/'
      .. 'oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>'
      .. opts.username .. "</wsse:Username><wsse:Password>" .. opts.password
      .. "</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>"
  end
  local body = "<soap:Body>" .. inner .. "</soap:Body>"
  return '<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.'
    .. 'xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    .. (opts.body_first and (body .. header) or (header .. body)) .. "</soap:Envelope>"
end

function M.soap(sb, action, inner, opts)
  opts = opts or {}
  local headers = {"Content-Type: text/xml; charset=utf-8"}
  if action then
    headers[#headers + 1] = "SOAPAction: " .. (opts.quote_action and ('"' .. action .. '"') or action)
  end
  local env = opts.raw or M.envelope(inner, opts)
  return M.http("POST", sb.auth_url .. (opts.path or "Service.asmx"), env, headers)
end

--- Encodes a request with performlua's encoder and posts it (token from sh.token).
function M.call(sb, token, operation, request, opts)
  local env = core.encode(operation, request, {header = {fueloauth = token}})
  local headers = {"Content-Type: text/xml; charset=utf-8", "SOAPAction: " .. operation}
  local r = M.http("POST", sb.soap_url, env, headers)
  r.request = env
  if not (opts and opts.raw) then
    local ok, body, element = pcall(core.decode, r.body)
    if ok then r.decoded, r.element = body, element else r.error = body end
  end
  return r
end

--- M.call for an answer that must be HTTP 200 and valid against the XSD: its decoded body.
function M.ok_call(sb, token, operation, request)
  local r = M.call(sb, token, operation, request)
  assert(r.status == 200, operation .. " answered HTTP " .. r.status .. ": " .. r.body)
  M.assert_valid(r.body)
  return r.decoded, r
end

function M.decode(body)
  local ok, b, element = pcall(core.decode, body)
  if ok then return b, element end
  return nil, b
end

--- Asserts the response body is valid against the XSD when the WSDL is here (wsdl_helper.lua);
--- returns it for chaining.
function M.assert_valid(body)
  local validator = require("wsdl_helper").validator()
  if not validator then return body end
  local ok, msg = validator:validate(body)
  assert(ok, "response not valid against the XSD: " .. tostring(msg) .. "\n" .. body:sub(1, 2000))
  return body
end

--- Moves sandbox sb's clock (all but frozen in the schedule specs) to `text`, a dateTime ahead
--- of it.
function M.clock_to(sb, text)
  local now = sb:now()
  local target = require("performlua.sandbox.clock").parse(text)
  assert(target and target > now, "the test's dates must be in the sandbox clock's future")
  sb:clock_advance(target - now)
end

--- The Sends of EmailSendDefinition `key` in sandbox sb, by SendDate.
function M.sends_of(sb, key)
  local out = {}
  for _, s in ipairs(sb:objects("Send")) do
    if type(s.EmailSendDefinition) == "table" and s.EmailSendDefinition.CustomerKey == key then
      out[#out + 1] = s
    end
  end
  table.sort(out, function(a, b) return a.SendDate < b.SendDate end)
  return out
end

return M
