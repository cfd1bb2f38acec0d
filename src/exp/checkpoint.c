/* checkpoint.c: see checkpoint.h. */
#define _POSIX_C_SOURCE 200809L
#include "checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/ckpt.h"
#include "../io/file.h"
#include "options.h"
#include "rundir.h"

/* What a checkpoint holds besides the tensors and generators. */
enum { CK_STEP, CK_OPT_T, CK_POS, CK_CSV_BYTES, CK_DATA_HASH, CK_N_INT };
enum { CK_LOSS_TAIL, CK_VAL_BEST, CK_EVAL0, CK_EVAL0_ACC, CK_EVAL_LAST, CK_EVAL_LAST_ACC,
       CK_VAL_LAST, CK_VAL_LAST_ACC, CK_ELAPSED, CK_N_REAL };

/* A text built by fn (malloc'd), or NULL when out of memory. */
static char *text_of(void (*fn)(FILE *f, const void *ctx), const void *ctx, size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (!f)
        return NULL;
    fn(f, ctx);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    if (len)
        *len = n;
    return text;
}

/* The run's config.ini text. */
static void config_text(FILE *f, const void *ctx)
{
    st_options_write_ini(f, ctx);
}

/* Every option of the run as "name\0value\0" pairs: what --resume reads back,
 * exactly (the INI text could not carry a path with " ;" or outer blanks);
 * --checkpoint-every rides along, though it is not part of the
 * configuration, so a resumed run keeps checkpointing. */
static void options_pairs(FILE *f, const void *ctx)
{
    int n;
    const struct st_option *opts = st_options(&n);
    char value[ST_OPTION_TEXT_MAX];
    for (int i = 0; i < n; i++) {
        if (!opts[i].saved && strcmp(opts[i].name, "checkpoint-every") != 0)
            continue;
        if (!st_option_for_family(&opts[i], ((const struct st_train_cfg *)ctx)->arch.family))
            continue;
        st_option_format(ctx, &opts[i], value, sizeof value);
        fwrite(opts[i].name, 1, strlen(opts[i].name) + 1, f);
        fwrite(value, 1, strlen(value) + 1, f);
    }
}

/* "name rows cols" per tensor, one a line. */
static void manifest(FILE *f, const void *ctx)
{
    const struct st_params *p = ctx;
    for (int t = 0; t < p->n_views; t++)
        fprintf(f, "%s %d %d\n", p->v[t].name, p->v[t].rows, p->v[t].cols);
}

/* The hash of the training, validation and evaluation data, so a resumed run
 * notices input files that changed since the checkpoint. Computed once per
 * process: the data do not change during a run. */
static uint64_t data_hash(struct st_run *r)
{
    const struct st_source *s = &r->src;
    const struct st_dataset *sets[2 + ST_EVAL_MAX] = { &s->train, &s->val };
    int n_sets = 2 + s->n_eval;
    for (int i = 0; i < s->n_eval; i++)
        sets[2 + i] = &s->eval[i];
    if (r->data_hashed)
        return r->data_hash;
    uint64_t h = ST_CKPT_HASH_START;
    for (int i = 0; i < n_sets; i++) {
        if (sets[i]->x)
            h = st_ckpt_hash(h, sets[i]->x, (size_t)sets[i]->n * (size_t)s->in * sizeof(float));
        if (sets[i]->y)
            h = st_ckpt_hash(h, sets[i]->y,
                             (size_t)sets[i]->n * (size_t)s->ycols * sizeof(float));
    }
    r->data_hash = h;
    r->data_hashed = 1;
    return h;
}

/* The bytes of a tensor buffer (none for one the run does not have). */
static size_t bytes_of(const struct st_params *p)
{
    return p->mem ? p->n * sizeof(float) : 0;
}

enum st_status st_checkpoint_save(struct st_run *r, long k, double elapsed, struct st_err *err)
{
    const struct st_train_cfg *c = &r->cfg;
    const struct st_run_tally *t = &r->tally;
    char path[4200];
    struct st_ckpt_writer w;
    enum st_status st;
    int64_t iv[CK_N_INT];
    double dv[CK_N_REAL];
    long csv_bytes;
    size_t pairs_len = 0, man_len = 0;

    if (st_metrics_log_sync(&r->log, &csv_bytes) != ST_OK)
        return st_err_set(err, ST_ERR_IO, "cannot write %s/metrics.csv: %s", c->out,
                          strerror(errno));
    /* The options as given, but --products as the run resolved it (per
     * layer), so that a resume takes the same paths whatever the cache says
     * by then. */
    struct st_train_cfg *given = malloc(sizeof *given);
    if (given) {
        *given = *r->given;
        memcpy(given->products, c->products, sizeof given->products);
    }
    char *text = text_of(config_text, c, NULL);
    char *pairs = given ? text_of(options_pairs, given, &pairs_len) : NULL;
    char *man = text_of(manifest, &r->theta, &man_len);
    free(given);
    if (!text || !pairs || !man) {
        st = st_err_set(err, ST_ERR_NOMEM, "cannot checkpoint %s: out of memory", c->out);
        goto out;
    }
    iv[CK_STEP] = k;
    iv[CK_OPT_T] = r->opt.t;
    iv[CK_POS] = r->batches.pos;
    iv[CK_CSV_BYTES] = csv_bytes;
    iv[CK_DATA_HASH] = (int64_t)data_hash(r);
    dv[CK_LOSS_TAIL] = t->loss_tail;
    dv[CK_VAL_BEST] = t->val_best;
    /* The first evaluation set's numbers sit among the reals, the others'
     * in their own section ("evals", four per set). */
    dv[CK_EVAL0] = t->eval0[0][0];
    dv[CK_EVAL0_ACC] = t->eval0[0][1];
    dv[CK_EVAL_LAST] = t->eval_last[0][0];
    dv[CK_EVAL_LAST_ACC] = t->eval_last[0][1];
    double ev[4 * ST_EVAL_MAX];
    int n_more = r->src.n_eval > 1 ? r->src.n_eval - 1 : 0;
    for (int i = 0; i < n_more; i++) {
        ev[4 * i] = t->eval0[i + 1][0];
        ev[4 * i + 1] = t->eval0[i + 1][1];
        ev[4 * i + 2] = t->eval_last[i + 1][0];
        ev[4 * i + 3] = t->eval_last[i + 1][1];
    }
    dv[CK_VAL_LAST] = t->val_last[0];
    dv[CK_VAL_LAST_ACC] = t->val_last[1];
    dv[CK_ELAPSED] = elapsed;
    if ((st = st_path_join(path, sizeof path, c->out, ST_CHECKPOINT_FILE, err)) != ST_OK ||
        (st = st_ckpt_begin(&w, path, err)) != ST_OK)
        goto out;
    st_ckpt_put(&w, "config", text, strlen(text));
    st_ckpt_put(&w, "options", pairs, pairs_len);
    st_ckpt_put(&w, "manifest", man, man_len);
    st_ckpt_put(&w, "ints", iv, sizeof iv);
    st_ckpt_put(&w, "reals", dv, sizeof dv);
    if (n_more)
        st_ckpt_put(&w, "evals", ev, (size_t)n_more * 4 * sizeof *ev);
    st_ckpt_put(&w, "student", r->theta.mem, bytes_of(&r->theta));
    st_ckpt_put(&w, "init", r->src.start.mem, bytes_of(&r->src.start));
    st_ckpt_put(&w, "teacher", r->src.teacher.p.mem, bytes_of(&r->src.teacher.p));
    st_ckpt_put(&w, "opt_m", r->opt.m.mem, bytes_of(&r->opt.m));
    st_ckpt_put(&w, "opt_v", r->opt.v.mem, bytes_of(&r->opt.v));
    st_ckpt_put(&w, "rng_data", &r->src.data_rng, sizeof r->src.data_rng);
    st_ckpt_put(&w, "rng_noise", &r->src.teacher.noise_rng, sizeof r->src.teacher.noise_rng);
    st_ckpt_put(&w, "rng_order", &r->batches.rng, sizeof r->batches.rng);
    st_ckpt_put(&w, "order", r->batches.order,
                r->batches.order ? (size_t)r->batches.n * sizeof *r->batches.order : 0);
    st = st_ckpt_commit(&w, err);
out:
    free(text);
    free(pairs);
    free(man);
    return st;
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

/* Section name must hold exactly the text want (how --resume tells a
 * checkpoint of other options or other tensors). */
static enum st_status same_text(const struct st_ckpt *c, const char *name, const char *want,
                                size_t len, const char *out, const char *what,
                                struct st_err *err)
{
    const void *got;
    size_t got_len;
    enum st_status st = st_ckpt_get(c, name, 0, &got, &got_len, err);
    if (st == ST_OK && (!want || got_len != len || memcmp(want, got, len)))
        st = st_err_set(err, ST_ERR_ARG, "--resume %s: the checkpoint was written %s", out, what);
    return st;
}

/* The tensors, generators and order of a checkpoint. */
static enum st_status take_state(struct st_run *r, const struct st_ckpt *ck, const char *path,
                                 struct st_err *err)
{
    struct st_batches *b = &r->batches;
    enum st_status st = ST_OK;
    if ((st = take(ck, "student", r->theta.mem, bytes_of(&r->theta), err)) != ST_OK ||
        (st = take(ck, "init", r->src.start.mem, bytes_of(&r->src.start), err)) != ST_OK ||
        (st = take(ck, "teacher", r->src.teacher.p.mem, bytes_of(&r->src.teacher.p), err)) !=
            ST_OK ||
        (st = take(ck, "opt_m", r->opt.m.mem, bytes_of(&r->opt.m), err)) != ST_OK ||
        (st = take(ck, "opt_v", r->opt.v.mem, bytes_of(&r->opt.v), err)) != ST_OK ||
        (st = take(ck, "rng_data", &r->src.data_rng, sizeof r->src.data_rng, err)) != ST_OK ||
        (st = take(ck, "rng_noise", &r->src.teacher.noise_rng, sizeof r->src.teacher.noise_rng,
                   err)) != ST_OK ||
        (st = take(ck, "rng_order", &b->rng, sizeof b->rng, err)) != ST_OK ||
        (st = take(ck, "order", b->order, b->order ? (size_t)b->n * sizeof *b->order : 0, err)) !=
            ST_OK)
        return st;
    for (long i = 0; b->order && i < b->n; i++)
        if (b->order[i] < 0 || b->order[i] >= b->n)
            return st_err_set(err, ST_ERR_FORMAT, "%s: minibatch order out of range", path);
    return ST_OK;
}

enum st_status st_checkpoint_load(struct st_run *r, long *k0, long *csv_bytes, double *elapsed,
                                  struct st_err *err)
{
    const struct st_train_cfg *c = &r->cfg;
    char path[4200];
    struct st_ckpt ck;
    enum st_status st;
    int64_t iv[CK_N_INT];
    double dv[CK_N_REAL];
    size_t man_len = 0;

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
    const void *sec;
    size_t sec_len;
    if (st_ckpt_get(&ck, "manifest", 0, &sec, &sec_len, NULL) != ST_OK) {
        st_ckpt_free(&ck);
        return st_err_set(err, ST_ERR_ARG, "--resume %s: the checkpoint was written by an "
                          "earlier version of sparsetune (it lists no tensors), which this one "
                          "cannot resume; start the run over with --force", c->out);
    }
    char *text = text_of(config_text, c, NULL);
    char *man = text_of(manifest, &r->theta, &man_len);
    st = same_text(&ck, "config", text, text ? strlen(text) : 0, c->out, "with other options",
                   err);
    if (st == ST_OK)
        st = same_text(&ck, "manifest", man, man_len, c->out, "for other tensors", err);
    free(text);
    free(man);
    if (st == ST_OK)
        st = take(&ck, "ints", iv, sizeof iv, err);
    if (st == ST_OK && (uint64_t)iv[CK_DATA_HASH] != data_hash(r))
        st = st_err_set(err, ST_ERR_ARG,
                        "--resume %s: the data differ from the checkpoint's (an input file "
                        "changed since the run started)",
                        c->out);
    if (st == ST_OK && !(iv[CK_STEP] >= 0 && iv[CK_STEP] <= c->steps && iv[CK_CSV_BYTES] >= 0 &&
                         iv[CK_POS] >= 0 && iv[CK_POS] <= r->batches.n && iv[CK_OPT_T] >= 0))
        st = st_err_set(err, ST_ERR_FORMAT, "%s: step, position or length out of range", path);
    double ev[4 * ST_EVAL_MAX];
    int n_more = r->src.n_eval > 1 ? r->src.n_eval - 1 : 0;
    if (st == ST_OK)
        st = take(&ck, "reals", dv, sizeof dv, err);
    if (st == ST_OK && n_more)
        st = take(&ck, "evals", ev, (size_t)n_more * 4 * sizeof *ev, err);
    if (st == ST_OK)
        st = take_state(r, &ck, path, err);
    st_ckpt_free(&ck);
    if (st != ST_OK)
        return st;
    *k0 = (long)iv[CK_STEP];
    *csv_bytes = (long)iv[CK_CSV_BYTES];
    r->opt.t = (long)iv[CK_OPT_T];
    r->batches.pos = (long)iv[CK_POS];
    r->tally.loss_tail = dv[CK_LOSS_TAIL];
    r->tally.val_best = dv[CK_VAL_BEST];
    r->tally.eval0[0][0] = dv[CK_EVAL0];
    r->tally.eval0[0][1] = dv[CK_EVAL0_ACC];
    r->tally.eval_last[0][0] = dv[CK_EVAL_LAST];
    r->tally.eval_last[0][1] = dv[CK_EVAL_LAST_ACC];
    for (int i = 0; i < n_more; i++) {
        r->tally.eval0[i + 1][0] = ev[4 * i];
        r->tally.eval0[i + 1][1] = ev[4 * i + 1];
        r->tally.eval_last[i + 1][0] = ev[4 * i + 2];
        r->tally.eval_last[i + 1][1] = ev[4 * i + 3];
    }
    r->tally.val_last[0] = dv[CK_VAL_LAST];
    r->tally.val_last[1] = dv[CK_VAL_LAST_ACC];
    *elapsed = dv[CK_ELAPSED];
    return ST_OK;
}
