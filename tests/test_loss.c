/* test_loss.c: mse value by hand and its gradient by central differences. */
#include "check.h"
#include "core/loss.h"
#include "core/sums.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* xent in double, for the central differences. */
static double xent_ref(const double *z, const float *y, int B, int C)
{
    double s = 0.0;
    for (int b = 0; b < B; b++) {
        double m = z[b * C], e = 0.0;
        for (int j = 1; j < C; j++)
            m = fmax(m, z[b * C + j]);
        for (int j = 0; j < C; j++)
            e += exp(z[b * C + j] - m);
        s += m + log(e) - z[b * C + (int)y[b]];
    }
    return s / B;
}

static void test_xent(void)
{
    enum { B = 5, C = 4 };
    float z[B * C], dz[B * C], y[B] = { 0, 3, 1, 1, 2 };
    double zd[B * C];
    long correct = -1;
    for (int i = 0; i < B * C; i++) {
        z[i] = (float)sin(i * 0.9) * 2.0f;
        zd[i] = z[i];
    }
    CHECK_NEAR(st_xent_forward(z, y, B, C, &correct), xent_ref(zd, y, B, C), 1e-7, 1e-6);
    /* argmax by hand */
    long want = 0;
    for (int b = 0; b < B; b++) {
        int arg = 0;
        for (int j = 1; j < C; j++)
            if (z[b * C + j] > z[b * C + arg])
                arg = j;
        want += arg == (int)y[b];
    }
    CHECK(correct == want);
    st_xent_backward(dz, z, y, B, C);
    for (int i = 0; i < B * C; i++) {
        double h = 1e-5, keep = zd[i];
        zd[i] = keep + h;
        double lp = xent_ref(zd, y, B, C);
        zd[i] = keep - h;
        double lm = xent_ref(zd, y, B, C);
        zd[i] = keep;
        CHECK_NEAR(dz[i], (lp - lm) / (2 * h), 1e-7, 1e-5);
    }
    /* Each row of the gradient sums to zero; huge logits stay finite. */
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int j = 0; j < C; j++)
            s += (double)dz[b * C + j];
        CHECK_NEAR(s, 0.0, 1e-7, 0);
    }
    float big[2 * 3] = { 1000.0f, -1000.0f, 0.0f, -500.0f, 500.0f, 499.0f }, yb[2] = { 1, 2 };
    float l = st_xent_forward(big, yb, 2, 3, &correct);
    /* row 0: 2000 (label far below the max); row 1: log(1 + e) ~ 1.3133 */
    CHECK_NEAR(l, (2000.0 + (1.0 + log(1.0 + exp(-1.0)))) / 2, 1e-4, 1e-6);
    CHECK(correct == 0);
    st_xent_backward(dz, big, yb, 2, 3);
    for (int i = 0; i < 6; i++)
        CHECK(isfinite(dz[i]));
}

/* KL(softmax(y) || softmax(z)) averaged over the rows, in double. */
static double kl_ref(const double *z, const double *y, int B, int C)
{
    double s = 0.0;
    for (int b = 0; b < B; b++) {
        double ez = 0.0, ey = 0.0;
        for (int j = 0; j < C; j++) {
            ez += exp(z[b * C + j]);
            ey += exp(y[b * C + j]);
        }
        for (int j = 0; j < C; j++) {
            double p = exp(y[b * C + j]) / ey, q = exp(z[b * C + j]) / ez;
            s += p * log(p / q);
        }
    }
    return s / B;
}

/* kl against the reference and its gradient against central differences;
 * 0 for equal logits (also shifted by a constant); a set in pieces equals one
 * call. */
static void test_kl(void)
{
    enum { B = 4, C = 5 };
    float z[B * C], y[B * C], dz[B * C];
    double zd[B * C], yd[B * C];
    for (int i = 0; i < B * C; i++) {
        zd[i] = z[i] = (float)sin(i * 0.7) * 2.0f;
        yd[i] = y[i] = (float)cos(i * 1.3);
    }
    CHECK_NEAR(st_kl_forward(z, y, B, C), kl_ref(zd, yd, B, C), 1e-7, 1e-6);
    CHECK_NEAR(st_loss_forward(ST_LOSS_KL, z, y, B, C, NULL), kl_ref(zd, yd, B, C), 1e-7, 1e-6);
    st_kl_backward(dz, z, y, B, C);
    for (int i = 0; i < B * C; i++) {
        double h = 1e-5, keep = zd[i];
        zd[i] = keep + h;
        double lp = kl_ref(zd, yd, B, C);
        zd[i] = keep - h;
        double lm = kl_ref(zd, yd, B, C);
        zd[i] = keep;
        CHECK_NEAR(dz[i], (lp - lm) / (2 * h), 1e-7, 1e-5);
    }
    float shifted[B * C];
    for (int i = 0; i < B * C; i++)
        shifted[i] = y[i] + 3.0f;
    CHECK_NEAR(st_kl_forward(shifted, y, B, C), 0.0, 1e-7, 0);
    struct st_loss_sum a;
    st_loss_sum_init(&a, ST_LOSS_KL);
    st_loss_sum_add(&a, z, y, 1, C);
    st_loss_sum_add(&a, z + C, y + C, B - 1, C);
    CHECK(st_loss_sum_value(&a) == (double)st_kl_forward(z, y, B, C));
    CHECK(isnan(st_loss_sum_accuracy(&a)));
    CHECK(!strcmp(st_loss_name(ST_LOSS_KL), "kl") && st_loss_target_cols(ST_LOSS_KL, 5) == 5);
}

/* A set seen in pieces (an evaluation set, chunk by chunk) gives exactly the
 * value of one call over the whole: for mse across the 65,536-entry blocks of
 * the blocked sum, for xent by rows; pieces of every size, in order. */
static void test_pieces(void)
{
    enum { N = 3 * 65536 + 1237, C = 3, ROWS = N / C };
    float *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b), *lab = malloc(ROWS * sizeof *lab);
    if (!a || !b || !lab) {
        CHECK(0);
        return;
    }
    for (long i = 0; i < N; i++) {
        a[i] = (float)sin(i * 0.37) * 2.0f;
        b[i] = (float)cos(i * 1.13);
    }
    for (long r = 0; r < ROWS; r++)
        lab[r] = (float)(r % C);
    static const long pieces[] = { 1, 7, 16, 1000, 65535, 65536, 65537, 200000 };
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        struct st_loss_sum mse, xent;
        long rows = pieces[k];
        st_loss_sum_init(&mse, ST_LOSS_MSE);
        st_loss_sum_init(&xent, ST_LOSS_XENT);
        for (long r0 = 0; r0 < ROWS; r0 += rows) {
            long n = ROWS - r0 < rows ? ROWS - r0 : rows;
            st_loss_sum_add(&mse, a + r0 * C, b + r0 * C, n, C);
            st_loss_sum_add(&xent, a + r0 * C, lab + r0, n, C);
        }
        long hits;
        double whole = (double)st_loss_forward(ST_LOSS_MSE, a, b, ROWS, C, NULL);
        double whole_x = (double)st_loss_forward(ST_LOSS_XENT, a, lab, ROWS, C, &hits);
        CHECK(st_loss_sum_value(&mse) == whole);
        CHECK(st_loss_sum_value(&xent) == whole_x);
        CHECK(st_loss_sum_accuracy(&xent) == (double)hits / ROWS);
        CHECK(isnan(st_loss_sum_accuracy(&mse)));
    }
    /* The stream alone, against the blocked sum, at lengths around a block. */
    for (long n = 65530; n <= 65540; n++) {
        struct st_sum_stream s;
        st_sum_stream_init(&s);
        st_sum_stream_sq_diff(&s, a, b, (size_t)n / 3);
        st_sum_stream_sq_diff(&s, a + n / 3, b + n / 3, (size_t)(n - n / 3));
        CHECK(st_sum_stream_value(&s) == st_sum_sq_diff(a, b, (size_t)n));
    }
    /* Again on values of mixed scales, whose squares round (a fused
     * multiply-add in one of the sums would show here). */
    {
        const long n = 70001;
        float *c = malloc((size_t)n * sizeof *c), *d = malloc((size_t)n * sizeof *d);
        CHECK(c && d);
        uint64_t x = 12345;
        for (long i = 0; c && d && i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            c[i] = ldexpf((float)(x >> 40) / 16777216.0f - 0.5f, -(int)(x % 21));
            d[i] = ldexpf((float)((x >> 16) & 0xffffff) / 16777216.0f, -(int)((x >> 8) % 21));
        }
        struct st_sum_stream s;
        st_sum_stream_init(&s);
        st_sum_stream_sq_diff(&s, c, d, (size_t)n / 3);
        st_sum_stream_sq_diff(&s, c + n / 3, d + n / 3, (size_t)(n - n / 3));
        CHECK(st_sum_stream_value(&s) == st_sum_sq_diff(c, d, (size_t)n));
        free(c);
        free(d);
    }
    CHECK(st_loss_target_cols(ST_LOSS_XENT, 7) == 1 && st_loss_target_cols(ST_LOSS_MSE, 7) == 7);
    CHECK(!strcmp(st_loss_name(ST_LOSS_XENT), "xent") && st_loss_name((enum st_loss_kind)9) == NULL);
    free(a);
    free(b);
    free(lab);
}

int main(void)
{
    test_sums();
    test_xent();
    test_kl();
    test_pieces();
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
