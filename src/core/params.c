/* params.c: layout of the flat parameter buffer. Offsets are computed first,
 * then one aligned allocation is made; each tensor starts on a 16-float
 * boundary so that vectorized loops over a view begin aligned. */
#include "params.h"

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
        p->v[i].data = p->mem + p->v[i].offset;
}

enum st_status st_params_init(struct st_params *p, const int *widths, int n_layers,
                              struct st_err *err)
{
    struct st_params q;
    size_t off = 0;

    memset(&q, 0, sizeof q);
    if (n_layers < 1 || n_layers > ST_MAX_LAYERS)
        return st_err_set(err, ST_ERR_ARG, "number of layers %d: expected 1 to %d", n_layers,
                          ST_MAX_LAYERS);
    for (int l = 0; l <= n_layers; l++)
        if (widths[l] < 1)
            return st_err_set(err, ST_ERR_ARG, "width %d: expected a positive integer",
                              widths[l]);
    for (int l = 1; l <= n_layers; l++) {
        struct st_view *w = &q.v[q.n_views++];
        struct st_view *b = &q.v[q.n_views++];
        size_t in = (size_t)widths[l - 1], out = (size_t)widths[l];
        /* widths are ints, so in*out < 2^62 cannot overflow; 2^40 floats per
         * tensor (4 TiB) is far past any real memory and keeps the total sane. */
        if (in * out > ((size_t)1 << 40))
            return st_err_set(err, ST_ERR_ARG, "layer %d: %zu x %zu weights is too large", l,
                              out, in);
        w->offset = off;
        w->rows = (int)out;
        w->cols = (int)in;
        snprintf(w->name, sizeof w->name, "w%d", l);
        off = round_up(off + out * in);
        b->offset = off;
        b->rows = (int)out;
        b->cols = 1;
        snprintf(b->name, sizeof b->name, "b%d", l);
        off = round_up(off + out);
    }
    q.n = off;
    q.mem = alloc_floats(q.n);
    if (!q.mem)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate %zu parameters (%zu bytes)", q.n,
                          q.n * sizeof(float));
    set_pointers(&q);
    *p = q;
    return ST_OK;
}

enum st_status st_params_twin(struct st_params *p, const struct st_params *src,
                              struct st_err *err)
{
    struct st_params q = *src;
    q.mem = alloc_floats(q.n);
    if (!q.mem)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate %zu floats", q.n);
    set_pointers(&q);
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

void st_params_free(struct st_params *p)
{
    if (!p)
        return;
    free(p->mem);
    memset(p, 0, sizeof *p);
}
