-- What one unit (a call, a page) costs, from two callgrind runs of the same loop with different
-- unit counts: the difference of their instructions over the difference of their units, so the
-- start-up, the first call's library loads and everything else done once cancel out.
--
--   performlua tests/bench/callgrind_diff.lua SMALL.out SMALL_UNITS LARGE.out LARGE_UNITS [TOP]
--
-- Prints the instructions per unit, then per library (object file), then the TOP functions
-- (default 40) by their own instructions per unit; with PROFILE_INCLUSIVE=1 also the TOP by
-- inclusive instructions (what a function and everything it calls cost). Reads the files
-- through callgrind_annotate (valgrind's package), the profile's own reader.
local small_file, small_units, large_file, large_units = arg[1], tonumber(arg[2]), arg[3],
  tonumber(arg[4])
local top = math.tointeger(tonumber(arg[5] or 40)) or 40
if not (small_file and small_units and large_file and large_units) or large_units <= small_units then
  io.stderr:write("usage: performlua callgrind_diff.lua SMALL.out SMALL_UNITS LARGE.out "
    .. "LARGE_UNITS [TOP]  (LARGE_UNITS > SMALL_UNITS)\n")
  os.exit(2)
end

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- {[function and object] = instructions}, the program's total, and whether any line was read
local function read(file, inclusive)
  local cmd = "callgrind_annotate --auto=no --threshold=100"
    .. (inclusive and " --inclusive=yes" or "") .. " " .. quote(file) .. " 2>&1"
  local pipe = assert(io.popen(cmd))
  local costs, total = {}, nil
  for line in pipe:lines() do
    local n, rest = line:match("^%s*([%d,]+)%s+(.*)$")
    if n then
      n = tonumber((n:gsub(",", "")))
      rest = rest:gsub("^%b()%s*", "") -- the percentage, where this valgrind prints one
      if rest:match("^PROGRAM TOTALS") then
        total = n
      else
        local fn, object = rest:match("^(.-)%s+%[(.-)%]%s*$")
        if fn then costs[fn .. "\0" .. object] = (costs[fn .. "\0" .. object] or 0) + n end
      end
    end
  end
  local ok = pipe:close()
  if not ok or not total then
    io.stderr:write("callgrind_diff.lua: callgrind_annotate could not read " .. file
      .. " (is valgrind installed?)\n")
    os.exit(1)
  end
  return costs, total
end

local units = large_units - small_units
local function per_unit(a, b) return ((b or 0) - (a or 0)) / units end

local function number(v)
  local s = string.format("%.0f", v)
  local sign, digits = s:match("^(-?)(%d+)$")
  return sign .. digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
end

-- The differences per unit of two cost tables, largest first.
local function ranked(a, b)
  local list = {}
  for key, v in pairs(b) do list[#list + 1] = {key = key, cost = per_unit(a[key], v)} end
  for key, v in pairs(a) do
    if b[key] == nil then list[#list + 1] = {key = key, cost = per_unit(v, 0)} end
  end
  table.sort(list, function(x, y) return x.cost > y.cost end)
  return list
end

local function short(path) return path:match("([^/]+)$") or path end

local function show(title, list)
  print(title)
  for i = 1, math.min(top, #list) do
    local fn, object = list[i].key:match("^(.-)%z(.*)$")
    print(string.format("%12s  %s  [%s]", number(list[i].cost), fn:gsub("^.*/", ""),
      short(object)))
  end
end

local small, small_total = read(small_file)
local large, large_total = read(large_file)
print(string.format("instructions per unit: %s (%s units: %s; %s units: %s)",
  number(per_unit(small_total, large_total)), number(small_units), number(small_total),
  number(large_units), number(large_total)))

-- {[object file] = instructions} of a cost table
local function by_object(costs)
  local sums = {}
  for key, v in pairs(costs) do
    local object = short(key:match("%z(.*)$"))
    sums[object] = (sums[object] or 0) + v
  end
  return sums
end
print("by library:")
for _, item in ipairs(ranked(by_object(small), by_object(large))) do
  if math.abs(item.cost) >= 1 then print(string.format("%12s  %s", number(item.cost), item.key)) end
end

show("functions, their own instructions:", ranked(small, large))
if os.getenv("PROFILE_INCLUSIVE") == "1" then
  local small_inc = read(small_file, true)
  local large_inc = read(large_file, true)
  show("functions, with what they call:", ranked(small_inc, large_inc))
end
