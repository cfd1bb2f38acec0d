/* cmd_reproduce.c: `sparsetune reproduce`, the seed experiment in one command:
 * the same teacher-student problem trained at lambda = 0 and lambda = 1e-3,
 * two run directories with their figures, and a table with the verdicts. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../exp/options.h"
#include "cli.h"
#include "commands.h"
#include "pool.h"
#include "positions.h"

static const double lambdas[2] = { 0.0, 1e-3 };

static void usage(FILE *f)
{
    fputs("usage: sparsetune reproduce [options]\n"
          "\n"
          "Reproduces the seed experiment: trains the teacher-student pair at lambda = 0 and\n"
          "lambda = 1e-3 and writes OUT/lambda_0/ and OUT/lambda_0.001/, each a full run\n"
          "directory with figure.png, then prints the final d_init of every tensor, the\n"
          "tensors judged changed, and whether that matches the truth (the re-drawn layer).\n"
          "Every option of `train` applies to both runs (except --lambda). Then the\n"
          "lambda = 1e-3 run is repeated with each layer re-drawn in turn (--positions\n"
          "seeds), and one line tells which layers the method names at each position.\n"
          "\n"
          "reproduce options:\n"
          "  --positions N              seeds of the runs with the re-drawn layer moved; 0:\n"
          "                             none [5]\n"
          "  --jobs N                   their worker processes [the number of cores]\n"
          "\n"
          "options of both runs:\n",
          f);
    st_cli_print_run_options(f, "reproduce");
    fputs("\n"
          "examples:\n"
          "  sparsetune reproduce --out out\n"
          "  sparsetune reproduce --optimizer sgd --lr 0.1 --out out-sgd   # is Adam to blame?\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (I/O, non-finite loss), 2 usage error\n",
          f);
}

/* The seed's findings as checks on the final d_init of its 3-layer MLP:
 * lambda = 0: w2 moved less than w1 and w3; lambda = 1e-3: w2 moved at least
 * 5x more than every other tensor. */
static void seed_finding(const struct st_train_result *r, int sparse, char *out, size_t size)
{
    double w1 = st_result_find(r, "w1")->d_init, w2 = st_result_find(r, "w2")->d_init;
    double w3 = st_result_find(r, "w3")->d_init;
    if (!sparse) {
        snprintf(out, size, "w2 < w1, w3: %s", w2 < w1 && w2 < w3 ? "yes" : "no");
        return;
    }
    double ratio = INFINITY;
    for (int t = 0; t < r->n_tensors; t++)
        if (strcmp(r->t[t].name, "w2") && r->t[t].d_init > 0.0 && w2 / r->t[t].d_init < ratio)
            ratio = w2 / r->t[t].d_init;
    snprintf(out, size, "w2 >= 5x rest: %s (%.1fx)", ratio >= 5.0 ? "yes" : "no", ratio);
}

/* Whether a result has the seed's tensors, w1 .. w3 and nothing deeper. */
static int seed_shaped(const struct st_train_result *r)
{
    return st_result_find(r, "w1") && st_result_find(r, "w2") && st_result_find(r, "w3") &&
           !st_result_find(r, "w4");
}

/* "option value" as the options table formats it. */
static const char *opt_value(const struct st_train_cfg *cfg, const char *name, char *buf,
                             size_t size)
{
    st_option_format(cfg, st_option_find(name), buf, size);
    return buf;
}

static void print_table(const struct st_train_cfg *cfg, const struct st_train_result res[2],
                        const int ok[2])
{
    char widths[1024], act[64];
    char dist[64];
    if (cfg->data_dist == ST_DATA_NORMAL)
        snprintf(dist, sizeof dist, "N(0,1)");
    else
        snprintf(dist, sizeof dist, "U(%g,%g)", cfg->data_range[0], cfg->data_range[1]);
    if (st_cfg_given(cfg->x_path))
        snprintf(dist, sizeof dist, "given (--x)");
    printf("seed experiment: widths %s, %s, %ld %s inputs%s, %s lr %g, %ld steps, seed %llu\n\n",
           opt_value(cfg, "widths", widths, sizeof widths),
           opt_value(cfg, "activation", act, sizeof act), cfg->data_size, dist,
           cfg->online ? " (online)" : "", st_optim_name(cfg->opt.kind), cfg->opt.lr,
           cfg->steps, (unsigned long long)cfg->seed);
    printf("%-24s %-22s %-22s\n", "", "lambda = 0", "lambda = 0.001");
    printf("%-24s", "final mse");
    for (int i = 0; i < 2; i++)
        printf(" %-22.4e", res[i].data_loss);
    printf("\n%-24s", "final loss");
    for (int i = 0; i < 2; i++)
        printf(" %-22.4e", res[i].loss);
    printf("\n");
    for (int t = 0; t < res[0].n_tensors; t++) {
        char label[ST_NAME_MAX + 24];
        snprintf(label, sizeof label, "d_init %s%s", res[0].t[t].name,
                 res[0].t[t].truth ? " (differs)" : "");
        printf("%-24s", label);
        for (int i = 0; i < 2; i++) {
            const struct st_tensor_result *ti = st_result_find(&res[i], res[0].t[t].name);
            printf(" %-22.4e", ti ? ti->d_init : (double)NAN);
        }
        printf("\n");
    }
    char thr[40];
    if (cfg->prox)
        snprintf(thr, sizeof thr, "changed (see summary)");
    else
        snprintf(thr, sizeof thr, "changed (>= %g x max)", cfg->changed_threshold);
    printf("%-24s", thr);
    for (int i = 0; i < 2; i++) {
        char list[128] = "";
        size_t n = 0;
        for (int t = 0; t < res[i].n_tensors && n < sizeof list; t++)
            if (res[i].t[t].verdict)
                n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? " " : "",
                                      res[i].t[t].name);
        printf(" %-22s", ok[i] ? (n ? list : "none") : "n/a (diverged)");
    }
    printf("\n%-24s", "matches the truth");
    for (int i = 0; i < 2; i++)
        printf(" %-22s", !ok[i] ? "n/a" : res[i].correct ? "yes" : "no");
    printf("\n");
    if (ok[0] && ok[1] && seed_shaped(&res[0]) && seed_shaped(&res[1])) {
        char f0[64], f1[64];
        seed_finding(&res[0], 0, f0, sizeof f0);
        seed_finding(&res[1], 1, f1, sizeof f1);
        printf("%-24s %-22s %-22s\n", "the seed's finding", f0, f1);
        printf("\nThe seed finds w2 moving less than w1 and w3 at lambda = 0 (plain update sizes\n"
               "point at the wrong layers) and only w2 keeping a real update at lambda = 1e-3.\n");
        if (cfg->prox)
            printf("With --prox, a penalized tensor counts as changed if any entry of its update\n"
                   "is non-zero (summary.json's verdict.rule says which tensors).\n");
        else
            printf("Under Adam the unneeded tensors stay on a noise floor, so the verdict depends\n"
                   "on --changed-threshold (here %g of the largest d_init).\n",
                   cfg->changed_threshold);
    }
}

/* The lambda = 1e-3 method with each layer re-drawn in turn: one line. */
static int print_positions(const struct st_train_cfg *base, long seeds, long jobs)
{
    struct st_train_cfg m = *base;
    char label[128], heading[128];
    m.lambda = lambdas[1];
    snprintf(label, sizeof label, "%s%s, %s, lambda %g", st_penalty_name(m.penalty),
             m.prox ? " prox" : "", st_reduction_name(m.reduction), m.lambda);
    snprintf(heading, sizeof heading, "The lambda = %g run with each layer re-drawn in turn",
             m.lambda);
    const char *labels[1] = { label };
    return st_positions_report("reproduce", &m, labels, 1, seeds, jobs, heading,
                               "A penalty names the layers cheapest to change under its "
                               "reduction, which need not be\nthe re-drawn ones (README \"When "
                               "the method names the wrong layer\"; `sparsetune truth`).");
}

int cmd_reproduce(int argc, char **argv)
{
    struct st_train_cfg base, cfg[2];
    struct st_train_result res[2];
    struct st_err err = { "" };
    char figure[2][4200];
    int help = 0, ok[2] = { 0, 0 }, rc, rest_argc = 0;
    int stop = 0; /* the exit status of a run that did not finish */
    long cores = sysconf(_SC_NPROCESSORS_ONLN), positions = 5, jobs = cores > 0 ? cores : 1;
    const struct st_cli_opt opts[] = {
        { "--positions", 'i', 0, 1000, &positions },
        { "--jobs", 'i', 1, ST_POOL_MAX_JOBS, &jobs },
    };
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest)
        return ST_EXIT_RUNTIME;

    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--lambda") || !strncmp(argv[i], "--lambda=", 9)) {
            st_err_set(&err, ST_ERR_ARG,
                       "--lambda: reproduce runs lambda = 0 and lambda = 1e-3; use "
                       "'sparsetune train --lambda' for one value");
            free(rest);
            return st_cli_fail("reproduce", ST_ERR_ARG, &err);
        }
    rc = st_cli_take_opts("reproduce", argc, argv, opts, 2, rest, &rest_argc, &help);
    if (rc == 0 && !help)
        rc = st_cli_parse_run("reproduce", rest_argc, rest, "out", &base, NULL, &help);
    free(rest);
    if (rc != 0)
        return rc;
    if (help) {
        usage(stdout);
        return ST_EXIT_OK;
    }
    if (base.task_data) {
        struct st_err e = { "" };
        st_err_set(&e, ST_ERR_ARG, "--task data: the seed experiment is a teacher-student run");
        return st_cli_fail("reproduce", ST_ERR_ARG, &e);
    }
    memset(res, 0, sizeof res);
    for (int i = 0; i < 2 && !stop; i++) {
        char label[32];
        enum st_status st;
        cfg[i] = base;
        cfg[i].lambda = lambdas[i];
        if (snprintf(cfg[i].out, sizeof cfg[i].out, "%s/lambda_%g", base.out, lambdas[i]) >=
            (int)sizeof cfg[i].out) {
            st_err_set(&err, ST_ERR_ARG, "--out: path too long");
            stop = st_cli_fail("reproduce", ST_ERR_ARG, &err);
            break;
        }
        st = st_train_cfg_resolve(&cfg[i], &err);
        if (st != ST_OK) {
            stop = st_cli_fail("reproduce", st, &err);
            break;
        }
        snprintf(label, sizeof label, "lambda=%g", lambdas[i]);
        st = st_cli_run_and_plot(&cfg[i], label, &res[i], figure[i], sizeof figure[i], &err);
        if (st == ST_ERR_INTERRUPTED) {
            fprintf(stderr, "sparsetune reproduce: stopped by %s in %s; run the same command "
                            "with --force to start over\n",
                    st_cli_stop_name(), cfg[i].out);
            stop = 128 + st_cli_stop_signal();
        } else if (st == ST_ERR_NUMERIC) {
            /* Report it and go on: the other run still answers its half. */
            fprintf(stderr, "sparsetune reproduce: %s\n", err.msg);
            rc = ST_EXIT_RUNTIME;
        } else if (st != ST_OK) {
            stop = st_cli_fail("reproduce", st, &err);
        } else {
            ok[i] = 1;
        }
    }
    if (stop) {
        st_result_free(&res[0]);
        st_result_free(&res[1]);
        return stop;
    }
    print_table(&base, res, ok);
    if (positions > 0 && ok[1]) {
        int prc = print_positions(&base, positions, jobs);
        rc = rc != 0 ? rc : prc;
    }
    for (int i = 0; i < 2; i++)
        printf("%s %s/\n", i ? "       " : "\nruns:  ", cfg[i].out);
    if (figure[0][0] || figure[1][0])
        printf("figures: %s %s\n", figure[0], figure[1]);
    st_result_free(&res[0]);
    st_result_free(&res[1]);
    return rc;
}
