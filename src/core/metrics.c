/* metrics.c: distances and changed fractions, one pass per tensor. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sums.h"

enum st_status st_observables_init(struct st_observables *o, int n, struct st_err *err)
{
    memset(o, 0, sizeof *o);
    o->mem = calloc(5 * (size_t)(n > 0 ? n : 1), sizeof *o->mem);
    if (!o->mem)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the observables of %d tensors", n);
    o->n = n;
    o->d_init = o->mem;
    o->d_teacher = o->d_init + n;
    o->changed = o->d_teacher + n;
    o->zero = o->changed + n;
    o->sum_abs = o->zero + n;
    return ST_OK;
}

void st_observables_free(struct st_observables *o)
{
    if (!o)
        return;
    free(o->mem);
    memset(o, 0, sizeof *o);
}

double st_dist_l1(const float *a, const float *b, size_t n)
{
    return n ? st_sum_abs_diff(a, b, n) / (double)n : 0.0;
}

void st_observe(struct st_observables *o, const struct st_params *theta,
                const struct st_params *theta0, const struct st_params *teacher, float eps)
{
    for (int t = 0; t < theta->n_views; t++) {
        const float *a = theta->v[t].data, *b = theta0->v[t].data;
        size_t n = st_view_size(&theta->v[t]);
        size_t moved, zero;
        double to_teacher = 0.0;
        double s = st_sum_abs_diff_count2(a, b, teacher ? teacher->v[t].data : NULL, n,
                                          (double)eps, &moved, &zero, &to_teacher);
        o->zero[t] = (double)zero;
        o->sum_abs[t] = s;
        o->d_init[t] = n ? s / (double)n : 0.0;
        o->changed[t] = n ? (double)moved / (double)n : 0.0;
        o->d_teacher[t] = n ? to_teacher / (double)n : 0.0;
    }
}

int st_spectrum(const struct st_params *theta, const struct st_params *theta0, struct st_svd *w,
                float *scratch, double rel_tol, double *nuc, int *rank)
{
    int failed = 0;
    for (int t = 0; t < theta->n_views; t++) {
        const struct st_view *a = &theta->v[t], *b = &theta0->v[t];
        size_t n = st_view_size(a);
        if (a->ndim != 2)
            continue;
        for (size_t i = 0; i < n; i++)
            scratch[i] = a->data[i] - b->data[i];
        int r = st_svd(w, scratch, a->rows, a->cols, 0);
        if (r < 0) {
            nuc[t] = (double)NAN;
            rank[t] = -1;
            failed = 1;
            continue;
        }
        double s = 0.0;
        int k = 0;
        for (int q = 0; q < r; q++) {
            s += (double)w->s[q];
            k += w->s[q] > 0.0f && (double)w->s[q] > rel_tol * (double)w->s[0];
        }
        nuc[t] = s;
        rank[t] = k;
    }
    return failed ? -1 : 0;
}

void st_update_shares(const double *d_init, const double *size, int n, double *share)
{
    double mass = 0.0;
    for (int t = 0; t < n; t++)
        mass += d_init[t] * size[t];
    for (int t = 0; t < n; t++)
        share[t] = mass > 0.0 ? d_init[t] * size[t] / mass : 0.0;
}
