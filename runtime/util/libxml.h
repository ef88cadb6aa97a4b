/* libxml2, loaded on first use (util/dynlib.h), as libcurl and SQLite are.
 *
 * Linked in, libxml2 brought ICU, libstdc++, zlib and liblzma with it: 2.4 ms of every
 * start-up (`performlua -e ''` took 2.2 times as long as `lua5.4 -e ''`), for a script that
 * may never read or write XML (the REPL's help, `performlua runs`, a script that only reads
 * its journal). Now the first decode, XSD check or indentation loads it (envelopes are
 * written without it: codec/xml_writer.h; its xmlTextWriter entries serve
 * tests/c/test_codec_writer.c, which compares the two).
 *
 * Include this header instead of libxml2's own. It includes them, and names every libxml2
 * entry point performlua uses as a member of one table filled at the load, so that a call
 * written as usual, xmlParseChunk(ctxt, ...), goes through the table. A file that calls an
 * entry point missing from the table does not link (libxml2 is not linked), and a prototype
 * that does not match the header does not compile.
 *
 * Every path into libxml2 calls pl_libxml_load first: until then the table is empty. It
 * loads the library once (any thread), initialises its parser (xmlInitParser: before any
 * thread parses) and says why it could not, naming the Debian package. Pure C. */
#ifndef PL_UTIL_LIBXML_H
#define PL_UTIL_LIBXML_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/encoding.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlversion.h>
#include <libxml/xmlwriter.h>

#include "util/dynlib.h"

#if !defined(LIBXML_THREAD_ENABLED) || defined(LIBXML_THREAD_ALLOC_ENABLED)
#error "util/libxml.h expects libxml2 with threads, without per-thread allocators"
#endif

/* clang-format off */
#define PL_LIBXML_SYMBOLS(X)                                                                   \
    X(xmlInitParser) X(xmlMemSetup) X(xmlCreatePushParserCtxt) X(xmlCtxtResetPush)             \
    X(xmlNewParserCtxt) X(xmlFreeParserCtxt) X(xmlCtxtUseOptions) X(xmlParseChunk)             \
    X(xmlStopParser) X(xmlCtxtReadMemory) X(xmlCtxtReadFile) X(xmlReadFile)                    \
    X(xmlDetectCharEncoding) X(xmlGetLastError) X(xmlSetStructuredErrorFunc)                   \
    X(xmlSetGenericErrorFunc) X(__xmlGenericError) X(__xmlGenericErrorContext)                 \
    X(__xmlStructuredError) X(__xmlStructuredErrorContext) X(__xmlParserVersion) X(xmlFree)    \
    X(xmlStrEqual) X(xmlStrndup) X(xmlDictSize) X(xmlNewDoc) X(xmlFreeDoc)                     \
    X(xmlDocGetRootElement) X(xmlDocSetRootElement) X(xmlDocCopyNode) X(xmlNewChild)           \
    X(xmlUnlinkNode) X(xmlFreeNode) X(xmlNewNs) X(xmlSearchNs) X(xmlNewProp) X(xmlHasProp)     \
    X(xmlGetProp) X(xmlGetNsProp) X(xmlGetLineNo) X(xmlNodeGetContent) X(xmlDocDumpMemoryEnc)  \
    X(xmlDocDumpFormatMemoryEnc) X(xmlBufferCreate) X(xmlBufferFree) X(xmlBufferContent)       \
    X(xmlBufferLength) X(xmlNewTextWriterMemory) X(xmlFreeTextWriter)                          \
    X(xmlTextWriterStartDocument) X(xmlTextWriterEndDocument) X(xmlTextWriterStartElement)     \
    X(xmlTextWriterStartElementNS) X(xmlTextWriterEndElement) X(xmlTextWriterWriteAttribute)   \
    X(xmlTextWriterWriteString) X(xmlSchemaNewDocParserCtxt)                                   \
    X(xmlSchemaSetParserStructuredErrors) X(xmlSchemaParse) X(xmlSchemaFreeParserCtxt)         \
    X(xmlSchemaFree) X(xmlSchemaNewValidCtxt) X(xmlSchemaSetValidStructuredErrors)             \
    X(xmlSchemaValidateOneElement) X(xmlSchemaFreeValidCtxt)
/* clang-format on */

/* The members: a function's pointer, or for a variable (xmlFree) a pointer to it. */
struct pl_libxml_api {
    PL_LIBXML_SYMBOLS(PL_DYNLIB_MEMBER)
};
extern struct pl_libxml_api pl_libxml_api;
#ifdef PL_LIBXML_LOADER /* libxml.c: where each member is filled from, by its real name */
#define PL_LIBXML_ENTRY(name) PL_DYNLIB_ENTRY_IN(struct pl_libxml_api, name)
static const pl_dynlib_symbol pl_libxml_symbols[] = {PL_LIBXML_SYMBOLS(PL_LIBXML_ENTRY)};
#endif

/* Loads libxml2 and initialises its parser, once. True when it is ready; false with a message
 * in `why` (why_size bytes, may be 0) naming the library and the Debian package. Later calls
 * return the first outcome at once. */
bool pl_libxml_load(char *why, size_t why_size);

/* For a version line: "2.9.14", or "(not loaded: <why>)". */
void pl_libxml_version(char *out, size_t size);

/* From here on, the entry points' names are the table's members. libxml2's own macros for
 * its per-thread globals (xmlGenericError is (*(__xmlGenericError())), ...) end in these
 * names too. */
/* clang-format off */
#define xmlInitParser pl_libxml_api.xmlInitParser
#define xmlMemSetup pl_libxml_api.xmlMemSetup
#define xmlCreatePushParserCtxt pl_libxml_api.xmlCreatePushParserCtxt
#define xmlCtxtResetPush pl_libxml_api.xmlCtxtResetPush
#define xmlDictSize pl_libxml_api.xmlDictSize
#define xmlNewParserCtxt pl_libxml_api.xmlNewParserCtxt
#define xmlFreeParserCtxt pl_libxml_api.xmlFreeParserCtxt
#define xmlCtxtUseOptions pl_libxml_api.xmlCtxtUseOptions
#define xmlParseChunk pl_libxml_api.xmlParseChunk
#define xmlStopParser pl_libxml_api.xmlStopParser
#define xmlCtxtReadMemory pl_libxml_api.xmlCtxtReadMemory
#define xmlCtxtReadFile pl_libxml_api.xmlCtxtReadFile
#define xmlReadFile pl_libxml_api.xmlReadFile
#define xmlDetectCharEncoding pl_libxml_api.xmlDetectCharEncoding
#define xmlGetLastError pl_libxml_api.xmlGetLastError
#define xmlSetStructuredErrorFunc pl_libxml_api.xmlSetStructuredErrorFunc
#define xmlSetGenericErrorFunc pl_libxml_api.xmlSetGenericErrorFunc
#define __xmlGenericError pl_libxml_api.__xmlGenericError
#define __xmlGenericErrorContext pl_libxml_api.__xmlGenericErrorContext
#define __xmlStructuredError pl_libxml_api.__xmlStructuredError
#define __xmlStructuredErrorContext pl_libxml_api.__xmlStructuredErrorContext
#define __xmlParserVersion pl_libxml_api.__xmlParserVersion
#define xmlFree (*pl_libxml_api.xmlFree)
#define xmlStrEqual pl_libxml_api.xmlStrEqual
#define xmlStrndup pl_libxml_api.xmlStrndup
#define xmlNewDoc pl_libxml_api.xmlNewDoc
#define xmlFreeDoc pl_libxml_api.xmlFreeDoc
#define xmlDocGetRootElement pl_libxml_api.xmlDocGetRootElement
#define xmlDocSetRootElement pl_libxml_api.xmlDocSetRootElement
#define xmlDocCopyNode pl_libxml_api.xmlDocCopyNode
#define xmlNewChild pl_libxml_api.xmlNewChild
#define xmlUnlinkNode pl_libxml_api.xmlUnlinkNode
#define xmlFreeNode pl_libxml_api.xmlFreeNode
#define xmlNewNs pl_libxml_api.xmlNewNs
#define xmlSearchNs pl_libxml_api.xmlSearchNs
#define xmlNewProp pl_libxml_api.xmlNewProp
#define xmlHasProp pl_libxml_api.xmlHasProp
#define xmlGetProp pl_libxml_api.xmlGetProp
#define xmlGetNsProp pl_libxml_api.xmlGetNsProp
#define xmlGetLineNo pl_libxml_api.xmlGetLineNo
#define xmlNodeGetContent pl_libxml_api.xmlNodeGetContent
#define xmlDocDumpMemoryEnc pl_libxml_api.xmlDocDumpMemoryEnc
#define xmlDocDumpFormatMemoryEnc pl_libxml_api.xmlDocDumpFormatMemoryEnc
#define xmlBufferCreate pl_libxml_api.xmlBufferCreate
#define xmlBufferFree pl_libxml_api.xmlBufferFree
#define xmlBufferContent pl_libxml_api.xmlBufferContent
#define xmlBufferLength pl_libxml_api.xmlBufferLength
#define xmlNewTextWriterMemory pl_libxml_api.xmlNewTextWriterMemory
#define xmlFreeTextWriter pl_libxml_api.xmlFreeTextWriter
#define xmlTextWriterStartDocument pl_libxml_api.xmlTextWriterStartDocument
#define xmlTextWriterEndDocument pl_libxml_api.xmlTextWriterEndDocument
#define xmlTextWriterStartElement pl_libxml_api.xmlTextWriterStartElement
#define xmlTextWriterStartElementNS pl_libxml_api.xmlTextWriterStartElementNS
#define xmlTextWriterEndElement pl_libxml_api.xmlTextWriterEndElement
#define xmlTextWriterWriteAttribute pl_libxml_api.xmlTextWriterWriteAttribute
#define xmlTextWriterWriteString pl_libxml_api.xmlTextWriterWriteString
#define xmlSchemaNewDocParserCtxt pl_libxml_api.xmlSchemaNewDocParserCtxt
#define xmlSchemaSetParserStructuredErrors pl_libxml_api.xmlSchemaSetParserStructuredErrors
#define xmlSchemaParse pl_libxml_api.xmlSchemaParse
#define xmlSchemaFreeParserCtxt pl_libxml_api.xmlSchemaFreeParserCtxt
#define xmlSchemaFree pl_libxml_api.xmlSchemaFree
#define xmlSchemaNewValidCtxt pl_libxml_api.xmlSchemaNewValidCtxt
#define xmlSchemaSetValidStructuredErrors pl_libxml_api.xmlSchemaSetValidStructuredErrors
#define xmlSchemaValidateOneElement pl_libxml_api.xmlSchemaValidateOneElement
#define xmlSchemaFreeValidCtxt pl_libxml_api.xmlSchemaFreeValidCtxt
/* clang-format on */

#endif
