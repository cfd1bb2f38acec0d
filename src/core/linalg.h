/* linalg.h: the singular value decomposition the nuclear-norm penalty and the
 * rank observables need, through LAPACKE (sgesdd). A workspace sized once for
 * the largest matrix keeps the training loop free of allocations of ours. */
#ifndef ST_LINALG_H
#define ST_LINALG_H

#include <stddef.h>

#include "status.h"

struct st_svd {
    size_t max_entries; /* largest m * n it takes */
    float *a;  /* [m * n] copy of the input (sgesdd overwrites it) */
    float *s;  /* [min(m, n)] singular values, descending */
    float *u;  /* [m * min(m, n)] left singular vectors, row-major */
    float *vt; /* [min(m, n) * n] right singular vectors (transposed), row-major */
};

/* Allocates a workspace for matrices of up to max_entries = m * n entries
 * (every buffer above fits in that many floats). Errors: ST_ERR_NOMEM. */
enum st_status st_svd_init(struct st_svd *w, size_t max_entries, struct st_err *err);

/* The largest m * n over the matrices (2-D views) of a layout. */
struct st_params;
size_t st_svd_max_entries(const struct st_params *layout);
void st_svd_free(struct st_svd *w);

/* A[m,n] (row-major) = U diag(s) V^T into w->u, w->s, w->vt (with vectors when
 * vectors is nonzero). Returns the number of singular values min(m, n), or -1
 * if LAPACK did not converge. */
int st_svd(struct st_svd *w, const float *A, int m, int n, int vectors);

#endif
