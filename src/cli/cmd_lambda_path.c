/* cmd_lambda_path.c: `sparsetune lambda-path`, for each tensor the largest
 * lambda at which it still changes. Runs a log-spaced lambda grid with a
 * proximal penalty (exact zeros, so "changes" needs no threshold), then
 * refines each tensor's switch-off point by bisection in log(lambda) between
 * the last lambda where it changed and the next one where it did not. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../exp/options.h"
#include "../exp/sweep.h"
#include "../io/csv.h"
#include "../io/file.h"
#include "../plot/figure.h"
#include "cli.h"
#include "commands.h"
#include "pool.h"

#define MAX_POINTS 512

struct point {
    double lambda;
    enum st_status st;
    struct st_train_result res;
    char error[200]; /* why the run failed ("" if it did not) */
};

/* A tensor's last lambda with a change and the next lambda tried. */
struct switch_off {
    double on, off;
    int t;
};

struct lp_ctx {
    const struct st_train_cfg *base;
    struct point *pts; /* all points so far */
    long first;        /* index of the first point of this batch */
    long failed;       /* runs that failed other than by diverging */
};

static void usage(FILE *f)
{
    fputs("usage: sparsetune lambda-path [options]\n"
          "\n"
          "For each tensor, the largest lambda at which it still changes: a ranking of the\n"
          "layers by how much they are needed. Runs --points log-spaced values of lambda\n"
          "from --lambda-min to --lambda-max with a proximal penalty (--prox is implied, so a\n"
          "tensor changes when any entry of its update is non-zero), then --refine bisection\n"
          "steps in log(lambda) around each tensor's switch-off point. Writes\n"
          "OUT/lambda_path.csv (one row per lambda), OUT/switch_off.csv and OUT/sweep.png.\n"
          "\n"
          "lambda-path options:\n"
          "  --lambda-min FLOAT         smallest lambda [1e-06]\n"
          "  --lambda-max FLOAT         largest lambda [0.1]\n"
          "  --points N                 values on the first grid [11]\n"
          "  --refine N                 bisection steps per tensor [3]\n"
          "  --jobs N                   worker processes [the number of cores]\n"
          "  --model FILE               fine-tune the model in FILE on --x/--y, as finetune\n"
          "                             (widths and activation from the file)\n"
          "\n"
          "options of every run (as for train; --out is the directory [lambda-path]):\n",
          f);
    st_cli_print_run_options(f, "lambda-path");
    fputs("\nexample:\n  sparsetune lambda-path --penalty group --out lp\n\n"
          "exit status: 0 success (diverged runs included), 1 a run failed or a runtime\n"
          "failure (the tables keep what the other runs gave), 2 usage error\n",
          f);
}

static enum st_status make_run(void *user, long i, struct st_train_cfg *cfg, struct st_err *err)
{
    struct lp_ctx *c = user;
    *cfg = *c->base;
    cfg->lambda = c->pts[c->first + i].lambda;
    cfg->prox = 1;
    return st_pool_task_cfg(cfg, c->base->out, c->first + i, err);
}

static void run_done(void *user, long i, enum st_status st, const struct st_train_result *res,
                     const char *error)
{
    struct lp_ctx *c = user;
    struct point *p = &c->pts[c->first + i];
    p->st = st_result_copy(&p->res, res, NULL) == ST_OK ? st : ST_ERR_NOMEM;
    snprintf(p->error, sizeof p->error, "%s", st == ST_OK ? "" : error ? error : "");
}

static int changed(const struct point *p, int t)
{
    return p->st == ST_OK && t < p->res.n_tensors && p->res.t[t].zero < (double)p->res.t[t].size;
}

static int cmp_point(const void *a, const void *b)
{
    double x = ((const struct point *)a)->lambda, y = ((const struct point *)b)->lambda;
    return x < y ? -1 : x > y;
}

/* Bisection: for each tensor, between its last changed and first unchanged
 * lambda (in the sorted points), one new point per step. Returns 0 or an
 * exit status. */
static int refine_points(struct lp_ctx *ctx, long *n_pts, long refine, int jobs)
{
    struct point *pts = ctx->pts;
    int n_t = 0;
    for (long i = 0; i < *n_pts; i++)
        n_t = pts[i].res.n_tensors > n_t ? pts[i].res.n_tensors : n_t;
    for (long step = 0; step < refine; step++) {
        qsort(pts, (size_t)*n_pts, sizeof *pts, cmp_point);
        long batch = *n_pts;
        for (int t = 0; t < n_t && *n_pts < MAX_POINTS; t++) {
            long last = -1;
            for (long i = 0; i < batch; i++)
                if (changed(&pts[i], t))
                    last = i;
            if (last < 0 || last + 1 >= batch)
                continue;
            double mid = sqrt(pts[last].lambda * pts[last + 1].lambda);
            int dup = 0;
            for (long i = batch; i < *n_pts; i++)
                dup |= fabs(pts[i].lambda / mid - 1.0) < 1e-9;
            if (!dup) {
                memset(&pts[*n_pts], 0, sizeof pts[*n_pts]);
                pts[(*n_pts)++].lambda = mid;
            }
        }
        if (*n_pts == batch)
            break;
        ctx->first = batch;
        long failed;
        int rc = st_pool_run_cmd("lambda-path", ctx->base->out, *n_pts - batch, jobs,
                                 ctx->base->quiet, make_run, run_done, ctx, &failed);
        ctx->failed += failed;
        if (rc != 0)
            return rc;
    }
    qsort(pts, (size_t)*n_pts, sizeof *pts, cmp_point);
    return 0;
}

/* lambda_path.csv: the sweep row format over a one-axis grid of lambdas.
 * Returns 0 or an exit status. */
static int write_path(const struct st_train_cfg *base, const struct point *pts, long n_pts,
                      const struct st_names *names)
{
    struct st_err err = { "" };
    struct st_grid grid;
    struct st_atomic_file af;
    char path[4300], spec[MAX_POINTS * 26 + 16];
    size_t n = (size_t)snprintf(spec, sizeof spec, "lambda=");
    memset(&grid, 0, sizeof grid);
    for (long i = 0; i < n_pts; i++)
        n += (size_t)snprintf(spec + n, sizeof spec - n, "%s%.17g", i ? "," : "", pts[i].lambda);
    if (st_grid_add(&grid, spec, &err) != ST_OK)
        return st_cli_fail("lambda-path", ST_ERR_ARG, &err);
    if (st_path_join(path, sizeof path, base->out, "lambda_path.csv", &err) != ST_OK ||
        st_atomic_open(&af, path, &err) != ST_OK) {
        st_grid_free(&grid);
        return st_cli_fail("lambda-path", ST_ERR_IO, &err);
    }
    st_sweep_write_header(af.f, &grid, names);
    for (long i = 0; i < n_pts; i++)
        st_sweep_write_row(af.f, &grid, i, names, &pts[i].res, pts[i].st, pts[i].error);
    st_grid_free(&grid);
    if (st_atomic_commit(&af, &err) != ST_OK)
        return st_cli_fail("lambda-path", ST_ERR_IO, &err);
    return 0;
}

/* Per tensor: the largest lambda with a change, and the next one tried;
 * ranked, printed and written to switch_off.csv. Returns 0 or an exit status. */
static int write_switch_off(const struct st_train_cfg *base, const struct point *pts, long n_pts,
                            double lmin, double lmax)
{
    struct st_err err = { "" };
    struct st_atomic_file af;
    char path[4300];
    const struct point *named = &pts[0]; /* a point with every tensor's name */
    for (long i = 0; i < n_pts; i++)
        if (pts[i].res.n_tensors > named->res.n_tensors)
            named = &pts[i];
    int n_t = named->res.n_tensors;
    struct switch_off *sw = malloc(((size_t)n_t + 1) * sizeof *sw);
    if (!sw)
        return ST_EXIT_RUNTIME;
    for (int t = 0; t < n_t; t++) {
        sw[t].t = t;
        sw[t].on = 0.0;
        sw[t].off = pts[0].lambda;
        for (long i = 0; i < n_pts; i++)
            if (changed(&pts[i], t)) {
                sw[t].on = pts[i].lambda;
                sw[t].off = i + 1 < n_pts ? pts[i + 1].lambda : (double)INFINITY;
            }
    }
    for (int a = 1; a < n_t; a++) /* insertion sort by switch-off lambda, descending */
        for (int b = a; b > 0 && sw[b].on > sw[b - 1].on; b--) {
            struct switch_off tmp = sw[b];
            sw[b] = sw[b - 1];
            sw[b - 1] = tmp;
        }
    if (st_path_join(path, sizeof path, base->out, "switch_off.csv", &err) != ST_OK ||
        st_atomic_open(&af, path, &err) != ST_OK) {
        free(sw);
        return st_cli_fail("lambda-path", ST_ERR_IO, &err);
    }
    fputs("rank,tensor,largest_lambda_changed,smallest_lambda_unchanged\n", af.f);
    printf("%s %s (prox), reduction %s: %ld runs from lambda %g to %g\n\n",
           "lambda-path:", st_penalty_name(base->penalty), st_reduction_name(base->reduction),
           n_pts, lmin, lmax);
    printf("%4s  %-6s  %-24s  %s\n", "rank", "tensor", "still changes at lambda",
           "unchanged from");
    for (int k = 0; k < n_t; k++) {
        const char *nm = named->res.t[sw[k].t].name;
        char on[32], off[32];
        if (sw[k].on > 0.0)
            snprintf(on, sizeof on, "%.3g", sw[k].on);
        else
            snprintf(on, sizeof on, "never (< %.3g)", pts[0].lambda);
        if (isfinite(sw[k].off))
            snprintf(off, sizeof off, "%.3g", sw[k].off);
        else
            snprintf(off, sizeof off, "(beyond %.3g)", lmax);
        printf("%4d  %-6s  %-24s  %s\n", k + 1, nm, on, off);
        fprintf(af.f, "%d,%s,%.17g,%.17g\n", k + 1, nm, sw[k].on, sw[k].off);
    }
    free(sw);
    if (st_atomic_commit(&af, &err) != ST_OK)
        return st_cli_fail("lambda-path", ST_ERR_IO, &err);
    printf("\ntables: %s/lambda_path.csv %s\n", base->out, path);
    return 0;
}

/* The base run must have a penalty with exact zeros, and its configuration
 * and data must check out; names gets its tensors. Returns 0 or an exit
 * status. */
static int check_base(const struct st_train_cfg *base, double lmin, double lmax,
                      struct st_names *names)
{
    struct st_err err = { "" };
    struct st_train_cfg probe = *base;
    enum st_status st = ST_OK;
    if (!(lmin < lmax))
        st = st_err_set(&err, ST_ERR_ARG, "--lambda-min %g must be below --lambda-max %g", lmin,
                        lmax);
    else if (base->penalty == ST_PEN_NONE || base->penalty == ST_PEN_L2)
        st = st_err_set(&err, ST_ERR_ARG, "--penalty %s: lambda-path needs a penalty with exact "
                        "zeros (l1, group, layer or nuclear)", st_penalty_name(base->penalty));
    probe.prox = 1;
    if (st == ST_OK)
        st = st_cli_probe(&probe, &err);
    if (st == ST_OK)
        st = st_names_add(names, &probe, &err);
    if (st == ST_OK) {
        struct st_grid none;
        memset(&none, 0, sizeof none);
        st_sweep_columns(names, &none, base);
    }
    return st == ST_OK ? 0 : st_cli_fail("lambda-path", st, &err);
}

/* The points' runs, refined, then their tables and figure. Returns 0 or an
 * exit status. */
static int run_path(struct lp_ctx *ctx, long *n_pts, long points, long refine, int jobs,
                    double lmin, double lmax, const struct st_names *names)
{
    const struct st_train_cfg *base = ctx->base;
    for (long i = 0; i < points; i++)
        ctx->pts[(*n_pts)++].lambda =
            exp(log(lmin) + (log(lmax) - log(lmin)) * (double)i / (double)(points - 1));
    int rc = st_pool_run_cmd("lambda-path", base->out, *n_pts, jobs, base->quiet, make_run,
                             run_done, ctx, &ctx->failed);
    if (rc == 0)
        rc = refine_points(ctx, n_pts, refine, jobs);
    if (rc == 0)
        rc = write_path(base, ctx->pts, *n_pts, names);
    if (rc == 0)
        rc = write_switch_off(base, ctx->pts, *n_pts, lmin, lmax);
    if (rc == 0 && base->plot) {
        char csv[4300], fig[4300];
        struct st_err err = { "" };
        if (st_path_join(csv, sizeof csv, base->out, "lambda_path.csv", &err) == ST_OK &&
            st_path_join(fig, sizeof fig, base->out, "sweep.png", &err) == ST_OK)
            st_cli_draw_sweep("lambda-path", csv, fig, ST_FIG_PNG, names);
    }
    return rc == 0 && ctx->failed ? ST_EXIT_RUNTIME : rc;
}

int cmd_lambda_path(int argc, char **argv)
{
    struct st_train_cfg base;
    struct st_names names;
    memset(&names, 0, sizeof names);
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int rest_argc = 0, help = 0, rc = 0;
    double lmin = 1e-6, lmax = 0.1;
    long points = 11, refine = 3, jobs, cores = sysconf(_SC_NPROCESSORS_ONLN);
    struct point *pts = calloc(MAX_POINTS, sizeof *pts);
    long n_pts = 0;
    const char *model = NULL;
    unsigned char given[ST_OPTIONS_MAX];

    jobs = cores > 0 ? cores : 1;
    const struct st_cli_opt opts[] = {
        { "--lambda-min", 'd', 1e-300, 1e300, &lmin },
        { "--lambda-max", 'd', 1e-300, 1e300, &lmax },
        { "--points", 'i', 2, 100, &points },
        { "--refine", 'i', 0, 20, &refine },
        { "--jobs", 'i', 1, ST_POOL_MAX_JOBS, &jobs },
        { "--model", 's', 0, 0, &model },
    };
    if (!rest || !pts) {
        free(rest);
        free(pts);
        return ST_EXIT_RUNTIME;
    }
    rc = st_cli_take_opts("lambda-path", argc, argv, opts, 6, rest, &rest_argc, &help);
    if (rc == 0 && help)
        usage(stdout);
    if (rc == 0 && !help)
        rc = st_cli_parse_run("lambda-path", rest_argc, rest, "lambda-path", &base, given, &help);
    if (rc == 0 && !help && model)
        rc = st_cli_use_model("lambda-path", model, &base, given);
    if (rc == 0 && !help)
        rc = check_base(&base, lmin, lmax, &names);
    if (rc == 0 && !help) {
        struct lp_ctx ctx = { &base, pts, 0, 0 };
        rc = run_path(&ctx, &n_pts, points, refine, (int)jobs, lmin, lmax, &names);
    }
    for (long i = 0; i < n_pts; i++)
        st_result_free(&pts[i].res);
    free(pts);
    st_names_free(&names);
    free(rest);
    return rc;
}
