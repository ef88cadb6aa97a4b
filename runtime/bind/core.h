/* The C module behind require "performlua": `performlua.core`.
 *
 * Each part of the runtime contributes its functions to the one core table through an
 * pl_open_<part>(L) function that adds fields to the table on the top of the stack. */
#ifndef PL_BIND_CORE_H
#define PL_BIND_CORE_H

#include "bind/layer.h"

#include <lua.h>

int luaopen_performlua_core(lua_State *L);

void pl_open_errors(lua_State *L);  /* bind/errors.c */
void pl_open_schema(lua_State *L);  /* bind/schema_bind.c */
void pl_open_codec(lua_State *L);   /* bind/codec_bind.c */
void pl_open_net(lua_State *L);     /* bind/net_bind.c */
void pl_open_json(lua_State *L);    /* bind/json_bind.c */
void pl_open_sandbox(lua_State *L); /* bind/sandbox_bind.c */
void pl_open_sys(lua_State *L);     /* bind/sys_bind.c: clock, sleep, terminal, file modes */
void pl_open_names(lua_State *L);   /* bind/names_bind.c: did-you-mean suggestions */
void pl_open_sqlite(lua_State *L);  /* bind/sqlite_bind.c: SQLite connections */
/* SQLite's version ("3.40.1"), or "(not loaded: why)": asking loads it (bind/sqlite_bind.c). */
void pl_sqlite_library_version(char *out, size_t size);
void pl_open_fingerprint(lua_State *L); /* bind/fingerprint_bind.c: digests of values */

/* Registers performlua.core in package.preload and the embedded-module searcher. */
void pl_core_install(lua_State *L);

#endif
