/* safetensors.c: writer and validating reader. Layout: u64
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

enum st_status st_safetensors_write_tensors(const char *path, const struct st_safetensors_out *t,
                                            int n, const char *const *meta_keys,
                                            const char *const *meta_vals, int n_meta,
                                            struct st_err *err)
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
    for (int i = 0; i < n; i++) {
        size_t count = 1;
        cJSON *e = cJSON_CreateObject();
        cJSON *shape = NULL, *offs = NULL;
        if (e)
            cJSON_AddItemToObject(root, t[i].name, e);
        if (e && cJSON_AddStringToObject(e, "dtype", t[i].dtype))
            shape = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; shape && d < t[i].ndim; d++) {
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[d]));
            count *= (size_t)t[i].shape[d];
        }
        if (shape)
            offs = cJSON_AddArrayToObject(e, "data_offsets");
        if (!offs) {
            st = st_err_set(err, ST_ERR_NOMEM, "cannot build the header of %s", path);
            goto out;
        }
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + 4 * count)));
        off += 4 * count;
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
        for (int i = 0; i < n; i++) {
            size_t count = 1;
            for (int d = 0; d < t[i].ndim; d++)
                count *= (size_t)t[i].shape[d];
            fwrite(t[i].data, 4, count, af.f);
        }
    }
    st = st_atomic_commit(&af, err);
out:
    free(json);
    cJSON_Delete(root);
    return st;
}

enum st_status st_safetensors_write(const char *path, const struct st_params *p,
                                    const char *const *names, const char *const *meta_keys,
                                    const char *const *meta_vals, int n_meta, struct st_err *err)
{
    struct st_safetensors_out *t = malloc(((size_t)p->n_views + 1) * sizeof *t);
    if (!t)
        return st_err_set(err, ST_ERR_NOMEM, "cannot build the header of %s", path);
    for (int i = 0; i < p->n_views; i++) {
        const struct st_view *v = &p->v[i];
        t[i] = (struct st_safetensors_out){ names ? names[i] : v->name, "F32", v->ndim,
                                            { v->rows, v->cols, 1, 1 }, v->data };
    }
    enum st_status st =
        st_safetensors_write_tensors(path, t, p->n_views, meta_keys, meta_vals, n_meta, err);
    free(t);
    return st;
}

/* ---- reader ---- */

/* Bytes of one element of each dtype the reader converts (U32 only where
 * ints is set). */
static int dtype_size(const char *dtype, int ints)
{
    if (!strcmp(dtype, "F32") || (ints && !strcmp(dtype, "U32")))
        return 4;
    if (!strcmp(dtype, "F64"))
        return 8;
    if (!strcmp(dtype, "F16") || !strcmp(dtype, "BF16"))
        return 2;
    return 0;
}

/* An IEEE half (1 sign, 5 exponent, 10 mantissa bits) as the float it is
 * exactly: normals, subnormals (mantissa * 2^-24), zeros, infinities and NaN
 * (its payload kept in the top mantissa bits). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, u;
    if (e == 0x1f) {
        u = sign | 0x7f800000u | m << 13;
    } else if (e != 0) {
        u = sign | (e + 112u) << 23 | m << 13; /* rebias 15 -> 127 */
    } else {
        float f = (float)m * 0x1p-24f; /* 0 or a subnormal half: exact in float */
        memcpy(&u, &f, sizeof u);
        u |= sign;
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
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

/* Reads the whole file into *out (malloc'd), its size into *len and the
 * header length into *n_header, which is checked against the file size and
 * ST_SAFETENSORS_MAX_HEADER before the rest is read, so a corrupt length
 * costs no allocation. */
/* Reads path into *out: the whole file, or with header_only the 8-byte
 * length and the header; *len is the file's size either way. */
static enum st_status read_file(const char *path, int header_only, unsigned char **out,
                                size_t *len, uint64_t *n_header, struct st_err *err)
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
    size_t want = header_only ? 8 + (size_t)nh : (size_t)n;
    if ((st = st_check_memory((double)want, path, err)) != ST_OK)
        goto out;
    buf = malloc(want);
    if (!buf) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: cannot allocate %zu bytes to read it", path, want);
        goto out;
    }
    memcpy(buf, size_le, 8);
    if (fread(buf + 8, 1, want - 8, f) != want - 8) {
        st = st_err_set(err, ST_ERR_IO, "%s: cannot read %zu bytes: %s", path, want,
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
                                  int ints, struct entry *e, struct st_err *err)
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
    size = dtype_size(dtype->valuestring, ints);
    if (!size)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: tensor '%s': dtype '%.32s' is not supported, expected F32, F64, "
                          "F16%s",
                          path, name, dtype->valuestring, ints ? ", BF16 or U32" : " or BF16");
    strcpy(e->t.dtype, dtype->valuestring);

    shape = cJSON_GetObjectItemCaseSensitive(j, "shape");
    if (!cJSON_IsArray(shape))
        return st_err_set(err, ST_ERR_FORMAT, "%s: tensor '%s': shape is %s, expected an array",
                          path, name, shape ? json_kind(shape) : "missing");
    e->t.ndim = cJSON_GetArraySize(shape);
    if (e->t.ndim > 4)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: tensor '%s': shape has %d dimensions, expected at most 4", path,
                          name, e->t.ndim);
    for (int d = 0; d < 4; d++)
        e->t.shape[d] = 1;
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
            st_shape_text(found, sizeof found, e->t.ndim, e->t.shape);
            return st_err_set(err, ST_ERR_FORMAT,
                              "%s: tensor '%s': shape %s has too many elements (overflow)", path,
                              name, found);
        }
        count *= v;
    }
    st_shape_text(found, sizeof found, e->t.ndim, e->t.shape);
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

/* Converts the bytes of e (at data, little-endian) into dst[e->t.n] (a U32
 * tensor's into the same room as uint32_t). */
static enum st_status decode(const char *path, const struct entry *e, const unsigned char *data,
                             float *dst, struct st_err *err)
{
    const unsigned char *src = data + e->begin;
    if (!strcmp(e->t.dtype, "U32")) {
        uint32_t *u = (uint32_t *)(void *)dst;
        for (size_t i = 0; i < e->t.n; i++)
            u[i] = le_u32(src + 4 * i);
        return ST_OK;
    }
    if (!strcmp(e->t.dtype, "F16") || !strcmp(e->t.dtype, "BF16")) {
        int bf = e->t.dtype[0] == 'B';
        for (size_t i = 0; i < e->t.n; i++) {
            uint16_t h = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
            if (bf) {
                uint32_t u = (uint32_t)h << 16; /* bfloat16: a float's top half */
                memcpy(&dst[i], &u, sizeof u);
            } else {
                dst[i] = half_to_float(h);
            }
        }
        return ST_OK;
    }
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

static enum st_status read_any(const char *path, int header_only, int ints,
                               struct st_safetensors_file *out, struct st_err *err)
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

    st = read_file(path, header_only, &buf, &len, &n_header, err);
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
        st = parse_entry(path, j, data_size, ints, &ents[n], err);
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

    if (header_only) {
        for (int i = 0; i < n; i++)
            f.tensors[i] = ents[i].t;
        f.n_tensors = n;
        *out = f;
        memset(&f, 0, sizeof f);
        goto out;
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
        if (!strcmp(ents[i].t.dtype, "U32")) {
            ents[i].t.u32 = (uint32_t *)(void *)ents[i].t.data;
            ents[i].t.data = NULL;
        }
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

enum st_status st_safetensors_read(const char *path, struct st_safetensors_file *out,
                                   struct st_err *err)
{
    return read_any(path, 0, 0, out, err);
}

enum st_status st_safetensors_read_any(const char *path, struct st_safetensors_file *out,
                                       struct st_err *err)
{
    return read_any(path, 0, 1, out, err);
}

enum st_status st_safetensors_read_header(const char *path, struct st_safetensors_file *out,
                                          struct st_err *err)
{
    return read_any(path, 1, 0, out, err);
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
