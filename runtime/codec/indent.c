/* See indent.h. */
#include "codec/indent.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/libxml.h"
#include "util/xml.h"

/* A document that does not parse is simply shown as it is, so libxml2's reports (the
 * context's, and the thread's for conversion errors, which it would otherwise print) are
 * dropped. */
static void ignore_error(void *ctx, PL_XML_ERROR *err)
{
    (void)ctx;
    (void)err;
}

static void ignore_message(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    (void)fmt;
}

char *pl_xml_indent(const char *xml, size_t len, size_t *out_len)
{
    *out_len = 0;
    if (len == 0 || len > INT_MAX || !pl_libxml_load(NULL, 0))
        return NULL;
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return NULL;
    ctxt->sax->serror = ignore_error;
    /* what is laid out comes from a server too (--trace): a DOCTYPE stops the parser before its
     * DTD, as in the decoder, and the text is then shown as it came */
    pl_xml_stop_at_doctype(ctxt->sax);
    /* NOBLANKS drops the whitespace-only text between elements, so the writer may lay them out
     * anew; text inside an element is kept as it is */
    const int options =
        XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOWARNING | XML_PARSE_NOERROR;
    pl_xml_handlers saved = pl_xml_take_errors(NULL, ignore_error, ignore_message);
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL, options);
    pl_xml_restore_errors(&saved);
    int well_formed = ctxt->wellFormed && !pl_xml_stopped_at_doctype(ctxt);
    xmlFreeParserCtxt(ctxt);
    if (!doc)
        return NULL;
    char *out = NULL;
    if (well_formed) {
        xmlChar *dumped = NULL;
        int size = 0;
        xmlDocDumpFormatMemoryEnc(doc, &dumped, &size, "UTF-8", 1);
        if (dumped && size >= 0) {
            out = malloc((size_t)size + 1);
            if (out) {
                memcpy(out, dumped, (size_t)size);
                out[size] = '\0';
                *out_len = (size_t)size;
            }
        }
        xmlFree(dumped);
    }
    xmlFreeDoc(doc);
    return out;
}
