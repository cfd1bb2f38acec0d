/* penalty.c: values, subgradients and proximal steps of the penalties on the
 * update Delta = theta - theta0. Per tensor, term_t = c_t * w_t * raw_t with
 * raw_t = sum|Delta|, ||Delta||_2, ||Delta_W||_* or ||Delta||^2/2, and w_t the
 * reduction's weight (penalty.h); the layer penalty's terms are per unit. */
#include "penalty.h"

#include "par.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sums.h"

const char *const st_penalty_names[] = { "none", "l1", "group", "nuclear", "l2", "layer", NULL };
const char *const st_reduction_names[] = { "mean", "sum", "sqrt", "fisher", NULL };
#define N_PEN 6
#define N_RED 4

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
    return (unsigned)r < N_RED ? st_reduction_names[r] : NULL;
}

int st_reduction_parse(const char *s, enum st_reduction *r)
{
    for (unsigned i = 0; i < N_RED; i++)
        if (strcmp(s, st_reduction_names[i]) == 0) {
            *r = (enum st_reduction)i;
            return 0;
        }
    return -1;
}

static void weigh(struct st_penalty *p);

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
    p->fisher = malloc((size_t)(n ? n : 1) * sizeof *p->fisher);
    p->unit = malloc((size_t)(n ? n : 1) * sizeof *p->unit);
    p->size = malloc((size_t)(n ? n : 1) * sizeof *p->size);
    p->cw = malloc((size_t)(n ? n : 1) * sizeof *p->cw);
    p->first = malloc((size_t)(n ? n : 1) * sizeof *p->first);
    p->norm = malloc((size_t)(n ? n : 1) * sizeof *p->norm);
    if (!p->scale || !p->trainable || !p->matrix || !p->fisher || !p->unit || !p->size ||
        !p->cw || !p->first || !p->norm) {
        st_penalty_free(p);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the penalty's multipliers");
    }
    for (int t = 0; t < n; t++) {
        p->scale[t] = scale ? scale[t] : 1.0;
        p->trainable[t] = trainable ? trainable[t] : 1;
        p->matrix[t] = layout->v[t].ndim == 2;
        p->fisher[t] = 1.0;
        p->size[t] = st_view_size(&layout->v[t]);
        /* The unit: the first view with the same groups[0]. */
        p->unit[t] = p->n_units;
        for (int u = 0; u < t; u++)
            if (strcmp(layout->v[u].groups[0], layout->v[t].groups[0]) == 0) {
                p->unit[t] = p->unit[u];
                break;
            }
        p->n_units += p->unit[t] == p->n_units;
    }
    if (kind == ST_PEN_GROUP || kind == ST_PEN_NUCLEAR || kind == ST_PEN_LAYER) {
        size_t most = 1;
        for (int t = 0; t < layout->n_views; t++) {
            size_t size = st_view_size(&layout->v[t]);
            if (kind == ST_PEN_LAYER) /* the whole unit */
                for (int u = 0; u < layout->n_views; u++)
                    size += u != t && p->unit[u] == p->unit[t] ? st_view_size(&layout->v[u]) : 0;
            most = size > most ? size : most;
        }
        p->delta = malloc(most * sizeof *p->delta);
        if (kind == ST_PEN_LAYER)
            p->hs = malloc(most * sizeof *p->hs);
        if (!p->delta || (kind == ST_PEN_LAYER && !p->hs)) {
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
    weigh(p);
    return ST_OK;
}

void st_penalty_free(struct st_penalty *p)
{
    if (!p)
        return;
    st_svd_free(&p->svd);
    free(p->delta);
    free(p->hs);
    free(p->fisher);
    free(p->unit);
    free(p->size);
    free(p->cw);
    free(p->first);
    free(p->norm);
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
    return p->lambda > 0.0 &&
           (k == ST_PEN_L1 || k == ST_PEN_GROUP || k == ST_PEN_NUCLEAR || k == ST_PEN_LAYER);
}

void st_penalty_set_fisher(struct st_penalty *p, const double *f)
{
    memcpy(p->fisher, f, (size_t)p->n * sizeof *f);
    weigh(p);
}

/* The tensors a price or a unit is made of: view t alone, or (layer) the
 * active views of t's unit. Their entries into *n, their entry-weighted mean
 * F into *f, the largest multiplier into *c. */
static void members(const struct st_penalty *p, int t, size_t *n,
                    double *f, double *c)
{
    *n = 0;
    *f = 0.0;
    *c = 0.0;
    for (int u = 0; u < p->n; u++) {
        if (p->kind == ST_PEN_LAYER ? p->unit[u] != p->unit[t] || active_kind(p, u) == ST_PEN_NONE
                                    : u != t)
            continue;
        size_t nu = p->size[u];
        *n += nu;
        *f += p->fisher[u] * (double)nu;
        *c = p->scale[u] > *c ? p->scale[u] : *c;
    }
    *f = *n ? *f / (double)*n : 0.0;
}

/* rho of a set of entries whose mean F is f: sqrt(f / F_all), F_all the mean
 * over every trainable entry, f floored at 1e-6 F_all; 1 when F_all is 0. */
static double fisher_price(const struct st_penalty *p, double f)
{
    double all = 0.0, n = 0.0;
    for (int t = 0; t < p->n; t++)
        if (p->trainable[t]) {
            all += p->fisher[t] * (double)p->size[t];
            n += (double)p->size[t];
        }
    all = n > 0.0 ? all / n : 0.0;
    if (!(all > 0.0))
        return 1.0;
    return sqrt((f > 1e-6 * all ? f : 1e-6 * all) / all);
}

/* The reduction's factor for n entries of mean F f. */
static double price(const struct st_penalty *p, size_t n, double f)
{
    switch (p->reduction) {
    case ST_RED_MEAN: return 1.0 / (double)n;
    case ST_RED_SUM: return 1.0;
    case ST_RED_SQRT: return 1.0 / sqrt((double)n);
    case ST_RED_FISHER: return fisher_price(p, f);
    }
    return 1.0;
}

double st_penalty_price(const struct st_penalty *p, int t)
{
    size_t n;
    double f, c;
    if (active_kind(p, t) == ST_PEN_NONE || p->lambda == 0.0)
        return (double)NAN;
    members(p, t, &n, &f, &c);
    return n ? price(p, n, f) : (double)NAN;
}

/* cw[t] = c * w of view t's term (layer: of its unit's) and first[t], once
 * per setup. */
static void weigh(struct st_penalty *p)
{
    for (int t = 0; t < p->n; t++) {
        p->first[t] = t;
        for (int u = 0; u < t; u++)
            if (p->unit[u] == p->unit[t] && active_kind(p, u) != ST_PEN_NONE) {
                p->first[t] = u;
                break;
            }
    }
    for (int t = 0; t < p->n; t++) {
        size_t n;
        double f, c;
        enum st_penalty_kind k = st_penalty_kind_of(p, t);
        members(p, t, &n, &f, &c);
        double base = k == ST_PEN_GROUP || k == ST_PEN_LAYER ? sqrt((double)n) : 1.0;
        p->cw[t] = n ? c * base * price(p, n, f) : 0.0;
    }
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
    case ST_PEN_NONE:
    case ST_PEN_LAYER: return 0.0; /* per unit: unit_sq */
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

/* Whether view t is the first active view of its unit (layer penalty: where
 * the unit's term is taken). */
static int first_of_unit(const struct st_penalty *p, int t)
{
    return p->first[t] == t;
}

/* ||Delta_u||^2 over the active views of t's unit. */
static double unit_sq(const struct st_penalty *p, int t, const struct st_params *a,
                      const struct st_params *b)
{
    double s = 0.0;
    for (int u = t; u < p->n; u++)
        if (p->unit[u] == p->unit[t] && active_kind(p, u) != ST_PEN_NONE)
            s += st_sum_sq_diff(a->v[u].data, b->v[u].data, p->size[u]);
    return s;
}

double st_penalty_value(struct st_penalty *p, const struct st_params *theta,
                        const struct st_params *theta0)
{
    return st_penalty_value_with(p, theta, theta0, NULL);
}

double st_penalty_value_with(struct st_penalty *p, const struct st_params *theta,
                             const struct st_params *theta0, const double *sum_abs)
{
    double R = 0.0;
    for (int t = 0; t < theta->n_views; t++) {
        enum st_penalty_kind k = active_kind(p, t);
        if (k == ST_PEN_NONE)
            continue;
        if (k == ST_PEN_LAYER) {
            if (first_of_unit(p, t))
                R += p->cw[t] * sqrt(unit_sq(p, t, theta, theta0));
            continue;
        }
        R += p->cw[t] * (k == ST_PEN_L1 && sum_abs ? sum_abs[t]
                                                   : raw_value(p, k, &theta->v[t], &theta0->v[t]));
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
ST_PASS static void prox_range(void *ctx, size_t lo, size_t hi)
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
        double c = p->lambda * p->cw[t];
        switch (k) {
        case ST_PEN_L1:
        case ST_PEN_L2: {
            struct pass q = { k, gt, a->data, b->data, NULL, (float)c };
            st_par_range(n, grad_range, &q);
            break;
        }
        case ST_PEN_GROUP:
        case ST_PEN_LAYER: {
            /* The norm of the group: the tensor, or its whole unit (taken
             * once, at the unit's first view, which comes first). */
            if (k == ST_PEN_LAYER && first_of_unit(p, t))
                p->norm[t] = sqrt(unit_sq(p, t, theta, theta0));
            double norm = k == ST_PEN_GROUP ? raw_value(p, ST_PEN_GROUP, a, b)
                                            : p->norm[p->first[t]];
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

/* The layer penalty's proximal step on the unit whose first active view is
 * t: its Delta and steps gathered, one block shrinkage, scattered back. */
static void prox_unit(struct st_penalty *p, int t, struct st_params *theta,
                      const struct st_params *theta0, const struct st_params *h, double c)
{
    size_t off = 0;
    for (int u = t; u < p->n; u++)
        if (p->unit[u] == p->unit[t] && active_kind(p, u) != ST_PEN_NONE) {
            const float *a = theta->v[u].data, *b = theta0->v[u].data;
            for (size_t i = 0; i < p->size[u]; i++) {
                p->delta[off + i] = a[i] - b[i];
                p->hs[off + i] = h->v[u].data[i];
            }
            off += p->size[u];
        }
    int zero = st_prox_group(p->delta, p->hs, off, c);
    off = 0;
    for (int u = t; u < p->n; u++)
        if (p->unit[u] == p->unit[t] && active_kind(p, u) != ST_PEN_NONE) {
            float *a = theta->v[u].data;
            const float *b = theta0->v[u].data, *z = p->delta + off;
            for (size_t i = 0; i < p->size[u]; i++)
                a[i] = zero || z[i] == 0.0f ? b[i] : b[i] + z[i];
            off += p->size[u];
        }
}

int st_penalty_l1_factors(const struct st_penalty *p, double *c)
{
    for (int t = 0; t < p->n; t++) {
        enum st_penalty_kind k = p->lambda == 0.0 ? ST_PEN_NONE : active_kind(p, t);
        if (k != ST_PEN_NONE && k != ST_PEN_L1)
            return 0;
        c[t] = k == ST_PEN_L1 ? p->lambda * p->cw[t] : -1.0;
    }
    return 1;
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
        double c = p->lambda * p->cw[t];
        float *d = a->data; /* theta, turned into Delta and back */

        if (k == ST_PEN_L1 || k == ST_PEN_L2) {
            struct pass q = { k, d, NULL, b, ht, (float)c };
            st_par_range(n, prox_range, &q);
        } else if (k == ST_PEN_LAYER) {
            if (first_of_unit(p, t))
                prox_unit(p, t, theta, theta0, h, c);
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
