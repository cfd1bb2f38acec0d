/* dense.c: register-blocked products for narrow dense layers (see dense.h).
 *
 * Written with GCC's generic vectors: a vec is 16 floats, lowered to one
 * AVX-512 register, two AVX2 registers or four SSE registers by each clone
 * that target_clones builds, so every lane computes the same thing on every
 * CPU. The blocked helpers take their block sizes as constants and are
 * inlined, so each block shape compiles to straight-line code. */
#include "dense.h"

#include <string.h>

typedef float vec __attribute__((vector_size(ST_DENSE_LANES * sizeof(float))));
typedef int ivec __attribute__((vector_size(ST_DENSE_LANES * sizeof(int))));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif
#define INLINE static inline __attribute__((always_inline))
/* Block loops have constant trip counts once inlined: unroll them fully so
 * the accumulators live in registers. */
#define UNROLL _Pragma("GCC unroll 16")

#define RB 4 /* output rows per block */
#define VB 6 /* vectors of batch per block */

INLINE vec load(const float *p)
{
    vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

INLINE void store(float *p, vec v)
{
    memcpy(p, &v, sizeof v);
}

INLINE vec splat(float s)
{
    vec v = { 0 };
    return v + s;
}

/* Lanes 0..n-1 of p, zeros after. */
INLINE vec load_part(const float *p, int n)
{
    vec v = { 0 };
    memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
}

/* Pairwise: lane i + lane i+8, then +4, +2, +1 (as four vector steps). */
INLINE float hsum(vec v)
{
    v += __builtin_shuffle(v, (ivec){ 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15 });
    v += __builtin_shuffle(v, (ivec){ 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7 });
    v += __builtin_shuffle(v, (ivec){ 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3 });
    v += __builtin_shuffle(v, (ivec){ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 });
    return v[0];
}

/* v where z > 0, else 0 (C has no vector ?:, so a mask). */
INLINE vec where_pos(vec z, vec v)
{
    vec zero = { 0 };
    return (vec)((ivec)v & (z > zero));
}

long st_dense_ld(long B)
{
    return (B + ST_DENSE_LANES - 1) / ST_DENSE_LANES * ST_DENSE_LANES;
}

/* out[r, c..] = sum_k A(r, k) * x[k, c..] for R rows and V vectors of columns,
 * A(r, k) = A[r * rs + k * ks]. Returns the sums in acc. */
INLINE void block_sum(vec acc[RB][VB], const float *A, long rs, long ks, const float *x, long ld,
                      int n_k, int R, int V)
{
    UNROLL
    for (int r = 0; r < R; r++)
        UNROLL
        for (int v = 0; v < V; v++)
            acc[r][v] = (vec){ 0 };
    for (int k = 0; k < n_k; k++) {
        vec xv[VB];
        UNROLL
        for (int v = 0; v < V; v++)
            xv[v] = load(x + k * ld + v * ST_DENSE_LANES);
        UNROLL
        for (int r = 0; r < R; r++) {
            vec a = splat(A[r * rs + k * ks]);
            UNROLL
            for (int v = 0; v < V; v++)
                acc[r][v] += a * xv[v];
        }
    }
}

INLINE void forward_block(float *z, float *h, const float *x, const float *W, const float *b,
                          int in, long ld, int relu, int R, int V)
{
    vec acc[RB][VB];
    block_sum(acc, W, in, 1, x, ld, in, R, V);
    UNROLL
    for (int r = 0; r < R; r++) {
        vec bv = splat(b[r]);
        UNROLL
        for (int v = 0; v < V; v++) {
            vec zv = acc[r][v] + bv;
            if (relu)
                store(h + r * ld + v * ST_DENSE_LANES, where_pos(zv, zv));
            else
                store(z + r * ld + v * ST_DENSE_LANES, zv);
        }
    }
}

/* Every output row over V vectors of columns: the columns' inputs stay in
 * L1 while all output rows use them. */
INLINE void forward_cols(float *z, float *h, const float *x, const float *W, const float *b,
                         int in, int out, long ld, int relu, int V)
{
    int j = 0;
    for (; j + RB <= out; j += RB)
        forward_block(z + j * ld, h + j * ld, x, W + (long)j * in, b + j, in, ld, relu, RB, V);
    for (; j < out; j++)
        forward_block(z + j * ld, h + j * ld, x, W + (long)j * in, b + j, in, ld, relu, 1, V);
}

CLONES
void st_dense_forward(float *z, float *h, const float *x, const float *W, const float *b, int B,
                      int in, int out, long ld, enum st_act act)
{
    long n_vec = st_dense_ld(B) / ST_DENSE_LANES;
    int relu = act == ST_ACT_RELU;
    long c = 0;

    for (; c + VB <= n_vec; c += VB) {
        long o = c * ST_DENSE_LANES;
        forward_cols(z + o, h + o, x + o, W, b, in, out, ld, relu, VB);
    }
    for (; c < n_vec; c++) {
        long o = c * ST_DENSE_LANES;
        forward_cols(z + o, h + o, x + o, W, b, in, out, ld, relu, 1);
    }
    if (!relu && act != ST_ACT_LINEAR)
        for (long i = 0; i < out * ld; i++)
            h[i] = st_act_value(z[i], act);
}

/* One vector of columns (n of them valid) into the accumulators. */
INLINE void grad_w_chunk(vec acc[RB][RB], vec sum[RB], const float *dz, const float *x, long ld,
                         int with_db, int n, int R, int K)
{
    vec xv[RB];
    UNROLL
    for (int k = 0; k < K; k++)
        xv[k] = n == ST_DENSE_LANES ? load(x + k * ld) : load_part(x + k * ld, n);
    UNROLL
    for (int r = 0; r < R; r++) {
        vec d = n == ST_DENSE_LANES ? load(dz + r * ld) : load_part(dz + r * ld, n);
        if (with_db)
            sum[r] += d;
        UNROLL
        for (int k = 0; k < K; k++)
            acc[r][k] += d * xv[k];
    }
}

/* dW[r, k] += sum_c dz[r, c] x[k, c] for R rows of dz and K rows of x (K may
 * be 0), and db[r] += sum_c dz[r, c] when db is not NULL: separate
 * accumulators, so the chains of dependent additions run side by side. */
INLINE void grad_w_block(float *dW, float *db, const float *dz, const float *x, int B, int in,
                         long ld, int R, int K, int with_db)
{
    vec acc[RB][RB], sum[RB];
    long c = 0;
    UNROLL
    for (int r = 0; r < R; r++) {
        sum[r] = (vec){ 0 };
        UNROLL
        for (int k = 0; k < K; k++)
            acc[r][k] = (vec){ 0 };
    }
    for (; c + ST_DENSE_LANES <= B; c += ST_DENSE_LANES)
        grad_w_chunk(acc, sum, dz + c, x + c, ld, with_db, ST_DENSE_LANES, R, K);
    if (c < B)
        grad_w_chunk(acc, sum, dz + c, x + c, ld, with_db, (int)(B - c), R, K);
    UNROLL
    for (int r = 0; r < R; r++) {
        if (with_db)
            db[r] += hsum(sum[r]);
        UNROLL
        for (int k = 0; k < K; k++)
            dW[(long)r * in + k] += hsum(acc[r][k]);
    }
}

/* R rows of dz against every row of x; db rides along with the first block. */
INLINE void grad_w_rows(float *dW, float *db, const float *dz, const float *x, int B, int in,
                        long ld, int R)
{
    int k = 0;
    if (!dW) {
        grad_w_block(NULL, db, dz, x, B, in, ld, R, 0, 1);
        return;
    }
    /* The bias sums ride along with the first block (a constant flag, so
     * each variant compiles without a test in its loop). */
    if (db && in >= RB) {
        grad_w_block(dW, db, dz, x, B, in, ld, R, RB, 1);
        k = RB;
    } else if (db) {
        grad_w_block(dW, db, dz, x, B, in, ld, R, 1, 1);
        k = 1;
    }
    for (; k + RB <= in; k += RB)
        grad_w_block(dW + k, NULL, dz, x + k * ld, B, in, ld, R, RB, 0);
    for (; k < in; k++)
        grad_w_block(dW + k, NULL, dz, x + k * ld, B, in, ld, R, 1, 0);
}

CLONES
void st_dense_backward_w(float *dW, float *db, const float *dz, const float *x, int B, int in,
                         int out, long ld)
{
    int j = 0;

    if (!dW && !db)
        return;
    for (; j + RB <= out; j += RB)
        grad_w_rows(dW ? dW + (long)j * in : NULL, db ? db + j : NULL, dz + j * ld, x, B, in, ld,
                    RB);
    for (; j < out; j++)
        grad_w_rows(dW ? dW + (long)j * in : NULL, db ? db + j : NULL, dz + j * ld, x, B, in, ld,
                    1);
}

INLINE void backward_x_block(float *dzp, const float *dz, const float *W, const float *zp, int in,
                             int out, long ld, int relu, int R, int V)
{
    vec acc[RB][VB];
    /* dh[k, c] = sum_j W[j, k] dz[j, c]: rows k of W^T are columns of W. */
    block_sum(acc, W, 1, in, dz, ld, out, R, V);
    UNROLL
    for (int r = 0; r < R; r++)
        UNROLL
        for (int v = 0; v < V; v++) {
            long o = r * ld + v * ST_DENSE_LANES;
            store(dzp + o, relu ? where_pos(load(zp + o), acc[r][v]) : acc[r][v]);
        }
}

/* Every input row over V vectors of columns (dz's columns stay in L1). */
INLINE void backward_x_cols(float *dzp, const float *dz, const float *W, const float *zp, int in,
                            int out, long ld, int relu, int V)
{
    int k = 0;
    for (; k + RB <= in; k += RB)
        backward_x_block(dzp + k * ld, dz, W + k, zp + k * ld, in, out, ld, relu, RB, V);
    for (; k < in; k++)
        backward_x_block(dzp + k * ld, dz, W + k, zp + k * ld, in, out, ld, relu, 1, V);
}

CLONES
void st_dense_backward_x(float *dzp, const float *dz, const float *W, const float *zp, int B,
                         int in, int out, long ld, enum st_act act)
{
    long n_vec = st_dense_ld(B) / ST_DENSE_LANES;
    int relu = act == ST_ACT_RELU;
    long c = 0;

    for (; c + VB <= n_vec; c += VB) {
        long o = c * ST_DENSE_LANES;
        backward_x_cols(dzp + o, dz + o, W, zp + o, in, out, ld, relu, VB);
    }
    for (; c < n_vec; c++) {
        long o = c * ST_DENSE_LANES;
        backward_x_cols(dzp + o, dz + o, W, zp + o, in, out, ld, relu, 1);
    }
    if (!relu && act != ST_ACT_LINEAR)
        st_act_backward(dzp, dzp, zp, in * ld, act);
}
