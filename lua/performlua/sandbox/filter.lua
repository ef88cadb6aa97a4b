-- performlua.sandbox.filter: Retrieve filters (SimpleFilterPart, ComplexFilterPart) over the
-- sandbox's objects and data extension rows.
--
-- Comparisons: a boolean (a Boolean column, a boolean property) with equals, notEquals and IN
-- as booleans when every value reads as one ("true"/"false"/"1"/"0", any case: SQL Server's
-- bit); numbers when both sides are numbers; dates when the filter gives DateValue or both
-- sides read as dates; otherwise text. Text equality is exact (case-sensitive), `like`
-- and the *String/contains operators ignore case as SQL Server's default collation does.
-- isNull is true for a missing or empty value.
local clock = require "performlua.sandbox.clock"
local core = require "performlua.core"

local M = {}

local function fail(message)
  error({filter_error = message}, 0)
end

--- A value as text: how filters compare values, and how a data extension's columns store them
--- (rows.lua), so a filter answers the same in SQL (filter_sql.lua) and here.
local function as_text(v)
  if v == nil then return nil end
  local t = type(v)
  if t == "string" then return v end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then
    if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2^53 then
      return string.format("%d", v)
    end
    return tostring(v)
  end
  return nil -- tables (nested objects) compare as absent
end

local function as_number(s)
  if type(s) == "number" then return s end
  if type(s) ~= "string" then return nil end
  return tonumber(s:match("^%s*(.-)%s*$"))
end

local function compare(a, b, dates)
  -- -1, 0, 1; nil when a is missing
  if a == nil then return nil end
  if dates then
    local da, db = clock.parse(a), clock.parse(b)
    if da and db then return da < db and -1 or da > db and 1 or 0 end
  end
  local na, nb = as_number(a), as_number(b)
  if na and nb then return na < nb and -1 or na > nb and 1 or 0 end
  local da, db = clock.parse(a), clock.parse(b)
  if da and db then return da < db and -1 or da > db and 1 or 0 end
  return a < b and -1 or a > b and 1 or 0
end

local function like_pattern(p)
  local out = {"^"}
  local i = 1
  while i <= #p do
    local c = p:sub(i, i)
    if c == "%" then out[#out + 1] = ".-"
    elseif c == "_" then out[#out + 1] = "."
    elseif c == "[" then
      -- a set such as [a-c] or [^0-9]; one that is empty or not closed is a literal "["
      local close = p:find("]", i + 1, true)
      local set = close and p:sub(i + 1, close - 1):lower() or ""
      local negate = set:sub(1, 1) == "^"
      if negate then set = set:sub(2) end
      if set ~= "" then
        -- every character literal in the Lua class, except a range's "-"
        local class = set:gsub("%p", function(x) return x == "-" and "-" or "%" .. x end)
        if class:sub(1, 1) == "-" then class = "%" .. class end
        if class:sub(-1) == "-" then class = class:sub(1, -2) .. "%-" end
        out[#out + 1] = "[" .. (negate and "^" or "") .. class .. "]"
        i = close
      else
        out[#out + 1] = "%["
      end
    else
      out[#out + 1] = c:lower():gsub("[%^%$%(%)%.%[%]%*%+%-%?%%]", "%%%0")
    end
    i = i + 1
  end
  out[#out + 1] = "$"
  return table.concat(out)
end

local function month_day(s)
  local t = clock.parse(s)
  if not t then return nil end
  return tonumber(os.date("!%m%d", math.floor(t)))
end

local OPERATORS = {}

local function values_of(part)
  local dates = part.DateValue ~= nil and #part.DateValue > 0
  local list = dates and part.DateValue or part.Value or {}
  if type(list) ~= "table" then list = {list} end
  local out = {}
  for i, v in ipairs(list) do out[i] = as_text(v) end
  return out, dates
end

local function one(part, values)
  if values[1] == nil then
    fail(string.format("The filter on '%s' with the operator '%s' needs a Value",
      tostring(part.Property), tostring(part.SimpleOperator)))
  end
  return values[1]
end

OPERATORS.equals = function(a, part, vals, dates) return compare(a, one(part, vals), dates) == 0 end
OPERATORS.notEquals = function(a, part, vals, dates)
  local c = compare(a, one(part, vals), dates)
  return c ~= nil and c ~= 0
end
OPERATORS.greaterThan = function(a, part, vals, dates) return compare(a, one(part, vals), dates) == 1 end
OPERATORS.lessThan = function(a, part, vals, dates) return compare(a, one(part, vals), dates) == -1 end
OPERATORS.greaterThanOrEqual = function(a, part, vals, dates)
  local c = compare(a, one(part, vals), dates)
  return c == 1 or c == 0
end
OPERATORS.lessThanOrEqual = function(a, part, vals, dates)
  local c = compare(a, one(part, vals), dates)
  return c == -1 or c == 0
end
OPERATORS.isNull = function(a) return a == nil or a == "" end
OPERATORS.isNotNull = function(a) return a ~= nil and a ~= "" end
OPERATORS.between = function(a, part, vals, dates)
  if #vals ~= 2 then
    fail(string.format("The filter on '%s' with the operator 'between' needs exactly two values "
      .. "(it has %d)", tostring(part.Property), #vals))
  end
  local lo, hi = compare(a, vals[1], dates), compare(a, vals[2], dates)
  return lo ~= nil and lo >= 0 and hi <= 0
end
OPERATORS.IN = function(a, part, vals, dates)
  if #vals == 0 then
    fail(string.format("The filter on '%s' with the operator 'IN' needs at least one Value",
      tostring(part.Property)))
  end
  for _, v in ipairs(vals) do
    if compare(a, v, dates) == 0 then return true end
  end
  return false
end
OPERATORS.like = function(a, part, vals)
  return a ~= nil and a:lower():match(like_pattern(one(part, vals))) ~= nil
end
local function contains(a, v) return a ~= nil and a:lower():find(v:lower(), 1, true) ~= nil end
OPERATORS.existsInString = function(a, part, vals) return contains(a, one(part, vals)) end
OPERATORS.contains = OPERATORS.existsInString
OPERATORS.notExistsInString = function(a, part, vals)
  return a ~= nil and not contains(a, one(part, vals))
end
OPERATORS.notContains = OPERATORS.notExistsInString
OPERATORS.existsInStringAsAWord = function(a, part, vals)
  local w = one(part, vals):lower()
  if a == nil then return false end
  for word in a:lower():gmatch("[%w_%-%.@']+") do
    if word == w then return true end
  end
  return false
end
OPERATORS.beginsWith = function(a, part, vals)
  local v = one(part, vals)
  return a ~= nil and a:sub(1, #v):lower() == v:lower()
end
OPERATORS.endsWith = function(a, part, vals)
  local v = one(part, vals)
  return a ~= nil and (#v == 0 or a:sub(-#v):lower() == v:lower())
end
local function anniversary(cmp)
  return function(a, part, vals)
    local x, y = month_day(a), month_day(one(part, vals))
    if not x or not y then return false end
    return cmp(x, y)
  end
end
OPERATORS.isAnniversary = anniversary(function(x, y) return x == y end)
OPERATORS.isNotAnniversary = anniversary(function(x, y) return x ~= y end)
OPERATORS.greaterThanAnniversary = anniversary(function(x, y) return x > y end)
OPERATORS.lessThanAnniversary = anniversary(function(x, y) return x < y end)

local function type_of(part)
  return core.typeof(part) or (part.SimpleOperator and "SimpleFilterPart")
    or (part.LogicalOperator and "ComplexFilterPart")
end

--- Checks a filter once before any row is read. `has_property(name)` says whether the name
--- exists on what is filtered. Raises {filter_error = message} when the filter is unusable.
function M.check(part, has_property)
  if type(part) ~= "table" then fail("The filter is not a FilterPart") end
  local t = type_of(part)
  if t == "SimpleFilterPart" then
    if type(part.Property) ~= "string" or part.Property == "" then
      fail("A SimpleFilterPart needs a Property")
    end
    if part.SimpleOperator == nil then
      -- not "operator 'nil'": the caller left the field out, and should be told which one
      fail("A SimpleFilterPart needs a SimpleOperator (equals, like, IN, ...)")
    end
    if not OPERATORS[part.SimpleOperator] then
      fail(string.format("The filter operator '%s' is not a SimpleOperator", tostring(part.SimpleOperator)))
    end
    if has_property and not has_property(part.Property) then
      fail(string.format("The Filter Property '%s' is not a property of the object", part.Property))
    end
  elseif t == "ComplexFilterPart" then
    if part.LogicalOperator ~= "AND" and part.LogicalOperator ~= "OR" then
      fail(string.format("The LogicalOperator '%s' is neither AND nor OR", tostring(part.LogicalOperator)))
    end
    if part.LeftOperand == nil then fail("A ComplexFilterPart needs a LeftOperand") end
    M.check(part.LeftOperand, has_property)
    if part.RightOperand ~= nil then M.check(part.RightOperand, has_property) end
    for _, op in ipairs(part.AdditionalOperands or {}) do M.check(op, has_property) end
  else
    fail(string.format("The sandbox cannot filter with a %s", tostring(t)))
  end
end

local BOOLEAN = {["true"] = true, ["1"] = true, ["false"] = false, ["0"] = false}
local BOOLEAN_OPS = {equals = true, notEquals = true, IN = true}

-- The values as booleans, or nil when one does not read as a boolean.
local function booleans(vals)
  local out = {}
  for i, v in ipairs(vals) do
    local b = BOOLEAN[v:match("^%s*(.-)%s*$"):lower()]
    if b == nil then return nil end
    out[i] = b
  end
  return #out > 0 and out or nil
end

-- A boolean value against the filter's values read as booleans.
local function boolean_matches(a, op, bs)
  if op == "IN" then
    for _, b in ipairs(bs) do if a == b then return true end end
    return false
  end
  return (a == bs[1]) == (op == "equals")
end

--- True when `get(property)` (the object's value, any Lua type or nil) satisfies the filter.
function M.matches(part, get)
  local t = type_of(part)
  if t == "SimpleFilterPart" then
    local vals, dates = values_of(part)
    local raw = get(part.Property)
    local op = part.SimpleOperator
    if type(raw) == "boolean" and not dates and BOOLEAN_OPS[op] then
      local bs = booleans(vals)
      if bs then return boolean_matches(raw, op, bs) end
    end
    return OPERATORS[op](as_text(raw), part, vals, dates) and true or false
  end
  local ands = part.LogicalOperator == "AND"
  local operands = {part.LeftOperand}
  if part.RightOperand ~= nil then operands[#operands + 1] = part.RightOperand end
  for _, op in ipairs(part.AdditionalOperands or {}) do operands[#operands + 1] = op end
  for _, op in ipairs(operands) do
    local r = M.matches(op, get)
    if ands and not r then return false end
    if not ands and r then return true end
  end
  return ands
end

M.as_text = as_text

return M
