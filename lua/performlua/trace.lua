-- performlua.trace: the raw exchange on stderr, with every secret replaced by ***.
--
-- Enabled by mc.connect{trace = true}, `performlua --trace`, or PERFORMLUA_TRACE=1. Redaction
-- works two ways so that nothing slips through: by value (every secret the client knows: token,
-- client secret, password) and by shape (the fueloauth header,
-- WS-Security passwords, JSON access_token / client_secret / refresh_token members), so even a
-- token the client has not seen yet never appears. What is redacted is also made safe to show
-- (core.safe_text): a server's bytes that are not UTF-8 and its control characters (terminal
-- escapes, a lone carriage return that hides the start of a line) are escaped, lines kept.
local core = require "performlua.core"

local M = {}

local function plain(s)
  return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

--- Returns text with the given secrets and every secret-shaped value replaced by ***, safe to
--- show (invalid UTF-8 and control characters other than tab and newline escaped).
function M.redact(text, secrets)
  text = tostring(text)
  if secrets then
    for _, s in pairs(secrets) do
      if type(s) == "string" and #s >= 4 then
        text = text:gsub(plain(s), "***")
      end
    end
  end
  text = text:gsub("(<[%w_]*:?fueloauth[^>]*>)(.-)(</[%w_]*:?fueloauth>)", "%1***%3")
  text = text:gsub("(<[%w_]*:?Password[^>]*>)(.-)(</[%w_]*:?Password>)", "%1***%3")
  text = text:gsub("(<[%w_]*:?oAuthToken[^>]*>)(.-)(</[%w_]*:?oAuthToken>)", "%1***%3")
  for _, key in ipairs({"access_token", "client_secret", "refresh_token", "password"}) do
    text = text:gsub('("' .. key .. '"%s*:%s*)"(.-[^\\])"', '%1"***"')
    text = text:gsub('("' .. key .. '"%s*:%s*)""', '%1"***"')
  end
  return core.safe_text(text, {lines = true})
end

--- Whether clients trace unless told otherwise: `performlua --trace` (the command line's flags
--- are package.loaded["performlua.cli"]), else PERFORMLUA_TRACE.
function M.enabled_by_env()
  local cli = package.loaded["performlua.cli"]
  if type(cli) == "table" and cli.trace then return true end
  local v = os.getenv("PERFORMLUA_TRACE")
  return v ~= nil and v ~= "" and v ~= "0"
end

--- The response headers a trace shows after its status: only X-Sandbox-Dropped (the elements a
--- validating sandbox skipped, as the service would: performlua sandbox --wsdl); "" otherwise.
function M.header_note(headers)
  local dropped = type(headers) == "table" and headers["x-sandbox-dropped"]
  if not dropped then return "" end
  return "; X-Sandbox-Dropped: " .. tostring(dropped)
end

local sink = function(s) io.stderr:write(s) end
--- Replaces where trace lines go (tests); returns the previous sink.
function M.set_sink(fn)
  local old = sink
  sink = fn or function(s) io.stderr:write(s) end
  return old
end

--- Writes one traced message: a header line and the (redacted) body, an XML body laid out one
--- element per line (redacted first, so no secret is ever split; what was sent is unchanged).
--- A body holding a carriage return is shown as it came: parsing XML turns CR LF into LF, and a
--- trace must not hide a server's stray CR (it can overwrite what a terminal shows before it).
function M.write(header, body, secrets)
  local out = "performlua trace: " .. M.redact(header, secrets) .. "\n"
  if body and body ~= "" then
    local text = M.redact(body, secrets)
    if text:match("^%s*<") and not text:find("\r", 1, true) then text = core.xml_indent(text) end
    out = out .. text
    if out:sub(-1) ~= "\n" then out = out .. "\n" end
  end
  sink(out)
end

return M
