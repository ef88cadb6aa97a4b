/* The schema supplement: types the Perform page names but the WSDL does not declare.
 *
 * The Perform method page (shared/seed/perform.md, "Supported Perform Actions") lists
 * AudienceDefinition (build, clone, totalcount, count), AudienceSegmentDefinition (Count),
 * SMSSendActivity (start) and SystemEntityOperation (start). None of the first three exists
 * in any published WSDL (2014-2021), and the fourth exists only as `SmsSendActivity`. The
 * service's own type set is larger than its WSDL's, so a script must be able to build and
 * send these objects: they are declared here, hand-written, with the fields it is
 * reasonable to expect. Everything about them that the documentation does not say is an
 * assumption, marked as such below; keep them minimal so that nothing is sent that the
 * service could reject for being unknown.
 *
 * Rules for entries (schema.c and xsd.c rely on them):
 *   - the table is sorted by name (strcmp order);
 *   - `base` and `complex`/`enumeration` stay NULL: they resolve by name (base_name,
 *     type_name) through pl_type_base / pl_element_complex / pl_element_enum;
 *   - is_supplement is true;
 *   - names must not collide with WSDL types (test_schema checks it).
 * xsd.c adds each of them to the validation schema as a complexContent extension of its
 * base, so envelopes carrying xsi:type="AudienceDefinition" validate like any other. */
#include "schema/schema.h"

#define OPTIONAL_STRING(field) \
    {.name = field, .type_name = "string", .kind = PL_KIND_STRING, .min_occurs = 0, .max_occurs = 1}

/* AudienceDefinition (Perform: build, clone, totalcount, count). An Audience Builder
 * audience; errors 409000-409999 ("Audience Builder") refer to it. Like other definitions
 * it is identified by CustomerKey/ObjectID (inherited from APIObject), carries a Name and
 * a Description, and lives in a folder (CategoryID, an int like most folder references in
 * the WSDL). */
static const pl_element audience_definition_fields[] = {
    OPTIONAL_STRING("Name"),
    OPTIONAL_STRING("Description"),
    {.name = "CategoryID", .type_name = "int", .kind = PL_KIND_INT, .min_occurs = 0,
     .max_occurs = 1},
};

/* AudienceSegmentDefinition (Perform: Count). A segment of an audience: Name, Description
 * and the AudienceDefinition it belongs to, as an object (reference it with
 * `{CustomerKey = ...}` or `{ObjectID = ...}` like the WSDL's own references do). */
static const pl_element audience_segment_definition_fields[] = {
    OPTIONAL_STRING("Name"),
    OPTIONAL_STRING("Description"),
    {.name = "AudienceDefinition", .type_name = "AudienceDefinition", .kind = PL_KIND_COMPLEX,
     .min_occurs = 0, .max_occurs = 1},
};

/* SystemEntityOperation (Perform: start). An operation the system runs on an entity; the
 * page gives no fields. Name and Description as every definition has, and (assumption)
 * Parameters/Parameter name-value pairs in the WSDL's usual wrapper shape (as
 * SendDefinitionList.Parameters and ExtractRequest.Parameters) for the operation's inputs. */
static const pl_element system_entity_operation_fields[] = {
    OPTIONAL_STRING("Name"),
    OPTIONAL_STRING("Description"),
    {.name = "Parameters", .type_name = "APIProperty", .kind = PL_KIND_COMPLEX,
     .min_occurs = 0, .max_occurs = 1, .item_name = "Parameter", .item_min_occurs = 0,
     .item_max_occurs = -1},
};

const pl_type pl_supplement_types[] = {
    {.name = "AudienceDefinition", .base_name = "APIObject", .is_supplement = true,
     .elements = audience_definition_fields,
     .n_elements = (int)(sizeof audience_definition_fields / sizeof audience_definition_fields[0])},
    {.name = "AudienceSegmentDefinition", .base_name = "APIObject", .is_supplement = true,
     .elements = audience_segment_definition_fields,
     .n_elements = (int)(sizeof audience_segment_definition_fields /
                         sizeof audience_segment_definition_fields[0])},
    /* SMSSendActivity (Perform: start): the page's spelling of the WSDL's SmsSendActivity.
     * Both exist and each is sent exactly as written, so a script that follows the page
     * sends what the page says. Same base (InteractionDefinition) and fields (none of its
     * own) as SmsSendActivity. */
    {.name = "SMSSendActivity", .base_name = "InteractionDefinition", .is_supplement = true},
    {.name = "SystemEntityOperation", .base_name = "APIObject", .is_supplement = true,
     .elements = system_entity_operation_fields,
     .n_elements = (int)(sizeof system_entity_operation_fields /
                         sizeof system_entity_operation_fields[0])},
};
const int pl_supplement_type_count =
    (int)(sizeof pl_supplement_types / sizeof pl_supplement_types[0]);
