/* What every C unit test shares: CHECK records a failure with its place and goes on, so one
 * run shows every broken check; check_report ends main with the test's verdict and status. */
#ifndef PL_TEST_CHECK_H
#define PL_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);           \
            failures++;                                                                        \
        }                                                                                      \
    } while (0)

static inline int check_report(const char *test)
{
    if (failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", test, failures);
        return 1;
    }
    printf("%s: all checks passed\n", test);
    return 0;
}

#endif
