-- performlua.sandbox.reply: the answers the sandbox service writes (an HTTP response, a
-- JSON one, a SOAP fault), the request's own text made safe to put in them, and a response's
-- OverallStatus from its results.
--
-- A response is {status=, body=, content_type=} (the C side also reads headers= and fault=);
-- a fault also keeps its faultstring as written (`faultstring`), which the log line shows.
local core = require "performlua.core"

local M = {}

M.XML = "text/xml; charset=utf-8"

function M.respond(status, body, content_type)
  return {status = status, body = body, content_type = content_type or M.XML}
end

function M.json(status, tbl)
  return M.respond(status, core.json_encode(tbl), "application/json; charset=utf-8")
end

-- Text from the request (a header, the decoder's or the validator's words about the body) as an
-- answer may carry it: UTF-8 without control characters (escaped), at most `max` bytes. Raw, it
-- could make the fault unwritable (the request then got a bare 500) or a log line misleading.
function M.shown(text, max)
  return core.safe_text(tostring(text), {lines = true, max = max})
end

-- A header's value, which is one line (a tab in it is escaped too).
function M.header_shown(value)
  return core.safe_text(value, {max = 200})
end

--- A SOAP fault; `extra` adds the detail's fields (code=, message=).
function M.fault(status, faultcode, faultstring, extra)
  local f = extra or {}
  f.faultcode, f.faultstring = faultcode, M.shown(faultstring)
  local r = M.respond(status, core.encode_fault(f))
  r.faultstring = faultstring
  return r
end

--- OverallStatus of a response from its Results: OK, Has Errors, or Error when all failed.
function M.overall_of(results)
  local errors = 0
  for _, r in ipairs(results) do
    if r.StatusCode ~= "OK" then errors = errors + 1 end
  end
  if errors == 0 then return "OK" end
  return errors == #results and "Error" or "Has Errors"
end

return M
