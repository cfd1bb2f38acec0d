/* modelfile.h: model files of every family, in the safetensors format
 * (safetensors.h). A file holds the model's tensors under the family's names
 * (an MLP's layers.{l-1}.weight and .bias) and string metadata: "format" =
 * "sparsetune", the family's own pairs (an MLP's "widths" and "activation";
 * a family other than the first adds "arch"), "role", then what the caller
 * adds (input statistics). On reading, the metadata's "arch" names the family
 * (a file without one holds the first, the MLP, which also takes
 * torch.nn.Sequential's names), and the family recognizes its tensors. */
#ifndef ST_MODELFILE_H
#define ST_MODELFILE_H

#include "../core/model.h"
#include "../core/params.h"
#include "../core/status.h"

/* A model read from a file. */
struct st_modelfile {
    struct st_model model;
    struct st_params p;  /* its values, in the model's layout */
    unsigned named;      /* bit i: the file determines the family's options[i] */
    struct st_meta meta; /* the file's metadata, in file order (owned) */
    char layout[12];     /* "sparsetune", or a GPT-2 file's "hf" or "nanogpt" */
};

/* Reads the model in path. With header_only, only the architecture (and
 * metadata) is read: p holds a layout without values. Errors: those of
 * st_safetensors_read; ST_ERR_FORMAT for an unknown "arch" or tensors the
 * family does not recognize, ST_ERR_SHAPE for shapes that do not fit, each
 * message starting with path. Free with st_modelfile_free. */
enum st_status st_modelfile_read(const char *path, int header_only, struct st_modelfile *mf,
                                 struct st_err *err);
void st_modelfile_free(struct st_modelfile *mf);

/* ST_OK when the model in mf (read from path) is the run's model m: the same
 * family and the same value of every option the file determines. Errors:
 * those of the family's check (ST_ERR_SHAPE, ST_ERR_FORMAT) with a message
 * "--OPT PATH: ..." naming both values. */
enum st_status st_modelfile_check(const struct st_modelfile *mf, const struct st_model *m,
                                  const char *opt, const char *path, struct st_err *err);

/* The value of a metadata key, or NULL. */
const char *st_meta_get(const struct st_meta *meta, const char *key);

/* Writes p (the layout of m) to path atomically with the metadata described
 * above: role, then n_extra pairs extra_keys/extra_vals. Errors: ST_ERR_IO,
 * ST_ERR_NOMEM. */
enum st_status st_modelfile_write(const char *path, const struct st_model *m,
                                  const struct st_params *p, const char *role,
                                  const char *const *extra_keys, const char *const *extra_vals,
                                  int n_extra, struct st_err *err);

/* The same, for a GPT in GPT-2's layout "hf" (Hugging Face's names, the
 * projections' weights stored [in, out] as Conv1D has them) or "nanogpt"
 * (transformer.-prefixed names, nn.Linear's [out, in], and lm_head.weight,
 * the tied head); NULL or "sparsetune": sparsetune's own names. The
 * metadata are sparsetune's in every layout, so the file reads back without
 * a config.json. */
enum st_status st_modelfile_write_as(const char *path, const struct st_model *m,
                                     const struct st_params *p, const char *role,
                                     const char *const *extra_keys, const char *const *extra_vals,
                                     int n_extra, const char *layout, struct st_err *err);

#endif
