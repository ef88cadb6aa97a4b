-- performlua.result: what a SOAP call returns to a script.
--
--   r.OverallStatus, r.OverallStatusMessage, r.RequestID   as the service sent them
--   r.Results      array in input order (the objects for Retrieve, ObjectDefinitions for
--                  Describe, the VersionInfo for VersionInfo)
--   r.ok           the call and every result succeeded (a free-text OverallStatus such as
--                  "Error: Unable to find a handler ..." makes it false; the text is kept).
--                  For Retrieve, Describe and VersionInfo the Results are data rows, so only
--                  the call counts: a retrieved ResultItem whose StatusCode is "Error" is data
--   r.more         Retrieve: MoreDataAvailable (fetch the next page with c:continue(r))
--   r.RequestIDs   every RequestID when the call was sent in chunks
--   r.action       Perform, Configure, Schedule: the action sent
--   r.Results[i].input   the input object (definition, object, request) result i answers
--   r:errors()     the failed results, each with .input = the input object it belongs to
--                  (always empty for data rows)
--   r:check()      returns r when ok; otherwise raises an error of kind "fault" whose .result
--                  is r (the call was answered, but the service reports failure)
--   print(r), tostring(r), mc.pretty(r)   the fields above, readably
--
-- What the client keeps to continue a retrieve or follow a Perform (the inputs, the request)
-- lives in a weak side table, not in r: pairs(r), printing and serialising show only what the
-- service answered and the fields documented above.
local errors = require "performlua.errors"
local trace = require "performlua.trace"

local M = {}

local Result = {}
Result.__index = Result
M.Result = Result

local internals = setmetatable({}, {__mode = "k"})

--- The client's bookkeeping for result r (a table; empty for a table that is not a result).
function M.internal(r)
  return internals[r] or {}
end

--- The input objects result r answers, by position (empty when not known).
function M.inputs(r)
  return M.internal(r).inputs or {}
end

--- Attaches bookkeeping to result r under `key`.
function M.set_internal(r, key, value)
  local t = internals[r]
  if not t then t = {}; internals[r] = t end
  t[key] = value
end

-- pretty lays a result out as a table of its fields, also inside other tables (performlua.pretty)
Result.__pretty_fields = true

-- pretty must be called from this very function: it then shows the table's structure instead
-- of calling this __tostring again.
function Result.__tostring(self)
  return require("performlua.pretty").pretty(self, {multiline = "auto"})
end

local function is_ok_status(s)
  if s == nil or s == "OK" then return true end
  local u = tostring(s):upper()
  return u == "OK" or u == "MOREDATAAVAILABLE"
end

local function result_failed(res)
  if type(res) ~= "table" then return false end
  local code = res.StatusCode
  return code ~= nil and code ~= "OK" and tostring(code):upper() ~= "OK"
end
M.result_failed = result_failed

local function typed(v)
  local mt = getmetatable(v)
  return mt ~= nil and mt ~= Result
end

--- The results of a decoded response body as an array: accepts a bare array, a wrapper
--- ({Result = ...}), or a single object.
function M.results_array(value, item_name)
  if value == nil then return {} end
  if type(value) ~= "table" then return {value} end
  if not typed(value) and value[1] == nil then
    local inner = item_name and rawget(value, item_name)
    if inner == nil then inner = rawget(value, "Result") end
    if inner ~= nil then return M.results_array(inner) end
    if next(value) == nil then return {} end
  end
  if typed(value) or value[1] == nil then return {value} end
  return value
end

local function ordinal(res)
  if type(res) ~= "table" then return nil end
  return tonumber(res.OrdinalID)
end

--- Puts results in input order by OrdinalID when every result carries a distinct one in range.
function M.order_by_ordinal(results, n_inputs)
  if #results == 0 or #results ~= n_inputs then return results end
  if n_inputs == 1 then return results end -- in order whatever its OrdinalID says
  local ordered, seen = {}, {}
  for _, res in ipairs(results) do
    local o = ordinal(res)
    if o == nil or o < 0 or o >= n_inputs or seen[o] then return results end
    seen[o] = true
    ordered[o + 1] = res
  end
  return ordered
end

--- Builds a result. fields: operation, OverallStatus, OverallStatusMessage, RequestID, Results,
--- inputs (array matching Results by position), more, rows (Results are data rows, as for
--- Retrieve: their own StatusCode fields say nothing about the call).
function M.new(fields)
  -- one constructor: the table is made with room for these and what callers add (ok,
  -- correlation_id, action, ...), not grown field by field on every call
  local r = setmetatable({operation = fields.operation, OverallStatus = fields.OverallStatus,
    OverallStatusMessage = fields.OverallStatusMessage, RequestID = fields.RequestID,
    RequestIDs = fields.RequestIDs or (fields.RequestID and {fields.RequestID} or {}),
    Results = fields.Results or {}, more = fields.more or false, ok = false,
    correlation_id = fields.correlation_id}, Result)
  internals[r] = {inputs = fields.inputs, rows = fields.rows}
  -- every result knows the input it answers (errors() and c:wait use it)
  if fields.inputs then
    for i, res in ipairs(r.Results) do
      if type(res) == "table" and fields.inputs[i] ~= nil then rawset(res, "input", fields.inputs[i]) end
    end
  end
  local ok = is_ok_status(r.OverallStatus)
  if ok and not fields.rows then
    for _, res in ipairs(r.Results) do
      if result_failed(res) then ok = false break end
    end
  end
  r.ok = ok
  return r
end

--- Merges the results of consecutive chunks into one, in input order.
function M.merge(operation, parts)
  if #parts == 1 then return parts[1] end
  local results, inputs, ids, messages = {}, {}, {}, {}
  local statuses, all_same = nil, true
  for _, p in ipairs(parts) do
    local base = #inputs
    local part_inputs = M.inputs(p)
    for i, res in ipairs(p.Results) do
      -- OrdinalIDs count from 0 in each chunk: make them count over the whole input
      if type(res) == "table" then
        local o = ordinal(res)
        if o then res.OrdinalID = o + base end
      end
      results[#results + 1] = res
      inputs[#results] = part_inputs[i]
    end
    for i = 1, #part_inputs do
      if inputs[base + i] == nil then inputs[base + i] = part_inputs[i] end
    end
    for _, id in ipairs(p.RequestIDs) do ids[#ids + 1] = id end
    if p.OverallStatusMessage and p.OverallStatusMessage ~= "" then
      messages[#messages + 1] = p.OverallStatusMessage
    end
    if statuses == nil then statuses = p.OverallStatus
    elseif statuses ~= p.OverallStatus then all_same = false end
  end
  local overall = statuses
  if not all_same then
    local any_ok = false
    for _, p in ipairs(parts) do if is_ok_status(p.OverallStatus) then any_ok = true end end
    overall = any_ok and "Has Errors" or "Error"
  end
  return M.new{operation = operation, OverallStatus = overall,
    OverallStatusMessage = #messages > 0 and table.concat(messages, "; ") or nil,
    RequestID = ids[1], RequestIDs = ids, Results = results, inputs = inputs}
end

function Result:errors()
  local out = {}
  if M.internal(self).rows then return out end
  local inputs = M.inputs(self)
  for i, res in ipairs(self.Results) do
    if result_failed(res) then
      rawset(res, "input", inputs[i])
      out[#out + 1] = res
    end
  end
  return out
end

-- The other columns a data extension row was refused for (a DataExtensionCreateResult's or
-- UpdateResult's ValueErrors list every one; StatusMessage names only the first), so the
-- error says everything to fix at once.
local function value_errors_text(res)
  local list = rawget(res, "ValueErrors")
  if type(list) ~= "table" or #list < 2 then return "" end
  local more = {}
  for i = 2, #list do
    local e = list[i]
    more[#more + 1] = type(e) == "table" and tostring(e.ErrorMessage or e.Name) or tostring(e)
  end
  return string.format(" (and %d more: %s)", #more, table.concat(more, "; "))
end

function Result:check()
  if self.ok then return self end
  local errs = self:errors()
  local message, code
  local op = self.operation or "call"
  if #errs > 0 then
    local first = errs[1]
    local index
    for i, res in ipairs(self.Results) do if res == first then index = i break end end
    code = tonumber(first.ErrorCode) or first.ErrorCode
    message = string.format("%s: %d of %d results failed; first (#%d): %s%s%s", op, #errs,
      #self.Results, index or 0,
      code and ("ErrorCode " .. tostring(code) .. ": ") or "",
      tostring(first.StatusMessage or first.StatusCode), value_errors_text(first))
  else
    message = string.format("%s failed: OverallStatus %s%s", op, tostring(self.OverallStatus),
      (self.OverallStatusMessage and self.OverallStatusMessage ~= "")
        and (" (" .. self.OverallStatusMessage .. ")") or "")
  end
  -- the answer's words were redacted when it arrived; the error is again, as every error
  -- that leaves the client (performlua.trace.redact_fields)
  error(trace.redact_fields(errors.new{kind = "fault", message = message, code = code,
    request_id = self.RequestID, result = self}), 2)
end

return M
