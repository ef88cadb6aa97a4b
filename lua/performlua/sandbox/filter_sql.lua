-- performlua.sandbox.filter_sql: a Retrieve filter on a data extension's columns as an SQL
-- WHERE clause with bound parameters, for the row store (sandbox/rows.lua).
--
-- The judge is sandbox/filter.lua: a row the Lua filter keeps must be kept, and no other.
-- Only what SQL says exactly the same way is translated, by the column's kind (rows.lua):
--   isNull, isNotNull                        always
--   equals, notEquals, greater/lessThan[OrEqual], between, IN
--     text, decimal columns (TEXT)           when every value is text that reads as neither a
--                                            number nor a date, and no DateValue is given:
--                                            filter.lua then compares bytes, as SQLite's
--                                            BINARY collation does on TEXT columns
--     Number columns (INTEGER)               when every value reads as a number and no
--                                            DateValue is given: filter.lua then compares
--                                            numbers, as SQLite does (integer against a float
--                                            exactly, as Lua does)
--     Date columns (INTEGER seconds)         when every value reads as a date: filter.lua then
--                                            compares the seconds both sides parse to, which
--                                            are the stored value and the bound parameter
--     Boolean columns (INTEGER 1/0)          equals, notEquals, IN when every value reads as
--                                            a boolean (filter.lua compares booleans then)
--   like                                     on text, decimal and Number columns (an INTEGER
--                                            reads as the text filter.lua sees), patterns
--                                            without "[" (sets) and "_" (filter.lua's "_" is
--                                            one byte, SQLite's one character)
--   beginsWith, endsWith, contains, existsInString, notContains, notExistsInString
--                                            as LIKE with the value escaped (same columns);
--                                            both ignore the case of ASCII letters only
-- Everything else (Decimal numbers, anniversaries, existsInStringAsAWord, text operators on
-- Date and Boolean columns) is not translated:
-- in an AND it is left out of the SQL, in an OR the whole OR is, and translate() says the
-- answer is not exact, so the caller checks each row SQL returns with filter.lua as well
-- (SQL narrows, Lua decides). A filter that filter.lua would refuse while reading rows (a
-- missing Value) is not translated at all, so it fails the same way, on the same rows.
--
-- Column names are checked against the data extension's (by_lower: lower name -> real name)
-- and quoted; values are only ever parameters.
local clock = require "performlua.sandbox.clock"
local core = require "performlua.core"

local M = {}

local quote = require("performlua.sandbox.rows").quote -- a column name as an SQL identifier

local as_text = require("performlua.sandbox.filter").as_text

local function values_of(part)
  local dates = part.DateValue ~= nil and (type(part.DateValue) ~= "table" or #part.DateValue > 0)
  local list = dates and part.DateValue or part.Value or {}
  if type(list) ~= "table" then list = {list} end
  local out = {}
  for i, v in ipairs(list) do out[i] = as_text(v) end
  return out, dates
end

-- Text filter.lua compares as text whatever the row holds: not a number, not a date.
local function plain_text(v)
  if type(v) ~= "string" then return false end
  return tonumber(v:match("^%s*(.-)%s*$")) == nil and clock.parse(v) == nil
end

local function as_number(v)
  return type(v) == "string" and tonumber(v:match("^%s*(.-)%s*$")) or nil
end

local BOOLEAN = {["true"] = 1, ["1"] = 1, ["false"] = 0, ["0"] = 0}
M.BOOLEAN = BOOLEAN

-- The bound parameters of `vals` compared with a column of `kind` (nil: not exact in SQL).
local function typed_params(kind, vals, dates, op)
  local out = {}
  for i, v in ipairs(vals) do
    local p
    if kind == "integer" then p = not dates and as_number(v) or nil
    elseif kind == "date" then p = clock.parse(v)
    elseif kind == "boolean" then
      p = not dates and (op == "equals" or op == "notEquals" or op == "IN")
        and BOOLEAN[v:match("^%s*(.-)%s*$"):lower()] or nil
    elseif not dates and plain_text(v) then p = v
    end
    if p == nil then return nil end
    out[i] = p
  end
  return out
end

local TEXT_LIKE = {text = true, decimal = true, integer = true}

local function escape_like(v)
  return (v:gsub("[\\%%_]", "\\%0"))
end

local COMPARE = {equals = "=", notEquals = "<>", greaterThan = ">", lessThan = "<",
  greaterThanOrEqual = ">=", lessThanOrEqual = "<="}
local LIKE = {
  beginsWith = function(v) return escape_like(v) .. "%" end,
  endsWith = function(v) return "%" .. escape_like(v) end,
  contains = function(v) return "%" .. escape_like(v) .. "%" end,
}
LIKE.existsInString = LIKE.contains
local NOT_LIKE = {notContains = LIKE.contains, notExistsInString = LIKE.contains}
local NO_VALUE = {isNull = true, isNotNull = true}

local function type_of(part)
  return core.typeof(part) or (part.SimpleOperator and "SimpleFilterPart")
    or (part.LogicalOperator and "ComplexFilterPart")
end

-- Whether filter.lua would fail on a part for want of values (it does so while reading rows).
local function lacks_values(part)
  if type(part) ~= "table" then return true end
  if type_of(part) == "SimpleFilterPart" then
    if NO_VALUE[part.SimpleOperator] then return false end
    local vals = values_of(part)
    if part.SimpleOperator == "between" then return #vals ~= 2 end
    return vals[1] == nil
  end
  for _, op in ipairs{part.LeftOperand, part.RightOperand} do
    if lacks_values(op) then return true end
  end
  for _, op in ipairs(part.AdditionalOperands or {}) do
    if lacks_values(op) then return true end
  end
  return false
end

-- sql, params (appended to `params`), exact; or nil when the part is not translated.
local translate

local function simple(part, by_lower, pk, params, kinds)
  local col = type(part.Property) == "string" and by_lower[part.Property:lower()]
  if not col then return nil end
  local kind = kinds and kinds[col] or "text"
  local qc, op = quote(col), part.SimpleOperator
  if op == "isNull" then return string.format("(%s IS NULL OR %s = '')", qc, qc) end
  if op == "isNotNull" then return string.format("(%s IS NOT NULL AND %s <> '')", qc, qc) end
  local vals, dates = values_of(part)
  local cmp = COMPARE[op]
  if cmp or op == "between" or op == "IN" then
    vals = typed_params(kind, vals, dates, op)
    if not vals then return nil end
    if cmp then
      params[#params + 1] = vals[1]
      if op == "equals" and pk[col:lower()] and kind == "text" then
        -- the primary key's NOCASE index finds the candidates; the exact test then decides
        params[#params + 1] = vals[1]
        return string.format("(%s = ? COLLATE NOCASE AND %s = ?)", qc, qc)
      end
      return string.format("%s %s ?", qc, cmp)
    end
    if op == "between" then
      params[#params + 1], params[#params + 2] = vals[1], vals[2]
      return string.format("(%s >= ? AND %s <= ?)", qc, qc)
    end
    local marks = {}
    for i, v in ipairs(vals) do marks[i] = "?" params[#params + 1] = v end
    return string.format("%s IN (%s)", qc, table.concat(marks, ", "))
  end
  if not TEXT_LIKE[kind] then return nil end
  if op == "like" then
    local p = vals[1]
    if p:find("[", 1, true) or p:find("_", 1, true) then return nil end
    params[#params + 1] = p:gsub("\\", "\\\\")
    return string.format("%s LIKE ? ESCAPE '\\'", qc)
  end
  if LIKE[op] then
    params[#params + 1] = LIKE[op](vals[1])
    return string.format("%s LIKE ? ESCAPE '\\'", qc)
  end
  if NOT_LIKE[op] then
    params[#params + 1] = NOT_LIKE[op](vals[1])
    return string.format("(%s IS NOT NULL AND %s NOT LIKE ? ESCAPE '\\')", qc, qc)
  end
  return nil
end

translate = function(part, by_lower, pk, params, kinds)
  local t = type_of(part)
  if t == "SimpleFilterPart" then
    local mark = #params
    local sql = simple(part, by_lower, pk, params, kinds)
    if not sql then
      for i = #params, mark + 1, -1 do params[i] = nil end
      return nil, false
    end
    return sql, true
  end
  local ands = part.LogicalOperator == "AND"
  local operands = {part.LeftOperand}
  if part.RightOperand ~= nil then operands[#operands + 1] = part.RightOperand end
  for _, op in ipairs(part.AdditionalOperands or {}) do operands[#operands + 1] = op end
  local parts, exact = {}, true
  local mark = #params
  for _, op in ipairs(operands) do
    local sql, e = translate(op, by_lower, pk, params, kinds)
    if not sql then
      if not ands then
        -- one untranslated operand makes the whole OR unknown to SQL: every row is a candidate
        for i = #params, mark + 1, -1 do params[i] = nil end
        return nil, false
      end
      exact = false
    else
      parts[#parts + 1] = sql
      exact = exact and e
    end
  end
  if #parts == 0 then return nil, false end
  return "(" .. table.concat(parts, ands and " AND " or " OR ") .. ")", exact
end

--- The WHERE clause (or nil: every row is a candidate), its parameters, and whether the SQL is
--- the whole answer (false: check each row with filter.lua too). `flt` has passed
--- filter.check; `by_lower` maps lower column names to the data extension's; `pk` lists the
--- primary key columns; `kinds` (optional: all text) the kind of each column (rows.lua).
function M.translate(flt, by_lower, pk, kinds)
  if flt == nil then return nil, {}, true end
  if lacks_values(flt) then return nil, {}, false end
  local pk_set = {}
  for _, c in ipairs(pk or {}) do pk_set[c:lower()] = true end
  local params = {}
  local sql, exact = translate(flt, by_lower, pk_set, params, kinds)
  return sql, params, sql ~= nil and exact
end

return M
