-- performlua.retrieve: streamed retrieves and default property lists.
--
--   for obj in c:each(object_type, properties, filter, options) do ... end
--       Every object of a retrieve, page after page (ContinueRequest with the previous page's
--       RequestID), holding one page at a time: a page is dropped as soon as its last object
--       has been handed out, so memory stays about one page however many rows there are.
--       RetrieveOptions.BatchSize (options.BatchSize) sets the page size (the service's is
--       2,500 and cannot be raised). A page the service answers with an error raises (kind
--       "fault", with .result = the page), naming how many objects came before it.
--   c:retrieve_all(object_type, properties, filter, options) -> array of every object
--       The same, collected (for results that fit in memory).
--   c:default_properties(object_type) -> array of property names
--       What c:retrieve asks for when `properties` is nil: the retrievable properties that
--       Describe lists for the type, cached per type and client (one Describe per type).
--       For DataExtensionObject[Key]: the data extension's columns (DataExtensionField where
--       DataExtension.CustomerKey = Key), in column order.
--
-- Checks before sending (check_request, called by c:retrieve): a misspelt object type or
-- property is refused at the caller's line with the names meant, instead of coming back as
-- "Unable to find a handler" or a property error from the service. What is known decides:
--   * a data extension's columns, once this client has read them (c:default_properties, or a
--     c:each without a property list): every property must be one of them (any case);
--   * Describe's word on a type, once this client has asked (c:default_properties, c:help):
--     every property must be one Describe lists as retrievable;
--   * otherwise the schema (the WSDL and its supplement): an object type or a property (each
--     part of a dotted one, "Client.ID") that is not declared but is close to one that is
--     ("Sends", "Stauts", "status") is refused. One that resembles nothing declared is sent as
--     given: the service knows types and properties the WSDL does not (reference/soap-api.md
--     §8), and only it can refuse them.
--
-- Data extension rows: for object type "DataExtensionObject[Key]" c:each and c:retrieve_all
-- give each row as a plain table {Column = "value", ...} instead of the service's Name/Value
-- property list. Values stay the strings the service sent (an empty cell is "").
local core = require "performlua.core"
local errors = require "performlua.errors"
local naming = require "performlua.names"
local trace = require "performlua.trace"

local M = {}

local usage = errors.usage

--- Types the service retrieves that no schema declares (Retrieve-only virtual types,
--- reference/soap-api.md §6); their properties are not checked.
M.UNDECLARED_TYPES = {"AsyncActivityStatus"}
local undeclared = {}
for _, t in ipairs(M.UNDECLARED_TYPES) do undeclared[t] = true end

--- The key of "DataExtensionObject[Key]", or nil for other object types.
local function data_extension_key(object_type)
  if type(object_type) ~= "string" then return nil end
  return object_type:match("^DataExtensionObject%[(.+)%]$")
end
M.data_extension_key = data_extension_key

--- A DataExtensionObject's Name/Value properties as a plain {Name = Value} table.
local function row_of(obj)
  local row = {}
  local props = type(obj) == "table" and rawget(obj, "Properties") or nil
  if type(props) == "table" then
    if props[1] == nil and type(rawget(props, "Property")) == "table" then
      props = rawget(props, "Property")
    end
    for _, p in ipairs(props) do
      if type(p) == "table" and p.Name ~= nil then
        local v = p.Value
        if v == nil then v = "" end
        row[p.Name] = v
      end
    end
  end
  return row
end
M.row_of = row_of

local function check_page(page, delivered)
  if page.ok then return page end
  local ok, err = pcall(page.check, page)
  if not ok and type(err) == "table" and delivered > 0 then
    err.message = string.format("%s (after %d objects had been delivered)", tostring(err.message),
      delivered)
  end
  error(trace.redact_fields(err), 0)
end

local function property_names(definition)
  local names = {}
  local props = type(definition) == "table" and rawget(definition, "Properties") or nil
  if type(props) ~= "table" then return names end
  for _, p in ipairs(props) do
    if type(p) == "table" and type(p.Name) == "string" and p.Name ~= ""
        and (p.IsRetrievable == true or p.IsRetrievable == "true") then
      names[#names + 1] = p.Name
    end
  end
  return names
end

--- c:each(object_type, properties, filter, options): an iterator over every object.
function M.each(self, object_type, properties, filter, options)
  local as_rows = data_extension_key(object_type) ~= nil
  local page = nil       -- the page being handed out (the only one referenced)
  local index = 0
  local delivered = 0
  local started = false
  local client = self
  return function()
    if not started then
      started = true
      page = check_page(client:retrieve(object_type, properties, filter, options, as_rows), 0)
    end
    while page do
      index = index + 1
      local obj = page.Results[index]
      if obj ~= nil then
        -- drop our reference so the page can be collected as it is consumed
        page.Results[index] = false
        delivered = delivered + 1
        -- the decoder makes the rows (one plain table each); an answer it would not read
        -- as rows exactly as row_of does (odd shapes: see decode.c) comes as objects, which
        -- always have a metatable, and is converted here
        if as_rows and getmetatable(obj) ~= nil then return row_of(obj) end
        return obj
      end
      if not page.more then
        page = nil
        return nil
      end
      -- the next page replaces this one: from here on only the request is kept
      local previous = page
      page, index = nil, 0
      page = check_page(client:continue(previous), delivered)
    end
    return nil
  end
end

--- c:retrieve_all(...): every object in one array.
function M.retrieve_all(self, object_type, properties, filter, options)
  local all = {}
  for obj in self:each(object_type, properties, filter, options) do all[#all + 1] = obj end
  return all
end

-- A per-client cache (a table in the client, created on first use).
local function client_cache(c, name)
  local cache = rawget(c, name)
  if cache == nil then
    cache = {}
    rawset(c, name, cache)
  end
  return cache
end

--- The service's definition of a type (Describe's ObjectDefinition), asked once per client and
--- type; raises when Describe fails.
function M.definition(self, object_type)
  local cache = client_cache(self, "_definitions")
  if cache[object_type] == nil then
    local r = self:describe(object_type)
    if not r.ok then r:check() end
    cache[object_type] = r.Results[1] or false
  end
  return cache[object_type] or nil
end

--- The definition Describe gave this client for a type, if it has asked already; nil if not.
function M.known_definition(self, object_type)
  local cache = rawget(self, "_definitions")
  return cache and cache[object_type] or nil
end

--- Every APIObject type a retrieve may name: the schema's and the undeclared ones, sorted.
local retrievable_types
function M.retrievable_types()
  if not retrievable_types then
    retrievable_types = {}
    for _, name in ipairs(core.schema_types()) do
      local t = core.schema_type(name)
      if t.apiobject and not t.anonymous then retrievable_types[#retrievable_types + 1] = name end
    end
    for _, name in ipairs(M.UNDECLARED_TYPES) do retrievable_types[#retrievable_types + 1] = name end
    table.sort(retrievable_types)
  end
  return retrievable_types
end

-- The field names of a schema type, or nil for a type the schema does not declare.
local function field_names(type_name)
  local t = core.schema_type(type_name)
  if not t then return nil end
  local list = {}
  for _, f in ipairs(t.fields) do
    if f.name ~= "##any" then list[#list + 1] = f.name end
  end
  return list, t
end

-- A property path ("Client.ID") against the schema from `type_name` on: nil when it may be
-- right, else the hint naming the paths it should have been (" (did you mean 'Client.ID'?)").
local function misspelt_path(type_name, path, prefix)
  local candidates, t = field_names(type_name)
  local first, rest = path:match("^([^%.]+)%.?(.*)$")
  if not candidates or not first then return nil end
  for _, f in ipairs(t.fields) do
    if f.name == first then
      if rest ~= "" and f.kind == "complex" then
        return misspelt_path(f.type, rest, prefix .. first .. ".")
      end
      return nil
    end
  end
  for i, name in ipairs(candidates) do candidates[i] = prefix .. name end
  local hint = naming.did_you_mean(prefix .. first, candidates)
  if hint == "" then return nil end -- nothing like it: maybe one the WSDL leaves out
  return hint
end

-- Whether schema type `t` is `ancestor` or derives from it.
local function derives_from(t, ancestor)
  while t do
    if t.name == ancestor then return true end
    t = t.base and core.schema_type(t.base)
  end
  return false
end

--- Checks c:retrieve's object type and property names before sending (see the top of this
--- file); raises a usage error at the caller's line.
function M.check_request(self, object_type, properties)
  local de_key = data_extension_key(object_type)
  if de_key then
    local columns = properties and rawget(self, "_default_properties")
    columns = columns and columns[object_type]
    if not columns then return end -- not read yet: the service judges
    local by_lower = {}
    for _, name in ipairs(columns) do by_lower[name:lower()] = true end
    for _, p in ipairs(properties) do
      if type(p) == "string" and not by_lower[p:lower()] then
        usage(string.format("c:retrieve: data extension '%s' has no column '%s'%s; its "
          .. "columns: %s", de_key, p, naming.did_you_mean(p, columns), table.concat(columns, ", ")))
      end
    end
    return
  end
  if undeclared[object_type] then return end
  local t = core.schema_type(object_type)
  if not t or not t.apiobject then
    if object_type == "DataExtensionObject" then return end -- the service explains that one
    local hint = naming.did_you_mean(object_type, M.retrievable_types())
    if t then
      usage(string.format("c:retrieve: %s is not an object type a retrieve can read (it is no "
        .. "APIObject)%s", object_type, hint))
    end
    if hint ~= "" then
      usage(string.format("c:retrieve: there is no object type '%s'%s; object types are "
        .. "case-sensitive (mc.types() lists them)", object_type, hint))
    end
    return -- nothing like it: perhaps a type the WSDL leaves out
  end
  -- a property bag's properties are its own (a data extension's columns): no schema lists them
  if not properties or derives_from(t, "ObjectExtension") then return end
  local definition = M.known_definition(self, object_type)
  if definition then
    local retrievable = property_names(definition)
    local known = {}
    for _, name in ipairs(retrievable) do known[name] = true end
    for _, p in ipairs(properties) do
      if type(p) == "string" and not known[p] and not known[p:match("^[^%.]+")] then
        usage(string.format("c:retrieve: Describe lists no retrievable property '%s' for %s%s",
          p, object_type, naming.did_you_mean(p, retrievable)))
      end
    end
    return
  end
  for _, p in ipairs(properties) do
    local hint = type(p) == "string" and misspelt_path(object_type, p, "")
    if hint then usage(string.format("c:retrieve: %s has no property '%s'%s", object_type, p, hint)) end
  end
end

--- c:default_properties(object_type): retrievable property names (cached per client).
function M.default_properties(self, object_type)
  if type(object_type) ~= "string" or object_type == "" then
    usage("c:default_properties(object_type): object_type must be a type name such as "
      .. "\"Subscriber\"")
  end
  local cache = rawget(self, "_default_properties")
  if cache == nil then
    cache = {}
    rawset(self, "_default_properties", cache)
  end
  if cache[object_type] then return cache[object_type] end
  local names
  local de_key = data_extension_key(object_type)
  if de_key then
    names = {}
    local fields = {}
    local r = self:retrieve("DataExtensionField", {"Name", "Ordinal"},
      {Property = "DataExtension.CustomerKey", SimpleOperator = "equals", Value = de_key})
    check_page(r, 0)
    -- a data extension has at most a few thousand columns: follow pages all the same
    while r do
      for _, f in ipairs(r.Results) do fields[#fields + 1] = f end
      r = r.more and check_page(self:continue(r), #fields) or nil
    end
    table.sort(fields, function(a, b)
      local oa, ob = tonumber(a.Ordinal) or math.huge, tonumber(b.Ordinal) or math.huge
      if oa ~= ob then return oa < ob end
      return tostring(a.Name) < tostring(b.Name)
    end)
    for _, f in ipairs(fields) do
      if type(f.Name) == "string" and f.Name ~= "" then names[#names + 1] = f.Name end
    end
    if #names == 0 then
      usage(string.format("c:retrieve: data extension '%s' has no columns the account lists "
        .. "(is the key right?); pass the column names as properties, e.g. "
        .. "c:each(\"%s\", {\"SubscriberKey\", \"EmailAddress\"})", de_key, object_type))
    end
  else
    names = property_names(M.definition(self, object_type))
    if #names == 0 then
      usage(string.format("c:retrieve: Describe lists no retrievable properties for '%s' (object "
        .. "types are case-sensitive: check the spelling); pass a property list such as "
        .. "{\"ID\", \"Name\"}", object_type))
    end
  end
  cache[object_type] = names
  return names
end

return M
