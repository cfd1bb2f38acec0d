/* test_tokens.c: the token stream readers (io/tokens.h): a text file's bytes,
 * llm.c's .bin files in both versions (written and read back, and written by
 * hand as llm.c lays them out), 1-D integer .npy files, and every malformed
 * case named. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "io/npy.h"
#include "io/tokens.h"

static char dir[64];

static void path_of(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

/* An llm.c file: header words magic, version, count, then n tokens of width bytes. */
static size_t bin_image(unsigned char *buf, unsigned magic, unsigned version, unsigned count,
                        const unsigned *tok, int n, int width)
{
    memset(buf, 0, 1024);
    unsigned w[3] = { magic, version, count };
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++)
            buf[4 * i + k] = (unsigned char)(w[i] >> (8 * k));
    for (int i = 0; i < n; i++)
        for (int k = 0; k < width; k++)
            buf[1024 + (size_t)i * width + k] = (unsigned char)(tok[i] >> (8 * k));
    return 1024 + (size_t)n * (size_t)width;
}

static void expect_bin_fail(const char *what, const unsigned char *buf, size_t len,
                            const char *sub)
{
    struct st_tokens t = { NULL, 0, 0 };
    struct st_err err = { "" };
    enum st_status st = st_tokens_parse_bin(buf, len, "f.bin", &t, &err);
    CHECK(st == ST_ERR_FORMAT && strstr(err.msg, sub) && strstr(err.msg, "f.bin"));
    if (st != ST_ERR_FORMAT || !strstr(err.msg, sub))
        fprintf(stderr, "  %s: %s\n", what, err.msg);
}

static void test_text(void)
{
    char path[128];
    const unsigned char text[6] = { 'a', 0, 0xff, '\n', 0xc3, 0xa9 };
    struct st_tokens t;
    struct st_err err;
    path_of(path, sizeof path, "t.txt");
    write_bytes(path, text, sizeof text);
    CHECK_OK(st_tokens_read(path, 1, &t, &err));
    CHECK(t.n == 6 && t.tok[0] == 'a' && t.tok[1] == 0 && t.tok[2] == 255 && t.tok[5] == 0xa9);
    st_tokens_free(&t);
    /* Without --text, a file that is neither .npy nor .bin is refused. */
    CHECK(st_tokens_read(path, 0, &t, &err) == ST_ERR_FORMAT && strstr(err.msg, ".npy or .bin"));
    path_of(path, sizeof path, "missing.txt");
    CHECK(st_tokens_read(path, 1, &t, &err) == ST_ERR_IO);
}

static void test_bin(void)
{
    char path[128];
    struct st_tokens t;
    struct st_err err;
    static unsigned char buf[1024 + 64];
    /* Written by hand as llm.c lays it out, both versions. */
    const unsigned v1[3] = { 50256, 0, 1 }, v2[2] = { 100000, 7 };
    size_t n = bin_image(buf, 20240520, 1, 3, v1, 3, 2);
    CHECK_OK(st_tokens_parse_bin(buf, n, "v1.bin", &t, &err));
    CHECK(t.n == 3 && t.tok[0] == 50256 && t.tok[1] == 0 && t.tok[2] == 1);
    st_tokens_free(&t);
    n = bin_image(buf, 20240520, 2, 2, v2, 2, 4);
    CHECK_OK(st_tokens_parse_bin(buf, n, "v2.bin", &t, &err));
    CHECK(t.n == 2 && t.tok[0] == 100000 && t.tok[1] == 7);
    st_tokens_free(&t);
    /* Our writer, read back through the file reader: uint16 while ids fit. */
    const uint32_t ids[4] = { 3, 65535, 0, 12 }, big[2] = { 65536, 1 };
    path_of(path, sizeof path, "w.bin");
    CHECK_OK(st_tokens_write_bin(path, ids, 4, &err));
    CHECK_OK(st_tokens_read(path, 0, &t, &err));
    CHECK(t.n == 4 && !memcmp(t.tok, ids, sizeof ids));
    st_tokens_free(&t);
    CHECK_OK(st_tokens_write_bin(path, big, 2, &err));
    CHECK_OK(st_tokens_read(path, 0, &t, &err));
    CHECK(t.n == 2 && t.tok[0] == 65536 && t.tok[1] == 1);
    st_tokens_free(&t);
    CHECK_OK(st_tokens_write_bin(path, ids, 0, &err));
    CHECK_OK(st_tokens_read(path, 0, &t, &err));
    CHECK(t.n == 0 && t.tok != NULL);
    st_tokens_free(&t);

    /* Malformed: each named. */
    n = bin_image(buf, 20240521, 1, 3, v1, 3, 2);
    expect_bin_fail("magic", buf, n, "magic 20240521; expected 20240520");
    n = bin_image(buf, 20240520, 3, 3, v1, 3, 2);
    expect_bin_fail("version", buf, n, "version 3; expected 1 (uint16 tokens) or 2");
    n = bin_image(buf, 20240520, 1, 4, v1, 3, 2);
    expect_bin_fail("count", buf, n, "counts 4 tokens of 2 bytes, but 6 bytes follow");
    n = bin_image(buf, 20240520, 1, 3, v1, 3, 2);
    expect_bin_fail("truncated", buf, n - 1, "but 5 bytes follow");
    expect_bin_fail("short header", buf, 100, "100 bytes; an llm.c token file starts with a "
                                              "header of 1024 bytes");
    n = bin_image(buf, 20240520, 1, 0x80000000u, v1, 3, 2);
    expect_bin_fail("huge count", buf, n, "counts 2147483648 tokens");
}

static void test_npy(void)
{
    char path[128];
    struct st_tokens t;
    struct st_err err;
    const float ids[5] = { 0, 255, 7, 50256, 1 }, x2[4] = { 1, 2, 3, 4 };
    /* st_npy_write_f32 writes 2-D float32: refused as token ids. */
    path_of(path, sizeof path, "f.npy");
    CHECK_OK(st_npy_write_f32(path, x2, 2, 2, &err));
    CHECK(st_tokens_read(path, 0, &t, &err) == ST_ERR_FORMAT &&
          strstr(err.msg, "a 2-D array of <f4; expected a 1-D array of integer token ids"));
    /* A 1-D '<u2' file as NumPy writes it. */
    unsigned char buf[256];
    const char *head = "{'descr': '<u2', 'fortran_order': False, 'shape': (5,), }";
    size_t hl = strlen(head), pad = 64 - (10 + hl + 1) % 64;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)((hl + pad + 1) & 0xff);
    buf[9] = (unsigned char)((hl + pad + 1) >> 8);
    memcpy(buf + 10, head, hl);
    memset(buf + 10 + hl, ' ', pad);
    buf[10 + hl + pad] = '\n';
    size_t at = 10 + hl + pad + 1;
    for (int i = 0; i < 5; i++) {
        unsigned v = (unsigned)ids[i];
        buf[at++] = (unsigned char)v;
        buf[at++] = (unsigned char)(v >> 8);
    }
    path_of(path, sizeof path, "u2.npy");
    write_bytes(path, buf, at);
    CHECK_OK(st_tokens_read(path, 0, &t, &err));
    CHECK(t.n == 5 && t.tok[1] == 255 && t.tok[3] == 50256 && t.tok[4] == 1);
    st_tokens_free(&t);
    /* A negative id is named: read as '<i2', 50256 is -15280. */
    memcpy(buf + 10, "{'descr': '<i2'", 15);
    write_bytes(path, buf, at);
    CHECK(st_tokens_read(path, 0, &t, &err) == ST_ERR_FORMAT &&
          strstr(err.msg, "index 3 is -15280; token ids are not negative"));
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_tokens.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_text();
    test_bin();
    test_npy();
    const char *names[] = { "t.txt", "w.bin", "f.npy", "u2.npy" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[128];
        path_of(p, sizeof p, names[i]);
        remove(p);
    }
    rmdir(dir);
    return check_report("test_tokens");
}
