/* source.c: see source.h. The student's start is built first (it fixes the
 * teacher's truth and the input statistics), then the training set, its
 * validation rows and the evaluation set. */
#include "source.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/bpe.h"
#include "../io/modelfile.h"
#include "../io/npy.h"
#include "options.h"

static void draw_inputs(struct st_source *s, float *x, long n)
{
    if (st_model_draw_inputs(s->m, &s->data_rng, x, n))
        return;
    if (s->dist == ST_DATA_UNIFORM)
        st_rng_fill_uniform(&s->data_rng, x, n, s->lo, s->hi);
    else
        st_rng_fill_normal(&s->data_rng, x, n, 0.0, 1.0);
}

/* A model file for option opt: read and checked against the run's model. */
static enum st_status read_model(const char *opt, const char *path, const struct st_model *m,
                                 struct st_modelfile *mf, struct st_err *err)
{
    enum st_status st = st_modelfile_read(path, 0, mf, err);
    if (st == ST_OK && (st = st_modelfile_check(mf, m, opt, path, err)) != ST_OK)
        st_modelfile_free(mf);
    return st;
}

/* theta0, the teacher and the truth; the input statistics --student-init
 * carries. Messages about that file name the option that gave it
 * (cfg->init_opt). */
static enum st_status build_start(struct st_source *s, const struct st_train_cfg *cfg,
                                  struct st_err *err)
{
    struct st_modelfile teacher, init;
    enum st_status st;
    int has_init = st_cfg_given(cfg->init_path);

    memset(&teacher, 0, sizeof teacher);
    memset(&init, 0, sizeof init);
    if ((st = st_model_params(s->m, &s->start, err)) != ST_OK)
        return st;
    if (has_init && (st = read_model(cfg->init_opt, cfg->init_path, s->m, &init, err)) != ST_OK)
        return st;
    if (s->has_teacher) {
        int file = st_cfg_given(cfg->teacher_path);
        if (file && (st = read_model("teacher", cfg->teacher_path, s->m, &teacher, err)) != ST_OK)
            goto out;
        if ((st = st_teacher_setup(&s->teacher, cfg, s->m, file ? &teacher.p : NULL, &s->start,
                                   err)) != ST_OK)
            goto out;
    } else {
        /* No teacher: the student draws every tensor (or comes from --student-init). */
        struct st_rng rng;
        st_rng_seed(&rng, cfg->seed, ST_STREAM_STUDENT);
        st_model_draw(s->m, &s->start, &rng, NULL);
    }
    snprintf(s->layout, sizeof s->layout, "%s", has_init ? init.layout : "sparsetune");
    if (st_cfg_stream(cfg) && st_cfg_given(cfg->tokenizer) &&
        (st = st_bpe_load(cfg->tokenizer, &s->tokenizer, err)) != ST_OK)
        goto out;
    if (has_init) {
        st_params_copy(&s->start, &init.p);
        /* Statistics the start model carries come first; --standardize fits new ones. */
        char label[ST_PATH_MAX + 32];
        snprintf(label, sizeof label, "--%s %s", cfg->init_opt, cfg->init_path);
        if ((st = st_stand_from_meta(&s->stand, &init.meta, label, (int)s->in, err)) != ST_OK)
            goto out;
        if (s->stand.n > 0 && s->has_teacher) {
            /* A teacher labels raw inputs; standardized ones would not match. */
            st = st_err_set(err, ST_ERR_ARG, "%s: carries input statistics (input_mean, "
                            "input_std) from a standardized data set; use it with finetune "
                            "(--task data)", label);
            goto out;
        }
    }
    if (s->has_teacher) {
        s->truth = malloc((size_t)s->start.n_views + 1);
        if (!s->truth) {
            st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (int t = 0; t < s->start.n_views; t++)
            s->truth[t] = memcmp(s->teacher.p.v[t].data, s->start.v[t].data,
                                 st_view_size(&s->start.v[t]) * sizeof(float)) != 0;
    }
out:
    st_modelfile_free(&teacher);
    st_modelfile_free(&init);
    return st;
}

/* The targets of x[n] in a set without a target file: the teacher's labels
 * (with label noise when noise is set). */
static enum st_status label_set(struct st_source *s, struct st_dataset *d, int noise,
                                struct st_err *err)
{
    d->y = malloc(((size_t)d->n * (size_t)s->ycols + 1) * sizeof *d->y);
    if (!d->y)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate targets");
    return st_teacher_label(&s->teacher, d->x, d->y, d->n, noise, err);
}

/* Windows evaluated on a stream: at most this many, spread over it. */
#define STREAM_WINDOWS 64

static enum st_status read_stream(const struct st_source *s, const char *path, int as_text,
                                  const char *opt, struct st_tokens *t, struct st_err *err)
{
    return st_data_read_stream(path, as_text, opt, st_model_io(s->m).cols, s->tokenizer, t, err);
}

static enum st_status windows_of(const uint32_t *tok, long n, long T, long max, const char *opt,
                                 const char *path, struct st_dataset *d, struct st_err *err)
{
    return st_data_windows(tok, n, T, max, opt, path, &d->x, &d->y, &d->n, err);
}

/* A token stream's training part, held-out end (--val-fraction) and the
 * windows the Fisher probes and --save-data use. */
static enum st_status load_stream(struct st_source *s, const struct st_train_cfg *cfg,
                                  struct st_err *err)
{
    int text = st_cfg_given(cfg->text_path);
    const char *path = text ? cfg->text_path : cfg->tokens_path, *opt = text ? "text" : "tokens";
    long T = s->in;
    enum st_status st = read_stream(s, path, text, opt, &s->stream, err);
    if (st != ST_OK)
        return st;
    long n = s->stream.n, nv = (long)floor(cfg->val_fraction * (double)n);
    double per = n > 0 ? (double)s->stream.bytes / (double)n : 0.0;
    s->train.bytes_per_token = s->val.bytes_per_token = per;
    if (nv > 0) {
        if (nv < T + 1 || n - nv < T + 1)
            return st_err_set(err, ST_ERR_ARG, "--val-fraction %g: holds out %ld of the %ld "
                              "tokens of %s; each part needs at least --context + 1 = %ld",
                              cfg->val_fraction, nv, n, path, T + 1);
        if ((st = windows_of(s->stream.tok + n - nv, nv, T, STREAM_WINDOWS, opt, path, &s->val,
                             err)) != ST_OK)
            return st;
        s->stream.n = n - nv;
    }
    return windows_of(s->stream.tok, s->stream.n, T, STREAM_WINDOWS, opt, path, &s->train, err);
}

/* The training set: drawn (and labelled), read from --x (with --y, --y-col
 * or the teacher's labels), or a token stream's. */
static enum st_status load_train(struct st_source *s, const struct st_train_cfg *cfg,
                                 struct st_err *err)
{
    struct st_dataset *d = &s->train;
    if (st_cfg_stream(cfg))
        return load_stream(s, cfg, err);
    struct st_model_io io = st_model_io(s->m);
    if (!st_cfg_given(cfg->x_path)) {
        if (cfg->online)
            return ST_OK;
        size_t nx = (size_t)cfg->data_size * (size_t)s->in;
        d->n = cfg->data_size;
        d->x = malloc((nx + 1) * sizeof *d->x);
        if (!d->x)
            return st_err_set(err, ST_ERR_NOMEM, "cannot allocate %zu bytes of data",
                              nx * sizeof(float));
        draw_inputs(s, d->x, (long)nx);
        return label_set(s, d, 1, err);
    }
    struct st_npy a, b;
    int y = st_cfg_given(cfg->y_path), ycol = st_cfg_given(cfg->y_col);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    enum st_status st = st_data_read_train(cfg->x_path, y ? cfg->y_path : NULL,
                                           ycol && !y ? cfg->y_col : NULL, (int)s->in,
                                           io.rows, (int)io.cols, cfg->loss, &a, &b, err);
    if (st != ST_OK)
        return st;
    d->x = a.data;
    d->n = a.rows;
    if (y || ycol)
        d->y = b.data;
    if ((st = st_model_check_inputs(s->m, d->x, d->n * s->in, "x", cfg->x_path, err)) != ST_OK)
        return st;
    return y || ycol ? ST_OK : label_set(s, d, 1, err);
}

/* Moves val_rows rows, drawn with the data stream, out of the training set
 * into the validation set; the rest keep their order. */
static enum st_status split_val(struct st_source *s, long nv, struct st_err *err)
{
    struct st_dataset *t = &s->train, *v = &s->val;
    long n = t->n, in = s->in, yc = s->ycols;
    long *perm = malloc((size_t)n * sizeof *perm);
    unsigned char *held = calloc((size_t)n, 1);
    v->x = malloc((size_t)nv * (size_t)in * sizeof *v->x);
    v->y = malloc((size_t)nv * (size_t)yc * sizeof *v->y);
    if (!perm || !held || !v->x || !v->y) {
        free(perm);
        free(held);
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate the validation split");
    }
    for (long i = 0; i < n; i++)
        perm[i] = i;
    for (long i = 0; i < nv; i++) { /* a partial Fisher-Yates: the first nv of a shuffle */
        long j = i + (long)st_rng_below(&s->data_rng, (uint64_t)(n - i));
        long tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
        held[perm[i]] = 1;
    }
    for (long i = 0; i < nv; i++) {
        memcpy(v->x + (size_t)i * in, t->x + (size_t)perm[i] * in, (size_t)in * sizeof *v->x);
        memcpy(v->y + (size_t)i * yc, t->y + (size_t)perm[i] * yc, (size_t)yc * sizeof *v->y);
    }
    long k = 0;
    for (long i = 0; i < n; i++)
        if (!held[i]) {
            memmove(t->x + (size_t)k * in, t->x + (size_t)i * in, (size_t)in * sizeof *v->x);
            memmove(t->y + (size_t)k * yc, t->y + (size_t)i * yc, (size_t)yc * sizeof *v->y);
            k++;
        }
    free(perm);
    free(held);
    v->n = nv;
    t->n = n - nv;
    return ST_OK;
}

/* The options of drawn inputs and of a teacher, which a data run leaves
 * unused, at other values than their defaults (config.ini writes those, and
 * the rows of --x, all or those kept for training, as the data size):
 * refused rather than dropped. */
static enum st_status check_unused(const struct st_train_cfg *cfg, long rows, long kept,
                                   struct st_err *err)
{
    static const char *const unused[] = { "data-dist", "data-range", "teacher-delta",
                                          "teacher-delta-scale" };
    char value[4200];
    if (!cfg->task_data)
        return ST_OK;
    if (cfg->data_size != rows && cfg->data_size != kept &&
        !st_option_is_default(cfg, "data-size"))
        return st_err_set(err, ST_ERR_ARG, "--data-size %ld: a data run trains on the rows of "
                          "--x %s (%ld, %ld kept for training); leave --data-size out",
                          cfg->data_size, cfg->x_path, rows, kept);
    for (size_t i = 0; i < sizeof unused / sizeof unused[0]; i++) {
        if (st_option_is_default(cfg, unused[i]))
            continue;
        st_option_format(cfg, st_option_find(unused[i]), value, sizeof value);
        return st_err_set(err, ST_ERR_ARG, "--%s %s: a data run (pretrain, finetune, --task "
                          "data) has no teacher and draws no inputs (they come from --x %s)",
                          unused[i], value, cfg->x_path);
    }
    return ST_OK;
}

/* What the rows of --x say about the options: the held-out rows, the data
 * size, a full batch. */
static enum st_status complete(struct st_source *s, struct st_train_cfg *cfg, struct st_err *err)
{
    enum st_status st;
    if (s->stream.tok) {
        if (!st_option_is_default(cfg, "data-size") && cfg->data_size != s->stream.n)
            return st_err_set(err, ST_ERR_ARG, "--data-size %ld: a stream's run takes its length "
                              "from the stream (%ld tokens for training); leave --data-size "
                              "out", cfg->data_size, s->stream.n);
        cfg->data_size = s->stream.n;
        return ST_OK;
    }
    if (st_cfg_given(cfg->x_path)) {
        long rows = s->train.n, nv = (long)floor(cfg->val_fraction * (double)rows);
        if (cfg->val_fraction > 0.0 && (nv < 1 || nv >= rows))
            return st_err_set(err, ST_ERR_ARG, "--val-fraction %g: of %ld rows that holds out %ld; "
                              "expected at least 1 and fewer than all", cfg->val_fraction, rows,
                              nv);
        if (rows - nv > INT_MAX)
            return st_err_set(err, ST_ERR_ARG, "--x %s: %ld rows; at most %d", cfg->x_path,
                              rows - nv, INT_MAX);
        if (nv > 0 && (st = split_val(s, nv, err)) != ST_OK)
            return st;
        if ((st = check_unused(cfg, rows, s->train.n, err)) != ST_OK)
            return st;
        cfg->data_size = s->train.n;
        if (cfg->batch == 0)
            cfg->batch = cfg->data_size;
        if (cfg->batch > cfg->data_size)
            return st_err_set(err, ST_ERR_ARG,
                              "--batch %ld: larger than the %ld rows of --x %s (use 0 for full "
                              "batch)", cfg->batch, cfg->data_size, cfg->x_path);
    }
    return ST_OK;
}

/* Evaluation set i's files into d: its targets from its y file, --y-col's
 * column of a .csv x, or the teacher's labels without noise (after the
 * training data, so it leaves the training run as it is). */
static enum st_status load_eval_files(struct st_source *s, const struct st_train_cfg *cfg,
                                      struct st_dataset *d, const char *x, const char *y,
                                      const char *opt, struct st_err *err)
{
    struct st_model_io io = st_model_io(s->m);
    struct st_npy a, b;
    enum st_status st;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    if (!st_cfg_given(y) && st_cfg_given(cfg->y_col) && st_data_is_csv(x) && io.rows > 1)
        return st_err_set(err, ST_ERR_ARG, "--y-col %s: this model has %ld target positions per "
                          "input row, more than one column holds; give %s's targets as a file",
                          cfg->y_col, io.rows, opt);
    if (!st_cfg_given(y) && st_cfg_given(cfg->y_col) && st_data_is_csv(x)) {
        st = st_data_read_split(opt, x, cfg->y_col, (int)s->in, (int)io.cols, cfg->loss, &a, &b,
                                err);
        if (st != ST_OK)
            return st;
        d->x = a.data;
        d->y = b.data;
        d->n = a.rows;
        return ST_OK;
    }
    if ((st = st_data_read_inputs(opt, x, (int)s->in, &a, err)) != ST_OK)
        return st;
    d->x = a.data;
    d->n = a.rows;
    if (!st_cfg_given(y))
        return label_set(s, d, 0, err);
    st = st_data_read_targets(y, a.rows, io.rows, (int)io.cols, cfg->loss, &b, err);
    d->y = b.data;
    return st;
}

/* Evaluation set i; a named set's errors say which set. */
static enum st_status load_eval(struct st_source *s, const struct st_train_cfg *cfg, int i,
                                struct st_err *err)
{
    const char *name = st_eval_name(cfg, i);
    enum st_status st;
    if (st_cfg_stream(cfg)) {
        struct st_tokens t = { NULL, 0, 0 };
        int text = st_eval_is_text(cfg, i);
        const char *opt = *name                           ? "eval"
                          : st_cfg_given(cfg->eval_x)     ? "eval-x"
                          : st_cfg_given(cfg->eval_text)  ? "eval-text"
                                                          : "eval-tokens";
        st = read_stream(s, st_eval_x(cfg, i), text, opt, &t, err);
        if (st == ST_OK)
            st = windows_of(t.tok, t.n, s->in, STREAM_WINDOWS, opt, st_eval_x(cfg, i),
                            &s->eval[i], err);
        s->eval[i].bytes_per_token = t.n > 0 ? (double)t.bytes / (double)t.n : 0.0;
        st_tokens_free(&t);
    } else {
        st = load_eval_files(s, cfg, &s->eval[i], st_eval_x(cfg, i), st_eval_y(cfg, i),
                             *name ? "eval" : "eval-x", err);
    }
    if (st == ST_OK)
        st = st_model_check_inputs(s->m, s->eval[i].x, s->eval[i].n * s->in,
                                   *name ? "eval" : "eval-x", st_eval_x(cfg, i), err);
    if (st != ST_OK && *name && err) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        st_err_set(err, st, "--eval %s: %s", name, why);
    }
    return st;
}

enum st_status st_source_open(struct st_source *s, struct st_train_cfg *cfg,
                              const struct st_model *m, struct st_err *err)
{
    struct st_source q;
    struct st_model_io io = st_model_io(m);
    enum st_status st;

    memset(&q, 0, sizeof q);
    q.m = m;
    q.in = io.in;
    q.ycols = io.rows * st_loss_target_cols(cfg->loss, (int)io.cols);
    q.has_teacher = !cfg->task_data;
    q.dist = cfg->data_dist;
    q.lo = cfg->data_range[0];
    q.hi = cfg->data_range[1];
    st_rng_seed(&q.data_rng, cfg->seed, ST_STREAM_DATA);
    if ((st = build_start(&q, cfg, err)) != ST_OK || (st = load_train(&q, cfg, err)) != ST_OK ||
        (st = complete(&q, cfg, err)) != ST_OK)
        goto fail;
    if (cfg->standardize && q.stand.n == 0 &&
        (st = st_stand_fit(&q.stand, q.train.x, q.train.n, (int)q.in, err)) != ST_OK)
        goto fail;
    for (q.n_eval = 0; q.n_eval < st_eval_count(cfg); q.n_eval++)
        if ((st = load_eval(&q, cfg, q.n_eval, err)) != ST_OK)
            goto fail;
    if (q.stand.n > 0) {
        st_stand_apply(&q.stand, q.train.x, q.train.n);
        st_stand_apply(&q.stand, q.val.x, q.val.n);
        for (int i = 0; i < q.n_eval; i++)
            st_stand_apply(&q.stand, q.eval[i].x, q.eval[i].n);
    }
    *s = q;
    return ST_OK;
fail:
    st_source_free(&q);
    return st;
}

enum st_status st_source_draw(struct st_source *s, float *x, float *y, int B, struct st_err *err)
{
    draw_inputs(s, x, (long)B * s->in);
    return st_teacher_label(&s->teacher, x, y, B, 1, err);
}

static void dataset_free(struct st_dataset *d)
{
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

void st_source_free(struct st_source *s)
{
    if (!s)
        return;
    dataset_free(&s->train);
    st_tokens_free(&s->stream);
    st_bpe_free(s->tokenizer);
    dataset_free(&s->val);
    for (int i = 0; i < ST_EVAL_MAX; i++)
        dataset_free(&s->eval[i]);
    st_params_free(&s->start);
    st_teacher_free(&s->teacher);
    free(s->truth);
    st_stand_free(&s->stand);
    memset(s, 0, sizeof *s);
}

enum st_status st_source_check(const struct st_train_cfg *cfg, struct st_err *err)
{
    if (!st_cfg_given(cfg->x_path) && !st_cfg_given(cfg->y_path) &&
        !st_cfg_given(cfg->teacher_path) && !st_cfg_given(cfg->init_path) &&
        st_eval_count(cfg) == 0 && !st_cfg_stream(cfg))
        return ST_OK;
    struct st_train_cfg c = *cfg;
    struct st_model m;
    struct st_source s;
    enum st_status st = st_model_init(&m, &c.arch, err);
    if (st != ST_OK)
        return st;
    st = st_source_open(&s, &c, &m, err);
    if (st == ST_OK)
        st_source_free(&s);
    st_model_free(&m);
    return st;
}
