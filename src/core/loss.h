/* loss.h: data losses. mse = mean over batch x outputs of (yhat - y)^2. */
#ifndef ST_LOSS_H
#define ST_LOSS_H

/* Mean squared error of yhat[n] against y[n] (accumulated in double). */
float st_mse_forward(const float *yhat, const float *y, long n);

/* dy[n] = d mse / d yhat = 2 (yhat - y) / n. Sets dy (it is scratch, not a gradient). */
void st_mse_backward(float *dy, const float *yhat, const float *y, long n);

#endif
