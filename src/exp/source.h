/* source.h: where a run's data come from, and where its student starts. A
 * teacher-student run (teacher.h) draws its inputs or reads them (--x), and
 * the teacher labels them unless --y gives targets; a data run (--task data)
 * reads --x and --y (or a .csv --x and its --y-col), or a language model's
 * token stream (--text, --tokens) whose windows are inputs and next-token
 * targets. Either way the run may
 * hold out validation rows of --x (--val-fraction), standardize its inputs,
 * and carry evaluation sets (--eval-x, --eval). The student's start theta0 is the
 * teacher's copy (teacher-student), drawn (data), or --student-init's. Every
 * file is read once. */
#ifndef ST_SOURCE_H
#define ST_SOURCE_H

#include "../core/model.h"
#include "../core/rng.h"
#include "../io/tokens.h"
#include "cfg.h"
#include "data.h"
#include "teacher.h"

/* Inputs x[n, in] and targets y[n, ycols] (malloc'd). */
struct st_dataset {
    float *x, *y;
    long n;
    double bytes_per_token; /* a text's windows: its file's bytes per token; 0 otherwise */
};

struct st_source {
    const struct st_model *m; /* borrowed */
    long in, ycols;           /* one row's input and target floats */
    struct st_dataset train;  /* x NULL with --online; a token stream's: up to 64 windows
                               * of it (the Fisher probes', --save-data's) */
    struct st_tokens stream;  /* --text or --tokens: the training part of the stream, which
                               * batches draw windows from (n 0: none) */
    struct st_dataset val;    /* held-out rows of --x (n 0: none) */
    struct st_dataset eval[ST_EVAL_MAX]; /* the evaluation sets (st_eval_count of the cfg) */
    int n_eval;
    struct st_params start;   /* the student's start theta0 */
    char layout[12];          /* the --student-init (--model) file's layout, or sparsetune */
    struct st_bpe *tokenizer; /* --tokenizer, loaded once for every text; NULL: bytes */
    int has_teacher;
    struct st_teacher teacher;
    unsigned char *truth;     /* [n_views] teacher-student: the teacher differs from the start */
    struct st_stand stand;    /* input statistics applied to every set (n 0: none) */
    struct st_rng data_rng;   /* online inputs */
    enum st_data_dist dist;
    double lo, hi;
};

/* Builds the source of a resolved cfg with model m, and completes cfg with
 * what the data say: data_size (the rows of --x less the validation rows)
 * and a full batch. Errors: ST_ERR_ARG (data that do not fit the options:
 * columns, rows, --batch), those of reading the files, ST_ERR_NOMEM. Free
 * with st_source_free(). */
enum st_status st_source_open(struct st_source *s, struct st_train_cfg *cfg,
                              const struct st_model *m, struct st_err *err);

/* Draws B fresh inputs x[B, in] and the teacher's labels y[B, ycols] (online). */
enum st_status st_source_draw(struct st_source *s, float *x, float *y, int B, struct st_err *err);

void st_source_free(struct st_source *s);

/* Opens and frees the source of a resolved cfg when it reads files (--x,
 * --y, --teacher, --student-init, --eval-x), so that a command of many runs
 * finds data that do not fit its options before it starts any: ST_OK at
 * once for drawn data. Errors: those of st_source_open. */
enum st_status st_source_check(const struct st_train_cfg *cfg, struct st_err *err);

#endif
