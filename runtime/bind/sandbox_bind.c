/* Placeholder: replaced by the sandbox part of the runtime. */
#include "bind/core.h"

void pl_open_sandbox(lua_State *L)
{
    (void)L;
}
