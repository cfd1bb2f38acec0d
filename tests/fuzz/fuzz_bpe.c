/* fuzz_bpe.c: GPT-2's tokenizer files. The input is a vocab.json, a NUL
 * byte, a merges.txt, a NUL byte and a text; the tokenizer is loaded from
 * them, and a loaded one encodes the text (and a fixed one), decodes the ids
 * and must give the text's bytes back. */
#include "fuzz.h"

#include <string.h>
#include <sys/stat.h>

#include "io/bpe.h"

static void put(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[512];
    char path[600];
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/st_fuzz_bpe.%ld", t && *t ? t : "/tmp", (long)getpid());
        mkdir(dir, 0700);
    }
    const uint8_t *a = memchr(data, 0, size);
    size_t na = a ? (size_t)(a - data) : size;
    const uint8_t *rest = a ? a + 1 : data + size;
    size_t nrest = a ? size - na - 1 : 0;
    const uint8_t *b = memchr(rest, 0, nrest);
    size_t nb = b ? (size_t)(b - rest) : nrest;
    const char *text = b ? (const char *)b + 1 : "";
    size_t ntext = b ? nrest - nb - 1 : 0;
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    put(path, data, na);
    snprintf(path, sizeof path, "%s/merges.txt", dir);
    put(path, rest, nb);
    struct st_bpe *bpe;
    struct st_err err;
    if (st_bpe_load(dir, &bpe, &err) != ST_OK)
        return 0;
    const char *texts[2] = { text, "Hello world, it's 2024!  \n" };
    size_t lens[2] = { ntext, strlen(texts[1]) };
    for (int k = 0; k < 2; k++) {
        uint32_t *ids;
        long n;
        if (st_bpe_encode(bpe, texts[k], lens[k], &ids, &n, &err) != ST_OK)
            continue;
        char *back;
        size_t len;
        if (st_bpe_decode(bpe, ids, n, &back, &len, &err) == ST_OK) {
            /* Every piece got a token, so the bytes come back. */
            if (len != lens[k] || memcmp(back, texts[k], len) != 0)
                abort();
            free(back);
        }
        free(ids);
    }
    st_bpe_free(bpe);
    return 0;
}
