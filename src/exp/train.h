/* train.h: one teacher-student run, from its configuration to its run directory.
 * The student starts as a copy of a random teacher except for the re-drawn
 * layers; it is trained on the teacher's outputs with a penalty on its distance
 * to its start, and every observable is logged to metrics.csv. */
#ifndef ST_TRAIN_H
#define ST_TRAIN_H

#include <signal.h>
#include <stdint.h>

#include "../core/act.h"
#include "../core/optim.h"
#include "../core/params.h"
#include "../core/penalty.h"
#include "../core/status.h"

enum st_data_dist { ST_DATA_NORMAL, ST_DATA_UNIFORM };

/* The data loss: mean squared error, or softmax cross-entropy against class
 * indices (a teacher-student run labels each input with the teacher's largest
 * output). */
enum st_loss_kind { ST_LOSS_MSE, ST_LOSS_XENT };

/* "mse" or "xent"; NULL for an unknown value. */
const char *st_loss_name(enum st_loss_kind k);

#define ST_LIST_MAX 256

/* The full configuration of a run. Fill it with st_train_cfg_defaults() and
 * st_option_set() (options.h), then st_train_cfg_resolve(). */
struct st_train_cfg {
    int n_layers;
    int widths[ST_MAX_LAYERS + 1];  /* input, hidden..., output */
    enum st_act act;
    char reinit[ST_LIST_MAX];       /* layers the student re-draws: "middle", "none", "2", "1,3" */
    char freeze[ST_LIST_MAX];       /* tensors or layers kept fixed: "none", "w1,b3", "1" */
    enum st_data_dist data_dist;    /* inputs ~ U(data_lo, data_hi) or N(0,1) */
    double data_lo, data_hi;        /* uniform bounds */
    long data_size;                 /* fixed samples (or per-step draws with online) */
    long batch;                     /* minibatch size; 0 = full batch */
    int online;                     /* fresh inputs every step */
    double label_noise;             /* std of Gaussian noise added to the targets */
    enum st_loss_kind loss;         /* mse or xent */
    char x_path[4096];              /* "none", or inputs [N, in] from a .npy file */
    char y_path[4096];              /* "none" (the teacher labels), or targets from a .npy file */
    char y_col[256];                /* "none", or the target column of CSV --x/--eval-x files */
    char teacher_path[4096];        /* "none" (drawn), or the teacher from a .safetensors file */
    char init_path[4096];           /* "none" (drawn), or the student's start from a file */
    int task_data;                  /* 1: train on --x/--y alone, no teacher (pretrain, finetune) */
    double val_fraction;            /* share of the --x rows held out for validation */
    int standardize;                /* inputs to mean 0, std 1 (training rows' statistics) */
    char eval_x[4096];              /* "none", or an evaluation set (forgetting) from .npy files */
    char eval_y[4096];
    struct st_optim_cfg opt;        /* weight_decay NaN = the optimizer's default */
    long steps;
    uint64_t seed;
    enum st_penalty_kind penalty;
    enum st_reduction reduction;
    double lambda;
    int prox;                       /* proximal step instead of the subgradient */
    char lambda_scale[ST_LIST_MAX]; /* "w1=0,b1=0" or "1=0.5": per-tensor/layer multipliers */
    int nuclear_bias_l1;            /* nuclear: biases get an l1 term */
    long spectrum_every;            /* nuclear norm and rank of each Delta_W every N steps */
    char teacher_delta[32];         /* "full", "rank:R" or "sparse:P" */
    double teacher_delta_scale;     /* size of a rank/sparse teacher delta's entries */
    long log_every;
    double changed_threshold;       /* verdict: changed if d_init >= this * max d_init */
    int save_data;                  /* write x.npy and y.npy */
    int threads;                    /* BLAS and parameter-pass threads */
    long checkpoint_every;          /* write OUT/checkpoint.bin every N steps; 0: never */
    int resume;                     /* go on from OUT/checkpoint.bin (set by --resume) */
    char out[4096];                 /* run directory */
    int force;                      /* overwrite a run directory that holds a run */
    int quiet;
    int plot;                       /* draw the figure at the end (the CLI does) */
    int fig_format;                 /* index into st_fig_format_names */

    /* Filled by st_train_cfg_resolve(): */
    unsigned char reinit_layer[ST_MAX_LAYERS]; /* 1 = layer l+1 re-drawn */
    unsigned char trainable[ST_MAX_TENSORS];   /* 0 = frozen tensor */
    double lambda_mult[ST_MAX_TENSORS];        /* from lambda_scale (1 by default) */
    long val_rows;                             /* rows held out by val_fraction */
    int delta_kind;                            /* 0 full, 1 rank, 2 sparse */
    int delta_rank;                            /* rank:R */
    double delta_frac;                         /* sparse:P */
};

/* The checkpoint a run writes every checkpoint_every steps and when stopped. */
#define ST_CHECKPOINT_FILE "checkpoint.bin"

/* Set (to the signal's number) by a signal handler: a running st_train_run
 * writes a checkpoint at the top of its next step and returns
 * ST_ERR_INTERRUPTED. */
extern volatile sig_atomic_t st_train_stop;

/* Width of the targets y: the output width for mse, 1 (the class) for xent. */
int st_train_target_cols(const struct st_train_cfg *cfg);

/* Threshold on |theta - theta0| for the changed fraction. */
#define ST_CHANGED_EPS 1e-6f
/* Numerical rank of Delta_W: singular values above this times the largest. */
#define ST_RANK_TOL 1e-3

/* The seed experiment's defaults: widths 1,20,20,1, relu, 1000 U(0,2) inputs,
 * full batch, Adam lr 1e-2, 10000 steps, l1 penalty with lambda 0. */
void st_train_cfg_defaults(struct st_train_cfg *cfg);

/* Checks the configuration as a whole and fills the derived fields; writes the
 * resolved values back (batch, weight decay, reinit) so that config.ini is
 * complete. Errors: ST_ERR_ARG with a message naming the option. */
enum st_status st_train_cfg_resolve(struct st_train_cfg *cfg, struct st_err *err);

/* Final numbers of a run (also written to summary.json). */
struct st_train_result {
    long steps_done;        /* updates taken */
    int diverged;           /* 1 if the loss became NaN/Inf */
    double mse, penalty, loss; /* mse: the data loss (the cross-entropy with --loss xent) */
    double accuracy;        /* xent: share of the last pass's samples classified right; NaN */
    int has_eval;           /* an evaluation set was given */
    long val_rows;          /* held-out rows (--val-fraction), 0 for none */
    double val_loss, val_accuracy, val_best; /* at the end; the lowest loss over logged rows */
    double eval_before, eval_after;         /* its data loss at the start and at the end */
    double eval_acc_before, eval_acc_after; /* xent: its accuracy; NaN otherwise */
    double update_share[ST_MAX_TENSORS];    /* sum_i |Delta_ti| / sum over all tensors */
    double mse_tail;        /* lowest data loss over the last 10% of the steps: spikes aside */
    double wall_seconds, steps_per_second;
    int n_tensors;
    char names[ST_MAX_TENSORS][8];
    double d_init[ST_MAX_TENSORS], d_teacher[ST_MAX_TENSORS], changed[ST_MAX_TENSORS];
    double zero[ST_MAX_TENSORS];            /* entries with an update of exactly 0 */
    long size[ST_MAX_TENSORS];              /* entries per tensor */
    double nuclear[ST_MAX_LAYERS];          /* ||Delta_W||_* per layer */
    int rank[ST_MAX_LAYERS];                /* numerical rank of Delta_W per layer */
    unsigned char verdict[ST_MAX_TENSORS]; /* judged changed */
    unsigned char exact[ST_MAX_TENSORS];   /* judged by exact zeros (proximal step) */
    unsigned char truth[ST_MAX_TENSORS];   /* differs between teacher and student start */
    int correct;            /* changed layers == re-drawn layers */
};

/* Progress report: called after each update with the step count and the data
 * loss (mse) of the last forward pass. Returns nonzero to stop the run early. */
typedef int (*st_progress_fn)(void *user, long step, long steps, double loss);

/* Runs the experiment described by a resolved cfg and writes its run directory
 * (cfg->out): config.ini, teacher.safetensors, student_init.safetensors,
 * metrics.csv, student.safetensors, summary.json, and x.npy/y.npy with
 * save_data. result may be NULL. Errors: ST_ERR_IO, ST_ERR_NOMEM, ST_ERR_ARG
 * (the directory already holds a run), ST_ERR_NUMERIC (diverged: metrics up
 * to the bad step and summary.json are still written). */
enum st_status st_train_run(const struct st_train_cfg *cfg, st_progress_fn progress, void *user,
                            struct st_train_result *result, struct st_err *err);

#endif
