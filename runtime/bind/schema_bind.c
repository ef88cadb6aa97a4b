/* Placeholder: replaced by the schema part of the runtime. */
#include "bind/core.h"

void pl_open_schema(lua_State *L)
{
    (void)L;
}
