/* fuzz_npy.c: the .npy reader (and the table reader that serves --x), and the
 * token readers: a 1-D .npy of token ids, and llm.c's .bin token files. */
#include "fuzz.h"

#include "exp/data.h"
#include "io/npy.h"
#include "io/tokens.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".npy");
    struct st_npy a;
    struct st_err err;
    if (st_npy_read(path, &a, &err) == ST_OK)
        st_npy_free(&a);
    if (st_data_read_table(path, &a, &err) == ST_OK)
        st_npy_free(&a);
    struct st_tokens t;
    if (st_tokens_read(path, 0, &t, &err) == ST_OK)
        st_tokens_free(&t);
    if (st_tokens_parse_bin(data, size, "fuzz.bin", &t, &err) == ST_OK)
        st_tokens_free(&t);
    return 0;
}
