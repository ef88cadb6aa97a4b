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
-- Data extension rows: for object type "DataExtensionObject[Key]" c:each and c:retrieve_all
-- give each row as a plain table {Column = "value", ...} instead of the service's Name/Value
-- property list. Values stay the strings the service sent (an empty cell is "").
local errors = require "performlua.errors"

local M = {}

local usage = errors.usage

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
  error(err, 0)
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
      page = check_page(client:retrieve(object_type, properties, filter, options), 0)
    end
    while page do
      index = index + 1
      local obj = page.Results[index]
      if obj ~= nil then
        -- drop our reference so the page can be collected as it is consumed
        page.Results[index] = false
        delivered = delivered + 1
        if as_rows then return row_of(obj) end
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
    local r = self:describe(object_type)
    if not r.ok then r:check() end
    local definition = r.Results[1]
    names = property_names(definition)
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
