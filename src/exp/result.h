/* result.h: the final numbers of a run (written to summary.json, printed,
 * collected by sweeps). Per-tensor numbers sit in an array of the run's own
 * length; st_result_pack turns a result into bytes that a worker process or
 * MPI rank sends and st_result_unpack reads back (both ends run the same
 * binary). */
#ifndef ST_RESULT_H
#define ST_RESULT_H

#include <stddef.h>

#include "../core/params.h"
#include "../core/status.h"
#include "cfg.h"

struct st_tensor_result {
    char name[ST_NAME_MAX];
    char unit[ST_NAME_MAX]; /* the group a verdict judges as a whole (an MLP's layer) */
    char half[ST_NAME_MAX]; /* a further group it belongs to (a GPT block's h1.attn), or "" */
    char kind[16];          /* a GPT's kind of tensor for fingerprints: embeddings,
                             * attention, mlp or layernorm; "" for other models */
    int matrix;             /* 2-D: it has a nuclear norm and a rank */
    long size;              /* entries */
    double d_init, d_teacher, changed;
    double zero;            /* entries with an update of exactly 0 */
    double update_share;    /* sum_i |Delta_ti| / the sum over all tensors */
    double nuclear;         /* ||Delta_W||_* (matrices; NaN when not computed) */
    double price;           /* the penalty reduction's factor w_t / base_t (penalty.h); NaN
                             * when the tensor has no penalty term (frozen, multiplier 0,
                             * lambda 0) */
    int rank;               /* numerical rank of Delta_W (-1 when not computed) */
    unsigned char verdict;  /* judged changed */
    unsigned char exact;    /* judged by exact zeros (proximal step) */
    unsigned char truth;    /* differs between teacher and student start */
};

/* What a run holds in memory, in bytes, by part (st_train_run fills it
 * before it allocates the parameters' copies). */
struct st_run_memory {
    double params;    /* theta, the student */
    double grad;      /* its gradient */
    double optim;     /* Adam's (AdamW's) m and v, or SGD's momentum */
    double start;     /* theta0, the start */
    double teacher;   /* the teacher (teacher-student runs) */
    double prox;      /* the proximal step's per-coordinate steps (--prox) */
    double data;      /* the training, held-out and evaluation sets (a stream: its tokens) */
    double batch;     /* a batch's inputs, targets and output gradients */
    double work;      /* activations and work buffers of a pass over a batch */
    double eval_work; /* a pass over the held-out and evaluation sets */
    double spectrum;  /* the SVD workspace of the spectrum columns */
    double total;
    double available; /* what this process may use (st_memory_available) */
    long batch_rows;  /* B, the batch work is sized for */
};

/* The bytes of the parameters and their copies: params to prox above. */
double st_run_memory_copies(const struct st_run_memory *m);

struct st_train_result {
    long steps_done;        /* updates taken */
    int diverged;           /* 1 if the loss became NaN/Inf */
    double data_loss;       /* the data loss (mse, or the cross-entropy with --loss xent) */
    double penalty, loss;
    double accuracy;        /* xent: share of the last pass's samples classified right; NaN */
    int n_eval;             /* evaluation sets (the cfg's st_eval_count) */
    long val_rows;          /* held-out rows (--val-fraction), 0 for none */
    double val_loss, val_accuracy, val_best; /* at the end; the lowest loss over logged rows */
    struct {
        double before, after;         /* its data loss at the start and at the end */
        double acc_before, acc_after; /* xent: its accuracy; NaN otherwise */
        double bytes_per_token;       /* a text's, for bits per byte; 0: a token file */
    } eval[ST_EVAL_MAX];
    double bytes_per_token; /* the training stream's (and its held-out end's), if a text; 0 */
    struct st_run_memory memory;
    struct {                /* --save-delta: delta.safetensors (bytes 0: not written) */
        long changed, entries, bytes;
        long model_bytes;   /* student.safetensors, for comparison */
    } delta;
    double data_loss_tail;  /* lowest data loss over the last 10% of the steps: spikes aside */
    double wall_seconds, steps_per_second;
    int correct;            /* changed units == units where the teacher differs */
    int n_tensors;
    struct st_tensor_result *t; /* [n_tensors], owned: st_result_free */
};

/* Room for n tensors (zeroed). Errors: ST_ERR_NOMEM. */
enum st_status st_result_init(struct st_train_result *r, int n, struct st_err *err);
void st_result_free(struct st_train_result *r);

/* dst = a copy of src (its own tensors). Errors: ST_ERR_NOMEM. */
enum st_status st_result_copy(struct st_train_result *dst, const struct st_train_result *src,
                              struct st_err *err);

/* The kinds of a GPT's tensors a fingerprint sums the update by, in its
 * order: embeddings, attention, mlp, layernorm. */
#define ST_KINDS 4
extern const char *const st_kinds[ST_KINDS];

/* share[k] = the update share of the tensors of kind st_kinds[k]; returns 0
 * (shares all 0) for a model whose tensors have no kinds (an MLP). */
int st_result_kind_shares(const struct st_train_result *r, double share[ST_KINDS]);

/* The tensor called name, or NULL. */
const struct st_tensor_result *st_result_find(const struct st_train_result *r, const char *name);

/* r as bytes (malloc'd, *len of them); NULL when out of memory. */
void *st_result_pack(const struct st_train_result *r, size_t *len);

/* r (fresh; free with st_result_free) from len bytes of st_result_pack.
 * Errors: ST_ERR_FORMAT for bytes of another length, ST_ERR_NOMEM. */
enum st_status st_result_unpack(struct st_train_result *r, const void *bytes, size_t len,
                                struct st_err *err);

#endif
