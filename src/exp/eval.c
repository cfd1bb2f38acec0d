/* eval.c: see eval.h. */
#include "eval.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/gpt.h"
#include "../core/model.h"
#include "../io/bpe.h"
#include "../io/modelfile.h"
#include "data.h"
#include "model_opts.h"

/* A model ready to run on a set: its parameters (the file's), statistics. */
struct loaded {
    struct st_modelfile mf;
    struct st_model m;     /* the run's view of it (an activation the file does not name) */
    struct st_stand stand;
    struct st_work w;
};

static void loaded_free(struct loaded *l)
{
    st_work_free(&l->w);
    st_stand_free(&l->stand);
    st_model_free(&l->m);
    st_modelfile_free(&l->mf);
}

/* The model of cfg->init_path with cfg's architecture (read once). */
static enum st_status load(struct st_train_cfg *cfg, const unsigned char *given,
                           struct loaded *l, struct st_err *err)
{
    enum st_status st;
    memset(l, 0, sizeof *l);
    if ((st = st_modelfile_read(cfg->init_path, 0, &l->mf, err)) != ST_OK)
        return st;
    st = st_cfg_from_model(cfg, given, &l->mf, cfg->init_opt, cfg->init_path, err);
    if (st == ST_OK)
        st = st_model_init(&l->m, &cfg->arch, err);
    if (st == ST_OK) {
        char label[ST_PATH_MAX + 32];
        snprintf(label, sizeof label, "--%s %s", cfg->init_opt, cfg->init_path);
        st = st_stand_from_meta(&l->stand, &l->mf.meta, label, (int)st_model_io(&l->m).in, err);
    }
    if (st != ST_OK)
        loaded_free(l);
    return st;
}

/* Pass buffers for a set of n rows (st_model_pass_rows). */
static enum st_status passes(struct loaded *l, long n, struct st_err *err)
{
    if (n < 1 || n > 0x7fffffffL)
        return st_err_set(err, ST_ERR_ARG, "%ld rows: expected 1 to 2^31 - 1", n);
    return st_work_init(&l->w, &l->m, (int)st_model_pass_rows(&l->m, n), err);
}

/* Runs the model over x[n] (standardized here, in place), handing each pass's
 * outputs to fn. */
static void run_over(struct loaded *l, float *x, long n,
                     void (*fn)(void *ctx, const float *out, long r0, int B), void *ctx)
{
    struct st_model_io io = st_model_io(&l->m);
    if (l->stand.n > 0)
        st_stand_apply(&l->stand, x, n);
    for (long r0 = 0; r0 < n; r0 += l->w.max_batch) {
        int B = (int)(n - r0 < l->w.max_batch ? n - r0 : l->w.max_batch);
        fn(ctx, st_model_forward(&l->m, &l->mf.p, &l->w, x + r0 * io.in, B), r0, B);
    }
}

struct eval_ctx {
    struct st_loss_sum sum;
    const float *y;
    long ycols, rows, cols;
};

static void add_pass(void *ctx, const float *out, long r0, int B)
{
    struct eval_ctx *e = ctx;
    st_loss_sum_add(&e->sum, out, e->y + r0 * e->ycols, (long)B * e->rows, (int)e->cols);
}

enum st_status st_eval_model(struct st_train_cfg *cfg, const unsigned char *given,
                             struct st_eval_result *r, struct st_err *err)
{
    struct loaded l;
    struct st_npy x, y;
    enum st_status st;

    memset(r, 0, sizeof *r);
    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    if ((st = load(cfg, given, &l, err)) != ST_OK)
        return st;
    r->unnamed = st_cfg_model_unnamed(&l.mf, given);
    struct st_model_io io = st_model_io(&l.m);
    int in = (int)io.in, out = (int)io.cols;
    if (st_cfg_stream(cfg) && l.m.f != &st_gpt_family)
        st = st_err_set(err, ST_ERR_ARG, "--%s: %s is not a language model (a GPT file)",
                        st_cfg_given(cfg->text_path) ? "text" : "tokens", cfg->init_path);
    else if (cfg->loss == ST_LOSS_XENT && out < 2)
        st = st_err_set(err, ST_ERR_ARG, "--loss xent: %s has %d output; classes need at least 2",
                        cfg->init_path, out);
    else if (st_cfg_stream(cfg)) {
        /* A language model on a token stream: every window of it, T apart. */
        struct st_tokens t = { NULL, 0, 0 };
        struct st_bpe *bpe = NULL;
        int text = st_cfg_given(cfg->text_path);
        const char *path = text ? cfg->text_path : cfg->tokens_path;
        if ((!text || !st_cfg_given(cfg->tokenizer) ||
             (st = st_bpe_load(cfg->tokenizer, &bpe, err)) == ST_OK) &&
            (st = st_data_read_stream(path, text, text ? "text" : "tokens", out, bpe, &t,
                                      err)) == ST_OK)
            st = st_data_windows(t.tok, t.n, io.in, LONG_MAX, text ? "text" : "tokens", path,
                                 &x.data, &y.data, &x.rows, err);
        r->bytes_per_token = t.n > 0 ? (double)t.bytes / (double)t.n : 0.0;
        st_tokens_free(&t);
        st_bpe_free(bpe);
    } else if (st_cfg_given(cfg->y_col) && io.rows > 1)
        st = st_err_set(err, ST_ERR_ARG, "--y-col %s: this model has %ld target positions per "
                        "input row, more than one column holds; give the targets as --y",
                        cfg->y_col, io.rows);
    else if (st_cfg_given(cfg->y_col))
        st = st_data_read_split("x", cfg->x_path, cfg->y_col, in, out, cfg->loss, &x, &y, err);
    else if ((st = st_data_read_inputs("x", cfg->x_path, in, &x, err)) == ST_OK)
        st = st_data_read_targets(cfg->y_path, x.rows, io.rows, out, cfg->loss, &y, err);
    if (st == ST_OK && (st = passes(&l, x.rows, err)) == ST_OK) {
        struct eval_ctx e = { .y = y.data, .ycols = io.rows * st_loss_target_cols(cfg->loss, out),
                              .rows = io.rows, .cols = io.cols };
        st_loss_sum_init(&e.sum, cfg->loss);
        run_over(&l, x.data, x.rows, add_pass, &e);
        r->n = x.rows;
        r->loss = st_loss_sum_value(&e.sum);
        r->accuracy = st_loss_sum_accuracy(&e.sum);
    }
    loaded_free(&l);
    st_npy_free(&x);
    st_npy_free(&y);
    return st;
}

struct predict_ctx {
    float *y;
    long per_row;
};

static void copy_pass(void *ctx, const float *out, long r0, int B)
{
    struct predict_ctx *p = ctx;
    memcpy(p->y + r0 * p->per_row, out, (size_t)B * (size_t)p->per_row * sizeof *p->y);
}

/* The model in a file, with the default options and the file's own
 * architecture: *cfg (malloc'd; free it after loaded_free) and l. */
static enum st_status load_file(const char *model, struct st_train_cfg **cfg, struct loaded *l,
                                struct st_err *err)
{
    unsigned char given[ST_OPTIONS_MAX] = { 0 };
    enum st_status st;
    if (!(*cfg = calloc(1, sizeof **cfg)))
        return st_err_set(err, ST_ERR_NOMEM, "out of memory");
    st_train_cfg_defaults(*cfg);
    snprintf((*cfg)->init_path, sizeof (*cfg)->init_path, "%s", model);
    snprintf((*cfg)->init_opt, sizeof (*cfg)->init_opt, "model");
    if ((st = load(*cfg, given, l, err)) != ST_OK) {
        free(*cfg);
        *cfg = NULL;
    }
    return st;
}

enum st_status st_model_predict(const char *model, const float *x, long n, int in, float **y,
                                int *out, struct st_err *err)
{
    struct st_train_cfg *cfg;
    struct loaded l;
    float *xs = NULL;
    enum st_status st;

    *y = NULL;
    if ((st = load_file(model, &cfg, &l, err)) != ST_OK)
        return st;
    struct st_model_io io = st_model_io(&l.m);
    long per_row = io.rows * io.cols;
    if (io.in != in)
        st = st_err_set(err, ST_ERR_ARG, "%s: %ld inputs; the data has %d", model, io.in, in);
    else
        st = passes(&l, n, err);
    if (st == ST_OK && (!(xs = malloc((size_t)n * (size_t)in * sizeof *xs)) ||
                        !(*y = malloc((size_t)n * (size_t)per_row * sizeof **y))))
        st = st_err_set(err, ST_ERR_NOMEM, "cannot allocate %ld rows of outputs", n);
    if (st == ST_OK) {
        struct predict_ctx p = { *y, per_row };
        memcpy(xs, x, (size_t)n * (size_t)in * sizeof *xs);
        run_over(&l, xs, n, copy_pass, &p);
        *out = (int)per_row;
    } else {
        free(*y);
        *y = NULL;
    }
    free(xs);
    loaded_free(&l);
    free(cfg);
    return st;
}

/* One token from logits[V]: the largest at temperature 0; otherwise a draw
 * from softmax(logits / temperature) over the top_k largest (all when top_k
 * is 0), with u uniform in [0, 1). */
static uint32_t pick(const float *logits, long V, double temperature, int top_k, double u,
                     double *p)
{
    long best = 0;
    for (long v = 1; v < V; v++)
        if (logits[v] > logits[best])
            best = v;
    if (temperature <= 0.0)
        return (uint32_t)best;
    /* The k-th largest logit is the floor of the kept ones (ties kept). */
    double floor_at = -(double)INFINITY;
    if (top_k > 0 && top_k < V) {
        for (long v = 0; v < V; v++)
            p[v] = (double)logits[v];
        for (int k = 0; k < top_k; k++) {
            long m = -1;
            for (long v = 0; v < V; v++)
                if (!isnan(p[v]) && (m < 0 || p[v] > p[m]))
                    m = v;
            floor_at = p[m];
            p[m] = (double)NAN;
        }
    }
    double sum = 0.0;
    for (long v = 0; v < V; v++) {
        p[v] = (double)logits[v] >= floor_at
                   ? exp(((double)logits[v] - (double)logits[best]) / temperature)
                   : 0.0;
        sum += p[v];
    }
    double acc = 0.0, at = u * sum;
    for (long v = 0; v < V; v++) {
        acc += p[v];
        if (p[v] > 0.0 && at < acc)
            return (uint32_t)v;
    }
    return (uint32_t)best;
}

enum st_status st_model_sample(const char *model, const uint32_t *prompt, long n_prompt,
                               long length, double temperature, int top_k, uint64_t seed,
                               uint32_t **out, long *n_out, struct st_err *err)
{
    struct st_train_cfg *cfg;
    struct loaded l;
    enum st_status st;

    *out = NULL;
    *n_out = 0;
    if ((st = load_file(model, &cfg, &l, err)) != ST_OK)
        return st;
    struct st_model_io io = st_model_io(&l.m);
    long T = io.in, V = io.cols, n = n_prompt + length;
    uint32_t *tok = malloc(((size_t)n + 1) * sizeof *tok);
    float *x = malloc((size_t)T * sizeof *x);
    double *p = malloc((size_t)V * sizeof *p);
    if (l.m.f != &st_gpt_family)
        st = st_err_set(err, ST_ERR_ARG, "--model %s: not a language model (a GPT file)", model);
    else if (!tok || !x || !p)
        st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
    else
        st = st_work_init(&l.w, &l.m, 1, err);
    for (long i = 0; st == ST_OK && i < n_prompt; i++) {
        if (prompt[i] >= (uint32_t)V)
            st = st_err_set(err, ST_ERR_ARG, "--prompt: token %ld is %u, past the model's "
                            "vocabulary of %ld", i, prompt[i], V);
        tok[i] = prompt[i];
    }
    if (st == ST_OK && n_prompt < 1)
        st = st_err_set(err, ST_ERR_ARG, "--prompt: empty; expected at least one token");
    struct st_rng rng;
    st_rng_seed(&rng, seed, ST_STREAM_DATA);
    /* Each new token from the last T (the context) before it: positions past
     * the end of a shorter context hold token 0, which the causal mask keeps
     * from every position read. */
    for (long k = n_prompt; st == ST_OK && k < n; k++) {
        long start = k > T ? k - T : 0, len = k - start;
        for (long t = 0; t < T; t++)
            x[t] = t < len ? (float)tok[start + t] : 0.0f;
        const float *logits = st_model_forward(&l.m, &l.mf.p, &l.w, x, 1);
        tok[k] = pick(logits + (len - 1) * V, V, temperature, top_k, st_rng_uniform(&rng), p);
    }
    if (st == ST_OK) {
        *out = tok;
        *n_out = n;
    } else {
        free(tok);
    }
    free(x);
    free(p);
    loaded_free(&l);
    free(cfg);
    return st;
}
