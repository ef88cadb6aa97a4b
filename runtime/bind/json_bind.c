/* Placeholder: replaced by the json part of the runtime. */
#include "bind/core.h"

void pl_open_json(lua_State *L)
{
    (void)L;
}
