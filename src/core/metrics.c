/* metrics.c: distances and changed fractions, one pass per tensor. */
#include "metrics.h"

#include <math.h>

#include "sums.h"

double st_dist_l1(const float *a, const float *b, size_t n)
{
    return n ? st_sum_abs_diff(a, b, n) / (double)n : 0.0;
}

void st_observe(struct st_observables *o, const struct st_params *theta,
                const struct st_params *theta0, const struct st_params *teacher, float eps)
{
    o->n = theta->n_views;
    for (int t = 0; t < theta->n_views; t++) {
        const float *a = theta->v[t].data, *b = theta0->v[t].data;
        size_t n = st_view_size(&theta->v[t]);
        size_t moved, zero;
        double s = st_sum_abs_diff_count(a, b, n, (double)eps, &moved, &zero);
        o->zero[t] = (double)zero;
        o->d_init[t] = s / (double)n;
        o->changed[t] = (double)moved / (double)n;
        o->d_teacher[t] = teacher ? st_dist_l1(a, teacher->v[t].data, n) : 0.0;
    }
}

int st_spectrum(const struct st_params *theta, const struct st_params *theta0, struct st_svd *w,
                float *scratch, double rel_tol, double *nuc, int *rank)
{
    int failed = 0;
    for (int t = 0; t < theta->n_views; t += 2) {
        const struct st_view *a = &theta->v[t], *b = &theta0->v[t];
        size_t n = st_view_size(a);
        for (size_t i = 0; i < n; i++)
            scratch[i] = a->data[i] - b->data[i];
        int r = st_svd(w, scratch, a->rows, a->cols, 0);
        if (r < 0) {
            nuc[t / 2] = (double)NAN;
            rank[t / 2] = -1;
            failed = 1;
            continue;
        }
        double s = 0.0;
        int k = 0;
        for (int q = 0; q < r; q++) {
            s += (double)w->s[q];
            k += w->s[q] > 0.0f && (double)w->s[q] > rel_tol * (double)w->s[0];
        }
        nuc[t / 2] = s;
        rank[t / 2] = k;
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
