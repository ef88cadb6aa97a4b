/* Placeholder: replaced by the net part of the runtime. */
#include "bind/core.h"

void pl_open_net(lua_State *L)
{
    (void)L;
}
