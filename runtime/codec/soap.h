/* SOAP 1.1 envelopes as the partner API exchanges them, written with codec/xml_writer.h: the
 * 13 operations and their message elements, the envelope and its headers (credentials in
 * requests; WS-Addressing and a WS-Security timestamp in responses), and faults.
 * Pure C: no Lua. The Lua-table walker (bind/encode.c) writes the body element between
 * pl_soap_begin and pl_soap_end with the pl_xml_* calls. */
#ifndef PL_CODEC_SOAP_H
#define PL_CODEC_SOAP_H

#include <stdbool.h>
#include <stddef.h>

#include "codec/xml_writer.h"

#define PL_WSA_NS "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define PL_WSA_ANONYMOUS "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
#define PL_WSSE_NS \
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
#define PL_WSU_NS \
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
#define PL_PASSWORD_TEXT                                                                    \
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0" \
    "#PasswordText"
#define PL_FUELOAUTH_NS "http://exacttarget.com"
#define PL_FAULT_NS "urn:fault.partner.exacttarget.com"

/* ---- the operations ---- */

typedef struct pl_operation {
    const char *name;             /* also the SOAPAction value: "Perform" */
    const char *request_element;  /* "PerformRequestMsg" */
    const char *response_element; /* "PerformResponseMsg" */
} pl_operation;

extern const pl_operation pl_operations[];
extern const int pl_operation_count; /* 13 */

const pl_operation *pl_operation_find(const char *name);
/* The operation whose request or response element this is; NULL for other elements. */
const pl_operation *pl_operation_for_element(const char *element_name);

/* ---- envelopes ---- */

/* What goes into the header. A request carries at most one kind of credentials; a response
 * (response == true) carries WS-Addressing headers and a WS-Security timestamp. */
typedef struct pl_soap_header {
    const char *fueloauth;        /* <fueloauth xmlns="http://exacttarget.com"> */
    const char *username;         /* with password: wsse:Security/UsernameToken */
    const char *password;
    bool response;
    const char *action;           /* wsa:Action, e.g. "PerformResponse" */
    const char *message_id;       /* wsa:MessageID; a fresh "urn:uuid:" when NULL */
    const char *relates_to;       /* wsa:RelatesTo; left out when NULL */
    bool has_created;
    double created;               /* wsu:Created as seconds since the epoch (has_created),
                                   * else now */
} pl_soap_header;

/* Writes the declaration, soap:Envelope, the header and opens soap:Body. */
void pl_soap_begin(pl_xml_out *out, const pl_soap_header *header);
/* Closes soap:Body and soap:Envelope. */
void pl_soap_end(pl_xml_out *out);

/* A fault as the service writes it: soap:Fault with faultcode (a bare code such as "Server"
 * gets the soap: prefix; "q0:Security" declares q0 as the WS-Security namespace),
 * faultstring, faultactor when given, and detail/apifault{Code, Message} in
 * urn:fault.partner.exacttarget.com when has_code. */
typedef struct pl_soap_fault {
    const char *faultcode;
    const char *faultstring;
    const char *faultactor;
    bool has_code;
    long long code;
    const char *message;
} pl_soap_fault;

void pl_soap_write_fault(pl_xml_out *out, const pl_soap_fault *fault);

#endif
