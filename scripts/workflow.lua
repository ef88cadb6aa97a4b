-- workflow.lua: the steps the example scripts share, as an ordinary Lua module.
--
-- A script beside this file loads it with `local workflow = require "workflow"` (performlua
-- looks for modules in the script's own directory first, then in the PERFORMLUA_PATH
-- directories). Copy it together with the script you start from; a team keeps its own shared
-- steps the same way, in a module of its own beside its scripts or in a PERFORMLUA_PATH
-- directory.
--
--   workflow.options(arg, spec)        parse --options (exits 2 on a bad one, 0 after --help);
--                                      every script also takes --json (see workflow.summary)
--   workflow.parse_options(args, spec) the same without exiting: opts or nil, problem
--   workflow.seconds / whole_number / text   value parsers for spec.values
--   workflow.usage_error(script, problem[, usage])   say what was wrong and exit 2
--   workflow.say(fmt, ...)             print one formatted line
--   workflow.thousands(n)              1234567 -> "1,234,567"
--   workflow.on_sandbox()              true under `performlua --sandbox`
--   workflow.confirm(question, how)    ask before a step that sends email or cannot be undone
--   workflow.find_by_key(c, type, key, properties, what[, not_found])  one object, or stop
--   workflow.show_envelope(intro, operation, request)   a dry run's view of a request
--   workflow.dry_run_end(intro, request, finished)      show a Perform request, end the dry run
--   workflow.perform_once(c, action, definition, what, check)   a Perform that must not repeat
--   workflow.follow(c, started, how)   c:wait, or stop saying the work goes on and was not repeated
--   workflow.stop(fmt, ...)            end the script with a message for people (status 1)
--   workflow.message_of(err)           the readable part of any error
--   workflow.run(main[, how])          run main, turn its result or error into an exit status
--   workflow.summary                   what the script did, for --json: fill it as you go
--
-- Exit statuses, as performlua's own: 0 done, 1 the work failed, 2 a usage or configuration
-- error (a bad option, a missing setting: nothing was attempted), and 3 for a script that
-- stopped before a step that needs someone to confirm it.
local mc = require "performlua"

local workflow = {}

local EXIT_FAILED, EXIT_USAGE = 1, 2

-- --json: stdout carries one JSON object, the final summary, and nothing else; the messages
-- for people then go to stderr. `out` is where those messages go.
local json_output, script_name = false, nil
local out = io.stdout

--- What the script did, for programs: a script records its results here as it goes
--- (workflow.summary.send_id = ...). With --json, workflow.run prints, when the script ends,
--- {"script": ..., "exit_status": ..., "ok": ..., "summary": {...}, "error": {...}} on stdout.
workflow.summary = {}

-- ----------------------------------------------------------------------------------------------
-- options

-- Value parsers for spec.values: each gets the text after "=" and the option's name, and
-- returns the value, or nil and a sentence saying what is expected.
function workflow.seconds(value, name)
  local n = tonumber(value)
  if n and n > 0 and n < math.huge then return n end
  return nil, string.format("--%s needs seconds, e.g. --%s=600", name, name)
end

function workflow.whole_number(value, name)
  local n = math.tointeger(tonumber(value))
  if n and n >= 1 then return n end
  return nil, string.format("--%s needs a whole number of at least 1, e.g. --%s=10", name, name)
end

function workflow.text(value)
  return value
end

-- Reads command-line arguments against a spec:
--   spec.flags    option names without a value, e.g. {"dry-run", "yes"}
--   spec.values   option name -> value parser, e.g. {timeout = workflow.seconds}
--   spec.defaults values the options start with, e.g. {timeout = 3600}
--   spec.arguments the names of the positional arguments, e.g. {"SEND_KEY", "SENDER_KEY"}: more
--                 than these is an error (a mistyped command line must not be half-used);
--                 without it any number is accepted
-- Returns opts, where --dry-run sets opts.dry_run = true, --timeout=60 sets opts.timeout = 60,
-- --help or -h sets opts.help = true, and the other arguments are in opts.positional in order
-- ("-" alone is one of them: it usually means standard input or output). On a bad argument it
-- returns nil and a sentence naming it.
function workflow.parse_options(args, spec)
  local flags, values = {}, spec.values or {}
  for _, name in ipairs(spec.flags or {}) do flags[name] = true end
  local opts = {positional = {}}
  for key, value in pairs(spec.defaults or {}) do opts[key] = value end
  for _, a in ipairs(args or {}) do
    local name, value = a:match("^%-%-([%w-]+)=(.*)$")
    local bare = a:match("^%-%-([%w-]+)$")
    if a == "--help" or a == "-h" then
      opts.help = true
    elseif name and values[name] then
      if value == "" then
        return nil, string.format("--%s needs a value after the '=' sign", name)
      end
      local parsed, problem = values[name](value, name)
      if parsed == nil then return nil, problem end
      opts[name:gsub("-", "_")] = parsed
    elseif bare and flags[bare] then
      opts[bare:gsub("-", "_")] = true
    elseif bare and values[bare] then
      return nil, string.format("--%s needs a value, as in --%s=VALUE", bare, bare)
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      return nil, "unknown option " .. a
    else
      local names = spec.arguments
      if names and #opts.positional >= #names then
        return nil, string.format("unexpected argument '%s': %s", a, #names == 0
          and "this script takes none, only options"
          or string.format("this script takes at most %d (%s)", #names,
            table.concat(names, " ")))
      end
      opts.positional[#opts.positional + 1] = a
    end
  end
  return opts
end

-- The final JSON object of a --json run (see workflow.summary), on stdout.
local function print_summary(status, err)
  local report = {script = script_name, exit_status = status, ok = status == 0,
                  summary = workflow.summary}
  if err ~= nil then
    local e = type(err) == "table" and err or {message = tostring(err)}
    report.error = {kind = e.kind or (e.stop and "stopped") or "script",
      message = workflow.message_of(err), outcome_unknown = e.outcome_unknown or nil,
      correlation_id = e.correlation_id, request_id = e.request_id}
  end
  io.stdout:write(mc.json_encode(report), "\n")
  io.stdout:flush()
end

-- Says what was wrong with the command line (and how to use it), then exits with status 2.
function workflow.usage_error(script, problem, usage)
  io.stderr:write(script, ": ", problem, "\n", usage and usage .. "\n" or "")
  if json_output then print_summary(EXIT_USAGE, {kind = "usage", message = problem}) end
  os.exit(EXIT_USAGE)
end

-- The comment block at the top of the script file `path` (where each example documents its
-- arguments), without the comment dashes; nil when it cannot be read.
function workflow.script_help(path)
  local f = type(path) == "string" and io.open(path, "r")
  if not f then return nil end
  local lines = {}
  for line in f:lines() do
    local text = line:match("^%-%- ?(.*)$")
    if not text or line:match("^%-%-%[") then break end
    lines[#lines + 1] = text
  end
  f:close()
  if #lines == 0 then return nil end
  return table.concat(lines, "\n")
end

-- parse_options for a script: spec.script (its name, for messages) and spec.usage are added to
-- the spec, and the flag --json every script takes. A bad argument exits with status 2. --help
-- prints the script's own documentation (its top comment, found through args[0], the script's
-- path) or else the usage, and exits 0.
function workflow.options(args, spec)
  local with_json = {}
  for k, v in pairs(spec) do with_json[k] = v end
  with_json.flags = {"json", table.unpack(spec.flags or {})}
  script_name = spec.script
  local opts, problem = workflow.parse_options(args, with_json)
  if not opts then workflow.usage_error(spec.script, problem, spec.usage) end
  if opts.json then
    json_output, out = true, io.stderr
  end
  if opts.help then
    print(workflow.script_help(args and args[0]) or spec.usage)
    os.exit(0)
  end
  return opts
end

-- ----------------------------------------------------------------------------------------------
-- saying things

function workflow.say(fmt, ...)
  out:write(string.format(fmt, ...), "\n")
  out:flush()
end

-- 1234567 -> "1,234,567"; anything that is not a whole number comes back as it is.
function workflow.thousands(n)
  local s = tostring(math.tointeger(tonumber(n)) or n)
  local sign, digits = s:match("^(-?)(%d+)$")
  if not digits then return s end
  return sign .. digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
end

-- A dry run's view of a request: the intro line, then the SOAP envelope performlua would send.
function workflow.show_envelope(intro, operation, request)
  workflow.say("%s", intro)
  local envelope = mc.encode(operation, request, {indent = true})
  out:write(envelope, envelope:sub(-1) == "\n" and "" or "\n")
end

-- The end of a dry run that stops before a Perform: the request it would send, then `finished`
-- (what did not happen). Returns 0, the exit status, for `return workflow.dry_run_end(...)`.
function workflow.dry_run_end(intro, request, finished)
  workflow.show_envelope(intro, "Perform", request)
  workflow.say("")
  workflow.say("%s", finished)
  workflow.summary.dry_run = true
  return 0
end

-- ----------------------------------------------------------------------------------------------
-- asking first

-- True when this run talks to the embedded sandbox (performlua --sandbox): mc.connect() with no
-- arguments then reaches the sandbox and never a real account.
function workflow.on_sandbox()
  return mc.sandbox.default() ~= nil
end

-- Asks before a step that sends email or cannot be undone; true means go ahead.
--   how.yes         go ahead without asking (the script's --yes)
--   how.sandbox     what to say when going ahead because this is the sandbox
--   how.unattended  what to say when refusing because nobody can answer (cron, CI, a pipe)
-- Only "yes" (any case, spaces around it allowed) typed on a terminal is a yes.
function workflow.confirm(question, how)
  how = how or {}
  if how.yes then return true end
  if workflow.on_sandbox() then
    workflow.say("  %s", how.sandbox or "(Sandbox: going ahead without asking.)")
    return true
  end
  if not mc.isatty("stdin") then
    workflow.say("  %s", how.unattended
      or "Not done: nobody is here to confirm. Re-run with --yes to do it without asking.")
    return false
  end
  out:write("  ", question, " Type yes to go ahead: ")
  out:flush()
  local answer = io.read("l")
  return answer ~= nil and answer:lower():match("^%s*(.-)%s*$") == "yes"
end

-- ----------------------------------------------------------------------------------------------
-- stopping

-- Ends the script with a message for people: workflow.run prints it and exits with status 1.
function workflow.stop(fmt, ...)
  local message = select("#", ...) > 0 and string.format(fmt, ...) or fmt
  error({stop = message}, 0)
end

-- Finds one object by its external key (CustomerKey), or stops: `what` names the kind of object
-- for people ("audience"), `not_found` replaces the whole message when given.
function workflow.find_by_key(c, object_type, key, properties, what, not_found)
  local r = c:retrieve(object_type, properties,
    {Property = "CustomerKey", SimpleOperator = "equals", Value = key})
  r:check()
  local obj = r.Results[1]
  if not obj then
    workflow.stop(not_found or string.format("No %s with the external key '%s' was found in "
      .. "this account. Check the key (keys are case-sensitive) or pass another one (see "
      .. "--help).", what, key))
  end
  return obj
end

-- Why no answer came back, in words, for an error whose outcome is unknown.
local function lost_answer(err)
  if err.kind == "http" and err.http_status then
    return string.format("Marketing Cloud answered with an HTTP %s error page instead of a result",
      tostring(err.http_status))
  elseif err.kind == "xml" then
    return "the answer that came back could not be read"
  end
  return "the connection broke or timed out before the answer arrived"
end

-- c:perform for an action that must not happen twice (starting a send or an import). performlua
-- never repeats such a request once it has left; when no answer came back, this stops with a
-- message saying the action may have happened, that it was not repeated, and `check` (how to
-- find out), instead of a transport error. `what` completes "The request to ...": "start the
-- send 'Spring sale'". Returns the Perform result (check it: a refusal is an answer too).
function workflow.perform_once(c, action, definition, what, check)
  local ok, r = pcall(c.perform, c, action, definition)
  if not ok then
    local err = r
    if type(err) == "table" and err.outcome_unknown then
      workflow.stop("The request to %s was sent, but %s, so it may or may not have been done. "
        .. "It was NOT sent again, so nothing is done twice. %s%s", what, lost_answer(err),
        check, err.correlation_id
          and string.format(" (Reference for support: correlation id %s.)", err.correlation_id)
          or "")
    end
    error(err, 0)
  end
  return r
end

-- c:wait for a script: the final status of the work `started` (a Perform result), or a stop
-- with a message for people that says the work was not started again.
--   how.what     names the work, as a sentence's subject: "The send (job 52000003)"
--   how.timeout  seconds to wait
--   how.status   function(status) -> "Sending, 472 of 1,250 sent": where the work stands
--   how.check    a sentence saying how to check on it later (optional)
--   how.failed   function(err) called before stopping when the work ended in a failure state
-- An error that is not about the work (c:wait's usage errors: nothing to follow) is raised
-- as it is.
function workflow.follow(c, started, how)
  local ok, status = pcall(c.wait, c, started, {timeout = how.timeout})
  if ok then return status end
  local err = status
  local kind = type(err) == "table" and err.kind or nil
  local check = how.check and (" " .. how.check) or ""
  if kind == "failed" then
    if how.failed then how.failed(err) end
    workflow.stop("%s ended badly: %s", how.what, workflow.message_of(err))
  elseif kind == "timeout" then
    workflow.stop("%s had not finished after %s s of waiting: its status is %s. It carries on in "
      .. "Marketing Cloud and was NOT started again.%s", how.what, workflow.thousands(how.timeout),
      err.status and how.status(err.status) or "not known yet", check)
  elseif kind == "usage" then
    error(err, 0)
  end
  workflow.stop("%s was started, but following it failed: %s. It was NOT started again.%s",
    how.what, workflow.message_of(err), check)
end

function workflow.message_of(err)
  if type(err) == "table" then return tostring(err.message or err.stop or err) end
  return tostring(err)
end

-- Runs main() and exits with the status it returns (0 when it returns nothing). When it raises,
-- prints on stderr "Stopped: <message>" for workflow.stop, "Stopped because of an error:
-- <message>" for anything else, then advice, and exits with status 1, or 2 for a usage error
-- (kind "usage": a missing setting, a wrong argument; nothing to retry, something to fix).
-- With --json the summary follows on stdout (see workflow.summary).
--   how.blank_line  an empty line first (for scripts that print their steps apart)
--   how.stopped     replaces "Stopped: "
--   how.failed      replaces "Stopped because of an error: "
--   how.advice      function(err) -> an extra line or nil; by default, a request whose outcome
--                   is unknown (it may have reached Marketing Cloud) says to check first
function workflow.run(main, how)
  how = how or {}
  local ok, result = pcall(main)
  if ok then
    if json_output then print_summary(result or 0) end
    os.exit(result or 0)
  end
  if how.blank_line then io.stderr:write("\n") end
  if type(result) == "table" and result.stop then
    io.stderr:write(how.stopped or "Stopped: ", result.stop, "\n")
  else
    io.stderr:write(how.failed or "Stopped because of an error: ",
      tostring(type(result) == "table" and result.message or result), "\n")
  end
  local advice
  if how.advice then
    advice = how.advice(result)
  elseif type(result) == "table" and result.outcome_unknown then
    advice = "The request may have reached Marketing Cloud: check before running this again."
  end
  if advice then io.stderr:write(advice, "\n") end
  local status = type(result) == "table" and result.kind == "usage" and EXIT_USAGE or EXIT_FAILED
  if json_output then print_summary(status, result) end
  os.exit(status)
end

return workflow
