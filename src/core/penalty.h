/* penalty.h: penalties on the update Delta = theta - theta0, per tensor t with
 * n_t entries and multiplier c_t (--lambda-scale, 1 by default). Each term is
 * c_t * w_t * raw_t with
 *   l1       raw_t = sum_i |Delta_ti|,  base_t = 1
 *   group    raw_t = ||Delta_t||_2,     base_t = sqrt(n_t)   (one group per tensor)
 *   layer    raw_u = ||Delta_u||_2,     base_u = sqrt(n_u)   (one group per unit: an
 *            MLP layer's weight and bias together; see below)
 *   nuclear  raw_t = ||Delta_W||_*, base_t = 1, for matrices; vectors (biases,
 *            norms): nothing, or l1 with nuclear_bias_l1
 *   l2       raw_t = ||Delta_t||_2^2 / 2, base_t = 1               (L2-SP)
 * and the reduction's weight w_t of a tensor (or unit) of n entries:
 *   mean     base / n           (the seed's: l1 is the mean |Delta|, group the RMS)
 *   sum      base               (every entry costs the same)
 *   sqrt     base / sqrt(n)     (between the two)
 *   fisher   base * rho_t, rho_t = sqrt(F_t / F_all): F_t is the mean diagonal
 *            of the Fisher information (Gauss-Newton for mse) of the data loss
 *            over the entries of t at theta0, F_all the same over every
 *            trainable entry (st_penalty_set_fisher). An entry whose change
 *            moves the model's outputs more costs more, whatever the size or
 *            depth of its tensor. F_t is floored at 1e-6 F_all (rho >= 1e-3),
 *            so that a tensor the outputs do not see at theta0 is not free.
 * R = sum of the terms over the trainable tensors (units); the loss is data
 * loss + lambda * R. A unit of the layer penalty holds its trainable tensors
 * whose multiplier is not 0; its multiplier c_u is the largest of theirs.
 * Subgradients use sign(0) = 0 and, at Delta = 0, the zero subgradient. */
#ifndef ST_PENALTY_H
#define ST_PENALTY_H

#include "linalg.h"
#include "params.h"

enum st_penalty_kind { ST_PEN_NONE, ST_PEN_L1, ST_PEN_GROUP, ST_PEN_NUCLEAR, ST_PEN_L2, ST_PEN_LAYER };
enum st_reduction { ST_RED_MEAN, ST_RED_SUM, ST_RED_SQRT, ST_RED_FISHER };

struct st_penalty {
    enum st_penalty_kind kind;
    enum st_reduction reduction;
    int nuclear_bias_l1;               /* nuclear: vectors get the l1 term */
    double lambda;
    int n;                             /* tensors */
    double *scale;                     /* [n] c_t */
    unsigned char *trainable;          /* [n] */
    unsigned char *matrix;             /* [n] 2-D views (nuclear applies to them) */
    struct st_svd svd;                 /* nuclear: workspace */
    float *delta;                      /* group, nuclear, layer: [largest tensor or unit] Delta scratch */
    float *hs;                         /* layer: [largest unit] the optimizer's steps, gathered */
    double *fisher;                    /* [n] F_t (fisher reduction; 1 until set) */
    int *unit;                         /* [n] the unit of each view, 0..n_units-1 */
    size_t *size;                      /* [n] entries per view */
    double *cw;                        /* [n] c * w of the view's term (layer: its unit's) */
    int *first;                        /* layer: [n] the first active view of each view's unit */
    double *norm;                      /* layer: [n] ||Delta_u|| at its unit's first view, per step */
    int n_units;
    int svd_failed;                    /* set when LAPACK's SVD did not converge */
};

/* The names in enum order, NULL-terminated. */
extern const char *const st_penalty_names[];
extern const char *const st_reduction_names[];

const char *st_penalty_name(enum st_penalty_kind k);
int st_penalty_parse(const char *s, enum st_penalty_kind *k);
const char *st_reduction_name(enum st_reduction r);
int st_reduction_parse(const char *s, enum st_reduction *r);

/* Sets up p for a parameter layout; scale and trainable (per view) may be
 * NULL (all 1). Errors: ST_ERR_NOMEM. Free with st_penalty_free(). */
enum st_status st_penalty_init(struct st_penalty *p, enum st_penalty_kind kind,
                               enum st_reduction red, double lambda, const double *scale,
                               const unsigned char *trainable, int nuclear_bias_l1,
                               const struct st_params *layout, struct st_err *err);
void st_penalty_free(struct st_penalty *p);

/* The fisher reduction's F_t (mean Fisher diagonal over view t's entries at
 * theta0, any common scale), copied. */
void st_penalty_set_fisher(struct st_penalty *p, const double *f);

/* The price factor the reduction gives view t's term, w_t / base_t (for the
 * layer penalty: that of t's unit); reports print it. NaN when t has no term:
 * frozen, multiplier 0, no penalty for its kind, or lambda 0. */
double st_penalty_price(const struct st_penalty *p, int t);

/* The kind that applies to view t (nuclear on a vector: none or l1). */
enum st_penalty_kind st_penalty_kind_of(const struct st_penalty *p, int t);

/* 1 if the proximal step of this penalty can set view t exactly back to its
 * start: t is trainable, its multiplier is not 0, lambda > 0, and its kind is
 * l1, group, layer or nuclear (l2 only shrinks). */
int st_penalty_exact(const struct st_penalty *p, int t);

/* R(theta) without lambda (double precision). */
double st_penalty_value(struct st_penalty *p, const struct st_params *theta,
                        const struct st_params *theta0);

/* The same, with sum_abs[t] (NULL: summed here) the sum of |theta - theta0|
 * over view t as st_sum_abs_diff gives it, which the observables of the
 * same theta hold (metrics.h): the l1 terms then cost no pass of their own. */
double st_penalty_value_with(struct st_penalty *p, const struct st_params *theta,
                             const struct st_params *theta0, const double *sum_abs);

/* Subgradient step: g += lambda * dR/dtheta. */
void st_penalty_grad(struct st_penalty *p, struct st_params *g, const struct st_params *theta,
                     const struct st_params *theta0);

/* Proximal step after an optimizer update on the smooth loss: Delta becomes
 * argmin_z 1/2 sum_i (z_i - Delta_i)^2 / h_i + lambda * term_t(z), with h the
 * optimizer's per-coordinate step (Adam lr/(sqrt(v_hat)+eps), SGD lr):
 *   l1       soft-thresholding by h_i * lambda * c_t * w_t (exact zeros);
 *   group    exact block shrinkage in the diagonal metric (a 1-D root solve);
 *   layer    the same over each unit's entries together;
 *   nuclear  singular value thresholding with the tensor's harmonic mean step;
 *   l2       Delta_i / (1 + h_i * lambda * c_t * w_t).
 * Entries shrunk to zero are set to theta0 exactly. A tensor whose lambda *
 * c_t is 0 is left untouched, so lambda = 0 is the plain optimizer step. */
void st_penalty_prox(struct st_penalty *p, struct st_params *theta, const struct st_params *theta0,
                     const struct st_params *h);

/* Whether st_penalty_prox is l1's soft threshold in every tensor it changes
 * (so st_optim_step_prox_l1 can take it into the optimizer's pass): then
 * c[t] = lambda * c_t * w_t for those, -1 for the tensors it leaves alone
 * (all of them when lambda is 0), and returns 1; else 0. */
int st_penalty_l1_factors(const struct st_penalty *p, double *c);

/* Closed-form operators, exposed for tests. */
/* x <- sign(x) max(|x| - tau_i, 0) */
void st_prox_soft(float *x, const float *tau, size_t n);
/* x <- argmin 1/2 sum (z-x)^2/h + tau ||z||_2 (h NULL: all 1); returns 1 if zeroed. */
int st_prox_group(float *x, const float *h, size_t n, double tau);
/* A[m,n] <- U diag(max(s - tau, 0)) V^T; returns the rank kept. */
int st_prox_svt(struct st_svd *w, float *A, int m, int n, double tau);

#endif
