-- performlua.terminal: whether a person is at the other end of a stream, and how wide their
-- terminal is.
--
--   mc.isatty(stream)         true when "stdin", "stdout" or "stderr" is a terminal: a script
--                             asks before sending email only when someone can answer, and
--                             draws progress only for someone who can see it
--   terminal.columns(stream)  the terminal's width in columns, else COLUMNS, else 80
local core = require "performlua.core"
local errors = require "performlua.errors"

local M = {}

local STREAMS = {stdin = true, stdout = true, stderr = true}

function M.isatty(stream)
  if not STREAMS[stream] then
    errors.usage("mc.isatty(stream): stream must be \"stdin\", \"stdout\" or \"stderr\", got "
      .. (type(stream) == "string" and string.format("%q", stream) or tostring(stream)))
  end
  return core.isatty(stream)
end

-- A line longer than the terminal wraps, and a "\r"-drawn progress line then leaves a copy of
-- itself behind on every redraw. COLUMNS is rarely exported, so the terminal is asked first.
function M.columns(stream)
  local cols = core.terminal_columns(stream) or tonumber(os.getenv("COLUMNS") or "")
  if cols and cols >= 20 then return math.floor(cols) end
  return 80
end

return M
