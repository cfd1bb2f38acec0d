/* safetensors.c: writer, validating reader and MLP import. Layout: u64
 * little-endian header size N, N bytes of JSON (padded with spaces to a
 * multiple of 8), then the raw tensor bytes in the order of the views;
 * data_offsets are relative to the end of the header. The reader trusts no
 * field: every length, offset and count is checked before it is used. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* ---- reader ---- */

/* Bytes of one element of each dtype the reader converts. */
static int dtype_size(const char *dtype)
{
    if (!strcmp(dtype, "F32"))
        return 4;
    if (!strcmp(dtype, "F64"))
        return 8;
    return 0;
}

static uint64_t le_u64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

static uint32_t le_u32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* What a JSON value is, for messages ("expected an array, found a string"). */
static const char *json_kind(const cJSON *j)
{
    if (!j)
        return "nothing";
    if (cJSON_IsString(j))
        return "a string";
    if (cJSON_IsNumber(j))
        return "a number";
    if (cJSON_IsArray(j))
        return "an array";
    if (cJSON_IsObject(j))
        return "an object";
    if (cJSON_IsBool(j))
        return "a boolean";
    if (cJSON_IsNull(j))
        return "null";
    return "an invalid value";
}

/* A JSON number that is an integer in [0, 2^53): beyond 2^53 doubles skip
 * integers, so a larger value cannot be trusted to be what the file says. */
static int json_count(const cJSON *j, uint64_t *out)
{
    if (!cJSON_IsNumber(j))
        return -1;
    double v = j->valuedouble;
    if (!(v >= 0.0 && v < 9007199254740992.0) || v != floor(v))
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* "found" part of a bad count's message: the number itself or its kind. */
static void describe(char *buf, size_t size, const cJSON *j)
{
    if (cJSON_IsNumber(j))
        snprintf(buf, size, "%.17g", j->valuedouble);
    else
        snprintf(buf, size, "%s", json_kind(j));
}

static void format_shape(char *buf, size_t size, const struct st_safetensors_tensor *t)
{
    if (t->ndim == 0)
        snprintf(buf, size, "[]");
    else if (t->ndim == 1)
        snprintf(buf, size, "[%" PRId64 "]", t->shape[0]);
    else
        snprintf(buf, size, "[%" PRId64 ", %" PRId64 "]", t->shape[0], t->shape[1]);
}

/* Reads the whole file into *out (malloc'd), its size into *len and the
 * header length into *n_header, which is checked against the file size and
 * ST_SAFETENSORS_MAX_HEADER before the rest is read, so a corrupt length
 * costs no allocation. */
static enum st_status read_file(const char *path, unsigned char **out, size_t *len,
                                uint64_t *n_header, struct st_err *err)
{
    enum st_status st = ST_OK;
    unsigned char *buf = NULL, size_le[8];
    long n = -1;
    uint64_t nh;
    FILE *f = fopen(path, "rb");
    if (!f)
        return st_err_set(err, ST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = st_err_set(err, ST_ERR_IO, "%s: cannot determine the file size: %s", path,
                        strerror(errno));
        goto out;
    }
    if (n < 8) {
        st = st_err_set(err, ST_ERR_FORMAT,
                        "%s: file is %ld bytes, shorter than the 8-byte header length", path, n);
        goto out;
    }
    if (fread(size_le, 1, 8, f) != 8) {
        st = st_err_set(err, ST_ERR_IO, "%s: cannot read the header length: %s", path,
                        ferror(f) ? strerror(errno) : "the file shrank while reading");
        goto out;
    }
    nh = le_u64(size_le);
    if (nh > (uint64_t)n - 8) {
        st = st_err_set(err, ST_ERR_FORMAT,
                        "%s: header length %" PRIu64 " is past the end of the file (%ld bytes, "
                        "%ld after the 8-byte length)",
                        path, nh, n, n - 8);
        goto out;
    }
    if (nh > ST_SAFETENSORS_MAX_HEADER) {
        st = st_err_set(err, ST_ERR_FORMAT,
                        "%s: header length %" PRIu64 " exceeds the limit of %lu bytes (file size "
                        "%ld bytes)",
                        path, nh, ST_SAFETENSORS_MAX_HEADER, n);
        goto out;
    }
    if ((st = st_check_memory((double)n, path, err)) != ST_OK)
        goto out;
    buf = malloc((size_t)n);
    if (!buf) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: cannot allocate %ld bytes to read it", path, n);
        goto out;
    }
    memcpy(buf, size_le, 8);
    if (fread(buf + 8, 1, (size_t)n - 8, f) != (size_t)n - 8) {
        st = st_err_set(err, ST_ERR_IO, "%s: cannot read %ld bytes: %s", path, n,
                        ferror(f) ? strerror(errno) : "the file shrank while reading");
        goto out;
    }
    *out = buf;
    *len = (size_t)n;
    *n_header = nh;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return st;
}

/* One tensor entry while the header is checked: where its bytes are. */
struct entry {
    struct st_safetensors_tensor t;
    uint64_t begin, end; /* relative to the data section */
};

/* Checks the header entry j of one tensor against a data section of
 * data_size bytes and fills e (all but t.data). */
static enum st_status parse_entry(const char *path, const cJSON *j, uint64_t data_size,
                                  struct entry *e, struct st_err *err)
{
    const char *name = j->string;
    const cJSON *dtype, *shape, *offs;
    char found[64];
    uint64_t count = 1, nbytes;
    int size;

    memset(e, 0, sizeof *e);
    if (strlen(name) >= sizeof e->t.name)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: tensor name '%.40s...' is %zu bytes long, expected fewer than %d",
                          path, name, strlen(name), ST_SAFETENSORS_NAME_MAX);
    strcpy(e->t.name, name);
    if (!cJSON_IsObject(j))
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: tensor '%s': entry is %s, expected an object with dtype, shape "
                          "and data_offsets",
                          path, name, json_kind(j));

    dtype = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    if (!cJSON_IsString(dtype))
        return st_err_set(err, ST_ERR_FORMAT, "%s: tensor '%s': dtype is %s, expected a string",
                          path, name, dtype ? json_kind(dtype) : "missing");
    size = dtype_size(dtype->valuestring);
    if (!size)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: tensor '%s': dtype '%.32s' is not supported, expected F32 or F64",
                          path, name, dtype->valuestring);
    strcpy(e->t.dtype, dtype->valuestring);

    shape = cJSON_GetObjectItemCaseSensitive(j, "shape");
    if (!cJSON_IsArray(shape))
        return st_err_set(err, ST_ERR_FORMAT, "%s: tensor '%s': shape is %s, expected an array",
                          path, name, shape ? json_kind(shape) : "missing");
    e->t.ndim = cJSON_GetArraySize(shape);
    if (e->t.ndim > 2)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: tensor '%s': shape has %d dimensions, expected at most 2 (an MLP "
                          "has only matrices and vectors)",
                          path, name, e->t.ndim);
    e->t.shape[0] = e->t.shape[1] = 1;
    for (int d = 0; d < e->t.ndim; d++) {
        const cJSON *s = cJSON_GetArrayItem(shape, d);
        uint64_t v;
        if (json_count(s, &v) != 0) {
            describe(found, sizeof found, s);
            return st_err_set(err, ST_ERR_FORMAT,
                              "%s: tensor '%s': shape[%d] is %s, expected a non-negative integer "
                              "below 2^53",
                              path, name, d, found);
        }
        e->t.shape[d] = (int64_t)v;
        /* Checked count *= v: the product of two 53-bit numbers can wrap. */
        if (v != 0 && count > UINT64_MAX / v) {
            format_shape(found, sizeof found, &e->t);
            return st_err_set(err, ST_ERR_FORMAT,
                              "%s: tensor '%s': shape %s has too many elements (overflow)", path,
                              name, found);
        }
        count *= v;
    }
    format_shape(found, sizeof found, &e->t);
    if (count > UINT64_MAX / (uint64_t)size)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: tensor '%s': shape %s of %s overflows a 64-bit byte count", path,
                          name, found, e->t.dtype);
    nbytes = count * (uint64_t)size;

    offs = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    if (!cJSON_IsArray(offs))
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets is %s, expected an array [begin, end]",
                          path, name, offs ? json_kind(offs) : "missing");
    if (cJSON_GetArraySize(offs) != 2)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets has %d entries, expected 2 [begin, end]",
                          path, name, cJSON_GetArraySize(offs));
    for (int i = 0; i < 2; i++) {
        const cJSON *o = cJSON_GetArrayItem(offs, i);
        if (json_count(o, i ? &e->end : &e->begin) != 0) {
            describe(found, sizeof found, o);
            return st_err_set(err, ST_ERR_FORMAT,
                              "%s: tensor '%s': data_offsets[%d] is %s, expected a non-negative "
                              "integer below 2^53",
                              path, name, i, found);
        }
    }
    if (e->begin > e->end)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                          "] begin after end, expected begin <= end",
                          path, name, e->begin, e->end);
    if (e->end > data_size)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                          "] end past the data section of %" PRIu64 " bytes",
                          path, name, e->begin, e->end, data_size);
    if (e->end - e->begin != nbytes)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] span %" PRIu64
                          " bytes, but shape %s of %s needs %" PRIu64,
                          path, name, e->begin, e->end, e->end - e->begin, found, e->t.dtype,
                          nbytes);
    /* count <= data_size / 4 here, so it fits in size_t. */
    e->t.n = (size_t)count;
    return ST_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* First name that occurs twice among names[n] (sorted in place), or NULL. */
static const char *find_duplicate(const char **names, int n)
{
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 1; i < n; i++)
        if (!strcmp(names[i - 1], names[i]))
            return names[i];
    return NULL;
}

/* Orders entries by where their bytes begin (then end). */
static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* A malloc'd copy of s, or NULL. */
static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

/* Checks __metadata__ (an object of strings) and copies it into f. */
static enum st_status parse_meta(const char *path, const cJSON *meta,
                                 struct st_safetensors_file *f, struct st_err *err)
{
    const char **keys = NULL, *dup;
    enum st_status st = ST_OK;
    int n = 0;

    if (!cJSON_IsObject(meta))
        return st_err_set(err, ST_ERR_FORMAT, "%s: __metadata__ is %s, expected an object", path,
                          json_kind(meta));
    for (const cJSON *m = meta->child; m; m = m->next, n++)
        if (!cJSON_IsString(m))
            return st_err_set(err, ST_ERR_FORMAT,
                              "%s: __metadata__ entry '%.64s' is %s, expected a string", path,
                              m->string, json_kind(m));
    keys = malloc((size_t)(n ? n : 1) * sizeof *keys);
    f->meta_keys = calloc((size_t)(n ? n : 1), sizeof *f->meta_keys);
    f->meta_vals = calloc((size_t)(n ? n : 1), sizeof *f->meta_vals);
    if (!keys || !f->meta_keys || !f->meta_vals) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: cannot allocate %d metadata entries", path, n);
        goto out;
    }
    n = 0;
    for (const cJSON *m = meta->child; m; m = m->next, n++)
        keys[n] = m->string;
    dup = find_duplicate(keys, n);
    if (dup) {
        st = st_err_set(err, ST_ERR_FORMAT, "%s: __metadata__ has the key '%.64s' twice", path,
                        dup);
        goto out;
    }
    for (const cJSON *m = meta->child; m; m = m->next, f->n_meta++) {
        f->meta_keys[f->n_meta] = copy_string(m->string);
        f->meta_vals[f->n_meta] = copy_string(m->valuestring);
        if (!f->meta_keys[f->n_meta] || !f->meta_vals[f->n_meta]) {
            f->n_meta++; /* so that st_safetensors_file_free frees this pair too */
            st = st_err_set(err, ST_ERR_NOMEM, "%s: cannot copy the metadata", path);
            goto out;
        }
    }
out:
    free(keys);
    return st;
}

/* Converts the bytes of e (at data, little-endian) into dst[e->t.n]. */
static enum st_status decode(const char *path, const struct entry *e, const unsigned char *data,
                             float *dst, struct st_err *err)
{
    const unsigned char *src = data + e->begin;
    if (!strcmp(e->t.dtype, "F32")) {
        for (size_t i = 0; i < e->t.n; i++) {
            uint32_t u = le_u32(src + 4 * i);
            memcpy(&dst[i], &u, sizeof u);
        }
        return ST_OK;
    }
    for (size_t i = 0; i < e->t.n; i++) {
        uint64_t u = le_u64(src + 8 * i);
        double v;
        memcpy(&v, &u, sizeof v);
        /* Converting a finite double beyond FLT_MAX to float is undefined in C
         * and would silently become inf; NaN and inf themselves carry over. */
        if (isfinite(v) && fabs(v) > (double)FLT_MAX)
            return st_err_set(err, ST_ERR_FORMAT,
                              "%s: tensor '%s': element %zu is %g, beyond the float32 range "
                              "(expected |x| <= %g)",
                              path, e->t.name, i, v, (double)FLT_MAX);
        dst[i] = (float)v;
    }
    return ST_OK;
}

enum st_status st_safetensors_read(const char *path, struct st_safetensors_file *out,
                                   struct st_err *err)
{
    enum st_status st;
    struct st_safetensors_file f = { 0 };
    unsigned char *buf = NULL;
    char *header = NULL;
    const char *end = NULL, *dup;
    const char **names = NULL;
    struct entry *ents = NULL;
    cJSON *root = NULL;
    const cJSON *meta = NULL;
    size_t len = 0, total = 0;
    uint64_t n_header = 0, data_size;
    int n = 0;

    st = read_file(path, &buf, &len, &n_header, err);
    if (st != ST_OK)
        return st;
    data_size = (uint64_t)(len - 8) - n_header;

    /* A NUL-terminated copy, so the parser can never run past the header. */
    header = malloc((size_t)n_header + 1);
    if (!header) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: cannot allocate the %" PRIu64 "-byte header",
                        path, n_header);
        goto out;
    }
    memcpy(header, buf + 8, (size_t)n_header);
    header[n_header] = '\0';
    root = cJSON_ParseWithLengthOpts(header, (size_t)n_header, &end, 0);
    if (!root) {
        st = st_err_set(err, ST_ERR_FORMAT,
                        "%s: header is not valid JSON (parse error at byte %td of %" PRIu64 ")",
                        path, end ? end - header : (ptrdiff_t)0, n_header);
        goto out;
    }
    /* Writers pad the header with spaces; anything else after it is corrupt. */
    for (const char *c = end; c < header + n_header; c++)
        if (*c != ' ' && *c != '\t' && *c != '\r' && *c != '\n') {
            st = st_err_set(err, ST_ERR_FORMAT,
                            "%s: header has bytes after its JSON value (at byte %td of %" PRIu64
                            "), expected only space padding",
                            path, c - header, n_header);
            goto out;
        }
    if (!cJSON_IsObject(root)) {
        st = st_err_set(err, ST_ERR_FORMAT, "%s: header is %s, expected a JSON object", path,
                        json_kind(root));
        goto out;
    }

    for (const cJSON *j = root->child; j; j = j->next) {
        if (strcmp(j->string, "__metadata__") != 0)
            n++;
        else if (meta) {
            st = st_err_set(err, ST_ERR_FORMAT, "%s: header has __metadata__ twice", path);
            goto out;
        } else
            meta = j;
    }
    ents = calloc((size_t)(n ? n : 1), sizeof *ents);
    names = malloc((size_t)(n ? n : 1) * sizeof *names);
    f.tensors = calloc((size_t)(n ? n : 1), sizeof *f.tensors);
    if (!ents || !names || !f.tensors) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: cannot allocate %d tensor entries", path, n);
        goto out;
    }
    if (meta && (st = parse_meta(path, meta, &f, err)) != ST_OK)
        goto out;
    n = 0;
    for (const cJSON *j = root->child; j; j = j->next) {
        if (j == meta)
            continue;
        st = parse_entry(path, j, data_size, &ents[n], err);
        if (st != ST_OK)
            goto out;
        names[n] = ents[n].t.name;
        total += ents[n].t.n;
        n++;
    }
    dup = find_duplicate(names, n);
    if (dup) {
        st = st_err_set(err, ST_ERR_FORMAT, "%s: header has the tensor '%s' twice", path, dup);
        goto out;
    }

    /* Sorted by begin, a tensor overlaps an earlier one iff it begins before
     * the furthest end seen so far. Empty tensors own no bytes. */
    qsort(ents, (size_t)n, sizeof *ents, cmp_entry);
    for (int i = 0, last = -1; i < n; i++) {
        if (ents[i].begin == ents[i].end)
            continue;
        if (last >= 0 && ents[i].begin < ents[last].end) {
            st = st_err_set(err, ST_ERR_FORMAT,
                            "%s: tensors '%s' [%" PRIu64 ", %" PRIu64 ") and '%s' [%" PRIu64
                            ", %" PRIu64 ") overlap, expected disjoint data_offsets",
                            path, ents[last].t.name, ents[last].begin, ents[last].end,
                            ents[i].t.name, ents[i].begin, ents[i].end);
            goto out;
        }
        if (last < 0 || ents[i].end > ents[last].end)
            last = i;
    }

    /* Disjoint tensors of >= 4 bytes per element: total <= data_size / 4. */
    f.mem = malloc((total ? total : 1) * sizeof *f.mem);
    if (!f.mem) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: cannot allocate %zu floats", path, total);
        goto out;
    }
    total = 0;
    for (int i = 0; i < n; i++) {
        ents[i].t.data = f.mem + total;
        st = decode(path, &ents[i], buf + 8 + n_header, ents[i].t.data, err);
        if (st != ST_OK)
            goto out;
        total += ents[i].t.n;
        f.tensors[i] = ents[i].t;
    }
    f.n_tensors = n;
    *out = f;
    memset(&f, 0, sizeof f);
out:
    st_safetensors_file_free(&f);
    cJSON_Delete(root);
    free(names);
    free(ents);
    free(header);
    free(buf);
    return st;
}

void st_safetensors_file_free(struct st_safetensors_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_vals[i]);
    }
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->tensors);
    free(f->mem);
    memset(f, 0, sizeof *f);
}

const char *st_safetensors_meta(const struct st_safetensors_file *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta_keys[i], key))
            return f->meta_vals[i];
    return NULL;
}

const struct st_safetensors_tensor *st_safetensors_find(const struct st_safetensors_file *f,
                                                        const char *name)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name))
            return &f->tensors[i];
    return NULL;
}

/* ---- model import ---- */

/* A tensor name read as P{k}.weight or P{k}.bias. */
struct layer_name {
    const struct st_safetensors_tensor *t;
    size_t prefix_len; /* bytes of P: 7 for "layers.", 0 for a bare Sequential */
    int k;             /* layer index as written (Sequential counts activations too) */
    int is_bias;
};

/* Splits a name into prefix, index and kind; -1 if it has another form. The
 * index is decimal without leading zeros, so "1" and "01" never both occur,
 * and at most 6 digits long, so it fits an int. */
static int split_name(const char *name, struct layer_name *out)
{
    size_t len = strlen(name), end, start;
    int k = 0;
    if (len > 7 && !strcmp(name + len - 7, ".weight")) {
        end = len - 7;
        out->is_bias = 0;
    } else if (len > 5 && !strcmp(name + len - 5, ".bias")) {
        end = len - 5;
        out->is_bias = 1;
    } else {
        return -1;
    }
    start = end;
    while (start > 0 && name[start - 1] >= '0' && name[start - 1] <= '9')
        start--;
    if (start == end || end - start > 6 || (name[start] == '0' && end - start > 1))
        return -1;
    if (start > 0 && name[start - 1] != '.')
        return -1;
    for (size_t i = start; i < end; i++)
        k = 10 * k + (name[i] - '0');
    out->prefix_len = start;
    out->k = k;
    return 0;
}

/* Orders by layer index, the weight before the bias. */
static int cmp_layer_name(const void *a, const void *b)
{
    const struct layer_name *x = a, *y = b;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    return x->is_bias - y->is_bias;
}

/* Parses "3,5,2" into w[0..*n-1]; -1 unless it is 1 to max positive integers. */
static int parse_widths(const char *s, int *w, int max, int *n)
{
    *n = 0;
    for (;;) {
        char *end;
        long v;
        if (*s < '0' || *s > '9' || *n == max)
            return -1;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || v < 1 || v > INT_MAX)
            return -1;
        w[(*n)++] = (int)v;
        if (*end == '\0')
            return 0;
        if (*end != ',')
            return -1;
        s = end + 1;
    }
}

static void format_widths(char *buf, size_t size, const int *w, int n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, i ? ",%d" : "%d", w[i]);
}

/* Checks the metadata's widths (if any) against w[0..L] and its activation's
 * length; *act gets the activation or NULL. */
static enum st_status check_meta(const char *path, const struct st_safetensors_file *f,
                                 const int *w, int L, const char **act, struct st_err *err)
{
    const char *mw = st_safetensors_meta(f, "widths");
    int mwidths[ST_MAX_LAYERS + 1], n = 0;
    char inferred[512];

    if (mw) {
        if (parse_widths(mw, mwidths, ST_MAX_LAYERS + 1, &n) != 0)
            return st_err_set(err, ST_ERR_FORMAT,
                              "%s: metadata widths '%.64s', expected comma-separated positive "
                              "integers",
                              path, mw);
        if (n != L + 1 || memcmp(mwidths, w, (size_t)n * sizeof *w) != 0) {
            format_widths(inferred, sizeof inferred, w, L + 1);
            return st_err_set(err, ST_ERR_SHAPE,
                              "%s: metadata widths '%.64s' disagree with the tensor shapes, which "
                              "give %.128s",
                              path, mw, inferred);
        }
    }
    *act = st_safetensors_meta(f, "activation");
    if (*act && strlen(*act) >= ST_SAFETENSORS_ACT_MAX)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: metadata activation '%.32s' is %zu bytes long, expected fewer than "
                          "%d",
                          path, *act, strlen(*act), ST_SAFETENSORS_ACT_MAX);
    return ST_OK;
}

enum st_status st_safetensors_load_model(const char *path, struct st_params *p, int *widths,
                                         int *n_layers, char *activation, struct st_err *err)
{
    enum st_status st;
    struct st_safetensors_file f = { 0 };
    struct st_params q = { 0 };
    struct layer_name *ln = NULL;
    const struct st_safetensors_tensor *W[ST_MAX_LAYERS], *b[ST_MAX_LAYERS];
    const char *act = NULL;
    char s1[64], s2[64];
    int w[ST_MAX_LAYERS + 1], L = 0, n;

    st = st_safetensors_read(path, &f, err);
    if (st != ST_OK)
        return st;
    n = f.n_tensors;
    if (n == 0) {
        st = st_err_set(err, ST_ERR_FORMAT,
                        "%s: no tensors, expected pairs '{k}.weight' and '{k}.bias'", path);
        goto out;
    }
    ln = malloc((size_t)n * sizeof *ln);
    if (!ln) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: cannot allocate %d tensor names", path, n);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const char *name = f.tensors[i].name;
        ln[i].t = &f.tensors[i];
        if (split_name(name, &ln[i]) != 0) {
            st = st_err_set(err, ST_ERR_FORMAT,
                            "%s: unexpected tensor '%s', expected only '{k}.weight' and "
                            "'{k}.bias' with k a layer index (after a prefix such as 'layers.' "
                            "shared by all tensors)",
                            path, name);
            goto out;
        }
        if (ln[i].prefix_len != ln[0].prefix_len ||
            memcmp(name, ln[0].t->name, ln[0].prefix_len) != 0) {
            st = st_err_set(err, ST_ERR_FORMAT,
                            "%s: mixed tensor names '%s' and '%s', expected the same prefix "
                            "before every layer index",
                            path, ln[0].t->name, name);
            goto out;
        }
    }

    /* Names are unique and indices canonical, so after sorting each layer is
     * a weight directly followed by its bias. */
    qsort(ln, (size_t)n, sizeof *ln, cmp_layer_name);
    for (int i = 0; i < n; i += 2) {
        const struct layer_name *a = &ln[i], *c = i + 1 < n ? &ln[i + 1] : NULL;
        const int plen = (int)a->prefix_len;
        if (a->is_bias) {
            st = st_err_set(err, ST_ERR_FORMAT, "%s: bias '%s' has no weight '%.*s%d.weight'",
                            path, a->t->name, plen, a->t->name, a->k);
            goto out;
        }
        format_shape(s1, sizeof s1, a->t);
        if (!c || c->k != a->k) {
            st = st_err_set(err, ST_ERR_FORMAT, "%s: weight '%s' %s has no bias '%.*s%d.bias'",
                            path, a->t->name, s1, plen, a->t->name, a->k);
            goto out;
        }
        if (L == ST_MAX_LAYERS) {
            st = st_err_set(err, ST_ERR_FORMAT, "%s: more than %d layers, expected at most %d",
                            path, ST_MAX_LAYERS, ST_MAX_LAYERS);
            goto out;
        }
        if (a->t->ndim != 2) {
            st = st_err_set(err, ST_ERR_SHAPE, "%s: weight '%s' has shape %s, expected [out, in]",
                            path, a->t->name, s1);
            goto out;
        }
        if (a->t->shape[0] < 1 || a->t->shape[0] > INT_MAX || a->t->shape[1] < 1 ||
            a->t->shape[1] > INT_MAX) {
            st = st_err_set(err, ST_ERR_SHAPE,
                            "%s: weight '%s' has shape %s, expected sizes from 1 to %d", path,
                            a->t->name, s1, INT_MAX);
            goto out;
        }
        format_shape(s2, sizeof s2, c->t);
        if (c->t->ndim != 1 || c->t->shape[0] != a->t->shape[0]) {
            st = st_err_set(err, ST_ERR_SHAPE,
                            "%s: bias '%s' has shape %s, expected [%" PRId64
                            "] to match weight '%s' %s",
                            path, c->t->name, s2, a->t->shape[0], a->t->name, s1);
            goto out;
        }
        if (L == 0) {
            w[0] = (int)a->t->shape[1];
        } else if (a->t->shape[1] != w[L]) {
            format_shape(s2, sizeof s2, W[L - 1]);
            st = st_err_set(err, ST_ERR_SHAPE,
                            "%s: broken chain: weight '%s' %s takes %" PRId64
                            " inputs, but the previous layer's '%s' %s gives %d outputs",
                            path, a->t->name, s1, a->t->shape[1], W[L - 1]->name, s2, w[L]);
            goto out;
        }
        W[L] = a->t;
        b[L] = c->t;
        w[++L] = (int)a->t->shape[0];
    }

    st = check_meta(path, &f, w, L, &act, err);
    if (st != ST_OK)
        goto out;
    st = st_params_init(&q, w, L, err);
    if (st != ST_OK)
        goto out;
    /* Views 2l and 2l+1 are W_{l+1} [out, in] and b_{l+1} [out], row-major as in the file. */
    for (int l = 0; l < L; l++) {
        memcpy(q.v[2 * l].data, W[l]->data, W[l]->n * sizeof(float));
        memcpy(q.v[2 * l + 1].data, b[l]->data, b[l]->n * sizeof(float));
    }
    *p = q;
    memcpy(widths, w, (size_t)(L + 1) * sizeof *w);
    *n_layers = L;
    strcpy(activation, act ? act : "");
out:
    free(ln);
    st_safetensors_file_free(&f);
    return st;
}
