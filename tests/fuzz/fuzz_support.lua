-- What the fuzz drivers (targets/*.lua) share: reading choices out of the input bytes, and the
-- checks every target makes of what comes back. A check that fails raises: the harness
-- (lua_target.c) then aborts, and libFuzzer keeps the input as a crash.
local core = require "performlua.core"

local M = {}

--- Raises "invariant: <message>" when `cond` is false.
function M.check(cond, fmt, ...)
  if not cond then error("invariant: " .. string.format(fmt, ...), 2) end
  return cond
end

--- A short, printable rendering of any value, for the messages of broken invariants.
function M.show(v)
  if type(v) == "string" then return string.format("%q", #v > 120 and v:sub(1, 120) .. "..." or v) end
  if type(v) == "table" and core.is_error(v) then
    return string.format("error{kind = %s, message = %s}", tostring(v.kind), M.show(v.message))
  end
  return tostring(v)
end

--- True when `s` is text safe to show anywhere: valid UTF-8 without control characters
--- (tab, newline and a carriage return before a newline allowed when `lines` is true), C1
--- controls, or bidirectional overrides.
function M.is_safe_text(s, lines)
  if type(s) ~= "string" or not utf8.len(s) then return false end
  for p, c in utf8.codes(s) do
    local allowed_space = lines and (c == 9 or c == 10 or (c == 13 and s:byte(p + 1) == 10))
    if (c < 32 and not allowed_space) or (c >= 0x7f and c <= 0x9f)
      or (c >= 0x202a and c <= 0x202e) or (c >= 0x2066 and c <= 0x2069)
      or c == 0xfffe or c == 0xffff then
      return false
    end
  end
  return true
end

--- Checks that `err` is a performlua error table of one of `kinds` with a string message.
function M.check_error(err, kinds, what)
  M.check(core.is_error(err), "%s raised a plain Lua error, not an error table: %s", what, M.show(err))
  M.check(kinds[err.kind], "%s raised an error of kind %s", what, tostring(err.kind))
  M.check(type(err.message) == "string" and err.message ~= "", "%s raised an error without a message", what)
end

-- Choices read from the input, front to back; an exhausted input reads as zeros, so every
-- input (the empty one too) is a complete program of choices.
local Input = {}
Input.__index = Input

function M.input(data) return setmetatable({data = data, pos = 1}, Input) end

function Input:left() return #self.data - self.pos + 1 end

function Input:byte()
  local b = self.data:byte(self.pos) or 0
  self.pos = self.pos + 1
  return b
end

--- An integer in [lo, hi] (a span of at most 2^16 values).
function Input:int(lo, hi)
  local span = hi - lo + 1
  local v = span > 256 and (self:byte() << 8 | self:byte()) or self:byte()
  return lo + v % span
end

function Input:bool() return self:byte() & 1 == 1 end

function Input:pick(list) return list[self:int(1, #list)] end

--- Up to n raw bytes.
function Input:bytes(n)
  local s = self.data:sub(self.pos, self.pos + n - 1)
  self.pos = self.pos + n
  return s
end

--- A 64-bit integer built from 8 bytes.
function Input:int64()
  local v = 0
  for _ = 1, 8 do v = v << 8 | self:byte() end
  return v
end

return M
