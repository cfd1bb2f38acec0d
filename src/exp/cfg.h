/* cfg.h: the configuration of a run, the value of every run option
 * (options.h parses and formats them), its defaults, and the checks of the
 * whole. Resolving reads no file: what depends on the data (the size of a
 * --x set, a full batch over it) is completed when the run reads its data
 * (source.h). */
#ifndef ST_CFG_H
#define ST_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "../core/loss.h"
#include "../core/model.h"
#include "../core/optim.h"
#include "../core/penalty.h"
#include "../core/status.h"

enum st_data_dist { ST_DATA_NORMAL, ST_DATA_UNIFORM };

/* How the teacher's --reinit tensors differ from the student's start:
 * re-drawn, the student's plus a random rank-R matrix, or the student's with
 * a fraction P of the entries perturbed. */
enum st_delta_kind { ST_DELTA_FULL, ST_DELTA_RANK, ST_DELTA_SPARSE };

#define ST_LIST_MAX 256
#define ST_PATH_MAX 4096
#define ST_EVAL_MAX 8         /* evaluation sets of a run: --eval-x's and the --eval NAME=... */
#define ST_EVAL_NAME_MAX 32   /* a set's name, its NUL included */
#define ST_EVALS_TEXT 8192    /* the --eval list as text */

/* The full configuration of a run. Fill it with st_train_cfg_defaults() and
 * st_option_set() (both options.h), then st_train_cfg_resolve(). */
struct st_train_cfg {
    struct st_arch arch;            /* --arch and the family's options (--widths, --activation) */
    char reinit[ST_LIST_MAX];       /* selector (select.h) of what the student re-draws: "middle", "none", "2" */
    char freeze[ST_LIST_MAX];       /* selector of the tensors kept fixed: "none", "w1,b3", "1" */
    enum st_data_dist data_dist;    /* inputs ~ U(data_range) or N(0,1) */
    double data_range[2];           /* uniform bounds LO < HI */
    long data_size;                 /* fixed samples (or per-step draws with online) */
    long batch;                     /* minibatch size; 0 = full batch */
    int online;                     /* fresh inputs every step */
    double label_noise;             /* std of Gaussian noise added to the targets */
    enum st_loss_kind loss;         /* mse or xent */
    char x_path[ST_PATH_MAX];       /* "none", or inputs [N, in] from a .npy or .csv file */
    char y_path[ST_PATH_MAX];       /* "none" (the teacher labels), or targets from a file */
    char y_col[256];                /* "none", or the target column of CSV --x/--eval-x files */
    char teacher_path[ST_PATH_MAX]; /* "none" (drawn), or the teacher from a .safetensors file */
    char init_path[ST_PATH_MAX];    /* "none" (drawn), or the student's start from a file */
    char init_opt[16];              /* the option that gave init_path, as messages name it:
                                     * "student-init" (the default), or "model" where a command
                                     * took it as --model; not an option, not saved */
    int task_data;                  /* 1: train on --x/--y alone, no teacher (pretrain, finetune) */
    double val_fraction;            /* share of the --x rows held out for validation */
    int standardize;                /* inputs to mean 0, std 1 (training rows' statistics) */
    int export_layout;              /* the student's files: 0 auto (the --model's layout),
                                     * 1 sparsetune, 2 hf, 3 nanogpt (st_export_layout_names) */
    char text_path[ST_PATH_MAX];    /* "none", or a text whose bytes are the token stream */
    char tokens_path[ST_PATH_MAX];  /* "none", or a token stream (.npy, llm.c's .bin) */
    char eval_text[ST_PATH_MAX];    /* "none", or a text to evaluate a language model on */
    char eval_tokens[ST_PATH_MAX];  /* "none", or a token file to evaluate it on */
    char tokenizer[ST_PATH_MAX];    /* "none" (texts are bytes), or GPT-2's BPE from this folder
                                     * (vocab.json, merges.txt) */
    char eval_x[ST_PATH_MAX];       /* "none", or an evaluation set (forgetting) */
    char eval_y[ST_PATH_MAX];
    char evals[ST_EVALS_TEXT];      /* "none", or named sets "NAME=X[,Y];NAME=X[,Y]" (--eval) */
    struct st_optim_cfg opt;        /* weight_decay NaN = the optimizer's default */
    long steps;
    uint64_t seed;
    enum st_penalty_kind penalty;
    enum st_reduction reduction;
    double lambda;
    int prox;                       /* proximal step instead of the subgradient */
    char lambda_scale[ST_LIST_MAX]; /* "w1=0,b1=0" or "1=0.5": per-tensor multipliers */
    int nuclear_bias_l1;            /* nuclear: vectors get an l1 term */
    long spectrum_every;            /* nuclear norm and rank of each Delta_W every N steps */
    char teacher_delta[32];         /* "full", "rank:R" or "sparse:P" */
    double teacher_delta_scale;     /* size of a rank/sparse teacher delta's entries */
    long log_every;
    double changed_threshold;       /* verdict: changed if d_init >= this * max d_init */
    int save_data;                  /* write x.npy and y.npy */
    int save_delta;                 /* write delta.safetensors: the entries that moved */
    int dry_run;                    /* report the memory by part and stop */
    long grad_accum;                /* batches whose gradients one step averages */
    long ranks;                     /* data-parallel MPI ranks (mpirun -np) */
    int threads;                    /* BLAS and parameter-pass threads */
    char products[384];             /* products.h: auto, own, blas, fixed or own/blas per layer */
    long checkpoint_every;          /* write OUT/checkpoint.bin every N steps; 0: never */
    int resume;                     /* go on from OUT/checkpoint.bin (set by --resume) */
    char out[ST_PATH_MAX];          /* run directory */
    int force;                      /* overwrite a run directory that holds a run */
    int quiet;
    int plot;                       /* draw the figure at the end (the CLI does) */
    int fig_format;                 /* index into st_fig_format_names */

    /* Filled by st_train_cfg_resolve() from teacher_delta: */
    enum st_delta_kind delta_kind;
    int delta_rank;                 /* rank:R */
    double delta_frac;              /* sparse:P */

    /* Filled by st_train_cfg_resolve() from evals (read them with st_eval_*): */
    int n_named_evals;
    char eval_name[ST_EVAL_MAX][ST_EVAL_NAME_MAX];
    int eval_x_at[ST_EVAL_MAX], eval_y_at[ST_EVAL_MAX]; /* offsets into eval_paths */
    char eval_paths[ST_EVALS_TEXT];                     /* the sets' paths, each ended by NUL */
};

/* Checks the configuration as a whole and fills the derived fields; writes
 * the resolved values back (reinit middle becomes the unit it names, a full
 * batch over drawn data its size, the weight decay) so that config.ini is
 * complete. Reads no file. Errors: ST_ERR_ARG with a message naming the
 * option. */
enum st_status st_train_cfg_resolve(struct st_train_cfg *cfg, struct st_err *err);

/* Whether a path option is set (not "none"). */
int st_cfg_given(const char *path);

/* The evaluation sets of a resolved cfg, in order: --eval-x's (unnamed: its
 * name is "") first when given, then each --eval NAME=X[,Y]. A set's y is
 * "none" where the teacher or --y-col's column of a .csv x gives the
 * targets. */
int st_eval_count(const struct st_train_cfg *cfg);
const char *st_eval_name(const struct st_train_cfg *cfg, int i);
const char *st_eval_x(const struct st_train_cfg *cfg, int i);

/* Whether the run trains a language model on a token stream (--text or
 * --tokens), and whether evaluation set i is read as text bytes. */
int st_cfg_stream(const struct st_train_cfg *cfg);

/* A language model's loss of nats per token in bits, for a set whose text
 * has bytes_per_token bytes a token (0: a token file): per byte on a text's
 * bytes, per token on a token file, both on a text read through a
 * tokenizer. Returns which were set (ST_BITS_TOKEN, ST_BITS_BYTE; none for a
 * run that is not on a stream). */
#define ST_BITS_TOKEN 1
#define ST_BITS_BYTE 2
int st_cfg_bits(const struct st_train_cfg *cfg, double bytes_per_token, double nats,
                double *per_token, double *per_byte);

int st_eval_is_text(const struct st_train_cfg *cfg, int i);
const char *st_eval_y(const struct st_train_cfg *cfg, int i);

/* The prefix of set i's columns and keys: "eval_" for the unnamed set,
 * "eval_NAME_" for a named one (room: ST_EVAL_NAME_MAX + 8). */
void st_eval_prefix(const struct st_train_cfg *cfg, int i, char *out, size_t size);

/* 0 when the seed changes nothing in the run cfg describes (resolved or
 * not): a data run (no teacher, no drawn inputs) that starts from a model
 * file, takes the whole training set in every step (--batch 0), holds out no
 * --val-fraction rows and draws no fisher probes; else 1. */
int st_cfg_seed_used(const struct st_train_cfg *cfg);

/* The names of export_layout's values. */
extern const char *const st_export_layout_names[5];

/* Whether export layout i (of st_export_layout_names) writes a model of
 * the family with index family: GPT-2's layouts (hf, nanogpt) only a GPT.
 * Errors: ST_ERR_ARG naming the layout and the family. */
enum st_status st_export_layout_fits(int i, int family, struct st_err *err);

#endif
