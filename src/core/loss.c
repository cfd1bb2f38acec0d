/* loss.c: mean squared error and its gradient. */
#include "loss.h"

float st_mse_forward(const float *yhat, const float *y, long n)
{
    double s = 0.0;
    for (long i = 0; i < n; i++) {
        double d = (double)yhat[i] - (double)y[i];
        s += d * d;
    }
    return (float)(s / (double)n);
}

void st_mse_backward(float *dy, const float *yhat, const float *y, long n)
{
    float scale = 2.0f / (float)n;
    for (long i = 0; i < n; i++)
        dy[i] = scale * (yhat[i] - y[i]);
}
