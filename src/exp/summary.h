/* summary.h: the verdict of a run and its summary.json.
 *
 * Which tensors changed: a tensor whose proximal step gives exact zeros (l1,
 * group, nuclear under --prox) changed if any entry moved at all; any other
 * (no penalty on it, l2, the subgradient step) if its d_init is at least
 * --changed-threshold times the largest d_init. The verdict is correct when
 * the units (an MLP's layers) with a changed tensor are exactly the units
 * where the teacher differs from the student's start: a re-drawn layer can be
 * matched by moving its weight alone. */
#ifndef ST_SUMMARY_H
#define ST_SUMMARY_H

#include "../core/penalty.h"
#include "cfg.h"
#include "result.h"

/* Fills res's verdict, exact and correct from its d_init, zero entries and
 * truth. */
void st_judge(struct st_train_result *res, const struct st_train_cfg *cfg,
              const struct st_penalty *pen);

/* Writes summary.json for a finished (or diverged) run to path, atomically.
 * Errors: ST_ERR_IO, ST_ERR_NOMEM. */
enum st_status st_summary_write(const struct st_train_cfg *cfg, const struct st_train_result *res,
                                const char *path, struct st_err *err);

/* The fingerprint of a GPT's update as CSV: a row per unit (emb, h0, ...,
 * lnf) and kind of tensor (embeddings, attention, mlp, layernorm) that it
 * holds, with its entries and its share of sum |Delta|. Writes nothing for
 * models without kinds (an MLP). Errors: ST_ERR_IO. */
enum st_status st_fingerprint_write(const struct st_train_result *res, const char *path,
                                    struct st_err *err);

#endif
