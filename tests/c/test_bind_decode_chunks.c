/* core.decode feeds libxml2's SAX2 parser in chunks and applies each chunk's events after
 * it (bind/decode.c): whatever a chunk boundary cuts (a tag, a name, an attribute, an
 * xsi:type whose prefix was declared chunks before, text, an entity or character reference,
 * CDATA), the answer must decode to the same values. A page of rows is decoded again and
 * again with the rows shifted by one byte each time, so the boundary crosses every byte of
 * a row; each decoded row must equal that row decoded alone, in a document far smaller than
 * a chunk. */
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bind/core.h"

#include "check.h"

static const char test_lua[] =
    "local core = require 'performlua.core'\n"
    "local HEAD = '<?xml version=\"1.0\" encoding=\"UTF-8\"?>'\n"
    "  .. '<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" '\n"
    "  .. 'xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" '\n"
    "  .. 'xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">'\n"
    "  .. '<soap:Header><wsa:Action xmlns:wsa=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\">'\n"
    "  .. 'RetrieveResponse</wsa:Action></soap:Header><soap:Body>'\n"
    "  .. '<RetrieveResponseMsg xmlns=\"http://exacttarget.com/wsdl/partnerAPI\">'\n"
    "local TAIL = '<OverallStatus>MoreDataAvailable</OverallStatus><RequestID>r-1</RequestID>'\n"
    "  .. '</RetrieveResponseMsg></soap:Body></soap:Envelope>'\n"
    "-- three shapes of row: xsi:type unprefixed, with a prefix the row declares, and a\n"
    "-- Value typed xsd:string through the envelope's prefix; nil, references, CDATA\n"
    "local function row(i)\n"
    "  local open = ({'<Results xsi:type=\"DataExtensionObject\">',\n"
    "    '<Results xmlns:et=\"http://exacttarget.com/wsdl/partnerAPI\" xsi:type=\"et:DataExtensionObject\">',\n"
    "    '<Results xsi:type=\"DataExtensionObject\" xmlns:x=\"urn:x\">'})[i % 3 + 1]\n"
    "  return open .. '<CustomerKey>key-' .. i .. '</CustomerKey><Properties>'\n"
    "    .. '<Property><Name>Email</Name><Value xsi:type=\"xsd:string\">a&amp;b&#233;&lt;'\n"
    "    .. i .. '&gt;</Value></Property>'\n"
    "    .. '<Property><Name>Note</Name><Value><![CDATA[<c>' .. i .. ']]>\\n  tail</Value></Property>'\n"
    "    .. '<Property><Name>Empty</Name><Value xsi:nil=\"true\"/></Property>'\n"
    "    .. '</Properties><ObjectID>' .. string.rep('o', i % 7) .. '</ObjectID></Results>\\n'\n"
    "end\n"
    "local function same(a, b, path)\n"
    "  if type(a) ~= type(b) then error(path .. ': ' .. tostring(a) .. ' vs ' .. tostring(b), 0) end\n"
    "  if type(a) ~= 'table' then\n"
    "    if a ~= b then error(path .. ': ' .. tostring(a) .. ' vs ' .. tostring(b), 0) end\n"
    "    return\n"
    "  end\n"
    "  if getmetatable(a) ~= getmetatable(b) then error(path .. ': metatables differ', 0) end\n"
    "  for k, v in next, a do same(v, rawget(b, k), path .. '.' .. tostring(k)) end\n"
    "  for k in next, b do\n"
    "    if rawget(a, k) == nil then error(path .. '.' .. tostring(k) .. ': missing', 0) end\n"
    "  end\n"
    "end\n"
    "local rows, expected = {}, {}\n"
    "local ROWS = 200\n"
    "for i = 1, ROWS do\n"
    "  rows[i] = row(i)\n"
    "  expected[i] = core.decode(HEAD .. rows[i] .. TAIL).Results[1]\n"
    "end\n"
    "local page = table.concat(rows)\n"
    "assert(#HEAD + #page > 65536 + #rows[1], 'the page must be longer than a chunk')\n"
    "for shift = 0, #rows[1] do\n"
    "  local body, element, header = core.decode(HEAD .. string.rep(' ', shift) .. page .. TAIL)\n"
    "  assert(element == 'RetrieveResponseMsg')\n"
    "  assert(header.action == 'RetrieveResponse', tostring(header.action))\n"
    "  assert(body.OverallStatus == 'MoreDataAvailable' and body.RequestID == 'r-1')\n"
    "  assert(#body.Results == ROWS, 'shift ' .. shift .. ': ' .. #body.Results .. ' rows')\n"
    "  for i = 1, ROWS do same(body.Results[i], expected[i], 'shift ' .. shift .. ' row ' .. i) end\n"
    "end\n"
    "-- the pieces the rows are made of decode as the schema says\n"
    "local r = expected[2]\n"
    "assert(r.CustomerKey == 'key-2')\n"
    "local p = r.Properties\n"
    "assert(p[1].Name == 'Email' and p[1].Value == 'a&b\\195\\169<2>', tostring(p[1].Value))\n"
    "assert(p[2].Value == '<c>2\\n  tail', tostring(p[2].Value))\n"
    "assert(p[3].Name == 'Empty' and p[3].Value == nil)\n"
    "assert(r.ObjectID == 'oo')\n"
    "-- text longer than a chunk, cut by several boundaries\n"
    "local long = string.rep('0123456789', 20000)\n"
    "local body = core.decode(HEAD .. '<Results xsi:type=\"DataExtensionObject\"><CustomerKey>'\n"
    "  .. long .. '</CustomerKey></Results>' .. TAIL)\n"
    "assert(body.Results[1].CustomerKey == long)\n"
    "-- nesting is bounded wherever the chunk boundaries fall\n"
    "for _, pad in ipairs{0, 65000, 65536} do\n"
    "  local ok, err = pcall(core.decode, HEAD .. string.rep(' ', pad) .. string.rep('<a>', 200)\n"
    "    .. string.rep('</a>', 200) .. TAIL)\n"
    "  assert(not ok and err.message == 'refused: nesting deeper than 128 elements', tostring(err.message))\n"
    "end\n";

int main(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    pl_core_install(L);
    int status = luaL_loadbuffer(L, test_lua, sizeof test_lua - 1, "=decode_chunks") ||
                 lua_pcall(L, 0, 0, 0);
    if (status != LUA_OK) {
        const char *message = lua_tostring(L, -1);
        if (!message && lua_istable(L, -1)) {
            lua_getfield(L, -1, "message");
            message = lua_tostring(L, -1);
        }
        fprintf(stderr, "decode_chunks: %s\n", message ? message : "(error without a message)");
    }
    CHECK(status == LUA_OK);
    lua_close(L);
    return check_report("test_bind_decode_chunks");
}
