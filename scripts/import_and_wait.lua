-- import_and_wait.lua: start an import definition and wait until the import has finished.
--
--   performlua scripts/import_and_wait.lua [IMPORT_KEY] [options]
--
--   IMPORT_KEY     external key of the import definition (default: daily-loyalty-import)
--   --timeout=S    how long to wait, in seconds (default 3600)
--   --dry-run      show the request that would start the import, change nothing
--   --yes          start without asking (for cron and CI against a real account)
--   --json         print the outcome as one JSON object on stdout (messages go to stderr)
--   --help         this text
--
-- An import writes into a list or data extension (adding, updating, or even overwriting rows,
-- as the definition says), so against a real account the script shows what the import will do
-- and asks first unless --yes is given. It exits with status 0 when the import completed,
-- 1 when it failed or could not be followed, 2 for a usage or configuration error, 3 when you
-- chose not to start it.
--
-- The steps every example shares (options, asking first, dry runs, stopping with a clear
-- message) are in workflow.lua beside this script: copy it along with the script.
local mc = require "performlua"
local workflow = require "workflow"   -- workflow.lua beside this script: the shared steps
local say, thousands = workflow.say, workflow.thousands
local summary = workflow.summary   -- what --json prints at the end

local USAGE = "usage: performlua import_and_wait.lua [IMPORT_KEY] [--timeout=S] [--dry-run] [--yes] "
  .. "[--json]"

local opts = workflow.options(arg, {
  script = "import_and_wait", usage = USAGE,
  flags = {"dry-run", "yes"},
  values = {timeout = workflow.seconds},
  defaults = {timeout = 3600},
  arguments = {"IMPORT_KEY"},
})
local import_key = opts.positional[1] or "daily-loyalty-import"

local function main()
  local c = mc.connect()

  -- 1. What the import does, before anything changes.
  local def = workflow.find_by_key(c, "ImportDefinition", import_key,
    {"ObjectID", "CustomerKey", "Name", "Description", "FileSpec", "UpdateType", "AllowErrors"},
    "import definition", string.format("No import definition with the external key '%s' was "
      .. "found. Check the key (keys are case-sensitive).", import_key))
  say("Import '%s' (key %s)", tostring(def.Name), import_key)
  summary.import_key, summary.started = import_key, false
  if def.FileSpec then say("  reads the file:  %s", def.FileSpec) end
  if def.UpdateType then say("  update type:     %s", def.UpdateType) end

  -- 2. Start it.
  local start_def = mc.ImportDefinition{CustomerKey = import_key}
  if opts.dry_run then
    return workflow.dry_run_end("(dry run) would send this Perform request:",
      {Action = "start", Definitions = {start_def}}, "Dry run finished: the import was not started.")
  end
  say("Starting the import: this changes the data in the account.")
  if not workflow.confirm("Start this import now?", {yes = opts.yes,
      unattended = "Not starting: nobody is here to confirm. Re-run with --yes to start without "
        .. "asking."}) then
    say("The import was NOT started.")
    return 3
  end
  -- Started at most once: when no answer comes back, perform_once stops and says so, and the
  -- start is a step of the run journal (mc.step): running the same command again after a
  -- failure, Ctrl-C or a kill follows the import an earlier run started (a start cut short is
  -- first looked for among the definition's ImportResultsSummary) instead of starting another.
  local task_id = mc.step("start the import", {
    resume = function(found) return found.ID end, -- the import an earlier run started
  }, function()
    local r = workflow.perform_once(c, "start", start_def,
      string.format("start the import '%s'", tostring(def.Name)),
      "Check the import's recent runs in Marketing Cloud before running this again.")
    r:check()
    return r.Results[1].Task and r.Results[1].Task.ID
  end)
  -- what c:wait follows: the task of the import started (now or by an earlier run)
  local started = {StatusCode = "OK", Task = {ID = task_id}, Object = start_def}
  say("Started (task %s). Waiting for it to finish...", tostring(task_id))
  summary.started, summary.task_id = true, task_id

  -- 3. Wait: c:wait polls the ImportResultsSummary of this task until it is Completed.
  local result = workflow.follow(c, started, {
    what = string.format("The import (task %s)", tostring(task_id)), timeout = opts.timeout,
    status = function(last)
      return tostring(last.ImportStatus) .. (last.NumberSuccessful and last.TotalRows
        and string.format(", %s of %s rows imported", thousands(last.NumberSuccessful),
          thousands(last.TotalRows)) or "")
    end,
    failed = function(err)
      if err.status and err.status.NumberErrors then
        say("  rows with errors: %s", thousands(err.status.NumberErrors))
      end
    end,
  })

  -- 4. The figures.
  say("The import completed (status %s).", tostring(result.ImportStatus))
  local function figure(label, v) if v ~= nil then say("  %-20s %s", label, thousands(v)) end end
  figure("rows in the file", result.TotalRows)
  figure("rows imported", result.NumberSuccessful)
  figure("duplicates", result.NumberDuplicated)
  figure("rows with errors", result.NumberErrors)
  figure("rows restricted", result.NumberRestricted)
  if result.StartDate then say("  %-20s %s", "started", result.StartDate) end
  if result.EndDate then say("  %-20s %s", "ended", result.EndDate) end
  summary.import_status, summary.total_rows = result.ImportStatus, result.TotalRows
  summary.imported, summary.duplicates = result.NumberSuccessful, result.NumberDuplicated
  summary.row_errors, summary.restricted = result.NumberErrors, result.NumberRestricted
  return 0
end

workflow.run(main)
