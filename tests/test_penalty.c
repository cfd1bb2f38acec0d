/* test_penalty.c: the l1-to-init penalty's value (mean and sum reductions) by
 * hand, its subgradient against central differences away from the kink, and
 * sign(0) = 0 at the kink. */
#include <string.h>

#include "check.h"
#include "core/penalty.h"

int main(void)
{
    struct st_params th, th0, g;
    struct st_err err;
    const int w[] = { 2, 3 }; /* w1 [3,2] (6 entries), b1 [3] */
    CHECK_OK(st_params_init(&th, w, 1, &err));
    CHECK_OK(st_params_twin(&th0, &th, &err));
    CHECK_OK(st_params_twin(&g, &th, &err));
    const float dw[6] = { 0.5f, -0.25f, 0.0f, 1.0f, -2.0f, 0.125f };
    const float db[3] = { -0.5f, 0.0f, 0.75f };
    for (int i = 0; i < 6; i++) {
        th0.v[0].data[i] = 0.1f * (float)i;
        th.v[0].data[i] = th0.v[0].data[i] + dw[i];
    }
    for (int i = 0; i < 3; i++) {
        th0.v[1].data[i] = -0.3f;
        th.v[1].data[i] = -0.3f + db[i];
    }
    /* mean: (0.5+0.25+0+1+2+0.125)/6 + (0.5+0+0.75)/3 = 0.6458333 + 0.4166667 */
    double sw = 3.875, sb = 1.25;
    CHECK_NEAR(st_penalty_value(ST_PEN_L1, ST_RED_MEAN, &th, &th0, NULL), sw / 6 + sb / 3, 1e-6,
               1e-6);
    CHECK_NEAR(st_penalty_value(ST_PEN_L1, ST_RED_SUM, &th, &th0, NULL), sw + sb, 1e-6, 1e-6);
    unsigned char only_b[2] = { 0, 1 };
    CHECK_NEAR(st_penalty_value(ST_PEN_L1, ST_RED_MEAN, &th, &th0, only_b), sb / 3, 1e-6, 1e-6);
    CHECK(st_penalty_value(ST_PEN_NONE, ST_RED_MEAN, &th, &th0, NULL) == 0.0);

    /* Subgradient: lambda * sign(delta) / n_t; exactly 0 where delta == 0. */
    double lambda = 1e-3;
    for (int red = ST_RED_MEAN; red <= ST_RED_SUM; red++) {
        memset(g.mem, 0, g.n * sizeof(float));
        st_penalty_grad(ST_PEN_L1, (enum st_reduction)red, lambda, &g, &th, &th0, NULL);
        for (int t = 0; t < 2; t++) {
            size_t n = st_view_size(&th.v[t]);
            for (size_t i = 0; i < n; i++) {
                float d = th.v[t].data[i] - th0.v[t].data[i];
                if (d == 0.0f) {
                    CHECK(g.v[t].data[i] == 0.0f);
                    continue;
                }
                /* Central difference of lambda*R in double with h = 1e-3, far
                 * smaller than every nonzero |delta| here (>= 0.125): exact for
                 * the piecewise-linear penalty up to float rounding of R. */
                double h = 1e-3, v = th.v[t].data[i];
                th.v[t].data[i] = (float)(v + h);
                double rp = st_penalty_value(ST_PEN_L1, (enum st_reduction)red, &th, &th0, NULL);
                th.v[t].data[i] = (float)(v - h);
                double rm = st_penalty_value(ST_PEN_L1, (enum st_reduction)red, &th, &th0, NULL);
                th.v[t].data[i] = (float)v;
                CHECK_NEAR(g.v[t].data[i], lambda * (rp - rm) / (2 * h), 1e-9, 1e-3);
            }
        }
    }
    /* Adds into g rather than overwriting; frozen tensors get nothing. */
    for (size_t i = 0; i < g.n; i++)
        g.mem[i] = 1.0f;
    unsigned char only_w[2] = { 1, 0 };
    st_penalty_grad(ST_PEN_L1, ST_RED_MEAN, lambda, &g, &th, &th0, only_w);
    CHECK_NEAR(g.v[0].data[0], 1.0 + lambda / 6, 1e-7, 0);
    CHECK(g.v[1].data[0] == 1.0f);
    st_params_free(&th);
    st_params_free(&th0);
    st_params_free(&g);
    return check_report("penalty");
}
