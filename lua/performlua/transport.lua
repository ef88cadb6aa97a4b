-- performlua.transport: one logical call of a client -- the envelope, the HTTP exchange, what
-- the answer means, and the retry policy -- for client.lua's operations.
--
--   transport.call(c, op, request, options) -> {body=, element=, header=, status=,
--       correlation_id=, attempts=}: the decoded SOAP answer to `request` (operation `op`), or
--       raises one error shape (kind auth, fault, http, transport, xml). options.timeout
--       replaces the client's timeout for this call; options.rows asks for a Retrieve's
--       Results as data extension rows (core.decode's `rows`, for c:each).
--   transport.backoff(base_delay, attempt) -> seconds to wait before retry number `attempt`
--   transport.READ_ONLY[op]   the operations that change nothing: safe to send again
--
-- Retries (the policy that must never send email twice):
--   * retried with exponential backoff and jitter, bounded by `retries` and `retry_max_seconds`:
--     the "Rate Limited" fault (code 17), HTTP 5xx without a SOAP answer, and failures before
--     the request was sent. For operations that change data only 502, 503 and 429 pages are
--     retried (a gateway or the service refused the request before handling it); a 500 page or
--     a 504 gateway timeout without a SOAP answer may follow work already done, so they raise
--     with outcome_unknown = true. A SOAP fault that comes with HTTP 429 or 503 is such a
--     refusal too (a server at a limit saying why: the sandbox's --max-connections,
--     --max-per-ip, --body-budget), retried for every operation; Retry-After is honoured;
--   * a timeout or dropped connection after the request was sent: retried only for Retrieve,
--     Describe, VersionInfo and GetSystemStatus; for every other operation it raises kind
--     "transport" with outcome_unknown = true, the correlation id sent in X-Correlation-ID and
--     request_id: the service's RequestID when part of its answer arrived, else that
--     correlation id (every outcome-unknown error carries one to quote). The transport itself
--     refuses libcurl's silent re-send of such requests (see runtime/net/http.h);
--   * "Token Expired" / "Login Failed" security faults: the token is dropped, one new token is
--     fetched and the call is retried once (the service rejected the call unprocessed).
local core = require "performlua.core"
local errors = require "performlua.errors"
local loop = require "performlua.loop"
local runlog = require "performlua.runlog"
local trace = require "performlua.trace"

local M = {}

local READ_ONLY = {Retrieve = true, Describe = true, VersionInfo = true, GetSystemStatus = true}
M.READ_ONLY = READ_ONLY
-- Operations whose answers' Results are data rows, not outcomes: redaction leaves them as
-- they are (performlua.trace.redact_fields).
local ROWS = {Retrieve = true, Describe = true, VersionInfo = true}
local DATA_ROWS = {skip = {Results = true}}
-- options.rows (c:each over "DataExtensionObject[Key]"): the decoder hands out each Result
-- as its {Column = value} row (core.decode's `rows`), not as the object with its properties.
local AS_ROWS = {rows = true}
-- The body element each operation's answer must carry: a proxy or a misrouted endpoint can
-- answer with a well-formed envelope of another operation, which must not pass as success.
local RESPONSE_ELEMENT = {}
for _, o in ipairs(core.operations()) do RESPONSE_ELEMENT[o.name] = o.response end

local function host_of(url)
  return url:match("^%a+://([^/]+)") or url
end

local SECURITY_FAULT = {["token expired"] = true, ["login failed"] = true}

local function is_security_fault(err)
  local fc = tostring(err.faultcode or "")
  local msg = tostring(err.message or ""):lower()
  return fc:match("Security$") ~= nil or SECURITY_FAULT[msg] ~= nil
    or msg:match("^token expired") ~= nil or msg:match("^login failed") ~= nil
end

-- The id to quote for a request whose outcome is unknown: the service's RequestID when part of
-- its answer arrived, else the correlation id performlua sent with it (X-Correlation-ID).
local function request_id_of(resp, correlation_id)
  local body = type(resp.body) == "string" and resp.body or ""
  return body:match("<[%w_]*:?RequestID>%s*([^<%s]+)%s*</") or correlation_id
end

-- The seconds an answer's Retry-After asks for (at most 60), or nil.
local function retry_after_of(resp)
  local after = tonumber(resp.headers and resp.headers["retry-after"])
  return after and after >= 0 and math.min(after, 60) or nil
end

-- What an HTTP exchange means: {body=, element=, header=, status=} for the SOAP answer to the
-- request, else {err=, retry=bool, retry_after=seconds, refresh=token} (see the policy above).
local function classify(c, op, url, resp, idempotent, correlation_id, token, decode_opts)
  if resp.curl_code ~= 0 then
    if not resp.sent or idempotent then
      return {retry = true, err = errors.new{kind = "transport",
        message = string.format("%s request to %s %s: %s", op, host_of(url),
          resp.sent and "failed" or "could not be sent", resp.error),
        code = resp.curl_code, retryable = true, correlation_id = correlation_id}}
    end
    return {err = errors.new{kind = "transport",
      message = string.format("%s request to %s failed after it was sent (%s): the service "
        .. "may have processed it (correlation id %s)", op, host_of(url), resp.error,
        correlation_id),
      code = resp.curl_code, outcome_unknown = true, correlation_id = correlation_id,
      request_id = request_id_of(resp, correlation_id)}}
  end
  local ok, body, element, header = pcall(core.decode, resp.body, decode_opts)
  local expected = RESPONSE_ELEMENT[op]
  if ok and (expected == nil or element == expected) then
    -- call_once adds these two: made with them, the table is never grown
    return {body = body, element = element, header = header, status = resp.status,
      correlation_id = correlation_id, attempts = 0}
  end
  local err = body
  if ok then
    err = errors.new{kind = "xml", message = string.format("%s: the answer from %s is "
      .. "<%s>, not <%s>: not an answer to this request (check soap_url points at the SOAP "
      .. "API)", op, host_of(url), tostring(element or "an empty soap:Body"), expected)}
  end
  if not errors.is_error(err) then
    err = errors.new{kind = "xml", message = tostring(err)}
  end
  err.http_status = resp.status
  err.correlation_id = correlation_id
  if err.kind == "fault" then
    local refused = resp.status == 429 or resp.status == 503 -- before handling (see the top)
    if err.retryable or tonumber(err.code) == 17 or refused then
      err.retryable = true
      return {retry = true, err = err, retry_after = refused and retry_after_of(resp) or nil}
    end
    if is_security_fault(err) then
      if c.auth.mode == "oauth" then
        return {refresh = token or true, err = err}
      end
      err.kind = "auth"
    end
    return {err = err}
  end
  -- no SOAP answer
  local status = resp.status
  local snippet = resp.body:gsub("<[^>]*>", " "):gsub("%s+", " "):match("^%s*(.-)%s*$")
  -- (the secrets are copied here, on this error path only: not on every answer)
  snippet = trace.redact(snippet:sub(1, 160), c.auth:secret_values())
  if snippet == "" then snippet = "(empty body)" end
  if status >= 500 or status == 429 then
    local e = errors.new{kind = "http", http_status = status, correlation_id = correlation_id,
      message = string.format("%s: HTTP %d from %s without a SOAP answer: %s", op, status,
        host_of(url), snippet)}
    -- 502/503/429 come from a gateway or a service that refused the request before handling it.
    -- A 500 page (the application failed somewhere while handling it) or a 504 (the gateway
    -- gave up waiting) may follow work already done, such as a started send.
    if not idempotent and status ~= 502 and status ~= 503 and status ~= 429 then
      e.outcome_unknown = true
      e.request_id = request_id_of(resp, correlation_id)
      e.message = e.message .. (status == 504 and " (a gateway timeout" or " (a server error")
        .. ": the service may have processed it)"
      return {err = e}
    end
    e.retryable = true
    return {retry = true, err = e, retry_after = retry_after_of(resp)}
  end
  if status >= 200 and status < 300 then
    -- answered but unreadable: the service has processed it
    err.outcome_unknown = not idempotent
    if err.outcome_unknown then err.request_id = request_id_of(resp, correlation_id) end
    return {err = err}
  end
  return {err = errors.new{kind = "http", http_status = status,
    correlation_id = correlation_id,
    message = string.format("%s: HTTP %d from %s: %s", op, status, host_of(url), snippet)}}
end

-- A test hook (tests/e2e/journal_kill.sh): PERFORMLUA_TEST_STOP_AT=N:WHEN kills this process
-- with SIGKILL at the N-th SOAP request: WHEN is before (it never leaves), inflight (once its
-- body was handed to the connection) or after (its answer arrived, nothing recorded it yet);
-- sigint sends the process SIGINT (Ctrl-C) once the body was handed to the connection.
-- N may also name the request: an operation (Create) or a Perform action (start, clone): the
-- first such request.
local stop_at_n, stop_at_when
do
  local v = os.getenv("PERFORMLUA_TEST_STOP_AT")
  if v then
    local n, when = v:match("^(%w+):(%a+)$")
    stop_at_n, stop_at_when = tonumber(n) or (n and n:lower()), when
  end
end
local soap_requests = 0

local function stop_here(op, request)
  soap_requests = soap_requests + 1
  if type(stop_at_n) == "number" then return soap_requests == stop_at_n end
  if op:lower() == stop_at_n or (op == "Perform" and tostring(request.Action):lower() == stop_at_n)
  then
    stop_at_n = nil -- the first one only
    return true
  end
  return false
end

local function kill_self(signal)
  io.stdout:flush()
  io.stderr:flush()
  -- io.popen, not os.execute: system() ignores SIGINT in the caller while its child runs
  local p = io.popen("kill -" .. (signal or "KILL") .. " " .. core.getpid())
  if p then p:close() end
end
M.kill_self = kill_self

-- The request headers of an operation's calls but the correlation id, made once per operation
-- (a string concatenation per call less).
local CONTENT_TYPE = "Content-Type: text/xml; charset=utf-8"
local SOAP_ACTION = setmetatable({}, {__index = function(t, op)
  local line = "SOAPAction: " .. op
  t[op] = line
  return line
end})

-- The exchange itself, run under exchange's pcall (a function of its own rather than a closure
-- made on every call).
local function exchange_once(c, op, request, idempotent, correlation_id, timeout, decode_opts)
  local header, token = c.auth:header()
  local url = c.auth:soap_url()
  if not url then
    error(errors.new{kind = "auth", message = "the token response had no "
      .. "soap_instance_url; pass soap_url to mc.connect"}, 0)
  end
  local encoded, envelope = pcall(core.encode, op, request, {header = header})
  if not encoded then error(errors.at_caller(envelope), 0) end
  local secrets = c.auth:secret_list()
  if c.trace then
    trace.write(string.format("%s request POST %s (correlation id %s)", op, url,
      correlation_id), envelope, secrets)
  end
  local stop
  if stop_at_n then
    if stop_here(op, request) then stop = stop_at_when end
    if stop == "before" then kill_self() end
  end
  local resp = loop.http{url = url, body = envelope, idempotent = idempotent,
    timeout = timeout, connect_timeout = c.connect_timeout, ca_file = c.ca_file,
    headers = {CONTENT_TYPE, SOAP_ACTION[op], "X-Correlation-ID: " .. correlation_id},
    on_sent = (stop == "inflight" and kill_self)
      or (stop == "sigint" and function() kill_self("INT") end) or nil}
  if stop == "after" then kill_self() end
  if c.trace then
    if resp.curl_code ~= 0 then
      trace.write(string.format("%s failed after %.3f s: %s (request %s)", op, resp.elapsed,
        resp.error, resp.sent and "sent" or "not sent"), nil, secrets)
    else
      trace.write(string.format("%s response HTTP %d after %.3f s%s", op, resp.status,
        resp.elapsed, trace.header_note(resp.headers)), resp.body, secrets)
    end
  end
  local out = classify(c, op, url, resp, idempotent, correlation_id, token, decode_opts)
  -- a server can echo the request (the token, the password) into any field of a fault or a
  -- result: nothing it sent leaves with a secret in it
  if out.err then trace.redact_fields(out.err, secrets) end
  -- (the walk of every decoded value is skipped when the raw answer shows none can hold a
  -- secret: most answers, and the walk was a measurable part of a call)
  if out.body and trace.answer_may_hold(resp.body, secrets) then
    -- Retrieve's rows (Describe's, VersionInfo's) are what the account holds, kept as stored
    trace.redact_fields(out.body, secrets, ROWS[op] and DATA_ROWS or nil)
    trace.redact_fields(out.header, secrets)
  end
  return out
end

-- One HTTP exchange. Returns {body=, element=, status=} on an answer the codec could read, or
-- {err=, retry=bool, refresh=token}.
local function exchange(c, op, request, idempotent, correlation_id, timeout, decode_opts)
  c.slots:acquire()
  local ok, out = pcall(exchange_once, c, op, request, idempotent, correlation_id, timeout,
    decode_opts)
  c.slots:release()
  if not ok then error(trace.redact_fields(out, c.auth:secret_values()), 0) end
  return out
end

--- A retryable failure that is raised anyway says so: the user sees the retries were spent,
--- and which setting bounds them (the token requests of performlua.auth say it the same way).
local function gave_up(err, attempts, limit)
  if attempts > 1 then
    err.message = string.format("%s (gave up after %d attempts; the limit is mc.connect's %s)",
      tostring(err.message), attempts, limit)
  end
  return err
end

M.gave_up = gave_up

--- Exponential backoff with jitter: half to all of base_delay * 2^(attempt - 1), at most 30 s
--- (the token requests of performlua.auth back off the same way).
function M.backoff(base_delay, attempt)
  local delay = math.min(30, base_delay * 2 ^ (attempt - 1))
  return delay * (0.5 + 0.5 * core.random())
end

-- The error of a call interrupted by a signal (SIGINT, SIGTERM; loop.http says whether the
-- request had left): kind "interrupted", outcome_unknown when a request that changes something
-- may have reached the service, with the correlation id to quote. Other errors pass unchanged.
local function interrupted_call(err, op, idempotent, correlation_id)
  if not (errors.is_error(err) and err.kind == "interrupted") or err.operation then return err end
  local sent = err.sent == true
  local e = errors.new{kind = "interrupted", signal = err.signal, operation = op,
    correlation_id = correlation_id, sent = sent}
  local what = tostring(err.message)
  if sent and not idempotent then
    e.outcome_unknown = true
    e.request_id = correlation_id
    e.message = string.format("%s %s after its request was sent: the service may have done it "
      .. "(correlation id %s); check what it changed before running this again", op, what,
      correlation_id)
  elseif sent then
    e.message = string.format("%s %s while waiting for its answer (it changes nothing)", op, what)
  else
    e.message = string.format("%s %s before its request was sent: nothing was sent", op, what)
  end
  return loop.note_interrupted(e)
end

-- One logical call with the retry policy. Returns the decoded answer.
local function call(c, op, request, options, correlation_id)
  local idempotent = READ_ONLY[op] or false
  correlation_id = correlation_id or core.uuid()
  local ok, out = pcall(M.call_once, c, op, request, options, idempotent, correlation_id)
  if ok then return out end
  error(interrupted_call(out, op, idempotent, correlation_id), 0)
end

-- The retry loop of one logical call.
function M.call_once(c, op, request, options, idempotent, correlation_id)
  local signal = loop.signal_pending()
  if signal then -- the run was interrupted: nothing more is sent
    error(errors.new{kind = "interrupted", signal = signal, sent = false,
      message = loop.interrupted_error(signal).message}, 0)
  end
  local timeout = options and options.timeout
    or (op == "Retrieve" and c.retrieve_timeout or c.timeout)
  local started = loop.now()
  local attempts, refreshed = 0, false
  while true do
    attempts = attempts + 1
    local out = exchange(c, op, request, idempotent, correlation_id, timeout,
      options and options.rows and AS_ROWS or nil)
    if out.body then
      out.correlation_id = correlation_id
      out.attempts = attempts
      return out
    end
    local err = out.err
    err.attempts = attempts
    if out.refresh then
      if refreshed then
        err.kind = "auth"
        err.message = err.message .. " (again after fetching a new token)"
        error(err, 0)
      end
      refreshed = true
      attempts = attempts - 1
      c.auth:rejected(out.refresh ~= true and out.refresh or nil)
      if c.trace then
        trace.write(op .. ": the service rejected the token (" .. tostring(err.message)
          .. "); fetching a new one and retrying once", nil, c.auth:secret_values())
      end
    elseif out.retry and attempts <= c.retries then
      local delay = M.backoff(c.retry_base_delay, attempts)
      if out.retry_after then delay = math.max(delay, out.retry_after) end -- the server's word
      if loop.now() - started + delay > c.retry_max_seconds then
        error(gave_up(err, attempts, "retry_max_seconds"), 0)
      end
      if c.trace then
        trace.write(string.format("%s attempt %d failed (%s); retrying in %.2f s", op, attempts,
          tostring(err.message), delay), nil, c.auth:secret_values())
      end
      loop.sleep(delay)
    elseif out.retry then
      error(gave_up(err, attempts, "retries"), 0)
    else
      error(err, 0)
    end
  end
end

--- One logical call with the retry policy: the decoded answer, or the error raised. With
--- --log-json, each call is also one line of the run log (performlua.runlog).
--- Inside a step of the run journal (mc.step), a call that changes something is written down
--- before it is sent and when it ends (performlua.journal).
function M.call(c, op, request, options)
  local journal = package.loaded["performlua.journal"]
  if not runlog.enabled() and not journal then return call(c, op, request, options) end
  local correlation_id = core.uuid()
  local entry = journal and journal.before_call(op, request, correlation_id)
  local started = loop.now()
  local ok, out = pcall(call, c, op, request, options, correlation_id)
  if entry then journal.after_call(entry, ok, out) end
  if runlog.enabled() then runlog.call(op, request, ok, out, loop.now() - started) end
  if not ok then error(out, 0) end
  return out
end

return M
