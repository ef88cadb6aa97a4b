-- performlua.sandbox.cli: `performlua sandbox [options]`, the sandbox in the foreground until
-- Ctrl-C or SIGTERM. The flags, their help and their checks are in runtime/cli/flags.c with
-- every other flag; main(opts) returns the exit status: 0 after a clean stop, 1 when the
-- sandbox cannot start (port in use, unreadable seed or WSDL); bad options exit 2.
local core = require "performlua.core"
local sandbox = require "performlua.sandbox"

local M = {}

--- Checks what the flag table cannot: each --fault is a fault the sandbox knows. Returns nil
--- and the message (shown with the usage) when one is not.
function M.check(opts)
  local service = require "performlua.sandbox.service"
  for _, f in ipairs(opts.faults or {}) do
    local ok, problem = pcall(service.parse_fault, f)
    -- the shared message starts "fault 'x' ..." for sandbox.start; here the option names it
    if not ok then return nil, "--fault: " .. tostring(problem):gsub("^fault ", "") end
  end
  return opts
end

--- Whether the sandbox listens on a loopback address only (127.0.0.0/8, ::1, localhost).
function M.is_loopback(host)
  host = tostring(host):gsub("^%[(.*)%]$", "%1"):lower()
  return host:match("^127%.%d+%.%d+%.%d+$") ~= nil or host == "localhost" or host == "::1"
    or host == "0:0:0:0:0:0:0:1"
end

--- The warning for a sandbox others can reach: its credentials are fixed and public.
function M.exposed_warning(host)
  return string.format("performlua sandbox: warning: %s is not a loopback address, so other "
    .. "machines can reach this sandbox, and its credentials are fixed and public (client id "
    .. "and secret 'sandbox', as every sandbox has): anyone who reaches it can use it. Use "
    .. "--host 127.0.0.1 unless the network is yours.", host)
end

-- A value as the shell reads it back unchanged.
local function shell_word(v)
  v = tostring(v)
  if v:match("^[%w%.:/_%-]+$") then return v end
  return "'" .. v:gsub("'", "'\\''") .. "'"
end

--- The `export PERFORMLUA_...=...` lines that point mc.connect() at the sandbox h: every
--- account setting a script needs (their names are performlua.settings').
function M.exports(h)
  local env = require("performlua.settings").ENV
  local lines = {}
  for _, pair in ipairs{{"auth_url", h.auth_url}, {"client_id", h.client_id},
      {"client_secret", h.client_secret}, {"soap_url", h.soap_url}} do
    lines[#lines + 1] = string.format("export %s=%s", env[pair[1]], shell_word(pair[2]))
  end
  return lines
end

--- opts: the values of the flags (runtime/cli/flags.c reads them: --port N is opts.port, each
--- --fault one entry of opts.faults). Returns the exit status, or nil and a message for a
--- usage error, which the command line shows with the usage.
function M.main(opts)
  local o, problem = M.check(opts)
  if not o then return nil, problem end
  -- before starting: whether or not it then starts, the user learns what the address means
  if o.host and not M.is_loopback(o.host) then
    io.stderr:write(M.exposed_warning(o.host), "\n")
    io.stderr:flush()
  end
  local ok, h = pcall(sandbox.start, o)
  if not ok then
    io.stderr:write("performlua sandbox: ", type(h) == "table" and tostring(h.message) or tostring(h), "\n")
    return 1
  end
  print("performlua sandbox: an emulated Marketing Cloud account")
  print("  token URL:      " .. h.token_url)
  print("  SOAP URL:       " .. h.soap_url)
  print("  auth base URL:  " .. h.auth_url .. "  (clients append v2/token)")
  print("  client id:      " .. h.client_id)
  print("  client secret:  " .. h.client_secret)
  print("  WS-Security:    username " .. h.username .. ", password " .. h.password)
  if o.wsdl then
    print("  validating requests against " .. o.wsdl .. " as the service reads them")
  end
  if o.state then print("  account kept in " .. o.state .. " (SQLite; survives restarts)") end
  if o.log then print("  logging one line per request on stderr") end
  if #o.faults > 0 then print("  injecting faults: " .. table.concat(o.faults, ", ")) end
  if o.latency and o.latency > 0 then print(string.format("  latency: %g ms", o.latency)) end
  local limits = {}
  for _, l in ipairs{{"max_body", "--max-body %d"}, {"body_budget", "--body-budget %d"},
                     {"max_connections", "--max-connections %d"},
                     {"max_connections_per_ip", "--max-per-ip %d"},
                     {"idle_timeout", "--idle-timeout %d"}, {"min_rate", "--min-rate %d"}} do
    if o[l[1]] then limits[#limits + 1] = string.format(l[2], o[l[1]]) end
  end
  if #limits > 0 then print("  limits: " .. table.concat(limits, " ")) end
  print("For a script or the REPL in another shell, paste:")
  for _, line in ipairs(M.exports(h)) do print("  " .. line) end
  print("Stop with Ctrl-C.")
  io.stdout:flush()
  local signal = core.sandbox_wait_signal()
  local stats = h:stats()
  h:stop()
  print(string.format("performlua sandbox: stopped (%s) after %d token and %d SOAP requests",
    signal, stats.token_requests, stats.soap_requests))
  io.stdout:flush()
  return 0
end

return M
