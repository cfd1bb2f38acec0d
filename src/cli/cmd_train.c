/* cmd_train.c: `sparsetune train`, one teacher-student run into a run directory. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fputs("usage: sparsetune train [options]\n"
          "\n"
          "Trains a student that copies a random teacher except for re-drawn layers, with a\n"
          "penalty lambda * R(theta - theta0) on its distance to its start, and writes a run\n"
          "directory: config.ini, metrics.csv, summary.json, teacher.safetensors,\n"
          "student_init.safetensors, student.safetensors, figure.png (x.npy, y.npy with\n"
          "--save-data).\n"
          "\n"
          "options:\n",
          f);
    st_cli_print_run_options(f);
    fputs("\n"
          "example:\n"
          "  sparsetune train --lambda 1e-3 --steps 10000 --out runs/a\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (I/O, non-finite loss), 2 usage error\n",
          f);
}

static void print_result(const struct st_train_cfg *cfg, const struct st_train_result *r)
{
    printf("run: %s  (%ld steps, %.2f s, %.0f steps/s)\n", cfg->out, r->steps_done,
           r->wall_seconds, r->steps_per_second);
    if (cfg->loss == ST_LOSS_XENT)
        printf("final: xent %.6g  accuracy %.4f  ", r->mse, r->accuracy);
    else
        printf("final: mse %.6g  ", r->mse);
    printf("penalty %.6g  loss %.6g  (penalty %s, reduction %s, lambda %g)\n", r->penalty,
           r->loss, st_penalty_name(cfg->penalty), st_reduction_name(cfg->reduction),
           cfg->lambda);
    if (r->has_eval) {
        const char *k = cfg->loss == ST_LOSS_XENT ? "xent" : "mse";
        printf("eval (%s): %s %.6g -> %.6g (forgetting %+.6g)", cfg->eval_x, k, r->eval_before,
               r->eval_after, r->eval_after - r->eval_before);
        if (cfg->loss == ST_LOSS_XENT)
            printf("  accuracy %.4f -> %.4f", r->eval_acc_before, r->eval_acc_after);
        printf("\n");
    }
    if (cfg->task_data) {
        /* No teacher: the fingerprint of the update instead of a verdict. */
        printf("%-8s %12s %9s %9s %8s\n", "tensor", "d_init", "changed", "share", "verdict");
        for (int t = 0; t < r->n_tensors; t++)
            printf("%-8s %12.4e %9.4f %9.4f %8s\n", r->names[t], r->d_init[t], r->changed[t],
                   r->update_share[t], r->diverged ? "?" : r->verdict[t] ? "changed" : "-");
        return;
    }
    printf("%-8s %12s %12s %9s %8s %6s\n", "tensor", "d_init", "d_teacher", "changed", "verdict",
           "truth");
    for (int t = 0; t < r->n_tensors; t++)
        printf("%-8s %12.4e %12.4e %9.4f %8s %6s\n", r->names[t], r->d_init[t], r->d_teacher[t],
               r->changed[t], r->diverged ? "?" : r->verdict[t] ? "changed" : "-",
               r->truth[t] ? "differs" : "-");
    if (r->diverged)
        printf("verdict: none (the run diverged at step %ld)\n", r->steps_done);
    else
        printf("verdict: %s (the changed layers %s the layers where the teacher differs)\n",
               r->correct ? "correct" : "wrong", r->correct ? "are" : "are not");
}

int cmd_train(int argc, char **argv)
{
    struct st_train_cfg cfg;
    struct st_train_result res;
    struct st_err err = { "" };
    enum st_status st;
    char figure[4200];
    int help = 0;
    int rc = st_cli_parse_run("train", argc, argv, "run", &cfg, &help);

    if (rc != 0)
        return rc;
    if (help) {
        usage(stdout);
        return ST_EXIT_OK;
    }
    st = st_train_cfg_resolve(&cfg, &err);
    if (st != ST_OK)
        return st_cli_fail("train", st, &err);
    st = st_cli_run_and_plot(&cfg, "train", &res, figure, sizeof figure, &err);
    if (st != ST_OK && st != ST_ERR_NUMERIC)
        return st_cli_fail("train", st, &err);
    print_result(&cfg, &res);
    if (figure[0])
        printf("figure: %s\n", figure);
    if (st != ST_OK)
        return st_cli_fail("train", st, &err);
    return ST_EXIT_OK;
}
