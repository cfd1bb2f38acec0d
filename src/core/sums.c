/* sums.c: see sums.h. */
#include "sums.h"

#include <math.h>

#define LANES 8

static double combine(const double s[LANES])
{
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

double st_sum_abs_diff(const float *a, const float *b, size_t n)
{
    double s[LANES] = { 0 };
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++)
            s[j] += fabs((double)a[i + j] - (double)b[i + j]);
    for (int j = 0; i < n; i++, j++)
        s[j] += fabs((double)a[i] - (double)b[i]);
    return combine(s);
}

double st_sum_abs_diff_count(const float *a, const float *b, size_t n, double eps,
                             size_t *above, size_t *equal)
{
    double s[LANES] = { 0 };
    long up[LANES] = { 0 }, eq[LANES] = { 0 };
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) {
            double d = fabs((double)a[i + j] - (double)b[i + j]);
            s[j] += d;
            up[j] += d > eps;
            eq[j] += a[i + j] - b[i + j] == 0.0f;
        }
    for (int j = 0; i < n; i++, j++) {
        double d = fabs((double)a[i] - (double)b[i]);
        s[j] += d;
        up[j] += d > eps;
        eq[j] += a[i] - b[i] == 0.0f;
    }
    *above = 0;
    *equal = 0;
    for (int j = 0; j < LANES; j++) {
        *above += (size_t)up[j];
        *equal += (size_t)eq[j];
    }
    return combine(s);
}

double st_sum_sq_diff(const float *a, const float *b, size_t n)
{
    double s[LANES] = { 0 };
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) {
            double d = (double)a[i + j] - (double)b[i + j];
            s[j] += d * d;
        }
    for (int j = 0; i < n; i++, j++) {
        double d = (double)a[i] - (double)b[i];
        s[j] += d * d;
    }
    return combine(s);
}
