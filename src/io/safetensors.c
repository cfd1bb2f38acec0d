/* safetensors.c: writer. Layout: u64 little-endian header size N, N bytes of
 * JSON (padded with spaces to a multiple of 8), then the raw tensor bytes in
 * the order of the views; data_offsets are relative to the end of the header. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

/* View t is W (even t) or b (odd t) of layer t/2 + 1. */
static void tensor_name(char *out, size_t size, int t)
{
    snprintf(out, size, "layers.%d.%s", t / 2, t % 2 ? "bias" : "weight");
}

enum st_status st_safetensors_write(const char *path, const struct st_params *p,
                                    const char *const *meta_keys, const char *const *meta_vals,
                                    int n_meta, struct st_err *err)
{
    enum st_status st = ST_OK;
    struct st_atomic_file af = { 0 };
    cJSON *root = cJSON_CreateObject(), *meta = NULL;
    char *json = NULL;
    size_t off = 0;

    if (!root)
        return st_err_set(err, ST_ERR_NOMEM, "cannot build the header of %s", path);
    meta = cJSON_AddObjectToObject(root, "__metadata__");
    for (int i = 0; meta && i < n_meta; i++)
        if (!cJSON_AddStringToObject(meta, meta_keys[i], meta_vals[i]))
            meta = NULL;
    if (!meta) {
        st = st_err_set(err, ST_ERR_NOMEM, "cannot build the header of %s", path);
        goto out;
    }
    for (int t = 0; t < p->n_views; t++) {
        const struct st_view *v = &p->v[t];
        char name[64];
        size_t bytes = st_view_size(v) * sizeof(float);
        cJSON *e = cJSON_CreateObject();
        cJSON *shape = NULL, *offs = NULL;
        if (e)
            {
            tensor_name(name, sizeof name, t);
            cJSON_AddItemToObject(root, name, e);
        }
        if (e && cJSON_AddStringToObject(e, "dtype", "F32"))
            shape = cJSON_AddArrayToObject(e, "shape");
        if (shape) {
            cJSON_AddItemToArray(shape, cJSON_CreateNumber(v->rows));
            if (t % 2 == 0)
                cJSON_AddItemToArray(shape, cJSON_CreateNumber(v->cols));
            offs = cJSON_AddArrayToObject(e, "data_offsets");
        }
        if (!offs) {
            st = st_err_set(err, ST_ERR_NOMEM, "cannot build the header of %s", path);
            goto out;
        }
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + bytes)));
        off += bytes;
    }
    json = cJSON_PrintUnformatted(root);
    if (!json) {
        st = st_err_set(err, ST_ERR_NOMEM, "cannot build the header of %s", path);
        goto out;
    }
    st = st_atomic_open(&af, path, err);
    if (st != ST_OK)
        goto out;
    {
        size_t len = strlen(json), padded = (len + 7) / 8 * 8;
        unsigned char size_le[8];
        for (int i = 0; i < 8; i++)
            size_le[i] = (unsigned char)((uint64_t)padded >> (8 * i));
        fwrite(size_le, 1, 8, af.f);
        fwrite(json, 1, len, af.f);
        for (size_t i = len; i < padded; i++)
            fputc(' ', af.f);
        for (int t = 0; t < p->n_views; t++)
            fwrite(p->v[t].data, sizeof(float), st_view_size(&p->v[t]), af.f);
    }
    st = st_atomic_commit(&af, err);
out:
    free(json);
    cJSON_Delete(root);
    return st;
}
