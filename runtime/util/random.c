/* Randomness from the kernel; see random.h. */
#include "util/random.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>

bool pl_random_bytes(void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = getrandom((char *)buf + done, n - done, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        done += (size_t)r;
    }
    return true;
}

bool pl_random_fraction(double *out)
{
    uint64_t v;
    if (!pl_random_bytes(&v, sizeof v))
        return false;
    *out = (double)(v >> 11) / 9007199254740992.0; /* 2^53 */
    return true;
}

bool pl_random_uuid(char *out)
{
    unsigned char b[16];
    if (!pl_random_bytes(b, sizeof b))
        return false;
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* variant 10xx (RFC 4122) */
    snprintf(out, PL_UUID_SIZE,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return true;
}
