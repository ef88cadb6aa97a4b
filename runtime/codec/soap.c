/* SOAP envelopes, headers and faults; see soap.h. */
#include "codec/soap.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "codec/value.h"
#include "schema/schema.h"
#include "util/random.h"

/* Note the element names: Create, Update and Delete have no Msg suffix, and Describe's
 * messages are named Definition...Msg (reference/soap-api.md section 5). */
const pl_operation pl_operations[] = {
    {"Create", "CreateRequest", "CreateResponse"},
    {"Retrieve", "RetrieveRequestMsg", "RetrieveResponseMsg"},
    {"Update", "UpdateRequest", "UpdateResponse"},
    {"Delete", "DeleteRequest", "DeleteResponse"},
    {"Query", "QueryRequestMsg", "QueryResponseMsg"},
    {"Describe", "DefinitionRequestMsg", "DefinitionResponseMsg"},
    {"Execute", "ExecuteRequestMsg", "ExecuteResponseMsg"},
    {"Perform", "PerformRequestMsg", "PerformResponseMsg"},
    {"Configure", "ConfigureRequestMsg", "ConfigureResponseMsg"},
    {"Schedule", "ScheduleRequestMsg", "ScheduleResponseMsg"},
    {"VersionInfo", "VersionInfoRequestMsg", "VersionInfoResponseMsg"},
    {"Extract", "ExtractRequestMsg", "ExtractResponseMsg"},
    {"GetSystemStatus", "SystemStatusRequestMsg", "SystemStatusResponseMsg"},
};
const int pl_operation_count = (int)(sizeof pl_operations / sizeof pl_operations[0]);

const pl_operation *pl_operation_find(const char *name)
{
    for (int i = 0; name && i < pl_operation_count; i++)
        if (strcmp(pl_operations[i].name, name) == 0)
            return &pl_operations[i];
    return NULL;
}

const pl_operation *pl_operation_for_element(const char *element_name)
{
    for (int i = 0; element_name && i < pl_operation_count; i++)
        if (strcmp(pl_operations[i].request_element, element_name) == 0 ||
            strcmp(pl_operations[i].response_element, element_name) == 0)
            return &pl_operations[i];
    return NULL;
}

/* ---- envelopes ---- */

static void write_response_headers(pl_xml_out *out, const pl_soap_header *h)
{
    char message_id[sizeof "urn:uuid:" + PL_UUID_LENGTH];
    const char *id = h->message_id;
    if (!id) {
        memcpy(message_id, "urn:uuid:", 9);
        if (!pl_random_uuid(message_id + 9)) {
            out->failed = true;
            return;
        }
        id = message_id;
    }
    if (h->action)
        pl_xml_element_ns(out, "wsa", "Action", h->action);
    pl_xml_element_ns(out, "wsa", "MessageID", id);
    if (h->relates_to)
        pl_xml_element_ns(out, "wsa", "RelatesTo", h->relates_to);
    pl_xml_element_ns(out, "wsa", "To", PL_WSA_ANONYMOUS);

    double created = h->has_created ? h->created : (double)time(NULL);
    char created_text[32], expires_text[32];
    if (!pl_value_format_epoch(created, created_text, sizeof created_text) ||
        !pl_value_format_epoch(created + 300, expires_text, sizeof expires_text)) {
        out->failed = true;
        return;
    }
    /* The service stamps each response with a five-minute validity window. */
    char timestamp_id[64];
    snprintf(timestamp_id, sizeof timestamp_id, "Timestamp-%s", id + (strncmp(id, "urn:uuid:", 9) == 0 ? 9 : 0));
    pl_xml_start_ns(out, "wsse", "Security", NULL);
    pl_xml_start_ns(out, "wsu", "Timestamp", NULL);
    pl_xml_attribute_ns(out, "wsu", "Id", NULL, timestamp_id);
    pl_xml_element_ns(out, "wsu", "Created", created_text);
    pl_xml_element_ns(out, "wsu", "Expires", expires_text);
    pl_xml_end(out);
    pl_xml_end(out);
}

static void write_credentials(pl_xml_out *out, const pl_soap_header *h)
{
    if (h->fueloauth) {
        pl_xml_start(out, "fueloauth");
        pl_xml_attribute(out, "xmlns", PL_FUELOAUTH_NS);
        pl_xml_text(out, h->fueloauth);
        pl_xml_end(out);
    }
    if (h->username || h->password) {
        pl_xml_start_ns(out, "wsse", "Security", PL_WSSE_NS);
        pl_xml_start_ns(out, "wsse", "UsernameToken", NULL);
        pl_xml_element_ns(out, "wsse", "Username", h->username ? h->username : "");
        pl_xml_start_ns(out, "wsse", "Password", NULL);
        pl_xml_attribute(out, "Type", PL_PASSWORD_TEXT);
        pl_xml_text(out, h->password ? h->password : "");
        pl_xml_end(out);
        pl_xml_end(out);
        pl_xml_end(out);
    }
}

void pl_soap_begin(pl_xml_out *out, const pl_soap_header *header)
{
    static const pl_soap_header none;
    const pl_soap_header *h = header ? header : &none;
    pl_xml_declaration(out);
    pl_xml_start_ns(out, "soap", "Envelope", PL_SOAP_ENV_NS);
    pl_xml_attribute(out, "xmlns:xsi", PL_XSI_NS);
    pl_xml_attribute(out, "xmlns:xsd", PL_XSD_NS);
    if (h->response) {
        pl_xml_attribute(out, "xmlns:wsa", PL_WSA_NS);
        pl_xml_attribute(out, "xmlns:wsse", PL_WSSE_NS);
        pl_xml_attribute(out, "xmlns:wsu", PL_WSU_NS);
        pl_xml_start_ns(out, "soap", "Header", NULL);
        write_response_headers(out, h);
        pl_xml_end(out);
    } else if (h->fueloauth || h->username || h->password) {
        pl_xml_start_ns(out, "soap", "Header", NULL);
        write_credentials(out, h);
        pl_xml_end(out);
    }
    pl_xml_start_ns(out, "soap", "Body", NULL);
}

void pl_soap_end(pl_xml_out *out)
{
    pl_xml_end(out); /* Body */
    pl_xml_end(out); /* Envelope */
}

void pl_soap_write_fault(pl_xml_out *out, const pl_soap_fault *fault)
{
    pl_xml_start_ns(out, "soap", "Fault", NULL);
    const char *code = fault->faultcode ? fault->faultcode : "Server";
    pl_xml_start(out, "faultcode");
    if (strncmp(code, "q0:", 3) == 0)
        pl_xml_attribute(out, "xmlns:q0", PL_WSSE_NS);
    if (!strchr(code, ':')) {
        char prefixed[256];
        snprintf(prefixed, sizeof prefixed, "soap:%s", code);
        pl_xml_text(out, prefixed);
    } else {
        pl_xml_text(out, code);
    }
    pl_xml_end(out);
    pl_xml_element(out, "faultstring", fault->faultstring ? fault->faultstring : "");
    if (fault->faultactor)
        pl_xml_element(out, "faultactor", fault->faultactor);
    if (fault->has_code) {
        char code_text[32];
        snprintf(code_text, sizeof code_text, "%lld", fault->code);
        pl_xml_start(out, "detail");
        pl_xml_start(out, "apifault");
        pl_xml_attribute(out, "xmlns", PL_FAULT_NS);
        pl_xml_element(out, "Code", code_text);
        pl_xml_element(out, "Message", fault->message ? fault->message
                                                     : (fault->faultstring ? fault->faultstring : ""));
        pl_xml_end(out);
        pl_xml_end(out);
    }
    pl_xml_end(out);
}
