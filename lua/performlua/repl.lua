-- performlua.repl: what the REPL's C loop (runtime/cli/repl.c) asks of Lua.
--
-- format_results: the values a line produced, as text. Values are shown as Lua
-- (performlua.pretty), laid out over several lines when long, with big tables cut short so one
-- retrieve does not flood the terminal; performlua's own functions say what they are.
-- complete: Tab completion (performlua.complete). help_chunk: `?topic` (performlua.help).
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

--- Tab completion (runtime/cli/repl.c): the full candidates for `word`, the text before the
--- cursor back to a word break; `before` is all the input before the cursor (earlier lines of
--- a statement too), `after` the rest of the line. performlua.complete knows where you are.
function M.complete(word, before, after)
  return require("performlua.complete").candidates(word, before, after)
end

--- `?topic` at the prompt: the function the REPL runs for it (mc.help(topic)).
function M.help_chunk(line)
  local topic = line:match("^%s*%?(.*)$") or line
  return function() require("performlua.help").help(topic) end
end

return M
