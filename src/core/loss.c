/* loss.c: mean squared error and softmax cross-entropy, their gradients, and
 * their sums over a set seen in pieces. */
#include "loss.h"

#include <math.h>
#include <string.h>

const char *const st_loss_names[] = { "mse", "xent", "kl", NULL };

const char *st_loss_name(enum st_loss_kind k)
{
    return (unsigned)k < ST_LOSS_COUNT ? st_loss_names[k] : NULL;
}

const char *st_loss_title(enum st_loss_kind k)
{
    return k == ST_LOSS_XENT ? "cross-entropy" : k == ST_LOSS_KL ? "KL divergence" : "mse";
}

int st_loss_target_cols(enum st_loss_kind k, int cols)
{
    return k == ST_LOSS_XENT ? 1 : cols;
}

float st_loss_forward(enum st_loss_kind k, const float *yhat, const float *y, long rows, int cols,
                      long *correct)
{
    if (k == ST_LOSS_XENT)
        return st_xent_forward(yhat, y, rows, cols, correct);
    if (k == ST_LOSS_KL)
        return st_kl_forward(yhat, y, rows, cols);
    return st_mse_forward(yhat, y, rows * cols);
}

void st_loss_backward(enum st_loss_kind k, float *dy, const float *yhat, const float *y,
                      long rows, int cols)
{
    if (k == ST_LOSS_XENT)
        st_xent_backward(dy, yhat, y, rows, cols);
    else if (k == ST_LOSS_KL)
        st_kl_backward(dy, yhat, y, rows, cols);
    else
        st_mse_backward(dy, yhat, y, rows * cols);
}

/* One row's cross-entropy term; *hit when its first largest logit is the label. */
static double xent_row(const float *zb, float y, int C, int *hit)
{
    int label = (int)y, arg = 0;
    for (int j = 1; j < C; j++)
        if (zb[j] > zb[arg])
            arg = j;
    double m = (double)zb[arg], e = 0.0;
    for (int j = 0; j < C; j++)
        e += exp((double)zb[j] - m);
    *hit = arg == label;
    return m + log(e) - (double)zb[label];
}

/* A row's log-sum-exp around its maximum, and that maximum. */
static double log_sum_exp(const float *z, int C, double *max)
{
    double m = (double)z[0], e = 0.0;
    for (int j = 1; j < C; j++)
        if ((double)z[j] > m)
            m = (double)z[j];
    for (int j = 0; j < C; j++)
        e += exp((double)z[j] - m);
    *max = m;
    return m + log(e);
}

/* One row's KL(softmax(y) || softmax(z)) = sum_j p_j (log p_j - log q_j). */
static double kl_row(const float *z, const float *y, int C)
{
    double mz, my, lz = log_sum_exp(z, C, &mz), ly = log_sum_exp(y, C, &my), s = 0.0;
    for (int j = 0; j < C; j++) {
        double lp = (double)y[j] - ly;
        s += exp(lp) * (lp - ((double)z[j] - lz));
    }
    return s;
}

void st_loss_sum_init(struct st_loss_sum *a, enum st_loss_kind k)
{
    memset(a, 0, sizeof *a);
    a->kind = k;
    st_sum_stream_init(&a->sq);
}

void st_loss_sum_add(struct st_loss_sum *a, const float *yhat, const float *y, long rows,
                     int cols)
{
    a->rows += rows;
    a->entries += rows * cols;
    if (a->kind == ST_LOSS_MSE) {
        st_sum_stream_sq_diff(&a->sq, yhat, y, (size_t)rows * (size_t)cols);
        return;
    }
    for (long b = 0; b < rows; b++) {
        int hit;
        if (a->kind == ST_LOSS_KL) {
            a->s += kl_row(yhat + b * cols, y + b * cols, cols);
            continue;
        }
        a->s += xent_row(yhat + b * cols, y[b], cols, &hit);
        a->correct += hit;
    }
}

double st_loss_sum_value(const struct st_loss_sum *a)
{
    if (a->kind == ST_LOSS_MSE)
        return (double)(float)(st_sum_stream_value(&a->sq) / (double)a->entries);
    return (double)(float)(a->s / (double)a->rows);
}

double st_loss_sum_accuracy(const struct st_loss_sum *a)
{
    return a->kind == ST_LOSS_XENT ? (double)a->correct / (double)a->rows : (double)NAN;
}

float st_mse_forward(const float *yhat, const float *y, long n)
{
    return (float)(st_sum_sq_diff(yhat, y, (size_t)n) / (double)n);
}

void st_mse_backward(float *dy, const float *yhat, const float *y, long n)
{
    float scale = 2.0f / (float)n;
    for (long i = 0; i < n; i++)
        dy[i] = scale * (yhat[i] - y[i]);
}

float st_xent_forward(const float *z, const float *y, long B, int C, long *correct)
{
    double s = 0.0;
    long hits = 0;
    for (long b = 0; b < B; b++) {
        int hit;
        s += xent_row(z + b * C, y[b], C, &hit);
        hits += hit;
    }
    if (correct)
        *correct = hits;
    return (float)(s / (double)B);
}

void st_xent_backward(float *dz, const float *z, const float *y, long B, int C)
{
    for (long b = 0; b < B; b++) {
        const float *zb = z + b * C;
        float *db = dz + b * C;
        int label = (int)y[b];
        double m = (double)zb[0], e = 0.0;
        for (int j = 1; j < C; j++)
            if ((double)zb[j] > m)
                m = (double)zb[j];
        for (int j = 0; j < C; j++)
            e += exp((double)zb[j] - m);
        for (int j = 0; j < C; j++)
            db[j] = (float)((exp((double)zb[j] - m) / e - (j == label)) / (double)B);
    }
}

float st_kl_forward(const float *z, const float *y, long B, int C)
{
    double s = 0.0;
    for (long b = 0; b < B; b++)
        s += kl_row(z + b * C, y + b * C, C);
    return (float)(s / (double)B);
}

void st_kl_backward(float *dz, const float *z, const float *y, long B, int C)
{
    for (long b = 0; b < B; b++) {
        const float *zb = z + b * C, *yb = y + b * C;
        double mz, my, lz = log_sum_exp(zb, C, &mz), ly = log_sum_exp(yb, C, &my);
        for (int j = 0; j < C; j++)
            dz[b * C + j] = (float)((exp((double)zb[j] - lz) - exp((double)yb[j] - ly)) /
                                    (double)B);
    }
}
