/* sums.c: see sums.h. */
#include "sums.h"

#include "par.h"

#include <math.h>
#include <string.h>

#define LANES 8

static double combine(const double s[LANES])
{
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

ST_PASS static double block_abs(const float *a, const float *b, size_t n)
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

/* block_abs(a, b) with the counts of st_sum_abs_diff_count and, where c is
 * not NULL, block_abs(a, c) in *sum_ac: one pass over a for both sums, each
 * in its own lanes, so their bits are those of the separate sums. Inlined
 * twice, with and without c, so neither loop tests it. */
static inline __attribute__((always_inline)) double
abs_count(const float *a, const float *b, const float *c, size_t n, double eps, size_t *above,
          size_t *equal, double *sum_ac)
{
    double s[LANES] = { 0 }, t[LANES] = { 0 };
    long up[LANES] = { 0 }, eq[LANES] = { 0 };
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) {
            double d = fabs((double)a[i + j] - (double)b[i + j]);
            s[j] += d;
            up[j] += d > eps;
            eq[j] += a[i + j] - b[i + j] == 0.0f;
            if (c)
                t[j] += fabs((double)a[i + j] - (double)c[i + j]);
        }
    for (int j = 0; i < n; i++, j++) {
        double d = fabs((double)a[i] - (double)b[i]);
        s[j] += d;
        up[j] += d > eps;
        eq[j] += a[i] - b[i] == 0.0f;
        if (c)
            t[j] += fabs((double)a[i] - (double)c[i]);
    }
    *above = 0;
    *equal = 0;
    for (int j = 0; j < LANES; j++) {
        *above += (size_t)up[j];
        *equal += (size_t)eq[j];
    }
    if (c)
        *sum_ac = combine(t);
    return combine(s);
}

ST_PASS static double block_abs_count(const float *a, const float *b, const float *c, size_t n,
                              double eps, size_t *above, size_t *equal, double *sum_ac)
{
    return c ? abs_count(a, b, c, n, eps, above, equal, sum_ac)
             : abs_count(a, b, NULL, n, eps, above, equal, sum_ac);
}

static double block_sq(const float *a, const float *b, size_t n)
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

/* Blocked sums: blocks of ST_PAR_BLOCK entries, each summed by a block_*
 * function on some thread, their sums added in block order. A batch of
 * blocks at a time keeps the slots on the stack. */
#define BATCH 128

enum kind { ABS, ABS_COUNT, SQ };

struct job {
    enum kind kind;
    const float *a, *b, *c;
    size_t n;
    double eps;
    double s[BATCH], s_ac[BATCH];
    size_t above[BATCH], equal[BATCH];
};

static void block(void *ctx, long i)
{
    struct job *j = ctx;
    size_t lo = (size_t)i * (size_t)ST_PAR_BLOCK;
    size_t len = j->n - lo < (size_t)ST_PAR_BLOCK ? j->n - lo : (size_t)ST_PAR_BLOCK;
    switch (j->kind) {
    case ABS: j->s[i] = block_abs(j->a + lo, j->b + lo, len); break;
    case ABS_COUNT:
        j->s[i] = block_abs_count(j->a + lo, j->b + lo, j->c ? j->c + lo : NULL, len, j->eps,
                                  &j->above[i], &j->equal[i], &j->s_ac[i]);
        break;
    case SQ: j->s[i] = block_sq(j->a + lo, j->b + lo, len); break;
    }
}

static double blocked(enum kind kind, const float *a, const float *b, const float *c, size_t n,
                      double eps, size_t *above, size_t *equal, double *sum_ac)
{
    struct job j = { .kind = kind, .eps = eps };
    double s = 0.0;
    size_t step = (size_t)BATCH * (size_t)ST_PAR_BLOCK;

    if (above) {
        *above = 0;
        *equal = 0;
    }
    if (c)
        *sum_ac = 0.0;
    for (size_t lo = 0; lo < n; lo += step) {
        j.a = a + lo;
        j.b = b + lo;
        j.c = c ? c + lo : NULL;
        j.n = n - lo < step ? n - lo : step;
        long nb = (long)((j.n + (size_t)ST_PAR_BLOCK - 1) / (size_t)ST_PAR_BLOCK);
        st_par_for(nb, block, &j);
        for (long i = 0; i < nb; i++) {
            s += j.s[i];
            if (above) {
                *above += j.above[i];
                *equal += j.equal[i];
            }
            if (c)
                *sum_ac += j.s_ac[i];
        }
    }
    return s;
}

double st_sum_abs_diff(const float *a, const float *b, size_t n)
{
    return n <= (size_t)ST_PAR_BLOCK ? block_abs(a, b, n)
                                     : blocked(ABS, a, b, NULL, n, 0.0, NULL, NULL, NULL);
}

double st_sum_abs_diff_count(const float *a, const float *b, size_t n, double eps,
                             size_t *above, size_t *equal)
{
    return st_sum_abs_diff_count2(a, b, NULL, n, eps, above, equal, NULL);
}

double st_sum_abs_diff_count2(const float *a, const float *b, const float *c, size_t n,
                              double eps, size_t *above, size_t *equal, double *sum_ac)
{
    if (n <= (size_t)ST_PAR_BLOCK)
        return block_abs_count(a, b, c, n, eps, above, equal, sum_ac);
    return blocked(ABS_COUNT, a, b, c, n, eps, above, equal, sum_ac);
}

double st_sum_sq_diff(const float *a, const float *b, size_t n)
{
    return n <= (size_t)ST_PAR_BLOCK ? block_sq(a, b, n)
                                     : blocked(SQ, a, b, NULL, n, 0.0, NULL, NULL, NULL);
}

void st_sum_stream_init(struct st_sum_stream *s)
{
    memset(s, 0, sizeof *s);
}

void st_sum_stream_sq_diff(struct st_sum_stream *s, const float *a, const float *b, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t room = (size_t)ST_PAR_BLOCK - s->in_block, len = n - i < room ? n - i : room;
        /* Entry k of the block goes to lane k % LANES, as in block_sq. */
        for (size_t k = 0; k < len; k++) {
            double d = (double)a[i + k] - (double)b[i + k];
            s->lane[(s->in_block + k) % LANES] += d * d;
        }
        s->in_block += len;
        i += len;
        if (s->in_block == (size_t)ST_PAR_BLOCK) {
            s->total += combine(s->lane);
            memset(s->lane, 0, sizeof s->lane);
            s->in_block = 0;
        }
    }
}

double st_sum_stream_value(const struct st_sum_stream *s)
{
    /* One block alone is its combined lanes (0 + x is x); more are added in order. */
    return s->in_block > 0 ? s->total + combine(s->lane) : s->total;
}
