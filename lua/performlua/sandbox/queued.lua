-- performlua.sandbox.queued: asynchronous requests (Options.RequestType "Asynchronous"). The
-- service acknowledges them at once and processes them later on the sandbox clock (jobs.defer);
-- their outcome is then kept as ResultMessage and ResultItem objects to Retrieve.
local core = require "performlua.core"
local clock_mod = require "performlua.sandbox.clock"
local reply = require "performlua.sandbox.reply"

local M = {}

-- The answer the request would have had, synchronously: the body of the response message,
-- kept as a queued request's ResultDetailXML (the Task.ID of a queued start, the NewID of a
-- queued Create are there).
local function result_detail(element, response)
  local ok, xml = pcall(core.encode_message, element, response, {})
  return ok and xml:match("<soap:Body>(.*)</soap:Body>") or nil
end

-- The outcome of a queued request, retrievable as the docs show: one ResultMessage for the
-- request, one ResultItem per object, under its RequestID and the Options' ConversationID.
function M.record(acct, op, element, response, objects, ctx, options)
  local results = response.Results
  local overall = reply.overall_of(results)
  options = type(options) == "table" and options or {}
  local conversation = options.ConversationID
  acct:insert("ResultMessage", {RequestID = ctx.request_id, ConversationID = conversation,
    OverallStatusCode = overall, StatusCode = overall == "OK" and "OK" or "Error",
    StatusMessage = overall == "OK" and (op .. " completed") or (op .. " completed with errors"),
    RequestType = "Asynchronous", ResultType = op, ResultDetailXML = result_detail(element, response),
    SequenceCode = math.tointeger(tonumber(options.SequenceCode)),
    CallsInConversation = math.tointeger(tonumber(options.CallsInConversation))}, ctx.mid)
  for i, r in ipairs(results) do
    acct:insert("ResultItem", {RequestID = ctx.request_id, ConversationID = conversation,
      StatusCode = r.StatusCode, StatusMessage = r.StatusMessage, OrdinalID = i - 1,
      ErrorCode = r.ErrorCode, RequestType = "Asynchronous",
      RequestObjectType = core.typeof(objects[i])}, ctx.mid)
  end
end

--- Whether a request's Options ask for it to be queued (RequestType Asynchronous).
function M.is_async(options)
  return type(options) == "table" and options.RequestType == "Asynchronous"
end

-- When a queued asynchronous request is processed: at Options.ScheduledTime when given, else
-- a moment after it arrives (the queue delay of the sandbox clock), never at once.
function M.due(acct, options)
  local at = options.ScheduledTime
  if type(at) == "string" then at = clock_mod.parse(at) end
  if type(at) == "number" and at > acct:now() then return at end
  return acct:now() + acct.durations.queued
end

return M
