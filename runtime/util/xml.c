/* libxml2's thread handlers and stopping it at a DOCTYPE; see xml.h. */
#include "util/xml.h"

pl_xml_handlers pl_xml_take_errors(void *context, xmlStructuredErrorFunc structured,
                                   xmlGenericErrorFunc generic)
{
    pl_xml_handlers saved = {xmlStructuredError, xmlStructuredErrorContext, xmlGenericError,
                             xmlGenericErrorContext};
    xmlSetStructuredErrorFunc(context, structured);
    xmlSetGenericErrorFunc(context, generic);
    return saved;
}

void pl_xml_restore_errors(const pl_xml_handlers *saved)
{
    xmlSetStructuredErrorFunc(saved->structured_context, saved->structured);
    xmlSetGenericErrorFunc(saved->generic_context, saved->generic);
}

static void stop_at_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                            const xmlChar *system_id)
{
    (void)name, (void)external_id, (void)system_id;
    xmlStopParser(ctx);
}

void pl_xml_stop_at_doctype(xmlSAXHandler *sax)
{
    sax->internalSubset = stop_at_doctype;
}

/* libxml2 keeps the DOCTYPE's name in the context before it calls internalSubset, and
 * xmlStopParser leaves its mark: no flag of our own (and no claim on the context's _private,
 * which callers use) is needed. */
bool pl_xml_stopped_at_doctype(const xmlParserCtxt *ctxt)
{
    return ctxt->intSubName != NULL && ctxt->errNo == XML_ERR_USER_STOP;
}
