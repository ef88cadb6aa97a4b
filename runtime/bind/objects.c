/* Typed objects and value checks; see objects.h.
 *
 * Metatables live in one registry table (PL_TYPES_REGISTRY) keyed both by type name and, for
 * model types, by the pl_type pointer (the decoder's fast path). Each metatable holds:
 *   __name      the type name (what Lua's own messages show)
 *   __type      the type name (what typeof reports)
 *   __newindex  (model types only) checks a new field's name and value, then stores it
 *   __tostring  the readable rendering (performlua.pretty when present)
 * Fields are stored in the object itself, so reading, pairs() and # behave as on a plain
 * table. Lua code may add methods by setting __index on core.object_metatable(name). */
#include "bind/objects.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/errors.h"
#include "codec/value.h"

#define CONSTRUCTORS_REGISTRY "performlua.constructors"
#define RENDER_REGISTRY "performlua.types.render"
#define MAX_FIELDS 512

/* ---- check context and messages ---- */

void pl_check_init(pl_check *c, lua_State *L, int where_level, const char *root)
{
    c->L = L;
    c->where_level = where_level;
    c->depth = 0;
    c->path_len = 0;
    c->path[0] = '\0';
    if (root)
        pl_check_push(c, root, 0);
}

static void append_path(pl_check *c, const char *s, size_t len)
{
    size_t room = sizeof c->path - 1 - c->path_len;
    if (len > room)
        len = room;
    memcpy(c->path + c->path_len, s, len);
    c->path_len += len;
    c->path[c->path_len] = '\0';
}

size_t pl_check_push(pl_check *c, const char *name, long long index)
{
    /* Runs for every field encoded, while the path is read only when an error is reported:
     * appended by hand, since snprintf cost ~800 instructions a segment (~6,000 a Perform).
     * Same text as "%s%s" / "[%lld]", truncated at the buffer's end. */
    size_t previous = c->path_len;
    char segment[32];
    const char *add;
    size_t len;
    if (name) {
        if (c->path_len)
            append_path(c, ".", 1);
        add = name;
        len = strlen(name);
    } else {
        char *end = segment + sizeof segment, *p = end;
        unsigned long long v = index < 0 ? 0ULL - (unsigned long long)index : (unsigned long long)index;
        *--p = ']';
        do
            *--p = (char)('0' + v % 10);
        while ((v /= 10) != 0);
        if (index < 0)
            *--p = '-';
        *--p = '[';
        add = p;
        len = (size_t)(end - p);
    }
    append_path(c, add, len);
    return previous;
}

void pl_check_pop(pl_check *c, size_t previous_len)
{
    c->path_len = previous_len;
    c->path[previous_len] = '\0';
}

static bool path_is_nested(const pl_check *c)
{
    return strpbrk(c->path, ".[") != NULL;
}

/* Raises the message on the top of the stack as a usage error: "<position><path>: <message>"
 * (the path only when asked for and nested). */
static int raise_usage(pl_check *c, bool with_path)
{
    lua_State *L = c->L;
    if (c->where_level > 0)
        luaL_where(L, c->where_level);
    else
        lua_pushliteral(L, "");
    lua_insert(L, -2);
    if (with_path && path_is_nested(c))
        lua_pushfstring(L, "%s: ", c->path);
    else
        lua_pushliteral(L, "");
    lua_insert(L, -2);
    lua_concat(L, 3);
    pl_error_push(L, "usage", lua_tostring(L, -1));
    return lua_error(L);
}

/* Both format the message while the arguments are open and close them before raising, as
 * luaL_error does. */
int pl_check_fail(pl_check *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(c->L, fmt, ap);
    va_end(ap);
    return raise_usage(c, true);
}

int pl_check_fail_value(pl_check *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(c->L, fmt, ap);
    va_end(ap);
    return raise_usage(c, false);
}

const char *pl_check_article(const char *word)
{
    return strchr("AEIOUaeiou", word[0]) && word[0] ? "an" : "a";
}

/* "string 'abc'", "number 1.5", "boolean true", "a List object", "table", ... */
static const char *describe(lua_State *L, int idx, char *buf, size_t cap)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (len > 40)
            snprintf(buf, cap, "string '%.37s...'", s);
        else
            snprintf(buf, cap, "string '%s'", s);
        return buf;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            snprintf(buf, cap, "integer %lld", (long long)lua_tointeger(L, idx));
        else {
            char num[40];
            pl_value_format_double(lua_tonumber(L, idx), num, sizeof num);
            snprintf(buf, cap, "number %s", num);
        }
        return buf;
    case LUA_TBOOLEAN:
        snprintf(buf, cap, "boolean %s", lua_toboolean(L, idx) ? "true" : "false");
        return buf;
    case LUA_TTABLE: {
        const char *type = pl_object_type(L, idx, NULL);
        if (type) {
            snprintf(buf, cap, "%s %s object", pl_check_article(type), type);
            return buf;
        }
        return "a table";
    }
    default:
        return luaL_typename(L, idx);
    }
}

int pl_check_unknown_field(pl_check *c, const pl_type *t, const char *name)
{
    const pl_element *fields[MAX_FIELDS];
    const char *names[MAX_FIELDS];
    int n = pl_type_fields(t, fields, MAX_FIELDS);
    if (n > MAX_FIELDS)
        n = MAX_FIELDS;
    for (int i = 0; i < n; i++)
        names[i] = fields[i]->name;
    int nearest[3];
    int found = pl_value_suggest(name, names, n, nearest, 3);
    if (found == 0)
        return pl_check_fail(c, "%s has no field '%s'", t->name, name);
    char hint[256];
    size_t used = 0;
    for (int i = 0; i < found && used < sizeof hint; i++) {
        const char *sep = i == 0 ? "" : i == found - 1 ? " or " : ", ";
        int w = snprintf(hint + used, sizeof hint - used, "%s'%s'", sep, names[nearest[i]]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return pl_check_fail(c, "%s has no field '%s' (did you mean %s?)", t->name, name, hint);
}

/* Pushes the name, among the table's string keys that t does not declare, that sorts first;
 * returns false (pushing nothing) when there is none. Raises for a non-string key. */
static bool push_first_unknown_key(pl_check *c, const pl_type *t, int idx)
{
    lua_State *L = c->L;
    idx = lua_absindex(L, idx);
    int first = 0; /* stack slot of the smallest unknown name so far */
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            char what[96];
            pl_check_fail(c, "%s takes named fields, got a value at key %s", t->name,
                          describe(L, -1, what, sizeof what));
        }
        const char *name = lua_tostring(L, -1);
        if (pl_type_field(t, name))
            continue;
        if (!first || strcmp(name, lua_tostring(L, first)) < 0) {
            lua_pushvalue(L, -1);
            if (first) {
                lua_replace(L, first);
            } else {
                lua_insert(L, -2); /* below the traversal key */
                first = lua_gettop(L) - 1;
            }
        }
    }
    return first != 0;
}

void pl_check_keys(pl_check *c, const pl_type *t, int idx)
{
    if (push_first_unknown_key(c, t, idx))
        pl_check_unknown_field(c, t, lua_tostring(c->L, -1));
}

/* ---- simple values ---- */

static void push_xml_string(pl_check *c, int idx)
{
    lua_State *L = c->L;
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    size_t offset;
    unsigned codepoint;
    if (!pl_value_check_xml_text(s, len, &offset, &codepoint)) {
        if (codepoint == 0xFFFFFFFFu)
            pl_check_fail_value(c, "%s is not valid UTF-8 (byte %d)", c->path, (int)offset + 1);
        else {
            char character[16];
            snprintf(character, sizeof character, "U+%04X", codepoint);
            pl_check_fail_value(c, "%s contains the character %s, which XML cannot carry (byte %d)",
                       c->path, character, (int)offset + 1);
        }
    }
    lua_pushvalue(L, idx);
}

/* Text for a number given where a string is expected. */
static void push_number_text(lua_State *L, int idx)
{
    if (lua_isinteger(L, idx)) {
        lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, idx));
    } else {
        char num[40];
        size_t n = pl_value_format_double(lua_tonumber(L, idx), num, sizeof num);
        lua_pushlstring(L, num, n);
    }
}

static void check_integer(pl_check *c, const pl_element *e, int idx)
{
    lua_State *L = c->L;
    char what[96];
    long long min, max, v;
    pl_value_int_range(e->kind, &min, &max);
    const char *xsd = pl_value_kind_name(e->kind);
    int type = lua_type(L, idx);
    if (type == LUA_TNUMBER && lua_isinteger(L, idx)) {
        v = (long long)lua_tointeger(L, idx);
    } else if (type == LUA_TNUMBER) {
        double d = lua_tonumber(L, idx);
        lua_Integer i = 0;
        if (!lua_numbertointeger(floor(d), &i) || (double)i != d)
            pl_check_fail_value(c, "%s must be an integer (xsd:%s), got %s", c->path, xsd,
                       describe(L, idx, what, sizeof what));
        v = (long long)i;
    } else if (type == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        pl_value_status st = pl_value_parse_integer(s, len, e->kind, &v);
        if (st == PL_VALUE_RANGE)
            pl_check_fail_value(c, "%s is out of range for xsd:%s (%I to %I), got %s", c->path, xsd,
                       (LUAI_UACINT)min, (LUAI_UACINT)max, describe(L, idx, what, sizeof what));
        if (st != PL_VALUE_OK)
            pl_check_fail_value(c, "%s must be an integer (xsd:%s), got %s", c->path, xsd,
                       describe(L, idx, what, sizeof what));
    } else {
        pl_check_fail_value(c, "%s must be an integer (xsd:%s), got %s", c->path, xsd,
                   describe(L, idx, what, sizeof what));
        return;
    }
    if (v < min || v > max)
        pl_check_fail_value(c, "%s is out of range for xsd:%s (%I to %I), got %s", c->path, xsd,
                   (LUAI_UACINT)min, (LUAI_UACINT)max, describe(L, idx, what, sizeof what));
    lua_pushinteger(L, (lua_Integer)v);
}

static void check_enum(pl_check *c, const pl_element *e, int idx)
{
    lua_State *L = c->L;
    const pl_enum *en = pl_element_enum(e);
    if (!en) { /* unresolved: treat as text */
        if (lua_type(L, idx) != LUA_TSTRING) {
            char what[96];
            pl_check_fail_value(c, "%s must be a string, got %s", c->path, describe(L, idx, what, sizeof what));
        }
        push_xml_string(c, idx);
        return;
    }
    if (lua_type(L, idx) == LUA_TSTRING && pl_enum_has(en, lua_tostring(L, idx))) {
        lua_pushvalue(L, idx);
        return;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < en->n_values; i++) {
        if (i)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, en->values[i]);
    }
    luaL_pushresult(&b);
    /* a misspelt or miscased value names the one meant, as a misspelt field does */
    int nearest[1];
    bool near =
        lua_type(L, idx) == LUA_TSTRING &&
        pl_value_suggest(lua_tostring(L, idx), en->values, en->n_values, nearest, 1) > 0;
    char what[96];
    pl_check_fail_value(c, "%s must be one of %s, got %s%s%s%s", c->path, lua_tostring(L, -1),
                        describe(L, idx, what, sizeof what), near ? " (did you mean '" : "",
                        near ? en->values[nearest[0]] : "", near ? "'?)" : "");
}

void pl_check_simple(pl_check *c, const pl_element *e, int idx)
{
    lua_State *L = c->L;
    idx = lua_absindex(L, idx);
    char what[96];
    int type = lua_type(L, idx);
    switch (e->kind) {
    case PL_KIND_INT:
    case PL_KIND_LONG:
    case PL_KIND_SHORT:
    case PL_KIND_BYTE:
        check_integer(c, e, idx);
        return;
    case PL_KIND_DOUBLE:
        if (type == LUA_TNUMBER) {
            lua_pushnumber(L, lua_tonumber(L, idx));
            return;
        }
        if (type == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, idx, &len);
            double d;
            if (pl_value_parse_double(s, len, &d)) {
                lua_pushnumber(L, d);
                return;
            }
        }
        pl_check_fail_value(c, "%s must be a number (xsd:double), got %s", c->path,
                   describe(L, idx, what, sizeof what));
        return;
    case PL_KIND_BOOLEAN:
        if (type == LUA_TBOOLEAN) {
            lua_pushboolean(L, lua_toboolean(L, idx));
            return;
        }
        if (type == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, idx, &len);
            int b = pl_value_parse_boolean(s, len);
            if (b >= 0) {
                lua_pushboolean(L, b);
                return;
            }
        }
        pl_check_fail_value(c, "%s must be a boolean, got %s", c->path, describe(L, idx, what, sizeof what));
        return;
    case PL_KIND_DATETIME:
        if (type == LUA_TNUMBER) {
            char text[32];
            if (pl_value_format_epoch(lua_tonumber(L, idx), text, sizeof text)) {
                lua_pushstring(L, text);
                return;
            }
        } else if (type == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, idx, &len);
            if (pl_value_is_datetime(s, len)) {
                lua_pushvalue(L, idx);
                return;
            }
        }
        pl_check_fail_value(c,
                   "%s must be a dateTime: an ISO 8601 string such as '2024-05-01T13:45:00Z' "
                   "or an os.time() number, got %s",
                   c->path, describe(L, idx, what, sizeof what));
        return;
    case PL_KIND_DATE:
    case PL_KIND_TIME: {
        bool is_date = e->kind == PL_KIND_DATE;
        if (type == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, idx, &len);
            if (is_date ? pl_value_is_date(s, len) : pl_value_is_time(s, len)) {
                lua_pushvalue(L, idx);
                return;
            }
        }
        pl_check_fail_value(c, "%s must be %s, got %s", c->path,
                   is_date ? "a date such as '2024-05-01'" : "a time such as '13:45:00'",
                   describe(L, idx, what, sizeof what));
        return;
    }
    case PL_KIND_ENUM:
        check_enum(c, e, idx);
        return;
    case PL_KIND_COMPLEX:
        pl_check_fail_value(c, "%s is not a simple value", c->path);
        return;
    case PL_KIND_STRING:
    case PL_KIND_BASE64:
    case PL_KIND_ANY:
        break;
    }
    if (type == LUA_TSTRING) {
        push_xml_string(c, idx);
    } else if (type == LUA_TNUMBER) {
        push_number_text(L, idx);
    } else if (type == LUA_TBOOLEAN) {
        lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false");
    } else {
        pl_check_fail_value(c, "%s must be a string, got %s", c->path, describe(L, idx, what, sizeof what));
    }
}

/* ---- type inference for plain tables ---- */

/* True when every string key of the table at idx is a field of t (non-string keys are
 * left to the constructor's own message). */
static bool fields_cover(lua_State *L, const pl_type *t, int idx)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING && !pl_type_field(t, lua_tostring(L, -1))) {
            lua_pop(L, 1);
            return false;
        }
    }
    return true;
}

const pl_type *pl_object_unknown_type_fields(const pl_type *declared)
{
    if (declared && declared == pl_schema_type("APIObject")) {
        const pl_type *extension = pl_schema_type("ObjectExtension");
        if (extension)
            return extension;
    }
    return declared;
}

/* How many string keys of the table at idx are fields of t. */
static int count_covered(lua_State *L, const pl_type *t, int idx)
{
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING && pl_type_field(t, lua_tostring(L, -1)))
            n++;
    }
    return n;
}

bool pl_object_constructible(const pl_type *t)
{
    return t && !t->is_abstract && !t->is_anonymous;
}

static void list_concrete_subtypes(lua_State *L, const pl_type *declared)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int shown = 0, total = pl_schema_type_count();
    for (int i = 0; i < total; i++) {
        const pl_type *t = pl_schema_type_at(i);
        if (t == declared || !pl_object_constructible(t) || !pl_type_derives_from(t, declared))
            continue;
        if (shown == 8) {
            luaL_addstring(&b, ", ...");
            break;
        }
        if (shown++)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, t->name);
    }
    luaL_pushresult(&b);
}

const pl_type *pl_check_infer_type(pl_check *c, const pl_type *declared, int idx)
{
    lua_State *L = c->L;
    idx = lua_absindex(L, idx);
    if (!declared->is_abstract && fields_cover(L, declared, idx))
        return declared;
    const pl_type *api_object = pl_schema_type("APIObject");
    if (!pl_type_derives_from(declared, api_object)) {
        const pl_type *found[16];
        int n = 0, total = pl_schema_type_count();
        for (int i = 0; i < total && n < 16; i++) {
            const pl_type *t = pl_schema_type_at(i);
            if (t != declared && pl_object_constructible(t) && pl_type_derives_from(t, declared) &&
                fields_cover(L, t, idx))
                found[n++] = t;
        }
        /* Several candidates: take the one the others all derive from, if any. */
        for (int i = 0; i < n; i++) {
            bool ancestor_of_all = true;
            for (int j = 0; j < n && ancestor_of_all; j++)
                ancestor_of_all = pl_type_derives_from(found[j], found[i]);
            if (ancestor_of_all)
                return found[i];
        }
    }
    if (declared == api_object) {
        /* Guessing an APIObject subtype could send the wrong object to a real account. */
        if (push_first_unknown_key(c, declared, idx))
            pl_check_fail(c,
                          "APIObject has no field '%s'; build the object with its type's "
                          "constructor (e.g. mc.EmailSendDefinition{...}) so that it is "
                          "sent as that type",
                          lua_tostring(L, -1));
    } else if (!pl_type_derives_from(declared, api_object)) {
        /* No type has all the keys: name the closest one, so the unknown-field message
         * suggests its fields (SimpleFilterPart's 'Value' for a misspelt 'Valu'). */
        const pl_type *best = declared->is_abstract ? NULL : declared;
        int best_covered = best ? count_covered(L, declared, idx) : -1;
        int total = pl_schema_type_count();
        for (int i = 0; i < total; i++) {
            const pl_type *t = pl_schema_type_at(i);
            if (t == declared || !pl_object_constructible(t) || !pl_type_derives_from(t, declared))
                continue;
            int covered = count_covered(L, t, idx);
            if (covered > best_covered) {
                best = t;
                best_covered = covered;
            }
        }
        if (best && best != declared && fields_cover(L, best, idx)) {
            /* Several unrelated types fit: refuse to pick one. */
            list_concrete_subtypes(L, declared);
            pl_check_fail(c,
                          "these fields fit more than one type derived from %s; build the value "
                          "with the constructor of the one you mean (%s)",
                          declared->name, lua_tostring(L, -1));
        }
        if (best && best_covered > 0)
            return best;
    }
    if (declared->is_abstract) {
        list_concrete_subtypes(L, declared);
        pl_check_fail(c,
                      "%s is abstract and these fields fit none of its types; build the value "
                      "with one of their constructors (%s)",
                      declared->name, lua_tostring(L, -1));
    }
    return declared;
}

bool pl_is_array(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE || pl_object_type(L, idx, NULL))
        return false;
    if (lua_rawgeti(L, idx, 1) != LUA_TNIL) {
        lua_pop(L, 1);
        return true;
    }
    lua_pop(L, 1);
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    if (lua_next(L, idx)) {
        lua_pop(L, 2);
        return false;
    }
    return true;
}

/* ---- metatables ---- */

static void push_registry_table(lua_State *L, const char *key)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, key);
    }
}

static int object_newindex(lua_State *L);
static int object_tostring(lua_State *L);

void pl_object_push_metatables(lua_State *L)
{
    push_registry_table(L, PL_TYPES_REGISTRY);
}

void pl_object_push_metatable(lua_State *L, const pl_type *t, const char *name)
{
    push_registry_table(L, PL_TYPES_REGISTRY);
    if (!t)
        t = pl_schema_type(name);
    if (t) {
        if (lua_rawgetp(L, -1, t) == LUA_TTABLE) {
            lua_remove(L, -2);
            return;
        }
        lua_pop(L, 1);
        name = t->name;
    } else if (lua_getfield(L, -1, name) == LUA_TTABLE) {
        lua_remove(L, -2);
        return;
    } else {
        lua_pop(L, 1);
    }
    lua_createtable(L, 0, 5);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__type");
    lua_pushcfunction(L, object_tostring);
    lua_setfield(L, -2, "__tostring");
    if (t) {
        lua_pushlightuserdata(L, (void *)t);
        lua_pushcclosure(L, object_newindex, 1);
        lua_setfield(L, -2, "__newindex");
        lua_pushvalue(L, -1);
        lua_rawsetp(L, -3, t);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name);
    lua_remove(L, -2);
}

const char *pl_object_type(lua_State *L, int idx, const pl_type **known)
{
    if (known)
        *known = NULL;
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
        return NULL;
    const char *name = NULL;
    if (lua_getfield(L, -1, "__type") == LUA_TSTRING) {
        /* Only our own metatables count: the registry maps the name back to this table. */
        lua_getfield(L, LUA_REGISTRYINDEX, PL_TYPES_REGISTRY);
        if (lua_istable(L, -1)) {
            lua_pushvalue(L, -2);
            lua_rawget(L, -2);
            if (lua_rawequal(L, -1, -4))
                name = lua_tostring(L, -3); /* kept alive by the metatable */
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    if (name && known)
        *known = pl_schema_type(name);
    return name;
}

/* ---- construction ---- */

static void normalize_single(pl_check *c, const pl_element *e, int idx);

void pl_object_construct(pl_check *c, const pl_type *t, int idx)
{
    lua_State *L = c->L;
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 8, "object nesting");
    if (++c->depth > PL_CHECK_MAX_DEPTH)
        pl_check_fail(c, "nesting deeper than %d (does a table contain itself?)",
                      PL_CHECK_MAX_DEPTH);
    pl_check_keys(c, t, idx);
    lua_createtable(L, 0, 4);
    int object = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *name = lua_tostring(L, -2);
        const pl_element *e = pl_type_field(t, name);
        size_t saved = pl_check_push(c, name, 0);
        pl_object_normalize_field(c, e, -1);
        pl_check_pop(c, saved);
        lua_pushvalue(L, -3);
        lua_insert(L, -2);
        lua_rawset(L, object);
        lua_pop(L, 1);
    }
    pl_object_push_metatable(L, t, NULL);
    lua_setmetatable(L, object);
    c->depth--;
}

void pl_object_normalize_field(pl_check *c, const pl_element *e, int idx)
{
    lua_State *L = c->L;
    idx = lua_absindex(L, idx);
    if (!pl_element_is_repeated(e)) {
        normalize_single(c, e, idx);
        return;
    }
    if (e->item_name && lua_type(L, idx) == LUA_TTABLE && !pl_object_type(L, idx, NULL)) {
        /* Users of the XML and of the older SDKs write the wrapper's item element
         * (Fields = {Field = {...}}); the generic "has no field 'Field'" that the item type
         * would raise does not tell them the list is written without it. */
        lua_getfield(L, idx, e->item_name);
        bool wrapped = !lua_isnil(L, -1);
        lua_pop(L, 1);
        const pl_type *item = pl_element_complex(e);
        if (wrapped && (!item || !pl_type_field(item, e->item_name)))
            pl_check_fail_value(c, "%s is a list written without its '%s' wrapper: "
                                "%s = {{...}, {...}} (each item %s %s)",
                                c->path, e->item_name, e->name,
                                pl_check_article(e->type_name), e->type_name);
    }
    if (!pl_is_array(L, idx)) {
        lua_createtable(L, 1, 0);
        normalize_single(c, e, idx);
        lua_rawseti(L, -2, 1);
        return;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    lua_createtable(L, (int)(n < 1024 ? n : 1024), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        size_t saved = pl_check_push(c, NULL, (long long)i);
        lua_rawgeti(L, idx, i);
        normalize_single(c, e, -1);
        lua_rawseti(L, -3, i);
        lua_pop(L, 1);
        pl_check_pop(c, saved);
    }
}

static void normalize_single(pl_check *c, const pl_element *e, int idx)
{
    lua_State *L = c->L;
    idx = lua_absindex(L, idx);
    const pl_type *declared = pl_element_complex(e);
    if (!declared) {
        if (e->kind == PL_KIND_COMPLEX) { /* unresolvable reference: keep as given */
            lua_pushvalue(L, idx);
            return;
        }
        pl_check_simple(c, e, idx);
        return;
    }
    char what[96];
    if (lua_type(L, idx) != LUA_TTABLE)
        pl_check_fail_value(c, "%s must be a table or %s %s object, got %s", c->path,
                   pl_check_article(declared->name), declared->name, describe(L, idx, what, sizeof what));
    const pl_type *known;
    const char *type = pl_object_type(L, idx, &known);
    if (type) {
        bool fits = known ? pl_type_derives_from(known, declared)
                          : declared == pl_schema_type("APIObject");
        if (!fits)
            pl_check_fail_value(c, "%s must be %s %s object (or a subtype), got %s %s object", c->path,
                       pl_check_article(declared->name), declared->name, pl_check_article(type), type);
        lua_pushvalue(L, idx);
        return;
    }
    lua_Integer first_type = lua_rawgeti(L, idx, 1);
    lua_pop(L, 1);
    if (first_type != LUA_TNIL)
        pl_check_fail_value(c, "%s takes one %s, got an array", c->path, declared->name);
    const pl_type *t = pl_check_infer_type(c, declared, idx);
    pl_object_construct(c, t, idx);
}

/* ---- metamethods ---- */

static int object_newindex(lua_State *L)
{
    const pl_type *t = lua_touserdata(L, lua_upvalueindex(1));
    pl_check c;
    pl_check_init(&c, L, 1, t->name);
    if (lua_type(L, 2) != LUA_TSTRING) {
        char what[96];
        pl_check_fail(&c, "%s takes named fields, got a value at key %s", t->name,
                      describe(L, 2, what, sizeof what));
    }
    const char *name = lua_tostring(L, 2);
    const pl_element *e = pl_type_field(t, name);
    if (!e)
        pl_check_unknown_field(&c, t, name);
    if (lua_isnil(L, 3))
        return 0;
    pl_check_push(&c, name, 0);
    pl_object_normalize_field(&c, e, 3);
    lua_pushvalue(L, 2);
    lua_insert(L, -2);
    lua_rawset(L, 1);
    return 0;
}

/* Used when performlua.pretty is not available: one readable line, nested up to a depth. */
static const char render_source[] =
    "local typeof = ...\n"
    "local function render(v, depth)\n"
    "  if type(v) == 'string' then return string.format('%q', v) end\n"
    "  if type(v) ~= 'table' then return tostring(v) end\n"
    "  local name = typeof(v) or ''\n"
    "  if depth > 4 then return name .. '{...}' end\n"
    "  local keys, parts = {}, {}\n"
    "  for k in next, v do if type(k) == 'string' then keys[#keys + 1] = k end end\n"
    "  table.sort(keys)\n"
    "  for i = 1, rawlen(v) do parts[#parts + 1] = render(rawget(v, i), depth + 1) end\n"
    "  for _, k in ipairs(keys) do\n"
    "    parts[#parts + 1] = k .. ' = ' .. render(rawget(v, k), depth + 1)\n"
    "  end\n"
    "  return name .. '{' .. table.concat(parts, ', ') .. '}'\n"
    "end\n"
    "return function(v) return render(v, 1) end\n";

static int object_tostring(lua_State *L)
{
    lua_settop(L, 1);
    /* performlua.pretty when it exists (it is optional: the codec works without it). */
    lua_getglobal(L, "require");
    if (lua_isfunction(L, -1)) {
        lua_pushliteral(L, "performlua.pretty");
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1) &&
            lua_getfield(L, -1, "pretty") == LUA_TFUNCTION) {
            lua_pushvalue(L, 1);
            lua_call(L, 1, 1);
            if (lua_type(L, -1) == LUA_TSTRING)
                return 1;
        }
    }
    lua_settop(L, 1);
    if (lua_getfield(L, LUA_REGISTRYINDEX, RENDER_REGISTRY) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        if (luaL_loadbuffer(L, render_source, sizeof render_source - 1, "=performlua.types") !=
            LUA_OK)
            return lua_error(L);
        lua_pushcfunction(L, pl_l_typeof);
        lua_call(L, 1, 1);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, RENDER_REGISTRY);
    }
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

/* ---- Lua functions ---- */

static int construct_call(lua_State *L)
{
    const pl_type *t = lua_touserdata(L, lua_upvalueindex(1));
    pl_check c;
    pl_check_init(&c, L, 1, t->name);
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else if (lua_type(L, 1) != LUA_TTABLE) {
        char what[96];
        pl_check_fail(&c, "mc.%s expects a table of fields, got %s", t->name,
                      describe(L, 1, what, sizeof what));
    }
    lua_settop(L, 1);
    pl_object_construct(&c, t, 1);
    return 1;
}

int pl_l_constructor(lua_State *L)
{
    const char *name = lua_tostring(L, 1);
    const pl_type *t = lua_type(L, 1) == LUA_TSTRING ? pl_schema_type(name) : NULL;
    if (!pl_object_constructible(t)) {
        lua_pushnil(L);
        return 1;
    }
    push_registry_table(L, CONSTRUCTORS_REGISTRY);
    if (lua_rawgetp(L, -1, t) == LUA_TFUNCTION)
        return 1;
    lua_pop(L, 1);
    lua_pushlightuserdata(L, (void *)t);
    lua_pushcclosure(L, construct_call, 1);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, -3, t);
    return 1;
}

int pl_l_object_types(lua_State *L)
{
    int total = pl_schema_type_count(), n = 0;
    lua_createtable(L, total, 0);
    for (int i = 0; i < total; i++) {
        const pl_type *t = pl_schema_type_at(i);
        if (!pl_object_constructible(t))
            continue;
        lua_pushstring(L, t->name);
        lua_rawseti(L, -2, ++n);
    }
    return 1;
}

int pl_l_typeof(lua_State *L)
{
    const char *name = pl_object_type(L, 1, NULL);
    if (name)
        lua_pushstring(L, name);
    else
        lua_pushnil(L);
    return 1;
}

int pl_l_check_field(lua_State *L)
{
    const char *type_name = luaL_checkstring(L, 1);
    const char *field = luaL_checkstring(L, 2);
    lua_settop(L, 3);
    pl_check c;
    pl_check_init(&c, L, 1, type_name);
    const pl_type *t = pl_schema_type(type_name);
    if (!t)
        pl_check_fail(&c, "unknown type '%s'", type_name);
    const pl_element *e = pl_type_field(t, field);
    if (!e)
        pl_check_unknown_field(&c, t, field);
    if (lua_isnil(L, 3)) {
        lua_pushnil(L);
        return 1;
    }
    pl_check_push(&c, field, 0);
    pl_object_normalize_field(&c, e, 3);
    return 1;
}

int pl_l_object_metatable(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    pl_object_push_metatable(L, NULL, name);
    return 1;
}

#define RESPONSE_EXTRAS_KEY "performlua.response_extras"

void pl_object_mark_response_extras(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 4, "marking a decoded object");
    if (lua_getfield(L, LUA_REGISTRYINDEX, RESPONSE_EXTRAS_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, RESPONSE_EXTRAS_KEY);
    }
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

bool pl_object_has_response_extras(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (lua_getfield(L, LUA_REGISTRYINDEX, RESPONSE_EXTRAS_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        return false;
    }
    lua_pushvalue(L, idx);
    bool marked = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    return marked;
}
