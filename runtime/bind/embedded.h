/* Lua modules compiled into the executable (see cmake/embed_lua.cmake). */
#ifndef PL_BIND_EMBEDDED_H
#define PL_BIND_EMBEDDED_H

#include "bind/layer.h"

#include <stddef.h>
#include <lua.h>

typedef struct pl_embedded_module {
    const char *name;   /* module name as given to require, e.g. "performlua.client" */
    const char *path;   /* source path relative to the repository, for chunk names */
    const char *source;
    size_t size;
} pl_embedded_module;

extern const pl_embedded_module pl_embedded_modules[];

/* Finds an embedded module by name; NULL when there is none. */
const pl_embedded_module *pl_embedded_find(const char *name);

/* Installs a package searcher for the embedded modules, right after package.preload's, so a
 * module of the same name on disk cannot shadow the runtime's own Lua side. When the
 * environment variable PERFORMLUA_LUA_DIR is set (development only), modules are read from that
 * directory instead, which lets Lua changes be tried without rebuilding. */
void pl_embedded_install(lua_State *L);

#endif
