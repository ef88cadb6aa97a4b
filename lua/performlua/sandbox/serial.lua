-- performlua.sandbox.serial: plain Lua values as Lua source text and back.
--
-- The sandbox's service runs in its own lua_State (see runtime/sandbox/server.h); the two
-- states share no values, so configuration goes in and control answers come out as text.
-- Tables lose their metatables; functions, userdata and cycles are refused with a message.
local M = {}

-- Where a value sits, as text: only an error needs it, so emit passes the parent's place and
-- the key instead of building a path string for every value (most of the cost of a dump).
local function path_of(up, key)
  if key == nil then return "value" end
  local here = math.type(key) == "integer" and "[" .. key .. "]" or "." .. tostring(key)
  return (up and path_of(up.up, up.key) or "value") .. here
end

local function by_type_then_value(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "string" or ta == "number" then return a < b end
  return tostring(a) < tostring(b)
end

local function emit(v, out, seen, up, key)
  local t = type(v)
  if t == "string" then out[#out + 1] = string.format("%q", v)
  elseif t == "nil" then out[#out + 1] = "nil"
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif t == "number" then
    if math.type(v) == "integer" then out[#out + 1] = string.format("%d", v)
    elseif v ~= v then out[#out + 1] = "(0/0)"
    elseif v == math.huge then out[#out + 1] = "math.huge"
    elseif v == -math.huge then out[#out + 1] = "-math.huge"
    else out[#out + 1] = string.format("%.17g", v)
      if not out[#out]:find("[%.eEn]") then out[#out] = out[#out] .. ".0" end
    end
  elseif t == "table" then
    if seen[v] then error(string.format("%s refers to itself (cycles cannot be copied)", path_of(up, key)), 0) end
    seen[v] = true
    -- this table's place, for its values' errors (a table per table, none per value)
    local at = key ~= nil and {up = up, key = key} or nil
    out[#out + 1] = "{"
    local n = #v
    for i = 1, n do
      emit(v[i], out, seen, at, i)
      out[#out + 1] = ","
    end
    local keys = {}
    for k in next, v do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    end
    table.sort(keys, by_type_then_value)
    for _, k in ipairs(keys) do
      local kt = type(k)
      if kt ~= "string" and kt ~= "number" and kt ~= "boolean" then
        error(string.format("%s has a key of type %s (only strings, numbers and booleans)", path_of(up, key), kt), 0)
      end
      out[#out + 1] = "["
      emit(k, out, seen, up, key)
      out[#out + 1] = "]="
      emit(v[k], out, seen, at, k)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
    seen[v] = nil
  else
    error(string.format("%s is a %s, which cannot be passed to the sandbox", path_of(up, key), t), 0)
  end
end

function M.dump(v)
  local out = {"return "}
  emit(v, out, {}, nil, nil)
  return table.concat(out)
end

--- The value back from M.dump's text (loaded as text only, with an empty environment).
function M.load(text)
  local f, err = load(text, "=sandbox value", "t", {math = {huge = math.huge}})
  if not f then error("cannot read a sandbox value: " .. err, 0) end
  return f()
end

return M
