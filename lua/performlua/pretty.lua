-- performlua.pretty: any Lua value as readable Lua text.
--
--   pretty(value, opts) -> string
--
-- Used by the REPL to show results and by objects' __tostring, so it must never fail and
-- never loop: cycles print as <cycle>, depth and item counts can be bounded, and a value's
-- own __tostring is called under pcall.
--
-- Layout: tables list their array part first (1..n without holes), then string keys in
-- sorted order, then other keys (numbers, booleans, the rest). Keys that are identifiers
-- print bare (`Name = "x"`), others in brackets (`["Content-Type"] = 1`, `[10] = true`).
-- Typed objects (performlua.types) print with their type name: `EmailSendDefinition{...}`.
-- Tables with a __tostring (error tables among them) print through it.
--
-- opts (all optional):
--   multiline  false (default): one line. true or "auto": tables that do not fit in `width`
--              columns are broken over indented lines; arrays of short values are packed
--              several to a line.
--   width      columns for multi-line layout (default 80)
--   indent     indentation unit (default two spaces)
--   max_depth  nesting shown before `{...}` (default 12)
--   max_items  entries shown per table before `... N more` (default: all)
--   max_string bytes of a string shown before `...(N more bytes)` (default: all)
--   redact     false to show values of keys that name secrets (default: they show as
--              <redacted>, since output ends up in terminals, logs and tickets)
local M = {}

local KEYWORDS = {}
for word in ([[and break do else elseif end false for function goto if in local nil not or
  repeat return then true until while]]):gmatch("%a+") do
  KEYWORDS[word] = true
end

-- Keys whose values are credentials. Matched case-insensitively against the whole key.
local SECRET_KEYS = {
  "secret", "password", "passwd", "^access_?token$", "^refresh_?token$", "^token$",
  "fueloauth", "authorization", "^api_?key$",
}

local function is_secret_key(k)
  if type(k) ~= "string" then return false end
  local lower = k:lower()
  for _, pattern in ipairs(SECRET_KEYS) do
    if lower:find(pattern) then return true end
  end
  return false
end

local ESCAPES = {
  ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r",
  ["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f", ["\v"] = "\\v",
}

local function escape_byte(c)
  return ESCAPES[c] or string.format("\\%03d", c:byte())
end

local function quote(s, max_string)
  local suffix = ""
  if max_string and #s > max_string then
    suffix = string.format("...(%d more bytes)", #s - max_string)
    s = s:sub(1, max_string)
    -- do not cut a UTF-8 sequence in half
    while #s > 0 and not utf8.len(s) and s:byte(-1) >= 0x80 do s = s:sub(1, -2) end
  end
  local body = s:gsub('[%c"\\]', escape_byte)
  if not utf8.len(body) then
    -- not UTF-8 text: show the high bytes as escapes rather than garbling the terminal
    body = body:gsub("[\128-\255]", function(c) return string.format("\\x%02X", c:byte()) end)
  end
  return '"' .. body .. '"' .. suffix
end

local function number_text(x)
  if math.type(x) == "integer" then return string.format("%d", x) end
  if x ~= x then return "0/0" end
  if x == math.huge then return "math.huge" end
  if x == -math.huge then return "-math.huge" end
  local s
  for precision = 14, 17 do
    s = string.format("%." .. precision .. "g", x)
    if tonumber(s) == x then break end
  end
  if not s:find("[%.eE]") then s = s .. ".0" end -- keep floats looking like floats
  return s
end

local function is_identifier(k)
  return type(k) == "string" and k:match("^[A-Za-z_][A-Za-z0-9_]*$") ~= nil and not KEYWORDS[k]
end

-- The type name of a performlua object; nil for any other value.
local typename_of = require("performlua.core").typeof

-- Values whose __tostring is running right now (an object's __tostring that calls pretty on
-- itself must get the structural rendering, not recurse).
local in_tostring = setmetatable({}, { __mode = "k" })

local function custom_text(v)
  local mt = debug.getmetatable(v)
  if not mt or mt.__tostring == nil or in_tostring[v] then return nil end
  in_tostring[v] = true
  local ok, text = pcall(tostring, v)
  in_tostring[v] = nil
  if ok and type(text) == "string" then return text end
  return nil
end

local KEY_TYPE_ORDER = { number = 1, boolean = 2 }

local function compare_other_keys(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    return (KEY_TYPE_ORDER[ta] or 3) < (KEY_TYPE_ORDER[tb] or 3)
      or ((KEY_TYPE_ORDER[ta] or 3) == (KEY_TYPE_ORDER[tb] or 3) and ta < tb)
  end
  if ta == "number" then return a < b end
  if ta == "boolean" then return (not a) and b end
  return tostring(a) < tostring(b)
end

-- The table's entries in display order: { {key, value, in_array}, ... }
local function entries_of(t)
  local values, strings, others = {}, {}, {}
  local ok = pcall(function()
    for k, v in pairs(t) do
      values[k] = v
      if type(k) == "string" then strings[#strings + 1] = k else others[#others + 1] = k end
    end
  end)
  if not ok then
    -- a broken __pairs: fall back to the raw contents
    values, strings, others = {}, {}, {}
    for k, v in next, t do
      values[k] = v
      if type(k) == "string" then strings[#strings + 1] = k else others[#others + 1] = k end
    end
  end
  local list = {}
  local n = 0
  while values[n + 1] ~= nil do
    n = n + 1
    list[n] = { n, values[n], true }
  end
  table.sort(strings)
  for _, k in ipairs(strings) do list[#list + 1] = { k, values[k], false } end
  local rest = {}
  for _, k in ipairs(others) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then rest[#rest + 1] = k end
  end
  table.sort(rest, compare_other_keys)
  for _, k in ipairs(rest) do list[#list + 1] = { k, values[k], false } end
  return list
end

local Printer = {}
Printer.__index = Printer

-- A function of performlua's API in words (performlua.help), or nil: the REPL shows
-- mc.EmailSendDefinition as what it builds, not as an address. Required here, not at the top:
-- help's own modules print values through this one.
local function api_function_text(fn)
  return require("performlua.help").function_text(fn)
end

-- Text for a value that is not laid out as a table (or nil when it is one to lay out).
function Printer:atom(v)
  local tv = type(v)
  if tv == "string" then return quote(v, self.max_string) end
  if tv == "number" then return number_text(v) end
  if tv == "nil" or tv == "boolean" then return tostring(v) end
  if tv == "table" then return nil end
  if tv == "function" then
    local text = api_function_text(v)
    if text then return text end
  end
  local text = custom_text(v)
  if text then return text end
  return "<" .. tostring(v) .. ">"
end

-- How a table opens: "{" or "TypeName{"; or nil and the text it prints as (__tostring).
function Printer:opening(t)
  local name = typename_of(t)
  if name then return name .. "{" end
  -- a table whose metatable sets __pretty_fields (call results) is laid out field by field like
  -- any table, so it nests and indents properly; its __tostring serves print()
  local mt = debug.getmetatable(t)
  if type(mt) == "table" and rawget(mt, "__pretty_fields") then return "{" end
  local text = t ~= self.own_value and custom_text(t)
  if text then return nil, text end
  return "{"
end

function Printer:key_text(k, depth)
  if is_identifier(k) then return k end
  return "[" .. self:flat(k, depth + 1, math.huge) .. "]"
end

function Printer:entry_value(key, value)
  if self.redact and is_secret_key(key) and value ~= nil and type(value) ~= "table"
    and type(value) ~= "boolean" then
    return "<redacted>"
  end
  return nil
end

-- One-line text of v, or nil when it would be longer than budget.
function Printer:flat(v, depth, budget)
  local text = self:atom(v)
  if text then
    if #text > budget then return nil end
    return text
  end
  if self.path[v] then return "<cycle>" end
  local open, own_text = self:opening(v)
  if not open then
    if #own_text > budget then return nil end
    return own_text
  end
  if depth >= self.max_depth then
    text = open .. "...}"
    if #text > budget then return nil end
    return text
  end
  local entries = entries_of(v)
  if #entries == 0 then return open .. "}" end
  self.path[v] = true
  local parts, used = {}, #open + 1
  local shown = math.min(#entries, self.max_items)
  for i = 1, shown do
    local key, value, in_array = entries[i][1], entries[i][2], entries[i][3]
    local prefix = in_array and "" or (self:key_text(key, depth) .. " = ")
    local remaining = budget - used - #prefix - 2
    local value_text = self:entry_value(key, value)
      or (remaining >= 0 and self:flat(value, depth + 1, remaining) or nil)
    if not value_text then self.path[v] = nil; return nil end
    parts[#parts + 1] = prefix .. value_text
    used = used + #prefix + #value_text + 2
    if used > budget then self.path[v] = nil; return nil end
  end
  self.path[v] = nil
  if shown < #entries then
    parts[#parts + 1] = string.format("... %d more", #entries - shown)
  end
  text = open .. table.concat(parts, ", ") .. "}"
  if #text > budget then return nil end
  return text
end

-- Multi-line text of v, starting at column `column`, its lines indented `level` units.
function Printer:layout(v, depth, level, column)
  local text = self:flat(v, depth, self.width - column)
  if text then return text end
  text = self:atom(v)
  if text then return text end -- a long string: nothing to break
  if self.path[v] then return "<cycle>" end
  local open, own_text = self:opening(v)
  if not open then return own_text end
  if depth >= self.max_depth then return open .. "...}" end
  local entries = entries_of(v)
  self.path[v] = true
  local pad = self.indent:rep(level + 1)
  local lines = {}
  local packed = nil -- the line being filled with short array items
  local shown = math.min(#entries, self.max_items)
  for i = 1, shown do
    local key, value, in_array = entries[i][1], entries[i][2], entries[i][3]
    local prefix = in_array and "" or (self:key_text(key, depth) .. " = ")
    local value_text = self:entry_value(key, value)
    if in_array and not value_text then
      value_text = self:flat(value, depth + 1, self.width - #pad - 1)
      if value_text and #value_text <= 24 then
        -- short array items share lines, so long arrays stay readable
        if packed and #packed + 1 + #value_text + 1 <= self.width then
          packed = packed .. " " .. value_text .. ","
        else
          if packed then lines[#lines + 1] = packed end
          packed = pad .. value_text .. ","
        end
        goto continue
      end
    end
    if packed then lines[#lines + 1] = packed; packed = nil end
    value_text = value_text or self:layout(value, depth + 1, level + 1, #pad + #prefix)
    lines[#lines + 1] = pad .. prefix .. value_text .. ","
    ::continue::
  end
  if packed then lines[#lines + 1] = packed end
  if shown < #entries then
    lines[#lines + 1] = pad .. string.format("... %d more", #entries - shown)
  end
  self.path[v] = nil
  return open .. "\n" .. table.concat(lines, "\n") .. "\n" .. self.indent:rep(level) .. "}"
end

local function positive_integer(value, name, default)
  if value == nil then return default end
  if type(value) ~= "number" or (math.type(value) ~= "integer" and value ~= math.huge)
    or value < 0 then
    error(string.format("pretty: option '%s' must be a non-negative integer, got %s", name,
      tostring(value)), 3)
  end
  return value
end

function M.pretty(value, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("pretty: options must be a table, got " .. type(opts), 2)
  end
  opts = opts or {}
  local printer = setmetatable({
    path = {},
    width = positive_integer(opts.width, "width", 80),
    indent = type(opts.indent) == "string" and opts.indent or "  ",
    max_depth = positive_integer(opts.max_depth, "max_depth", 12),
    max_items = positive_integer(opts.max_items, "max_items", math.huge),
    max_string = opts.max_string and positive_integer(opts.max_string, "max_string") or nil,
    redact = opts.redact ~= false,
  }, Printer)
  -- Called by the value's own __tostring (an object rendering itself): show its structure.
  local mt = debug.getmetatable(value)
  local caller = debug.getinfo(2, "f")
  if mt and caller and mt.__tostring ~= nil and rawequal(mt.__tostring, caller.func) then
    printer.own_value = value
  end
  if opts.multiline then
    return printer:layout(value, 0, 0, 0)
  end
  return printer:flat(value, 0, math.huge)
end

return M
