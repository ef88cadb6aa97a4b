-- performlua.errors: the one error shape, its kinds, and usage errors at the caller's line.
--
-- Everything performlua raises (from Lua here, from C through runtime/bind/errors.c) is a
-- table with the metatable "performlua.error":
--   kind            one of KINDS below
--   message         for people
-- The errors of a call (transport, token requests, faults, r:check, retrieve paging) pass
-- performlua.trace.redact_fields: none of their fields (message, detail, faultactor, code, the
-- results they carry) holds a token, secret or password.
--   code            a stable code for programs (apifault Code, curl code, ErrorCode) or nil
--   http_status     the HTTP status when there was a response
--   request_id      the service's RequestID (or, when the outcome is unknown, the correlation
--                   id performlua sent) when known
--   retryable       true when sending the same request again is safe and may succeed
--   outcome_unknown true when the request may have been processed (do not resend blindly)
-- plus fields of its kind (faultcode, result, status, item, ...). tostring(err) renders it on
-- one line.
local core = require "performlua.core"

local M = {}

-- Every kind an error can have, and what it tells the script. The C side raises only these
-- too (tests/spec/errors_spec.lua reads runtime/ to hold it to this list).
M.KINDS = {
  {name = "usage", means = "the script asked for something impossible (an argument, a setting, "
    .. "an action): fix the script; the message names its line"},
  {name = "auth", means = "no usable credentials: the token request was refused, or the "
    .. "service rejected the token twice"},
  {name = "fault", means = "the service answered with a SOAP fault, or r:check() found "
    .. "failed results (.result)"},
  {name = "http", means = "an HTTP error page without a SOAP answer"},
  {name = "transport", means = "no answer: the connection failed or timed out"},
  {name = "xml", means = "an answer that is not the SOAP answer to this request"},
  {name = "sandbox", means = "the sandbox could not start (port in use, bad seed, bad WSDL)"},
  {name = "failed", means = "c:wait saw the work end in a failure state (.status)"},
  {name = "timeout", means = "c:wait gave up waiting (.status, .waited); the work goes on"},
  {name = "script", means = "mc.parallel / mc.map: a plain Lua error in one branch (.item, "
    .. ".cause)"},
  {name = "storage", means = "SQLite refused or failed (the sandbox's account, the run "
    .. "journal): .code is the extended result code's name (SQLITE_BUSY, ...), .database the "
    .. "file; retryable for SQLITE_BUSY and SQLITE_LOCKED"},
  {name = "interrupted", means = "SIGINT (Ctrl-C) or SIGTERM stopped the call or the line: "
    .. ".signal; outcome_unknown when its request may have reached the service (.correlation_id)"},
  {name = "journal", means = "the run journal cannot prove what an earlier run of this command "
    .. "did (a call in doubt): the message says what to verify, with the ids"},
}

local known = {}
for _, k in ipairs(M.KINDS) do known[k.name] = true end

--- True when `kind` is one of KINDS.
function M.is_kind(kind)
  return known[kind] == true
end

--- A new error table of the one shape. An unknown kind is a bug in performlua, not in the
--- script, and is raised as such at the line that made it.
function M.new(fields)
  if not known[fields.kind] then
    local names = {}
    for _, k in ipairs(M.KINDS) do names[#names + 1] = k.name end
    error(string.format("performlua bug: error kind '%s' is not one of performlua.errors.KINDS "
      .. "(%s)", tostring(fields.kind), table.concat(names, ", ")), 2)
  end
  return core.error_new(fields)
end

--- True when v is an error of the one shape.
M.is_error = core.is_error

-- The directory of performlua's own modules ("@lua/performlua/" when embedded, the
-- development directory's under PERFORMLUA_LUA_DIR): frames there are never "the caller".
local own_prefix = debug.getinfo(1, "S").source:match("^(.*/)errors%.lua$")

local function is_ours(info)
  return info.what == "C"
    or (own_prefix ~= nil and info.source:sub(1, #own_prefix) == own_prefix)
end

-- "file:line: " of the first frame of `thread` (the running coroutine when nil), from
-- `level` up, that is neither performlua's own Lua code nor a C function; "" when none is.
local function first_caller(thread, level)
  while true do
    local info
    if thread then
      info = debug.getinfo(thread, level, "Sl")
    else
      info = debug.getinfo(level, "Sl")
    end
    if not info then return "" end
    if not is_ours(info) then
      return info.currentline > 0 and (info.short_src .. ":" .. info.currentline .. ": ") or ""
    end
    level = level + 1
  end
end

--- "file:line: " of the code that called into performlua: the first frame from `level` up
--- (as error()'s levels count, from the function calling where) that is neither performlua's
--- own Lua code nor a C function (pcall, the REPL). "" when there is none.
function M.where(level)
  -- seen from first_caller, level 1 is itself, 2 this function, 3 the one calling where
  local position = first_caller(nil, (level or 1) + 2)
  return position
end

--- The same in suspended coroutine `thread`: where a task of the event loop did something
--- wrong (its level 0 is the function it is suspended in).
function M.where_in(thread)
  return first_caller(thread, 0)
end

--- The error `err` raised by a C function that cannot know the script's line (the encoder,
--- checking a request deep inside a call): a usage error gets the caller's "file:line: " in
--- front of its message, as usage() would have put it. Returns err.
function M.at_caller(err, level)
  if core.is_error(err) and err.kind == "usage" then
    err.message = M.where((level or 1) + 1) .. tostring(err.message)
  end
  return err
end

--- Raises a usage error whose message starts with the caller's "file:line: ". `level` counts
--- as error()'s does (default 2, the caller of the function calling usage); performlua's own
--- frames above it are skipped, so a check deep inside the library still names the script's
--- line. Level 0 adds no position: for messages that name their own place (a config file's
--- line).
function M.usage(message, level)
  level = level or 2
  local where = level > 0 and M.where(level + 1) or ""
  error(M.new{kind = "usage", message = where .. message}, 0)
end

return M
