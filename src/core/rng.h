/* rng.h: a small, fast, reproducible random number generator (xoshiro256**).
 * Every random stream of a run is seeded from (seed, stream id), so adding a
 * new stream never shifts the numbers another stream draws. */
#ifndef ST_RNG_H
#define ST_RNG_H

#include <stdint.h>

struct st_rng {
    uint64_t s[4];
    double spare;  /* second normal of the last Box-Muller pair */
    int has_spare;
};

/* Named streams, so the seed of each part of an experiment is independent. */
enum st_stream {
    ST_STREAM_TEACHER = 1, /* teacher weights */
    ST_STREAM_STUDENT = 2, /* the student's re-drawn layers */
    ST_STREAM_DATA = 3,    /* inputs (fixed set or online draws) */
    ST_STREAM_NOISE = 4,   /* label noise */
    ST_STREAM_ORDER = 5,   /* minibatch order */
    ST_STREAM_TASK_A = 6,  /* continual: the inputs task A is judged on */
    ST_STREAM_FISHER = 7   /* the fisher reduction's random probes */
};

/* Seeds rng from a user seed and a stream id (splitmix64 expansion). */
void st_rng_seed(struct st_rng *rng, uint64_t seed, uint64_t stream);

/* Next raw 64-bit value. */
uint64_t st_rng_next(struct st_rng *rng);

/* Uniform double in [0, 1) with 53 random bits. */
double st_rng_uniform(struct st_rng *rng);

/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t st_rng_below(struct st_rng *rng, uint64_t n);

/* Standard normal N(0, 1) (Box-Muller in double precision). */
double st_rng_normal(struct st_rng *rng);

/* Fills x[n] with U(lo, hi) as float. */
void st_rng_fill_uniform(struct st_rng *rng, float *x, long n, double lo, double hi);

/* Fills x[n] with N(mean, std^2) as float. */
void st_rng_fill_normal(struct st_rng *rng, float *x, long n, double mean, double std);

#endif
