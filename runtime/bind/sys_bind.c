/* Placeholder: replaced by the sys part of the runtime. */
#include "bind/core.h"

void pl_open_sys(lua_State *L)
{
    (void)L;
}
