-- The bench scripts' memory figure: this process's peak resident set (VmHWM, in KB), or -1
-- where /proc is not there. Loaded with dofile from the script's own directory.
return function()
  local f = io.open("/proc/self/status", "r")
  if not f then return -1 end
  local text = f:read("a")
  f:close()
  return tonumber(text:match("VmHWM:%s+(%d+) kB")) or -1
end
