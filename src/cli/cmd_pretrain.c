/* cmd_pretrain.c: `sparsetune pretrain`, a model trained on the user's data. */
#include <stdio.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fputs("usage: sparsetune pretrain --x X.npy --y Y.npy [options]\n"
          "\n"
          "Trains a freshly initialized network (PyTorch's default initialization) on a data\n"
          "set of your own, without a teacher, and writes a run directory: config.ini,\n"
          "metrics.csv, summary.json, student_init.safetensors, student.safetensors (the\n"
          "pretrained model, for `sparsetune finetune --model`), figure.png. It is `train\n"
          "--task data`; every option of train applies (a penalty too, though pretraining\n"
          "usually runs without one).\n"
          "\n"
          "options:\n",
          f);
    st_cli_print_run_options(f);
    fputs("\n"
          "example:\n"
          "  sparsetune pretrain --x A_x.npy --y A_y.npy --widths 64,128,128,10 --loss xent \\\n"
          "      --steps 5000 --out a\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (I/O, a malformed data file, non-finite\n"
          "loss), 2 usage error\n",
          f);
}

int cmd_pretrain(int argc, char **argv)
{
    struct st_train_cfg cfg;
    struct st_train_result res;
    struct st_err err = { "" };
    enum st_status st;
    char figure[4200];
    int help = 0;
    int rc = st_cli_parse_run("pretrain", argc, argv, "run", &cfg, &help);

    if (rc != 0)
        return rc;
    if (help) {
        usage(stdout);
        return ST_EXIT_OK;
    }
    cfg.task_data = 1;
    st = st_train_cfg_resolve(&cfg, &err);
    if (st != ST_OK)
        return st_cli_fail("pretrain", st, &err);
    st = st_cli_run_and_plot(&cfg, "pretrain", &res, figure, sizeof figure, &err);
    if (st != ST_OK && st != ST_ERR_NUMERIC)
        return st_cli_fail("pretrain", st, &err);
    st_cli_print_result(&cfg, &res);
    if (figure[0])
        printf("figure: %s\n", figure);
    if (st != ST_OK)
        return st_cli_fail("pretrain", st, &err);
    return ST_EXIT_OK;
}
