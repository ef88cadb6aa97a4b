-- Reconciling a send or an import in doubt: which of the service's Sends (or imports) the call
-- made. The sandbox writes times with a zone; the real service writes most without one, in its
-- own server time, and such a time proves nothing either way near the call.
local journal = require "performlua.journal"

local function id(x) return x.ID end
local function time(x) return x.SendDate end
local AT = os.time{year = 2026, month = 12, day = 2, hour = 16, min = 30, sec = 0, isdst = false}
-- AT as UTC text: os.time read the fields as local time
local function utc_text(t) return os.date("!%Y-%m-%dT%H:%M:%S", t) end
local at = AT + (AT - os.time(os.date("!*t", AT)))

describe("journal.placed", function()
  it("takes a Send with a zone written after the call, or a minute before it", function()
    local sends = {{ID = 1, SendDate = utc_text(at - 3600) .. "Z"},
                   {ID = 2, SendDate = utc_text(at - 30) .. ".250Z"}}
    assert.are.equal(sends[2], journal.placed(sends, at, id, time, {}))
  end)

  it("reads a zone offset", function()
    -- 10:31 in US Central (UTC-6) is 16:31 UTC: after the call
    local sends = {{ID = 3, SendDate = "2026-12-02T10:31:00-06:00"}}
    assert.are.equal(sends[1], journal.placed(sends, at, id, time, {}))
    -- 17:31 at UTC+02:00 is 15:31 UTC: an hour before
    assert.is_false(journal.placed({{ID = 4, SendDate = "2026-12-02T17:31:00+02:00"}}, at, id,
      time, {}))
  end)

  it("leaves out what other calls of the journal made, and older sends", function()
    local sends = {{ID = 5, SendDate = utc_text(at + 5) .. "Z"},
                   {ID = 6, SendDate = utc_text(at - 7200) .. "Z"}}
    assert.is_false(journal.placed(sends, at, id, time, {["5"] = true}))
  end)

  it("cannot tell from a time without a zone near the call", function()
    -- the service's 10:31 (US Central, no zone written) read as UTC would be 6 h before the
    -- call: taken as 'not sent', the run would send again
    local found, ids = journal.placed({{ID = 7, SendDate = "2026-12-02T10:31:00.123"},
      {ID = 8, SendDate = "2026-12-02T04:00:00"}}, at, id, time, {})
    assert.is_nil(found)
    assert.are.same({"7", "8"}, ids)
  end)

  it("rules out a time without a zone older than any zone could make it", function()
    assert.is_false(journal.placed({{ID = 9, SendDate = "2026-12-01T02:00:00"}}, at, id, time, {}))
  end)

  it("cannot tell from a Send without a readable time", function()
    local found, ids = journal.placed({{ID = 10}}, at, id, time, {})
    assert.is_nil(found)
    assert.are.same({"10"}, ids)
  end)
end)
