/* ckpt.c: see ckpt.h. */
#include "ckpt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char magic[8] = { 'S', 'T', 'C', 'K', 'P', 'T', '1', '\n' };

uint64_t st_ckpt_hash(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void put_bytes(struct st_ckpt_writer *w, const void *data, size_t n)
{
    if (w->failed || n == 0)
        return;
    if (fwrite(data, 1, n, w->af.f) != n)
        w->failed = 1;
    w->hash = st_ckpt_hash(w->hash, data, n);
}

static void put_u32(struct st_ckpt_writer *w, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put_bytes(w, b, 4);
}

static void put_u64(struct st_ckpt_writer *w, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put_bytes(w, b, 8);
}

enum st_status st_ckpt_begin(struct st_ckpt_writer *w, const char *path, struct st_err *err)
{
    memset(w, 0, sizeof *w);
    enum st_status st = st_atomic_open(&w->af, path, err);
    if (st != ST_OK)
        return st;
    w->hash = ST_CKPT_HASH_START;
    put_bytes(w, magic, sizeof magic);
    return ST_OK;
}

void st_ckpt_put(struct st_ckpt_writer *w, const char *name, const void *data, size_t size)
{
    size_t len = strlen(name);
    if (len == 0 || len >= ST_CKPT_NAME_MAX) {
        w->failed = 1;
        return;
    }
    put_u32(w, (uint32_t)len);
    put_bytes(w, name, len);
    put_u64(w, (uint64_t)size);
    put_bytes(w, data, size);
}

void st_ckpt_abort(struct st_ckpt_writer *w)
{
    st_atomic_abort(&w->af);
}

enum st_status st_ckpt_commit(struct st_ckpt_writer *w, struct st_err *err)
{
    put_u32(w, 0);
    uint64_t h = w->hash;
    put_u64(w, h);
    if (w->failed) {
        st_atomic_abort(&w->af);
        return st_err_set(err, ST_ERR_IO, "cannot write %s", w->af.path);
    }
    return st_atomic_commit(&w->af, err);
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

enum st_status st_ckpt_parse(struct st_ckpt *c, const void *data, size_t len, const char *what,
                             struct st_err *err)
{
    memset(c, 0, sizeof *c);
    if (len < sizeof magic + 4 + 8 || memcmp(data, magic, sizeof magic) != 0)
        return st_err_set(err, ST_ERR_FORMAT, "%s: not a sparsetune checkpoint (no STCKPT1 header)",
                          what);
    const unsigned char *p = data;
    if (st_ckpt_hash(ST_CKPT_HASH_START, p, len - 8) != get_le(p + len - 8, 8))
        return st_err_set(err, ST_ERR_FORMAT,
                          "%s: checksum mismatch (the file is truncated or corrupted)", what);
    /* Count, then record, the sections; every length is checked against
     * what is left before it is used. */
    size_t end = len - 8;
    for (int pass = 0; pass < 2; pass++) {
        size_t at = sizeof magic;
        int n = 0;
        for (;;) {
            if (end - at < 4)
                return st_err_set(err, ST_ERR_FORMAT, "%s: truncated section list", what);
            uint64_t nl = get_le(p + at, 4);
            at += 4;
            if (nl == 0)
                break;
            if (nl >= ST_CKPT_NAME_MAX || end - at < nl + 8)
                return st_err_set(err, ST_ERR_FORMAT, "%s: bad section name length %llu", what,
                                  (unsigned long long)nl);
            const unsigned char *name = p + at;
            at += nl;
            uint64_t size = get_le(p + at, 8);
            at += 8;
            if (size > end - at)
                return st_err_set(err, ST_ERR_FORMAT,
                                  "%s: section '%.*s' of %llu bytes runs past the end", what,
                                  (int)nl, (const char *)name, (unsigned long long)size);
            if (pass == 1) {
                memcpy(c->sec[n].name, name, nl);
                c->sec[n].name[nl] = '\0';
                c->sec[n].data = c->buf + at;
                c->sec[n].size = (size_t)size;
            }
            at += size;
            n++;
        }
        if (at != end)
            return st_err_set(err, ST_ERR_FORMAT, "%s: %zu stray bytes after the sections", what,
                              end - at);
        if (pass == 0) {
            c->buf = malloc(len);
            c->sec = calloc((size_t)n + 1, sizeof *c->sec);
            if (!c->buf || !c->sec) {
                st_ckpt_free(c);
                return st_err_set(err, ST_ERR_NOMEM, "%s: out of memory (%zu bytes)", what, len);
            }
            memcpy(c->buf, data, len);
            c->len = len;
            p = c->buf;
            c->n_sec = n;
        }
    }
    return ST_OK;
}

enum st_status st_ckpt_read(struct st_ckpt *c, const char *path, struct st_err *err)
{
    char *buf;
    size_t len;
    memset(c, 0, sizeof *c);
    enum st_status st = st_file_read(path, &buf, &len, err);
    if (st != ST_OK)
        return st;
    st = st_ckpt_parse(c, buf, len, path, err);
    free(buf);
    return st;
}

enum st_status st_ckpt_read_section(const char *path, const char *name, void **data,
                                    size_t *len, struct st_err *err)
{
    unsigned char head[sizeof magic], b[8];
    char sec[ST_CKPT_NAME_MAX];
    enum st_status st = ST_OK;
    FILE *f = fopen(path, "rb");
    long size = -1;
    if (!f)
        return st_err_set(err, ST_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        fread(head, 1, sizeof head, f) != sizeof head || memcmp(head, magic, sizeof magic)) {
        fclose(f);
        return st_err_set(err, ST_ERR_FORMAT, "%s: not a sparsetune checkpoint (no STCKPT1 "
                          "header)", path);
    }
    for (;;) {
        if (fread(b, 1, 4, f) != 4) {
            st = st_err_set(err, ST_ERR_FORMAT, "%s: truncated section list (the file is "
                            "truncated or corrupted)", path);
            break;
        }
        uint64_t nl = get_le(b, 4);
        if (nl == 0) {
            st = st_err_set(err, ST_ERR_FORMAT, "checkpoint has no section '%s'", name);
            break;
        }
        if (nl >= ST_CKPT_NAME_MAX || fread(sec, 1, (size_t)nl, f) != nl ||
            fread(b, 1, 8, f) != 8) {
            st = st_err_set(err, ST_ERR_FORMAT, "%s: bad section name length %llu", path,
                            (unsigned long long)nl);
            break;
        }
        sec[nl] = '\0';
        uint64_t n = get_le(b, 8);
        long at = ftell(f);
        if (at < 0 || n > (uint64_t)(size - at)) {
            st = st_err_set(err, ST_ERR_FORMAT, "%s: section '%s' of %llu bytes runs past the end "
                            "(the file is truncated or corrupted)", path, sec,
                            (unsigned long long)n);
            break;
        }
        if (strcmp(sec, name) != 0) {
            if (fseek(f, (long)n, SEEK_CUR) != 0) {
                st = st_err_set(err, ST_ERR_IO, "cannot read %s: %s", path, strerror(errno));
                break;
            }
            continue;
        }
        unsigned char *d = malloc((size_t)n + 1);
        if (!d || fread(d, 1, (size_t)n, f) != n) {
            free(d);
            st = d ? st_err_set(err, ST_ERR_IO, "cannot read %s", path)
                   : st_err_set(err, ST_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        *data = d;
        *len = (size_t)n;
        break;
    }
    fclose(f);
    return st;
}

enum st_status st_ckpt_get(const struct st_ckpt *c, const char *name, size_t size,
                           const void **data, size_t *got, struct st_err *err)
{
    for (int i = 0; i < c->n_sec; i++)
        if (!strcmp(c->sec[i].name, name)) {
            if (size && c->sec[i].size != size)
                return st_err_set(err, ST_ERR_FORMAT,
                                  "checkpoint section '%s' holds %zu bytes, expected %zu (written "
                                  "by another build or for another network?)",
                                  name, c->sec[i].size, size);
            *data = c->sec[i].data;
            if (got)
                *got = c->sec[i].size;
            return ST_OK;
        }
    return st_err_set(err, ST_ERR_FORMAT, "checkpoint has no section '%s'", name);
}

void st_ckpt_free(struct st_ckpt *c)
{
    free(c->buf);
    free(c->sec);
    memset(c, 0, sizeof *c);
}
