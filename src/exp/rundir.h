/* rundir.h: a run directory and the files in it: config.ini, metrics.csv,
 * summary.json, the model files, the data with --save-data, the figure and
 * the checkpoint. A new run refuses a directory that holds another one,
 * unless --force removes that run's files first. */
#ifndef ST_RUNDIR_H
#define ST_RUNDIR_H

#include "../core/model.h"
#include "../core/params.h"
#include "cfg.h"
#include "data.h"

/* The checkpoint a run writes every checkpoint_every steps and when stopped. */
#define ST_CHECKPOINT_FILE "checkpoint.bin"

/* Creates cfg->out if missing; a directory that holds a run (metrics.csv) is
 * refused (pointing at --resume when it holds a stopped one) unless
 * cfg->force, which removes every file a run writes. Errors: ST_ERR_ARG,
 * ST_ERR_IO. */
enum st_status st_rundir_prepare(const struct st_train_cfg *cfg, struct st_err *err);

/* Removes the files a run writes in dir, then dir itself if empty. */
void st_rundir_remove(const char *dir);

/* config.ini: a header naming the model (st_model_describe), then every
 * saved option. Errors: ST_ERR_IO. */
enum st_status st_rundir_write_config(const struct st_train_cfg *cfg, const struct st_model *m,
                                      struct st_err *err);

/* dir/name as a model file of role role; its metadata carry the input
 * statistics s (when s->n > 0) so that finetune and eval apply them again.
 * Errors: ST_ERR_IO, ST_ERR_NOMEM. */
enum st_status st_rundir_save_model(const char *dir, const char *name, const char *role,
                                    const struct st_model *m, const struct st_params *p,
                                    const struct st_stand *s, const char *layout,
                                    struct st_err *err);

#endif
