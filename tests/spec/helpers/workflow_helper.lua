-- Shared by the workflow specs (wait_*, retrieve_*): a client for a sandbox, and a scripted
-- service -- loop.http replaced by a Lua function, so every answer and state sequence is exact
-- and nothing touches the network.
--
--   local wh = require "workflow_helper"
--   wh.sandbox_client(box)              a client of the sandbox `box` (no token cache)
--   wh.install(handler)                 answer every SOAP request with handler(element, body, req)
--                                       (an XML string, or a response table); tokens are answered
--                                       here. wh.restore() puts the real transport back.
--   wh.response(status, body)           the table loop.http gives back
--   wh.scripted_client([extra])         a client of the scripted service (extra: more settings)
local core = require "performlua.core"
local loop = require "performlua.loop"
local client = require "performlua.client"

local M = {}

local original_http = loop.http

function M.sandbox_client(box)
  return client.connect{auth_url = box.auth_url, client_id = "sandbox",
    client_secret = "sandbox", token_cache = false}
end

function M.response(status, body)
  return {id = 0, status = status, body = body, headers = {}, curl_code = 0, sent = true,
          reused = false, elapsed = 0.001}
end

function M.install(handler)
  loop.http = function(req)
    if req.url:match("/v2/token$") then
      return M.response(200, core.json_encode{access_token = "tok", expires_in = 1080,
        token_type = "Bearer", soap_instance_url = "https://mc-test.soap.example/"})
    end
    local body, element = core.decode(req.body)
    local answer = handler(element, body, req)
    if type(answer) == "string" then return M.response(200, answer) end
    return answer
  end
end

function M.restore()
  loop.http = original_http
end

function M.scripted_client(extra)
  local args = {client_id = "cid", client_secret = "secret", auth_url = "https://auth.example/",
    token_cache = false, retry_base_delay = 0.001}
  for k, v in pairs(extra or {}) do args[k] = v end
  return client.connect(args)
end

return M
