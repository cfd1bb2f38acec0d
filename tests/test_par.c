/* test_par.c: the worker threads of par.h. Every task runs once; the blocked
 * sums are the block sums added in order; and a few training steps through
 * the wide (BLAS) path give the same bits on 1, 2 and 3 threads (OpenBLAS held
 * at one thread, since its own products differ in the last bits by thread
 * count). */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/loss.h"
#include "core/metrics.h"
#include "core/mlp.h"
#include "core/optim.h"
#include "core/par.h"
#include "core/penalty.h"
#include "core/sums.h"
#include "model_util.h"

static void count_task(void *ctx, long i)
{
    int *hits = ctx;
    __atomic_fetch_add(&hits[i], 1, __ATOMIC_RELAXED);
}

static void count_range(void *ctx, size_t lo, size_t hi)
{
    unsigned char *hits = ctx;
    for (size_t i = lo; i < hi; i++)
        hits[i]++; /* ranges are disjoint: no two threads share an entry */
}

static void test_tasks(void)
{
    static const long ns[] = { 0, 1, 2, 7, 1000 };
    static const size_t lens[] = { 0, 1, ST_PAR_BLOCK, ST_PAR_BLOCK + 1, 3 * ST_PAR_BLOCK + 5 };
    for (int threads = 1; threads <= 4; threads++) {
        CHECK(st_par_set_threads(threads) == threads);
        CHECK(st_par_threads() == threads);
        for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++) {
            int *hits = calloc((size_t)ns[c] + 1, sizeof *hits);
            for (int rep = 0; rep < 50; rep++) /* many jobs back to back */
                st_par_for(ns[c], count_task, hits);
            for (long i = 0; i < ns[c]; i++)
                CHECK(hits[i] == 50);
            free(hits);
        }
        for (size_t c = 0; c < sizeof lens / sizeof lens[0]; c++) {
            unsigned char *hits = calloc(lens[c] + 1, 1);
            st_par_range(lens[c], count_range, hits);
            size_t bad = 0;
            for (size_t i = 0; i < lens[c]; i++)
                bad += hits[i] != 1;
            CHECK(bad == 0);
            free(hits);
        }
    }
    st_par_set_threads(1);
    CHECK(st_par_threads() == 1);
}

/* Past one block the sums are the blocks' own sums added in block order, on
 * any number of threads; past 128 blocks they go in batches. */
static void test_blocked_sums(void)
{
    static const size_t lens[] = { ST_PAR_BLOCK, ST_PAR_BLOCK + 1, 5 * ST_PAR_BLOCK - 3,
                                   128 * ST_PAR_BLOCK + 77 };
    size_t nmax = lens[3];
    float *a = malloc(nmax * sizeof *a), *b = malloc(nmax * sizeof *b);
    for (size_t i = 0; i < nmax; i++) {
        a[i] = (float)((i * 2654435761u) % 1000003) * 1e-6f - 0.5f;
        b[i] = i % 3 == 0 ? a[i] : (float)((i * 40503u) % 65537) * 1e-5f;
    }
    for (size_t c = 0; c < sizeof lens / sizeof lens[0]; c++) {
        size_t n = lens[c];
        double ref_abs = 0.0, ref_sq = 0.0;
        size_t ref_above = 0, ref_equal = 0;
        for (size_t lo = 0; lo < n; lo += ST_PAR_BLOCK) {
            size_t len = n - lo < ST_PAR_BLOCK ? n - lo : ST_PAR_BLOCK, up, eq;
            ref_abs += st_sum_abs_diff(a + lo, b + lo, len);
            ref_sq += st_sum_sq_diff(a + lo, b + lo, len);
            double s = st_sum_abs_diff_count(a + lo, b + lo, len, 0.25, &up, &eq);
            CHECK(s == st_sum_abs_diff(a + lo, b + lo, len));
            ref_above += up;
            ref_equal += eq;
        }
        for (int threads = 1; threads <= 3; threads++) {
            size_t up, eq;
            st_par_set_threads(threads);
            CHECK(st_sum_abs_diff(a, b, n) == ref_abs);
            CHECK(st_sum_sq_diff(a, b, n) == ref_sq);
            CHECK(st_sum_abs_diff_count(a, b, n, 0.25, &up, &eq) == ref_abs);
            CHECK(up == ref_above);
            CHECK(eq == ref_equal);
            /* Both sums of the one-pass form: the bits of the separate ones
             * (b's distance to itself is 0 and counts every entry as equal). */
            double to_b = -1.0;
            CHECK(st_sum_abs_diff_count2(a, b, b, n, 0.25, &up, &eq, &to_b) == ref_abs);
            CHECK(to_b == ref_abs && up == ref_above && eq == ref_equal);
            CHECK(st_sum_abs_diff_count2(a, b, a, n, 0.25, &up, &eq, &to_b) == ref_abs);
            CHECK(to_b == 0.0);
        }
        CHECK(ref_equal >= n / 3);
    }
    st_par_set_threads(1);
    free(a);
    free(b);
}

/* Three steps of a 6 -> 300 -> 300 -> 4 net (its middle layer goes through
 * cblas_sgemm and the row passes) with the given optimizer and penalty,
 * proximal or not; the parameters and observables after them. */
struct after {
    struct st_params p;
    struct st_observables obs;
    double pen;
};

static void train3(int threads, enum st_optim_kind ok, enum st_penalty_kind pk, int prox,
                   struct after *out)
{
    const int widths[] = { 6, 300, 300, 4 };
    const int B = 37;
    struct st_err err;
    struct st_model net;
    struct st_params p0, g, h;
    struct st_work w;
    struct st_rng rng;
    struct st_optim opt;
    struct st_optim_cfg oc;
    struct st_penalty pen;
    float x[37 * 6], y[37 * 4], dy[37 * 4];

    st_par_set_threads(threads);
    CHECK_OK(mlp_model(&net, widths, 3, ST_ACT_TANH, &err));
    for (int l = 1; l <= 3; l++) /* every layer through BLAS and the row passes */
        st_mlp_of(&net)->blas[l] = 1;
    CHECK_OK(st_model_params(&net, &out->p, &err));
    CHECK_OK(st_params_twin(&p0, &out->p, &err));
    CHECK_OK(st_params_twin(&g, &out->p, &err));
    CHECK_OK(st_params_twin(&h, &out->p, &err));
    CHECK_OK(st_work_init(&w, &net, B, &err));
    st_rng_seed(&rng, 7, 1);
    st_model_draw(&net, &out->p, &rng, NULL);
    memcpy(p0.mem, out->p.mem, out->p.n * sizeof(float));
    st_rng_fill_uniform(&rng, x, B * 6, -1.0, 1.0);
    st_rng_fill_uniform(&rng, y, B * 4, -1.0, 1.0);
    st_optim_defaults(&oc, ok);
    oc.lr = 1e-2;
    oc.momentum = ok == ST_OPT_SGD ? 0.9 : 0.0;
    oc.weight_decay = 1e-3;
    CHECK_OK(st_optim_init(&opt, &oc, &out->p, &err));
    CHECK_OK(st_penalty_init(&pen, pk, ST_RED_MEAN, 1e-1, NULL, NULL, 0, &out->p, &err));
    for (int k = 0; k < 3; k++) {
        const float *yhat = st_model_forward(&net, &out->p, &w, x, B);
        st_mse_backward(dy, yhat, y, B * 4);
        memset(g.mem, 0, g.n * sizeof(float));
        st_model_backward(&net, &out->p, &w, &g, dy, B, NULL);
        if (!prox)
            st_penalty_grad(&pen, &g, &out->p, &p0);
        st_optim_step(&opt, &out->p, &g, NULL);
        if (prox) {
            st_optim_steps(&opt, &h, NULL);
            st_penalty_prox(&pen, &out->p, &p0, &h);
        }
    }
    CHECK_OK(st_observables_init(&out->obs, out->p.n_views, &err));
    st_observe(&out->obs, &out->p, &p0, NULL, 1e-6f);
    out->pen = st_penalty_value(&pen, &out->p, &p0);
    /* The observables' sums stand in for the l1 terms' own pass, bit for bit. */
    CHECK(st_penalty_value_with(&pen, &out->p, &p0, out->obs.sum_abs) == out->pen);
    st_par_set_threads(1);
    st_optim_free(&opt);
    st_penalty_free(&pen);
    st_work_free(&w);
    st_model_free(&net);
    st_params_free(&p0);
    st_params_free(&g);
    st_params_free(&h);
}

static void test_training_bits(void)
{
    static const struct {
        enum st_optim_kind opt;
        enum st_penalty_kind pen;
        int prox;
    } cases[] = { { ST_OPT_ADAM, ST_PEN_L1, 0 },  { ST_OPT_ADAM, ST_PEN_L1, 1 },
                  { ST_OPT_ADAMW, ST_PEN_L2, 0 }, { ST_OPT_ADAM, ST_PEN_L2, 1 },
                  { ST_OPT_SGD, ST_PEN_GROUP, 0 } };
    openblas_set_num_threads(1);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct after one, more;
        train3(1, cases[c].opt, cases[c].pen, cases[c].prox, &one);
        CHECK(one.obs.changed[2] > 0.5); /* it trained */
        for (int threads = 2; threads <= 3; threads++) {
            train3(threads, cases[c].opt, cases[c].pen, cases[c].prox, &more);
            CHECK(memcmp(one.p.mem, more.p.mem, one.p.n * sizeof(float)) == 0);
            for (int t = 0; t < one.obs.n; t++) {
                CHECK(one.obs.d_init[t] == more.obs.d_init[t]);
                CHECK(one.obs.changed[t] == more.obs.changed[t]);
                CHECK(one.obs.zero[t] == more.obs.zero[t]);
            }
            CHECK(one.pen == more.pen);
            st_params_free(&more.p);
            st_observables_free(&more.obs);
        }
        st_params_free(&one.p);
        st_observables_free(&one.obs);
    }
}

int main(void)
{
    test_tasks();
    test_blocked_sums();
    test_training_bits();
    return check_report("test_par");
}
