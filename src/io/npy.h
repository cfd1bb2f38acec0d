/* npy.h: NumPy .npy files (format version 1.0, little-endian float32, C order). */
#ifndef ST_NPY_H
#define ST_NPY_H

#include "../core/status.h"

/* Writes x[rows, cols] as a 2-D float32 array, atomically. Errors: ST_ERR_IO. */
enum st_status st_npy_write_f32(const char *path, const float *x, long rows, long cols,
                                struct st_err *err);

#endif
