/* fuzz_npy.c: the .npy reader (and the table reader that serves --x). */
#include "fuzz.h"

#include "exp/data.h"
#include "io/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".npy");
    struct st_npy a;
    struct st_err err;
    if (st_npy_read(path, &a, &err) == ST_OK)
        st_npy_free(&a);
    if (st_data_read_table(path, &a, &err) == ST_OK)
        st_npy_free(&a);
    return 0;
}
