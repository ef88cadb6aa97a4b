-- performlua.sandbox.seed_csv: `--seed DIR`, a seed of data extensions as CSV files.
--
-- Each FILE.csv in DIR is one data extension: its CustomerKey and Name are FILE, its header
-- row names the columns, every other record is a row. A column's name may be followed by
-- ":FieldType" (Text, Number, Decimal, Boolean, Date, EmailAddress, Phone, Locale; any case)
-- and then by "*", which marks a primary key column: "SubscriberKey*", "Points:Number",
-- "Joined:Date", "ID:Number*". Without a type a column is Text, except one named
-- EmailAddress (EmailAddress). Values are read as their column's type (sandbox/rows.lua): a
-- value the column cannot hold is an error naming its line. CSV as RFC 4180 writes it:
-- comma-separated, a field in double quotes may hold commas, line breaks and doubled quotes
-- (""), records end with LF or CRLF. An empty field is a missing value. A data extension with
-- a SubscriberKey (else EmailAddress) column is sendable on it.
--
-- The account is the default seed's plus these data extensions; a CSV named like one of the
-- default's data extensions replaces it and its rows. Other files in DIR are ignored.
local core = require "performlua.core"

local rows_mod = require "performlua.sandbox.rows"

local M = {}

local FIELD_TYPES = {}
for _, t in ipairs{"Text", "Number", "Decimal", "Boolean", "Date", "EmailAddress", "Phone",
    "Locale"} do
  FIELD_TYPES[t:lower()] = t
end

local UNQUOTED = "a double quote inside an unquoted field (quote the whole field and double "
  .. "the quote)"

local function fail(file, line, message)
  error(string.format("--seed: %s line %d: %s", file, line, message), 0)
end

--- The records of CSV `text` as lists of fields, each with the line it starts on. `file`
--- names the file in errors.
function M.parse(text, file)
  local records, record, field = {}, {}, {}
  local i, n, line = 1, #text, 1
  local record_line = 1
  local function end_field()
    record[#record + 1] = table.concat(field)
    field = {}
  end
  local function end_record()
    end_field()
    records[#records + 1] = {fields = record, line = record_line}
    record = {}
    record_line = line
  end
  if text:sub(1, 3) == "\239\187\191" then i = 4 end -- a UTF-8 byte order mark
  while i <= n do
    local c = text:sub(i, i)
    if c == '"' then
      if #field > 0 then fail(file, line, UNQUOTED) end
      local start_line = line
      i = i + 1
      while true do
        local q = text:find('"', i, true)
        if not q then fail(file, start_line, "a quoted field is never closed") end
        local chunk = text:sub(i, q - 1)
        for _ in chunk:gmatch("\n") do line = line + 1 end
        field[#field + 1] = chunk
        if text:sub(q + 1, q + 1) == '"' then
          field[#field + 1] = '"'
          i = q + 2
        else
          i = q + 1
          break
        end
      end
      local after = text:sub(i, i)
      if after ~= "," and after ~= "\n" and after ~= "\r" and after ~= "" then
        fail(file, line, "text after a quoted field's closing quote (expected a comma or the end "
          .. "of the line)")
      end
      if #field == 0 then field[1] = "" end
      field.quoted = true
    elseif c == "," then
      end_field()
      i = i + 1
    elseif c == "\r" or c == "\n" then
      if c == "\r" and text:sub(i + 1, i + 1) == "\n" then i = i + 1 end
      i = i + 1
      line = line + 1
      end_record()
    else
      local j = text:find('[,\r\n"]', i)
      j = j or n + 1
      field[#field + 1] = text:sub(i, j - 1)
      i = j
      if text:sub(j, j) == '"' then
        fail(file, line, UNQUOTED)
      end
    end
  end
  if #field > 0 or #record > 0 then end_record() end
  return records
end

--- A data extension and its rows from one CSV file's text: de, rows.
function M.data_extension(key, text, file)
  local records = M.parse(text, file)
  local header = records[1]
  if not header or (#header.fields == 1 and header.fields[1] == "") then
    fail(file, 1, "the file has no header row naming the columns")
  end
  local fields, names, seen = {}, {}, {}
  for i, raw in ipairs(header.fields) do
    local name, star = raw:match("^%s*(.-)%s*(%*?)%s*$")
    local typed, ftype = name:match("^(.-)%s*:%s*(%a+)$")
    if typed then
      name = typed
      ftype = FIELD_TYPES[ftype:lower()]
      if not ftype then
        fail(file, header.line, string.format("the column '%s' has the type '%s', which is not "
          .. "a FieldType (Text, Number, Decimal, Boolean, Date, EmailAddress, Phone, Locale)",
          name, raw:match(":%s*(%a+)")))
      end
    end
    if name == "" then fail(file, header.line, string.format("column %d has no name", i)) end
    if seen[name:lower()] then
      fail(file, header.line, string.format("the column '%s' is named twice", name))
    end
    seen[name:lower()] = true
    names[i] = name
    ftype = ftype or (name:lower() == "emailaddress" and "EmailAddress") or "Text"
    local max = ftype == "EmailAddress" and 254 or (ftype == "Text" and 4000) or nil
    fields[i] = {Name = name, FieldType = ftype, MaxLength = max, IsPrimaryKey = star == "*",
      IsRequired = star == "*", Ordinal = i - 1}
    if ftype == "Decimal" then fields[i].Precision, fields[i].Scale = 18, 4 end
  end
  -- every value is checked as the row store will hold it, so an error names its line
  local probe = rows_mod.checker({CustomerKey = key, Fields = fields}, names)
  local rows, keys = {}, {}
  local pk = {}
  for i, f in ipairs(fields) do if f.IsPrimaryKey then pk[#pk + 1] = i end end
  for r = 2, #records do
    local rec = records[r]
    local values = rec.fields
    if not (#values == 1 and values[1] == "") then -- blank lines are skipped
      if #values ~= #names then
        fail(file, rec.line, string.format("the record has %d fields, the header %d", #values, #names))
      end
      local row = {}
      for i, v in ipairs(values) do
        if v ~= "" then row[names[i]] = v end
      end
      local _, bad = probe:typed(row, true)
      if bad then fail(file, rec.line, bad) end
      if #pk > 0 then
        -- the primary key compares without case, as the row store's index does
        local parts = {}
        for j, i in ipairs(pk) do parts[j] = values[i]:lower() end
        local k = table.concat(parts, "\0")
        if keys[k] then
          fail(file, rec.line, string.format("the primary key of this record is already the key "
            .. "of the record on line %d", keys[k]))
        end
        keys[k] = rec.line
      end
      rows[#rows + 1] = row
    end
  end
  local sendable = seen.subscriberkey and "SubscriberKey" or seen.emailaddress and "EmailAddress"
  if sendable then
    for _, name in ipairs(names) do
      if name:lower() == sendable:lower() then sendable = name end
    end
  end
  local de = {CustomerKey = key, Name = key, Description = "Seeded from " .. file,
    IsSendable = sendable ~= nil, Fields = fields,
    SendableDataExtensionField = sendable and {Name = sendable} or nil}
  return de, rows
end

--- The seed of `dir`: the default seed with the data extensions of its CSV files.
function M.load(dir, default)
  local names, err = core.list_dir(dir)
  if not names then error("--seed: " .. err, 0) end
  table.sort(names)
  local seed = {}
  for k, v in pairs(default) do seed[k] = v end
  seed.DataExtension = {}
  for i, de in ipairs(default.DataExtension or {}) do seed.DataExtension[i] = de end
  seed.rows = {}
  for k, v in pairs(default.rows or {}) do seed.rows[k] = v end
  seed.generated = {}
  for k, v in pairs(default.generated or {}) do seed.generated[k] = v end
  local found = 0
  for _, name in ipairs(names) do
    local key = name:match("^(.+)%.[cC][sS][vV]$")
    if key then
      local path = dir:gsub("/$", "") .. "/" .. name
      local f, open_err = io.open(path, "rb")
      if not f then error("--seed: cannot read " .. tostring(open_err), 0) end
      local text = f:read("a")
      f:close()
      local de, rows = M.data_extension(key, text, path)
      -- a CSV named like a default data extension replaces it
      for i = #seed.DataExtension, 1, -1 do
        local old = seed.DataExtension[i].CustomerKey
        if type(old) == "string" and old:lower() == key:lower() then
          table.remove(seed.DataExtension, i)
          seed.rows[old], seed.generated[old] = nil, nil
        end
      end
      seed.DataExtension[#seed.DataExtension + 1] = de
      seed.rows[key] = rows
      found = found + 1
    end
  end
  if found == 0 then
    error(string.format("--seed: %s holds no .csv file (one per data extension, named by its "
      .. "CustomerKey)", dir), 0)
  end
  return seed
end

return M
