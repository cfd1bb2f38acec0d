/* metrics.h: per-tensor observables of a parameter buffer against references.
 * d(t, r) = mean_i |t_i - r_i| (the figures' "L1 distance"); changed fraction =
 * share of entries with |theta - theta0| > eps. */
#ifndef ST_METRICS_H
#define ST_METRICS_H

#include "linalg.h"
#include "params.h"

struct st_observables {
    int n;                                /* number of tensors */
    double d_init[ST_MAX_TENSORS];        /* to the start theta0 */
    double d_teacher[ST_MAX_TENSORS];     /* to the teacher (0 when there is none) */
    double changed[ST_MAX_TENSORS];       /* fraction with |Delta| > eps */
    double zero[ST_MAX_TENSORS];          /* count of entries with Delta exactly 0 */
};

/* Fills o for theta against theta0 and (optionally, may be NULL) teacher. */
void st_observe(struct st_observables *o, const struct st_params *theta,
                const struct st_params *theta0, const struct st_params *teacher, float eps);

/* Nuclear norm and numerical rank (singular values above rel_tol times the
 * largest) of Delta_W = theta_W - theta0_W for every weight view (even t),
 * into nuc[t/2], rank[t/2]. w must fit the largest weight; scratch holds as
 * many floats. Returns 0, or -1 if an SVD failed (values then NaN / -1). */
int st_spectrum(const struct st_params *theta, const struct st_params *theta0, struct st_svd *w,
                float *scratch, double rel_tol, double *nuc, int *rank);

/* share[t] = d_init[t] * size[t] / the sum over all t (0 everywhere when the
 * sum is 0): each tensor's part of the update's mass sum_i |Delta_i|, from
 * its mean |Delta| and its entry count. */
void st_update_shares(const double *d_init, const double *size, int n, double *share);

/* mean_i |a_i - b_i| in double. */
double st_dist_l1(const float *a, const float *b, size_t n);

#endif
