/* batch.h: the batches of a run. Full batch: the whole training set every
 * step. Minibatch: the next B rows of a permutation of the set, reshuffled
 * (from the run's own order stream) when fewer than B remain; a partial tail
 * is dropped. Online: B fresh draws from the source every step. */
#ifndef ST_BATCH_H
#define ST_BATCH_H

#include "../core/rng.h"
#include "source.h"

struct st_batches {
    int B;              /* rows per batch */
    int online, full;   /* fresh draws; the whole set */
    int stream;         /* windows at random offsets of the source's token stream */
    long *order;        /* minibatch: permutation of the training rows */
    long n;             /* rows in the set (a stream: its tokens) */
    long pos;           /* next index into order */
    struct st_rng rng;  /* the order's stream */
    float *x, *y;       /* the batch, for minibatches and draws */
};

/* Batches of B rows over the source's training set (or draws). Errors:
 * ST_ERR_NOMEM. Free with st_batches_free. */
enum st_status st_batches_init(struct st_batches *b, const struct st_source *s, int B, int online,
                               uint64_t seed, struct st_err *err);

/* Points *x, *y at the next batch ([B, in], [B, ycols]). Errors: those of
 * online draws (ST_ERR_NOMEM). */
enum st_status st_batches_next(struct st_batches *b, struct st_source *s, const float **x,
                               const float **y, struct st_err *err);

void st_batches_free(struct st_batches *b);

#endif
