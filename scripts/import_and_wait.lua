-- import_and_wait.lua: start an import definition and wait until the import has finished.
--
--   performlua scripts/import_and_wait.lua [IMPORT_KEY] [options]
--
--   IMPORT_KEY     external key of the import definition (default: daily-loyalty-import)
--   --timeout=S    how long to wait, in seconds (default 3600)
--   --dry-run      show the request that would start the import, change nothing
--   --yes          start without asking (for cron and CI against a real account)
--   --help         this text
--
-- An import writes into a list or data extension (adding, updating, or even overwriting rows,
-- as the definition says), so against a real account the script shows what the import will do
-- and asks first unless --yes is given. It exits with status 0 when the import completed,
-- 1 when it failed or could not be followed, 3 when you chose not to start it.
local mc = require "performlua"
local core = require "performlua.core"

local USAGE = "usage: performlua import_and_wait.lua [IMPORT_KEY] [--timeout=S] [--dry-run] [--yes]"

local opts = {timeout = 3600}
local positional = {}
for _, a in ipairs(arg or {}) do
  local name, value = a:match("^%-%-([%w-]+)=(.*)$")
  if a == "--help" or a == "-h" then print(USAGE) os.exit(0)
  elseif a == "--dry-run" then opts.dry_run = true
  elseif a == "--yes" then opts.yes = true
  elseif name == "timeout" and tonumber(value) and tonumber(value) > 0 then
    opts.timeout = tonumber(value)
  elseif a:sub(1, 1) == "-" then
    io.stderr:write("import_and_wait: unknown or malformed option ", a, "\n", USAGE, "\n")
    os.exit(2)
  else positional[#positional + 1] = a end
end
local import_key = positional[1] or "daily-loyalty-import"

local function say(fmt, ...) print(string.format(fmt, ...)) end

local function thousands(n)
  local s = tostring(math.tointeger(tonumber(n)) or n)
  local sign, digits = s:match("^(-?)(%d+)$")
  if not digits then return s end
  return sign .. digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
end

local function on_sandbox()
  return require("performlua.config").default_account() ~= nil
end

local function confirm(question)
  if opts.yes then return true end
  if on_sandbox() then
    say("  (Sandbox: going ahead without asking.)")
    return true
  end
  if not core.isatty("stdin") then
    say("  Not starting: nobody is here to confirm. Re-run with --yes to start without asking.")
    return false
  end
  io.write("  ", question, " Type yes to go ahead: ")
  io.flush()
  local answer = io.read("l")
  return answer ~= nil and answer:lower():match("^%s*(.-)%s*$") == "yes"
end

local function main()
  local c = mc.connect()

  -- 1. What the import does, before anything changes.
  local r = c:retrieve("ImportDefinition",
    {"ObjectID", "CustomerKey", "Name", "Description", "FileSpec", "UpdateType", "AllowErrors"},
    {Property = "CustomerKey", SimpleOperator = "equals", Value = import_key})
  r:check()
  local def = r.Results[1]
  if not def then
    error({stop = string.format("No import definition with the external key '%s' was found. "
      .. "Check the key (keys are case-sensitive).", import_key)}, 0)
  end
  say("Import '%s' (key %s)", tostring(def.Name), import_key)
  if def.FileSpec then say("  reads the file:  %s", def.FileSpec) end
  if def.UpdateType then say("  update type:     %s", def.UpdateType) end

  -- 2. Start it.
  local start_def = mc.ImportDefinition{CustomerKey = import_key}
  if opts.dry_run then
    say("(dry run) would send this Perform request:")
    print(mc.encode("Perform", {Action = "start", Definitions = {start_def}}))
    say("Dry run finished: the import was not started.")
    return 0
  end
  say("Starting the import: this changes the data in the account.")
  if not confirm("Start this import now?") then
    say("The import was NOT started.")
    return 3
  end
  local started = c:perform("start", start_def)
  started:check()
  local task_id = started.Results[1].Task and started.Results[1].Task.ID
  say("Started (task %s). Waiting for it to finish...", tostring(task_id))

  -- 3. Wait: c:wait polls the ImportResultsSummary of this task until it is Completed.
  local ok, summary = pcall(c.wait, c, started, {timeout = opts.timeout})
  if not ok then
    local err = summary
    local s = type(err) == "table" and err.status or nil
    if s then
      say("The import ended with status %s.", tostring(s.ImportStatus))
      if s.NumberErrors then say("  rows with errors: %s", thousands(s.NumberErrors)) end
    end
    error({stop = string.format("The import did not complete: %s", type(err) == "table"
      and tostring(err.message) or tostring(err))}, 0)
  end

  -- 4. The figures.
  say("The import completed (status %s).", tostring(summary.ImportStatus))
  local function figure(label, v) if v ~= nil then say("  %-20s %s", label, thousands(v)) end end
  figure("rows in the file", summary.TotalRows)
  figure("rows imported", summary.NumberSuccessful)
  figure("duplicates", summary.NumberDuplicated)
  figure("rows with errors", summary.NumberErrors)
  figure("rows restricted", summary.NumberRestricted)
  if summary.StartDate then say("  %-20s %s", "started", summary.StartDate) end
  if summary.EndDate then say("  %-20s %s", "ended", summary.EndDate) end
  return 0
end

local ok, result = pcall(main)
if ok then os.exit(result) end
if type(result) == "table" and result.stop then
  io.stderr:write("Stopped: ", result.stop, "\n")
else
  io.stderr:write("Stopped because of an error: ", tostring(type(result) == "table"
    and result.message or result), "\n")
end
os.exit(1)
