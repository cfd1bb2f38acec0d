/* data.c: see data.h. */
#include "data.h"

#include <math.h>

enum st_status st_data_read_inputs(const char *opt, const char *path, int in, struct st_npy *a,
                                   struct st_err *err)
{
    enum st_status st = st_npy_read(path, a, err);
    if (st != ST_OK)
        return st;
    if (a->cols != in || a->rows < 1)
        st = st_err_set(err, ST_ERR_FORMAT, "--%s %s: shape [%ld, %ld]; expected [N, %d] (N >= 1, "
                        "the input width)", opt, path, a->rows, a->cols, in);
    for (long i = 0; st == ST_OK && i < a->rows * a->cols; i++)
        if (!isfinite(a->data[i]))
            st = st_err_set(err, ST_ERR_FORMAT, "%s: row %ld, column %ld is %g; inputs must be "
                            "finite", path, i / a->cols, i % a->cols, (double)a->data[i]);
    if (st != ST_OK)
        st_npy_free(a);
    return st;
}

enum st_status st_data_read_targets(const char *path, long n, int out, enum st_loss_kind loss,
                                    struct st_npy *b, struct st_err *err)
{
    int cols = loss == ST_LOSS_XENT ? 1 : out;
    enum st_status st = st_npy_read(path, b, err);
    if (st != ST_OK)
        return st;
    if (b->rows != n || b->cols != cols)
        st = st_err_set(err, ST_ERR_FORMAT, "%s: shape [%ld, %ld]; expected [%ld, %d] (%s)", path,
                        b->rows, b->cols, n, cols,
                        loss == ST_LOSS_XENT ? "one class index per row of the inputs"
                                             : "one row of targets per row of the inputs");
    for (long i = 0; st == ST_OK && i < b->rows * b->cols; i++) {
        float v = b->data[i];
        if (!isfinite(v))
            st = st_err_set(err, ST_ERR_FORMAT, "%s: row %ld is %g; targets must be finite", path,
                            i / b->cols, (double)v);
        else if (loss == ST_LOSS_XENT && (v != floorf(v) || v < 0.0f || v >= (float)out))
            st = st_err_set(err, ST_ERR_FORMAT,
                            "%s: row %ld is %g; expected a class index, an integer from 0 to %d",
                            path, i, (double)v, out - 1);
    }
    if (st != ST_OK)
        st_npy_free(b);
    return st;
}
