/* linalg.c: SVD through LAPACKE_sgesdd (divide and conquer), row-major. */
#include "linalg.h"

#include <assert.h>

#include "params.h"

#include <lapacke.h>
#include <stdlib.h>
#include <string.h>

enum st_status st_svd_init(struct st_svd *w, size_t max_entries, struct st_err *err)
{
    size_t n = max_entries ? max_entries : 1;
    memset(w, 0, sizeof *w);
    w->max_entries = n;
    w->a = malloc(n * sizeof(float));
    w->s = malloc(n * sizeof(float));
    w->u = malloc(n * sizeof(float));
    w->vt = malloc(n * sizeof(float));
    if (!w->a || !w->s || !w->u || !w->vt) {
        st_svd_free(w);
        return st_err_set(err, ST_ERR_NOMEM,
                          "cannot allocate an SVD workspace for %zu entries (%zu bytes)", n,
                          4 * n * sizeof(float));
    }
    return ST_OK;
}

size_t st_svd_max_entries(const struct st_params *layout)
{
    size_t most = 1;
    for (int t = 0; t < layout->n_views; t++) {
        size_t n = st_view_size(&layout->v[t]);
        if (layout->v[t].ndim == 2)
            most = n > most ? n : most;
    }
    return most;
}

void st_svd_free(struct st_svd *w)
{
    if (!w)
        return;
    free(w->a);
    free(w->s);
    free(w->u);
    free(w->vt);
    memset(w, 0, sizeof *w);
}

int st_svd(struct st_svd *w, const float *A, int m, int n, int vectors)
{
    int k = m < n ? m : n;
    assert((size_t)m * (size_t)n <= w->max_entries);
    memcpy(w->a, A, (size_t)m * (size_t)n * sizeof(float));
    /* jobz 'S': the first min(m,n) columns of U and rows of V^T; 'N': values only. */
    lapack_int info = LAPACKE_sgesdd(LAPACK_ROW_MAJOR, vectors ? 'S' : 'N', m, n, w->a, n, w->s,
                                     w->u, k, w->vt, n);
    return info == 0 ? k : -1;
}
