-- One full Retrieve page (2,500 DataExtensionObject rows of 10 properties, about 2 MB)
-- decodes completely: every row, every property, the last one included. How fast is the
-- benchmark's job, never a test's (tests/bench/side_by_side.sh, its `decode` line), since a
-- loaded or sanitizer machine makes any clock bound either flaky or meaningless.
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

describe("a full page", function()
  it("decodes 2,500 DataExtensionObject rows completely", function()
    local body = mc.decode(page(2500, 10))
    assert.equal(2500, #body.Results)
    assert.equal("MoreDataAvailable", body.OverallStatus)
    for i = 1, 2500, 499 do
      local props = body.Results[i].Properties
      assert.equal(10, #props)
      assert.same({ Name = "Field10", Value = ("value %d-10"):format(i) }, props[10])
    end
    assert.same({ Name = "Field10", Value = "value 2500-10" }, body.Results[2500].Properties[10])
    assert.equal("DataExtensionObject", mc.typeof(body.Results[1]))
  end)
end)
