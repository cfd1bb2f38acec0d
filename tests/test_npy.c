/* test_npy.c: the .npy reader. Round trips through the writer (bit for bit),
 * files built byte by byte here (each version, dtype and header layout),
 * fixtures written by real NumPy (tests/data/npy/, made by
 * tests/data/make_npy.py), and malformed files, each of which must fail with
 * the right status and a message that starts with the path and says what is
 * wrong. Run with -v to print those messages. */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/npy.h"

#include "check.h"
#include "testutil.h"

static char tmpdir[64];
static char scratch[128]; /* the file each built image is written to */
static int verbose;

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint64_t bits_of_double(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* Whether a[0, n) and want[0, n) have the same bits (so -0.0 != 0.0 and NaN
 * payloads count); prints the first difference. */
static int same_bits(const float *a, const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bits_of(a[i]) != bits_of(want[i])) {
            fprintf(stderr, "  item %zu: got %a (0x%08lx), want %a (0x%08lx)\n", i, (double)a[i],
                    (unsigned long)bits_of(a[i]), (double)want[i],
                    (unsigned long)bits_of(want[i]));
            return 0;
        }
    return 1;
}

/* ---- files built byte by byte ---- */

struct image {
    unsigned char b[4096];
    size_t n;
};

static void put(struct image *im, const void *p, size_t n)
{
    if (im->n + n > sizeof im->b) {
        fprintf(stderr, "test image too large\n");
        exit(1);
    }
    memcpy(im->b + im->n, p, n);
    im->n += n;
}

static void put_le(struct image *im, uint64_t v, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)(v >> (8 * i));
        put(im, &c, 1);
    }
}

/* Magic, version (major, minor) and a header length field of len_size bytes. */
static void put_preamble(struct image *im, int major, int minor, uint64_t hlen, size_t len_size)
{
    unsigned char v[2] = { (unsigned char)major, (unsigned char)minor };
    put(im, "\x93NUMPY", 6);
    put(im, v, 2);
    put_le(im, hlen, len_size);
}

/* A preamble and header of version major.0 as NumPy writes them: the dict
 * padded with spaces and ended with '\n' so that the data starts at a
 * multiple of 64 bytes. */
static void put_header(struct image *im, int major, const char *dict)
{
    size_t pre = major == 1 ? 10 : 12, len = strlen(dict);
    size_t hlen = (pre + len + 1 + 63) / 64 * 64 - pre;
    put_preamble(im, major, 0, hlen, pre - 8);
    put(im, dict, len);
    for (size_t i = len; i + 1 < hlen; i++)
        put(im, " ", 1);
    put(im, "\n", 1);
}

/* A version 1.0 file with the given dict and n float32 items i + 0.5. */
static void build_f4(struct image *im, const char *dict, size_t n)
{
    im->n = 0;
    put_header(im, 1, dict);
    for (size_t i = 0; i < n; i++)
        put_le(im, bits_of((float)i + 0.5f), 4);
}

static int write_file(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(b, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = 0;
    CHECK(ok);
    return ok;
}

static enum st_status read_image(const struct image *im, struct st_npy *a, struct st_err *err)
{
    if (!write_file(scratch, im->b, im->n))
        return ST_ERR_IO;
    return st_npy_read(scratch, a, err);
}

/* Reading path must fail with status want and a message that starts with the
 * path and contains sub (and sub2 unless NULL), leaving the output alone. */
static void expect_fail_path(const char *what, const char *path, enum st_status want,
                             const char *sub, const char *sub2)
{
    struct st_npy a, before;
    struct st_err err = { "" };
    int failures = check_failures;
    enum st_status st;

    memset(&a, 0xab, sizeof a);
    before = a;
    st = st_npy_read(path, &a, &err);
    CHECK(st == want);
    CHECK(strncmp(err.msg, path, strlen(path)) == 0);
    CHECK(strstr(err.msg, sub) != NULL);
    CHECK(!sub2 || strstr(err.msg, sub2) != NULL);
    CHECK(memcmp(&a, &before, sizeof a) == 0);
    if (check_failures != failures)
        fprintf(stderr, "  case '%s': status %d (want %d), message: %s\n", what, (int)st,
                (int)want, err.msg);
    else if (verbose)
        printf("%-28s %s\n", what, err.msg);
    if (st == ST_OK)
        st_npy_free(&a);
}

static void expect_fail(const char *what, const struct image *im, enum st_status want,
                        const char *sub, const char *sub2)
{
    if (write_file(scratch, im->b, im->n))
        expect_fail_path(what, scratch, want, sub, sub2);
}

/* ---- round trips through the writer ---- */

static void roundtrip(long rows, long cols, const float *x)
{
    struct st_npy a = { 0 };
    struct st_err err = { "" };
    char path[128];

    snprintf(path, sizeof path, "%s/rt.npy", tmpdir);
    CHECK_OK(st_npy_write_f32(path, x, rows, cols, &err));
    CHECK_OK(st_npy_read(path, &a, &err));
    CHECK(a.rows == rows && a.cols == cols && a.ndim == 2);
    CHECK(strcmp(a.descr, "<f4") == 0 && a.is_int == 0);
    CHECK(a.data != NULL);
    if (a.data && a.rows == rows && a.cols == cols)
        CHECK(same_bits(a.data, x, (size_t)(rows * cols)));
    st_npy_free(&a);
    CHECK(a.data == NULL && a.rows == 0);
    st_npy_free(&a); /* a zeroed struct is fine too */
    st_npy_free(NULL);
}

static void test_roundtrip(void)
{
    /* -0, quiet and signaling NaNs with payloads, denormals, infinities,
     * the extremes and ordinary numbers. */
    static const uint32_t special[] = {
        0x80000000, 0x00000000, 0x7fc00001, 0xffc12345, 0x7f800001, 0xff80beef,
        0x00000001, 0x807fffff, 0x00400000, 0x7f800000, 0xff800000, 0x7f7fffff,
        0xff7fffff, 0x00800000, 0x3f800000, 0xc0490fdb, 0x4b800001, 0x33d6bf95,
    };
    enum { N_SPECIAL = sizeof special / sizeof special[0] };
    float x[3 * 40];
    uint32_t s = 12345;

    for (int i = 0; i < N_SPECIAL; i++)
        x[i] = float_of(special[i]);
    roundtrip(N_SPECIAL, 1, x); /* one column */
    roundtrip(1, N_SPECIAL, x); /* one row */
    roundtrip(1, 1, x);
    /* Many columns of arbitrary bit patterns (a 32-bit LCG). */
    for (int i = 0; i < 3 * 40; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = float_of(s);
    }
    roundtrip(3, 40, x);
    roundtrip(0, 5, x); /* no rows */
    roundtrip(0, 1, x);
}

/* ---- files built here: every version, dtype, rank and header layout ---- */

/* Six values of each dtype, as the file stores them and as floats. */
static void put_values(struct image *im, const char *descr, float *want)
{
    static const float f4[6] = { 1.5f, -2.25f, 0.0f, 3e-3f, -0.0f, 1e10f };
    static const double f8[6] = { 0.1, -2.5, 1e-50, 1e-40, -0.0, 12345.678 };
    static const int64_t ints[6] = { 0, 1, -1, 16777216, -16777216, 7 };
    for (int i = 0; i < 6; i++) {
        if (!strcmp(descr, "<f4")) {
            put_le(im, bits_of(f4[i]), 4);
            want[i] = f4[i];
        } else if (!strcmp(descr, "<f8")) {
            put_le(im, bits_of_double(f8[i]), 8);
            want[i] = (float)f8[i]; /* 1e-50 underflows to 0, 1e-40 is denormal */
        } else {
            put_le(im, (uint64_t)ints[i], !strcmp(descr, "<i4") ? 4 : 8);
            want[i] = (float)ints[i];
        }
    }
}

static void test_versions_dtypes(void)
{
    static const char *const descrs[4] = { "<f4", "<f8", "<i4", "<i8" };
    struct image im;
    char dict[128];
    float want[6];

    for (int major = 1; major <= 3; major++)
        for (int d = 0; d < 4; d++)
            for (int ndim = 1; ndim <= 2; ndim++) {
                struct st_npy a = { 0 };
                struct st_err err = { "" };
                int failures = check_failures;
                snprintf(dict, sizeof dict,
                         "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descrs[d],
                         ndim == 1 ? "(6,)" : "(2, 3)");
                im.n = 0;
                put_header(&im, major, dict);
                put_values(&im, descrs[d], want);
                CHECK_OK(read_image(&im, &a, &err));
                CHECK(a.ndim == ndim);
                CHECK(a.rows == (ndim == 1 ? 6 : 2) && a.cols == (ndim == 1 ? 1 : 3));
                CHECK(strcmp(a.descr, descrs[d]) == 0);
                CHECK(a.is_int == (descrs[d][1] == 'i'));
                CHECK(a.data && same_bits(a.data, want, 6));
                if (check_failures != failures)
                    fprintf(stderr, "  version %d.0, %s, %d-D: %s\n", major, descrs[d], ndim,
                            err.msg);
                st_npy_free(&a);
            }
}

/* Layouts NumPy does not write but a Python dict literal allows. */
static void test_header_layouts(void)
{
    static const struct {
        const char *dict;
        long rows, cols;
        int ndim;
    } cases[] = {
        { "{'shape': (2, 3), 'descr': '<f4', 'fortran_order': False}", 2, 3, 2 },
        { "{  \"fortran_order\"  :False ,\"shape\":( 2 ,3 , ) ,  'descr':\"<f4\",}", 2, 3, 2 },
        { "{\n\t'descr': '<f4',\n\t'fortran_order': False,\n\t'shape': (2, 3),\n}", 2, 3, 2 },
        { "{'descr':'<f4','fortran_order':False,'shape':(2L, 3L)}", 2, 3, 2 }, /* Python 2 */
        { "{'fortran_order': False, 'descr': '<f4', 'shape': ( 6 , ) }", 6, 1, 1 },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (6, 1), }", 6, 1, 2 },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 6), }", 1, 6, 2 },
    };
    static const float want[6] = { 0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f };
    struct image im;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct st_npy a = { 0 };
        struct st_err err = { "" };
        int failures = check_failures;
        build_f4(&im, cases[i].dict, 6);
        CHECK_OK(read_image(&im, &a, &err));
        CHECK(a.rows == cases[i].rows && a.cols == cases[i].cols && a.ndim == cases[i].ndim);
        CHECK(a.data && same_bits(a.data, want, 6));
        if (check_failures != failures)
            fprintf(stderr, "  header %s: %s\n", cases[i].dict, err.msg);
        st_npy_free(&a);
    }

    /* Unaligned data and a header without the final '\n': still readable. */
    {
        static const char dict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}  ";
        struct st_npy a = { 0 };
        struct st_err err = { "" };
        im.n = 0;
        put_preamble(&im, 1, 0, sizeof dict - 1, 2);
        put(&im, dict, sizeof dict - 1);
        put_le(&im, bits_of(-1.0f), 4);
        put_le(&im, bits_of(2.0f), 4);
        CHECK_OK(read_image(&im, &a, &err));
        CHECK(a.rows == 2 && a.cols == 1 && a.data && a.data[0] == -1.0f && a.data[1] == 2.0f);
        st_npy_free(&a);
    }

    /* Empty arrays: the data pointer is still valid. */
    {
        static const char *const empty[3] = { "(0,)", "(0, 3)", "(3, 0)" };
        for (int i = 0; i < 3; i++) {
            struct st_npy a = { 0 };
            struct st_err err = { "" };
            char dict[96];
            snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': False, 'shape': %s}",
                     empty[i]);
            build_f4(&im, dict, 0);
            CHECK_OK(read_image(&im, &a, &err));
            CHECK(a.data != NULL && a.rows * a.cols == 0);
            CHECK(a.cols == (i == 1 ? 3 : i == 2 ? 0 : 1));
            st_npy_free(&a);
        }
    }
}

/* Conversions at their edges: what passes, what rounds, what is refused. */
static void test_conversions(void)
{
    /* Just below the double halfway between FLT_MAX and 2^128: rounds to FLT_MAX. */
    const double below = 0x1.fffffefffffffp127;
    const double f8[] = { (double)NAN, -(double)INFINITY, (double)INFINITY, below, -below,
                          (double)FLT_MAX, 0x1p-149, 0x1p-151, 16777217.0, -1e38 };
    const float want[] = { NAN, -INFINITY, INFINITY, FLT_MAX, -FLT_MAX,
                           FLT_MAX, 0x1p-149f, 0.0f, 16777216.0f, (float)-1e38 };
    const int64_t i8[] = { 16777216, -16777216, 0, -5 };
    enum { N_F8 = sizeof f8 / sizeof f8[0], N_I8 = sizeof i8 / sizeof i8[0] };
    struct st_npy a = { 0 };
    struct st_err err = { "" };
    struct image im;
    char dict[96];

    snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': False, 'shape': (%d,)}", N_F8);
    im.n = 0;
    put_header(&im, 1, dict);
    for (int i = 0; i < N_F8; i++)
        put_le(&im, bits_of_double(f8[i]), 8);
    CHECK_OK(read_image(&im, &a, &err));
    CHECK(a.data && isnan(a.data[0]));
    /* NaN and inf pass; FLT_MAX < |x| < FLT_MAX + half an ulp rounds to FLT_MAX;
     * 2^-149 is the smallest denormal and 2^-151 underflows to 0; 2^24 + 1
     * ties to even. */
    CHECK(a.data && same_bits(a.data + 1, want + 1, N_F8 - 1));
    st_npy_free(&a);

    snprintf(dict, sizeof dict, "{'descr': '<i8', 'fortran_order': False, 'shape': (%d,)}", N_I8);
    im.n = 0;
    put_header(&im, 1, dict);
    for (int i = 0; i < N_I8; i++)
        put_le(&im, (uint64_t)i8[i], 8);
    CHECK_OK(read_image(&im, &a, &err));
    CHECK(a.is_int && a.data && a.data[0] == 16777216.0f && a.data[1] == -16777216.0f &&
          a.data[3] == -5.0f);
    st_npy_free(&a);

    /* The narrow and unsigned integers token files come in: '<i2' signed,
     * '|u1', '<u2' and '<u4' unsigned (their top values read as such); a
     * '<u4' beyond 2^24 is refused as for the others. */
    static const struct {
        const char *descr;
        int size;
        uint64_t raw[3];
        float want[3];
    } narrow[] = {
        { "<i2", 2, { 0xffff, 0x7fff, 5 }, { -1.0f, 32767.0f, 5.0f } },
        { "|u1", 1, { 0xff, 0, 7 }, { 255.0f, 0.0f, 7.0f } },
        { "<u2", 2, { 0xffff, 50256, 1 }, { 65535.0f, 50256.0f, 1.0f } },
        { "<u4", 4, { 16777216, 3, 0 }, { 16777216.0f, 3.0f, 0.0f } },
    };
    for (size_t k = 0; k < sizeof narrow / sizeof narrow[0]; k++) {
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (3,)}",
                 narrow[k].descr);
        im.n = 0;
        put_header(&im, 1, dict);
        for (int i = 0; i < 3; i++)
            put_le(&im, narrow[k].raw[i], narrow[k].size);
        CHECK_OK(read_image(&im, &a, &err));
        CHECK(a.is_int && a.ndim == 1 && a.rows == 3 && !strcmp(a.descr, narrow[k].descr));
        CHECK(a.data && a.data[0] == narrow[k].want[0] && a.data[1] == narrow[k].want[1] &&
              a.data[2] == narrow[k].want[2]);
        st_npy_free(&a);
    }
    im.n = 0;
    put_header(&im, 1, "{'descr': '<u4', 'fortran_order': False, 'shape': (1,)}");
    put_le(&im, 0xffffffffu, 4);
    CHECK(read_image(&im, &a, &err) == ST_ERR_FORMAT && strstr(err.msg, "value 4294967295"));
}

/* ---- fixtures written by NumPy ---- */

/* tests/data/npy/<name>, found from this source file's own path. */
static void fixture(char *out, size_t size, const char *name)
{
    const char *slash = strrchr(__FILE__, '/');
    int dir_len = slash ? (int)(slash - __FILE__ + 1) : 0;
    snprintf(out, size, "%.*sdata/npy/%s", dir_len, __FILE__, name);
}

static void check_fixture(const char *name, const char *descr, int ndim, long rows, long cols,
                          const float *want)
{
    struct st_npy a = { 0 };
    struct st_err err = { "" };
    char path[4096];
    int failures = check_failures;

    fixture(path, sizeof path, name);
    CHECK(exists(path));
    CHECK_OK(st_npy_read(path, &a, &err));
    CHECK(strcmp(a.descr, descr) == 0);
    CHECK(a.is_int == (descr[1] == 'i'));
    CHECK(a.ndim == ndim && a.rows == rows && a.cols == cols);
    if (a.data && a.rows == rows && a.cols == cols)
        CHECK(same_bits(a.data, want, (size_t)(rows * cols)));
    if (check_failures != failures)
        fprintf(stderr, "  fixture %s: %s\n", path, err.msg);
    st_npy_free(&a);
}

static void test_fixtures(void)
{
    /* The values of tests/data/make_npy.py; NumPy rounded the float64 ones
     * to float32 (or stored them) exactly as a C cast does. */
    const float f32_2d[6] = { 1.5f, -2.25f, 0.0f, (float)3e-3, -0.0f, (float)1e10 };
    const float f64_1d[4] = { (float)0.1, -2.5f, (float)1e-3, (float)12345.678 };
    const float labels[6] = { 0, 1, 2, 1, 0, -3 };
    const float i32_2d[4] = { 1, -2, 16777216, -16777216 };
    const float v2[3] = { 1, 2, 3 };
    const float v3[2] = { 0.5f, 0.25f };
    char path[4096];

    check_fixture("f32_2d.npy", "<f4", 2, 2, 3, f32_2d);
    check_fixture("f64_1d.npy", "<f8", 1, 4, 1, f64_1d);
    check_fixture("i64_labels.npy", "<i8", 1, 6, 1, labels);
    check_fixture("i32_2d.npy", "<i4", 2, 2, 2, i32_2d);
    check_fixture("v2_f32.npy", "<f4", 2, 3, 1, v2);
    check_fixture("v3_f64.npy", "<f8", 2, 1, 2, v3);

    fixture(path, sizeof path, "f32_fortran.npy");
    expect_fail_path("numpy: Fortran order", path, ST_ERR_FORMAT, "Fortran order",
                     "np.ascontiguousarray");
    fixture(path, sizeof path, "f32_bigendian.npy");
    expect_fail_path("numpy: big-endian", path, ST_ERR_FORMAT, "'>f4' is big-endian", NULL);
    fixture(path, sizeof path, "f16.npy");
    expect_fail_path("numpy: float16", path, ST_ERR_FORMAT, "unsupported dtype '<f2'", NULL);
    fixture(path, sizeof path, "f32_3d.npy");
    expect_fail_path("numpy: 3-D", path, ST_ERR_FORMAT, "3-D shape (2, 1, 2)", NULL);
}

/* ---- malformed files ---- */

#define F32_DICT "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
#define SUPPORTED "'<f4', '<f8', '<i2', '<i4', '<i8', '|u1', '<u2' or '<u4'"

/* A version 1.0 file of 6 float32s under a dict with the given descr, order
 * and shape. */
static void expect_dict_fail(const char *what, const char *dict, const char *sub,
                             const char *sub2)
{
    struct image im;
    build_f4(&im, dict, 6);
    expect_fail(what, &im, ST_ERR_FORMAT, sub, sub2);
}

static void test_malformed_preamble(void)
{
    struct image im;
    char path[128];

    im.n = 0;
    expect_fail("empty file", &im, ST_ERR_FORMAT, "empty file", NULL);
    im.n = 0;
    put(&im, "\x93NUMPX\x01\x00", 8);
    expect_fail("bad magic", &im, ST_ERR_FORMAT, "not a .npy file", "'\\x93NUMPX'");
    im.n = 0;
    put(&im, "x,y\n1,2\n3,4\n", 12);
    expect_fail("CSV text", &im, ST_ERR_FORMAT, "not a .npy file: starts with 'x,y\\x0a1,'",
                NULL);
    im.n = 0;
    put(&im, "\x93NUM", 4);
    expect_fail("cut inside the magic", &im, ST_ERR_FORMAT, "truncated", NULL);
    im.n = 0;
    put_preamble(&im, 1, 0, 0, 1); /* 9 bytes: one of the two length bytes */
    expect_fail("cut inside the length", &im, ST_ERR_FORMAT, "truncated header", "9 bytes");
    im.n = 0;
    put_preamble(&im, 2, 0, 0, 3);
    expect_fail("v2 cut inside the length", &im, ST_ERR_FORMAT, "truncated header",
                "12-byte preamble");

    im.n = 0;
    put_preamble(&im, 4, 0, 118, 4);
    expect_fail("version 4.0", &im, ST_ERR_FORMAT, "unsupported .npy format version 4.0",
                "expected 1.0, 2.0 or 3.0");
    im.n = 0;
    put_preamble(&im, 1, 1, 118, 2);
    expect_fail("version 1.1", &im, ST_ERR_FORMAT, "version 1.1", NULL);
    im.n = 0;
    put_preamble(&im, 0, 0, 118, 2);
    expect_fail("version 0.0", &im, ST_ERR_FORMAT, "version 0.0", NULL);

    /* A whole v1 file cut inside its header text. */
    build_f4(&im, F32_DICT, 6);
    im.n = 40;
    expect_fail("cut inside the header", &im, ST_ERR_FORMAT, "truncated header",
                "header length 118 runs past the end");
    im.n = 0;
    put_preamble(&im, 1, 0, 0xffff, 2);
    put(&im, F32_DICT, strlen(F32_DICT));
    expect_fail("v1 length past EOF", &im, ST_ERR_FORMAT, "header length 65535 runs past the end",
                NULL);
    im.n = 0;
    put_preamble(&im, 3, 0, 1000, 4);
    put(&im, F32_DICT, strlen(F32_DICT));
    expect_fail("v3 length past EOF", &im, ST_ERR_FORMAT, "header length 1000 runs past the end",
                NULL);
    im.n = 0;
    put_preamble(&im, 2, 0, 0xffffffff, 4);
    put(&im, F32_DICT, strlen(F32_DICT));
    expect_fail("v2 length 0xFFFFFFFF", &im, ST_ERR_FORMAT, "header length 4294967295 exceeds",
                "1 MiB");
    im.n = 0;
    put_preamble(&im, 2, 0, (1u << 20) + 1, 4);
    expect_fail("v2 length 1 MiB + 1", &im, ST_ERR_FORMAT, "exceeds the limit", NULL);
    im.n = 0;
    put_preamble(&im, 1, 0, 0, 2);
    expect_fail("empty header", &im, ST_ERR_FORMAT, "found the end of the header", NULL);

    snprintf(path, sizeof path, "%s/missing.npy", tmpdir);
    expect_fail_path("missing file", path, ST_ERR_IO, "No such file", NULL);
    expect_fail_path("a directory", tmpdir, ST_ERR_IO, "not a regular file", NULL);
}

static void test_malformed_header(void)
{
    struct image im;

    /* Dtypes and order. */
    expect_dict_fail("Fortran order", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}",
                     "Fortran order", "expected C order: save np.ascontiguousarray(a)");
    expect_dict_fail("big-endian f4", "{'descr': '>f4', 'fortran_order': False, 'shape': (6,)}",
                     "dtype '>f4' is big-endian", "a.astype('<f4')");
    expect_dict_fail("big-endian i8", "{'descr': '>i8', 'fortran_order': False, 'shape': (3,)}",
                     "dtype '>i8' is big-endian", SUPPORTED);
    expect_dict_fail("native order '='", "{'descr': '=f4', 'fortran_order': False, 'shape': (6,)}",
                     "'=f4' is not marked little-endian", NULL);
    expect_dict_fail("order '|'", "{'descr': '|i4', 'fortran_order': False, 'shape': (6,)}",
                     "'|i4' is not marked little-endian", NULL);
    {
        static const char *const bad[] = { "<f2", "|i1", "|b1", "<c8", "|O", "<U3", "<u8",
                                           "<f16", "", "float32" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            char dict[96], sub[64];
            snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (6,)}",
                     bad[i]);
            snprintf(sub, sizeof sub, "unsupported dtype '%s'", bad[i]);
            expect_dict_fail(sub, dict, sub, "expected " SUPPORTED);
        }
    }
    expect_dict_fail("structured dtype",
                     "{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, "
                     "'shape': (3,)}", "structured dtype", NULL);

    /* Shapes. */
    expect_dict_fail("3-D", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 1)}",
                     "3-D shape (2, 3, 1)", "expected a 1-D (n,) or 2-D (rows, cols)");
    expect_dict_fail("0-D", "{'descr': '<f4', 'fortran_order': False, 'shape': ()}",
                     "0-D shape ()", NULL);
    expect_dict_fail("negative", "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3)}",
                     "shape entry '-1' is negative", NULL);
    expect_dict_fail("negative col", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}",
                     "shape entry '-3' is negative", NULL);
    expect_dict_fail("name in shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (x, 3)}",
                     "shape entry 'x' is not a non-negative integer", NULL);
    expect_dict_fail("string in shape",
                     "{'descr': '<f4', 'fortran_order': False, 'shape': ('2', 3)}",
                     "shape entry ''2'' is not", NULL);
    expect_dict_fail("float in shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (6.0,)}",
                     "shape entry '6.0' is not", NULL);
    expect_dict_fail("None in shape",
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (6, None)}",
                     "shape entry 'None' is not", NULL);
    expect_dict_fail("lone minus", "{'descr': '<f4', 'fortran_order': False, 'shape': (-,)}",
                     "shape entry '-' is not", NULL);
    expect_dict_fail("empty entry", "{'descr': '<f4', 'fortran_order': False, 'shape': (,)}",
                     "expected a shape entry, found ',)}'", NULL);
    expect_dict_fail("(6) is no tuple", "{'descr': '<f4', 'fortran_order': False, 'shape': (6)}",
                     "shape (6) is not a tuple; expected (6,)", NULL);
    expect_dict_fail("list shape", "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}",
                     "expected a shape tuple", NULL);
    expect_dict_fail("unclosed shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3}",
                     "expected ',' or ')' in the shape tuple", NULL);
    expect_dict_fail("entry above LONG_MAX",
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808, 1)}",
                     "shape entry '9223372036854775808' is too large", NULL);
    expect_dict_fail("product overflow",
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}",
                     "shape (4611686018427387904, 4) of '<f4' is too large", "7.38e+19 bytes");
    expect_dict_fail("bytes overflow",
                     "{'descr': '<f8', 'fortran_order': False, 'shape': (3037000500, 3037000500)}",
                     "is too large", NULL);
    /* 2^62 bytes fit a size_t but not the file: refused before any allocation. */
    expect_dict_fail("huge but addressable",
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1048576)}",
                     "expected 4611686018427387904 data bytes", "found 24 (the file is truncated)");

    /* Keys. */
    expect_dict_fail("missing shape", "{'descr': '<f4', 'fortran_order': False}",
                     "missing key 'shape'", NULL);
    expect_dict_fail("missing descr", "{'fortran_order': False, 'shape': (6,)}",
                     "missing key 'descr'", NULL);
    expect_dict_fail("missing fortran_order", "{'descr': '<f4', 'shape': (6,)}",
                     "missing key 'fortran_order'", NULL);
    expect_dict_fail("empty dict", "{}", "missing key", NULL);
    expect_dict_fail("unknown key",
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'extra': 1}",
                     "unexpected key 'extra'", NULL);
    expect_dict_fail("duplicate key",
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'descr': '<f8'}",
                     "key 'descr' appears twice", NULL);

    /* Syntax. */
    expect_dict_fail("not a dict", "['descr', '<f4']", "expected a dict starting with '{'", NULL);
    expect_dict_fail("no colon", "{'descr' '<f4', 'fortran_order': False, 'shape': (6,)}",
                     "expected ':' after the key", NULL);
    expect_dict_fail("unclosed dict", "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)",
                     "expected ',' or '}' after a value", NULL);
    expect_dict_fail("unclosed string", "{'descr': '<f4", "closing quote", NULL);
    expect_dict_fail("unquoted key", "{descr: '<f4', 'fortran_order': False, 'shape': (6,)}",
                     "expected a quoted key or '}'", NULL);
    expect_dict_fail("double comma", "{'descr': '<f4',, 'fortran_order': False, 'shape': (6,)}",
                     "expected a quoted key", NULL);
    expect_dict_fail("fortran_order 0", "{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}",
                     "expected True or False", NULL);
    expect_dict_fail("garbage after dict",
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} x",
                     "expected only spaces and '\\n' after the header dict, found 'x'", NULL);
    expect_dict_fail("unquoted descr", "{'descr': <f4, 'fortran_order': False, 'shape': (6,)}",
                     "expected a dtype string", NULL);
    /* A NUL byte inside the header. */
    {
        static const char nul[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (\0,)}";
        im.n = 0;
        put_preamble(&im, 1, 0, sizeof nul - 1, 2);
        put(&im, nul, sizeof nul - 1);
    }
    expect_fail("NUL in header", &im, ST_ERR_FORMAT, "shape entry '\\x00' is not", NULL);
}

static void test_malformed_data(void)
{
    struct image im;

    build_f4(&im, F32_DICT, 6);
    im.n -= 4;
    expect_fail("truncated data", &im, ST_ERR_FORMAT,
                "expected 24 data bytes for shape (2, 3) of '<f4', found 20",
                "the file is truncated");
    build_f4(&im, F32_DICT, 6);
    put(&im, "junk", 4);
    expect_fail("trailing garbage", &im, ST_ERR_FORMAT,
                "expected 24 data bytes for shape (2, 3) of '<f4', found 28",
                "trailing bytes after the array");
    build_f4(&im, F32_DICT, 0);
    expect_fail("header only", &im, ST_ERR_FORMAT, "found 0 (the file is truncated)", NULL);

    /* Integers beyond 2^24 and doubles beyond the float range. */
    im.n = 0;
    put_header(&im, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,)}");
    put_le(&im, 1, 8);
    put_le(&im, (uint64_t)1 << 25, 8);
    put_le(&im, 2, 8);
    expect_fail("i8 2^25", &im, ST_ERR_FORMAT, "value 33554432 at index 1 exceeds 2^24", NULL);
    im.n = 0;
    put_header(&im, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,)}");
    put_le(&im, (uint64_t)INT64_MIN, 8);
    expect_fail("i8 INT64_MIN", &im, ST_ERR_FORMAT, "value -9223372036854775808 at index 0",
                NULL);
    im.n = 0;
    put_header(&im, 2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2)}");
    put_le(&im, 0, 4);
    put_le(&im, 0, 4);
    put_le(&im, (uint32_t)-16777217, 4);
    put_le(&im, 0, 4);
    expect_fail("i4 -(2^24+1)", &im, ST_ERR_FORMAT, "value -16777217 at row 1, col 0", NULL);
    im.n = 0;
    put_header(&im, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3)}");
    put_le(&im, bits_of_double(1.0), 8);
    put_le(&im, bits_of_double(2.0), 8);
    put_le(&im, bits_of_double(1e300), 8);
    expect_fail("f8 1e300", &im, ST_ERR_FORMAT, "value 1e+300 at row 0, col 2",
                "would become inf");
    im.n = 0;
    put_header(&im, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}");
    put_le(&im, bits_of_double(-0x1.ffffffp127), 8); /* rounds to -inf */
    expect_fail("f8 -(FLT_MAX + half ulp)", &im, ST_ERR_FORMAT, "at index 0 is beyond", NULL);
}

/* Every proper prefix of a valid file fails cleanly; every one-byte change
 * in the preamble and header either fails cleanly or reads a consistent
 * array. Under ASan this shows that no length is trusted. */
static void test_corruption(void)
{
    static const unsigned char values[] = { 0x00, ' ', '\'', ',', ')', '(', '}', '9', '-', 0xff };
    struct image good, im;

    for (int major = 1; major <= 2; major++) {
        good.n = 0;
        put_header(&good, major, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }");
        for (int i = 0; i < 6; i++)
            put_le(&good, (uint64_t)i, 4);
        for (size_t n = 0; n < good.n; n++) {
            struct st_npy a = { 0 };
            struct st_err err = { "" };
            im = good;
            im.n = n;
            CHECK(read_image(&im, &a, &err) == ST_ERR_FORMAT);
            CHECK(err.msg[0] != '\0');
        }
        for (size_t pos = 0; pos < good.n - 24; pos++)
            for (size_t v = 0; v < sizeof values; v++) {
                struct st_npy a = { 0 };
                struct st_err err = { "" };
                im = good;
                im.b[pos] = values[v];
                if (read_image(&im, &a, &err) == ST_OK) {
                    CHECK(a.data != NULL && a.rows >= 0 && a.cols >= 0);
                    CHECK((size_t)(a.rows * a.cols) * 4 == 24);
                } else {
                    CHECK(strncmp(err.msg, scratch, strlen(scratch)) == 0);
                }
                st_npy_free(&a);
            }
    }
}

int main(int argc, char **argv)
{
    verbose = argc > 1 && !strcmp(argv[1], "-v");
    strcpy(tmpdir, "/tmp/st_test_npy.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(scratch, sizeof scratch, "%s/t.npy", tmpdir);
    test_roundtrip();
    test_versions_dtypes();
    test_header_layouts();
    test_conversions();
    test_fixtures();
    test_malformed_preamble();
    test_malformed_header();
    test_malformed_data();
    test_corruption();
    remove_tree(tmpdir);
    CHECK(!exists(tmpdir));
    return check_report("test_npy");
}
