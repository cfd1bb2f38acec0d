/* test_io.c: the writers (npy, safetensors), atomic files, st_mkdirs and the
 * INI reader. Every file is read back byte by byte, independently of the
 * writer's code, and compared bit for bit. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <math.h>
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/params.h"
#include "core/status.h"
#include "io/ckpt.h"
#include "io/config.h"
#include "io/csv.h"
#include "io/file.h"
#include "io/fmt.h"
#include "io/npy.h"
#include "io/safetensors.h"

#include "check.h"
#include "model_util.h"
#include "testutil.h"

static char tmpdir[64];

static void spew(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Number of entries of dir other than . and ..; with `name`, the count of
 * entries other than that one. */
static int count_entries(const char *dir, const char *except)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (except && !strcmp(e->d_name, except))
            continue;
        n++;
    }
    closedir(d);
    return n;
}

static void path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

static uint64_t le64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

/* ---- npy ---- */

static void test_npy(void)
{
    const float x[6] = { 1.0f, -2.5f, 3.25f, 0.0f, -0.0f, 1e-30f };
    char path[256];
    size_t len;
    unsigned char *b;
    struct st_err err = { "" };

    path_in(path, sizeof path, "a.npy");
    CHECK(st_npy_write_f32(path, x, 3, 2, &err) == ST_OK);
    b = slurp(path, &len);
    CHECK(b != NULL);
    if (!b)
        return;
    CHECK(len > 10);
    CHECK(memcmp(b, "\x93NUMPY", 6) == 0);
    CHECK(b[6] == 1 && b[7] == 0); /* version 1.0 */
    size_t hlen = (size_t)b[8] | ((size_t)b[9] << 8);
    size_t data = 10 + hlen;
    CHECK(data % 64 == 0);
    CHECK(len == data + sizeof x);
    if (len == data + sizeof x) {
        char *hdr = malloc(hlen + 1);
        memcpy(hdr, b + 10, hlen);
        hdr[hlen] = '\0';
        CHECK(hdr[hlen - 1] == '\n');
        CHECK(hdr[0] == '{');
        CHECK(strstr(hdr, "'descr': '<f4'") != NULL);
        CHECK(strstr(hdr, "'fortran_order': False") != NULL);
        CHECK(strstr(hdr, "'shape': (3, 2)") != NULL);
        CHECK(strchr(hdr, '}') != NULL);
        /* Only spaces between the closing brace and the final newline. */
        for (char *p = strchr(hdr, '}') + 1; p < hdr + hlen - 1; p++)
            CHECK(*p == ' ');
        CHECK(memcmp(b + data, x, sizeof x) == 0);
        free(hdr);
    }
    free(b);
    /* No temporary file left beside it. */
    CHECK(count_entries(tmpdir, "a.npy") == 0);
    remove(path);

    /* A file in a directory that does not exist: ST_ERR_IO, not a crash. */
    path_in(path, sizeof path, "missing/dir/a.npy");
    err.msg[0] = '\0';
    CHECK(st_npy_write_f32(path, x, 3, 2, &err) == ST_ERR_IO);
    CHECK(err.msg[0] != '\0');
}

/* ---- safetensors ---- */

static void test_safetensors(void)
{
    const int widths[] = { 2, 3, 1 };
    struct st_params p = { 0 };
    struct st_err err = { "" };
    char path[256];
    const char *keys[] = { "format", "widths", "activation" };
    const char *vals[] = { "sparsetune", "2,3,1", "relu" };
    static const char *const file_names[] = { "layers.0.weight", "layers.0.bias",
                                              "layers.1.weight", "layers.1.bias" };
    size_t len;
    unsigned char *b;

    CHECK_OK(mlp_params(&p, widths, 2, &err));
    if (!p.mem)
        return;
    CHECK(p.n_views == 4);
    /* Distinct values with full mantissas, view by view (views may be padded). */
    size_t total = 0;
    for (int t = 0; t < p.n_views; t++)
        for (size_t i = 0; i < st_view_size(&p.v[t]); i++, total++)
            p.v[t].data[i] = 0.125f * (float)total - 1.0f + (float)total * 1e-7f;
    CHECK(total == 2 * 3 + 3 + 3 * 1 + 1);

    path_in(path, sizeof path, "m.safetensors");
    CHECK(st_safetensors_write(path, &p, file_names, keys, vals, 3, &err) == ST_OK);
    b = slurp(path, &len);
    CHECK(b != NULL);
    if (!b) {
        st_params_free(&p);
        return;
    }
    CHECK(count_entries(tmpdir, "m.safetensors") == 0);
    CHECK(len >= 8);
    uint64_t hsize = le64(b);
    CHECK(hsize % 8 == 0);
    CHECK(hsize + 8 <= len);
    if (len < 8 || hsize + 8 > len) {
        free(b);
        st_params_free(&p);
        return;
    }
    const unsigned char *data = b + 8 + hsize;
    size_t data_len = len - 8 - (size_t)hsize;
    CHECK(data_len == total * sizeof(float));

    cJSON *root = cJSON_ParseWithLength((const char *)b + 8, (size_t)hsize);
    CHECK(root != NULL && cJSON_IsObject(root));
    if (root) {
        static const char *const names[] = { "layers.0.weight", "layers.0.bias",
                                             "layers.1.weight", "layers.1.bias" };
        size_t expect_off = 0;
        int n_entries = 0;
        for (cJSON *e = root->child; e; e = e->next)
            n_entries++;
        CHECK(n_entries == 5); /* 4 tensors + __metadata__ */
        for (int t = 0; t < 4; t++) {
            const struct st_view *v = &p.v[t];
            cJSON *e = cJSON_GetObjectItemCaseSensitive(root, names[t]);
            CHECK(e != NULL);
            if (!e)
                continue;
            cJSON *dtype = cJSON_GetObjectItemCaseSensitive(e, "dtype");
            CHECK(cJSON_IsString(dtype) && !strcmp(dtype->valuestring, "F32"));
            cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
            CHECK(cJSON_IsArray(shape));
            if (t % 2 == 0) { /* weight [out, in] */
                CHECK(cJSON_GetArraySize(shape) == 2);
                CHECK(cJSON_GetArrayItem(shape, 0) &&
                      cJSON_GetArrayItem(shape, 0)->valueint == widths[t / 2 + 1]);
                CHECK(cJSON_GetArrayItem(shape, 1) &&
                      cJSON_GetArrayItem(shape, 1)->valueint == widths[t / 2]);
            } else { /* bias [out] */
                CHECK(cJSON_GetArraySize(shape) == 1);
                CHECK(cJSON_GetArrayItem(shape, 0) &&
                      cJSON_GetArrayItem(shape, 0)->valueint == widths[t / 2 + 1]);
            }
            cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
            CHECK(cJSON_IsArray(offs) && cJSON_GetArraySize(offs) == 2);
            if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
                continue;
            double lo = cJSON_GetArrayItem(offs, 0)->valuedouble;
            double hi = cJSON_GetArrayItem(offs, 1)->valuedouble;
            size_t bytes = st_view_size(v) * sizeof(float);
            CHECK(lo == (double)expect_off); /* contiguous, in view order */
            CHECK(hi == (double)(expect_off + bytes));
            CHECK(hi <= (double)data_len);
            if (lo == (double)expect_off && hi == (double)(expect_off + bytes) &&
                hi <= (double)data_len)
                CHECK(memcmp(data + (size_t)lo, v->data, bytes) == 0);
            expect_off += bytes;
        }
        CHECK(expect_off == data_len);
        cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
        CHECK(cJSON_IsObject(meta));
        for (int i = 0; i < 3; i++) {
            cJSON *m = cJSON_GetObjectItemCaseSensitive(meta, keys[i]);
            CHECK(cJSON_IsString(m) && !strcmp(m->valuestring, vals[i]));
        }
        cJSON_Delete(root);
    }
    /* Header padding is spaces (allowed by the format; JSON whitespace). */
    {
        size_t end = (size_t)hsize;
        while (end > 0 && b[8 + end - 1] == ' ')
            end--;
        CHECK(end > 0 && b[8 + end - 1] == '}');
        CHECK((size_t)hsize - end < 8);
    }
    free(b);
    remove(path);

    /* A target in a missing directory: ST_ERR_IO, no file anywhere. */
    path_in(path, sizeof path, "nope/m.safetensors");
    CHECK(st_safetensors_write(path, &p, file_names, keys, vals, 3, &err) == ST_ERR_IO);
    st_params_free(&p);
}

/* ---- atomic files and directories ---- */

static void test_atomic(void)
{
    struct st_atomic_file af;
    struct st_err err = { "" };
    char path[256];
    size_t len;
    unsigned char *b;

    path_in(path, sizeof path, "out.txt");
    CHECK(st_atomic_open(&af, path, &err) == ST_OK);
    if (af.f) {
        fputs("hello\n", af.f);
        /* Until commit the final name does not exist. */
        CHECK(!exists(path));
        CHECK(st_atomic_commit(&af, &err) == ST_OK);
    }
    b = slurp(path, &len);
    CHECK(b != NULL && len == 6 && memcmp(b, "hello\n", 6) == 0);
    free(b);
    CHECK(count_entries(tmpdir, "out.txt") == 0);

    /* Commit replaces an existing file. */
    CHECK(st_atomic_open(&af, path, &err) == ST_OK);
    if (af.f) {
        fputs("second", af.f);
        CHECK(st_atomic_commit(&af, &err) == ST_OK);
    }
    b = slurp(path, &len);
    CHECK(b != NULL && len == 6 && memcmp(b, "second", 6) == 0);
    free(b);
    CHECK(count_entries(tmpdir, "out.txt") == 0);
    remove(path);

    /* Abort: neither the target nor the temporary file remains. */
    path_in(path, sizeof path, "aborted.txt");
    CHECK(st_atomic_open(&af, path, &err) == ST_OK);
    if (af.f) {
        fputs("partial", af.f);
        st_atomic_abort(&af);
    }
    CHECK(!exists(path));
    CHECK(count_entries(tmpdir, NULL) == 0);

    /* Open in a missing directory fails with ST_ERR_IO. */
    path_in(path, sizeof path, "no/such/dir/f.txt");
    err.msg[0] = '\0';
    CHECK(st_atomic_open(&af, path, &err) == ST_ERR_IO);
    CHECK(err.msg[0] != '\0');
}

static void test_mkdirs(void)
{
    struct st_err err = { "" };
    char path[256], file[256];

    path_in(path, sizeof path, "d1/d2/d3");
    CHECK(st_mkdirs(path, &err) == ST_OK);
    CHECK(is_dir(path));
    /* Idempotent, and a trailing slash is fine. */
    CHECK(st_mkdirs(path, &err) == ST_OK);
    path_in(path, sizeof path, "d1/d2/d3/");
    CHECK(st_mkdirs(path, &err) == ST_OK);

    /* A path component that is a regular file. */
    path_in(file, sizeof file, "plain");
    spew(file, "x");
    path_in(path, sizeof path, "plain/sub");
    err.msg[0] = '\0';
    CHECK(st_mkdirs(path, &err) == ST_ERR_IO);
    CHECK(strstr(err.msg, "plain") != NULL);
    CHECK(!is_dir(path));
    /* The path itself a regular file. */
    err.msg[0] = '\0';
    CHECK(st_mkdirs(file, &err) == ST_ERR_IO);
    CHECK(strstr(err.msg, "plain") != NULL);

    /* Empty name is refused, not created. */
    CHECK(st_mkdirs("", &err) != ST_OK);

    /* st_path_join */
    char out[16];
    CHECK(st_path_join(out, sizeof out, "ab", "cd", &err) == ST_OK);
    CHECK(!strcmp(out, "ab/cd"));
    CHECK(st_path_join(out, sizeof out, "abcdefgh", "ijklmnop", &err) == ST_ERR_ARG);
}

/* ---- INI reader ---- */

struct kv_log {
    int n;
    char keys[16][32];
    char vals[16][64];
    const char *fail_key; /* the callback fails on this key */
};

static enum st_status collect(void *user, const char *key, const char *value, struct st_err *err)
{
    struct kv_log *log = user;
    if (log->fail_key && !strcmp(key, log->fail_key))
        return st_err_set(err, ST_ERR_ARG, "bad key '%s'", key);
    if (log->n < 16) {
        snprintf(log->keys[log->n], sizeof log->keys[0], "%s", key);
        snprintf(log->vals[log->n], sizeof log->vals[0], "%s", value);
    }
    log->n++;
    return ST_OK;
}

static void test_ini(void)
{
    struct kv_log log;
    struct st_err err = { "" };
    char path[256], want[300];

    path_in(path, sizeof path, "good.ini");
    spew(path, "# a comment\n"
               "; another comment\n"
               "lr = 0.005\n"
               "\n"
               "[train]\n"
               "steps=20\n"
               "widths =  1,4,1  \n"
               "reinit = 1,3\n");
    memset(&log, 0, sizeof log);
    CHECK(st_ini_read(path, collect, &log, &err) == ST_OK);
    CHECK(log.n == 4);
    if (log.n == 4) {
        CHECK(!strcmp(log.keys[0], "lr") && !strcmp(log.vals[0], "0.005"));
        CHECK(!strcmp(log.keys[1], "steps") && !strcmp(log.vals[1], "20"));
        CHECK(!strcmp(log.keys[2], "widths") && !strcmp(log.vals[2], "1,4,1"));
        CHECK(!strcmp(log.keys[3], "reinit") && !strcmp(log.vals[3], "1,3"));
    }

    /* Empty file: no calls, ST_OK. */
    path_in(path, sizeof path, "empty.ini");
    spew(path, "");
    memset(&log, 0, sizeof log);
    CHECK(st_ini_read(path, collect, &log, &err) == ST_OK);
    CHECK(log.n == 0);

    /* A line without '=' on line 3: ST_ERR_FORMAT naming path:3; the read
     * stops there (no key after it reaches the callback). */
    path_in(path, sizeof path, "syntax.ini");
    spew(path, "lr = 0.1\n"
               "# fine\n"
               "this line has no equals sign\n"
               "steps = 5\n");
    memset(&log, 0, sizeof log);
    err.msg[0] = '\0';
    CHECK(st_ini_read(path, collect, &log, &err) == ST_ERR_FORMAT);
    snprintf(want, sizeof want, "%s:3", path);
    CHECK(strstr(err.msg, want) != NULL);
    if (!strstr(err.msg, want))
        fprintf(stderr, "  message was: %s\n", err.msg);
    CHECK(log.n == 1);

    /* A syntax error followed by a key the callback rejects: still the
     * syntax error, at its own line. */
    path_in(path, sizeof path, "syntax2.ini");
    spew(path, "lr = 0.1\n"
               "oops\n"
               "bogus = 1\n");
    memset(&log, 0, sizeof log);
    log.fail_key = "bogus";
    err.msg[0] = '\0';
    CHECK(st_ini_read(path, collect, &log, &err) == ST_ERR_FORMAT);
    snprintf(want, sizeof want, "%s:2", path);
    CHECK(strstr(err.msg, want) != NULL);
    if (!strstr(err.msg, want) || strstr(err.msg, "bogus"))
        fprintf(stderr, "  message was: %s\n", err.msg);
    CHECK(strstr(err.msg, "bogus") == NULL);

    /* The callback fails on line 3: its status, its message prefixed with
     * path:3, and no later key is delivered. */
    path_in(path, sizeof path, "cb.ini");
    spew(path, "a = 1\n"
               "b = 2\n"
               "bad = 3\n"
               "c = 4\n");
    memset(&log, 0, sizeof log);
    log.fail_key = "bad";
    err.msg[0] = '\0';
    CHECK(st_ini_read(path, collect, &log, &err) == ST_ERR_ARG);
    snprintf(want, sizeof want, "%s:3: bad key 'bad'", path);
    CHECK(strncmp(err.msg, want, strlen(want)) == 0);
    if (strncmp(err.msg, want, strlen(want)) != 0)
        fprintf(stderr, "  message was: %s\n", err.msg);
    CHECK(log.n == 2);

    /* Missing file: ST_ERR_IO naming it. */
    path_in(path, sizeof path, "does-not-exist.ini");
    err.msg[0] = '\0';
    memset(&log, 0, sizeof log);
    CHECK(st_ini_read(path, collect, &log, &err) == ST_ERR_IO);
    CHECK(strstr(err.msg, "does-not-exist.ini") != NULL);
    CHECK(log.n == 0);
}

/* st_fmt_g9 prints what printf's %.9g prints: edge cases, exact ties, and
 * random doubles of every kind (any bit pattern, floats, scaled ranges). */
static void test_fmt(void)
{
    static const double edge[] = { 0.0, -0.0, 1.0, -1.0, 0.1, 1e-4, 9.99999999e-5, 1e-5,
                                   123456789.0, 123456789.5, 123456788.5, 999999999.4,
                                   999999999.5, 1e9, 9.9999999949999e8, 0.30000000000000004,
                                   1.00000000499999999, 1.000000005, 5e-324, 1.7976931348623157e308,
                                   1e-13, 9.999999999e-14, 0.5, 2.5e-7, 6.103515625e-05 };
    char want[64], got[ST_FMT_G9_MAX];
    uint64_t st = 88172645463325252ULL;
    int bad = 0;

    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        snprintf(want, sizeof want, "%.9g", edge[i]);
        CHECK(st_fmt_g9(got, edge[i]) == (int)strlen(want));
        CHECK(strcmp(got, want) == 0);
    }
    snprintf(want, sizeof want, "%.9g", (double)NAN);
    st_fmt_g9(got, (double)NAN);
    CHECK(strcmp(got, want) == 0);
    for (long i = 0; i < 300000; i++) {
        double v;
        st ^= st << 13;
        st ^= st >> 7;
        st ^= st << 17;
        switch (i % 4) {
        case 0: memcpy(&v, &st, sizeof v); break;
        case 1: {
            float f;
            uint32_t b = (uint32_t)st;
            memcpy(&f, &b, sizeof f);
            v = f;
            break;
        }
        case 2: v = ldexp((double)(st >> 11), -53) * pow(10.0, (double)(int)(st % 31) - 15); break;
        default: /* halves at the 10th digit: exact ties */
            v = (double)(st % 9000000000ULL + 1000000000ULL) / 2.0 / pow(10.0, (double)(st % 17));
        }
        snprintf(want, sizeof want, "%.9g", v);
        st_fmt_g9(got, v);
        if (strcmp(got, want) != 0 && bad++ < 5)
            fprintf(stderr, "  %%.9g of %a: printf %s, st_fmt_g9 %s\n", v, want, got);
    }
    CHECK(bad == 0);
    static const long ints[] = { 0, 7, -7, 10, 1000000, -1234567890123L, LONG_MAX, LONG_MIN };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        snprintf(want, sizeof want, "%ld", ints[i]);
        CHECK(st_fmt_long(got, ints[i]) == (int)strlen(want));
        CHECK(strcmp(got, want) == 0);
    }
}

/* ---- checkpoint files ---- */

/* Round trip with sections of every size; the layout read back by hand; every
 * truncation and every single-byte change refused with a message. */
static void test_ckpt(void)
{
    char path[256];
    struct st_ckpt_writer w;
    struct st_ckpt c;
    struct st_err err;
    float big[1000];
    const void *d;
    size_t got;
    for (int i = 0; i < 1000; i++)
        big[i] = (float)i * 0.5f - 7.0f;
    path_in(path, sizeof path, "ck.bin");
    CHECK_OK(st_ckpt_begin(&w, path, &err));
    st_ckpt_put(&w, "config", "lambda = 0.001\n", 15);
    st_ckpt_put(&w, "empty", NULL, 0);
    st_ckpt_put(&w, "big", big, sizeof big);
    CHECK_OK(st_ckpt_commit(&w, &err));
    CHECK(count_entries(tmpdir, NULL) >= 1);

    CHECK_OK(st_ckpt_read(&c, path, &err));
    CHECK(c.n_sec == 3);
    CHECK(st_ckpt_get(&c, "big", sizeof big, &d, &got, &err) == ST_OK && got == sizeof big &&
          !memcmp(d, big, sizeof big));
    CHECK(st_ckpt_get(&c, "config", 0, &d, &got, &err) == ST_OK && got == 15 &&
          !memcmp(d, "lambda = 0.001\n", 15));
    CHECK(st_ckpt_get(&c, "empty", 0, &d, &got, &err) == ST_OK && got == 0);
    CHECK(st_ckpt_get(&c, "big", 8, &d, &got, &err) == ST_ERR_FORMAT &&
          strstr(err.msg, "'big'") && strstr(err.msg, "4000"));
    CHECK(st_ckpt_get(&c, "nope", 0, &d, &got, &err) == ST_ERR_FORMAT && strstr(err.msg, "nope"));
    st_ckpt_free(&c);

    /* The layout, byte by byte. */
    char *buf;
    size_t len;
    CHECK_OK(st_file_read(path, &buf, &len, &err));
    const unsigned char *b = (const unsigned char *)buf;
    CHECK(len == 8 + (4 + 6 + 8 + 15) + (4 + 5 + 8) + (4 + 3 + 8 + 4000) + 4 + 8);
    CHECK(!memcmp(b, "STCKPT1\n", 8));
    CHECK(b[8] == 6 && b[9] == 0 && !memcmp(b + 12, "config", 6) && le64(b + 18) == 15);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i + 8 < len; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    CHECK(le64(b + len - 8) == h);

    /* Every prefix, and every byte changed, is refused (the checksum or a
     * length catches it), and never read past the buffer. */
    int accepted = 0, silent = 0;
    for (size_t n = 0; n < len; n++) {
        err.msg[0] = '\0';
        enum st_status st = st_ckpt_parse(&c, buf, n, "x", &err);
        accepted += st == ST_OK;
        silent += st != ST_OK && !err.msg[0];
        if (st == ST_OK)
            st_ckpt_free(&c);
    }
    for (size_t i = 0; i < len; i += i < 64 ? 1 : 97) {
        buf[i] ^= 0x5a;
        err.msg[0] = '\0';
        enum st_status st = st_ckpt_parse(&c, buf, len, "x", &err);
        accepted += st == ST_OK;
        silent += st != ST_OK && !err.msg[0];
        if (st == ST_OK)
            st_ckpt_free(&c);
        buf[i] ^= 0x5a;
    }
    CHECK(accepted == 0);
    CHECK(silent == 0);
    CHECK_OK(st_ckpt_parse(&c, buf, len, "x", &err));
    st_ckpt_free(&c);
    free(buf);

    /* A section list whose checksum is right but whose lengths lie. */
    unsigned char forged[64];
    size_t at = 0;
    memcpy(forged, "STCKPT1\n", 8);
    at = 8;
    forged[at++] = 2, forged[at++] = 0, forged[at++] = 0, forged[at++] = 0;
    forged[at++] = 'a', forged[at++] = 'b';
    for (int i = 0; i < 8; i++)
        forged[at++] = 0xff; /* a size far past the end */
    forged[at++] = 0, forged[at++] = 0, forged[at++] = 0, forged[at++] = 0;
    h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < at; i++) {
        h ^= forged[i];
        h *= 0x100000001b3ULL;
    }
    for (int i = 0; i < 8; i++)
        forged[at++] = (unsigned char)(h >> (8 * i));
    CHECK(st_ckpt_parse(&c, forged, at, "forged", &err) == ST_ERR_FORMAT &&
          strstr(err.msg, "runs past the end"));
    CHECK(st_ckpt_read(&c, "/nonexistent/ck.bin", &err) == ST_ERR_IO);
    remove(path);
}

/* ---- csv ---- */

/* The CSV readers: a text table with quoting, rows of another width refused
 * with their line (one field short or one too many), the numeric table with
 * nan and inf, a cut last line dropped, a word refused. */
static void test_csv(void)
{
    char path[256];
    struct st_csv_text t;
    struct st_csv n;
    struct st_err err;
    path_in(path, sizeof path, "t.csv");
    spew(path, "a,b,label\n1,\"x, y\",0\n\n3,4,1\n");
    CHECK_OK(st_csv_read_text(path, &t, &err));
    CHECK(t.n_cols == 3 && t.n_rows == 2 && st_csv_text_col(&t, "label") == 2);
    CHECK(t.n_rows == 2 && !strcmp(t.cells[1], "x, y") && !strcmp(t.cells[5], "1"));
    st_csv_text_free(&t);
    spew(path, "p0,p1,p2,p3,label\n1,2,3,4,0\n1,2,3,4,1,\n");
    CHECK(st_csv_read_text(path, &t, &err) == ST_ERR_FORMAT);
    CHECK(strstr(err.msg, "t.csv:3: expected 5 fields, got 6") != NULL);
    spew(path, "p0,p1,p2,p3,label\n1,2,3,4,0\n1,2,3,1\n");
    CHECK(st_csv_read_text(path, &t, &err) == ST_ERR_FORMAT);
    CHECK(strstr(err.msg, "t.csv:3: expected 5 fields, got 4") != NULL);
    spew(path, "");
    CHECK(st_csv_read_text(path, &t, &err) == ST_ERR_FORMAT);

    spew(path, "step,mse\n0,1.5\n1,nan\n2,inf\n3,0.2");
    CHECK_OK(st_csv_read(path, &n, &err));
    CHECK(n.n_cols == 2 && n.n_rows == 4 && st_csv_col(&n, "mse") == 1);
    CHECK(st_csv_at(&n, 0, 1) == 1.5 && isnan(st_csv_at(&n, 1, 1)) &&
          isinf(st_csv_at(&n, 2, 1)) && st_csv_at(&n, 3, 1) == 0.2 && !n.truncated);
    st_csv_free(&n);
    spew(path, "step,mse\n0,1.5\n1");
    CHECK_OK(st_csv_read(path, &n, &err));
    CHECK(n.n_rows == 1 && n.truncated);
    st_csv_free(&n);
    spew(path, "step,mse\n0,1.5\n1,two\n");
    CHECK(st_csv_read(path, &n, &err) == ST_ERR_FORMAT && strstr(err.msg, ":3") != NULL);
}

int main(void)
{
    strcpy(tmpdir, "/tmp/st_test_io.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_npy();
    test_atomic();
    test_safetensors();
    test_mkdirs();
    test_ini();
    test_fmt();
    test_ckpt();
    test_csv();
    remove_tree(tmpdir);
    CHECK(!exists(tmpdir));
    return check_report("test_io");
}
