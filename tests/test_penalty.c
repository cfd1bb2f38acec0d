/* test_penalty.c: the penalties on Delta = theta - theta0. Values by hand
 * (every kind, every reduction, per-tensor multipliers), subgradients against
 * central differences away from the kinks, each proximal operator against its
 * closed form on hand-made inputs, and the proximal step of every kind and
 * reduction against a brute-force check of its minimum. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model_util.h"
#include "core/optim.h"
#include "core/penalty.h"

/* One layer 2 -> 3: w1 [3,2] (6 entries), b1 [3]. */
static void make(struct st_params *th, struct st_params *th0, struct st_params *g)
{
    struct st_err err;
    const int w[] = { 2, 3 };
    CHECK_OK(mlp_params(th, w, 1, &err));
    CHECK_OK(st_params_twin(th0, th, &err));
    CHECK_OK(st_params_twin(g, th, &err));
    const float dw[6] = { 0.5f, -0.25f, 0.0f, 1.0f, -2.0f, 0.125f };
    const float db[3] = { -0.5f, 0.0f, 0.75f };
    for (int i = 0; i < 6; i++) {
        th0->v[0].data[i] = 0.1f * (float)i;
        th->v[0].data[i] = th0->v[0].data[i] + dw[i];
    }
    for (int i = 0; i < 3; i++) {
        th0->v[1].data[i] = -0.3f;
        th->v[1].data[i] = -0.3f + db[i];
    }
}

/* The fisher reduction's F per view in the tests: w1 4, b1 1 (F_all = 3). */
static const double test_fisher[4] = { 4.0, 1.0, 2.0, 0.5 };

static double value(enum st_penalty_kind k, enum st_reduction r, const double *scale,
                    int bias_l1, struct st_params *th, struct st_params *th0)
{
    struct st_penalty p;
    struct st_err err;
    CHECK_OK(st_penalty_init(&p, k, r, 1.0, scale, NULL, bias_l1, th, &err));
    st_penalty_set_fisher(&p, test_fisher);
    double v = st_penalty_value(&p, th, th0);
    st_penalty_free(&p);
    return v;
}

static void test_values(void)
{
    struct st_params th, th0, g;
    make(&th, &th0, &g);
    /* sum|dw| = 3.875, sum|db| = 1.25; sum dw^2 = 0.25+0.0625+0+1+4+0.015625 = 5.328125,
     * sum db^2 = 0.25+0+0.5625 = 0.8125 */
    double l1w = 3.875, l1b = 1.25, sqw = 5.328125, sqb = 0.8125;
    CHECK_NEAR(value(ST_PEN_L1, ST_RED_MEAN, NULL, 0, &th, &th0), l1w / 6 + l1b / 3, 1e-6, 1e-6);
    CHECK_NEAR(value(ST_PEN_L1, ST_RED_SUM, NULL, 0, &th, &th0), l1w + l1b, 1e-6, 1e-6);
    /* group sum: sqrt(n) ||D||; mean: ||D|| / sqrt(n) */
    CHECK_NEAR(value(ST_PEN_GROUP, ST_RED_SUM, NULL, 0, &th, &th0),
               sqrt(6.0) * sqrt(sqw) + sqrt(3.0) * sqrt(sqb), 1e-6, 1e-6);
    CHECK_NEAR(value(ST_PEN_GROUP, ST_RED_MEAN, NULL, 0, &th, &th0),
               sqrt(sqw) / sqrt(6.0) + sqrt(sqb) / sqrt(3.0), 1e-6, 1e-6);
    CHECK_NEAR(value(ST_PEN_L2, ST_RED_SUM, NULL, 0, &th, &th0), 0.5 * (sqw + sqb), 1e-6, 1e-6);
    CHECK_NEAR(value(ST_PEN_L2, ST_RED_MEAN, NULL, 0, &th, &th0), 0.5 * (sqw / 6 + sqb / 3), 1e-6,
               1e-6);
    /* sqrt: each term divided by sqrt(n_t). */
    CHECK_NEAR(value(ST_PEN_L1, ST_RED_SQRT, NULL, 0, &th, &th0), l1w / sqrt(6.0) + l1b / sqrt(3.0),
               1e-6, 1e-6);
    CHECK_NEAR(value(ST_PEN_GROUP, ST_RED_SQRT, NULL, 0, &th, &th0), sqrt(sqw) + sqrt(sqb), 1e-6,
               1e-6);
    /* fisher: rho_w = sqrt(4/3), rho_b = sqrt(1/3) (F_all = (6*4 + 3*1)/9 = 3). */
    CHECK_NEAR(value(ST_PEN_L1, ST_RED_FISHER, NULL, 0, &th, &th0),
               sqrt(4.0 / 3) * l1w + sqrt(1.0 / 3) * l1b, 1e-6, 1e-6);
    CHECK_NEAR(value(ST_PEN_GROUP, ST_RED_FISHER, NULL, 0, &th, &th0),
               sqrt(4.0 / 3) * sqrt(6.0) * sqrt(sqw) + sqrt(1.0 / 3) * sqrt(3.0) * sqrt(sqb), 1e-6,
               1e-6);
    /* layer: w1 and b1 are one unit of 9 entries; its F is F_all, rho 1. */
    double nd = sqrt(sqw + sqb);
    CHECK_NEAR(value(ST_PEN_LAYER, ST_RED_SUM, NULL, 0, &th, &th0), 3.0 * nd, 1e-6, 1e-6);
    CHECK_NEAR(value(ST_PEN_LAYER, ST_RED_MEAN, NULL, 0, &th, &th0), nd / 3.0, 1e-6, 1e-6);
    CHECK_NEAR(value(ST_PEN_LAYER, ST_RED_SQRT, NULL, 0, &th, &th0), nd, 1e-6, 1e-6);
    CHECK_NEAR(value(ST_PEN_LAYER, ST_RED_FISHER, NULL, 0, &th, &th0), 3.0 * nd, 1e-6, 1e-6);

    /* Multipliers: w1 x 0, b1 x 2. */
    double scale[2];
    for (int t = 0; t < 2; t++)
        scale[t] = 1.0;
    scale[0] = 0.0;
    scale[1] = 2.0;
    CHECK_NEAR(value(ST_PEN_L1, ST_RED_SUM, scale, 0, &th, &th0), 2 * l1b, 1e-6, 1e-6);
    /* layer: w1's multiplier 0 takes it out of the unit, which is b1 alone. */
    CHECK_NEAR(value(ST_PEN_LAYER, ST_RED_SUM, scale, 0, &th, &th0), 2 * sqrt(3.0) * sqrt(sqb),
               1e-6, 1e-6);
    /* fisher's floor: a tensor with F = 0 costs 1e-3 of the mean. */
    {
        struct st_penalty p;
        struct st_err err;
        const double f0[2] = { 3.0, 0.0 };
        CHECK_OK(st_penalty_init(&p, ST_PEN_L1, ST_RED_FISHER, 1.0, NULL, NULL, 0, &th, &err));
        st_penalty_set_fisher(&p, f0); /* F_all = 18/9 = 2 */
        CHECK_NEAR(st_penalty_price(&p, 0), sqrt(1.5), 1e-12, 1e-12);
        CHECK_NEAR(st_penalty_price(&p, 1), 1e-3, 1e-12, 1e-12);
        st_penalty_free(&p);
    }

    /* Nuclear: Delta_W = [[3,0],[0,1],[0,0]] has singular values 3 and 1. */
    memset(th.v[0].data, 0, 6 * sizeof(float));
    memset(th0.v[0].data, 0, 6 * sizeof(float));
    th.v[0].data[0] = 3.0f;
    th.v[0].data[3] = 1.0f;
    CHECK_NEAR(value(ST_PEN_NUCLEAR, ST_RED_SUM, NULL, 0, &th, &th0), 4.0, 1e-5, 1e-6);
    CHECK_NEAR(value(ST_PEN_NUCLEAR, ST_RED_MEAN, NULL, 0, &th, &th0), 4.0 / 6, 1e-5, 1e-6);
    /* Biases: none by default, l1 with nuclear_bias_l1. */
    CHECK_NEAR(value(ST_PEN_NUCLEAR, ST_RED_SUM, NULL, 1, &th, &th0), 4.0 + l1b, 1e-5, 1e-6);
    CHECK(value(ST_PEN_NONE, ST_RED_SUM, NULL, 0, &th, &th0) == 0.0);
    st_params_free(&th);
    st_params_free(&th0);
    st_params_free(&g);
}

/* lambda dR/dtheta (into g) against central differences of lambda R at every
 * entry of th; an l1 entry at its start must get sign(0) = 0. */
static void fd_check(struct st_penalty *p, enum st_penalty_kind k, double lambda,
                     struct st_params *th, const struct st_params *th0, struct st_params *g)
{
    memset(g->mem, 0, g->n * sizeof(float));
    st_penalty_grad(p, g, th, th0);
    for (int t = 0; t < th->n_views; t++)
        for (size_t i = 0; i < st_view_size(&th->v[t]); i++) {
            float *x = &th->v[t].data[i];
            if (k == ST_PEN_L1 && *x == th0->v[t].data[i]) {
                CHECK(g->v[t].data[i] == 0.0f); /* sign(0) = 0 */
                continue;
            }
            /* The nuclear norm comes from a float SVD (relative error ~1e-7 of
             * R ~ 1): a wider step keeps that noise below the tolerance. */
            float v = *x, step = k == ST_PEN_NUCLEAR ? 2e-2f : 1e-3f;
            *x = v + step;
            double rp = st_penalty_value(p, th, th0);
            *x = v - step;
            double rm = st_penalty_value(p, th, th0);
            *x = v;
            double fd = lambda * (rp - rm) / ((double)(v + step) - (double)(v - step));
            CHECK_NEAR(g->v[t].data[i], fd, 1e-7, 2e-3);
        }
}

/* Subgradients: lambda dR/dtheta against central differences of lambda R in
 * double, with h = 1e-3 (the l1 kinks are >= 0.125 away; group and nuclear
 * are smooth where Delta != 0 and the singular values are distinct). */
static void check_grad(enum st_penalty_kind k, enum st_reduction r)
{
    struct st_params th, th0, g;
    struct st_penalty p;
    struct st_err err;
    double lambda = 1e-2;
    make(&th, &th0, &g);
    CHECK_OK(st_penalty_init(&p, k, r, lambda, NULL, NULL, 1, &th, &err));
    st_penalty_set_fisher(&p, test_fisher);
    fd_check(&p, k, lambda, &th, &th0, &g);
    st_penalty_free(&p);
    st_params_free(&th);
    st_params_free(&th0);
    st_params_free(&g);
}

static void test_prox_operators(void)
{
    /* Soft-thresholding: sign(x) max(|x| - tau, 0). */
    float x[5] = { 1.0f, -0.3f, 0.2f, -2.0f, 0.0f };
    const float tau[5] = { 0.5f, 0.5f, 0.1f, 0.5f, 0.1f };
    st_prox_soft(x, tau, 5);
    CHECK(x[0] == 0.5f && x[1] == 0.0f && x[3] == -1.5f && x[4] == 0.0f);
    CHECK_NEAR(x[2], 0.1, 1e-7, 0);

    /* Block shrinkage, scalar metric: ||x|| = 5 -> zero below tau = 5, else x (1 - tau/5). */
    float a[2] = { 3.0f, 4.0f }, b[2] = { 3.0f, 4.0f };
    CHECK(st_prox_group(a, NULL, 2, 5.0) == 1);
    CHECK(a[0] == 0.0f && a[1] == 0.0f);
    CHECK(st_prox_group(b, NULL, 2, 2.0) == 0);
    CHECK_NEAR(b[0], 3.0 * 0.6, 1e-6, 1e-6);
    CHECK_NEAR(b[1], 4.0 * 0.6, 1e-6, 1e-6);

    /* Diagonal metric: z is 0 iff ||x / h|| <= tau; otherwise the optimality
     * condition (z_i - x_i)/h_i + tau z_i/||z|| = 0 holds for every i. */
    float c[3] = { 1.0f, -2.0f, 0.5f }, h[3] = { 0.5f, 2.0f, 1.0f };
    double q = sqrt(2.0 * 2.0 + 1.0 * 1.0 + 0.5 * 0.5); /* ||x/h|| = sqrt(5.25) */
    float d[3];
    memcpy(d, c, sizeof d);
    CHECK(st_prox_group(d, h, 3, q + 1e-6) == 1);
    memcpy(d, c, sizeof d);
    double tau_g = 0.7;
    CHECK(st_prox_group(d, h, 3, tau_g) == 0);
    double nz = 0.0;
    for (int i = 0; i < 3; i++)
        nz += (double)d[i] * (double)d[i];
    nz = sqrt(nz);
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(((double)d[i] - (double)c[i]) / (double)h[i] + tau_g * (double)d[i] / nz, 0.0,
                   1e-5, 0);

    /* SVT on [[3,0],[0,1],[0,0]] with tau 1.5: singular values 3, 1 -> 1.5, 0. */
    struct st_svd w;
    struct st_err err;
    CHECK_OK(st_svd_init(&w, 6, &err));
    float A[6] = { 3, 0, 0, 1, 0, 0 };
    CHECK(st_prox_svt(&w, A, 3, 2, 1.5) == 1);
    CHECK_NEAR(A[0], 1.5, 1e-5, 0);
    for (int i = 1; i < 6; i++)
        CHECK_NEAR(A[i], 0.0, 1e-5, 0);
    /* A rotated rank-2 matrix keeps its singular vectors: R diag(2, 0.5), R a rotation. */
    double cs = 0.6, sn = 0.8;
    float B[6] = { (float)(2 * cs), (float)(-0.5 * sn), (float)(2 * sn), (float)(0.5 * cs), 0, 0 };
    CHECK(st_prox_svt(&w, B, 3, 2, 0.25) == 2);
    CHECK_NEAR(B[0], 1.75 * cs, 1e-5, 0);
    CHECK_NEAR(B[1], -0.25 * sn, 1e-5, 0);
    CHECK_NEAR(B[2], 1.75 * sn, 1e-5, 0);
    CHECK_NEAR(B[3], 0.25 * cs, 1e-5, 0);
    st_svd_free(&w);
}

/* The full prox step on parameters: exact theta0 where shrunk to zero; lambda
 * = 0 leaves theta bit for bit. */
static void test_prox_step(void)
{
    struct st_params th, th0, g, h;
    struct st_penalty p;
    struct st_err err;
    make(&th, &th0, &g);
    CHECK_OK(st_params_twin(&h, &th, &err));
    for (size_t i = 0; i < h.n; i++)
        h.mem[i] = 0.1f;
    /* l1 sum, lambda 5: threshold 0.5 per entry. */
    CHECK_OK(st_penalty_init(&p, ST_PEN_L1, ST_RED_SUM, 5.0, NULL, NULL, 0, &th, &err));
    float before[6];
    memcpy(before, th.v[0].data, sizeof before);
    st_penalty_prox(&p, &th, &th0, &h);
    const float want[6] = { 0.0f, 0.0f, 0.0f, 0.5f, -1.5f, 0.0f };
    for (int i = 0; i < 6; i++) {
        float dlt = th.v[0].data[i] - th0.v[0].data[i];
        CHECK_NEAR(dlt, want[i], 1e-6, 0);
        if (want[i] == 0.0f)
            CHECK(th.v[0].data[i] == th0.v[0].data[i]); /* exactly the start */
    }
    st_penalty_free(&p);
    memcpy(th.v[0].data, before, sizeof before);
    CHECK_OK(st_penalty_init(&p, ST_PEN_GROUP, ST_RED_SUM, 0.0, NULL, NULL, 0, &th, &err));
    st_penalty_prox(&p, &th, &th0, &h);
    CHECK(memcmp(th.v[0].data, before, sizeof before) == 0);
    st_penalty_free(&p);
    /* Group, sum, large lambda: the whole tensor returns to its start. */
    CHECK_OK(st_penalty_init(&p, ST_PEN_GROUP, ST_RED_SUM, 100.0, NULL, NULL, 0, &th, &err));
    st_penalty_prox(&p, &th, &th0, &h);
    CHECK(memcmp(th.v[0].data, th0.v[0].data, 6 * sizeof(float)) == 0);
    CHECK(memcmp(th.v[1].data, th0.v[1].data, 3 * sizeof(float)) == 0);
    st_penalty_free(&p);
    st_params_free(&th);
    st_params_free(&th0);
    st_params_free(&g);
    st_params_free(&h);
}

/* The layer penalty's subgradient on two layers 2 -> 2 -> 1 (two units, the
 * second's term taken at a later view) against central differences. */
static void check_grad_units(enum st_reduction r)
{
    struct st_params th, th0, g;
    struct st_penalty p;
    struct st_err err;
    const int w[] = { 2, 2, 1 };
    double lambda = 1e-2;
    CHECK_OK(mlp_params(&th, w, 2, &err));
    CHECK_OK(st_params_twin(&th0, &th, &err));
    CHECK_OK(st_params_twin(&g, &th, &err));
    for (size_t i = 0; i < th.n; i++) {
        th0.mem[i] = 0.05f * (float)(i % 7) - 0.1f;
        th.mem[i] = th0.mem[i] + 0.3f * sinf(1.7f * (float)i + 0.4f);
    }
    CHECK_OK(st_penalty_init(&p, ST_PEN_LAYER, r, lambda, NULL, NULL, 0, &th, &err));
    st_penalty_set_fisher(&p, test_fisher);
    fd_check(&p, ST_PEN_LAYER, lambda, &th, &th0, &g);
    st_penalty_free(&p);
    st_params_free(&th);
    st_params_free(&th0);
    st_params_free(&g);
}

/* The proximal step of kind k under reduction r on two layers 2 -> 2 -> 1
 * (units {w1, b1} and {w2, b2}) with unequal per-coordinate steps h: the
 * result z must minimise F(z) = 1/2 sum (z - x)^2 / h + lambda R(z). F is
 * convex, so a point that no small move improves is its minimum: every
 * coordinate is moved both ways at several scales, and 400 random directions
 * are tried; none may lower F by more than rounding. */
static void check_prox_min(enum st_penalty_kind k, enum st_reduction r, double lambda)
{
    struct st_params th, th0, x, h, z;
    struct st_penalty p;
    struct st_err err;
    const int w[] = { 2, 2, 1 };
    CHECK_OK(mlp_params(&th, w, 2, &err));
    CHECK_OK(st_params_twin(&th0, &th, &err));
    CHECK_OK(st_params_twin(&x, &th, &err));
    CHECK_OK(st_params_twin(&h, &th, &err));
    CHECK_OK(st_params_twin(&z, &th, &err));
    for (size_t i = 0; i < th.n; i++) {
        th0.mem[i] = 0.05f * (float)(i % 7) - 0.1f;
        x.mem[i] = th0.mem[i] + 0.3f * sinf(1.7f * (float)i + 0.4f);
        h.mem[i] = 0.05f + 0.03f * (float)(i % 5);
    }
    CHECK_OK(st_penalty_init(&p, k, r, lambda, NULL, NULL, 0, &th, &err));
    st_penalty_set_fisher(&p, test_fisher);
    st_params_copy(&z, &x);
    st_penalty_prox(&p, &z, &th0, &h);

    /* F in double at a point given by z with entry i moved by d (i < 0: none). */
    double best = 0.0;
    for (int pass = 0; pass < 2; pass++) {
        srand(7);
        for (int trial = -1; trial < 4 * (int)th.n * 2 + 400; trial++) {
            st_params_copy(&th, &z);
            if (trial >= 0 && trial < 8 * (int)th.n) {
                int i = trial / 8, sc = trial % 4;
                double d = (trial / 4) % 2 ? -1.0 : 1.0;
                size_t at = 0;
                /* the trial-th entry over the views (skipping alignment padding) */
                for (int t = 0; t < th.n_views; t++)
                    if (i >= 0 && (size_t)i < st_view_size(&th.v[t])) {
                        at = th.v[t].offset + (size_t)i;
                        i = -1;
                    } else if (i >= 0) {
                        i -= (int)st_view_size(&th.v[t]);
                    }
                if (i >= 0)
                    continue;
                th.mem[at] += (float)(d * pow(10.0, -1 - sc));
            } else if (trial >= 0) {
                for (int t = 0; t < th.n_views; t++)
                    for (size_t i = 0; i < st_view_size(&th.v[t]); i++)
                        th.v[t].data[i] += 1e-3f * (float)(rand() % 2001 - 1000) / 1000.0f;
            }
            double f = lambda * st_penalty_value(&p, &th, &th0);
            for (int t = 0; t < th.n_views; t++)
                for (size_t i = 0; i < st_view_size(&th.v[t]); i++) {
                    double dz = (double)th.v[t].data[i] - (double)x.v[t].data[i];
                    f += 0.5 * dz * dz / (double)h.v[t].data[i];
                }
            if (trial < 0)
                best = f;
            else if (pass == 1)
                CHECK(f >= best - 1e-6 * (1.0 + fabs(best)));
        }
    }
    st_penalty_free(&p);
    st_params_free(&th);
    st_params_free(&th0);
    st_params_free(&x);
    st_params_free(&h);
    st_params_free(&z);
}

/* The metric of the prox: Adam's per-coordinate step lr / (sqrt(v_hat) + eps). */
static void test_metric(void)
{
    struct st_params p, g, h;
    struct st_optim opt;
    struct st_optim_cfg cfg;
    struct st_err err;
    const int w[] = { 1, 1 };
    CHECK_OK(mlp_params(&p, w, 1, &err));
    CHECK_OK(st_params_twin(&g, &p, &err));
    CHECK_OK(st_params_twin(&h, &p, &err));
    st_optim_defaults(&cfg, ST_OPT_ADAM);
    cfg.lr = 0.1;
    CHECK_OK(st_optim_init(&opt, &cfg, &p, &err));
    g.mem[0] = 0.5f;
    st_optim_step(&opt, &p, &g, NULL);
    st_optim_steps(&opt, &h, NULL);
    /* v = 0.001 * 0.25, v_hat = 0.25, h = 0.1 / (0.5 + 1e-8) */
    CHECK_NEAR(h.v[0].data[0], 0.1 / (0.5 + 1e-8), 1e-8, 1e-6);
    st_optim_free(&opt);
    st_optim_defaults(&cfg, ST_OPT_SGD);
    cfg.lr = 0.05;
    CHECK_OK(st_optim_init(&opt, &cfg, &p, &err));
    st_optim_steps(&opt, &h, NULL);
    CHECK(h.v[0].data[0] == 0.05f && h.v[1].data[0] == 0.05f);
    st_optim_free(&opt);
    st_params_free(&p);
    st_params_free(&g);
    st_params_free(&h);
}

int main(void)
{
    test_values();
    for (int r = ST_RED_MEAN; r <= ST_RED_FISHER; r++) {
        check_grad(ST_PEN_L1, (enum st_reduction)r);
        check_grad(ST_PEN_L2, (enum st_reduction)r);
        check_grad(ST_PEN_GROUP, (enum st_reduction)r);
        check_grad(ST_PEN_LAYER, (enum st_reduction)r);
        check_grad_units((enum st_reduction)r);
        check_grad(ST_PEN_NUCLEAR, (enum st_reduction)r);
        /* a lambda that zeroes some entries or units, and one that zeroes none */
        for (int big = 0; big < 2; big++) {
            double lambda = big ? (r == ST_RED_MEAN ? 0.5 : 0.05) : 1e-3;
            check_prox_min(ST_PEN_L1, (enum st_reduction)r, lambda);
            check_prox_min(ST_PEN_GROUP, (enum st_reduction)r, lambda);
            check_prox_min(ST_PEN_LAYER, (enum st_reduction)r, lambda);
            check_prox_min(ST_PEN_L2, (enum st_reduction)r, lambda);
        }
    }
    test_prox_operators();
    test_prox_step();
    test_metric();
    enum st_penalty_kind k;
    CHECK(st_penalty_parse("nuclear", &k) == 0 && k == ST_PEN_NUCLEAR);
    CHECK(st_penalty_parse("l0", &k) == -1);
    return check_report("penalty");
}
