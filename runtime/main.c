/* performlua: the command line lives in runtime/cli/ (cli.c: options and running scripts,
 * repl.c: the interactive loop). */
#include <malloc.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
    /* A Retrieve page is a ~1 MB answer and ~2 MB of buffers, made and freed page after page.
     * glibc maps blocks over 128 KB afresh (raising that bound only after one is freed) and
     * hands the heap's free top back to the kernel past twice that bound, so each page faulted
     * its memory in again: 110-240 page faults a page, a quarter of c:retrieve's CPU. Blocks
     * under 4 MB come from the heap, and up to 16 MB of free heap is kept for the next page
     * (side by side: 12.4 -> 8.9-9.6 ms CPU a page, peak RSS +0.3 MB). Bodies of tens of MB
     * are still mapped and returned whole. This is the C library's malloc, which libcurl,
     * libxml2 and performlua's C use; the Lua heap has its own (bind/lua_state.c). */
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
    return pl_cli_main(argc, argv);
}
