/* result.c: see result.h. Packed: the struct with its pointer cleared, then
 * the n_tensors records. */
#include "result.h"

#include <stdlib.h>
#include <string.h>

const char *const st_kinds[ST_KINDS] = { "embeddings", "attention", "mlp", "layernorm" };

int st_result_kind_shares(const struct st_train_result *r, double share[ST_KINDS])
{
    int any = 0;
    for (int k = 0; k < ST_KINDS; k++)
        share[k] = 0.0;
    for (int t = 0; t < r->n_tensors; t++)
        for (int k = 0; k < ST_KINDS; k++)
            if (!strcmp(r->t[t].kind, st_kinds[k])) {
                share[k] += r->t[t].update_share;
                any = 1;
            }
    return any;
}

enum st_status st_result_init(struct st_train_result *r, int n, struct st_err *err)
{
    memset(r, 0, sizeof *r);
    r->t = calloc((size_t)(n > 0 ? n : 1), sizeof *r->t);
    if (!r->t)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the results of %d tensors", n);
    r->n_tensors = n;
    return ST_OK;
}

double st_run_memory_copies(const struct st_run_memory *m)
{
    return m->params + m->grad + m->optim + m->start + m->teacher + m->prox;
}

void st_result_free(struct st_train_result *r)
{
    if (!r)
        return;
    free(r->t);
    memset(r, 0, sizeof *r);
}

enum st_status st_result_copy(struct st_train_result *dst, const struct st_train_result *src,
                              struct st_err *err)
{
    enum st_status st = st_result_init(dst, src->n_tensors, err);
    if (st != ST_OK)
        return st;
    struct st_tensor_result *t = dst->t;
    *dst = *src;
    dst->t = t;
    if (src->n_tensors > 0)
        memcpy(dst->t, src->t, (size_t)src->n_tensors * sizeof *t);
    return ST_OK;
}

const struct st_tensor_result *st_result_find(const struct st_train_result *r, const char *name)
{
    for (int i = 0; i < r->n_tensors; i++)
        if (!strcmp(r->t[i].name, name))
            return &r->t[i];
    return NULL;
}

void *st_result_pack(const struct st_train_result *r, size_t *len)
{
    struct st_train_result head = *r;
    size_t n = r->t ? (size_t)r->n_tensors : 0;
    unsigned char *buf = malloc(sizeof head + n * sizeof *r->t);
    if (!buf)
        return NULL;
    head.t = NULL;
    head.n_tensors = (int)n;
    memcpy(buf, &head, sizeof head);
    if (n)
        memcpy(buf + sizeof head, r->t, n * sizeof *r->t);
    *len = sizeof head + n * sizeof *r->t;
    return buf;
}

enum st_status st_result_unpack(struct st_train_result *r, const void *bytes, size_t len,
                                struct st_err *err)
{
    struct st_train_result head;
    if (len < sizeof head)
        return st_err_set(err, ST_ERR_FORMAT, "a result of %zu bytes, expected at least %zu", len,
                          sizeof head);
    memcpy(&head, bytes, sizeof head);
    if (head.n_tensors < 0 ||
        len != sizeof head + (size_t)head.n_tensors * sizeof(struct st_tensor_result))
        return st_err_set(err, ST_ERR_FORMAT, "a result of %zu bytes for %d tensors", len,
                          head.n_tensors);
    enum st_status st = st_result_init(r, head.n_tensors, err);
    if (st != ST_OK)
        return st;
    struct st_tensor_result *t = r->t;
    *r = head;
    r->t = t;
    if (head.n_tensors)
        memcpy(r->t, (const unsigned char *)bytes + sizeof head,
               (size_t)head.n_tensors * sizeof *r->t);
    return ST_OK;
}
