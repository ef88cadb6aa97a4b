-- performlua.sandbox.control: what specs and the CLI ask of a running sandbox besides HTTP
-- (server:control(name, args)): its stats and objects, rows, the clock, tokens, faults. The
-- arguments and the result cross between lua_States as text (serial.lua).
local account_mod = require "performlua.sandbox.account"
local auth = require "performlua.sandbox.auth"
local faults = require "performlua.sandbox.faults"
local jobs = require "performlua.sandbox.jobs"
local serial = require "performlua.sandbox.serial"

local M = {}

-- A stored object without the sandbox's bookkeeping ("_" keys), as plain tables.
local function plain(obj)
  local out = {}
  for k, v in next, obj do
    if type(k) ~= "string" or k:sub(1, 1) ~= "_" then out[k] = account_mod.copy(v) end
  end
  return out
end

-- name -> function(sb, args)
local controls = {
  stats = function(sb) return sb.stats end,
  objects = function(sb, type_name)
    local acct = sb.acct
    jobs.tick(acct)
    local out = {}
    local c = acct.types[type_name]
    for i, o in ipairs(c and c.list or {}) do out[i] = plain(o) end
    return out
  end,
  rows = function(sb, key)
    local store = sb.acct:row_store(key)
    if not store then return nil end
    if store.generated then return {generated = store.generated.count} end
    return store:all()
  end,
  insert = function(sb, args)
    local o = sb.acct:insert(args[1], args[2])
    return plain(o)
  end,
  add_rows = function(sb, args)
    local store = sb.acct:row_store(args[1])
    if not store then error("no data extension with the CustomerKey " .. tostring(args[1]), 0) end
    for _, r in ipairs(args[2]) do account_mod.add_row(store, r) end
    return store:count()
  end,
  generate_rows = function(sb, args) return sb.acct:generate_rows(args[1], args[2]) end,
  clock_advance = function(sb, seconds)
    local acct = sb.acct
    acct.clock:advance(seconds)
    jobs.tick(acct)
    return acct:now()
  end,
  set_speed = function(sb, speed)
    sb.acct.clock:set_speed(speed)
    return speed
  end,
  now = function(sb) return sb.acct:now() end,
  expire_tokens = function(sb)
    auth.expire_tokens(sb)
    return true
  end,
  -- the sandbox's own Lua heap (KB), for benchmarks: rows in SQLite must not grow it
  memory = function() return {lua_kb = collectgarbage("count")} end,
  set_faults = function(sb, list)
    local parsed = {}
    for i, spec in ipairs(list or {}) do parsed[i] = faults.parse(spec) end
    sb.faults = parsed
    return #sb.faults
  end,
}

--- Runs control `name` with its arguments as text (serial.dump), -> its result as text.
function M.control(sb, name, args_lua)
  local f = controls[name]
  if not f then error("the sandbox has no control named " .. tostring(name), 0) end
  return serial.dump(f(sb, serial.load(args_lua)))
end

return M
