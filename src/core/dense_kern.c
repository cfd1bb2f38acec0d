/* dense_kern.c: register-blocked products for narrow dense layers (see
 * dense.h), compiled once per instruction set (ST_DENSE_ISA, set by the
 * build: v4 = AVX-512, v3 = AVX2 + FMA, base = the plain target); dense.c
 * picks the best the CPU runs.
 *
 * A vec is ST_DENSE_LANES = 16 floats, held as 16 / NV native vectors of NV
 * floats (one AVX-512 register, two AVX2 or four SSE registers), and every
 * lane computes the same operations in the same order on every instruction
 * set; only the block sizes, chosen so the accumulators fit the register
 * file, differ. The blocked helpers take their block sizes as constants and
 * are inlined, so each block shape compiles to straight-line code. */
#include "dense.h"
#include "dense_isa.h"

#include <string.h>

#if defined(__AVX512F__)
#define NV 16
#define RB 4 /* output rows per block (forward, input gradient) */
#define VB 6 /* vectors of batch per block */
#define GR 4 /* weight gradient: rows of dz per block */
#define GK 4 /* and rows of x */
#elif defined(__AVX2__)
#define NV 8
#define RB 3
#define VB 2
#define GR 2
#define GK 2
#else
#define NV 4
#define RB 2
#define VB 1
#define GR 1
#define GK 2
#endif
#define NP (ST_DENSE_LANES / NV) /* native vectors per vec */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(f) CAT(f, CAT(_, ST_DENSE_ISA))

typedef float nvec __attribute__((vector_size(NV * sizeof(float))));
typedef int nivec __attribute__((vector_size(NV * sizeof(int))));
typedef struct {
    nvec p[NP];
} vec;

#define INLINE static inline __attribute__((always_inline))
/* Block loops have constant trip counts once inlined: unroll them fully so
 * the accumulators live in registers. */
#define UNROLL _Pragma("GCC unroll 16")

INLINE vec zero(void)
{
    vec v;
    UNROLL
    for (int i = 0; i < NP; i++)
        v.p[i] = (nvec){ 0 };
    return v;
}

INLINE vec load(const float *s)
{
    vec v;
    UNROLL
    for (int i = 0; i < NP; i++)
        memcpy(&v.p[i], s + i * NV, sizeof v.p[i]);
    return v;
}

INLINE void store(float *d, vec v)
{
    UNROLL
    for (int i = 0; i < NP; i++)
        memcpy(d + i * NV, &v.p[i], sizeof v.p[i]);
}

/* Lanes 0..n-1 of s, zeros after. */
INLINE vec load_part(const float *s, int n)
{
    float t[ST_DENSE_LANES] = { 0 };
    memcpy(t, s, (size_t)n * sizeof(float));
    return load(t);
}

INLINE vec splat(float s)
{
    vec v;
    UNROLL
    for (int i = 0; i < NP; i++)
        v.p[i] = (nvec){ 0 } + s;
    return v;
}

INLINE vec add(vec a, vec b)
{
    UNROLL
    for (int i = 0; i < NP; i++)
        a.p[i] += b.p[i];
    return a;
}

/* acc + a * b, lane by lane (one fused multiply-add where the target has it) */
INLINE vec muladd(vec acc, vec a, vec b)
{
    UNROLL
    for (int i = 0; i < NP; i++)
        acc.p[i] += a.p[i] * b.p[i];
    return acc;
}

/* v where z > 0, else 0 (C has no vector ?:, so a mask). */
INLINE vec where_pos(vec z, vec v)
{
    UNROLL
    for (int i = 0; i < NP; i++)
        v.p[i] = (nvec)((nivec)v.p[i] & (z.p[i] > (nvec){ 0 }));
    return v;
}

/* Pairwise over the 16 lanes: lane i + lane i+8, then +4, +2, +1. The first
 * steps pair whole native vectors; the rest shuffle within one. */
INLINE float hsum(vec v)
{
    UNROLL
    for (int m = NP / 2; m >= 1; m /= 2)
        UNROLL
        for (int i = 0; i < m; i++)
            v.p[i] += v.p[i + m];
    nvec t = v.p[0];
#if NV == 16
    t += __builtin_shufflevector(t, t, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    t += __builtin_shufflevector(t, t, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7);
    t += __builtin_shufflevector(t, t, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    t += __builtin_shufflevector(t, t, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
#elif NV == 8
    t += __builtin_shufflevector(t, t, 4, 5, 6, 7, 4, 5, 6, 7);
    t += __builtin_shufflevector(t, t, 2, 3, 2, 3, 2, 3, 2, 3);
    t += __builtin_shufflevector(t, t, 1, 1, 1, 1, 1, 1, 1, 1);
#else
    t += __builtin_shufflevector(t, t, 2, 3, 2, 3);
    t += __builtin_shufflevector(t, t, 1, 1, 1, 1);
#endif
    return t[0];
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
            acc[r][v] = zero();
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
                acc[r][v] = muladd(acc[r][v], a, xv[v]);
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
            vec zv = add(acc[r][v], bv);
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

void NAME(st_dense_forward)(float *z, float *h, const float *x, const float *W, const float *b, int B,
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
INLINE void grad_w_chunk(vec acc[GR][GK], vec sum[GR], const float *dz, const float *x, long ld,
                         int with_db, int n, int R, int K)
{
    vec xv[GK];
    UNROLL
    for (int k = 0; k < K; k++)
        xv[k] = n == ST_DENSE_LANES ? load(x + k * ld) : load_part(x + k * ld, n);
    UNROLL
    for (int r = 0; r < R; r++) {
        vec d = n == ST_DENSE_LANES ? load(dz + r * ld) : load_part(dz + r * ld, n);
        if (with_db)
            sum[r] = add(sum[r], d);
        UNROLL
        for (int k = 0; k < K; k++)
            acc[r][k] = muladd(acc[r][k], d, xv[k]);
    }
}

/* dW[r, k] += sum_c dz[r, c] x[k, c] for R rows of dz and K rows of x (K may
 * be 0), and db[r] += sum_c dz[r, c] when db is not NULL: separate
 * accumulators, so the chains of dependent additions run side by side. */
INLINE void grad_w_block(float *dW, float *db, const float *dz, const float *x, int B, int in,
                         long ld, int R, int K, int with_db)
{
    vec acc[GR][GK], sum[GR];
    long c = 0;
    UNROLL
    for (int r = 0; r < R; r++) {
        sum[r] = zero();
        UNROLL
        for (int k = 0; k < K; k++)
            acc[r][k] = zero();
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
    if (db && in >= GK) {
        grad_w_block(dW, db, dz, x, B, in, ld, R, GK, 1);
        k = GK;
    } else if (db) {
        grad_w_block(dW, db, dz, x, B, in, ld, R, 1, 1);
        k = 1;
    }
    for (; k + GK <= in; k += GK)
        grad_w_block(dW + k, NULL, dz, x + k * ld, B, in, ld, R, GK, 0);
    for (; k < in; k++)
        grad_w_block(dW + k, NULL, dz, x + k * ld, B, in, ld, R, 1, 0);
}

void NAME(st_dense_backward_w)(float *dW, float *db, const float *dz, const float *x, int B, int in,
                         int out, long ld)
{
    int j = 0;

    if (!dW && !db)
        return;
    for (; j + GR <= out; j += GR)
        grad_w_rows(dW ? dW + (long)j * in : NULL, db ? db + j : NULL, dz + j * ld, x, B, in, ld,
                    GR);
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

void NAME(st_dense_backward_x)(float *dzp, const float *dz, const float *W, const float *zp, int B,
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
