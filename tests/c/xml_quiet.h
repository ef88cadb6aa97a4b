/* For C unit tests of code that parses with libxml2 and must print nothing: the calling
 * thread's libxml2 handlers (where a message no parser handler takes goes, and which print
 * when nobody set them) are pointed at counters; the code under test must leave them as they
 * were and send them nothing. */
#ifndef PL_TEST_XML_QUIET_H
#define PL_TEST_XML_QUIET_H

#include "check.h"
#include "util/xml.h"

static int thread_messages;

static void count_structured(void *ctx, PL_XML_ERROR *err)
{
    (void)ctx, (void)err;
    thread_messages++;
}

static void count_generic(void *ctx, const char *fmt, ...)
{
    (void)ctx, (void)fmt;
    thread_messages++;
}

/* From here to xml_quiet_end, messages to the thread's handlers are counted. */
static inline void xml_quiet_begin(void)
{
    CHECK(pl_libxml_load(NULL, 0)); /* loaded on first use: set the handlers of the real one */
    thread_messages = 0;
    xmlSetStructuredErrorFunc(&thread_messages, count_structured);
    xmlSetGenericErrorFunc(&thread_messages, count_generic);
}

/* Checks that no message came and that the counters are still the thread's handlers, then
 * gives libxml2 its defaults back. */
#define xml_quiet_end()                                                                        \
    do {                                                                                       \
        CHECK(thread_messages == 0);                                                           \
        CHECK(xmlStructuredError == count_structured &&                                        \
              xmlStructuredErrorContext == &thread_messages);                                  \
        CHECK(xmlGenericError == count_generic && xmlGenericErrorContext == &thread_messages); \
        xmlSetStructuredErrorFunc(NULL, NULL);                                                 \
        xmlSetGenericErrorFunc(NULL, NULL);                                                    \
    } while (0)

#endif
