/* fuzz_csv.c: CSV data files, as --x/--y/--y-col read them. */
#include "fuzz.h"

#include "exp/data.h"
#include "io/csv.h"
#include "io/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".csv");
    struct st_npy a, x, y;
    struct st_err err;
    if (st_data_read_table(path, &a, &err) == ST_OK)
        st_npy_free(&a);
    /* The target column by index and by name, with the widths a run would
     * expect (a mismatch is one more error path). */
    if (st_data_read_split("x", path, "1", 2, 1, ST_LOSS_MSE, &x, &y, &err) == ST_OK) {
        st_npy_free(&x);
        st_npy_free(&y);
    }
    if (st_data_read_split("x", path, "target", 2, 3, ST_LOSS_XENT, &x, &y, &err) == ST_OK) {
        st_npy_free(&x);
        st_npy_free(&y);
    }
    return 0;
}
