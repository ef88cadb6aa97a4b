/* Layer probe (tests/build/layers.sh): a pure-C file including Lua. Must not compile. */
#include <lua.h>

int pl_layer_probe(void);
int pl_layer_probe(void)
{
    return LUA_OK;
}
