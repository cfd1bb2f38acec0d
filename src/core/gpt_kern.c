/* gpt_kern.c: the GPT operations written as loops for the compiler to
 * vectorize: causal multi-head attention and GELU_tanh, both on an exp of
 * their own (glibc's expf and tanhf are scalar calls). Compiled once per
 * instruction set (ST_GPT_ISA, set by the build as for dense_kern.c);
 * gpt_ops.c calls the build dense.c picked. Attention runs one task per
 * sequence and head, GELU one per block of entries (par.h): every task
 * writes its own outputs, so results do not depend on the thread count. */
#include "gpt_isa.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "par.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(f) CAT(f, CAT(_, ST_GPT_ISA))

#define INLINE static inline __attribute__((always_inline))
/* Loops over a fixed few vectors: unrolled, so their sums live in registers. */
#define UNROLL _Pragma("GCC unroll 4")

/* The sum of 8 partial sums, added pairwise in a fixed order. */
INLINE float lanes(const float acc[8])
{
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

/* e^x within about 2 ulp for x in [-80, 80] (clamped there, so no result
 * is subnormal, and e^80 + 1 has an inverse that is not): x = n ln2 + r
 * with n whole and |r| <= ln2/2 (ln2 in two parts, so n ln2 is exact to
 * float), e^r by its Taylor polynomial of degree 6 (remainder below
 * r^7/7! = 1.2e-7), 2^n from the exponent bits. Branch-free, so a loop of
 * it vectorizes. */
INLINE float vexp(float x)
{
    x = x < -80.0f ? -80.0f : x;
    x = x > 80.0f ? 80.0f : x;
    /* 1.5 * 2^23: adding and subtracting it rounds to the nearest integer. */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693145751953125f;
    r = r - n * 1.428606820309417232e-6f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    union {
        int i;
        float f;
    } two_n = { .i = ((int)n + 127) << 23 };
    return p * two_n.f;
}

/* sqrt(2/pi) and the cubic's coefficient of GPT-2's GELU. */
#define GELU_K 0.7978845608028654f
#define GELU_A 0.044715f

/* GELU_tanh(z) = z/2 (1 + tanh u) = z sigma(2u), u = K (z + A z^3), with
 * sigma(2u) = e / (1 + e), e = e^{2u}, and 1 - sigma(2u) = 1 / (1 + e):
 * both to a few ulps of their own size, where 1 + tanh u from a float tanh
 * near -1 would keep none. */
struct gelu {
    float *out;
    const float *x, *dout;
};

static void gelu_fwd_range(void *ctx, size_t lo, size_t hi)
{
    const struct gelu *g = ctx;
    float *restrict out = g->out;
    const float *x = g->x;
    for (size_t i = lo; i < hi; i++) {
        float z = x[i];
        float e = vexp(2.0f * GELU_K * (z + GELU_A * z * z * z));
        out[i] = z * (e / (1.0f + e));
    }
}

void NAME(st_gpt_gelu_forward)(float *out, const float *x, long n)
{
    struct gelu g = { out, x, NULL };
    st_par_range((size_t)n, gelu_fwd_range, &g);
}

/* d/dz [z sigma(2u)] = sigma + z 2 sigma (1 - sigma) K (1 + 3 A z^2)
 *                    = sigma (1 + 2 K z (1 + 3 A z^2) (1 - sigma)). */
static void gelu_bwd_range(void *ctx, size_t lo, size_t hi)
{
    const struct gelu *g = ctx;
    float *restrict dx = g->out;
    const float *restrict x = g->x, *restrict dout = g->dout;
    for (size_t i = lo; i < hi; i++) {
        float z = x[i];
        float e = vexp(2.0f * GELU_K * (z + GELU_A * z * z * z));
        float w = 1.0f / (1.0f + e); /* 1 - sigma */
        float d = e * w * (1.0f + 2.0f * GELU_K * z * (1.0f + 3.0f * GELU_A * z * z) * w);
        dx[i] += dout[i] * d;
    }
}

void NAME(st_gpt_gelu_backward)(float *dx, const float *dout, const float *x, long n)
{
    struct gelu g = { dx, x, dout };
    st_par_range((size_t)n, gelu_bwd_range, &g);
}

/* ---- attention ---- */

/* a[n] . b[n] in 8 interleaved partial sums, added pairwise, then the
 * tail: a fixed order the compiler can vectorize. */
INLINE float dot(const float *a, const float *b, int n)
{
    float acc[8] = { 0 };
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += a[i + j] * b[i + j];
    float s = lanes(acc);
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Eight floats in vector registers (two on SSE2, half of one on AVX-512),
 * loaded and stored unaligned. */
typedef float v8 __attribute__((vector_size(8 * sizeof(float))));

INLINE v8 load8(const float *s)
{
    v8 v;
    memcpy(&v, s, sizeof v);
    return v;
}

INLINE void store8(float *d, v8 v)
{
    memcpy(d, &v, sizeof v);
}

/* c[0..3] (32 floats) = sum over k < K of w[k] * m[k*ld .. k*ld + 31]: even
 * and odd k in their own sums, eight independent chains of multiply-adds
 * that keep the FMA units busy. */
INLINE void wsum32(v8 c[4], const float *w, const float *m, size_t ld, int K)
{
    v8 d[4] = { { 0 } };
    UNROLL
    for (int j = 0; j < 4; j++)
        c[j] = (v8){ 0 };
    int k = 0;
    for (; k + 2 <= K; k += 2) {
        const float *r = m + (size_t)k * ld, *r1 = r + ld;
        v8 wk = (v8){ 0 } + w[k], wl = (v8){ 0 } + w[k + 1];
        UNROLL
        for (int j = 0; j < 4; j++) {
            c[j] += wk * load8(r + 8 * j);
            d[j] += wl * load8(r1 + 8 * j);
        }
    }
    if (k < K) {
        UNROLL
        for (int j = 0; j < 4; j++)
            c[j] += ((v8){ 0 } + w[k]) * load8(m + (size_t)k * ld + 8 * j);
    }
    UNROLL
    for (int j = 0; j < 4; j++)
        c[j] += d[j];
}

/* The same for 8 floats. */
INLINE v8 wsum8(const float *w, const float *m, size_t ld, int K)
{
    v8 c = { 0 }, d = { 0 };
    int k = 0;
    for (; k + 2 <= K; k += 2) {
        c += ((v8){ 0 } + w[k]) * load8(m + (size_t)k * ld);
        d += ((v8){ 0 } + w[k + 1]) * load8(m + (size_t)(k + 1) * ld);
    }
    if (k < K)
        c += ((v8){ 0 } + w[k]) * load8(m + (size_t)k * ld);
    return c + d;
}

/* And for one. */
INLINE float wsum1(const float *w, const float *m, size_t ld, int K)
{
    float c = 0.0f;
    for (int k = 0; k < K; k++)
        c += w[k] * m[(size_t)k * ld];
    return c;
}

/* a[s] = sum over i < hs of q[i] * mT[i*T + s], for s < n, and perhaps
 * for some s from n up to T (a has T entries; the callers overwrite those):
 * the products of one row q with the rows of a head's keys (or values) held
 * transposed, mT[hs, T], so the loops run along s. 32 positions at a time,
 * then 8 (the last block of 32 or 8 reaching past n where T allows: cheaper
 * than the scalar tail), then one. */
static void row_times_t(float *restrict a, const float *restrict q, const float *restrict mT,
                        int hs, int T, int n)
{
    int s = 0;
    for (; s < n && s + 32 <= T; s += 32) {
        v8 c[4];
        wsum32(c, q, mT + s, (size_t)T, hs);
        UNROLL
        for (int j = 0; j < 4; j++)
            store8(a + s + 8 * j, c[j]);
    }
    for (; s < n && s + 8 <= T; s += 8)
        store8(a + s, wsum8(q, mT + s, (size_t)T, hs));
    for (; s < n; s++)
        a[s] = wsum1(q, mT + s, (size_t)T, hs);
}

/* The largest of p[0..n-1] (n >= 1), in 8 lanes then across them. */
INLINE float max_of(const float *p, int n)
{
    float m[8];
    for (int j = 0; j < 8; j++)
        m[j] = p[0];
    int s = 0;
    for (; s + 8 <= n; s += 8)
        for (int j = 0; j < 8; j++)
            m[j] = p[s + j] > m[j] ? p[s + j] : m[j];
    for (; s < n; s++)
        m[0] = p[s] > m[0] ? p[s] : m[0];
    for (int j = 1; j < 8; j++)
        m[0] = m[j] > m[0] ? m[j] : m[0];
    return m[0];
}

/* p[0] + ... + p[n-1] in 8 interleaved partial sums, added pairwise. */
INLINE float sum_of(const float *p, int n)
{
    float acc[8] = { 0 };
    int s = 0;
    for (; s + 8 <= n; s += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += p[s + j];
    float sum = lanes(acc);
    for (; s < n; s++)
        sum += p[s];
    return sum;
}

/* o[n] += w0 r0[n] + w1 r1[n] + w2 r2[n] + w3 r3[n] */
INLINE void add4(float *restrict o, float w0, const float *restrict r0, float w1,
                 const float *restrict r1, float w2, const float *restrict r2, float w3,
                 const float *restrict r3, int n)
{
    for (int i = 0; i < n; i++)
        o[i] += w0 * r0[i] + w1 * r1[i] + w2 * r2[i] + w3 * r3[i];
}

/* o[hs] += sum over s < n of w[s] * rows[s*ld .. s*ld + hs - 1]: a weighted
 * sum of rows (values or keys) that sit ld floats apart. 32 channels at a
 * time, then 8, then one. */
static void add_rows(float *restrict o, const float *restrict w, const float *restrict rows,
                     size_t ld, int hs, int n)
{
    int i = 0;
    for (; i + 32 <= hs; i += 32) {
        v8 c[4];
        wsum32(c, w, rows + i, ld, n);
        UNROLL
        for (int j = 0; j < 4; j++)
            store8(o + i + 8 * j, load8(o + i + 8 * j) + c[j]);
    }
    for (; i + 8 <= hs; i += 8)
        store8(o + i, load8(o + i) + wsum8(w, rows + i, ld, n));
    for (; i < hs; i++)
        o[i] += wsum1(w, rows + i, ld, n);
}

/* mT[i*T + s] = rows[s*ld + i] (where mT is not NULL) and m[s*hs + i] = the
 * same (where m is not NULL), for s < T, i < hs: a head's rows out of qkv
 * (3C floats apart, which maps many of them onto the same cache sets) into
 * scratch, transposed or as they are. */
static void gather(float *restrict mT, float *restrict m, const float *restrict rows, size_t ld,
                   int hs, int T)
{
    for (int s = 0; s < T; s++) {
        const float *r = rows + (size_t)s * ld;
        if (mT)
            for (int i = 0; i < hs; i++)
                mT[(size_t)i * T + s] = r[i];
        if (m)
            memcpy(m + (size_t)s * hs, r, sizeof(float) * (size_t)hs);
    }
}

struct attn {
    float *out, *att, *dqkv, *scratch;
    const float *qkv, *dout, *fwd_out, *p;
    int T, C, H;
};

/* Sequence b, head h (task bh = b*H + h). */
static void attn_fwd_task(void *ctx, long bh)
{
    const struct attn *a = ctx;
    int T = a->T, C = a->C, H = a->H, hs = C / H;
    long b = bh / H, h = bh % H;
    size_t C3 = 3 * (size_t)C;
    const float *q0 = a->qkv + (size_t)b * T * C3 + (size_t)h * hs; /* q of position 0 */
    float *kT = a->scratch + (size_t)bh * ST_GPT_ATTN_SCRATCH(T, hs);
    float *vc = kT + (size_t)hs * T; /* [T, hs] */
    float scale = 1.0f / sqrtf((float)hs);
    gather(kT, NULL, q0 + C, C3, hs, T);
    gather(NULL, vc, q0 + 2 * (size_t)C, C3, hs, T);
    for (int t = 0; t < T; t++) {
        float *p = a->att + ((size_t)bh * T + t) * T; /* [T] */
        float *o = a->out + ((size_t)b * T + t) * C + (size_t)h * hs;
        int n = t + 1;
        /* p[s] = softmax over s <= t of q_t . k_s / sqrt(hs), after
         * subtracting the row's largest score (exp never overflows). */
        row_times_t(p, q0 + (size_t)t * C3, kT, hs, T, n);
        float mx = max_of(p, n);
        for (int s = 0; s < n; s++)
            p[s] = vexp((p[s] - mx) * scale);
        float inv = 1.0f / sum_of(p, n);
        for (int s = 0; s < n; s++)
            p[s] *= inv;
        for (int s = n; s < T; s++)
            p[s] = 0.0f;
        /* o = sum over s <= t of p[s] v_s */
        for (int i = 0; i < hs; i++)
            o[i] = 0.0f;
        add_rows(o, p, vc, (size_t)hs, hs, n);
    }
}

void NAME(st_gpt_attention_forward)(float *out, float *att, float *scratch, const float *qkv,
                                    int B, int T, int C, int H)
{
    struct attn a = { .out = out, .att = att, .scratch = scratch, .qkv = qkv,
                      .T = T, .C = C, .H = H };
    st_par_for((long)B * H, attn_fwd_task, &a);
}

/* Queries a pass of the backward one: the keys' and values' gradients
 * take QB terms per load and store of their rows. */
#define QB 4 /* the loop over key positions below names its four rows */

/* Sequence b, head h. With p = att[b, h, t, :] and g = dout_t (this head's
 * channels), for each query position t:
 *   dp_s = g . v_s;  ds_s = p_s (dp_s - g . out_t) / sqrt(hs)   (softmax;
 *   sum_r p_r dp_r = g . out_t);  dq_t += sum_s ds_s k_s;
 * and for each key position s, over the QB queries of the pass:
 *   dk_s += sum_t ds_s(t) q_t;  dv_s += sum_t p_s(t) g_t,
 * with rows of ds and p past their query's position set to 0, so the
 * pass's last query bounds s for all of them. */
static void attn_bwd_task(void *ctx, long bh)
{
    const struct attn *a = ctx;
    int T = a->T, C = a->C, H = a->H, hs = C / H;
    long b = bh / H, h = bh % H;
    size_t C3 = 3 * (size_t)C;
    size_t q_at = (size_t)b * T * C3 + (size_t)h * hs; /* q of position 0 */
    const float *q0 = a->qkv + q_at, *k0 = q0 + C, *v0 = k0 + C;
    float *dq0 = a->dqkv + q_at, *dk0 = dq0 + C, *dv0 = dk0 + C;
    float *vT = a->scratch + (size_t)bh * ST_GPT_ATTN_SCRATCH(T, hs);
    float *kc = vT + (size_t)hs * T, *dk = kc + (size_t)hs * T, *dv = dk + (size_t)hs * T;
    float *ds = dv + (size_t)hs * T, *pr = ds + QB * (size_t)T; /* [QB, T] each */
    float scale = 1.0f / sqrtf((float)hs);
    gather(vT, NULL, v0, C3, hs, T);
    gather(NULL, kc, k0, C3, hs, T);
    memset(dk, 0, 2 * sizeof(float) * (size_t)hs * T); /* dk and dv */
    for (int t0 = 0; t0 < T; t0 += QB) {
        int nq = T - t0 < QB ? T - t0 : QB, n = t0 + nq; /* keys s < n */
        const float *q[QB], *g[QB];
        for (int j = 0; j < QB; j++) {
            int t = t0 + (j < nq ? j : 0);
            float *dsj = ds + (size_t)j * T, *pj = pr + (size_t)j * T;
            q[j] = q0 + (size_t)t * C3;
            g[j] = a->dout + ((size_t)b * T + t) * C + (size_t)h * hs;
            if (j >= nq) {
                memset(dsj, 0, sizeof(float) * (size_t)n);
                memset(pj, 0, sizeof(float) * (size_t)n);
                continue;
            }
            const float *p = a->p + ((size_t)bh * T + t) * T;
            float pdp = dot(g[j], a->fwd_out + ((size_t)b * T + t) * C + (size_t)h * hs, hs);
            row_times_t(dsj, g[j], vT, hs, T, t + 1);
            for (int s = 0; s <= t; s++) {
                dsj[s] = p[s] * (dsj[s] - pdp) * scale;
                pj[s] = p[s];
            }
            for (int s = t + 1; s < n; s++)
                dsj[s] = pj[s] = 0.0f;
            add_rows(dq0 + (size_t)t * C3, dsj, kc, (size_t)hs, hs, t + 1);
        }
        for (int s = 0; s < n; s++) {
            float *dks = dk + (size_t)s * hs, *dvs = dv + (size_t)s * hs;
            add4(dks, ds[s], q[0], ds[T + s], q[1], ds[2 * T + s], q[2], ds[3 * T + s], q[3], hs);
            add4(dvs, pr[s], g[0], pr[T + s], g[1], pr[2 * T + s], g[2], pr[3 * T + s], g[3], hs);
        }
    }
    /* The keys' and values' gradients into dqkv's rows. */
    for (int s = 0; s < T; s++) {
        float *dks = dk0 + (size_t)s * C3, *dvs = dv0 + (size_t)s * C3;
        for (int i = 0; i < hs; i++) {
            dks[i] += dk[(size_t)s * hs + i];
            dvs[i] += dv[(size_t)s * hs + i];
        }
    }
}

void NAME(st_gpt_attention_backward)(float *dqkv, float *scratch, const float *dout,
                                     const float *qkv, const float *att, const float *out, int B,
                                     int T, int C, int H)
{
    struct attn a = { .dqkv = dqkv, .scratch = scratch, .qkv = qkv, .dout = dout,
                      .fwd_out = out, .p = att, .T = T, .C = C, .H = H };
    st_par_for((long)B * H, attn_bwd_task, &a);
}

/* ---- LayerNorm ---- */

struct ln {
    float *out, *mean, *rstd;
    const float *x, *w, *b;
    int N, C;
};

/* Rows of a LayerNorm task: a fixed cut, so results do not depend on the
 * number of threads (each row is computed alone anyway). */
#define LN_ROWS 64

/* The mean of the row, then the mean of squared deviations from it (two
 * passes: no cancellation as in E[x^2] - E[x]^2), divided by C as
 * PyTorch's LayerNorm does, not C - 1; each sum in 8 lanes. */
static void ln_fwd_task(void *ctx, long k)
{
    const struct ln *l = ctx;
    int C = l->C, hi = (int)(k + 1) * LN_ROWS < l->N ? (int)(k + 1) * LN_ROWS : l->N;
    for (int n = (int)k * LN_ROWS; n < hi; n++) {
        const float *xr = l->x + (size_t)n * C; /* [C] */
        float *o = l->out + (size_t)n * C;      /* [C] (may be xr) */
        float m = sum_of(xr, C) / (float)C;
        float acc[8] = { 0 };
        int c = 0;
        for (; c + 8 <= C; c += 8)
            for (int j = 0; j < 8; j++)
                acc[j] += (xr[c + j] - m) * (xr[c + j] - m);
        float v = lanes(acc);
        for (; c < C; c++)
            v += (xr[c] - m) * (xr[c] - m);
        v /= (float)C;
        float r = 1.0f / sqrtf(v + 1e-5f);
        for (c = 0; c < C; c++)
            o[c] = (xr[c] - m) * r * l->w[c] + l->b[c];
        l->mean[n] = m;
        l->rstd[n] = r;
    }
}

void NAME(st_gpt_layernorm_forward)(float *out, float *mean, float *rstd, const float *x,
                                    const float *w, const float *b, int N, int C)
{
    struct ln l = { out, mean, rstd, x, w, b, N, C };
    st_par_for((N + LN_ROWS - 1) / LN_ROWS, ln_fwd_task, &l);
}

/* With xhat = (x - mean) * rstd and g = dout * w, the row's input gradient is
 *   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),
 * the two means over the C channels coming from the dependence of mean and
 * rstd on every x of the row. Rows in order: dw and db add up over them. */
void NAME(st_gpt_layernorm_backward)(float *dx, float *dw, float *db, const float *dout,
                                     const float *x, const float *w, const float *mean,
                                     const float *rstd, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *restrict xr = x + (size_t)n * C;   /* [C] */
        const float *restrict d = dout + (size_t)n * C; /* [C] */
        float m = mean[n], r = rstd[n];
        if (dw)
            for (int c = 0; c < C; c++)
                dw[c] += d[c] * ((xr[c] - m) * r);
        if (db)
            for (int c = 0; c < C; c++)
                db[c] += d[c];
        if (!dx)
            continue;
        float ag[8] = { 0 }, agx[8] = { 0 };
        int c = 0;
        for (; c + 8 <= C; c += 8)
            for (int j = 0; j < 8; j++) {
                float g = d[c + j] * w[c + j];
                ag[j] += g;
                agx[j] += g * ((xr[c + j] - m) * r);
            }
        float g_mean = lanes(ag), gx_mean = lanes(agx);
        for (; c < C; c++) {
            float g = d[c] * w[c];
            g_mean += g;
            gx_mean += g * ((xr[c] - m) * r);
        }
        g_mean /= (float)C;
        gx_mean /= (float)C;
        float *restrict dxr = dx + (size_t)n * C; /* [C] */
        for (c = 0; c < C; c++)
            dxr[c] += r * (d[c] * w[c] - g_mean - (xr[c] - m) * r * gx_mean);
    }
}
