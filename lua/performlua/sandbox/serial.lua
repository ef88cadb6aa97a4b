-- performlua.sandbox.serial: plain Lua values as Lua source text and back.
--
-- The sandbox's service runs in its own lua_State (see runtime/sandbox/server.h); the two
-- states share no values, so configuration goes in and control answers come out as text.
-- Tables lose their metatables; functions, userdata and cycles are refused with a message.
local M = {}

local function emit(v, out, seen, path)
  local t = type(v)
  if t == "nil" then out[#out + 1] = "nil"
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif t == "number" then
    if math.type(v) == "integer" then out[#out + 1] = string.format("%d", v)
    elseif v ~= v then out[#out + 1] = "(0/0)"
    elseif v == math.huge then out[#out + 1] = "math.huge"
    elseif v == -math.huge then out[#out + 1] = "-math.huge"
    else out[#out + 1] = string.format("%.17g", v)
      if not out[#out]:find("[%.eEn]") then out[#out] = out[#out] .. ".0" end
    end
  elseif t == "string" then out[#out + 1] = string.format("%q", v)
  elseif t == "table" then
    if seen[v] then error(string.format("%s refers to itself (cycles cannot be copied)", path), 0) end
    seen[v] = true
    out[#out + 1] = "{"
    local n = #v
    for i = 1, n do
      emit(v[i], out, seen, path .. "[" .. i .. "]")
      out[#out + 1] = ","
    end
    local keys = {}
    for k in next, v do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    end
    table.sort(keys, function(a, b)
      local ta, tb = type(a), type(b)
      if ta ~= tb then return ta < tb end
      if ta == "string" or ta == "number" then return a < b end
      return tostring(a) < tostring(b)
    end)
    for _, k in ipairs(keys) do
      local kt = type(k)
      if kt ~= "string" and kt ~= "number" and kt ~= "boolean" then
        error(string.format("%s has a key of type %s (only strings, numbers and booleans)", path, kt), 0)
      end
      out[#out + 1] = "["
      emit(k, out, seen, path)
      out[#out + 1] = "]="
      emit(v[k], out, seen, path .. "." .. tostring(k))
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
    seen[v] = nil
  else
    error(string.format("%s is a %s, which cannot be passed to the sandbox", path, t), 0)
  end
end

--- Lua source "return <value>" for a value made of nil, booleans, numbers, strings and tables.
function M.dump(v)
  local out = {"return "}
  emit(v, out, {}, "value")
  return table.concat(out)
end

--- The value back from M.dump's text (loaded as text only, with an empty environment).
function M.load(text)
  local f, err = load(text, "=sandbox value", "t", {math = {huge = math.huge}})
  if not f then error("cannot read a sandbox value: " .. err, 0) end
  return f()
end

return M
