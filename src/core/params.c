/* params.c: layout of the flat parameter buffer. Views are added first (their
 * offsets follow from their sizes), then one aligned allocation is made; each
 * tensor starts on a 16-float boundary so that vectorized loops over a view
 * begin aligned. */
#include "params.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_ALIGN_FLOATS 16

static size_t round_up(size_t n)
{
    return (n + ST_ALIGN_FLOATS - 1) / ST_ALIGN_FLOATS * ST_ALIGN_FLOATS;
}

static float *alloc_floats(size_t n)
{
    size_t bytes = n * sizeof(float);
    void *mem = NULL;
    if (bytes == 0)
        bytes = 64;
    bytes = (bytes + 63) / 64 * 64;
    mem = aligned_alloc(64, bytes);
    if (mem)
        memset(mem, 0, bytes);
    return mem;
}

static void set_pointers(struct st_params *p)
{
    for (int i = 0; i < p->n_views; i++)
        p->v[i].data = p->mem ? p->mem + p->v[i].offset : NULL;
}

int st_view_in_group(const struct st_view *v, const char *g)
{
    for (int i = 0; i < v->n_groups; i++)
        if (!strcmp(v->groups[i], g))
            return 1;
    return 0;
}

static int fits(const char *s)
{
    return s && *s && strlen(s) < ST_NAME_MAX;
}

enum st_status st_params_add(struct st_params *p, const char *name, const char *role, int ndim,
                             int rows, int cols, enum st_kind kind, const char *const *groups,
                             int n_groups, struct st_err *err)
{
    if (!fits(name) || !fits(role))
        return st_err_set(err, ST_ERR_ARG, "tensor name '%s': expected 1 to %d characters",
                          name ? name : "", ST_NAME_MAX - 1);
    if (st_params_find(p, name) >= 0)
        return st_err_set(err, ST_ERR_ARG, "tensor '%s' is laid out twice", name);
    if (n_groups < 1 || n_groups > ST_VIEW_GROUPS)
        return st_err_set(err, ST_ERR_ARG, "tensor '%s': %d groups, expected 1 to %d", name,
                          n_groups, ST_VIEW_GROUPS);
    for (int g = 0; g < n_groups; g++)
        if (!fits(groups[g]))
            return st_err_set(err, ST_ERR_ARG, "tensor '%s': a group name of 1 to %d "
                              "characters expected", name, ST_NAME_MAX - 1);
    if (!(ndim == 1 || ndim == 2) || rows < 1 || cols < 1 || (ndim == 1 && cols != 1))
        return st_err_set(err, ST_ERR_ARG, "tensor '%s': shape [%d, %d] in %d dimensions", name,
                          rows, cols, ndim);
    /* rows and cols are ints, so the product cannot overflow; 2^40 floats
     * (4 TiB) per tensor is far past any real memory and keeps the total sane. */
    if ((size_t)rows * (size_t)cols > ((size_t)1 << 40))
        return st_err_set(err, ST_ERR_ARG, "tensor '%s': %d x %d entries is too large", name,
                          rows, cols);
    if (p->n_views == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        struct st_view *v = realloc(p->v, (size_t)cap * sizeof *v);
        if (!v)
            return st_err_set(err, ST_ERR_NOMEM, "cannot lay out %d tensors", cap);
        p->v = v;
        p->cap = cap;
    }
    struct st_view *v = &p->v[p->n_views++];
    memset(v, 0, sizeof *v);
    v->offset = p->n;
    v->ndim = ndim;
    v->rows = rows;
    v->cols = cols;
    v->kind = kind;
    memcpy(v->name, name, strlen(name) + 1);
    memcpy(v->role, role, strlen(role) + 1);
    v->n_groups = n_groups;
    for (int g = 0; g < n_groups; g++)
        memcpy(v->groups[g], groups[g], strlen(groups[g]) + 1);
    p->n = round_up(p->n + st_view_size(v));
    return ST_OK;
}

enum st_status st_params_alloc(struct st_params *p, struct st_err *err)
{
    float *mem = alloc_floats(p->n);
    if (!mem)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate %zu parameters (%zu bytes)", p->n,
                          p->n * sizeof(float));
    free(p->mem);
    p->mem = mem;
    set_pointers(p);
    return ST_OK;
}

enum st_status st_params_twin(struct st_params *p, const struct st_params *src,
                              struct st_err *err)
{
    struct st_params q = *src;
    q.mem = NULL;
    q.cap = src->n_views;
    q.v = malloc((size_t)(q.cap ? q.cap : 1) * sizeof *q.v);
    if (!q.v)
        return st_err_set(err, ST_ERR_NOMEM, "cannot copy %d tensor views", src->n_views);
    memcpy(q.v, src->v, (size_t)src->n_views * sizeof *q.v);
    enum st_status st = st_params_alloc(&q, err);
    if (st != ST_OK) {
        free(q.v);
        return st;
    }
    *p = q;
    return ST_OK;
}

void st_params_copy(struct st_params *dst, const struct st_params *src)
{
    memcpy(dst->mem, src->mem, src->n * sizeof(float));
}

int st_params_find(const struct st_params *p, const char *name)
{
    for (int i = 0; i < p->n_views; i++)
        if (strcmp(p->v[i].name, name) == 0)
            return i;
    return -1;
}

double st_params_count(const struct st_params *p)
{
    double n = 0.0;
    for (int i = 0; i < p->n_views; i++)
        n += (double)st_view_size(&p->v[i]);
    return n;
}

int st_params_groups(const struct st_params *p, int all_groups, const char **names)
{
    int n = 0;
    for (int t = 0; t < p->n_views; t++)
        for (int g = 0; g < (all_groups ? p->v[t].n_groups : 1); g++) {
            const char *name = p->v[t].groups[g];
            int seen = 0;
            for (int i = 0; i < n && !seen; i++)
                seen = !strcmp(names[i], name);
            if (!seen)
                names[n++] = name;
        }
    return n;
}

void st_params_free(struct st_params *p)
{
    if (!p)
        return;
    free(p->mem);
    free(p->v);
    memset(p, 0, sizeof *p);
}

void st_shape_text(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t at = 0;
    snprintf(buf, size, "[");
    for (int d = 0; d < ndim && (at = strlen(buf)) < size; d++)
        snprintf(buf + at, size - at, "%s%" PRId64, d ? ", " : "", shape[d]);
    if ((at = strlen(buf)) < size)
        snprintf(buf + at, size - at, "]");
}
