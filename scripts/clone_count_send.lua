-- clone_count_send.lua: clone an audience, count the copy, send an email with another sender,
-- and follow the send until it is finished.
--
--   performlua scripts/clone_count_send.lua [AUDIENCE_KEY] [SEND_KEY] [SENDER_KEY] [options]
--
--   AUDIENCE_KEY   external key of the audience to clone          (default: spring-prospects)
--   SEND_KEY       external key of the email send definition      (default: spring-sale-send)
--   SENDER_KEY     external key of the sender profile to send as  (default: spring-team)
--   --copy-name=N  name of the copy (default: "<audience name> copy <date and time>")
--   --timeout=S    how long to follow the send, in seconds (default 3600)
--   --dry-run      show what would be sent (the SOAP envelopes) and change nothing
--   --yes          start the send without asking (for cron and CI against a real account)
--   --json         print the outcome as one JSON object on stdout (messages go to stderr)
--   --help         this text
--
-- Try it offline first:   performlua --sandbox scripts/clone_count_send.lua
--
-- Sending is real: against a real account this script emails real people. Before it starts
-- the send it says who will receive what from whom, and unless --yes is given it asks you to
-- type "yes" (it refuses when it cannot ask, e.g. from cron). In the sandbox no email leaves
-- the machine, so it goes ahead. If the send is started but following it fails (a timeout,
-- the network), the script says so and does NOT start it again: the send carries on at
-- Marketing Cloud and can be checked with scripts/manage_send.lua status <send id>.
--
-- The steps every example shares (options, asking first, dry runs, stopping with a clear
-- message) are in workflow.lua beside this script: copy it along with the script.
local mc = require "performlua"
local workflow = require "workflow"   -- workflow.lua beside this script: the shared steps
local say, thousands, stop = workflow.say, workflow.thousands, workflow.stop
local summary = workflow.summary   -- what --json prints at the end

-- ----------------------------------------------------------------------------------------------
-- arguments

local USAGE = [==[
usage: performlua clone_count_send.lua [AUDIENCE_KEY] [SEND_KEY] [SENDER_KEY]
                                       [--copy-name=NAME] [--timeout=S] [--dry-run] [--yes]
                                       [--json]]==]

local opts = workflow.options(arg, {
  script = "clone_count_send", usage = USAGE,
  flags = {"dry-run", "yes"},
  values = {["copy-name"] = workflow.text, timeout = workflow.seconds},
  defaults = {timeout = 3600},
  arguments = {"AUDIENCE_KEY", "SEND_KEY", "SENDER_KEY"},
})

local audience_key = opts.positional[1] or "spring-prospects"
local send_key = opts.positional[2] or "spring-sale-send"
local sender_key = opts.positional[3] or "spring-team"

-- The steps that change something run once per run (mc.step, the run journal): after a
-- failure, a Ctrl-C or a kill, running the same command again continues this run: a finished
-- step gives back what it recorded, and one cut short is first checked against the account
-- (the copy by its name, the send by its definition) so nothing is cloned or sent twice.
-- A dry run changes nothing and journals nothing.
local function once(name, how, fn)
  if opts.dry_run then return fn() end
  return mc.step(name, how, fn)
end

local step_number, step_count = 0, 6
local function step(fmt, ...)
  step_number = step_number + 1
  say("")
  say("Step %d of %d: " .. fmt, step_number, step_count, ...)
end

-- ----------------------------------------------------------------------------------------------
-- the workflow

local function main()
  local c = mc.connect()
  say("Connected%s.",
    workflow.on_sandbox() and " to the sandbox (an emulated account on this machine)" or "")

  -- Look everything up first, so a wrong key stops the script before anything changes.
  step("Checking the audience, the send definition and the sender profile")
  local audience = workflow.find_by_key(c, "AudienceDefinition", audience_key,
    {"ObjectID", "CustomerKey", "Name"}, "audience")
  local definition = workflow.find_by_key(c, "EmailSendDefinition", send_key,
    {"ObjectID", "CustomerKey", "Name", "EmailSubject", "FromName", "FromAddress"},
    "email send definition")
  local sender = workflow.find_by_key(c, "SenderProfile", sender_key,
    {"ObjectID", "CustomerKey", "Name", "FromName", "FromAddress"}, "sender profile")
  say("  Audience:        %s (key %s)", tostring(audience.Name), audience_key)
  say("  Send definition: %s (key %s)%s", tostring(definition.Name), send_key,
    definition.EmailSubject and (", subject \"" .. definition.EmailSubject .. "\"") or "")
  say("  Sender profile:  %s <%s> (key %s)", tostring(sender.FromName),
    tostring(sender.FromAddress), sender_key)
  summary.audience_key, summary.send_key, summary.sender_key = audience_key, send_key, sender_key

  -- Clone: the copy is a new audience; the original stays as it is.
  local copy_name = opts.copy_name
    or string.format("%s copy %s", tostring(audience.Name), os.date("!%Y-%m-%d %H:%M:%S UTC"))
  step("Cloning the audience '%s' as '%s'", tostring(audience.Name), copy_name)
  local clone_def = mc.AudienceDefinition{CustomerKey = audience_key, Name = copy_name}
  local copy
  if opts.dry_run then
    workflow.show_envelope("  (dry run) Cloning would send this Perform request:",
      "Perform", {Action = "clone", Definitions = {clone_def}})
    copy = mc.AudienceDefinition{CustomerKey = audience_key, Name = copy_name}
  else
    copy = once("clone the audience", {
      -- an earlier run's clone that lost its answer: the copy it made, found by its name
      resume = function(found) return {CustomerKey = found.CustomerKey, Name = found.Name} end,
    }, function()
      local r = c:perform("clone", clone_def)
      r:check()
      local made = r.Results[1].Object
      if not made or not made.CustomerKey then
        stop("The clone was accepted but Marketing Cloud did not return the copy's key; look "
          .. "for an audience named '%s' before running this again.", copy_name)
      end
      return {CustomerKey = made.CustomerKey, Name = made.Name or copy_name}
    end)
    say("  Created the copy '%s' (key %s).", tostring(copy.Name or copy_name), copy.CustomerKey)
    summary.copy_key, summary.copy_name = copy.CustomerKey, copy.Name or copy_name
  end

  -- Count: how many people the copy would reach.
  step("Counting the people in the copy")
  local people
  if opts.dry_run then
    say("  (dry run) the copy does not exist, so it cannot be counted; counting the original.")
  end
  local count_key = opts.dry_run and audience_key or copy.CustomerKey
  local counted = c:perform("count", mc.AudienceDefinition{CustomerKey = count_key})
  counted:check()
  local task = counted.Results[1].Task
  people = task and tonumber(task.StatusMessage)
  if not people then
    stop("Marketing Cloud did not return a count for the audience (it answered \"%s\").",
      tostring(task and task.StatusMessage))
  end
  say("  The %s holds %s %s.", opts.dry_run and "original" or "copy", thousands(people),
    people == 1 and "person" or "people")
  summary.people = people
  if people == 0 then
    stop("The audience is empty: nobody would receive the email, so the send was not started.")
  end

  -- The send, with the sender profile overriding the definition's own sender for this send.
  local send_def = mc.EmailSendDefinition{
    CustomerKey = send_key,
    SenderProfile = mc.SenderProfile{CustomerKey = sender_key},
  }
  step("Starting the email send '%s' as %s <%s>", tostring(definition.Name),
    tostring(sender.FromName), tostring(sender.FromAddress))
  -- GetMaxCount: how many people this send can reach (its own audience), said before sending
  local reach = c:perform("GetMaxCount", mc.EmailSendDefinition{CustomerKey = send_key})
  reach:check()
  local reach_task = reach.Results[1].Task
  local max_count = reach_task and tonumber(reach_task.StatusMessage)
  summary.max_count = max_count
  summary.send_started = false
  say("  This %s REAL EMAIL: \"%s\" from %s <%s> to %s.", opts.dry_run and "would send" or "sends",
    tostring(definition.EmailSubject or definition.Name), tostring(sender.FromName),
    tostring(sender.FromAddress), max_count
      and string.format("up to %s %s (the send definition's audience)", thousands(max_count),
        max_count == 1 and "person" or "people")
      or "the send definition's audience")
  if opts.dry_run then
    return workflow.dry_run_end("  (dry run) Starting the send would send this Perform request:",
      {Action = "start", Definitions = {send_def}},
      "Dry run finished: nothing was cloned and no email was sent.")
  end
  if not workflow.confirm("Start this send now?", {yes = opts.yes,
      sandbox = "(Sandbox: no real email leaves this machine, so going ahead without asking.)",
      unattended = "Not starting: nobody is here to confirm. Re-run with --yes to send without "
        .. "asking."}) then
    say("The send was NOT started. The copy '%s' (key %s) was kept.",
      tostring(copy.Name or copy_name), copy.CustomerKey)
    return 3
  end
  -- Started at most once: when no answer comes back, perform_once stops and says so, and a
  -- re-run looks for the send it may have started before sending anything.
  local send_id = once("start the send", {
    resume = function(found) return found.ID end, -- the Send an earlier run started
  }, function()
    local started = workflow.perform_once(c, "start", send_def,
      string.format("start the send '%s'", tostring(definition.Name)),
      "Look for it with: performlua scripts/manage_send.lua list")
    started:check()
    return started.Results[1].Task and started.Results[1].Task.ID
  end)
  say("  Started: send job %s.", tostring(send_id))
  summary.send_started, summary.send_id = true, send_id

  -- Follow the send. It is not started again whatever happens from here on.
  step("Waiting for the send to finish (checking every few seconds, up to %s s)",
    thousands(opts.timeout))
  local send = workflow.follow(c, mc.Send{ID = math.tointeger(tonumber(send_id)) or send_id}, {
    what = string.format("The send (job %s)", tostring(send_id)), timeout = opts.timeout,
    status = function(last)
      return tostring(last.Status) .. (last.NumberSent and last.NumberTargeted
        and string.format(", %s of %s sent", thousands(last.NumberSent),
          thousands(last.NumberTargeted)) or "")
    end,
    check = string.format("Check it with: performlua scripts/manage_send.lua status %s",
      tostring(send_id)),
  })
  say("  Finished with status %s.", tostring(send.Status))
  summary.send_status = send.Status
  summary.targeted, summary.sent, summary.delivered = send.NumberTargeted, send.NumberSent,
    send.NumberDelivered
  summary.errored, summary.excluded = send.NumberErrored, send.NumberExcluded

  step("What came back")
  local function figure(label, value)
    if value ~= nil then say("  %-22s %s", label, thousands(value)) end
  end
  say("  %-22s %s", "Send job", tostring(send.ID))
  say("  %-22s %s <%s>", "Sent as", tostring(send.FromName), tostring(send.FromAddress))
  if send.Subject then say("  %-22s %s", "Subject", send.Subject) end
  figure("People targeted", send.NumberTargeted)
  figure("Emails sent", send.NumberSent)
  figure("Delivered", send.NumberDelivered)
  figure("Errors", send.NumberErrored)
  figure("Excluded", send.NumberExcluded)
  if send.SentDate then say("  %-22s %s", "Finished sending at", tostring(send.SentDate)) end
  say("")
  say("Done: cloned '%s', counted %s %s, sent job %s as %s.", tostring(audience.Name),
    thousands(people), people == 1 and "person" or "people", tostring(send.ID),
    tostring(send.FromName))
  return 0
end

workflow.run(main, {blank_line = true})
