/* options.c: option table, parsing with full checks, and formatting that
 * round-trips (config.ini re-runs an experiment bit-identically). */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const st_fig_format_names[3] = { "png", "svg", "pdf" };

/* Order = order in --help and config.ini. */
static const struct st_option table[] = {
    { "widths", ST_OPT_T_WIDTHS, "LIST", "1,20,20,1", "layer widths: input, hidden..., output", 1, 0, 0 },
    { "activation", ST_OPT_T_ENUM, "NAME", "relu",
      "hidden activation: relu, tanh, silu, gelu, linear", 1, 0, 0 },
    { "reinit", ST_OPT_T_STR, "LAYERS", "middle",
      "layers the student re-draws (1-based, e.g. 2 or 1,3; middle; none)", 1, 0, 0 },
    { "freeze", ST_OPT_T_STR, "LIST", "none",
      "tensors or layers kept fixed (e.g. w1,b3 or 1,3; none)", 1, 0, 0 },
    { "data-dist", ST_OPT_T_ENUM, "NAME", "uniform",
      "inputs from uniform U(LO,HI) (see --data-range) or normal N(0,1)", 1, 0, 0 },
    { "data-range", ST_OPT_T_RANGE, "LO,HI", "0,2", "bounds of uniform inputs", 1, 0, 0 },
    { "data-size", ST_OPT_T_INT, "N", "1000", "number of fixed samples", 1, 1, INT_MAX },
    { "batch", ST_OPT_T_INT, "B", "0", "minibatch size; 0 = full batch (all samples)", 1, 0,
      INT_MAX },
    { "task", ST_OPT_T_ENUM, "NAME", "teacher-student",
      "teacher-student (a teacher labels the data, the truth is known) or data (train on --x "
      "and --y alone: pretrain and finetune)", 1, 0, 0 },
    { "teacher", ST_OPT_T_STR, "FILE", "none",
      "the teacher's weights from a .safetensors file (sparsetune's layers.{i}.* or "
      "nn.Sequential's {k}.* names; widths must match --widths) instead of drawn ones; the "
      "student starts as a copy of it with the --reinit layers re-drawn", 1, 0, 0 },
    { "student-init", ST_OPT_T_STR, "FILE", "none",
      "the student's start theta0 from a .safetensors file instead of the teacher's copy", 1, 0,
      0 },
    { "x", ST_OPT_T_STR, "FILE", "none",
      "inputs [N, in] from a .npy or .csv file instead of drawn ones (N replaces --data-size; the "
      "teacher labels them unless --y is given)", 1, 0, 0 },
    { "y", ST_OPT_T_STR, "FILE", "none",
      "targets from a .npy or .csv file, one row per row of --x: [N, out] for mse, class indices [N] "
      "or [N, 1] for xent", 1, 0, 0 },
    { "val-fraction", ST_OPT_T_DOUBLE, "FRAC", "0",
      "hold out this share of the --x rows (drawn with the seed) as a validation set: its loss "
      "at every logged row (val_mse or val_xent, val_accuracy) and in summary.json", 1, 0, 0 },
    { "standardize", ST_OPT_T_FLAG, NULL, "off",
      "scale each input column to mean 0, std 1 with the training rows' statistics, kept in "
      "the model files' metadata (a --student-init or --model file that holds statistics "
      "applies its own instead)", 1, 0, 0 },
    { "y-col", ST_OPT_T_STR, "COL", "none",
      "with a .csv --x (and --eval-x): the column holding the targets, a 0-based index or a "
      "header name; the other columns are the inputs", 1, 0, 0 },
    { "eval-x", ST_OPT_T_STR, "FILE", "none",
      "an evaluation set's inputs (.npy), e.g. the first task's: its loss at every logged step "
      "is the forgetting curve", 1, 0, 0 },
    { "eval-y", ST_OPT_T_STR, "FILE", "none",
      "the evaluation set's targets (.npy; without it the teacher labels --eval-x)", 1, 0, 0 },
    { "online", ST_OPT_T_FLAG, NULL, "off", "draw fresh inputs every step instead of a fixed set",
      1, 0, 0 },
    { "label-noise", ST_OPT_T_DOUBLE, "SIGMA", "0", "std of Gaussian noise added to the targets",
      1, 0, 0 },
    { "loss", ST_OPT_T_ENUM, "NAME", "mse",
      "data loss: mse, or xent (softmax cross-entropy against class indices; a teacher-student "
      "run labels each input with the teacher's largest output)", 1, 0, 0 },
    { "optimizer", ST_OPT_T_ENUM, "NAME", "adam", "adam, adamw or sgd (PyTorch's formulas)", 1, 0, 0 },
    { "lr", ST_OPT_T_DOUBLE, "FLOAT", "0.01", "learning rate", 1, 0, 0 },
    { "beta1", ST_OPT_T_DOUBLE, "FLOAT", "0.9", "Adam/AdamW first-moment decay", 1, 0, 0 },
    { "beta2", ST_OPT_T_DOUBLE, "FLOAT", "0.999", "Adam/AdamW second-moment decay", 1, 0, 0 },
    { "eps", ST_OPT_T_DOUBLE, "FLOAT", "1e-08", "Adam/AdamW epsilon", 1, 0, 0 },
    { "weight-decay", ST_OPT_T_DOUBLE, "FLOAT", "0; 0.01 for adamw",
      "weight decay (AdamW: decoupled; Adam, SGD: L2 in the gradient)", 1, 0, 0 },
    { "momentum", ST_OPT_T_DOUBLE, "FLOAT", "0", "SGD momentum", 1, 0, 0 },
    { "nesterov", ST_OPT_T_FLAG, NULL, "off", "SGD Nesterov momentum", 1, 0, 0 },
    { "steps", ST_OPT_T_INT, "N", "10000", "optimizer steps", 1, 0, LONG_MAX - 1 },
    { "seed", ST_OPT_T_U64, "N", "0", "random seed (teacher, student, data)", 1, 0, 0 },
    { "penalty", ST_OPT_T_ENUM, "NAME", "l1",
      "penalty on the update theta - theta0: l1, group, nuclear, l2 or none", 1, 0, 0 },
    { "penalty-reduction", ST_OPT_T_ENUM, "NAME", "mean",
      "mean: each tensor's term divided by its size (the seed's; an entry of a small tensor "
      "costs more, so answers lean to large tensors); sum: every entry costs the same",
      1, 0, 0 },
    { "lambda", ST_OPT_T_DOUBLE, "FLOAT", "0", "penalty strength", 1, 0, 0 },
    { "prox", ST_OPT_T_FLAG, NULL, "off",
      "proximal step in the optimizer's metric instead of the subgradient (exact zeros)", 1, 0,
      0 },
    { "lambda-scale", ST_OPT_T_STR, "LIST", "none",
      "per-tensor or per-layer multipliers of lambda, e.g. w1=0,b1=0 or 3=0.5", 1, 0, 0 },
    { "nuclear-bias", ST_OPT_T_ENUM, "NAME", "none", "nuclear: biases get none or an l1 term",
      1, 0, 0 },
    { "spectrum-every", ST_OPT_T_INT, "N", "100",
      "log nuclear norm and rank of each update matrix every N steps (and the last); 0: never "
      "(an SVD per weight matrix is costly on wide layers)", 1, 0, LONG_MAX },
    { "teacher-delta", ST_OPT_T_STR, "KIND", "full",
      "how the teacher differs in the --reinit layers: full (re-drawn), rank:R (student + "
      "a rank-R matrix; R is capped at min(out, in)), sparse:P (a fraction P of entries "
      "perturbed)", 1, 0, 0 },
    { "teacher-delta-scale", ST_OPT_T_DOUBLE, "FLOAT", "0.1",
      "std of the entries of a rank:R or sparse:P teacher delta (unused with full)", 1, 0, 0 },
    { "log-every", ST_OPT_T_INT, "N", "1", "log a metrics row every N steps (and the last)", 1, 1,
      LONG_MAX },
    { "changed-threshold", ST_OPT_T_DOUBLE, "FRAC", "0.1",
      "verdict: a tensor changed if its d_init >= FRAC * the largest", 1, 0, 0 },
    { "save-data", ST_OPT_T_FLAG, NULL, "off", "also write the data set as x.npy and y.npy", 1, 0, 0 },
    { "threads", ST_OPT_T_INTC, "N", "1", "threads (wide layers, parameter passes)", 1, 1, 1024 },
    { "checkpoint-every", ST_OPT_T_INT, "N", "0",
      "write OUT/checkpoint.bin every N steps (0: only when stopped by SIGINT or SIGTERM); "
      "--resume OUT goes on from it", 0, 0, LONG_MAX },
    { "out", ST_OPT_T_STR, "DIR", "run", "run directory to write", 0, 0, 0 },
    { "plot", ST_OPT_T_FLAG, NULL, "on", "draw the run's figure at the end (--no-plot: skip)", 0, 0,
      0 },
    { "format", ST_OPT_T_ENUM, "NAME", "png", "figure format: png, svg or pdf", 0, 0, 0 },
    { "force", ST_OPT_T_FLAG, NULL, "off", "overwrite a run directory that already holds a run",
      0, 0, 0 },
    { "quiet", ST_OPT_T_FLAG, NULL, "off", "no progress bar", 0, 0, 0 },
};

#define N_OPTIONS ((int)(sizeof table / sizeof table[0]))

const struct st_option *st_options(int *n)
{
    *n = N_OPTIONS;
    return table;
}

const struct st_option *st_option_find(const char *name)
{
    for (int i = 0; i < N_OPTIONS; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

static enum st_status parse_long(const char *name, const char *s, long lo, long hi, long *out,
                                 struct st_err *err)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < lo || v > hi)
        return st_err_set(err, ST_ERR_ARG, "--%s '%s': expected an integer from %ld to %ld",
                          name, s, lo, hi);
    *out = v;
    return ST_OK;
}

static enum st_status parse_double(const char *name, const char *s, double lo, double *out,
                                   struct st_err *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v) || v < lo)
        return st_err_set(err, ST_ERR_ARG, "--%s '%s': expected a finite number >= %g", name, s,
                          lo);
    if (errno == ERANGE)
        return st_err_set(err, ST_ERR_ARG, "--%s '%s': out of the range of a double", name, s);
    *out = v;
    return ST_OK;
}

static enum st_status parse_flag(const char *name, const char *s, int *out, struct st_err *err)
{
    if (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")) {
        *out = 1;
        return ST_OK;
    }
    if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")) {
        *out = 0;
        return ST_OK;
    }
    return st_err_set(err, ST_ERR_ARG, "--%s '%s': expected 1/0, true/false, yes/no or on/off",
                      name, s);
}

static enum st_status parse_widths(const char *s, struct st_train_cfg *cfg, struct st_err *err)
{
    int w[ST_MAX_LAYERS + 1], n = 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno == ERANGE || v < 1 || v > (1 << 24) || (*end != ',' && *end))
            return st_err_set(err, ST_ERR_ARG,
                              "--widths '%s': expected integers from 1 to %d separated by "
                              "commas (input, hidden..., output), e.g. 1,20,20,1",
                              s, 1 << 24);
        if (n > ST_MAX_LAYERS)
            return st_err_set(err, ST_ERR_ARG, "--widths '%s': at most %d layers", s,
                              ST_MAX_LAYERS);
        w[n++] = (int)v;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    if (n < 2)
        return st_err_set(err, ST_ERR_ARG,
                          "--widths '%s': expected at least an input and an output width", s);
    cfg->n_layers = n - 1;
    memcpy(cfg->widths, w, (size_t)n * sizeof *w);
    return ST_OK;
}

static enum st_status parse_enum(const char *name, const char *s, struct st_train_cfg *cfg,
                                 struct st_err *err)
{
    int ok = -1;
    const char *choices = "";
    if (!strcmp(name, "activation")) {
        ok = st_act_parse(s, &cfg->act);
        choices = st_act_choices();
    } else if (!strcmp(name, "data-dist")) {
        choices = "normal, uniform";
        if (!strcmp(s, "normal") || !strcmp(s, "uniform")) {
            cfg->data_dist = !strcmp(s, "normal") ? ST_DATA_NORMAL : ST_DATA_UNIFORM;
            ok = 0;
        }
    } else if (!strcmp(name, "optimizer")) {
        ok = st_optim_parse(s, &cfg->opt.kind);
        choices = "adam, adamw, sgd";
    } else if (!strcmp(name, "penalty")) {
        ok = st_penalty_parse(s, &cfg->penalty);
        choices = "l1, group, nuclear, l2, none";
    } else if (!strcmp(name, "nuclear-bias")) {
        choices = "none, l1";
        if (!strcmp(s, "none") || !strcmp(s, "l1")) {
            cfg->nuclear_bias_l1 = !strcmp(s, "l1");
            ok = 0;
        }
    } else if (!strcmp(name, "format")) {
        choices = "png, svg, pdf";
        for (int i = 0; i < 3; i++)
            if (!strcmp(s, st_fig_format_names[i])) {
                cfg->fig_format = i;
                ok = 0;
            }
    } else if (!strcmp(name, "task")) {
        choices = "teacher-student, data";
        if (!strcmp(s, "teacher-student") || !strcmp(s, "data")) {
            cfg->task_data = !strcmp(s, "data");
            ok = 0;
        }
    } else if (!strcmp(name, "loss")) {
        choices = "mse, xent";
        for (int k = ST_LOSS_MSE; k <= ST_LOSS_XENT; k++)
            if (!strcmp(s, st_loss_name((enum st_loss_kind)k))) {
                cfg->loss = (enum st_loss_kind)k;
                ok = 0;
            }
    } else if (!strcmp(name, "penalty-reduction")) {
        ok = st_reduction_parse(s, &cfg->reduction);
        choices = "mean, sum";
    }
    if (ok != 0)
        return st_err_set(err, ST_ERR_ARG, "--%s '%s': expected one of %s", name, s, choices);
    return ST_OK;
}

static const char *enum_value(const struct st_train_cfg *cfg, const char *name)
{
    if (!strcmp(name, "activation"))
        return st_act_name(cfg->act);
    if (!strcmp(name, "data-dist"))
        return cfg->data_dist == ST_DATA_NORMAL ? "normal" : "uniform";
    if (!strcmp(name, "optimizer"))
        return st_optim_name(cfg->opt.kind);
    if (!strcmp(name, "penalty"))
        return st_penalty_name(cfg->penalty);
    if (!strcmp(name, "penalty-reduction"))
        return st_reduction_name(cfg->reduction);
    if (!strcmp(name, "format"))
        return st_fig_format_names[cfg->fig_format];
    if (!strcmp(name, "nuclear-bias"))
        return cfg->nuclear_bias_l1 ? "l1" : "none";
    if (!strcmp(name, "loss"))
        return st_loss_name(cfg->loss);
    if (!strcmp(name, "task"))
        return cfg->task_data ? "data" : "teacher-student";
    return "?";
}

/* Where each non-enum option lives in the config. */
static void *field(struct st_train_cfg *c, const char *name, size_t *size)
{
    *size = 0;
    if (!strcmp(name, "reinit")) return (*size = sizeof c->reinit), c->reinit;
    if (!strcmp(name, "freeze")) return (*size = sizeof c->freeze), c->freeze;
    if (!strcmp(name, "out")) return (*size = sizeof c->out), c->out;
    if (!strcmp(name, "x")) return (*size = sizeof c->x_path), c->x_path;
    if (!strcmp(name, "teacher")) return (*size = sizeof c->teacher_path), c->teacher_path;
    if (!strcmp(name, "eval-x")) return (*size = sizeof c->eval_x), c->eval_x;
    if (!strcmp(name, "y-col")) return (*size = sizeof c->y_col), c->y_col;
    if (!strcmp(name, "val-fraction")) return &c->val_fraction;
    if (!strcmp(name, "standardize")) return &c->standardize;
    if (!strcmp(name, "eval-y")) return (*size = sizeof c->eval_y), c->eval_y;
    if (!strcmp(name, "student-init")) return (*size = sizeof c->init_path), c->init_path;
    if (!strcmp(name, "y")) return (*size = sizeof c->y_path), c->y_path;
    if (!strcmp(name, "data-size")) return &c->data_size;
    if (!strcmp(name, "batch")) return &c->batch;
    if (!strcmp(name, "online")) return &c->online;
    if (!strcmp(name, "label-noise")) return &c->label_noise;
    if (!strcmp(name, "lr")) return &c->opt.lr;
    if (!strcmp(name, "beta1")) return &c->opt.beta1;
    if (!strcmp(name, "beta2")) return &c->opt.beta2;
    if (!strcmp(name, "eps")) return &c->opt.eps;
    if (!strcmp(name, "weight-decay")) return &c->opt.weight_decay;
    if (!strcmp(name, "momentum")) return &c->opt.momentum;
    if (!strcmp(name, "nesterov")) return &c->opt.nesterov;
    if (!strcmp(name, "steps")) return &c->steps;
    if (!strcmp(name, "seed")) return &c->seed;
    if (!strcmp(name, "lambda")) return &c->lambda;
    if (!strcmp(name, "log-every")) return &c->log_every;
    if (!strcmp(name, "changed-threshold")) return &c->changed_threshold;
    if (!strcmp(name, "save-data")) return &c->save_data;
    if (!strcmp(name, "threads")) return &c->threads;
    if (!strcmp(name, "checkpoint-every")) return &c->checkpoint_every;
    if (!strcmp(name, "force")) return &c->force;
    if (!strcmp(name, "quiet")) return &c->quiet;
    if (!strcmp(name, "data-range")) return &c->data_lo;
    if (!strcmp(name, "prox")) return &c->prox;
    if (!strcmp(name, "lambda-scale")) return (*size = sizeof c->lambda_scale), c->lambda_scale;
    if (!strcmp(name, "spectrum-every")) return &c->spectrum_every;
    if (!strcmp(name, "teacher-delta")) return (*size = sizeof c->teacher_delta), c->teacher_delta;
    if (!strcmp(name, "teacher-delta-scale")) return &c->teacher_delta_scale;
    if (!strcmp(name, "plot")) return &c->plot;
    return NULL;
}

enum st_status st_option_set(struct st_train_cfg *cfg, const char *name, const char *value,
                             struct st_err *err)
{
    const struct st_option *o = st_option_find(name);
    size_t size;
    void *f;
    long lv;
    enum st_status st;

    if (!o)
        return st_err_set(err, ST_ERR_ARG, "unknown option '%s'", name);
    /* strtol and friends skip leading blanks: ' -1' would become a huge seed. */
    if (o->type != ST_OPT_T_STR && (isspace((unsigned char)value[0]) || value[0] == '+'))
        return st_err_set(err, ST_ERR_ARG, "--%s '%s': expected a value without a leading "
                          "blank or '+'", name, value);
    if (value[0] == '\0')
        return st_err_set(err, ST_ERR_ARG, "--%s '': empty value (expected %s)", name,
                          o->arg ? o->arg : "1 or 0");
    f = field(cfg, name, &size);
    switch (o->type) {
    case ST_OPT_T_WIDTHS: return parse_widths(value, cfg, err);
    case ST_OPT_T_ENUM: return parse_enum(name, value, cfg, err);
    case ST_OPT_T_FLAG: return parse_flag(name, value, f, err);
    case ST_OPT_T_DOUBLE: return parse_double(name, value, 0.0, f, err);
    case ST_OPT_T_INT:
        st = parse_long(name, value, o->lo, o->hi, &lv, err);
        if (st == ST_OK)
            *(long *)f = lv;
        return st;
    case ST_OPT_T_INTC:
        st = parse_long(name, value, o->lo, o->hi, &lv, err);
        if (st == ST_OK)
            *(int *)f = (int)lv;
        return st;
    case ST_OPT_T_U64: {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (end == value || *end || errno == ERANGE || value[0] == '-')
            return st_err_set(err, ST_ERR_ARG,
                              "--%s '%s': expected a non-negative integer below 2^64", name,
                              value);
        *(uint64_t *)f = (uint64_t)v;
        return ST_OK;
    }
    case ST_OPT_T_RANGE: {
        char *end, *end2;
        errno = 0;
        double lo = strtod(value, &end), hi = 0.0;
        /* Plain decimals only: no blanks or hex, and a span that is finite. */
        int ok = end != value && *end == ',' && errno == 0 && !strpbrk(value, " \txX");
        if (ok) {
            hi = strtod(end + 1, &end2);
            ok = end2 != end + 1 && *end2 == '\0' && errno == 0 && isfinite(lo) &&
                 isfinite(hi) && lo < hi && isfinite(hi - lo);
        }
        if (!ok)
            return st_err_set(err, ST_ERR_ARG,
                              "--%s '%s': expected two finite numbers LO,HI with LO < HI", name,
                              value);
        cfg->data_lo = lo;
        cfg->data_hi = hi;
        return ST_OK;
    }
    case ST_OPT_T_STR:
        if (strlen(value) >= size)
            return st_err_set(err, ST_ERR_ARG, "--%s: value longer than %zu characters", name,
                              size - 1);
        memcpy(f, value, strlen(value) + 1);
        return ST_OK;
    }
    return st_err_set(err, ST_ERR_ARG, "option '%s' has no parser", name);
}

/* Shortest %g form that reads back as exactly v. */
static void format_double(double v, char *buf, size_t size)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

void st_option_format(const struct st_train_cfg *cfg, const struct st_option *o, char *buf,
                      size_t size)
{
    size_t fsize;
    const void *f = field((struct st_train_cfg *)cfg, o->name, &fsize);
    switch (o->type) {
    case ST_OPT_T_WIDTHS: {
        size_t len = 0;
        buf[0] = '\0';
        for (int l = 0; l <= cfg->n_layers && len < size; l++)
            len += (size_t)snprintf(buf + len, size - len, l ? ",%d" : "%d", cfg->widths[l]);
        return;
    }
    case ST_OPT_T_ENUM: snprintf(buf, size, "%s", enum_value(cfg, o->name)); return;
    case ST_OPT_T_FLAG: snprintf(buf, size, "%d", *(const int *)f); return;
    case ST_OPT_T_DOUBLE: format_double(*(const double *)f, buf, size); return;
    case ST_OPT_T_INT: snprintf(buf, size, "%ld", *(const long *)f); return;
    case ST_OPT_T_INTC: snprintf(buf, size, "%d", *(const int *)f); return;
    case ST_OPT_T_U64: snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)f); return;
    case ST_OPT_T_STR: snprintf(buf, size, "%s", (const char *)f); return;
    case ST_OPT_T_RANGE: {
        char lo[32], hi[32];
        format_double(cfg->data_lo, lo, sizeof lo);
        format_double(cfg->data_hi, hi, sizeof hi);
        snprintf(buf, size, "%s,%s", lo, hi);
        return;
    }
    }
}

void st_options_write_ini(FILE *f, const struct st_train_cfg *cfg)
{
    char buf[4200];
    for (int i = 0; i < N_OPTIONS; i++) {
        if (!table[i].saved)
            continue;
        st_option_format(cfg, &table[i], buf, sizeof buf);
        fprintf(f, "%s = %s\n", table[i].name, buf);
    }
}
