-- performlua.sandbox.rows: data extension rows on SQLite.
--
-- One table per data extension, named "de:<MID>:<lower CustomerKey>" (quoted as an identifier:
-- a CustomerKey is unique within a business unit, so the unit is part of the name), one
-- TEXT column per field, and the implicit rowid as the order of arrival (an Update keeps a
-- row's place, a Delete leaves the others where they were). The primary key columns carry a
-- UNIQUE index COLLATE NOCASE: the service's database compares keys without case ("ABC" and
-- "abc" collide), and a duplicate is found by that index, never by reading rows. Values are
-- always bound, never part of the SQL text; identifiers are quoted.
--
-- Values are stored as text, as the service stores them and as the API carries them: numbers
-- and booleans become their text (5 -> "5", true -> "true"), nested tables are not values of
-- a column and are not stored. A missing value is NULL and reads back as nil.
--
-- A store: {de =, columns = {names in field order}, generated = nil | {count=, row=}, db =,
-- name = the table's name}. Generated stores (benchmarks of multi-million-row retrieves)
-- compute their rows from the row number and have no table.
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

--- A value as a column stores it (see the top of this file): as filters compare it.
local as_text = require("performlua.sandbox.filter").as_text
M.as_text = as_text

local function primary_keys(de)
  local keys = {}
  for _, f in ipairs(de.Fields or {}) do
    if f.IsPrimaryKey == true or f.IsPrimaryKey == "true" then keys[#keys + 1] = f.Name end
  end
  return keys
end

--- The store of data extension `de` of business unit `mid` (columns in field order), its
--- table made when missing.
--- An existing table (a state file opened again) is kept with its rows.
function M.attach(db, de, columns, mid)
  local self = setmetatable({db = db, de = de, columns = columns,
    name = M.table_name(de.CustomerKey, mid)}, Store)
  self.pk = primary_keys(de)
  self.qname = quote(self.name)
  self.by_lower = {}
  for _, c in ipairs(columns) do self.by_lower[c:lower()] = c end
  local defs = {}
  for i, c in ipairs(columns) do defs[i] = quote(c) .. " TEXT" end
  if #defs == 0 then defs[1] = quote("_none") .. " TEXT" end -- a table needs a column
  db:exec(string.format("CREATE TABLE IF NOT EXISTS %s (%s)", self.qname, table.concat(defs, ", ")))
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
end

-- A row as read: {column = value}, without the rowid (kept aside by callers who need it).
local function strip(row)
  local id = row._rowid
  row._rowid = nil
  return row, id
end

--- The WHERE clause and values naming the row with `row`'s primary key, or nil when the data
--- extension has no primary key (then no row can be named).
function Store:key_where(row)
  if #self.pk == 0 then return nil end
  local parts, values = {}, {}
  for _, c in ipairs(self.pk) do
    local v = as_text(row[c])
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

--- Appends a row. A row whose primary key is already stored is refused with the message
--- (nil, message); the stored one keeps the key. Returns the new rowid.
function Store:insert(row)
  local cols, marks, values = {}, {}, {}
  for _, c in ipairs(self.columns) do
    local v = as_text(row[c])
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
  local changes, id = self.db:run(sql, table.unpack(values))
  if changes == 0 then return nil, "a row with the same primary key is already stored" end
  return id
end

--- Sets the columns `row` has on the row `id`.
function Store:update(id, row)
  local sets, values = {}, {}
  for _, c in ipairs(self.columns) do
    if row[c] ~= nil then
      sets[#sets + 1] = quote(c) .. " = ?"
      values[#values + 1] = as_text(row[c])
    end
  end
  if #sets == 0 then return end
  values[#values + 1] = id
  self.db:run(string.format("UPDATE %s SET %s WHERE rowid = ?", self.qname,
    table.concat(sets, ", ")), table.unpack(values))
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
    fn((strip(row)))
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
    local r, id = strip(row)
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
