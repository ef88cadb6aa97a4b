/* The one source of randomness: the kernel's generator (getrandom(2)), for everything that
 * must not repeat or be guessed (tokens, message and correlation ids, backoff jitter,
 * temporary names). Pure C; safe from any thread. */
#ifndef PL_UTIL_RANDOM_H
#define PL_UTIL_RANDOM_H

#include <stdbool.h>
#include <stddef.h>

/* Fills buf with n random bytes. False (errno set) when the kernel's generator fails. */
bool pl_random_bytes(void *buf, size_t n);

/* A uniformly distributed double in [0, 1) (53 random bits). False when pl_random_bytes is. */
bool pl_random_fraction(double *out);

/* Characters of a UUID's text form, and the buffer size with the terminating NUL. */
#define PL_UUID_LENGTH 36
#define PL_UUID_SIZE (PL_UUID_LENGTH + 1)

/* A random RFC 4122 version 4 UUID in its lowercase text form,
 * "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (y one of 8, 9, a, b), into out (PL_UUID_SIZE bytes).
 * False when pl_random_bytes is. */
bool pl_random_uuid(char *out);

/* Formats 16 random bytes as a version 4 UUID into out (PL_UUID_SIZE bytes), setting the
 * version and variant bits in b: for callers that draw their bytes elsewhere (core.uuid's
 * per-thread pool). */
void pl_uuid_from_bytes(unsigned char b[16], char *out);

#endif
