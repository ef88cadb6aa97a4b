/* Unit tests of runtime/util/allocator.c and its users: the blocks libxml2 and libcurl make
 * are mimalloc's when it was chosen, and stay the C library's when either library was in the
 * process before performlua loaded it (a Lua C module linked with it may hold blocks the C
 * library's malloc made). That second case runs in a new process of this program
 * ("earlier"), since the choice and the loads are made once per process. */
#include <dlfcn.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <curl/curl.h>

#include "check.h"
#include "net/http.h"
#include "util/allocator.h"
#include "util/libxml.h"

extern char **environ;

/* A function of a library performlua loaded (RTLD_LOCAL, so not in the global scope). */
static void *symbol_of(const char *soname, const char *name)
{
    void *lib = dlopen(soname, RTLD_LAZY | RTLD_NOLOAD);
    void *sym = lib ? dlsym(lib, name) : NULL;
    if (lib)
        dlclose(lib);
    return sym;
}

/* Whether mimalloc manages the block p (false when mimalloc is not in the process). */
static bool on_mimalloc(const void *p)
{
    bool (*in_heap)(const void *) =
        (bool (*)(const void *))symbol_of("libmimalloc.so.2", "mi_is_in_heap_region");
    return in_heap && in_heap(p);
}

/* Whether a block libxml2 made and one libcurl made are mimalloc's: 1 both, 0 neither, -1 a
 * mix or a failure. */
static int libraries_on_mimalloc(void)
{
    char why[512];
    if (!pl_libxml_load(why, sizeof why) || !pl_http_load(why, sizeof why)) {
        fprintf(stderr, "could not load a library: %s\n", why);
        return -1;
    }
    xmlChar *from_xml = xmlStrndup(BAD_CAST "abc", 3);
    char *(*escape)(CURL *, const char *, int) =
        (char *(*)(CURL *, const char *, int))symbol_of("libcurl.so.4", "curl_easy_escape");
    void (*curl_free_fn)(void *) = (void (*)(void *))symbol_of("libcurl.so.4", "curl_free");
    char *from_curl = escape && curl_free_fn ? escape(NULL, "a b", 0) : NULL;
    int verdict = -1;
    if (from_xml && from_curl && strcmp(from_curl, "a%20b") == 0) {
        bool xml_mi = on_mimalloc(from_xml), curl_mi = on_mimalloc(from_curl);
        verdict = xml_mi && curl_mi ? 1 : !xml_mi && !curl_mi ? 0 : -1;
    }
    xmlFree(from_xml);
    if (from_curl)
        curl_free_fn(from_curl);
    return verdict;
}

/* The child: libxml2 and libcurl are loaded before performlua's loaders run. */
static int run_earlier(void)
{
    void *xml = dlopen("libxml2.so.2", RTLD_NOW | RTLD_LOCAL);
    void *curl = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    CHECK(xml != NULL && curl != NULL);
    /* they keep the C library's malloc, whatever the allocator chosen */
    CHECK(libraries_on_mimalloc() == 0);
    return check_report("test_allocator (libraries loaded earlier)");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "earlier") == 0)
        return run_earlier();

    const pl_allocator *a = pl_allocator_get();
    CHECK(a == pl_allocator_get()); /* chosen once */
    char line[600];
    pl_allocator_describe(line, sizeof line);
    if (a->is_mimalloc) {
        CHECK(strncmp(line, "mimalloc 2.", 11) == 0 &&
              strstr(line, " (the Lua heap, libxml2, libcurl)") != NULL);
        void *p = a->malloc(24);
        CHECK(p && on_mimalloc(p));
        a->free(p);
        CHECK(libraries_on_mimalloc() == 1);
    } else {
        CHECK(
            strncmp(line, "mimalloc (not used: ", 20) == 0 &&
            strstr(line, "; the Lua heap, libxml2 and libcurl are on the C library's malloc)"));
        CHECK(a->malloc == malloc && a->free == free);
        CHECK(libraries_on_mimalloc() == 0);
    }
    /* every allocator function works on its own blocks */
    char *s = a->strdup("text");
    CHECK(s && strcmp(s, "text") == 0);
    s = a->realloc(s, 100);
    CHECK(s && strcmp(s, "text") == 0);
    a->free(s);
    int *zeros = a->calloc(8, sizeof *zeros);
    CHECK(zeros && zeros[0] == 0 && zeros[7] == 0);
    a->free(zeros);

    pid_t child;
    char *child_argv[] = {argv[0], "earlier", NULL};
    int status = 0;
    CHECK(posix_spawn(&child, "/proc/self/exe", NULL, NULL, child_argv, environ) == 0 &&
          waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return check_report("test_allocator");
}
