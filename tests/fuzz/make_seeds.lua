-- Writes the seed corpora of the fuzz targets that are not plain fixture files:
--   build/performlua tests/fuzz/make_seeds.lua      (from the source tree; rewrites the seeds)
-- decode's seeds are the response fixtures (tests/fixtures/*/ copied as they are); sandbox's are
-- HTTP requests for every operation and endpoint; token's are answers of the token endpoint;
-- config's are config files as the README shows them; roundtrip's pick each global element
-- once. The seeds are committed: run this again only when the shapes change.
local mc = require "performlua"
local core = require "performlua.core"

local DIR = "tests/fuzz/corpus/"

local function write(target, name, text)
  os.execute("mkdir -p " .. DIR .. target)
  local f = assert(io.open(DIR .. target .. "/" .. name, "wb"))
  f:write(text)
  f:close()
end

-- decode: the response fixtures as they are
for _, sub in ipairs{"responses", "real"} do
  local list = io.popen("ls tests/fixtures/" .. sub)
  for name in list:lines() do
    local f = assert(io.open("tests/fixtures/" .. sub .. "/" .. name, "rb"))
    write("decode", sub .. "_" .. name, f:read("a"))
    f:close()
  end
  list:close()
end

-- sandbox: each operation with username/password and with a token, plus the token endpoints
local esd = mc.EmailSendDefinition{CustomerKey = "spring-sale-send"}
local requests = {
  Create = {Options = {}, Objects = {mc.Subscriber{SubscriberKey = "k1", EmailAddress = "a@example.com"},
    mc.DataExtensionObject{CustomerKey = "Customers", Properties = {{Name = "EmailAddress", Value = "b@example.com"}}}}},
  Retrieve = {RetrieveRequest = {ObjectType = "Subscriber", Properties = {"SubscriberKey", "EmailAddress", "Status"},
    Filter = mc.ComplexFilterPart{LeftOperand = {Property = "Status", SimpleOperator = "IN", Value = {"Active", "Held"}},
      LogicalOperator = "OR", RightOperand = {Property = "CreatedDate", SimpleOperator = "between",
        DateValue = {0, "2030-12-31T23:59:59Z"}}}}},
  Update = {Options = {RequestType = "Asynchronous"}, Objects = {mc.Send{ID = 1}}},
  Delete = {Options = {}, Objects = {mc.List{ID = 1}}},
  Query = {QueryRequest = {Query = {Object = {ObjectType = "Send", Properties = {"ID"}}}}},
  Describe = {DescribeRequests = {{ObjectType = "Subscriber"}}},
  Execute = {Requests = {{Name = "LogUnsubEvent", Parameters = {{Name = "SubscriberKey", Value = "k1"}}}}},
  Perform = {Action = "start", Definitions = {esd}},
  Configure = {Action = "update", Configurations = {mc.PropertyDefinition{Name = "p"}}},
  Schedule = {Action = "start", Schedule = {Name = "s", StartDateTime = "2030-01-01T00:00:00Z",
    Recurrence = mc.DailyRecurrence{DailyRecurrencePatternType = "Interval", DayInterval = 1},
    RecurrenceType = "Daily", RecurrenceRangeType = "EndAfter", Occurrences = 3}, Interactions = {esd}},
  VersionInfo = {IncludeVersionHistory = true},
  Extract = {Requests = {{ID = "tracking-extract", Options = {}, Parameters = {{Name = "OutputFileName", Value = "out.zip"}}}}},
  GetSystemStatus = {},
}
local function http(method, path, headers, body)
  return method .. " " .. path .. "\n" .. table.concat(headers, "\n") .. "\n\n" .. body
end
for _, op in ipairs(core.operations()) do
  local wsse = mc.encode(op.name, requests[op.name], {header = {username = "sandbox", password = "sandbox"}})
  write("sandbox", op.name:lower() .. "_wsse", http("POST", "/Service.asmx",
    {"SOAPAction: " .. op.name, "Content-Type: text/xml; charset=utf-8", "Host: 127.0.0.1:8080"}, wsse))
  local oauth = mc.encode(op.name, requests[op.name], {header = {fueloauth = "@TOKEN@"}})
  write("sandbox", op.name:lower() .. "_oauth", http("POST", "/service.asmx",
    {'SOAPAction: "' .. op.name .. '"'}, oauth))
  write("sandbox", op.name:lower() .. "_validated", "%validate\n" .. http("POST", "/Service.asmx",
    {"SOAPAction: " .. op.name}, oauth))
end
write("sandbox", "perform_then_retrieve", http("POST", "/Service.asmx", {"SOAPAction: Perform"},
  mc.encode("Perform", requests.Perform, {header = {fueloauth = "@TOKEN@"}})) .. "\n%%\n"
  .. http("POST", "/Service.asmx", {"SOAPAction: Retrieve"}, mc.encode("Retrieve",
    {RetrieveRequest = {ObjectType = "Send", Properties = {"ID", "Status"}}}, {header = {fueloauth = "@TOKEN@"}})))
write("sandbox", "perform_automation", http("POST", "/Service.asmx", {"SOAPAction: Perform"},
  mc.encode("Perform", {Action = "start", Definitions = {mc.Automation{CustomerKey = "nightly-refresh"}}},
    {header = {fueloauth = "@TOKEN@"}})))
write("sandbox", "token", http("POST", "/v2/token", {"Host: 127.0.0.1:8080", "Content-Type: application/json"},
  '{"grant_type":"client_credentials","client_id":"sandbox","client_secret":"sandbox","account_id":"7281698"}'))
write("sandbox", "token_legacy", http("POST", "/v1/requestToken", {"Content-Type: application/json"},
  '{"clientId":"sandbox","clientSecret":"sandbox"}'))
write("sandbox", "not_found", http("GET", "/index.html", {}, ""))

-- token: "STATUS\n" then the body the token endpoint answers
write("token", "ok", "200\n" .. core.json_encode{access_token = "eyJhbGciOiJIUzI1NiJ9.token", token_type = "Bearer",
  expires_in = 1079, scope = "email_read email_send", soap_instance_url = "https://mc123.soap.marketingcloudapis.com/",
  rest_instance_url = "https://mc123.rest.marketingcloudapis.com/"})
write("token", "ok_no_soap_url", '200\n{"access_token":"abc123def","expires_in":1080}')
write("token", "refused", '401\n{"error":"invalid_client","error_description":"Client authentication failed.",'
  .. '"error_uri":"https://developer.salesforce.com/docs"}')
write("token", "legacy_error", '400\n{"message":"Unauthorized","errorcode":1,"documentation":""}')
write("token", "portal_page", "200\n<html><head><title>Sign in</title></head><body>portal</body></html>")
write("token", "bad_gateway", "502\n<html><title>502 Bad Gateway</title></html>")
write("token", "throttled", '429\n{"error":"rate_limited","error_description":"Too many requests"}')
write("token", "echoes_secret", '401\n{"error":"invalid_client","error_description":"bad secret @SECRET@"}')

-- config: the README's config file and its variants
write("config", "readme", [[
default_profile = "prod"
profiles = {
  prod = {client_id = "abc", client_secret = "s3cr3t", subdomain = "mc0123456789abcdefghijklmnop", account_id = 123456},
  legacy = {username = "api.user", password = "p4ss", soap_url = "https://webservice.s7.exacttarget.com/Service.asmx"},
}
]])
write("config", "computed", [[
local base = {subdomain = "mc0123456789", client_id = "id"}
profiles = {}
for i = 1, 3 do profiles["p" .. i] = base end
profiles.default = {client_id = "x" .. "y", client_secret = ("z"):rep(3), subdomain = "mc1"}
]])
write("config", "syntax_error", 'profiles = {prod = {client_secret = "unfinished}}\n')
write("config", "loops", "profiles = {}\nwhile true do end\n")
-- roundtrip: one program of choices per global element (its first byte picks the element), the
-- rest a fixed pseudo-random sequence
for i, element in ipairs(core.schema_globals()) do
  local bytes, x = {string.char(i - 1)}, i
  for k = 2, 300 do
    x = (x * 1103515245 + 12345) % 2147483648
    bytes[k] = string.char(x >> 16 & 0xFF)
  end
  write("roundtrip", element, table.concat(bytes))
end
print("seeds written under " .. DIR)
