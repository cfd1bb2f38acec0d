/* run.h: the state of a run in progress, shared by the training loop
 * (train.c) and its checkpoints (checkpoint.c); not part of the library's
 * interface. */
#ifndef ST_RUN_H
#define ST_RUN_H

#include <stdint.h>

#include "../core/linalg.h"
#include "../core/metrics.h"
#include "../core/model.h"
#include "../core/optim.h"
#include "../core/penalty.h"
#include "batch.h"
#include "cfg.h"
#include "metrics_log.h"
#include "result.h"
#include "source.h"
#include "hooks.h"

/* What the run minimizes: the data loss plus lambda times the penalty on the
 * update, by subgradient or by proximal steps. */
struct st_objective {
    enum st_loss_kind loss;
    double lambda;
    int prox;
    struct st_penalty pen;
};

/* What summary.json needs besides the last row, kept as the run goes (and
 * in checkpoints). */
struct st_run_tally {
    double loss_tail;    /* lowest data loss over the last 10% of the steps: spikes aside */
    double val_best;     /* lowest validation loss over the logged rows */
    double eval0[ST_EVAL_MAX][2];     /* each evaluation set's loss, accuracy at step 0 */
    double eval_last[ST_EVAL_MAX][2]; /* and at the last logged row */
    double val_last[2];  /* the validation rows' */
};

struct st_run {
    struct st_train_cfg cfg;          /* completed by the data (data_size, batch) */
    const struct st_train_cfg *given; /* as resolved by the caller: what --resume compares */
    const struct st_train_hooks *hooks;
    struct st_model model;
    struct st_source src;             /* the data and theta0 (src.start) */
    struct st_params theta;           /* the student */
    struct st_objective obj;
    unsigned char *trainable;         /* [n_views] 0 = frozen (--freeze) */
    double *lambda_mult;              /* [n_views] --lambda-scale */
    double *prox_c;                   /* [n_views] st_penalty_l1_factors' */
    struct st_params grad;
    struct st_params micro;           /* --grad-accum > 1: one batch's gradient (then summed
                                       * into grad) */
    struct st_params steps;           /* prox: the optimizer's per-coordinate step */
    struct st_optim opt;
    struct st_work work;              /* training passes */
    struct st_work ework;             /* passes over the validation and evaluation sets */
    float *dy;                        /* [batch rows, cols] dLoss/doutputs */
    struct st_batches batches;
    struct st_observables obs;
    struct st_svd svd;                /* the spectrum columns (spectrum_every > 0) */
    float *svd_scratch;
    double *nuc;                      /* [n_views] */
    int *rank;                        /* [n_views] */
    struct st_metrics_log log;
    struct st_run_tally tally;
    struct st_run_memory memory;      /* what it holds, by part */
    uint64_t data_hash;               /* of the data, for checkpoints (once data_hashed) */
    int data_hashed;
};

#endif
