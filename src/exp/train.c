/* train.c: configuration checks and the training loop of one run.
 * Row k of metrics.csv describes theta_k (after k updates); its loss terms come
 * from the forward pass that produces update k+1, so logging costs no extra
 * pass; the last row takes one extra forward pass. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <cblas.h>
#include <ctype.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/loss.h"
#include "../core/metrics.h"
#include "../core/par.h"
#include "../io/file.h"
#include "../io/ckpt.h"
#include "../io/fmt.h"
#include "../io/npy.h"
#include "data.h"
#include "../io/safetensors.h"
#include "options.h"
#include "teacher.h"

void st_train_cfg_defaults(struct st_train_cfg *cfg)
{
    static const int widths[] = { 1, 20, 20, 1 };
    memset(cfg, 0, sizeof *cfg);
    cfg->n_layers = 3;
    memcpy(cfg->widths, widths, sizeof widths);
    cfg->act = ST_ACT_RELU;
    strcpy(cfg->reinit, "middle");
    strcpy(cfg->freeze, "none");
    strcpy(cfg->x_path, "none");
    strcpy(cfg->teacher_path, "none");
    strcpy(cfg->eval_x, "none");
    strcpy(cfg->y_col, "none");
    strcpy(cfg->eval_y, "none");
    strcpy(cfg->init_path, "none");
    strcpy(cfg->y_path, "none");
    cfg->data_dist = ST_DATA_UNIFORM;
    cfg->data_lo = 0.0;
    cfg->data_hi = 2.0;
    cfg->data_size = 1000;
    cfg->batch = 0;
    st_optim_defaults(&cfg->opt, ST_OPT_ADAM);
    cfg->opt.lr = 1e-2;
    cfg->opt.weight_decay = (double)NAN;
    cfg->steps = 10000;
    cfg->seed = 0;
    cfg->penalty = ST_PEN_L1;
    cfg->reduction = ST_RED_MEAN;
    cfg->lambda = 0.0;
    cfg->log_every = 1;
    strcpy(cfg->lambda_scale, "none");
    cfg->spectrum_every = 100;
    strcpy(cfg->teacher_delta, "full");
    cfg->teacher_delta_scale = 0.1;
    cfg->changed_threshold = 0.1;
    cfg->threads = 1;
    cfg->plot = 1;
    strcpy(cfg->out, "run");
}

/* Parses a comma list of 1-based layer numbers into mask[L]. */
const char *st_loss_name(enum st_loss_kind k)
{
    switch (k) {
    case ST_LOSS_MSE: return "mse";
    case ST_LOSS_XENT: return "xent";
    }
    return NULL;
}

int st_train_target_cols(const struct st_train_cfg *cfg)
{
    return cfg->loss == ST_LOSS_XENT ? 1 : cfg->widths[cfg->n_layers];
}

static enum st_status parse_layers(const char *opt, const char *s, int L, unsigned char *mask,
                                   struct st_err *err)
{
    const char *p = s;
    memset(mask, 0, (size_t)L);
    if (!strcmp(s, "none") || !*s)
        return ST_OK;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || (*end != ',' && *end))
            return st_err_set(err, ST_ERR_ARG,
                              "--%s '%s': expected layer numbers from 1 to %d separated by "
                              "commas, 'middle' or 'none'",
                              opt, s, L);
        if (v < 1 || v > L)
            return st_err_set(err, ST_ERR_ARG, "--%s '%s': layer %ld does not exist (1 to %d)",
                              opt, s, v, L);
        mask[v - 1] = 1;
        if (!*end)
            return ST_OK;
        p = end + 1;
    }
}

/* Parses --freeze: tensor names (w1, b2) or layer numbers (both tensors). */
static enum st_status parse_freeze(const char *s, int L, unsigned char *trainable,
                                   struct st_err *err)
{
    char buf[ST_LIST_MAX];
    memset(trainable, 1, 2 * (size_t)L);
    if (!strcmp(s, "none") || !*s)
        return ST_OK;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = buf, *next; tok; tok = next) {
        char *end;
        long v;
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        int is_tensor = tok[0] == 'w' || tok[0] == 'b';
        errno = 0;
        v = strtol(tok + is_tensor, &end, 10);
        if (end == tok + is_tensor || *end || errno || v < 1 || v > L)
            return st_err_set(err, ST_ERR_ARG,
                              "--freeze '%s': '%s' is not a tensor (w1..w%d, b1..b%d) or a layer "
                              "(1..%d)",
                              s, tok, L, L, L);
        if (!is_tensor || tok[0] == 'w')
            trainable[2 * (v - 1)] = 0;
        if (!is_tensor || tok[0] == 'b')
            trainable[2 * (v - 1) + 1] = 0;
    }
    return ST_OK;
}

/* --lambda-scale: NAME=FACTOR items, NAME a tensor (w2, b1) or a layer (2). */
/* 1 if s starts like a plain decimal number (a digit or a '.'): no blank,
 * sign or hex prefix slips through strtod/strtol. */
static int plain_number(const char *s)
{
    return (isdigit((unsigned char)s[0]) || s[0] == '.') && !strpbrk(s, "xX \t");
}

static enum st_status parse_lambda_scale(const char *s, int L, double *mult, struct st_err *err)
{
    char buf[ST_LIST_MAX];
    unsigned char seen[ST_MAX_TENSORS] = { 0 };
    for (int t = 0; t < ST_MAX_TENSORS; t++)
        mult[t] = 1.0;
    if (!strcmp(s, "none"))
        return ST_OK;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = buf, *next; tok; tok = next) {
        char *eq = strchr(tok, '='), *end;
        long l;
        double f;
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        if (!eq)
            return st_err_set(err, ST_ERR_ARG,
                              "--lambda-scale '%s': '%s' is not NAME=FACTOR (e.g. w1=0 or 2=0.5)",
                              s, tok);
        *eq = '\0';
        int is_tensor = tok[0] == 'w' || tok[0] == 'b';
        errno = 0;
        l = strtol(tok + is_tensor, &end, 10);
        if (!isdigit((unsigned char)tok[is_tensor]) || tok[is_tensor] == '0' || *end || errno ||
            l < 1 || l > L)
            return st_err_set(err, ST_ERR_ARG,
                              "--lambda-scale '%s': '%s' is not a tensor (w1..w%d, b1..b%d) or "
                              "a layer (1..%d)",
                              s, tok, L, L, L);
        errno = 0;
        f = strtod(eq + 1, &end);
        if (!plain_number(eq + 1) || *end || errno || !isfinite(f) || f < 0.0)
            return st_err_set(err, ST_ERR_ARG,
                              "--lambda-scale '%s': factor '%s' is not a number >= 0", s, eq + 1);
        for (int k = 0; k < 2; k++) {
            int t = 2 * (int)(l - 1) + k;
            if (is_tensor && tok[0] != (k ? 'b' : 'w'))
                continue;
            if (seen[t]++)
                return st_err_set(err, ST_ERR_ARG, "--lambda-scale '%s': %c%ld is given twice",
                                  s, k ? 'b' : 'w', l);
            mult[t] = f;
        }
    }
    return ST_OK;
}

/* --teacher-delta: full, rank:R or sparse:P. */
static enum st_status parse_teacher_delta(struct st_train_cfg *cfg, struct st_err *err)
{
    const char *s = cfg->teacher_delta;
    char *end;
    if (!strcmp(s, "full")) {
        cfg->delta_kind = 0;
        return ST_OK;
    }
    if (cfg->teacher_delta_scale <= 0.0 && strcmp(s, "full") != 0)
        return st_err_set(err, ST_ERR_ARG,
                          "--teacher-delta-scale %g: a %s delta needs a scale > 0 (with 0 the "
                          "teacher would equal the student)",
                          cfg->teacher_delta_scale, s);
    if (!strncmp(s, "rank:", 5)) {
        errno = 0;
        long r = strtol(s + 5, &end, 10);
        if (!plain_number(s + 5) || *end || errno || r < 1 || r > (1 << 24))
            return st_err_set(err, ST_ERR_ARG, "--teacher-delta '%s': expected rank:R, R >= 1", s);
        cfg->delta_kind = 1;
        cfg->delta_rank = (int)r;
        return ST_OK;
    }
    if (!strncmp(s, "sparse:", 7)) {
        errno = 0;
        double p = strtod(s + 7, &end);
        if (!plain_number(s + 7) || *end || errno || !(p > 0.0 && p <= 1.0))
            return st_err_set(err, ST_ERR_ARG,
                              "--teacher-delta '%s': expected sparse:P with 0 < P <= 1", s);
        cfg->delta_kind = 2;
        cfg->delta_frac = p;
        return ST_OK;
    }
    return st_err_set(err, ST_ERR_ARG,
                      "--teacher-delta '%s': expected full, rank:R or sparse:P", s);
}

enum st_status st_train_cfg_resolve(struct st_train_cfg *cfg, struct st_err *err)
{
    int L = cfg->n_layers;
    enum st_status st;

    if (L < 1 || L > ST_MAX_LAYERS)
        return st_err_set(err, ST_ERR_ARG, "--widths: expected 2 to %d widths", ST_MAX_LAYERS + 1);
    for (int l = 1; l <= L; l++) {
        /* One tensor above 2^32 entries (16 GiB) is beyond any machine this runs on. */
        double n = (double)cfg->widths[l - 1] * (double)cfg->widths[l];
        if (n > 4294967296.0)
            return st_err_set(err, ST_ERR_ARG,
                              "--widths: layer %d (%d -> %d) has %.3g weights; at most 2^32 per "
                              "layer",
                              l, cfg->widths[l - 1], cfg->widths[l], n);
    }
    if (cfg->task_data) {
        if (!strcmp(cfg->x_path, "none") ||
            (!strcmp(cfg->y_path, "none") && !strcmp(cfg->y_col, "none")))
            return st_err_set(err, ST_ERR_ARG, "a data run (pretrain, finetune, --task data) needs "
                              "--x and --y, or a .csv --x with --y-col: the data set to train on");
        if (strcmp(cfg->teacher_path, "none"))
            return st_err_set(err, ST_ERR_ARG, "--teacher %s: a --task data run has no teacher",
                              cfg->teacher_path);
        if (cfg->label_noise != 0.0)
            return st_err_set(err, ST_ERR_ARG, "--label-noise %g: only a teacher's labels get "
                              "noise", cfg->label_noise);
        /* Every layer is the student's own: nothing is re-drawn against a teacher. */
        strcpy(cfg->reinit, "none");
    }
    if (strcmp(cfg->eval_y, "none") && !strcmp(cfg->eval_x, "none"))
        return st_err_set(err, ST_ERR_ARG, "--eval-y %s: needs --eval-x", cfg->eval_y);
    if (cfg->task_data && strcmp(cfg->eval_x, "none") && !strcmp(cfg->eval_y, "none") &&
        !strcmp(cfg->y_col, "none"))
        return st_err_set(err, ST_ERR_ARG, "--eval-x %s: needs --eval-y (a --task data run has "
                          "no teacher to label it)", cfg->eval_x);
    if (cfg->standardize && !cfg->task_data)
        return st_err_set(err, ST_ERR_ARG, "--standardize: only for a data run (pretrain, "
                          "finetune, --task data); a teacher labels raw inputs");
    if (cfg->val_fraction != 0.0 && !strcmp(cfg->x_path, "none"))
        return st_err_set(err, ST_ERR_ARG, "--val-fraction %g: splits the rows of --x; drawn data "
                          "has no held-out set (use --eval-x)", cfg->val_fraction);
    if (strcmp(cfg->y_path, "none") && !strcmp(cfg->x_path, "none"))
        return st_err_set(err, ST_ERR_ARG, "--y %s: needs --x (the inputs its rows belong to)",
                          cfg->y_path);
    if (strcmp(cfg->x_path, "none")) {
        /* The data set's size is the file's; read it now so that --batch and
         * config.ini see it. st_ts_setup reads the values again. */
        struct st_npy a;
        int split = strcmp(cfg->y_col, "none") != 0;
        if (cfg->online)
            return st_err_set(err, ST_ERR_ARG,
                              "--online: draws fresh inputs; it cannot be used with --x");
        if (split && !st_data_is_csv(cfg->x_path))
            return st_err_set(err, ST_ERR_ARG, "--y-col %s: --x %s is not a .csv file (a .npy "
                              "file holds inputs only; give the targets with --y)", cfg->y_col,
                              cfg->x_path);
        if (split && strcmp(cfg->y_path, "none"))
            return st_err_set(err, ST_ERR_ARG, "--y-col %s: the targets come from --x's column; "
                              "--y %s gives them twice", cfg->y_col, cfg->y_path);
        st = st_data_read_table(cfg->x_path, &a, err);
        if (st != ST_OK)
            return st;
        long rows = a.rows, cols = a.cols - split;
        st_npy_free(&a);
        if (cols != cfg->widths[0])
            return st_err_set(err, ST_ERR_ARG,
                              "--x %s: %ld %scolumns, but the input width (--widths) is %d",
                              cfg->x_path, cols, split ? "input " : "", cfg->widths[0]);
        if (rows < 1)
            return st_err_set(err, ST_ERR_ARG, "--x %s: no rows", cfg->x_path);
        if (!(cfg->val_fraction >= 0.0 && cfg->val_fraction < 1.0))
            return st_err_set(err, ST_ERR_ARG, "--val-fraction %g: expected a number in [0, 1)",
                              cfg->val_fraction);
        cfg->val_rows = (long)floor(cfg->val_fraction * (double)rows);
        if (cfg->val_fraction > 0.0 && (cfg->val_rows < 1 || cfg->val_rows >= rows))
            return st_err_set(err, ST_ERR_ARG, "--val-fraction %g: of %ld rows that holds out %ld; "
                              "expected at least 1 and fewer than all", cfg->val_fraction, rows,
                              cfg->val_rows);
        cfg->data_size = rows - cfg->val_rows;
    }
    if (cfg->data_size < 1 || cfg->data_size > INT_MAX)
        return st_err_set(err, ST_ERR_ARG, "--data-size %ld: expected 1 to %d", cfg->data_size,
                          INT_MAX);
    if (cfg->batch == 0)
        cfg->batch = cfg->data_size;
    if (cfg->batch > cfg->data_size && !cfg->online)
        return st_err_set(err, ST_ERR_ARG,
                          "--batch %ld: larger than --data-size %ld (use 0 for full batch)",
                          cfg->batch, cfg->data_size);
    if (cfg->batch > INT_MAX)
        return st_err_set(err, ST_ERR_ARG, "--batch %ld: expected at most %d", cfg->batch,
                          INT_MAX);
    if (cfg->log_every < 1)
        return st_err_set(err, ST_ERR_ARG, "--log-every %ld: expected a positive integer",
                          cfg->log_every);
    if (!(cfg->opt.lr > 0.0))
        return st_err_set(err, ST_ERR_ARG, "--lr %g: expected a positive number", cfg->opt.lr);
    if (!(cfg->opt.beta1 < 1.0) || !(cfg->opt.beta2 < 1.0))
        return st_err_set(err, ST_ERR_ARG, "--beta1 %g, --beta2 %g: expected numbers in [0, 1)",
                          cfg->opt.beta1, cfg->opt.beta2);
    if (!(cfg->changed_threshold <= 1.0))
        return st_err_set(err, ST_ERR_ARG, "--changed-threshold %g: expected a number in [0, 1]",
                          cfg->changed_threshold);
    if (cfg->opt.nesterov && (cfg->opt.kind != ST_OPT_SGD || cfg->opt.momentum <= 0.0))
        return st_err_set(err, ST_ERR_ARG, "--nesterov: needs --optimizer sgd and --momentum > 0");
    if (cfg->opt.momentum > 0.0 && cfg->opt.kind != ST_OPT_SGD)
        return st_err_set(err, ST_ERR_ARG,
                          "--momentum %g: only SGD uses momentum (Adam has --beta1)",
                          cfg->opt.momentum);
    if (cfg->loss == ST_LOSS_XENT && cfg->widths[L] < 2)
        return st_err_set(err, ST_ERR_ARG,
                          "--loss xent: the output width is %d; classes need at least 2 outputs "
                          "(one logit per class)", cfg->widths[L]);
    if (cfg->loss == ST_LOSS_XENT && cfg->label_noise != 0.0)
        return st_err_set(err, ST_ERR_ARG,
                          "--label-noise %g: noise on class labels is not defined; use it with "
                          "--loss mse", cfg->label_noise);
    if (cfg->save_data && cfg->online)
        return st_err_set(err, ST_ERR_ARG,
                          "--save-data: needs a fixed data set; it cannot be used with --online");
    if (isnan(cfg->opt.weight_decay))
        cfg->opt.weight_decay = cfg->opt.kind == ST_OPT_ADAMW ? 1e-2 : 0.0;

    if (!strcmp(cfg->reinit, "middle")) {
        memset(cfg->reinit_layer, 0, sizeof cfg->reinit_layer);
        cfg->reinit_layer[(L + 1) / 2 - 1] = 1;
        snprintf(cfg->reinit, sizeof cfg->reinit, "%d", (L + 1) / 2);
    } else {
        st = parse_layers("reinit", cfg->reinit, L, cfg->reinit_layer, err);
        if (st != ST_OK)
            return st;
    }
    st = parse_freeze(cfg->freeze, L, cfg->trainable, err);
    if (st != ST_OK)
        return st;
    st = parse_lambda_scale(cfg->lambda_scale, L, cfg->lambda_mult, err);
    if (st != ST_OK)
        return st;
    return parse_teacher_delta(cfg, err);
}

/* ---- the run ---- */

struct run {
    const struct st_train_cfg *cfg;
    struct st_ts ts;
    struct st_params grad;
    struct st_optim opt;
    struct st_mlp_work work;
    struct st_mlp_work ework;  /* passes over the evaluation set */
    struct st_mlp_work vwork;  /* and over the validation rows */
    double val_last[2], val_best; /* validation loss, accuracy at the last logged row; best loss */
    double eval0[2], eval_last[2]; /* its loss, accuracy at step 0 and at the last logged row */
    float *xb, *yb, *dy; /* batch inputs, targets, dLoss/doutput */
    long *order;         /* minibatch permutation of the fixed set */
    long pos;            /* next index into order */
    struct st_rng order_rng;
    struct st_penalty pen;
    struct st_params steps; /* prox: the optimizer's per-coordinate step */
    struct st_svd svd;      /* spectrum observables */
    float *svd_scratch;
    double nuc[ST_MAX_LAYERS];
    int rank[ST_MAX_LAYERS];
    FILE *csv;
    char *csv_buf;
    uint64_t data_hash; /* of the data, for checkpoints (once data_hashed) */
    int data_hashed;
};

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void shuffle(struct st_rng *rng, long *a, long n)
{
    for (long i = n - 1; i > 0; i--) {
        long j = (long)st_rng_below(rng, (uint64_t)i + 1);
        long t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* Points *x, *y at the batch of the next pass. Full batch: the whole set.
 * Minibatch: the next B indices of a permutation, reshuffled when fewer than B
 * remain (the partial tail is dropped). Online: fresh draws. */
static void next_batch(struct run *r, const float **x, const float **y)
{
    const struct st_train_cfg *c = r->cfg;
    int in = c->widths[0], out = st_train_target_cols(c);
    int B = (int)c->batch;
    if (c->online) {
        st_ts_draw(&r->ts, r->xb, r->yb, B);
    } else if (c->batch == c->data_size) {
        *x = r->ts.x;
        *y = r->ts.y;
        return;
    } else {
        if (r->pos + B > c->data_size) {
            shuffle(&r->order_rng, r->order, c->data_size);
            r->pos = 0;
        }
        for (int i = 0; i < B; i++) {
            long k = r->order[r->pos + i];
            memcpy(r->xb + (size_t)i * in, r->ts.x + (size_t)k * in, (size_t)in * sizeof(float));
            memcpy(r->yb + (size_t)i * out, r->ts.y + (size_t)k * out,
                   (size_t)out * sizeof(float));
        }
        r->pos += B;
    }
    *x = r->xb;
    *y = r->yb;
}

/* Columns: step, loss terms, then per tensor d_init, d_teacher, changed (the
 * fraction with |Delta| > 1e-6) and zero (the count with Delta exactly 0),
 * then per weight matrix nuc (||Delta_W||_*) and rank (numerical rank), which
 * are computed every --spectrum-every steps and nan on the other rows. */
static void write_header(FILE *f, const struct st_params *p, int xent, int val, int eval,
                         int teacher)
{
    static const char *const groups[] = { "d_init", "d_teacher", "changed", "zero" };
    fputs(xent ? "step,xent,accuracy,penalty,loss" : "step,mse,penalty,loss", f);
    if (val)
        fputs(xent ? ",val_xent,val_accuracy" : ",val_mse", f);
    if (eval)
        fputs(xent ? ",eval_xent,eval_accuracy" : ",eval_mse", f);
    for (int g = 0; g < 4; g++)
        for (int t = 0; t < p->n_views && (g != 1 || teacher); t++)
            fprintf(f, ",%s_%s", groups[g], p->v[t].name);
    for (int t = 0; t < p->n_views; t += 2)
        fprintf(f, ",nuc_%s", p->v[t].name);
    for (int t = 0; t < p->n_views; t += 2)
        fprintf(f, ",rank_%s", p->v[t].name);
    fputc('\n', f);
}

/* One field: a comma, then the number as "%.9g" would print it. */
static char *put_g9(char *p, double v)
{
    *p++ = ',';
    return p + st_fmt_g9(p, v);
}

static char *put_long(char *p, long v)
{
    *p++ = ',';
    return p + st_fmt_long(p, v);
}

/* Formats the row in a buffer and writes it at once (st_fmt_g9: printf's
 * output, a fraction of its time). */
/* ev[0..3]: the validation rows' loss and accuracy, then the evaluation
 * set's, each written where ev_on[i] (a diverged run's NaN keeps its column);
 * teacher: 0 leaves out the d_teacher columns. */
static void write_row(FILE *f, long step, double mse, double acc, double pen, double loss,
                      const double *ev, const int *ev_on, int teacher,
                      const struct st_observables *o, const double *nuc, const int *rank)
{
    char line[(8 + 5 * 2 * ST_MAX_LAYERS) * (ST_FMT_G9_MAX + 1) + 32], *p = line;

    p += st_fmt_long(p, step);
    p = put_g9(p, mse);
    if (!isnan(acc))
        p = put_g9(p, acc);
    p = put_g9(p, pen);
    p = put_g9(p, loss);
    for (int i = 0; i < 4; i++)
        if (ev_on[i])
            p = put_g9(p, ev[i]);
    for (int t = 0; t < o->n; t++)
        p = put_g9(p, o->d_init[t]);
    for (int t = 0; teacher && t < o->n; t++)
        p = put_g9(p, o->d_teacher[t]);
    for (int t = 0; t < o->n; t++)
        p = put_g9(p, o->changed[t]);
    for (int t = 0; t < o->n; t++)
        p = put_long(p, (long)o->zero[t]);
    for (int l = 0; l < o->n / 2; l++)
        if (nuc) {
            p = put_g9(p, nuc[l]);
        } else {
            memcpy(p, ",nan", 4);
            p += 4;
        }
    for (int l = 0; l < o->n / 2; l++)
        if (rank) {
            p = put_long(p, rank[l]);
        } else {
            memcpy(p, ",nan", 4);
            p += 4;
        }
    *p++ = '\n';
    fwrite(line, 1, (size_t)(p - line), f);
}

static enum st_status write_config(const struct st_train_cfg *cfg, const char *path,
                                   struct st_err *err)
{
    struct st_atomic_file af;
    enum st_status st = st_atomic_open(&af, path, err);
    if (st != ST_OK)
        return st;
    fputs("# sparsetune run configuration: `sparsetune train --config config.ini --out DIR`\n"
          "# re-runs this experiment bit-identically.\n",
          af.f);
    st_options_write_ini(af.f, cfg);
    return st_atomic_commit(&af, err);
}

/* A model file; its metadata carries the input statistics the model's
 * inputs were standardized with (s->n > 0), so that finetune and eval apply
 * them again. */
static enum st_status save_model(const struct st_train_cfg *cfg, const struct st_stand *s,
                                 const struct st_params *p, const char *dir, const char *name,
                                 const char *role, struct st_err *err)
{
    char path[4200], widths[512];
    const struct st_option *o = st_option_find("widths");
    st_option_format(cfg, o, widths, sizeof widths);
    const char *keys[] = { "format", "widths", "activation", "role", "input_mean", "input_std" };
    const char *vals[6] = { "sparsetune", widths, st_act_name(cfg->act), role, NULL, NULL };
    size_t size = (size_t)cfg->widths[0] * (ST_FMT_G9_MAX + 1) + 1;
    char *mean = NULL, *sd = NULL;
    enum st_status st = st_path_join(path, sizeof path, dir, name, err);
    if (st != ST_OK)
        return st;
    if (s->n > 0) {
        mean = malloc(size);
        sd = malloc(size);
        if (!mean || !sd || st_stand_format(s, mean, sd, size) != 0)
            st = st_err_set(err, ST_ERR_NOMEM, "cannot format the input statistics");
        vals[4] = mean;
        vals[5] = sd;
    }
    if (st == ST_OK)
        st = st_safetensors_write(path, p, keys, vals, s->n > 0 ? 6 : 4, err);
    free(mean);
    free(sd);
    return st;
}

/* Which tensors changed: a tensor whose proximal step gives exact zeros
 * (l1, group, nuclear under --prox) changed if any entry moved at all; any
 * other tensor (no penalty on it, l2, the subgradient step) if its d_init >=
 * threshold * the largest d_init. The verdict is correct when the layers with
 * a changed tensor are exactly the layers where the teacher differs from the
 * student's start. */
static void judge(struct st_train_result *res, const struct st_train_cfg *cfg,
                  const struct st_penalty *pen, const unsigned char *truth)
{
    double max = 0.0;
    unsigned char layer_changed[ST_MAX_LAYERS] = { 0 }, layer_truth[ST_MAX_LAYERS] = { 0 };
    for (int t = 0; t < res->n_tensors; t++)
        if (res->d_init[t] > max)
            max = res->d_init[t];
    res->correct = 1;
    for (int t = 0; t < res->n_tensors; t++) {
        res->exact[t] = cfg->prox && st_penalty_exact(pen, t);
        if (res->exact[t])
            res->verdict[t] = res->zero[t] < (double)res->size[t];
        else
            res->verdict[t] =
                res->d_init[t] > 0.0 && res->d_init[t] >= cfg->changed_threshold * max;
        res->truth[t] = truth[t];
        layer_changed[t / 2] |= res->verdict[t];
        layer_truth[t / 2] |= truth[t];
    }
    for (int l = 0; l < cfg->n_layers; l++)
        if (layer_changed[l] != layer_truth[l])
            res->correct = 0;
}

/* Adds a number that reads back as exactly the same double: cJSON's own
 * printing accepts a representation within an epsilon, which may be 1 ulp
 * off. NaN and infinities, which JSON lacks, become null. */
static void add_exact(cJSON *obj, const char *key, double v)
{
    char buf[40];
    if (!obj)
        return;
    if (!isfinite(v)) {
        cJSON_AddNullToObject(obj, key);
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(buf, sizeof buf, "%.0f", v); /* integers as integers */
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
    cJSON_AddRawToObject(obj, key, buf);
}

static cJSON *tensor_object(const struct st_train_result *res, const double *v)
{
    cJSON *o = cJSON_CreateObject();
    for (int t = 0; o && t < res->n_tensors; t++)
        add_exact(o, res->names[t], v[t]);
    return o;
}

static cJSON *name_list(const struct st_train_result *res, const unsigned char *mask)
{
    cJSON *a = cJSON_CreateArray();
    for (int t = 0; a && t < res->n_tensors; t++)
        if (mask[t])
            cJSON_AddItemToArray(a, cJSON_CreateString(res->names[t]));
    return a;
}

static enum st_status write_summary(const struct st_train_cfg *cfg,
                                    const struct st_train_result *res, const char *path,
                                    struct st_err *err)
{
    enum st_status st;
    struct st_atomic_file af;
    cJSON *root = cJSON_CreateObject(), *v;
    char *text;

    cJSON_AddStringToObject(root, "status", res->diverged ? "diverged" : "ok");
    add_exact(root, "steps", (double)cfg->steps);
    add_exact(root, "steps_done", (double)res->steps_done);
    {
        /* JSON numbers are doubles to most readers: keep all 64 bits exact. */
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)cfg->seed);
        cJSON_AddRawToObject(root, "seed", seed);
    }
    cJSON_AddStringToObject(root, "task", cfg->task_data ? "data" : "teacher-student");
    cJSON_AddStringToObject(root, "data_loss", st_loss_name(cfg->loss));
    cJSON_AddStringToObject(root, "penalty", st_penalty_name(cfg->penalty));
    cJSON_AddStringToObject(root, "penalty_reduction", st_reduction_name(cfg->reduction));
    add_exact(root, "lambda", cfg->lambda);
    cJSON_AddBoolToObject(root, "prox", cfg->prox);
    cJSON_AddStringToObject(root, "teacher_delta", cfg->teacher_delta);
    add_exact(root, "wall_seconds", res->wall_seconds);
    add_exact(root, "steps_per_second", res->steps_per_second);
    v = cJSON_AddObjectToObject(root, "final");
    if (v) {
        int xent = cfg->loss == ST_LOSS_XENT;
        add_exact(v, xent ? "xent" : "mse", res->mse);
        if (xent)
            add_exact(v, "accuracy", res->accuracy);
        add_exact(v, "penalty", res->penalty);
        add_exact(v, "loss", res->loss);
        add_exact(v, xent ? "xent_tail_min" : "mse_tail_min", res->mse_tail);
    }
    cJSON_AddItemToObject(root, "d_init", tensor_object(res, res->d_init));
    if (!cfg->task_data)
        cJSON_AddItemToObject(root, "d_teacher", tensor_object(res, res->d_teacher));
    /* The per-layer fingerprint of the update: each tensor's share of
     * sum_i |Delta_i| over all tensors (whatever the penalty's reduction). */
    cJSON_AddItemToObject(root, "update_share", tensor_object(res, res->update_share));
    if (res->val_rows > 0 && (v = cJSON_AddObjectToObject(root, "validation"))) {
        int xent = cfg->loss == ST_LOSS_XENT;
        add_exact(v, "rows", (double)res->val_rows);
        add_exact(v, xent ? "xent" : "mse", res->val_loss);
        if (xent)
            add_exact(v, "accuracy", res->val_accuracy);
        add_exact(v, xent ? "xent_best" : "mse_best", res->val_best);
    }
    if (res->has_eval && (v = cJSON_AddObjectToObject(root, "eval"))) {
        int xent = cfg->loss == ST_LOSS_XENT;
        const char *key = xent ? "xent" : "mse";
        cJSON *b = cJSON_AddObjectToObject(v, "before"), *a = cJSON_AddObjectToObject(v, "after");
        cJSON_AddStringToObject(v, "x", cfg->eval_x);
        cJSON_AddStringToObject(v, "y", cfg->eval_y);
        if (b && a) {
            add_exact(b, key, res->eval_before);
            add_exact(a, key, res->eval_after);
            if (xent) {
                add_exact(b, "accuracy", res->eval_acc_before);
                add_exact(a, "accuracy", res->eval_acc_after);
            }
        }
        /* Forgetting: how much worse the model got on the evaluation set. */
        add_exact(v, "forgetting", res->eval_after - res->eval_before);
        if (xent)
            add_exact(v, "accuracy_drop", res->eval_acc_before - res->eval_acc_after);
    }
    cJSON_AddItemToObject(root, "changed_fraction", tensor_object(res, res->changed));
    cJSON_AddItemToObject(root, "zero_entries", tensor_object(res, res->zero));
    {
        double sizes[ST_MAX_TENSORS];
        for (int t = 0; t < res->n_tensors; t++)
            sizes[t] = (double)res->size[t];
        cJSON_AddItemToObject(root, "entries", tensor_object(res, sizes));
    }
    /* The spectrum of each weight update: nuclear norm and numerical rank. */
    cJSON *nuc = cJSON_AddObjectToObject(root, "nuclear_norm");
    cJSON *rank = cJSON_AddObjectToObject(root, "rank");
    for (int t = 0; nuc && rank && t < res->n_tensors; t += 2) {
        add_exact(nuc, res->names[t], res->nuclear[t / 2]);
        /* -1: not computed (--spectrum-every 0) or the SVD failed: null */
        add_exact(rank, res->names[t], res->rank[t / 2] < 0 ? (double)NAN : res->rank[t / 2]);
    }
    v = cJSON_AddObjectToObject(root, "verdict");
    if (v && res->diverged) {
        cJSON_AddNullToObject(v, "changed");
        cJSON_AddItemToObject(v, "truth", name_list(res, res->truth));
        cJSON_AddNullToObject(v, "correct");
        cJSON_AddStringToObject(v, "correct_means", "no verdict: the run diverged");
    } else if (v) {
        int n_exact = 0;
        for (int t = 0; t < res->n_tensors; t++)
            n_exact += res->exact[t];
        add_exact(v, "threshold", cfg->changed_threshold);
        if (n_exact == res->n_tensors)
            cJSON_AddStringToObject(v, "rule",
                                    "changed if any entry of the update is non-zero (the "
                                    "proximal step gives exact zeros: no threshold)");
        else if (n_exact > 0)
            cJSON_AddStringToObject(v, "rule",
                                    "tensors in 'exact': changed if any entry of the update is "
                                    "non-zero; the others: if d_init >= threshold * max d_init");
        else
            cJSON_AddStringToObject(v, "rule", "changed if d_init >= threshold * max d_init");
        cJSON_AddItemToObject(v, "exact", name_list(res, res->exact));
        cJSON_AddItemToObject(v, "changed", name_list(res, res->verdict));
        if (!cfg->task_data) {
            cJSON_AddItemToObject(v, "truth", name_list(res, res->truth));
            cJSON_AddBoolToObject(v, "correct", res->correct);
            cJSON_AddStringToObject(v, "correct_means",
                                    "the layers with a changed tensor are exactly the layers "
                                    "where the teacher differs from the student's start");
        }
    }
    text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return st_err_set(err, ST_ERR_NOMEM, "cannot build %s", path);
    st = st_atomic_open(&af, path, err);
    if (st == ST_OK) {
        fputs(text, af.f);
        fputc('\n', af.f);
        st = st_atomic_commit(&af, err);
    }
    free(text);
    return st;
}

static void run_free(struct run *r)
{
    st_ts_free(&r->ts);
    st_params_free(&r->grad);
    st_optim_free(&r->opt);
    st_mlp_work_free(&r->work);
    st_mlp_work_free(&r->ework);
    st_mlp_work_free(&r->vwork);
    free(r->xb);
    free(r->yb);
    free(r->dy);
    free(r->order);
    st_penalty_free(&r->pen);
    st_params_free(&r->steps);
    st_svd_free(&r->svd);
    free(r->svd_scratch);
    if (r->csv)
        fclose(r->csv);
    free(r->csv_buf);
}

/* Refuses, before anything is allocated, a run whose parameters, their
 * copies and the data would not fit the memory this process may use. */
static enum st_status check_run_memory(const struct st_train_cfg *cfg, struct st_err *err)
{
    double params = 0.0, widest = 0.0, width_sum = 0.0, largest = 0.0;
    for (int l = 1; l <= cfg->n_layers; l++) {
        double in = cfg->widths[l - 1], out = cfg->widths[l];
        params += in * out + out;
        largest = in * out > largest ? in * out : largest;
    }
    for (int l = 0; l <= cfg->n_layers; l++) {
        width_sum += cfg->widths[l];
        widest = cfg->widths[l] > widest ? cfg->widths[l] : widest;
    }
    /* student, start, teacher, gradient; Adam's two moments or SGD's one;
     * the proximal step sizes */
    int copies = 4 + (cfg->opt.kind == ST_OPT_SGD ? 1 : 2) + (cfg->prox ? 1 : 0);
    double rows = cfg->online ? (double)cfg->batch : (double)cfg->data_size;
    double cols = (double)cfg->widths[0] + (double)st_train_target_cols(cfg);
    double bytes = 4.0 * (params * copies + rows * cols + 2.0 * (double)cfg->batch * cols +
                          6.0 * width_sum * (double)cfg->batch + 4.0 * largest + 4.0 * widest);
    char what[160];
    snprintf(what, sizeof what,
             "the run (%.0f parameters, %d copies of them, %.0f samples of %.0f values)", params,
             copies, rows, cols);
    return st_check_memory(bytes, what, err);
}

static enum st_status run_setup(struct run *r, const struct st_train_cfg *cfg, struct st_err *err)
{
    enum st_status st;
    int B = (int)cfg->batch;
    size_t in = (size_t)cfg->widths[0], out = (size_t)cfg->widths[cfg->n_layers];

    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    if ((st = check_run_memory(cfg, err)) != ST_OK)
        return st;
    st = st_ts_setup(&r->ts, cfg, err);
    if (st == ST_OK)
        st = st_params_twin(&r->grad, &r->ts.student, err);
    if (st == ST_OK)
        st = st_optim_init(&r->opt, &cfg->opt, &r->ts.student, err);
    if (st == ST_OK)
        st = st_mlp_work_init(&r->work, &r->ts.net, B, err);
    if (st == ST_OK && r->ts.en > INT_MAX)
        st = st_err_set(err, ST_ERR_ARG, "--eval-x %s: %ld rows; at most %d", cfg->eval_x,
                        r->ts.en, INT_MAX);
    if (st == ST_OK && r->ts.ex)
        st = st_mlp_work_init(&r->ework, &r->ts.net, (int)r->ts.en, err);
    if (st == ST_OK && r->ts.vx)
        st = st_mlp_work_init(&r->vwork, &r->ts.net, (int)r->ts.vn, err);
    if (st == ST_OK)
        st = st_penalty_init(&r->pen, cfg->penalty, cfg->reduction, cfg->lambda,
                             cfg->lambda_mult, cfg->trainable, cfg->nuclear_bias_l1,
                             &r->ts.student, err);
    if (st == ST_OK && cfg->prox)
        st = st_params_twin(&r->steps, &r->ts.student, err);
    if (st == ST_OK) {
        size_t most = st_svd_max_entries(&r->ts.student);
        st = st_svd_init(&r->svd, most, err);
        r->svd_scratch = malloc(most * sizeof(float));
        if (st == ST_OK && !r->svd_scratch)
            st = st_err_set(err, ST_ERR_NOMEM, "cannot allocate the spectrum scratch");
    }
    if (st != ST_OK)
        return st;
    r->xb = malloc((size_t)B * in * sizeof(float));
    r->yb = malloc((size_t)B * out * sizeof(float));
    r->dy = malloc((size_t)B * out * sizeof(float));
    if (!cfg->online && cfg->batch < cfg->data_size) {
        r->order = malloc((size_t)cfg->data_size * sizeof *r->order);
        if (r->order)
            for (long i = 0; i < cfg->data_size; i++)
                r->order[i] = i;
        st_rng_seed(&r->order_rng, cfg->seed, ST_STREAM_ORDER);
        r->pos = cfg->data_size; /* shuffle before the first batch */
    }
    if (!r->xb || !r->yb || !r->dy || (!cfg->online && cfg->batch < cfg->data_size && !r->order))
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate batch buffers");
    return ST_OK;
}

/* Every file a run writes into its directory. */
static const char *const run_files[] = {
    "config.ini",          "metrics.csv", "summary.json", "teacher.safetensors",
    "student_init.safetensors", "student.safetensors", "x.npy", "y.npy",
    "figure.png",          "figure.svg",  "figure.pdf", ST_CHECKPOINT_FILE,
};

static enum st_status check_out_dir(const struct st_train_cfg *cfg, struct st_err *err)
{
    char path[4200];
    struct stat sb;
    enum st_status st = st_mkdirs(cfg->out, err);
    if (st != ST_OK)
        return st;
    st = st_path_join(path, sizeof path, cfg->out, "metrics.csv", err);
    if (st != ST_OK)
        return st;
    if (stat(path, &sb) != 0)
        return ST_OK;
    if (!cfg->force) {
        if (st_path_join(path, sizeof path, cfg->out, ST_CHECKPOINT_FILE, NULL) == ST_OK &&
            stat(path, &sb) == 0)
            return st_err_set(err, ST_ERR_ARG,
                              "%s holds an interrupted run (%s); continue it with --resume %s, "
                              "or pass --force to start over",
                              cfg->out, ST_CHECKPOINT_FILE, cfg->out);
        return st_err_set(err, ST_ERR_ARG,
                          "%s already holds a run (metrics.csv); choose another --out or pass "
                          "--force to overwrite it",
                          cfg->out);
    }
    /* --force: remove the previous run's files so that none survives beside the new ones. */
    for (size_t i = 0; i < sizeof run_files / sizeof run_files[0]; i++) {
        if ((st = st_path_join(path, sizeof path, cfg->out, run_files[i], err)) != ST_OK)
            return st;
        if (remove(path) != 0 && errno != ENOENT)
            return st_err_set(err, ST_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
        st_remove_temps(cfg->out, run_files[i]);
    }
    return ST_OK;
}

/* The data loss (and accuracy, xent) of the current student on a held-out
 * set x[n], y[n] into ev[0], ev[1]; NaN where there is none. */
static void evaluate(struct run *r, struct st_mlp_work *w, const float *x, const float *y, long n,
                     double ev[2])
{
    const struct st_train_cfg *c = r->cfg;
    ev[0] = ev[1] = (double)NAN;
    if (!x)
        return;
    const float *yhat = st_mlp_forward(&r->ts.net, &r->ts.student, w, x, (int)n);
    if (c->loss == ST_LOSS_XENT) {
        long hits;
        ev[0] = (double)st_xent_forward(yhat, y, n, c->widths[c->n_layers], &hits);
        ev[1] = (double)hits / (double)n;
    } else {
        ev[0] = (double)st_mse_forward(yhat, y, n * c->widths[c->n_layers]);
    }
}

/* Observes theta_k, writes its metrics row and returns its loss, data loss +
 * lambda * R; the spectrum columns every spectrum_every steps and at the end. */
static double log_row(struct run *r, long k, double mse, double acc,
                      struct st_observables *obs, double *pen)
{
    const struct st_train_cfg *c = r->cfg;
    int spectrum = c->spectrum_every > 0 && (k % c->spectrum_every == 0 || k == c->steps);
    double ev[4]; /* validation loss, accuracy; evaluation-set loss, accuracy */
    evaluate(r, &r->vwork, r->ts.vx, r->ts.vy, r->ts.vn, ev);
    evaluate(r, &r->ework, r->ts.ex, r->ts.ey, r->ts.en, ev + 2);
    if (k == 0) {
        r->eval0[0] = ev[2];
        r->eval0[1] = ev[3];
        r->val_best = (double)INFINITY;
    }
    r->eval_last[0] = ev[2];
    r->eval_last[1] = ev[3];
    r->val_last[0] = ev[0];
    r->val_last[1] = ev[1];
    if (ev[0] < r->val_best)
        r->val_best = ev[0];
    st_observe(obs, &r->ts.student, &r->ts.init, &r->ts.teacher, ST_CHANGED_EPS);
    *pen = st_penalty_value(&r->pen, &r->ts.student, &r->ts.init);
    if (spectrum)
        st_spectrum(&r->ts.student, &r->ts.init, &r->svd, r->svd_scratch, ST_RANK_TOL, r->nuc,
                    r->rank);
    double loss = mse + c->lambda * *pen;
    int xent = c->loss == ST_LOSS_XENT;
    int ev_on[4] = { r->ts.vx != NULL, r->ts.vx && xent, r->ts.ex != NULL, r->ts.ex && xent };
    write_row(r->csv, k, mse, acc, *pen, loss, ev, ev_on, !c->task_data, obs,
              spectrum ? r->nuc : NULL,
              spectrum ? r->rank : NULL);
    return loss;
}

volatile sig_atomic_t st_train_stop = 0;

/* The run's config.ini text (malloc'd), as the checkpoint keeps it. */
static char *config_text(const struct st_train_cfg *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    st_options_write_ini(f, cfg);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* The checkpoint's hash of the training, validation and evaluation data, so
 * a resumed run notices input files that changed since the checkpoint.
 * Computed once per process: the data do not change during a run. */
static uint64_t data_hash(struct run *r)
{
    const struct st_ts *ts = &r->ts;
    int in = r->cfg->widths[0], out = st_train_target_cols(r->cfg);
    const float *arr[6] = { ts->x, ts->y, ts->vx, ts->vy, ts->ex, ts->ey };
    size_t len[6] = { (size_t)ts->n * (size_t)in,  (size_t)ts->n * (size_t)out,
                      (size_t)ts->vn * (size_t)in, (size_t)ts->vn * (size_t)out,
                      (size_t)ts->en * (size_t)in, (size_t)ts->en * (size_t)out };
    if (r->data_hashed)
        return r->data_hash;
    uint64_t h = ST_CKPT_HASH_START;
    for (int a = 0; a < 6; a++)
        if (arr[a])
            h = st_ckpt_hash(h, arr[a], len[a] * sizeof(float));
    r->data_hash = h;
    r->data_hashed = 1;
    return h;
}

/* Every option of the run as "name\0value\0" pairs (malloc'd): what --resume
 * reads back, exactly (the INI text could not carry a path with " ;" or
 * outer blanks); --checkpoint-every rides along, though it is not part of the
 * configuration, so a resumed run keeps checkpointing. */
static enum st_status options_pairs(const struct st_train_cfg *cfg, char **out, size_t *len)
{
    int n;
    const struct st_option *opts = st_options(&n);
    char *text = NULL, value[4200];
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return ST_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        if (!opts[i].saved && strcmp(opts[i].name, "checkpoint-every") != 0)
            continue;
        st_option_format(cfg, &opts[i], value, sizeof value);
        fwrite(opts[i].name, 1, strlen(opts[i].name) + 1, f);
        fwrite(value, 1, strlen(value) + 1, f);
    }
    if (fclose(f) != 0) {
        free(text);
        return ST_ERR_NOMEM;
    }
    *out = text;
    *len = size;
    return ST_OK;
}

/* What a checkpoint holds besides the tensors and generators. */
enum { CK_STEP, CK_OPT_T, CK_POS, CK_CSV_BYTES, CK_DATA_HASH, CK_N_INT };
enum { CK_MSE_TAIL, CK_VAL_BEST, CK_EVAL0, CK_EVAL0_ACC, CK_EVAL_LAST, CK_EVAL_LAST_ACC,
       CK_VAL_LAST, CK_VAL_LAST_ACC, CK_ELAPSED, CK_N_REAL };

/* Writes the state at the top of step k (k updates taken, rows before k
 * logged) to OUT/checkpoint.bin, after metrics.csv is on disk. */
static enum st_status save_checkpoint(struct run *r, long k, double mse_tail, double elapsed,
                                      struct st_err *err)
{
    const struct st_train_cfg *c = r->cfg;
    char path[4200];
    struct st_ckpt_writer w;
    enum st_status st;
    int64_t iv[CK_N_INT];
    double dv[CK_N_REAL];
    char *pairs;
    size_t pairs_len;

    if (fflush(r->csv) != 0 || ferror(r->csv) || fsync(fileno(r->csv)) != 0)
        return st_err_set(err, ST_ERR_IO, "cannot write %s/metrics.csv: %s", c->out,
                          strerror(errno));
    long csv_bytes = ftell(r->csv);
    char *text = config_text(c);
    if (csv_bytes < 0 || !text) {
        free(text);
        return st_err_set(err, ST_ERR_IO, "cannot checkpoint %s at step %ld", c->out, k);
    }
    iv[CK_STEP] = k;
    iv[CK_OPT_T] = r->opt.t;
    iv[CK_POS] = r->pos;
    iv[CK_CSV_BYTES] = csv_bytes;
    iv[CK_DATA_HASH] = (int64_t)data_hash(r);
    dv[CK_MSE_TAIL] = mse_tail;
    dv[CK_VAL_BEST] = r->val_best;
    dv[CK_EVAL0] = r->eval0[0];
    dv[CK_EVAL0_ACC] = r->eval0[1];
    dv[CK_EVAL_LAST] = r->eval_last[0];
    dv[CK_EVAL_LAST_ACC] = r->eval_last[1];
    dv[CK_VAL_LAST] = r->val_last[0];
    dv[CK_VAL_LAST_ACC] = r->val_last[1];
    dv[CK_ELAPSED] = elapsed;
    if ((st = st_path_join(path, sizeof path, c->out, ST_CHECKPOINT_FILE, err)) != ST_OK ||
        (st = st_ckpt_begin(&w, path, err)) != ST_OK) {
        free(text);
        return st;
    }
    st_ckpt_put(&w, "config", text, strlen(text));
    if (options_pairs(c, &pairs, &pairs_len) != ST_OK) {
        st_ckpt_abort(&w);
        free(text);
        return st_err_set(err, ST_ERR_NOMEM, "cannot checkpoint %s: out of memory", c->out);
    }
    st_ckpt_put(&w, "options", pairs, pairs_len);
    free(pairs);
    st_ckpt_put(&w, "ints", iv, sizeof iv);
    st_ckpt_put(&w, "reals", dv, sizeof dv);
    st_ckpt_put(&w, "student", r->ts.student.mem, r->ts.student.n * sizeof(float));
    st_ckpt_put(&w, "init", r->ts.init.mem, r->ts.init.n * sizeof(float));
    st_ckpt_put(&w, "teacher", r->ts.teacher.mem, r->ts.teacher.n * sizeof(float));
    st_ckpt_put(&w, "opt_m", r->opt.m.mem, r->opt.m.n * sizeof(float));
    st_ckpt_put(&w, "opt_v", r->opt.v.mem, r->opt.v.n * sizeof(float));
    st_ckpt_put(&w, "rng_data", &r->ts.data_rng, sizeof r->ts.data_rng);
    st_ckpt_put(&w, "rng_noise", &r->ts.noise_rng, sizeof r->ts.noise_rng);
    st_ckpt_put(&w, "rng_order", &r->order_rng, sizeof r->order_rng);
    st_ckpt_put(&w, "order", r->order,
                r->order ? (size_t)c->data_size * sizeof *r->order : 0);
    free(text);
    return st_ckpt_commit(&w, err);
}

/* Section name of c into dst: it must hold exactly size bytes (an empty
 * section for what this run does not have, such as SGD's second moments). */
static enum st_status take(const struct st_ckpt *c, const char *name, void *dst, size_t size,
                           struct st_err *err)
{
    const void *src;
    size_t got;
    enum st_status st = st_ckpt_get(c, name, 0, &src, &got, err);
    if (st != ST_OK)
        return st;
    if (got != size)
        return st_err_set(err, ST_ERR_FORMAT,
                          "checkpoint section '%s' holds %zu bytes, expected %zu (written by "
                          "another build or for another run?)",
                          name, got, size);
    if (size)
        memcpy(dst, src, size);
    return ST_OK;
}

/* Loads OUT/checkpoint.bin into a freshly set-up run: *k0 the step to go on
 * from, *csv_bytes the length metrics.csv had. */
static enum st_status load_checkpoint(struct run *r, long *k0, long *csv_bytes, double *mse_tail,
                                      double *elapsed, struct st_err *err)
{
    const struct st_train_cfg *c = r->cfg;
    char path[4200];
    struct st_ckpt ck;
    enum st_status st;
    int64_t iv[CK_N_INT];
    double dv[CK_N_REAL];
    const void *cfg_text;
    size_t cfg_len;

    if ((st = st_path_join(path, sizeof path, c->out, ST_CHECKPOINT_FILE, err)) != ST_OK)
        return st;
    st_remove_temps(c->out, ST_CHECKPOINT_FILE); /* a write cut short by a kill */
    if ((st = st_ckpt_read(&ck, path, err)) != ST_OK) {
        if (st == ST_ERR_IO) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            st = st_err_set(err, ST_ERR_ARG, "--resume %s: no checkpoint to resume (%s)", c->out,
                            why);
        }
        return st;
    }
    char *text = config_text(c);
    st = st_ckpt_get(&ck, "config", 0, &cfg_text, &cfg_len, err);
    if (st == ST_OK && (!text || strlen(text) != cfg_len || memcmp(text, cfg_text, cfg_len)))
        st = st_err_set(err, ST_ERR_ARG,
                        "--resume %s: the checkpoint was written with other options", c->out);
    free(text);
    if (st == ST_OK)
        st = take(&ck, "ints", iv, sizeof iv, err);
    if (st == ST_OK && (uint64_t)iv[CK_DATA_HASH] != data_hash(r))
        st = st_err_set(err, ST_ERR_ARG,
                        "--resume %s: the data differ from the checkpoint's (an input file "
                        "changed since the run started)",
                        c->out);
    if (st == ST_OK && !(iv[CK_STEP] >= 0 && iv[CK_STEP] <= c->steps && iv[CK_CSV_BYTES] >= 0 &&
                         iv[CK_POS] >= 0 && iv[CK_POS] <= c->data_size && iv[CK_OPT_T] >= 0))
        st = st_err_set(err, ST_ERR_FORMAT, "%s: step, position or length out of range", path);
    if (st == ST_OK)
        st = take(&ck, "reals", dv, sizeof dv, err);
    if (st == ST_OK)
        st = take(&ck, "student", r->ts.student.mem, r->ts.student.n * sizeof(float), err);
    if (st == ST_OK)
        st = take(&ck, "init", r->ts.init.mem, r->ts.init.n * sizeof(float), err);
    if (st == ST_OK)
        st = take(&ck, "teacher", r->ts.teacher.mem, r->ts.teacher.n * sizeof(float), err);
    if (st == ST_OK)
        st = take(&ck, "opt_m", r->opt.m.mem, r->opt.m.n * sizeof(float), err);
    if (st == ST_OK)
        st = take(&ck, "opt_v", r->opt.v.mem, r->opt.v.n * sizeof(float), err);
    if (st == ST_OK)
        st = take(&ck, "rng_data", &r->ts.data_rng, sizeof r->ts.data_rng, err);
    if (st == ST_OK)
        st = take(&ck, "rng_noise", &r->ts.noise_rng, sizeof r->ts.noise_rng, err);
    if (st == ST_OK)
        st = take(&ck, "rng_order", &r->order_rng, sizeof r->order_rng, err);
    if (st == ST_OK)
        st = take(&ck, "order", r->order, r->order ? (size_t)c->data_size * sizeof *r->order : 0,
                  err);
    for (long i = 0; st == ST_OK && r->order && i < c->data_size; i++)
        if (r->order[i] < 0 || r->order[i] >= c->data_size)
            st = st_err_set(err, ST_ERR_FORMAT, "%s: minibatch order out of range", path);
    st_ckpt_free(&ck);
    if (st != ST_OK)
        return st;
    *k0 = (long)iv[CK_STEP];
    *csv_bytes = (long)iv[CK_CSV_BYTES];
    r->opt.t = (long)iv[CK_OPT_T];
    r->pos = (long)iv[CK_POS];
    *mse_tail = dv[CK_MSE_TAIL];
    r->val_best = dv[CK_VAL_BEST];
    r->eval0[0] = dv[CK_EVAL0];
    r->eval0[1] = dv[CK_EVAL0_ACC];
    r->eval_last[0] = dv[CK_EVAL_LAST];
    r->eval_last[1] = dv[CK_EVAL_LAST_ACC];
    r->val_last[0] = dv[CK_VAL_LAST];
    r->val_last[1] = dv[CK_VAL_LAST_ACC];
    *elapsed = dv[CK_ELAPSED];
    return ST_OK;
}

/* metrics.csv cut back to the checkpoint's length and opened for appending. */
static enum st_status reopen_csv(struct run *r, const char *path, long bytes, struct st_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || sb.st_size < bytes)
        return st_err_set(err, ST_ERR_FORMAT,
                          "--resume: %s is shorter than at the checkpoint (%ld bytes); it lost "
                          "rows, so the run cannot go on",
                          path, bytes);
    if (truncate(path, bytes) != 0 || !(r->csv = fopen(path, "a")))
        return st_err_set(err, ST_ERR_IO, "cannot reopen %s: %s", path, strerror(errno));
    return ST_OK;
}

enum st_status st_train_run(const struct st_train_cfg *cfg, st_progress_fn progress, void *user,
                            struct st_train_result *result, struct st_err *err)
{
    struct run r;
    struct st_train_result res;
    struct st_observables obs;
    char path[4200];
    enum st_status st;
    const struct st_mlp *net;
    const unsigned char *trainable = cfg->trainable;
    long n_out = cfg->widths[cfg->n_layers];
    double t0, mse = 0.0, pen = 0.0, loss = 0.0;
    double acc = (double)NAN; /* accuracy of the pass, xent only */
    long k, k0 = 0, csv_bytes = 0;
    double elapsed = 0.0; /* seconds before this process took the run up */
    int stopped = 0;

    memset(&res, 0, sizeof res);
    res.mse_tail = (double)INFINITY;
    openblas_set_num_threads(cfg->threads);
    st_par_set_threads(cfg->threads); /* the passes over the parameters */
    /* Every input is read before --force clears the run directory, which
     * may hold them (finetune --model RUN/student.safetensors --out RUN). */
    st = run_setup(&r, cfg, err);
    if (st != ST_OK)
        goto out;
    if (cfg->resume) {
        st = load_checkpoint(&r, &k0, &csv_bytes, &res.mse_tail, &elapsed, err);
        if (st != ST_OK)
            goto out;
    } else {
        st = check_out_dir(cfg, err);
        if (st != ST_OK)
            goto out;
    }
    net = &r.ts.net;

    if ((st = st_path_join(path, sizeof path, cfg->out, "config.ini", err)) != ST_OK ||
        (st = write_config(cfg, path, err)) != ST_OK ||
        (!cfg->task_data &&
         (st = save_model(cfg, &r.ts.stand, &r.ts.teacher, cfg->out, "teacher.safetensors", "teacher", err)) !=
             ST_OK) ||
        (st = save_model(cfg, &r.ts.stand, &r.ts.init, cfg->out, "student_init.safetensors", "student_init",
                         err)) != ST_OK)
        goto out;
    if (cfg->save_data) {
        if ((st = st_path_join(path, sizeof path, cfg->out, "x.npy", err)) != ST_OK ||
            (st = st_npy_write_f32(path, r.ts.x, r.ts.n, cfg->widths[0], err)) != ST_OK ||
            (st = st_path_join(path, sizeof path, cfg->out, "y.npy", err)) != ST_OK ||
            (st = st_npy_write_f32(path, r.ts.y, r.ts.n, st_train_target_cols(cfg), err)) !=
                ST_OK)
            goto out;
    }

    if ((st = st_path_join(path, sizeof path, cfg->out, "metrics.csv", err)) != ST_OK)
        goto out;
    if (cfg->resume) {
        if ((st = reopen_csv(&r, path, csv_bytes, err)) != ST_OK)
            goto out;
    } else if (!(r.csv = fopen(path, "w"))) {
        st = st_err_set(err, ST_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    r.csv_buf = malloc(1 << 20);
    if (r.csv_buf)
        setvbuf(r.csv, r.csv_buf, _IOFBF, 1 << 20);
    if (!cfg->resume)
        write_header(r.csv, &r.ts.student, cfg->loss == ST_LOSS_XENT, r.ts.vx != NULL,
                     r.ts.ex != NULL, !cfg->task_data);

    t0 = now_seconds() - elapsed;
    for (k = k0;; k++) {
        const float *x = NULL, *y = NULL;
        int B = (int)cfg->batch;
        int log = k % cfg->log_every == 0 || k == cfg->steps || stopped;

        /* A checkpoint every checkpoint_every steps, and on a stop signal:
         * the state before step k, which the next run takes up. */
        if (st_train_stop ||
            (cfg->checkpoint_every > 0 && k > k0 && k % cfg->checkpoint_every == 0 &&
             k < cfg->steps)) {
            st = save_checkpoint(&r, k, res.mse_tail, now_seconds() - t0, err);
            if (st != ST_OK)
                goto out;
            if (st_train_stop) {
                res.steps_done = k;
                if (result)
                    *result = res;
                st = st_err_set(err, ST_ERR_INTERRUPTED,
                                "interrupted at step %ld of %ld; the state is saved in %s/%s",
                                k, cfg->steps, cfg->out, ST_CHECKPOINT_FILE);
                goto out;
            }
        }

        next_batch(&r, &x, &y);
        const float *yhat = st_mlp_forward(net, &r.ts.student, &r.work, x, B);
        if (cfg->loss == ST_LOSS_XENT) {
            long hits;
            mse = (double)st_xent_forward(yhat, y, B, (int)n_out, &hits);
            acc = (double)hits / (double)B;
        } else {
            mse = (double)st_mse_forward(yhat, y, (long)B * n_out);
        }
        loss = mse;
        /* The final value may sit on a loss spike; the lowest of the last 10%
         * of the steps ranks runs more robustly. */
        if (k >= cfg->steps - cfg->steps / 10 && !(mse >= res.mse_tail))
            res.mse_tail = mse;
        if (log) {
            loss = log_row(&r, k, mse, acc, &obs, &pen);
            /* Notice a full disk now, not at the end of a long run. */
            if (ferror(r.csv)) {
                st = st_err_set(err, ST_ERR_IO, "cannot write %s/metrics.csv at step %ld",
                                cfg->out, k);
                goto out;
            }
        }
        if (!isfinite(loss)) {
            if (!log)
                log_row(&r, k, mse, acc, &obs, &pen);
            res.diverged = 1;
            break;
        }
        if (k == cfg->steps || stopped)
            break;

        memset(r.grad.mem, 0, r.grad.n * sizeof(float));
        if (cfg->loss == ST_LOSS_XENT)
            st_xent_backward(r.dy, yhat, y, B, (int)n_out);
        else
            st_mse_backward(r.dy, yhat, y, (long)B * n_out);
        st_mlp_backward(net, &r.ts.student, &r.work, &r.grad, x, r.dy, B, trainable);
        if (!cfg->prox)
            st_penalty_grad(&r.pen, &r.grad, &r.ts.student, &r.ts.init);
        st_optim_step(&r.opt, &r.ts.student, &r.grad, trainable);
        if (cfg->prox) {
            /* The optimizer stepped on the data loss alone; now the penalty's
             * proximal operator, in the optimizer's own metric. */
            st_optim_steps(&r.opt, &r.steps, trainable);
            st_penalty_prox(&r.pen, &r.ts.student, &r.ts.init, &r.steps);
        }
        if (r.pen.svd_failed) {
            st = st_err_set(err, ST_ERR_NUMERIC,
                            "step %ld: LAPACK's SVD of an update matrix did not converge (nuclear "
                            "penalty); metrics up to that step are in %s/metrics.csv",
                            k, cfg->out);
            fflush(r.csv);
            goto out;
        }
        if (progress && progress(user, k + 1, cfg->steps, mse))
            stopped = 1;
    }
    res.wall_seconds = now_seconds() - t0;
    res.steps_done = k;
    res.steps_per_second = res.wall_seconds > 0.0 ? (double)k / res.wall_seconds : 0.0;
    res.mse = mse;
    res.accuracy = acc;
    res.has_eval = r.ts.ex != NULL;
    res.eval_before = r.eval0[0];
    res.eval_acc_before = r.eval0[1];
    res.eval_after = r.eval_last[0];
    res.eval_acc_after = r.eval_last[1];
    res.val_rows = r.ts.vn;
    res.val_loss = r.val_last[0];
    res.val_accuracy = r.val_last[1];
    res.val_best = r.val_best;
    res.penalty = pen;
    res.loss = loss;
    res.n_tensors = r.ts.student.n_views;
    for (int t = 0; t < res.n_tensors; t++) {
        memcpy(res.names[t], r.ts.student.v[t].name, sizeof res.names[t]);
        res.d_init[t] = obs.d_init[t];
        res.d_teacher[t] = obs.d_teacher[t];
        res.changed[t] = obs.changed[t];
        res.zero[t] = obs.zero[t];
        res.size[t] = (long)st_view_size(&r.ts.student.v[t]);
    }
    {
        double sizes[ST_MAX_TENSORS];
        for (int t = 0; t < res.n_tensors; t++)
            sizes[t] = (double)res.size[t];
        st_update_shares(res.d_init, sizes, res.n_tensors, res.update_share);
    }
    if (cfg->spectrum_every > 0)
        st_spectrum(&r.ts.student, &r.ts.init, &r.svd, r.svd_scratch, ST_RANK_TOL, res.nuclear,
                    res.rank);
    else
        for (int l = 0; l < cfg->n_layers; l++) {
            res.nuclear[l] = (double)NAN; /* null in summary.json */
            res.rank[l] = -1;
        }
    judge(&res, cfg, &r.pen, r.ts.truth);

    if (fflush(r.csv) != 0 || ferror(r.csv)) {
        st = st_err_set(err, ST_ERR_IO, "cannot write %s/metrics.csv: %s", cfg->out,
                        strerror(errno));
        goto out;
    }
    if (!res.diverged &&
        (st = save_model(cfg, &r.ts.stand, &r.ts.student, cfg->out, "student.safetensors", "student", err)) !=
            ST_OK)
        goto out;
    if ((st = st_path_join(path, sizeof path, cfg->out, "summary.json", err)) != ST_OK ||
        (st = write_summary(cfg, &res, path, err)) != ST_OK)
        goto out;
    /* Finished: the outputs are complete, and a checkpoint would only invite
     * a second resume. */
    if (st_path_join(path, sizeof path, cfg->out, ST_CHECKPOINT_FILE, NULL) == ST_OK)
        remove(path);
    if (res.diverged)
        st = st_err_set(err, ST_ERR_NUMERIC,
                        "step %ld: the loss is %s; the run diverged (try a smaller --lr, now "
                        "%g; a large --lambda or a zero --eps can do it too); metrics up to "
                        "that step are in %s/metrics.csv",
                        k, isnan(loss) ? "NaN" : "infinite", cfg->opt.lr, cfg->out);
    if (result)
        *result = res;
out:
    st_par_set_threads(1);
    run_free(&r);
    return st;
}
