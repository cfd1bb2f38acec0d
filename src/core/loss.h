/* loss.h: data losses.
 * mse  = mean over batch x outputs of (yhat - y)^2.
 * xent = mean over the batch of -log softmax(z_b)[y_b], softmax cross-entropy
 *        of logits z[B, C] against class indices y[B] (PyTorch's
 *        nn.CrossEntropyLoss with its default mean reduction). */
#ifndef ST_LOSS_H
#define ST_LOSS_H

/* Mean squared error of yhat[n] against y[n] (accumulated in double). */
float st_mse_forward(const float *yhat, const float *y, long n);

/* dy[n] = d mse / d yhat = 2 (yhat - y) / n. Sets dy (it is scratch, not a gradient). */
void st_mse_backward(float *dy, const float *yhat, const float *y, long n);

/* Softmax cross-entropy of logits z[B, C] (row-major) against labels y[B],
 * integer class indices 0..C-1 stored as floats (the caller checks them).
 * Each row's log-sum-exp is taken around its maximum, the sum in double.
 * *correct (may be NULL) gets the count of rows whose first largest logit is
 * the label. */
float st_xent_forward(const float *z, const float *y, long B, int C, long *correct);

/* dz[B, C] = d xent / d z = (softmax(z_b) - onehot(y_b)) / B. Sets dz. */
void st_xent_backward(float *dz, const float *z, const float *y, long B, int C);

#endif
