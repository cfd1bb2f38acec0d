/* options.c: option table, parsing with full checks, and formatting that
 * round-trips (config.ini re-runs an experiment bit-identically). */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const st_fig_format_names[4] = { "png", "svg", "pdf", NULL };

static const char *const dist_names[] = { "normal", "uniform", NULL };
static const char *const task_names[] = { "teacher-student", "data", NULL };
static const char *const nuclear_bias_names[] = { "none", "l1", NULL };

/* Enum options are read and written as ints. */
_Static_assert(sizeof(enum st_act) == sizeof(int), "enum st_act is int-sized");
_Static_assert(sizeof(enum st_data_dist) == sizeof(int), "enum st_data_dist is int-sized");
_Static_assert(sizeof(enum st_loss_kind) == sizeof(int), "enum st_loss_kind is int-sized");
_Static_assert(sizeof(enum st_optim_kind) == sizeof(int), "enum st_optim_kind is int-sized");
_Static_assert(sizeof(enum st_penalty_kind) == sizeof(int), "enum st_penalty_kind is int-sized");
_Static_assert(sizeof(enum st_reduction) == sizeof(int), "enum st_reduction is int-sized");

/* Where an option's value lives, and its room (strings). */
#define AT(field) offsetof(struct st_train_cfg, field), sizeof(((struct st_train_cfg *)0)->field)

/* The kinds of command an option applies to (options.h). */
#define ALL (ST_CMD_TS | ST_CMD_DATA | ST_CMD_ANY)
#define TS (ST_CMD_TS | ST_CMD_ANY)
#define DATA (ST_CMD_DATA | ST_CMD_ANY)

/* Order = order in --help and config.ini. */
static const struct st_option table[] = {
    { "arch", ST_OPT_T_ARCH, "NAME", "mlp", NULL, "model family: mlp or gpt", 1, 0, 0, AT(arch.family),
      NULL, ALL },
    { "widths", ST_OPT_T_WIDTHS, "LIST", "1,20,20,1", NULL,
      "mlp: layer widths: input, hidden..., output", 1, 0, 0, AT(arch), NULL, ALL },
    { "activation", ST_OPT_T_ENUM, "NAME", "relu", NULL,
      "mlp: hidden activation: relu, tanh, silu, gelu, linear", 1, 0, 0, AT(arch.act),
      st_act_names, ALL },
    { "n-layer", ST_OPT_T_INT, "L", "4", NULL, "gpt: transformer blocks", 1, 1, 256,
      AT(arch.gpt_layers), NULL, ALL },
    { "n-head", ST_OPT_T_INT, "H", "4", NULL, "gpt: attention heads (--d-model a multiple of it)",
      1, 1, 1024, AT(arch.n_head), NULL, ALL },
    { "d-model", ST_OPT_T_INT, "C", "64", NULL, "gpt: the width of the residual stream", 1, 1,
      65536, AT(arch.d_model), NULL, ALL },
    { "vocab", ST_OPT_T_INT, "V", "64", NULL, "gpt: vocabulary size (token ids 0..V-1)", 1, 2,
      1 << 22, AT(arch.vocab), NULL, ALL },
    { "context", ST_OPT_T_INT, "T", "32", NULL,
      "gpt: tokens per sequence (the position table's length)", 1, 1, 1 << 20,
      AT(arch.context), NULL, ALL },
    { "reinit", ST_OPT_T_STR, "LIST", "middle", NULL,
      "what the student re-draws: tensor or group names or globs (e.g. 2, 1,3, w2, 'b*'); "
      "middle; none", 1, 0, 0, AT(reinit), NULL, TS },
    { "freeze", ST_OPT_T_STR, "LIST", "none", NULL,
      "tensors kept fixed: tensor or group names or globs (e.g. w1,b3, 1,3, 'b*'); none", 1, 0,
      0, AT(freeze), NULL, ALL },
    { "data-dist", ST_OPT_T_ENUM, "NAME", "uniform", NULL,
      "inputs from uniform U(LO,HI) (see --data-range) or normal N(0,1)", 1, 0, 0,
      AT(data_dist), dist_names, TS },
    { "data-range", ST_OPT_T_RANGE, "LO,HI", "0,2", NULL, "bounds of uniform inputs", 1, 0, 0,
      AT(data_range), NULL, TS },
    { "data-size", ST_OPT_T_LONG, "N", "1000", NULL, "number of fixed samples", 1, 1, INT_MAX,
      AT(data_size), NULL, TS },
    { "batch", ST_OPT_T_LONG, "B", "0", NULL, "minibatch size; 0 = full batch (all samples)", 1,
      0, INT_MAX, AT(batch), NULL, ALL },
    { "task", ST_OPT_T_ENUM, "NAME", "teacher-student", NULL,
      "teacher-student (a teacher labels the data, the truth is known) or data (train on --x "
      "and --y alone: pretrain and finetune)", 1, 0, 0, AT(task_data), task_names, ST_CMD_ANY },
    { "teacher", ST_OPT_T_STR, "FILE", "none", NULL,
      "the teacher's weights from a .safetensors file (sparsetune's layers.{i}.* or "
      "nn.Sequential's {k}.* names; widths must match --widths) instead of drawn ones; the "
      "student starts as a copy of it with the --reinit layers re-drawn", 1, 0, 0,
      AT(teacher_path), NULL, TS },
    { "student-init", ST_OPT_T_STR, "FILE", "none", NULL,
      "the student's start theta0 from a .safetensors file instead of the teacher's copy", 1, 0,
      0, AT(init_path), NULL, ALL },
    { "x", ST_OPT_T_STR, "FILE", "none", NULL,
      "inputs [N, in] from a .npy or .csv file instead of drawn ones (N replaces --data-size; the "
      "teacher labels them unless --y is given)", 1, 0, 0, AT(x_path), NULL, ALL },
    { "y", ST_OPT_T_STR, "FILE", "none", NULL,
      "targets from a .npy or .csv file, one row per row of --x: [N, out] for mse, class indices "
      "[N] or [N, 1] for xent", 1, 0, 0, AT(y_path), NULL, ALL },
    { "val-fraction", ST_OPT_T_DOUBLE, "FRAC", "0", NULL,
      "hold out this share of the --x rows (drawn with the seed) as a validation set: its loss "
      "at every logged row (val_mse or val_xent, val_accuracy) and in summary.json", 1, 0, 0,
      AT(val_fraction), NULL, ALL },
    { "standardize", ST_OPT_T_FLAG, NULL, "off", NULL,
      "scale each input column to mean 0, std 1 with the training rows' statistics, kept in "
      "the model files' metadata (a --student-init or --model file that holds statistics "
      "applies its own instead)", 1, 0, 0, AT(standardize), NULL, DATA },
    { "y-col", ST_OPT_T_STR, "COL", "none", NULL,
      "with a .csv --x (and --eval-x): the column holding the targets, a 0-based index or a "
      "header name; the other columns are the inputs", 1, 0, 0, AT(y_col), NULL, ALL },
    { "text", ST_OPT_T_STR, "FILE", "none", NULL,
      "gpt: train a language model on a text's bytes (token ids 0..255, so --vocab 256): "
      "batches of --batch windows of --context + 1 bytes at random offsets (8 windows when "
      "--batch is 0), next-token cross-entropy", 1, 0, 0, AT(text_path), NULL, DATA },
    { "tokens", ST_OPT_T_STR, "FILE", "none", NULL,
      "gpt: the same on a token stream: a 1-D integer .npy or llm.c's .bin token file", 1, 0,
      0, AT(tokens_path), NULL, DATA },
    { "tokenizer", ST_OPT_T_STR, "DIR", "none", NULL,
      "gpt: encode --text and --eval-text with GPT-2's BPE from DIR (vocab.json, merges.txt) "
      "instead of taking their bytes; found beside a --model folder that holds them", 1, 0, 0,
      AT(tokenizer), NULL, DATA },
    { "eval-text", ST_OPT_T_STR, "FILE", "none", NULL,
      "gpt: a text to evaluate on (its loss in bits per byte at every logged step: the "
      "forgetting curve); up to 64 windows spread over it", 1, 0, 0, AT(eval_text), NULL, DATA },
    { "eval-tokens", ST_OPT_T_STR, "FILE", "none", NULL,
      "gpt: a token file (.npy, .bin) to evaluate on, as --eval-text", 1, 0, 0, AT(eval_tokens),
      NULL, DATA },
    { "export-layout", ST_OPT_T_ENUM, "NAME", "auto", NULL,
      "gpt: the layout of student.safetensors and student_init.safetensors: sparsetune's "
      "names, hf (Hugging Face's GPT-2: Conv1D weights [in, out]) or nanogpt "
      "(transformer.-prefixed, with lm_head.weight); auto: the --model's own", 1, 0, 0,
      AT(export_layout), st_export_layout_names, ALL },
    { "eval-x", ST_OPT_T_STR, "FILE", "none", NULL,
      "an evaluation set's inputs (.npy or .csv), e.g. the first task's: its loss at every "
      "logged step is the forgetting curve", 1, 0, 0, AT(eval_x), NULL, ALL },
    { "eval-y", ST_OPT_T_STR, "FILE", "none", NULL,
      "the evaluation set's targets (without it the teacher labels --eval-x, or --y-col's "
      "column of a .csv --eval-x holds them)", 1, 0, 0, AT(eval_y), NULL, ALL },
    { "eval", ST_OPT_T_STR, "NAME=X,Y", "none", NULL,
      "a named evaluation set (repeatable, up to 8 with --eval-x): inputs X and targets Y "
      "(NAME=X alone: the teacher's labels, or --y-col's column of a .csv X); its loss (and "
      "accuracy) at every logged step in metrics.csv as eval_NAME_*, its forgetting in "
      "summary.json and the figure", 1, 0, 0, AT(evals), NULL, ALL },
    { "online", ST_OPT_T_FLAG, NULL, "off", NULL,
      "draw fresh inputs every step instead of a fixed set", 1, 0, 0, AT(online), NULL, TS },
    { "label-noise", ST_OPT_T_DOUBLE, "SIGMA", "0", NULL,
      "std of Gaussian noise added to the targets", 1, 0, 0, AT(label_noise), NULL, TS },
    { "loss", ST_OPT_T_ENUM, "NAME", "mse", NULL,
      "data loss: mse, xent (softmax cross-entropy against class indices; a teacher-student "
      "run labels each input with the teacher's largest output), or kl (KL divergence of the "
      "student's softmax from the target logits' softmax: distillation)", 1, 0, 0, AT(loss),
      st_loss_names, ALL },
    { "optimizer", ST_OPT_T_ENUM, "NAME", "adam", NULL,
      "adam, adamw or sgd (PyTorch's formulas)", 1, 0, 0, AT(opt.kind), st_optim_names, ALL },
    { "lr", ST_OPT_T_DOUBLE, "FLOAT", "0.01", NULL, "learning rate", 1, 0, 0, AT(opt.lr), NULL,
      ALL },
    { "beta1", ST_OPT_T_DOUBLE, "FLOAT", "0.9", NULL, "Adam/AdamW first-moment decay", 1, 0, 0,
      AT(opt.beta1), NULL, ALL },
    { "beta2", ST_OPT_T_DOUBLE, "FLOAT", "0.999", NULL, "Adam/AdamW second-moment decay", 1, 0,
      0, AT(opt.beta2), NULL, ALL },
    { "eps", ST_OPT_T_DOUBLE, "FLOAT", "1e-08", NULL, "Adam/AdamW epsilon", 1, 0, 0,
      AT(opt.eps), NULL, ALL },
    { "weight-decay", ST_OPT_T_AUTO, "FLOAT", "auto", "auto: 0; 0.01 for adamw",
      "weight decay (AdamW: decoupled; Adam, SGD: L2 in the gradient)", 1, 0, 0,
      AT(opt.weight_decay), NULL, ALL },
    { "momentum", ST_OPT_T_DOUBLE, "FLOAT", "0", NULL, "SGD momentum", 1, 0, 0, AT(opt.momentum),
      NULL, ALL },
    { "nesterov", ST_OPT_T_FLAG, NULL, "off", NULL, "SGD Nesterov momentum", 1, 0, 0,
      AT(opt.nesterov), NULL, ALL },
    { "steps", ST_OPT_T_LONG, "N", "10000", NULL, "optimizer steps", 1, 0, LONG_MAX - 1,
      AT(steps), NULL, ALL },
    { "seed", ST_OPT_T_U64, "N", "0", NULL,
      "random seed, each use its own stream of it: a teacher-student run draws the teacher, the "
      "re-drawn layers, the inputs, label noise and the batch order; a data run the batch "
      "order, the --val-fraction rows, a start without a model file and the fisher probes", 1,
      0, 0, AT(seed), NULL, ALL },
    { "penalty", ST_OPT_T_ENUM, "NAME", "l1", NULL,
      "penalty on the update theta - theta0: l1, group (a group per tensor), layer (a group "
      "per layer: its weight and bias together), nuclear, l2 or none (data runs - finetune, "
      "pretrain, --task data - default to layer with --prox and the sum reduction when none "
      "of --penalty, --penalty-reduction and --prox is given)", 1, 0, 0,
      AT(penalty), st_penalty_names, ALL },
    { "penalty-reduction", ST_OPT_T_ENUM, "NAME", "mean", NULL,
      "mean: each tensor's term divided by its size (the seed's; an entry of a small tensor "
      "costs more, so answers lean to large tensors); sum: every entry costs the same; sqrt: "
      "each term divided by the square root of its size; fisher: each tensor's entries priced "
      "by the square root of their mean Fisher information at the start, relative to all "
      "entries (an entry that moves the outputs more costs more); data runs: see --penalty",
      1, 0, 0,
      AT(reduction), st_reduction_names, ALL },
    { "lambda", ST_OPT_T_DOUBLE, "FLOAT", "0", NULL, "penalty strength", 1, 0, 0, AT(lambda),
      NULL, ALL },
    { "prox", ST_OPT_T_FLAG, NULL, "off", NULL,
      "proximal step in the optimizer's metric instead of the subgradient (exact zeros; "
      "data runs: see --penalty; --no-prox: off)", 1, 0,
      0, AT(prox), NULL, ALL },
    { "lambda-scale", ST_OPT_T_STR, "LIST", "none", NULL,
      "multipliers of lambda, NAME=FACTOR with NAME as in --freeze, e.g. w1=0,b1=0 or 3=0.5", 1,
      0, 0, AT(lambda_scale), NULL, ALL },
    { "nuclear-bias", ST_OPT_T_ENUM, "NAME", "none", NULL,
      "nuclear: biases get none or an l1 term", 1, 0, 0, AT(nuclear_bias_l1),
      nuclear_bias_names, ALL },
    { "spectrum-every", ST_OPT_T_LONG, "N", "100", NULL,
      "log nuclear norm and rank of each update matrix every N steps (and the last); 0: never "
      "(an SVD per weight matrix is costly on wide layers)", 1, 0, LONG_MAX, AT(spectrum_every),
      NULL, ALL },
    { "teacher-delta", ST_OPT_T_STR, "KIND", "full", NULL,
      "how the teacher differs in the --reinit tensors: full (re-drawn), rank:R (student + "
      "a rank-R matrix; R is capped at min(out, in)), sparse:P (a fraction P of entries "
      "perturbed)", 1, 0, 0, AT(teacher_delta), NULL, TS },
    { "teacher-delta-scale", ST_OPT_T_DOUBLE, "FLOAT", "0.1", NULL,
      "std of the entries of a rank:R or sparse:P teacher delta (unused with full)", 1, 0, 0,
      AT(teacher_delta_scale), NULL, TS },
    { "log-every", ST_OPT_T_LONG, "N", "1", NULL, "log a metrics row every N steps (and the last)",
      1, 1, LONG_MAX, AT(log_every), NULL, ALL },
    { "changed-threshold", ST_OPT_T_DOUBLE, "FRAC", "0.1", NULL,
      "verdict: a tensor changed if its d_init >= FRAC * the largest", 1, 0, 0,
      AT(changed_threshold), NULL, ALL },
    { "save-data", ST_OPT_T_FLAG, NULL, "off", NULL, "also write the data set as x.npy and y.npy",
      1, 0, 0, AT(save_data), NULL, ALL },
    { "save-delta", ST_OPT_T_FLAG, NULL, "off", NULL,
      "also write delta.safetensors: the entries that differ from the start and their values "
      "(sparsetune apply rebuilds the model from the start and it)", 1, 0, 0, AT(save_delta),
      NULL, ALL },
    { "grad-accum", ST_OPT_T_LONG, "K", "1", NULL,
      "batches per step: each step averages the gradients of K batches of --batch rows, a "
      "batch K times larger in the memory of one (and one more copy of the gradient)", 1, 1,
      1 << 20, AT(grad_accum), NULL, ALL },
    { "ranks", ST_OPT_T_LONG, "N", "1", NULL,
      "data-parallel MPI ranks: taken from mpirun -np and recorded in config.ini, so that "
      "--resume runs on as many (not given by hand)", 1, 1, 1 << 20, AT(ranks), NULL, ALL },
    { "threads", ST_OPT_T_INT, "N", "1", NULL, "threads (wide layers, parameter passes)", 1, 1,
      1024, AT(threads), NULL, ALL },
    { "products", ST_OPT_T_STR, "WAY", "auto", NULL,
      "mlp: each layer's matrix products through sparsetune's own kernels or OpenBLAS: auto (the "
      "faster on this CPU, timed once and cached), own, blas, fixed (own up to 65,536 weights, "
      "the same on every CPU) or one per layer (own,own,blas; config.ini records the choice)",
      1, 0, 0, AT(products), NULL, ALL },
    { "checkpoint-every", ST_OPT_T_LONG, "N", "0", NULL,
      "write OUT/checkpoint.bin every N steps (0: only when stopped by SIGINT or SIGTERM); "
      "--resume OUT goes on from it", 0, 0, LONG_MAX, AT(checkpoint_every), NULL, ALL },
    { "out", ST_OPT_T_STR, "DIR", "run", NULL, "run directory to write", 0, 0, 0, AT(out), NULL,
      ALL },
    { "plot", ST_OPT_T_FLAG, NULL, "on", NULL, "draw the run's figure at the end (--no-plot: skip)",
      0, 0, 0, AT(plot), NULL, ALL },
    { "format", ST_OPT_T_ENUM, "NAME", "png", NULL, "figure format: png, svg or pdf", 0, 0, 0,
      AT(fig_format), st_fig_format_names, ALL },
    { "force", ST_OPT_T_FLAG, NULL, "off", NULL,
      "overwrite a run directory that already holds a run, or write one into a directory "
      "that holds other files", 0, 0, 0, AT(force), NULL, ALL },
    { "quiet", ST_OPT_T_FLAG, NULL, "off", NULL, "no progress bar", 0, 0, 0, AT(quiet), NULL, ALL },
    { "dry-run", ST_OPT_T_FLAG, NULL, "off", NULL,
      "read the model and data, print the memory the run needs by part, and stop: nothing is "
      "trained or written", 0, 0, 0, AT(dry_run), NULL, ALL },
};

/* What an option says in the help of pretrain and finetune, where a data run
 * makes it mean something else (or default otherwise: cli.c's data
 * defaults) than the general text, which covers both kinds of run. */
static const struct {
    const char *name, *help, *shown;
} data_text[] = {
    { "student-init", "the start theta0 from a .safetensors file instead of a fresh draw",
      NULL },
    { "x", "the training inputs [N, in] from a .npy or .csv file (required)", NULL },
    { "y", "targets from a .npy or .csv file, one row per row of --x: [N, out] for mse, class "
           "indices [N] or [N, 1] for xent (required, or --y-col)", NULL },
    { "eval-y", "the evaluation set's targets (required, or --y-col's column of a .csv "
                "--eval-x)", NULL },
    { "loss", "data loss: mse, xent (softmax cross-entropy against class indices) or kl (KL "
             "divergence from target logits)", NULL },
    { "seed", "random seed: the batch order (--batch), the rows --val-fraction holds out, a "
              "start drawn without a model file and the fisher reduction's probes (with a full "
              "batch, no --val-fraction, a model file and no fisher it changes nothing)",
      NULL },
    { "penalty", "penalty on the update theta - theta0: l1, group (a group per tensor), layer "
                 "(a group per layer: its weight and bias together), nuclear, l2 or none; "
                 "when none of --penalty, --penalty-reduction and --prox is given: layer with "
                 "--prox and the sum reduction", "layer" },
    { "penalty-reduction", "mean: each tensor's term divided by its size (an entry of a small "
                           "tensor costs more, so answers lean to large tensors); sum: every "
                           "entry costs the same; sqrt: each term divided by the square root "
                           "of its size; fisher: each tensor's entries priced by the square "
                           "root of their mean Fisher information at the start, relative to "
                           "all entries; see --penalty", "sum" },
    { "prox", "proximal step in the optimizer's metric instead of the subgradient (exact zeros; "
              "see --penalty; --no-prox: off)", "on" },
};

#define N_OPTIONS ((int)(sizeof table / sizeof table[0]))
_Static_assert(N_OPTIONS <= ST_OPTIONS_MAX, "ST_OPTIONS_MAX holds every option");

const struct st_option *st_options(int *n)
{
    *n = N_OPTIONS;
    return table;
}

int st_option_index(const char *name)
{
    for (int i = 0; i < N_OPTIONS; i++)
        if (strcmp(table[i].name, name) == 0)
            return i;
    return -1;
}

const struct st_option *st_option_find(const char *name)
{
    int i = st_option_index(name);
    return i >= 0 ? &table[i] : NULL;
}

const char *st_option_help(const struct st_option *o, int data, const char **shown)
{
    const char *help = o->help;
    *shown = o->shown ? o->shown : o->def;
    for (size_t i = 0; data && i < sizeof data_text / sizeof data_text[0]; i++)
        if (!strcmp(data_text[i].name, o->name)) {
            help = data_text[i].help;
            if (data_text[i].shown)
                *shown = data_text[i].shown;
        }
    return help;
}

int st_option_is_default(const struct st_train_cfg *cfg, const char *name)
{
    const struct st_option *o = st_option_find(name);
    struct st_train_cfg *d = o ? malloc(sizeof *d) : NULL;
    char a[ST_OPTION_TEXT_MAX], b[ST_OPTION_TEXT_MAX];
    struct st_err err;
    int same = 0;
    if (d) {
        *d = *cfg;
        if (st_option_set(d, name, o->def, &err) == ST_OK) {
            st_option_format(cfg, o, a, sizeof a);
            st_option_format(d, o, b, sizeof b);
            same = !strcmp(a, b);
        }
    }
    free(d);
    return same;
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
    /* The learning rate must be positive: one message for every value that is not. */
    if (!strcmp(name, "lr") && errno != ERANGE &&
        !(end != s && *end == '\0' && isfinite(v) && v > 0.0))
        return st_err_set(err, ST_ERR_ARG, "--%s '%s': expected a positive finite number", name,
                          s);
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

static enum st_status parse_widths(const char *s, struct st_arch *a, struct st_err *err)
{
    int w[ST_MLP_MAX_LAYERS + 1], n = 0;
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
        if (n > ST_MLP_MAX_LAYERS)
            return st_err_set(err, ST_ERR_ARG, "--widths '%s': at most %d layers", s,
                              ST_MLP_MAX_LAYERS);
        w[n++] = (int)v;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    if (n < 2)
        return st_err_set(err, ST_ERR_ARG,
                          "--widths '%s': expected at least an input and an output width", s);
    a->n_layers = n - 1;
    memcpy(a->widths, w, (size_t)n * sizeof *w);
    return ST_OK;
}

/* "a, b, c" from a NULL-terminated list of names. */
static void list_choices(const char *const *names, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; names[i] && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", names[i]);
}

static enum st_status parse_enum(const struct st_option *o, const char *s, int *out,
                                 struct st_err *err)
{
    char list[256];
    for (int i = 0; o->choices[i]; i++)
        if (!strcmp(s, o->choices[i])) {
            *out = i;
            return ST_OK;
        }
    list_choices(o->choices, list, sizeof list);
    return st_err_set(err, ST_ERR_ARG, "--%s '%s': expected one of %s", o->name, s, list);
}

/* LO,HI: plain decimals (no blanks or hex), LO < HI and a span that is finite. */
static enum st_status parse_range(const char *name, const char *value, double *range,
                                  struct st_err *err)
{
    char *end, *end2;
    errno = 0;
    double lo = strtod(value, &end), hi = 0.0;
    int ok = end != value && *end == ',' && errno == 0 && !strpbrk(value, " \txX");
    if (ok) {
        hi = strtod(end + 1, &end2);
        ok = end2 != end + 1 && *end2 == '\0' && errno == 0 && isfinite(lo) && isfinite(hi) &&
             lo < hi && isfinite(hi - lo);
    }
    if (!ok)
        return st_err_set(err, ST_ERR_ARG,
                          "--%s '%s': expected two finite numbers LO,HI with LO < HI (each a "
                          "double that is not too small or too large to hold)", name, value);
    /* The data are float32: bounds that float32 cannot tell apart (or
     * cannot hold) draw one value, or inf. */
    if (!((float)lo < (float)hi) || !isfinite((float)lo) || !isfinite((float)hi))
        return st_err_set(err, ST_ERR_ARG,
                          "--%s '%s': LO and HI are %g and %g in float32; expected bounds that "
                          "float32 holds and tells apart", name, value, (double)(float)lo,
                          (double)(float)hi);
    range[0] = lo;
    range[1] = hi;
    return ST_OK;
}

static enum st_status parse_u64(const char *name, const char *value, uint64_t *out,
                                struct st_err *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (end == value || *end || errno == ERANGE || value[0] == '-')
        return st_err_set(err, ST_ERR_ARG, "--%s '%s': expected a non-negative integer below 2^64",
                          name, value);
    *out = (uint64_t)v;
    return ST_OK;
}

void st_train_cfg_defaults(struct st_train_cfg *cfg)
{
    int n;
    const struct st_option *opts = st_options(&n);
    struct st_err err;
    memset(cfg, 0, sizeof *cfg);
    for (int i = 0; i < n; i++)
        if (st_option_set(cfg, opts[i].name, opts[i].def, &err) != ST_OK)
            abort(); /* a default the table itself refuses: a bug no input can cause */
    snprintf(cfg->init_opt, sizeof cfg->init_opt, "student-init");
}

enum st_status st_option_set(struct st_train_cfg *cfg, const char *name, const char *value,
                             struct st_err *err)
{
    const struct st_option *o = st_option_find(name);
    long lv = 0;
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
    void *f = (char *)cfg + o->offset;
    switch (o->type) {
    case ST_OPT_T_WIDTHS: return parse_widths(value, f, err);
    case ST_OPT_T_ENUM: return parse_enum(o, value, f, err);
    case ST_OPT_T_ARCH: {
        int i = st_family_find(value);
        if (i < 0)
            return st_err_set(err, ST_ERR_ARG, "--%s '%s': expected one of %s", name, value,
                              st_family_choices());
        *(int *)f = i;
        return ST_OK;
    }
    case ST_OPT_T_FLAG: return parse_flag(name, value, f, err);
    case ST_OPT_T_DOUBLE: return parse_double(name, value, 0.0, f, err);
    case ST_OPT_T_AUTO:
        /* "nan": how config files of earlier versions wrote auto */
        if (!strcmp(value, "auto") || !strcmp(value, "nan")) {
            *(double *)f = (double)NAN;
            return ST_OK;
        }
        return parse_double(name, value, 0.0, f, err);
    case ST_OPT_T_LONG:
    case ST_OPT_T_INT:
        st = parse_long(name, value, o->lo, o->hi, &lv, err);
        if (st == ST_OK && o->type == ST_OPT_T_LONG)
            *(long *)f = lv;
        else if (st == ST_OK)
            *(int *)f = (int)lv;
        return st;
    case ST_OPT_T_U64: return parse_u64(name, value, f, err);
    case ST_OPT_T_RANGE: return parse_range(name, value, f, err);
    case ST_OPT_T_STR:
        if (strlen(value) >= o->size)
            return st_err_set(err, ST_ERR_ARG, "--%s: value longer than %zu characters", name,
                              o->size - 1);
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
    const void *f = (const char *)cfg + o->offset;
    switch (o->type) {
    case ST_OPT_T_WIDTHS: {
        const struct st_arch *a = f;
        size_t len = 0;
        buf[0] = '\0';
        for (int l = 0; l <= a->n_layers && len < size; l++)
            len += (size_t)snprintf(buf + len, size - len, l ? ",%d" : "%d", a->widths[l]);
        return;
    }
    case ST_OPT_T_ENUM: {
        int v = *(const int *)f, n = 0;
        while (o->choices[n])
            n++;
        snprintf(buf, size, "%s", v >= 0 && v < n ? o->choices[v] : "?");
        return;
    }
    case ST_OPT_T_ARCH: {
        const struct st_family *fam = st_family_at(*(const int *)f);
        snprintf(buf, size, "%s", fam ? fam->name : "?");
        return;
    }
    case ST_OPT_T_FLAG: snprintf(buf, size, "%d", *(const int *)f); return;
    case ST_OPT_T_DOUBLE: format_double(*(const double *)f, buf, size); return;
    case ST_OPT_T_AUTO:
        if (isnan(*(const double *)f))
            snprintf(buf, size, "auto");
        else
            format_double(*(const double *)f, buf, size);
        return;
    case ST_OPT_T_LONG: snprintf(buf, size, "%ld", *(const long *)f); return;
    case ST_OPT_T_INT: snprintf(buf, size, "%d", *(const int *)f); return;
    case ST_OPT_T_U64: snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)f); return;
    case ST_OPT_T_STR: snprintf(buf, size, "%s", (const char *)f); return;
    case ST_OPT_T_RANGE: {
        const double *r = f;
        char lo[32], hi[32];
        format_double(r[0], lo, sizeof lo);
        format_double(r[1], hi, sizeof hi);
        snprintf(buf, size, "%s,%s", lo, hi);
        return;
    }
    }
}

int st_option_for_family(const struct st_option *o, int family)
{
    int claimed = 0;
    for (int f = 0; f < st_family_count(); f++) {
        const struct st_family *fam = st_family_at(f);
        for (int i = 0; fam->options[i]; i++)
            if (!strcmp(fam->options[i], o->name)) {
                if (f == family)
                    return 1;
                claimed = 1;
            }
    }
    return !claimed;
}

void st_options_write_ini(FILE *f, const struct st_train_cfg *cfg)
{
    char buf[ST_OPTION_TEXT_MAX];
    for (int i = 0; i < N_OPTIONS; i++) {
        if (!table[i].saved || !st_option_for_family(&table[i], cfg->arch.family))
            continue;
        st_option_format(cfg, &table[i], buf, sizeof buf);
        fprintf(f, "%s = %s\n", table[i].name, buf);
    }
}
