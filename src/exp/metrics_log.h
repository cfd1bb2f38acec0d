/* metrics_log.h: metrics.csv, one row per logged step. Columns: step, the
 * loss terms (mse, or xent and accuracy; penalty; loss), the validation
 * set's loss (val_*) and each evaluation set's (eval_* for --eval-x's,
 * eval_NAME_* for a named one) where they exist, then for each tensor d_init,
 * d_teacher (where there is a teacher), changed (the fraction with |Delta| >
 * 1e-6) and zero (the count with Delta exactly 0), then for each matrix nuc
 * (||Delta_W||_*) and rank (numerical rank), computed every
 * --spectrum-every steps and nan on the other rows. Tensors are named by
 * their views. Numbers have 9 significant digits (float32 round-trips). */
#ifndef ST_METRICS_LOG_H
#define ST_METRICS_LOG_H

#include <stdio.h>

#include "../core/metrics.h"
#include "../core/params.h"
#include "../core/status.h"
#include "cfg.h"

struct st_metrics_log {
    FILE *f;
    char *stdio_buf;      /* a large stdio buffer for f */
    double flushed;       /* when f was last flushed (monotonic seconds): rows reach the
                           * file every few seconds, for a reader following a long run */
    char *line;           /* one row, formatted before it is written */
    size_t line_cap;      /* bytes line holds: every field at its longest */
    int xent, val, n_eval, teacher;
    const char *loss;     /* the data loss's name: its columns' */
    char eval_prefix[ST_EVAL_MAX][ST_EVAL_NAME_MAX + 8]; /* st_eval_prefix */
    int n_tensors;
    unsigned char *matrix; /* [n_tensors] the views with spectrum columns */
};

/* The values of one row. */
struct st_metrics_row {
    long step;
    double loss_data, accuracy, penalty, loss; /* accuracy written with xent only */
    double ev[2 + 2 * ST_EVAL_MAX]; /* validation loss, accuracy; each evaluation set's */
    const struct st_observables *obs;
    const double *nuc; /* [n_tensors] or NULL (a row without the spectrum) */
    const int *rank;
};

/* Opens path for a run over layout's views: a new file with its header
 * (keep < 0), or an existing one cut back to keep bytes (a resumed run;
 * ST_ERR_FORMAT when it is shorter). Errors: ST_ERR_IO, ST_ERR_NOMEM. */
enum st_status st_metrics_log_open(struct st_metrics_log *m, const char *path,
                                   const struct st_params *layout, const struct st_train_cfg *cfg,
                                   int val, int teacher, long keep, struct st_err *err);

/* Writes one row. */
void st_metrics_log_row(struct st_metrics_log *m, const struct st_metrics_row *r);

/* Everything written so far on disk (flushed and fsynced); *bytes the file's
 * length. Errors: ST_ERR_IO. */
enum st_status st_metrics_log_sync(struct st_metrics_log *m, long *bytes);

void st_metrics_log_close(struct st_metrics_log *m);

#endif
