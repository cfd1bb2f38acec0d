/* linalg.h: the singular value decomposition the nuclear-norm penalty and the
 * rank observables need, through LAPACKE (sgesdd). A workspace sized once for
 * the largest matrix keeps the training loop free of allocations of ours. */
#ifndef ST_LINALG_H
#define ST_LINALG_H

#include "status.h"

struct st_svd {
    int max_m, max_n;
    float *a;  /* [max_m * max_n] copy of the input (sgesdd overwrites it) */
    float *s;  /* [min] singular values, descending */
    float *u;  /* [max_m * min] left singular vectors, row-major */
    float *vt; /* [min * max_n] right singular vectors (transposed), row-major */
};

/* Allocates a workspace for matrices up to max_m x max_n. Errors: ST_ERR_NOMEM. */
enum st_status st_svd_init(struct st_svd *w, int max_m, int max_n, struct st_err *err);
void st_svd_free(struct st_svd *w);

/* A[m,n] (row-major) = U diag(s) V^T into w->u, w->s, w->vt (with vectors when
 * vectors is nonzero). Returns the number of singular values min(m, n), or -1
 * if LAPACK did not converge. */
int st_svd(struct st_svd *w, const float *A, int m, int n, int vectors);

#endif
