-- Decoding speed: one full Retrieve page (2,500 DataExtensionObject rows of 10 properties,
-- about 2 MB) must decode in milliseconds, not seconds. A normal build takes about 35 ms;
-- the bound is 0.5 s there, and 3 s in the sanitizer build (tests/memory/asan.sh).
local mc = require "performlua"

local function page(rows, fields)
  local parts = { '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    .. 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body>'
    .. '<RetrieveResponseMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><OverallStatus>MoreDataAvailable</OverallStatus>'
    .. "<RequestID>4f8a2c6e-0b1d-4e3f-a5c7-9b2d4f6a8c01</RequestID>" }
  for i = 1, rows do
    parts[#parts + 1] = '<Results xsi:type="DataExtensionObject"><PartnerKey xsi:nil="true"/><ObjectID xsi:nil="true"/>'
      .. "<Type>DataExtensionObject</Type><Properties>"
    for j = 1, fields do
      parts[#parts + 1] = ("<Property><Name>Field%d</Name><Value>value %d-%d</Value></Property>"):format(j, i, j)
    end
    parts[#parts + 1] = "</Properties></Results>"
  end
  parts[#parts + 1] = "</RetrieveResponseMsg></soap:Body></soap:Envelope>"
  return table.concat(parts)
end

describe("decoding speed", function()
  it("decodes a 2,500-row DataExtensionObject page quickly and completely", function()
    local xml = page(2500, 10)
    mc.decode(xml) -- warm up (metatables, allocator)
    local t0 = os.clock()
    local body = mc.decode(xml)
    local elapsed = os.clock() - t0
    assert.equal(2500, #body.Results)
    assert.same({ Name = "Field10", Value = "value 2500-10" }, body.Results[2500].Properties[10])
    assert.equal("DataExtensionObject", mc.typeof(body.Results[1]))
    local sanitized = (os.getenv("PERFORMLUA_BUILD_DIR") or ""):find("asan", 1, true)
    local bound = sanitized and 3.0 or 0.5
    assert.is_true(elapsed < bound, ("decoding took %.3f s (bound %.1f s)"):format(elapsed, bound))
  end)
end)
