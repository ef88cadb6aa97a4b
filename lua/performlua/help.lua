-- performlua.help: what something is, from the schema built into the binary, the Perform page
-- (performlua.perform) and the table of public functions (performlua.api), as psql's \d does.
--
--   mc.help(x)       prints the help for x, which may be
--                      a type: "EmailSendDefinition", mc.EmailSendDefinition, an object of it
--                        -> its fields in schema order (type, required, list, enumeration
--                           values) and its Perform actions, the reserved ones marked
--                      an enumeration: "SimpleOperators" -> its values
--                      a function or method: "mc.connect", mc.connect, "c:perform", c.perform
--                        -> its signature and what it does
--                      nothing -> what there is help for, and every function and method
--   c:help(type)     the same for a type, with two columns from the account's Describe (one
--                    call per type and client): whether the service retrieves and updates each
--                    field. The WSDL cannot say that; the service can, so it needs a client.
--   help.text(x[, client])  the text mc.help prints
-- In the REPL `?x` is mc.help("x"), and `help` is mc.help.
-- Something that is none of these is a usage error naming the nearest names.
local api = require "performlua.api"
local core = require "performlua.core"
local errors = require "performlua.errors"
local naming = require "performlua.names"
local perform = require "performlua.perform"
local terminal = require "performlua.terminal"
local types = require "performlua.types"

local M = {}

-- ---------------------------------------------------------------------------------------------
-- layout

local function pad(text, width)
  return text .. string.rep(" ", width - #text)
end

-- `pieces` joined by spaces in lines that fit `width` columns, the lines after the first
-- starting with `indent` spaces (the caller places the first).
local function fill(pieces, indent, width)
  local lines, line = {}, ""
  for _, piece in ipairs(pieces) do
    if line ~= "" and indent + #line + 1 + #piece > width then
      lines[#lines + 1] = line
      line = piece
    else
      line = line == "" and piece or (line .. " " .. piece)
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n" .. string.rep(" ", indent))
end

-- `items` as a comma-separated list filling lines of `width` columns (see fill).
local function wrap(items, indent, width)
  local pieces = {}
  for i, item in ipairs(items) do pieces[i] = item .. (i < #items and "," or "") end
  return fill(pieces, indent, width)
end

-- Words of `text` in lines of at most `width` columns, each after `indent` spaces.
local function wrap_words(text, indent, width)
  local words = {}
  for word in text:gmatch("%S+") do words[#words + 1] = word end
  return string.rep(" ", indent) .. fill(words, indent, width)
end

-- A table of rows (arrays of cells) under `headings`, columns as wide as their widest cell.
-- The last column lists comma-separated items (row.items): on the row when they fit the
-- terminal's width, else on lines of their own below it.
local function table_text(headings, rows, width)
  local widths = {}
  for i, h in ipairs(headings) do widths[i] = #h end
  for _, row in ipairs(rows) do
    for i = 1, #headings - 1 do widths[i] = math.max(widths[i], #(row[i] or "")) end
  end
  local function line(cells, last_items)
    local parts, indent = {}, 2
    for i = 1, #headings - 1 do
      parts[#parts + 1] = pad(cells[i] or "", widths[i])
      indent = indent + widths[i] + 2
    end
    local text = "  " .. table.concat(parts, "  ")
    if last_items and #last_items > 0 then
      local inline = table.concat(last_items, ", ")
      if indent + #inline <= width then
        text = text .. "  " .. inline
      else
        text = text:gsub("%s+$", "") .. "\n      " .. wrap(last_items, 6, width)
      end
    elseif cells[#headings] then
      text = text .. "  " .. cells[#headings]
    end
    return (text:gsub("%s+$", ""))
  end
  local out = {line(headings)}
  for _, row in ipairs(rows) do out[#out + 1] = line(row, row.items) end
  return table.concat(out, "\n")
end

-- ---------------------------------------------------------------------------------------------
-- what there is help for

local enum_names
local function enums()
  if not enum_names then enum_names = core.schema_enums() end
  return enum_names
end

local function is_enum(name)
  return core.schema_enum(name) ~= nil
end

-- Every name help knows, for did-you-mean and the REPL's completion of `?`.
function M.topics()
  local list = {}
  for _, name in ipairs(core.schema_types()) do list[#list + 1] = name end
  for _, name in ipairs(enums()) do list[#list + 1] = name end
  for _, f in ipairs(api.functions) do list[#list + 1] = "mc." .. f.name end
  for _, m in ipairs(api.methods) do list[#list + 1] = "c:" .. m.name end
  return list
end

-- The API entry a function value is, looking only at modules already loaded (showing a value
-- must never load anything).
local function entry_of_function(fn)
  for _, f in ipairs(api.functions) do
    local module = package.loaded[f.owner]
    local path = f.name:match("^[%w_]+%.(.+)$") or f.name
    if type(module) == "table" and rawget(module, path) == fn then return "function", f end
  end
  local client = package.loaded["performlua.client"]
  if type(client) == "table" and client.Client then
    for _, m in ipairs(api.methods) do
      if rawget(client.Client, m.name) == fn then return "method", m end
    end
  end
  return nil
end
M.entry_of_function = entry_of_function

local function is_client(v)
  local client = package.loaded["performlua.client"]
  return type(v) == "table" and type(client) == "table" and getmetatable(v) == client.Client
end

-- What `x` names: "overview" | "type", name | "enum", name | "function", entry |
-- "method", entry; raises a usage error for anything else.
local function resolve(x)
  if x == nil or x == "" or x == "?" then return "overview" end
  local tx = type(x)
  if tx == "function" then
    local name = types.constructor_name(x)
    if name then return "type", name end
    local kind, entry = entry_of_function(x)
    if kind then return kind, entry end
    errors.usage("mc.help: this function is not one of performlua's (mc.help() lists them)")
  elseif tx == "table" then
    if x == package.loaded["performlua"] or is_client(x) then return "overview" end
    local name = types.typeof(x)
    if name then return "type", name end
    errors.usage("mc.help(x): x is a plain table; give a type name such as "
      .. "\"EmailSendDefinition\", a constructor, an object, a function or a method name")
  elseif tx ~= "string" then
    errors.usage("mc.help(x): x must be a name, a constructor, an object or a function, got " .. tx)
  end
  local name = x:match("^%s*%??%s*(.-)%s*$")
  if name == "" then return "overview" end
  local bare = name:match("^mc%.(.+)$") or name
  if core.schema_type(bare) then return "type", bare end
  if is_enum(bare) then return "enum", bare end
  local f = api.function_entry(name)
  if f then return "function", f end
  local m = api.method_entry(name)
  if m then return "method", m end
  -- a difference of case alone: the one meant, when it is one
  local lower = bare:lower()
  for _, t in ipairs(M.topics()) do
    if t:lower() == lower then return resolve(t) end
  end
  errors.usage(string.format("mc.help: no type, enumeration, function or method is named "
    .. "'%s'%s; mc.help() says what there is", name, naming.did_you_mean(name, M.topics())))
end

-- ---------------------------------------------------------------------------------------------
-- the texts

local function type_of_field(f)
  local list = f.item ~= nil or f.max ~= 1
  local name = f.kind == "enum" and f.type or f.kind == "complex" and f.type
    or f.kind == "any" and "any" or f.type
  return name, list
end

local function ancestry(t)
  local chain = {}
  local base = t.base
  while base do
    chain[#chain + 1] = base
    local bt = core.schema_type(base)
    base = bt and bt.base
  end
  return chain
end

local function perform_lines(type_name)
  local o = perform.lookup(type_name)
  if not o then
    local t = core.schema_type(type_name)
    if t and t.apiobject then
      return {"Perform: no actions known for " .. type_name .. " (c:perform sends any as given; "
        .. "the service decides)"}
    end
    return {}
  end
  local lines = {"Perform actions: " .. table.concat(o.actions, ", ")}
  if #o.reserved > 0 then
    lines[#lines + 1] = "  reserved for future use (refused unless allow_reserved = true): "
      .. table.concat(o.reserved, ", ")
  end
  if o.requires_id then
    lines[#lines + 1] = "  each definition needs its ID (without one the service ignores the action)"
  end
  if not o.on_page then
    lines[#lines + 1] = "  (not on the Perform page: performable all the same; the service decides)"
  end
  return lines
end

-- Describe's view of a type's properties, by name, or nil and why not.
local function described(client, type_name)
  local retrieve = require "performlua.retrieve"
  local ok, definition = pcall(retrieve.definition, client, type_name)
  if not ok then
    return nil, "Describe failed: " .. tostring(errors.is_error(definition)
      and definition.message or definition)
  end
  local by_name = {}
  local props = type(definition) == "table" and rawget(definition, "Properties") or nil
  for _, p in ipairs(type(props) == "table" and props or {}) do
    if type(p) == "table" and type(p.Name) == "string" then by_name[p.Name] = p end
  end
  return by_name
end

local function yes_no(v)
  if v == true or v == "true" then return "yes" end
  if v == false or v == "false" then return "no" end
  return ""
end

local function type_text(type_name, client, width)
  local t = core.schema_type(type_name)
  local fields = {}
  for _, f in ipairs(t.fields) do
    if f.name ~= "##any" then fields[#fields + 1] = f end
  end
  local chain = ancestry(t)
  local out = {string.format("%s: %d field%s%s%s", type_name, #fields, #fields == 1 and "" or "s",
    #chain > 0 and (", derives from " .. table.concat(chain, " > ")) or "",
    t.supplement and " (not in the WSDL: from the Perform page)" or "")}
  local describe_by_name, why_not
  if client then describe_by_name, why_not = described(client, type_name) end
  local headings = {"field", "type", "required", "list"}
  if describe_by_name then
    headings[#headings + 1] = "retrieve"
    headings[#headings + 1] = "update"
  end
  headings[#headings + 1] = "values"
  local rows = {}
  for _, f in ipairs(fields) do
    local name, list = type_of_field(f)
    local row = {f.name, name, f.min > 0 and "yes" or "", list and "yes" or ""}
    if describe_by_name then
      local p = describe_by_name[f.name]
      row[#row + 1] = p and yes_no(p.IsRetrievable) or ""
      row[#row + 1] = p and yes_no(p.IsUpdatable) or ""
    end
    row.items = f.values
    rows[#rows + 1] = row
  end
  out[#out + 1] = table_text(headings, rows, width)
  if describe_by_name then
    local extra = {}
    for name in pairs(describe_by_name) do
      local declared = false
      for _, f in ipairs(fields) do if f.name == name then declared = true break end end
      if not declared then extra[#extra + 1] = name end
    end
    table.sort(extra)
    out[#out + 1] = "retrieve, update: what this account's Describe says (blank: it does not "
      .. "list the field)"
    if #extra > 0 then
      out[#out + 1] = "Describe also lists (not in the WSDL): " .. wrap(extra, 39, width)
    end
  elseif why_not then
    out[#out + 1] = "(" .. why_not .. ")"
  elseif t.apiobject then
    out[#out + 1] = wrap_words(string.format("Which fields the service retrieves and updates: "
      .. "c:help(\"%s\") asks the account (Describe).", type_name), 0, width)
  end
  for _, line in ipairs(perform_lines(type_name)) do out[#out + 1] = line end
  if types.constructor(type_name) then
    out[#out + 1] = string.format("Build one with mc.%s{...}; fields left out are not sent.",
      type_name)
  end
  return table.concat(out, "\n")
end

local function enum_text(name, width)
  local values = core.schema_enum(name)
  return string.format("%s: an enumeration of %d values\n  %s", name, #values,
    wrap(values, 2, width))
end

local function entry_text(entry, width)
  return entry.signature .. "\n" .. wrap_words(entry.purpose, 2, width)
end

local function overview_text(width)
  local out = {
    "Help for: a type (mc.help(\"EmailSendDefinition\"), or ?EmailSendDefinition in the REPL):",
    "its fields and Perform actions; c:help(\"Type\") adds what the account's Describe says.",
    "An enumeration (?SimpleOperators): its values. A function (?mc.connect) or a method",
    "(?c:perform): what it does. mc.types() lists the types.",
    "",
    "Functions:",
  }
  local function rows(list)
    for _, e in ipairs(list) do
      out[#out + 1] = "  " .. e.signature
      out[#out + 1] = wrap_words(e.purpose, 6, width)
    end
  end
  rows(api.functions)
  rows({{signature = "mc.<Type>{fields} -> object",
    purpose = "an object of an API type, its fields checked against the schema"}})
  out[#out + 1] = ""
  out[#out + 1] = "Client methods (c = mc.connect()):"
  rows(api.methods)
  return table.concat(out, "\n")
end

--- How the REPL shows a function of the API instead of its address: a constructor as
--- `mc.EmailSendDefinition{...}: 57 fields, see mc.help("EmailSendDefinition")`, a function or
--- method as its signature. nil for any other function.
function M.function_text(fn)
  local name = types.constructor_name(fn)
  if name then
    local count = 0
    for _, f in ipairs(core.schema_type(name).fields) do
      if f.name ~= "##any" then count = count + 1 end
    end
    return string.format("mc.%s{...}: %d fields, see mc.help(\"%s\")", name, count, name)
  end
  local kind, entry = entry_of_function(fn)
  if not kind then return nil end
  local topic = (kind == "method" and "c:" or "mc.") .. entry.name
  return string.format("%s: see mc.help(\"%s\")", entry.signature, topic)
end

--- The help text for x (see the top of this file); `client` adds Describe's columns to a type.
function M.text(x, client)
  local width = terminal.columns("stdout")
  local kind, what = resolve(x)
  if kind == "type" then return type_text(what, client, width) end
  if kind == "enum" then return enum_text(what, width) end
  if kind == "function" or kind == "method" then return entry_text(what, width) end
  return overview_text(width)
end

--- mc.help(x): prints the help for x.
function M.help(x)
  io.stdout:write(M.text(x), "\n")
  io.stdout:flush()
end

--- c:help(type): mc.help(type) with the account's Describe.
function M.client_help(client, x)
  if x == nil then return M.help(client) end
  io.stdout:write(M.text(x, client), "\n")
  io.stdout:flush()
end

return M
