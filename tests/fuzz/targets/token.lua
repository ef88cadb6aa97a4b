-- dictionaries: json
-- The token answer, as auth.lua reads it: an input is "STATUS\n" and the body the token endpoint
-- answers (STATUS 200 when the first line is not three digits); "@SECRET@" stands for the
-- client secret, so inputs can echo it. The answer reaches Auth:token() through loop.http, as
-- a real answer does, with tracing on: the parse, the SOAP endpoint taken from it, the error
-- built when it is unusable, and the trace lines.
--
-- Either a token comes back (and soap_url() gives an http(s) URL, nothing, or an auth error),
-- or an auth error. Messages and trace lines are safe to show and never hold the client secret;
-- the trace never holds the token.
local core = require "performlua.core"
local loop = require "performlua.loop"
local auth = require "performlua.auth"
local trace = require "performlua.trace"
local fuzz = require "fuzz_support"
local check, show = fuzz.check, fuzz.show

local SECRET = "fuzz-client-secret-Q7x"
local answer
loop.http = function()
  return {id = 0, status = answer.status, body = answer.body, headers = {}, curl_code = 0,
    sent = true, reused = false, elapsed = 0.001}
end
local traced
trace.set_sink(function(s) traced[#traced + 1] = s end)

local function check_text(text, what)
  check(fuzz.is_safe_text(text, true), "%s is not safe to show: %s", what, show(text))
  check(not text:find(SECRET, 1, true), "%s holds the client secret: %s", what, show(text))
end

return function(input)
  local status, body = input:match("^(%d%d%d)\n(.*)$")
  answer = {status = tonumber(status) or 200, body = (body or input):gsub("@SECRET@", SECRET)}
  traced = {}
  auth._reset()
  local a = auth.new({client_id = "fuzz-client", client_secret = SECRET,
    auth_url = "https://auth.fuzz.example/"}, {token_cache = false, trace = true, retries = 0})
  local ok, token = pcall(a.token, a)
  if ok then
    check(type(token) == "string" and token ~= "", "token() returned %s", show(token))
    local got, url = pcall(a.soap_url, a)
    if got then
      check(url == nil or (type(url) == "string" and url:match("^[Hh][Tt][Tt][Pp][Ss]?://")),
        "soap_url() returned %s", show(url))
    else
      fuzz.check_error(url, {auth = true}, "soap_url()")
      check_text(url.message, "the soap_url error")
    end
  else
    fuzz.check_error(token, {auth = true}, "token()")
    check_text(token.message, "the error's message")
    check(token.http_status == answer.status, "http_status %s", show(token.http_status))
  end
  local all = table.concat(traced)
  check_text(all, "the trace")
  -- the token request's line is traced before any token exists: a token that happens to be a
  -- word of it ("exam" in auth.fuzz.example) is not a leak. Everything traced after it must not
  -- hold the token.
  local after_request = table.concat(traced, "", 2)
  if ok and #token >= 4 then
    check(not after_request:find(token, 1, true), "the trace holds the token %s: %s", show(token),
      show(all))
  end
end
