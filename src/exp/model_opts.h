/* model_opts.h: the run options a model file determines. A model file fixes
 * its family's architecture options as far as it says them (an MLP file its
 * widths, and its activation when the metadata names it); a run that starts
 * from it (finetune --model, eval) takes those values unless the user gave
 * the option, in which case the two must agree. */
#ifndef ST_MODEL_OPTS_H
#define ST_MODEL_OPTS_H

#include "../io/modelfile.h"
#include "cfg.h"
#include "options.h"

/* cfg's architecture options from mf (read from path, named --opt in
 * messages): --arch and every option the file determines take the file's
 * values unless given[option index] (options.h) is set; given values must
 * equal the file's. Errors: ST_ERR_ARG (the family's check, naming --opt, the
 * file and both values), ST_ERR_NOMEM. */
enum st_status st_cfg_from_model(struct st_train_cfg *cfg, const unsigned char *given,
                                 const struct st_modelfile *mf, const char *opt,
                                 const char *path, struct st_err *err);

/* The first of its family's options that the file in mf does not determine
 * (an nn.Sequential state_dict names no activation) and that given[option
 * index] does not set, or NULL: a run from the file takes that option's
 * default without a word from either, which the CLI says. */
const char *st_cfg_model_unnamed(const struct st_modelfile *mf, const unsigned char *given);

#endif
