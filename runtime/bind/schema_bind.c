/* The schema model and the XSD validator, for Lua.
 *
 *   core.schema_type(name)   -> description | nil
 *       {name=, base= (nil at the root), abstract=, anonymous=, supplement=,
 *        apiobject= (derives from APIObject, APIObject itself excluded),
 *        fields = { {name=, type=, kind=, min=, max= (-1 unbounded), nillable=,
 *                    item= (wrapper item name, or nil), item_min=, item_max=,
 *                    item_nillable=, wrapper_type= (named array type, or nil),
 *                    choice= (1-based choice group, or nil), owner= (declaring type),
 *                    values= {...} (enumerations only)}, ... } }
 *       Fields are in wire order, base type's first. An <any/> field is named "##any".
 *       The description is built once per type and cached in the registry: the same table
 *       is returned every time, so treat it as read-only.
 *   core.schema_types()      -> sorted array of every complex type name (WSDL, including
 *                               the anonymous message types, and the supplement)
 *   core.schema_enum(name)   -> fresh array of the enumeration's values | nil
 *   core.schema_enums()      -> sorted array of every enumeration's name
 *   core.schema_global(name) -> the global element's type name | nil
 *   core.schema_globals()    -> sorted array of every global element name (59)
 *   core.xsd_load(wsdl_path) -> validator; raises {kind="usage"} when the file cannot be
 *                               opened, {kind="xml"} when it is no usable WSDL
 *       validator:validate(xml) -> true | false, message
 *       validator:close()       (idempotent; also __gc and __close)
 *   core.read_like_service(xml) -> true, dropped, kept | false, faultstring
 *       what the service's deserializer makes of a request (schema/xsd.h,
 *       pl_xsd_read_like_service): dropped is a list of "Path/To/Element (why)" it would
 *       skip and kept the request without them (both nil when nothing is skipped)
 *
 * kind is one of "string", "int", "long", "short", "byte", "double", "boolean", "dateTime",
 * "date", "time", "base64", "enum", "complex", "any". */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/core.h"
#include "bind/errors.h"
#include "bind/scope.h"
#include "schema/schema.h"
#include "schema/xsd.h"

#define DESCRIPTIONS_KEY "performlua.schema.descriptions"
#define VALIDATOR_METATABLE "performlua.xsd_validator"

static void set_string(lua_State *L, const char *key, const char *value)
{
    if (!value)
        return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

static void set_int(lua_State *L, const char *key, lua_Integer value)
{
    lua_pushinteger(L, value);
    lua_setfield(L, -2, key);
}

static void set_bool(lua_State *L, const char *key, bool value)
{
    lua_pushboolean(L, value);
    lua_setfield(L, -2, key);
}

static void push_enum_values(lua_State *L, const pl_enum *en)
{
    lua_createtable(L, en->n_values, 0);
    for (int i = 0; i < en->n_values; i++) {
        lua_pushstring(L, en->values[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* The type that declares field `e` (for `owner`). A type that declares no field of its own
 * has no element array at all (NULL): even NULL + 0 is undefined, so it is skipped. */
static const pl_type *declaring_type(const pl_type *t, const pl_element *e)
{
    for (int depth = 0; t && depth <= pl_schema_type_count(); depth++, t = pl_type_base(t))
        if (t->n_elements > 0 && e >= t->elements && e < t->elements + t->n_elements)
            return t;
    return NULL;
}

static void push_field(lua_State *L, const pl_type *t, const pl_element *e)
{
    lua_createtable(L, 0, 12);
    set_string(L, "name", e->name);
    set_string(L, "type", e->type_name);
    set_string(L, "kind", pl_kind_name(e->kind));
    set_int(L, "min", e->min_occurs);
    set_int(L, "max", e->max_occurs);
    set_bool(L, "nillable", e->nillable);
    if (e->item_name) {
        set_string(L, "item", e->item_name);
        set_int(L, "item_min", e->item_min_occurs);
        set_int(L, "item_max", e->item_max_occurs);
        set_bool(L, "item_nillable", e->item_nillable);
        set_string(L, "wrapper_type", e->wrapper_type_name);
    }
    if (e->choice)
        set_int(L, "choice", e->choice);
    const pl_type *owner = declaring_type(t, e);
    if (owner)
        set_string(L, "owner", owner->name);
    const pl_enum *en = pl_element_enum(e);
    if (en) {
        push_enum_values(L, en);
        lua_setfield(L, -2, "values");
    }
}

static void push_description(lua_State *L, const pl_type *t)
{
    lua_createtable(L, 0, 8);
    set_string(L, "name", t->name);
    set_string(L, "base", t->base_name);
    set_bool(L, "abstract", t->is_abstract);
    set_bool(L, "anonymous", t->is_anonymous);
    set_bool(L, "supplement", t->is_supplement);
    set_bool(L, "apiobject", pl_type_is_apiobject_subtype(t));

    /* the field pointers go into a Lua-owned buffer: nothing to free if a push raises */
    int n = pl_type_fields(t, NULL, 0);
    const pl_element **fields = lua_newuserdatauv(L, sizeof *fields * (size_t)(n ? n : 1), 0);
    pl_type_fields(t, fields, n);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        push_field(L, t, fields[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_remove(L, -2); /* the buffer */
    lua_setfield(L, -2, "fields");
}

static int l_schema_type(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const pl_type *t = pl_schema_type(name);
    if (!t) {
        lua_pushnil(L);
        return 1;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, DESCRIPTIONS_KEY);
    if (lua_getfield(L, -1, t->name) == LUA_TTABLE)
        return 1;
    lua_pop(L, 1);
    push_description(L, t);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, t->name);
    return 1;
}

static int l_schema_types(lua_State *L)
{
    int n = pl_schema_type_count();
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, pl_schema_type_at(i)->name);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_schema_enum(lua_State *L)
{
    const pl_enum *en = pl_schema_enum(luaL_checkstring(L, 1));
    if (!en)
        lua_pushnil(L);
    else
        push_enum_values(L, en);
    return 1;
}

static int l_schema_enums(lua_State *L)
{
    int n = pl_schema_enum_count();
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, pl_schema_enum_at(i)->name);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_schema_global(lua_State *L)
{
    const pl_global_element *g = pl_schema_global(luaL_checkstring(L, 1));
    if (!g)
        lua_pushnil(L);
    else
        lua_pushstring(L, g->type->name);
    return 1;
}

static int l_schema_globals(lua_State *L)
{
    int n = pl_schema_global_count();
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, pl_schema_global_at(i)->name);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* ---------------------------------------------------------------- the validator */

typedef struct {
    pl_xsd *xsd; /* NULL once closed */
} validator;

static validator *check_validator(lua_State *L)
{
    return luaL_checkudata(L, 1, VALIDATOR_METATABLE);
}

static int validator_close(lua_State *L)
{
    validator *v = check_validator(L);
    pl_xsd_free(v->xsd);
    v->xsd = NULL;
    return 0;
}

static int validator_validate(lua_State *L)
{
    validator *v = check_validator(L);
    size_t len;
    const char *xml = luaL_checklstring(L, 2, &len);
    if (!v->xsd)
        return luaL_error(L, "the XSD validator is closed");
    char **message = pl_push_scoped_string(L);
    int rc = pl_xsd_validate(v->xsd, xml, len, message);
    if (rc == 1) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (rc < 0)
        return luaL_error(L, "out of memory while validating");
    lua_pushboolean(L, 0);
    lua_pushstring(L, *message ? *message : "invalid");
    return 2;
}

static int validator_tostring(lua_State *L)
{
    validator *v = check_validator(L);
    lua_pushstring(L, v->xsd ? "xsd validator" : "xsd validator (closed)");
    return 1;
}

static int l_xsd_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    validator *v = lua_newuserdatauv(L, sizeof *v, 0);
    v->xsd = NULL; /* created closed, then opened: a raise below leaves nothing to free */
    luaL_setmetatable(L, VALIDATOR_METATABLE);
    char **message = pl_push_scoped_string(L);
    v->xsd = pl_xsd_load(path, message);
    if (v->xsd) {
        lua_pop(L, 1); /* closes the (empty) owner */
        return 1;
    }
    /* "cannot open" means a wrong path (usage); anything else, a file that is no WSDL */
    const char *text = *message ? *message : "cannot load the WSDL";
    pl_error_push(L, strncmp(text, "cannot open", 11) == 0 ? "usage" : "xml", text);
    lua_pushstring(L, path);
    lua_setfield(L, -2, "path");
    return lua_error(L);
}

static int l_read_like_service(lua_State *L)
{
    size_t len;
    const char *xml = luaL_checklstring(L, 1, &len);
    pl_service_read r;
    int rc = pl_xsd_read_like_service(xml, len, &r);
    if (rc < 0)
        return luaL_error(L, "out of memory while reading the request");
    if (rc == 0) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, r.fault ? r.fault : "the request cannot be read");
        pl_service_read_free(&r);
        return 2;
    }
    lua_pushboolean(L, 1);
    if (!r.dropped) {
        pl_service_read_free(&r);
        return 1;
    }
    /* pushing may raise (memory): copy into Lua first, free, then build the list */
    lua_pushstring(L, r.dropped);
    lua_pushlstring(L, r.kept, r.kept_len);
    pl_service_read_free(&r);
    const char *text = lua_tostring(L, -2);
    lua_newtable(L);
    int i = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        lua_pushlstring(L, p, n);
        lua_rawseti(L, -2, ++i);
        p += n + (nl ? 1 : 0);
    }
    lua_replace(L, -3); /* the list where the text was */
    return 3;
}

static const luaL_Reg validator_methods[] = {
    {"validate", validator_validate},
    {"close", validator_close},
    {NULL, NULL},
};

static const luaL_Reg validator_metamethods[] = {
    {"__gc", validator_close},
    {"__close", validator_close},
    {"__tostring", validator_tostring},
    {NULL, NULL},
};

static const luaL_Reg schema_functions[] = {
    {"schema_type", l_schema_type},
    {"schema_types", l_schema_types},
    {"schema_enum", l_schema_enum},
    {"schema_enums", l_schema_enums},
    {"schema_global", l_schema_global},
    {"schema_globals", l_schema_globals},
    {"xsd_load", l_xsd_load},
    {"read_like_service", l_read_like_service},
    {NULL, NULL},
};

void pl_open_schema(lua_State *L)
{
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, DESCRIPTIONS_KEY);

    luaL_newmetatable(L, VALIDATOR_METATABLE);
    luaL_setfuncs(L, validator_metamethods, 0);
    luaL_newlib(L, validator_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    luaL_setfuncs(L, schema_functions, 0);
}
