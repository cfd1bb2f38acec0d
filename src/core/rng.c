/* rng.c: xoshiro256** (Blackman and Vigna) seeded with splitmix64.
 * Doubles take the top 53 bits; normals come from Box-Muller, both values used. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void st_rng_seed(struct st_rng *rng, uint64_t seed, uint64_t stream)
{
    /* Mix the stream id in through a second splitmix pass so that nearby
     * (seed, stream) pairs give unrelated states. */
    uint64_t x = seed;
    uint64_t mixed = splitmix64(&x);
    x = mixed ^ (stream * 0xd1b54a32d192ed03ULL);
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
    rng->spare = 0.0;
    rng->has_spare = 0;
}

uint64_t st_rng_next(struct st_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double st_rng_uniform(struct st_rng *rng)
{
    return (double)(st_rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t st_rng_below(struct st_rng *rng, uint64_t n)
{
    /* Rejection sampling: discard the top partial range of 2^64 mod n values. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do
        r = st_rng_next(rng);
    while (r >= limit);
    return r % n;
}

double st_rng_normal(struct st_rng *rng)
{
    if (rng->has_spare) {
        rng->has_spare = 0;
        return rng->spare;
    }
    /* u1 in (0, 1] so the log is finite. */
    double u1 = 1.0 - st_rng_uniform(rng);
    double u2 = st_rng_uniform(rng);
    double r = sqrt(-2.0 * log(u1));
    double a = 6.283185307179586477 * u2; /* 2 pi */
    rng->spare = r * sin(a);
    rng->has_spare = 1;
    return r * cos(a);
}

void st_rng_fill_uniform(struct st_rng *rng, float *x, long n, double lo, double hi)
{
    for (long i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * st_rng_uniform(rng));
}

void st_rng_fill_normal(struct st_rng *rng, float *x, long n, double mean, double std)
{
    for (long i = 0; i < n; i++)
        x[i] = (float)(mean + std * st_rng_normal(rng));
}
