/* fuzz_ckpt.c: checkpoint files (--resume). */
#include "fuzz.h"

#include "io/ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct st_ckpt c;
    struct st_err err;
    const void *d;
    size_t got;
    if (st_ckpt_parse(&c, data, size, "input", &err) == ST_OK) {
        st_ckpt_get(&c, "config", 0, &d, &got, &err);
        st_ckpt_get(&c, "ints", 40, &d, &got, &err);
        st_ckpt_free(&c);
    }
    return 0;
}
