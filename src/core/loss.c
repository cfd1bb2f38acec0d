/* loss.c: mean squared error and its gradient. */
#include "loss.h"

#include "sums.h"

#include <math.h>

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
        const float *zb = z + b * C;
        int label = (int)y[b], arg = 0;
        for (int j = 1; j < C; j++)
            if (zb[j] > zb[arg])
                arg = j;
        double m = (double)zb[arg], e = 0.0;
        for (int j = 0; j < C; j++)
            e += exp((double)zb[j] - m);
        s += m + log(e) - (double)zb[label];
        hits += arg == label;
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
