-- manage_send.lua: see, pause, resume or cancel an email send.
--
--   performlua scripts/manage_send.lua [ACTION] [SEND_ID] [options]
--
--   ACTION        status (default) | pause | resume | cancel | list
--   SEND_ID       the send's ID (the job ID that clone_count_send.lua prints);
--                 without it: list the most recent sends (the last 7 days)
--   --reason=TXT  why you pause or cancel (recorded by Marketing Cloud as the explanation)
--   --dry-run     show the request, change nothing
--   --yes         cancel without asking (for cron and CI against a real account)
--   --json        print the outcome as one JSON object on stdout (messages go to stderr)
--   --help        this text
--
-- Cancelling cannot be undone (the emails not sent yet are never sent), so against a real
-- account the script asks first unless --yes is given. Pause and resume are undoable and
-- run straight away. After each action the script reads the send back and prints its status.
--
-- The Send object is the one Marketing Cloud creates when an email send definition starts;
-- Perform pause/resume/cancel on a Send needs its ID (without one the service silently
-- ignores the action, which is why performlua refuses to send it).
--
-- The steps every example shares (options, asking first, dry runs, stopping with a clear
-- message) are in workflow.lua beside this script: copy it along with the script.
local mc = require "performlua"
local workflow = require "workflow"   -- workflow.lua beside this script: the shared steps
local say, thousands, stop = workflow.say, workflow.thousands, workflow.stop
local summary = workflow.summary   -- what --json prints at the end

local USAGE = [==[
usage: performlua manage_send.lua [status|pause|resume|cancel|list] [SEND_ID]
                                  [--reason=TEXT] [--dry-run] [--yes] [--json]]==]

local ACTIONS = {status = true, pause = true, resume = true, cancel = true, list = true}

local opts = workflow.options(arg, {
  script = "manage_send", usage = USAGE,
  flags = {"dry-run", "yes"},
  values = {reason = workflow.text},
  arguments = {"ACTION", "SEND_ID"},
})
local positional = opts.positional
local action = (positional[1] or "status"):lower()
local send_id = positional[2]
if not ACTIONS[action] then
  -- "manage_send.lua 12345" means the status of send 12345
  if tonumber(positional[1]) and not positional[2] then
    action, send_id = "status", positional[1]
  else
    workflow.usage_error("manage_send", "unknown action '" .. tostring(positional[1])
      .. "' (use status, pause, resume, cancel or list)", USAGE)
  end
end
if send_id and not tonumber(send_id) then
  workflow.usage_error("manage_send", "the send ID must be a number, got '" .. send_id .. "'")
end
-- Changing a send needs to know which one: never fall back to the list and exit 0, which would
-- read as done.
if not send_id and (action == "pause" or action == "resume" or action == "cancel") then
  workflow.usage_error("manage_send", action .. " needs the send's ID, e.g. manage_send.lua "
    .. action .. " 52000003 (list shows the recent sends and their IDs)", USAGE)
end

local SEND_FIELDS = {"ID", "EmailName", "Subject", "Status", "FromName", "FromAddress",
  "SendDate", "SentDate", "NumberTargeted", "NumberSent", "NumberDelivered", "NumberErrored"}

local function read_send(c, id)
  local r = c:retrieve("Send", SEND_FIELDS,
    {Property = "ID", SimpleOperator = "equals", Value = tostring(id)})
  r:check()
  return r.Results[1]
end

local function show(send)
  say("Send %s: %s", tostring(send.ID), tostring(send.Status))
  if send.EmailName or send.Subject then
    say("  email:     %s", tostring(send.Subject or send.EmailName))
  end
  if send.FromName then say("  from:      %s <%s>", send.FromName, tostring(send.FromAddress)) end
  if send.NumberTargeted then
    say("  progress:  %s of %s sent", thousands(send.NumberSent or 0),
      thousands(send.NumberTargeted))
  end
  if send.SendDate then say("  started:   %s", tostring(send.SendDate)) end
  if send.SentDate then say("  finished:  %s", tostring(send.SentDate)) end
end

local function list_recent(c)
  local since = os.time() - 7 * 24 * 3600
  local r = c:retrieve("Send", {"ID", "EmailName", "Status", "SendDate", "NumberSent",
      "NumberTargeted"},
    {Property = "SendDate", SimpleOperator = "greaterThan", DateValue = since})
  r:check()
  local sends = {}
  for _, s in ipairs(r.Results) do sends[#sends + 1] = s end
  table.sort(sends, function(a, b) return (tonumber(a.ID) or 0) > (tonumber(b.ID) or 0) end)
  summary.sends = {}
  for i = 1, math.min(#sends, 20) do
    local s = sends[i]
    summary.sends[i] = {id = s.ID, email_name = s.EmailName, status = s.Status,
      send_date = s.SendDate, sent = s.NumberSent, targeted = s.NumberTargeted}
  end
  if #sends == 0 then
    say("No sends in the last 7 days.")
    return
  end
  say("Sends of the last 7 days (newest first):")
  for i = 1, math.min(#sends, 20) do
    local s = sends[i]
    say("  %-10s %-10s %-32s %s of %s sent", tostring(s.ID), tostring(s.Status),
      tostring(s.EmailName or ""):sub(1, 32), thousands(s.NumberSent or 0),
      thousands(s.NumberTargeted or 0))
  end
  say("Use: performlua scripts/manage_send.lua status|pause|resume|cancel SEND_ID")
end

local function main()
  local c = mc.connect()
  summary.action, summary.send_id = (action == "list" or not send_id) and "list" or action, send_id
  if action == "list" or not send_id then
    list_recent(c)
    return 0
  end

  local send = read_send(c, send_id)
  if not send then
    stop("No send with ID %s was found in this account.", send_id)
  end
  summary.status = send.Status
  if action == "status" then
    show(send)
    summary.sent, summary.targeted = send.NumberSent, send.NumberTargeted
    return 0
  end

  -- pause / resume / cancel
  local target = mc.Send{ID = math.tointeger(tonumber(send_id))}
  local options = opts.reason and {Explanation = opts.reason} or nil
  say("Send %s is %s. Asking Marketing Cloud to %s it.", send_id, tostring(send.Status), action)
  if opts.dry_run then
    workflow.show_envelope("(dry run) would send this Perform request:",
      "Perform", {Action = action, Definitions = {target}, Options = options})
    return 0
  end
  if action == "cancel" then
    say("  Cancelling cannot be undone: the emails not sent yet will never be sent.")
    if not workflow.confirm("Cancel send " .. send_id .. "?", {yes = opts.yes}) then
      say("The send was NOT cancelled.")
      summary.done = false
      return 3
    end
  end
  local r = c:perform(action, target, options)
  if not r.ok then
    local res = r.Results[1] or {}
    stop("Marketing Cloud did not %s send %s: %s%s", action, send_id,
      tostring(res.StatusMessage or r.OverallStatus),
      res.ErrorCode and string.format(" (error %s)", tostring(res.ErrorCode)) or "")
  end
  local after = read_send(c, send_id)
  say("Done. The send is now: %s", tostring(after and after.Status or "(not found)"))
  summary.done, summary.status = true, after and after.Status
  if after then show(after) end
  return 0
end

workflow.run(main)
