/* loss.c: mean squared error and its gradient. */
#include "loss.h"

#include "sums.h"

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
