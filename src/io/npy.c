/* npy.c: .npy reader and writer. Layout: magic "\x93NUMPY", the version as two
 * bytes (major, minor), the header length (u16 little-endian in version 1.0,
 * u32 in 2.0 and 3.0), the header: a Python dict literal padded with spaces
 * and ending in '\n' so that the data starts at a multiple of 64 bytes, then
 * the raw data. The reader trusts no length: each one is checked against the
 * file size before anything is allocated or read. */
#define _POSIX_C_SOURCE 200809L
#include "npy.h"
#include "file.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"

/* ---- writer ---- */

/* A version 1.0 file of descr with the shape text given (data written by the
 * caller through *af, left open). */
static enum st_status write_header(const char *path, const char *descr, const char *shape,
                                   struct st_atomic_file *af, struct st_err *err)
{
    char header[256];
    enum st_status st;
    int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     descr, shape);
    /* 10 bytes of preamble + header + '\n' must be a multiple of 64. */
    size_t total = (size_t)(10 + n + 1 + 63) / 64 * 64;
    size_t hlen = total - 10;

    if (n < 0 || hlen >= sizeof header)
        return st_err_set(err, ST_ERR_ARG, "%s: shape too large", path);
    memset(header + n, ' ', hlen - (size_t)n);
    header[hlen - 1] = '\n';
    st = st_atomic_open(af, path, err);
    if (st != ST_OK)
        return st;
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                              (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8) };
    fwrite(pre, 1, sizeof pre, af->f);
    fwrite(header, 1, hlen, af->f);
    return ST_OK;
}

enum st_status st_npy_write_f32(const char *path, const float *x, long rows, long cols,
                                struct st_err *err)
{
    struct st_atomic_file af;
    char shape[64];
    snprintf(shape, sizeof shape, "(%ld, %ld)", rows, cols);
    enum st_status st = write_header(path, "<f4", shape, &af, err);
    if (st != ST_OK)
        return st;
    /* float32 in memory is little-endian on every platform this builds for. */
    fwrite(x, sizeof(float), (size_t)rows * (size_t)cols, af.f);
    return st_atomic_commit(&af, err);
}

enum st_status st_npy_write_i32(const char *path, const uint32_t *x, long n, struct st_err *err)
{
    struct st_atomic_file af;
    char shape[64];
    snprintf(shape, sizeof shape, "(%ld,)", n);
    enum st_status st = write_header(path, "<i4", shape, &af, err);
    if (st != ST_OK)
        return st;
    for (long i = 0; i < n; i++) {
        unsigned char b[4] = { (unsigned char)x[i], (unsigned char)(x[i] >> 8),
                               (unsigned char)(x[i] >> 16), (unsigned char)(x[i] >> 24) };
        fwrite(b, 1, 4, af.f);
    }
    return st_atomic_commit(&af, err);
}

/* ---- reader ---- */

#define NPY_MAX_HEADER (1u << 20) /* bytes; NumPy's own default limit is 10000 */
#define NPY_MAX_DIMS 64           /* NumPy's limit (numpy 2; 32 before) */
#define NPY_MAX_INT 16777216      /* 2^24: larger integers are not all floats */

enum npy_kind { NPY_F4, NPY_F8, NPY_I4, NPY_I8, NPY_I2, NPY_U1, NPY_U2, NPY_U4 };

static const struct npy_dtype {
    const char *descr;
    enum npy_kind kind;
    size_t size; /* bytes per item */
    int is_int;
} npy_dtypes[] = {
    { "<f4", NPY_F4, 4, 0 },
    { "<f8", NPY_F8, 8, 0 },
    { "<i4", NPY_I4, 4, 1 },
    { "<i8", NPY_I8, 8, 1 },
    { "<i2", NPY_I2, 2, 1 },
    { "|u1", NPY_U1, 1, 1 },
    { "<u2", NPY_U2, 2, 1 },
    { "<u4", NPY_U4, 4, 1 },
};
#define NPY_SUPPORTED "'<f4', '<f8', '<i2', '<i4', '<i8', '|u1', '<u2' or '<u4'"

/* What the header says, and what follows from it. */
struct npy_info {
    const char *descr;  /* the descr string as found, inside the header text */
    size_t descr_len;
    int fortran;        /* fortran_order */
    int ndim;
    long dims[NPY_MAX_DIMS];
    char shape[160];    /* dims formatted for messages: "(3, 4)", "(5,)", "()" */
    const struct npy_dtype *dt;
    long rows, cols;
    size_t n_items, n_bytes;
};

/* A cursor over the header text [p, end), with what an error needs. */
struct cursor {
    const char *p, *end;
    const char *path;
    struct st_err *err;
};

#define QUOTE_MAX 24                  /* bytes of input shown in a message */
#define QUOTE_BUF (4 * QUOTE_MAX + 8) /* each may become \xNN; quotes, "...", NUL */

/* s[0, n) in single quotes for a message: at most QUOTE_MAX bytes, then
 * "...", and bytes outside printable ASCII as \xNN. buf holds QUOTE_BUF. */
static const char *quoted(char *buf, const char *s, size_t n)
{
    size_t k = 0;
    buf[k++] = '\'';
    for (size_t i = 0; i < n && i < QUOTE_MAX; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f)
            buf[k++] = (char)ch;
        else
            k += (size_t)snprintf(buf + k, 5, "\\x%02x", ch);
    }
    if (n > QUOTE_MAX) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k++] = '\'';
    buf[k] = '\0';
    return buf;
}

/* Reads exactly n bytes. The size was checked beforehand, so a short read
 * means a read error or a file that changed under us. */
static enum st_status read_exact(FILE *f, void *buf, size_t n, const char *path,
                                 struct st_err *err)
{
    if (fread(buf, 1, n, f) == n)
        return ST_OK;
    if (ferror(f))
        return st_err_set(err, ST_ERR_IO, "%s: read error: %s", path, strerror(errno));
    return st_err_set(err, ST_ERR_FORMAT, "%s: the file ended early (did it change while read?)",
                      path);
}

/* Reads the magic, the version and the header length; on success the file
 * position is at the header's first byte. size is the file's size. */
static enum st_status read_preamble(FILE *f, const char *path, uint64_t size, size_t *pre_len,
                                    size_t *hlen, struct st_err *err)
{
    static const unsigned char magic[6] = { 0x93, 'N', 'U', 'M', 'P', 'Y' };
    unsigned char pre[12];
    char q[QUOTE_BUF];
    size_t n = size < 8 ? (size_t)size : 8, len_size;
    enum st_status st;
    uint32_t len = 0;

    if (size == 0)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: empty file; expected a .npy file (starting with \\x93NUMPY)", path);
    if ((st = read_exact(f, pre, n, path, err)) != ST_OK)
        return st;
    if (memcmp(pre, magic, n < 6 ? n : 6) != 0)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: not a .npy file: starts with %s, expected \\x93NUMPY", path,
                          quoted(q, (const char *)pre, n < 6 ? n : 6));
    if (n < 8)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: truncated: the file has %zu bytes, expected a 10-byte preamble "
                          "at least", path, n);
    if (pre[7] != 0 || pre[6] < 1 || pre[6] > 3)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: unsupported .npy format version %d.%d; expected 1.0, 2.0 or 3.0",
                          path, pre[6], pre[7]);
    /* Version 1.0 has a u16 header length; 2.0 a u32; 3.0 is 2.0 with a
     * UTF-8 header, which is ASCII for every dtype this reader takes. */
    len_size = pre[6] == 1 ? 2 : 4;
    *pre_len = 8 + len_size;
    if (size < *pre_len)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: truncated header: the file has %llu bytes, expected the %zu-byte "
                          "preamble of version %d.0 at least", path, (unsigned long long)size,
                          *pre_len, pre[6]);
    if ((st = read_exact(f, pre + 8, len_size, path, err)) != ST_OK)
        return st;
    for (size_t i = 0; i < len_size; i++)
        len |= (uint32_t)pre[8 + i] << (8 * i);
    if (len > NPY_MAX_HEADER)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: header length %lu exceeds the limit of %u bytes (1 MiB)", path,
                          (unsigned long)len, NPY_MAX_HEADER);
    if (len > size - *pre_len)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: truncated header: header length %lu runs past the end of the "
                          "file, which has %llu bytes after the %zu-byte preamble", path,
                          (unsigned long)len, (unsigned long long)(size - *pre_len), *pre_len);
    *hlen = len;
    return ST_OK;
}

/* ---- header parser: the subset of Python literal syntax NumPy writes ---- */

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static void skip_space(struct cursor *c)
{
    while (c->p < c->end && is_space(*c->p))
        c->p++;
}

/* "expected X, found Y", where Y is the rest of the header without its
 * padding. */
static enum st_status syntax(struct cursor *c, const char *expected)
{
    char q[QUOTE_BUF];
    const char *end = c->end;
    while (end > c->p && is_space(end[-1]))
        end--;
    if (c->p == end)
        return st_err_set(c->err, ST_ERR_FORMAT,
                          "%s: bad .npy header: expected %s, found the end of the header",
                          c->path, expected);
    return st_err_set(c->err, ST_ERR_FORMAT, "%s: bad .npy header: expected %s, found %s",
                      c->path, expected, quoted(q, c->p, (size_t)(end - c->p)));
}

/* Skips spaces, then consumes ch if it comes next. */
static int eat(struct cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* The run of bytes up to a separator: an identifier, a number or garbage. */
static size_t token_len(const struct cursor *c)
{
    const char *t = c->p;
    while (t < c->end && (*t == '\0' || !strchr(" \t\r\n,:)}", *t)))
        t++;
    return (size_t)(t - c->p);
}

/* A string in single or double quotes (NumPy writes no escapes in these). */
static enum st_status parse_string(struct cursor *c, const char **s, size_t *n,
                                   const char *what)
{
    const char *q;
    skip_space(c);
    if (c->p == c->end || (*c->p != '\'' && *c->p != '"'))
        return syntax(c, what);
    q = memchr(c->p + 1, *c->p, (size_t)(c->end - c->p - 1));
    if (!q)
        return syntax(c, "a string with its closing quote");
    *s = c->p + 1;
    *n = (size_t)(q - *s);
    c->p = q + 1;
    return ST_OK;
}

static int token_is(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

static enum st_status parse_descr(struct cursor *c, struct npy_info *h)
{
    skip_space(c);
    if (c->p < c->end && *c->p == '[')
        return st_err_set(c->err, ST_ERR_FORMAT,
                          "%s: structured dtype (a list of fields) in the header; expected a "
                          "plain " NPY_SUPPORTED " array", c->path);
    return parse_string(c, &h->descr, &h->descr_len,
                        "a dtype string such as '<f4' for 'descr'");
}

static enum st_status parse_fortran(struct cursor *c, struct npy_info *h)
{
    size_t n;
    skip_space(c);
    n = token_len(c);
    if (token_is(c->p, n, "True") || token_is(c->p, n, "False")) {
        h->fortran = c->p[0] == 'T';
        c->p += n;
        return ST_OK;
    }
    return syntax(c, "True or False for 'fortran_order'");
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n > 0;
}

/* One shape entry: a non-negative integer that fits a long, with the 'L'
 * suffix that Python 2 wrote for long integers allowed. */
static enum st_status parse_dim(struct cursor *c, long *dim)
{
    char q[QUOTE_BUF];
    size_t n, n_digits;
    long v = 0;

    skip_space(c);
    n = token_len(c);
    if (n == 0)
        return syntax(c, "a shape entry");
    n_digits = c->p[n - 1] == 'L' ? n - 1 : n;
    if (c->p[0] == '-' && all_digits(c->p + 1, n_digits - 1))
        return st_err_set(c->err, ST_ERR_FORMAT,
                          "%s: bad .npy header: shape entry %s is negative; expected a "
                          "non-negative integer", c->path, quoted(q, c->p, n));
    if (!all_digits(c->p, n_digits))
        return st_err_set(c->err, ST_ERR_FORMAT,
                          "%s: bad .npy header: shape entry %s is not a non-negative integer",
                          c->path, quoted(q, c->p, n));
    for (size_t i = 0; i < n_digits; i++) {
        int d = c->p[i] - '0';
        if (v > (LONG_MAX - d) / 10)
            return st_err_set(c->err, ST_ERR_FORMAT,
                              "%s: bad .npy header: shape entry %s is too large (the limit is "
                              "%ld)", c->path, quoted(q, c->p, n), LONG_MAX);
        v = v * 10 + d;
    }
    c->p += n;
    *dim = v;
    return ST_OK;
}

/* A tuple of dims: (), (5,), (3, 4), with or without a trailing comma after
 * the last of several entries. (5) is the integer 5 in Python, not a tuple,
 * and NumPy rejects it, so this does too. */
static enum st_status parse_shape(struct cursor *c, struct npy_info *h)
{
    enum st_status st;
    if (!eat(c, '('))
        return syntax(c, "a shape tuple such as (3, 4) for 'shape'");
    h->ndim = 0;
    while (!eat(c, ')')) {
        if (h->ndim == NPY_MAX_DIMS)
            return st_err_set(c->err, ST_ERR_FORMAT,
                              "%s: bad .npy header: shape has more than %d dimensions", c->path,
                              NPY_MAX_DIMS);
        if ((st = parse_dim(c, &h->dims[h->ndim++])) != ST_OK)
            return st;
        if (eat(c, ','))
            continue;
        if (!eat(c, ')'))
            return syntax(c, "',' or ')' in the shape tuple");
        if (h->ndim == 1)
            return st_err_set(c->err, ST_ERR_FORMAT,
                              "%s: bad .npy header: shape (%ld) is not a tuple; expected (%ld,)",
                              c->path, h->dims[0], h->dims[0]);
        break;
    }
    return ST_OK;
}

/* The header dict: exactly the keys 'descr', 'fortran_order' and 'shape', in
 * any order, with any spacing and an optional trailing comma; after the
 * closing brace only whitespace (the padding and the final '\n'). */
static enum st_status parse_header(const char *path, const char *text, size_t len,
                                   struct npy_info *h, struct st_err *err)
{
    static const char *const keys[3] = { "descr", "fortran_order", "shape" };
    struct cursor c = { text, text + len, path, err };
    int seen[3] = { 0, 0, 0 };
    char q[QUOTE_BUF];
    enum st_status st;

    if (!eat(&c, '{'))
        return syntax(&c, "a dict starting with '{'");
    while (!eat(&c, '}')) {
        const char *key;
        size_t n;
        int k = 0;
        if ((st = parse_string(&c, &key, &n, "a quoted key or '}'")) != ST_OK)
            return st;
        while (k < 3 && !token_is(key, n, keys[k]))
            k++;
        if (k == 3)
            return st_err_set(err, ST_ERR_FORMAT,
                              "%s: bad .npy header: unexpected key %s; expected 'descr', "
                              "'fortran_order' and 'shape'", path, quoted(q, key, n));
        if (seen[k]++)
            return st_err_set(err, ST_ERR_FORMAT, "%s: bad .npy header: key '%s' appears twice",
                              path, keys[k]);
        if (!eat(&c, ':'))
            return syntax(&c, "':' after the key");
        st = k == 0 ? parse_descr(&c, h) : k == 1 ? parse_fortran(&c, h) : parse_shape(&c, h);
        if (st != ST_OK)
            return st;
        if (eat(&c, ','))
            continue;
        if (!eat(&c, '}'))
            return syntax(&c, "',' or '}' after a value");
        break;
    }
    skip_space(&c);
    if (c.p != c.end)
        return syntax(&c, "only spaces and '\\n' after the header dict");
    for (int k = 0; k < 3; k++)
        if (!seen[k])
            return st_err_set(err, ST_ERR_FORMAT,
                              "%s: bad .npy header: missing key '%s'; expected 'descr', "
                              "'fortran_order' and 'shape'", path, keys[k]);
    return ST_OK;
}

/* ---- what the header describes ---- */

static void format_shape(char *buf, size_t size, const long *dims, int ndim)
{
    int n = snprintf(buf, size, "(");
    for (int i = 0; i < ndim && n >= 0 && (size_t)n < size; i++)
        n += snprintf(buf + n, size - (size_t)n, "%s%ld", i ? ", " : "", dims[i]);
    if (n >= 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, "%s", ndim == 1 ? ",)" : ")");
}

/* Checks the dtype, the order and the shape, and derives rows, cols and the
 * data size, which must be exactly what the file holds after the header. */
static enum st_status check_array(const char *path, struct npy_info *h, uint64_t data_bytes,
                                  struct st_err *err)
{
    const size_t n_types = sizeof npy_dtypes / sizeof npy_dtypes[0];
    char q[QUOTE_BUF];
    size_t n_items;
    int too_large;

    for (size_t i = 0; i < n_types && !h->dt; i++)
        if (token_is(h->descr, h->descr_len, npy_dtypes[i].descr))
            h->dt = &npy_dtypes[i];
    /* A supported type in another byte order gets its own message: the fix
     * differs ('>f4' needs a.astype('<f4'), '<f2' a different type). */
    for (size_t i = 0; i < n_types && !h->dt; i++)
        if (h->descr_len == 3 && memcmp(h->descr + 1, npy_dtypes[i].descr + 1, 2) == 0)
            return st_err_set(err, ST_ERR_FORMAT,
                              "%s: dtype %s is %s; expected little-endian " NPY_SUPPORTED
                              " (in NumPy: a.astype('%s'))", path,
                              quoted(q, h->descr, h->descr_len),
                              h->descr[0] == '>' ? "big-endian" : "not marked little-endian",
                              npy_dtypes[i].descr);
    if (!h->dt)
        return st_err_set(err, ST_ERR_FORMAT, "%s: unsupported dtype %s; expected " NPY_SUPPORTED,
                          path, quoted(q, h->descr, h->descr_len));
    if (h->fortran)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: array is in Fortran order (fortran_order: True); expected C order:"
                          " save np.ascontiguousarray(a) instead", path);
    format_shape(h->shape, sizeof h->shape, h->dims, h->ndim);
    if (h->ndim != 1 && h->ndim != 2)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: %d-D shape %s; expected a 1-D (n,) or 2-D (rows, cols) array",
                          path, h->ndim, h->shape);
    h->rows = h->dims[0];
    h->cols = h->ndim == 2 ? h->dims[1] : 1;
    /* n_items * size cannot overflow below; and since size >= sizeof(float),
     * neither can the float buffer's n_items * sizeof(float). */
    n_items = (size_t)h->rows;
    too_large = h->cols != 0 && n_items > SIZE_MAX / (size_t)h->cols;
    if (!too_large) {
        n_items *= (size_t)h->cols;
        too_large = n_items > SIZE_MAX / h->dt->size;
    }
    if (too_large)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: shape %s of '%s' is too large: %.3g bytes, more than this machine "
                          "can address", path, h->shape, h->dt->descr,
                          (double)h->rows * (double)h->cols * (double)h->dt->size);
    h->n_items = n_items;
    h->n_bytes = n_items * h->dt->size;
    if (data_bytes != h->n_bytes)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: expected %zu data bytes for shape %s of '%s', found %llu (%s)",
                          path, h->n_bytes, h->shape, h->dt->descr, (unsigned long long)data_bytes,
                          data_bytes < h->n_bytes ? "the file is truncated"
                                                  : "trailing bytes after the array");
    return ST_OK;
}

/* ---- data ---- */

static uint64_t le_u64(const unsigned char *b, size_t size)
{
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* "index 7" for a 1-D array, "row 3, col 1" for a 2-D one. */
static const char *position(char *buf, size_t size, const struct npy_info *h, size_t i)
{
    if (h->ndim == 1)
        snprintf(buf, size, "index %zu", i);
    else
        snprintf(buf, size, "row %zu, col %zu", i / (size_t)h->cols, i % (size_t)h->cols);
    return buf;
}

/* One item of the file as a float; fails on values float32 cannot stand for. */
static enum st_status convert(float *y, const unsigned char *b, const struct npy_info *h,
                              size_t i, const char *path, double *rounded, struct st_err *err)
{
    /* Halfway between FLT_MAX and 2^128: a double of this magnitude or more
     * rounds to inf, one below it to +-FLT_MAX. */
    static const double f32_overflow = 0x1.ffffffp127;
    uint64_t u = le_u64(b, h->dt->size);
    char at[64];
    int64_t v = 0;

    switch (h->dt->kind) {
    case NPY_F4: {
        uint32_t u32 = (uint32_t)u;
        memcpy(y, &u32, sizeof *y); /* bit for bit, NaN payloads included */
        return ST_OK;
    }
    case NPY_F8: {
        double d;
        memcpy(&d, &u, sizeof d);
        if (isnan(d) || isinf(d) || fabs(d) <= (double)FLT_MAX)
            *y = (float)d; /* the nearest float; NaN and inf pass through */
        else if (fabs(d) < f32_overflow)
            *y = d > 0 ? FLT_MAX : -FLT_MAX; /* rounds to the largest float */
        else
            return st_err_set(err, ST_ERR_FORMAT,
                              "%s: value %.9g at %s is beyond the float32 range (largest %.9g) "
                              "and would become inf", path, d, position(at, sizeof at, h, i),
                              (double)FLT_MAX);
        if (isfinite(d) && (double)*y != d)
            *rounded = d;
        return ST_OK;
    }
    case NPY_I4: {
        int32_t v32;
        uint32_t u32 = (uint32_t)u;
        memcpy(&v32, &u32, sizeof v32);
        v = v32;
        break;
    }
    case NPY_I8:
        memcpy(&v, &u, sizeof v);
        break;
    case NPY_I2: {
        int16_t v16;
        uint16_t u16 = (uint16_t)u;
        memcpy(&v16, &u16, sizeof v16);
        v = v16;
        break;
    }
    case NPY_U1:
    case NPY_U2:
    case NPY_U4:
        v = (int64_t)u; /* le_u64 read just the item's bytes */
        break;
    }
    if (v > NPY_MAX_INT || v < -NPY_MAX_INT)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: value %lld at %s exceeds 2^24 = %d in magnitude, so float32 cannot "
                          "hold it exactly; expected integers in [-%d, %d]", path, (long long)v,
                          position(at, sizeof at, h, i), NPY_MAX_INT, NPY_MAX_INT, NPY_MAX_INT);
    *y = (float)v;
    return ST_OK;
}

/* Reads and converts the n_items items into y[n_items], a chunk at a time. */
static enum st_status read_data(FILE *f, const char *path, const struct npy_info *h, float *y,
                                long *rounded_at, double *rounded_value, struct st_err *err)
{
    unsigned char buf[1 << 14]; /* a multiple of every item size */
    const size_t per_chunk = sizeof buf / h->dt->size;
    enum st_status st;

    for (size_t done = 0; done < h->n_items;) {
        size_t k = h->n_items - done < per_chunk ? h->n_items - done : per_chunk;
        if ((st = read_exact(f, buf, k * h->dt->size, path, err)) != ST_OK)
            return st;
        for (size_t j = 0; j < k; j++) {
            double rounded = (double)NAN;
            if ((st = convert(&y[done + j], buf + j * h->dt->size, h, done + j, path, &rounded,
                              err)) != ST_OK)
                return st;
            if (!isnan(rounded) && *rounded_at < 0) {
                *rounded_at = (long)(done + j);
                *rounded_value = rounded;
            }
        }
        done += k;
    }
    if (fgetc(f) != EOF)
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: the file grew while it was read; expected %zu data bytes", path,
                          h->n_bytes);
    return ST_OK;
}

enum st_status st_npy_read(const char *path, struct st_npy *out, struct st_err *err)
{
    enum st_status st = ST_OK;
    FILE *f = fopen(path, "rb");
    struct stat sb;
    uint64_t size;
    size_t pre_len = 0, hlen = 0;
    char *text = NULL; /* the header dict, [hlen] */
    float *data = NULL; /* [rows, cols] */
    struct npy_info h;

    memset(&h, 0, sizeof h);
    if (!f)
        return st_err_set(err, ST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(f), &sb) != 0) {
        st = st_err_set(err, ST_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size < 0) {
        st = st_err_set(err, ST_ERR_IO, "%s: not a regular file; expected a .npy file", path);
        goto out;
    }
    size = (uint64_t)sb.st_size;
    if ((st = read_preamble(f, path, size, &pre_len, &hlen, err)) != ST_OK)
        goto out;
    text = malloc(hlen ? hlen : 1);
    if (!text) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: no memory for a %zu-byte header", path, hlen);
        goto out;
    }
    if ((st = read_exact(f, text, hlen, path, err)) != ST_OK ||
        (st = parse_header(path, text, hlen, &h, err)) != ST_OK ||
        (st = check_array(path, &h, size - pre_len - hlen, err)) != ST_OK)
        goto out;
    char what[4300];
    snprintf(what, sizeof what, "%s (shape %s, read as float32)", path, h.shape);
    if ((st = st_check_memory((double)h.n_items * sizeof *data, what, err)) != ST_OK)
        goto out;
    data = malloc(h.n_items ? h.n_items * sizeof *data : sizeof *data);
    if (!data) {
        st = st_err_set(err, ST_ERR_NOMEM, "%s: no memory for shape %s", path, h.shape);
        goto out;
    }
    long rounded_at = -1;
    double rounded_value = 0.0;
    if ((st = read_data(f, path, &h, data, &rounded_at, &rounded_value, err)) != ST_OK)
        goto out;
    out->rounded = rounded_at >= 0;
    out->rounded_at = rounded_at;
    out->rounded_value = rounded_value;
    out->rows = h.rows;
    out->cols = h.cols;
    out->ndim = h.ndim;
    out->is_int = h.dt->is_int;
    memset(out->descr, 0, sizeof out->descr);
    memcpy(out->descr, h.dt->descr, strlen(h.dt->descr));
    out->data = data;
    data = NULL;
out:
    free(data);
    free(text);
    fclose(f);
    return st;
}

void st_npy_free(struct st_npy *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}
