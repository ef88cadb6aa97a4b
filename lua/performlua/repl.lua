-- performlua.repl: how the REPL shows results.
--
-- The C loop (runtime/cli/repl.c) calls format_results with the values a line produced and
-- prints the returned text. Values are shown as Lua (performlua.pretty), laid out over several
-- lines when long, with big tables cut short so one retrieve does not flood the terminal.
local pretty = require("performlua.pretty").pretty

local M = {}

-- Options for showing one result; the width follows the terminal when the shell tells us.
function M.options()
  local width = tonumber(os.getenv("COLUMNS") or "")
  if not width or width < 40 then width = 80 end
  return { multiline = true, width = math.floor(width), max_items = 100, max_depth = 8 }
end

-- The text for results v1..vn: one line `a, b` when each fits on one line, else one value
-- per block.
function M.format_results(...)
  local n = select("#", ...)
  local opts = M.options()
  local texts, multiline = {}, false
  for i = 1, n do
    local text = pretty((select(i, ...)), opts)
    texts[i] = text
    if text:find("\n", 1, true) then multiline = true end
  end
  return table.concat(texts, multiline and "\n" or ", ")
end

return M
