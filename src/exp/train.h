/* train.h: one run, from its configuration to its run directory. A run is a
 * model (model.h), a data source (source.h: a teacher-student problem or
 * files) and an objective (the data loss plus lambda times a penalty on the
 * distance to the start); it trains the student with an optimizer and logs
 * every observable to metrics.csv (metrics_log.h). */
#ifndef ST_TRAIN_H
#define ST_TRAIN_H

#include "../core/status.h"
#include "cfg.h"
#include "hooks.h"
#include "result.h"

/* Threshold on |theta - theta0| for the changed fraction. */
#define ST_CHANGED_EPS 1e-6f
/* Numerical rank of Delta_W: singular values above this times the largest. */
#define ST_RANK_TOL 1e-3

/* Runs the experiment a resolved cfg describes and writes its run directory
 * (cfg->out): config.ini, teacher.safetensors (teacher-student runs),
 * student_init.safetensors, metrics.csv, student.safetensors, summary.json,
 * and x.npy/y.npy with save_data; checkpoint.bin when stopped. Reads each
 * input file once. *result (may be NULL) gets the final numbers, or on a stop
 * the steps done; release it with st_result_free whatever the status.
 * The process-wide thread counts (runtime.h) are as they were on return.
 * Errors: ST_ERR_IO, ST_ERR_NOMEM, ST_ERR_ARG (options that do not fit the
 * data, a directory that already holds a run), ST_ERR_FORMAT (a malformed
 * input file), ST_ERR_NUMERIC (diverged: metrics up to the bad step and
 * summary.json are still written), ST_ERR_INTERRUPTED. */
enum st_status st_train_run(const struct st_train_cfg *cfg, const struct st_train_hooks *hooks,
                            struct st_train_result *result, struct st_err *err);

/* Sets up the run cfg describes (reading its data, allocating every buffer,
 * training nothing, writing nothing) and reports its memory plan (what
 * --dry-run and the start of a run print) and, measured from the buffers it
 * allocated, the parts held in parameter copies, batch buffers and the
 * spectrum's workspace (the others are 0 in used). For tests. */
enum st_status st_train_memory_used(const struct st_train_cfg *cfg, struct st_run_memory *plan,
                                    struct st_run_memory *used, struct st_err *err);

#endif
