/* Placeholder: replaced by the codec part of the runtime. */
#include "bind/core.h"

void pl_open_codec(lua_State *L)
{
    (void)L;
}
