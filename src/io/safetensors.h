/* safetensors.h: model files in the safetensors format. Layer l's tensors are
 * stored as `layers.{l-1}.weight` [out, in] and `layers.{l-1}.bias` [out],
 * float32 (the names torch.nn.ModuleList gives), with widths and activation in
 * the __metadata__ entry. */
#ifndef ST_SAFETENSORS_H
#define ST_SAFETENSORS_H

#include "../core/params.h"
#include "../core/status.h"

/* Writes every view of p (w1, b1, ...) atomically. meta_keys/meta_vals hold
 * n_meta string pairs for __metadata__. Errors: ST_ERR_IO, ST_ERR_NOMEM. */
enum st_status st_safetensors_write(const char *path, const struct st_params *p,
                                    const char *const *meta_keys, const char *const *meta_vals,
                                    int n_meta, struct st_err *err);

#endif
