/* Every bind/ header includes this first. The binding layer (runtime/bind, with the command
 * line in runtime/cli) sits on top of the pure-C layers and may use them; nothing below may use
 * it. Only targets built with PL_BINDING_LAYER (CMakeLists.txt: performlua_core) can include a
 * bind/ header, so an upward include fails the build with this message instead of compiling
 * into a cycle (runtime/README.md). */
#ifndef PL_BINDING_LAYER
#error "bind/ is the Lua binding layer: pure-C code may not include its headers (runtime/README.md)"
#endif
