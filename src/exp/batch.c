/* batch.c: see batch.h. */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

enum st_status st_batches_init(struct st_batches *b, const struct st_source *s, int B, int online,
                               uint64_t seed, struct st_err *err)
{
    memset(b, 0, sizeof *b);
    b->B = B;
    b->online = online;
    b->stream = s->stream.tok != NULL;
    b->n = b->stream ? s->stream.n : s->train.n;
    b->full = !online && !b->stream && B == s->train.n;
    if (b->full)
        return ST_OK;
    if (b->stream)
        st_rng_seed(&b->rng, seed, ST_STREAM_ORDER);
    b->x = malloc(((size_t)B * (size_t)s->in + 1) * sizeof *b->x);
    b->y = malloc(((size_t)B * (size_t)s->ycols + 1) * sizeof *b->y);
    if (!online && !b->stream) {
        b->order = malloc((size_t)b->n * sizeof *b->order);
        for (long i = 0; b->order && i < b->n; i++)
            b->order[i] = i;
        st_rng_seed(&b->rng, seed, ST_STREAM_ORDER);
        b->pos = b->n; /* shuffle before the first batch */
    }
    if (!b->x || !b->y || (!online && !b->stream && !b->order)) {
        st_batches_free(b);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate batch buffers");
    }
    return ST_OK;
}

static void shuffle(struct st_rng *rng, long *a, long n)
{
    for (long i = n - 1; i > 0; i--) {
        long j = (long)st_rng_below(rng, (uint64_t)i + 1);
        long t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

enum st_status st_batches_next(struct st_batches *b, struct st_source *s, const float **x,
                               const float **y, struct st_err *err)
{
    long in = s->in, out = s->ycols;
    if (b->full) {
        *x = s->train.x;
        *y = s->train.y;
        return ST_OK;
    }
    *x = b->x;
    *y = b->y;
    if (b->online)
        return st_source_draw(s, b->x, b->y, b->B, err);
    if (b->stream) {
        /* B windows of in + 1 tokens at uniformly random offsets: inputs the
         * first in, targets (the next token at each position) the last in. */
        for (int i = 0; i < b->B; i++) {
            long at = (long)st_rng_below(&b->rng, (uint64_t)(b->n - in));
            for (long t = 0; t < in; t++) {
                b->x[(size_t)i * in + t] = (float)s->stream.tok[at + t];
                b->y[(size_t)i * in + t] = (float)s->stream.tok[at + t + 1];
            }
        }
        return ST_OK;
    }
    if (b->pos + b->B > b->n) {
        shuffle(&b->rng, b->order, b->n);
        b->pos = 0;
    }
    for (int i = 0; i < b->B; i++) {
        long k = b->order[b->pos + i];
        memcpy(b->x + (size_t)i * in, s->train.x + (size_t)k * in, (size_t)in * sizeof(float));
        memcpy(b->y + (size_t)i * out, s->train.y + (size_t)k * out, (size_t)out * sizeof(float));
    }
    b->pos += b->B;
    return ST_OK;
}

void st_batches_free(struct st_batches *b)
{
    if (!b)
        return;
    free(b->order);
    free(b->x);
    free(b->y);
    memset(b, 0, sizeof *b);
}
