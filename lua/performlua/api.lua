-- performlua.api: the public functions of `mc` and the methods of a client, each with its
-- one-line signature and purpose. The one list of them: mc.help shows it, the REPL completes
-- `c:` from its methods (nothing private), and tests/spec/help_spec.lua holds the README's
-- tables and init.lua's `owners` to it. A new public function or method gets a row here.
local M = {}

-- `name` as it is called; `owner`, the module that defines it (init.lua's `owners`).
M.functions = {
  {name = "connect", owner = "performlua.client", signature = "mc.connect{settings} -> client",
   purpose = "a client for one account: settings from the arguments, the environment, a "
     .. "profile or --sandbox (performlua.settings lists them)"},
  {name = "help", owner = "performlua.help", signature = "mc.help(x)",
   purpose = "what x is: a type's fields and Perform actions, an enumeration's values, a "
     .. "function's or method's signature (c:help(type) adds what Describe says)"},
  {name = "types", owner = "performlua.types", signature = "mc.types() -> {name, ...}",
   purpose = "the names of every type mc.<Type>{...} builds, sorted"},
  {name = "typeof", owner = "performlua.types", signature = "mc.typeof(v) -> name | nil",
   purpose = "the API type of a constructed or decoded object"},
  {name = "perform_actions", owner = "performlua.perform",
   signature = "mc.perform_actions([type]) -> {action, ..., reserved =, requires_id =}",
   purpose = "the Perform actions of a type (of every type without one); a misspelt type is "
     .. "an error naming the nearest"},
  {name = "encode", owner = "performlua.types",
   signature = "mc.encode(operation, request[, {indent = true}]) -> xml",
   purpose = "the SOAP envelope of a request, e.g. for a dry run (indented for people)"},
  {name = "decode", owner = "performlua.types", signature = "mc.decode(xml) -> body, element",
   purpose = "a SOAP answer as typed tables; a fault raises"},
  {name = "parallel", owner = "performlua.loop", signature = "mc.parallel(f, g, ...) -> ...",
   purpose = "runs the functions side by side on one event loop; their results in order"},
  {name = "map", owner = "performlua.loop",
   signature = "mc.map(list, fn[, {concurrency = N}]) -> results",
   purpose = "fn(item) for every item, at most N at once"},
  {name = "sleep", owner = "performlua.loop", signature = "mc.sleep(seconds)",
   purpose = "waits without holding up other tasks"},
  {name = "now", owner = "performlua.loop", signature = "mc.now() -> seconds",
   purpose = "a monotonic clock for durations: mc.now() - started"},
  {name = "step", owner = "performlua.journal",
   signature = "mc.step(name[, {check =, resume =}], fn) -> fn's results",
   purpose = "runs fn once per run of the command: kept in the run journal, so a re-run after "
     .. "a failure returns what it recorded and never sends a call in doubt again"},
  {name = "isatty", owner = "performlua.terminal", signature = "mc.isatty(stream) -> boolean",
   purpose = "whether \"stdin\", \"stdout\" or \"stderr\" is a terminal (someone can answer)"},
  {name = "pretty", owner = "performlua.pretty", signature = "mc.pretty(value[, opts]) -> text",
   purpose = "any value as readable Lua, secrets redacted"},
  {name = "json_encode", owner = "performlua.json", signature = "mc.json_encode(value) -> text",
   purpose = "JSON for programs (keys sorted; mc.json_null is null)"},
  {name = "json_decode", owner = "performlua.json",
   signature = "mc.json_decode(text) -> value | nil, message", purpose = "JSON text as Lua"},
  {name = "suggest", owner = "performlua.names",
   signature = "mc.suggest(name, candidates[, max]) -> {nearest, ...}",
   purpose = "did you mean: the candidates nearest to a misspelt name"},
  {name = "sandbox.start", owner = "performlua.sandbox", signature = "mc.sandbox.start{...} -> sb",
   purpose = "an emulated account on 127.0.0.1: sb:account() is mc.connect's argument, "
     .. "sb:stop() ends it"},
  {name = "sandbox.default", owner = "performlua.sandbox", signature = "mc.sandbox.default() -> sb | nil",
   purpose = "the sandbox --sandbox started (what mc.connect() reaches), nil against a real account"},
}

M.methods = {
  {name = "perform", signature = "c:perform(action, definitions[, options]) -> result",
   purpose = "a Perform action (start, count, ...) on one definition or many; reserved "
     .. "actions need {allow_reserved = true}"},
  {name = "create", signature = "c:create(objects[, options]) -> result",
   purpose = "creates objects ({client_id = MID} creates them in another business unit, as "
     .. "update, delete, perform, configure and schedule take it)"},
  {name = "retrieve", signature = "c:retrieve(type[, properties[, filter[, options]]]) -> page",
   purpose = "one page of objects (page.more: c:continue(page) for the next); checked against "
     .. "the schema before sending; options {business_units = {MID, ...}} or "
     .. "{all_business_units = true} read other business units"},
  {name = "continue", signature = "c:continue(page) -> page | nil",
   purpose = "the next page of a retrieve, nil after the last"},
  {name = "each", signature = "for obj in c:each(type[, properties[, filter[, options]]])",
   purpose = "every object of a retrieve, one page in memory; DataExtensionObject[Key] rows "
     .. "as {column = value}"},
  {name = "retrieve_all", signature = "c:retrieve_all(type[, properties[, filter[, options]]]) -> objects",
   purpose = "every object in one array (for results that fit in memory)"},
  {name = "default_properties", signature = "c:default_properties(type) -> {name, ...}",
   purpose = "what c:retrieve asks for without a list: Describe's retrievable properties, or "
     .. "a data extension's columns"},
  {name = "update", signature = "c:update(objects[, options]) -> result", purpose = "updates objects"},
  {name = "delete", signature = "c:delete(objects[, options]) -> result", purpose = "deletes objects"},
  {name = "describe", signature = "c:describe(type) -> result",
   purpose = "the service's definition of a type (its ObjectDefinition and properties)"},
  {name = "execute", signature = "c:execute(requests) -> result", purpose = "Execute requests"},
  {name = "configure", signature = "c:configure(action, configurations[, options]) -> result",
   purpose = "Configure (create, update, delete account configuration)"},
  {name = "schedule", signature = "c:schedule(action, schedule, interactions[, options]) -> result",
   purpose = "schedules interactions (start, ...)"},
  {name = "extract", signature = "c:extract(requests) -> result", purpose = "data extracts"},
  {name = "version_info", signature = "c:version_info([include_history]) -> result",
   purpose = "the service's version"},
  {name = "system_status", signature = "c:system_status() -> result",
   purpose = "whether the service is up (Results[1].SystemStatus)"},
  {name = "wait", signature = "c:wait(result[, {timeout =, interval =, report_every =}]) -> status",
   purpose = "follows the work a Perform started (a send, an import, an activity) to its end"},
  {name = "help", signature = "c:help(type)",
   purpose = "mc.help(type) with the account's Describe: which fields it retrieves and updates"},
}

local functions_by_name, methods_by_name = {}, {}
for _, f in ipairs(M.functions) do functions_by_name[f.name] = f end
for _, m in ipairs(M.methods) do methods_by_name[m.name] = m end

--- The entry of an mc function ("connect", "mc.connect", "sandbox.start"), or nil.
function M.function_entry(name)
  if type(name) ~= "string" then return nil end
  return functions_by_name[name:gsub("^mc%.", "")]
end

--- The entry of a client method ("perform", "c:perform"), or nil.
function M.method_entry(name)
  if type(name) ~= "string" then return nil end
  return methods_by_name[name:gsub("^[%a_][%w_]*:", "")]
end

--- The public method names, sorted (what `c:<Tab>` offers).
function M.method_names()
  local names = {}
  for i, m in ipairs(M.methods) do names[i] = m.name end
  table.sort(names)
  return names
end

return M
