-- export_data_extension.lua: write every row of a data extension to a CSV file.
--
--   performlua scripts/export_data_extension.lua [DE_KEY] [OUTPUT.csv] [options]
--
--   DE_KEY          the data extension's external key (CustomerKey); default: Loyalty_Members
--   OUTPUT.csv      where to write; default: DE_KEY.csv in the current directory;
--                   "-" writes the CSV to standard output (messages then go to stderr)
--   --columns=A,B   only these columns, in this order (default: all, in the data extension's
--                   column order); checked against the data extension's columns before the
--                   export starts
--   --page-size=N   rows per page asked of the service (default 2500, the service's maximum)
--   --json          print the outcome as one JSON object on stdout (messages go to stderr;
--                   the CSV then needs a file)
--   --help          this text
--
-- Rows stream page by page through c:each: the file grows while memory stays at about one
-- page, so a data extension of millions of rows exports like a small one. The CSV follows
-- RFC 4180: a header line, fields separated by commas, lines ended by CRLF, and a field
-- quoted (with inner quotes doubled) when it holds a comma, a quote, a line break, or
-- leading/trailing spaces. The file is written under a temporary name and renamed at the
-- end, so an export that stops half-way never leaves a file that looks complete.
--
-- Reading only: this script changes nothing in the account.
--
-- The steps every example shares (options, stopping with a clear message) are in workflow.lua
-- beside this script: copy it along with the script.
local mc = require "performlua"
local workflow = require "workflow"   -- workflow.lua beside this script: the shared steps

-- ----------------------------------------------------------------------------------------------
-- arguments

local USAGE = [[
usage: performlua export_data_extension.lua [DE_KEY] [OUTPUT.csv] [--columns=A,B] [--page-size=N]
                                           [--json]
  DE_KEY      the data extension's external key (default: Loyalty_Members)
  OUTPUT.csv  the file to write (default: DE_KEY.csv; "-" for standard output)]]

-- --columns=A,B: the column names, in order, spaces around each name ignored
local function column_list(value)
  local columns = {}
  for col in value:gmatch("[^,]+") do
    local name = col:match("^%s*(.-)%s*$")
    if name ~= "" then columns[#columns + 1] = name end
  end
  if #columns == 0 then return nil, "--columns needs column names, e.g. --columns=Email,City" end
  return columns
end

local opts = workflow.options(arg, {
  script = "export_data_extension", usage = USAGE,
  values = {columns = column_list, ["page-size"] = workflow.whole_number},
  arguments = {"DE_KEY", "OUTPUT.csv"},
})

local de_key = opts.positional[1] or "Loyalty_Members"
local output = opts.positional[2] or (de_key:gsub("[^%w%-_.]", "_") .. ".csv")
local to_stdout = output == "-"
if to_stdout and opts.json then
  workflow.usage_error("export_data_extension", "--json prints the summary on standard output: "
    .. "write the CSV to a file, not \"-\"", USAGE)
end
-- messages go to stderr when the CSV itself, or the --json summary, goes to stdout
local say_to = (to_stdout or opts.json) and io.stderr or io.stdout
local summary = workflow.summary   -- what --json prints at the end
local function say(fmt, ...)
  say_to:write(string.format(fmt, ...), "\n")
  say_to:flush()
end

-- ----------------------------------------------------------------------------------------------
-- CSV

-- One field, quoted only when it must be (RFC 4180).
local function csv_field(value)
  if value == nil then return "" end
  local s = tostring(value)
  if s:find('[,"\r\n]') or s:match("^%s") or s:match("%s$") then
    return '"' .. s:gsub('"', '""') .. '"'
  end
  return s
end

local function csv_line(values, count)
  local out = {}
  for i = 1, count do out[i] = csv_field(values[i]) end
  return table.concat(out, ",") .. "\r\n"
end

-- ----------------------------------------------------------------------------------------------
-- the export

local function main()
  local c = mc.connect()
  local object_type = "DataExtensionObject[" .. de_key .. "]"

  -- 1. Which columns: every column of the data extension in order, or the ones asked for,
  --    each checked against those before anything is written.
  local listed, found = pcall(c.default_properties, c, object_type)
  if not listed then
    if type(found) == "table" and found.kind == "usage" then
      workflow.stop("No data extension with the external key '%s' was found (or it has no "
        .. "columns). Check the key: keys are case-sensitive.", de_key)
    end
    error(found, 0)
  end
  local columns = found
  if opts.columns then
    local by_name = {}
    for _, name in ipairs(found) do by_name[name:lower()] = name end
    columns = {}
    for i, wanted in ipairs(opts.columns) do
      columns[i] = by_name[wanted:lower()]   -- column names are not case-sensitive
      if not columns[i] then
        local near = mc.suggest(wanted, found)
        workflow.usage_error("export_data_extension", string.format("--columns: data extension "
          .. "'%s' has no column '%s'%s; its columns: %s", de_key, wanted, #near > 0
            and (" (did you mean '" .. table.concat(near, "', '") .. "'?)") or "",
          table.concat(found, ", ")))
      end
    end
  end
  say("Exporting data extension '%s' (%d columns: %s)", de_key, #columns,
    table.concat(columns, ", "))
  summary.de_key, summary.columns = de_key, columns
  summary.output = to_stdout and "-" or output

  -- 2. The first page before anything is written: a wrong key or column stops here, leaving no
  --    file behind and no header line on standard output.
  local options = opts.page_size and {BatchSize = opts.page_size} or nil
  local next_row = c:each(object_type, columns, nil, options)
  local first = next_row()

  -- 3. Open the output: a temporary file renamed at the end (or standard output).
  local file, temp_path
  if to_stdout then
    file = io.stdout
  else
    temp_path = output .. ".part"
    local err
    file, err = io.open(temp_path, "wb")
    if not file then workflow.stop("Cannot write the file: %s", tostring(err)) end
  end

  -- 4. Stream the rows: one page in memory at a time, however many rows there are.
  file:write(csv_line(columns, #columns))
  local rows, values = 0, {}
  local ok, err = pcall(function()
    local row = first
    while row do
      for i, col in ipairs(columns) do values[i] = row[col] end
      file:write(csv_line(values, #columns))
      rows = rows + 1
      if rows % 50000 == 0 then say("  ... %s rows so far", workflow.thousands(rows)) end
      row = next_row()
    end
  end)
  if not to_stdout then file:close() end
  if not ok then
    if temp_path then os.remove(temp_path) end
    error(err, 0)
  end

  -- 5. Only a complete export gets the real name.
  if not to_stdout then
    local renamed, rename_err = os.rename(temp_path, output)
    if not renamed then workflow.stop("Cannot rename %s: %s", temp_path, tostring(rename_err)) end
    say("Wrote %s rows to %s", workflow.thousands(rows), output)
  else
    file:flush()
    say("Wrote %s rows to standard output", workflow.thousands(rows))
  end
  summary.rows = rows
end

workflow.run(main, {stopped = "Export stopped: ", failed = "Export stopped: "})
