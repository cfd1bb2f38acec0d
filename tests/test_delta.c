/* test_delta.c: SHA-256 against the FIPS 180-4 examples, the hash of a
 * model's values, and sparse deltas (io/delta.h): written and applied back
 * bit for bit (signed zeros and tiny changes included), and every malformed
 * or mismatched delta refused by name with the model left as it was. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "io/delta.h"
#include "io/safetensors.h"
#include "io/sha256.h"

static char dir[64];

static void path_of(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

static void check_sha(const char *msg, size_t n, long repeat, const char *want)
{
    struct st_sha256 s;
    char hex[65];
    st_sha256_init(&s);
    for (long i = 0; i < repeat; i++)
        st_sha256_update(&s, msg, n);
    st_sha256_final(&s, hex);
    if (strcmp(hex, want) != 0)
        fprintf(stderr, "sha256 of '%.20s' x %ld: %s, expected %s\n", msg, repeat, hex, want);
    CHECK(strcmp(hex, want) == 0);
}

static void test_sha256(void)
{
    check_sha("abc", 3, 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_sha("", 0, 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, 1,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* A million 'a', fed in pieces that straddle the blocks. */
    check_sha("aaaaaaaaaaaaaaaaaaaaaaaaa", 25, 40000,
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* 64 bytes: the padding takes a block of its own. */
    check_sha("0123456789012345678901234567890123456789012345678901234567890123", 64, 1,
              "9674d9e078535b7cec43284387a6ee39956188e735a85452b0050b55341cda56");
}

/* A layout of two tensors (a 3 x 4 matrix, a vector of 5) with values. */
static void make(struct st_params *p, unsigned seed)
{
    struct st_err err;
    const char *g[] = { "1" };
    memset(p, 0, sizeof *p);
    CHECK_OK(st_params_add(p, "w1", "w", 2, 3, 4, ST_KIND_WEIGHT, g, 1, &err));
    CHECK_OK(st_params_add(p, "b1", "b", 1, 5, 1, ST_KIND_BIAS, g, 1, &err));
    CHECK_OK(st_params_alloc(p, &err));
    srand(seed);
    for (int t = 0; t < p->n_views; t++)
        for (size_t i = 0; i < st_view_size(&p->v[t]); i++)
            p->v[t].data[i] = (float)rand() / (float)RAND_MAX - 0.5f;
}

static int same_bits(const struct st_params *a, const struct st_params *b)
{
    for (int t = 0; t < a->n_views; t++)
        if (memcmp(a->v[t].data, b->v[t].data, st_view_size(&a->v[t]) * sizeof(float)) != 0)
            return 0;
    return 1;
}

static void test_round_trip(void)
{
    struct st_params base, tuned, back;
    struct st_err err;
    struct st_delta_stats w, r;
    char path[128], h1[65], h2[65];
    make(&base, 1);
    make(&tuned, 1);
    make(&back, 1);
    st_params_hash(&base, h1);
    st_params_hash(&tuned, h2);
    CHECK(strcmp(h1, h2) == 0 && strlen(h1) == 64);
    /* Changes: an ordinary one, the smallest step away, a sign of zero, and
     * the last entry of each tensor. */
    tuned.v[0].data[0] = 0.25f;
    tuned.v[0].data[5] = nextafterf(tuned.v[0].data[5], 1.0f);
    tuned.v[0].data[11] = -1.5f;
    tuned.v[1].data[2] = 0.0f;
    base.v[1].data[2] = -0.0f;
    back.v[1].data[2] = -0.0f;
    tuned.v[1].data[4] = 3.0f;
    st_params_hash(&base, h1);
    st_params_hash(&tuned, h2);
    CHECK(strcmp(h1, h2) != 0);
    path_of(path, sizeof path, "d.safetensors");
    CHECK_OK(st_delta_write(path, &base, &tuned, &w, &err));
    CHECK(w.changed == 5 && w.entries == 17 && w.bytes > 0);
    CHECK_OK(st_delta_apply(path, &back, &r, &err));
    CHECK(r.changed == 5 && r.entries == 17 && r.bytes == w.bytes);
    CHECK(same_bits(&back, &tuned));
    /* The file: the pairs of the changed tensors, ascending indices. */
    struct st_safetensors_file f;
    CHECK_OK(st_safetensors_read_any(path, &f, &err));
    const struct st_safetensors_tensor *ix = st_safetensors_find(&f, "w1.indices");
    const struct st_safetensors_tensor *vx = st_safetensors_find(&f, "w1.values");
    CHECK(ix && vx && ix->n == 3 && ix->u32 && ix->u32[0] == 0 && ix->u32[1] == 5 &&
          ix->u32[2] == 11 && vx->data[2] == -1.5f && !strcmp(ix->dtype, "U32"));
    CHECK(strcmp(st_safetensors_meta(&f, "base_sha256"), h1) == 0);
    CHECK(strcmp(st_safetensors_meta(&f, "format"), "sparsetune-delta") == 0);
    st_safetensors_file_free(&f);
    /* A model reader refuses a U32 tensor. */
    CHECK(st_safetensors_read(path, &f, &err) == ST_ERR_FORMAT && strstr(err.msg, "U32"));
    /* No change: an empty delta that applies as nothing. */
    path_of(path, sizeof path, "empty.safetensors");
    CHECK_OK(st_delta_write(path, &base, &base, &w, &err));
    CHECK(w.changed == 0);
    st_params_free(&back);
    make(&back, 1);
    back.v[1].data[2] = -0.0f;
    CHECK_OK(st_delta_apply(path, &back, NULL, &err));
    CHECK(same_bits(&back, &base));
    st_params_free(&base);
    st_params_free(&tuned);
    st_params_free(&back);
}

/* Writes a delta file by hand: tensors t[n] with the given metadata. */
static void write_raw(const char *name, const struct st_safetensors_out *t, int n,
                      const char *format, const char *version, const char *hash)
{
    char path[128];
    struct st_err err;
    const char *keys[] = { "format", "version", "base_sha256" };
    const char *vals[] = { format, version, hash };
    path_of(path, sizeof path, name);
    CHECK_OK(st_safetensors_write_tensors(path, t, n, keys, vals, 3, &err));
}

static void expect_refused(const char *name, const char *want)
{
    struct st_params p, orig;
    struct st_err err;
    char path[128];
    make(&p, 1);
    make(&orig, 1);
    path_of(path, sizeof path, name);
    enum st_status st = st_delta_apply(path, &p, NULL, &err);
    if (st == ST_OK || !strstr(err.msg, want))
        fprintf(stderr, "%s: expected an error with '%s', got %d '%s'\n", name, want, st, err.msg);
    CHECK(st == ST_ERR_FORMAT && strstr(err.msg, want));
    CHECK(same_bits(&p, &orig)); /* nothing applied */
    st_params_free(&p);
    st_params_free(&orig);
}

static void test_malformed(void)
{
    struct st_params p;
    char hash[65];
    make(&p, 1);
    st_params_hash(&p, hash);
    uint32_t idx[3] = { 1, 4, 2 }, big[1] = { 12 }, ok[2] = { 0, 7 };
    float val[3] = { 1, 2, 3 }, inf[2] = { 1, INFINITY };
    struct st_safetensors_out good[2] = { { "w1.indices", "U32", 1, { 2 }, ok },
                                          { "w1.values", "F32", 1, { 2 }, val } };
    write_raw("good.safetensors", good, 2, "sparsetune-delta", "1", hash);
    {
        struct st_params q;
        struct st_err err;
        char path[128];
        make(&q, 1);
        path_of(path, sizeof path, "good.safetensors");
        CHECK_OK(st_delta_apply(path, &q, NULL, &err));
        CHECK(q.v[0].data[0] == 1.0f && q.v[0].data[7] == 2.0f && q.v[0].data[1] == p.v[0].data[1]);
        st_params_free(&q);
    }
    write_raw("format.safetensors", good, 2, "something", "1", hash);
    expect_refused("format.safetensors", "metadata format is \"something\"");
    write_raw("version.safetensors", good, 2, "sparsetune-delta", "2", hash);
    expect_refused("version.safetensors", "delta version 2, expected 1");
    write_raw("hash.safetensors", good, 2, "sparsetune-delta", "1",
              "0000000000000000000000000000000000000000000000000000000000000000");
    expect_refused("hash.safetensors", "made for the base model with sha256 0000");
    struct st_safetensors_out unknown[2] = { { "w9.indices", "U32", 1, { 2 }, ok },
                                             { "w9.values", "F32", 1, { 2 }, val } };
    write_raw("unknown.safetensors", unknown, 2, "sparsetune-delta", "1", hash);
    expect_refused("unknown.safetensors", "'w9.indices' is not NAME.indices or NAME.values");
    write_raw("alone.safetensors", good, 1, "sparsetune-delta", "1", hash);
    expect_refused("alone.safetensors", "w1.indices without w1.values");
    struct st_safetensors_out lengths[2] = { { "w1.indices", "U32", 1, { 2 }, ok },
                                             { "w1.values", "F32", 1, { 3 }, val } };
    write_raw("lengths.safetensors", lengths, 2, "sparsetune-delta", "1", hash);
    expect_refused("lengths.safetensors", "w1 has 2 indices but 3 values");
    struct st_safetensors_out past[2] = { { "w1.indices", "U32", 1, { 1 }, big },
                                          { "w1.values", "F32", 1, { 1 }, val } };
    write_raw("past.safetensors", past, 2, "sparsetune-delta", "1", hash);
    expect_refused("past.safetensors", "w1.indices[0] is 12, past the tensor's 12 entries");
    struct st_safetensors_out order[2] = { { "w1.indices", "U32", 1, { 3 }, idx },
                                           { "w1.values", "F32", 1, { 3 }, val } };
    write_raw("order.safetensors", order, 2, "sparsetune-delta", "1", hash);
    expect_refused("order.safetensors", "w1.indices[2] is 2 after 4, expected ascending");
    struct st_safetensors_out nonfinite[2] = { { "w1.indices", "U32", 1, { 2 }, ok },
                                               { "w1.values", "F32", 1, { 2 }, inf } };
    write_raw("inf.safetensors", nonfinite, 2, "sparsetune-delta", "1", hash);
    expect_refused("inf.safetensors", "w1.values[1] is inf, expected a finite value");
    struct st_safetensors_out dtype[2] = { { "w1.indices", "F32", 1, { 2 }, val },
                                           { "w1.values", "F32", 1, { 2 }, val } };
    write_raw("dtype.safetensors", dtype, 2, "sparsetune-delta", "1", hash);
    expect_refused("dtype.safetensors", "'w1.indices' is F32 of 1 dimensions, expected a vector of U32");
    struct st_safetensors_out matrix[2] = { { "w1.indices", "U32", 2, { 1, 2 }, ok },
                                            { "w1.values", "F32", 1, { 2 }, val } };
    write_raw("matrix.safetensors", matrix, 2, "sparsetune-delta", "1", hash);
    expect_refused("matrix.safetensors", "of 2 dimensions, expected a vector of U32");
    st_params_free(&p);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/st_delta_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_sha256();
    test_round_trip();
    test_malformed();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_report("delta");
}
