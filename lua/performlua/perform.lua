-- performlua.perform: the Perform page (../shared/seed/perform.md) as data, and the checks the
-- client applies before sending a Perform.
--
-- The one place the page is restated: the client's checks, mc.perform_actions (REPL help and
-- completion) and the documentation all read this table.
local errors = require "performlua.errors"

local M = {}

-- In the page's order. `actions` are supported; `reserved` are marked "reserved for future use"
-- (refused unless the caller passes allow_reserved = true); `requires_id`: without an ID the
-- service silently ignores the action. `wsdl_type` names the type's spelling in the WSDL when the
-- page spells it differently.
M.objects = {
  {type = "AudienceDefinition", actions = {"build", "clone", "totalcount", "count"}},
  {type = "AudienceSegmentDefinition", actions = {"Count"}},
  {type = "Campaign", actions = {"start", "stop"}, reserved = {"cancel", "pause"}},
  {type = "ContentValidation", actions = {"validate"}},
  {type = "DataExtractActivity", actions = {"start"}},
  {type = "EmailSendDefinition", actions = {"start", "test", "GetMaxCount"},
   reserved = {"stop", "pause", "restart"}},
  {type = "ExtractDefinition", actions = {"start"}},
  {type = "FileTransferActivity", actions = {"start"}},
  {type = "FileTrigger", actions = {"start"}},
  {type = "FilterActivity", actions = {"start"}},
  {type = "GroupDefinition", actions = {"start"}},
  {type = "ImportDefinition", actions = {"start"}},
  {type = "MessageSendActivity", actions = {"start"}},
  {type = "PlatformApplication", actions = {"publish", "deploy"}},
  {type = "ProgramManifestTemplate", actions = {"start"}},
  {type = "Send", actions = {"pause", "resume", "cancel"}, requires_id = true},
  {type = "SMSSendActivity", wsdl_type = "SmsSendActivity", actions = {"start"}},
  {type = "SystemEntityOperation", actions = {"start"}},
}

local by_type = {}
for _, o in ipairs(M.objects) do
  o.reserved = o.reserved or {}
  by_type[o.type:lower()] = o
  if o.wsdl_type then by_type[o.wsdl_type:lower()] = o end
end

--- The page's entry for a type name (case-insensitive; WSDL spellings too), or nil.
function M.lookup(type_name)
  return type(type_name) == "string" and by_type[type_name:lower()] or nil
end

local function describe(o)
  local t = {type = o.type, requires_id = o.requires_id or false, reserved = {}}
  for i, a in ipairs(o.actions) do t[i] = a end
  for i, a in ipairs(o.reserved) do t.reserved[i] = a end
  return t
end

--- mc.perform_actions(type): the actions the page lists for a type, as an array, with
--- `.reserved` (the reserved ones) and `.requires_id`; nil for a type the page does not list.
--- mc.perform_actions(): {[type] = that table} for every type on the page.
function M.perform_actions(type_name)
  if type_name == nil then
    local all = {}
    for _, o in ipairs(M.objects) do all[o.type] = describe(o) end
    return all
  end
  local o = M.lookup(type_name)
  return o and describe(o) or nil
end

local function find(list, action)
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
    if o then
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
    -- start, ...) are sent as given: the service decides
  end
end

return M
