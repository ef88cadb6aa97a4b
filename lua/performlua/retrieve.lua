-- Placeholder: streamed retrieves (c:each, c:retrieve_all, Describe-driven default properties).
local M = {}
function M.install(Client) end
return M
