/* bpe.c: see bpe.h. */
#include "bpe.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cjson/cJSON.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

/* A string -> integer table: open addressing, keys owned. */
struct table {
    char **key;
    long *val;
    size_t cap, n;
};

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* The slot of key[n] (its own, or the empty one where it would go). */
static size_t slot(const struct table *t, const char *k, size_t n)
{
    size_t i = (size_t)hash(k, n) & (t->cap - 1);
    while (t->key[i] && !(strlen(t->key[i]) == n && !memcmp(t->key[i], k, n)))
        i = (i + 1) & (t->cap - 1);
    return i;
}

static int table_init(struct table *t, size_t n)
{
    t->cap = 16;
    while (t->cap < 2 * n + 16)
        t->cap *= 2;
    t->n = 0;
    t->key = calloc(t->cap, sizeof *t->key);
    t->val = calloc(t->cap, sizeof *t->val);
    return t->key && t->val ? 0 : -1;
}

/* Adds key[n] -> v; 1 if the key was there already, -1 out of memory. */
static int table_put(struct table *t, const char *k, size_t n, long v)
{
    size_t i = slot(t, k, n);
    if (t->key[i])
        return 1;
    if (!(t->key[i] = malloc(n + 1)))
        return -1;
    memcpy(t->key[i], k, n);
    t->key[i][n] = '\0';
    t->val[i] = v;
    t->n++;
    return 0;
}

static long table_get(const struct table *t, const char *k, size_t n)
{
    size_t i = slot(t, k, n);
    return t->key[i] ? t->val[i] : -1;
}

static void table_free(struct table *t)
{
    for (size_t i = 0; t->key && i < t->cap; i++)
        free(t->key[i]);
    free(t->key);
    free(t->val);
    memset(t, 0, sizeof *t);
}

struct st_bpe {
    struct table vocab;  /* token string -> id */
    struct table merges; /* "a b" -> rank */
    char **token;        /* [n_vocab] id -> token string (NULL: unused id) */
    long n_vocab;
    char stand_in[256][4]; /* byte -> its stand-in's UTF-8 */
    int byte_of[324];    /* stand-in code point (< 324) -> byte, -1 elsewhere */
    pcre2_code *re;
};

/* GPT-2's byte stand-ins: printable bytes for themselves, the rest for 256,
 * 257, ... in byte order. */
static void stand_ins(struct st_bpe *b)
{
    int next = 256;
    for (int i = 0; i < 324; i++)
        b->byte_of[i] = -1;
    for (int c = 0; c < 256; c++) {
        int printable = (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174);
        int cp = printable ? c : next++;
        b->byte_of[cp] = c;
        char *u = b->stand_in[c];
        if (cp < 0x80) {
            u[0] = (char)cp;
            u[1] = '\0';
        } else {
            u[0] = (char)(0xc0 | (cp >> 6));
            u[1] = (char)(0x80 | (cp & 0x3f));
            u[2] = '\0';
        }
    }
}

/* GPT-2's pre-tokenisation pattern. */
static const char pattern[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+"
                              "|\\s+(?!\\S)|\\s+";

enum st_status st_bpe_load(const char *dir, struct st_bpe **out, struct st_err *err)
{
    char path[4200];
    char *text = NULL;
    size_t len;
    enum st_status st;
    struct st_bpe *b = calloc(1, sizeof *b);
    cJSON *root = NULL;
    if (!b)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    stand_ins(b);
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    if ((st = st_file_read(path, &text, &len, err)) != ST_OK)
        goto fail;
    root = cJSON_ParseWithLength(text, len);
    free(text);
    text = NULL;
    if (!cJSON_IsObject(root)) {
        st = st_err_set(err, ST_ERR_FORMAT, "%s: not a JSON object of token -> id", path);
        goto fail;
    }
    int n = cJSON_GetArraySize(root);
    if (table_init(&b->vocab, (size_t)n) != 0) {
        st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (const cJSON *e = root->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= 16777216 ||
            e->valuedouble != (double)(long)e->valuedouble) {
            st = st_err_set(err, ST_ERR_FORMAT, "%s: token '%.40s': expected an id from 0 to "
                            "2^24 - 1", path, e->string);
            goto fail;
        }
        long id = (long)e->valuedouble;
        if (id + 1 > b->n_vocab)
            b->n_vocab = id + 1;
        int r = table_put(&b->vocab, e->string, strlen(e->string), id);
        if (r != 0) {
            st = r < 0 ? st_err_set(err, ST_ERR_NOMEM, "out of memory")
                       : st_err_set(err, ST_ERR_FORMAT, "%s: token '%.40s' twice", path,
                                    e->string);
            goto fail;
        }
    }
    if (!(b->token = calloc((size_t)b->n_vocab + 1, sizeof *b->token))) {
        st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < b->vocab.cap; i++)
        if (b->vocab.key[i]) {
            if (b->token[b->vocab.val[i]]) {
                st = st_err_set(err, ST_ERR_FORMAT, "%s: id %ld twice", path, b->vocab.val[i]);
                goto fail;
            }
            b->token[b->vocab.val[i]] = b->vocab.key[i];
        }
    cJSON_Delete(root);
    root = NULL;

    snprintf(path, sizeof path, "%s/merges.txt", dir);
    if ((st = st_file_read(path, &text, &len, err)) != ST_OK)
        goto fail;
    long lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (table_init(&b->merges, (size_t)lines) != 0) {
        st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
        goto fail;
    }
    long rank = 0, line = 0;
    for (char *p = text; p < text + len; line++) {
        char *end = memchr(p, '\n', (size_t)(text + len - p));
        size_t n_line = end ? (size_t)(end - p) : (size_t)(text + len - p);
        if (n_line && p[n_line - 1] == '\r')
            n_line--;
        if (n_line > 0 && !(line == 0 && p[0] == '#')) {
            char *sp = memchr(p, ' ', n_line);
            char joined[512];
            if (!sp || sp == p || sp == p + n_line - 1 || memchr(sp + 1, ' ', n_line - 1 - (size_t)(sp - p)) ||
                n_line >= sizeof joined) {
                st = st_err_set(err, ST_ERR_FORMAT, "%s: line %ld: expected two tokens "
                                "separated by one space", path, line + 1);
                goto fail;
            }
            size_t nl = (size_t)(sp - p);
            memcpy(joined, p, nl);
            memcpy(joined + nl, sp + 1, n_line - nl - 1);
            if (table_get(&b->vocab, joined, n_line - 1) < 0) {
                st = st_err_set(err, ST_ERR_FORMAT, "%s: line %ld: the merge of '%.*s' is not in "
                                "vocab.json", path, line + 1, (int)n_line, p);
                goto fail;
            }
            int r = table_put(&b->merges, p, n_line, rank++);
            if (r < 0) {
                st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
                goto fail;
            }
        }
        p = end ? end + 1 : text + len;
    }
    free(text);
    text = NULL;
    int code;
    PCRE2_SIZE at;
    b->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &code,
                          &at, NULL);
    if (!b->re) {
        st = st_err_set(err, ST_ERR_NOMEM, "cannot compile the pre-tokenisation pattern");
        goto fail;
    }
    *out = b;
    return ST_OK;
fail:
    free(text);
    cJSON_Delete(root);
    st_bpe_free(b);
    return st;
}

/* One piece's ids, appended to ids[*n] (room grown as needed): its bytes as
 * stand-ins, merged by rank. */
static int encode_piece(const struct st_bpe *b, const unsigned char *s, size_t len, uint32_t **ids,
                        long *n, long *cap)
{
    /* Symbols: offsets into buf, each a run of stand-ins. */
    size_t cap_buf = 3 * len + 1, ns = len;
    char *buf = malloc(cap_buf), *tmp = malloc(cap_buf + 512);
    size_t *start = malloc((len + 1) * sizeof *start), *slen = malloc((len + 1) * sizeof *slen);
    if (!buf || !tmp || !start || !slen) {
        free(buf);
        free(tmp);
        free(start);
        free(slen);
        return -1;
    }
    size_t at = 0;
    for (size_t i = 0; i < len; i++) {
        size_t k = strlen(b->stand_in[s[i]]);
        memcpy(buf + at, b->stand_in[s[i]], k);
        start[i] = at;
        slen[i] = k;
        at += k;
    }
    /* Merges: the adjacent pair of lowest rank, every occurrence, until
     * none is a merge. Symbols stay in buf in order, so a merge of i and
     * i+1 is start[i] with the lengths added. */
    while (ns > 1) {
        long best = -1;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < ns; i++) {
            size_t l = slen[i] + 1 + slen[i + 1];
            if (l > cap_buf + 511)
                continue;
            memcpy(tmp, buf + start[i], slen[i]);
            tmp[slen[i]] = ' ';
            memcpy(tmp + slen[i] + 1, buf + start[i + 1], slen[i + 1]);
            long r = table_get(&b->merges, tmp, l);
            if (r >= 0 && (best < 0 || r < best)) {
                best = r;
                bi = i;
            }
        }
        if (best < 0)
            break;
        /* The pair's two strings, then every left-to-right occurrence merged. */
        size_t la = slen[bi], lb = slen[bi + 1];
        char pa[512], pb[512];
        if (la >= sizeof pa || lb >= sizeof pb)
            break;
        memcpy(pa, buf + start[bi], la);
        memcpy(pb, buf + start[bi + 1], lb);
        size_t w = 0;
        for (size_t i = 0; i < ns; i++) {
            if (i + 1 < ns && slen[i] == la && slen[i + 1] == lb &&
                !memcmp(buf + start[i], pa, la) && !memcmp(buf + start[i + 1], pb, lb)) {
                start[w] = start[i];
                slen[w++] = la + lb;
                i++;
            } else {
                start[w] = start[i];
                slen[w++] = slen[i];
            }
        }
        ns = w;
    }
    for (size_t i = 0; i < ns; i++) {
        long id = table_get(&b->vocab, buf + start[i], slen[i]);
        if (*n >= *cap) {
            long c = *cap ? 2 * *cap : 1024;
            uint32_t *g = realloc(*ids, (size_t)c * sizeof *g);
            if (!g) {
                id = -2;
            } else {
                *ids = g;
                *cap = c;
            }
        }
        if (id < 0) { /* a symbol outside the vocabulary cannot happen with GPT-2's files */
            free(buf);
            free(tmp);
            free(start);
            free(slen);
            return id == -2 ? -1 : -2;
        }
        (*ids)[(*n)++] = (uint32_t)id;
    }
    free(buf);
    free(tmp);
    free(start);
    free(slen);
    return 0;
}

enum st_status st_bpe_encode(const struct st_bpe *b, const char *text, size_t len,
                             uint32_t **ids, long *n, struct st_err *err)
{
    *ids = NULL;
    *n = 0;
    long cap = 0;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(b->re, NULL);
    if (!md)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    enum st_status st = ST_OK;
    size_t at = 0;
    int first = 1;
    while (at < len) {
        int rc = pcre2_match(b->re, (PCRE2_SPTR)text, len, at, first ? 0 : PCRE2_NO_UTF_CHECK, md,
                             NULL);
        first = 0;
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) { /* after a UTF check error, the start is the bad character's */
            st = st_err_set(err, ST_ERR_FORMAT, "the text is not valid UTF-8 (at byte %zu)",
                            (size_t)pcre2_get_startchar(md));
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[1] <= ov[0]) { /* the pattern matches no empty piece; guard anyway */
            at++;
            continue;
        }
        int r = encode_piece(b, (const unsigned char *)text + ov[0], ov[1] - ov[0], ids, n, &cap);
        if (r != 0) {
            st = r == -1 ? st_err_set(err, ST_ERR_NOMEM, "out of memory")
                         : st_err_set(err, ST_ERR_FORMAT, "a piece at byte %zu has no token in "
                                      "vocab.json", (size_t)ov[0]);
            break;
        }
        at = ov[1];
    }
    pcre2_match_data_free(md);
    if (st != ST_OK) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    } else if (!*ids && !(*ids = malloc(sizeof **ids))) {
        st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
    }
    return st;
}

enum st_status st_bpe_decode(const struct st_bpe *b, const uint32_t *ids, long n, char **text,
                             size_t *len, struct st_err *err)
{
    size_t total = 0;
    for (long i = 0; i < n; i++) {
        if (ids[i] >= (uint32_t)b->n_vocab || !b->token[ids[i]])
            return st_err_set(err, ST_ERR_FORMAT, "token %ld is %u, not in the vocabulary of "
                              "%ld", i, ids[i], b->n_vocab);
        total += strlen(b->token[ids[i]]);
    }
    char *out = malloc(total + 1);
    if (!out)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    size_t w = 0;
    for (long i = 0; i < n; i++) {
        const unsigned char *s = (const unsigned char *)b->token[ids[i]];
        while (*s) {
            int cp;
            if (*s < 0x80)
                cp = *s++;
            else if ((*s & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) {
                cp = (*s & 0x1f) << 6 | (s[1] & 0x3f);
                s += 2;
            } else {
                cp = -1;
            }
            if (cp < 0 || cp >= 324 || b->byte_of[cp] < 0) {
                free(out);
                return st_err_set(err, ST_ERR_FORMAT, "token %u ('%.40s') holds a character "
                                  "that stands for no byte", ids[i], b->token[ids[i]]);
            }
            out[w++] = (char)b->byte_of[cp];
        }
    }
    out[w] = '\0';
    *text = out;
    *len = w;
    return ST_OK;
}

int st_bpe_present(const char *dir)
{
    int found = 1;
    for (int k = 0; k < 2 && found; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, k ? "merges.txt" : "vocab.json");
        FILE *f = fopen(path, "rb");
        found = f != NULL;
        if (f)
            fclose(f);
    }
    return found;
}

long st_bpe_vocab(const struct st_bpe *b)
{
    return b->n_vocab;
}

void st_bpe_free(struct st_bpe *b)
{
    if (!b)
        return;
    table_free(&b->vocab);
    table_free(&b->merges);
    free(b->token);
    if (b->re)
        pcre2_code_free(b->re);
    free(b);
}
