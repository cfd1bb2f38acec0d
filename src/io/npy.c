/* npy.c: .npy writer. Layout: magic "\x93NUMPY", version 1.0, a little-endian
 * u16 header length, then a Python dict literal padded with spaces and ending
 * in '\n' so that the data starts at a multiple of 64 bytes. */
#include "npy.h"

#include <string.h>

#include "file.h"

enum st_status st_npy_write_f32(const char *path, const float *x, long rows, long cols,
                                struct st_err *err)
{
    struct st_atomic_file af;
    char header[256];
    enum st_status st;
    int n = snprintf(header, sizeof header,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (%ld, %ld), }", rows,
                     cols);
    /* 10 bytes of preamble + header + '\n' must be a multiple of 64. */
    size_t total = (size_t)(10 + n + 1 + 63) / 64 * 64;
    size_t hlen = total - 10;

    if (n < 0 || hlen >= sizeof header)
        return st_err_set(err, ST_ERR_ARG, "%s: shape too large", path);
    memset(header + n, ' ', hlen - (size_t)n);
    header[hlen - 1] = '\n';
    st = st_atomic_open(&af, path, err);
    if (st != ST_OK)
        return st;
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                              (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8) };
    fwrite(pre, 1, sizeof pre, af.f);
    fwrite(header, 1, hlen, af.f);
    /* float32 in memory is little-endian on every platform this builds for. */
    fwrite(x, sizeof(float), (size_t)rows * (size_t)cols, af.f);
    return st_atomic_commit(&af, err);
}
