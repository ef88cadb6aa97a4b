-- performlua.repl: how the REPL shows results.
--
-- The C loop (runtime/cli/repl.c) calls format_results with the values a line produced and
-- prints the returned text. Values are shown as Lua (performlua.pretty), laid out over several
-- lines when long, with big tables cut short so one retrieve does not flood the terminal.
local pretty = require("performlua.pretty").pretty
local types = require "performlua.types"

local M = {}

-- Options for showing one result; the width follows the terminal when the shell tells us.
function M.options()
  local width = tonumber(os.getenv("COLUMNS") or "")
  if not width or width < 40 then width = 80 end
  return { multiline = true, width = math.floor(width), max_items = 100, max_depth = 8 }
end

-- The text for results v1..vn: one line `a, b` when each fits on one line, else one value
-- per block.
function M.format_results(...)
  local n = select("#", ...)
  local opts = M.options()
  local texts, multiline = {}, false
  for i = 1, n do
    local text = pretty((select(i, ...)), opts)
    texts[i] = text
    if text:find("\n", 1, true) then multiline = true end
  end
  return table.concat(texts, multiline and "\n" or ", ")
end

-- Names `mc` offers even before they are first used (it loads them lazily): the functions and
-- modules its metatable lists (init.lua), and a constructor for every type.
local function performlua_names(mc, into)
  local public = getmetatable(mc)
  for name in pairs(public.owners) do into[name] = true end
  for name in pairs(public.modules) do into[name] = true end
  for _, name in ipairs(types.types()) do into[name] = true end
end

local KEYWORDS = { "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until",
  "while" }

-- Tab completion: the full candidates for `text`, a dotted name being typed such as
-- "mc.EmailS" or "c:ret". Only walks existing values by name, never calls anything.
function M.complete(text)
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
  local function add_keys(t)
    if type(t) ~= "table" then return end
    for k, v in next, t do
      if type(k) == "string" and (sep ~= ":" or type(v) == "function") then names[k] = true end
    end
  end
  if type(scope) == "table" then
    add_keys(scope)
    if scope == package.loaded["performlua"] then performlua_names(scope, names) end
  end
  local mt = debug.getmetatable(scope)
  if mt and type(mt.__index) == "table" then add_keys(mt.__index) end
  if sep == "" then for _, word in ipairs(KEYWORDS) do names[word] = true end end
  local out = {}
  for name in pairs(names) do
    if name:sub(1, #partial) == partial and name:match("^[%a_][%w_]*$") then
      out[#out + 1] = path .. sep .. name
    end
  end
  table.sort(out)
  return out
end

return M
