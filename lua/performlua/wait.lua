-- Placeholder: waiting for asynchronous work (c:wait).
local M = {}
function M.install(Client) end
return M
