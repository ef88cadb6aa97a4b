-- scripts/workflow.lua, the module the example scripts share: its pure helpers, with exact values.
-- (The scripts themselves, which use the rest of it against the sandbox, are run by
-- tests/e2e/scripts_*.sh.)
local source_dir = os.getenv("PERFORMLUA_SOURCE_DIR") or "."

local function load_workflow()
  return dofile(source_dir .. "/scripts/workflow.lua")
end

describe("scripts/workflow.lua", function()
  local workflow

  setup(function()
    workflow = load_workflow()
  end)

  it("is a module: it returns a table and defines no globals", function()
    -- loaded in an environment that records every global it would set
    local set = {}
    local env = setmetatable({}, {__index = _G, __newindex = function(_, k) set[#set + 1] = k end})
    local chunk = assert(loadfile(source_dir .. "/scripts/workflow.lua", "t", env))
    local module = chunk()
    assert.are.same({}, set)
    assert.are.equal("table", type(module))
    assert.are.equal("function", type(module.parse_options))
  end)

  describe("thousands", function()
    it("groups the digits of whole numbers by three", function()
      assert.are.equal("0", workflow.thousands(0))
      assert.are.equal("999", workflow.thousands(999))
      assert.are.equal("1,000", workflow.thousands(1000))
      assert.are.equal("100,000", workflow.thousands(100000))
      assert.are.equal("1,234,567", workflow.thousands(1234567))
      assert.are.equal("-1,250", workflow.thousands(-1250))
    end)

    it("accepts numbers as Marketing Cloud returns them: strings and integral floats", function()
      assert.are.equal("2,480", workflow.thousands("2480"))
      assert.are.equal("3,600", workflow.thousands(3600.0))
    end)

    it("gives back anything else unchanged", function()
      assert.are.equal("1234.5", workflow.thousands(1234.5))
      assert.are.equal("n/a", workflow.thousands("n/a"))
      assert.are.equal("nil", workflow.thousands(nil))
    end)
  end)

  describe("parse_options", function()
    local spec
    setup(function()
      spec = {
        flags = {"dry-run", "yes", "no-wait"},
        values = {timeout = workflow.seconds, ["page-size"] = workflow.whole_number,
          reason = workflow.text},
        defaults = {timeout = 3600},
      }
    end)

    it("returns the defaults and no positional arguments for an empty command line", function()
      assert.are.same({positional = {}, timeout = 3600}, workflow.parse_options({}, spec))
      assert.are.same({positional = {}, timeout = 3600}, workflow.parse_options(nil, spec))
    end)

    it("sets flags and parsed values under snake_case names, keeping positionals in order",
      function()
        local opts = workflow.parse_options({"first", "--dry-run", "--timeout=90", "second",
          "--no-wait", "--page-size=250", "--reason=wrong subject", "-", "--yes"}, spec)
        assert.are.same({
          positional = {"first", "second", "-"},
          dry_run = true, no_wait = true, yes = true,
          timeout = 90, page_size = 250, reason = "wrong subject",
        }, opts)
        assert.are.equal("integer", math.type(opts.page_size))
      end)

    it("keeps a value's text after the first '=' as it is", function()
      assert.are.equal("a=b, c", workflow.parse_options({"--reason=a=b, c"}, spec).reason)
      assert.are.equal(0.5, workflow.parse_options({"--timeout=0.5"}, spec).timeout)
    end)

    it("marks --help and -h", function()
      assert.is_true(workflow.parse_options({"--help"}, spec).help)
      assert.is_true(workflow.parse_options({"x", "-h"}, spec).help)
      assert.is_nil(workflow.parse_options({"x"}, spec).help)
    end)

    it("does not change the defaults it was given", function()
      workflow.parse_options({"--timeout=5"}, spec)
      assert.are.same({timeout = 3600}, spec.defaults)
    end)

    it("names an unknown option", function()
      assert.are.same({nil, "unknown option --timout=5"},
        {workflow.parse_options({"--timout=5"}, spec)})
      assert.are.same({nil, "unknown option --force"}, {workflow.parse_options({"--force"}, spec)})
      assert.are.same({nil, "unknown option -y"}, {workflow.parse_options({"-y"}, spec)})
      -- a flag takes no value
      assert.are.same({nil, "unknown option --yes=1"}, {workflow.parse_options({"--yes=1"}, spec)})
    end)

    it("says what a value option expects", function()
      local timeout = "--timeout needs seconds, e.g. --timeout=600"
      local page_size = "--page-size needs a whole number of at least 1, e.g. --page-size=10"
      for _, case in ipairs{
        {"--timeout=soon", timeout}, {"--timeout=-5", timeout}, {"--timeout=0", timeout},
        {"--page-size=2.5", page_size}, {"--page-size=0", page_size},
        {"--timeout", "--timeout needs a value, as in --timeout=VALUE"},
        {"--reason=", "--reason needs a value after the '=' sign"},
      } do
        assert.are.same({nil, case[2]}, {workflow.parse_options({case[1]}, spec)}, case[1])
      end
    end)

    it("refuses more positional arguments than spec.arguments names", function()
      local two = {arguments = {"ACTION", "SEND_ID"}}
      assert.are.same({"pause", "12"}, workflow.parse_options({"pause", "12"}, two).positional)
      assert.are.same({nil, "unexpected argument '13': this script takes at most 2 "
        .. "(ACTION SEND_ID)"}, {workflow.parse_options({"pause", "12", "13"}, two)})
      assert.are.same({nil, "unexpected argument 'x': this script takes none, only options"},
        {workflow.parse_options({"x"}, {arguments = {}})})
      -- without spec.arguments any number is fine
      assert.are.equal(5, #workflow.parse_options({"a", "b", "c", "d", "e"}, {}).positional)
    end)

    it("stops at the first bad argument", function()
      assert.are.same({nil, "unknown option --bad"},
        {workflow.parse_options({"--bad", "--timeout=soon"}, spec)})
    end)

    it("passes a script's own value parser the value and the option's name", function()
      local seen
      local opts = workflow.parse_options({"--columns=A, B"}, {values = {columns = function(v, n)
        seen = n
        return {v}
      end}})
      assert.are.equal("columns", seen)
      assert.are.same({"A, B"}, opts.columns)
      assert.are.same({nil, "--columns needs names"},
        {workflow.parse_options({"--columns=x"}, {values = {columns = function()
          return nil, "--columns needs names"
        end}})})
    end)
  end)

  describe("script_help", function()
    it("gives the comment block at the top of a file, without the dashes", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write("-- tool.lua: does things.\n--\n--   ARG  what it is\nlocal x = 1\n-- not this\n")
      f:close()
      local text = workflow.script_help(path)
      os.remove(path)
      assert.are.equal("tool.lua: does things.\n\n  ARG  what it is", text)
      assert.is_nil(workflow.script_help("/no/such/file.lua"))
      assert.is_nil(workflow.script_help(nil))
    end)
  end)

  describe("stop", function()
    it("raises a table whose stop field is the formatted message", function()
      local ok, err = pcall(workflow.stop, "No send with ID %s was found.", 42)
      assert.is_false(ok)
      assert.are.same({stop = "No send with ID 42 was found."}, err)
      ok, err = pcall(workflow.stop, "100% literal")
      assert.is_false(ok)
      assert.are.same({stop = "100% literal"}, err)
    end)
  end)

  describe("find_by_key", function()
    -- a client that answers every retrieve with the given objects and notes what was asked
    local asked
    local function client_with(results)
      return {retrieve = function(_, object_type, properties, filter)
        asked = {object_type, properties, filter}
        return {Results = results, check = function() end}
      end}
    end

    it("retrieves by CustomerKey and returns the first object found", function()
      local found = workflow.find_by_key(client_with({{Name = "Spring"}, {Name = "Other"}}),
        "AudienceDefinition", "spring", {"Name"}, "audience")
      assert.are.same({Name = "Spring"}, found)
      assert.are.same({"AudienceDefinition", {"Name"},
        {Property = "CustomerKey", SimpleOperator = "equals", Value = "spring"}}, asked)
    end)

    it("stops with a message naming the kind of object and the key", function()
      local ok, err = pcall(workflow.find_by_key, client_with({}), "AudienceDefinition",
        "no-such-audience", {"Name"}, "audience")
      assert.is_false(ok)
      assert.are.equal("No audience with the external key 'no-such-audience' was found in this "
        .. "account. Check the key (keys are case-sensitive) or pass another one (see --help).",
        err.stop)
      ok, err = pcall(workflow.find_by_key, client_with({}), "ImportDefinition", "x", {"Name"},
        "import definition", "No import 'x'.")
      assert.is_false(ok)
      assert.are.equal("No import 'x'.", err.stop)
    end)
  end)

  describe("perform_once", function()
    -- a client whose perform raises `err` (or answers `answer`) and counts its calls
    local calls
    local function client_raising(err, answer)
      calls = 0
      return {perform = function()
        calls = calls + 1
        if err then error(err, 0) end
        return answer
      end}
    end

    it("returns the answer of one Perform", function()
      local answer = {ok = true}
      assert.are.equal(answer, workflow.perform_once(client_raising(nil, answer), "start", {},
        "start it", "Check it."))
      assert.are.equal(1, calls)
    end)

    it("stops in plain words when the outcome is unknown, and does not perform again", function()
      local c = client_raising({kind = "transport", outcome_unknown = true,
        correlation_id = "c-1", message = "Perform request to host failed after it was sent"})
      local ok, err = pcall(workflow.perform_once, c, "start", {}, "start the send 'Spring'",
        "Look for it in the list.")
      assert.is_false(ok)
      assert.are.equal(1, calls)
      assert.are.equal("The request to start the send 'Spring' was sent, but the connection "
        .. "broke or timed out before the answer arrived, so it may or may not have been done. "
        .. "It was NOT sent again, so nothing is done twice. Look for it in the list. "
        .. "(Reference for support: correlation id c-1.)", err.stop)
      ok, err = pcall(workflow.perform_once, client_raising({kind = "http", http_status = 500,
        outcome_unknown = true}), "start", {}, "start it", "Check it.")
      assert.is_false(ok)
      assert.are.equal("The request to start it was sent, but Marketing Cloud answered with an "
        .. "HTTP 500 error page instead of a result, so it may or may not have been done. It "
        .. "was NOT sent again, so nothing is done twice. Check it.", err.stop)
    end)

    it("raises other errors as they are", function()
      local e = {kind = "auth", message = "Login Failed"}
      local ok, err = pcall(workflow.perform_once, client_raising(e), "start", {}, "x", "y")
      assert.is_false(ok)
      assert.are.equal(e, err)
    end)
  end)

  describe("follow", function()
    -- a client whose wait returns `status` or raises `err`, noting the options it was given
    local waited_with
    local function client_waiting(status, err)
      return {wait = function(_, _, opts)
        waited_with = opts
        if err then error(err, 0) end
        return status
      end}
    end
    local how = {what = "The send (job 7)", timeout = 60, check = "Check job 7.",
      status = function(s) return s.Status .. ", 1 of 2 sent" end}

    it("returns the final status, having waited as long as asked", function()
      local final = {Status = "Complete"}
      assert.are.equal(final, workflow.follow(client_waiting(final), {}, how))
      assert.are.same({timeout = 60}, waited_with)
    end)

    it("says a timeout leaves the work going on, not repeated", function()
      local ok, err = pcall(workflow.follow, client_waiting(nil, {kind = "timeout",
        status = {Status = "Sending"}, message = "gave up"}), {}, how)
      assert.is_false(ok)
      assert.are.equal("The send (job 7) had not finished after 60 s of waiting: its status is "
        .. "Sending, 1 of 2 sent. It carries on in Marketing Cloud and was NOT started again. "
        .. "Check job 7.", err.stop)
      ok, err = pcall(workflow.follow, client_waiting(nil, {kind = "timeout"}), {}, how)
      assert.is_false(ok)
      assert.matches("its status is not known yet%.", err.stop)
    end)

    it("says how the work ended badly, after the script's own words", function()
      local seen
      local failure = {kind = "failed", message = "Send 7 ended with Status 'Canceled'"}
      local ok, err = pcall(workflow.follow, client_waiting(nil, failure), {},
        setmetatable({failed = function(e) seen = e end}, {__index = how}))
      assert.is_false(ok)
      assert.are.equal(failure, seen)
      assert.are.equal("The send (job 7) ended badly: Send 7 ended with Status 'Canceled'",
        err.stop)
    end)

    it("says following failed and nothing was repeated when a poll fails for good", function()
      local ok, err = pcall(workflow.follow, client_waiting(nil, {kind = "transport",
        message = "while waiting for Send 7: connection refused"}), {}, how)
      assert.is_false(ok)
      assert.are.equal("The send (job 7) was started, but following it failed: while waiting "
        .. "for Send 7: connection refused. It was NOT started again. Check job 7.", err.stop)
    end)

    it("raises c:wait's usage errors as they are (nothing to follow)", function()
      local usage = {kind = "usage", message = "nothing to wait for"}
      local ok, err = pcall(workflow.follow, client_waiting(nil, usage), {}, how)
      assert.is_false(ok)
      assert.are.equal(usage, err)
    end)
  end)

  describe("message_of", function()
    it("takes the message of error tables and stops, and tostring of anything else", function()
      assert.are.equal("boom", workflow.message_of({message = "boom", stop = "ignored"}))
      assert.are.equal("halt", workflow.message_of({stop = "halt"}))
      assert.are.equal("plain", workflow.message_of("plain"))
      assert.are.equal("nil", workflow.message_of(nil))
    end)
  end)

  describe("confirm", function()
    it("goes ahead without asking or printing when told yes", function()
      assert.is_true(workflow.confirm("Send?", {yes = true}))
    end)
  end)
end)
