/* fisher.h: the mean diagonal of the Fisher information of the data loss per
 * tensor, the fisher reduction's measure of how much a unit change of an
 * entry moves the model's outputs (penalty.h).
 *
 * For mse it is the Gauss-Newton diagonal, F_i = sum over rows n and
 * outputs o of (d yhat_no / d theta_i)^2; for xent the Fisher of the model's
 * own predictive distribution, F_i = sum_n (J_n^T (diag p_n - p_n p_n^T) J_n)_ii
 * with J_n the logits' Jacobian. Both are estimated without per-row passes:
 * a probe backpropagates a random output gradient v over every row (mse:
 * v_no = +-1 with equal odds; xent: v_n = p_n - e_c with the class c drawn
 * from p_n), so that g = sum_n J_n^T v_n has E[g_i^2] = F_i. The estimate is
 * the mean of g_i^2 over the probes, then over the tensor's entries. */
#ifndef ST_FISHER_H
#define ST_FISHER_H

#include <stdint.h>

#include "loss.h"
#include "model.h"

/* The number of probes st_fisher_means averages. */
#define ST_FISHER_PROBES 64

/* out[t] = mean over view t's entries of F_i at theta, over the n rows of x,
 * in passes of w's rows; views with trainable[t] == 0 (NULL: all train) get
 * 0. probes random output gradients drawn from seed (rng.h's fisher stream).
 * Errors: ST_ERR_NOMEM. */
enum st_status st_fisher_means(const struct st_model *m, const struct st_params *theta,
                               struct st_work *w, enum st_loss_kind loss, const float *x, long n,
                               int probes, uint64_t seed, const unsigned char *trainable,
                               double *out, struct st_err *err);

#endif
