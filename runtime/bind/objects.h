/* Typed objects on the Lua side: one metatable per API type (shared by the constructors in
 * performlua.types and the decoder), and the checks that turn user values into schema
 * values. The encoder walks Lua tables with the same checks, so a value is accepted or
 * refused identically whether it goes through mc.<Type>{...}, a field assignment, or
 * mc.encode on a plain table. */
#ifndef PL_BIND_OBJECTS_H
#define PL_BIND_OBJECTS_H

#include "bind/layer.h"

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "schema/schema.h"

/* The registry table of the types' metatables (keyed by type name and by schema type):
 * objects.c fills it, the decoder gives decoded objects the same metatables from it. */
#define PL_TYPES_REGISTRY "performlua.types"

/* Where a check happens, for messages: the path of the value being checked
 * ("PerformRequestMsg.Definitions[1]") and, when where_level > 0, the Lua call level whose
 * position ("script.lua:12: ") starts the message. */
typedef struct pl_check {
    lua_State *L;
    int where_level;
    char path[512];
    size_t path_len;
    int depth;          /* objects being built, for the nesting bound */
} pl_check;

/* Nesting bound for building and encoding objects (and the decoder's, codec.h). A table
 * that contains itself would otherwise recurse until the C stack overflows. */
#define PL_CHECK_MAX_DEPTH 128

void pl_check_init(pl_check *c, lua_State *L, int where_level, const char *root);
/* Appends ".name" (or "[index]" when name is NULL) and returns the previous length, to be
 * given back to pl_check_pop. */
size_t pl_check_push(pl_check *c, const char *name, long long index);
void pl_check_pop(pl_check *c, size_t previous_len);
/* Raises a usage error: "<position><path>: <message>" (the path only when nested). */
int pl_check_fail(pl_check *c, const char *fmt, ...);

/* Raises a usage error whose subject is the current path itself: the format's first %s
 * receives c->path ("Send.Email.ID must be ..."). */
int pl_check_fail_value(pl_check *c, const char *fmt, ...);

/* "a" or "an" before a type name. */
const char *pl_check_article(const char *word);

/* Every key of the table at idx must name a field of t: raises for a non-string key, or for
 * the unknown name that sorts first (so the message does not depend on hash order). */
void pl_check_keys(pl_check *c, const pl_type *t, int idx);

/* Raises "<Type> has no field '<name>' (did you mean '<nearest>'?)". */
int pl_check_unknown_field(pl_check *c, const pl_type *t, const char *name);

/* Checks the simple value at `idx` for element `e`, the value's path being the current path
 * plus e->name. Pushes the normalised value: an integer for integer kinds, a number for
 * double, a boolean, or a string (dateTimes from os.time() numbers become UTC strings,
 * numbers given for string fields become their canonical text). */
void pl_check_simple(pl_check *c, const pl_element *e, int idx);

/* The type a plain table at `idx` stands for in a slot declared `declared`: the declared
 * type when its fields cover the table's keys, else the one concrete subtype (outside the
 * APIObject family, where guessing could send the wrong object) whose fields do. Raises
 * when an abstract declared type cannot be resolved. */
const pl_type *pl_check_infer_type(pl_check *c, const pl_type *declared, int idx);

/* True when the value at idx is a table to be read as an array: no type of its own, and
 * either empty or with a value at index 1. */
bool pl_is_array(lua_State *L, int idx);

/* ---- objects ---- */

/* Pushes the table of every metatable made so far, keyed by type name and, for model types,
 * by the pl_type pointer (lua_rawgetp: the decoder's fast path). Created on first use. */
void pl_object_push_metatables(lua_State *L);
/* Pushes the metatable of the type `name` (t may be NULL: looked up by name; unknown types
 * get a permissive metatable that still reports the type). Created on first use. */
void pl_object_push_metatable(lua_State *L, const pl_type *t, const char *name);
/* The type name of a typed object at idx (constructed or decoded), or NULL. *known is set to
 * the schema type when the type is in the model (NULL otherwise). */
const char *pl_object_type(lua_State *L, int idx, const pl_type **known);

/* Builds a new object of type t from the plain table at idx (values checked and normalised,
 * nested plain tables built as their declared types). Pushes the object. */
void pl_object_construct(pl_check *c, const pl_type *t, int idx);
/* Pushes the normalised value of field e (arrays for repeated fields, objects for complex
 * ones) for the value at idx. */
void pl_object_normalize_field(pl_check *c, const pl_element *e, int idx);

/* The type whose fields describe an object of a type the model does not know, found in a
 * slot declared `declared`: ObjectExtension (APIObject + Type + Properties/Property name-value
 * pairs) for APIObject slots, which is how the service returns its undeclared types such as
 * AsyncActivityStatus; otherwise the declared type itself (may be NULL). */
const pl_type *pl_object_unknown_type_fields(const pl_type *declared);

/* True when type t can be built by users (named, not abstract, not a message element). */
bool pl_object_constructible(const pl_type *t);

/* Lua functions exported through performlua.core (codec_bind.c registers them). */
int pl_l_constructor(lua_State *L);     /* core.constructor(name) -> function | nil */
int pl_l_object_types(lua_State *L);    /* core.object_types() -> sorted names */
int pl_l_typeof(lua_State *L);          /* core.typeof(v) -> name | nil */
int pl_l_check_field(lua_State *L);     /* core.check_field(type, field, value) -> value */
int pl_l_object_metatable(lua_State *L); /* core.object_metatable(name) -> metatable */

/* Objects decoded from a response may hold elements the schema does not declare (the
 * service sends more than its WSDL says). The decoder marks such objects; a request leaves
 * their undeclared fields out instead of refusing them, so that a retrieved object can be
 * sent back (Perform, Update) as it is, while a misspelt field in an object the script
 * built is still an error. The mark is kept in a weak table: it costs nothing per object. */
void pl_object_mark_response_extras(lua_State *L, int idx);
bool pl_object_has_response_extras(lua_State *L, int idx);

#endif
