-- Writes the neutral endpoint's canned answers (tests/bench/side_by_side.sh serves them with
-- nginx): what the sandbox answers to the benchmark's Perform and Retrieve, recorded once, so every client then reads the same bytes from a server that does no work.
--
--   performlua tests/bench/canned_answers.lua OUT_DIR
--
-- OUT_DIR gets perform.xml (Perform start of an ImportDefinition: one PerformResult) and
-- retrieve.xml (the first page of a 1,000,000-row data extension: 2,500 rows of five columns,
-- OverallStatus MoreDataAvailable). Recording from the sandbox keeps the answers in the shape
-- the service gives (namespaces, the WS-Addressing header, xsi:type), which the sandbox's own
-- tests hold to the WSDL. Prints one line per file. (The token answer, which names nginx's
-- port as soap_instance_url, is side_by_side.sh's to write.)
local core = require "performlua.core"
local loop = require "performlua.loop"
local sandbox = require "performlua.sandbox"
local types = require "performlua.types"

local out_dir = arg[1]
if not out_dir then
  io.stderr:write("usage: performlua canned_answers.lua OUT_DIR\n")
  os.exit(2)
end

-- What the benchmark sends; node_bench.mjs and bench_endpoint.lua make the same calls.
local PERFORM_TYPE, PERFORM_KEY = "ImportDefinition", "daily-subscriber-import"
local DE_KEY = "Big_Generated"
local COLUMNS = {"SubscriberKey", "EmailAddress", "FirstName", "Points", "JoinedDate"}

local function write(name, text)
  local path = out_dir .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  print(string.format("%s %d bytes", name, #text))
end

local function post(url, body, headers)
  local resp = loop.http{url = url, body = body, headers = headers, idempotent = true,
    timeout = 60, connect_timeout = 10}
  if resp.curl_code ~= 0 or resp.status ~= 200 then
    error(string.format("recording from the sandbox failed: %s HTTP %d %s", url, resp.status,
      resp.error or resp.body:sub(1, 300)), 0)
  end
  return resp.body
end

local sb <close> = sandbox.start{port = 0}
local token = core.json_decode(post(sb.token_url, core.json_encode{grant_type =
  "client_credentials", client_id = sb.client_id, client_secret = sb.client_secret},
  {"Content-Type: application/json"})).access_token

local function soap(op, request)
  local body = post(sb.soap_url, core.encode(op, request, {header = {fueloauth = token}}),
    {"Content-Type: text/xml; charset=utf-8", "SOAPAction: " .. op})
  -- the recording must be an answer, not a fault or an error status in disguise
  local decoded = core.decode(body)
  local status = decoded.OverallStatus
  if status ~= "OK" and status ~= "MoreDataAvailable" then
    error(op .. ": the sandbox answered " .. tostring(status), 0)
  end
  return body, decoded
end

local perform = soap("Perform", {Action = "start",
  Definitions = {types.constructor(PERFORM_TYPE){CustomerKey = PERFORM_KEY}}})
local page, decoded = soap("Retrieve", {RetrieveRequest = {
  ObjectType = "DataExtensionObject[" .. DE_KEY .. "]", Properties = COLUMNS}})
if decoded.OverallStatus ~= "MoreDataAvailable" or #decoded.Results ~= 2500 then
  error(string.format("the recorded page has %d rows (%s); expected 2,500 and more to come",
    #decoded.Results, tostring(decoded.OverallStatus)), 0)
end

write("perform.xml", perform)
write("retrieve.xml", page)
