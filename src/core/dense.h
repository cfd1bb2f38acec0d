/* dense.h: the three products of a dense layer for narrow layers, on
 * feature-major activations: a [n, B] block holds one feature per row, the
 * batch along the row, rows ld floats apart (ld a multiple of ST_DENSE_LANES,
 * at least B rounded up to it). W is [out, in] row-major as in PyTorch.
 *
 * cblas_sgemm is tuned for large matrices; at the seed's 20-wide layers most
 * of its time goes to packing and to clearing C. These kernels stream the
 * batch in 16-float vectors and keep a block of results in registers; they
 * are built once per instruction set (dense_kern.c) and dense.c runs the best.
 *
 * Order of operations, fixed whatever the CPU: each output of a forward or
 * input-gradient product sums its terms in index order (with fused
 * multiply-add where the CPU has it); a weight gradient sums the batch in
 * ST_DENSE_LANES interleaved partial sums (lane i takes columns i, i+16, ...)
 * that are then added pairwise. Padding columns (B..ld-1) are computed by the
 * forward kernels and never read by a sum over the batch. */
#ifndef ST_DENSE_H
#define ST_DENSE_H

#include "act.h"

#define ST_DENSE_LANES 16

/* Columns of a feature-major block for a batch of B. */
long st_dense_ld(long B);

/* z[out, :] = W[out,in] * x[in, :] + b[out], h = act(z). For ST_ACT_RELU only
 * h is written (its backward tests h > 0, true exactly where z > 0); for
 * ST_ACT_LINEAR only z, and h must equal z. */
void st_dense_forward(float *z, float *h, const float *x, const float *W, const float *b,
                      int B, int in, int out, long ld, enum st_act act);

/* dW[out,in] += dz[out, :B] * x[in, :B]^T and db[out] += sum of dz over the
 * batch; either output may be NULL. */
void st_dense_backward_w(float *dW, float *db, const float *dz, const float *x, int B, int in,
                         int out, long ld);

/* dzp[in, :] = (W[out,in]^T * dz[out, :]) * act'(zp), the gradient at the
 * previous layer's pre-activation zp[in, :]; for ST_ACT_RELU pass that
 * layer's output h instead of zp. dzp must not alias dz. */
void st_dense_backward_x(float *dzp, const float *dz, const float *W, const float *zp, int B,
                         int in, int out, long ld, enum st_act act);

#endif
