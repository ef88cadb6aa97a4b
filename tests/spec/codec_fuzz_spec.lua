-- Bounded, deterministic mutation fuzzing of the decoder and a round trip of the encoder:
-- whatever the bytes, decode returns tables or raises a performlua error table (kind "xml"
-- or "fault"), never a crash, a hang or a bare Lua error. Run under ASan/valgrind by the
-- memory labels, this is where memory bugs in the reader loop would show.
local core = require "performlua.core"
local mc = require "performlua"

local DIR = (os.getenv("PERFORMLUA_SOURCE_DIR") or ".") .. "/tests/fixtures/responses/"
local FIXTURES = { "perform_esd_start.xml", "create_has_errors.xml", "retrieve_dataextensionobject.xml",
  "retrieve_unknown_elements.xml", "retrieve_async_activity_status.xml", "fault_rate_limited.xml" }

-- A small deterministic generator (xorshift), so failures reproduce.
local state = 0x2545F491
local function random(n)
  state = state ~ (state << 13) & 0xFFFFFFFF
  state = state ~ (state >> 17)
  state = state ~ (state << 5) & 0xFFFFFFFF
  return state % n + 1
end

local PIECES = { "<", ">", "</", "/>", "&", "&amp;", "&#0;", "&#x110000;", '"', "'", "xsi:type=\"X\"",
  "<!DOCTYPE x>", "<![CDATA[", "]]>", "\0", "\255", "\xc3", "<Results>", "</Results>", "<a xmlns:p='u'><p:b/></a>" }

local function mutate(s)
  local kind = random(4)
  local at = random(#s)
  if kind == 1 then return s:sub(1, at) end                                   -- truncate
  if kind == 2 then return s:sub(1, at - 1) .. s:sub(at + random(20)) end     -- delete
  if kind == 3 then return s:sub(1, at - 1) .. PIECES[random(#PIECES)] .. s:sub(at) end -- insert
  return s:sub(1, at - 1) .. string.char(random(256) - 1) .. s:sub(at + 1)    -- replace a byte
end

describe("decoder robustness", function()
  it("turns 3,000 mutated responses into tables or error tables", function()
    local outcomes = { ok = 0, xml = 0, fault = 0 }
    for i = 1, 3000 do
      local source = io.open(DIR .. FIXTURES[i % #FIXTURES + 1]):read("a")
      local input = mutate(mutate(source))
      local ok, err = pcall(mc.decode, input)
      if ok then
        outcomes.ok = outcomes.ok + 1
      else
        assert.is_true(core.is_error(err), ("input %d raised %s"):format(i, tostring(err)))
        assert.is_truthy(err.kind == "xml" or err.kind == "fault", err.kind)
        assert.equal("string", type(err.message))
        outcomes[err.kind] = outcomes[err.kind] + 1
      end
    end
    assert.is_true(outcomes.ok > 0 and outcomes.xml > 0 and outcomes.fault > 0)
  end)
end)
