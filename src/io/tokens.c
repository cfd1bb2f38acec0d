/* tokens.c: see tokens.h. */
#include "tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "npy.h"

#define BIN_HEADER 256 /* int32 words */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static enum st_status alloc_tokens(struct st_tokens *t, long n, const char *name,
                                   struct st_err *err)
{
    t->n = n;
    t->tok = malloc(((size_t)n + 1) * sizeof *t->tok);
    if (!t->tok)
        return st_err_set(err, ST_ERR_NOMEM, "%s: cannot allocate %ld tokens", name, n);
    return ST_OK;
}

enum st_status st_tokens_parse_bin(const unsigned char *buf, size_t len, const char *name,
                                   struct st_tokens *out, struct st_err *err)
{
    struct st_tokens t = { NULL, 0, 0 };
    if (len < 4 * BIN_HEADER)
        return st_err_set(err, ST_ERR_FORMAT, "%s: %zu bytes; an llm.c token file starts with a "
                          "header of %d bytes", name, len, 4 * BIN_HEADER);
    uint32_t magic = le32(buf), version = le32(buf + 4), count = le32(buf + 8);
    if (magic != ST_TOKENS_MAGIC)
        return st_err_set(err, ST_ERR_FORMAT, "%s: magic %u; expected %d (an llm.c token file)",
                          name, magic, ST_TOKENS_MAGIC);
    if (version != 1 && version != 2)
        return st_err_set(err, ST_ERR_FORMAT, "%s: version %u; expected 1 (uint16 tokens) or 2 "
                          "(uint32 tokens)", name, version);
    size_t width = version == 1 ? 2 : 4, body = len - 4 * BIN_HEADER;
    if (count > (uint32_t)INT32_MAX || body != (size_t)count * width)
        return st_err_set(err, ST_ERR_FORMAT, "%s: the header counts %u tokens of %zu bytes, "
                          "but %zu bytes follow it", name, count, width, body);
    enum st_status st = alloc_tokens(&t, (long)count, name, err);
    if (st != ST_OK)
        return st;
    const unsigned char *p = buf + 4 * BIN_HEADER;
    for (long i = 0; i < t.n; i++)
        t.tok[i] = width == 2 ? (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8 : le32(p + 4 * i);
    *out = t;
    return ST_OK;
}

static enum st_status read_npy(const char *path, struct st_tokens *out, struct st_err *err)
{
    struct st_npy a;
    enum st_status st = st_npy_read(path, &a, err);
    if (st != ST_OK)
        return st;
    if (a.ndim != 1 || !a.is_int) {
        st = st_err_set(err, ST_ERR_FORMAT, "%s: a %d-D array of %s; expected a 1-D array of "
                        "integer token ids", path, a.ndim, a.descr);
        st_npy_free(&a);
        return st;
    }
    struct st_tokens t = { NULL, 0, 0 };
    if ((st = alloc_tokens(&t, a.rows, path, err)) == ST_OK)
        for (long i = 0; i < t.n && st == ST_OK; i++) {
            if (a.data[i] < 0.0f)
                st = st_err_set(err, ST_ERR_FORMAT, "%s: index %ld is %.0f; token ids are not "
                                "negative", path, i, (double)a.data[i]);
            else
                t.tok[i] = (uint32_t)a.data[i];
        }
    st_npy_free(&a);
    if (st != ST_OK)
        st_tokens_free(&t);
    else
        *out = t;
    return st;
}

enum st_status st_tokens_read(const char *path, int as_text, struct st_tokens *out,
                              struct st_err *err)
{
    if (!as_text && ends_with(path, ".npy"))
        return read_npy(path, out, err);
    char *buf;
    size_t len;
    enum st_status st = st_file_read(path, &buf, &len, err);
    if (st != ST_OK)
        return st;
    if (!as_text && !ends_with(path, ".bin")) {
        free(buf);
        return st_err_set(err, ST_ERR_FORMAT, "%s: expected a .npy or .bin token file (or text "
                          "with --text)", path);
    }
    if (as_text) {
        struct st_tokens t = { NULL, 0, 0 };
        if ((st = alloc_tokens(&t, (long)len, path, err)) == ST_OK) {
            for (size_t i = 0; i < len; i++)
                t.tok[i] = (unsigned char)buf[i];
            t.bytes = (long)len;
            *out = t;
        }
    } else {
        st = st_tokens_parse_bin((const unsigned char *)buf, len, path, out, err);
    }
    free(buf);
    return st;
}

enum st_status st_tokens_write_bin(const char *path, const uint32_t *tok, long n,
                                   struct st_err *err)
{
    uint32_t version = 1;
    for (long i = 0; i < n; i++)
        if (tok[i] > 65535)
            version = 2;
    unsigned char head[4 * BIN_HEADER];
    memset(head, 0, sizeof head);
    uint32_t words[3] = { ST_TOKENS_MAGIC, version, (uint32_t)n };
    for (int w = 0; w < 3; w++)
        for (int k = 0; k < 4; k++)
            head[4 * w + k] = (unsigned char)(words[w] >> (8 * k));
    struct st_atomic_file af;
    enum st_status st = st_atomic_open(&af, path, err);
    if (st != ST_OK)
        return st;
    fwrite(head, 1, sizeof head, af.f);
    for (long i = 0; i < n; i++) {
        unsigned char b[4] = { (unsigned char)tok[i], (unsigned char)(tok[i] >> 8),
                               (unsigned char)(tok[i] >> 16), (unsigned char)(tok[i] >> 24) };
        fwrite(b, 1, version == 1 ? 2 : 4, af.f);
    }
    return st_atomic_commit(&af, err);
}

void st_tokens_free(struct st_tokens *t)
{
    if (!t)
        return;
    free(t->tok);
    t->tok = NULL;
    t->n = 0;
}
