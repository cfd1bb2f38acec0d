/* linalg.c: SVD through LAPACKE_sgesdd (divide and conquer), row-major. */
#include "linalg.h"

#include <lapacke.h>
#include <stdlib.h>
#include <string.h>

enum st_status st_svd_init(struct st_svd *w, int max_m, int max_n, struct st_err *err)
{
    size_t m = (size_t)max_m, n = (size_t)max_n, k = m < n ? m : n;
    memset(w, 0, sizeof *w);
    w->max_m = max_m;
    w->max_n = max_n;
    w->a = malloc(m * n * sizeof(float));
    w->s = malloc(k * sizeof(float));
    w->u = malloc(m * k * sizeof(float));
    w->vt = malloc(k * n * sizeof(float));
    if (!w->a || !w->s || !w->u || !w->vt) {
        st_svd_free(w);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate an SVD workspace for %d x %d",
                          max_m, max_n);
    }
    return ST_OK;
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
    memcpy(w->a, A, (size_t)m * (size_t)n * sizeof(float));
    /* jobz 'S': the first min(m,n) columns of U and rows of V^T; 'N': values only. */
    lapack_int info = LAPACKE_sgesdd(LAPACK_ROW_MAJOR, vectors ? 'S' : 'N', m, n, w->a, n, w->s,
                                     w->u, k, w->vt, n);
    return info == 0 ? k : -1;
}
