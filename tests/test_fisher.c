/* test_fisher.c: the fisher reduction's measure (core/fisher.h) against the
 * exact Fisher diagonal, computed row by row and output by output from the
 * model's own backward pass: for mse F_i = sum_n sum_o J_noi^2, for xent
 * F_i = sum_n (J_n^T (diag p_n - p_n p_n^T) J_n)_ii. The probe estimate with
 * many probes must agree per tensor within its sampling error; the same seed
 * must give the same numbers, frozen tensors 0, and passes in pieces the same
 * expectation as one pass. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model_util.h"
#include "core/fisher.h"
#include "core/rng.h"

#define ROWS 6

/* J[o][i]: d yhat_o / d theta_i of row n (in the views' float order). */
static void jacobian(const struct st_model *m, const struct st_params *th, struct st_work *w,
                     const float *x, int n, int cols, struct st_params *g, float *J)
{
    struct st_model_io io = st_model_io(m);
    for (int o = 0; o < cols; o++) {
        float dy[8] = { 0 };
        dy[o] = 1.0f;
        memset(g->mem, 0, g->n * sizeof(float));
        st_model_forward(m, th, w, x + (long)n * io.in, 1);
        st_model_backward(m, th, w, g, dy, 1, NULL);
        memcpy(J + (size_t)o * g->n, g->mem, g->n * sizeof(float));
    }
}

/* The exact per-view mean of the Fisher diagonal. */
static void exact(const struct st_model *m, const struct st_params *th, struct st_work *w,
                  enum st_loss_kind loss, const float *x, double *out)
{
    struct st_model_io io = st_model_io(m);
    struct st_params g;
    struct st_err err;
    int cols = (int)io.cols;
    CHECK_OK(st_params_twin(&g, th, &err));
    float *J = malloc((size_t)cols * g.n * sizeof *J);
    double *F = calloc(g.n, sizeof *F);
    for (int n = 0; n < ROWS; n++) {
        jacobian(m, th, w, x, n, cols, &g, J);
        double p[8], s = 0.0;
        const float *z = st_model_forward(m, th, w, x + (long)n * io.in, 1);
        for (int o = 0; o < cols; o++)
            s += p[o] = exp((double)z[o]);
        for (int o = 0; o < cols; o++)
            p[o] /= s;
        for (size_t i = 0; i < g.n; i++)
            for (int o = 0; o < cols; o++) {
                double jo = (double)J[(size_t)o * g.n + i];
                if (loss == ST_LOSS_MSE) {
                    F[i] += jo * jo;
                    continue;
                }
                for (int q = 0; q < cols; q++)
                    F[i] += jo * ((o == q ? p[o] : 0.0) - p[o] * p[q]) *
                            (double)J[(size_t)q * g.n + i];
            }
    }
    for (int t = 0; t < th->n_views; t++) {
        double a = 0.0;
        for (size_t i = 0; i < st_view_size(&th->v[t]); i++)
            a += F[th->v[t].offset + i];
        out[t] = a / (double)st_view_size(&th->v[t]);
    }
    free(J);
    free(F);
    st_params_free(&g);
}

static void check_loss(enum st_loss_kind loss)
{
    const int widths[] = { 3, 5, 4, 3 };
    struct st_model m;
    struct st_params th;
    struct st_work w, w2;
    struct st_rng rng;
    struct st_err err;
    float x[ROWS * 3];
    double want[6], got[6], again[6], pieces[6], frozen[6];
    CHECK_OK(mlp_model(&m, widths, 3, ST_ACT_TANH, &err));
    CHECK_OK(st_model_params(&m, &th, &err));
    st_rng_seed(&rng, 11, 1);
    st_model_draw(&m, &th, &rng, NULL);
    st_rng_fill_uniform(&rng, x, ROWS * 3, -1.0, 1.0);
    CHECK_OK(st_work_init(&w, &m, ROWS, &err));
    CHECK_OK(st_work_init(&w2, &m, 4, &err)); /* two passes: 4 rows, then 2 */
    exact(&m, &th, &w, loss, x, want);

    /* 20000 probes: a view's mean of g_i^2 has a relative sampling error of
     * at most about sqrt(2 / 20000) = 1%; 5% is five of those. */
    CHECK_OK(st_fisher_means(&m, &th, &w, loss, x, ROWS, 20000, 3, NULL, got, &err));
    CHECK_OK(st_fisher_means(&m, &th, &w, loss, x, ROWS, 20000, 3, NULL, again, &err));
    CHECK_OK(st_fisher_means(&m, &th, &w2, loss, x, ROWS, 20000, 4, NULL, pieces, &err));
    for (int t = 0; t < th.n_views; t++) {
        CHECK(want[t] > 0.0);
        CHECK_NEAR(got[t], want[t], 0.0, 0.05);
        CHECK_NEAR(pieces[t], want[t], 0.0, 0.05);
        CHECK(got[t] == again[t]); /* the same seed, the same numbers */
    }
    /* Frozen tensors get 0; the others keep their values. */
    unsigned char trainable[6] = { 1, 1, 0, 0, 1, 1 };
    CHECK_OK(st_fisher_means(&m, &th, &w, loss, x, ROWS, 20000, 3, trainable, frozen, &err));
    CHECK(frozen[2] == 0.0 && frozen[3] == 0.0);
    CHECK_NEAR(frozen[0], want[0], 0.0, 0.05);
    CHECK_NEAR(frozen[5], want[5], 0.0, 0.05);
    st_work_free(&w);
    st_work_free(&w2);
    st_params_free(&th);
    st_model_free(&m);
}

int main(void)
{
    check_loss(ST_LOSS_MSE);
    check_loss(ST_LOSS_XENT);
    return check_report("fisher");
}
