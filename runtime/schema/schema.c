/* Lookups over the schema model: the generated WSDL tables (wsdl_model.c) and the
 * hand-written supplement (supplement.c), both sorted by name, merged here without any
 * mutable state so that every function is safe from any thread. */
#include "schema/schema.h"

#include <string.h>

/* Binary search in a table of `n` entries of `size` bytes whose first member is the name. */
static const void *find_by_name(const void *table, int n, size_t size, const char *name)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const void *entry = (const char *)table + (size_t)mid * size;
        int c = strcmp(*(const char *const *)entry, name);
        if (c == 0)
            return entry;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* Number of WSDL types whose name sorts before `name`. */
static int wsdl_types_before(const char *name)
{
    int lo = 0, hi = pl_wsdl_type_count;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (strcmp(pl_wsdl_types[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const pl_type *pl_schema_type(const char *name)
{
    if (!name)
        return NULL;
    const pl_type *t = find_by_name(pl_wsdl_types, pl_wsdl_type_count, sizeof *t, name);
    if (!t)
        t = find_by_name(pl_supplement_types, pl_supplement_type_count, sizeof *t, name);
    return t;
}

const pl_enum *pl_schema_enum(const char *name)
{
    if (!name)
        return NULL;
    return find_by_name(pl_wsdl_enums, pl_wsdl_enum_count, sizeof(pl_enum), name);
}

const pl_global_element *pl_schema_global(const char *name)
{
    if (!name)
        return NULL;
    return find_by_name(pl_wsdl_globals, pl_wsdl_global_count, sizeof(pl_global_element),
                        name);
}

const pl_type *pl_type_base(const pl_type *t)
{
    if (!t || !t->base_name)
        return NULL;
    return t->base ? t->base : pl_schema_type(t->base_name);
}

bool pl_type_derives_from(const pl_type *t, const pl_type *ancestor)
{
    if (!ancestor)
        return false;
    /* Bounded: a base chain longer than the model is a cycle (never in a valid model). */
    for (int depth = 0; t && depth <= pl_schema_type_count(); depth++, t = pl_type_base(t))
        if (t == ancestor)
            return true;
    return false;
}

bool pl_type_is_apiobject_subtype(const pl_type *t)
{
    const pl_type *api_object = pl_schema_type("APIObject");
    return t && t != api_object && pl_type_derives_from(t, api_object);
}

const pl_element *pl_type_field(const pl_type *t, const char *name)
{
    if (!name)
        return NULL;
    for (int depth = 0; t && depth <= pl_schema_type_count(); depth++, t = pl_type_base(t))
        for (int i = 0; i < t->n_elements; i++)
            /* the first byte settles most mismatches without a call: the decoder looks up
             * every element of an answer here, ~20 names a type */
            if (t->elements[i].name[0] == name[0] && strcmp(t->elements[i].name, name) == 0)
                return &t->elements[i];
    return NULL;
}

static int collect_fields(const pl_type *t, const pl_element **out, int cap, int depth)
{
    if (!t || depth > pl_schema_type_count())
        return 0;
    int n = collect_fields(pl_type_base(t), out, cap, depth + 1);
    for (int i = 0; i < t->n_elements; i++, n++)
        if (n < cap)
            out[n] = &t->elements[i];
    return n;
}

int pl_type_fields(const pl_type *t, const pl_element **out, int cap)
{
    return collect_fields(t, out, out ? cap : 0, 0);
}

int pl_type_wire_fields(const pl_type *t, const pl_element *const **out,
                        const pl_element **buf, int cap)
{
    if (t && !t->is_supplement) {
        *out = t->wire_fields;
        return t->n_wire_fields;
    }
    int n = pl_type_fields(t, buf, cap), kept = 0;
    for (int i = 0; i < n && i < cap; i++) {
        bool seen = false;
        for (int j = 0; j < kept && !seen; j++)
            seen = strcmp(buf[j]->name, buf[i]->name) == 0;
        if (!seen)
            buf[kept++] = buf[i];
    }
    *out = buf;
    return n > cap ? n : kept;
}

const pl_type *pl_element_complex(const pl_element *e)
{
    if (!e || e->kind != PL_KIND_COMPLEX)
        return NULL;
    return e->complex ? e->complex : pl_schema_type(e->type_name);
}

const pl_enum *pl_element_enum(const pl_element *e)
{
    if (!e || e->kind != PL_KIND_ENUM)
        return NULL;
    return e->enumeration ? e->enumeration : pl_schema_enum(e->type_name);
}

bool pl_element_is_repeated(const pl_element *e)
{
    return e && (e->max_occurs != 1 || e->item_name != NULL);
}

bool pl_enum_has(const pl_enum *en, const char *value)
{
    if (!en || !value)
        return false;
    for (int i = 0; i < en->n_values; i++)
        if (strcmp(en->values[i], value) == 0)
            return true;
    return false;
}

int pl_schema_type_count(void)
{
    return pl_wsdl_type_count + pl_supplement_type_count;
}

/* The merged order: supplement entry j sits at j + (WSDL types sorting before it). */
const pl_type *pl_schema_type_at(int i)
{
    if (i < 0 || i >= pl_schema_type_count())
        return NULL;
    int supplements_before = 0;
    for (int j = 0; j < pl_supplement_type_count; j++) {
        int position = j + wsdl_types_before(pl_supplement_types[j].name);
        if (position == i)
            return &pl_supplement_types[j];
        if (position < i)
            supplements_before++;
    }
    return &pl_wsdl_types[i - supplements_before];
}

int pl_schema_enum_count(void)
{
    return pl_wsdl_enum_count;
}

const pl_enum *pl_schema_enum_at(int i)
{
    return i >= 0 && i < pl_wsdl_enum_count ? &pl_wsdl_enums[i] : NULL;
}

int pl_schema_global_count(void)
{
    return pl_wsdl_global_count;
}

const pl_global_element *pl_schema_global_at(int i)
{
    return i >= 0 && i < pl_wsdl_global_count ? &pl_wsdl_globals[i] : NULL;
}

const char *pl_kind_name(pl_kind kind)
{
    switch (kind) {
    case PL_KIND_STRING: return "string";
    case PL_KIND_INT: return "int";
    case PL_KIND_LONG: return "long";
    case PL_KIND_SHORT: return "short";
    case PL_KIND_BYTE: return "byte";
    case PL_KIND_DOUBLE: return "double";
    case PL_KIND_BOOLEAN: return "boolean";
    case PL_KIND_DATETIME: return "dateTime";
    case PL_KIND_DATE: return "date";
    case PL_KIND_TIME: return "time";
    case PL_KIND_BASE64: return "base64";
    case PL_KIND_ENUM: return "enum";
    case PL_KIND_COMPLEX: return "complex";
    case PL_KIND_ANY: return "any";
    }
    return "any";
}
