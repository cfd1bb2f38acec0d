/* delta.c: see delta.h. */
#include "delta.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "safetensors.h"
#include "sha256.h"

#define DELTA_FORMAT "sparsetune-delta"
#define DELTA_VERSION "1"

void st_params_hash(const struct st_params *p, char hex[65])
{
    struct st_sha256 s;
    unsigned char buf[4096];
    st_sha256_init(&s);
    for (int t = 0; t < p->n_views; t++) {
        const struct st_view *v = &p->v[t];
        st_sha256_update(&s, v->name, strlen(v->name) + 1);
        size_t n = st_view_size(v), fill = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &v->data[i], sizeof u);
            for (int k = 0; k < 4; k++)
                buf[fill++] = (unsigned char)(u >> (8 * k));
            if (fill == sizeof buf) {
                st_sha256_update(&s, buf, fill);
                fill = 0;
            }
        }
        st_sha256_update(&s, buf, fill);
    }
    st_sha256_final(&s, hex);
}

/* Whether entry i of a and b differ in any bit. */
static int differs(const float *a, const float *b, size_t i)
{
    return memcmp(&a[i], &b[i], sizeof *a) != 0;
}

enum st_status st_delta_write(const char *path, const struct st_params *base,
                              const struct st_params *p, struct st_delta_stats *stats,
                              struct st_err *err)
{
    enum st_status st = ST_OK;
    int n = p->n_views, nt = 0;
    size_t changed = 0, entries = 0;
    for (int t = 0; t < n; t++) {
        size_t size = st_view_size(&p->v[t]);
        if (size > UINT32_MAX)
            return st_err_set(err, ST_ERR_ARG, "%s: tensor %s has %zu entries; a delta's "
                              "indices are 32-bit", path, p->v[t].name, size);
        entries += size;
        for (size_t i = 0; i < size; i++)
            changed += differs(base->v[t].data, p->v[t].data, i);
    }
    uint32_t *idx = malloc((changed + 1) * sizeof *idx);
    float *val = malloc((changed + 1) * sizeof *val);
    struct st_safetensors_out *out = malloc(((size_t)n * 2 + 1) * sizeof *out);
    char (*names)[ST_NAME_MAX + 16] = malloc(((size_t)n * 2 + 1) * sizeof *names);
    if (!idx || !val || !out || !names) {
        st = st_err_set(err, ST_ERR_NOMEM, "cannot allocate the delta of %zu entries", changed);
        goto done;
    }
    size_t k = 0;
    for (int t = 0; t < n; t++) {
        const struct st_view *v = &p->v[t];
        size_t first = k;
        for (size_t i = 0; i < st_view_size(v); i++)
            if (differs(base->v[t].data, v->data, i)) {
                idx[k] = (uint32_t)i;
                val[k++] = v->data[i];
            }
        if (k == first)
            continue;
        snprintf(names[nt], sizeof names[nt], "%s.indices", v->name);
        out[nt] = (struct st_safetensors_out){ names[nt], "U32", 1, { (int64_t)(k - first) },
                                               idx + first };
        nt++;
        snprintf(names[nt], sizeof names[nt], "%s.values", v->name);
        out[nt] = (struct st_safetensors_out){ names[nt], "F32", 1, { (int64_t)(k - first) },
                                               val + first };
        nt++;
    }
    char hash[65], n_entries[32], n_changed[32];
    st_params_hash(base, hash);
    snprintf(n_entries, sizeof n_entries, "%zu", entries);
    snprintf(n_changed, sizeof n_changed, "%zu", changed);
    const char *keys[] = { "format", "version", "base_sha256", "entries", "changed" };
    const char *vals[] = { DELTA_FORMAT, DELTA_VERSION, hash, n_entries, n_changed };
    st = st_safetensors_write_tensors(path, out, nt, keys, vals, 5, err);
    if (st == ST_OK && stats) {
        stats->changed = (long)changed;
        stats->entries = (long)entries;
        stats->bytes = st_file_size(path);
    }
done:
    free(idx);
    free(val);
    free(out);
    free(names);
    return st;
}

/* The view of p that a delta tensor name ("NAME.indices" or "NAME.values")
 * refers to, and which of the two it is; -1 if none. */
static int view_of(const struct st_params *p, const char *name, int *is_values)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return -1;
    if (!strcmp(dot, ".indices"))
        *is_values = 0;
    else if (!strcmp(dot, ".values"))
        *is_values = 1;
    else
        return -1;
    for (int t = 0; t < p->n_views; t++)
        if (strlen(p->v[t].name) == (size_t)(dot - name) &&
            !strncmp(p->v[t].name, name, (size_t)(dot - name)))
            return t;
    return -1;
}

/* Checks delta file f (read from path) against p; pair[t][0..1] get the
 * indices and values tensors of view t (NULL: no change there). */
static enum st_status check(const char *path, const struct st_safetensors_file *f,
                            const struct st_params *p,
                            const struct st_safetensors_tensor *(*pair)[2], long *changed,
                            struct st_err *err)
{
    const char *format = st_safetensors_meta(f, "format"), *ver = st_safetensors_meta(f, "version");
    const char *base = st_safetensors_meta(f, "base_sha256");
    if (!format || strcmp(format, DELTA_FORMAT) != 0)
        return st_err_set(err, ST_ERR_FORMAT, "%s: metadata format is %s%s%s, expected "
                          "\"" DELTA_FORMAT "\" (a file written by --save-delta or "
                          "sparsetune delta)", path, format ? "\"" : "", format ? format : "missing",
                          format ? "\"" : "");
    if (!ver || strcmp(ver, DELTA_VERSION) != 0)
        return st_err_set(err, ST_ERR_FORMAT, "%s: delta version %s, expected " DELTA_VERSION,
                          path, ver ? ver : "missing");
    char hash[65];
    st_params_hash(p, hash);
    if (!base || strcmp(base, hash) != 0)
        return st_err_set(err, ST_ERR_FORMAT, "%s: made for the base model with sha256 %.64s, "
                          "but this model's values hash to %s: apply it to the model it was "
                          "made from", path, base ? base : "(missing)", hash);
    for (int i = 0; i < f->n_tensors; i++) {
        const struct st_safetensors_tensor *x = &f->tensors[i];
        int is_values = 0, t = view_of(p, x->name, &is_values);
        if (t < 0)
            return st_err_set(err, ST_ERR_FORMAT, "%s: tensor '%s' is not NAME.indices or "
                              "NAME.values of a tensor of the model", path, x->name);
        if (x->ndim != 1 || strcmp(x->dtype, is_values ? "F32" : "U32") != 0)
            return st_err_set(err, ST_ERR_FORMAT, "%s: tensor '%s' is %s of %d dimensions, "
                              "expected a vector of %s", path, x->name, x->dtype, x->ndim,
                              is_values ? "F32" : "U32");
        pair[t][is_values] = x;
    }
    *changed = 0;
    for (int t = 0; t < p->n_views; t++) {
        const struct st_safetensors_tensor *ix = pair[t][0], *vx = pair[t][1];
        if (!ix && !vx)
            continue;
        const char *name = p->v[t].name;
        if (!ix || !vx)
            return st_err_set(err, ST_ERR_FORMAT, "%s: %s.%s without %s.%s", path, name,
                              ix ? "indices" : "values", name, ix ? "values" : "indices");
        if (ix->n != vx->n)
            return st_err_set(err, ST_ERR_FORMAT, "%s: %s has %zu indices but %zu values", path,
                              name, ix->n, vx->n);
        size_t size = st_view_size(&p->v[t]);
        for (size_t i = 0; i < ix->n; i++) {
            if (ix->u32[i] >= size)
                return st_err_set(err, ST_ERR_FORMAT, "%s: %s.indices[%zu] is %" PRIu32 ", past "
                                  "the tensor's %zu entries", path, name, i, ix->u32[i], size);
            if (i > 0 && ix->u32[i] <= ix->u32[i - 1])
                return st_err_set(err, ST_ERR_FORMAT, "%s: %s.indices[%zu] is %" PRIu32 " after "
                                  "%" PRIu32 ", expected ascending indices", path, name, i,
                                  ix->u32[i], ix->u32[i - 1]);
            if (!isfinite(vx->data[i]))
                return st_err_set(err, ST_ERR_FORMAT, "%s: %s.values[%zu] is %g, expected a "
                                  "finite value", path, name, i, (double)vx->data[i]);
        }
        *changed += (long)ix->n;
    }
    return ST_OK;
}

enum st_status st_delta_apply(const char *path, struct st_params *p,
                              struct st_delta_stats *stats, struct st_err *err)
{
    struct st_safetensors_file f = { 0 };
    enum st_status st = st_safetensors_read_any(path, &f, err);
    if (st != ST_OK)
        return st;
    const struct st_safetensors_tensor *(*pair)[2] = calloc((size_t)p->n_views + 1, sizeof *pair);
    long changed = 0;
    if (!pair)
        st = st_err_set(err, ST_ERR_NOMEM, "cannot allocate the delta's tensors");
    else if ((st = check(path, &f, p, pair, &changed, err)) == ST_OK) {
        long entries = 0;
        for (int t = 0; t < p->n_views; t++) {
            entries += (long)st_view_size(&p->v[t]);
            if (!pair[t][0])
                continue;
            for (size_t i = 0; i < pair[t][0]->n; i++)
                p->v[t].data[pair[t][0]->u32[i]] = pair[t][1]->data[i];
        }
        if (stats) {
            stats->changed = changed;
            stats->entries = entries;
            stats->bytes = st_file_size(path);
        }
    }
    free(pair);
    st_safetensors_file_free(&f);
    return st;
}
