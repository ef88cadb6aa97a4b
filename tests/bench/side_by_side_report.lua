-- The table and the goals of tests/bench/side_by_side.sh, from its raw figure lines.
--
--   performlua tests/bench/side_by_side_report.lua RAW_FILE
--
-- RAW_FILE holds one line of key=value per measurement (bench_endpoint.lua, node_bench.mjs,
-- the script's own start-up and libxml2 lines), each with round=N. Each cell of the table is
-- the range over the rounds; each goal's ratio is taken between the medians over the rounds
-- (a shared machine's disturbance only adds time, and one disturbed round of three moved the
-- means of a 2-round run by half).
-- Prints both as Markdown tables, so a run can be pasted into the README as it is.
local path = arg[1]
if not path then
  io.stderr:write("usage: performlua side_by_side_report.lua RAW_FILE\n")
  os.exit(2)
end

local records = {}
for line in io.lines(path) do
  local r = {}
  for k, v in line:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(v) or v end
  if r.lib and r.mode then records[#records + 1] = r end
end

-- The values of `key` over the rounds, for the lines of lib and mode (and concurrency, when
-- given), each multiplied by `scale`.
local function values(lib, mode, key, concurrency, scale)
  local list = {}
  for _, r in ipairs(records) do
    if r.lib == lib and r.mode == mode and (concurrency == nil or r.concurrency == concurrency)
        and type(r[key]) == "number" then
      list[#list + 1] = r[key] * (scale or 1)
    end
  end
  return list
end

local function median(list)
  if #list == 0 then return nil end
  local sorted = table.move(list, 1, #list, 1, {})
  table.sort(sorted)
  local mid = (#sorted + 1) // 2
  return #sorted % 2 == 1 and sorted[mid] or (sorted[mid] + sorted[mid + 1]) / 2
end

local function number(v, decimals)
  local s = string.format("%." .. decimals .. "f", v)
  -- thousands separators for the whole part: rates read better as 4,943 than 4943
  local whole, rest = s:match("^(%d+)(.*)$")
  if whole and #whole > 3 then
    whole = whole:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
    s = whole .. rest
  end
  return s
end

local function range(list, decimals, unit)
  if #list == 0 then return "–" end
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(list) do lo, hi = math.min(lo, v), math.max(hi, v) end
  local a, b = number(lo, decimals), number(hi, decimals)
  return (a == b and a or (a .. "-" .. b)) .. (unit or "")
end

local NODE = {{lib = "fuel-soap", title = "fuel-soap 2.2.4"}, {lib = "sfmc-sdk", title = "sfmc-sdk 2.1.2"}}
local US, MS, MIB = 1, 1 / 1000, 1 / 1024

-- rows: {label, {lib, mode, key, concurrency, scale, decimals, unit} for performlua, then the
-- same for the Node clients (by lib), then a reference text with its own figure}
local function cell(spec, lib)
  if not spec then return "" end
  return range(values(lib or spec[1], spec[2], spec[3], spec[4], spec[5]), spec[6], spec[7])
end

local function perform_row(label, key, concurrency, scale, decimals, unit, reference)
  return {label, {"performlua", "perform", key, concurrency, scale, decimals, unit},
    {nil, "perform", key, concurrency, scale, decimals, unit}, reference}
end

local rows = {
  perform_row("CPU per Perform, one at a time", "cpu_us_per_unit", 1, US, 0, " us",
    {"codec alone ", {"performlua", "codec", "cpu_us_per_unit", nil, US, 0, " us"}}),
  perform_row("CPU per Perform, 16 in flight", "cpu_us_per_unit", 16, US, 0, " us"),
  perform_row("Perform/s, one at a time", "units_per_s", 1, 1, 0, ""),
  perform_row("Perform/s, 16 in flight", "units_per_s", 16, 1, 0, ""),
  {"CPU per 2,500-row page, `c:retrieve`",
    {"performlua", "retrieve", "cpu_us_per_unit", nil, MS, 1, " ms"},
    {nil, "retrieve", "cpu_us_per_unit", nil, MS, 1, " ms"},
    {"libxml2 stream parse ", {"libxml2", "stream_parse", "cpu_us_per_unit", nil, MS, 1, " ms"}}},
  {"CPU per page, `c:each` rows", {"performlua", "each", "cpu_us_per_unit", nil, MS, 1, " ms"}, nil,
    {"codec decode alone ", {"performlua", "decode", "cpu_us_per_unit", nil, MS, 1, " ms"}}},
  perform_row("peak RSS of the one-at-a-time loop, MiB", "peak_rss_kb", 1, MIB, 1, "",
    nil),
  {"start-up CPU, `-e ''`", {"performlua", "startup", "cpu_us_per_unit", nil, MS, 1, " ms"}, nil,
    {"`lua5.4 -e ''` ", {"lua5.4", "startup", "cpu_us_per_unit", nil, MS, 1, " ms"}}},
}

local header = {"", "performlua"}
for _, n in ipairs(NODE) do header[#header + 1] = n.title end
header[#header + 1] = "reference"
print("| " .. table.concat(header, " | ") .. " |")
print("|---|" .. string.rep("---:|", #header - 1))
for _, row in ipairs(rows) do
  local out = {row[1], cell(row[2])}
  for _, n in ipairs(NODE) do out[#out + 1] = row[3] and cell(row[3], n.lib) or "" end
  local ref = row[4]
  out[#out + 1] = ref and (ref[1] .. cell(ref[2])) or ""
  print("| " .. table.concat(out, " | ") .. " |")
end

-- the goals -------------------------------------------------------------------------------------

local function m(lib, mode, key, concurrency)
  return median(values(lib, mode, key, concurrency))
end

-- The best Node client for a figure (lowest when `lower` is true), as value, name.
local function best_node(mode, key, concurrency, lower)
  local best, name
  for _, n in ipairs(NODE) do
    local v = m(n.lib, mode, key, concurrency)
    if v and (best == nil or (lower and v < best) or (not lower and v > best)) then
      best, name = v, n.lib
    end
  end
  return best, name
end

print()
print("| goal | measured | |")
print("|---|---:|---|")
-- goal(text, value, limit, at_most, unit): at_most says the value must not exceed the limit
local function goal(text, value, limit, at_most, shown)
  local verdict
  if value == nil then
    verdict, shown = "n/a (not measured in this run)", "–"
  else
    local pass = (at_most and value <= limit) or (not at_most and value >= limit)
    verdict = pass and "PASS" or "MISS"
  end
  print(string.format("| %s | %s | %s |", text, shown or "", verdict))
end
local function ratio(a, b)
  if a == nil or b == nil or b == 0 then return nil end
  return a / b
end
local function x(v) return v and string.format("%.2fx", v) or nil end

local codec = m("performlua", "codec", "cpu_us_per_unit")
for _, c in ipairs({1, 16}) do
  local what = c == 1 and "one at a time" or "16 in flight"
  local cpu = m("performlua", "perform", "cpu_us_per_unit", c)
  local r = ratio(cpu, codec)
  goal("CPU per Perform, " .. what .. ", at most 2x the codec alone", r, 2, true, x(r))
  local node, name = best_node("perform", "cpu_us_per_unit", c, true)
  r = ratio(cpu, node)
  goal("CPU per Perform, " .. what .. ", at most 1/8 of the best Node client's"
    .. (name and (" (" .. name .. ")") or ""), r, 1 / 8, true,
    r and string.format("1/%.1f", 1 / r) or nil)
end
for _, c in ipairs({1, 16}) do
  local rate = m("performlua", "perform", "units_per_s", c)
  local node, name = best_node("perform", "units_per_s", c, false)
  local want = c == 1 and 4 or 5
  local r = ratio(rate, node)
  goal(string.format("Perform/s, %s, at least %dx the best Node client's%s",
    c == 1 and "one at a time" or "16 in flight", want, name and (" (" .. name .. ")") or ""),
    r, want, false, x(r))
end
local page = m("performlua", "retrieve", "cpu_us_per_unit")
local r = ratio(page, m("libxml2", "stream_parse", "cpu_us_per_unit"))
goal("CPU per 2,500-row page (`c:retrieve`) at most 1.5x libxml2's stream parse", r, 1.5, true, x(r))
r = ratio(m("performlua", "each", "cpu_us_per_unit"), page)
goal("`c:each` within 10% of `c:retrieve` per page", r, 1.1, true, x(r))
local rss = m("performlua", "perform", "peak_rss_kb", 1)
local calls = m("performlua", "perform", "calls", 1)
goal(string.format("peak RSS of a %s-call loop at most 16 MiB", calls and number(calls, 0) or "N"),
  rss and rss / 1024, 16, true, rss and string.format("%.1f MiB", rss / 1024))
local early, pages = m("performlua", "each", "early_pages"), m("performlua", "each", "pages")
r = ratio(m("performlua", "each", "peak_rss_kb"), m("performlua", "each", "early_peak_rss_kb"))
goal(string.format("streaming stays flat: `c:each` peak RSS after %s pages within 10%% of after %s",
  pages and number(pages, 0) or "N", early and number(early, 0) or "N/10"), r, 1.1, true, x(r))
r = ratio(m("performlua", "startup", "cpu_us_per_unit"), m("lua5.4", "startup", "cpu_us_per_unit"))
goal("start-up (`performlua -e ''`) within 2x of `lua5.4 -e ''` (CPU)", r, 2, true, x(r))
