-- clone_count_send.lua: clone an audience, build and count the copy, send an email to exactly
-- the people counted (with another sender), and follow the send until it is finished.
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
-- How the copy reaches the send. An audience is sent to through the data extension it is
-- published into (Audience Builder publishes audiences to data extensions; a send definition's
-- SendDefinitionList names lists and data extensions, never an audience). So after the copy is
-- built, this script creates a PER-RUN COPY of the send definition whose SendDefinitionList is
-- the copy's data extension, checks that the copy's GetMaxCount equals the count, and starts
-- that one. The original send definition is never changed (nothing to restore if the script
-- stops half-way); the per-run definition stays in the account as the record of this send.
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
-- (the copy by its name, the send definition by its key, the send by its definition) so
-- nothing is cloned, created or sent twice. A dry run changes nothing and journals nothing.
local function once(name, how, fn)
  if opts.dry_run then return fn() end
  return mc.step(name, how, fn)
end

local step_number, step_count = 0, 8
local function step(fmt, ...)
  step_number = step_number + 1
  say("")
  say("Step %d of %d: " .. fmt, step_number, step_count, ...)
end

-- ----------------------------------------------------------------------------------------------
-- the workflow: one block per step

-- The properties of a send definition copied into the per-run definition (what decides how the
-- email goes out); its SendDefinitionList is replaced by the copy's data extension.
local DEFINITION_PROPERTIES = {"ObjectID", "CustomerKey", "Name", "Description", "EmailSubject",
  "FromName", "FromAddress", "Email.ID", "SenderProfile.CustomerKey",
  "SendClassification.CustomerKey", "DeliveryProfile.CustomerKey", "IsMultipart", "IsWrapped",
  "CategoryID"}

-- The first result's number in Task.StatusMessage (count, GetMaxCount), or a stop.
local function task_number(r, what)
  r:check()
  local task = r.Results[1].Task
  local n = task and tonumber(task.StatusMessage)
  if not n then
    stop("Marketing Cloud did not return %s (it answered \"%s\").", what,
      tostring(task and task.StatusMessage))
  end
  return n
end

local function people(n) return thousands(n) .. (n == 1 and " person" or " people") end

-- Step 1. Look everything up first, so a wrong key stops the script before anything changes.
local function check_keys(c)
  step("Checking the audience, the send definition and the sender profile")
  local audience = workflow.find_by_key(c, "AudienceDefinition", audience_key,
    {"ObjectID", "CustomerKey", "Name"}, "audience")
  local definition = workflow.find_by_key(c, "EmailSendDefinition", send_key,
    DEFINITION_PROPERTIES, "email send definition")
  local sender = workflow.find_by_key(c, "SenderProfile", sender_key,
    {"ObjectID", "CustomerKey", "Name", "FromName", "FromAddress"}, "sender profile")
  say("  Audience:        %s (key %s)", tostring(audience.Name), audience_key)
  say("  Send definition: %s (key %s)%s", tostring(definition.Name), send_key,
    definition.EmailSubject and (", subject \"" .. definition.EmailSubject .. "\"") or "")
  say("  Sender profile:  %s <%s> (key %s)", tostring(sender.FromName),
    tostring(sender.FromAddress), sender_key)
  summary.audience_key, summary.send_key, summary.sender_key = audience_key, send_key, sender_key
  return audience, definition, sender
end

-- Step 2. Clone: the copy is a new audience; the original stays as it is. A name already taken
-- is refused (409007): a default name gets " #2", " #3", ... instead.
local function clone(c, audience)
  local base = opts.copy_name
    or string.format("%s copy %s", tostring(audience.Name), os.date("!%Y-%m-%d %H:%M:%S UTC"))
  -- the copy's name is said once it exists: a re-run that continues an earlier run uses the
  -- copy that run made, whose name holds that run's time
  step("Cloning the audience '%s'", tostring(audience.Name))
  if opts.dry_run then
    say("  The copy would be named '%s'.", base)
    workflow.show_envelope("  (dry run) Cloning would send this Perform request:", "Perform",
      {Action = "clone", Definitions = {mc.AudienceDefinition{CustomerKey = audience_key, Name = base}}})
    return nil
  end
  local copy = once("clone the audience", {
    -- an earlier run's clone that lost its answer: the copy it made, found by its name
    resume = function(found) return {CustomerKey = found.CustomerKey, Name = found.Name} end,
  }, function()
    local name, r = base, nil
    for attempt = 1, 5 do
      r = c:perform("clone", mc.AudienceDefinition{CustomerKey = audience_key, Name = name})
      local res = r.Results[1]
      if not (res and res.ErrorCode == 409007 and not opts.copy_name) then break end
      name = string.format("%s #%d", base, attempt + 1)
    end
    if r.Results[1] and r.Results[1].ErrorCode == 409007 then
      stop("An audience named '%s' already exists: pick another name with --copy-name.", name)
    end
    r:check()
    local made = r.Results[1].Object
    if not made or not made.CustomerKey then
      stop("The clone was accepted but Marketing Cloud did not return the copy's key; look for "
        .. "an audience named '%s' before running this again.", name)
    end
    return {CustomerKey = made.CustomerKey, Name = made.Name or name}
  end)
  say("  Created the copy '%s' (key %s).", tostring(copy.Name), copy.CustomerKey)
  summary.copy_key, summary.copy_name = copy.CustomerKey, copy.Name
  return copy
end

-- Step 3. Build: publish the copy's people into its data extension, the one a send can use.
local function build(c, copy)
  step("Building the copy (publishing its people into its data extension)")
  if opts.dry_run then
    say("  (dry run) the copy does not exist, so it is not built.")
    return nil
  end
  local built = c:perform("build", mc.AudienceDefinition{CustomerKey = copy.CustomerKey})
  built:check()
  workflow.follow(c, built, {what = string.format("The build of the copy '%s'", copy.Name),
    timeout = opts.timeout, status = function(last) return tostring(last.Status) end,
    check = "Nothing was sent."})
  local de = workflow.find_by_key(c, "DataExtension", copy.CustomerKey,
    {"ObjectID", "CustomerKey", "Name"}, "data extension", string.format("The copy was built, "
      .. "but no data extension with its key '%s' was found: nothing was sent.", copy.CustomerKey))
  say("  Published into the data extension '%s' (key %s).", tostring(de.Name), de.CustomerKey)
  summary.data_extension_key = de.CustomerKey
  return de
end

-- Step 4. Count: how many people the copy holds. An empty copy stops here, before anything
-- is sent.
local function count(c, copy)
  step("Counting the people in the copy")
  if opts.dry_run then
    say("  (dry run) the copy does not exist, so it cannot be counted; counting the original.")
  end
  local key = opts.dry_run and audience_key or copy.CustomerKey
  local n = task_number(c:perform("count", mc.AudienceDefinition{CustomerKey = key}),
    "a count for the audience")
  say("  The %s holds %s.", opts.dry_run and "original" or "copy", people(n))
  summary.people = n
  if n == 0 then
    stop("The audience is empty: nobody would receive the email, so the send was not started.")
  end
  return n
end

-- Step 5. A per-run send definition aimed at the copy's data extension, and its GetMaxCount
-- checked against the count: the send goes to what was counted, or not at all.
local function aim(c, definition, de, counted)
  step("Pointing a send definition for this run at the copy")
  -- a key of its own (at most 36 characters), from the copy's: two runs never share one
  local run_key = string.format("%s-%s", send_key:sub(1, 23),
    ((summary.copy_key or "dry-run"):gsub("[^%w]", "")):sub(1, 12))
  local fields = {CustomerKey = run_key, Name = string.format("%s (%s)",
    tostring(definition.Name), summary.copy_name or "dry run"):sub(1, 128),
    SendDefinitionList = {mc.SendDefinitionList{SendDefinitionListType = "SourceList",
      DataSourceTypeID = "CustomObject", CustomObjectID = de and de.ObjectID or "(the copy's data extension)",
      Name = summary.copy_name or "the copy"}}}
  for _, k in ipairs{"Description", "EmailSubject", "FromName", "FromAddress", "IsMultipart",
      "IsWrapped", "CategoryID"} do
    fields[k] = definition[k]
  end
  for k, ctor in pairs{Email = mc.Email, SenderProfile = mc.SenderProfile,
      SendClassification = mc.SendClassification, DeliveryProfile = mc.DeliveryProfile} do
    local nested = definition[k]
    if type(nested) == "table" and (nested.ID or nested.CustomerKey) then
      fields[k] = ctor{ID = nested.ID, CustomerKey = nested.CustomerKey}
    end
  end
  local run_definition = mc.EmailSendDefinition(fields)
  if opts.dry_run then
    workflow.show_envelope("  (dry run) Creating it would send this Create request:", "Create",
      {Objects = {run_definition}})
    say("  (dry run) Its GetMaxCount would then have to equal the count before sending.")
    return run_key
  end
  once("create the send definition for this run", {
    resume = function() return run_key end, -- an earlier run created it: found by its key
  }, function()
    c:create(run_definition):check()
    return run_key
  end)
  summary.run_send_key = run_key
  say("  Created the send definition '%s' (key %s) for this run; '%s' is unchanged.",
    fields.Name, run_key, tostring(definition.Name))
  local max = task_number(c:perform("GetMaxCount", mc.EmailSendDefinition{CustomerKey = run_key}),
    "GetMaxCount for the send definition")
  summary.max_count = max
  if max ~= counted then
    stop("The send would reach %s but the copy holds %s: not sending. The copy's data extension "
      .. "may not be fully built yet; run this again later.", people(max), people(counted))
  end
  say("  GetMaxCount agrees with the count: %s.", people(max))
  return run_key
end

-- Step 6. Start the send, with the sender profile overriding the definition's own sender for
-- this send, once someone confirmed it.
local function start(c, definition, sender, run_key, counted)
  local send_def = mc.EmailSendDefinition{CustomerKey = run_key,
    SenderProfile = mc.SenderProfile{CustomerKey = sender_key}}
  step("Starting the email send '%s' as %s <%s>", tostring(definition.Name),
    tostring(sender.FromName), tostring(sender.FromAddress))
  summary.send_started = false
  say("  This %s REAL EMAIL: \"%s\" from %s <%s> to up to %s (the %s, less anyone "
    .. "unsubscribed or held).", opts.dry_run and "would send" or "sends",
    tostring(definition.EmailSubject or definition.Name), tostring(sender.FromName),
    tostring(sender.FromAddress), people(counted), opts.dry_run and "original audience" or "copy")
  if opts.dry_run then
    workflow.dry_run_end("  (dry run) Starting the send would send this Perform request:",
      {Action = "start", Definitions = {send_def}},
      "Dry run finished: nothing was cloned and no email was sent.")
    return nil
  end
  if not workflow.confirm("Start this send now?", {yes = opts.yes,
      sandbox = "(Sandbox: no real email leaves this machine, so going ahead without asking.)",
      unattended = "Not starting: nobody is here to confirm. Re-run with --yes to send without "
        .. "asking."}) then
    say("The send was NOT started. The copy '%s' (key %s) was kept.", summary.copy_name,
      summary.copy_key)
    return nil, 3
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
  -- what c:wait follows: the Send (started now or by an earlier run of this command)
  return mc.Send{ID = math.tointeger(tonumber(send_id)) or send_id}, send_id
end

-- Step 7. Follow the send. It is not started again whatever happens from here on.
local function follow(c, started, send_id)
  step("Waiting for the send to finish (checking every few seconds, up to %s s)",
    thousands(opts.timeout))
  local send = workflow.follow(c, started, {
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
  return send
end

-- Step 8. What came back, the send's figures beside the count.
local function report(audience, send, counted)
  step("What came back")
  local function figure(label, value)
    if value ~= nil then say("  %-22s %s", label, thousands(value)) end
  end
  say("  %-22s %s", "Send job", tostring(send.ID))
  say("  %-22s %s <%s>", "Sent as", tostring(send.FromName), tostring(send.FromAddress))
  if send.Subject then say("  %-22s %s", "Subject", send.Subject) end
  figure("People counted", counted)
  figure("Excluded", send.NumberExcluded)
  figure("People targeted", send.NumberTargeted)
  figure("Emails sent", send.NumberSent)
  figure("Delivered", send.NumberDelivered)
  figure("Errors", send.NumberErrored)
  if send.SentDate then say("  %-22s %s", "Finished sending at", tostring(send.SentDate)) end
  local expected = counted - (send.NumberExcluded or 0)
  if send.NumberTargeted ~= nil and send.NumberTargeted ~= expected then
    say("  Note: the send targeted %s, not the %s counted less the %s excluded.",
      people(send.NumberTargeted), thousands(counted), thousands(send.NumberExcluded or 0))
  end
  say("")
  say("Done: cloned '%s', counted %s in the copy, sent job %s to %s as %s.",
    tostring(audience.Name), people(counted), tostring(send.ID),
    people(send.NumberTargeted or 0), tostring(send.FromName))
end

local function main()
  local c = mc.connect()
  say("Connected%s.",
    workflow.on_sandbox() and " to the sandbox (an emulated account on this machine)" or "")
  local audience, definition, sender = check_keys(c)
  local copy = clone(c, audience)
  local de = build(c, copy)
  local counted = count(c, copy)
  local run_key = aim(c, definition, de, counted)
  local started, send_id = start(c, definition, sender, run_key, counted)
  if not started then return send_id end -- a dry run (nil: 0) or not confirmed (3)
  local send = follow(c, started, send_id)
  report(audience, send, counted)
  return 0
end

workflow.run(main, {blank_line = true})
