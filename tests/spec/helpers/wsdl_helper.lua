-- The official WSDL, for the specs that check XML against it. It is Salesforce's document and
-- never part of the repository, so a clone may have none: ctest names the one it found in
-- PERFORMLUA_WSDL (empty when there is none, PERFORMLUA_WSDL_MISSING then says where it looked;
-- CMakeLists.txt has the order). Without it, what needs it is skipped, saying why; with CI=true
-- in the environment a missing WSDL fails instead, so CI never passes by skipping.
--
--   wsdl.required()   for a spec about validation itself: without the WSDL the run ends at once
--                     with status 77 (ctest reports SKIPPED) and the reason on stderr
--   wsdl.path()       the file, or nil (a spec that hands it to the sandbox as an extra check)
--   wsdl.validator()  its XSD validator (one per run), or nil
--   wsdl.check(xml)   asserts xml is valid against it when there is one; returns xml
--   wsdl.it(name, fn) busted's `it` when there is a WSDL, else a pending test that says why
local core = require "performlua.core"

local M = {}

local path = os.getenv("PERFORMLUA_WSDL")
if path == "" then path = nil end
local why = path == nil and ("SKIPPED: " .. (os.getenv("PERFORMLUA_WSDL_MISSING") or
  "PERFORMLUA_WSDL is not set (ctest sets it)")) or nil

local function in_ci()
  return os.getenv("CI") == "true"
end

-- Under CI a missing WSDL is a failure of the run, whatever the spec would do without it.
if why and in_ci() then
  error("the WSDL is required when CI=true: " .. why:gsub("^SKIPPED: ", ""), 0)
end

function M.required()
  if path then return path end
  io.stderr:write(why, "\n")
  io.stderr:flush()
  os.exit(77)
end

function M.path()
  return path
end

local validator
function M.validator()
  if path and not validator then validator = core.xsd_load(path) end
  return validator
end

function M.check(xml)
  local v = M.validator()
  if v then
    local ok, message = v:validate(xml)
    assert(ok, (message or "") .. "\n" .. xml)
  end
  return xml
end

function M.it(name, fn)
  local busted = require "busted"  -- the spec's own it and pending (a module has no globals)
  if path then return busted.it(name, fn) end
  return busted.pending(name .. " (" .. why .. ")")
end

return M
