/* sums.h: sums over the difference of two float arrays, in double.
 * Eight interleaved partial sums (lane j takes i = j, j+8, ...) added
 * pairwise at the end: a fixed order, so the result is the same on every run,
 * and independent chains, so the loop is not bound by the latency of one.
 * Longer arrays are cut into blocks of ST_PAR_BLOCK entries (par.h), summed
 * that way on the run's threads, and the block sums added in block order:
 * the same bits whatever the number of threads. */
#ifndef ST_SUMS_H
#define ST_SUMS_H

#include <stddef.h>

/* sum_i |a_i - b_i| */
double st_sum_abs_diff(const float *a, const float *b, size_t n);

/* The same sum as st_sum_abs_diff, and in one pass the counts of entries
 * with |a_i - b_i| > eps (*above) and with a_i - b_i == 0 in float (*equal). */
double st_sum_abs_diff_count(const float *a, const float *b, size_t n, double eps,
                             size_t *above, size_t *equal);

/* st_sum_abs_diff_count of a and b and, when c is not NULL, in the same
 * pass over a, *sum_ac = st_sum_abs_diff(a, c, n), to the same bits. */
double st_sum_abs_diff_count2(const float *a, const float *b, const float *c, size_t n,
                              double eps, size_t *above, size_t *equal, double *sum_ac);

/* sum_i (a_i - b_i)^2 */
double st_sum_sq_diff(const float *a, const float *b, size_t n);

/* The same sum over arrays that come in pieces: after st_sum_stream_init,
 * st_sum_stream_sq_diff on consecutive pieces, st_sum_stream_value is exactly
 * st_sum_sq_diff of the pieces joined (the same lanes, blocks and order). */
struct st_sum_stream {
    double lane[8];
    double total;    /* of the finished blocks, in block order */
    size_t in_block; /* entries of the current block so far */
};
void st_sum_stream_init(struct st_sum_stream *s);
void st_sum_stream_sq_diff(struct st_sum_stream *s, const float *a, const float *b, size_t n);
double st_sum_stream_value(const struct st_sum_stream *s);

#endif
