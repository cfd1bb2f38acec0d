/* cmd_baselines.c: `sparsetune baselines`, method 1: train every non-empty
 * subset of the layers (or of the tensors, --by tensor) with everything else
 * frozen and no penalty, rank the subsets by final loss, and mark the
 * smallest ones that come within 2x of the best loss. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../exp/options.h"
#include "../io/file.h"
#include "../plot/figure.h"
#include "cli.h"
#include "commands.h"
#include "pool.h"

#define MAX_SUBSETS 4096

struct subset {
    unsigned long mask; /* bit u: unit u (a layer, or a tensor in w1 b1 w2 ... order) trains */
    char name[256];     /* "2" or "w2,b2" */
    int units;          /* number of units that train */
    long params;        /* entries that train */
    enum st_status st;
    double mse;
    double wall;
    char error[200];
};

struct bl_ctx {
    const struct st_train_cfg *base;
    struct subset *sub;
    int by_tensor, n_units;
};

static void usage(FILE *f)
{
    fputs("usage: sparsetune baselines [options]\n"
          "\n"
          "Method 1: trains every non-empty subset of the layers (--by tensor: of the\n"
          "tensors) with the rest frozen and lambda = 0, on the teacher-student problem\n"
          "the options describe, and prints the subsets sorted by their loss (the lowest\n"
          "mse of the last 10%% of the steps, so that a loss spike at the end does not\n"
          "decide); '*' marks the smallest subsets within 2x of the best. Writes\n"
          "OUT/baselines.csv and OUT/baselines.png.\n"
          "\n"
          "baselines options:\n"
          "  --by NAME                  layer or tensor [layer]\n"
          "  --jobs N                   worker processes [the number of cores]\n"
          "\n"
          "options of every run (as for train; --out is the directory [baselines]):\n",
          f);
    st_cli_print_run_options(f);
    fputs("\n"
          "example:\n"
          "  sparsetune baselines --by tensor --steps 5000 --out bl\n"
          "\n"
          "exit status: 0 success, 1 runtime failure, 2 usage error\n",
          f);
}

/* Unit u's name: layer number or tensor name. */
static void unit_name(char *out, size_t size, int u, int by_tensor)
{
    if (by_tensor)
        snprintf(out, size, "%c%d", u % 2 ? 'b' : 'w', u / 2 + 1);
    else
        snprintf(out, size, "%d", u + 1);
}

static enum st_status make_run(void *user, long i, struct st_train_cfg *cfg, struct st_err *err)
{
    struct bl_ctx *c = user;
    const struct subset *s = &c->sub[i];
    size_t n = 0;
    *cfg = *c->base;
    cfg->lambda = 0.0;
    cfg->freeze[0] = '\0';
    for (int u = 0; u < c->n_units; u++) {
        if (s->mask >> u & 1)
            continue;
        char nm[16];
        unit_name(nm, sizeof nm, u, c->by_tensor);
        n += (size_t)snprintf(cfg->freeze + n, sizeof cfg->freeze - n, "%s%s", n ? "," : "", nm);
    }
    if (n == 0)
        strcpy(cfg->freeze, "none");
    return st_pool_task_cfg(cfg, c->base->out, i, err);
}

static void run_done(void *user, long i, enum st_status st, const struct st_train_result *res,
                     const char *error)
{
    struct bl_ctx *c = user;
    struct subset *s = &c->sub[i];
    s->st = st;
    s->mse = st == ST_OK ? res->mse_tail : (double)NAN;
    s->wall = res->wall_seconds;
    snprintf(s->error, sizeof s->error, "%s", error ? error : "");
}

static int cmp_loss(const void *a, const void *b)
{
    const struct subset *x = a, *y = b;
    double u = isfinite(x->mse) ? x->mse : (double)INFINITY;
    double v = isfinite(y->mse) ? y->mse : (double)INFINITY;
    if (u != v)
        return u < v ? -1 : 1;
    return x->units - y->units;
}

int cmd_baselines(int argc, char **argv)
{
    struct st_train_cfg base;
    struct st_err err = { "" };
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int rest_argc = 0, help = 0, rc = 0, by_tensor = 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN), jobs = cores > 0 ? cores : 1;
    const char *by = "layer";
    struct subset *sub = NULL;
    const struct st_cli_opt opts[] = {
        { "--by", 's', 0, 0, &by },
        { "--jobs", 'i', 1, ST_POOL_MAX_JOBS, &jobs },
    };

    if (!rest)
        return ST_EXIT_RUNTIME;
    rc = st_cli_take_opts("baselines", argc, argv, opts, 2, rest, &rest_argc, &help);
    if (rc == 0 && help) {
        usage(stdout);
        goto done;
    }
    if (rc != 0)
        goto done;
    if (strcmp(by, "layer") && strcmp(by, "tensor")) {
        st_err_set(&err, ST_ERR_ARG, "--by '%s': expected layer or tensor", by);
        rc = st_cli_fail("baselines", ST_ERR_ARG, &err);
        goto done;
    }
    by_tensor = !strcmp(by, "tensor");
    rc = st_cli_parse_run("baselines", rest_argc, rest, "baselines", &base, &help);
    if (rc != 0)
        goto done;
    {
        struct st_train_cfg probe = base;
        if (st_train_cfg_resolve(&probe, &err) != ST_OK) {
            rc = st_cli_fail("baselines", ST_ERR_ARG, &err);
            goto done;
        }
    }
    int n_units = base.n_layers * (by_tensor ? 2 : 1);
    if (n_units > 12) {
        st_err_set(&err, ST_ERR_ARG, "%d %s give %.0f subsets; at most 12 units (%d subsets)",
                   n_units, by_tensor ? "tensors" : "layers", pow(2.0, n_units) - 1,
                   MAX_SUBSETS - 1);
        rc = st_cli_fail("baselines", ST_ERR_ARG, &err);
        goto done;
    }
    long n_sub = (1L << n_units) - 1;
    sub = calloc((size_t)n_sub, sizeof *sub);
    if (!sub) {
        rc = ST_EXIT_RUNTIME;
        goto done;
    }
    for (long i = 0; i < n_sub; i++) {
        struct subset *s = &sub[i];
        size_t n = 0;
        s->mask = (unsigned long)(i + 1);
        for (int u = 0; u < n_units; u++) {
            if (!(s->mask >> u & 1))
                continue;
            char nm[16];
            unit_name(nm, sizeof nm, u, by_tensor);
            n += (size_t)snprintf(s->name + n, sizeof s->name - n, "%s%s", n ? "," : "", nm);
            s->units++;
            int l = by_tensor ? u / 2 : u; /* 0-based layer */
            long w = (long)base.widths[l] * base.widths[l + 1], b = base.widths[l + 1];
            s->params += by_tensor ? (u % 2 ? b : w) : w + b;
        }
    }
    struct bl_ctx ctx = { &base, sub, by_tensor, n_units };
    char path[4300];
    rc = st_pool_run_cmd("baselines", base.out, n_sub, (int)jobs, base.quiet, make_run, run_done, &ctx);
    if (rc != 0)
        goto done;

    qsort(sub, (size_t)n_sub, sizeof *sub, cmp_loss);
    double best = sub[0].mse;
    int min_units = n_units + 1;
    for (long i = 0; i < n_sub; i++)
        if (isfinite(sub[i].mse) && sub[i].mse <= 2.0 * best && sub[i].units < min_units)
            min_units = sub[i].units;

    /* baselines.csv, then the table on stdout. */
    struct st_atomic_file af;
    snprintf(path, sizeof path, "%s/baselines.csv", base.out);
    if (st_atomic_open(&af, path, &err) != ST_OK) {
        rc = st_cli_fail("baselines", ST_ERR_IO, &err);
        goto done;
    }
    fputs("rank,trained,units,params,mse_tail_min,within_2x_best,smallest_within_2x,status,"
          "wall_seconds\n",
          af.f);
    for (long i = 0; i < n_sub; i++) {
        const struct subset *s = &sub[i];
        int within = isfinite(s->mse) && s->mse <= 2.0 * best;
        fprintf(af.f, "%ld,\"%s\",%d,%ld,%.17g,%d,%d,%s,%.6g\n", i + 1, s->name, s->units,
                s->params, s->mse, within, within && s->units == min_units,
                s->st == ST_OK ? "ok" : s->st == ST_ERR_NUMERIC ? "diverged" : "failed", s->wall);
    }
    if (st_atomic_commit(&af, &err) != ST_OK) {
        rc = st_cli_fail("baselines", ST_ERR_IO, &err);
        goto done;
    }
    printf("method 1: %ld subsets of the %s trained with the rest frozen (lambda = 0); "
           "'*' = smallest within 2x of the best loss\n\n",
           n_sub, by_tensor ? "tensors" : "layers");
    printf("%4s  %-24s %7s %12s\n", "rank", "trained", "params", "mse (tail)");
    for (long i = 0; i < n_sub; i++) {
        const struct subset *s = &sub[i];
        int mark = isfinite(s->mse) && s->mse <= 2.0 * best && s->units == min_units;
        printf("%4ld  %-24s %7ld %12.4e %s\n", i + 1, s->name, s->params, s->mse, mark ? "*" : "");
    }
    printf("\ntable: %s\n", path);
    {
        char fig[4300];
        snprintf(fig, sizeof fig, "%s/baselines.png", base.out);
        const char *names[MAX_SUBSETS];
        double mse[MAX_SUBSETS];
        int marks[MAX_SUBSETS];
        for (long i = 0; i < n_sub; i++) {
            names[i] = sub[i].name;
            mse[i] = sub[i].mse;
            marks[i] = isfinite(sub[i].mse) && sub[i].mse <= 2.0 * best &&
                       sub[i].units == min_units;
        }
        if (base.plot) {
            if (st_figure_bars(fig, ST_FIG_PNG, names, mse, marks, (int)n_sub,
                               by_tensor ? "loss of each trained subset of tensors (lowest of the last 10% of steps)"
                                         : "loss of each trained subset of layers (lowest of the last 10% of steps)",
                               &err) == ST_OK)
                printf("figure: %s\n", fig);
            else
                fprintf(stderr, "sparsetune baselines: %s\n", err.msg);
        }
    }
done:
    free(sub);
    free(rest);
    return rc;
}
