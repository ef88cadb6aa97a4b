-- performlua.sandbox.account: the emulated account's state and the operations on it
-- (Create, Update, Delete, Retrieve with filters and paging, data extension rows). Perform
-- lives in sandbox/actions.lua, the asynchronous work on the sandbox clock in sandbox/jobs.lua,
-- the HTTP and SOAP layer in sandbox/service.lua and the modules it names.
--
-- Data extension rows live in SQLite (sandbox/rows.lua; the database is in memory, or the
-- --state file, sandbox/state.lua).
--
-- Objects are stored as plain tables by type (`self.types[type].list`); keys starting with
-- "_" are the sandbox's own bookkeeping and never leave it (`_mid`: the business unit that
-- owns the object). Nested objects keep their codec metatables so they encode with their type.
local core = require "performlua.core"
local clock_mod = require "performlua.sandbox.clock"
local filter = require "performlua.sandbox.filter"
local filter_sql = require "performlua.sandbox.filter_sql"
local rows_mod = require "performlua.sandbox.rows"
local jobs = require "performlua.sandbox.jobs"

local M = {}
M.__index = M

M.PAGE_SIZE = 2500
M.NO_HANDLER = "Error: Unable to find a handler for object type: %s. Object types are "
  .. "case-sensitive, check spelling."

-- Error codes the sandbox uses in Results (ranges as documented per object where known).
M.ERR = {
  duplicate_key = 1,           -- 0_99: "Name already exists"
  not_found = 107,             -- Perform/Schedule range: the object named does not exist
  unsupported_object = 100,    -- "The Perform method is not supported for the [object] object"
  invalid_action = 101,
  reserved_action = 102,
  invalid_state = 103,
  no_handler = 104,
  esd_not_found = 42002,       -- "ESD_Not Found"
  audience_not_found = 409002, -- Audience Builder range
  invalid_request = 6,
  subscriber_exists = 12014,   -- "The subscriber is already on the list" (Create of a stored key)
  audience_exists = 409007,    -- Audience Builder: "already exists for this Name" (clone)
  audience_filter = 409002,    -- Audience Builder: "GetFilterSQL: could not get filter SQL"
  row_invalid = 310007,        -- DataExtensionValidationError: a value its column cannot hold
}

-- ----------------------------------------------------------------------------------------------
-- helpers

local uuid = core.uuid
M.uuid = uuid

local function plain_copy(v, keep_meta)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in next, v do rawset(out, k, plain_copy(x, true)) end
  if keep_meta then
    local mt = getmetatable(v)
    if mt then setmetatable(out, mt) end
  end
  return out
end
M.copy = plain_copy

--- An object as an answer may carry it back (Result.Object, a queued acknowledgement): a copy
--- with only the fields `type_name` (default: the object's own type) has and whose values fit
--- them. Requests the sandbox answers may hold other fields and values (ID 'abc', a date that
--- is none) without --wsdl; echoed as sent they would make an answer the encoder cannot write,
--- after the request was processed. The copy keeps the object's metatable, or takes the
--- type's; an object of a type the schema lacks is echoed by what identifies it, as APIObject.
local echo_value
function M.echo(obj, type_name)
  type_name = type_name or core.typeof(obj)
  local fields = type_name and M.fields_of(type_name)
  local mt = getmetatable(obj)
  if not fields then
    type_name, fields, mt = "APIObject", M.fields_of("APIObject"), core.object_metatable("APIObject")
    local id = {}
    for _, k in ipairs{"ID", "ObjectID", "CustomerKey"} do id[k] = rawget(obj, k) end
    obj = id
  end
  local out = {}
  for k, v in next, obj do
    if type(k) == "string" and fields[k] then
      local ok, value = pcall(core.check_field, type_name, k, echo_value(v))
      if ok then rawset(out, k, plain_copy(value, true)) end
    end
  end
  return setmetatable(out, mt or core.object_metatable(type_name))
end

-- A field's value as an echo carries it: objects in it echoed in turn (check_field takes a
-- typed object as it is, so a nested DayInterval 'abc' would otherwise reach the encoder).
echo_value = function(v)
  if type(v) ~= "table" then return v end
  if core.typeof(v) then return M.echo(v) end
  local out = {}
  for k, x in next, v do out[k] = echo_value(x) end
  return out
end

-- Seeds (and state files) write nested objects as tables with `_type = "X"`: give them the
-- codec's metatable.
local function typed_nested(v)
  if type(v) ~= "table" then return v end
  local t = rawget(v, "_type")
  local out = {}
  for k, x in next, v do
    if k ~= "_type" then rawset(out, k, typed_nested(x)) end
  end
  local mt = t and core.object_metatable(t) or getmetatable(v)
  if mt then setmetatable(out, mt) end
  return out
end
M.typed_nested = typed_nested

local field_cache = {}
--- {lower_name = real_name} of a schema type's fields (base first), or nil when the schema
--- does not know the type.
function M.fields_of(type_name)
  local cached = field_cache[type_name]
  if cached ~= nil then return cached or nil end
  local t = core.schema_type(type_name)
  if not t or not t.fields then
    field_cache[type_name] = false
    return nil
  end
  local map = {}
  for _, f in ipairs(t.fields) do map[f.name] = f end
  field_cache[type_name] = map
  return map
end

local function is_apiobject(type_name)
  local t = core.schema_type(type_name)
  return t ~= nil and (t.apiobject or type_name == "APIObject")
end

-- Types the sandbox answers for although no schema has them (Retrieve-only virtual types,
-- answered as ObjectExtension property bags as the service does).
local VIRTUAL = {AsyncActivityStatus = true}
M.VIRTUAL = VIRTUAL

function M.known_type(type_name)
  return VIRTUAL[type_name] or is_apiobject(type_name)
end

local function de_key_of(object_type)
  return type(object_type) == "string" and object_type:match("^DataExtensionObject%[(.*)%]$")
end
M.de_key_of = de_key_of

-- value at a dotted path ("Client.ID", "DataExtension.CustomerKey")
local function get_path(obj, path)
  local v = obj
  for part in path:gmatch("[^%.]+") do
    if type(v) ~= "table" then return nil end
    v = rawget(v, part)
  end
  return v
end
M.get_path = get_path

-- ----------------------------------------------------------------------------------------------
-- construction and seeding

function M.new(cfg)
  cfg = cfg or {}
  local self = setmetatable({
    clock = clock_mod.new(cfg.speed or 1),
    types = {},
    rows = {},                 -- "<MID>:<lower DE CustomerKey>" -> its row store (sandbox/rows.lua)
    db = cfg.db or rows_mod.open(nil), -- where the rows (and with --state, everything) live
    jobs = {},                 -- asynchronous work moving on the clock
    pending = {},              -- asynchronous requests waiting for their time {due=, run=}
    cursors = {}, cursor_order = {},
    next_id = 1000,
    next_task = 52000000,
    mid = cfg.account_id or 7281698,
    units = {},                -- MID -> {ID=, Name=, ParentID=}: the seed's BusinessUnits
    durations = {queued = 0.2, total = 1.0},
  }, M)
  return self
end

function M:collection(type_name)
  local c = self.types[type_name]
  if not c then
    c = {list = {}}
    self.types[type_name] = c
  end
  return c
end

-- ----------------------------------------------------------------------------------------------
-- The identity index: how find looks an object up without reading the whole list. A real
-- account holds hundreds of thousands of subscribers, and a scan per lookup made a Create of
-- N subscribers cost N^2 (20,000 took 17 s, the last 100 of them 0.27 s).
--
-- Per collection and per identity key (ObjectID, ID, CustomerKey, SubscriberKey, Name): the
-- key's value (as text; Name as is) -> the objects holding it, in list order. A key's index is
-- built from the list at its first lookup; insert and delete keep every built one current,
-- and an Update that changes an identity key drops the collection's (rebuilt at the next
-- lookup). Anything else that adds, removes or renames a stored object must do the same
-- (`M:index_changed`). A hit is checked against the object's current value all the same.

-- How a request names a stored object, in the order find tries them: the identity keys, then
-- Name for types that have none of them.
local IDENTITY_KEYS = {"ObjectID", "ID", "CustomerKey", "SubscriberKey"}
local NAMING_KEYS = table.move(IDENTITY_KEYS, 1, #IDENTITY_KEYS, 1, {})
NAMING_KEYS[#NAMING_KEYS + 1] = "Name"
local INDEX_KEYS = {}
for _, k in ipairs(NAMING_KEYS) do INDEX_KEYS[k] = true end

local function index_value(k, v)
  if k == "Name" or v == nil then return v end
  return v ~= "" and tostring(v) or nil
end

-- Files o under its key k in by_value (that key's index), after the objects filed before it.
local function file_under(by_value, k, o)
  local v = index_value(k, rawget(o, k))
  if v == nil then return end
  local bucket = by_value[v]
  if bucket then bucket[#bucket + 1] = o else by_value[v] = {o} end
end

-- The objects of collection c whose key k is `value` (see index_value), in list order.
local function indexed(c, k, value)
  local index = c.index
  if not index then
    index = {}
    c.index = index
  end
  local by_value = index[k]
  if not by_value then
    by_value = {}
    for _, o in ipairs(c.list) do file_under(by_value, k, o) end
    index[k] = by_value
  end
  return by_value[value]
end

local function index_add(c, o)
  for k, by_value in pairs(c.index or {}) do file_under(by_value, k, o) end
end

local function index_remove(c, o)
  for k, by_value in pairs(c.index or {}) do
    local v = index_value(k, rawget(o, k))
    local bucket = v ~= nil and by_value[v]
    if bucket then
      for i = #bucket, 1, -1 do
        if bucket[i] == o then table.remove(bucket, i) end
      end
      if #bucket == 0 then by_value[v] = nil end
    end
  end
end

--- Drops the identity index of a type's collection: for code that adds, removes or renames
--- stored objects other than through insert, delete and update.
function M:index_changed(type_name)
  local c = self.types[type_name]
  if c then c.index = nil end
end

function M:now_text()
  return clock_mod.format(self:now())
end

function M:now()
  return self.clock:now()
end

function M:new_id()
  self.next_id = self.next_id + 1
  return self.next_id
end

function M:new_task_id()
  self.next_task = self.next_task + 1
  return self.next_task
end

--- Stores an object of a type as given (seed or Create), filling ID, ObjectID, CustomerKey and
--- dates when absent. Returns the stored table.
function M:insert(type_name, obj, mid)
  local o = typed_nested(obj)
  local fields = M.fields_of(type_name) or {}
  if fields.ID and rawget(o, "ID") == nil then rawset(o, "ID", self:new_id()) end
  if fields.ObjectID and rawget(o, "ObjectID") == nil then rawset(o, "ObjectID", uuid()) end
  if fields.CustomerKey and rawget(o, "CustomerKey") == nil and type_name ~= "DataExtensionField"
      and type_name ~= "Send" then
    rawset(o, "CustomerKey", rawget(o, "ObjectID") or uuid())
  end
  local now = self:now_text()
  if fields.CreatedDate and rawget(o, "CreatedDate") == nil then rawset(o, "CreatedDate", now) end
  if fields.ModifiedDate and rawget(o, "ModifiedDate") == nil then rawset(o, "ModifiedDate", now) end
  rawset(o, "_mid", mid or rawget(o, "_mid") or (type(o.Client) == "table" and o.Client.ID) or self.mid)
  local c = self:collection(type_name)
  c.list[#c.list + 1] = o
  index_add(c, o)
  if type_name == "DataExtension" then self:attach_rows(o) end
  return o
end

-- Data extensions: their fields become DataExtensionField objects, their rows a row store.
function M:attach_rows(de)
  local key = de.CustomerKey
  for i, f in ipairs(de.Fields or {}) do
    local field = {Name = f.Name, FieldType = f.FieldType or "Text", Ordinal = f.Ordinal or (i - 1),
      IsPrimaryKey = f.IsPrimaryKey or false, IsRequired = f.IsRequired or false,
      MaxLength = f.MaxLength, CustomerKey = "[" .. key .. "].[" .. f.Name .. "]",
      DataExtension = setmetatable({CustomerKey = key}, core.object_metatable("DataExtension"))}
    self:insert("DataExtensionField", field, rawget(de, "_mid"))
  end
  return self:attach_store(de)
end

--- The row store of data extension `de` (its table made when missing, kept with its rows when
--- a state file already has it), registered under its key.
function M:attach_store(de)
  local columns = {}
  for i, f in ipairs(de.Fields or {}) do columns[i] = f.Name end
  local store = rows_mod.attach(self.db, de, columns, self:unit_of(de))
  store.rows_key = M.rows_key(self:unit_of(de), de.CustomerKey)
  self.rows[store.rows_key] = store
  return store
end

--- The business unit an object belongs to.
function M:unit_of(obj)
  return rawget(obj, "_mid") or self.mid
end

--- The key of `self.rows` for data extension `key` of business unit `mid`: a CustomerKey is
--- unique within a unit, so two units' data extensions with one key have separate rows.
function M.rows_key(mid, key)
  return tostring(mid) .. ":" .. tostring(key):lower()
end

-- ----------------------------------------------------------------------------------------------
-- data extension rows: each data extension's rows are a table of the account's database
-- (sandbox/rows.lua), its primary key under a unique index, so finding, adding, changing and
-- removing one row costs the same with 10 rows as with a million.

--- Appends a row (seeds and controls); a row whose key is already stored is left out: the
--- first one keeps the key, as the primary key constraint would have it. A value its column
--- cannot hold is an error: a seed must be an account the service could hold.
function M.add_row(store, row)
  local id, err, why = store:insert(row)
  if why == "invalid" then
    error(string.format("data extension '%s': %s", store.de.CustomerKey, err), 0)
  end
  return id
end

function M.clear_rows(store)
  store:clear()
end

--- The row store of data extension `key` in business unit `mid`: the unit's own, else one
--- shared with it (M:shared_with). Without `mid` (controls, seeds), or in an account of one
--- unit: the parent's (the account's) data extension with that key, else the one of the
--- lowest MID that has one.
function M:row_store(key, mid)
  if type(key) ~= "string" then return nil end
  if mid ~= nil and next(self.units) ~= nil then
    return self.rows[M.rows_key(mid, key)] or self:shared_store(key, mid)
  end
  local store = self.rows[M.rows_key(self.mid, key)]
  if store then return store end
  return self:row_store_in(key, {all = true})
end

--- The row store of data extension `key` among the units of `scope` ({mids=, all=}):
--- `prefer`'s (the acting unit) when it has one, else one shared with it, else the lowest
--- MID's; nil when no unit of the scope has (or is shared) a data extension with that key.
function M:row_store_in(key, scope, prefer)
  if type(key) ~= "string" then return nil end
  local lower = key:lower()
  if prefer ~= nil and (scope.all or scope.mids[prefer]) then
    local store = self.rows[M.rows_key(prefer, key)] or self:shared_store(key, prefer)
    if store then return store end
  end
  local best, best_mid
  for _, store in pairs(self.rows) do
    if store.de and store.de.CustomerKey:lower() == lower and self:owned(store.de, scope) then
      local mid = self:unit_of(store.de)
      if best_mid == nil or mid < best_mid then best, best_mid = store, mid end
    end
  end
  if best then return best end
  for mid in pairs(scope.mids or {}) do
    local shared = self:shared_store(key, mid)
    if shared then return shared end
  end
  return nil
end

-- ----------------------------------------------------------------------------------------------
-- shared data extensions (docs: "Shared Data Extensions" folder; SOAP technical articles, Data
-- Extensions: "You can use these operations to work with standard data extensions and shared
-- data extensions")

M.SHARED_CONTENT_TYPE = "shared_data" -- the ContentType of the Shared Data Extensions folder

--- Whether data extension `de`, of another unit, is shared with business unit `mid`: it lies
--- in a DataFolder (CategoryID) whose ContentType is shared_data, of a unit above `mid`, and
--- its `_shared_with` (sandbox-only: the MIDs the owner shares it with, as the UI's sharing
--- settings choose) names `mid`, or it has none (shared with every unit below its owner).
function M:shared_with(de, mid)
  if mid == nil or next(self.units) == nil then return false end
  local owner = self:unit_of(de)
  if owner == mid or not self:may_reach(owner, mid) then return false end
  local category = rawget(de, "CategoryID")
  if category == nil then return false end
  local folder = self:find("DataFolder", {ID = category}, owner)
  if not folder or rawget(folder, "ContentType") ~= M.SHARED_CONTENT_TYPE then return false end
  local with = rawget(de, "_shared_with")
  if type(with) ~= "table" then return true end
  for _, m in ipairs(with) do
    if math.tointeger(tonumber(m)) == mid then return true end
  end
  return false
end

--- The row store of a data extension with key `key` that a unit above `mid` shares with it
--- (the nearest unit first), or nil.
function M:shared_store(key, mid)
  local unit = self.units[mid]
  local seen = {}
  while unit and unit.ParentID and not seen[unit.ID] do
    seen[unit.ID] = true
    local store = self.rows[M.rows_key(unit.ParentID, key)]
    if store and store.de and self:shared_with(store.de, mid) then return store end
    unit = self.units[unit.ParentID]
  end
  return nil
end

--- Whether object `o` of type `t` is visible in `scope` ({mids=, all=}): owned by one of its
--- units, or a shared data extension (its definition or fields) shared with one of them.
function M:visible(t, o, scope)
  if self:owned(o, scope) then return true end
  if t ~= "DataExtension" and t ~= "DataExtensionField" then return false end
  local de = o
  if t == "DataExtensionField" then
    local ref = rawget(o, "DataExtension")
    de = type(ref) == "table" and ref.CustomerKey
      and self:find("DataExtension", {CustomerKey = ref.CustomerKey}, self:unit_of(o))
    if not de then return false end
  end
  for mid in pairs(scope.mids or {}) do
    if self:shared_with(de, mid) then return true end
  end
  return false
end

-- The scope of the unit a request acts in.
local function unit_scope(self, ctx)
  return {mids = {[ctx and ctx.mid or self.mid] = true}}
end

--- Whether a row store's data extension belongs to a unit of `scope` ({mids=, all=}) or, given
--- a ctx, to the unit the request acts in: another unit's data extension does not exist here.
function M:unit_has_store(store, ctx_or_scope)
  if not ctx_or_scope or not store.de then return true end
  local scope = ctx_or_scope.mids and ctx_or_scope
    or {mids = {[ctx_or_scope.mid or self.mid] = true}}
  return self:visible("DataExtension", store.de, scope)
end

--- Makes data extension `key` answer `count` generated rows (computed from the row number at
--- page time, nothing stored): for benchmarks of multi-million-row retrieves.
--- `mid`: the unit of the data extension (default: the parent's, else the only one's).
function M:generate_rows(key, count, mid)
  local store = mid and self.rows[M.rows_key(mid, key)] or self:row_store(key)
  if not store then
    local de = self:insert("DataExtension", {CustomerKey = key, Name = key, IsSendable = false,
      Fields = {
        {Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true, IsRequired = true},
        {Name = "EmailAddress", FieldType = "EmailAddress", MaxLength = 254},
        {Name = "FirstName", FieldType = "Text", MaxLength = 100},
        {Name = "Points", FieldType = "Number"},
        {Name = "JoinedDate", FieldType = "Date"},
      }}, mid)
    store = self.rows[M.rows_key(self:unit_of(de), de.CustomerKey)]
  end
  local cols = {}
  for _, c in ipairs(store.columns) do cols[c] = c:lower() end
  local base = 1700000000
  -- Rows are computed column by column when read (only the columns a page asks for or a
  -- filter looks at), from the row number kept in the row.
  local function compute(i, c)
    local lc = cols[c]
    if not lc then return nil end
    if lc == "subscriberkey" then return string.format("sub-%07d", i)
    elseif lc == "emailaddress" then return string.format("member%d@example.com", i)
    elseif lc == "firstname" then return "Member " .. i
    elseif lc == "points" then return tostring((i * 37) % 1000)
    elseif lc == "joineddate" then return clock_mod.format(base + (i % 1000) * 86400):sub(1, 10)
    end
    return c .. " " .. i
  end
  local row_mt = {__index = function(row, c)
    local v = compute(rawget(row, 1), c)
    rawset(row, c, v)
    return v
  end}
  store:clear()
  store.generated = {count = count, row = function(i) return setmetatable({i}, row_mt) end}
  return count
end

function M:load_seed(seed)
  if type(seed) ~= "table" then error("the seed must be a table of object lists by type", 0) end
  if seed.account_id then self.mid = seed.account_id end
  self.packages = {}
  for i, p in ipairs(seed._packages or {}) do
    if type(p) ~= "table" or type(p.client_id) ~= "string" or type(p.client_secret) ~= "string"
        or type(p.units) ~= "table" or #p.units == 0 then
      error(string.format("the seed's _packages #%d needs client_id, client_secret and units "
        .. "(the MIDs its API user reaches, the one it is installed in first)", i), 0)
    end
    self.packages[p.client_id] = p
  end
  local order = {}
  for type_name in pairs(seed) do
    if type(type_name) == "string" and type_name:sub(1, 1) ~= "_" and type_name ~= "account_id"
        and type_name ~= "rows" and type_name ~= "generated" then
      order[#order + 1] = type_name
    end
  end
  table.sort(order, function(a, b)
    -- data extensions first, so their rows and fields exist for everything else
    if (a == "DataExtension") ~= (b == "DataExtension") then return a == "DataExtension" end
    return a < b
  end)
  for _, type_name in ipairs(order) do
    if not M.known_type(type_name) then
      error(string.format("the seed lists objects of type '%s', which is not an object type of "
        .. "the partner API (types are case-sensitive)", type_name), 0)
    end
    local fields = M.fields_of(type_name)
    for i, obj in ipairs(seed[type_name]) do
      local typed = typed_nested(obj)
      for k, v in pairs(typed) do
        if fields and type(k) == "string" and k:sub(1, 1) ~= "_" then
          if not fields[k] then
            error(string.format("the seed's %s #%d has the field '%s', which %s does not have "
              .. "(fields are case-sensitive; sandbox-only data goes in keys starting with _)",
              type_name, i, k, type_name), 0)
          end
          local ok, value = pcall(core.check_field, type_name, k, v)
          if not ok then
            error(string.format("the seed's %s #%d: %s", type_name, i,
              tostring(type(value) == "table" and value.message or value):gsub("^usage error: ", "")), 0)
          end
          rawset(typed, k, value)
        end
      end
      self:insert(type_name, typed)
    end
  end
  for key, rows in pairs(seed.rows or {}) do
    local store = self:row_store(key)
    if not store then
      error(string.format("the seed has rows for data extension '%s' but no DataExtension with "
        .. "that CustomerKey", key), 0)
    end
    for _, r in ipairs(rows) do M.add_row(store, plain_copy(r)) end
  end
  for key, count in pairs(seed.generated or {}) do self:generate_rows(key, count) end
  self:index_units()
end

--- The enterprise: its BusinessUnits (the account itself is the top one), from the objects.
function M:index_units()
  for _, bu in ipairs((self.types.BusinessUnit or {list = {}}).list) do
    local id = math.tointeger(tonumber(rawget(bu, "ID")))
    if id then
      self.units[id] = {ID = id, Name = rawget(bu, "Name"),
        ParentID = math.tointeger(tonumber(rawget(bu, "ParentID")))}
    end
  end
end

-- ----------------------------------------------------------------------------------------------
-- business units

--- Whether `mid` is a business unit of this enterprise. A seed without BusinessUnits is an
--- account of one unit that predates them: any MID is taken as given (as before).
function M:is_unit(mid)
  if next(self.units) == nil then return mid ~= nil end
  return mid == self.mid or self.units[mid] ~= nil
end

--- Whether a token of business unit `from` may act in (or read) business unit `to`: its own
--- unit, and from a parent every unit below it.
function M:may_reach(from, to)
  from = from or self.mid
  if from == to then return true end
  if next(self.units) == nil then return true end
  local seen = {}
  local unit = self.units[to]
  while unit and not seen[unit.ID] do
    seen[unit.ID] = true
    local parent = unit.ParentID
    if parent == from then return true end
    unit = parent and self.units[parent]
  end
  return false
end

--- The units a token of `from` reaches (QueryAllAccounts), or nil for "every object" when the
--- seed has no BusinessUnits.
function M:reachable(from)
  if next(self.units) == nil then return nil end
  from = from or self.mid
  local mids = {[from] = true}
  for id in pairs(self.units) do
    if self:may_reach(from, id) then mids[id] = true end
  end
  return mids
end

-- ----------------------------------------------------------------------------------------------
-- finding objects

--- How a request names an object ("CustomerKey 'x'"), as M:find looks it up; nil if it does not.
function M.named_by(ref)
  if type(ref) ~= "table" then return nil end
  for _, k in ipairs(NAMING_KEYS) do
    local v = rawget(ref, k)
    if v ~= nil and v ~= "" then return string.format("%s '%s'", k, tostring(v)) end
  end
  return nil
end

--- The stored object a request names: by ObjectID, else ID, else CustomerKey, else
--- SubscriberKey (how subscribers are named), else Name for types without those. Returns obj,
--- or nil, nil and how it was looked up.
---
--- `mid` (optional) is the business unit to look in: only that unit's objects match. A
--- CustomerKey is unique within a unit, not across the enterprise (a child unit may have a
--- data extension with the key of its parent's), so a lookup by key where the acting unit is
--- known must give it. Without `mid`, or in an account of one unit (no BusinessUnits: every
--- MID is that account), every object matches and the first one wins.
function M:find(type_name, ref, mid)
  local c = self.types[type_name]
  if mid ~= nil and next(self.units) == nil then mid = nil end
  local default_mid = self.mid
  local function in_unit(o)
    return mid == nil or (rawget(o, "_mid") or default_mid) == mid
  end
  for _, k in ipairs(IDENTITY_KEYS) do
    local want = type(ref) == "table" and rawget(ref, k)
    if want ~= nil and want ~= "" then
      if c then
        local text = tostring(want)
        for _, o in ipairs(indexed(c, k, text) or {}) do
          if rawget(o, k) ~= nil and tostring(rawget(o, k)) == text and in_unit(o) then return o end
        end
      end
      return nil, nil, string.format("%s '%s'", k, tostring(want))
    end
  end
  local name = type(ref) == "table" and rawget(ref, "Name")
  if name and c then
    for _, o in ipairs(indexed(c, "Name", name) or {}) do
      if rawget(o, "Name") == name and in_unit(o) then return o end
    end
    return nil, nil, string.format("Name '%s'", name)
  end
  return nil, nil, nil
end

--- The subscriber with this SubscriberKey in All Subscribers, or nil.
function M:find_subscriber(key)
  local c = self.types.Subscriber
  local text = c and index_value("SubscriberKey", key)
  for _, o in ipairs(text and indexed(c, "SubscriberKey", text) or {}) do
    if rawget(o, "SubscriberKey") == key then return o end
  end
  return nil
end

-- ----------------------------------------------------------------------------------------------
-- output shapes

-- A stored object as a response object: only the properties asked for (all when none), the
-- sandbox's bookkeeping removed, the codec's metatable of its type.
function M.present(type_name, obj, properties)
  local out = {}
  if properties and #properties > 0 then
    for _, p in ipairs(properties) do
      local first = p:match("^[^%.]+")
      local v = rawget(obj, first)
      if v ~= nil then
        if first == p then rawset(out, p, plain_copy(v, true))
        elseif rawget(out, first) == nil then
          -- a nested property (Client.ID): the nested object with the fields asked for
          local nested = {}
          local mt = type(v) == "table" and getmetatable(v)
          for _, q in ipairs(properties) do
            local rest = q:match("^" .. first:gsub("%p", "%%%0") .. "%.(.+)$")
            if rest and type(v) == "table" and rawget(v, rest) ~= nil then
              rawset(nested, rest, plain_copy(rawget(v, rest), true))
            end
          end
          if mt then setmetatable(nested, mt) end
          rawset(out, first, nested)
        end
      elseif first == "Client" and p == "Client.ID" then
        rawset(out, "Client", {ID = rawget(obj, "_mid")})
      end
    end
  else
    for k, v in next, obj do
      if type(k) ~= "string" or k:sub(1, 1) ~= "_" then rawset(out, k, plain_copy(v, true)) end
    end
  end
  if VIRTUAL[type_name] then
    -- A property bag, as the service answers types outside the WSDL (ObjectExtension keeps
    -- the response valid against the WSDL; clients read Properties by Name).
    local bag = {}
    local names = {}
    for k in next, out do names[#names + 1] = k end
    if properties and #properties > 0 then names = properties else table.sort(names) end
    for _, k in ipairs(names) do
      local v = rawget(out, k)
      if v ~= nil and type(v) ~= "table" then
        bag[#bag + 1] = {Name = k, Value = type(v) == "boolean" and tostring(v) or tostring(v)}
      end
    end
    return setmetatable({Type = type_name, Properties = bag}, core.object_metatable("ObjectExtension"))
  end
  return setmetatable(out, core.object_metatable(type_name))
end

-- ----------------------------------------------------------------------------------------------
-- Retrieve

local function retrieve_error(message)
  return {OverallStatus = message}
end

function M:owned(obj, scope)
  if scope.all then return true end
  local mid = rawget(obj, "_mid") or self.mid
  return scope.mids[mid] == true
end

local function add_cursor(self, id, cursor)
  self.cursors[id] = cursor
  local order = self.cursor_order
  order[#order + 1] = id
  if #order > 500 then -- continuations are kept for the last 500 pages only
    self.cursors[table.remove(order, 1)] = nil
  end
end

-- Fills a page from a cursor: {source(i) -> item|nil, pos, filter, get, present, batch}.
local function fill_page(self, cursor, request_id)
  local results = {}
  local i = cursor.pos
  local more = false
  while true do
    local item = cursor.source(i)
    if item == nil then break end
    if cursor.accept(item) then
      if #results >= cursor.batch then
        more = true
        break
      end
      results[#results + 1] = cursor.present(item)
    end
    i = i + 1
  end
  cursor.pos = i
  -- The continuation remembers where its page starts, not the shared cursor's position, so
  -- the same ContinueRequest can be sent again (a client whose answer was lost retries a read).
  if more then add_cursor(self, request_id, {cursor = cursor, pos = i}) end
  return {OverallStatus = more and "MoreDataAvailable" or "OK", RequestID = request_id,
    Results = results}
end

-- Fills a page from a keyset cursor (data extension rows): {fetch(after, limit) -> iterator
-- of (rowid, row), pos = the rowid the page starts after, accept, present, batch}.
local function fill_keyset_page(self, cursor, request_id)
  local results = {}
  local last = cursor.pos
  local more = false
  for id, row in cursor.fetch(cursor.pos, cursor.batch + 1) do
    if cursor.accept(row) then
      if #results >= cursor.batch then
        more = true
        break
      end
      results[#results + 1] = cursor.present(row)
    end
    last = id
  end
  cursor.pos = last
  if more then add_cursor(self, request_id, {cursor = cursor, pos = last}) end
  return {OverallStatus = more and "MoreDataAvailable" or "OK", RequestID = request_id,
    Results = results}
end

-- A page, with the filter's complaints (found while reading rows) as OverallStatus.
function M:page(cursor, request_id)
  local ok, r = pcall(cursor.fetch and fill_keyset_page or fill_page, self, cursor, request_id)
  if ok then return r end
  if type(r) == "table" and r.filter_error then return retrieve_error("Error: " .. r.filter_error) end
  error(r, 0)
end

-- AsyncActivityStatus filters as the docs describe the server reading them: the logical
-- operator and DateValue are ignored; every simple part found (nested ones too) must hold;
-- TaskID is compared with the string Value(s), StartTime and EndTime are read from the string
-- Value as dates and bound the activity's StartDate (StartTime <= StartDate <= EndTime); any
-- other property is compared as an ordinary filter part.
local function simple_parts(part, out)
  if type(part) ~= "table" then return out end
  if part.Property ~= nil then out[#out + 1] = part return out end
  simple_parts(part.LeftOperand, out)
  simple_parts(part.RightOperand, out)
  for _, op in ipairs(part.AdditionalOperands or {}) do simple_parts(op, out) end
  return out
end

local function async_status_matches(flt, o)
  for _, part in ipairs(simple_parts(flt, {})) do
    local values = part.Value
    if type(values) ~= "table" then values = {values} end
    local prop = part.Property
    if prop == "StartTime" or prop == "EndTime" then
      local bound = clock_mod.parse(values[1] and tostring(values[1]))
      local started = clock_mod.parse(rawget(o, "StartDate"))
      if bound and started then
        if prop == "StartTime" and started < bound then return false end
        if prop == "EndTime" and started > bound then return false end
      end
    elseif prop == "TaskID" then
      local want, hit = tostring(rawget(o, "TaskID")), false
      for _, v in ipairs(values) do if tostring(v) == want then hit = true end end
      if not hit then return false end
    else
      local plain = setmetatable({Property = prop, SimpleOperator = part.SimpleOperator,
        Value = part.Value}, getmetatable(part))
      if not filter.matches(plain, function(p) return get_path(o, p) end) then return false end
    end
  end
  return true
end

--- Retrieve: `rr` is the decoded RetrieveRequest, ctx = {mid=, request_id=}.
function M:retrieve(rr, ctx)
  jobs.tick(self)
  local request_id = ctx.request_id
  if rr.ContinueRequest and rr.ContinueRequest ~= "" then
    local continuation = self.cursors[rr.ContinueRequest]
    if not continuation then
      return retrieve_error(string.format("Error: ContinueRequest '%s' does not name a retrieve "
        .. "with more data (it finished, expired, or was never made)", rr.ContinueRequest))
    end
    continuation.cursor.pos = continuation.pos
    return self:page(continuation.cursor, request_id)
  end
  local object_type = rr.ObjectType
  if type(object_type) ~= "string" or object_type == "" then
    return retrieve_error("Error: The RetrieveRequest has no ObjectType")
  end
  local batch = M.PAGE_SIZE
  local opts = rr.Options
  if type(opts) == "table" and tonumber(opts.BatchSize) and tonumber(opts.BatchSize) > 0 then
    batch = math.min(batch, math.floor(tonumber(opts.BatchSize)))
  end
  local properties = rr.Properties or {}
  local scope = {all = false, mids = {}}
  if rr.QueryAllAccounts == true then
    local reach = self:reachable(ctx.mid)
    scope.all, scope.mids = reach == nil, reach or {}
  elseif rr.ClientIDs and #rr.ClientIDs > 0 then
    for _, c in ipairs(rr.ClientIDs) do
      local id = type(c) == "table" and math.tointeger(tonumber(c.ID or c.ClientID))
      if id then
        if not self:may_reach(ctx.mid, id) then
          return retrieve_error(string.format("Error: ClientIDs names %d, which is not a "
            .. "business unit this token's account (MID %d) can reach: give its own MID or "
            .. "the MID of a business unit below it", id, ctx.mid or self.mid))
        end
        scope.mids[id] = true
      end
    end
  else
    scope.mids[ctx.mid or self.mid] = true
  end

  local de_key = de_key_of(object_type)
  if de_key then
    return self:retrieve_rows(de_key, object_type, properties, rr.Filter, batch, request_id, scope,
      ctx.mid or self.mid)
  end
  if object_type == "DataExtensionObject" then
    return retrieve_error("Error: Retrieve rows with the ObjectType DataExtensionObject[<data "
      .. "extension CustomerKey>], e.g. DataExtensionObject[Customers]")
  end
  if not M.known_type(object_type) then return retrieve_error(string.format(M.NO_HANDLER, object_type)) end

  local fields = M.fields_of(object_type)
  local function has(name)
    if VIRTUAL[object_type] then return true end
    local first = name:match("^[^%.]+")
    return fields and fields[first] ~= nil
  end
  local bad = {}
  for _, p in ipairs(properties) do
    if not has(p) then bad[#bad + 1] = p end
  end
  if #bad > 0 then
    return retrieve_error(string.format("Error: The Request Property(s) %s do not match with the "
      .. "fields of %s retrieve object", table.concat(bad, ", "), object_type))
  end
  if rr.Filter then
    local ok, err = pcall(filter.check, rr.Filter, has)
    if not ok then
      return retrieve_error("Error: " .. (type(err) == "table" and err.filter_error or tostring(err)))
    end
  end
  local list = (self.types[object_type] or {list = {}}).list
  local snapshot = table.move(list, 1, #list, 1, {})
  local flt = rr.Filter
  local cursor = {
    pos = 1, batch = batch,
    source = function(i) return snapshot[i] end,
    accept = function(o)
      if not self:visible(object_type, o, scope) then return false end
      if not flt then return true end
      if object_type == "AsyncActivityStatus" then return async_status_matches(flt, o) end
      return filter.matches(flt, function(p)
        if p == "Client.ID" then return rawget(o, "_mid") end
        return get_path(o, p)
      end)
    end,
    present = function(o) return M.present(object_type, o, properties) end,
  }
  return self:page(cursor, request_id)
end

function M:retrieve_rows(key, object_type, properties, flt, batch, request_id, scope, prefer)
  local store
  if scope and next(self.units) ~= nil then
    store = self:row_store_in(key, scope, prefer) -- the key in the acting unit, else the scope's
  else
    store = self:row_store(key)
    if store and scope and not self:unit_has_store(store, scope) then store = nil end
  end
  if not store then return retrieve_error(string.format(M.NO_HANDLER, object_type)) end
  local by_lower = {}
  for _, c in ipairs(store.columns) do by_lower[c:lower()] = c end
  local wanted = {}
  local bad = {}
  for _, p in ipairs(properties) do
    local c = by_lower[p:lower()]
    if c then wanted[#wanted + 1] = c else bad[#bad + 1] = p end
  end
  if #bad > 0 then
    return retrieve_error(string.format("Error: The Request Property(s) %s do not match with the "
      .. "fields of %s retrieve object", table.concat(bad, ", "), object_type))
  end
  if #wanted == 0 then wanted = store.columns end
  local function has(name) return by_lower[name:lower()] ~= nil end
  if flt then
    local ok, err = pcall(filter.check, flt, has)
    if not ok then
      return retrieve_error("Error: " .. (type(err) == "table" and err.filter_error or tostring(err)))
    end
  end
  local function value(row, name)
    local c = by_lower[name:lower()]
    return c and row[c]
  end
  local function lua_filter(row)
    return filter.matches(flt, function(p) return value(row, p) end)
  end
  local mt = core.object_metatable("DataExtensionObject")
  local cursor = {batch = batch}
  if store.generated then
    local g = store.generated
    cursor.pos = 1
    cursor.source = function(i) if i <= g.count then return g.row(i) end end
    cursor.accept = function(row) return not flt or lua_filter(row) end
  else
    -- Keyset paging: the page asks SQL for the rows after the last one the previous page
    -- looked at (rowid > pos), so a continuation never reads the rows before it again. The
    -- retrieve sees the rows stored when it started (rowid <= upto), as a snapshot would.
    local where, params, exact = filter_sql.translate(flt, by_lower, store.pk, store.kinds)
    local upto = store:last_rowid()
    cursor.pos = 0
    cursor.fetch = function(after, limit)
      if self.rows[store.rows_key] ~= store then return function() return nil end end -- deleted since
      return store:scan(after, where, params, exact and limit or nil, upto)
    end
    -- SQL's answer is the whole answer only when the filter translated exactly
    cursor.accept = (flt and not exact) and lua_filter or function() return true end
  end
  local kinds = store.kinds or {} -- generated stores have none: their values are text
  cursor.present = function(row)
    local props = {}
    for i, c in ipairs(wanted) do
      local v = row[c]
      props[i] = {Name = c, Value = rows_mod.wire(v, kinds[c])}
    end
    return setmetatable({Properties = props}, mt)
  end
  return self:page(cursor, request_id)
end

-- ----------------------------------------------------------------------------------------------
-- Create, Update, Delete

local function result(code, message, extra)
  local r = extra or {}
  r.StatusCode = code
  r.StatusMessage = message
  return r
end
M.result = result

local function typename(obj)
  return core.typeof(obj)
end

-- The object's fields checked and normalised against its type ("12" -> 12 for an int), as
-- the service refuses what it cannot store. Returns the checked copy or nil, message.
local function checked(type_name, obj)
  local out = {}
  for k, v in next, obj do
    if type(k) ~= "string" then return nil, "an object's fields must be named" end
    local ok, value = pcall(core.check_field, type_name, k, v)
    if not ok then
      local msg = type(value) == "table" and value.message or tostring(value)
      return nil, (tostring(msg):gsub("^usage error: ", ""))
    end
    rawset(out, k, plain_copy(value, true))
  end
  return out
end

local function row_from_properties(store, obj)
  local by_lower = {}
  for _, c in ipairs(store.columns) do by_lower[c:lower()] = c end
  local row = {}
  local props = rawget(obj, "Properties") or {}
  for _, p in ipairs(props) do
    local c = type(p.Name) == "string" and by_lower[p.Name:lower()]
    if not c then return nil, string.format("The data extension '%s' has no column '%s'",
      store.de.CustomerKey, tostring(p.Name)) end
    row[c] = p.Value
  end
  for _, k in ipairs(rawget(obj, "Keys") or {}) do
    local c = type(k.Name) == "string" and by_lower[k.Name:lower()]
    if not c then return nil, string.format("The data extension '%s' has no column '%s'",
      store.de.CustomerKey, tostring(k.Name)) end
    row[c] = k.Value
  end
  return row
end

-- The rowid of the stored row with the same primary key as `row`, or nil.
local function find_row(store, row)
  return store:find(row)
end

-- The row store a DataExtensionObject names by CustomerKey or Name, in the unit the request
-- acts in (any unit without ctx).
function M:row_store_for(obj, ctx)
  local key = rawget(obj, "CustomerKey")
  if key then return self:row_store_by_key(key, ctx), key end
  local name = rawget(obj, "Name")
  if name then
    local scope = ctx and unit_scope(self, ctx)
    for _, s in pairs(self.rows) do
      if s.de.Name == name and (not scope or self:visible("DataExtension", s.de, scope)) then
        return s, name
      end
    end
  end
  return nil, key or name
end

-- The row store of data extension `key` in the unit the request acts in (any unit without ctx).
function M:row_store_by_key(key, ctx)
  if ctx and next(self.units) ~= nil then return self:row_store(key, ctx.mid or self.mid) end
  return self:row_store(key)
end

local function de_object_type(obj)
  local t = typename(obj)
  local key = de_key_of(t)
  if key then return "DataExtensionObject", key end
  return t
end

-- The row store a DataExtensionObject names (by the key in its type's brackets, else its
-- CustomerKey or Name), or nil and the Error result. Generated stores are read-only.
function M:writable_store(obj, bracket_key, ctx)
  local store, key
  if bracket_key then
    key = bracket_key
    store = self:row_store_by_key(key, ctx)
  else
    store, key = self:row_store_for(obj, ctx)
  end
  if store and not self:unit_has_store(store, ctx) then store = nil end
  if not store then
    return nil, result("Error", string.format("No data extension with the CustomerKey or Name '%s' "
      .. "exists", tostring(key)), {ErrorCode = M.ERR.not_found})
  end
  if store.generated then
    return nil, result("Error", "The sandbox's generated data extensions are read-only",
      {ErrorCode = M.ERR.invalid_request})
  end
  return store
end

-- The Error result of a row some of whose values its columns cannot hold: the service's
-- DataExtensionCreateResult (or UpdateResult) with its ValueErrors, one for every column
-- (docs: "one error message for every error in the process, as opposed to just the first
-- error encountered"), each with the column's Name and message and the result's ErrorCode
-- (an assumption: the docs give no code per value). StatusMessage and ErrorMessage are the
-- first column's message.
local function value_errors(result_type, message, errors)
  local list = {}
  for i, e in ipairs(errors or {}) do
    list[i] = {Name = e.Name, ErrorCode = M.ERR.row_invalid, ErrorMessage = e.ErrorMessage}
  end
  return setmetatable(result("Error", message, {ErrorCode = M.ERR.row_invalid,
    ErrorMessage = message, ValueErrors = #list > 0 and list or nil}),
    core.object_metatable(result_type))
end

-- The rowid of the stored row an Update or Delete names by its primary key (and the row as
-- sent), or nil and the Error result.
local function existing_row(store, obj)
  local row, err = row_from_properties(store, obj)
  if not row then return nil, result("Error", err, {ErrorCode = M.ERR.invalid_request}) end
  local i = find_row(store, row)
  if not i then
    return nil, result("Error", "No row with the given primary key exists", {ErrorCode = M.ERR.not_found})
  end
  return i, row
end

-- Update or Delete of the data extension row an object names by its primary key: `apply`
-- (store, rowid, row as sent) changes the stored rows.
function M:change_row(obj, bracket_key, verb, apply, ctx)
  local store, refused = self:writable_store(obj, bracket_key, ctx)
  if not store then return refused end
  local i, row = existing_row(store, obj)
  if not i then return row end
  local ok, message, errors = apply(store, i, row)
  if not ok then return value_errors("DataExtensionUpdateResult", message, errors) end
  return result("OK", verb .. " DataExtensionObject", {Object = M.echo(obj, "DataExtensionObject")})
end

-- Nil when the sandbox stores objects of type t, else the Error result the service gives. An
-- object sent without xsi:type decodes as APIObject, which has no handler either.
local function no_handler(t)
  if t and t ~= "APIObject" and M.known_type(t) and not VIRTUAL[t] then return nil end
  return result("Error", string.format("Unable to find a handler for object type: %s. Object "
    .. "types are case-sensitive, check spelling.", tostring(t)), {ErrorCode = M.ERR.no_handler})
end

-- The stored object an Update or Delete names, in the token's business unit; or nil and the
-- Error result.
function M:find_to_change(t, obj, ctx)
  local stored, _, how = self:find(t, obj, ctx.mid or self.mid)
  if stored and not self:owned(stored, {mids = {[ctx.mid or self.mid] = true}}) then
    stored, how = nil, M.named_by(obj) -- another business unit's: not found in this one
  end
  if not stored then
    return nil, result("Error", how and string.format("No %s with %s exists", t, how)
      or string.format("The %s names no object: give its ObjectID, ID, CustomerKey or SubscriberKey", t),
      {ErrorCode = M.ERR.not_found})
  end
  return stored
end

function M:create_one(obj, ctx)
  local t, bracket_key = de_object_type(obj)
  if t == "DataExtensionObject" then
    local store, refused = self:writable_store(obj, bracket_key, ctx)
    if not store then return refused end
    local row, err = row_from_properties(store, obj)
    if not row then return result("Error", err, {ErrorCode = M.ERR.invalid_request}) end
    -- one statement: the unique index refuses a stored key (INSERT OR IGNORE changes nothing)
    local id, message, why, errors = store:insert(row)
    if why == "invalid" then return value_errors("DataExtensionCreateResult", message, errors) end
    if not id then
      return result("Error", string.format("Violation of PRIMARY KEY constraint: a row with "
        .. "the same primary key already exists in '%s'", store.de.CustomerKey),
        {ErrorCode = M.ERR.duplicate_key})
    end
    return result("OK", "Created DataExtensionObject", {NewID = 0,
      Object = M.echo(obj, "DataExtensionObject")})
  end
  local refused = no_handler(t)
  if refused then return refused end
  local valid, problem = checked(t, obj)
  if not valid then return result("Error", problem, {ErrorCode = M.ERR.invalid_request}) end
  obj = valid
  if t == "TriggeredSend" then return require("performlua.sandbox.triggered").create(self, obj, ctx) end
  if t == "Subscriber" then
    -- one subscriber per SubscriberKey in All Subscribers (the EmailAddress stands for the
    -- key when none is given, as in accounts without subscriber keys)
    local skey = rawget(obj, "SubscriberKey") or rawget(obj, "EmailAddress")
    if skey == nil or skey == "" then
      return result("Error", "A Subscriber needs a SubscriberKey or an EmailAddress",
        {ErrorCode = M.ERR.invalid_request})
    end
    if rawget(obj, "SubscriberKey") == nil then rawset(obj, "SubscriberKey", skey) end
    if self:find_subscriber(skey) then
      return result("Error", "The subscriber is already on the list",
        {ErrorCode = M.ERR.subscriber_exists})
    end
  end
  local key = rawget(obj, "CustomerKey")
  if key then
    -- unique within the unit the object is created in (another unit may have the key)
    local existing = self:find(t, {CustomerKey = key}, ctx.mid or self.mid)
    if existing then
      return result("Error", string.format("A %s with the CustomerKey '%s' already exists",
        t, key), {ErrorCode = M.ERR.duplicate_key})
    end
  end
  local stored = self:insert(t, plain_copy(obj), ctx.mid)
  return result("OK", "Created " .. t, {NewID = stored.ID or 0, NewObjectID = stored.ObjectID,
    Object = M.present(t, stored)})
end

function M:update_one(obj, ctx)
  local t, bracket_key = de_object_type(obj)
  if t == "DataExtensionObject" then
    return self:change_row(obj, bracket_key, "Updated", function(store, id, row)
      return store:update(id, row)
    end, ctx)
  end
  local refused = no_handler(t)
  if refused then return refused end
  local valid, problem = checked(t, obj)
  if not valid then return result("Error", problem, {ErrorCode = M.ERR.invalid_request}) end
  obj = valid
  local stored, missing = self:find_to_change(t, obj, ctx)
  if not stored then return missing end
  for k, v in next, obj do
    if k ~= "ObjectID" and k ~= "ID" then
      if INDEX_KEYS[k] and rawget(stored, k) ~= v then self:index_changed(t) end
      rawset(stored, k, plain_copy(v, true))
    end
  end
  stored.ModifiedDate = self:now_text()
  return result("OK", "Updated " .. t, {Object = M.present(t, stored)})
end

-- ----------------------------------------------------------------------------------------------
-- SaveOptions: how Create and Update treat an object that is or is not stored (docs: SaveOption,
-- SaveAction). A SaveOption whose PropertyName is "*" sets the action for the whole object;
-- other PropertyNames name nested objects (Lists of a Subscriber, ...) and leave the object's
-- own action at Default. They apply to the types the docs name (Subscriber, List,
-- DataExtension, Send) and to data extension rows; other types always act as the method says.

local SAVE_TYPES = {DataExtensionObject = true, Subscriber = true, List = true,
  DataExtension = true, Send = true}
local SAVE_ACTIONS = {AddOnly = true, Default = true, Nothing = true, UpdateAdd = true,
  UpdateOnly = true, Delete = true}

--- The SaveAction options give the whole object ("*"), or nil.
function M.save_action(options)
  local so = type(options) == "table" and options.SaveOptions
  if type(so) ~= "table" then return nil end
  so = so.SaveOption or so
  if so.PropertyName ~= nil or so.SaveAction ~= nil then so = {so} end
  local action
  for _, o in ipairs(so) do
    if type(o) == "table" and o.PropertyName == "*" and SAVE_ACTIONS[o.SaveAction] then
      action = o.SaveAction
    end
  end
  return action
end

-- Whether the object a Create or Update names is stored (in the token's business unit); nil
-- and the Error result when its data extension cannot be written.
function M:exists(obj, ctx)
  local t, bracket_key = de_object_type(obj)
  if t == "DataExtensionObject" then
    local store, refused = self:writable_store(obj, bracket_key, ctx)
    if not store then return nil, refused end
    local row, err = row_from_properties(store, obj)
    if not row then return nil, result("Error", err, {ErrorCode = M.ERR.invalid_request}) end
    return find_row(store, row) ~= nil
  end
  if no_handler(t) then return false end
  local stored = self:find(t, obj, ctx.mid or self.mid)
  return stored ~= nil and self:owned(stored, {mids = {[ctx.mid or self.mid] = true}})
end

--- Create (`op` "create") or Update ("update") of one object under the request's Options:
--- UpdateAdd updates a stored object and creates a missing one (the upsert), UpdateOnly only
--- updates, AddOnly only creates (a stored one is refused as a duplicate), Nothing saves
--- nothing, Default (or no SaveOptions) does what the method says.
function M:save(op, obj, ctx, options)
  local t = de_object_type(obj)
  if t == "Subscriber" and rawget(obj, "SubscriberKey") == nil and rawget(obj, "ID") == nil
      and rawget(obj, "ObjectID") == nil and type(rawget(obj, "EmailAddress")) == "string" then
    -- a subscriber named by its EmailAddress alone: that is its key (as Create makes it)
    rawset(obj, "SubscriberKey", rawget(obj, "EmailAddress"))
  end
  local action = SAVE_TYPES[t] and M.save_action(options) or "Default"
  local r
  if action == "Nothing" then
    return result("OK", "Nothing saved: the SaveAction is Nothing", {Object = M.echo(obj)})
  elseif action == "Delete" then
    return result("Error", "The SaveAction Delete is reserved for future use: use Delete to "
      .. "remove objects", {ErrorCode = M.ERR.invalid_request})
  elseif action == "Default" then
    r = op == "create" and self:create_one(obj, ctx) or self:update_one(obj, ctx)
  elseif action == "AddOnly" then
    r = self:create_one(obj, ctx)
  else
    local exists, refused = self:exists(obj, ctx)
    if exists == nil then return refused end
    if exists or action == "UpdateOnly" then r = self:update_one(obj, ctx)
    else r = self:create_one(obj, ctx) end
  end
  if op == "update" then
    rawset(r, "NewID", nil) -- not fields of UpdateResult
    rawset(r, "NewObjectID", nil)
  end
  -- a row's value errors answer in the result type of the call (an Update that created, a
  -- Create that updated)
  if rawget(r, "ValueErrors") then
    setmetatable(r, core.object_metatable(op == "update" and "DataExtensionUpdateResult"
      or "DataExtensionCreateResult"))
  end
  return r
end

function M:delete_one(obj, ctx)
  local t, bracket_key = de_object_type(obj)
  if t == "DataExtensionObject" then
    return self:change_row(obj, bracket_key, "Deleted", function(store, id)
      store:delete(id)
      return true
    end, ctx)
  end
  local refused = no_handler(t)
  if refused then return refused end
  local stored, missing = self:find_to_change(t, obj, ctx)
  if not stored then return missing end
  local c = self.types[t]
  for i = #c.list, 1, -1 do
    if c.list[i] == stored then table.remove(c.list, i) break end
  end
  index_remove(c, stored)
  if t == "DataExtension" then
    local rows_key = M.rows_key(self:unit_of(stored), stored.CustomerKey)
    local store = self.rows[rows_key]
    if store then store:drop() end
    self.rows[rows_key] = nil
  end
  return result("OK", "Deleted " .. t, {Object = M.present(t, stored)})
end

return M
