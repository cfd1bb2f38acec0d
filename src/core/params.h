/* params.h: all tensors of a model in one contiguous float buffer, with a
 * view per tensor. A view carries everything a report needs to know about its
 * tensor: its name ("w2", later "h11.mlp.proj.w"), its shape, its kind
 * (weight, bias, norm, embedding) and the groups it belongs to; nothing is
 * read off a tensor's index. Gradients, optimizer state and saved copies are
 * twins with the same views, so elementwise work is one loop and per-tensor
 * reports loop over views. A model family lays its tensors out with
 * st_params_add (sizes first), then st_params_alloc makes the one allocation. */
#ifndef ST_PARAMS_H
#define ST_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Room for a tensor's or a group's name, its NUL included. */
#define ST_NAME_MAX 40
/* Groups a tensor can belong to. */
#define ST_VIEW_GROUPS 3

enum st_kind {
    ST_KIND_WEIGHT,    /* a matrix applied to activations: [out, in] */
    ST_KIND_BIAS,      /* added to a layer's output: [out] */
    ST_KIND_NORM,      /* a normalization's gain or shift: [n] */
    ST_KIND_EMBEDDING  /* a lookup table: [entries, width] */
};

struct st_view {
    float *data;    /* borrowed pointer into the owning st_params' mem (NULL before st_params_alloc) */
    size_t offset;  /* first float of this tensor inside mem */
    int ndim;       /* 2: a matrix [rows, cols]; 1: a vector [rows] (cols is 1) */
    int rows, cols;
    enum st_kind kind;
    char name[ST_NAME_MAX]; /* "w1", "b1", ...: CSV columns, reports, selectors */
    char role[ST_NAME_MAX]; /* its place within its unit: "w", "b" (the heatmap's columns) */
    int n_groups;           /* 1..ST_VIEW_GROUPS */
    /* groups[0] is its unit, what a verdict judges as a whole (an MLP layer "2");
     * the others are further groups selectors and reports may name. */
    char groups[ST_VIEW_GROUPS][ST_NAME_MAX];
};

struct st_params {
    float *mem;         /* owns the only float allocation (64-byte aligned); NULL for a layout */
    size_t n;           /* total floats (views start on 16-float boundaries) */
    int n_views;
    struct st_view *v;  /* [n_views], owned */
    int cap;            /* room in v */
};

/* Number of entries of a view. */
static inline size_t st_view_size(const struct st_view *v)
{
    return (size_t)v->rows * (size_t)v->cols;
}

/* Whether view t belongs to group g (its unit or another of its groups). */
int st_view_in_group(const struct st_view *v, const char *g);

/* Appends a tensor to the layout p (zeroed struct to start): name, role, 1 or
 * 2 dimensions, kind and n_groups group names (unit first). No floats are
 * allocated. Errors: ST_ERR_ARG (a name too long or repeated, a bad shape, a
 * tensor of more than 2^40 entries), ST_ERR_NOMEM. */
enum st_status st_params_add(struct st_params *p, const char *name, const char *role, int ndim,
                             int rows, int cols, enum st_kind kind, const char *const *groups,
                             int n_groups, struct st_err *err);

/* Allocates one zeroed buffer for the views of a layout and points them into
 * it. Errors: ST_ERR_NOMEM. */
enum st_status st_params_alloc(struct st_params *p, struct st_err *err);

/* p = the same views as src, in a new zeroed buffer (src may be a layout
 * without floats). Errors: ST_ERR_NOMEM. */
enum st_status st_params_twin(struct st_params *p, const struct st_params *src,
                              struct st_err *err);

/* Copies the values of src into dst (same layout). */
void st_params_copy(struct st_params *dst, const struct st_params *src);

/* Index of the view named `name`, or -1. */
int st_params_find(const struct st_params *p, const char *name);

/* Number of entries of all views (without the alignment padding). */
double st_params_count(const struct st_params *p);

/* The distinct units (groups[0]) in the order of their first view, or with
 * all_groups every group, into names (room for n_views * ST_VIEW_GROUPS;
 * the strings are p's, valid while p is). Returns how many there are. */
int st_params_groups(const struct st_params *p, int all_groups, const char **names);

/* Frees the buffer and the views; accepts a zeroed or already freed struct. */
void st_params_free(struct st_params *p);

/* A tensor's shape for messages: "[]", "[3]" or "[3, 4]" (ndim 0 to 2). */
void st_shape_text(char *buf, size_t size, int ndim, const int64_t *shape);

#endif
