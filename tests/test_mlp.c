/* test_mlp.c: forward against a double-precision reference, and backward
 * against central differences of that reference, for every activation, on
 * square and non-square widths, L = 1..3; all coordinates on small nets, a
 * random direction plus sampled coordinates on a larger one. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model_util.h"
#include "testutil.h"
#include "core/loss.h"
#include "core/dense.h"
#include "core/dense_isa.h"
#include "core/mlp.h"

/* mse of the net with parameters th (double, st_params layout) on x, y.
 * *min_abs_z gets the smallest |pre-activation| of a hidden layer (kink guard). */
static double loss_ref(const struct st_mlp *net, const struct st_params *layout, const double *th,
                       const float *x, const float *y, int B, double *min_abs_z)
{
    int L = net->n_layers, maxw = st_mlp_max_width(net);
    double *a = malloc(sizeof(double) * (size_t)maxw), *b = malloc(sizeof(double) * (size_t)maxw);
    double loss = 0;
    *min_abs_z = 1e30;
    for (int r = 0; r < B; r++) {
        for (int i = 0; i < net->widths[0]; i++)
            a[i] = x[r * net->widths[0] + i];
        for (int l = 1; l <= L; l++) {
            int in = net->widths[l - 1], out = net->widths[l];
            const double *W = th + layout->v[2 * l - 2].offset, *bias = th + layout->v[2 * l - 1].offset;
            for (int j = 0; j < out; j++) {
                double z = bias[j];
                for (int i = 0; i < in; i++)
                    z += W[j * in + i] * a[i];
                if (l < L && fabs(z) < *min_abs_z)
                    *min_abs_z = fabs(z);
                b[j] = l < L ? act_ref(z, net->act) : z;
            }
            double *t = a;
            a = b;
            b = t;
        }
        for (int j = 0; j < net->widths[L]; j++) {
            double d = a[j] - (double)y[r * net->widths[L] + j];
            loss += d * d;
        }
    }
    free(a);
    free(b);
    return loss / ((double)B * net->widths[L]);
}

struct setup {
    struct st_model m;
    struct st_mlp *net; /* m's own */
    struct st_params p, g;
    struct st_work w;
    float *x, *y, *dy;
    double *th;
    int B;
};

/* Every layer through BLAS (1), or the fixed rule: the dense.c kernels up to
 * ST_MLP_FIXED_MAX weights (0). */
static int g_all_blas = 0;

static void setup(struct setup *s, const int *widths, int L, enum st_act act, int B, uint64_t seed)
{
    struct st_rng rng;
    struct st_err err;
    memset(s, 0, sizeof *s);
    s->B = B;
    CHECK_OK(mlp_model(&s->m, widths, L, act, &err));
    s->net = st_mlp_of(&s->m);
    for (int l = 1; l <= L; l++)
        s->net->blas[l] = g_all_blas || (long)widths[l - 1] * widths[l] > ST_MLP_FIXED_MAX;
    CHECK_OK(st_model_params(&s->m, &s->p, &err));
    CHECK_OK(st_params_twin(&s->g, &s->p, &err));
    CHECK_OK(st_work_init(&s->w, &s->m, B, &err));
    st_rng_seed(&rng, seed, 99);
    st_model_draw(&s->m, &s->p, &rng, NULL);
    s->x = malloc(sizeof(float) * (size_t)(B * widths[0]));
    s->y = malloc(sizeof(float) * (size_t)(B * widths[L]));
    s->dy = malloc(sizeof(float) * (size_t)(B * widths[L]));
    st_rng_fill_normal(&rng, s->x, B * widths[0], 0, 1);
    st_rng_fill_normal(&rng, s->y, B * widths[L], 0, 1);
    s->th = malloc(sizeof(double) * s->p.n);
    for (size_t i = 0; i < s->p.n; i++)
        s->th[i] = s->p.mem[i];
}

static void teardown(struct setup *s)
{
    st_params_free(&s->p);
    st_params_free(&s->g);
    st_work_free(&s->w);
    st_model_free(&s->m);
    free(s->x);
    free(s->y);
    free(s->dy);
    free(s->th);
}

/* Float forward + backward into s->g; returns the float loss. */
static double run_float(struct setup *s, const unsigned char *trainable)
{
    int n_out = s->net->widths[s->net->n_layers];
    memset(s->g.mem, 0, s->g.n * sizeof(float));
    const float *yhat = st_model_forward(&s->m, &s->p, &s->w, s->x, s->B);
    double loss = st_mse_forward(yhat, s->y, (long)s->B * n_out);
    st_mse_backward(s->dy, yhat, s->y, (long)s->B * n_out);
    st_model_backward(&s->m, &s->p, &s->w, &s->g, s->dy, s->B, trainable);
    return loss;
}

/* Central difference of the double reference at coordinate i (or along dir). */
static double fd(struct setup *s, size_t i, const double *dir, double h, double *kink)
{
    double *t = s->th, lp, lm, k1, k2;
    if (dir) {
        for (size_t j = 0; j < s->p.n; j++)
            t[j] += h * dir[j];
        lp = loss_ref(s->net, &s->p, t, s->x, s->y, s->B, &k1);
        for (size_t j = 0; j < s->p.n; j++)
            t[j] -= 2 * h * dir[j];
        lm = loss_ref(s->net, &s->p, t, s->x, s->y, s->B, &k2);
        for (size_t j = 0; j < s->p.n; j++)
            t[j] += h * dir[j];
    } else {
        double v = t[i];
        t[i] = v + h;
        lp = loss_ref(s->net, &s->p, t, s->x, s->y, s->B, &k1);
        t[i] = v - h;
        lm = loss_ref(s->net, &s->p, t, s->x, s->y, s->B, &k2);
        t[i] = v;
    }
    *kink = k1 < k2 ? k1 : k2;
    return (lp - lm) / (2 * h);
}

/* Tolerance: the float backward carries rounding of a few ulps of the terms
 * summed over the batch (observed: up to 3e-9 absolute, 1.5e-6 relative on
 * gradients of order 1e-3); the double central difference with h = 1e-4 has
 * truncation error ~h^2 |f'''|, below 1e-10 here. These bounds leave a margin
 * of about 10x and still catch a gradient off by 0.01%. */
#define ATOL 2e-8
#define RTOL 2e-5

static void check_all_coordinates(const int *widths, int L, enum st_act act, int B)
{
    struct setup s;
    double kink;
    uint64_t seed = 1;
    for (;; seed++) {
        setup(&s, widths, L, act, B, seed);
        loss_ref(s.net, &s.p, s.th, s.x, s.y, B, &kink);
        if (act != ST_ACT_RELU || kink > 1e-2)
            break;
        teardown(&s);
    }
    double lf = run_float(&s, NULL);
    double ld = loss_ref(s.net, &s.p, s.th, s.x, s.y, B, &kink);
    CHECK_NEAR(lf, ld, 1e-7, 1e-5);
    int bad = 0;
    for (int t = 0; t < s.p.n_views; t++)
        for (size_t k = 0; k < st_view_size(&s.p.v[t]); k++) {
            size_t i = s.p.v[t].offset + k;
            double d = fd(&s, i, NULL, 1e-4, &kink);
            if (!(fabs((double)s.g.mem[i] - d) <= ATOL + RTOL * fabs(d))) {
                if (bad++ < 5)
                    fprintf(stderr, "  %s act=%s %s[%zu]: backward %.8g, central diff %.8g\n",
                            "mlp", st_act_name(act), s.p.v[t].name, k, (double)s.g.mem[i], d);
            }
        }
    CHECK(bad == 0);

    /* With a mask, frozen tensors get no gradient and the rest is unchanged. */
    unsigned char trainable[2 * ST_MLP_MAX_LAYERS];
    float *full = malloc(sizeof(float) * s.g.n);
    memcpy(full, s.g.mem, sizeof(float) * s.g.n);
    for (int t = 0; t < s.p.n_views; t++)
        trainable[t] = t % 3 != 0;
    run_float(&s, trainable);
    for (int t = 0; t < s.p.n_views; t++)
        for (size_t k = 0; k < st_view_size(&s.p.v[t]); k++) {
            size_t i = s.p.v[t].offset + k;
            CHECK(trainable[t] ? s.g.mem[i] == full[i] : s.g.mem[i] == 0.0f);
        }
    free(full);
    teardown(&s);
}

static void check_direction(void)
{
    /* Larger net: one random direction over all parameters plus 50 sampled
     * coordinates (checking every one would cost minutes). */
    const int widths[] = { 8, 48, 32, 5 };
    struct setup s;
    struct st_rng rng;
    double kink, dot = 0;
    setup(&s, widths, 3, ST_ACT_TANH, 40, 7);
    run_float(&s, NULL);
    double *dir = malloc(sizeof(double) * s.p.n);
    st_rng_seed(&rng, 3, 5);
    for (size_t j = 0; j < s.p.n; j++) {
        dir[j] = st_rng_uniform(&rng) < 0.5 ? -1.0 : 1.0;
        dot += dir[j] * (double)s.g.mem[j];
    }
    double d = fd(&s, 0, dir, 1e-5, &kink);
    CHECK_NEAR(dot, d, 1e-4, 1e-3);
    for (int k = 0; k < 50; k++) {
        int t = (int)st_rng_below(&rng, (uint64_t)s.p.n_views);
        size_t i = s.p.v[t].offset + st_rng_below(&rng, st_view_size(&s.p.v[t]));
        CHECK_NEAR(s.g.mem[i], fd(&s, i, NULL, 1e-4, &kink), ATOL, RTOL);
    }
    free(dir);
    teardown(&s);
}

/* The dense kernels against the BLAS path on the same net and data: equal up
 * to rounding, for batches with and without a partial last vector, every
 * activation, frozen tensors; a smaller batch on the same buffers gives what
 * fresh buffers give (padding never leaks), and a repeat gives the same bits. */
static void check_dense_vs_blas(const int *widths, int L, enum st_act act, int B)
{
    struct setup a, b;
    unsigned char trainable[2 * ST_MLP_MAX_LAYERS];
    g_all_blas = 0;
    setup(&a, widths, L, act, B, 5);
    g_all_blas = 1;
    setup(&b, widths, L, act, B, 5);
    g_all_blas = 0;
    for (int mask = 0; mask < 2; mask++) {
        for (int t = 0; t < a.p.n_views; t++)
            trainable[t] = mask == 0 || t % 3 != 1;
        double la = run_float(&a, trainable), lb = run_float(&b, trainable);
        CHECK_NEAR(la, lb, 1e-7, 1e-5);
        int bad = 0;
        for (size_t i = 0; i < a.g.n; i++)
            bad += !(fabsf(a.g.mem[i] - b.g.mem[i]) <= 1e-6f + 1e-4f * fabsf(b.g.mem[i]));
        CHECK(bad == 0);
    }
    /* Same call twice: same bits. */
    float *g1 = malloc(sizeof(float) * a.g.n);
    run_float(&a, NULL);
    memcpy(g1, a.g.mem, sizeof(float) * a.g.n);
    run_float(&a, NULL);
    CHECK(memcmp(g1, a.g.mem, sizeof(float) * a.g.n) == 0);
    /* A smaller batch after a larger one, against fresh buffers. */
    if (B > 3) {
        struct st_work fresh;
        struct st_err err;
        int small = B / 2 + 1;
        a.B = small;
        run_float(&a, NULL);
        memcpy(g1, a.g.mem, sizeof(float) * a.g.n);
        st_work_free(&a.w);
        CHECK_OK(st_work_init(&fresh, &a.m, small, &err));
        a.w = fresh;
        run_float(&a, NULL);
        CHECK(memcmp(g1, a.g.mem, sizeof(float) * a.g.n) == 0);
    }
    free(g1);
    teardown(&a);
    teardown(&b);
}

/* Every build of the layer kernels this CPU runs (AVX-512, AVX2, baseline)
 * against a double-precision reference, and against each other: the builds
 * with fused multiply-add give the same bits, a build without it agrees to
 * rounding. Odd sizes give partial vectors and every block remainder. */
static void check_builds(void)
{
    static const int shapes[][3] = { /* B, in, out */
                                     { 1, 1, 1 },    { 15, 1, 20 },  { 16, 20, 20 }, { 17, 20, 1 },
                                     { 100, 7, 13 }, { 131, 33, 18 }, { 1000, 20, 20 },
                                     { 50, 64, 5 } };
    int n_builds;
    const struct st_dense_kernels *k = st_dense_builds(&n_builds);
    CHECK(n_builds >= 1 && !strcmp(k[n_builds - 1].isa, "base"));
    CHECK(st_dense_kernels() == k);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int B = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
        long ld = st_dense_ld(B), nx = (long)in * ld, nz = (long)out * ld;
        float *x = calloc((size_t)nx, sizeof *x), *W = malloc(sizeof(float) * (size_t)(in * out));
        float *b = malloc(sizeof(float) * (size_t)out), *dz = calloc((size_t)nz, sizeof *dz);
        float *res[3][4]; /* build: z, dW, db, dx */
        struct st_rng rng;
        st_rng_seed(&rng, 11, (uint64_t)s);
        for (int i = 0; i < in; i++)
            st_rng_fill_uniform(&rng, x + i * ld, B, -1.0, 1.0);
        for (int j = 0; j < out; j++)
            st_rng_fill_uniform(&rng, dz + j * ld, B, -1.0, 1.0);
        st_rng_fill_uniform(&rng, W, in * out, -1.0, 1.0);
        st_rng_fill_uniform(&rng, b, out, -1.0, 1.0);
        for (int q = 0; q < n_builds && q < 3; q++) {
            float *z = calloc((size_t)nz, sizeof *z), *dW = calloc((size_t)(in * out), sizeof *dW);
            float *db = calloc((size_t)out, sizeof *db), *dx = calloc((size_t)nx, sizeof *dx);
            k[q].forward(z, z, x, W, b, B, in, out, ld, ST_ACT_LINEAR);
            k[q].backward_w(dW, db, dz, x, B, in, out, ld);
            /* dW and db accumulate (dense.h: +=, as BLAS with beta = 1): a
             * second pass onto the first's result gives twice it. */
            float *dW2 = malloc(sizeof(float) * (size_t)(in * out));
            float *db2 = malloc(sizeof(float) * (size_t)out);
            memcpy(dW2, dW, sizeof(float) * (size_t)(in * out));
            memcpy(db2, db, sizeof(float) * (size_t)out);
            k[q].backward_w(dW2, db2, dz, x, B, in, out, ld);
            int twice = 0;
            for (int i = 0; i < in * out; i++)
                twice += !(fabsf(dW2[i] - 2.0f * dW[i]) <= 1e-5f * (1.0f + fabsf(dW[i])) * (float)B);
            for (int j = 0; j < out; j++)
                twice += !(fabsf(db2[j] - 2.0f * db[j]) <= 1e-5f * (1.0f + fabsf(db[j])) * (float)B);
            CHECK(twice == 0);
            free(dW2);
            free(db2);
            k[q].backward_x(dx, dz, W, x, B, in, out, ld, ST_ACT_RELU); /* x as relu's h */
            res[q][0] = z;
            res[q][1] = dW;
            res[q][2] = db;
            res[q][3] = dx;
            int bad = 0;
            for (int j = 0; j < out; j++)
                for (int c = 0; c < B; c++) {
                    double r = b[j], g = 0.0;
                    for (int i = 0; i < in; i++)
                        r += (double)W[j * in + i] * (double)x[i * ld + c];
                    bad += !(fabs((double)z[j * ld + c] - r) <= 1e-5 * (1 + fabs(r)));
                    for (int i = 0; i < in && c == 0; i++) {
                        for (int cc = 0; cc < B; cc++)
                            g += (double)dz[j * ld + cc] * (double)x[i * ld + cc];
                        bad += !(fabs((double)dW[j * in + i] - g) <= 1e-5 * (1 + fabs(g)) * B);
                        g = 0.0;
                    }
                }
            for (int i = 0; i < in; i++)
                for (int c = 0; c < B; c++) {
                    double r = 0.0;
                    for (int j = 0; j < out; j++)
                        r += (double)W[j * in + i] * (double)dz[j * ld + c];
                    r = x[i * ld + c] > 0.0f ? r : 0.0;
                    bad += !(fabs((double)dx[i * ld + c] - r) <= 1e-5 * (1 + fabs(r)));
                }
            CHECK(bad == 0);
            if (q > 0) {
                int fma_both = strcmp(k[q].isa, "base") != 0;
                size_t len[4] = { (size_t)nz, (size_t)(in * out), (size_t)out, (size_t)nx };
                for (int a = 0; a < 4; a++) {
                    if (fma_both)
                        CHECK(memcmp(res[0][a], res[q][a], len[a] * sizeof(float)) == 0);
                    int far = 0;
                    for (size_t i = 0; i < len[a]; i++)
                        far += !(fabsf(res[0][a][i] - res[q][a][i]) <=
                                 1e-5f * (1.0f + fabsf(res[0][a][i])) * (float)B);
                    CHECK(far == 0);
                }
            }
        }
        for (int q = 0; q < n_builds && q < 3; q++)
            for (int a = 0; a < 4; a++)
                free(res[q][a]);
        free(x);
        free(W);
        free(b);
        free(dz);
    }
}

int main(void)
{
    const int square[] = { 4, 4, 4, 4 };
    const int narrow[] = { 3, 7, 5, 2 };
    const int seedlike[] = { 1, 20, 20, 1 };
    const int one[] = { 5, 3 };
    const int two[] = { 2, 6, 3 };
    for (int a = ST_ACT_RELU; a <= ST_ACT_LINEAR; a++) {
        check_all_coordinates(square, 3, (enum st_act)a, 6);
        check_all_coordinates(narrow, 3, (enum st_act)a, 9);
        check_all_coordinates(two, 2, (enum st_act)a, 4);
    }
    check_all_coordinates(seedlike, 3, ST_ACT_RELU, 16);
    check_all_coordinates(seedlike, 3, ST_ACT_TANH, 70);
    check_all_coordinates(one, 1, ST_ACT_RELU, 5);
    check_direction();
    check_builds();
    /* Again through BLAS: every layer there. */
    g_all_blas = 1;
    for (int a = ST_ACT_RELU; a <= ST_ACT_LINEAR; a++)
        check_all_coordinates(narrow, 3, (enum st_act)a, 9);
    check_all_coordinates(seedlike, 3, ST_ACT_TANH, 70);
    check_direction();
    g_all_blas = 0;
    {
        const int odd[] = { 7, 33, 18, 3 };
        const int deep[] = { 1, 20, 20, 20, 1 };
        for (int a = ST_ACT_RELU; a <= ST_ACT_LINEAR; a++) {
            check_dense_vs_blas(odd, 3, (enum st_act)a, 131);
            check_dense_vs_blas(odd, 3, (enum st_act)a, 1);
        }
        check_dense_vs_blas(deep, 4, ST_ACT_RELU, 1000);
        check_dense_vs_blas(seedlike, 3, ST_ACT_RELU, 64);
        check_dense_vs_blas(seedlike, 3, ST_ACT_RELU, 15);
    }

    /* Initialization: every entry within +-1/sqrt(fan_in); layers not chosen untouched. */
    struct st_model net;
    struct st_params p;
    struct st_rng rng;
    struct st_err err;
    const int w[] = { 9, 16, 4 };
    CHECK_OK(mlp_model(&net, w, 2, ST_ACT_RELU, &err));
    CHECK_OK(st_model_params(&net, &p, &err));
    st_rng_seed(&rng, 1, 1);
    unsigned char only2[4] = { 0, 0, 1, 1 }; /* w2 and b2 */
    st_model_draw(&net, &p, &rng, only2);
    for (size_t i = 0; i < st_view_size(&p.v[0]); i++)
        CHECK(p.v[0].data[i] == 0.0f);
    int nonzero = 0;
    for (size_t i = 0; i < st_view_size(&p.v[2]); i++) {
        CHECK(fabsf(p.v[2].data[i]) <= 0.25f);
        nonzero += p.v[2].data[i] != 0.0f;
    }
    CHECK(nonzero == 64);
    /* A batch outside the pass buffers' room is refused, not run. */
    struct st_work work;
    float x[9 * 4] = { 0 };
    CHECK_OK(st_work_init(&work, &net, 3, &err));
    CHECK(st_model_forward(&net, &p, &work, x, 3) != NULL);
    CHECK(st_model_forward(&net, &p, &work, x, 4) == NULL);
    CHECK(st_model_forward(&net, &p, &work, x, 0) == NULL);
    st_work_free(&work);
    st_model_free(&net);
    CHECK(mlp_model(&net, w, 0, ST_ACT_RELU, &err) == ST_ERR_ARG);
    st_params_free(&p);
    return check_report("mlp");
}
