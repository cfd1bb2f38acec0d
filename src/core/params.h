/* params.h: all tensors of a model in one contiguous float buffer, with named
 * views w1, b1, w2, b2, ... (W_l is [out, in] row-major, b_l is [out]).
 * Gradients, optimizer state and saved copies are twins with the same layout,
 * so elementwise work is one loop and per-tensor reports loop over views. */
#ifndef ST_PARAMS_H
#define ST_PARAMS_H

#include <stddef.h>

#include "status.h"

#define ST_MAX_LAYERS 64
#define ST_MAX_TENSORS (2 * ST_MAX_LAYERS)

struct st_view {
    float *data;   /* borrowed pointer into the owning st_params' mem */
    size_t offset; /* first float of this tensor inside mem */
    int rows, cols; /* W: [out, in]; b: [out, 1] */
    char name[8];  /* "w1", "b1", ... */
};

struct st_params {
    float *mem; /* owns the only allocation (64-byte aligned) */
    size_t n;   /* total floats */
    int n_views;
    struct st_view v[ST_MAX_TENSORS];
};

/* Number of entries of a view. */
static inline size_t st_view_size(const struct st_view *v)
{
    return (size_t)v->rows * (size_t)v->cols;
}

/* Lays out w1, b1, ..., wL, bL for widths[0..n_layers] (input, hidden..., output)
 * and allocates one zeroed buffer. Errors: ST_ERR_ARG (bad sizes), ST_ERR_NOMEM. */
enum st_status st_params_init(struct st_params *p, const int *widths, int n_layers,
                              struct st_err *err);

/* Same layout as src, zero-filled. Errors: ST_ERR_NOMEM. */
enum st_status st_params_twin(struct st_params *p, const struct st_params *src,
                              struct st_err *err);

/* Copies the values of src into dst (same layout). */
void st_params_copy(struct st_params *dst, const struct st_params *src);

/* Index of the view named `name` ("w2"), or -1. */
int st_params_find(const struct st_params *p, const char *name);

/* Frees the buffer; accepts a zeroed or already freed struct. */
void st_params_free(struct st_params *p);

#endif
