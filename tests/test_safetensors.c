/* test_safetensors.c: the safetensors reader and the MLP import. Files are
 * built byte by byte here (independently of the writer), written by
 * st_safetensors_write for round trips, or made by PyTorch
 * (tests/data/make_safetensors.py); malformed files must fail with the right
 * status and a message that starts with the path and names the problem. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mlp.h"
#include "core/params.h"
#include "core/status.h"
#include "io/safetensors.h"

#include "check.h"
#include "io/modelfile.h"
#include "model_util.h"
#include "testutil.h"

static char tmpdir[64];

static void path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

static void write_raw(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(bytes, 1, len, f) == len);
        fclose(f);
    }
}


/* The MLP in path as these tests read it (through io/modelfile.h): its
 * parameters, widths[0..*n_layers] and the activation its metadata names
 * ("" when it names none); the outputs are untouched on failure. */
static enum st_status load_model(const char *path, struct st_params *p, int *widths,
                                 int *n_layers, char *act, struct st_err *err)
{
    struct st_modelfile mf;
    enum st_status st = st_modelfile_read(path, 0, &mf, err);
    if (st != ST_OK)
        return st;
    *p = mf.p;
    memset(&mf.p, 0, sizeof mf.p);
    *n_layers = mf.model.arch.n_layers;
    memcpy(widths, mf.model.arch.widths, (size_t)(*n_layers + 1) * sizeof *widths);
    strcpy(act, mf.named & 2u ? st_act_name(mf.model.arch.act) : "");
    st_modelfile_free(&mf);
    return ST_OK;
}

/* u64 little-endian n_header, then header (n_header bytes of it; the length
 * field may claim more than is there), then data[data_len]. */
static void write_st(const char *path, uint64_t n_header, const char *header,
                     const unsigned char *data, size_t data_len)
{
    size_t hlen = strlen(header);
    size_t len = 8 + hlen + data_len;
    unsigned char *b = malloc(len);
    CHECK(b != NULL);
    if (!b)
        return;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(n_header >> (8 * i));
    memcpy(b + 8, header, hlen);
    if (data_len)
        memcpy(b + 8 + hlen, data, data_len);
    write_raw(path, b, len);
    free(b);
}

/* ---- a builder of well-formed files ---- */

struct spec {
    const char *name;
    const char *dtype; /* "F32" or "F64" */
    int ndim;
    long shape[3];
};

/* Element i of the t-th tensor of a built file; most are not exact in float,
 * so F64 files test the rounding to float32. */
static double value(int t, size_t i)
{
    return 0.1 * (t + 1) + 0.001 * (double)i - 0.3;
}

static size_t spec_count(const struct spec *s)
{
    size_t c = 1;
    for (int d = 0; d < s->ndim; d++)
        c *= (size_t)s->shape[d];
    return c;
}

static size_t spec_bytes(const struct spec *s)
{
    return spec_count(s) * (strcmp(s->dtype, "F64") ? 4u : 8u);
}

/* Writes the tensors s[n] with header entries in the order given and their
 * data in the reverse order, so that neither order is the layer order, and
 * meta (a JSON object's text, or NULL) as __metadata__ last. */
static void build(const char *path, const struct spec *s, int n, const char *meta)
{
    static char header[65536];
    static unsigned char data[65536];
    size_t hl = 0, off[200] = { 0 }, total = 0;

    CHECK(n <= 200);
    for (int t = n - 1; t >= 0; t--) {
        off[t] = total;
        total += spec_bytes(&s[t]);
    }
    CHECK(total <= sizeof data);
    hl += (size_t)snprintf(header + hl, sizeof header - hl, "{");
    for (int t = 0; t < n; t++) {
        hl += (size_t)snprintf(header + hl, sizeof header - hl, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[",
                               t ? "," : "", s[t].name, s[t].dtype);
        for (int d = 0; d < s[t].ndim; d++)
            hl += (size_t)snprintf(header + hl, sizeof header - hl, d ? ",%ld" : "%ld",
                                   s[t].shape[d]);
        hl += (size_t)snprintf(header + hl, sizeof header - hl, "],\"data_offsets\":[%zu,%zu]}",
                               off[t], off[t] + spec_bytes(&s[t]));
        for (size_t i = 0; i < spec_count(&s[t]); i++) {
            unsigned char *p = data + off[t];
            if (!strcmp(s[t].dtype, "F64")) {
                double v = value(t, i);
                uint64_t u;
                memcpy(&u, &v, sizeof u);
                for (int k = 0; k < 8; k++)
                    p[8 * i + (size_t)k] = (unsigned char)(u >> (8 * k));
            } else {
                float v = (float)value(t, i);
                uint32_t u;
                memcpy(&u, &v, sizeof u);
                for (int k = 0; k < 4; k++)
                    p[4 * i + (size_t)k] = (unsigned char)(u >> (8 * k));
            }
        }
    }
    if (meta)
        hl += (size_t)snprintf(header + hl, sizeof header - hl, ",\"__metadata__\":%s", meta);
    hl += (size_t)snprintf(header + hl, sizeof header - hl, "}");
    CHECK(hl < sizeof header);
    write_st(path, hl, header, data, total);
}

/* Index of the spec called name in s[n]. */
static int spec_find(const struct spec *s, int n, const char *name)
{
    for (int t = 0; t < n; t++)
        if (!strcmp(s[t].name, name))
            return t;
    return -1;
}

/* Every element of view v equals the built values of tensor name, bit for bit. */
static int view_matches(const struct st_view *v, const struct spec *s, int n, const char *name)
{
    int t = spec_find(s, n, name);
    if (t < 0 || st_view_size(v) != spec_count(&s[t]))
        return 0;
    for (size_t i = 0; i < st_view_size(v); i++) {
        float want = (float)value(t, i);
        if (memcmp(&v->data[i], &want, sizeof want) != 0)
            return 0;
    }
    return 1;
}

/* ---- expected failures ---- */

/* The message starts with path and contains want1 and want2 (if not NULL). */
static void check_message(const char *path, const struct st_err *err, const char *want1,
                          const char *want2)
{
    int ok = strncmp(err->msg, path, strlen(path)) == 0 && (!want1 || strstr(err->msg, want1)) &&
             (!want2 || strstr(err->msg, want2));
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  message: '%s'\n  expected '%s' and '%s'\n", err->msg,
                want1 ? want1 : "", want2 ? want2 : "");
}

static void expect_read_fail(const char *path, enum st_status want, const char *want1,
                             const char *want2)
{
    struct st_safetensors_file f = { 0 };
    struct st_err err = { "" };
    enum st_status st = st_safetensors_read(path, &f, &err);
    CHECK(st == want);
    if (st != want)
        fprintf(stderr, "  %s: status %d (%s), expected %d\n", path, (int)st, err.msg, (int)want);
    check_message(path, &err, want1, want2);
    CHECK(f.tensors == NULL && f.mem == NULL && f.n_tensors == 0); /* untouched */
    st_safetensors_file_free(&f);
}

static void expect_load_fail(const char *path, enum st_status want, const char *want1,
                             const char *want2)
{
    struct st_params p = { 0 };
    struct st_err err = { "" };
    int widths[ST_MLP_MAX_LAYERS + 1] = { -7 }, n_layers = -7;
    char act[16] = "x";
    enum st_status st = load_model(path, &p, widths, &n_layers, act, &err);
    CHECK(st == want);
    if (st != want)
        fprintf(stderr, "  %s: status %d (%s), expected %d\n", path, (int)st, err.msg, (int)want);
    check_message(path, &err, want1, want2);
    CHECK(p.mem == NULL && widths[0] == -7 && n_layers == -7 && !strcmp(act, "x"));
    st_params_free(&p);
}

/* ---- round trip through st_safetensors_write ---- */

static void test_round_trip(void)
{
    const int widths[] = { 3, 4, 2 };
    const char *keys[] = { "format", "widths", "activation", "role" };
    const char *vals[] = { "sparsetune", "3,4,2", "tanh", "student" };
    struct st_params p = { 0 }, q = { 0 };
    struct st_safetensors_file f = { 0 };
    struct st_err err = { "" };
    int w[ST_MLP_MAX_LAYERS + 1] = { 0 }, n_layers = 0;
    char act[16] = "";
    char path[256];
    size_t k = 0;

    struct st_model m;
    CHECK_OK(mlp_model(&m, widths, 2, ST_ACT_TANH, &err));
    CHECK_OK(st_model_params(&m, &p, &err));
    if (!p.mem)
        return;
    /* Full mantissas, signs, a zero, a negative zero and a subnormal. */
    for (int t = 0; t < p.n_views; t++)
        for (size_t i = 0; i < st_view_size(&p.v[t]); i++, k++)
            p.v[t].data[i] = (k % 3 ? -1.0f : 1.0f) * (0.3f * (float)k + 1e-7f * (float)k);
    p.v[0].data[1] = 0.0f;
    p.v[0].data[2] = -0.0f;
    p.v[1].data[0] = 1e-40f;
    path_in(path, sizeof path, "round.safetensors");
    /* A model file: the MLP's names (layers.{l}.*) and metadata. */
    CHECK_OK(st_modelfile_write(path, &m, &p, "student", NULL, NULL, 0, &err));
    st_model_free(&m);

    CHECK(st_safetensors_read(path, &f, &err) == ST_OK);
    CHECK(f.n_tensors == 4 && f.n_meta == 4);
    for (int i = 0; i < f.n_meta && i < 4; i++) {
        CHECK(!strcmp(f.meta_keys[i], keys[i]));
        CHECK(!strcmp(f.meta_vals[i], vals[i]));
    }
    CHECK(st_safetensors_meta(&f, "role") && !strcmp(st_safetensors_meta(&f, "role"), "student"));
    CHECK(st_safetensors_meta(&f, "nope") == NULL);
    for (int t = 0; t < 4 && f.n_tensors == 4; t++) {
        /* The writer lays the data out in view order, and the reader sorts by offset. */
        static const char *const names[] = { "layers.0.weight", "layers.0.bias",
                                             "layers.1.weight", "layers.1.bias" };
        const struct st_safetensors_tensor *e = &f.tensors[t];
        CHECK(!strcmp(e->name, names[t]));
        CHECK(st_safetensors_find(&f, names[t]) == e);
        CHECK(!strcmp(e->dtype, "F32"));
        CHECK(e->ndim == (t % 2 ? 1 : 2));
        CHECK(e->shape[0] == p.v[t].rows && (t % 2 || e->shape[1] == p.v[t].cols));
        CHECK(e->n == st_view_size(&p.v[t]));
        CHECK(e->n == st_view_size(&p.v[t]) &&
              memcmp(e->data, p.v[t].data, e->n * sizeof(float)) == 0);
    }
    CHECK(st_safetensors_find(&f, "w1") == NULL);
    st_safetensors_file_free(&f);
    st_safetensors_file_free(&f); /* twice is harmless */
    CHECK(f.tensors == NULL && f.n_tensors == 0);

    CHECK_OK(load_model(path, &q, w, &n_layers, act, &err));
    CHECK(n_layers == 2 && w[0] == 3 && w[1] == 4 && w[2] == 2);
    CHECK(!strcmp(act, "tanh"));
    CHECK(q.n_views == p.n_views);
    for (int t = 0; t < p.n_views && t < q.n_views; t++) {
        CHECK(q.v[t].rows == p.v[t].rows && q.v[t].cols == p.v[t].cols);
        CHECK(!strcmp(q.v[t].name, p.v[t].name));
        CHECK(memcmp(q.v[t].data, p.v[t].data, st_view_size(&p.v[t]) * sizeof(float)) == 0);
    }
    st_params_free(&q);
    st_params_free(&p);
}

/* ---- hand-built files that must load ---- */

/* torch.nn.Sequential(Linear(3,4), ReLU(), Linear(4,5), ReLU(), Linear(5,2)):
 * keys 0, 2, 4, in a scrambled JSON order, no metadata. */
static void test_sequential(void)
{
    static const struct spec s[] = {
        { "4.bias", "F32", 1, { 2 } },     { "0.weight", "F32", 2, { 4, 3 } },
        { "2.bias", "F32", 1, { 5 } },     { "4.weight", "F32", 2, { 2, 5 } },
        { "0.bias", "F32", 1, { 4 } },     { "2.weight", "F32", 2, { 5, 4 } },
    };
    static const char *const names[] = { "0.weight", "0.bias", "2.weight",
                                         "2.bias",   "4.weight", "4.bias" };
    struct st_params p = { 0 };
    struct st_err err = { "" };
    int w[ST_MLP_MAX_LAYERS + 1] = { 0 }, n_layers = 0;
    char act[16] = "x", path[256];

    path_in(path, sizeof path, "seq.safetensors");
    build(path, s, 6, NULL);
    CHECK_OK(load_model(path, &p, w, &n_layers, act, &err));
    CHECK(n_layers == 3 && w[0] == 3 && w[1] == 4 && w[2] == 5 && w[3] == 2);
    CHECK(!strcmp(act, ""));
    CHECK(p.n_views == 6);
    for (int t = 0; t < p.n_views && t < 6; t++)
        CHECK(view_matches(&p.v[t], s, 6, names[t]));
    st_params_free(&p);
}

/* Layer indices compare as numbers: 10 comes after 2 (not as strings). */
static void test_numeric_order(void)
{
    static const struct spec s[] = {
        { "10.weight", "F32", 2, { 1, 2 } }, { "10.bias", "F32", 1, { 1 } },
        { "2.weight", "F32", 2, { 2, 4 } },  { "2.bias", "F32", 1, { 2 } },
        { "0.weight", "F32", 2, { 4, 3 } },  { "0.bias", "F32", 1, { 4 } },
    };
    struct st_params p = { 0 };
    struct st_err err = { "" };
    int w[ST_MLP_MAX_LAYERS + 1] = { 0 }, n_layers = 0;
    char act[16], path[256];

    path_in(path, sizeof path, "order.safetensors");
    build(path, s, 6, NULL);
    CHECK_OK(load_model(path, &p, w, &n_layers, act, &err));
    CHECK(n_layers == 3 && w[0] == 3 && w[1] == 4 && w[2] == 2 && w[3] == 1);
    if (p.n_views == 6) {
        CHECK(view_matches(&p.v[0], s, 6, "0.weight"));
        CHECK(view_matches(&p.v[3], s, 6, "2.bias"));
        CHECK(view_matches(&p.v[4], s, 6, "10.weight"));
    }
    st_params_free(&p);
}

/* F64 tensors under a "model." prefix, with widths and activation metadata:
 * values are rounded to float32, and NaN/inf carry over in the reader. */
static void test_f64_prefix(void)
{
    static const struct spec s[] = {
        { "model.1.weight", "F64", 2, { 2, 4 } }, { "model.0.bias", "F64", 1, { 4 } },
        { "model.0.weight", "F64", 2, { 4, 3 } }, { "model.1.bias", "F64", 1, { 2 } },
    };
    static const char *const names[] = { "model.0.weight", "model.0.bias", "model.1.weight",
                                         "model.1.bias" };
    struct st_params p = { 0 };
    struct st_safetensors_file f = { 0 };
    struct st_err err = { "" };
    int w[ST_MLP_MAX_LAYERS + 1] = { 0 }, n_layers = 0;
    char act[16], path[256];
    unsigned char data[24] = { 0 };
    const double special[3] = { NAN, -INFINITY, -3.4028234663852886e38 /* -FLT_MAX */ };
    const char *h = "{\"x\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[0,24]}}   ";

    path_in(path, sizeof path, "f64.safetensors");
    build(path, s, 4, "{\"widths\":\"3,4,2\",\"activation\":\"tanh\",\"format\":\"pt\"}");
    CHECK_OK(load_model(path, &p, w, &n_layers, act, &err));
    CHECK(n_layers == 2 && w[0] == 3 && w[1] == 4 && w[2] == 2);
    CHECK(!strcmp(act, "tanh"));
    for (int t = 0; t < p.n_views && t < 4; t++)
        CHECK(view_matches(&p.v[t], s, 4, names[t]));
    /* 0.1 * 3 + 0.001 * 1 - 0.3 is not a float: the reader rounded it. */
    CHECK(p.n_views == 4 && p.v[0].data[1] == (float)value(2, 1));
    st_params_free(&p);

    for (int i = 0; i < 3; i++) {
        uint64_t u;
        memcpy(&u, &special[i], sizeof u);
        for (int k = 0; k < 8; k++)
            data[8 * i + k] = (unsigned char)(u >> (8 * k));
    }
    path_in(path, sizeof path, "special.safetensors");
    write_st(path, strlen(h), h, data, 24); /* padded with spaces, as writers do */
    CHECK(st_safetensors_read(path, &f, &err) == ST_OK);
    CHECK(f.n_tensors == 1 && f.n_meta == 0);
    if (f.n_tensors == 1) {
        CHECK(isnan(f.tensors[0].data[0]));
        CHECK(isinf(f.tensors[0].data[1]) && f.tensors[0].data[1] < 0);
        CHECK(f.tensors[0].data[2] == -3.4028234663852886e38f);
        CHECK(!strcmp(f.tensors[0].dtype, "F64"));
    }
    st_safetensors_file_free(&f);
}

/* F16 and BF16, as GPT-2's files come: every half converts exactly (normals,
 * the largest, subnormals, signed zeros, infinities, NaN); bfloat16 is a
 * float's top half. */
static void test_half(void)
{
    struct st_safetensors_file f = { 0 };
    struct st_err err = { "" };
    char path[256];
    static const struct {
        uint16_t bits;
        float want;
    } h[] = { { 0x3c00, 1.0f },          { 0xc100, -2.5f },         { 0x7bff, 65504.0f },
              { 0x0001, 0x1p-24f },      { 0x03ff, 1023 * 0x1p-24f }, { 0x0400, 0x1p-14f },
              { 0x8000, -0.0f },         { 0x7c00, INFINITY },      { 0x3555, 0x1.554p-2f } };
    static const uint16_t bf[3] = { 0x3f80, 0xc020, 0x7fc0 }; /* 1, -2.5, NaN */
    enum { NH = sizeof h / sizeof h[0] };
    unsigned char data[2 * NH + 6 + 2];
    for (int i = 0; i < NH; i++) {
        data[2 * i] = (unsigned char)h[i].bits;
        data[2 * i + 1] = (unsigned char)(h[i].bits >> 8);
    }
    data[2 * NH] = 0x00; /* 0x7e00: a quiet NaN */
    data[2 * NH + 1] = 0x7e;
    for (int i = 0; i < 3; i++) {
        data[2 * NH + 2 + 2 * i] = (unsigned char)bf[i];
        data[2 * NH + 3 + 2 * i] = (unsigned char)(bf[i] >> 8);
    }
    char head[256];
    snprintf(head, sizeof head,
             "{\"h\":{\"dtype\":\"F16\",\"shape\":[%d],\"data_offsets\":[0,%d]},"
             "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[%d,%d]}}",
             NH + 1, 2 * (NH + 1), 2 * (NH + 1), 2 * (NH + 1) + 6);
    path_in(path, sizeof path, "half.safetensors");
    write_st(path, strlen(head), head, data, sizeof data);
    CHECK_OK(st_safetensors_read(path, &f, &err));
    CHECK(f.n_tensors == 2);
    for (int t = 0; t < f.n_tensors; t++) {
        const struct st_safetensors_tensor *x = &f.tensors[t];
        if (!strcmp(x->name, "h")) {
            CHECK(!strcmp(x->dtype, "F16"));
            for (int i = 0; i < NH; i++)
                CHECK(memcmp(&x->data[i], &h[i].want, sizeof(float)) == 0);
            CHECK(isnan(x->data[NH]));
        } else {
            CHECK(!strcmp(x->dtype, "BF16") && x->data[0] == 1.0f && x->data[1] == -2.5f &&
                  isnan(x->data[2]));
        }
    }
    st_safetensors_file_free(&f);
}

/* The reader alone: a scalar, an empty tensor inside another's range, a gap,
 * tensors listed in the order of their offsets. */
static void test_reader_edges(void)
{
    const char *h = "{\"__metadata__\":{},\"b\":{\"dtype\":\"F32\",\"shape\":[0,5],"
                    "\"data_offsets\":[4,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                    "\"data_offsets\":[0,8]},\"s\":{\"dtype\":\"F32\",\"shape\":[],"
                    "\"data_offsets\":[12,16]}}";
    unsigned char data[16] = { 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 9, 9, 9, 9, 0, 0, 0x40, 0x40 };
    struct st_safetensors_file f = { 0 };
    struct st_err err = { "" };
    char path[256];

    path_in(path, sizeof path, "edges.safetensors");
    write_st(path, strlen(h), h, data, sizeof data);
    CHECK(st_safetensors_read(path, &f, &err) == ST_OK);
    CHECK(f.n_tensors == 3 && f.n_meta == 0);
    if (f.n_tensors == 3) {
        CHECK(!strcmp(f.tensors[0].name, "a") && f.tensors[0].n == 2);
        CHECK(f.tensors[0].data[0] == 1.0f && f.tensors[0].data[1] == 2.0f);
        CHECK(!strcmp(f.tensors[1].name, "b") && f.tensors[1].n == 0);
        CHECK(f.tensors[1].ndim == 2 && f.tensors[1].shape[0] == 0 && f.tensors[1].shape[1] == 5);
        CHECK(!strcmp(f.tensors[2].name, "s") && f.tensors[2].ndim == 0);
        CHECK(f.tensors[2].n == 1 && f.tensors[2].data[0] == 3.0f);
    }
    st_safetensors_file_free(&f);

    /* An empty header object is a valid, empty file. */
    path_in(path, sizeof path, "empty.safetensors");
    write_st(path, 8, "{}      ", NULL, 0);
    CHECK(st_safetensors_read(path, &f, &err) == ST_OK);
    CHECK(f.n_tensors == 0 && f.n_meta == 0);
    st_safetensors_file_free(&f);
}

/* ---- a file made by PyTorch ---- */

/* tests/data/safetensors/, found next to this source file. */
static void fixture(char *out, size_t size, const char *name)
{
    const char *slash = strrchr(__FILE__, '/');
    int dir_len = slash ? (int)(slash - __FILE__) : 1;
    snprintf(out, size, "%.*s/data/safetensors/%s", dir_len, slash ? __FILE__ : ".", name);
}

static void test_pytorch(void)
{
    char path[4096], io_path[4096], act[16];
    struct st_params p = { 0 }, q = { 0 };
    struct st_safetensors_file f = { 0 };
    struct st_model net;
    struct st_work work = { 0 };
    struct st_err err = { "" };
    int w[ST_MLP_MAX_LAYERS + 1] = { 0 }, n_layers = 0, B = 0, in = 0, out = 0;
    float x[4 * 3], y[4 * 2];
    FILE *io;

    fixture(path, sizeof path, "sequential.safetensors");
    fixture(io_path, sizeof io_path, "sequential_io.txt");
    CHECK(exists(path) && exists(io_path));

    /* Keys sorted by name, data in that order: 0.bias comes first. */
    CHECK(st_safetensors_read(path, &f, &err) == ST_OK);
    CHECK(f.n_tensors == 4 && f.n_tensors > 0 && !strcmp(f.tensors[0].name, "0.bias"));
    CHECK(st_safetensors_meta(&f, "format") && !strcmp(st_safetensors_meta(&f, "format"), "pt"));
    st_safetensors_file_free(&f);

    CHECK_OK(load_model(path, &p, w, &n_layers, act, &err));
    CHECK(n_layers == 2 && w[0] == 3 && w[1] == 5 && w[2] == 2);
    CHECK(!strcmp(act, "")); /* a plain state_dict does not say */

    io = fopen(io_path, "r");
    CHECK(io != NULL);
    if (io) {
        CHECK(fscanf(io, "%d %d %d", &B, &in, &out) == 3);
        CHECK(B == 4 && in == 3 && out == 2);
        for (int b = 0; b < 4 && B == 4 && in == 3 && out == 2; b++) {
            for (int i = 0; i < 3; i++)
                CHECK(fscanf(io, "%f", &x[b * 3 + i]) == 1);
            for (int i = 0; i < 2; i++)
                CHECK(fscanf(io, "%f", &y[b * 2 + i]) == 1);
        }
        fclose(io);
    }
    if (p.mem && n_layers == 2 && B == 4 && in == 3 && out == 2) {
        CHECK_OK(mlp_model(&net, w, n_layers, ST_ACT_RELU, &err));
        CHECK_OK(st_work_init(&work, &net, B, &err));
        if (work.impl) {
            /* x [4, 3] row-major -> [4, 2], as torch computed model(x). */
            const float *got = st_model_forward(&net, &p, &work, x, B);
            for (int i = 0; i < B * 2; i++)
                CHECK_NEAR(got[i], y[i], 1e-6, 0.0);
        }
        st_work_free(&work);
        st_model_free(&net);
    }

    /* The same weights as F64 under "model.": identical floats after rounding. */
    fixture(path, sizeof path, "sequential_f64.safetensors");
    CHECK_OK(load_model(path, &q, w, &n_layers, act, &err));
    CHECK(n_layers == 2 && w[0] == 3 && w[1] == 5 && w[2] == 2);
    CHECK(!strcmp(act, "relu"));
    for (int t = 0; t < p.n_views && t < q.n_views; t++)
        CHECK(memcmp(p.v[t].data, q.v[t].data, st_view_size(&p.v[t]) * sizeof(float)) == 0);
    st_params_free(&q);
    st_params_free(&p);
}

/* ---- malformed files ---- */

/* Headers over 16 bytes of zero data; each must fail to read. */
static const struct {
    const char *header, *want1, *want2;
} bad_headers[] = {
    { "{\"a\": ", "not valid JSON", NULL },
    { "", "not valid JSON", NULL },
    { "{} x", "bytes after its JSON value", "byte 3" },
    { "[1, 2]", "header is an array", "expected a JSON object" },
    { "\"str\"", "header is a string", NULL },
    { "{\"w\": 3}", "tensor 'w': entry is a number", "expected an object" },
    { "{\"w\":{\"shape\":[4],\"data_offsets\":[0,16]}}", "tensor 'w': dtype is missing", NULL },
    { "{\"w\":{\"dtype\":7,\"shape\":[4],\"data_offsets\":[0,16]}}", "dtype is a number",
      "expected a string" },
    { "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,16]}}", "tensor 'w': shape is missing",
      NULL },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,16]}}", "shape is a number",
      "expected an array" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[4]}}", "tensor 'w': data_offsets is missing", NULL },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0]}}", "data_offsets has 1 entries",
      "expected 2" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0.5,16]}}",
      "data_offsets[0] is 0.5", NULL },
    { "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[16],\"data_offsets\":[0,16]}}",
      "tensor 'w': dtype 'F8_E4M3' is not supported", "expected F32, F64, F16 or BF16" },
    { "{\"w\":{\"dtype\":\"F16\",\"shape\":[9],\"data_offsets\":[0,16]}}", "span 16 bytes",
      "shape [9] of F16 needs 18" },
    { "{\"w\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", "dtype 'I64'", NULL },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}",
      "[0, 32] end past the data section of 16 bytes", NULL },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", "[8, 4] begin after end",
      NULL },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
      "tensors 'a' [0, 12) and 'b' [8, 16) overlap", NULL },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "'a'", "overlap" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", "span 16 bytes",
      "shape [3] of F32 needs 12" },
    { "{\"w\":{\"dtype\":\"F64\",\"shape\":[4],\"data_offsets\":[0,16]}}", "span 16 bytes",
      "needs 32" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,16]}}",
      "tensor 'w': shape [4294967296, 4294967296]", "overflow" },
    { "{\"w\":{\"dtype\":\"F64\",\"shape\":[2147483648,2147483648],\"data_offsets\":[0,16]}}",
      "overflows a 64-bit byte count", NULL },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,16]}}", "shape[0] is -1",
      "non-negative integer" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2.5],\"data_offsets\":[0,16]}}",
      "shape[1] is 2.5", NULL },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[\"4\"],\"data_offsets\":[0,16]}}",
      "shape[0] is a string", NULL },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[9007199254740992],\"data_offsets\":[0,16]}}",
      "below 2^53", NULL },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,2,2],\"data_offsets\":[0,16]}}",
      "tensor 'w': shape has 5 dimensions", "at most 4" },
    { "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
      "\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", "tensor 'w' twice", NULL },
    { "{\"__metadata__\":[]}", "__metadata__ is an array", "expected an object" },
    { "{\"__metadata__\":{\"widths\":3}}", "'widths' is a number", "expected a string" },
    { "{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", "key 'a' twice", NULL },
    { "{\"__metadata__\":{},\"__metadata__\":{}}", "__metadata__ twice", NULL },
};

static void test_malformed(void)
{
    static const unsigned char zeros[16] = { 0 };
    unsigned char data[16] = { 0 };
    char path[256], name[300], header[512];
    const double big = 1e300;
    uint64_t u;

    path_in(path, sizeof path, "bad.safetensors");
    for (size_t i = 0; i < sizeof bad_headers / sizeof *bad_headers; i++) {
        write_st(path, strlen(bad_headers[i].header), bad_headers[i].header, zeros, 16);
        expect_read_fail(path, ST_ERR_FORMAT, bad_headers[i].want1, bad_headers[i].want2);
    }

    write_raw(path, "\x10\0\0\0\0", 5);
    expect_read_fail(path, ST_ERR_FORMAT, "file is 5 bytes", "8-byte header length");
    write_raw(path, "", 0);
    expect_read_fail(path, ST_ERR_FORMAT, "file is 0 bytes", NULL);
    write_st(path, 100, "{}", zeros, 10); /* N beyond the 12 bytes after it */
    expect_read_fail(path, ST_ERR_FORMAT, "header length 100 is past the end of the file",
                     "20 bytes, 12 after");
    write_st(path, (uint64_t)1 << 63, "{}", zeros, 10);
    expect_read_fail(path, ST_ERR_FORMAT, "header length 9223372036854775808", "20 bytes");
    write_st(path, UINT64_MAX, "{}", zeros, 10);
    expect_read_fail(path, ST_ERR_FORMAT, "header length 18446744073709551615", NULL);
    /* A sparse file large enough to hold a header over the limit. */
    write_st(path, ST_SAFETENSORS_MAX_HEADER + 1, "{}", zeros, 10);
    CHECK(truncate(path, 8 + ST_SAFETENSORS_MAX_HEADER + 16) == 0);
    expect_read_fail(path, ST_ERR_FORMAT, "header length 104857601 exceeds the limit of 104857600",
                     "file size 104857624 bytes");

    /* A finite F64 beyond float range. */
    memcpy(&u, &big, sizeof u);
    for (int k = 0; k < 8; k++)
        data[8 + k] = (unsigned char)(u >> (8 * k));
    snprintf(header, sizeof header, "{\"x\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}");
    write_st(path, strlen(header), header, data, 16);
    expect_read_fail(path, ST_ERR_FORMAT, "tensor 'x': element 1 is 1e+300",
                     "beyond the float32 range");

    /* A 200-byte name. */
    memset(name, 'n', 200);
    name[200] = '\0';
    snprintf(header, sizeof header, "{\"%s\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}",
             name);
    write_st(path, strlen(header), header, NULL, 0);
    expect_read_fail(path, ST_ERR_FORMAT, "is 200 bytes long", "expected fewer than 128");

    path_in(path, sizeof path, "missing.safetensors");
    expect_read_fail(path, ST_ERR_IO, "cannot open", "No such file");
    expect_load_fail(path, ST_ERR_IO, "cannot open", NULL);
    path_in(path, sizeof path, "bad.safetensors");
    expect_load_fail(path, ST_ERR_FORMAT, "is 200 bytes long", NULL); /* read errors pass through */
}

/* Well-formed files that are not a valid MLP. */
static const struct {
    struct spec s[5];
    int n;
    const char *meta;
    enum st_status st;
    const char *want1, *want2;
} bad_models[] = {
    { { { "0.weight", "F32", 2, { 5, 3 } },
        { "0.bias", "F32", 1, { 5 } },
        { "2.weight", "F32", 2, { 2, 5 } } },
      3, NULL, ST_ERR_FORMAT, "weight '2.weight' [2, 5] has no bias '2.bias'", NULL },
    { { { "0.weight", "F32", 2, { 5, 3 } },
        { "0.bias", "F32", 1, { 5 } },
        { "2.bias", "F32", 1, { 2 } } },
      3, NULL, ST_ERR_FORMAT, "bias '2.bias' has no weight '2.weight'", NULL },
    { { { "0.weight", "F32", 2, { 5, 3 } },
        { "0.bias", "F32", 1, { 5 } },
        { "2.weight", "F32", 2, { 2, 4 } },
        { "2.bias", "F32", 1, { 2 } } },
      4, NULL, ST_ERR_SHAPE, "broken chain: weight '2.weight' [2, 4] takes 4 inputs",
      "'0.weight' [5, 3] gives 5 outputs" },
    { { { "layers.0.weight", "F32", 2, { 5, 3 } },
        { "layers.0.bias", "F32", 1, { 5 } },
        { "2.weight", "F32", 2, { 2, 5 } },
        { "2.bias", "F32", 1, { 2 } } },
      4, NULL, ST_ERR_FORMAT, "mixed tensor names", "'2.bias' and 'layers.0.bias'" },
    { { { "model.0.weight", "F32", 2, { 5, 3 } },
        { "model.0.bias", "F32", 1, { 5 } },
        { "net.2.weight", "F32", 2, { 2, 5 } },
        { "net.2.bias", "F32", 1, { 2 } } },
      4, NULL, ST_ERR_FORMAT, "mixed tensor names", NULL },
    { { { "0.weight", "F32", 2, { 5, 3 } },
        { "0.bias", "F32", 1, { 5 } },
        { "1.running_mean", "F32", 1, { 5 } } },
      3, NULL, ST_ERR_FORMAT, "unexpected tensor '1.running_mean'", NULL },
    { { { "0.weight", "F32", 2, { 5, 3 } },
        { "0.bias", "F32", 1, { 5 } },
        { "01.weight", "F32", 2, { 2, 5 } },
        { "01.bias", "F32", 1, { 2 } } },
      4, NULL, ST_ERR_FORMAT, "unexpected tensor '01.", NULL },
    { { { "0.weight", "F32", 1, { 5 } }, { "0.bias", "F32", 1, { 5 } } },
      2, NULL, ST_ERR_SHAPE, "weight '0.weight' has shape [5], expected [out, in]", NULL },
    { { { "0.weight", "F32", 2, { 0, 3 } }, { "0.bias", "F32", 1, { 0 } } },
      2, NULL, ST_ERR_SHAPE, "weight '0.weight' has shape [0, 3]", "expected sizes from 1" },
    { { { "0.weight", "F32", 2, { 5, 3 } }, { "0.bias", "F32", 1, { 4 } } },
      2, NULL, ST_ERR_SHAPE, "bias '0.bias' has shape [4], expected [5]",
      "weight '0.weight' [5, 3]" },
    { { { "0.weight", "F32", 2, { 5, 3 } }, { "0.bias", "F32", 2, { 5, 1 } } },
      2, NULL, ST_ERR_SHAPE, "bias '0.bias' has shape [5, 1], expected [5]", NULL },
    { { { "0.weight", "F32", 3, { 5, 3, 1 } }, { "0.bias", "F32", 1, { 5 } } },
      2, NULL, ST_ERR_FORMAT, "tensor '0.weight': shape has 3 dimensions", NULL },
    { { { "layers.0.weight", "F32", 2, { 5, 3 } }, { "layers.0.bias", "F32", 1, { 5 } } },
      2, "{\"widths\":\"3,4\"}", ST_ERR_SHAPE, "metadata widths '3,4' disagree",
      "which give 3,5" },
    { { { "layers.0.weight", "F32", 2, { 5, 3 } }, { "layers.0.bias", "F32", 1, { 5 } } },
      2, "{\"widths\":\"3,5,1\"}", ST_ERR_SHAPE, "'3,5,1' disagree", NULL },
    { { { "layers.0.weight", "F32", 2, { 5, 3 } }, { "layers.0.bias", "F32", 1, { 5 } } },
      2, "{\"widths\":\"3,x\"}", ST_ERR_FORMAT, "metadata widths '3,x'",
      "comma-separated positive integers" },
    { { { "layers.0.weight", "F32", 2, { 5, 3 } }, { "layers.0.bias", "F32", 1, { 5 } } },
      2, "{\"activation\":\"a-very-long-activation\"}", ST_ERR_FORMAT, "metadata activation",
      "expected fewer than 16" },
    { { { "x", "F32", 0, { 0 } } }, 0, NULL, ST_ERR_FORMAT, "no tensors", NULL },
};

static void test_bad_models(void)
{
    char path[256];
    path_in(path, sizeof path, "model.safetensors");
    for (size_t i = 0; i < sizeof bad_models / sizeof *bad_models; i++) {
        build(path, bad_models[i].s, bad_models[i].n, bad_models[i].meta);
        expect_load_fail(path, bad_models[i].st, bad_models[i].want1, bad_models[i].want2);
    }
}

/* One layer more than ST_MLP_MAX_LAYERS, all of width 1. */
static void test_too_many_layers(void)
{
    static struct spec s[2 * (ST_MLP_MAX_LAYERS + 1)];
    static char names[2 * (ST_MLP_MAX_LAYERS + 1)][32];
    char path[256];
    for (int l = 0; l <= ST_MLP_MAX_LAYERS; l++) {
        snprintf(names[2 * l], sizeof names[0], "layers.%d.weight", l);
        snprintf(names[2 * l + 1], sizeof names[0], "layers.%d.bias", l);
        s[2 * l] = (struct spec){ names[2 * l], "F32", 2, { 1, 1 } };
        s[2 * l + 1] = (struct spec){ names[2 * l + 1], "F32", 1, { 1 } };
    }
    path_in(path, sizeof path, "deep.safetensors");
    build(path, s, 2 * (ST_MLP_MAX_LAYERS + 1), NULL);
    expect_load_fail(path, ST_ERR_FORMAT, "more than 64 layers", NULL);
    build(path, s, 2 * ST_MLP_MAX_LAYERS, NULL); /* exactly the maximum loads */
    {
        struct st_params p = { 0 };
        struct st_err err = { "" };
        int w[ST_MLP_MAX_LAYERS + 1], n_layers = 0;
        char act[16];
        CHECK_OK(load_model(path, &p, w, &n_layers, act, &err));
        CHECK(n_layers == ST_MLP_MAX_LAYERS && w[ST_MLP_MAX_LAYERS] == 1);
        st_params_free(&p);
    }
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/st_test_safetensors_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_sequential();
    test_numeric_order();
    test_f64_prefix();
    test_half();
    test_reader_edges();
    test_pytorch();
    test_malformed();
    test_bad_models();
    test_too_many_layers();
    remove_tree(tmpdir);
    return check_report("safetensors");
}
