-- Business units through the public API: the default sandbox is an enterprise (the parent
-- 7281698 and two child units), mc.connect{account_id =} picks a unit, and the per-call
-- options client_id, business_units and all_business_units act in or read other units.
local mc = require "performlua"
local auth = require "performlua.auth"
local sandbox = require "performlua.sandbox"
local ch = require "client_helper"
local uh = require "usage_helper"

local PARENT, EUROPE, OUTLET = 7281698, 7281701, 7281702

local function ids(results, field)
  local out = {}
  for i, o in ipairs(results or {}) do out[i] = o[field or "ID"] end
  table.sort(out, function(a, b)
    if type(a) == "number" and type(b) == "number" then return a < b end
    return tostring(a) < tostring(b)
  end)
  return out
end

describe("business units", function()
  local sb, c
  setup(function()
    auth._reset()
    sb = sandbox.start{port = 0, wsdl = require("wsdl_helper").path()}
    c = ch.connect(sb)
  end)
  teardown(function() if sb then sb:stop() end end)

  it("the parent sees its own objects; all_business_units reads every unit, with Client.ID", function()
    assert.are.same({101, 102}, ids(c:retrieve("List", {"ID"}).Results))
    local all = c:retrieve("List", {"ID", "Client.ID"}, nil, {all_business_units = true})
    assert.is_true(all.ok)
    local owner = {}
    for _, l in ipairs(all.Results) do owner[l.ID] = l.Client.ID end
    assert.are.same({[101] = PARENT, [102] = PARENT, [201] = EUROPE, [301] = OUTLET}, owner)
    local units = c:retrieve("BusinessUnit", {"ID", "Name", "ParentID"}, nil, {all_business_units = true})
    assert.are.same({PARENT, EUROPE, OUTLET}, ids(units.Results))
    for _, u in ipairs(units.Results) do
      if u.ID ~= PARENT then assert.are.equal(PARENT, u.ParentID) end
    end
    -- the account the token is for, as doctor reads it
    assert.are.same({PARENT}, ids(c:retrieve("Account", {"ID", "Name"}).Results))
    -- the children's own, and the parent's shared one (in its Shared Data Extensions folder)
    assert.are.same({"Europe_Customers", "Outlet_Shoppers", "Shared_Members"}, ids(c:retrieve(
      "DataExtension", {"CustomerKey"}, nil, {business_units = {EUROPE, OUTLET}}).Results, "CustomerKey"))
  end)

  it("a token for a child unit sees that unit's objects only", function()
    local child = ch.connect(sb, {account_id = EUROPE})
    assert.are.same({201}, ids(child:retrieve("List", {"ID"}).Results))
    assert.are.same({"europe-newsletter-send"}, ids(child:retrieve("EmailSendDefinition",
      {"CustomerKey"}).Results, "CustomerKey"))
    assert.are.same({EUROPE}, ids(child:retrieve("Account", {"ID"}).Results))
    -- all_business_units from a child reaches that child only
    assert.are.same({201}, ids(child:retrieve("List", {"ID"}, nil, {all_business_units = true}).Results))
    -- a child cannot read its parent or its sibling
    local r = child:retrieve("List", {"ID"}, nil, {client_id = OUTLET})
    assert.is_false(r.ok)
    assert.matches("ClientIDs names 7281702, which is not a business unit", r.OverallStatus, 1, true)
  end)

  it("a MID outside the enterprise is refused at the token endpoint", function()
    local stranger = ch.connect(sb, {account_id = 1234567, retries = 0})
    local ok, err = pcall(stranger.retrieve, stranger, "List", {"ID"})
    assert.is_false(ok)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.http_status)
    assert.matches("account_id 1234567 is not a business unit of this account", err.message, 1, true)
    assert.is_nil(err.message:find("client_secret = ", 1, true))
  end)

  it("a script touches two units: creates in a child from the parent, retrieves across both", function()
    local made = c:create(mc.List{ListName = "Made by the parent for Outlet"}, {client_id = OUTLET})
    assert.is_true(made.ok)
    local new_id = made.Results[1].NewID
    -- not in the parent's own lists
    assert.is_nil(ids(c:retrieve("List", {"ID"}).Results)[3])
    local both = c:retrieve_all("List", {"ID", "ListName", "Client.ID"}, nil,
      {business_units = {PARENT, OUTLET}})
    local owner = {}
    for _, l in ipairs(both) do owner[l.ID] = l.Client.ID end
    assert.are.same({[101] = PARENT, [102] = PARENT, [301] = OUTLET, [new_id] = OUTLET}, owner)
    -- the child's own token sees it
    local outlet = ch.connect(sb, {account_id = OUTLET})
    assert.are.same({301, new_id}, ids(outlet:retrieve("List", {"ID"}).Results))
    -- update and delete in the child from the parent
    assert.is_true(c:update(mc.List{ID = new_id, Description = "renamed"}, {client_id = OUTLET}).ok)
    local elsewhere = c:delete(mc.List{ID = new_id}) -- the parent's own unit has no such list
    assert.is_false(elsewhere.ok)
    assert.are.equal("No List with ID '" .. new_id .. "' exists", elsewhere.Results[1].StatusMessage)
    assert.is_true(c:delete(mc.List{ID = new_id}, {client_id = OUTLET}).ok)
    assert.are.same({301}, ids(outlet:retrieve("List", {"ID"}).Results))
  end)

  it("Perform acts in the unit client_id names", function()
    local send = mc.EmailSendDefinition{CustomerKey = "europe-newsletter-send"}
    local elsewhere = c:perform("start", send) -- the parent has no such definition
    assert.is_false(elsewhere.ok)
    assert.are.equal("EmailSendDefinition not found: no EmailSendDefinition with CustomerKey "
      .. "'europe-newsletter-send' exists in this account", elsewhere.Results[1].StatusMessage)
    local r = c:perform("start", send, {client_id = EUROPE})
    assert.is_true(r.ok, tostring(r.Results[1].StatusMessage))
    -- a child cannot act in its sibling
    local child = ch.connect(sb, {account_id = OUTLET})
    local ok, err = pcall(child.perform, child, "start", send, {client_id = EUROPE})
    assert.is_false(ok)
    assert.are.equal("fault", err.kind)
    assert.matches("Options.Client.ID 7281701 is not a business unit", err.message, 1, true)
  end)

  it("a data extension's rows are found in its own unit only", function()
    local parent_reads = c:retrieve("DataExtensionObject[Europe_Customers]", {"SubscriberKey"})
    assert.is_false(parent_reads.ok)
    assert.matches("Unable to find a handler for object type: DataExtensionObject[Europe_Customers]",
      parent_reads.OverallStatus, 1, true)
    assert.are.equal(24, #c:retrieve_all("DataExtensionObject[Europe_Customers]", {"SubscriberKey"},
      nil, {client_id = EUROPE}))
    local row = mc.DataExtensionObject{CustomerKey = "Europe_Customers", Properties = {
      {Name = "SubscriberKey", Value = "europe-new"}, {Name = "EmailAddress", Value = "new@example.com"}}}
    local refused = c:create(row)
    assert.is_false(refused.ok)
    assert.are.equal("No data extension with the CustomerKey or Name 'Europe_Customers' exists",
      refused.Results[1].StatusMessage)
    assert.is_true(c:create(row, {client_id = EUROPE}).ok)
    local europe = ch.connect(sb, {account_id = EUROPE})
    assert.are.equal(25, #europe:retrieve_all("DataExtensionObject[Europe_Customers]", {"SubscriberKey"}))
    assert.is_false(europe:retrieve("DataExtensionObject[Customers]", {"CustomerID"}).ok)
  end)

  it("a CustomerKey is unique within a unit: a child may reuse its parent's key", function()
    local function de(description)
      return mc.DataExtension{CustomerKey = "Shared_Key", Name = "Shared key", Description = description,
        Fields = {{Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true,
          IsRequired = true}, {Name = "Unit", FieldType = "Text", MaxLength = 50}}}
    end
    local europe = ch.connect(sb, {account_id = EUROPE})
    local made = c:create(de("the parent's"))
    assert.is_true(made.ok, tostring(made.Results[1].StatusMessage))
    -- the same key in a child unit: the service accepts it (the key is unique per unit)
    local in_child = europe:create(de("Europe's"))
    assert.is_true(in_child.ok, tostring(in_child.Results[1].StatusMessage))
    -- and from the parent acting in its other child
    local in_outlet = c:create(de("Outlet's"), {client_id = OUTLET})
    assert.is_true(in_outlet.ok, tostring(in_outlet.Results[1].StatusMessage))
    -- within one unit it is still a duplicate
    for _, again in ipairs{c:create(de("again")), europe:create(de("again")),
        c:create(de("again"), {client_id = EUROPE})} do
      assert.is_false(again.ok)
      assert.are.equal("A DataExtension with the CustomerKey 'Shared_Key' already exists",
        again.Results[1].StatusMessage)
    end

    -- rows written through each unit's DataExtensionObject[Shared_Key] stay in that unit
    local function row(key, unit)
      return mc.DataExtensionObject{CustomerKey = "Shared_Key", Properties = {
        {Name = "SubscriberKey", Value = key}, {Name = "Unit", Value = unit}}}
    end
    assert.is_true(c:create(row("p-1", "parent")).ok)
    assert.is_true(c:create(row("p-2", "parent")).ok)
    assert.is_true(europe:create(row("e-1", "europe")).ok)
    -- the same primary key in the other unit's data extension is no duplicate
    assert.is_true(c:create(row("p-1", "outlet"), {client_id = OUTLET}).ok)
    local function unit_rows(client, opts)
      local out = {}
      for _, r in ipairs(client:retrieve_all("DataExtensionObject[Shared_Key]", {"SubscriberKey", "Unit"},
          nil, opts)) do
        out[#out + 1] = r.SubscriberKey .. "=" .. r.Unit
      end
      table.sort(out)
      return out
    end
    assert.are.same({"p-1=parent", "p-2=parent"}, unit_rows(c))
    assert.are.same({"e-1=europe"}, unit_rows(europe))
    assert.are.same({"e-1=europe"}, unit_rows(c, {client_id = EUROPE}))
    assert.are.same({"p-1=outlet"}, unit_rows(c, {client_id = OUTLET}))
    -- Update and Delete of a row change the acting unit's rows only
    assert.is_true(c:update(row("p-1", "outlet, changed"), {client_id = OUTLET}).ok)
    assert.is_true(c:delete(mc.DataExtensionObject{CustomerKey = "Shared_Key",
      Keys = {{Name = "SubscriberKey", Value = "p-2"}}}).ok)
    assert.are.same({"p-1=parent"}, unit_rows(c))
    assert.are.same({"p-1=outlet, changed"}, unit_rows(c, {client_id = OUTLET}))
    -- the control with a key only reads the parent's rows
    assert.are.equal(1, #sb:rows("Shared_Key"))
    assert.are.equal("parent", sb:rows("Shared_Key")[1].Unit)

    -- a Retrieve by CustomerKey from each unit answers that unit's object
    local by_key = mc.SimpleFilterPart{Property = "CustomerKey", SimpleOperator = "equals",
      Value = "Shared_Key"}
    local function described(client, opts)
      local r = client:retrieve("DataExtension", {"Description", "Client.ID"}, by_key, opts)
      assert.is_true(r.ok, tostring(r.OverallStatus))
      assert.are.equal(1, #r.Results)
      return r.Results[1].Description, r.Results[1].Client.ID
    end
    assert.are.same({"the parent's", PARENT}, {described(c)})
    assert.are.same({"Europe's", EUROPE}, {described(europe)})
    assert.are.same({"Outlet's", OUTLET}, {described(c, {client_id = OUTLET})})

    -- an Update from the child changes the child's object, not the parent's
    local changed = europe:update(mc.DataExtension{CustomerKey = "Shared_Key", Description = "changed in Europe"})
    assert.is_true(changed.ok, tostring(changed.Results[1].StatusMessage))
    assert.are.same({"changed in Europe", EUROPE}, {described(europe)})
    assert.are.same({"the parent's", PARENT}, {described(c)})
    assert.are.same({"Outlet's", OUTLET}, {described(c, {client_id = OUTLET})})
    -- Delete from the child leaves the parent's data extension and rows
    assert.is_true(europe:delete(mc.DataExtension{CustomerKey = "Shared_Key"}).ok)
    assert.is_false(europe:retrieve("DataExtensionObject[Shared_Key]", {"SubscriberKey"}).ok)
    assert.are.same({"p-1=parent"}, unit_rows(c))
    assert.are.same({"the parent's", PARENT}, {described(c)})
  end)

  it("refuses business unit options that are not MIDs or given twice", function()
    assert.are.equal("c:create: client_id must be a business unit's MID (a number such as "
      .. "7281698), got 'europe'", uh.raised(pcall(c.create, c, mc.List{ListName = "x"}, {client_id = "europe"})))
    assert.are.equal("c:create: give the business unit either as client_id or as Client, not both",
      uh.raised(pcall(c.create, c, mc.List{ListName = "x"}, {client_id = EUROPE, Client = {ID = EUROPE}})))
    assert.are.equal("c:retrieve: give the business units one way (client_id, business_units, "
      .. "all_business_units, ClientIDs or QueryAllAccounts), got all_business_units and client_id",
      uh.raised(pcall(c.retrieve, c, "List", {"ID"}, nil, {client_id = EUROPE, all_business_units = true})))
    assert.are.equal("c:retrieve: business_units is empty; list one MID or more",
      uh.raised(pcall(c.retrieve, c, "List", {"ID"}, nil, {business_units = {}})))
    assert.are.equal("c:retrieve: all_business_units must be true or false, got yes",
      uh.raised(pcall(c.retrieve, c, "List", {"ID"}, nil, {all_business_units = "yes"})))
  end)
end)

describe("business units that share", function()
  local sb, c
  before_each(function()
    auth._reset()
    sb = sandbox.start{port = 0, speed = 100}
    c = ch.connect(sb)
  end)
  after_each(function() if sb then sb:stop() end end)

  local function member(key)
    return mc.DataExtensionObject{CustomerKey = "Shared_Members", Properties = {
      {Name = "SubscriberKey", Value = key}, {Name = "EmailAddress", Value = key .. "@example.com"}}}
  end

  it("a script uses the parent's shared data extension from both child units", function()
    local europe = ch.connect(sb, {account_id = EUROPE})
    local outlet = ch.connect(sb, {account_id = OUTLET})
    -- read from a child with its own token, columns found through DataExtensionField
    assert.are.equal(12, #europe:retrieve_all("DataExtensionObject[Shared_Members]"))
    -- written from one child, seen by the other and by the parent: one data extension
    assert.is_true(europe:create(member("from-europe")).ok)
    assert.is_true(c:create(member("from-outlet"), {client_id = OUTLET}).ok)
    assert.are.equal(14, #outlet:retrieve_all("DataExtensionObject[Shared_Members]", {"SubscriberKey"}))
    assert.are.equal(14, #c:retrieve_all("DataExtensionObject[Shared_Members]", {"SubscriberKey"}))
    assert.are.equal(14, #sb:rows("Shared_Members"))
    -- as a send's audience: a Europe send definition targets the shared rows
    local esd = mc.EmailSendDefinition{CustomerKey = "europe-shared-send", Name = "Europe to shared",
      EmailSubject = "Hello",
      SenderProfile = {CustomerKey = "marketing-team"}, Email = {ID = 8801},
      SendDefinitionList = {{SendDefinitionListType = "SourceList", DataSourceTypeID = "CustomObject",
        CustomObjectID = "5a1d0c3e-0201-4e6f-9a7b-000000000012", Name = "shared members"}}}
    assert.is_true(europe:create(esd).ok)
    local count = europe:perform("GetMaxCount", mc.EmailSendDefinition{CustomerKey = "europe-shared-send"})
    assert.is_true(count.ok, tostring(count.Results[1].StatusMessage))
    assert.are.equal(14, tonumber(count.Results[1].Task.StatusMessage))
    -- All Subscribers is the enterprise's: a status set from the parent holds in Europe's send
    c:create(mc.Subscriber{SubscriberKey = "shared-001", EmailAddress = "shared1@example.com",
      Status = "Unsubscribed"}):check()
    assert.is_false(europe:create(mc.Subscriber{SubscriberKey = "shared-001",
      EmailAddress = "shared1@example.com"}).ok) -- one subscriber per key in the enterprise
    local started = europe:perform("start", mc.EmailSendDefinition{CustomerKey = "europe-shared-send"})
    assert.is_true(started.ok, tostring(started.Results[1].StatusMessage))
    local send = europe:wait(started)
    assert.are.equal(13, send.NumberTargeted)
    assert.are.equal(1, send.NumberExcluded)
  end)

  it("shares only from the Shared Data Extensions folder, and only with the units it names", function()
    local europe = ch.connect(sb, {account_id = EUROPE})
    local outlet = ch.connect(sb, {account_id = OUTLET})
    local fields = {{Name = "SubscriberKey", FieldType = "Text", MaxLength = 254, IsPrimaryKey = true}}
    sb:insert("DataExtension", {CustomerKey = "Parent_Private", Name = "Parent private", CategoryID = 5000,
      Fields = fields})
    sb:insert("DataExtension", {CustomerKey = "Europe_Only", Name = "Europe only", CategoryID = 5001,
      _shared_with = {EUROPE}, Fields = fields})
    -- a data extension in the parent's ordinary folder is the parent's alone
    local r = europe:retrieve("DataExtensionObject[Parent_Private]", {"SubscriberKey"})
    assert.is_false(r.ok)
    assert.matches("Unable to find a handler", r.OverallStatus, 1, true)
    assert.is_false(europe:create(mc.DataExtensionObject{CustomerKey = "Parent_Private",
      Properties = {{Name = "SubscriberKey", Value = "x"}}}).ok)
    -- shared with Europe only
    assert.is_true(europe:retrieve("DataExtensionObject[Europe_Only]", {"SubscriberKey"}).ok)
    assert.is_false(outlet:retrieve("DataExtensionObject[Europe_Only]", {"SubscriberKey"}).ok)
    -- sharing goes down the tree: the parent cannot use a child's data extension
    assert.is_false(c:retrieve("DataExtensionObject[Europe_Customers]", {"SubscriberKey"}).ok)
  end)

  it("a package's client id reaches only the units it was given; the fixed one reaches all", function()
    -- installed in Acme Europe: its token acts there by default
    local pkg = ch.connect(sb, {client_id = "sandbox-europe", client_secret = "sandbox-europe"})
    assert.are.same({201}, ids(pkg:retrieve("List", {"ID"}).Results))
    local refused = ch.connect(sb, {client_id = "sandbox-europe", client_secret = "sandbox-europe",
      account_id = OUTLET, retries = 0})
    local ok, err = pcall(refused.retrieve, refused, "List", {"ID"})
    assert.is_false(ok)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.http_status)
    assert.matches("installed package of this client id has no access to account_id 7281702: "
      .. "its API user reaches 7281701", err.message, 1, true)
    local wrong = ch.connect(sb, {client_id = "sandbox-europe", client_secret = "nope", retries = 0})
    assert.is_false((pcall(wrong.retrieve, wrong, "List", {"ID"})))
    for _, mid in ipairs{PARENT, EUROPE, OUTLET} do
      assert.is_true(ch.connect(sb, {account_id = mid}):retrieve("List", {"ID"}).ok)
    end
  end)
end)
