/* test_gpt_ops.c: every operation of core/gpt_ops.h against a double-precision
 * reference written here: the float forward against the reference's outputs,
 * and the float backward against central differences of the reference's
 * loss = sum(r * out) for a fixed random r (passed to backward as dout), at
 * every coordinate of every input and parameter, on tiny sizes. Also: a
 * second backward adds onto the first, a NULL gradient leaves the others as
 * they were, in-place forms give the same bits, and the attention's causal
 * mask is exact. ST_TEST_VERBOSE=1 prints each check's worst error. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/gpt_isa.h"
#include "core/gpt_ops.h"
#include "core/rng.h"

static int verbose;

/* Sizes an operation's reference reads (each reads the ones it needs). */
struct sizes {
    int B, T, C, H, V, ctx; /* ctx: rows of wpe (>= T) */
    int N, in, out;         /* rows and widths of a linear layer or LayerNorm */
    long n;                 /* elementwise length */
    const int *tok;         /* [B*T] */
};

/* One differentiable input of an operation, at th[off .. off+n-1]. */
struct part {
    const char *name;
    long off, n;
};

/* An operation under test: its double reference maps the packed inputs
 * th[n_th] to the outputs out[n_out]. */
struct op {
    const char *name;
    void (*ref)(double *out, const double *th, const struct sizes *z);
    struct sizes z;
    long n_out, n_th;
    int n_parts;
    struct part p[3];
};

static long add_part(struct op *o, const char *name, long n)
{
    o->p[o->n_parts++] = (struct part){ name, o->n_th, n };
    o->n_th += n;
    return o->n_th - n;
}

static float *fvec(long n)
{
    return calloc((size_t)(n > 0 ? n : 1), sizeof(float));
}

static double *dvec(long n)
{
    return calloc((size_t)(n > 0 ? n : 1), sizeof(double));
}

static void fill(struct st_rng *rng, float *x, long n, double mean, double sd)
{
    st_rng_fill_normal(rng, x, n, mean, sd);
}

static double *to_double(const float *x, long n)
{
    double *d = dvec(n);
    for (long i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

/* |a[i] - b[i]| <= atol + rtol * |b[i]| for every i; prints the first few
 * misses and, when verbose, the worst error as a fraction of its bound. */
static void check_close(const char *op, const char *what, const float *a, const double *b, long n,
                        double atol, double rtol)
{
    int bad = 0;
    double worst = 0, worst_abs = 0;
    for (long i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]), bound = atol + rtol * fabs(b[i]);
        if (!(e <= bound) && bad++ < 5)
            fprintf(stderr, "  %s %s[%ld]: %.9g, reference %.9g\n", op, what, i, (double)a[i],
                    b[i]);
        if (e / bound > worst)
            worst = e / bound;
        if (e > worst_abs)
            worst_abs = e;
    }
    if (verbose)
        printf("%-28s %-10s worst |diff| %.3g, %.3f of the bound\n", op, what, worst_abs, worst);
    CHECK(bad == 0);
}

/* sum(r * ref(th)) */
static double ref_loss(const struct op *o, const double *th, const double *r, double *out)
{
    double l = 0;
    o->ref(out, th, &o->z);
    for (long i = 0; i < o->n_out; i++)
        l += r[i] * out[i];
    return l;
}

/* Central differences, step FD_H: the references are smooth (polynomials,
 * exp, tanh, 1/sqrt of a variance away from 0) with third derivatives of
 * order 1 (up to ~1e4 on LayerNorm's narrow row, whose rstd is ~20), so the
 * truncation error h^2/6 |f'''| is at most ~2e-7 there and ~1e-11 elsewhere,
 * and the rounding error 1e-16 |loss| / h ~1e-10: all below the float
 * backward's own rounding. */
#define FD_H 1e-5

/* The float gradient g[n_th] (packed as th) against central differences of
 * sum(r * ref) at x, coordinate by coordinate. */
static void check_grad(const struct op *o, const float *x, const float *dy, const float *g,
                       double atol, double rtol)
{
    double *th = to_double(x, o->n_th), *r = to_double(dy, o->n_out), *out = dvec(o->n_out);
    double *fd = dvec(o->n_th);
    for (long i = 0; i < o->n_th; i++) {
        double v = th[i];
        th[i] = v + FD_H;
        double lp = ref_loss(o, th, r, out);
        th[i] = v - FD_H;
        double lm = ref_loss(o, th, r, out);
        th[i] = v;
        fd[i] = (lp - lm) / (2 * FD_H);
    }
    for (int k = 0; k < o->n_parts; k++) {
        char what[64];
        snprintf(what, sizeof what, "d%s", o->p[k].name);
        check_close(o->name, what, g + o->p[k].off, fd + o->p[k].off, o->p[k].n, atol, rtol);
    }
    free(th);
    free(r);
    free(out);
    free(fd);
}

/* g2 (a second backward onto g1) is twice g1: the second pass added.
 * Exactly 2 g1 where each entry is one addition; where an entry sums several
 * terms, the second sum starts from g1 and rounds differently, by a few ulps
 * of the terms (all of order 1 here). An overwrite instead of += gives g1. */
static void check_twice(const struct op *o, const float *g1, const float *g2)
{
    int bad = 0;
    for (long i = 0; i < o->n_th; i++)
        bad += !(fabsf(g2[i] - 2.0f * g1[i]) <= 1e-5f * (1.0f + fabsf(g1[i])));
    if (bad)
        fprintf(stderr, "  %s: %d gradients not added onto\n", o->name, bad);
    CHECK(bad == 0);
}

static void check_same(const char *op, const char *what, const float *a, const float *b, long n)
{
    int same = memcmp(a, b, sizeof(float) * (size_t)n) == 0;
    if (!same)
        fprintf(stderr, "  %s: %s differ\n", op, what);
    CHECK(same);
}

/* ---- embedding ---- */

static void embed_ref(double *out, const double *th, const struct sizes *z)
{
    const double *wte = th, *wpe = th + (long)z->V * z->C;
    for (int i = 0; i < z->B * z->T; i++)
        for (int c = 0; c < z->C; c++)
            out[(long)i * z->C + c] = wte[(long)z->tok[i] * z->C + c] +
                                      wpe[(long)(i % z->T) * z->C + c];
}

static void test_embed(int B, int T, int C, int V, int ctx, uint64_t seed)
{
    struct st_rng rng;
    struct op o = { .name = "embed", .ref = embed_ref };
    int *tok = malloc(sizeof(int) * (size_t)(B * T));
    st_rng_seed(&rng, seed, 1);
    for (int i = 0; i < B * T; i++)
        tok[i] = (int)st_rng_below(&rng, (uint64_t)V);
    tok[B * T - 1] = tok[0]; /* a token twice: both rows add into its gradient */
    tok[1] = V - 1;
    o.z = (struct sizes){ .B = B, .T = T, .C = C, .V = V, .ctx = ctx, .tok = tok };
    long wte = add_part(&o, "wte", (long)V * C), wpe = add_part(&o, "wpe", (long)ctx * C);
    o.n_out = (long)B * T * C;
    float *x = fvec(o.n_th), *y = fvec(o.n_out), *dy = fvec(o.n_out);
    float *g = fvec(o.n_th), *g1 = fvec(o.n_th), *g2 = fvec(o.n_th);
    double *th, *ref = dvec(o.n_out);
    fill(&rng, x, o.n_th, 0, 1);
    fill(&rng, dy, o.n_out, 0, 1);
    th = to_double(x, o.n_th);

    st_gpt_embed_forward(y, tok, x + wte, x + wpe, B, T, C);
    o.ref(ref, th, &o.z);
    /* One float addition per output, correctly rounded: within 2^-24 = 5.96e-8 relative. */
    check_close(o.name, "out", y, ref, o.n_out, 0, 6e-8);

    st_gpt_embed_backward(g + wte, g + wpe, dy, tok, B, T, C);
    /* Sums of at most B*T float terms of order 1, each a few ulps. */
    check_grad(&o, x, dy, g, 1e-6, 1e-6);
    memcpy(g1, g, sizeof(float) * (size_t)o.n_th);
    st_gpt_embed_backward(g + wte, g + wpe, dy, tok, B, T, C);
    check_twice(&o, g1, g);
    st_gpt_embed_backward(g2 + wte, NULL, dy, tok, B, T, C);
    st_gpt_embed_backward(NULL, g2 + wpe, dy, tok, B, T, C);
    check_same(o.name, "gradients taken one at a time", g1, g2, o.n_th);

    free(tok);
    free(x);
    free(y);
    free(dy);
    free(g);
    free(g1);
    free(g2);
    free(th);
    free(ref);
}

/* ---- LayerNorm ---- */

/* Row statistics as PyTorch's LayerNorm defines them: mean, and the biased
 * variance (divided by C). */
static void ln_stats(const double *x, int C, double *mean, double *rstd)
{
    double m = 0, v = 0;
    for (int c = 0; c < C; c++)
        m += x[c];
    m /= C;
    for (int c = 0; c < C; c++)
        v += (x[c] - m) * (x[c] - m);
    v /= C;
    *mean = m;
    *rstd = 1 / sqrt(v + 1e-5);
}

static void ln_ref(double *out, const double *th, const struct sizes *z)
{
    const double *x = th, *w = th + (long)z->N * z->C, *b = w + z->C;
    for (int n = 0; n < z->N; n++) {
        double m, s;
        ln_stats(x + (long)n * z->C, z->C, &m, &s);
        for (int c = 0; c < z->C; c++)
            out[(long)n * z->C + c] = (x[(long)n * z->C + c] - m) * s * w[c] + b[c];
    }
}

static void test_layernorm(const struct st_gpt_kernels *k, int N, int C, uint64_t seed)
{
    struct st_rng rng;
    char name[32];
    snprintf(name, sizeof name, "layernorm[%s]", k->isa);
    struct op o = { .name = name, .ref = ln_ref };
    o.z = (struct sizes){ .N = N, .C = C };
    long xo = add_part(&o, "x", (long)N * C), wo = add_part(&o, "w", C), bo = add_part(&o, "b", C);
    o.n_out = (long)N * C;
    float *x = fvec(o.n_th), *y = fvec(o.n_out), *y2 = fvec(o.n_out), *dy = fvec(o.n_out);
    float *mean = fvec(N), *rstd = fvec(N), *g = fvec(o.n_th), *g1 = fvec(o.n_th);
    float *g2 = fvec(o.n_th);
    double *th, *ref = dvec(o.n_out), *rm = dvec(N), *rs = dvec(N);
    st_rng_seed(&rng, seed, 2);
    fill(&rng, x + xo, (long)N * C, 0.3, 1.0);
    /* One narrow row (variance ~2.5e-3): there eps = 1e-5 moves rstd by
     * 0.2%, so a wrong eps, or eps outside the square root, shows. It is
     * centred: the float mean's rounding error, relative to |mean|, would be
     * amplified by rstd ~20 (a property of any float LayerNorm, not a bug). */
    fill(&rng, x + xo + C, C, 0.0, 0.05);
    fill(&rng, x + wo, C, 1.0, 0.3);
    fill(&rng, x + bo, C, 0.0, 0.5);
    fill(&rng, dy, o.n_out, 0, 1);
    th = to_double(x, o.n_th);

    k->layernorm_forward(y, mean, rstd, x + xo, x + wo, x + bo, N, C);
    o.ref(ref, th, &o.z);
    for (int n = 0; n < N; n++)
        ln_stats(th + xo + (long)n * C, C, &rm[n], &rs[n]);
    /* Float sums over C = 8..64 terms of order 1 and a float 1/sqrt: a few
     * ulps of order-1 values (observed below 4e-7). The unbiased variance
     * would be off by a factor C/(C-1) in rstd, i.e. 1.5% or more. */
    check_close(o.name, "out", y, ref, o.n_out, 2e-6, 2e-6);
    check_close(o.name, "mean", mean, rm, N, 2e-6, 2e-6);
    check_close(o.name, "rstd", rstd, rs, N, 2e-6, 2e-6);
    memcpy(y2, x + xo, sizeof(float) * (size_t)o.n_out);
    k->layernorm_forward(y2, mean, rstd, y2, x + wo, x + bo, N, C);
    check_same(o.name, "in-place outputs", y, y2, o.n_out);

    k->layernorm_backward(g + xo, g + wo, g + bo, dy, x + xo, x + wo, mean, rstd, N, C);
    /* dx sums C terms per row, dw and db N terms per channel, of order 1
     * (rstd times that on the narrow row, where dx is of order 20): float
     * rounding of a few ulps of those sizes (observed below 7% of the bound). */
    check_grad(&o, x, dy, g, 4e-6, 4e-6);
    memcpy(g1, g, sizeof(float) * (size_t)o.n_th);
    k->layernorm_backward(g + xo, g + wo, g + bo, dy, x + xo, x + wo, mean, rstd, N, C);
    check_twice(&o, g1, g);
    k->layernorm_backward(g2 + xo, NULL, NULL, dy, x + xo, x + wo, mean, rstd, N, C);
    k->layernorm_backward(NULL, g2 + wo, NULL, dy, x + xo, x + wo, mean, rstd, N, C);
    k->layernorm_backward(NULL, NULL, g2 + bo, dy, x + xo, x + wo, mean, rstd, N, C);
    check_same(o.name, "gradients taken one at a time", g1, g2, o.n_th);

    free(x);
    free(y);
    free(y2);
    free(dy);
    free(mean);
    free(rstd);
    free(g);
    free(g1);
    free(g2);
    free(th);
    free(ref);
    free(rm);
    free(rs);
}

/* ---- linear layer and the tied head ---- */

/* y[N, out] = x[N, in] W[out, in]^T (+ b[out] when the op has a third part) */
static void linear_ref(double *out, const double *th, const struct sizes *z)
{
    const double *x = th, *W = th + (long)z->N * z->in, *b = W + (long)z->out * z->in;
    int bias = z->n != 0;
    for (int n = 0; n < z->N; n++)
        for (int j = 0; j < z->out; j++) {
            double s = bias ? b[j] : 0.0;
            for (int i = 0; i < z->in; i++)
                s += x[(long)n * z->in + i] * W[(long)j * z->in + i];
            out[(long)n * z->out + j] = s;
        }
}

/* bias: the linear layer with its bias; otherwise the tied head (x, wte). */
static void test_linear(int N, int in, int out, int bias, uint64_t seed)
{
    struct st_rng rng;
    struct op o = { .name = bias ? "linear" : "head", .ref = linear_ref };
    o.z = (struct sizes){ .N = N, .in = in, .out = out, .n = bias };
    long xo = add_part(&o, "x", (long)N * in);
    long wo = add_part(&o, bias ? "W" : "wte", (long)out * in);
    long bo = bias ? add_part(&o, "b", out) : 0;
    o.n_out = (long)N * out;
    float *x = fvec(o.n_th), *y = fvec(o.n_out), *dy = fvec(o.n_out);
    float *g = fvec(o.n_th), *g1 = fvec(o.n_th), *g2 = fvec(o.n_th);
    double *th, *ref = dvec(o.n_out);
    float *b = bias ? x + bo : NULL, *gb = bias ? g + bo : NULL, *gb2 = bias ? g2 + bo : NULL;
    st_rng_seed(&rng, seed, 3);
    fill(&rng, x, o.n_th, 0, 1);
    fill(&rng, dy, o.n_out, 0, 1);
    th = to_double(x, o.n_th);
    for (long i = 0; i < o.n_out; i++)
        y[i] = NAN; /* without a bias, y is written, not read */

    if (bias)
        st_gpt_linear_forward(y, x + xo, x + wo, b, N, in, out);
    else
        st_gpt_head_forward(y, x + xo, x + wo, N, in, out);
    o.ref(ref, th, &o.z);
    /* Dot products of in = 8..32 terms of order 1: float rounding of a few
     * ulps of their magnitude (observed below 1e-6). */
    check_close(o.name, "out", y, ref, o.n_out, 4e-6, 4e-6);
    if (bias) {
        /* The residual form: res + x W^T + b, to the same bound, and in place
         * (y = res) to the same bits. */
        float *y3 = fvec(o.n_out), *y4 = fvec(o.n_out);
        double *rr = dvec(o.n_out);
        for (long i = 0; i < o.n_out; i++)
            rr[i] = ref[i] + (double)dy[i];
        st_gpt_linear_residual_forward(y3, dy, x + xo, x + wo, b, N, in, out);
        check_close(o.name, "out + residual", y3, rr, o.n_out, 4e-6, 4e-6);
        memcpy(y4, dy, sizeof(float) * (size_t)o.n_out);
        st_gpt_linear_residual_forward(y4, y4, x + xo, x + wo, b, N, in, out);
        check_same(o.name, "residual in place", y3, y4, o.n_out);
        free(y3);
        free(y4);
        free(rr);
    }

    if (bias)
        st_gpt_linear_backward(g + xo, g + wo, gb, dy, x + xo, x + wo, N, in, out);
    else
        st_gpt_head_backward(g + xo, g + wo, dy, x + xo, x + wo, N, in, out);
    /* Sums over out (dx) or N (dW, db) terms of order 1, as above. */
    check_grad(&o, x, dy, g, 4e-6, 4e-6);
    memcpy(g1, g, sizeof(float) * (size_t)o.n_th);
    if (bias)
        st_gpt_linear_backward(g + xo, g + wo, gb, dy, x + xo, x + wo, N, in, out);
    else
        st_gpt_head_backward(g + xo, g + wo, dy, x + xo, x + wo, N, in, out);
    check_twice(&o, g1, g);
    if (bias) {
        st_gpt_linear_backward(g2 + xo, NULL, NULL, dy, x + xo, x + wo, N, in, out);
        st_gpt_linear_backward(NULL, g2 + wo, NULL, dy, x + xo, x + wo, N, in, out);
        st_gpt_linear_backward(NULL, NULL, gb2, dy, x + xo, x + wo, N, in, out);
    } else {
        st_gpt_head_backward(g2 + xo, NULL, dy, x + xo, x + wo, N, in, out);
        st_gpt_head_backward(NULL, g2 + wo, dy, x + xo, x + wo, N, in, out);
    }
    check_same(o.name, "gradients taken one at a time", g1, g2, o.n_th);

    free(x);
    free(y);
    free(dy);
    free(g);
    free(g1);
    free(g2);
    free(th);
    free(ref);
}

/* ---- attention ---- */

/* Every score of the T x T square, the future set to -inf before a plain
 * softmax (exp(-inf) = 0); att may be NULL. */
static void attn_ref_full(double *out, double *att, const double *qkv, const struct sizes *z)
{
    int T = z->T, C = z->C, H = z->H, hs = C / H;
    double *p = dvec(T);
    for (int b = 0; b < z->B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                const double *q = qkv + ((long)b * T + t) * 3 * C + h * hs;
                double mx = -(double)INFINITY, sum = 0;
                for (int s = 0; s < T; s++) {
                    const double *k = qkv + ((long)b * T + s) * 3 * C + C + h * hs;
                    double d = 0;
                    for (int i = 0; i < hs; i++)
                        d += q[i] * k[i];
                    p[s] = s > t ? -(double)INFINITY : d / sqrt((double)hs);
                    mx = fmax(mx, p[s]);
                }
                for (int s = 0; s < T; s++)
                    sum += p[s] = exp(p[s] - mx);
                for (int i = 0; i < hs; i++) {
                    double o = 0;
                    for (int s = 0; s < T; s++)
                        o += p[s] / sum * qkv[((long)b * T + s) * 3 * C + 2 * C + h * hs + i];
                    out[((long)b * T + t) * C + h * hs + i] = o;
                }
                if (att)
                    for (int s = 0; s < T; s++)
                        att[(((long)b * H + h) * T + t) * T + s] = p[s] / sum;
            }
    free(p);
}

static void attn_ref(double *out, const double *th, const struct sizes *z)
{
    attn_ref_full(out, NULL, th, z);
}

static void test_attention(const struct st_gpt_kernels *k, int B, int T, int C, int H,
                           uint64_t seed)
{
    struct st_rng rng;
    struct op o = { .name = "attention", .ref = attn_ref };
    char name[64];
    snprintf(name, sizeof name, "attention[%s] B%d T%d C%d H%d", k->isa, B, T, C, H);
    o.name = name;
    o.z = (struct sizes){ .B = B, .T = T, .C = C, .H = H };
    add_part(&o, "qkv", (long)B * T * 3 * C);
    o.n_out = (long)B * T * C;
    long n_att = (long)B * H * T * T;
    float *x = fvec(o.n_th), *y = fvec(o.n_out), *dy = fvec(o.n_out), *att = fvec(n_att);
    float *x2 = fvec(o.n_th), *y2 = fvec(o.n_out), *att2 = fvec(n_att);
    float *g = fvec(o.n_th), *g1 = fvec(o.n_th);
    float *scratch = fvec((long)st_gpt_attention_scratch(B, T, C, H));
    double *th, *ref = dvec(o.n_out), *ratt = dvec(n_att);
    st_rng_seed(&rng, seed, 4);
    /* Scores q.k/sqrt(hs) of standard deviation 1.5: softmax rows between
     * flat and peaked. */
    fill(&rng, x, o.n_th, 0, sqrt(1.5));
    fill(&rng, dy, o.n_out, 0, 1);
    th = to_double(x, o.n_th);

    k->attention_forward(y, att, scratch, x, B, T, C, H);
    attn_ref_full(ref, ratt, th, &o.z);
    /* Dot products over hs channels, exp and a normalisation in float, then
     * a weighted sum of T values: several ulps of order-1 values (observed
     * below 1e-6). The masked entries must be exactly 0 (the reference's
     * are, and the bound is 0 there). */
    check_close(o.name, "out", y, ref, o.n_out, 4e-6, 4e-6);
    int masked_bad = 0;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++)
                for (int s = t + 1; s < T; s++)
                    masked_bad += att[(((long)b * H + h) * T + t) * T + s] != 0.0f;
    CHECK(masked_bad == 0);
    check_close(o.name, "att", att, ratt, n_att, 2e-7, 4e-6);

    k->attention_backward(g, scratch, dy, x, att, y, B, T, C, H);
    /* Products of the float probabilities with float dot products, summed
     * over <= T positions: a few ulps of order-1 terms (observed below
     * 1e-6). */
    check_grad(&o, x, dy, g, 4e-6, 4e-6);
    memcpy(g1, g, sizeof(float) * (size_t)o.n_th);
    k->attention_backward(g, scratch, dy, x, att, y, B, T, C, H);
    check_twice(&o, g1, g);

    /* The causal mask, exactly: changing q, k and v at position t0 changes
     * no output and no probability of an earlier position, and does change
     * position t0's output. */
    for (int t0 = 0; t0 < T; t0++) {
        int earlier_changed = 0, here_changed = 0;
        memcpy(x2, x, sizeof(float) * (size_t)o.n_th);
        for (int b = 0; b < B; b++)
            for (int c = 0; c < 3 * C; c++)
                x2[((long)b * T + t0) * 3 * C + c] += 0.5f + 0.1f * (float)(c % 7);
        k->attention_forward(y2, att2, scratch, x2, B, T, C, H);
        for (int b = 0; b < B; b++)
            for (int t = 0; t <= t0; t++) {
                const float *a = y + ((long)b * T + t) * C, *a2 = y2 + ((long)b * T + t) * C;
                int diff = memcmp(a, a2, sizeof(float) * (size_t)C) != 0;
                for (int h = 0; h < H; h++) {
                    long r = (((long)b * H + h) * T + t) * T;
                    diff |= memcmp(att + r, att2 + r, sizeof(float) * (size_t)T) != 0;
                }
                if (t < t0)
                    earlier_changed += diff;
                else
                    here_changed += diff;
            }
        if (earlier_changed)
            fprintf(stderr, "  %s: changing position %d changed %d earlier rows\n", o.name, t0,
                    earlier_changed);
        CHECK(earlier_changed == 0);
        CHECK(here_changed == B);
    }

    free(x);
    free(y);
    free(dy);
    free(att);
    free(x2);
    free(y2);
    free(att2);
    free(g);
    free(g1);
    free(scratch);
    free(th);
    free(ref);
    free(ratt);
}

/* ---- GELU and the residual add ---- */

static void gelu_ref(double *out, const double *th, const struct sizes *z)
{
    const double k = sqrt(2 / acos(-1.0));
    for (long i = 0; i < z->n; i++) {
        double x = th[i];
        out[i] = 0.5 * x * (1 + tanh(k * (x + 0.044715 * x * x * x)));
    }
}

static void test_gelu(const struct st_gpt_kernels *k, long n, uint64_t seed)
{
    struct st_rng rng;
    char name[32];
    snprintf(name, sizeof name, "gelu[%s]", k->isa);
    struct op o = { .name = name, .ref = gelu_ref };
    o.z = (struct sizes){ .n = n };
    add_part(&o, "x", n);
    o.n_out = n;
    float *x = fvec(n), *y = fvec(n), *y2 = fvec(n), *dy = fvec(n), *g = fvec(n), *g1 = fvec(n);
    double *th, *ref = dvec(n);
    st_rng_seed(&rng, seed, 5);
    /* Wide enough to reach both tails, where GELU_tanh and the erf form part
     * most (|difference| up to ~5e-4 near |x| = 2). */
    fill(&rng, x, n, 0, 2.5);
    x[0] = 0.0f;
    x[1] = 10.0f;
    x[2] = -10.0f;
    fill(&rng, dy, n, 0, 1);
    th = to_double(x, n);

    k->gelu_forward(y, x, n);
    o.ref(ref, th, &o.z);
    /* A few float operations and a tanh within 2e-7 (absolute) of the true
     * one: a few ulps of the larger of x and 1 (observed below 1e-6
     * absolute). */
    check_close(o.name, "out", y, ref, n, 2e-6, 2e-6);
    memcpy(y2, x, sizeof(float) * (size_t)n);
    k->gelu_forward(y2, y2, n);
    check_same(o.name, "in-place outputs", y, y2, n);

    k->gelu_backward(g, dy, x, n);
    check_grad(&o, x, dy, g, 2e-6, 2e-6);
    memcpy(g1, g, sizeof(float) * (size_t)n);
    k->gelu_backward(g, dy, x, n);
    check_twice(&o, g1, g);

    free(x);
    free(y);
    free(y2);
    free(dy);
    free(g);
    free(g1);
    free(th);
    free(ref);
}

static void residual_ref(double *out, const double *th, const struct sizes *z)
{
    for (long i = 0; i < z->n; i++)
        out[i] = th[i] + th[z->n + i];
}

static void test_residual(long n, uint64_t seed)
{
    struct st_rng rng;
    struct op o = { .name = "residual", .ref = residual_ref };
    o.z = (struct sizes){ .n = n };
    long ao = add_part(&o, "a", n), bo = add_part(&o, "b", n);
    o.n_out = n;
    float *x = fvec(o.n_th), *y = fvec(n), *y2 = fvec(n), *dy = fvec(n);
    float *g = fvec(o.n_th), *g1 = fvec(o.n_th), *g2 = fvec(o.n_th);
    double *th, *ref = dvec(n);
    st_rng_seed(&rng, seed, 6);
    fill(&rng, x, o.n_th, 0, 1);
    fill(&rng, dy, n, 0, 1);
    th = to_double(x, o.n_th);

    st_gpt_residual_forward(y, x + ao, x + bo, n);
    o.ref(ref, th, &o.z);
    check_close(o.name, "out", y, ref, n, 0, 6e-8); /* one rounding, as the embedding */
    memcpy(y2, x + ao, sizeof(float) * (size_t)n);
    st_gpt_residual_forward(y2, y2, x + bo, n);
    check_same(o.name, "in-place outputs", y, y2, n);

    st_gpt_residual_backward(g + ao, g + bo, dy, n);
    check_grad(&o, x, dy, g, 1e-6, 1e-6);
    memcpy(g1, g, sizeof(float) * (size_t)o.n_th);
    st_gpt_residual_backward(g + ao, g + bo, dy, n);
    check_twice(&o, g1, g);
    st_gpt_residual_backward(g2 + ao, NULL, dy, n);
    st_gpt_residual_backward(NULL, g2 + bo, dy, n);
    check_same(o.name, "gradients taken one at a time", g1, g2, o.n_th);

    free(x);
    free(y);
    free(y2);
    free(dy);
    free(g);
    free(g1);
    free(g2);
    free(th);
    free(ref);
}

int main(void)
{
    const char *v = getenv("ST_TEST_VERBOSE");
    verbose = v && *v && strcmp(v, "0") != 0;
    /* The tiny GPT: B = 2, T = 3, C = 8, H = 2, V = 11; then other
     * shapes: one head, head sizes that are not a multiple of 8 (the dot
     * product's tail) and larger than 8, a longer context, wpe longer than T. */
    test_embed(2, 3, 8, 11, 3, 1);
    test_embed(3, 4, 5, 7, 6, 2);
    test_linear(6, 8, 24, 1, 5); /* qkv: [3C, C] */
    test_linear(6, 32, 8, 1, 6); /* mlp.proj: [C, 4C] */
    test_linear(6, 8, 5, 1, 7);
    test_linear(6, 8, 11, 0, 8); /* the tied head: V = 11 */
    /* Attention and GELU in every build the CPU runs; attention also on
     * sizes that fill the backward pass's blocks of four queries and the
     * four-channel and four-row passes, with their tails (T = 13, hs = 20;
     * hs = 18, one head). */
    int n_builds;
    const struct st_gpt_kernels *builds = st_gpt_builds(&n_builds);
    for (int i = 0; i < n_builds; i++) {
        const struct st_gpt_kernels *k = &builds[i];
        test_attention(k, 2, 3, 8, 2, 9);
        test_attention(k, 2, 5, 12, 3, 10);
        test_attention(k, 1, 4, 20, 2, 11);
        test_attention(k, 1, 6, 16, 1, 12);
        test_attention(k, 2, 7, 36, 2, 13);
        test_attention(k, 1, 13, 40, 2, 16);
        test_attention(k, 2, 9, 18, 1, 17);
        test_gelu(k, 2 * 3 * 32, 14);
        test_layernorm(k, 6, 8, 3);
        test_layernorm(k, 5, 64, 4);
        test_layernorm(k, 70, 13, 18); /* two tasks of rows; C not a multiple of 8 */
    }
    test_residual(2 * 3 * 8, 15);
    return check_report("test_gpt_ops");
}
