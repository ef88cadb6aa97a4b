/* See dynlib.h. */
#include "util/dynlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static void load_locked(pl_dynlib *lib)
{
    /* RTLD_NOW: a missing symbol of the library's own dependencies fails here, not in the
     * middle of a call; RTLD_LOCAL: its symbols stay out of the global namespace, as with a
     * library that was linked in. */
    void *handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *reason = dlerror();
        snprintf(lib->error, sizeof lib->error,
                 "cannot load the shared library %s for %s (%s): install the Debian package %s",
                 lib->soname, lib->purpose, reason ? reason : "not found", lib->package);
        lib->state = -1;
        return;
    }
    for (size_t i = 0; i < lib->n_symbols; i++) {
        dlerror();
        void *p = dlsym(handle, lib->symbols[i].name);
        if (!p) {
            snprintf(lib->error, sizeof lib->error,
                     "the shared library %s has no %s, needed for %s (a version too old?): "
                     "install the current Debian package %s",
                     lib->soname, lib->symbols[i].name, lib->purpose, lib->package);
            lib->state = -1;
            /* The library stays loaded: its initialisers ran, and unloading it again is
             * what some libraries do not survive. */
            return;
        }
        /* POSIX guarantees a function's address survives the trip through void *. */
        memcpy((char *)lib->table + lib->symbols[i].offset, &p, sizeof p);
    }
    lib->state = 1;
}

bool pl_dynlib_load(pl_dynlib *lib, char *why, size_t why_size)
{
    pthread_mutex_lock(&load_lock);
    if (lib->state == 0)
        load_locked(lib);
    bool ok = lib->state == 1;
    if (!ok && why && why_size)
        snprintf(why, why_size, "%s", lib->error);
    pthread_mutex_unlock(&load_lock);
    return ok;
}

bool pl_dynlib_load_or_describe(pl_dynlib *lib, char *out, size_t size)
{
    char why[sizeof lib->error];
    if (pl_dynlib_load(lib, why, sizeof why))
        return true;
    snprintf(out, size, "(not loaded: %s)", why);
    return false;
}

bool pl_dynlib_in_process(const pl_dynlib *lib)
{
    void *handle = dlopen(lib->soname, RTLD_LAZY | RTLD_NOLOAD);
    if (handle)
        dlclose(handle);
    return handle != NULL;
}
