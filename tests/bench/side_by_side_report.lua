-- The table and the goals of tests/bench/side_by_side.sh, from its raw figure lines.
--
--   performlua tests/bench/side_by_side_report.lua RAW_FILE
--
-- RAW_FILE holds one line of key=value per measurement (bench_endpoint.lua, node_bench.mjs,
-- the script's own start-up and libxml2 lines), each with round=N. Each cell of the table is
-- the range over the rounds; each goal is judged on the median of its ratio taken within each
-- round (see "the goals" below).
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

-- {[round] = value} of `key` for the lines of lib and mode (and concurrency, when given)
local function by_round(lib, mode, key, concurrency)
  local t = {}
  for _, r in ipairs(records) do
    if r.lib == lib and r.mode == mode and (concurrency == nil or r.concurrency == concurrency)
        and type(r[key]) == "number" and r.round then
      t[r.round] = r[key]
    end
  end
  return t
end

-- The values of `key` over the rounds (as by_round), each multiplied by `scale`.
local function values(lib, mode, key, concurrency, scale)
  local list = {}
  for _, v in pairs(by_round(lib, mode, key, concurrency)) do list[#list + 1] = v * (scale or 1) end
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

local function m(lib, mode, key, concurrency)
  return median(values(lib, mode, key, concurrency))
end

-- the goals -------------------------------------------------------------------------------------
--
-- A goal's ratio is taken within each round, between two figures measured a few seconds apart
-- (side_by_side.sh measures each goal's pair next to each other), and the median of those
-- per-round ratios is judged. This shared machine changes speed for minutes at a time: in one
-- run the codec alone took 21.5, 19.7 and 13.0 us and libxml2's parse 9.2, 9.8 and 6.1 ms in
-- its three rounds, so a ratio between the medians of figures measured at different moments
-- could pair a slow phase's numerator with a fast phase's denominator.

-- {[round] = best value} over the Node clients (lowest when `lower` is true), and the name of
-- the client that was best in most rounds
local function best_node_by_round(mode, key, concurrency, lower)
  local best, who, wins = {}, {}, {}
  for _, n in ipairs(NODE) do
    for round, v in pairs(by_round(n.lib, mode, key, concurrency)) do
      local b = best[round]
      if b == nil or (lower and v < b) or (not lower and v > b) then
        best[round], who[round] = v, n.lib
      end
    end
  end
  local name, most = nil, 0
  for _, lib in pairs(who) do
    wins[lib] = (wins[lib] or 0) + 1
    if wins[lib] > most then name, most = lib, wins[lib] end
  end
  return best, name
end

-- The per-round ratios a[round] / b[round], over the rounds that measured both
local function ratios(a, b)
  local list = {}
  for round, v in pairs(a) do
    if b[round] and b[round] ~= 0 then list[#list + 1] = v / b[round] end
  end
  return list
end

print()
print("| goal | measured (median of the rounds' ratios; their range) | |")
print("|---|---:|---|")
-- goal(text, list, limit, at_most, show): judges the median of `list` against `limit` (at_most:
-- it must not exceed it); `show` formats one ratio
local function goal(text, list, limit, at_most, show)
  local value, shown = median(list or {}), "–"
  local verdict
  if value == nil then
    verdict = "n/a (not measured in this run)"
  else
    local pass = (at_most and value <= limit) or (not at_most and value >= limit)
    verdict = pass and "PASS" or "MISS"
    shown = show(value)
    if #list > 1 then
      local lo, hi = math.huge, -math.huge
      for _, v in ipairs(list) do lo, hi = math.min(lo, v), math.max(hi, v) end
      shown = string.format("%s (%s to %s)", shown, show(lo), show(hi))
    end
  end
  print(string.format("| %s | %s | %s |", text, shown, verdict))
end
local function x(v) return string.format("%.2fx", v) end
local function fraction(v) return string.format("1/%.1f", 1 / v) end
local function mib(v) return string.format("%.1f MiB", v) end

local codec = by_round("performlua", "codec", "cpu_us_per_unit")
for _, c in ipairs({1, 16}) do
  local what = c == 1 and "one at a time" or "16 in flight"
  local cpu = by_round("performlua", "perform", "cpu_us_per_unit", c)
  goal("CPU per Perform, " .. what .. ", at most 2x the codec alone", ratios(cpu, codec), 2,
    true, x)
  local node, name = best_node_by_round("perform", "cpu_us_per_unit", c, true)
  goal("CPU per Perform, " .. what .. ", at most 1/8 of the best Node client's"
    .. (name and (" (" .. name .. ")") or ""), ratios(cpu, node), 1 / 8, true, fraction)
end
for _, c in ipairs({1, 16}) do
  local rate = by_round("performlua", "perform", "units_per_s", c)
  local node, name = best_node_by_round("perform", "units_per_s", c, false)
  local want = c == 1 and 4 or 5
  goal(string.format("Perform/s, %s, at least %dx the best Node client's%s",
    c == 1 and "one at a time" or "16 in flight", want, name and (" (" .. name .. ")") or ""),
    ratios(rate, node), want, false, x)
end
local page = by_round("performlua", "retrieve", "cpu_us_per_unit")
goal("CPU per 2,500-row page (`c:retrieve`) at most 1.5x libxml2's stream parse",
  ratios(page, by_round("libxml2", "stream_parse", "cpu_us_per_unit")), 1.5, true, x)
goal("`c:each` within 10% of `c:retrieve` per page",
  ratios(by_round("performlua", "each", "cpu_us_per_unit"), page), 1.1, true, x)
local rss = {}
for _, kb in pairs(by_round("performlua", "perform", "peak_rss_kb", 1)) do rss[#rss + 1] = kb / 1024 end
local calls = m("performlua", "perform", "calls", 1)
goal(string.format("peak RSS of a %s-call loop at most 16 MiB", calls and number(calls, 0) or "N"),
  rss, 16, true, mib)
local early, pages = m("performlua", "each", "early_pages"), m("performlua", "each", "pages")
goal(string.format("streaming stays flat: `c:each` peak RSS after %s pages within 10%% of after %s",
  pages and number(pages, 0) or "N", early and number(early, 0) or "N/10"),
  ratios(by_round("performlua", "each", "peak_rss_kb"),
    by_round("performlua", "each", "early_peak_rss_kb")), 1.1, true, x)
goal("start-up (`performlua -e ''`) within 2x of `lua5.4 -e ''` (CPU)",
  ratios(by_round("performlua", "startup", "cpu_us_per_unit"),
    by_round("lua5.4", "startup", "cpu_us_per_unit")), 2, true, x)
