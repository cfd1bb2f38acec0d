/* test_act.c: activation values against known numbers and derivatives
 * against central differences of a double-precision reference. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "testutil.h"
#include "core/act.h"

int main(void)
{
    /* Reference values: gelu(1) = Phi(1) = 0.841344746, silu(1) = 1/(1+e^-1). */
    CHECK_NEAR(st_act_value(1.0f, ST_ACT_GELU), 0.841344746, 1e-6, 0);
    CHECK_NEAR(st_act_value(-1.0f, ST_ACT_GELU), -0.158655254, 1e-6, 0);
    CHECK_NEAR(st_act_value(1.0f, ST_ACT_SILU), 0.731058579, 1e-6, 0);
    CHECK_NEAR(st_act_value(0.5f, ST_ACT_TANH), 0.462117157, 1e-6, 0);
    CHECK(st_act_value(-2.0f, ST_ACT_RELU) == 0.0f && st_act_value(2.0f, ST_ACT_RELU) == 2.0f);
    CHECK(st_act_deriv(0.0f, ST_ACT_RELU) == 0.0f); /* documented choice at the kink */

    /* Derivatives: central differences in double with h = 1e-5 have truncation
     * error ~h^2 f''' ~ 1e-10, far below the float rounding of the derivative
     * itself (~1e-7 relative), hence atol 1e-6. Points avoid relu's kink. */
    const float zs[] = { -3.1f, -1.7f, -0.6f, -0.05f, 0.03f, 0.4f, 1.3f, 2.9f };
    for (int a = ST_ACT_RELU; a <= ST_ACT_LINEAR; a++) {
        for (unsigned i = 0; i < sizeof zs / sizeof zs[0]; i++) {
            double z = zs[i], h = 1e-5;
            double fd = (act_ref(z + h, a) - act_ref(z - h, a)) / (2 * h);
            CHECK_NEAR(st_act_deriv(zs[i], a), fd, 1e-6, 1e-6);
            CHECK_NEAR(st_act_value(zs[i], a), act_ref(z, a), 1e-6, 1e-6);
        }
        /* The fused loops agree with the scalar functions. */
        float z[8], h[8], dz[8], dh[8], b[4] = { 0.1f, -0.2f, 0.3f, -0.4f };
        memcpy(z, zs, sizeof z);
        st_act_bias_forward(h, z, b, 2, 4, a);
        for (int k = 0; k < 8; k++) {
            CHECK(z[k] == zs[k] + b[k % 4]);
            CHECK(h[k] == st_act_value(z[k], a));
            dh[k] = 0.5f + (float)k;
        }
        st_act_backward(dz, dh, z, 8, a);
        for (int k = 0; k < 8; k++)
            CHECK_NEAR(dz[k], dh[k] * st_act_deriv(z[k], a), 1e-6, 1e-6);
    }
    enum st_act a;
    CHECK(st_act_parse("gelu", &a) == 0 && a == ST_ACT_GELU);
    CHECK(st_act_parse("sigmoid", &a) == -1);
    return check_report("act");
}
