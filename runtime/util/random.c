/* Randomness from the kernel; see random.h. */
#include "util/random.h"

#include <errno.h>
#include <stdint.h>
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

void pl_uuid_from_bytes(unsigned char b[16], char *out)
{
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* variant 10xx (RFC 4122) */
    /* By hand, not snprintf: every SOAP call draws one (its correlation id), and formatting
     * 16 "%02x" was ~11,000 instructions of it. */
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 0x0F];
    }
    *p = '\0';
}

bool pl_random_uuid(char *out)
{
    unsigned char b[16];
    if (!pl_random_bytes(b, sizeof b))
        return false;
    pl_uuid_from_bytes(b, out);
    return true;
}
