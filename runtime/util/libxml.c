/* See libxml.h. */
#define PL_LIBXML_LOADER
#include "util/libxml.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/allocator.h"

struct pl_libxml_api pl_libxml_api;
static pl_dynlib libxml_lib =
    PL_DYNLIB_INIT(PL_XML2_SONAME, PL_XML2_PACKAGE, "XML (SOAP messages)", pl_libxml_symbols,
                   &pl_libxml_api);

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool ready; /* written once inside init_once, read after it */

static void load_and_init(void)
{
    /* libxml2's blocks go to the process's allocator for busy heaps (util/allocator.h), unless
     * the library was in the process before this load (a Lua C module linked with it): blocks
     * it made already must still find the allocator that made them. */
    bool earlier = pl_dynlib_in_process(&libxml_lib);
    /* libxml2's global state is set up once, before any thread (the sandbox's) parses */
    if (pl_dynlib_load(&libxml_lib, NULL, 0)) {
        const pl_allocator *a = pl_allocator_get();
        if (!earlier && a->is_mimalloc)
            xmlMemSetup(a->free, a->malloc, a->realloc, a->strdup);
        xmlInitParser();
        ready = true;
    }
}

bool pl_libxml_load(char *why, size_t why_size)
{
    /* every decode asks: once loaded, the answer takes no lock */
    pthread_once(&init_once, load_and_init);
    return ready || pl_dynlib_load(&libxml_lib, why, why_size);
}

void pl_libxml_version(char *out, size_t size)
{
    if (!pl_libxml_load(NULL, 0)) {
        pl_dynlib_load_or_describe(&libxml_lib, out, size);
        return;
    }
    /* the run-time library's version as digits, e.g. "20914" */
    long v = strtol(xmlParserVersion, NULL, 10);
    snprintf(out, size, "%ld.%ld.%ld", v / 10000, (v / 100) % 100, v % 100);
}
