/* The schema model: exact facts of the partner WSDL as generated into wsdl_model.c, the
 * supplement, and the lookups of schema.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "schema/schema.h"

#define CHECK_INT(actual, expected)                                                     \
    do {                                                                                \
        long a_ = (long)(actual), e_ = (long)(expected);                                \
        if (a_ != e_) {                                                                 \
            fprintf(stderr, "%s:%d: %s is %ld, expected %ld\n", __FILE__, __LINE__,     \
                    #actual, a_, e_);                                                   \
            failures++;                                                                 \
        }                                                                               \
    } while (0)

#define CHECK_STR(actual, expected)                                                     \
    do {                                                                                \
        const char *a_ = (actual), *e_ = (expected);                                    \
        if (!((a_ == NULL && e_ == NULL) || (a_ && e_ && strcmp(a_, e_) == 0))) {       \
            fprintf(stderr, "%s:%d: %s is %s%s%s, expected %s%s%s\n", __FILE__,         \
                    __LINE__, #actual, a_ ? "\"" : "", a_ ? a_ : "NULL", a_ ? "\"" : "",  \
                    e_ ? "\"" : "", e_ ? e_ : "NULL", e_ ? "\"" : "");                    \
            failures++;                                                                 \
        }                                                                               \
    } while (0)

/* An element's name and occurrence bounds (max -1: unbounded). */
#define CHECK_ELEMENT(e, name_, min_, max_)                                             \
    do {                                                                                \
        CHECK_STR((e).name, name_);                                                     \
        CHECK_INT((e).min_occurs, min_);                                                \
        CHECK_INT((e).max_occurs, max_);                                                \
    } while (0)

static const pl_type *type(const char *name)
{
    const pl_type *t = pl_schema_type(name);
    if (!t) {
        fprintf(stderr, "type %s is missing from the model\n", name);
        exit(1);
    }
    return t;
}

static const pl_element *field(const char *type_name, const char *field_name)
{
    const pl_element *e = pl_type_field(type(type_name), field_name);
    if (!e) {
        fprintf(stderr, "%s.%s is missing from the model\n", type_name, field_name);
        exit(1);
    }
    return e;
}

static void test_counts(void)
{
    int named = 0, anonymous = 0, apiobjects = 0;
    for (int i = 0; i < pl_wsdl_type_count; i++) {
        const pl_type *t = &pl_wsdl_types[i];
        CHECK(!t->is_supplement);
        if (t->is_anonymous)
            anonymous++;
        else
            named++;
        if (pl_type_is_apiobject_subtype(t))
            apiobjects++;
    }
    CHECK_INT(named, 252);
    CHECK_INT(anonymous, 26); /* the inline types of the request/response messages */
    CHECK_INT(apiobjects, 149);
    CHECK_INT(pl_supplement_type_count, 4);
    CHECK_INT(pl_schema_type_count(), 252 + 26 + 4);
    CHECK_INT(pl_schema_enum_count(), 62);
    CHECK_INT(pl_schema_global_count(), 59);
    CHECK(!pl_type_is_apiobject_subtype(type("APIObject")));
    CHECK(!pl_type_is_apiobject_subtype(type("APIProperty")));
    CHECK(!pl_type_is_apiobject_subtype(NULL));
}

static void test_sorted_and_consistent(void)
{
    for (int i = 1; i < pl_wsdl_type_count; i++)
        CHECK(strcmp(pl_wsdl_types[i - 1].name, pl_wsdl_types[i].name) < 0);
    for (int i = 1; i < pl_supplement_type_count; i++)
        CHECK(strcmp(pl_supplement_types[i - 1].name, pl_supplement_types[i].name) < 0);
    for (int i = 1; i < pl_wsdl_enum_count; i++)
        CHECK(strcmp(pl_wsdl_enums[i - 1].name, pl_wsdl_enums[i].name) < 0);
    for (int i = 1; i < pl_wsdl_global_count; i++)
        CHECK(strcmp(pl_wsdl_globals[i - 1].name, pl_wsdl_globals[i].name) < 0);

    /* the merged iteration is sorted, complete, and agrees with the lookup */
    int supplements = 0;
    for (int i = 0; i < pl_schema_type_count(); i++) {
        const pl_type *t = pl_schema_type_at(i);
        CHECK(t != NULL);
        if (!t)
            continue;
        if (i > 0)
            CHECK(strcmp(pl_schema_type_at(i - 1)->name, t->name) < 0);
        CHECK(pl_schema_type(t->name) == t);
        supplements += t->is_supplement;
        /* every complex reference resolves, every base resolves */
        if (t->base_name)
            CHECK(pl_type_base(t) != NULL && strcmp(pl_type_base(t)->name, t->base_name) == 0);
        for (int j = 0; j < t->n_elements; j++) {
            const pl_element *e = &t->elements[j];
            if (e->kind == PL_KIND_COMPLEX)
                CHECK(pl_element_complex(e) != NULL);
            if (e->kind == PL_KIND_ENUM)
                CHECK(pl_element_enum(e) != NULL);
        }
    }
    CHECK_INT(supplements, 4);
    CHECK(pl_schema_type_at(-1) == NULL);
    CHECK(pl_schema_type_at(pl_schema_type_count()) == NULL);

    for (int i = 0; i < pl_supplement_type_count; i++) {
        const pl_type *s = &pl_supplement_types[i];
        CHECK(s->is_supplement);
        /* a supplement type never shadows a WSDL type */
        for (int j = 0; j < pl_wsdl_type_count; j++)
            CHECK(strcmp(pl_wsdl_types[j].name, s->name) != 0);
    }
    for (int i = 0; i < pl_schema_enum_count(); i++)
        CHECK(pl_schema_enum(pl_schema_enum_at(i)->name) == pl_schema_enum_at(i));
    for (int i = 0; i < pl_schema_global_count(); i++)
        CHECK(pl_schema_global(pl_schema_global_at(i)->name) == pl_schema_global_at(i));
    CHECK(pl_schema_enum_at(62) == NULL);
    CHECK(pl_schema_global_at(59) == NULL);
}

static void test_lookups_of_unknown_names(void)
{
    CHECK(pl_schema_type("NoSuchType") == NULL);
    CHECK(pl_schema_type("apiobject") == NULL); /* case-sensitive, as the service is */
    CHECK(pl_schema_type("") == NULL);
    CHECK(pl_schema_type(NULL) == NULL);
    CHECK(pl_schema_enum("NoSuchEnum") == NULL);
    CHECK(pl_schema_enum(NULL) == NULL);
    CHECK(pl_schema_global("NoSuchElement") == NULL);
    CHECK(pl_schema_global(NULL) == NULL);
    CHECK(pl_type_field(type("APIObject"), "NoSuchField") == NULL);
    CHECK(pl_type_field(type("APIObject"), NULL) == NULL);
    CHECK(pl_type_field(NULL, "ID") == NULL);
    CHECK(pl_type_base(type("APIObject")) == NULL);
    CHECK(pl_type_base(NULL) == NULL);
    CHECK(pl_type_fields(NULL, NULL, 0) == 0);
}

static void test_apiobject(void)
{
    static const struct {
        const char *name, *type;
        pl_kind kind;
        int min, max;
        bool nillable;
    } expected[] = {
        {"Client", "ClientID", PL_KIND_COMPLEX, 0, 1, false},
        {"PartnerKey", "string", PL_KIND_STRING, 0, 1, true},
        {"PartnerProperties", "APIProperty", PL_KIND_COMPLEX, 0, -1, false},
        {"CreatedDate", "dateTime", PL_KIND_DATETIME, 0, 1, false},
        {"ModifiedDate", "dateTime", PL_KIND_DATETIME, 0, 1, true},
        {"ID", "int", PL_KIND_INT, 0, 1, false},
        {"ObjectID", "string", PL_KIND_STRING, 0, 1, true},
        {"CustomerKey", "string", PL_KIND_STRING, 0, 1, false},
        {"Owner", "Owner", PL_KIND_COMPLEX, 0, 1, false},
        {"CorrelationID", "string", PL_KIND_STRING, 0, 1, false}, /* maxOccurs defaults to 1 */
        {"ObjectState", "string", PL_KIND_STRING, 0, 1, false},
    };
    const pl_type *t = type("APIObject");
    CHECK(t->base_name == NULL && t->base == NULL);
    CHECK(!t->is_abstract && !t->is_anonymous && !t->is_supplement);
    CHECK_INT(t->n_elements, 11);
    const pl_element *fields[16];
    CHECK_INT(pl_type_fields(t, fields, 16), 11);
    for (int i = 0; i < 11 && i < t->n_elements; i++) {
        const pl_element *e = &t->elements[i];
        CHECK(fields[i] == e);
        CHECK_STR(e->name, expected[i].name);
        CHECK_STR(e->type_name, expected[i].type);
        CHECK_INT(e->kind, expected[i].kind);
        CHECK_INT(e->min_occurs, expected[i].min);
        CHECK_INT(e->max_occurs, expected[i].max);
        CHECK_INT(e->nillable, expected[i].nillable);
        CHECK(e->item_name == NULL && e->choice == 0);
    }
    CHECK(t->elements[0].complex == type("ClientID"));
    CHECK(pl_element_is_repeated(&t->elements[2]));
    CHECK(!pl_element_is_repeated(&t->elements[1]));
}

static void test_inheritance(void)
{
    const pl_type *esd = type("EmailSendDefinition");
    CHECK_STR(esd->base_name, "SendDefinition");
    CHECK(pl_type_base(esd) == type("SendDefinition"));
    CHECK_STR(type("SendDefinition")->base_name, "InteractionDefinition");
    CHECK_STR(type("InteractionDefinition")->base_name, "InteractionBaseObject");
    CHECK_STR(type("InteractionBaseObject")->base_name, "APIObject");
    CHECK(pl_type_derives_from(esd, type("APIObject")));
    CHECK(pl_type_derives_from(esd, esd));
    CHECK(!pl_type_derives_from(esd, type("TriggeredSendDefinition")));
    CHECK(!pl_type_derives_from(esd, NULL));
    CHECK(pl_type_is_apiobject_subtype(esd));

    /* wire order: APIObject's 11, InteractionBaseObject's 3, InteractionDefinition's 1, ... */
    int n = pl_type_fields(esd, NULL, 0);
    CHECK_INT(n, 11 + 3 + 1 + type("SendDefinition")->n_elements + esd->n_elements);
    const pl_element **all = calloc((size_t)n, sizeof *all);
    CHECK_INT(pl_type_fields(esd, all, n), n);
    CHECK_STR(all[0]->name, "Client");
    CHECK_STR(all[10]->name, "ObjectState");
    CHECK_STR(all[11]->name, "Name");
    CHECK_STR(all[12]->name, "Description");
    CHECK_STR(all[13]->name, "Keyword");
    CHECK_STR(all[14]->name, "InteractionObjectID");
    CHECK(all[n - 1] == &esd->elements[esd->n_elements - 1]);
    free(all);
    /* a short buffer is filled as far as it goes and the total still returned */
    const pl_element *two[2];
    CHECK_INT(pl_type_fields(esd, two, 2), n);
    CHECK_STR(two[1]->name, "PartnerKey");

    CHECK(pl_type_field(esd, "CustomerKey") == &type("APIObject")->elements[7]);
    CHECK_INT(field("EmailSendDefinition", "SendWindowOpen")->kind, PL_KIND_TIME);

    CHECK(type("Request")->is_abstract);
    CHECK(type("Options")->is_abstract);
    CHECK(type("Recurrence")->is_abstract);
    CHECK(!esd->is_abstract);
}

static void test_messages(void)
{
    const pl_global_element *g = pl_schema_global("PerformRequestMsg");
    CHECK(g && g->type == type("PerformRequestMsg"));
    const pl_type *perform = type("PerformRequestMsg");
    CHECK(perform->is_anonymous && perform->base_name == NULL);
    CHECK_INT(perform->n_elements, 3);
    const pl_element *options = &perform->elements[0];
    CHECK_STR(options->name, "Options");
    CHECK_STR(options->type_name, "PerformOptions");
    CHECK(options->complex == type("PerformOptions"));
    CHECK_INT(options->min_occurs, 0);
    CHECK_INT(options->max_occurs, 1);
    CHECK_STR(perform->elements[1].name, "Action");
    CHECK_INT(perform->elements[1].kind, PL_KIND_STRING);
    const pl_element *defs = &perform->elements[2];
    CHECK_STR(defs->name, "Definitions");
    CHECK_STR(defs->item_name, "Definition");
    CHECK_STR(defs->type_name, "APIObject");
    CHECK(defs->complex == type("APIObject"));
    CHECK_INT(defs->min_occurs, 0);
    CHECK_INT(defs->max_occurs, 1);
    CHECK_INT(defs->item_min_occurs, 0);
    CHECK_INT(defs->item_max_occurs, -1);
    CHECK(defs->wrapper_type_name == NULL); /* anonymous wrapper */
    CHECK(pl_element_is_repeated(defs));

    /* the named PerformRequest type has its own wrapper (InteractionBaseObject items) */
    CHECK_STR(field("PerformRequest", "Definitions")->type_name, "InteractionBaseObject");

    const pl_type *retrieve = type("RetrieveResponseMsg");
    CHECK_INT(retrieve->n_elements, 3);
    CHECK_ELEMENT(retrieve->elements[0], "OverallStatus", 1, 1);
    CHECK_ELEMENT(retrieve->elements[1], "RequestID", 0, 1);
    CHECK_ELEMENT(retrieve->elements[2], "Results", 0, -1);
    CHECK_STR(retrieve->elements[2].type_name, "APIObject");
    CHECK(retrieve->elements[2].item_name == NULL); /* repeated directly, no wrapper */

    const pl_element *describe = field("DefinitionRequestMsg", "DescribeRequests");
    CHECK_STR(describe->item_name, "ObjectDefinitionRequest");
    CHECK_STR(describe->type_name, "ObjectDefinitionRequest");
    CHECK_STR(describe->wrapper_type_name, "ArrayOfObjectDefinitionRequest");
    CHECK(describe->complex == type("ObjectDefinitionRequest"));
    CHECK_INT(describe->item_min_occurs, 0);
    CHECK_INT(describe->item_max_occurs, -1);
    CHECK(describe->item_nillable);
    CHECK(type("ArrayOfObjectDefinitionRequest") != NULL); /* still a named type */
    const pl_element *params = field("RetrieveSingleOptions", "Parameters");
    CHECK_STR(params->wrapper_type_name, "Parameters");
    CHECK_STR(params->item_name, "Parameter");
    CHECK_STR(params->type_name, "APIProperty");
    CHECK_INT(params->min_occurs, 1);

    /* an unprefixed type="string" in the XSD's default namespace is xsd:string */
    CHECK_INT(field("DefinitionResponseMsg", "RequestID")->kind, PL_KIND_STRING);
    /* no minOccurs/maxOccurs: both 1 */
    CHECK_INT(field("ExtractResponseMsg", "OverallStatus")->min_occurs, 1);
    CHECK_INT(field("ExtractResponseMsg", "OverallStatus")->max_occurs, 1);
    CHECK_INT(field("CreateRequest", "Objects")->max_occurs, -1);
    CHECK_INT(field("CreateRequest", "Objects")->min_occurs, 1);

    const pl_global_element *sub = pl_schema_global("Subscriber");
    CHECK(sub && sub->type == type("Subscriber") && !sub->type->is_anonymous);
    static const char *const operations[] = {
        "CreateRequest", "RetrieveRequestMsg", "UpdateRequest", "DeleteRequest",
        "QueryRequestMsg", "DefinitionRequestMsg", "ExecuteRequestMsg", "PerformRequestMsg",
        "ConfigureRequestMsg", "ScheduleRequestMsg", "VersionInfoRequestMsg",
        "ExtractRequestMsg", "SystemStatusRequestMsg",
    };
    for (size_t i = 0; i < sizeof operations / sizeof operations[0]; i++) {
        const pl_global_element *req = pl_schema_global(operations[i]);
        CHECK(req && req->type->is_anonymous);
    }
}

static void test_wrappers(void)
{
    static const struct { const char *type, *field, *item, *item_type; } wrappers[] = {
        {"DataExtension", "Fields", "Field", "DataExtensionField"},
        {"Automation", "AutomationTasks", "AutomationTask", "AutomationTask"},
        {"PerformResponseMsg", "Results", "Result", "PerformResult"},
        {"ConfigureRequestMsg", "Configurations", "Configuration", "APIObject"},
        {"ScheduleRequestMsg", "Interactions", "Interaction", "APIObject"},
        {"RetrieveRequest", "Retrieves", "Request", "Request"},
        {"TagFilterPart", "Tags", "Tag", "string"},
        {"ComplexFilterPart", "AdditionalOperands", "Operand", "FilterPart"},
        {"DoubleOptInMOKeyword", "ValidResponses", "ValidResponse", "string"},
    };
    for (size_t i = 0; i < sizeof wrappers / sizeof wrappers[0]; i++) {
        const pl_element *e = field(wrappers[i].type, wrappers[i].field);
        CHECK_STR(e->item_name, wrappers[i].item);
        CHECK_STR(e->type_name, wrappers[i].item_type);
        CHECK(e->wrapper_type_name == NULL);
    }
    /* minOccurs of the item is kept: at least one ValidPublication */
    CHECK_INT(field("DoubleOptInMOKeyword", "ValidPublications")->item_min_occurs, 1);
    CHECK_INT(field("TagFilterPart", "Tags")->kind, PL_KIND_STRING);
    /* a repeated element of a plain type is no wrapper */
    CHECK(field("Send", "List")->item_name == NULL);

    int wrappers_total = 0;
    for (int i = 0; i < pl_wsdl_type_count; i++)
        for (int j = 0; j < pl_wsdl_types[i].n_elements; j++)
            wrappers_total += pl_wsdl_types[i].elements[j].item_name != NULL;
    CHECK_INT(wrappers_total, 69);
}

static void test_choices_any_and_oddities(void)
{
    const pl_type *fm = type("FieldMap");
    CHECK_INT(fm->n_elements, 3);
    CHECK_ELEMENT(fm->elements[0], "SourceName", 1, 1);
    CHECK_INT(fm->elements[0].choice, 1);
    CHECK_ELEMENT(fm->elements[1], "SourceOrdinal", 1, 1);
    CHECK_INT(fm->elements[1].choice, 1);
    CHECK_INT(fm->elements[1].kind, PL_KIND_INT);
    CHECK_ELEMENT(fm->elements[2], "DestinationName", 1, 1);
    CHECK_INT(fm->elements[2].choice, 0);

    /* <choice minOccurs="0">: its members are optional */
    CHECK_INT(field("ExtractRequest", "Description")->choice, 1);
    CHECK_INT(field("ExtractRequest", "Description")->min_occurs, 0);
    CHECK_INT(field("ExtractRequest", "Definition")->choice, 1);
    CHECK_INT(field("ImportDefinitionFieldMap", "SourceOrdinal")->choice, 1);

    const pl_type *any = type("AssetAnyProperty");
    CHECK_INT(any->n_elements, 1);
    CHECK_ELEMENT(any->elements[0], "##any", 0, -1);
    CHECK_INT(any->elements[0].kind, PL_KIND_ANY);

    CHECK_INT(field("Email", "__AdditionalEmailAttribute1")->kind, PL_KIND_STRING);
    CHECK(pl_type_field(type("Email"), "__AdditionalEmailAttribute5") != NULL);
    CHECK(pl_type_field(type("Email"), "AdditionalEmailAttribute1") == NULL);

    /* instanceid is a pattern restriction of xsd:string, not an enumeration */
    const pl_element *instance = field("PerformOptions", "ProgramActivityInstanceID");
    CHECK_STR(instance->type_name, "instanceid");
    CHECK_INT(instance->kind, PL_KIND_STRING);
    CHECK(pl_schema_enum("instanceid") == NULL);

    CHECK_INT(field("AccountUser", "Delete")->min_occurs, 1);
    CHECK_INT(field("DataExtension", "CategoryID")->kind, PL_KIND_LONG);
    CHECK_INT(field("SenderProfile", "DataRetentionPeriodLength")->kind, PL_KIND_SHORT);
    CHECK_INT(field("APIObject", "ID")->kind, PL_KIND_INT);
}

static void test_enums(void)
{
    static const char *const operators[] = {
        "equals", "notEquals", "greaterThan", "lessThan", "isNull", "isNotNull",
        "greaterThanOrEqual", "lessThanOrEqual", "between", "IN", "like", "existsInString",
        "existsInStringAsAWord", "notExistsInString", "beginsWith", "endsWith", "contains",
        "notContains", "isAnniversary", "isNotAnniversary", "greaterThanAnniversary",
        "lessThanAnniversary",
    };
    const pl_enum *ops = pl_schema_enum("SimpleOperators");
    CHECK(ops != NULL);
    if (!ops)
        return;
    CHECK_INT(ops->n_values, 22);
    for (int i = 0; i < 22 && i < ops->n_values; i++)
        CHECK_STR(ops->values[i], operators[i]);
    CHECK(pl_enum_has(ops, "IN"));
    CHECK(!pl_enum_has(ops, "in"));
    CHECK(!pl_enum_has(ops, NULL));
    CHECK(!pl_enum_has(NULL, "equals"));

    const pl_element *op = field("SimpleFilterPart", "SimpleOperator");
    CHECK_INT(op->kind, PL_KIND_ENUM);
    CHECK(op->enumeration == ops);
    CHECK(pl_element_enum(op) == ops);
    CHECK(pl_element_complex(op) == NULL);
    CHECK(pl_element_enum(field("APIObject", "ID")) == NULL);

    /* values with a prefix stay literal text */
    const pl_enum *soap = pl_schema_enum("SoapType");
    CHECK(soap && soap->n_values == 4 && strcmp(soap->values[0], "xsd:string") == 0);
}

static void test_supplement(void)
{
    const pl_type *audience = type("AudienceDefinition");
    CHECK(audience->is_supplement && !audience->is_anonymous && !audience->is_abstract);
    CHECK_STR(audience->base_name, "APIObject");
    CHECK(pl_type_base(audience) == type("APIObject"));
    CHECK(pl_type_is_apiobject_subtype(audience));
    const pl_element *fields[32];
    CHECK_INT(pl_type_fields(audience, fields, 32), 14);
    CHECK_STR(fields[0]->name, "Client");
    CHECK_STR(fields[11]->name, "Name");
    CHECK_STR(fields[12]->name, "Description");
    CHECK_STR(fields[13]->name, "CategoryID");
    CHECK_INT(fields[13]->kind, PL_KIND_INT);

    const pl_type *segment = type("AudienceSegmentDefinition");
    CHECK(segment->is_supplement && pl_type_is_apiobject_subtype(segment));
    const pl_element *ref = pl_type_field(segment, "AudienceDefinition");
    CHECK(ref && ref->complex == NULL && pl_element_complex(ref) == audience);
    CHECK(pl_type_field(segment, "Name") && pl_type_field(segment, "Description"));

    const pl_type *op = type("SystemEntityOperation");
    CHECK(op->is_supplement && pl_type_is_apiobject_subtype(op));
    CHECK(pl_type_field(op, "Name") && pl_type_field(op, "Description"));
    const pl_element *params = pl_type_field(op, "Parameters");
    CHECK(params && params->item_name && strcmp(params->item_name, "Parameter") == 0);
    CHECK(pl_element_complex(params) == type("APIProperty"));

    /* both spellings exist, with the same base and the same fields */
    const pl_type *page = type("SMSSendActivity"), *wsdl = type("SmsSendActivity");
    CHECK(page != wsdl);
    CHECK(page->is_supplement && !wsdl->is_supplement);
    CHECK_STR(page->base_name, wsdl->base_name);
    CHECK(pl_type_base(page) == type("InteractionDefinition"));
    const pl_element *a[32], *b[32];
    int na = pl_type_fields(page, a, 32), nb = pl_type_fields(wsdl, b, 32);
    CHECK_INT(na, nb);
    for (int i = 0; i < na && i < nb; i++)
        CHECK(a[i] == b[i]);
    CHECK(pl_type_is_apiobject_subtype(page));
}

int main(void)
{
    test_counts();
    test_sorted_and_consistent();
    test_lookups_of_unknown_names();
    test_apiobject();
    test_inheritance();
    test_messages();
    test_wrappers();
    test_choices_any_and_oddities();
    test_enums();
    test_supplement();
    return check_report("test_schema");
}
