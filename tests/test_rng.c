/* test_rng.c: the generator is deterministic per (seed, stream), streams are
 * independent, and the distributions have the right range and moments. */
#include <string.h>

#include "check.h"
#include "core/rng.h"

int main(void)
{
    struct st_rng a, b, c;
    st_rng_seed(&a, 42, ST_STREAM_DATA);
    st_rng_seed(&b, 42, ST_STREAM_DATA);
    st_rng_seed(&c, 42, ST_STREAM_TEACHER);
    int same = 1, differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = st_rng_next(&a), y = st_rng_next(&b), z = st_rng_next(&c);
        same &= x == y;
        differ += x != z;
    }
    CHECK(same);
    CHECK(differ == 1000);
    st_rng_seed(&c, 43, ST_STREAM_DATA);
    st_rng_seed(&a, 42, ST_STREAM_DATA);
    CHECK(st_rng_next(&a) != st_rng_next(&c));

    /* Uniform: in [0,1), mean 1/2 and variance 1/12; with n = 200000 the
     * standard error of the mean is 0.29/sqrt(n) = 6.5e-4, so 5e-3 is > 7 sigma. */
    long n = 200000;
    double s = 0, s2 = 0, lo = 1, hi = 0;
    for (long i = 0; i < n; i++) {
        double u = st_rng_uniform(&a);
        s += u;
        s2 += u * u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    CHECK(lo >= 0.0 && hi < 1.0);
    CHECK_NEAR(s / n, 0.5, 5e-3, 0);
    CHECK_NEAR(s2 / n - (s / n) * (s / n), 1.0 / 12, 2e-3, 0);

    /* Normal: mean 0, variance 1, fourth moment 3 (se of the mean 2.2e-3). */
    double m1 = 0, m2 = 0, m4 = 0;
    for (long i = 0; i < n; i++) {
        double z = st_rng_normal(&a);
        m1 += z;
        m2 += z * z;
        m4 += z * z * z * z;
    }
    CHECK_NEAR(m1 / n, 0.0, 0.015, 0);
    CHECK_NEAR(m2 / n, 1.0, 0.02, 0);
    CHECK_NEAR(m4 / n, 3.0, 0.1, 0);

    /* below(n): in range and every value hit. */
    int hits[7] = { 0 };
    for (int i = 0; i < 7000; i++) {
        uint64_t k = st_rng_below(&a, 7);
        CHECK(k < 7);
        if (k < 7)
            hits[k]++;
    }
    for (int k = 0; k < 7; k++)
        CHECK(hits[k] > 800 && hits[k] < 1200);

    /* fill_uniform respects its bounds. */
    float x[1000];
    st_rng_fill_uniform(&a, x, 1000, -0.25, 0.25);
    for (int i = 0; i < 1000; i++)
        CHECK(x[i] >= -0.25f && x[i] <= 0.25f);
    return check_report("rng");
}
