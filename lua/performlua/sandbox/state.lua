-- performlua.sandbox.state: the account kept in a database file (`performlua sandbox --state
-- FILE`), so it survives restarts and can be read with the `sqlite3` shell.
--
-- The file holds:
--   sandbox_meta (key, value)     format (FORMAT), marker (MARKER), and the account's counters
--                                 (next_id, next_task, mid) and generated data extensions
--   objects (id, type, data)      every object, one row each, in order of arrival (id);
--                                 data is the object as Lua literal text (sandbox/serial.lua),
--                                 nested objects naming their type with `_type` as seeds do
--   "de:<MID>:<lower key>"        each data extension's rows (sandbox/rows.lua), by its
--                                 business unit and key (format 2; format 1 had no MID)
-- When the last request in progress ends, the objects that changed are written in the
-- transaction those requests shared (service.lua), so the file is consistent whenever no
-- request is in progress.
--
--   sandbox_meta "async"          the work in flight and the clock (format 3): the sends,
--                                 imports and activities still moving (jobs.lua), the queued
--                                 requests and schedule occurrences not yet due (pending), the
--                                 triggered sends held for an inactive definition, and the
--                                 sandbox clock's offset from real time. Stored objects they
--                                 refer to are written {_ref = objects.id}.
-- A sandbox restarted on the file resumes that work: the clock goes on from its offset (the
-- downtime passes on it at real time: the speed is a flag, not state), so a send started
-- before the restart has moved on by the downtime and completes after it, and the occurrences
-- and queued requests that fell due during the downtime run once, in time order, at start-up
-- (service.lua), as a service catching up would.
local core = require "performlua.core"
local serial = require "performlua.sandbox.serial"
local rows_mod = require "performlua.sandbox.rows"
local clock_mod = require "performlua.sandbox.clock"
local jobs = require "performlua.sandbox.jobs"

local M = {}

-- 2: row tables and generated data extensions are named by business unit and key (a
-- CustomerKey is unique per unit). Format 1 files (unreleased) are refused, not converted.
-- 3: the work in flight and the clock's offset are kept (sandbox_meta "async"), and data
-- extension rows are typed by their fields' FieldType (rows.lua's rows_columns). Format 2
-- files (unreleased development builds) are refused, not converted: their rows are text, and
-- reading them as typed would guess at every value a seed or a client wrote.
M.FORMAT = 3
M.OLDEST = 3 -- the oldest format this one reads
M.MARKER = "performlua sandbox"

local function refuse(path, why)
  error(string.format("--state %s: %s; the file was left unchanged", path, why), 0)
end

-- Whether the file at path starts as every SQLite database does.
local function sqlite_header(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local head = f:read(16)
  f:close()
  return head, head == "SQLite format 3\0"
end

--- Checks that `path` is a state file this sandbox may use, without writing to it: missing or
--- empty (a new one), or a performlua sandbox's of a format it reads. Returns true when it
--- already holds an account. Raises a one-line message otherwise.
function M.check(path)
  local head, is_sqlite = sqlite_header(path)
  if head == nil or head == "" then
    local info = core.file_info(path)
    if info and info.is_dir then refuse(path, "it is a directory") end
    return false
  end
  if not is_sqlite then refuse(path, "it is not a performlua sandbox state (not an SQLite database)") end
  local ok, db = pcall(core.sqlite_open, path, {readonly = true})
  if not ok then refuse(path, "cannot read it: " .. tostring(type(db) == "table" and db.message or db)) end
  local meta = {}
  local read_ok = pcall(function()
    for row in db:rows("SELECT key, value FROM sandbox_meta") do meta[row.key] = row.value end
  end)
  db:close()
  if not read_ok or meta.marker ~= M.MARKER then
    refuse(path, "it is an SQLite database but not a performlua sandbox state (no sandbox_meta marker)")
  end
  local format = math.tointeger(tonumber(meta.format))
  if not format then refuse(path, "its sandbox_meta has no format version") end
  if format > M.FORMAT then
    refuse(path, string.format("it was written by a newer performlua (state format %d; this one "
      .. "reads format %d)", format, M.FORMAT))
  end
  if format < M.OLDEST then
    refuse(path, string.format("it was written by an earlier development build (state format %d, "
      .. "%s; this one reads format %d): start a new state file", format,
      format == 1 and "whose data extension rows are not kept per business unit"
        or "whose data extension rows are untyped and whose work in flight is not kept",
      M.FORMAT))
  end
  return true
end

--- Opens the state file (after check): the database, with the tables made when missing.
function M.open(path)
  local db = rows_mod.open(path)
  db:exec([[
    CREATE TABLE IF NOT EXISTS sandbox_meta (key TEXT PRIMARY KEY, value);
    CREATE TABLE IF NOT EXISTS objects (id INTEGER PRIMARY KEY, type TEXT NOT NULL, data TEXT NOT NULL);
  ]])
  return db
end

-- A value as plain data: tables that are typed objects say their type with `_type`.
local function plain(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in next, v do out[k] = plain(x) end
  local t = core.typeof(v)
  if t then out._type = t end
  return out
end

-- The work in flight as plain data (see the top): stored objects become {_ref = id}.
local function with_refs(v, ids)
  if type(v) ~= "table" then return v end
  local id = ids[v]
  if id then return {_ref = id} end
  local out = {}
  for k, x in next, v do out[k] = with_refs(x, ids) end
  local t = core.typeof(v)
  if t then out._type = t end
  return out
end

-- A send's recipients (job.who) can be many and never change once it starts, while the job's
-- progress changes at every save: their text is made once per send (who_text) and the job
-- refers to it by position in `who`.
local who_text = setmetatable({}, {__mode = "k"})

local function async_text(acct)
  local ids = acct.saved.ids
  local job_list, whos = {}, {}
  for i, job in ipairs(acct.jobs) do
    local who = job.who
    job.who = nil
    job_list[i] = with_refs(job, ids)
    job.who = who
    if who then
      who_text[who] = who_text[who] or serial.dump(who):gsub("^return ", "")
      whos[#whos + 1] = who_text[who]
      job_list[i].who_at = #whos
    end
  end
  local pending = {}
  for i, p in ipairs(acct.pending) do
    pending[i] = {due = p.due, kind = p.kind, data = with_refs(p.data, ids)}
  end
  local main = serial.dump({clock_offset = acct:now() - core.realtime(), jobs = job_list,
    pending = pending, held_triggered = with_refs(acct.held_triggered or {}, ids)})
  return main .. ", {" .. table.concat(whos, ",") .. "}"
end

-- Back from with_refs: references are the objects read back (by_id), typed tables typed again.
local function from_refs(v, by_id)
  if type(v) ~= "table" then return v end
  if v._ref ~= nil then
    -- an object deleted since cannot be referred to: with_refs wrote it in full instead
    return by_id[v._ref] or error("the state's work in flight refers to object " .. tostring(v._ref)
      .. ", which it does not hold", 0)
  end
  local out = {}
  for k, x in next, v do
    if k ~= "_type" then out[k] = from_refs(x, by_id) end
  end
  local mt = v._type and core.object_metatable(v._type)
  if mt then setmetatable(out, mt) end
  return out
end

--- Writes what changed in the account since the last save (the objects whose text differs,
--- the ones gone, the counters). Runs inside the request's transaction.
-- Every save looks at every object (any request may change any of them: a Retrieve moves a
-- running send on) and compares its fingerprint with the one it had when last written
-- (core.fingerprint: its content however deep, its type included, 1 and 1.0 apart). One
-- integer an object and a walk in C, where a deep copy to compare with cost ~3 us an object
-- and doubled the account's memory.
local fingerprint = core.fingerprint

function M.save(acct)
  local db = acct.db
  local saved = acct.saved -- {ids = {obj -> id}, snap = {id -> fingerprint}, count = #snap}
  local ids, snap, visited = saved.ids, saved.snap, 0
  for type_name, c in pairs(acct.types) do
    for _, o in ipairs(c.list) do
      local id = ids[o]
      if not id then
        saved.next = saved.next + 1
        id = saved.next
        ids[o] = id
        saved.count = saved.count + 1
      end
      visited = visited + 1
      local now = fingerprint(o)
      if snap[id] ~= now then
        db:run("INSERT OR REPLACE INTO objects (id, type, data) VALUES (?, ?, ?)", id, type_name,
          serial.dump(plain(o)))
        snap[id] = now
      end
    end
  end
  -- fewer objects than written: some were deleted (the one pass that builds a set, only then)
  if visited ~= saved.count then
    local seen = {}
    for _, c in pairs(acct.types) do
      for _, o in ipairs(c.list) do seen[ids[o]] = true end
    end
    for id in pairs(snap) do
      if not seen[id] then
        db:run("DELETE FROM objects WHERE id = ?", id)
        snap[id] = nil
      end
    end
    for o, id in pairs(ids) do
      if not seen[id] then ids[o] = nil end
    end
    saved.count = visited
  end
  local generated = {} -- "<MID>:<lower key>" -> count
  for key, store in pairs(acct.rows) do
    if store.generated then generated[key] = store.generated.count end
  end
  local meta = {format = M.FORMAT, marker = M.MARKER, next_id = acct.next_id,
    next_task = acct.next_task, mid = acct.mid, generated = serial.dump(generated),
    async = async_text(acct)}
  for k, v in pairs(meta) do
    if saved.meta[k] ~= v then
      db:run("INSERT OR REPLACE INTO sandbox_meta (key, value) VALUES (?, ?)", k, v)
      saved.meta[k] = v
    end
  end
end

--- Starts keeping track of the account's objects for save (a new state: everything is written
--- at the first save).
function M.track(acct)
  acct.saved = {ids = setmetatable({}, {__mode = "k"}), snap = {}, count = 0, meta = {}, next = 0}
end

--- Reads the account back from its database into `acct` (made by account.new with this db).
function M.load(acct, typed_nested)
  local db = acct.db
  M.track(acct)
  local saved = acct.saved
  for row in db:rows("SELECT id, type, data FROM objects ORDER BY id") do
    local o = typed_nested(serial.load(row.data))
    if getmetatable(o) == nil then
      local mt = core.object_metatable(row.type)
      if mt then setmetatable(o, mt) end
    end
    local list = acct:collection(row.type).list
    list[#list + 1] = o
    saved.ids[o] = row.id
    saved.snap[row.id] = fingerprint(o)
    saved.count = saved.count + 1
    saved.next = math.max(saved.next, row.id)
  end
  for type_name in pairs(acct.types) do acct:index_changed(type_name) end -- appended directly
  local meta = {}
  for row in db:rows("SELECT key, value FROM sandbox_meta") do meta[row.key] = row.value end
  saved.meta = meta
  acct.next_id = math.tointeger(tonumber(meta.next_id)) or acct.next_id
  acct.next_task = math.tointeger(tonumber(meta.next_task)) or acct.next_task
  acct.mid = math.tointeger(tonumber(meta.mid)) or acct.mid
  for _, de in ipairs(acct:collection("DataExtension").list) do acct:attach_store(de) end
  local generated = meta.generated and serial.load(meta.generated) or {}
  for rows_key, count in pairs(generated) do
    local mid, key = rows_key:match("^(%-?%d+):(.*)$")
    acct:generate_rows(key, count, math.tointeger(tonumber(mid)))
  end
  acct:index_units()
  if meta.async then
    local by_id = {}
    for o, id in pairs(saved.ids) do by_id[id] = o end
    local async, whos = serial.load(meta.async)
    async = from_refs(async, by_id)
    for _, job in ipairs(async.jobs) do
      if job.who_at then job.who, job.who_at = whos[job.who_at], nil end
    end
    acct.clock = clock_mod.new(acct.clock.speed, core.realtime() + async.clock_offset)
    acct.jobs, acct.pending = async.jobs, async.pending
    acct.held_triggered = #async.held_triggered > 0 and async.held_triggered or nil
    jobs.restored(acct)
  end
end

return M
