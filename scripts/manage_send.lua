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
--   --help        this text
--
-- Cancelling cannot be undone (the emails not sent yet are never sent), so against a real
-- account the script asks first unless --yes is given. Pause and resume are undoable and
-- run straight away. After each action the script reads the send back and prints its status.
--
-- The Send object is the one Marketing Cloud creates when an email send definition starts;
-- Perform pause/resume/cancel on a Send needs its ID (without one the service silently
-- ignores the action, which is why performlua refuses to send it).
local mc = require "performlua"
local core = require "performlua.core"

local USAGE = [==[
usage: performlua manage_send.lua [status|pause|resume|cancel|list] [SEND_ID]
                                  [--reason=TEXT] [--dry-run] [--yes]]==]

local ACTIONS = {status = true, pause = true, resume = true, cancel = true, list = true}

local opts = {}
local positional = {}
for _, a in ipairs(arg or {}) do
  local name, value = a:match("^%-%-([%w-]+)=(.*)$")
  if a == "--help" or a == "-h" then print(USAGE) os.exit(0)
  elseif a == "--dry-run" then opts.dry_run = true
  elseif a == "--yes" then opts.yes = true
  elseif name == "reason" then opts.reason = value
  elseif a:sub(1, 1) == "-" then
    io.stderr:write("manage_send: unknown option ", a, "\n", USAGE, "\n")
    os.exit(2)
  else positional[#positional + 1] = a end
end
local action = (positional[1] or "status"):lower()
local send_id = positional[2]
if not ACTIONS[action] then
  -- "manage_send.lua 12345" means the status of send 12345
  if tonumber(positional[1]) and not positional[2] then
    action, send_id = "status", positional[1]
  else
    io.stderr:write("manage_send: unknown action '", tostring(positional[1]),
      "' (use status, pause, resume, cancel or list)\n", USAGE, "\n")
    os.exit(2)
  end
end
if send_id and not tonumber(send_id) then
  io.stderr:write("manage_send: the send ID must be a number, got '", send_id, "'\n")
  os.exit(2)
end

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
    say("  Not done: nobody is here to confirm. Re-run with --yes to do it without asking.")
    return false
  end
  io.write("  ", question, " Type yes to go ahead: ")
  io.flush()
  local answer = io.read("l")
  return answer ~= nil and answer:lower():match("^%s*(.-)%s*$") == "yes"
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
  if action == "list" or not send_id then
    list_recent(c)
    return 0
  end

  local send = read_send(c, send_id)
  if not send then
    error({stop = string.format("No send with ID %s was found in this account.", send_id)}, 0)
  end
  if action == "status" then
    show(send)
    return 0
  end

  -- pause / resume / cancel
  local target = mc.Send{ID = math.tointeger(tonumber(send_id))}
  local options = opts.reason and {Explanation = opts.reason} or nil
  say("Send %s is %s. Asking Marketing Cloud to %s it.", send_id, tostring(send.Status), action)
  if opts.dry_run then
    say("(dry run) would send this Perform request:")
    print(mc.encode("Perform", {Action = action, Definitions = {target}, Options = options}))
    return 0
  end
  if action == "cancel" then
    say("  Cancelling cannot be undone: the emails not sent yet will never be sent.")
    if not confirm("Cancel send " .. send_id .. "?") then
      say("The send was NOT cancelled.")
      return 3
    end
  end
  local r = c:perform(action, target, options)
  if not r.ok then
    local res = r.Results[1] or {}
    error({stop = string.format("Marketing Cloud did not %s send %s: %s%s", action, send_id,
      tostring(res.StatusMessage or r.OverallStatus),
      res.ErrorCode and string.format(" (error %s)", tostring(res.ErrorCode)) or "")}, 0)
  end
  local after = read_send(c, send_id)
  say("Done. The send is now: %s", tostring(after and after.Status or "(not found)"))
  if after then show(after) end
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
