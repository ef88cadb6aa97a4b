-- performlua.sandbox.soap: one SOAP request to POST /Service.asmx, from its bytes to the answer:
-- decode the envelope, find the operation (SOAPAction, WS-Addressing Action or the request
-- element), authenticate (auth.lua), validate against the WSDL when the sandbox has one, pick
-- the business unit (Options.Client.ID), run the operation's handler (operations.lua) and
-- encode its response. `sb` is the sandbox's state (service.lua); what the log line will say
-- goes in sb.current.
local core = require "performlua.core"
local account_mod = require "performlua.sandbox.account"
local auth = require "performlua.sandbox.auth"
local jobs = require "performlua.sandbox.jobs"
local operations = require "performlua.sandbox.operations"
local reply = require "performlua.sandbox.reply"
local request_log = require "performlua.sandbox.request_log"

local M = {}

local fault, shown, header_shown = reply.fault, reply.shown, reply.header_shown

local OPERATIONS = {} -- name -> {request=, response=}
local BY_ELEMENT = {} -- request element -> name
for _, op in ipairs(core.operations()) do
  OPERATIONS[op.name] = op
  BY_ELEMENT[op.request] = op.name
end

--- Whether `name` is one of the service's operations (Create, Retrieve, ...).
function M.is_operation(name)
  return OPERATIONS[name] ~= nil
end

-- Body before Header is tolerated (sfmc-sdk and fuel-soap send it so, and the service takes
-- it), but the validator reads an Envelope in SOAP 1.1's order. The Header is not what it
-- checks, so a Header after the Body is blanked out, its line breaks kept so the validator's
-- line numbers still point into the request as sent. Nil when there is no such Header.
function M.header_after_body_blanked(xml)
  local _, body_end = xml:find("</[%w_%.%-]*:?Body%s*>")
  if not body_end then return nil end
  local s, name_end, prefix = xml:find("<([%w_%.%-]*:?)Header[%s/>]", body_end + 1)
  if not s then return nil end
  local tag_end = xml:find(">", name_end, true)
  if not tag_end then return nil end
  local stop = tag_end
  if xml:sub(tag_end - 1, tag_end - 1) ~= "/" then
    stop = select(2, xml:find("</" .. prefix:gsub("%p", "%%%0") .. "Header%s*>", tag_end + 1))
    if not stop then return nil end
  end
  return xml:sub(1, s - 1) .. xml:sub(s, stop):gsub("[^\n]+", "") .. xml:sub(stop + 1)
end

-- The operation a request asks for -> name, or nil and the fault to answer.
local function operation_of(req, element, header)
  local action = req.headers.soapaction
  if action then
    action = action:match('^%s*"?(.-)"?%s*$')
    action = action:match("([^/]*)$")
  end
  if action == nil or action == "" then
    action = header and header.action
    if action then action = action:match("([^/]*)$") end
  end
  if action == nil or action == "" then
    if element and BY_ELEMENT[element] then return BY_ELEMENT[element] end
    return nil, fault(500, "soap:Client", "The request has no SOAPAction header, no "
      .. "WS-Addressing Action and no request element the service knows")
  end
  if not OPERATIONS[action] then
    return nil, fault(500, "soap:Client", "Server did not recognize the value of HTTP Header "
      .. "SOAPAction: " .. header_shown(action) .. ".")
  end
  if element and OPERATIONS[action].request ~= element then
    return nil, fault(500, "soap:Client", string.format("The SOAPAction %s does not match the "
      .. "request element %s (a %s request is a %s)", action, shown(element, 200), action,
      OPERATIONS[action].request))
  end
  return action
end

function M.process(sb, req)
  local acct, stats, validator = sb.acct, sb.stats, sb.validator
  local ok, body, element, header = pcall(core.decode, req.body)
  if not ok then
    stats.invalid_requests = stats.invalid_requests + 1
    -- the decoder is written for the client: its "not a SOAP response" says nothing here
    local msg = tostring(type(body) == "table" and body.message or body):gsub("^not a SOAP response: ", "")
    return fault(500, "soap:Client", "The request is not a SOAP envelope the service can "
      .. "read: " .. tostring(msg))
  end
  local op, failure = operation_of(req, element, header)
  if not op then
    stats.invalid_requests = stats.invalid_requests + 1
    return failure
  end
  stats.by_operation[op] = (stats.by_operation[op] or 0) + 1
  sb.current.op = op
  local ctx, denied = auth.authenticate(sb, header or {})
  if not ctx then return denied end
  local dropped
  if validator then
    -- the XSD decides fast what is fine; what it refuses is read as the service's
    -- deserializer would (core.read_like_service): refused only for a value or type it
    -- cannot read, otherwise taken without what it would skip, which is said out loud
    local valid = validator:validate(req.body)
    local blanked = not valid and M.header_after_body_blanked(req.body)
    if blanked then valid = validator:validate(blanked) end
    if not valid then
      local readable, what, kept = core.read_like_service(req.body)
      if not readable then
        stats.invalid_requests = stats.invalid_requests + 1
        return fault(500, "soap:Client", what)
      end
      if what then
        dropped = what
        stats.dropped_elements = stats.dropped_elements + #what
        local okk, kept_body = pcall(core.decode, kept)
        if okk then body = kept_body end
      end
    end
  end
  request_log.note_types(sb.current, op, body)
  ctx.request_id = account_mod.uuid()
  -- Options.Client.ID: the request acts in that business unit (from its parent)
  local options = type(body) == "table" and body.Options
  local client = type(options) == "table" and options.Client
  if type(client) == "table" and client.ID ~= nil and client.ID ~= "" then
    local target = math.tointeger(tonumber(client.ID))
    if not target or not acct:is_unit(target) or not acct:may_reach(ctx.mid, target) then
      stats.invalid_requests = stats.invalid_requests + 1
      return fault(500, "soap:Client", string.format("Options.Client.ID %s is not a business "
        .. "unit this token's account (MID %d) can act in: give its own MID or the MID of a "
        .. "business unit below it", tostring(client.ID), ctx.mid or acct.mid))
    end
    ctx.mid = target
  end
  -- queued asynchronous requests whose time has come are processed before this one
  local okh, resp_element, tbl = pcall(function(b, c)
    jobs.tick(acct)
    return operations.handlers[op](sb, b, c)
  end, body, ctx)
  if okh and resp_element == nil then -- the handler refused the request with a fault
    stats.invalid_requests = stats.invalid_requests + 1
    return tbl
  end
  if not okh then
    return fault(500, "soap:Server", "The sandbox failed to process the request: "
      .. tostring(type(resp_element) == "table" and resp_element.message or resp_element),
      {code = 2, message = "UnexpectedError"})
  end
  stats.processed[op] = (stats.processed[op] or 0) + 1
  local oke, xml = pcall(core.encode_message, resp_element, tbl,
    {response_headers = {relates_to = header and header.message_id}})
  if not oke then
    return fault(500, "soap:Server", "The sandbox could not write its answer: "
      .. tostring(type(xml) == "table" and xml.message or xml), {code = 2, message = "UnexpectedError"})
  end
  -- the answer is written: a safe point (see crud.lua) before what is left of the request
  core.sandbox_yield()
  local r = reply.respond(200, xml)
  if dropped then
    sb.current.dropped = dropped
    r.headers = {["X-Sandbox-Dropped"] = core.safe_text(table.concat(dropped, ", "), {max = 2000})}
  end
  -- what the handler had to guess where the service would know (sb.current.assumed, e.g. a
  -- TimeZone beyond the documented ones): a rehearsal that passed on a guess must say so
  if sb.current.assumed then
    r.headers = r.headers or {}
    r.headers["X-Sandbox-Assumed"] = core.safe_text(table.concat(sb.current.assumed, "; "),
      {max = 2000})
  end
  return r
end

return M
