-- performlua.sandbox.seed: the default account of the sandbox (replace it with
-- `performlua sandbox --seed FILE.lua`, a file returning a table shaped like this one).
--
-- Shape: {[ObjectType] = {object, ...}, rows = {[DE key] = {row, ...}},
--         generated = {[DE key] = row_count}, account_id = MID}
-- A row's values are Lua values of its columns' types (sandbox/rows.lua): a Number column an
-- integer, a Boolean one a boolean, a Date one its text ("2025-01-15T09:30:00"); text the
-- service would read the same way ("12", "true") is taken too. A value the column cannot hold
-- makes the seed an error.
-- Objects are written as the API spells them. Nested objects whose declared type is a base
-- type name their type with `_type`. Keys starting with "_" are the sandbox's own data:
--   AudienceDefinition `_source` (the CustomerKey of the data extension its people come
--     from) and `_filter` (a FilterPart over that data extension's columns): count and
--     totalcount are computed from them, build publishes into the data extension with the
--     audience's CustomerKey (sandbox/audience.lua has the whole model)
--   AudienceSegmentDefinition `_count`; an AudienceDefinition without `_source`: `_count`,
--     `_total`
--   EmailSendDefinition: its audience is its SendDefinitionList (a List, or a data extension
--     by CustomObjectID with an optional FilterDefinition); `_targets` = n (n active people)
--     only where it has none
--   ImportDefinition `_rows` (rows an import brings), activities `_rows` (TotalCount)
--
-- Keys the example scripts and the docs use (all CustomerKeys; case-sensitive):
--   Account                ID 7281698 "Acme (sandbox)": the account itself (the parent
--                          business unit); child units 7281701 "Acme Europe (sandbox)" (List
--                          201, Europe_Customers 24 rows, europe-newsletter-send) and 7281702
--                          "Acme Outlet (sandbox)" (List 301, Outlet_Shoppers 18 rows,
--                          outlet-clearance-send); BusinessUnit objects for all three
--   AudienceDefinition     spring-prospects (2,480 people of Web_Visitors' 2,611: those who
--                          browsed the spring collection; 2 of them are Unsubscribed or Held
--                          in All Subscribers, 1 Bounced), spring-sale-audience (1,250 of
--                          Spring_Sale_Customers' 1,302), loyalty-members-audience (36)
--   AudienceSegmentDefinition spring-prospects-vip (312)
--   EmailSendDefinition    spring-sale-send (Spring_Sale_Customers where IsActive: 1,250
--                          people; sender marketing-team), welcome-series-send
--                          (Loyalty_Members: 36 people)
--   SenderProfile          marketing-team, spring-team, support-team
--   TriggeredSendDefinition welcome-trigger (Active), paused-trigger (Inactive), draft-trigger
--                          (New)
--   Email                  spring-sale-email, welcome-email
--   DataExtension          Customers (40 rows), Loyalty_Members (36 rows, sendable),
--                          Web_Visitors (2,611 rows, sendable), Spring_Sale_Customers
--                          (1,302 rows, sendable),
--                          Big_Generated (1,000,000 generated rows, computed at page time)
--   ImportDefinition       daily-subscriber-import, daily-loyalty-import
--   QueryDefinition        active-subscribers-query
--   Automation             nightly-refresh
--   Campaign               spring-campaign;  PlatformApplication  preference-center-app
--   DataFolder             ID 5001 "Shared Data Extensions" (ContentType shared_data) of the
--                          parent: Shared_Members (12 rows, sendable) lies in it, so the child
--                          units use it as their own (rows, sends); ID 5000 "Data Extensions"
--   Installed packages     (`_packages`, sandbox-only) the fixed credentials reach every unit
--                          (a token per account_id); client id "sandbox-europe" (secret
--                          "sandbox-europe") is installed in Acme Europe and reaches it only
--   List                   ID 101 "Newsletter" (4 members), ID 102 "Spring Sale" (2);
--                          Subscribers ada@, ... and three web visitors (visitor-NNNN)
--   Send                   ID 51999901 (Complete, 6 days ago), 51999902 (Complete, yesterday)
--   and one of each start activity: DataExtractActivity daily-extract, ExtractDefinition
--   tracking-extract, FileTransferActivity sftp-upload, FileTrigger inbound-file-trigger,
--   FilterActivity active-customers-filter, GroupDefinition vip-group, MessageSendActivity
--   welcome-message-activity, ProgramManifestTemplate onboarding-program, SMSSendActivity
--   spring-sms, SmsSendActivity spring-sms-wsdl, SystemEntityOperation nightly-cleanup
local first_names = {"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken",
  "Frances", "John", "Radia", "Tim", "Sophie", "Dennis", "Hedy", "Linus", "Annie", "Guido",
  "Katherine", "Bjarne"}
local last_names = {"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton",
  "Thompson", "Allen", "McCarthy", "Perlman", "Berners-Lee", "Wilson", "Ritchie", "Lamarr",
  "Torvalds", "Easley", "van Rossum", "Johnson", "Stroustrup"}
local cities = {"London", "Paris", "Berlin", "Madrid", "Lisbon", "Dublin", "Vienna", "Oslo"}

local function customers(n)
  local rows = {}
  for i = 1, n do
    local first, last = first_names[(i - 1) % #first_names + 1], last_names[(i * 7 - 1) % #last_names + 1]
    rows[i] = {
      CustomerID = tostring(1000 + i),
      EmailAddress = string.format("%s.%s%d@example.com", first:lower(), last:lower():gsub("[^%w]", ""), i),
      FirstName = first, LastName = last, City = cities[(i - 1) % #cities + 1],
      Points = (i * 137) % 5000,
      JoinedDate = string.format("2025-%02d-%02dT09:30:00", (i - 1) % 12 + 1, (i * 3 - 1) % 28 + 1),
      IsActive = i % 5 ~= 0,
    }
  end
  return rows
end

local function loyalty(n)
  local rows = {}
  local tiers = {"Bronze", "Silver", "Gold", "Platinum"}
  for i = 1, n do
    local first = first_names[(i * 3 - 1) % #first_names + 1]
    rows[i] = {
      SubscriberKey = string.format("loyal-%04d", i),
      EmailAddress = string.format("member%d@example.com", i),
      FirstName = first, Tier = tiers[(i - 1) % #tiers + 1],
      Points = i * 250, JoinedDate = string.format("2024-%02d-15T12:00:00", (i - 1) % 12 + 1),
    }
  end
  return rows
end

-- Past sends are dated relative to today, so "the last 7 days" always finds them.
local function days_ago(days, plus_seconds)
  local t = (os.time() // 3600) * 3600 - days * 86400 + plus_seconds
  return os.date("!%Y-%m-%dT%H:%M:%S.000Z", t)
end

local function de(key, name, fields, sendable_on, object_id)
  return {CustomerKey = key, Name = name, Description = name .. " (sandbox seed)",
    IsSendable = sendable_on ~= nil, ObjectID = object_id,
    SendableDataExtensionField = sendable_on and {Name = sendable_on} or nil, Fields = fields}
end

-- Fixed ObjectIDs of the sendable data extensions, so send definitions can name them
-- (SendDefinitionList.CustomObjectID) in this file.
local WEB_VISITORS_ID = "5a1d0c3e-0001-4e6f-9a7b-000000002611"
local SPRING_SALE_CUSTOMERS_ID = "5a1d0c3e-0002-4e6f-9a7b-000000001302"
local LOYALTY_MEMBERS_ID = "5a1d0c3e-0003-4e6f-9a7b-000000000036"

-- i -> a position 0..n-1, a different one for each i (7919 is a prime that divides neither
-- 2,611 nor 1,302): the people a filter keeps are spread through the rows, not the first ones
local function spread(i, n) return (i * 7919) % n end

-- 2,611 visitors of the web shop, 2,480 of whom browsed the spring collection
local function web_visitors(n, browsed)
  local rows = {}
  for i = 1, n do
    local first = first_names[(i * 5 - 1) % #first_names + 1]
    rows[i] = {SubscriberKey = string.format("visitor-%04d", i),
      EmailAddress = string.format("visitor%d@example.com", i), FirstName = first,
      BrowsedSpring = spread(i, n) < browsed,
      LastVisit = string.format("2026-%02d-%02dT10:00:00", (i - 1) % 3 + 2, (i * 7 - 1) % 28 + 1)}
  end
  return rows
end

-- 1,302 customers of the spring sale, 1,250 of them active
local function spring_customers(n, active)
  local rows = {}
  for i = 1, n do
    rows[i] = {SubscriberKey = string.format("customer-%04d", i),
      EmailAddress = string.format("customer%d@example.com", i),
      FirstName = first_names[(i * 11 - 1) % #first_names + 1],
      IsActive = spread(i, n) < active}
  end
  return rows
end

-- The first visitors (by row) who browsed the spring collection: some of them are known
-- subscribers whose status a send to the spring prospects must respect.
local visitors = web_visitors(2611, 2480)
local browsers = {}
for _, r in ipairs(visitors) do
  if r.BrowsedSpring and #browsers < 3 then browsers[#browsers + 1] = r end
end

local function is_true(column)
  return {_type = "SimpleFilterPart", Property = column, SimpleOperator = "equals", Value = {"true"}}
end

local function activity(key, name)
  return {{CustomerKey = key, Name = name, Description = name .. " (sandbox seed)"}}
end

-- The enterprise: the parent business unit (the account, MID 7281698) and two child units,
-- each with a few objects of its own (`_mid` = the unit that owns an object; objects without
-- one belong to the parent).
local PARENT_MID, EUROPE_MID, OUTLET_MID = 7281698, 7281701, 7281702
local EUROPE_DE_ID = "5a1d0c3e-0101-4e6f-9a7b-000000000024"
local OUTLET_DE_ID = "5a1d0c3e-0102-4e6f-9a7b-000000000018"

local function in_unit(mid, obj)
  obj._mid = mid
  return obj
end

-- a child unit's sendable data extension of `n` people (SubscriberKey, EmailAddress, FirstName)
local function unit_people(prefix, n)
  local rows = {}
  for i = 1, n do
    rows[i] = {SubscriberKey = string.format("%s-%03d", prefix, i),
      EmailAddress = string.format("%s%d@example.com", prefix, i),
      FirstName = first_names[(i * 5 - 1) % #first_names + 1]}
  end
  return rows
end

local function unit_de(mid, key, name, object_id)
  return in_unit(mid, de(key, name, {
    {Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true, IsRequired = true},
    {Name = "EmailAddress", FieldType = "EmailAddress", MaxLength = 254},
    {Name = "FirstName", FieldType = "Text", MaxLength = 100},
  }, "SubscriberKey", object_id))
end

local SHARED_DE_ID = "5a1d0c3e-0201-4e6f-9a7b-000000000012"
local SHARED_FOLDER_ID = 5001

local function unit_send(mid, key, name, subject, de_id)
  return in_unit(mid, {CustomerKey = key, Name = name, EmailSubject = subject,
    SenderProfile = {CustomerKey = "marketing-team"}, Email = {ID = 8801},
    SendDefinitionList = {{SendDefinitionListType = "SourceList", DataSourceTypeID = "CustomObject",
      CustomObjectID = de_id, Name = name .. " audience"}}})
end

return {
  account_id = PARENT_MID,

  -- installed packages besides the fixed credentials (which reach every unit): the client id,
  -- its secret and the units its API user can reach, the first being the one it was installed
  -- in (a token without account_id acts there)
  _packages = {
    {client_id = "sandbox-europe", client_secret = "sandbox-europe", units = {EUROPE_MID}},
  },

  DataFolder = {
    {ID = 5000, Name = "Data Extensions", CustomerKey = "dataextension_default",
     ContentType = "dataextension", AllowChildren = true, IsActive = true},
    {ID = SHARED_FOLDER_ID, Name = "Shared Data Extensions", CustomerKey = "shared_dataextension_default",
     ContentType = "shared_data", AllowChildren = true, IsActive = true},
  },

  -- the business units (Retrieve BusinessUnit with QueryAllAccounts lists all three)
  BusinessUnit = {
    in_unit(PARENT_MID, {ID = PARENT_MID, Name = "Acme (sandbox)", CustomerKey = "acme",
      AccountType = "ENTERPRISE_2", IsActive = 1}),
    in_unit(EUROPE_MID, {ID = EUROPE_MID, Name = "Acme Europe (sandbox)", CustomerKey = "acme-europe",
      ParentID = PARENT_MID, ParentName = "Acme (sandbox)", AccountType = "BUSINESS_UNIT",
      IsActive = 1, Description = "Child business unit: the European stores"}),
    in_unit(OUTLET_MID, {ID = OUTLET_MID, Name = "Acme Outlet (sandbox)", CustomerKey = "acme-outlet",
      ParentID = PARENT_MID, ParentName = "Acme (sandbox)", AccountType = "BUSINESS_UNIT",
      IsActive = 1, Description = "Child business unit: the outlet stores"}),
  },

  -- the account itself, as Retrieve Account answers it (performlua doctor shows it)
  Account = {
    {ID = PARENT_MID, Name = "Acme (sandbox)", AccountType = "ENTERPRISE_2", IsActive = 1},
    in_unit(EUROPE_MID, {ID = EUROPE_MID, Name = "Acme Europe (sandbox)", ParentID = PARENT_MID,
      ParentName = "Acme (sandbox)", AccountType = "BUSINESS_UNIT", IsActive = 1}),
    in_unit(OUTLET_MID, {ID = OUTLET_MID, Name = "Acme Outlet (sandbox)", ParentID = PARENT_MID,
      ParentName = "Acme (sandbox)", AccountType = "BUSINESS_UNIT", IsActive = 1}),
  },

  AudienceDefinition = {
    {CustomerKey = "spring-prospects", Name = "Spring prospects",
     Description = "Everyone who browsed the spring collection", _source = "Web_Visitors",
     _filter = is_true("BrowsedSpring")},
    {CustomerKey = "spring-sale-audience", Name = "Spring sale audience",
     Description = "Active customers for the spring sale", _source = "Spring_Sale_Customers",
     _filter = is_true("IsActive")},
    {CustomerKey = "loyalty-members-audience", Name = "Loyalty members",
     Description = "Members of the loyalty programme", _source = "Loyalty_Members"},
  },
  AudienceSegmentDefinition = {
    {CustomerKey = "spring-prospects-vip", Name = "Spring prospects: VIP",
     Description = "Spring prospects with more than 1,000 points", _count = 312},
  },
  SenderProfile = {
    {CustomerKey = "marketing-team", Name = "Marketing team", FromName = "Acme Marketing",
     FromAddress = "marketing@acme.example"},
    {CustomerKey = "spring-team", Name = "Spring sale team", FromName = "Acme Spring Sale",
     FromAddress = "spring@acme.example"},
    {CustomerKey = "support-team", Name = "Support team", FromName = "Acme Support",
     FromAddress = "support@acme.example"},
  },
  Email = {
    {ID = 8801, CustomerKey = "spring-sale-email", Name = "Spring sale 2026",
     Subject = "Spring sale: 30% off everything", HTMLBody = "<p>Hello %%FirstName%%, spring is here.</p>",
     TextBody = "Hello %%FirstName%%, spring is here.", IsHTMLPaste = true},
    {ID = 8802, CustomerKey = "welcome-email", Name = "Welcome",
     Subject = "Welcome to Acme", HTMLBody = "<p>Welcome!</p>", TextBody = "Welcome!", IsHTMLPaste = true},
  },
  EmailSendDefinition = {
    {CustomerKey = "spring-sale-send", Name = "Spring sale send", Description = "The spring sale email",
     EmailSubject = "Spring sale: 30% off everything", TestEmailAddr = "qa@acme.example",
     SenderProfile = {CustomerKey = "marketing-team"}, Email = {ID = 8801},
     SendDefinitionList = {{SendDefinitionListType = "SourceList", DataSourceTypeID = "CustomObject",
       CustomObjectID = SPRING_SALE_CUSTOMERS_ID, Name = "Active spring sale customers",
       FilterDefinition = {Name = "Active", DataFilter = is_true("IsActive")}}}},
    {CustomerKey = "welcome-series-send", Name = "Welcome series send", EmailSubject = "Welcome to Acme",
     SenderProfile = {CustomerKey = "support-team"}, Email = {ID = 8802},
     SendDefinitionList = {{SendDefinitionListType = "SourceList", DataSourceTypeID = "CustomObject",
       CustomObjectID = LOYALTY_MEMBERS_ID, Name = "Loyalty members"}}},
    unit_send(EUROPE_MID, "europe-newsletter-send", "Europe newsletter send",
      "News from Acme Europe", EUROPE_DE_ID),
    unit_send(OUTLET_MID, "outlet-clearance-send", "Outlet clearance send",
      "Outlet clearance: last pieces", OUTLET_DE_ID),
  },
  -- triggered sends: one Active (sends at once), one Inactive (holds requests), one New
  TriggeredSendDefinition = {
    {CustomerKey = "welcome-trigger", Name = "Welcome trigger", TriggeredSendStatus = "Active",
     TriggeredSendType = "Continuous", EmailSubject = "Welcome to Acme", Email = {ID = 8802},
     SenderProfile = {CustomerKey = "support-team"}},
    {CustomerKey = "paused-trigger", Name = "Paused trigger", TriggeredSendStatus = "Inactive",
     TriggeredSendType = "Continuous", EmailSubject = "Your receipt", Email = {ID = 8802},
     SenderProfile = {CustomerKey = "support-team"}},
    {CustomerKey = "draft-trigger", Name = "Draft trigger", TriggeredSendStatus = "New",
     TriggeredSendType = "Continuous", Email = {ID = 8802}},
  },
  DataExtension = {
    de("Customers", "Customers", {
      {Name = "CustomerID", FieldType = "Text", MaxLength = 50, IsPrimaryKey = true, IsRequired = true},
      {Name = "EmailAddress", FieldType = "EmailAddress", MaxLength = 254},
      {Name = "FirstName", FieldType = "Text", MaxLength = 100},
      {Name = "LastName", FieldType = "Text", MaxLength = 100},
      {Name = "City", FieldType = "Text", MaxLength = 100},
      {Name = "Points", FieldType = "Number"},
      {Name = "JoinedDate", FieldType = "Date"},
      {Name = "IsActive", FieldType = "Boolean"},
    }),
    de("Loyalty_Members", "Loyalty members", {
      {Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true, IsRequired = true},
      {Name = "EmailAddress", FieldType = "EmailAddress", MaxLength = 254},
      {Name = "FirstName", FieldType = "Text", MaxLength = 100},
      {Name = "Tier", FieldType = "Text", MaxLength = 20},
      {Name = "Points", FieldType = "Number"},
      {Name = "JoinedDate", FieldType = "Date"},
    }, "SubscriberKey", LOYALTY_MEMBERS_ID),
    de("Web_Visitors", "Web visitors", {
      {Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true, IsRequired = true},
      {Name = "EmailAddress", FieldType = "EmailAddress", MaxLength = 254},
      {Name = "FirstName", FieldType = "Text", MaxLength = 100},
      {Name = "BrowsedSpring", FieldType = "Boolean"},
      {Name = "LastVisit", FieldType = "Date"},
    }, "SubscriberKey", WEB_VISITORS_ID),
    de("Spring_Sale_Customers", "Spring sale customers", {
      {Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true, IsRequired = true},
      {Name = "EmailAddress", FieldType = "EmailAddress", MaxLength = 254},
      {Name = "FirstName", FieldType = "Text", MaxLength = 100},
      {Name = "IsActive", FieldType = "Boolean"},
    }, "SubscriberKey", SPRING_SALE_CUSTOMERS_ID),
    -- in the parent's Shared Data Extensions folder: every child unit uses it
    (function()
      local shared = unit_de(PARENT_MID, "Shared_Members", "Shared members", SHARED_DE_ID)
      shared.CategoryID = SHARED_FOLDER_ID
      return shared
    end)(),
    unit_de(EUROPE_MID, "Europe_Customers", "Europe customers", EUROPE_DE_ID),
    unit_de(OUTLET_MID, "Outlet_Shoppers", "Outlet shoppers", OUTLET_DE_ID),
  },
  rows = {Customers = customers(40), Loyalty_Members = loyalty(36), Web_Visitors = visitors,
    Spring_Sale_Customers = spring_customers(1302, 1250),
    Shared_Members = unit_people("shared", 12),
    Europe_Customers = unit_people("europe", 24), Outlet_Shoppers = unit_people("outlet", 18)},
  generated = {Big_Generated = 1000000},
  ImportDefinition = {
    {CustomerKey = "daily-subscriber-import", Name = "Daily subscriber import",
     Description = "Loads subscribers.csv from the SFTP every morning",
     FileSpec = "subscribers_%%Year%%%%Month%%%%Day%%.csv",
     FileType = "CSV", UpdateType = "AddAndUpdate", AllowErrors = true, FieldMappingType = "InferFromColumnHeadings",
     DestinationObject = {_type = "List", ID = 101}, _rows = 500},
    {CustomerKey = "daily-loyalty-import", Name = "Daily loyalty import",
     Description = "Loads loyalty.csv into Loyalty_Members", FileSpec = "loyalty_%%Year%%%%Month%%%%Day%%.csv",
     FileType = "CSV", UpdateType = "AddAndUpdate", AllowErrors = false, FieldMappingType = "InferFromColumnHeadings",
     DestinationObject = {_type = "DataExtension", CustomerKey = "Loyalty_Members"}, _rows = 36},
  },
  QueryDefinition = {
    {CustomerKey = "active-subscribers-query", Name = "Active subscribers",
     Description = "Active customers into Customers_Active",
     QueryText = "SELECT CustomerID, EmailAddress FROM Customers WHERE IsActive = 1",
     TargetType = "DE", TargetUpdateType = "Overwrite", _rows = 32},
  },
  Automation = {
    {CustomerKey = "nightly-refresh", Name = "Nightly refresh", Description = "Import, then query",
     IsActive = true, Status = 2},
  },
  Campaign = {{CustomerKey = "spring-campaign", Name = "Spring campaign 2026"}},
  PlatformApplication = {
    {CustomerKey = "preference-center-app",
     Package = {CustomerKey = "preference-center-pkg", DeveloperVersion = "1.4.0"},
     Packages = {{CustomerKey = "preference-center-pkg", DeveloperVersion = "1.4.0"}}, DeveloperVersion = "1.4.0"},
  },
  List = {
    {ID = 101, ListName = "Newsletter", Type = "Public", Description = "Monthly newsletter"},
    {ID = 102, ListName = "Spring Sale", Type = "Private", Description = "Spring sale sign-ups"},
    in_unit(EUROPE_MID, {ID = 201, ListName = "Europe newsletter", Type = "Public",
      Description = "Newsletter of the European stores"}),
    in_unit(OUTLET_MID, {ID = 301, ListName = "Outlet alerts", Type = "Public",
      Description = "Clearance alerts of the outlet stores"}),
  },
  -- All Subscribers; Lists = the lists each one is on (by List ID)
  Subscriber = {
    {SubscriberKey = "ada@example.com", EmailAddress = "ada@example.com", Status = "Active",
     Lists = {{ID = 101, Status = "Active"}, {ID = 102, Status = "Active"}}},
    {SubscriberKey = "grace@example.com", EmailAddress = "grace@example.com", Status = "Active",
     Lists = {{ID = 101, Status = "Active"}}},
    {SubscriberKey = "alan@example.com", EmailAddress = "alan@example.com", Status = "Unsubscribed",
     Lists = {{ID = 101, Status = "Active"}}},
    {SubscriberKey = "edsger@example.com", EmailAddress = "edsger@example.com", Status = "Bounced",
     Lists = {{ID = 101, Status = "Active"}}},
    {SubscriberKey = "barbara@example.com", EmailAddress = "barbara@example.com", Status = "Active",
     Lists = {{ID = 102, Status = "Unsubscribed"}}},
    {SubscriberKey = browsers[1].SubscriberKey, EmailAddress = browsers[1].EmailAddress,
     Status = "Unsubscribed"},
    {SubscriberKey = browsers[2].SubscriberKey, EmailAddress = browsers[2].EmailAddress, Status = "Held"},
    {SubscriberKey = browsers[3].SubscriberKey, EmailAddress = browsers[3].EmailAddress,
     Status = "Bounced"},
  },
  Send = {
    {ID = 51999901, EmailName = "Spring teaser", Subject = "Something is coming", Status = "Complete",
     FromName = "Acme Marketing", FromAddress = "marketing@acme.example",
     SendDate = days_ago(6, 0), SentDate = days_ago(6, 252),
     NumberTargeted = 1200, NumberSent = 1200, NumberDelivered = 1187, NumberErrored = 13},
    {ID = 51999902, EmailName = "Welcome", Subject = "Welcome to Acme", Status = "Complete",
     FromName = "Acme Support", FromAddress = "support@acme.example",
     SendDate = days_ago(1, 0), SentDate = days_ago(1, 40),
     NumberTargeted = 36, NumberSent = 36, NumberDelivered = 36, NumberErrored = 0},
  },
  DataExtractActivity = activity("daily-extract", "Daily extract"),
  ExtractDefinition = {{CustomerKey = "tracking-extract", Name = "Tracking extract"}},
  FileTransferActivity = activity("sftp-upload", "SFTP upload"),
  FileTrigger = activity("inbound-file-trigger", "Inbound file trigger"),
  FilterActivity = activity("active-customers-filter", "Active customers filter"),
  GroupDefinition = activity("vip-group", "VIP group"),
  MessageSendActivity = activity("welcome-message-activity", "Welcome message"),
  ProgramManifestTemplate = {{CustomerKey = "onboarding-program", Type = "Program", Content = "{}"}},
  SMSSendActivity = activity("spring-sms", "Spring SMS"),
  SmsSendActivity = activity("spring-sms-wsdl", "Spring SMS (WSDL spelling)"),
  SystemEntityOperation = activity("nightly-cleanup", "Nightly cleanup"),
}
