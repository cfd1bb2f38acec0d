/* fuzz_ckpt.c: checkpoint files (--resume). Each input is parsed twice: as
 * given, which almost always fails the trailing checksum, and with its last
 * 8 bytes replaced by the right checksum, so that the section parser behind
 * the check sees the mutated bytes too. */
#include "fuzz.h"

#include <string.h>

#include "io/ckpt.h"

static volatile uint64_t sink; /* keeps the reads of the sections */

static void parse_and_get(const uint8_t *data, size_t size)
{
    static const char *const names[] = { "config", "options", "ints", "reals", "student" };
    struct st_ckpt c;
    struct st_err err;
    const void *d;
    size_t got;
    if (st_ckpt_parse(&c, data, size, "input", &err) != ST_OK)
        return;
    st_ckpt_get(&c, "config", 0, &d, &got, &err);
    st_ckpt_get(&c, "ints", 40, &d, &got, &err);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (st_ckpt_get(&c, names[i], 0, &d, &got, &err) == ST_OK)
            sink ^= st_ckpt_hash(ST_CKPT_HASH_START, d, got); /* reads every byte handed out */
    /* Every section the parser reported, looked up by its own name, also
     * with a size it does not have. */
    for (int i = 0; i < c.n_sec; i++) {
        if (st_ckpt_get(&c, c.sec[i].name, 0, &d, &got, &err) == ST_OK)
            sink ^= st_ckpt_hash(ST_CKPT_HASH_START, d, got);
        st_ckpt_get(&c, c.sec[i].name, c.sec[i].size + 1, &d, &got, &err);
    }
    st_ckpt_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_and_get(data, size);
    if (size < 8)
        return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed)
        abort();
    memcpy(fixed, data, size);
    uint64_t h = st_ckpt_hash(ST_CKPT_HASH_START, fixed, size - 8);
    for (int i = 0; i < 8; i++)
        fixed[size - 8 + i] = (uint8_t)(h >> (8 * i));
    parse_and_get(fixed, size);
    free(fixed);
    return 0;
}
