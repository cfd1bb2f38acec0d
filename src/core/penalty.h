/* penalty.h: penalties on the update Delta = theta - theta0, per tensor t with
 * n_t entries and multiplier c_t (--lambda-scale, 1 by default). With the
 * reduction `sum`, tensor t's term is
 *   l1       c_t * sum_i |Delta_ti|
 *   group    c_t * sqrt(n_t) * ||Delta_t||_2          (one group per tensor)
 *   nuclear  c_t * ||Delta_W||_*  for matrices; vectors (biases, norms): nothing,
 *            or l1 with nuclear_bias_l1
 *   l2       c_t * ||Delta_t||_2^2 / 2                  (L2-SP)
 * and with `mean` (the default, the seed's) every term is divided by n_t, so
 * that l1 becomes the mean |Delta| and group the RMS of Delta. R = sum_t term_t
 * over the trainable tensors; the loss is data loss + lambda * R.
 * Subgradients use sign(0) = 0 and, at Delta_t = 0, the zero subgradient. */
#ifndef ST_PENALTY_H
#define ST_PENALTY_H

#include "linalg.h"
#include "params.h"

enum st_penalty_kind { ST_PEN_NONE, ST_PEN_L1, ST_PEN_GROUP, ST_PEN_NUCLEAR, ST_PEN_L2 };
enum st_reduction { ST_RED_MEAN, ST_RED_SUM };

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
    float *delta;                      /* group, nuclear: [largest tensor] Delta scratch */
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

/* The kind that applies to view t (nuclear on a vector: none or l1). */
enum st_penalty_kind st_penalty_kind_of(const struct st_penalty *p, int t);

/* 1 if the proximal step of this penalty can set view t exactly back to its
 * start: t is trainable, its multiplier is not 0, lambda > 0, and its kind is
 * l1, group or nuclear (l2 only shrinks). */
int st_penalty_exact(const struct st_penalty *p, int t);

/* R(theta) without lambda (double precision). */
double st_penalty_value(struct st_penalty *p, const struct st_params *theta,
                        const struct st_params *theta0);

/* Subgradient step: g += lambda * dR/dtheta. */
void st_penalty_grad(struct st_penalty *p, struct st_params *g, const struct st_params *theta,
                     const struct st_params *theta0);

/* Proximal step after an optimizer update on the smooth loss: Delta becomes
 * argmin_z 1/2 sum_i (z_i - Delta_i)^2 / h_i + lambda * term_t(z), with h the
 * optimizer's per-coordinate step (Adam lr/(sqrt(v_hat)+eps), SGD lr):
 *   l1       soft-thresholding by h_i * lambda * c_t * w_t (exact zeros);
 *   group    exact block shrinkage in the diagonal metric (a 1-D root solve);
 *   nuclear  singular value thresholding with the tensor's harmonic mean step;
 *   l2       Delta_i / (1 + h_i * lambda * c_t * w_t).
 * Entries shrunk to zero are set to theta0 exactly. A tensor whose lambda *
 * c_t is 0 is left untouched, so lambda = 0 is the plain optimizer step. */
void st_penalty_prox(struct st_penalty *p, struct st_params *theta, const struct st_params *theta0,
                     const struct st_params *h);

/* Closed-form operators, exposed for tests. */
/* x <- sign(x) max(|x| - tau_i, 0) */
void st_prox_soft(float *x, const float *tau, size_t n);
/* x <- argmin 1/2 sum (z-x)^2/h + tau ||z||_2 (h NULL: all 1); returns 1 if zeroed. */
int st_prox_group(float *x, const float *h, size_t n, double tau);
/* A[m,n] <- U diag(max(s - tau, 0)) V^T; returns the rank kept. */
int st_prox_svt(struct st_svd *w, float *A, int m, int n, double tau);

#endif
