-- start_many.lua: start many definitions at once, wait for them, and summarise what
-- succeeded and what failed.
--
--   performlua scripts/start_many.lua [TYPE:KEY ...] [options]
--
--   TYPE:KEY          what to start, e.g. QueryDefinition:daily-rollup ImportDefinition:crm-sync
--                     (default: the sandbox seed's query, imports, filter and extract)
--   --concurrency=N   at most N starts and waits in flight at once (default 4)
--   --no-wait         start them and report, without waiting for them to finish
--   --timeout=S       how long to wait for each, in seconds (default 3600)
--   --dry-run         show the requests, start nothing
--   --yes             start email sends without asking (needed for EmailSendDefinition items
--                     against a real account)
--   --json            print the outcome of every item as one JSON object on stdout
--   --help            this text
--
-- Every item runs on its own: one that fails (unknown key, an import that errors, a timeout)
-- does not stop the others, and each is started at most once. The script exits with status 0
-- when everything succeeded, 1 when anything failed and 2 for a usage or configuration error,
-- so cron and CI can alert on it.
-- All the work shares one connection pool and one event loop: while one item waits for
-- Marketing Cloud, the others proceed (mc.map).
--
-- The steps every example shares (options, dry runs, stopping with a clear message) are in
-- workflow.lua beside this script: copy it along with the script.
local mc = require "performlua"
local workflow = require "workflow"   -- workflow.lua beside this script: the shared steps
local say, message_of = workflow.say, workflow.message_of

local USAGE = [==[
usage: performlua start_many.lua [TYPE:KEY ...] [--concurrency=N] [--no-wait] [--timeout=S]
                                 [--dry-run] [--yes] [--json]]==]

local DEFAULT_ITEMS = {
  "QueryDefinition:active-subscribers-query",
  "ImportDefinition:daily-subscriber-import",
  "ImportDefinition:daily-loyalty-import",
  "FilterActivity:active-customers-filter",
  "DataExtractActivity:daily-extract",
}

local opts = workflow.options(arg, {
  script = "start_many", usage = USAGE,
  flags = {"dry-run", "yes", "no-wait"},
  values = {concurrency = workflow.whole_number, timeout = workflow.seconds},
  defaults = {concurrency = 4, timeout = 3600},
})
local known_types = {}
for _, t in ipairs(mc.types()) do known_types[t] = true end
local items = {}
for _, a in ipairs(opts.positional) do
  local type_name, key = a:match("^([%a]+):(.+)$")
  if not type_name then
    workflow.usage_error("start_many",
      "'" .. a .. "' is not TYPE:KEY (e.g. QueryDefinition:daily-rollup)")
  end
  if not known_types[type_name] then
    workflow.usage_error("start_many", "'" .. type_name .. "' is not a Marketing Cloud object type")
  end
  items[#items + 1] = {type = type_name, key = key}
end
if #items == 0 then
  for _, s in ipairs(DEFAULT_ITEMS) do
    local type_name, key = s:match("^(%a+):(.+)$")
    items[#items + 1] = {type = type_name, key = key}
  end
end

-- Sends email? Then it needs --yes against a real account (asking once for the whole batch).
local function sends_email(item)
  return item.type == "EmailSendDefinition"
end

-- Starts one item, waits for it when asked; returns a line for the summary. Raises on failure
-- (mc.map below turns each item's error into data, so one failure never stops the others).
-- Each start is a step of the run journal (mc.step): running the same command again after a
-- failure, a Ctrl-C or a kill gives back the starts already made (a start cut short is first
-- looked for in the account) and starts only the others.
local step_names = {}
local function step_name(item)
  local name = "start " .. item.type .. " " .. item.key
  step_names[name] = (step_names[name] or 0) + 1
  if step_names[name] > 1 then name = name .. " (" .. step_names[name] .. ")" end
  return name
end

local function run_item(c, item)
  local definition = mc[item.type]{CustomerKey = item.key}
  local t0 = mc.now()
  -- started at most once: when no answer comes back, perform_once stops this item saying so
  local task_id = mc.step(item.step, {
    resume = function(found) return found.ID end, -- the Send an earlier run started
  }, function()
    local r = workflow.perform_once(c, "start", definition, "start it",
      "Check it in Marketing Cloud before starting it again.")
    local res = r.Results[1]
    if not r.ok then
      error(string.format("did not start: %s", res and tostring(res.StatusMessage)
        or tostring(r.OverallStatus)), 0)
    end
    return res.Task and res.Task.ID
  end)
  -- what c:wait follows: the task of the definition started (now or by an earlier run)
  local r = {StatusCode = "OK", Task = {ID = task_id}, Object = definition}
  if opts.no_wait then
    return string.format("started (task %s)", tostring(task_id or "none"))
  end
  local ok, status = pcall(workflow.follow, c, r, {
    what = string.format("Task %s", tostring(task_id)), timeout = opts.timeout,
    status = function(last) return tostring(last.Status or last.ImportStatus) end,
  })
  if not ok then
    if type(status) == "table" and status.kind == "usage" then
      -- nothing to follow (e.g. an Automation start): started is all we can say
      return string.format("started; not followed (%s)", message_of(status))
    end
    error(status, 0)
  end
  local word = status.Status or status.ImportStatus or "finished"
  return string.format("finished: %s in %.1f s", tostring(word), mc.now() - t0)
end

local function main()
  local c = mc.connect()
  say("Starting %d definition%s, at most %d at a time%s:", #items, #items == 1 and "" or "s",
    opts.concurrency, not opts.no_wait and ", and waiting for each to finish" or "")
  for _, item in ipairs(items) do say("  %s '%s'", item.type, item.key) end

  if opts.dry_run then
    local first = mc[items[1].type]{CustomerKey = items[1].key}
    return workflow.dry_run_end("(dry run) each would be started by a Perform request such as:",
      {Action = "start", Definitions = {first}}, "Dry run finished: nothing was started.")
  end

  local senders = 0
  for _, item in ipairs(items) do if sends_email(item) then senders = senders + 1 end end
  if senders > 0 and not opts.yes and not workflow.on_sandbox() then
    workflow.stop("%d of the items start email sends (real email to real people). Re-run "
      .. "with --yes to start them.", senders)
  end

  for _, item in ipairs(items) do item.step = step_name(item) end
  -- The concurrent part: each item in its own task; errors become data, per item.
  local outcomes = mc.map(items, function(item)
    local ok, line = pcall(run_item, c, item)
    return {ok = ok, line = ok and line or message_of(line)}
  end, {concurrency = opts.concurrency})

  local succeeded, failed = 0, 0
  local summary = workflow.summary   -- what --json prints at the end
  summary.items = {}
  say("")
  say("Summary:")
  for i, item in ipairs(items) do
    local o = outcomes[i]
    if o.ok then succeeded = succeeded + 1 else failed = failed + 1 end
    say("  %-7s %s '%s': %s", o.ok and "ok" or "FAILED", item.type, item.key, o.line)
    summary.items[i] = {type = item.type, key = item.key, ok = o.ok, outcome = o.line}
  end
  say("%d succeeded, %d failed.", succeeded, failed)
  summary.succeeded, summary.failed = succeeded, failed
  return failed == 0 and 0 or 1
end

workflow.run(main)
