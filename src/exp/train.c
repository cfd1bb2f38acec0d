/* train.c: one run: set up (model, data source, objective, optimizer,
 * buffers), write the start, train and log, finish. Row k of metrics.csv
 * describes theta_k (after k updates); its loss terms come from the forward
 * pass that produces update k+1, so logging costs no extra pass; the last row
 * takes one extra forward pass. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fisher.h"
#include "../core/par.h"
#include "../core/runtime.h"
#include "../core/select.h"
#include "../io/delta.h"
#include "../io/file.h"
#include "../io/npy.h"
#include "checkpoint.h"
#include "products.h"
#include "rundir.h"
#include "run.h"
#include "summary.h"

/* The data-parallel ranks (1 alone), and whether this process writes the
 * run directory (rank 0, or alone). */
static int n_ranks(const struct st_run *r)
{
    return r->hooks && r->hooks->coll ? r->hooks->coll->size : 1;
}

/* The batches a step takes: --grad-accum's on each rank. */
static long batches_per_step(const struct st_run *r)
{
    return r->cfg.grad_accum * n_ranks(r);
}

static int writes(const struct st_run *r)
{
    return !(r->hooks && r->hooks->coll && r->hooks->coll->rank > 0);
}

/* Whether the proximal step needs the optimizer's steps in a buffer of their
 * own: not for l1, whose step the optimizer's pass takes (update). */
static int prox_steps(const struct st_train_cfg *c)
{
    return c->prox && c->penalty != ST_PEN_L1;
}

/* The memory of a run of model m (mem, every part but data), with data_bytes
 * for its data sets (drawn ones are counted here when data_bytes < 0). The
 * sizes are those the setup below allocates: every copy of the parameters
 * is the layout's n floats (views aligned), the work buffers are the
 * family's for the batch and for one evaluation pass; a step of several
 * batches (per_step) holds one batch's gradient besides their sum. */
static enum st_status plan_memory(const struct st_train_cfg *c, const struct st_model *m,
                                  long per_step, double data_bytes, long eval_rows,
                                  struct st_run_memory *mem, struct st_err *err)
{
    struct st_params layout;
    enum st_status st = st_model_layout(m, &layout, err);
    if (st != ST_OK)
        return st;
    double n = (double)layout.n, most = (double)st_svd_max_entries(&layout);
    st_params_free(&layout);
    struct st_model_io io = st_model_io(m);
    long B = c->batch > 0 ? c->batch : 1;
    double in = (double)io.in, ycols = (double)io.rows * st_loss_target_cols(c->loss, (int)io.cols);
    memset(mem, 0, sizeof *mem);
    mem->batch_rows = B;
    mem->params = mem->start = 4.0 * n;
    mem->grad = 4.0 * n * (per_step > 1 ? 2.0 : 1.0);
    mem->optim = 4.0 * n * (c->opt.kind == ST_OPT_SGD ? 1.0 : 2.0);
    mem->teacher = c->task_data ? 0.0 : 4.0 * n;
    mem->prox = prox_steps(c) ? 4.0 * n : 0.0;
    if (data_bytes < 0.0) {
        /* Drawn data: the set and its labels; a file's are counted once read. */
        double rows = st_cfg_given(c->x_path) || c->online ? 0.0 : (double)c->data_size;
        data_bytes = 4.0 * rows * (in + ycols);
    }
    mem->data = data_bytes;
    /* The batch's inputs and targets (unless the whole set is the batch) and
     * dLoss/doutputs. */
    int full = !c->online && !st_cfg_stream(c) && c->batch == c->data_size;
    mem->batch = 4.0 * (double)B * ((double)io.rows * (double)io.cols) +
                 (full ? 0.0 : 4.0 * (double)B * (in + ycols));
    mem->work = m->f->work_bytes(m, B);
    mem->eval_work = eval_rows > 0 ? m->f->work_bytes(m, st_model_pass_rows(m, eval_rows)) : 0.0;
    mem->spectrum = c->spectrum_every > 0 ? 5.0 * 4.0 * most : 0.0;
    mem->total = st_run_memory_copies(mem) + mem->data + mem->batch + mem->work + mem->eval_work +
                 mem->spectrum;
    mem->available = st_memory_available();
    return ST_OK;
}

static double set_bytes(const struct st_dataset *d, long in, long ycols)
{
    return 4.0 * (double)d->n * (double)(in + (d->y ? ycols : 0));
}

/* The run's memory with its data read (r->memory), reported to the caller;
 * refused if it does not fit. */
static enum st_status plan_run(struct st_run *r, struct st_err *err)
{
    const struct st_source *s = &r->src;
    double data = set_bytes(&s->train, s->in, s->ycols) + set_bytes(&s->val, s->in, s->ycols) +
                  4.0 * (double)s->stream.n;
    long eval_rows = s->val.n;
    for (int i = 0; i < s->n_eval; i++) {
        data += set_bytes(&s->eval[i], s->in, s->ycols);
        eval_rows = s->eval[i].n > eval_rows ? s->eval[i].n : eval_rows;
    }
    enum st_status st = plan_memory(&r->cfg, &r->model, batches_per_step(r), data, eval_rows,
                                    &r->memory, err);
    if (st != ST_OK)
        return st;
    if (r->hooks && r->hooks->memory)
        r->hooks->memory(r->hooks->memory_user, &r->memory);
    /* --dry-run reports a run that would not fit as well (its caller says so). */
    return r->cfg.dry_run ? ST_OK : st_check_memory(r->memory.total, "the run", err);
}

/* Refuses, before the run allocates its parameters, a run whose parameters,
 * their copies, work buffers and drawn data would not fit the memory this
 * process may use (files are checked by their readers); the plan in *plan. */
static enum st_status check_memory(const struct st_train_cfg *c, const struct st_model *m,
                                   long per_step, struct st_run_memory *plan, struct st_err *err)
{
    struct st_run_memory mem;
    /* A drawn set is labelled in passes as large as an evaluation's. */
    long drawn = st_cfg_given(c->x_path) || c->online ? 0 : c->data_size;
    enum st_status st = plan_memory(c, m, per_step, -1.0, drawn, &mem, err);
    if (st != ST_OK)
        return st;
    *plan = mem;
    struct st_params layout;
    if ((st = st_model_layout(m, &layout, err)) != ST_OK)
        return st;
    double params = st_params_count(&layout);
    st_params_free(&layout);
    struct st_model_io io = st_model_io(m);
    double cols = (double)io.in + (double)io.rows * st_loss_target_cols(c->loss, (int)io.cols);
    char what[200];
    snprintf(what, sizeof what,
             "the run (%.0f parameters, %.0f copies of them, %ld samples of %.0f values)", params,
             st_run_memory_copies(&mem) / mem.params,
             drawn, cols);
    return st_check_memory(mem.total, what, err);
}

/* The objective and which tensors train, from the selectors. */
static enum st_status setup_objective(struct st_run *r, struct st_err *err)
{
    const struct st_train_cfg *c = &r->cfg;
    int n = r->theta.n_views;
    enum st_status st;
    r->trainable = malloc((size_t)n + 1);
    r->lambda_mult = malloc(((size_t)n + 1) * sizeof *r->lambda_mult);
    r->prox_c = malloc(((size_t)n + 1) * sizeof *r->prox_c);
    if (!r->trainable || !r->lambda_mult || !r->prox_c)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    if ((st = st_select(&r->theta, "freeze", c->freeze, r->trainable, err)) != ST_OK ||
        (st = st_select_scale(&r->theta, "lambda-scale", c->lambda_scale, r->lambda_mult, err)) !=
            ST_OK)
        return st;
    for (int t = 0; t < n; t++)
        r->trainable[t] = !r->trainable[t];
    r->obj.loss = c->loss;
    r->obj.lambda = c->lambda;
    r->obj.prox = c->prox;
    return st_penalty_init(&r->obj.pen, c->penalty, c->reduction, c->lambda, r->lambda_mult,
                           r->trainable, c->nuclear_bias_l1, &r->theta, err);
}

/* Pass buffers for the validation and evaluation sets: one pass over the
 * larger set, or pieces of it (st_model_pass_rows). */
static enum st_status setup_eval(struct st_run *r, struct st_err *err)
{
    long n = r->src.val.n;
    for (int i = 0; i < r->src.n_eval; i++)
        n = r->src.eval[i].n > n ? r->src.eval[i].n : n;
    if (n == 0)
        return ST_OK;
    return st_work_init(&r->ework, &r->model, (int)st_model_pass_rows(&r->model, n), err);
}

/* The fisher reduction's prices: the Fisher diagonal at theta0 over the
 * training rows, in passes of the training buffers (fisher.h). It runs once
 * theta0 is final (a resumed run's comes from its checkpoint), and not at
 * lambda = 0, where no price is used. */
static enum st_status setup_fisher(struct st_run *r, struct st_err *err)
{
    const struct st_train_cfg *c = &r->cfg;
    if (c->reduction != ST_RED_FISHER || c->penalty == ST_PEN_NONE || c->lambda == 0.0)
        return ST_OK;
    if (!r->src.train.x) /* st_train_cfg_resolve refuses it first */
        return st_err_set(err, ST_ERR_ARG, "--penalty-reduction fisher: no training set");
    double *f = malloc(((size_t)r->theta.n_views + 1) * sizeof *f);
    if (!f)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    enum st_status st = st_fisher_means(&r->model, &r->src.start, &r->work, c->loss,
                                        r->src.train.x, r->src.train.n, ST_FISHER_PROBES, c->seed,
                                        r->trainable, f, err);
    if (st == ST_OK)
        st_penalty_set_fisher(&r->obj.pen, f);
    free(f);
    return st;
}

/* The spectrum columns' SVD workspace, only when they are computed. */
static enum st_status setup_spectrum(struct st_run *r, struct st_err *err)
{
    int n = r->theta.n_views;
    r->nuc = malloc(((size_t)n + 1) * sizeof *r->nuc);
    r->rank = malloc(((size_t)n + 1) * sizeof *r->rank);
    if (!r->nuc || !r->rank)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    for (int t = 0; t < n; t++) {
        r->nuc[t] = (double)NAN; /* null in summary.json */
        r->rank[t] = -1;
    }
    if (r->cfg.spectrum_every == 0)
        return ST_OK;
    size_t most = st_svd_max_entries(&r->theta);
    enum st_status st = st_svd_init(&r->svd, most, err);
    if (st == ST_OK && !(r->svd_scratch = malloc(most * sizeof(float))))
        st = st_err_set(err, ST_ERR_NOMEM, "cannot allocate the spectrum scratch");
    return st;
}

/* Everything the run needs, every input read once (before --force clears the
 * run directory, which may hold them: finetune --model RUN/student.safetensors
 * --out RUN). */
static enum st_status run_setup(struct st_run *r, struct st_err *err)
{
    struct st_train_cfg *c = &r->cfg;
    enum st_status st;
    if ((st = st_model_init(&r->model, &c->arch, err)) != ST_OK)
        return st;
    st = check_memory(c, &r->model, batches_per_step(r), &r->memory, err);
    if (st == ST_ERR_NOMEM && c->dry_run) {
        /* Too large to read the data for: this plan is the table --dry-run
         * shows, and its caller the refusal. */
        if (r->hooks && r->hooks->memory)
            r->hooks->memory(r->hooks->memory_user, &r->memory);
        return ST_OK;
    }
    if (st != ST_OK || (st = st_source_open(&r->src, c, &r->model, err)) != ST_OK ||
        (st = plan_run(r, err)) != ST_OK)
        return st;
    if (batches_per_step(r) > 1 && !c->online && !st_cfg_stream(c) &&
        c->batch >= r->src.train.n)
        return st_err_set(err, ST_ERR_ARG, "%s accumulates minibatches, but the batch is the "
                          "whole training set (%ld rows), the same rows each time; give --batch "
                          "B below it", n_ranks(r) > 1 ? "a run on several MPI ranks" :
                          "--grad-accum", r->src.train.n);
    if (c->dry_run)
        return ST_OK;
    if ((st = st_params_twin(&r->theta, &r->src.start, err)) != ST_OK)
        return st;
    st_params_copy(&r->theta, &r->src.start);
    struct st_model_io io = st_model_io(&r->model);
    int B = (int)c->batch;
    if ((st = setup_objective(r, err)) != ST_OK ||
        (st = st_params_twin(&r->grad, &r->theta, err)) != ST_OK ||
        (batches_per_step(r) > 1 &&
         (st = st_params_twin(&r->micro, &r->theta, err)) != ST_OK) ||
        (st = st_optim_init(&r->opt, &c->opt, &r->theta, err)) != ST_OK ||
        (prox_steps(c) && (st = st_params_twin(&r->steps, &r->theta, err)) != ST_OK) ||
        (st = st_work_init(&r->work, &r->model, B, err)) != ST_OK ||
        (st = st_products_choose(&r->model, B, r->cfg.products, err)) != ST_OK ||
        (st = setup_eval(r, err)) != ST_OK ||
        (st = st_observables_init(&r->obs, r->theta.n_views, err)) != ST_OK ||
        (st = setup_spectrum(r, err)) != ST_OK ||
        (st = st_batches_init(&r->batches, &r->src, B, c->online, c->seed, err)) != ST_OK)
        return st;
    r->dy = malloc(((size_t)B * (size_t)io.rows * (size_t)io.cols + 1) * sizeof *r->dy);
    if (!r->dy)
        return st_err_set(err, ST_ERR_NOMEM, "cannot allocate batch buffers");
    r->tally.loss_tail = (double)INFINITY;
    return ST_OK;
}

static void run_free(struct st_run *r)
{
    st_metrics_log_close(&r->log);
    st_batches_free(&r->batches);
    free(r->dy);
    free(r->nuc);
    free(r->rank);
    free(r->svd_scratch);
    st_svd_free(&r->svd);
    st_observables_free(&r->obs);
    st_work_free(&r->ework);
    st_work_free(&r->work);
    st_params_free(&r->steps);
    st_optim_free(&r->opt);
    st_params_free(&r->grad);
    st_params_free(&r->micro);
    st_penalty_free(&r->obj.pen);
    free(r->trainable);
    free(r->lambda_mult);
    free(r->prox_c);
    st_params_free(&r->theta);
    st_source_free(&r->src);
    st_model_free(&r->model);
}

/* config.ini, the start's model files and, with --save-data, the data. */
/* The layout the student's files are written in: --export-layout, or with
 * auto the start model file's own (a GPT-2 file's hf or nanogpt). */
static const char *export_layout(const struct st_run *r)
{
    return r->cfg.export_layout == 0 ? r->src.layout
                                     : st_export_layout_names[r->cfg.export_layout];
}

static enum st_status write_start(struct st_run *r, struct st_err *err)
{
    const struct st_train_cfg *c = &r->cfg;
    const struct st_source *s = &r->src;
    char path[4200];
    enum st_status st;
    if ((st = st_rundir_write_config(c, &r->model, err)) != ST_OK ||
        (s->has_teacher && (st = st_rundir_save_model(c->out, "teacher.safetensors", "teacher",
                                                      &r->model, &s->teacher.p, &s->stand, NULL,
                                                      err)) != ST_OK) ||
        (st = st_rundir_save_model(c->out, "student_init.safetensors", "student_init",
                                   &r->model, &s->start, &s->stand, export_layout(r),
                                   err)) != ST_OK)
        return st;
    if (!c->save_data)
        return ST_OK;
    if ((st = st_path_join(path, sizeof path, c->out, "x.npy", err)) != ST_OK ||
        (st = st_npy_write_f32(path, s->train.x, s->train.n, s->in, err)) != ST_OK ||
        (st = st_path_join(path, sizeof path, c->out, "y.npy", err)) != ST_OK)
        return st;
    return st_npy_write_f32(path, s->train.y, s->train.n, s->ycols, err);
}

/* The data loss (and accuracy, xent) of the current student on a held-out
 * set into ev[0], ev[1], in passes of the eval buffers' rows; NaN where there
 * is none. */
static void evaluate(struct st_run *r, const struct st_dataset *d, double ev[2])
{
    struct st_model_io io = st_model_io(&r->model);
    struct st_loss_sum sum;
    long ycols = r->src.ycols;
    ev[0] = ev[1] = (double)NAN;
    if (d->n == 0)
        return;
    st_loss_sum_init(&sum, r->obj.loss);
    for (long r0 = 0; r0 < d->n; r0 += r->ework.max_batch) {
        int B = (int)(d->n - r0 < r->ework.max_batch ? d->n - r0 : r->ework.max_batch);
        const float *yhat =
            st_model_forward(&r->model, &r->theta, &r->ework, d->x + r0 * io.in, B);
        st_loss_sum_add(&sum, yhat, d->y + r0 * ycols, (long)B * io.rows, (int)io.cols);
    }
    ev[0] = st_loss_sum_value(&sum);
    ev[1] = st_loss_sum_accuracy(&sum);
}

/* Observes theta_k, writes its metrics row and returns its loss, data loss +
 * lambda * R; the spectrum columns every spectrum_every steps and at the end. */
static double log_row(struct st_run *r, long k, double data_loss, double acc, double *pen)
{
    const struct st_train_cfg *c = &r->cfg;
    struct st_run_tally *t = &r->tally;
    int spectrum = c->spectrum_every > 0 && (k % c->spectrum_every == 0 || k == c->steps);
    struct st_metrics_row row = { .step = k, .loss_data = data_loss, .accuracy = acc,
                                  .obs = &r->obs };
    evaluate(r, &r->src.val, row.ev);
    for (int i = 0; i < r->src.n_eval; i++) {
        evaluate(r, &r->src.eval[i], row.ev + 2 + 2 * i);
        if (k == 0) {
            t->eval0[i][0] = row.ev[2 + 2 * i];
            t->eval0[i][1] = row.ev[3 + 2 * i];
        }
        t->eval_last[i][0] = row.ev[2 + 2 * i];
        t->eval_last[i][1] = row.ev[3 + 2 * i];
    }
    if (k == 0)
        t->val_best = (double)INFINITY;
    t->val_last[0] = row.ev[0];
    t->val_last[1] = row.ev[1];
    if (row.ev[0] < t->val_best)
        t->val_best = row.ev[0];
    st_observe(&r->obs, &r->theta, &r->src.start, r->src.has_teacher ? &r->src.teacher.p : NULL,
               ST_CHANGED_EPS);
    *pen = st_penalty_value_with(&r->obj.pen, &r->theta, &r->src.start, r->obs.sum_abs);
    if (spectrum) {
        st_spectrum(&r->theta, &r->src.start, &r->svd, r->svd_scratch, ST_RANK_TOL, r->nuc,
                    r->rank);
        row.nuc = r->nuc;
        row.rank = r->rank;
    }
    row.penalty = *pen;
    row.loss = data_loss + c->lambda * *pen;
    if (writes(r))
        st_metrics_log_row(&r->log, &row);
    return row.loss;
}

/* Passes over a gradient buffer on the run's threads (par.h). */
enum buf_op {
    BUF_ZERO,  /* dst = 0 */
    BUF_COPY,  /* dst = src */
    BUF_ADD,   /* dst += src */
    BUF_SCALE, /* dst *= scale */
};

struct buf_job {
    float *dst;
    const float *src;
    float scale;
    enum buf_op op;
};

static void buf_range(void *ctx, size_t lo, size_t hi)
{
    const struct buf_job *j = ctx;
    float *d = j->dst;
    switch (j->op) {
    case BUF_ZERO: memset(d + lo, 0, (hi - lo) * sizeof *d); break;
    case BUF_COPY: memcpy(d + lo, j->src + lo, (hi - lo) * sizeof *d); break;
    case BUF_ADD:
        for (size_t i = lo; i < hi; i++)
            d[i] += j->src[i];
        break;
    case BUF_SCALE:
        for (size_t i = lo; i < hi; i++)
            d[i] *= j->scale;
        break;
    }
}

static void buf_pass(float *dst, const float *src, float scale, enum buf_op op, size_t n)
{
    struct buf_job j = { dst, src, scale, op };
    st_par_range(n, buf_range, &j);
}

/* The gradient of the data loss on the batch of the last forward pass
 * (outputs yhat, targets y) into g, zeroed first. */
static void backward(struct st_run *r, const float *yhat, const float *y, int B,
                     struct st_params *g)
{
    struct st_model_io io = st_model_io(&r->model);
    buf_pass(g->mem, NULL, 0.0f, BUF_ZERO, g->n);
    st_loss_backward(r->obj.loss, r->dy, yhat, y, (long)B * io.rows, (int)io.cols);
    st_model_backward(&r->model, &r->theta, &r->work, g, r->dy, B, r->trainable);
}

/* The update from the data loss's gradient in r->grad: the penalty's
 * subgradient added, the optimizer's step, or the step and then the
 * penalty's proximal operator. */
static void update(struct st_run *r)
{
    struct st_objective *o = &r->obj;
    if (o->prox && st_penalty_l1_factors(&o->pen, r->prox_c)) {
        /* l1's soft threshold in the optimizer's own pass: the same bits */
        st_optim_step_prox_l1(&r->opt, &r->theta, &r->grad, r->trainable, &r->src.start,
                              r->prox_c);
        return;
    }
    if (!o->prox)
        st_penalty_grad(&o->pen, &r->grad, &r->theta, &r->src.start);
    st_optim_step(&r->opt, &r->theta, &r->grad, r->trainable);
    if (o->prox) {
        /* The optimizer stepped on the data loss alone; now the penalty's
         * proximal operator, in the optimizer's own metric. */
        st_optim_steps(&r->opt, &r->steps, r->trainable);
        st_penalty_prox(&o->pen, &r->theta, &r->src.start, &r->steps);
    }
}

/* The passes of step k at theta_k: K batches (--grad-accum, times the
 * ranks), each forward and, before the last row (whose pass only logs),
 * backward. One batch's gradient goes straight into r->grad; with K > 1 each
 * goes into r->micro alone, r->grad = g_0, then += g_1, ... in batch order
 * and is scaled by 1/K (so a sum of the same gradients made elsewhere in
 * this order gives the same bits). The data loss and accuracy are the K
 * batches' mean. */
static enum st_status passes(struct st_run *r, int last, double *loss, double *acc,
                             struct st_err *err)
{
    const struct st_train_cfg *c = &r->cfg;
    struct st_model_io io = st_model_io(&r->model);
    const struct st_collective *coll = r->hooks ? r->hooks->coll : NULL;
    int B = (int)c->batch, rank = coll ? coll->rank : 0;
    long A = c->grad_accum, K = batches_per_step(r), own = 0;
    double sum[2] = { 0.0, 0.0 }; /* the data loss, the hits */
    enum st_status st;
    for (long j = 0; j < K; j++) {
        const float *x = NULL, *y = NULL;
        long h = 0;
        /* Every rank draws every batch, so that the order stream stays one;
         * rank q computes batches q*A .. q*A + A - 1. */
        if ((st = st_batches_next(&r->batches, &r->src, &x, &y, err)) != ST_OK)
            return st;
        if (j / A != rank)
            continue;
        const float *yhat = st_model_forward(&r->model, &r->theta, &r->work, x, B);
        if (!yhat)
            return st_err_set(err, ST_ERR_ARG, "a batch of %d rows: the pass buffers hold %d", B,
                              r->work.max_batch);
        sum[0] += (double)st_loss_forward(c->loss, yhat, y, (long)B * io.rows, (int)io.cols, &h);
        sum[1] += (double)h;
        if (last)
            continue;
        if (K == 1) {
            backward(r, yhat, y, B, &r->grad);
            continue;
        }
        backward(r, yhat, y, B, &r->micro);
        buf_pass(r->grad.mem, r->micro.mem, 0.0f, own == 0 ? BUF_COPY : BUF_ADD, r->grad.n);
        own++;
    }
    if (coll && coll->size > 1) {
        coll->sum_doubles(coll->user, sum, 2);
        if (!last)
            coll->sum_floats(coll->user, r->grad.mem, r->grad.n);
    }
    if (!last && K > 1)
        buf_pass(r->grad.mem, NULL, 1.0f / (float)K, BUF_SCALE, r->grad.n);
    *loss = sum[0] / (double)K;
    *acc = sum[1] / ((double)K * (double)B * (double)io.rows);
    return ST_OK;
}

/* Where the loop ended. */
struct loop_end {
    long k;              /* updates taken */
    double data_loss, accuracy, penalty, loss;
    int diverged;
    double seconds;      /* of the whole run, earlier processes included */
};

/* Steps k0..steps, logging and checkpointing; stops at a non-finite loss.
 * Returns ST_OK (finished or diverged, see e->diverged), ST_ERR_INTERRUPTED
 * (checkpointed at the stop request), or an error. */
static enum st_status train_loop(struct st_run *r, long k0, double elapsed, struct loop_end *e,
                                 struct st_err *err)
{
    const struct st_train_cfg *c = &r->cfg;
    const struct st_train_hooks *h = r->hooks;
    double t0 = st_seconds_now() - elapsed;
    int stop = 0; /* the progress report asked to stop */
    enum st_status st;

    e->accuracy = (double)NAN; /* of the pass, xent only */
    for (long k = k0;; k++) {
        int log = k % c->log_every == 0 || k == c->steps;
        e->k = k;
        /* A checkpoint every checkpoint_every steps, and on a stop request:
         * the state before step k, which the next run takes up. Past the
         * last step only the final row is left: the run finishes. */
        stop |= h && h->stop && *h->stop;
        if (n_ranks(r) > 1) {
            /* A stop request reaches the ranks at different steps: all stop
             * at the first step any of them saw it. */
            double any = stop;
            h->coll->sum_doubles(h->coll->user, &any, 1);
            stop = any > 0.0;
        }
        if (k < c->steps &&
            (stop || (c->checkpoint_every > 0 && k > k0 && k % c->checkpoint_every == 0))) {
            if (writes(r) && (st = st_checkpoint_save(r, k, st_seconds_now() - t0, err)) != ST_OK)
                return st;
            if (stop)
                return st_err_set(err, ST_ERR_INTERRUPTED,
                                  "interrupted at step %ld of %ld; the state is saved in %s/%s",
                                  k, c->steps, c->out, ST_CHECKPOINT_FILE);
        }
        double acc = 0.0;
        if ((st = passes(r, k == c->steps, &e->data_loss, &acc, err)) != ST_OK)
            return st;
        if (c->loss == ST_LOSS_XENT)
            e->accuracy = acc;
        e->loss = e->data_loss;
        /* The final value may sit on a loss spike; the lowest of the last 10%
         * of the steps ranks runs more robustly. */
        if (k >= c->steps - c->steps / 10 && !(e->data_loss >= r->tally.loss_tail))
            r->tally.loss_tail = e->data_loss;
        if (log) {
            e->loss = log_row(r, k, e->data_loss, e->accuracy, &e->penalty);
            /* Notice a full disk now, not at the end of a long run. */
            if (writes(r) && ferror(r->log.f))
                return st_err_set(err, ST_ERR_IO, "cannot write %s/metrics.csv at step %ld",
                                  c->out, k);
        }
        if (!isfinite(e->loss)) {
            if (!log)
                log_row(r, k, e->data_loss, e->accuracy, &e->penalty);
            e->diverged = 1;
            break;
        }
        if (k == c->steps)
            break;
        update(r);
        if (r->obj.pen.svd_failed) {
            if (writes(r))
                fflush(r->log.f);
            return st_err_set(err, ST_ERR_NUMERIC,
                              "step %ld: LAPACK's SVD of an update matrix did not converge "
                              "(nuclear penalty); metrics up to that step are in "
                              "%s/metrics.csv",
                              k, c->out);
        }
        if (h && h->progress && h->progress(h->user, k + 1, c->steps, e->data_loss))
            stop = 1;
    }
    e->seconds = st_seconds_now() - t0;
    return ST_OK;
}

/* The final numbers of the run and its verdict. */
static enum st_status collect(struct st_run *r, const struct loop_end *e,
                              struct st_train_result *res, struct st_err *err)
{
    const struct st_train_cfg *c = &r->cfg;
    int n = r->theta.n_views;
    enum st_status st = st_result_init(res, n, err);
    if (st != ST_OK)
        return st;
    res->steps_done = e->k;
    res->diverged = e->diverged;
    res->wall_seconds = e->seconds;
    res->steps_per_second = e->seconds > 0.0 ? (double)e->k / e->seconds : 0.0;
    res->data_loss = e->data_loss;
    res->accuracy = e->accuracy;
    res->penalty = e->penalty;
    res->loss = e->loss;
    res->data_loss_tail = r->tally.loss_tail;
    res->n_eval = r->src.n_eval;
    for (int i = 0; i < r->src.n_eval; i++) {
        res->eval[i].before = r->tally.eval0[i][0];
        res->eval[i].acc_before = r->tally.eval0[i][1];
        res->eval[i].after = r->tally.eval_last[i][0];
        res->eval[i].acc_after = r->tally.eval_last[i][1];
        res->eval[i].bytes_per_token = r->src.eval[i].bytes_per_token;
    }
    res->bytes_per_token = r->src.train.bytes_per_token;
    res->val_rows = r->src.val.n;
    res->val_loss = r->tally.val_last[0];
    res->val_accuracy = r->tally.val_last[1];
    res->val_best = r->tally.val_best;
    double *sizes = malloc(((size_t)n + 1) * 2 * sizeof *sizes), *shares = sizes + n + 1;
    if (!sizes)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    for (int t = 0; t < n; t++)
        sizes[t] = (double)st_view_size(&r->theta.v[t]);
    st_update_shares(r->obs.d_init, sizes, n, shares);
    if (c->spectrum_every > 0)
        st_spectrum(&r->theta, &r->src.start, &r->svd, r->svd_scratch, ST_RANK_TOL, r->nuc,
                    r->rank);
    for (int t = 0; t < n; t++) {
        const struct st_view *v = &r->theta.v[t];
        struct st_tensor_result *tr = &res->t[t];
        snprintf(tr->name, sizeof tr->name, "%s", v->name);
        snprintf(tr->unit, sizeof tr->unit, "%s", v->groups[0]);
        snprintf(tr->half, sizeof tr->half, "%s", v->n_groups > 1 ? v->groups[1] : "");
        size_t hl = strlen(tr->half);
        snprintf(tr->kind, sizeof tr->kind, "%s", /* st_kinds: the fingerprint's order */
                 v->kind == ST_KIND_EMBEDDING                    ? st_kinds[0]
                 : v->kind == ST_KIND_NORM                       ? st_kinds[3]
                 : hl > 5 && !strcmp(tr->half + hl - 5, ".attn") ? st_kinds[1]
                 : hl > 4 && !strcmp(tr->half + hl - 4, ".mlp")  ? st_kinds[2]
                                                                 : "");
        tr->matrix = v->ndim == 2;
        tr->size = (long)st_view_size(v);
        tr->d_init = r->obs.d_init[t];
        tr->d_teacher = r->obs.d_teacher[t];
        tr->changed = r->obs.changed[t];
        tr->zero = r->obs.zero[t];
        tr->update_share = shares[t];
        tr->nuclear = r->nuc[t];
        tr->price = st_penalty_price(&r->obj.pen, t);
        tr->rank = r->rank[t];
        tr->truth = r->src.truth ? r->src.truth[t] : 0;
    }
    free(sizes);
    st_judge(res, c, &r->obj.pen);
    return ST_OK;
}

/* delta.safetensors: the entries of the student that differ from its start
 * (--save-delta), and its size beside student.safetensors' in res. */
static enum st_status save_delta(struct st_run *r, struct st_train_result *res,
                                 struct st_err *err)
{
    const struct st_train_cfg *c = &r->cfg;
    char path[4200];
    struct st_delta_stats d;
    enum st_status st;
    if ((st = st_path_join(path, sizeof path, c->out, "delta.safetensors", err)) != ST_OK ||
        (st = st_delta_write(path, &r->src.start, &r->theta, &d, err)) != ST_OK ||
        (st = st_path_join(path, sizeof path, c->out, "student.safetensors", err)) != ST_OK)
        return st;
    res->delta.changed = d.changed;
    res->delta.entries = d.entries;
    res->delta.bytes = d.bytes;
    res->delta.model_bytes = st_file_size(path);
    return ST_OK;
}

/* The student's file, summary.json; a finished run removes its checkpoint. */
static enum st_status finish(struct st_run *r, struct st_train_result *res, struct st_err *err)
{
    const struct st_train_cfg *c = &r->cfg;
    char path[4200];
    enum st_status st;
    if (!writes(r))
        goto checked;
    if (fflush(r->log.f) != 0 || ferror(r->log.f))
        return st_err_set(err, ST_ERR_IO, "cannot write %s/metrics.csv", c->out);
    if (!res->diverged &&
        (st = st_rundir_save_model(c->out, "student.safetensors", "student", &r->model, &r->theta,
                                   &r->src.stand, export_layout(r), err)) != ST_OK)
        return st;
    if (!res->diverged && c->save_delta && (st = save_delta(r, res, err)) != ST_OK)
        return st;
    if ((st = st_path_join(path, sizeof path, c->out, "summary.json", err)) != ST_OK ||
        (st = st_summary_write(c, res, path, err)) != ST_OK ||
        (st = st_path_join(path, sizeof path, c->out, "fingerprint.csv", err)) != ST_OK ||
        (st = st_fingerprint_write(res, path, err)) != ST_OK)
        return st;
    /* Finished: the outputs are complete, and a checkpoint would only invite
     * a second resume. */
    if (st_path_join(path, sizeof path, c->out, ST_CHECKPOINT_FILE, NULL) == ST_OK)
        remove(path);
checked:
    if (res->diverged && res->steps_done == 0)
        return st_err_set(err, ST_ERR_NUMERIC,
                          "the loss at the start, before any step, is %s: the data (--x, --y, "
                          "--data-range, --label-noise) or the model's outputs are too large for "
                          "float32; metrics are in %s/metrics.csv",
                          isnan(res->loss) ? "NaN" : "infinite", c->out);
    if (res->diverged)
        return st_err_set(err, ST_ERR_NUMERIC,
                          "step %ld: the loss is %s; the run diverged (try a smaller --lr, now "
                          "%g; a large --lambda or a zero --eps can do it too); metrics up to "
                          "that step are in %s/metrics.csv",
                          res->steps_done, isnan(res->loss) ? "NaN" : "infinite", c->opt.lr,
                          c->out);
    return ST_OK;
}

/* The run after its setup: the start written, the loop, the results. */
static enum st_status run_body(struct st_run *r, struct st_train_result *res, struct st_err *err)
{
    const struct st_train_cfg *c = &r->cfg;
    char path[4200];
    long k0 = 0, csv_bytes = -1;
    double elapsed = 0.0; /* seconds before this process took the run up */
    struct loop_end e;
    enum st_status st;

    memset(&e, 0, sizeof e);
    /* Under MPI the other ranks read a checkpoint but write nothing. */
    st = c->resume ? st_checkpoint_load(r, &k0, &csv_bytes, &elapsed, err)
         : writes(r) ? st_rundir_prepare(c, err)
                     : ST_OK;
    if (st == ST_OK)
        st = setup_fisher(r, err);
    if (st == ST_OK && writes(r))
        st = write_start(r, err);
    if (st == ST_OK)
        st = st_path_join(path, sizeof path, c->out, "metrics.csv", err);
    if (st == ST_OK && writes(r))
        st = st_metrics_log_open(&r->log, path, &r->theta, c, r->src.val.n > 0,
                                 r->src.has_teacher, c->resume ? csv_bytes : -1, err);
    if (st == ST_OK)
        st = train_loop(r, k0, elapsed, &e, err);
    if (st == ST_ERR_INTERRUPTED)
        res->steps_done = e.k;
    if (st != ST_OK)
        return st;
    if ((st = collect(r, &e, res, err)) != ST_OK)
        return st;
    res->memory = r->memory;
    return finish(r, res, err);
}

enum st_status st_train_memory_used(const struct st_train_cfg *cfg, struct st_run_memory *plan,
                                    struct st_run_memory *used, struct st_err *err)
{
    struct st_run *r = calloc(1, sizeof *r);
    if (!r)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    r->cfg = *cfg;
    r->cfg.dry_run = 0;
    r->given = cfg;
    struct st_threads was = st_runtime_threads(cfg->threads); /* as a run sets them */
    enum st_status st = run_setup(r, err);
    st_runtime_threads_restore(was);
    if (st == ST_OK) {
        const struct st_source *s = &r->src;
        struct st_model_io io = st_model_io(&r->model);
        *plan = r->memory;
        memset(used, 0, sizeof *used);
        used->params = 4.0 * (double)r->theta.n;
        used->grad = 4.0 * (double)(r->grad.n + r->micro.n);
        used->optim = 4.0 * (double)(r->opt.m.n + r->opt.v.n);
        used->start = 4.0 * (double)s->start.n;
        used->teacher = s->has_teacher ? 4.0 * (double)s->teacher.p.n : 0.0;
        used->prox = 4.0 * (double)r->steps.n;
        used->batch = 4.0 * (double)r->batches.B * (double)(io.rows * io.cols) +
                      (r->batches.x ? 4.0 * (double)r->batches.B * (double)(s->in + s->ycols)
                                    : 0.0);
        used->spectrum = r->svd_scratch ? 4.0 * 5.0 * (double)r->svd.max_entries : 0.0;
    }
    run_free(r);
    free(r);
    return st;
}

enum st_status st_train_run(const struct st_train_cfg *cfg, const struct st_train_hooks *hooks,
                            struct st_train_result *result, struct st_err *err)
{
    struct st_train_result res;
    struct st_run *r = calloc(1, sizeof *r);
    enum st_status st;

    memset(&res, 0, sizeof res);
    if (!r)
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    r->cfg = *cfg;
    r->given = cfg;
    r->hooks = hooks;
    struct st_threads was = st_runtime_threads(cfg->threads);
    st = run_setup(r, err);
    if (st == ST_OK && !cfg->dry_run)
        st = run_body(r, &res, err);
    res.memory = r->memory;
    run_free(r);
    free(r);
    st_runtime_threads_restore(was);
    if (result)
        *result = res;
    else
        st_result_free(&res);
    return st;
}
