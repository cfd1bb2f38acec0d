/* npy.h: NumPy .npy files. The writer produces format version 1.0, float32,
 * C order; the reader takes versions 1.0, 2.0 and 3.0 holding a 1-D or 2-D
 * little-endian float32/float64 or (signed or unsigned) integer array in C
 * order, and converts it to float32 (exactly, or with an error naming the
 * element it cannot convert). */
#ifndef ST_NPY_H
#define ST_NPY_H

#include <stdint.h>

#include "../core/status.h"

/* An array read from a .npy file, as float32. A 1-D shape (n,) reads as
 * rows = n, cols = 1 with ndim = 1; a 2-D shape (r, c) as rows = r, cols = c. */
struct st_npy {
    long rows, cols;
    int ndim;       /* 1 or 2: the file's own shape, to tell (n,) from (n, 1) */
    int is_int;     /* 1 if the file holds integers, e.g. labels or token ids */
    char descr[8];  /* the file's dtype: "<f4", "<f8", "<i2", "<i4", "<i8", "|u1", "<u2"
                       or "<u4" */
    float *data;    /* [rows, cols] row-major; malloc'd, non-NULL even when empty;
                       free with st_npy_free() */
    int rounded;           /* 1 if some finite value of the file float32 cannot hold
                              exactly (rounded on reading); then: */
    long rounded_at;       /* the first such item, row-major */
    double rounded_value;  /* and its value in the file: a class label of 0.99999999
                              becomes 1.0f, and only this tells */
};

/* Writes x[rows, cols] as a 2-D float32 array, atomically. Errors: ST_ERR_IO. */
enum st_status st_npy_write_f32(const char *path, const float *x, long rows, long cols,
                                struct st_err *err);

/* Writes x[n] (each below 2^31) as a 1-D int32 array, atomically: token ids.
 * Errors: ST_ERR_IO. */
enum st_status st_npy_write_i32(const char *path, const uint32_t *x, long n, struct st_err *err);

/* Reads the .npy file at path into *out (which is written only on success).
 * Conversions to float32: '<f4' is copied bit for bit; '<f8' is rounded to
 * the nearest float, and a finite value beyond the float range is an error
 * (it would become inf); integer values must be at most 2^24 in
 * magnitude, so that each converts exactly. NaN and inf in the file are
 * passed through: validating them is the caller's job. Only regular files
 * are read (the file size is checked against the header before reading).
 * Errors (the message starts with path, and says what was found and what was
 * expected): ST_ERR_IO if the file cannot be opened or read; ST_ERR_FORMAT for
 * anything malformed or unsupported: bad magic, a version other than 1.0, 2.0
 * or 3.0, a header that is not a well-formed dict with exactly the keys
 * 'descr', 'fortran_order' and 'shape' or is longer than 1 MiB, another
 * dtype or byte order, Fortran order, a shape that is not 1-D or 2-D or is too
 * large, a data size other than what the shape needs (truncated file or
 * trailing bytes), or a value that cannot be converted; ST_ERR_NOMEM. */
enum st_status st_npy_read(const char *path, struct st_npy *out, struct st_err *err);

/* Frees a's data and zeroes it. Accepts NULL and a zeroed struct. */
void st_npy_free(struct st_npy *a);

#endif
