-- performlua.perform: the Perform page (../shared/seed/perform.md) as data, with what it leaves
-- out, and the checks the client applies before sending a Perform.
--
-- The one place these facts are written: the client's checks, c:wait (what to follow),
-- the sandbox's Perform (sandbox/actions.lua), mc.perform_actions, mc.help and the REPL's
-- completion
-- and the documentation all read this table.
local errors = require "performlua.errors"

local M = {}

-- did-you-mean, loaded when a mistake needs it (the sandbox loads this module too)
local function names_module() return require "performlua.names" end

-- How an action's work completes: the `completes` column, which says what c:wait follows.
local CALL = "call"             -- within the Perform call: the answer is the result itself
                                -- (Task.StatusMessage holds a count, Object a clone, ...)
local SEND = "send"             -- later: the Send whose ID is Task.ID (soap-api.md §8)
local IMPORT = "import"         -- later: the ImportResultsSummary whose TaskResultID is Task.ID
local ACTIVITY = "activity"     -- later: the AsyncActivityStatus whose TaskID is Task.ID
local AUTOMATION = "automation" -- later, without a Task: the Automation's own Status
M.COMPLETES = {CALL, SEND, IMPORT, ACTIVITY, AUTOMATION}

-- In the page's order, then the Perform-capable types the page does not list (`on_page =
-- false`: reference/soap-api.md §4, §6 and §8). `actions` are supported; `reserved` are marked
-- "reserved for future use" (refused unless the caller passes allow_reserved = true);
-- `completes` says how each of them (reserved ones too) completes; `requires_id`: without an ID
-- the service silently ignores the action. `wsdl_type` names the type's spelling in the WSDL
-- when the page spells it differently.
M.objects = {
  {type = "AudienceDefinition", actions = {"build", "clone", "totalcount", "count"},
   completes = {build = ACTIVITY, clone = CALL, totalcount = CALL, count = CALL}},
  {type = "AudienceSegmentDefinition", actions = {"Count"}, completes = {Count = CALL}},
  {type = "Campaign", actions = {"start", "stop"}, reserved = {"cancel", "pause"},
   completes = {start = ACTIVITY, stop = CALL, cancel = CALL, pause = CALL}},
  {type = "ContentValidation", actions = {"validate"}, completes = {validate = CALL}},
  {type = "DataExtractActivity", actions = {"start"}, completes = {start = ACTIVITY}},
  {type = "EmailSendDefinition", actions = {"start", "test", "GetMaxCount"},
   reserved = {"stop", "pause", "restart"},
   completes = {start = SEND, test = SEND, GetMaxCount = CALL, stop = CALL, pause = CALL,
                restart = SEND}},
  {type = "ExtractDefinition", actions = {"start"}, completes = {start = ACTIVITY}},
  {type = "FileTransferActivity", actions = {"start"}, completes = {start = ACTIVITY}},
  {type = "FileTrigger", actions = {"start"}, completes = {start = ACTIVITY}},
  {type = "FilterActivity", actions = {"start"}, completes = {start = ACTIVITY}},
  {type = "GroupDefinition", actions = {"start"}, completes = {start = ACTIVITY}},
  {type = "ImportDefinition", actions = {"start"}, completes = {start = IMPORT}},
  {type = "MessageSendActivity", actions = {"start"}, completes = {start = ACTIVITY}},
  {type = "PlatformApplication", actions = {"publish", "deploy"},
   completes = {publish = CALL, deploy = CALL}},
  {type = "ProgramManifestTemplate", actions = {"start"}, completes = {start = ACTIVITY}},
  {type = "Send", actions = {"pause", "resume", "cancel"}, requires_id = true,
   completes = {pause = CALL, resume = CALL, cancel = CALL}},
  {type = "SMSSendActivity", wsdl_type = "SmsSendActivity", actions = {"start"},
   completes = {start = ACTIVITY}},
  {type = "SystemEntityOperation", actions = {"start"}, completes = {start = ACTIVITY}},
  -- Performable but not on the page: the client sends any action on them as given (the
  -- service decides); mc.perform_actions marks them on_page = false.
  {type = "QueryDefinition", on_page = false, actions = {"start"},
   completes = {start = ACTIVITY}},
  {type = "Automation", on_page = false, actions = {"start"}, completes = {start = AUTOMATION}},
  {type = "DataExtension", on_page = false, actions = {"ClearData"},
   completes = {ClearData = CALL}},
}

local by_type = {}
local by_exact_type = {} -- as written: a constructor's type name, found without a lower-cased copy
for _, o in ipairs(M.objects) do
  o.reserved = o.reserved or {}
  o.on_page = o.on_page ~= false
  -- action names are case-insensitive (the docs write GetMaxCount and getmaxcount alike)
  o.completes_lower = {}
  for action, how in pairs(o.completes) do o.completes_lower[action:lower()] = how end
  by_type[o.type:lower()] = o
  by_exact_type[o.type] = o
  if o.wsdl_type then
    by_type[o.wsdl_type:lower()] = o
    by_exact_type[o.wsdl_type] = o
  end
end

--- The entry for a type name (case-insensitive; WSDL spellings too), or nil. Check `.on_page`
--- before treating it as the page's.
function M.lookup(type_name)
  if type(type_name) ~= "string" then return nil end
  return by_exact_type[type_name] or by_type[type_name:lower()]
end

--- How `action` on a definition of type `type_name` completes (one of COMPLETES), or nil when
--- the table does not say. Without an action, how the type's start completes: c:wait given
--- one PerformResult alone does not know the action it answers.
function M.completion(type_name, action)
  local o = M.lookup(type_name)
  if not o then return nil end
  return o.completes_lower[type(action) == "string" and action:lower() or "start"]
end

local function describe(o)
  local t = {type = o.type, requires_id = o.requires_id or false, reserved = {},
             on_page = o.on_page}
  for i, a in ipairs(o.actions) do t[i] = a end
  for i, a in ipairs(o.reserved) do t.reserved[i] = a end
  return t
end

--- mc.perform_actions(type): the actions performlua knows for a type, as an array, with
--- `.reserved` (the reserved ones), `.requires_id` and `.on_page` (false for the performable
--- types the Perform page leaves out: QueryDefinition, Automation, DataExtension). nil for an
--- API type with no Perform action known (the client still sends it as given; the service
--- decides); a name that is no type at all is a usage error naming the nearest types.
--- mc.perform_actions(): {[type] = that table} for every type with actions.
function M.perform_actions(type_name)
  if type_name == nil then
    local all = {}
    for _, o in ipairs(M.objects) do all[o.type] = describe(o) end
    return all
  end
  if type(type_name) ~= "string" then
    errors.usage("mc.perform_actions(type): type must be a type name such as "
      .. "\"EmailSendDefinition\", got " .. type(type_name))
  end
  local o = M.lookup(type_name)
  if o then return describe(o) end
  local core = require "performlua.core"
  if core.schema_type(type_name) then return nil end
  -- the nearest performable types first: a typo of "Send" means Send, not SendSummary
  local names = {}
  for _, entry in ipairs(M.objects) do names[#names + 1] = entry.type end
  local hint = names_module().did_you_mean(type_name, names)
  if hint == "" then hint = names_module().did_you_mean(type_name, core.object_types()) end
  errors.usage(string.format("mc.perform_actions: there is no API type %s%s; "
    .. "mc.perform_actions() lists the types with Perform actions", type_name, hint))
end

local function find(list, action)
  for _, a in ipairs(list) do
    if a == action then return a end -- as written, the usual case: no lower-cased copies
  end
  local lower = action:lower()
  for _, a in ipairs(list) do
    if a:lower() == lower then return a end
  end
  return nil
end

local usage = errors.usage

--- Checks one Perform call. `definitions` is an array of typed objects; `type_of(obj)` names
--- an object's type. Raises a usage error that says what to do; returns nothing when fine.
function M.check(action, definitions, type_of, allow_reserved)
  if type(action) ~= "string" or action == "" then
    usage("c:perform(action, definitions, options): action must be a non-empty string such as "
      .. "\"start\", got " .. (type(action) == "string" and '""' or type(action)))
  end
  if #definitions == 0 then
    usage("c:perform: no definitions given; pass one object or an array of objects")
  end
  for i, def in ipairs(definitions) do
    local tname = type_of(def)
    if not tname then
      usage(string.format("c:perform: definition %d has no type; build it with a constructor "
        .. "such as mc.EmailSendDefinition{CustomerKey = ...}", i))
    end
    local o = M.lookup(tname)
    if o and o.on_page then
      if find(o.reserved, action) then
        if not allow_reserved then
          usage(string.format("c:perform: the Perform page marks %s action '%s' as reserved for "
            .. "future use; the service may not support it. Pass {allow_reserved = true} in the "
            .. "options to send it anyway", o.type, action))
        end
      elseif not find(o.actions, action) then
        local valid = table.concat(o.actions, ", ")
        if #o.reserved > 0 then
          valid = valid .. " (reserved for future use, refused unless allow_reserved = true: "
            .. table.concat(o.reserved, ", ") .. ")"
        end
        usage(string.format("c:perform: %s has no Perform action '%s'; valid actions: %s",
          o.type, action, valid))
      end
      if o.requires_id and def.ID == nil then
        usage(string.format("c:perform: %s '%s' needs the %s's ID (definition %d has none): "
          .. "without an ID the service silently ignores the action", o.type, action, o.type, i))
      end
    end
    -- types the page does not list (DataExtension ClearData, QueryDefinition and Automation
    -- start, HiveQueryDefinition, ...) are sent as given: the service decides
  end
end

return M
