/* loss.h: data losses.
 * mse  = mean over rows x outputs of (yhat - y)^2.
 * xent = mean over the rows of -log softmax(z_r)[y_r], softmax cross-entropy
 *        of logits z[R, C] against class indices y[R] (PyTorch's
 *        nn.CrossEntropyLoss with its default mean reduction).
 * kl   = mean over the rows of KL(softmax(y_r) || softmax(z_r)), the student's
 *        logits z against a teacher's logits y (distillation).
 * A model's outputs come as [rows, cols] (model.h); targets are [rows, cols]
 * for mse and [rows] for xent. */
#ifndef ST_LOSS_H
#define ST_LOSS_H

#include "sums.h"

enum st_loss_kind { ST_LOSS_MSE, ST_LOSS_XENT, ST_LOSS_KL };

/* "mse" or "xent"; NULL for an unknown value. */
const char *st_loss_name(enum st_loss_kind k);
/* The names in enum order, NULL-terminated, and their count. */
extern const char *const st_loss_names[];
#define ST_LOSS_COUNT 3

/* What a figure calls the loss: "mse", "cross-entropy", "KL divergence". */
const char *st_loss_title(enum st_loss_kind k);

/* Target columns per output row: cols for mse and kl, 1 (the class) for xent. */
int st_loss_target_cols(enum st_loss_kind k, int cols);

/* The loss of outputs yhat[rows, cols] against targets y; *correct (may be
 * NULL; xent only) gets the rows whose first largest output is the label. */
float st_loss_forward(enum st_loss_kind k, const float *yhat, const float *y, long rows, int cols,
                      long *correct);

/* dy[rows, cols] = dLoss/dyhat. Sets dy (scratch, not a gradient). */
void st_loss_backward(enum st_loss_kind k, float *dy, const float *yhat, const float *y,
                      long rows, int cols);

/* The loss of a set seen in pieces (an evaluation set chunk by chunk), with
 * exactly the value st_loss_forward gives the whole set in one call. */
struct st_loss_sum {
    enum st_loss_kind kind;
    struct st_sum_stream sq; /* mse: the squares, in st_sum_sq_diff's order */
    double s;                /* xent, kl: the row terms in row order */
    long rows, entries, correct;
};
void st_loss_sum_init(struct st_loss_sum *a, enum st_loss_kind k);
void st_loss_sum_add(struct st_loss_sum *a, const float *yhat, const float *y, long rows,
                     int cols);
/* The loss so far, as st_loss_forward rounds it; the accuracy (xent; NaN for mse). */
double st_loss_sum_value(const struct st_loss_sum *a);
double st_loss_sum_accuracy(const struct st_loss_sum *a);

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

/* KL(softmax(y_b) || softmax(z_b)) averaged over the rows of logits z[B, C]
 * and target logits y[B, C]; each softmax around its row's maximum, sums in
 * double. */
float st_kl_forward(const float *z, const float *y, long B, int C);

/* dz[B, C] = d kl / d z = (softmax(z_b) - softmax(y_b)) / B. Sets dz. */
void st_kl_backward(float *dz, const float *z, const float *y, long B, int C);

#endif
