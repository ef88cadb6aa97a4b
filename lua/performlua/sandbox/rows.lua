-- performlua.sandbox.rows: data extension rows on SQLite.
--
-- One table per data extension, named "de:<MID>:<lower CustomerKey>" (quoted as an identifier:
-- a CustomerKey is unique within a business unit, so the unit is part of the name), one
-- column per field, and the implicit rowid as the order of arrival (an Update keeps a row's
-- place, a Delete leaves the others where they were). The primary key columns carry a UNIQUE
-- index COLLATE NOCASE: the service's database compares keys without case ("ABC" and "abc"
-- collide), and a duplicate is found by that index, never by reading rows. Values are always
-- bound, never part of the SQL text; identifiers are quoted.
--
-- Columns are typed by their field's FieldType (docs: DataExtensionField, "Data extension
-- data types"), so a row reads back as the seed gave it and SQL can answer numeric and date
-- filters (filter_sql.lua):
--   Number    INTEGER, a whole number in SQL Server's int range; Lua integer
--   Boolean   INTEGER 1/0 ("true"/"false"/"1"/"0" in any case are accepted); Lua boolean
--   Date      INTEGER seconds since the epoch, UTC, rounded to the nearest second (the docs:
--             "SOAP API returns a value that's rounded to the nearest second, followed by AM
--             or PM"); Lua text "YYYY-MM-DDTHH:MM:SS" (sortable), answered on the wire in the
--             service's US form "1/5/2024 1:00:00 PM" (M.wire_date)
--   Decimal   TEXT as given (exact; filters compare it as a number); Lua text
--   Text, EmailAddress, Phone, Locale   TEXT (MaxLength checked); Lua text
-- A value the column cannot hold refuses the row (Create/Update: ErrorCode 310007,
-- DataExtensionValidationError) with the column's message in the form the service gives
-- ("<col>: The value for column [<col>] ..."). A missing value is NULL and reads back as nil;
-- an empty string is NULL in every column but a text one.
--
-- The column types are recorded in the table `rows_columns` (table, column, FieldType), which
-- this module owns: a row table without its types there was written untyped by an earlier
-- build, and is refused rather than read with the wrong types.
--
-- A store: {de =, columns = {names in field order}, kinds = {column = kind}, generated = nil |
-- {count=, row=}, db =, name = the table's name}. Generated stores (benchmarks of
-- multi-million-row retrieves) compute their rows from the row number and have no table.
local core = require "performlua.core"

local M = {}
local Store = {}
Store.__index = Store
M.Store = Store

--- The database the account's rows live in: `path` a file, or nil for one in memory.
function M.open(path)
  -- synchronous NORMAL with WAL: a request's transaction survives a crash of the sandbox,
  -- and a power loss may lose the last ones, which is what a rehearsal can afford.
  return core.sqlite_open(path or ":memory:", {wal = path and true or nil,
    synchronous = "normal", foreign_keys = false})
end

--- `name` quoted as an SQL identifier.
local function quote(name)
  return '"' .. tostring(name):gsub('"', '""') .. '"'
end
M.quote = quote

--- The table name of the data extension whose CustomerKey is `key` in business unit `mid`.
function M.table_name(key, mid)
  return "de:" .. tostring(mid) .. ":" .. tostring(key):lower()
end

local as_text = require("performlua.sandbox.filter").as_text
local clock = require "performlua.sandbox.clock"

-- FieldType -> the kind of value its column holds (every other FieldType is text)
local KIND_OF = {Number = "integer", Boolean = "boolean", Date = "date", Decimal = "decimal"}
local AFFINITY = {integer = "INTEGER", boolean = "INTEGER", date = "INTEGER", decimal = "TEXT",
  text = "TEXT"}
M.KIND_OF = KIND_OF

--- The kind of value a field's column holds: "integer", "boolean", "date", "decimal", "text".
function M.kind(field_type)
  return KIND_OF[field_type] or "text"
end

local INT_MIN, INT_MAX = -2147483648, 2147483647 -- SQL Server int: the Number field's range
local function trim(s) return (s:match("^%s*(.-)%s*$")) end

local function days_in_month(y, m)
  if m == 2 then return (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) and 29 or 28 end
  return (m == 4 or m == 6 or m == 9 or m == 11) and 30 or 31
end

-- The calendar fields of a date's text are real ones (clock.parse reads 2025-02-31 as March 3).
local function real_date(s)
  local y, m, d = s:match("^%s*(%d%d%d%d)%-(%d%d)%-(%d%d)")
  if not y then
    m, d, y = s:match("^%s*(%d%d?)/(%d%d?)/(%d%d%d%d)")
  end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if not y or m < 1 or m > 12 or d < 1 or d > days_in_month(y, m) then return false end
  local h, mi, se = s:match("[T ](%d%d?):(%d%d):?(%d?%d?)")
  if h and (tonumber(h) > 23 or tonumber(mi) > 59 or (tonumber(se) or 0) > 59) then return false end
  -- SQL Server's datetime starts in 1753
  return y >= 1753 and y <= 9999
end

--- A date column's stored value (whole seconds since the epoch, UTC) as Lua reads it.
function M.date_text(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", t)
end

-- kind -> function(value, field) -> stored value | nil (NULL) | false, what is wrong with it
local STORE = {}
STORE.integer = function(v)
  local n
  if math.type(v) == "integer" then n = v
  elseif type(v) == "number" then n = math.tointeger(v)
  elseif type(v) == "string" then
    local s = trim(v)
    if s == "" then return nil end
    if s:match("^[+-]?%d+$") then n = math.tointeger(tonumber(s)) end
  end
  if not n or n < INT_MIN or n > INT_MAX then return false, "is not a valid number" end
  return n
end
STORE.boolean = function(v)
  if type(v) == "boolean" then return v and 1 or 0 end
  if v == 1 or v == 0 then return v end
  if type(v) == "string" then
    local s = trim(v):lower()
    if s == "" then return nil end
    if s == "true" or s == "1" then return 1 end
    if s == "false" or s == "0" then return 0 end
  end
  return false, "is not a valid boolean value"
end
STORE.date = function(v)
  if type(v) == "string" then
    if trim(v) == "" then return nil end
    local t = clock.parse(v)
    if t and real_date(v) then return math.floor(t + 0.5) end
  end
  return false, "is not a valid date"
end
STORE.decimal = function(v, field)
  local s = type(v) == "string" and trim(v) or type(v) == "number" and as_text(v) or nil
  if s == "" then return nil end
  local int, frac = (s or ""):match("^[+-]?(%d*)%.?(%d*)$")
  if not int or int .. frac == "" then return false, "is not a valid decimal" end
  local precision, scale = tonumber(field.Precision), tonumber(field.Scale)
  if precision and #int:gsub("^0+", "") > precision - (scale or 0) then
    -- more whole digits than Precision - Scale leaves: SQL Server's arithmetic overflow
    return false, "is out of range for the column's precision"
  end
  return s
end
STORE.text = function(v, field)
  local s = as_text(v)
  if s == nil then return false, "is not a value" end
  local max = tonumber(field.MaxLength)
  if max and (utf8.len(s) or #s) > max then return false, "exceeds the column's maximum length" end
  if field.FieldType == "EmailAddress" and s ~= ""
      and not s:match("^[^%s@]+@[^%s@]+$") then
    return false, "is not a valid email address. Parse error [InvalidEmailAddress]"
  end
  return s
end

--- A date's text ("YYYY-MM-DDTHH:MM:SS", as a Date column reads in Lua) as the service answers
--- a Date column: month/day/year, a 12-hour clock with seconds and AM or PM (docs: Retrieve
--- Data from a Data Extension), "1/5/2024 1:00:00 PM". Other text is returned as is.
function M.wire_date(s)
  local y, mo, d, h, mi, se = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)$")
  if not y then return s end
  h = tonumber(h)
  local h12 = h % 12 == 0 and 12 or h % 12
  return string.format("%d/%d/%s %d:%s:%s %s", tonumber(mo), tonumber(d), y, h12, mi, se,
    h < 12 and "AM" or "PM")
end

--- A column's Lua value as the service answers it (Properties/Property/Value): Booleans as
--- "True"/"False", dates (kind "date") as M.wire_date, missing as "".
function M.wire(v, kind)
  if v == nil then return "" end
  if type(v) == "boolean" then return v and "True" or "False" end
  if kind == "date" then return M.wire_date(v) end
  return as_text(v) or ""
end

-- the column's message in the service's form
local function column_error(col, what)
  -- the service's email message ends with its parse error, without a full stop
  return string.format("%s: The value for column [%s] %s%s", col, col, what,
    what:sub(-1) == "]" and "" or ".")
end

--- The value column `col` of the store stores for `v` (a Lua value as a request or seed gives
--- it), or false and the service's message.
function Store:stored(col, v)
  if v == nil or type(v) == "table" then return nil end -- nested tables are not values
  local kind = self.kinds[col]
  local out, err = STORE[kind](v, self.fields[col])
  if out == false then return false, column_error(col, err) end
  return out
end

-- Columns whose stored value reads back as another Lua type, and how.
local READ = {
  boolean = function(v) if v == nil then return nil end return v ~= 0 end,
  date = function(v) if v == nil then return nil end return M.date_text(v) end,
}

local function primary_keys(de)
  local keys = {}
  for _, f in ipairs(de.Fields or {}) do
    if f.IsPrimaryKey == true or f.IsPrimaryKey == "true" then keys[#keys + 1] = f.Name end
  end
  return keys
end

local function required(f)
  for _, flag in ipairs{f.IsRequired, f.IsPrimaryKey} do
    if flag == true or flag == "true" then return true end
  end
  return false
end

-- The column types of table `name` recorded in rows_columns, or nil when none are.
local function recorded_types(db, name)
  local out
  for r in db:rows("SELECT col, field_type FROM rows_columns WHERE tbl = ?", name) do
    out = out or {}
    out[r.col] = r.field_type
  end
  return out
end

--- What a store knows of its columns without a table: their kinds, fields and the required
--- ones, so `typed` checks a row (seed_csv.lua checks its records with one).
function M.checker(de, columns)
  local self = setmetatable({de = de, columns = columns}, Store)
  self.pk = primary_keys(de)
  self.by_lower, self.kinds, self.fields, self.required, self.readers = {}, {}, {}, {}, {}
  local field_of = {}
  for _, f in ipairs(de.Fields or {}) do field_of[f.Name] = f end
  for _, c in ipairs(columns) do
    self.by_lower[c:lower()] = c
    local f = field_of[c] or {Name = c}
    self.fields[c] = f
    self.kinds[c] = M.kind(f.FieldType)
    if required(f) then self.required[#self.required + 1] = c end
    local read = READ[self.kinds[c]]
    if read then self.readers[#self.readers + 1] = {c, read} end
  end
  return self
end

--- The store of data extension `de` of business unit `mid` (columns in field order), its
--- table made when missing.
--- An existing table (a state file opened again) is kept with its rows.
function M.attach(db, de, columns, mid)
  local self = M.checker(de, columns)
  self.db, self.name = db, M.table_name(de.CustomerKey, mid)
  self.qname = quote(self.name)
  local function table_exists(name)
    return db:first("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", name)
  end
  -- checked before anything is written: a refused state file is left as it was
  if table_exists(self.name) and #columns > 0 then
    local types = table_exists("rows_columns") and recorded_types(db, self.name)
    if not types then
      error(string.format("the rows of data extension '%s' were stored untyped by an earlier "
        .. "build (no column types in rows_columns): start a new state file", de.CustomerKey), 0)
    end
    for _, c in ipairs(columns) do
      if types[c] and M.kind(types[c]) ~= self.kinds[c] then
        error(string.format("the rows of data extension '%s' store the column '%s' as %s, its "
          .. "field says %s", de.CustomerKey, c, types[c], tostring(self.fields[c].FieldType)), 0)
      end
    end
  end
  db:exec("CREATE TABLE IF NOT EXISTS rows_columns (tbl TEXT NOT NULL, col TEXT NOT NULL, "
    .. "field_type TEXT NOT NULL, PRIMARY KEY (tbl, col))")
  local defs = {}
  for i, c in ipairs(columns) do defs[i] = quote(c) .. " " .. AFFINITY[self.kinds[c]] end
  if #defs == 0 then defs[1] = quote("_none") .. " TEXT" end -- a table needs a column
  db:exec(string.format("CREATE TABLE IF NOT EXISTS %s (%s)", self.qname, table.concat(defs, ", ")))
  for _, c in ipairs(columns) do
    db:run("INSERT OR IGNORE INTO rows_columns (tbl, col, field_type) VALUES (?, ?, ?)",
      self.name, c, self.fields[c].FieldType or "Text")
  end
  if #self.pk > 0 then
    local cols = {}
    for i, c in ipairs(self.pk) do cols[i] = quote(c) .. " COLLATE NOCASE" end
    db:exec(string.format("CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (%s)",
      quote(self.name .. ":pk"), self.qname, table.concat(cols, ", ")))
  end
  self.select_list = {"rowid AS \"_rowid\""}
  for _, c in ipairs(columns) do self.select_list[#self.select_list + 1] = quote(c) end
  self.select_list = table.concat(self.select_list, ", ")
  return self
end

--- Drops the store's table (its data extension was deleted).
function Store:drop()
  if self.generated then return end
  self.db:exec("DROP TABLE IF EXISTS " .. self.qname)
  self.db:run("DELETE FROM rows_columns WHERE tbl = ?", self.name)
end

-- A row as read: {column = Lua value}, without the rowid (kept aside by callers who need it).
local function strip(self, row)
  local id = row._rowid
  row._rowid = nil
  for _, r in ipairs(self.readers) do
    local c = r[1]
    row[c] = r[2](row[c])
  end
  return row, id
end

--- The WHERE clause and values naming the row with `row`'s primary key, or nil when the data
--- extension has no primary key (then no row can be named).
function Store:key_where(row)
  if #self.pk == 0 then return nil end
  local parts, values = {}, {}
  for _, c in ipairs(self.pk) do
    local v = self:stored(c, row[c])
    if v == false then return "0", {} end -- a key the column cannot hold names no row
    if v == nil then
      parts[#parts + 1] = quote(c) .. " IS NULL"
    else
      parts[#parts + 1] = quote(c) .. " = ? COLLATE NOCASE" -- the index's collation: it is used
      values[#values + 1] = v
    end
  end
  return table.concat(parts, " AND "), values
end

--- The rowid of the stored row with `row`'s primary key, or nil.
function Store:find(row)
  local where, values = self:key_where(row)
  if not where then return nil end
  local hit = self.db:first(string.format("SELECT rowid AS id FROM %s WHERE %s", self.qname, where),
    table.unpack(values))
  return hit and hit.id
end

--- The row as its columns store it ({column = stored value}, the columns `row` gives, in
--- field order), or nil, the service's message for the first value a column cannot hold (or
--- a required column left empty: every required one when `creating`, the ones given else),
--- and every such column's {Name =, ErrorMessage =}: the service's DataExtensionCreateResult
--- gives "one error message for every error in the process, as opposed to just the first".
function Store:typed(row, creating)
  local out, given, errors = {}, {}, {}
  for _, c in ipairs(self.columns) do
    local v = row[c]
    if v ~= nil and type(v) ~= "table" then
      local stored, err = self:stored(c, v)
      if stored == false then
        errors[#errors + 1] = {Name = c, ErrorMessage = err}
      else
        out[c] = stored
        given[#given + 1] = c
      end
    end
  end
  local refused = {}
  for _, e in ipairs(errors) do refused[e.Name] = true end
  for _, c in ipairs(self.required) do
    local v = out[c]
    -- a required column whose value was refused has its error already
    if (v == nil or v == "") and (creating or row[c] ~= nil) and not refused[c] then
      errors[#errors + 1] = {Name = c, ErrorMessage = column_error(c, "is required and cannot be empty")}
    end
  end
  if #errors > 0 then return nil, errors[1].ErrorMessage, errors end
  out._given = given
  return out
end

--- Appends a row. Returns the new rowid, or nil, the message and why: "invalid" (a value its
--- column cannot hold; the service's message, then every column's error as `typed` lists
--- them) or "duplicate" (its primary key is stored: the stored one keeps the key).
function Store:insert(row)
  local typed, err, errors = self:typed(row, true)
  if not typed then return nil, err, "invalid", errors end
  local cols, marks, values = {}, {}, {}
  for _, c in ipairs(typed._given) do
    local v = typed[c]
    if v ~= nil then
      cols[#cols + 1], marks[#marks + 1], values[#values + 1] = quote(c), "?", v
    end
  end
  local sql
  if #cols == 0 then sql = "INSERT INTO " .. self.qname .. " DEFAULT VALUES"
  else
    sql = string.format("INSERT OR IGNORE INTO %s (%s) VALUES (%s)", self.qname,
      table.concat(cols, ", "), table.concat(marks, ", "))
  end
  local changes, id = self.db:run(sql, table.unpack(values, 1, #cols))
  if changes == 0 then return nil, "a row with the same primary key is already stored", "duplicate" end
  return id
end

--- Sets the columns `row` has on the row `id`. Returns true, or nil, the service's message
--- and every column's error (nothing changed) when a value cannot be stored.
function Store:update(id, row)
  local typed, err, errors = self:typed(row, false)
  if not typed then return nil, err, errors end
  local sets, values = {}, {}
  for _, c in ipairs(typed._given) do
    sets[#sets + 1] = quote(c) .. " = ?"
    values[#sets] = typed[c] -- nil: the column becomes NULL
  end
  if #sets == 0 then return true end
  local n = #sets + 1
  values[n] = id
  self.db:run(string.format("UPDATE %s SET %s WHERE rowid = ?", self.qname,
    table.concat(sets, ", ")), table.unpack(values, 1, n))
  return true
end

function Store:delete(id)
  self.db:run("DELETE FROM " .. self.qname .. " WHERE rowid = ?", id)
end

function Store:clear()
  if self.generated then self.generated = nil return end
  self.db:exec("DELETE FROM " .. self.qname)
end

function Store:count()
  if self.generated then return self.generated.count end
  return self.db:first("SELECT count(*) AS n FROM " .. self.qname).n
end

--- Calls fn(row) for every row in order of arrival, one row in memory at a time.
function Store:each(fn)
  local g = self.generated
  if g then
    for i = 1, g.count do fn(g.row(i)) end
    return
  end
  for row in self.db:rows(string.format("SELECT %s FROM %s ORDER BY rowid", self.select_list,
      self.qname)) do
    fn((strip(self, row)))
  end
end

--- Every row, in order (controls and tests; never used on a request's path).
function Store:all()
  local out = {}
  self:each(function(row) out[#out + 1] = row end)
  return out
end

--- Iterator over (rowid, row) of the rows after `after` (a rowid) that `where` (SQL with `?`
--- parameters, or nil) keeps, in order of arrival, at most `limit` (nil: all) and at most up
--- to rowid `upto` (nil: no bound): keyset paging, so a continuation starts where the previous
--- page stopped instead of reading the rows before it again.
function Store:scan(after, where, params, limit, upto)
  local conds, values = {"rowid > ?"}, {after or 0}
  if upto then conds[#conds + 1] = "rowid <= ?" values[#values + 1] = upto end
  if where then
    conds[#conds + 1] = "(" .. where .. ")"
    for _, v in ipairs(params or {}) do values[#values + 1] = v end
  end
  local sql = string.format("SELECT %s FROM %s WHERE %s ORDER BY rowid%s", self.select_list,
    self.qname, table.concat(conds, " AND "), limit and " LIMIT " .. math.tointeger(limit) or "")
  local next_row, state, init, closing = self.db:rows(sql, table.unpack(values))
  local function iter(s, c)
    local row = next_row(s, c)
    if row == nil then return nil end
    local r, id = strip(self, row)
    return id, r
  end
  return iter, state, init, closing
end

--- How many rows `where` (SQL with `?` parameters, or nil: all) keeps, counted by SQLite.
function Store:count_where(where, params)
  if not where then return self:count() end
  return self.db:first(string.format("SELECT count(*) AS n FROM %s WHERE %s", self.qname, where),
    table.unpack(params or {})).n
end

--- The largest rowid stored now (0 when empty): where a retrieve's snapshot ends.
function Store:last_rowid()
  return self.db:first("SELECT max(rowid) AS m FROM " .. self.qname).m or 0
end

return M
