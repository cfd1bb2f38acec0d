/* test_loss.c: mse value by hand and its gradient by central differences. */
#include "check.h"
#include "core/loss.h"
#include "core/sums.h"

#include <math.h>

/* The interleaved sums against a plain double loop, for every tail length. */
static void test_sums(void)
{
    float a[40], b[40];
    for (int i = 0; i < 40; i++) {
        a[i] = (float)sin(i * 1.7) * 3.0f;
        b[i] = (float)cos(i * 0.3);
    }
    for (size_t n = 0; n <= 40; n++) {
        double s1 = 0.0, s2 = 0.0;
        for (size_t i = 0; i < n; i++) {
            double d = (double)a[i] - (double)b[i];
            s1 += fabs(d);
            s2 += d * d;
        }
        CHECK_NEAR(st_sum_abs_diff(a, b, n), s1, 1e-12, 1e-14);
        CHECK_NEAR(st_sum_sq_diff(a, b, n), s2, 1e-12, 1e-14);
    }
}

int main(void)
{
    test_sums();
    float yhat[4] = { 1.0f, -2.0f, 0.5f, 3.0f }, y[4] = { 0.0f, -1.0f, 0.5f, 1.0f };
    float dy[4];
    /* (1 + 1 + 0 + 4) / 4 */
    CHECK_NEAR(st_mse_forward(yhat, y, 4), 1.5, 0, 1e-7);
    st_mse_backward(dy, yhat, y, 4);
    for (int i = 0; i < 4; i++) {
        double h = 1e-3, s_plus = 0, s_minus = 0;
        for (int j = 0; j < 4; j++) {
            double d = (double)yhat[j] - (double)y[j] + (i == j ? h : 0);
            double e = (double)yhat[j] - (double)y[j] - (i == j ? h : 0);
            s_plus += d * d;
            s_minus += e * e;
        }
        /* mse is quadratic: central differences are exact up to rounding. */
        CHECK_NEAR(dy[i], (s_plus - s_minus) / 4 / (2 * h), 1e-6, 1e-6);
    }
    return check_report("loss");
}
