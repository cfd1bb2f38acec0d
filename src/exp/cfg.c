/* cfg.c: defaults (each option's, from the option table) and the checks of a
 * run configuration as a whole. */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/select.h"
#include "../io/bpe.h"
#include "data.h"
#include "products.h"

_Static_assert(sizeof(((struct st_train_cfg *)0)->products) >= ST_PRODUCTS_MAX,
               "products holds a resolved list");

enum st_status st_export_layout_fits(int i, int family, struct st_err *err)
{
    if (i < 2 || family == st_family_find("gpt"))
        return ST_OK;
    return st_err_set(err, ST_ERR_ARG, "--export-layout %s: GPT-2's layouts are for a GPT "
                      "(--arch gpt), not an %s", st_export_layout_names[i],
                      st_family_at(family)->name);
}

int st_cfg_given(const char *path)
{
    return strcmp(path, "none") != 0;
}

int st_cfg_seed_used(const struct st_train_cfg *cfg)
{
    int fisher = cfg->reduction == ST_RED_FISHER && cfg->penalty != ST_PEN_NONE &&
                 cfg->lambda != 0.0;
    return !cfg->task_data || cfg->online || !st_cfg_given(cfg->init_path) || cfg->batch != 0 ||
           cfg->val_fraction > 0.0 || fisher;
}

/* 1 if s starts like a plain decimal number (a digit or a '.'): no blank,
 * sign or hex prefix slips through strtod/strtol. */
static int plain_number(const char *s)
{
    return (isdigit((unsigned char)s[0]) || s[0] == '.') && !strpbrk(s, "xX \t");
}

/* --teacher-delta: full, rank:R or sparse:P. */
static enum st_status parse_teacher_delta(struct st_train_cfg *cfg, struct st_err *err)
{
    const char *s = cfg->teacher_delta;
    char *end;
    if (!strcmp(s, "full")) {
        cfg->delta_kind = ST_DELTA_FULL;
        return ST_OK;
    }
    if (cfg->teacher_delta_scale <= 0.0)
        return st_err_set(err, ST_ERR_ARG,
                          "--teacher-delta-scale %g: a %s delta needs a scale > 0 (with 0 the "
                          "teacher would equal the student)",
                          cfg->teacher_delta_scale, s);
    if (!strncmp(s, "rank:", 5)) {
        errno = 0;
        long r = strtol(s + 5, &end, 10);
        if (!plain_number(s + 5) || *end || errno || r < 1 || r > (1 << 24))
            return st_err_set(err, ST_ERR_ARG, "--teacher-delta '%s': expected rank:R, R >= 1", s);
        cfg->delta_kind = ST_DELTA_RANK;
        cfg->delta_rank = (int)r;
        return ST_OK;
    }
    if (!strncmp(s, "sparse:", 7)) {
        errno = 0;
        double p = strtod(s + 7, &end);
        if (!plain_number(s + 7) || *end || errno || !(p > 0.0 && p <= 1.0))
            return st_err_set(err, ST_ERR_ARG,
                              "--teacher-delta '%s': expected sparse:P with 0 < P <= 1", s);
        cfg->delta_kind = ST_DELTA_SPARSE;
        cfg->delta_frac = p;
        return ST_OK;
    }
    return st_err_set(err, ST_ERR_ARG,
                      "--teacher-delta '%s': expected full, rank:R or sparse:P", s);
}

/* The unnamed set: --eval-x, --eval-text or --eval-tokens (one at most). */
static const char *unnamed_eval(const struct st_train_cfg *cfg)
{
    return st_cfg_given(cfg->eval_x)      ? cfg->eval_x
           : st_cfg_given(cfg->eval_text) ? cfg->eval_text
           : st_cfg_given(cfg->eval_tokens) ? cfg->eval_tokens
                                            : NULL;
}

int st_eval_count(const struct st_train_cfg *cfg)
{
    return (unnamed_eval(cfg) != NULL) + cfg->n_named_evals;
}

const char *st_eval_name(const struct st_train_cfg *cfg, int i)
{
    int legacy = unnamed_eval(cfg) != NULL;
    return i < legacy ? "" : cfg->eval_name[i - legacy];
}

const char *st_eval_x(const struct st_train_cfg *cfg, int i)
{
    int legacy = unnamed_eval(cfg) != NULL;
    return i < legacy ? unnamed_eval(cfg) : cfg->eval_paths + cfg->eval_x_at[i - legacy];
}

const char *st_eval_y(const struct st_train_cfg *cfg, int i)
{
    int legacy = unnamed_eval(cfg) != NULL;
    return i < legacy ? cfg->eval_y : cfg->eval_paths + cfg->eval_y_at[i - legacy];
}

const char *const st_export_layout_names[5] = { "auto", "sparsetune", "hf", "nanogpt", NULL };

int st_cfg_bits(const struct st_train_cfg *cfg, double bytes_per_token, double nats,
                double *per_token, double *per_byte)
{
    int which = 0;
    if (!st_cfg_stream(cfg))
        return 0;
    *per_token = nats / log(2.0);
    *per_byte = bytes_per_token > 0.0 ? *per_token / bytes_per_token : 0.0;
    if (bytes_per_token <= 0.0 || st_cfg_given(cfg->tokenizer))
        which |= ST_BITS_TOKEN;
    if (bytes_per_token > 0.0)
        which |= ST_BITS_BYTE;
    return which;
}

int st_cfg_stream(const struct st_train_cfg *cfg)
{
    return st_cfg_given(cfg->text_path) || st_cfg_given(cfg->tokens_path);
}

/* --eval-text's set, and a named set of a stream run whose file is not a
 * token file (.npy, .bin), are text. */
int st_eval_is_text(const struct st_train_cfg *cfg, int i)
{
    const char *x = st_eval_x(cfg, i);
    size_t n = strlen(x);
    if (i == 0 && unnamed_eval(cfg) != NULL)
        return unnamed_eval(cfg) == cfg->eval_text;
    return !(n >= 4 && (!strcmp(x + n - 4, ".npy") || !strcmp(x + n - 4, ".bin")));
}

void st_eval_prefix(const struct st_train_cfg *cfg, int i, char *out, size_t size)
{
    const char *name = st_eval_name(cfg, i);
    snprintf(out, size, "eval_%s%s", name, *name ? "_" : "");
}

/* The named evaluation sets of --eval, "NAME=X[,Y]" separated by ';', into
 * the resolved fields. */
static enum st_status parse_evals(struct st_train_cfg *cfg, struct st_err *err)
{
    const char *p = cfg->evals;
    size_t used = 0;
    int legacy = st_cfg_given(cfg->eval_x);
    cfg->n_named_evals = 0;
    if (!st_cfg_given(cfg->evals))
        return ST_OK;
    while (*p) {
        const char *end = strchr(p, ';');
        char *eq;
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[ST_EVALS_TEXT];
        memcpy(item, p, len);
        item[len] = '\0';
        p += len + (end ? 1 : 0);
        if (len == 0) /* ";;" or a ';' at the end: no set */
            continue;
        eq = strchr(item, '=');
        size_t nlen = eq ? (size_t)(eq - item) : 0;
        int n = cfg->n_named_evals;
        if (!eq || nlen == 0 || !eq[1] || eq[1] == ',')
            return st_err_set(err, ST_ERR_ARG, "--eval '%s': expected NAME=X.npy,Y.npy (or "
                              "NAME=X for a teacher's labels or a .csv X with --y-col)", item);
        if (nlen >= ST_EVAL_NAME_MAX)
            return st_err_set(err, ST_ERR_ARG, "--eval '%s': a name of at most %d characters",
                              item, ST_EVAL_NAME_MAX - 1);
        for (size_t k = 0; k < nlen; k++)
            if (!isalnum((unsigned char)item[k]) && item[k] != '-' && item[k] != '_')
                return st_err_set(err, ST_ERR_ARG, "--eval '%s': a name of letters, digits, "
                                  "'-' and '_' (it names columns)", item);
        if (legacy + n >= ST_EVAL_MAX)
            return st_err_set(err, ST_ERR_ARG, "--eval '%s': at most %d evaluation sets (--eval-x "
                              "counts as one)", item, ST_EVAL_MAX);
        for (int k = 0; k < n; k++)
            if (strlen(cfg->eval_name[k]) == nlen && !memcmp(cfg->eval_name[k], item, nlen))
                return st_err_set(err, ST_ERR_ARG, "--eval '%s': a second set named %.*s",
                                  item, (int)nlen, item);
        char *x = eq + 1, *comma = strchr(x, ',');
        const char *y = comma ? comma + 1 : "none";
        if (comma)
            *comma = '\0';
        if (comma && (!*y || strchr(y, ',')))
            return st_err_set(err, ST_ERR_ARG, "--eval '%.*s=%s,%s': expected NAME=X,Y (two "
                              "files)", (int)nlen, item, x, y);
        size_t xl = strlen(x), yl = strlen(y);
        if (used + xl + yl + 2 > sizeof cfg->eval_paths)
            return st_err_set(err, ST_ERR_ARG, "--eval: the paths are too long");
        memcpy(cfg->eval_name[n], item, nlen);
        cfg->eval_name[n][nlen] = '\0';
        cfg->eval_x_at[n] = (int)used;
        memcpy(cfg->eval_paths + used, x, xl + 1);
        used += xl + 1;
        cfg->eval_y_at[n] = (int)used;
        memcpy(cfg->eval_paths + used, y, yl + 1);
        used += yl + 1;
        cfg->n_named_evals = n + 1;
    }
    return ST_OK;
}

/* A language model's run on a token stream (--text or --tokens): a data run
 * of a GPT on next-token cross-entropy, batches of --batch windows (8 when
 * not given); the options of other data refused by name. */
static enum st_status check_stream(struct st_train_cfg *cfg, struct st_err *err)
{
    const char *src = st_cfg_given(cfg->text_path) ? cfg->text_path : cfg->tokens_path;
    const char *opt = st_cfg_given(cfg->text_path) ? "text" : "tokens";
    int unnamed = st_cfg_given(cfg->eval_x) + st_cfg_given(cfg->eval_text) +
                  st_cfg_given(cfg->eval_tokens);
    if (st_cfg_given(cfg->text_path) && st_cfg_given(cfg->tokens_path))
        return st_err_set(err, ST_ERR_ARG, "--text %s, --tokens %s: one token stream at a time",
                          cfg->text_path, cfg->tokens_path);
    if (cfg->arch.family != st_family_find("gpt"))
        return st_err_set(err, ST_ERR_ARG, "--%s %s: a token stream trains a language model; "
                          "add --arch gpt (or --model a GPT file)", opt, src);
    if (!cfg->task_data)
        return st_err_set(err, ST_ERR_ARG, "--%s %s: a token stream is a data run: use pretrain "
                          "or finetune (or --task data)", opt, src);
    if (st_cfg_given(cfg->x_path) || st_cfg_given(cfg->y_path) || st_cfg_given(cfg->y_col))
        return st_err_set(err, ST_ERR_ARG, "--%s %s: the inputs and their next-token targets "
                          "come from the stream; leave out --x, --y and --y-col", opt, src);
    /* mse is the default, and taken to mean it; kl is refused. */
    if (cfg->loss == ST_LOSS_KL)
        return st_err_set(err, ST_ERR_ARG, "--loss %s: a token stream trains next-token "
                          "cross-entropy (xent)", st_loss_name(cfg->loss));
    cfg->loss = ST_LOSS_XENT;
    if (cfg->online || cfg->standardize || st_cfg_given(cfg->eval_y))
        return st_err_set(err, ST_ERR_ARG, "--%s: not with a token stream (%s)",
                          cfg->online ? "online" : cfg->standardize ? "standardize" : "eval-y",
                          src);
    if (unnamed > 1)
        return st_err_set(err, ST_ERR_ARG, "--eval-x, --eval-text, --eval-tokens: give one of "
                          "them (more sets with --eval NAME=FILE)");
    if (!(cfg->val_fraction >= 0.0 && cfg->val_fraction < 1.0))
        return st_err_set(err, ST_ERR_ARG, "--val-fraction %g: expected a number in [0, 1)",
                          cfg->val_fraction);
    if (cfg->batch == 0)
        cfg->batch = 8;
    /* GPT-2's tokenizer beside a --model folder, as GPT-2 is distributed. */
    if (!st_cfg_given(cfg->tokenizer) && st_cfg_given(cfg->init_path) &&
        st_bpe_present(cfg->init_path))
        snprintf(cfg->tokenizer, sizeof cfg->tokenizer, "%s", cfg->init_path);
    return ST_OK;
}

/* Where the data come from: files, drawn inputs, a teacher. */
static enum st_status check_data(struct st_train_cfg *cfg, struct st_err *err)
{
    int x = st_cfg_given(cfg->x_path), y = st_cfg_given(cfg->y_path);
    int ycol = st_cfg_given(cfg->y_col), ex = st_cfg_given(cfg->eval_x);
    int ey = st_cfg_given(cfg->eval_y);
    if (st_cfg_stream(cfg)) {
        enum st_status st = check_stream(cfg, err);
        return st != ST_OK ? st : parse_evals(cfg, err);
    }
    if (st_cfg_given(cfg->eval_text) || st_cfg_given(cfg->eval_tokens))
        return st_err_set(err, ST_ERR_ARG, "--eval-%s %s: evaluates a language model on a token "
                          "stream; the run needs --text or --tokens too",
                          st_cfg_given(cfg->eval_text) ? "text" : "tokens",
                          st_cfg_given(cfg->eval_text) ? cfg->eval_text : cfg->eval_tokens);
    if (cfg->task_data) {
        if (!x || (!y && !ycol))
            return st_err_set(err, ST_ERR_ARG, "a data run (pretrain, finetune, --task data) needs "
                              "--x and --y, or a .csv --x with --y-col: the data set to train on");
        if (st_cfg_given(cfg->teacher_path))
            return st_err_set(err, ST_ERR_ARG, "--teacher %s: a --task data run has no teacher",
                              cfg->teacher_path);
        if (cfg->label_noise != 0.0)
            return st_err_set(err, ST_ERR_ARG, "--label-noise %g: only a teacher's labels get "
                              "noise", cfg->label_noise);
    }
    if (ey && !ex)
        return st_err_set(err, ST_ERR_ARG, "--eval-y %s: needs --eval-x", cfg->eval_y);
    enum st_status st = parse_evals(cfg, err);
    if (st != ST_OK)
        return st;
    for (int i = ex; i < st_eval_count(cfg); i++)
        if (!st_cfg_given(st_eval_y(cfg, i)) && !(ycol && st_data_is_csv(st_eval_x(cfg, i))) &&
            cfg->task_data)
            return st_err_set(err, ST_ERR_ARG, "--eval %s=%s: needs its targets, %s=X,Y (or a "
                              ".csv X with --y-col): a --task data run has no teacher to label "
                              "it", st_eval_name(cfg, i), st_eval_x(cfg, i),
                              st_eval_name(cfg, i));
    /* Without --eval-y the targets come from the teacher, or from --y-col's
     * column of a .csv --eval-x. */
    if (ex && !ey && !(ycol && st_data_is_csv(cfg->eval_x)) && cfg->task_data)
        return st_err_set(err, ST_ERR_ARG, "--eval-x %s: needs --eval-y (or a .csv --eval-x with "
                          "--y-col): a --task data run has no teacher to label it", cfg->eval_x);
    if (cfg->standardize && !cfg->task_data)
        return st_err_set(err, ST_ERR_ARG, "--standardize: only for a data run (pretrain, "
                          "finetune, --task data); a teacher labels raw inputs");
    if (cfg->val_fraction != 0.0 && !x)
        return st_err_set(err, ST_ERR_ARG, "--val-fraction %g: splits the rows of --x; drawn data "
                          "has no held-out set (use --eval-x)", cfg->val_fraction);
    if (!(cfg->val_fraction >= 0.0 && cfg->val_fraction < 1.0))
        return st_err_set(err, ST_ERR_ARG, "--val-fraction %g: expected a number in [0, 1)",
                          cfg->val_fraction);
    if (y && !x)
        return st_err_set(err, ST_ERR_ARG, "--y %s: needs --x (the inputs its rows belong to)",
                          cfg->y_path);
    if (x && cfg->online)
        return st_err_set(err, ST_ERR_ARG,
                          "--online: draws fresh inputs; it cannot be used with --x");
    if (x && ycol && !st_data_is_csv(cfg->x_path))
        return st_err_set(err, ST_ERR_ARG, "--y-col %s: --x %s is not a .csv file (a .npy "
                          "file holds inputs only; give the targets with --y)", cfg->y_col,
                          cfg->x_path);
    if (x && ycol && y)
        return st_err_set(err, ST_ERR_ARG, "--y-col %s: the targets come from --x's column; "
                          "--y %s gives them twice", cfg->y_col, cfg->y_path);
    if (!x && (cfg->data_size < 1 || cfg->data_size > INT_MAX))
        return st_err_set(err, ST_ERR_ARG, "--data-size %ld: expected 1 to %d", cfg->data_size,
                          INT_MAX);
    /* A full batch over drawn data is known now; over a --x file, once it is read. */
    if (cfg->batch == 0 && !x)
        cfg->batch = cfg->data_size;
    if (!x && cfg->batch > cfg->data_size && !cfg->online)
        return st_err_set(err, ST_ERR_ARG,
                          "--batch %ld: larger than --data-size %ld (use 0 for full batch)",
                          cfg->batch, cfg->data_size);
    if (cfg->batch > INT_MAX)
        return st_err_set(err, ST_ERR_ARG, "--batch %ld: expected at most %d", cfg->batch,
                          INT_MAX);
    if (cfg->online && cfg->reduction == ST_RED_FISHER && cfg->penalty != ST_PEN_NONE &&
        cfg->lambda > 0.0)
        return st_err_set(err, ST_ERR_ARG, "--penalty-reduction fisher measures the Fisher "
                          "information on the training set; --online has none (use a fixed "
                          "set)");
    if (cfg->save_data && cfg->online)
        return st_err_set(err, ST_ERR_ARG,
                          "--save-data: needs a fixed data set; it cannot be used with --online");
    return ST_OK;
}

static enum st_status check_optimizer(struct st_train_cfg *cfg, struct st_err *err)
{
    if (!(cfg->opt.lr > 0.0))
        return st_err_set(err, ST_ERR_ARG, "--lr '%g': expected a positive finite number",
                          cfg->opt.lr);
    if (!(cfg->opt.beta1 < 1.0) || !(cfg->opt.beta2 < 1.0))
        return st_err_set(err, ST_ERR_ARG, "--beta1 %g, --beta2 %g: expected numbers in [0, 1)",
                          cfg->opt.beta1, cfg->opt.beta2);
    if (cfg->opt.nesterov && (cfg->opt.kind != ST_OPT_SGD || cfg->opt.momentum <= 0.0))
        return st_err_set(err, ST_ERR_ARG, "--nesterov: needs --optimizer sgd and --momentum > 0");
    if (cfg->opt.momentum > 0.0 && cfg->opt.kind != ST_OPT_SGD)
        return st_err_set(err, ST_ERR_ARG,
                          "--momentum %g: only SGD uses momentum (Adam has --beta1)",
                          cfg->opt.momentum);
    if (isnan(cfg->opt.weight_decay))
        cfg->opt.weight_decay = cfg->opt.kind == ST_OPT_ADAMW ? 1e-2 : 0.0;
    return ST_OK;
}

/* The model and the selectors over its tensors: --reinit middle becomes the
 * unit it names, and every selector must name tensors of this model. */
static enum st_status check_model(struct st_train_cfg *cfg, struct st_err *err)
{
    struct st_model m;
    struct st_params layout;
    enum st_status st = st_model_init(&m, &cfg->arch, err);
    if (st != ST_OK)
        return st;
    memset(&layout, 0, sizeof layout);
    st = st_model_layout(&m, &layout, err);
    struct st_model_io io = st_model_io(&m);
    if (st == ST_OK)
        st = st_products_check(&m, cfg->products, err);
    if (st == ST_OK && cfg->loss == ST_LOSS_XENT && io.cols < 2)
        st = st_err_set(err, ST_ERR_ARG,
                        "--loss xent: the output width is %ld; classes need at least 2 outputs "
                        "(one logit per class)", io.cols);
    if (st == ST_OK && cfg->loss == ST_LOSS_KL && io.cols < 2)
        st = st_err_set(err, ST_ERR_ARG,
                        "--loss kl: the output width is %ld; a distribution needs at least 2 "
                        "outputs (one logit each)", io.cols);
    /* A data run's tensors are all the student's own: nothing is re-drawn
     * against a teacher, and a --reinit other than the default is refused
     * rather than dropped. */
    if (st == ST_OK && cfg->task_data && strcmp(cfg->reinit, "middle") != 0 &&
        strcmp(cfg->reinit, "none") != 0)
        st = st_err_set(err, ST_ERR_ARG,
                        "--reinit %s: a data run (finetune, pretrain, --task data) has no "
                        "teacher and re-draws nothing; its start is the model file or a fresh "
                        "draw", cfg->reinit);
    if (st == ST_OK && cfg->task_data)
        strcpy(cfg->reinit, "none");
    if (st == ST_OK && !strcmp(cfg->reinit, "middle"))
        st_model_middle(&m, cfg->reinit, sizeof cfg->reinit);
    unsigned char *mask = st == ST_OK ? malloc((size_t)layout.n_views + 1) : NULL;
    double *scale = st == ST_OK ? malloc(((size_t)layout.n_views + 1) * sizeof *scale) : NULL;
    if (st == ST_OK && (!mask || !scale))
        st = st_err_set(err, ST_ERR_NOMEM, "out of memory");
    if (st == ST_OK)
        st = st_select(&layout, "reinit", cfg->reinit, mask, err);
    if (st == ST_OK)
        st = st_select(&layout, "freeze", cfg->freeze, mask, err);
    if (st == ST_OK)
        st = st_select_scale(&layout, "lambda-scale", cfg->lambda_scale, scale, err);
    free(mask);
    free(scale);
    st_params_free(&layout);
    st_model_free(&m);
    return st;
}

enum st_status st_train_cfg_resolve(struct st_train_cfg *cfg, struct st_err *err)
{
    enum st_status st;
    if ((st = st_export_layout_fits(cfg->export_layout, cfg->arch.family, err)) != ST_OK ||
        (st = check_data(cfg, err)) != ST_OK || (st = check_optimizer(cfg, err)) != ST_OK)
        return st;
    if (cfg->log_every < 1)
        return st_err_set(err, ST_ERR_ARG, "--log-every %ld: expected a positive integer",
                          cfg->log_every);
    if (!(cfg->changed_threshold <= 1.0))
        return st_err_set(err, ST_ERR_ARG, "--changed-threshold %g: expected a number in [0, 1]",
                          cfg->changed_threshold);
    if (cfg->loss == ST_LOSS_XENT && cfg->label_noise != 0.0)
        return st_err_set(err, ST_ERR_ARG,
                          "--label-noise %g: noise on class labels is not defined; use it with "
                          "--loss mse", cfg->label_noise);
    if ((st = check_model(cfg, err)) != ST_OK)
        return st;
    return parse_teacher_delta(cfg, err);
}
