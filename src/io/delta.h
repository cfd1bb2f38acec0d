/* delta.h: sparse deltas. A fine-tune that changed few entries is stored as
 * what it is: for every tensor with a change, the flat (row-major) indices of
 * the entries that differ from the base model, bit for bit, and the
 * fine-tuned values there, in a safetensors file:
 *   NAME.indices  U32 [k], ascending        NAME.values  F32 [k]
 * (NAME the tensor's name in sparsetune's layout, whatever the model files'
 * layout), with the metadata format = "sparsetune-delta", version = "1",
 * base_sha256 (st_params_hash of the base), entries (the model's) and
 * changed (the delta's). Applied to its base it rebuilds the fine-tuned
 * values exactly: the values are the fine-tuned entries, not differences. */
#ifndef ST_DELTA_H
#define ST_DELTA_H

#include "../core/params.h"
#include "../core/status.h"

/* The SHA-256 of p's values, as 64 hex digits: each view's name, a NUL byte
 * and its entries as float32, little-endian, in the layout's order. The same
 * model read from any file layout (sparsetune's, Hugging Face's, nanoGPT's)
 * hashes the same. */
void st_params_hash(const struct st_params *p, char hex[65]);

/* What a delta holds. */
struct st_delta_stats {
    long changed; /* entries that differ from the base */
    long entries; /* entries of the model */
    long bytes;   /* size of the delta file */
};

/* Writes the entries of p that differ from base (the same layout) to path
 * atomically, and what it wrote into *stats (may be NULL). Errors: ST_ERR_IO,
 * ST_ERR_NOMEM. */
enum st_status st_delta_write(const char *path, const struct st_params *base,
                              const struct st_params *p, struct st_delta_stats *stats,
                              struct st_err *err);

/* Reads the delta at path and applies it to p, which holds the base's values.
 * The file is checked whole before p changes: its format and version, that
 * base_sha256 is p's hash (else both hashes are named), and for every tensor
 * pair that NAME is a tensor of p, indices are U32 and values F32 of one
 * dimension and the same length, the indices ascending and below the
 * tensor's size, and the values finite. Errors: ST_ERR_IO, ST_ERR_FORMAT
 * naming the file, tensor and what was found, ST_ERR_NOMEM. *stats (may be
 * NULL) gets the delta's counts. */
enum st_status st_delta_apply(const char *path, struct st_params *p,
                              struct st_delta_stats *stats, struct st_err *err);

#endif
