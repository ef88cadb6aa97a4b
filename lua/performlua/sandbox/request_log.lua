-- performlua.sandbox.request_log: --log, one line per request on stderr (or cfg.log_sink):
-- time, operation, object types, status, what the sandbox took (--latency not included), an
-- injected fault, the fault answered, what a validating sandbox dropped.
--
-- While a request is handled the layers note what the line will say in `notes` (sb.current):
-- op (the endpoint, then the operation), types, injected (the fault kind), dropped, assumed
-- (what the sandbox guessed where the service would know).
local core = require "performlua.core"
local reply = require "performlua.sandbox.reply"

local M = {}

-- The lists of objects a request carries, by element.
local LISTS = {"Objects", "Definitions", "Configurations", "Interactions", "Requests"}

--- Notes the operation and the object types a request names: its objects' xsi:types, a
--- Retrieve's ObjectType, a Describe's.
function M.note_types(notes, op, body)
  notes.op = op
  if type(body) ~= "table" then return end
  local seen, types = {}, {}
  local function add(t)
    if type(t) == "string" and not seen[t] then
      seen[t] = true
      types[#types + 1] = t
    end
  end
  if type(body.RetrieveRequest) == "table" then add(body.RetrieveRequest.ObjectType) end
  if type(body.DescribeRequests) == "table" then
    for _, d in ipairs(body.DescribeRequests) do
      if type(d) == "table" then add(d.ObjectType) end
    end
  end
  for _, name in ipairs(LISTS) do
    if type(body[name]) == "table" then
      for _, o in ipairs(body[name]) do add(core.typeof(o)) end
    end
  end
  notes.types = types
end

--- The line for answer `r` of the request noted in `notes`, started at monotonic `started`.
function M.line(notes, r, started)
  local parts = {os.date("!%Y-%m-%dT%H:%M:%SZ"), notes.op or "?"}
  if notes.types and #notes.types > 0 then parts[#parts + 1] = table.concat(notes.types, ",") end
  parts[#parts + 1] = tostring(r.status)
  parts[#parts + 1] = string.format("%.1f ms", (core.monotonic() - started) * 1000)
  if notes.injected then parts[#parts + 1] = "injected fault " .. notes.injected end
  if r.status ~= 200 and r.faultstring then
    parts[#parts + 1] = "fault: " .. reply.shown(r.faultstring, 300):gsub("\n", " | ")
  end
  if notes.dropped then
    parts[#parts + 1] = "DROPPED (the service would ignore them): " .. table.concat(notes.dropped, ", ")
  end
  if notes.assumed then
    parts[#parts + 1] = "ASSUMED (the sandbox guessed): " .. table.concat(notes.assumed, "; ")
  end
  return core.safe_text(table.concat(parts, "  "), {max = 4000}) .. "\n"
end

return M
