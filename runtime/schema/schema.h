/* The schema model: every type of the partner API, as the encoder, decoder, object
 * constructors and sandbox need it.
 *
 * Two sources feed it:
 *   - wsdl_model.c, generated from the official WSDL by generator/schemagen.c (committed;
 *     regenerate with `cmake --build build --target regenerate-schema`);
 *   - supplement.c, hand-written: the Perform page's types that the WSDL lacks.
 * This header is the only way the rest of the runtime reads the model. Pure C, no Lua. */
#ifndef PL_SCHEMA_H
#define PL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#define PL_PARTNER_NS "http://exacttarget.com/wsdl/partnerAPI"
#define PL_SOAP_ENV_NS "http://schemas.xmlsoap.org/soap/envelope/"
#define PL_XSI_NS "http://www.w3.org/2001/XMLSchema-instance"
#define PL_XSD_NS "http://www.w3.org/2001/XMLSchema"

typedef enum pl_kind {
    PL_KIND_STRING,   /* xsd:string, and simple types that restrict it without enumeration */
    PL_KIND_INT,      /* xsd:int, xsd:integer */
    PL_KIND_LONG,     /* xsd:long */
    PL_KIND_SHORT,    /* xsd:short */
    PL_KIND_BYTE,     /* xsd:byte */
    PL_KIND_DOUBLE,   /* xsd:double, xsd:float, xsd:decimal */
    PL_KIND_BOOLEAN,  /* xsd:boolean */
    PL_KIND_DATETIME, /* xsd:dateTime */
    PL_KIND_DATE,     /* xsd:date */
    PL_KIND_TIME,     /* xsd:time */
    PL_KIND_BASE64,   /* xsd:base64Binary (kept as text) */
    PL_KIND_ENUM,     /* a simpleType with enumeration facets; see pl_element.enumeration */
    PL_KIND_COMPLEX,  /* a complexType; see pl_element.complex */
    PL_KIND_ANY       /* <any/> or xsd:anyType: kept as found */
} pl_kind;

typedef struct pl_type pl_type;
typedef struct pl_enum pl_enum;

typedef struct pl_element {
    const char *name;
    /* Local name of the declared type: "string", "int", "APIObject", "SimpleOperators", ...
     * For a wrapper element this is the type of the repeated item. */
    const char *type_name;
    pl_kind kind;
    const pl_type *complex;     /* kind == PL_KIND_COMPLEX (NULL in the supplement: resolve by name) */
    const pl_enum *enumeration; /* kind == PL_KIND_ENUM (NULL in the supplement: resolve by name) */
    int min_occurs;
    int max_occurs;             /* -1 for unbounded */
    bool nillable;
    /* Wrappers: an element whose type (anonymous, or named like ArrayOfX) is a sequence of
     * exactly one repeated element, e.g. Definitions/Definition, Fields/Field. item_name is
     * that child's name and item_* its occurrences; NULL when the element is no wrapper. */
    const char *item_name;
    int item_min_occurs;
    int item_max_occurs;
    const char *wrapper_type_name; /* "ArrayOfObjectDefinitionRequest", or NULL when anonymous */
    int choice;                 /* 0, or the 1-based number of the <choice> it belongs to;
                                 * min_occurs of a member of an optional choice is 0 */
    bool item_nillable;         /* wrappers: the repeated item is nillable */
} pl_element;

struct pl_type {
    const char *name;          /* anonymous types of global elements take the element's name */
    const char *base_name;     /* extension base, NULL when none */
    const pl_type *base;       /* resolved base (NULL when none or, in the supplement, by name) */
    bool is_abstract;
    bool is_anonymous;         /* the inline type of a global element (e.g. PerformRequestMsg) */
    bool is_supplement;        /* declared in supplement.c, not in the WSDL */
    const pl_element *elements; /* own elements in schema order (base elements excluded) */
    int n_elements;
    /* WSDL types: every field, own and inherited, in wire order (the base's first), each
     * name once (its first declaration); generated, so the encoder need not de-duplicate
     * per object. NULL/0 for the supplement's types: use pl_type_wire_fields. */
    const pl_element *const *wire_fields;
    int n_wire_fields;
};

struct pl_enum {
    const char *name;
    const char *const *values;
    int n_values;
};

typedef struct pl_global_element {
    const char *name;          /* e.g. "PerformRequestMsg", "CreateRequest" */
    const pl_type *type;
} pl_global_element;

/* The kind's name as the Lua side spells it ("string", "int", ..., "enum", "complex", "any"). */
const char *pl_kind_name(pl_kind kind);

/* ---- lookups (names are case-sensitive, as the service's are) ---- */

/* A complex type by name, from the WSDL or the supplement; NULL when unknown. */
const pl_type *pl_schema_type(const char *name);
/* A simple enumeration type by name; NULL when unknown. */
const pl_enum *pl_schema_enum(const char *name);
/* A global element by name (request and response messages); NULL when unknown. */
const pl_global_element *pl_schema_global(const char *name);

/* The base type (resolving supplement bases by name); NULL for a root type. */
const pl_type *pl_type_base(const pl_type *t);
/* True when t is `ancestor` or derives from it. */
bool pl_type_derives_from(const pl_type *t, const pl_type *ancestor);
/* True when t derives from APIObject (APIObject itself excluded). */
bool pl_type_is_apiobject_subtype(const pl_type *t);

/* Finds a field (own or inherited) by name; NULL when the type has none. */
const pl_element *pl_type_field(const pl_type *t, const char *name);
/* All fields in wire order, base type's first. Fills up to `cap` pointers into `out` and
 * returns the total number (which may exceed cap). */
int pl_type_fields(const pl_type *t, const pl_element **out, int cap);
/* The fields in wire order with each name once (the first declaration wins): the generated
 * list for a WSDL type; for a supplement type, de-duplicated into `buf` (cap entries).
 * Sets *out and returns the number (which may exceed cap for a supplement type). */
int pl_type_wire_fields(const pl_type *t, const pl_element *const **out,
                        const pl_element **buf, int cap);

/* The complex type of an element (resolving supplement references by name); NULL if not complex. */
const pl_type *pl_element_complex(const pl_element *e);
/* The enumeration of an element (resolving by name); NULL if not an enumeration. */
const pl_enum *pl_element_enum(const pl_element *e);
/* True when the element may hold more than one value (itself repeated, or a wrapper). */
bool pl_element_is_repeated(const pl_element *e);
/* True when `value` is one of the enumeration's values. */
bool pl_enum_has(const pl_enum *en, const char *value);

/* ---- iteration over the whole model ---- */
int pl_schema_type_count(void);               /* WSDL + supplement complex types */
const pl_type *pl_schema_type_at(int i);      /* sorted by name */
int pl_schema_enum_count(void);
const pl_enum *pl_schema_enum_at(int i);
int pl_schema_global_count(void);
const pl_global_element *pl_schema_global_at(int i);

/* ---- the generated and hand-written tables (schema.c merges them) ---- */
extern const pl_type pl_wsdl_types[];
extern const int pl_wsdl_type_count;          /* named + anonymous global-element types */
extern const pl_enum pl_wsdl_enums[];
extern const int pl_wsdl_enum_count;
extern const pl_global_element pl_wsdl_globals[];
extern const int pl_wsdl_global_count;
extern const pl_type pl_supplement_types[];
extern const int pl_supplement_type_count;

#endif
