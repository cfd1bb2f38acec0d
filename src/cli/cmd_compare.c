/* cmd_compare.c: `sparsetune compare`, the three methods of asking which
 * layers need to change, on the same teacher-student problem and seeds:
 *   1 freeze masks: every subset of layers trained alone; the pick is the
 *     smallest subset within 2x of the best loss;
 *   2 plain training (Adam, SGD), changed layers by the threshold rule;
 *   3 sparse updates: l1 subgradient, l1 prox and group prox at lambda 1e-3.
 * One table: each method's most frequent pick, in how many seeds it equals the
 * truth, its number of runs and their summed wall time; compare.json twins it.
 * A data run (--model, --task data) has no truth: the table gives instead in
 * how many seeds a method agrees with its most frequent pick, and the median
 * loss (and accuracy) it reached. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/select.h"
#include "../exp/options.h"
#include "../io/file.h"
#include "cli.h"
#include "commands.h"
#include "pool.h"
#include "positions.h"

enum { M_MASKS, M_ADAM, M_SGD, M_L1, M_L1PROX, M_GROUP, N_METHODS };

static const char *const method_names[N_METHODS] = {
    "1  freeze masks (every subset)", "2  plain Adam, threshold", "2  plain SGD, threshold",
    "3  l1 subgradient", "3  l1 prox", "3  group prox",
};

struct task {
    int method;
    uint64_t seed;
    unsigned mask; /* method 1: the layers that train */
    enum st_status st;
    double loss, acc, wall; /* acc: xent's accuracy at the end, NaN otherwise */
    unsigned picked;  /* layers judged changed (methods 2, 3) */
    unsigned truth;   /* layers where the teacher differs */
};

struct cmp_ctx {
    const struct st_train_cfg *base;
    struct task *tasks;
    double lambda, sgd_lr;
    int n_units;
    const char **units; /* [n_units] the model's units (an MLP's layers) */
};

static void usage(FILE *f)
{
    fputs("usage: sparsetune compare [options]\n"
          "\n"
          "Runs the three methods on the same teacher-student problem and seeds and prints\n"
          "one table: for each method, the layers it picks (the most frequent pick), in\n"
          "how many seeds that equals the truth, its number of training runs and their wall\n"
          "time. Methods: 1 freeze masks (every subset of layers, lambda 0; the pick is the\n"
          "smallest subset within 2x of the best loss), 2 plain training with Adam and with\n"
          "SGD (changed layers by --changed-threshold), 3 l1 subgradient, l1 prox and group\n"
          "prox at --compare-lambda. Writes OUT/compare.json. With --model (a data run:\n"
          "your model and data, no truth) the table gives in how many seeds each method\n"
          "agrees with its most frequent pick and the median loss (and accuracy) it\n"
          "reached; --seeds defaults to 1 there and --positions does not apply.\n"
          "\n"
          "compare options:\n"
          "  --seeds N                  seeds 0..N-1 [5; a data run: 1]\n"
          "  --compare-lambda FLOAT     lambda of the method-3 runs [0.001]\n"
          "  --sgd-lr FLOAT             learning rate of the plain SGD runs [0.1]\n"
          "  --positions N              then methods 2 and 3 with each layer re-drawn in\n"
          "                             turn, seeds 0..N-1 (0: not) [--seeds]\n"
          "  --jobs N                   worker processes [the number of cores]\n"
          "  --model FILE               fine-tune the model in FILE on --x/--y, as finetune\n"
          "                             (widths and activation from the file)\n"
          "\n"
          "options of every run (as for train; --out is the directory [compare]):\n",
          f);
    st_cli_print_run_options(f, "compare");
    fputs("\nexample:\n  sparsetune compare --seeds 5 --out cmp\n\n"
          "exit status: 0 success (diverged runs included), 1 a run failed or a runtime\n"
          "failure (the tables keep what the other runs gave), 2 usage error\n",
          f);
}

/* cfg = the base run as method m runs it (methods other than 1). */
static void method_cfg(const struct cmp_ctx *c, int m, struct st_train_cfg *cfg)
{
    *cfg = *c->base;
    cfg->lambda = 0.0;
    cfg->prox = 0;
    switch (m) {
    case M_MASKS:
    case M_ADAM: break;
    case M_SGD:
        cfg->opt.kind = ST_OPT_SGD;
        cfg->opt.lr = c->sgd_lr;
        cfg->opt.weight_decay = 0.0;
        break;
    case M_L1: cfg->penalty = ST_PEN_L1; cfg->lambda = c->lambda; break;
    case M_L1PROX: cfg->penalty = ST_PEN_L1; cfg->lambda = c->lambda; cfg->prox = 1; break;
    case M_GROUP: cfg->penalty = ST_PEN_GROUP; cfg->lambda = c->lambda; cfg->prox = 1; break;
    }
}

static enum st_status make_run(void *user, long i, struct st_train_cfg *cfg, struct st_err *err)
{
    struct cmp_ctx *c = user;
    const struct task *t = &c->tasks[i];
    method_cfg(c, t->method, cfg);
    cfg->seed = t->seed;
    if (t->method == M_MASKS) {
        enum st_status st = st_select_join(c->units, c->n_units, t->mask, 0, cfg->freeze,
                                           sizeof cfg->freeze, err);
        if (st != ST_OK)
            return st;
    }
    return st_pool_task_cfg(cfg, c->base->out, i, err);
}

/* Methods 2 and 3 again with each layer re-drawn in turn: a line each. */
static int print_positions(const struct cmp_ctx *c, long seeds, long jobs)
{
    struct st_train_cfg cfgs[N_METHODS - 1];
    const char *labels[N_METHODS - 1];
    for (int m = 1; m < N_METHODS; m++) {
        method_cfg(c, m, &cfgs[m - 1]);
        labels[m - 1] = method_names[m];
    }
    return st_positions_report("compare", cfgs, labels, N_METHODS - 1, seeds, jobs, 0,
                               "Methods 2 and 3 with each layer re-drawn in turn",
                               "A method that names the same layer wherever the change was "
                               "made does not read the truth\n(README \"When the method names "
                               "the wrong layer\"; `sparsetune truth` scores every position).");
}

static void run_done(void *user, long i, enum st_status st, const struct st_train_result *res,
                     const char *error)
{
    struct cmp_ctx *c = user;
    struct task *t = &c->tasks[i];
    (void)error;
    t->st = st;
    t->loss = st == ST_OK ? res->data_loss_tail : (double)NAN;
    t->acc = st == ST_OK ? res->accuracy : (double)NAN;
    t->wall = res->wall_seconds;
    st_pool_result_units(st, res, c->units, c->n_units, &t->picked, &t->truth);
}


/* Method 1's pick per seed (the smallest subset within 2x of the best loss),
 * and every method's pick, runs and wall time. */
static void picks_of(const struct task *tasks, int n_seeds, int n_masks, long per_seed,
                     unsigned picks[N_METHODS][1000], double loss[N_METHODS][1000],
                     double acc[N_METHODS][1000], int *runs, double *wall)
{
    for (int s = 0; s < n_seeds; s++) {
        const struct task *ts = &tasks[s * per_seed];
        double best = INFINITY, best_loss = INFINITY, best_acc = (double)NAN;
        int best_units = 99;
        unsigned pick = 0;
        int failed = 0;
        for (int k = 0; k < n_masks; k++) {
            if (ts[k].loss < best)
                best = ts[k].loss;
            failed |= ts[k].st != ST_OK && ts[k].st != ST_ERR_NUMERIC;
        }
        for (int k = 0; k < n_masks; k++) {
            int units = __builtin_popcount(ts[k].mask);
            if (!(ts[k].loss <= 2.0 * best))
                continue;
            if (units < best_units || (units == best_units && ts[k].loss < best_loss)) {
                best_units = units;
                best_loss = ts[k].loss;
                best_acc = ts[k].acc;
                pick = ts[k].mask;
            }
        }
        picks[M_MASKS][s] = failed ? ST_PICK_FAILED : pick;
        loss[M_MASKS][s] = failed ? (double)NAN : best_loss;
        acc[M_MASKS][s] = failed ? (double)NAN : best_acc;
        for (int k = 0; k < n_masks; k++) {
            runs[M_MASKS]++;
            wall[M_MASKS] += ts[k].wall;
        }
        for (int m = 1; m < N_METHODS; m++) {
            const struct task *t = &ts[n_masks + m - 1];
            picks[m][s] = t->picked;
            loss[m][s] = t->loss;
            acc[m][s] = t->acc;
            runs[m]++;
            wall[m] += t->wall;
        }
    }
}

/* The table on stdout and its JSON twin in out/compare.json. Returns 0 or
 * an exit status. */
/* The median of the finite values of v[n] (NaN when none). */
static double median_of(const double *v, int n)
{
    double *w = malloc(((size_t)n + 1) * sizeof *w);
    int k = 0;
    for (int i = 0; w && i < n; i++)
        if (isfinite(v[i])) {
            int j = k++;
            for (; j > 0 && w[j - 1] > v[i]; j--)
                w[j] = w[j - 1];
            w[j] = v[i];
        }
    double m = !w || k == 0 ? (double)NAN : k % 2 ? w[k / 2] : 0.5 * (w[k / 2 - 1] + w[k / 2]);
    free(w);
    return m;
}

/* Method m's entry of compare.json, its start: name, number and pick. */
static cJSON *method_json(int m, const char *pick)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "method", method_names[m] + 3);
    cJSON_AddNumberToObject(o, "number", m == 0 ? 1 : m <= 2 ? 2 : 3);
    cJSON_AddStringToObject(o, "most_frequent_pick", pick);
    return o;
}

/* Its end: runs, wall time and every seed's pick; then it joins arr. */
static void method_json_end(const struct cmp_ctx *c, cJSON *o, cJSON *arr, const unsigned *picks,
                            int runs, double wall, int n_seeds)
{
    char one[256];
    cJSON_AddNumberToObject(o, "runs", runs);
    cJSON_AddNumberToObject(o, "wall_seconds", wall);
    cJSON *ps = cJSON_AddArrayToObject(o, "picks_per_seed");
    for (int s = 0; s < n_seeds; s++)
        cJSON_AddItemToArray(ps, cJSON_CreateString(st_pool_pick_text(c->units, c->n_units,
                                                                      picks[s], one, sizeof one)));
    cJSON_AddItemToArray(arr, o);
}

/* A data run's table: no truth, so each method's agreement with its own most
 * frequent pick and the median loss (and accuracy) it reached. */
static void report_data(const struct cmp_ctx *c, unsigned picks[N_METHODS][1000],
                        double loss[N_METHODS][1000], double acc[N_METHODS][1000],
                        const int *runs, const double *wall, int n_seeds, long n_tasks,
                        cJSON *root, cJSON *arr)
{
    int xent = c->base->loss == ST_LOSS_XENT;
    const char *lname = st_loss_name(c->base->loss);
    char median[32];
    snprintf(median, sizeof median, "median_%s", lname);
    cJSON_AddNullToObject(root, "truth");
    cJSON_AddNumberToObject(root, "seeds", n_seeds);
    cJSON_AddNumberToObject(root, "lambda", c->lambda);
    printf("which layers need to change? a data run: no known truth (seeds %llu..%llu, %ld "
           "runs)\n\n", (unsigned long long)c->base->seed,
           (unsigned long long)c->base->seed + (unsigned)n_seeds - 1, n_tasks);
    printf("%-32s %-14s %-7s %12s%s %6s %9s\n", "method", "picks", "agree", lname,
           xent ? "   accuracy" : "", "runs", "wall s");
    for (int m = 0; m < N_METHODS; m++) {
        int count;
        unsigned common = st_pool_most_frequent(picks[m], n_seeds, &count);
        double ml = median_of(loss[m], n_seeds), ma = median_of(acc[m], n_seeds);
        char pl[256], agree[16];
        st_pool_pick_label(c->units, c->n_units, common, pl, sizeof pl);
        snprintf(agree, sizeof agree, "%d/%d", count, n_seeds);
        printf("%-32s %-14s %-7s %12.4e", method_names[m], pl, agree, ml);
        if (xent)
            printf(" %10.4f", ma);
        printf(" %6d %9.2f\n", runs[m], wall[m]);
        cJSON *o = method_json(m, pl);
        cJSON_AddNumberToObject(o, "agreeing_seeds", count);
        if (isfinite(ml))
            cJSON_AddNumberToObject(o, median, ml);
        else
            cJSON_AddNullToObject(o, median);
        if (xent && isfinite(ma))
            cJSON_AddNumberToObject(o, "median_accuracy", ma);
        else if (xent)
            cJSON_AddNullToObject(o, "median_accuracy");
        method_json_end(c, o, arr, picks[m], runs[m], wall[m], n_seeds);
    }
}

static int report(const struct cmp_ctx *c, unsigned picks[N_METHODS][1000],
                  double loss[N_METHODS][1000], double acc[N_METHODS][1000], const int *runs,
                  const double *wall, int n_seeds, long n_tasks, unsigned truth)
{
    struct st_err err = { "" };
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "methods");
    char tl[256], path[4300];
    int rc = 0;
    if (c->base->task_data) {
        report_data(c, picks, loss, acc, runs, wall, n_seeds, n_tasks, root, arr);
        goto write;
    }
    st_pool_pick_text(c->units, c->n_units, truth, tl, sizeof tl);
    cJSON_AddStringToObject(root, "truth", tl);
    cJSON_AddNumberToObject(root, "seeds", n_seeds);
    cJSON_AddNumberToObject(root, "lambda", c->lambda);
    printf("which layers need to change? truth: %s (seeds %llu..%llu, %ld runs)\n\n", tl,
           (unsigned long long)c->base->seed,
           (unsigned long long)c->base->seed + (unsigned)n_seeds - 1, n_tasks);
    printf("%-32s %-14s %-9s %6s %9s\n", "method", "picks", "correct", "runs", "wall s");
    for (int m = 0; m < N_METHODS; m++) {
        /* The most frequent pick, and how often the pick equals the truth. */
        int count, correct = 0;
        unsigned common = st_pool_most_frequent(picks[m], n_seeds, &count);
        for (int s = 0; s < n_seeds; s++)
            correct += picks[m][s] == truth;
        char pl[256], cor[16];
        st_pool_pick_label(c->units, c->n_units, common, pl, sizeof pl);
        snprintf(cor, sizeof cor, "%d/%d", correct, n_seeds);
        printf("%-32s %-14s %-9s %6d %9.2f\n", method_names[m], pl, cor, runs[m], wall[m]);
        cJSON *o = method_json(m, pl);
        cJSON_AddNumberToObject(o, "correct_seeds", correct);
        method_json_end(c, o, arr, picks[m], runs[m], wall[m], n_seeds);
    }
write:;
    char *json = cJSON_Print(root);
    cJSON_Delete(root);
    snprintf(path, sizeof path, "%s/compare.json", c->base->out);
    struct st_atomic_file af;
    if (!json || st_atomic_open(&af, path, &err) != ST_OK ||
        (fputs(json, af.f), fputc('\n', af.f), st_atomic_commit(&af, &err)) != ST_OK)
        rc = st_cli_fail("compare", ST_ERR_IO, &err);
    free(json);
    printf("\nmethod 1 picks the smallest subset within 2x of the best loss; methods 2 and 3 "
           "pick the layers with a changed tensor.\njson: %s\n",
           path);
    return rc;
}

/* The units compare freezes: the groups of the base run's model, after its
 * configuration and data check out. Returns 0 or an exit status. */
static int units_of(const struct st_train_cfg *base, struct st_params *layout,
                    const char ***units, int *n_units)
{
    struct st_err err = { "" };
    struct st_train_cfg probe = *base;
    enum st_status st = st_cli_probe(&probe, &err);
    if (st == ST_OK)
        st = st_arch_layout(&probe.arch, layout, &err);
    if (st != ST_OK)
        return st_cli_fail("compare", st, &err);
    *units = malloc(((size_t)layout->n_views * ST_VIEW_GROUPS + 1) * sizeof **units);
    if (!*units)
        return ST_EXIT_RUNTIME;
    *n_units = st_params_groups(layout, 0, *units);
    if (*n_units > 10) {
        st_err_set(&err, ST_ERR_ARG, "compare: %d units; at most 10 (2^units freeze masks)",
                   *n_units);
        return st_cli_fail("compare", ST_ERR_ARG, &err);
    }
    return 0;
}

/* Per seed: every freeze mask, then one run of each other method. */
static struct task *tasks_of(uint64_t seed0, int n_seeds, int n_masks, long per_seed)
{
    struct task *tasks = calloc((size_t)(per_seed * n_seeds), sizeof *tasks);
    for (int s = 0; tasks && s < n_seeds; s++)
        for (long k = 0; k < per_seed; k++) {
            struct task *t = &tasks[s * per_seed + k];
            t->seed = seed0 + (uint64_t)s;
            t->method = k < n_masks ? M_MASKS : (int)(k - n_masks + 1);
            t->mask = k < n_masks ? (unsigned)(k + 1) : 0;
        }
    return tasks;
}

/* Each method's picks against the truth, reported. Returns 0 or an exit
 * status. */
static int score(const struct cmp_ctx *c, int n_seeds, int n_masks, long per_seed)
{
    unsigned picks[N_METHODS][1000];
    double loss[N_METHODS][1000], acc[N_METHODS][1000];
    unsigned truth = 0;
    int runs[N_METHODS] = { 0 };
    double wall[N_METHODS] = { 0 };
    long n_tasks = per_seed * n_seeds;
    picks_of(c->tasks, n_seeds, n_masks, per_seed, picks, loss, acc, runs, wall);
    for (long i = 0; i < n_tasks; i++)
        truth |= c->tasks[i].truth; /* the same in every run that got as far as its teacher */
    return report(c, picks, loss, acc, runs, wall, n_seeds, n_tasks, truth);
}

int cmd_compare(int argc, char **argv)
{
    struct st_train_cfg base;
    struct st_params layout;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int rest_argc = 0, help = 0, rc = 0, n_units = 0;
    double lambda = 1e-3, sgd_lr = 0.1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN), seeds = -1, jobs = cores > 0 ? cores : 1;
    long positions = -1; /* --seeds */
    long failed = 0;
    const char *model = NULL;
    unsigned char given[ST_OPTIONS_MAX];
    struct task *tasks = NULL;
    const char **units = NULL;
    const struct st_cli_opt opts[] = {
        { "--seeds", 'i', 1, 1000, &seeds },
        { "--jobs", 'i', 1, ST_POOL_MAX_JOBS, &jobs },
        { "--compare-lambda", 'd', 1e-300, 1e300, &lambda },
        { "--sgd-lr", 'd', 1e-300, 1e300, &sgd_lr },
        { "--positions", 'i', 0, 1000, &positions },
        { "--model", 's', 0, 0, &model },
    };

    memset(&layout, 0, sizeof layout);
    if (!rest)
        return ST_EXIT_RUNTIME;
    rc = st_cli_take_opts("compare", argc, argv, opts, 6, rest, &rest_argc, &help);
    if (rc == 0 && help)
        usage(stdout);
    if (rc == 0 && !help)
        rc = st_cli_parse_run("compare", rest_argc, rest, "compare", &base, given, &help);
    if (rc == 0 && !help && model)
        rc = st_cli_use_model("compare", model, &base, given);
    if (rc == 0 && !help && base.task_data && positions > 0) {
        struct st_err err = { "" };
        st_err_set(&err, ST_ERR_ARG, "--positions %ld: a data run has no teacher whose layers "
                   "could be re-drawn", positions);
        rc = st_cli_fail("compare", ST_ERR_ARG, &err);
    }
    if (seeds < 0) /* a data run's full batch from one model: the seeds would agree */
        seeds = base.task_data ? 1 : 5;
    else if (rc == 0 && !help && seeds > 1 && !st_cfg_seed_used(&base))
        fprintf(stderr, "sparsetune compare: note: --seeds %ld: these runs use the seed for "
                        "nothing (a model file, the full batch, no --val-fraction), so every "
                        "seed repeats the same runs and the methods agree with themselves "
                        "trivially\n", seeds);
    if (base.task_data)
        positions = 0;
    if (rc == 0 && !help)
        rc = units_of(&base, &layout, &units, &n_units);
    if (rc == 0 && !help) {
        int n_seeds = (int)seeds, n_masks = (1 << n_units) - 1;
        long per_seed = n_masks + (N_METHODS - 1);
        struct cmp_ctx ctx = { &base, NULL, lambda, sgd_lr, n_units, units };
        if (!(ctx.tasks = tasks = tasks_of(base.seed, n_seeds, n_masks, per_seed)))
            rc = ST_EXIT_RUNTIME;
        if (rc == 0)
            rc = st_pool_run_cmd("compare", base.out, per_seed * n_seeds, (int)jobs, base.quiet,
                                 make_run, run_done, &ctx, &failed);
        if (rc == 0)
            rc = score(&ctx, n_seeds, n_masks, per_seed);
        if (rc == 0 && (positions < 0 ? seeds : positions) > 0)
            rc = print_positions(&ctx, positions < 0 ? seeds : positions, jobs);
        if (rc == 0 && failed)
            rc = ST_EXIT_RUNTIME;
    }
    free(tasks);
    free(units);
    st_params_free(&layout);
    free(rest);
    return rc;
}
