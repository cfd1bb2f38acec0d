/* safetensors.h: model files in the safetensors format. Layer l's tensors are
 * stored as `layers.{l-1}.weight` [out, in] and `layers.{l-1}.bias` [out],
 * float32 (the names torch.nn.ModuleList gives), with widths and activation in
 * the __metadata__ entry. The reader checks every field of untrusted files;
 * the model import also takes torch.nn.Sequential state_dicts. */
#ifndef ST_SAFETENSORS_H
#define ST_SAFETENSORS_H

#include <stdint.h>

#include "../core/params.h"
#include "../core/status.h"

/* Largest JSON header the reader accepts (100 MiB, about the reference
 * implementation's bound); a larger length means a corrupt or hostile file. */
#define ST_SAFETENSORS_MAX_HEADER (100UL << 20)

/* Capacity of a tensor name, and of the activation name the import returns. */
#define ST_SAFETENSORS_NAME_MAX 128
#define ST_SAFETENSORS_ACT_MAX 16

/* One tensor as read: data is float32 whatever the file stored. */
struct st_safetensors_tensor {
    char name[ST_SAFETENSORS_NAME_MAX]; /* e.g. "layers.0.weight" */
    char dtype[8];                      /* the file's dtype: "F32" or "F64" */
    int ndim;                           /* 0 (a scalar), 1 or 2 */
    int64_t shape[2];                   /* shape[0..ndim-1]; unused entries are 1 */
    size_t n;                           /* number of elements, prod(shape) */
    float *data;                        /* [n] row-major; borrowed from st_safetensors_file.mem */
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

/* Writes every view of p (w1, b1, ...) atomically. meta_keys/meta_vals hold
 * n_meta string pairs for __metadata__. Errors: ST_ERR_IO, ST_ERR_NOMEM. */
enum st_status st_safetensors_write(const char *path, const struct st_params *p,
                                    const char *const *meta_keys, const char *const *meta_vals,
                                    int n_meta, struct st_err *err);

/* Reads and validates a whole safetensors file into *out; release it with
 * st_safetensors_file_free(). Checks: the header length fits the file and
 * ST_SAFETENSORS_MAX_HEADER; the header is one JSON object (trailing spaces
 * allowed); each tensor entry has a string dtype (F32 or F64; F64 is converted
 * to float32 and a finite value beyond float range is an error), a shape of at
 * most 2 integral, non-negative entries below 2^53, and data_offsets [begin,
 * end] with begin <= end <= data section size and end - begin == prod(shape) *
 * dtype size (overflow-checked); names are unique and shorter than
 * ST_SAFETENSORS_NAME_MAX; tensors do not overlap (gaps are allowed);
 * __metadata__, if present, maps keys to strings. Messages start with path and
 * name the tensor or field, what was found and what was expected. Errors:
 * ST_ERR_IO (cannot open or read), ST_ERR_FORMAT (any malformed content),
 * ST_ERR_NOMEM. On failure *out is untouched. */
enum st_status st_safetensors_read(const char *path, struct st_safetensors_file *out,
                                   struct st_err *err);

/* Frees what st_safetensors_read allocated and zeroes *f; accepts a zeroed or
 * already freed struct. */
void st_safetensors_file_free(struct st_safetensors_file *f);

/* Value of metadata entry key, or NULL; valid until st_safetensors_file_free(). */
const char *st_safetensors_meta(const struct st_safetensors_file *f, const char *key);

/* Tensor called name, or NULL; valid until st_safetensors_file_free(). */
const struct st_safetensors_tensor *st_safetensors_find(const struct st_safetensors_file *f,
                                                        const char *name);

/* Imports an MLP from path into *p (initialized here with st_params_init; free
 * with st_params_free) and its widths[0..*n_layers] (widths has room for
 * ST_MAX_LAYERS + 1 entries). Tensor names are `P{k}.weight` [out, in] and
 * `P{k}.bias` [out] with k a decimal index and P a prefix shared by every
 * tensor: "layers." (sparsetune's export), "" (a torch.nn.Sequential's
 * state_dict, where k may skip numbers held by activations: 0, 2, 4), or any
 * other common prefix ("model.", "net.0."). Layers are taken in increasing k;
 * widths[0] is in of the first weight, widths[l] out of layer l. If the
 * metadata has "widths" ("3,5,2") it must agree with the shapes. activation
 * (room for ST_SAFETENSORS_ACT_MAX chars) gets the metadata's "activation", or
 * "" when the file does not say; the caller parses it (st_act_parse).
 * Errors: those of st_safetensors_read; ST_ERR_FORMAT for unexpected tensor
 * names, mixed prefixes, a weight without bias (or the reverse), more than
 * ST_MAX_LAYERS layers, a bad metadata entry; ST_ERR_SHAPE for a weight that
 * is not 2-D, a bias that is not [out], a chain where in of a layer differs
 * from out of the previous one, or metadata widths that disagree; ST_ERR_ARG
 * or ST_ERR_NOMEM from st_params_init. On failure the outputs are untouched. */
enum st_status st_safetensors_load_model(const char *path, struct st_params *p, int *widths,
                                         int *n_layers, char *activation, struct st_err *err);

#endif
