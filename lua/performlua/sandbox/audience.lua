-- performlua.sandbox.audience: who a send reaches, computed from the account's data.
--
-- The model (docs: SendDefinitionList, AudienceItem, DataExtension, Subscriber, List;
-- runtime/sandbox/README.md states it and its assumptions):
--   * All Subscribers: Subscriber objects, one per SubscriberKey, with a Status (Active,
--     Unsubscribed, Held, Bounced, Deleted).
--   * Lists: a subscriber is a member of List n when its Lists hold an entry whose ID (or
--     List.ID) is n; the entry's Status (Active or Unsubscribed) is the membership's.
--   * Sendable data extensions: each row is a subscriber, named by the data extension's
--     SendableDataExtensionField (else its SubscriberKey column, else its EmailAddress column).
--   * AudienceDefinition (Audience Builder; no WSDL type describes its contents): a source data
--     extension (`_source`) and a filter (`_filter`, a FilterPart) in the sandbox's own fields.
--     count = the source rows the filter keeps, totalcount = all source rows; build publishes
--     the rows it keeps into the sendable data extension whose CustomerKey is the audience's.
--   * EmailSendDefinition.SendDefinitionList: each entry a List (by ID, ObjectID or
--     CustomerKey) or a data extension (CustomObjectID = its ObjectID, or its CustomerKey;
--     DataSourceTypeID CustomObject), optionally filtered by FilterDefinition.DataFilter;
--     SendDefinitionListType SourceList (default) adds people, ExclusionList / OptOutList /
--     DomainExclusion leave them out. The members are the distinct people of the sources;
--     GetMaxCount is their number; a send targets the members who are not excluded (on an
--     exclusion list, Unsubscribed or Held or Deleted in All Subscribers, unsubscribed from
--     the list they come from); Bounced subscribers are sent to but not delivered.
local account = require "performlua.sandbox.account"
local filter = require "performlua.sandbox.filter"
local filter_sql = require "performlua.sandbox.filter_sql"

local M = {}

local EXCLUDED_STATUS = {Unsubscribed = true, Held = true, Deleted = true}
M.EXCLUDED_STATUS = EXCLUDED_STATUS
local EXCLUSION_TYPES = {ExclusionList = true, OptOutList = true, DomainExclusion = true}

local function by_lower(store)
  local map = {}
  for _, c in ipairs(store.columns) do map[c:lower()] = c end
  return map
end

--- The column naming each row's subscriber in a data extension, and the column map.
function M.key_column(store)
  local cols = by_lower(store)
  local sf = store.de.SendableDataExtensionField
  local named = type(sf) == "table" and type(sf.Name) == "string" and cols[sf.Name:lower()]
  return named or cols.subscriberkey or cols.emailaddress, cols
end

local function each_row(store, fn) store:each(fn) end

local function row_count(store) return store:count() end

--- Calls fn(row) for each row of `store` that `flt` keeps (every row without a filter) and
--- returns how many there were. A filter naming a column the data extension lacks raises
--- {filter_error = message}.
function M.matching_rows(store, flt, fn)
  local cols = by_lower(store)
  if flt then filter.check(flt, function(p) return cols[p:lower()] ~= nil end) end
  local function keeps(row)
    return filter.matches(flt, function(p) return row[cols[p:lower()]] end)
  end
  local n = 0
  if flt and not store.generated then
    -- SQL narrows (or, when the filter translates exactly, decides), filter.lua has the last word
    local where, params, exact = filter_sql.translate(flt, cols, store.pk, store.kinds)
    if exact and not fn then return store:count_where(where, params) end
    for _, row in store:scan(0, where, params) do
      if exact or keeps(row) then
        n = n + 1
        if fn then fn(row) end
      end
    end
    return n
  end
  each_row(store, function(row)
    if not flt or keeps(row) then
      n = n + 1
      if fn then fn(row) end
    end
  end)
  return n
end

-- ----------------------------------------------------------------------------------------------
-- AudienceDefinition

-- The source data extension of an audience, or nil (an audience seeded with counts only).
local function source_of(acct, aud)
  local key = rawget(aud, "_source")
  return key and acct:row_store(key, acct:unit_of(aud)) or nil, key
end

--- count (or totalcount with `total`) of an audience: its source's rows (that the filter
--- keeps). Returns the number, or nil and a message.
function M.audience_count(acct, aud, total)
  local store, key = source_of(acct, aud)
  if not store then
    if key then
      return nil, string.format("The audience's source data extension '%s' no longer exists", key)
    end
    if total then return rawget(aud, "_total") or rawget(aud, "_count") or 0 end
    return rawget(aud, "_count") or 0
  end
  if total then return row_count(store) end
  local ok, n = pcall(M.matching_rows, store, rawget(aud, "_filter"))
  if not ok then return nil, type(n) == "table" and n.filter_error or tostring(n) end
  return n
end

--- The data extension an audience publishes into (its CustomerKey is the audience's), made
--- when missing with the source's columns, sendable on the source's subscriber column.
function M.publish_store(acct, aud)
  local key = aud.CustomerKey
  local store = acct:row_store(key, acct:unit_of(aud))
  if store then return store end
  local source = source_of(acct, aud)
  local fields, key_col = {}, "SubscriberKey"
  if source then
    key_col = M.key_column(source)
    for i, f in ipairs(source.de.Fields or {}) do
      fields[i] = {Name = f.Name, FieldType = f.FieldType, MaxLength = f.MaxLength,
        IsPrimaryKey = f.IsPrimaryKey, IsRequired = f.IsRequired}
    end
  else
    fields = {{Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true,
      IsRequired = true}, {Name = "EmailAddress", FieldType = "EmailAddress", MaxLength = 254}}
  end
  local de = acct:insert("DataExtension", {CustomerKey = key, Name = aud.Name or key,
    Description = "Published by the audience " .. tostring(aud.Name or key), IsSendable = true,
    SendableDataExtensionField = key_col and {Name = key_col} or nil, Fields = fields},
    rawget(aud, "_mid"))
  return acct:row_store(de.CustomerKey, acct:unit_of(de))
end

--- build: the published data extension holds exactly the rows the audience keeps now.
--- Returns the number of rows, or nil and a message.
function M.build(acct, aud)
  local store = M.publish_store(acct, aud)
  local source = source_of(acct, aud)
  local rows = {}
  if source then
    local ok, err = pcall(M.matching_rows, source, rawget(aud, "_filter"), function(row)
      local copy = {}
      for k, v in pairs(row) do copy[k] = v end
      rows[#rows + 1] = copy
    end)
    if not ok then return nil, type(err) == "table" and err.filter_error or tostring(err) end
  end
  account.clear_rows(store)
  for _, row in ipairs(rows) do account.add_row(store, row) end
  return #rows
end

-- ----------------------------------------------------------------------------------------------
-- EmailSendDefinition

local function list_of(v)
  if type(v) ~= "table" then return {} end
  if #v == 0 and next(v) ~= nil then return {v} end
  return v
end

-- A data extension a SendDefinitionList names (by ObjectID, or the sandbox's CustomerKey), in
-- the unit of the definition that names it: its own, or one shared with it.
local function find_de(acct, id, mid)
  local scope = mid and next(acct.units) ~= nil and {mids = {[mid] = true}} or nil
  for _, de in ipairs(acct:collection("DataExtension").list) do
    if de.ObjectID == id and (not scope or acct:visible("DataExtension", de, scope)) then
      return acct:row_store(de.CustomerKey, acct:unit_of(de))
    end
  end
  return acct:row_store(id, mid)
end

-- Adds the people one SendDefinitionList entry names to `into` (key -> membership status).
local function add_people(acct, sdl, into, mid)
  local list_ref = rawget(sdl, "List")
  local de_id = rawget(sdl, "CustomObjectID")
  if type(list_ref) == "table" and (list_ref.ID or list_ref.ObjectID or list_ref.CustomerKey) then
    local list = acct:find("List", list_ref, mid)
    if not list then
      return nil, string.format("The SendDefinitionList names the List %s, which does not exist",
        tostring(list_ref.ID or list_ref.ObjectID or list_ref.CustomerKey))
    end
    for _, sub in ipairs(acct:collection("Subscriber").list) do
      for _, l in ipairs(list_of(sub.Lists)) do
        local id = type(l) == "table" and (l.ID or (type(l.List) == "table" and l.List.ID))
        if id ~= nil and tostring(id) == tostring(list.ID) then
          into[sub.SubscriberKey] = l.Status or "Active"
        end
      end
    end
    return true
  end
  if de_id ~= nil and de_id ~= "" then
    local store = find_de(acct, de_id, mid)
    if not store then
      return nil, string.format("The SendDefinitionList names the data extension '%s' "
        .. "(CustomObjectID), which does not exist", tostring(de_id))
    end
    local key_col = M.key_column(store)
    if not key_col then
      return nil, string.format("The data extension '%s' is not sendable: it has no "
        .. "SubscriberKey or EmailAddress column", tostring(store.de.CustomerKey))
    end
    local fd = rawget(sdl, "FilterDefinition")
    local flt = type(fd) == "table" and fd.DataFilter or nil
    local ok, err = pcall(M.matching_rows, store, flt, function(row)
      local k = row[key_col]
      if k ~= nil and k ~= "" then into[tostring(k)] = into[tostring(k)] or "Active" end
    end)
    if not ok then return nil, type(err) == "table" and err.filter_error or tostring(err) end
    return true
  end
  return nil, "A SendDefinitionList entry names no List (List.ID) and no data extension "
    .. "(CustomObjectID)"
end

--- Who a send of `esd` reaches: {members=, targeted=, excluded=, bounced=, recipients = the
--- targeted people's SubscriberKeys in order, bounced_keys = {key = true}}, or nil and a
--- message. Definitions without a SendDefinitionList reach nobody (a seed's `_targets` = n
--- stands for n active people).
function M.of_definition(acct, esd)
  local sdls = list_of(rawget(esd, "SendDefinitionList"))
  if #sdls == 0 then
    local n = rawget(esd, "_targets") or 0
    return {members = n, targeted = n, excluded = 0, bounced = 0}
  end
  local sources, exclusions = {}, {}
  for _, sdl in ipairs(sdls) do
    local kind = rawget(sdl, "SendDefinitionListType") or "SourceList"
    local ok, err = add_people(acct, sdl, EXCLUSION_TYPES[kind] and exclusions or sources,
      acct:unit_of(esd))
    if not ok then return nil, err end
  end
  local status = {}
  for _, sub in ipairs(acct:collection("Subscriber").list) do
    if sub.SubscriberKey ~= nil then status[sub.SubscriberKey] = sub.Status end
  end
  local out = {members = 0, targeted = 0, excluded = 0, bounced = 0, recipients = {},
    bounced_keys = {}}
  for key, membership in pairs(sources) do
    out.members = out.members + 1
    local s = status[key]
    if exclusions[key] or EXCLUDED_STATUS[s] or membership == "Unsubscribed" then
      out.excluded = out.excluded + 1
    else
      out.targeted = out.targeted + 1
      out.recipients[#out.recipients + 1] = key
      if s == "Bounced" then
        out.bounced = out.bounced + 1
        out.bounced_keys[key] = true
      end
    end
  end
  -- in key order: the tracking events a send leaves come out the same on every run
  table.sort(out.recipients)
  return out
end

return M
