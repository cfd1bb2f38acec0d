/* cmd_baselines.c: `sparsetune baselines`, method 1: train every non-empty
 * subset of the layers (or of the tensors, --by tensor) with everything else
 * frozen and no penalty, rank the subsets by final loss (or, --select
 * accuracy, by classification error), and mark the smallest ones that come
 * within 2x of the best. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/select.h"
#include "../exp/options.h"
#include "../io/file.h"
#include "../plot/figure.h"
#include "cli.h"
#include "commands.h"
#include "pool.h"

#define MAX_UNITS 12
#define MAX_SUBSETS ((1 << MAX_UNITS) - 1)

struct subset {
    unsigned long mask; /* bit u: unit u (a layer, or a tensor in layout order) trains */
    char name[MAX_UNITS * ST_NAME_MAX]; /* "2" or "w2,b2" */
    int units;          /* number of units that train */
    long params;        /* entries that train */
    enum st_status st;
    double loss; /* the lowest data loss of the last 10% of the steps */
    double acc;  /* xent: the accuracy on the training rows at the end; NaN otherwise */
    double wall;
    char error[200];
};

/* What ranks the subsets: the loss, or (xent) the classification error. */
enum select_by { BY_LOSS, BY_ACCURACY };

struct bl_ctx {
    const struct st_train_cfg *base;
    struct subset *sub;
    int n_units;
    const char **units; /* [n_units] their names: the model's units (layers), or its tensors */
};

static void usage(FILE *f)
{
    fputs("usage: sparsetune baselines [options]\n"
          "\n"
          "Method 1: trains every non-empty subset of the layers (--by tensor: of the\n"
          "tensors) with the rest frozen and lambda = 0, on the teacher-student problem\n"
          "the options describe (or, with --model, on your data), and prints the subsets\n"
          "sorted by their loss (the lowest data loss of the last 10% of the steps, so\n"
          "that a loss spike at the end does not decide); '*' marks the smallest subsets\n"
          "within 2x of the best. With --loss xent, --select accuracy ranks and marks by\n"
          "the classification error (1 - accuracy on the training rows at the end)\n"
          "instead. Writes OUT/baselines.csv and OUT/baselines.png.\n"
          "\n"
          "baselines options:\n"
          "  --by NAME                  layer (a GPT: block), tensor, or attn-mlp (a GPT\n"
          "                             block's attention and MLP halves apart) [layer]\n"
          "  --select NAME              what 'within 2x of the best' compares: loss, or\n"
          "                             accuracy (xent: the error 1 - accuracy) [loss]\n"
          "  --jobs N                   worker processes [the number of cores]\n"
          "  --model FILE               fine-tune the model in FILE on --x/--y, as finetune\n"
          "                             (widths and activation from the file)\n"
          "\n"
          "options of every run (as for train; --out is the directory [baselines]):\n",
          f);
    st_cli_print_run_options(f, "baselines");
    fputs("\n"
          "example:\n"
          "  sparsetune baselines --by tensor --steps 5000 --out bl\n"
          "\n"
          "exit status: 0 success (diverged runs included), 1 a run failed or a runtime\n"
          "failure (the tables keep what the other runs gave), 2 usage error\n",
          f);
}

static enum st_status make_run(void *user, long i, struct st_train_cfg *cfg, struct st_err *err)
{
    struct bl_ctx *c = user;
    const struct subset *s = &c->sub[i];
    enum st_status st;
    *cfg = *c->base;
    cfg->lambda = 0.0;
    if ((st = st_select_join(c->units, c->n_units, s->mask, 0, cfg->freeze, sizeof cfg->freeze,
                             err)) != ST_OK)
        return st;
    return st_pool_task_cfg(cfg, c->base->out, i, err);
}

static void run_done(void *user, long i, enum st_status st, const struct st_train_result *res,
                     const char *error)
{
    struct bl_ctx *c = user;
    struct subset *s = &c->sub[i];
    s->st = st;
    s->loss = st == ST_OK ? res->data_loss_tail : (double)NAN;
    s->acc = st == ST_OK ? res->accuracy : (double)NAN;
    s->wall = res->wall_seconds;
    snprintf(s->error, sizeof s->error, "%s", error ? error : "");
}

/* The number --select compares (lower is better): the loss, or the
 * classification error; infinite for a run that did not finish. */
static double score(const struct subset *s, enum select_by by)
{
    double v = by == BY_ACCURACY ? 1.0 - s->acc : s->loss;
    return isfinite(v) ? v : (double)INFINITY;
}

static int cmp_loss(const void *a, const void *b)
{
    const struct subset *x = a, *y = b;
    double u = score(x, BY_LOSS), v = score(y, BY_LOSS);
    if (u != v)
        return u < v ? -1 : 1;
    return x->units - y->units;
}

/* By error, ties by loss. */
static int cmp_error(const void *a, const void *b)
{
    const struct subset *x = a, *y = b;
    double u = score(x, BY_ACCURACY), v = score(y, BY_ACCURACY);
    if (u != v)
        return u < v ? -1 : 1;
    return cmp_loss(a, b);
}

/* Within 2x of the best score (a best error of 0 takes exactly 0). */
static int within(const struct subset *s, enum select_by by, double best)
{
    double v = score(s, by);
    return isfinite(v) && v <= 2.0 * best;
}

/* What a subset is made of (--by): the model's units (an MLP's layers, a
 * GPT's blocks), its tensors, or a GPT block's halves (attention, MLP). */
enum { BY_LAYER, BY_TENSOR, BY_HALF };

static const char *unit_word(int by)
{
    return by == BY_TENSOR ? "tensors" : by == BY_HALF ? "halves" : "layers";
}

/* View t's unit under by: its unit, itself, or its half (its second group
 * where it has one: h{i}.attn, h{i}.mlp; else its unit). */
static const char *unit_of(const struct st_view *v, int by)
{
    return by == BY_TENSOR ? v->name : by == BY_HALF && v->n_groups > 1 ? v->groups[1]
                                                                           : v->groups[0];
}

/* The units a subset is made of, in layout order, with their entry counts
 * (units point into layout). Returns how many, or -1 after printing an
 * error. */
static int units_of(const struct st_params *layout, int by, const char **units, long *params)
{
    struct st_err err = { "" };
    int n = 0;
    for (int t = 0; t < layout->n_views; t++) {
        const char *u = unit_of(&layout->v[t], by);
        int k = 0;
        while (k < n && strcmp(units[k], u))
            k++;
        if (k == n) {
            if (n == MAX_UNITS) {
                n++;
                break;
            }
            units[n] = u;
            params[n++] = 0;
        }
        params[k] += (long)st_view_size(&layout->v[t]);
    }
    if (n > MAX_UNITS) {
        st_err_set(&err, ST_ERR_ARG, "over %d %s: at most %d units (%d subsets)", MAX_UNITS,
                   unit_word(by), MAX_UNITS, MAX_SUBSETS);
        st_cli_fail("baselines", ST_ERR_ARG, &err);
        return -1;
    }
    return n;
}

/* Every non-empty subset of the units, in mask order. */
static struct subset *subsets(int n_units, const char **units, const long *params)
{
    long n_sub = (1L << n_units) - 1;
    struct subset *sub = calloc((size_t)n_sub, sizeof *sub);
    for (long i = 0; sub && i < n_sub; i++) {
        struct subset *s = &sub[i];
        s->mask = (unsigned long)(i + 1);
        /* Room for every unit's name: this cannot fail. */
        st_select_join(units, n_units, s->mask, 1, s->name, sizeof s->name, NULL);
        for (int u = 0; u < n_units; u++) {
            if (s->mask >> u & 1) {
                s->units++;
                s->params += params[u];
            }
        }
    }
    return sub;
}

/* baselines.csv, sorted by loss. Returns 0 or an exit status. */
static int write_table(const char *path, const struct subset *sub, long n_sub, double best,
                       int min_units, enum select_by by, enum st_loss_kind lk)
{
    int xent = lk == ST_LOSS_XENT;
    const char *loss = st_loss_name(lk);
    struct st_err err = { "" };
    struct st_atomic_file af;
    if (st_atomic_open(&af, path, &err) != ST_OK)
        return st_cli_fail("baselines", ST_ERR_IO, &err);
    fprintf(af.f, "rank,trained,units,params,%s_tail_min%s,within_2x_best,smallest_within_2x,"
            "status,wall_seconds\n", loss, xent ? ",accuracy" : "");
    for (long i = 0; i < n_sub; i++) {
        const struct subset *s = &sub[i];
        int in = within(s, by, best);
        fprintf(af.f, "%ld,\"%s\",%d,%ld,%.17g", i + 1, s->name, s->units, s->params, s->loss);
        if (xent)
            fprintf(af.f, ",%.17g", s->acc);
        fprintf(af.f, ",%d,%d,%s,%.6g\n", in, in && s->units == min_units,
                s->st == ST_OK ? "ok" : s->st == ST_ERR_NUMERIC ? "diverged" : "failed", s->wall);
    }
    if (st_atomic_commit(&af, &err) != ST_OK)
        return st_cli_fail("baselines", ST_ERR_IO, &err);
    return 0;
}

/* The bar chart of the sorted subsets. */
static void draw(const char *out, const struct subset *sub, long n_sub, double best,
                 int min_units, int by_tensor, enum select_by by, enum st_loss_kind lk)
{
    struct st_err err = { "" };
    char fig[4300], ylabel[64];
    snprintf(ylabel, sizeof ylabel, "loss (%s)", st_loss_title(lk));
    const char **names = malloc((size_t)n_sub * sizeof *names);
    double *loss = malloc((size_t)n_sub * sizeof *loss);
    int *marks = malloc((size_t)n_sub * sizeof *marks);
    snprintf(fig, sizeof fig, "%s/baselines.png", out);
    for (long i = 0; names && loss && marks && i < n_sub; i++) {
        names[i] = sub[i].name;
        loss[i] = sub[i].loss;
        marks[i] = within(&sub[i], by, best) && sub[i].units == min_units;
    }
    char title[200], mark[120];
    const char *unit = unit_word(by_tensor);
    snprintf(title, sizeof title, "loss of each trained subset of %s (lowest of the last 10%% "
             "of steps)", unit);
    snprintf(mark, sizeof mark, "the fewest %s within 2\u00d7 the best %s (the pick)", unit,
             by == BY_ACCURACY ? "error, 1 \u2212 accuracy," : "loss");
    /* Under --select accuracy the pick is by error, not by the loss drawn:
     * no 2x level on the loss axis then. */
    struct st_fig_bars bars = {
        title,
        ylabel,
        by_tensor == BY_TENSOR ? "trained tensors"
        : by_tensor == BY_HALF ? "trained halves"
                               : "trained layers",
        (int)n_sub, names, loss, marks, mark,
        "the other subsets", by == BY_ACCURACY ? 0.0 : 2.0 * best, "2\u00d7 the best loss"
    };
    if (!names || !loss || !marks)
        fprintf(stderr, "sparsetune baselines: out of memory for the figure\n");
    else if (st_figure_bars(fig, ST_FIG_PNG, &bars, &err) == ST_OK)
        printf("figure: %s\n", fig);
    else
        fprintf(stderr, "sparsetune baselines: %s\n", err.msg);
    free(names);
    free(loss);
    free(marks);
}

/* The base run's units (layers, or tensors with --by tensor) and their
 * entry counts, after its configuration and data check out. Returns 0 or an
 * exit status. */
static int base_units(const struct st_train_cfg *base, int by_tensor, struct st_params *layout,
                      const char ***units, long **params, int *n_units)
{
    struct st_err err = { "" };
    struct st_train_cfg probe = *base;
    enum st_status st = st_cli_probe(&probe, &err);
    if (st == ST_OK)
        st = st_arch_layout(&probe.arch, layout, &err);
    if (st != ST_OK)
        return st_cli_fail("baselines", st, &err);
    *units = malloc(((size_t)layout->n_views * ST_VIEW_GROUPS + 1) * sizeof **units);
    *params = malloc(((size_t)layout->n_views * ST_VIEW_GROUPS + 1) * sizeof **params);
    if (!*units || !*params)
        return ST_EXIT_RUNTIME;
    *n_units = units_of(layout, by_tensor, *units, *params);
    return *n_units < 0 ? ST_EXIT_USAGE : 0;
}

/* The subsets ranked by loss: baselines.csv, the table and the figure.
 * Returns 0 or an exit status. */
static int rank_subsets(const struct st_train_cfg *base, struct subset *sub, long n_sub,
                        int n_units, int by_tensor, enum select_by by)
{
    int xent = base->loss == ST_LOSS_XENT;
    char tail[32];
    snprintf(tail, sizeof tail, "%s (tail)", st_loss_name(base->loss));
    qsort(sub, (size_t)n_sub, sizeof *sub, by == BY_ACCURACY ? cmp_error : cmp_loss);
    double best = score(&sub[0], by);
    int min_units = n_units + 1, rc;
    for (long i = 0; i < n_sub; i++)
        if (within(&sub[i], by, best) && sub[i].units < min_units)
            min_units = sub[i].units;
    char path[4300];
    snprintf(path, sizeof path, "%s/baselines.csv", base->out);
    if ((rc = write_table(path, sub, n_sub, best, min_units, by, base->loss)) != 0)
        return rc;
    printf("method 1: %ld subsets of the %s trained with the rest frozen (lambda = 0); "
           "'*' = smallest within 2x of the best %s\n\n",
           n_sub, unit_word(by_tensor),
           by == BY_ACCURACY ? "error (1 - accuracy)" : "loss");
    printf("%4s  %-24s %7s %12s%s\n", "rank", "trained", "params",
           tail, xent ? "   accuracy" : "");
    for (long i = 0; i < n_sub; i++) {
        const struct subset *s = &sub[i];
        int mark = within(s, by, best) && s->units == min_units;
        printf("%4ld  %-24s %7ld %12.4e", i + 1, s->name, s->params, s->loss);
        if (xent)
            printf(" %10.4f", s->acc);
        printf(" %s\n",
               mark ? "*" : s->st == ST_OK ? "" : s->st == ST_ERR_NUMERIC ? "diverged" : "failed");
    }
    printf("\ntable: %s\n", path);
    if (base->plot)
        draw(base->out, sub, n_sub, best, min_units, by_tensor, by, base->loss);
    return 0;
}

int cmd_baselines(int argc, char **argv)
{
    struct st_train_cfg base;
    struct st_err err = { "" };
    struct st_params layout;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int rest_argc = 0, help = 0, rc = 0, by_tensor = 0, n_units = 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN), jobs = cores > 0 ? cores : 1, failed = 0;
    const char *by = "layer", *select = "loss";
    const char *model = NULL;
    unsigned char given[ST_OPTIONS_MAX];
    struct subset *sub = NULL;
    const char **units = NULL;
    long *params = NULL;
    const struct st_cli_opt opts[] = {
        { "--by", 's', 0, 0, &by },
        { "--select", 's', 0, 0, &select },
        { "--jobs", 'i', 1, ST_POOL_MAX_JOBS, &jobs },
        { "--model", 's', 0, 0, &model },
    };

    memset(&layout, 0, sizeof layout);
    if (!rest)
        return ST_EXIT_RUNTIME;
    rc = st_cli_take_opts("baselines", argc, argv, opts, 4, rest, &rest_argc, &help);
    if (rc == 0 && help)
        usage(stdout);
    if (rc == 0 && !help && strcmp(by, "layer") && strcmp(by, "tensor") &&
        strcmp(by, "attn-mlp")) {
        st_err_set(&err, ST_ERR_ARG, "--by '%s': expected layer, tensor or attn-mlp", by);
        rc = st_cli_fail("baselines", ST_ERR_ARG, &err);
    }
    if (rc == 0 && !help && strcmp(select, "loss") && strcmp(select, "accuracy")) {
        st_err_set(&err, ST_ERR_ARG, "--select '%s': expected loss or accuracy", select);
        rc = st_cli_fail("baselines", ST_ERR_ARG, &err);
    }
    by_tensor = !strcmp(by, "tensor") ? BY_TENSOR : !strcmp(by, "attn-mlp") ? BY_HALF : BY_LAYER;
    enum select_by sel = !strcmp(select, "accuracy") ? BY_ACCURACY : BY_LOSS;
    if (rc == 0 && !help)
        rc = st_cli_parse_run("baselines", rest_argc, rest, "baselines", &base, given, &help);
    if (rc == 0 && !help && model)
        rc = st_cli_use_model("baselines", model, &base, given);
    if (rc == 0 && !help && sel == BY_ACCURACY && base.loss != ST_LOSS_XENT) {
        st_err_set(&err, ST_ERR_ARG, "--select accuracy: needs --loss xent (an mse run has no "
                   "accuracy)");
        rc = st_cli_fail("baselines", ST_ERR_ARG, &err);
    }
    /* A run's accuracy is its last step's: the whole training set only
     * under a full batch. */
    if (rc == 0 && !help && sel == BY_ACCURACY && (base.batch > 0 || base.online)) {
        st_err_set(&err, ST_ERR_ARG, "--select accuracy with %s: a run's accuracy is that of "
                   "its last step's batch, not of the training set; use the full batch "
                   "(--batch 0)", base.online ? "--online" : "--batch");
        rc = st_cli_fail("baselines", ST_ERR_ARG, &err);
    }
    if (rc == 0 && !help)
        rc = base_units(&base, by_tensor, &layout, &units, &params, &n_units);
    long n_sub = (1L << n_units) - 1;
    if (rc == 0 && !help && !(sub = subsets(n_units, units, params)))
        rc = ST_EXIT_RUNTIME;
    if (rc == 0 && !help) {
        struct bl_ctx ctx = { &base, sub, n_units, units };
        rc = st_pool_run_cmd("baselines", base.out, n_sub, (int)jobs, base.quiet, make_run,
                             run_done, &ctx, &failed);
    }
    if (rc == 0 && !help)
        rc = rank_subsets(&base, sub, n_sub, n_units, by_tensor, sel);
    if (rc == 0 && failed)
        rc = ST_EXIT_RUNTIME;
    free(sub);
    free(units);
    free(params);
    st_params_free(&layout);
    free(rest);
    return rc;
}
