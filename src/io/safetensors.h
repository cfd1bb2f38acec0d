/* safetensors.h: files in the safetensors format: a JSON header naming each
 * tensor's dtype, shape and byte range, string metadata, then the tensors'
 * bytes. The reader checks every field of untrusted files. Model files of
 * every family are built on it in modelfile.h. */
#ifndef ST_SAFETENSORS_H
#define ST_SAFETENSORS_H

#include <stdint.h>

#include "../core/params.h"
#include "../core/status.h"

/* Largest JSON header the reader accepts (100 MiB, about the reference
 * implementation's bound); a larger length means a corrupt or hostile file. */
#define ST_SAFETENSORS_MAX_HEADER (100UL << 20)

/* Capacity of a tensor name. */
#define ST_SAFETENSORS_NAME_MAX 128

/* One tensor as read: data is float32 whatever the file stored. */
struct st_safetensors_tensor {
    char name[ST_SAFETENSORS_NAME_MAX]; /* e.g. "layers.0.weight" */
    char dtype[8];                      /* the file's dtype: "F32", "F64", "F16", "BF16" (or,
                                           from st_safetensors_read_any, "U32") */
    int ndim;                           /* 0 (a scalar) to 4 */
    int64_t shape[4];                   /* shape[0..ndim-1]; unused entries are 1 */
    size_t n;                           /* number of elements, prod(shape) */
    float *data;                        /* [n] row-major; borrowed from st_safetensors_file.mem
                                           (NULL after st_safetensors_read_header, and for a
                                           U32 tensor) */
    uint32_t *u32;                      /* [n] a U32 tensor's values (borrowed); else NULL */
};

/* A whole file. Tensors are in the order of their data_offsets (the order of
 * the bytes in the file), not of the JSON keys. */
struct st_safetensors_file {
    int n_tensors;
    struct st_safetensors_tensor *tensors; /* [n_tensors] */
    int n_meta;                            /* __metadata__ entries, in file order */
    char **meta_keys;                      /* [n_meta] NUL-terminated strings */
    char **meta_vals;                      /* [n_meta] */
    float *mem;                            /* owns the data of all tensors */
};

/* A tensor to write: name, dtype ("F32" or "U32"), shape, and its n
 * elements of 4 bytes at data, in the host's order (little-endian). */
struct st_safetensors_out {
    const char *name;
    const char *dtype;
    int ndim;
    int64_t shape[4];
    const void *data;
};

/* Writes tensors t[n] atomically, in order, with meta_keys/meta_vals (n_meta
 * string pairs) as __metadata__. Errors: ST_ERR_IO, ST_ERR_NOMEM. */
enum st_status st_safetensors_write_tensors(const char *path, const struct st_safetensors_out *t,
                                            int n, const char *const *meta_keys,
                                            const char *const *meta_vals, int n_meta,
                                            struct st_err *err);

/* Writes every view of p atomically as float32, view t named names[t] (NULL:
 * the views' own names), a matrix as [rows, cols] and a vector as [rows].
 * meta_keys/meta_vals hold n_meta string pairs for __metadata__, in order.
 * Errors: ST_ERR_IO, ST_ERR_NOMEM. */
enum st_status st_safetensors_write(const char *path, const struct st_params *p,
                                    const char *const *names, const char *const *meta_keys,
                                    const char *const *meta_vals, int n_meta, struct st_err *err);

/* Reads and validates a whole safetensors file into *out; release it with
 * st_safetensors_file_free(). Checks: the header length fits the file and
 * ST_SAFETENSORS_MAX_HEADER; the header is one JSON object (trailing spaces
 * allowed); each tensor entry has a string dtype (F32, F64, F16 or BF16; F64 is
 * converted to float32 and a finite value beyond float range is an error, F16
 * and BF16 convert exactly), a shape of at
 * most 4 integral, non-negative entries below 2^53 (models use 2; GPT-2's
 * files hold 4-D mask buffers), and data_offsets [begin,
 * end] with begin <= end <= data section size and end - begin == prod(shape) *
 * dtype size (overflow-checked); names are unique and shorter than
 * ST_SAFETENSORS_NAME_MAX; tensors do not overlap (gaps are allowed);
 * __metadata__, if present, maps keys to strings. Messages start with path and
 * name the tensor or field, what was found and what was expected. Errors:
 * ST_ERR_IO (cannot open or read), ST_ERR_FORMAT (any malformed content),
 * ST_ERR_NOMEM. On failure *out is untouched. */
enum st_status st_safetensors_read(const char *path, struct st_safetensors_file *out,
                                   struct st_err *err);

/* The same, also accepting U32 tensors (their values in u32): files that
 * are not models, such as sparse deltas. */
enum st_status st_safetensors_read_any(const char *path, struct st_safetensors_file *out,
                                       struct st_err *err);

/* The same checks on the header alone (the tensors' names, shapes and byte
 * ranges against the file's size, and the metadata), reading none of the
 * tensors' bytes: their data are NULL. */
enum st_status st_safetensors_read_header(const char *path, struct st_safetensors_file *out,
                                          struct st_err *err);

/* Frees what st_safetensors_read allocated and zeroes *f; accepts a zeroed or
 * already freed struct. */
void st_safetensors_file_free(struct st_safetensors_file *f);

/* Value of metadata entry key, or NULL; valid until st_safetensors_file_free(). */
const char *st_safetensors_meta(const struct st_safetensors_file *f, const char *key);

/* Tensor called name, or NULL; valid until st_safetensors_file_free(). */
const struct st_safetensors_tensor *st_safetensors_find(const struct st_safetensors_file *f,
                                                        const char *name);

#endif
