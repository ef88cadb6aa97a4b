-- performlua.sandbox.crud: the Create, Update and Delete operations. Each object of the
-- request is saved (or deleted) in the account in turn, one Result per object; a request with
-- Options.RequestType Asynchronous is acknowledged now and processed when the clock says.
local core = require "performlua.core"
local account_mod = require "performlua.sandbox.account"
local jobs = require "performlua.sandbox.jobs"
local queued = require "performlua.sandbox.queued"
local reply = require "performlua.sandbox.reply"

local M = {}

-- Saves (or deletes) each object in turn, one Result per object.
local function process(acct, op, method, objects, ctx, options)
  local results = {}
  for i, obj in ipairs(objects) do
    local r
    if method == "delete_one" then r = acct:delete_one(obj, ctx)
    else r = acct:save(method, obj, ctx, options) end
    r.OrdinalID = i - 1
    if op ~= "Create" and r.Object == nil then
      -- an object refused: echo what identifies it (its other fields may be what was wrong)
      local t = core.typeof(obj)
      local known = t and account_mod.fields_of(t) and not account_mod.de_key_of(t)
      local echo = {}
      for _, k in ipairs{"ID", "ObjectID", "CustomerKey"} do echo[k] = rawget(obj, k) end
      if type(echo.ID) ~= "number" then echo.ID = nil end
      r.Object = setmetatable(echo, core.object_metatable(known and t or "APIObject"))
    end
    if op == "Create" and r.NewID == nil then r.NewID = 0 end
    results[i] = r
    -- between objects the account is consistent: requests waiting for the sandbox's
    -- state have their turn here, so a 100,000-object request does not stall them
    core.sandbox_yield()
  end
  return results
end

local METHOD = {Create = "create", Update = "update", Delete = "delete_one"}
local ELEMENT = {Create = "CreateResponse", Update = "UpdateResponse", Delete = "DeleteResponse"}

-- A queued Create, Update or Delete, processed when its time comes: its data is what the
-- request said (plain values, so --state keeps it across a restart).
jobs.register("queued_crud", function(acct, q)
  local results = process(acct, q.op, METHOD[q.op], q.objects, q.ctx, q.options)
  queued.record(acct, q.op, ELEMENT[q.op], {Results = results, RequestID = q.ctx.request_id,
    OverallStatus = reply.overall_of(results)}, q.objects, q.ctx, q.options)
end)

--- The handler of operation `op` ("Create", ...): saves with acct:save(method, ...) or, for
--- "delete_one", deletes; answers with the response element `element`.
function M.handler(op, method, element)
  assert(METHOD[op] == method and ELEMENT[op] == element, op)
  return function(sb, body, ctx)
    local acct = sb.acct
    local objects = body.Objects or {}
    if #objects == 0 then
      -- the response needs one Result per object (Results 1..n): with none, a Client
      -- fault is the only answer that stays valid against the WSDL
      return nil, reply.fault(500, "soap:Client", string.format("The %s request has no objects: "
        .. "give at least one in Objects", op))
    end
    if queued.is_async(body.Options) then
      jobs.defer(acct, queued.due(acct, body.Options), "queued_crud",
        {op = op, objects = objects, ctx = ctx, options = body.Options})
      local ack = {}
      for i, obj in ipairs(objects) do
        ack[i] = {StatusCode = "OK", StatusMessage = "Queued", OrdinalID = i - 1,
          RequestType = "Asynchronous", NewID = op == "Create" and 0 or nil,
          ConversationID = body.Options.ConversationID,
          Object = op ~= "Create" and account_mod.echo(obj) or nil}
      end
      return element, {Results = ack, RequestID = ctx.request_id, OverallStatus = "OK"}
    end
    local results = process(acct, op, method, objects, ctx, body.Options)
    local overall = #results == 0 and "Error" or reply.overall_of(results)
    return element, {Results = results, RequestID = ctx.request_id, OverallStatus = overall}
  end
end

return M
