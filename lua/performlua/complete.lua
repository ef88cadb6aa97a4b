-- performlua.complete: the REPL's Tab completion, which knows where the cursor is.
--
--   complete.candidates(word, before, after) -> sorted full candidates for `word`
--     word    what libedit completes: the text before the cursor back to a word break (space,
--             quote, brace, parenthesis, comma, `=`, ...; "." and ":" stay inside the word)
--     before  the whole input before the cursor, earlier lines of a statement included
--     after   the rest of the line after the cursor
--
-- Where the cursor is decides what is offered:
--   mc.EmailSendDefinition{Cust|          the type's fields (nested tables too: a field's
--                                         type, a list's item type)
--   SenderProfile = mc.Se|                the types that fit the field (the type and its subtypes)
--   SimpleOperator = "eq|                 the enumeration's values, inside the string
--   c:perform("st|                        Perform actions (of the type after the cursor when
--                                         there is one, else of every type)
--   c:retrieve("Sub|                      the object types a retrieve reads
--   c:retrieve("Subscriber", {"Em|        the type's properties: what the client's Describe
--                                         said, or a data extension's columns, once known;
--                                         else the schema's fields
--   c:|                                   the client's public methods (performlua.api)
--   ?Emai|                                what mc.help knows: types, enumerations, functions
--   anything else                         Lua names: globals, fields of tables, keywords
-- It only reads values by name (never calls a function), so completing cannot change anything.
local api = require "performlua.api"
local core = require "performlua.core"

local M = {}

local KEYWORDS = { "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until",
  "while" }

-- ---------------------------------------------------------------------------------------------
-- reading the code before the cursor

-- The bracket levels open at the end of `code`, innermost last, and the string the cursor is
-- in (its opening quote's position) or nil. Each level: {char = "{" | "(" | "[", at = position,
-- key = the field name assigned at this level (`Name =`), args = commas seen at this level,
-- first_string = the text of the level's first argument when it is a string literal}.
-- Comments and strings are skipped; long strings and comments too.
local function scan(code)
  local levels = {}
  local i, n = 1, #code
  local in_string
  while i <= n do
    local c = code:sub(i, i)
    if c == "-" and code:sub(i, i + 1) == "--" then
      local long = code:match("^%-%-%[(=*)%[", i)
      if long then
        local close = code:find("]" .. long .. "]", i, true)
        if not close then return levels, nil end
        i = close + #long + 2
      else
        local eol = code:find("\n", i, true)
        if not eol then return levels, nil end
        i = eol + 1
      end
    elseif c == "[" and code:match("^%[=*%[", i) then
      local eq = code:match("^%[(=*)%[", i)
      local close = code:find("]" .. eq .. "]", i, true)
      if not close then return levels, nil end -- inside a long string: nothing to offer
      i = close + #eq + 2
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = code:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c then break
        else j = j + 1 end
      end
      if j > n then
        in_string = i
        break
      end
      local top = levels[#levels]
      if top and top.args == 0 and top.first_string == nil and top.char == "(" then
        top.first_string = code:sub(i + 1, j - 1)
      end
      i = j + 1
    elseif c == "{" or c == "(" or c == "[" then
      levels[#levels + 1] = {char = c, at = i, args = 0}
      i = i + 1
    elseif c == "}" or c == ")" or c == "]" then
      levels[#levels] = nil
      i = i + 1
    elseif c == "," or c == ";" then
      local top = levels[#levels]
      if top then
        top.args = top.args + 1
        top.key = nil
      end
      i = i + 1
    elseif c == "=" then
      local prev, nxt = code:sub(i - 1, i - 1), code:sub(i + 1, i + 1)
      if nxt == "=" then
        i = i + 2
      else
        local top = levels[#levels]
        if top and top.char == "{" and not prev:match("[<>~=]") then
          top.key = code:sub(1, i - 1):match("([%a_][%w_]*)%s*$")
        end
        i = i + 1
      end
    else
      i = i + 1
    end
  end
  return levels, in_string
end

-- The expression right before position `at` (what a bracket opens after): "mc.Subscriber",
-- "c:retrieve", ...
local function expression_before(code, at)
  return code:sub(1, at - 1):match("([%a_][%w_%.:]*)%s*$")
end

-- ---------------------------------------------------------------------------------------------
-- what the schema says

local function fields_of(type_name)
  local t = type_name and core.schema_type(type_name)
  return t and t.fields or nil
end

local function field_of(type_name, name)
  for _, f in ipairs(fields_of(type_name) or {}) do
    if f.name == name then return f end
  end
  return nil
end

local function is_list(f)
  return f.item ~= nil or f.max ~= 1
end

-- The type whose fields a table opened at `levels[k]` holds, or nil; and whether that table
-- is a list of them rather than one.
local function table_type(code, levels, k)
  local level = levels[k]
  if not level or level.char ~= "{" then return nil end
  local expr = expression_before(code, level.at)
  local constructed = expr and expr:match("^mc%.(%u[%w_]*)$")
  if constructed then return constructed, false end
  local parent = levels[k - 1]
  if not parent or parent.char ~= "{" then return nil end
  local parent_type, parent_is_list = table_type(code, levels, k - 1)
  if not parent_type then return nil end
  if parent_is_list then return parent_type, false end -- an item of the list
  local f = parent.key and field_of(parent_type, parent.key)
  if not f or f.kind ~= "complex" then return nil end
  return f.type, is_list(f)
end

-- Constructible types that are `base` or derive from it, sorted.
local derived_cache = {}
local function types_deriving_from(base)
  if derived_cache[base] then return derived_cache[base] end
  local list = {}
  for _, name in ipairs(core.object_types()) do
    local t = core.schema_type(name)
    while t do
      if t.name == base then list[#list + 1] = name break end
      t = t.base and core.schema_type(t.base)
    end
  end
  derived_cache[base] = list
  return list
end

-- ---------------------------------------------------------------------------------------------
-- candidates

local function starting_with(names, partial, prefix)
  local out, seen = {}, {}
  for _, name in ipairs(names) do
    if not seen[name] and name:sub(1, #partial) == partial then
      seen[name] = true
      out[#out + 1] = (prefix or "") .. name
    end
  end
  table.sort(out)
  return out
end

local function field_names(type_name)
  local names = {}
  for _, f in ipairs(fields_of(type_name) or {}) do
    if f.name ~= "##any" then names[#names + 1] = f.name end
  end
  return names
end

-- Perform actions of the type named after the cursor (c:perform("st|", mc.Send{...})), else
-- of every type.
local function action_names(after)
  local perform = require "performlua.perform"
  local named = after and after:match("mc%.(%u[%w_]*)")
  local o = named and perform.lookup(named)
  local list = o and {o} or perform.objects
  local names = {}
  for _, entry in ipairs(list) do
    for _, a in ipairs(entry.actions) do names[#names + 1] = a end
    for _, a in ipairs(entry.reserved) do names[#names + 1] = a end
  end
  return names
end

-- The client a call is made on (`c` in c:retrieve), when it is a global client.
local function global_client(expr)
  local name = expr and expr:match("^([%a_][%w_]*):")
  local value = name and rawget(_G, name)
  local client = package.loaded["performlua.client"]
  if type(value) == "table" and type(client) == "table" and getmetatable(value) == client.Client then
    return value
  end
  return nil
end

-- Properties a retrieve of `object_type` may ask for: what the client learnt (Describe, a data
-- extension's columns), else the schema's fields.
local function property_names(client, object_type)
  if client then
    local cache = rawget(client, "_default_properties")
    if cache and cache[object_type] then return cache[object_type] end
  end
  return field_names(object_type)
end

local RETRIEVE_METHODS = {retrieve = true, each = true, retrieve_all = true,
  default_properties = true, describe = true, help = true}

-- Completion inside a string literal; nil when the string is nowhere special.
local function in_string(code, levels, partial, after)
  local top, k = levels[#levels], #levels
  if not top then return nil end
  if top.char == "(" then
    local expr = expression_before(code, top.at)
    local method = expr and expr:match(":([%a_][%w_]*)$")
    if method == "perform" and top.args == 0 then return starting_with(action_names(after), partial) end
    if method and RETRIEVE_METHODS[method] and top.args == 0 then
      return starting_with(require("performlua.retrieve").retrievable_types(), partial)
    end
    return nil
  end
  if top.char ~= "{" then return nil end
  -- c:retrieve("Type", {"Pro|
  local parent = levels[k - 1]
  if parent and parent.char == "(" and parent.args == 1 and parent.first_string then
    local expr = expression_before(code, parent.at)
    local method = expr and expr:match(":([%a_][%w_]*)$")
    if method and RETRIEVE_METHODS[method] then
      return starting_with(property_names(global_client(expr), parent.first_string), partial)
    end
  end
  -- Field = "val|: the field's enumeration values
  local type_name = table_type(code, levels, k)
  local f = type_name and top.key and field_of(type_name, top.key)
  if f and f.values then return starting_with(f.values, partial) end
  return nil
end

-- Completion of code (not in a string) inside a table of a known type; nil elsewhere.
local function in_table(code, levels, word)
  local k = #levels
  local type_name, is_list_table = table_type(code, levels, k)
  if not type_name or is_list_table then return nil end
  local top = levels[k]
  local before_word = code:sub(1, #code - #word)
  if top.key and before_word:match("=%s*$") then
    -- Field = mc.Ty|: the types that fit the field
    local f = field_of(type_name, top.key)
    local prefix, partial = word:match("^(mc%.)(.*)$")
    if f and f.kind == "complex" and prefix then
      return starting_with(types_deriving_from(f.type), partial, prefix)
    end
    return nil
  end
  if before_word:match("[{,;]%s*$") and word:match("^[%a_]*[%w_]*$") then
    return starting_with(field_names(type_name), word)
  end
  return nil
end

-- Names `mc` offers even before they are first used (it loads them lazily): the functions and
-- modules its metatable lists (init.lua), and a constructor for every type.
local function performlua_names(mc, into)
  local public = getmetatable(mc)
  for name in pairs(public.owners) do into[name] = true end
  for name in pairs(public.modules) do into[name] = true end
  for _, name in ipairs(core.object_types()) do into[name] = true end
end

-- Lua names: a dotted name being typed ("mc.EmailS", "string.for", "c:ret"). Only walks
-- existing values by name, never calls anything.
local function lua_names(text)
  local path, sep, partial = text:match("^(.-)([.:]?)([%a_][%w_]*)$")
  if not path then
    path, sep = text:match("^(.-)([.:])$")
    if not path then return {} end
    partial = ""
  end
  if sep == "" and path ~= "" then return {} end
  local scope = _G
  if sep ~= "" then
    for name in (path .. "."):gmatch("([^.:]*)[.:]") do
      if not name:match("^[%a_][%w_]*$") or type(scope) ~= "table" then return {} end
      local ok, value = pcall(function() return scope[name] end)
      if not ok then return {} end
      scope = value
    end
  end
  local names = {}
  local client = package.loaded["performlua.client"]
  if sep == ":" and type(client) == "table" and getmetatable(scope) == client.Client then
    -- a client: its public methods, nothing private
    for _, name in ipairs(api.method_names()) do names[name] = true end
  else
    local function add_keys(t)
      if type(t) ~= "table" then return end
      for k, v in next, t do
        if type(k) == "string" and (sep ~= ":" or type(v) == "function")
          and not (sep == ":" and k:sub(1, 1) == "_") then
          names[k] = true
        end
      end
    end
    if type(scope) == "table" then
      add_keys(scope)
      if scope == package.loaded["performlua"] then performlua_names(scope, names) end
    end
    local mt = debug.getmetatable(scope)
    if mt and type(mt.__index) == "table" then add_keys(mt.__index) end
    if sep == "" then for _, word in ipairs(KEYWORDS) do names[word] = true end end
  end
  local out = {}
  for name in pairs(names) do
    if name:sub(1, #partial) == partial and name:match("^[%a_][%w_]*$") then
      out[#out + 1] = path .. sep .. name
    end
  end
  table.sort(out)
  return out
end

-- ?Topic: what mc.help knows.
local function help_topics(word)
  local partial = word:match("^%?%s*(.*)$")
  return starting_with(require("performlua.help").topics(), partial, "?")
end

function M.candidates(word, before, after)
  word, before = word or "", before or word or ""
  if word:match("^%?") and before:match("^%s*%?[^\n]*$") then return help_topics(word) end
  local levels, string_at = scan(before)
  if string_at then
    return in_string(before:sub(1, string_at - 1), levels, word, after) or {}
  end
  return in_table(before, levels, word) or lua_names(word)
end

return M
