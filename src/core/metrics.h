/* metrics.h: per-tensor observables of a parameter buffer against references.
 * d(t, r) = mean_i |t_i - r_i| (the figures' "L1 distance"); changed fraction =
 * share of entries with |theta - theta0| > eps. */
#ifndef ST_METRICS_H
#define ST_METRICS_H

#include "linalg.h"
#include "params.h"

struct st_observables {
    int n;              /* number of tensors */
    double *d_init;     /* [n] to the start theta0 */
    double *d_teacher;  /* [n] to the teacher (0 when there is none) */
    double *changed;    /* [n] fraction with |Delta| > eps */
    double *zero;       /* [n] count of entries with Delta exactly 0 */
    double *sum_abs;    /* [n] sum of |Delta|, st_sum_abs_diff's bits (st_penalty_value_with) */
    double *mem;        /* owns the arrays */
};

/* Arrays for n tensors. Errors: ST_ERR_NOMEM. Free with st_observables_free. */
enum st_status st_observables_init(struct st_observables *o, int n, struct st_err *err);
void st_observables_free(struct st_observables *o);

/* Fills o (sized for theta's views) for theta against theta0 and
 * (optionally, may be NULL) teacher. */
void st_observe(struct st_observables *o, const struct st_params *theta,
                const struct st_params *theta0, const struct st_params *teacher, float eps);

/* Nuclear norm and numerical rank (singular values above rel_tol times the
 * largest) of Delta_W = theta_W - theta0_W for every matrix view t, into
 * nuc[t], rank[t] (vectors are left alone). w must fit the largest matrix;
 * scratch holds as many floats. Returns 0, or -1 if an SVD failed (its
 * values then NaN / -1). */
int st_spectrum(const struct st_params *theta, const struct st_params *theta0, struct st_svd *w,
                float *scratch, double rel_tol, double *nuc, int *rank);

/* share[t] = d_init[t] * size[t] / the sum over all t (0 everywhere when the
 * sum is 0): each tensor's part of the update's mass sum_i |Delta_i|, from
 * its mean |Delta| and its entry count. */
void st_update_shares(const double *d_init, const double *size, int n, double *share);

/* mean_i |a_i - b_i| in double. */
double st_dist_l1(const float *a, const float *b, size_t n);

#endif
