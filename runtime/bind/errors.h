/* The one error shape of performlua, raised from C.
 *
 * The shape (kind, message, code, http_status, request_id, retryable, outcome_unknown, ...)
 * and the list of kinds, with what each means, are documented once, in
 * lua/performlua/errors.lua (performlua.errors). A kind raised here must be one of its KINDS:
 * tests/spec/errors_spec.lua reads the kinds named in runtime/ and holds them to that list. */
#ifndef PL_BIND_ERRORS_H
#define PL_BIND_ERRORS_H

#include "bind/layer.h"

#include <stdbool.h>

#include <lua.h>

/* Pushes a new error table with kind and message set and the error metatable attached. */
void pl_error_push(lua_State *L, const char *kind, const char *message);

/* True when the value at idx is a performlua error table of the given kind. Raises nothing. */
bool pl_error_is_kind(lua_State *L, int idx, const char *kind);

/* Convenience: push an error of the given kind with a formatted message and raise it. */
int pl_error_raisef(lua_State *L, const char *kind, const char *fmt, ...);

#endif
