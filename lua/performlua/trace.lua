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

-- The secrets of every client of this process (performlua.auth adds its client secret or
-- password, and each token it adopts), so that text written where no client is at hand (the
-- run log) loses them too. Kept here, never exported. Tokens are many over a long run: the
-- latest MAX_TOKENS are kept (an older one has long expired).
local known = {}          -- secret -> true (client secrets, passwords)
local tokens, token_at = {}, 0
local MAX_TOKENS = 32
local registered = 0      -- how many times a secret was registered: lists made before are stale

--- Registers `s` as a secret every redaction replaces (`token`: one of many, only the latest
--- are kept). Shorter than 4 bytes is ignored: it would blank ordinary words.
function M.add_secret(s, token)
  if type(s) ~= "string" or #s < 4 then return end
  if not token then
    if not known[s] then known[s], registered = true, registered + 1 end
    return
  end
  for _, t in ipairs(tokens) do if t == s then return end end
  token_at = token_at % MAX_TOKENS + 1
  tokens[token_at] = s
  registered = registered + 1
end

-- Every secret to replace in one text: the given ones and the registered ones, longest first
-- (a secret that contains another must go before the shorter one cuts it).
local function all_secrets(secrets)
  local list, seen = {}, {}
  local function add(s)
    if type(s) == "string" and #s >= 4 and not seen[s] then
      seen[s] = true
      list[#list + 1] = s
    end
  end
  if secrets then for _, s in pairs(secrets) do add(s) end end
  for s in pairs(known) do add(s) end
  for _, s in ipairs(tokens) do add(s) end
  table.sort(list, function(a, b) return #a > #b end)
  return list
end

local function replace_values(text, list)
  for _, s in ipairs(list) do
    if text:find(s, 1, true) then text = text:gsub(plain(s), "***") end
  end
  return text
end

--- Returns text with the given secrets (and those registered with add_secret) and every
--- secret-shaped value replaced by ***, safe to show (invalid UTF-8 and control characters
--- other than tab and newline escaped).
function M.redact(text, secrets)
  text = replace_values(tostring(text), all_secrets(secrets))
  text = text:gsub("(<[%w_]*:?fueloauth[^>]*>)(.-)(</[%w_]*:?fueloauth>)", "%1***%3")
  text = text:gsub("(<[%w_]*:?Password[^>]*>)(.-)(</[%w_]*:?Password>)", "%1***%3")
  text = text:gsub("(<[%w_]*:?oAuthToken[^>]*>)(.-)(</[%w_]*:?oAuthToken>)", "%1***%3")
  for _, key in ipairs({"access_token", "client_secret", "refresh_token", "password"}) do
    text = text:gsub('("' .. key .. '"%s*:%s*)"(.-[^\\])"', '%1"***"')
    text = text:gsub('("' .. key .. '"%s*:%s*)""', '%1"***"')
  end
  return core.safe_text(text, {lines = true})
end

-- Fields whose tables are the script's own values (the input object a result answers, the
-- item of mc.map), not text from the outside: never rewritten.
local SCRIPT_OWNED = {input = true, item = true}

--- The one redaction for a whole table (an error, an answer, a log record), in place; returns
--- value. Every string value in it and in the tables it holds (each table once: cycles are
--- fine; keys are kept) loses the secrets. A string held directly by an error table (message,
--- detail, faultactor, faultcode, code, ...), or any string when opts.text is true (a log
--- record), is for people: M.redact, by value and by shape, made safe to show. Any other
--- string is the service's answer (a result's StatusMessage, OverallStatusMessage, also under
--- an error's .result): the secrets are replaced by value and its bytes are otherwise kept as
--- they came. Fields `input` and `item` (the script's own objects) are not walked, nor the
--- fields of `value` itself named in opts.skip (an answer's data rows: what the account holds
--- is returned as it is stored).
function M.redact_fields(value, secrets, opts)
  if type(value) ~= "table" then return value end
  local text, skip = opts and opts.text, opts and opts.skip
  local list = all_secrets(secrets)
  local seen = {}
  local function walk(t, top)
    if seen[t] then return end
    seen[t] = true
    local shown = text or core.is_error(t)
    local changes
    for k, v in next, t do
      local tv = (top and skip and skip[k]) and "skipped" or type(v)
      if tv == "string" then
        local r = shown and M.redact(v, list) or replace_values(v, list)
        if r ~= v then
          changes = changes or {}
          changes[k] = r
        end
      elseif tv == "table" and not SCRIPT_OWNED[k] then
        walk(v, false)
      end
    end
    if changes then for k, r in pairs(changes) do rawset(t, k, r) end end
  end
  walk(value, true)
  return value
end

--- Whether an XML answer's decoded values could hold one of the secrets (the given ones and
--- the registered ones), judged from its raw bytes; false only when that is certain, so that
--- the caller may skip redact_fields' walk of the decoded answer. The decoder (runtime/bind/
--- decode.c) makes each string value from one element's character data, which a child element
--- ends (text before a child is dropped), so a value is a run of bytes found as such in the
--- raw answer, unless the parser changes bytes: references (&amp; &#65;), CDATA sections and
--- comments or processing instructions inside text (their neighbours are joined), another
--- encoding (UTF-16's NULs, a declared one), line ends and attribute whitespace normalised
--- (only a secret with whitespace could be formed), and bytes of non-ASCII secrets in a
--- re-encoded document. Any of those, or any secret found in the raw bytes: true.
local ASCII_COMPATIBLE = {["utf-8"] = true, ["us-ascii"] = true, ["ascii"] = true}

-- Whether an XML declaration's inside (version="1.0" encoding="...") names an encoding that is
-- not ASCII's superset (the raw bytes then are not the decoded text). An account's answers
-- repeat one declaration: what its pattern found is kept, not matched again on every answer
-- (bounded: emptied when full).
local DECLARATIONS_KEPT = 64
local judged, n_judged = {}, 0
local function declares_other_encoding(decl)
  local other = judged[decl]
  if other == nil then
    local enc = decl:match("encoding%s*=%s*[\"']([^\"']*)[\"']")
    other = enc ~= nil and not ASCII_COMPATIBLE[enc:lower()]
    if n_judged >= DECLARATIONS_KEPT then judged, n_judged = {}, 0 end
    judged[decl], n_judged = other, n_judged + 1
  end
  return other
end


-- Whether markup `<` .. c (c: "!" or "?") starts at or after byte `from` of raw. Found by c,
-- not by "<": a plain find of "<!" stops at every "<" (85,000 on a 2,500-row page) for a
-- memcmp, while "!" and "?" are rare in an answer; the same positions either way.
local function markup_after(raw, c, from)
  local at = raw:find(c, from + 1, true)
  while at do
    if raw:byte(at - 1) == 60 then return true end -- "<"
    at = raw:find(c, at + 1, true)
  end
  return false
end

-- The secrets answer_may_hold looks for (all_secrets of the given ones) and whether one of
-- them is not plain printable ASCII (so it could be in an answer escaped), kept for the last
-- table of given secrets until another secret is registered: a client hands the same list
-- (auth's secret_list) to every call until its token changes, and the list was made again
-- (and a pattern run over each secret, hundreds of bytes a token) on every answer.
local search = {given = false, registered = -1, list = nil, unprintable = false}
local function secrets_to_search(secrets)
  if search.given ~= secrets or search.registered ~= registered then
    local list, unprintable = all_secrets(secrets), false
    for _, s in ipairs(list) do
      if s:find("[^\33-\126]") then unprintable = true end
    end
    search.given, search.registered, search.list, search.unprintable =
      secrets, registered, list, unprintable
  end
  return search.list, search.unprintable
end

function M.answer_may_hold(raw, secrets)
  if type(raw) ~= "string" then return true end
  -- plain finds (memchr-fast on a 1 MB page), not a pattern scanned byte by byte
  if raw:find("&", 1, true) or raw:find("\0", 1, true) or markup_after(raw, "!", 1) then
    return true
  end
  local body_at = raw:sub(1, 3) == "\239\187\191" and 4 or 1 -- after a UTF-8 byte order mark
  if raw:sub(body_at, body_at + 4) == "<?xml" then
    local close = raw:find("?>", body_at + 5, true)
    if not close then return true end
    local decl = raw:sub(body_at + 5, close - 1)
    if declares_other_encoding(decl) then return true end
    body_at = close + 2
  end
  if markup_after(raw, "?", body_at) then return true end
  -- Whether any secret could be in it: found there as it is, or not plain printable ASCII (so
  -- it could be there escaped). Each one once (all_secrets keeps strings of 4 bytes or more).
  local list, unprintable = secrets_to_search(secrets)
  return unprintable or core.contains_any(raw, list)
end

--- Whether clients trace unless told otherwise: `performlua --trace` (the command line's flags
--- are package.loaded["performlua.cli"]), else PERFORMLUA_TRACE.
function M.enabled_by_env()
  local cli = package.loaded["performlua.cli"]
  if type(cli) == "table" and cli.trace then return true end
  local v = os.getenv("PERFORMLUA_TRACE")
  return v ~= nil and v ~= "" and v ~= "0"
end

--- The response headers a trace shows after its status: only the sandbox's notes,
--- X-Sandbox-Dropped (the elements a validating sandbox skipped, as the service would:
--- performlua sandbox --wsdl) and X-Sandbox-Assumed (what it guessed where the service would
--- know); "" otherwise.
function M.header_note(headers)
  if type(headers) ~= "table" then return "" end
  local out = ""
  local dropped, assumed = headers["x-sandbox-dropped"], headers["x-sandbox-assumed"]
  if dropped then out = "; X-Sandbox-Dropped: " .. tostring(dropped) end
  if assumed then out = out .. "; X-Sandbox-Assumed: " .. tostring(assumed) end
  return out
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
