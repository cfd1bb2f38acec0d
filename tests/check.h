/* check.h: minimal test assertions. A failed check prints file:line, the
 * expression and the values, and makes the test program exit non-zero. */
#ifndef ST_CHECK_H
#define ST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
            check_failures++;                                                          \
        }                                                                              \
    } while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_NEAR(a, b, atol, rtol)                                                   \
    do {                                                                               \
        double ca_ = (double)(a), cb_ = (double)(b);                                   \
        if (!(fabs(ca_ - cb_) <= (atol) + (rtol) * fabs(cb_))) {                       \
            fprintf(stderr, "%s:%d: CHECK_NEAR(%s, %s) failed: %.9g vs %.9g (diff %.3g)\n", \
                    __FILE__, __LINE__, #a, #b, ca_, cb_, fabs(ca_ - cb_));            \
            check_failures++;                                                          \
        }                                                                              \
    } while (0)

#define CHECK_OK(expr)                                                                 \
    do {                                                                               \
        struct st_err ce_ = { "" };                                                    \
        enum st_status cs_ = (expr);                                                   \
        (void)ce_;                                                                     \
        if (cs_ != ST_OK) {                                                            \
            fprintf(stderr, "%s:%d: %s failed: status %d\n", __FILE__, __LINE__, #expr,   \
                    (int)cs_);                                                         \
            check_failures++;                                                          \
        }                                                                              \
    } while (0)

static int check_report(const char *name)
{
    if (check_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

#endif
