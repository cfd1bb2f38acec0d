/* penalty.c: values, subgradients and proximal steps of the penalties on the
 * update Delta = theta - theta0. Per tensor, term_t = c_t * w_t * raw_t with
 * raw_t = sum|Delta|, ||Delta||_2, ||Delta_W||_* or ||Delta||^2/2, and
 * w_t = base_t / (mean ? n_t : 1), base_t = sqrt(n_t) for group, else 1. */
#include "penalty.h"

#include "par.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sums.h"

const char *const st_penalty_names[] = { "none", "l1", "group", "nuclear", "l2", NULL };
const char *const st_reduction_names[] = { "mean", "sum", NULL };
#define N_PEN 5

const char *st_penalty_name(enum st_penalty_kind k)
{
    return (unsigned)k < N_PEN ? st_penalty_names[k] : NULL;
}

int st_penalty_parse(const char *s, enum st_penalty_kind *k)
{
    for (unsigned i = 0; i < N_PEN; i++)
        if (strcmp(s, st_penalty_names[i]) == 0) {
            *k = (enum st_penalty_kind)i;
            return 0;
        }
    return -1;
}

const char *st_reduction_name(enum st_reduction r)
{
    return (unsigned)r < 2 ? st_reduction_names[r] : NULL;
}

int st_reduction_parse(const char *s, enum st_reduction *r)
{
    for (unsigned i = 0; i < 2; i++)
        if (strcmp(s, st_reduction_names[i]) == 0) {
            *r = (enum st_reduction)i;
            return 0;
        }
    return -1;
}

enum st_status st_penalty_init(struct st_penalty *p, enum st_penalty_kind kind,
                               enum st_reduction red, double lambda, const double *scale,
                               const unsigned char *trainable, int nuclear_bias_l1,
                               const struct st_params *layout, struct st_err *err)
{
    int n = layout->n_views;
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->reduction = red;
    p->lambda = lambda;
    p->nuclear_bias_l1 = nuclear_bias_l1;
    p->n = n;
    p->scale = malloc((size_t)(n ? n : 1) * sizeof *p->scale);
    p->trainable = malloc((size_t)(n ? n : 1));
    p->matrix = malloc((size_t)(n ? n : 1));
    if (!p->scale || !p->trainable || !p->matrix) {
        st_penalty_free(p);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the penalty's multipliers");
    }
    for (int t = 0; t < n; t++) {
        p->scale[t] = scale ? scale[t] : 1.0;
        p->trainable[t] = trainable ? trainable[t] : 1;
        p->matrix[t] = layout->v[t].ndim == 2;
    }
    if (kind == ST_PEN_GROUP || kind == ST_PEN_NUCLEAR) {
        size_t most = 1;
        for (int t = 0; t < layout->n_views; t++) {
            size_t size = st_view_size(&layout->v[t]);
            most = size > most ? size : most;
        }
        p->delta = malloc(most * sizeof *p->delta);
        if (!p->delta) {
            st_penalty_free(p);
            return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the penalty's scratch");
        }
        if (kind == ST_PEN_NUCLEAR) {
            enum st_status st = st_svd_init(&p->svd, st_svd_max_entries(layout), err);
            if (st != ST_OK) {
                st_penalty_free(p);
                return st;
            }
        }
    }
    return ST_OK;
}

void st_penalty_free(struct st_penalty *p)
{
    if (!p)
        return;
    st_svd_free(&p->svd);
    free(p->delta);
    free(p->scale);
    free(p->trainable);
    free(p->matrix);
    memset(p, 0, sizeof *p);
}

enum st_penalty_kind st_penalty_kind_of(const struct st_penalty *p, int t)
{
    if (p->kind == ST_PEN_NUCLEAR && !p->matrix[t])
        return p->nuclear_bias_l1 ? ST_PEN_L1 : ST_PEN_NONE;
    return p->kind;
}

/* The kind that acts on view t in this run: none when t is frozen or its
 * multiplier is 0. */
static enum st_penalty_kind active_kind(const struct st_penalty *p, int t)
{
    if (!p->trainable[t] || p->scale[t] == 0.0)
        return ST_PEN_NONE;
    return st_penalty_kind_of(p, t);
}

int st_penalty_exact(const struct st_penalty *p, int t)
{
    enum st_penalty_kind k = active_kind(p, t);
    return p->lambda > 0.0 && (k == ST_PEN_L1 || k == ST_PEN_GROUP || k == ST_PEN_NUCLEAR);
}

/* w_t: the reduction's weight of tensor t's raw term. */
static double weight(const struct st_penalty *p, enum st_penalty_kind k, size_t n)
{
    double base = k == ST_PEN_GROUP ? sqrt((double)n) : 1.0;
    return p->reduction == ST_RED_MEAN ? base / (double)n : base;
}

/* p->delta = Delta of view a against b; returns it. */
static float *delta_of(struct st_penalty *p, const struct st_view *a, const struct st_view *b)
{
    size_t n = st_view_size(a);
    for (size_t i = 0; i < n; i++)
        p->delta[i] = a->data[i] - b->data[i];
    return p->delta;
}

static double raw_value(struct st_penalty *p, enum st_penalty_kind k, const struct st_view *a,
                        const struct st_view *b)
{
    size_t n = st_view_size(a);
    double s = 0.0;
    switch (k) {
    case ST_PEN_NONE: return 0.0;
    case ST_PEN_L1: return st_sum_abs_diff(a->data, b->data, n);
    case ST_PEN_GROUP:
    case ST_PEN_L2:
        s = st_sum_sq_diff(a->data, b->data, n);
        return k == ST_PEN_GROUP ? sqrt(s) : 0.5 * s;
    case ST_PEN_NUCLEAR: {
        int r = st_svd(&p->svd, delta_of(p, a, b), a->rows, a->cols, 0);
        if (r < 0) {
            p->svd_failed = 1;
            return (double)NAN;
        }
        for (int i = 0; i < r; i++)
            s += (double)p->svd.s[i];
        return s;
    }
    }
    return 0.0;
}

double st_penalty_value(struct st_penalty *p, const struct st_params *theta,
                        const struct st_params *theta0)
{
    double R = 0.0;
    for (int t = 0; t < theta->n_views; t++) {
        enum st_penalty_kind k = active_kind(p, t);
        if (k == ST_PEN_NONE)
            continue;
        size_t n = st_view_size(&theta->v[t]);
        R += p->scale[t] * weight(p, k, n) * raw_value(p, k, &theta->v[t], &theta0->v[t]);
    }
    return R;
}

/* Numerically zero singular values: below this fraction of the largest, a
 * direction carries rounding, not update, and gets no subgradient. */
#define SVD_REL_EPS 1e-6f

/* The elementwise parts of the gradient and the proximal step, one tensor
 * at a time, cut into ranges for the threads (par.h). */
struct pass {
    enum st_penalty_kind kind;
    float *out;              /* gradient or theta */
    const float *a, *b, *h;  /* theta, theta0, the optimizer's steps */
    float c;
};

/* out += dR/dtheta: c sign(Delta) for l1, c Delta for l2 and group (the
 * group's c already divided by ||Delta||). */
static void grad_range(void *ctx, size_t lo, size_t hi)
{
    const struct pass *q = ctx;
    float cf = q->c, *gt = q->out;
    const float *a = q->a, *b = q->b;
    if (q->kind == ST_PEN_L1)
        for (size_t i = lo; i < hi; i++) {
            float d = a[i] - b[i];
            gt[i] += d > 0.0f ? cf : d < 0.0f ? -cf : 0.0f;
        }
    else
        for (size_t i = lo; i < hi; i++)
            gt[i] += cf * (a[i] - b[i]);
}

/* theta = prox of c h R at theta, R = l1 (soft threshold) or l2 (shrink). */
static void prox_range(void *ctx, size_t lo, size_t hi)
{
    const struct pass *q = ctx;
    float cf = q->c, *d = q->out;
    const float *b = q->b, *ht = q->h;
    for (size_t i = lo; i < hi; i++) {
        float delta = d[i] - b[i], tau = ht[i] * cf;
        if (q->kind == ST_PEN_L1) {
            float m = fabsf(delta) - tau;
            d[i] = m > 0.0f ? b[i] + copysignf(m, delta) : b[i];
        } else {
            d[i] = b[i] + delta / (1.0f + tau);
        }
    }
}

void st_penalty_grad(struct st_penalty *p, struct st_params *g, const struct st_params *theta,
                     const struct st_params *theta0)
{
    if (p->lambda == 0.0)
        return;
    for (int t = 0; t < theta->n_views; t++) {
        enum st_penalty_kind k = active_kind(p, t);
        if (k == ST_PEN_NONE)
            continue;
        const struct st_view *a = &theta->v[t], *b = &theta0->v[t];
        float *gt = g->v[t].data;
        size_t n = st_view_size(a);
        double c = p->lambda * p->scale[t] * weight(p, k, n);
        switch (k) {
        case ST_PEN_L1:
        case ST_PEN_L2: {
            struct pass q = { k, gt, a->data, b->data, NULL, (float)c };
            st_par_range(n, grad_range, &q);
            break;
        }
        case ST_PEN_GROUP: {
            double norm = raw_value(p, ST_PEN_GROUP, a, b);
            if (norm > 0.0) {
                /* d||D||/dD = D / ||D|| */
                struct pass q = { k, gt, a->data, b->data, NULL, (float)(c / norm) };
                st_par_range(n, grad_range, &q);
            }
            break;
        }
        case ST_PEN_NUCLEAR: {
            /* d||D||_* = U_r V_r^T over the nonzero singular values. */
            int m = a->rows, nc = a->cols;
            int r = st_svd(&p->svd, delta_of(p, a, b), m, nc, 1);
            p->svd_failed |= r < 0;
            if (r <= 0 || p->svd.s[0] <= 0.0f)
                break;
            float cut = p->svd.s[0] * SVD_REL_EPS, cf = (float)c;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < nc; j++) {
                    float acc = 0.0f;
                    for (int q = 0; q < r && p->svd.s[q] > cut; q++)
                        acc += p->svd.u[i * r + q] * p->svd.vt[q * nc + j];
                    gt[i * nc + j] += cf * acc;
                }
            break;
        }
        case ST_PEN_NONE: break;
        }
    }
}

void st_prox_soft(float *x, const float *tau, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]) - tau[i];
        x[i] = a > 0.0f ? copysignf(a, x[i]) : 0.0f;
    }
}

int st_prox_group(float *x, const float *h, size_t n, double tau)
{
    /* Minimise 1/2 sum (z_i - x_i)^2 / h_i + tau ||z||. z = 0 iff ||x / h|| <= tau
     * (0 is in the subdifferential). Otherwise z_i = x_i r / (r + tau h_i) with
     * r = ||z|| the root of f(r) = sum x_i^2 / (r + tau h_i)^2 - 1, which
     * decreases on (0, ||x||] from f(0+) > 0 to f(||x||) < 0: bisection. With a
     * constant h this is the familiar block shrinkage z = x (1 - tau h/||x||)+. */
    double q = 0.0, nx = 0.0;
    for (size_t i = 0; i < n; i++) {
        double hi = h ? (double)h[i] : 1.0;
        q += ((double)x[i] / hi) * ((double)x[i] / hi);
        nx += (double)x[i] * (double)x[i];
    }
    if (sqrt(q) <= tau || nx == 0.0) {
        memset(x, 0, n * sizeof *x);
        return 1;
    }
    double lo = 0.0, hi_r = sqrt(nx);
    for (int it = 0; it < 100 && hi_r - lo > 1e-15 * hi_r; it++) {
        double r = 0.5 * (lo + hi_r), f = -1.0;
        for (size_t i = 0; i < n; i++) {
            double d = r + tau * (h ? (double)h[i] : 1.0);
            f += (double)x[i] * (double)x[i] / (d * d);
        }
        if (f > 0.0)
            lo = r;
        else
            hi_r = r;
    }
    double r = 0.5 * (lo + hi_r);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((double)x[i] * r / (r + tau * (h ? (double)h[i] : 1.0)));
    return 0;
}

int st_prox_svt(struct st_svd *w, float *A, int m, int n, double tau)
{
    int r = st_svd(w, A, m, n, 1), kept = 0;
    if (r < 0)
        return -1;
    for (int q = 0; q < r; q++) {
        double s = (double)w->s[q] - tau;
        w->s[q] = s > 0.0 ? (float)s : 0.0f;
        kept += s > 0.0;
    }
    /* A = U diag(s') V^T, only over the kept values. */
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int q = 0; q < kept; q++)
                acc += w->u[i * r + q] * w->s[q] * w->vt[q * n + j];
            A[i * n + j] = acc;
        }
    return kept;
}

void st_penalty_prox(struct st_penalty *p, struct st_params *theta, const struct st_params *theta0,
                     const struct st_params *h)
{
    if (p->lambda == 0.0)
        return;
    for (int t = 0; t < theta->n_views; t++) {
        enum st_penalty_kind k = active_kind(p, t);
        if (k == ST_PEN_NONE)
            continue;
        struct st_view *a = &theta->v[t];
        const float *b = theta0->v[t].data, *ht = h->v[t].data;
        size_t n = st_view_size(a);
        double c = p->lambda * p->scale[t] * weight(p, k, n);
        float *d = a->data; /* theta, turned into Delta and back */

        if (k == ST_PEN_L1 || k == ST_PEN_L2) {
            struct pass q = { k, d, NULL, b, ht, (float)c };
            st_par_range(n, prox_range, &q);
        } else if (k == ST_PEN_GROUP) {
            float *z = delta_of(p, a, &theta0->v[t]);
            int zero = st_prox_group(z, ht, n, c);
            for (size_t i = 0; i < n; i++)
                d[i] = zero || z[i] == 0.0f ? b[i] : b[i] + z[i];
        } else if (k == ST_PEN_NUCLEAR) {
            /* Under Adam the metric is diagonal, not scalar, and SVT is exact
             * only for a scalar one. The tensor's harmonic mean step stands in
             * for it: lr / mean_i(sqrt(v_hat_i) + eps), Adam's step for the
             * tensor's average gradient scale. (An arithmetic mean would be
             * ruled by entries that never see a gradient, whose step lr/eps
             * is enormous, and would zero every update.) */
            double inv = 0.0;
            for (size_t i = 0; i < n; i++)
                inv += 1.0 / (double)ht[i];
            double hbar = (double)n / inv;
            float *z = delta_of(p, a, &theta0->v[t]);
            int kept = st_prox_svt(&p->svd, z, a->rows, a->cols, hbar * c);
            if (kept < 0) {
                p->svd_failed = 1;
                continue;
            }
            for (size_t i = 0; i < n; i++)
                d[i] = kept == 0 ? b[i] : b[i] + z[i];
        }
    }
}
